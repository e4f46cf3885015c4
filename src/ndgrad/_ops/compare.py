"""Comparisons, logical and bitwise ops, and the Python operators of Tensor."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from .._trace import replayable
from ..autograd.op import Op
from ..autograd.op import cpu_scalars
from ._inplace import inplace
from .elementwise import mul
from ._operands import _as, _mixed, binary, need_tensor, wrap
from ._export import export
from .unary import reciprocal
from .._errors import broadcast_error, not_implemented
from ._out import _out

__all__: list[str] = []


def _export(name: str, f, **kw) -> None:
    export(globals(), name, f, **kw)


class Compare(Op):
    """Comparisons, logical and bitwise ops: no gradient."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None, fn=None):
        return getattr(ctx.xp, fn)(_as(a, dt), _as(b, dt))


def _compare(name, fn):
    ordered = name in ("lt", "le", "gt", "ge")

    def op(input, other, *, out=None):
        # no graph (bool results): the ufunc runs directly on the promoted arrays
        if isinstance(input, Tensor) and isinstance(other, Tensor) and (
                input._data.dtype is other._data.dtype):
            a, b, dev = input._data, other._data, input._device
            if other._device is not dev:
                return op(*cpu_scalars(Compare, (input, other)), out=out)
        else:
            ta, tb, dt = _mixed(Compare, input, other, None)
            if isinstance(ta, Tensor) and isinstance(tb, Tensor) and ta._device is not tb._device:
                return op(*cpu_scalars(Compare, (input, other)), out=out)
            dev = (ta if isinstance(ta, Tensor) else tb)._device
            a = _as(ta._data if isinstance(ta, Tensor) else ta, dt)
            b = _as(tb._data if isinstance(tb, Tensor) else tb, dt)
        if ordered and a.dtype.kind == "c":
            raise not_implemented(f"{name}_cpu", a.dtype)
        try:
            res = wrap(getattr(dev.xp, fn)(a, b), dev)
        except ValueError:
            broadcast_error(a, b)
            raise
        return res if out is None else _out(res, out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Same as torch.{name}."
    return replayable(op)  # no graph: ndgrad.compile replays the call itself


eq = _compare("eq", "equal")
ne = _compare("ne", "not_equal")
lt = _compare("lt", "less")
le = _compare("le", "less_equal")
gt = _compare("gt", "greater")
ge = _compare("ge", "greater_equal")


def _logical(name):
    def op(input, other, *, out=None):
        need_tensor(name, other)
        return _out(binary(Compare, input, other, dt=_logical_dt(input, other), fn=name), out,
                    name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Same as torch.{name}."
    return op


def _logical_dt(a, b):
    # no promotion needed to test truthiness; only the shapes must broadcast
    return None if a._data.dtype is b._data.dtype else D.result_type(a, b)


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


@replayable
def logical_not(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.logical_not."""
    return _out(wrap(input._device.xp.logical_not(input._data), input._device), out,
                "logical_not")


def _bitwise(name):
    def op(input, other, *, out=None):
        if isinstance(input, Tensor) and isinstance(other, Tensor) and (
                input._data.dtype is other._data.dtype):
            a, b, dt = input, other, None
        else:
            a, b, dt = _mixed(Compare, input, other, None)
            dev = (a if isinstance(a, Tensor) else b)._device  # the scalar, as a tensor there
            a, b = (x if isinstance(x, Tensor) else Tensor._make(x, dev) for x in (a, b))
        res_dt = dt or (a if isinstance(a, Tensor) else b).dtype
        if res_dt._kind > 1:
            raise not_implemented(f"{name}_cpu", res_dt)
        res = binary(Compare, a, b, dt=dt, fn=name)
        return res if out is None else _out(res, out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Same as torch.{name}."
    return op


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


@replayable
def bitwise_not(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.bitwise_not."""
    if input._data.dtype.kind not in "iub":
        raise not_implemented("bitwise_not_cpu", input.dtype)
    return _out(wrap(input._device.xp.invert(input._data), input._device), out, "bitwise_not")


for _name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
              "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"):
    _export(_name, globals()[_name])
for _alias, _name in {"greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le",
                      "not_equal": "ne"}.items():
    _export(_alias, globals()[_name], inplace_too=False)
    _export(_alias + "_", globals()[_name + "_"], inplace_too=False)


# --- operators (Tensor's dunders are made from these in _tensor_api) ---------------------------
def _operand_ok(other) -> bool:
    if isinstance(other, (Tensor, int, float, complex)):
        return True
    import numbers

    import numpy as np

    return isinstance(other, (numbers.Number, np.ndarray, np.generic))


def _binop(fn, reflected=False):
    """A binary dunder: NotImplemented for operands torch rejects (Python then raises)."""
    if reflected:
        def op(self, other):
            return fn(other, self) if _operand_ok(other) else NotImplemented
    else:
        def op(self, other):
            return fn(self, other) if _operand_ok(other) else NotImplemented
    return op


def _fast(cls):
    """add/sub/mul/truediv: straight to binary() (the hottest calls in training loops)."""
    def op(self, other):
        if isinstance(other, _OPERANDS) or _operand_ok(other):
            return binary(cls, self, other)
        return NotImplemented
    return op


_OPERANDS = (Tensor, int, float)


def _invert(self):
    if self._data.dtype.kind not in "iub":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(self)


def _inplace_op(fn):
    return lambda self, other: inplace(self, fn, other)


def _rtruediv(self, other):
    return mul(reciprocal(self), other)  # as torch computes scalar / tensor
