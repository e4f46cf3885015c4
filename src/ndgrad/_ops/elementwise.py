"""Arithmetic: add/sub/mul/div/remainder/fmod/pow (their primitives and public functions, called
through ``_operands.binary`` with PyTorch's promotion), complex parts, where and masked_fill."""

from __future__ import annotations

import operator

import numpy as np

from .. import _dtype as D
from .._backend import CPU, errstate, scalar_array
from .._dtype import WEAK_TYPES, check_scalar_range, int_fill, meta_name, torch_type_name, \
    weak_dtype
from .._errors import broadcast_error, no_derivative, not_implemented
from .._kernels import POW_KERNELS as _POW_KERNELS
from .._tensor import Tensor
from ..autograd.op import Op
from ._export import export
from ._inplace import inplace_fill, warn_expanded_fill
from ._operands import (_FAST, INT_TO_FLOAT, OPMATH_OPS, SCALAR_CHECKS, Opmath, _as, _cast,
                        _compute2, _is_half, _to_float, binary, need_tensor)
from ._out import _out


# --- binary primitives --------------------------------------------------------------------------


class Add(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, alpha=1):
        a, b = _as(a, dt), _as(b, dt)
        if alpha.__class__ is int and alpha == 1:
            return a + b
        ctx.alpha = _alpha(a, alpha)
        return _add_scaled(ctx.xp, a, alpha, b)

    def backward(ctx, g):
        alpha = getattr(ctx, "alpha", None)
        return g, g if alpha is None else g * _conj_scalar(alpha)

    backward_raw = backward  # the same formula on arrays


def _conj_scalar(x):
    return x.conjugate() if isinstance(x, complex) else x


def _alpha(a, alpha, sign=1):
    """torch's alpha_check, then the checked conversion of ``sign * alpha`` to the result dtype."""
    k = a.dtype.kind
    if alpha.__class__ is bool and k != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if k in "iub" and isinstance(alpha, (float, complex)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if isinstance(alpha, complex) and k != "c":
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex "
                           "number.")
    if alpha.__class__ in WEAK_TYPES:
        check_scalar_range(sign * alpha, D.from_numpy(a.dtype))
    return alpha


def _add_scaled(xp, a, alpha, b):
    """a + alpha * b as torch computes it: alpha converted to the result dtype (negative ints
    wrap into unsigned ones), half precision computed in float32."""
    if a.dtype.kind in "iub":
        return a + scalar_array(alpha, a.dtype, xp) * b
    if not _is_half(a):  # a Python alpha is weak: NumPy takes it in a's dtype, as torch
        return (a + alpha * b).astype(a.dtype, copy=False)  # NumPy 1.x: 0-d gave float64
    s = scalar_array(alpha, a.dtype, xp).astype(xp.float32)
    return _compute2(xp, lambda xp, x, y: x + s * y, a, b)


class Sub(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, alpha=1):
        if a.dtype.kind == "b" or b.dtype.kind == "b":
            _sub_bool(a, b)
        a, b = _as(a, dt), _as(b, dt)
        if alpha.__class__ is int and alpha == 1:
            return a - b
        ctx.alpha = _alpha(a, alpha, -1)  # torch adds b times -alpha
        return _add_scaled(ctx.xp, a, -alpha, b)

    def backward(ctx, g):
        alpha = getattr(ctx, "alpha", None)
        return g, -g if alpha is None else g * -_conj_scalar(alpha)

    backward_raw = backward  # the same formula on arrays


def _sub_bool_scalar(a, x):
    if x.__class__ is bool:  # torch checks a bool scalar's own dtype
        _sub_bool(a, np.asarray(x))


SCALAR_CHECKS[Sub] = _sub_bool_scalar


def _sub_bool(a, b):
    if a.dtype.kind == b.dtype.kind:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you "
                       "are trying to invert a mask, use the `~` or `logical_not()` operator "
                       "instead.")


class Mul(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        need = ctx.needs_input_grad
        if dt is not None:
            if dt.__class__ is Opmath:  # in float32, the operands saved as given (their graphs)
                ctx.saved = (b if need[0] else None, a if need[1] else None)
                return (_as(a, dt) * _as(b, dt)).astype(dt.out)
            a, b = _as(a, dt), _as(b, dt)
        ctx.saved = (b if need[0] else None, a if need[1] else None)
        return a * b

    def formula(ctx, ns, saved, g):
        b, a = saved
        return (g * ns.c(b) if ctx.needs_input_grad[0] else None,
                g * ns.c(a) if ctx.needs_input_grad[1] else None)


_FAST.update({Add: operator.add, Sub: operator.sub, Mul: operator.mul})


def _int_zero_division(xp, b):
    if (b == 0).any():
        raise RuntimeError("ZeroDivisionError")


class Div(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, rounding_mode=None):
        if dt is not None:
            if dt.__class__ is Opmath:  # in float32, the operands saved as given (their graphs)
                out = Div.forward(ctx, _as(a, dt), _as(b, dt), None, rounding_mode)
                if ctx.saved:
                    ctx.save(a if ctx.needs_input_grad[1] else None, b)
                return out.astype(dt.out)
            a, b = _as(a, dt), _as(b, dt)
        if rounding_mode is None:
            if a.dtype.kind in "iub":  # true division of integers gives the default float
                a, b = _to_float(a), _to_float(b)
            # a only for b's gradient, as torch's formula: a / c then a write into a computes
            ctx.save(a if ctx.needs_input_grad[1] else None, b)
            return a / b
        xp = ctx.xp
        k = a.dtype.kind
        kernel = "div_floor_cpu" if rounding_mode == "floor" else "div_trunc_cpu"
        if k in "bc":
            raise not_implemented(kernel, a.dtype)
        if k in "iu":
            _int_zero_division(xp, b)
            if rounding_mode == "floor":
                return xp.floor_divide(a, b)
            q = xp.floor_divide(a, b)  # trunc: floor, moved toward 0 where the signs differ
            return q + ((q < 0) & (q * b != a)).astype(a.dtype)
        if rounding_mode == "floor":
            return _compute2(xp, lambda xp, x, y: _floor_div(xp, x, y), a, b)
        return _compute2(xp, lambda xp, x, y: xp.trunc(x / y), a, b)

    def formula(ctx, ns, saved, g):
        if not saved:  # rounding modes: zero almost everywhere (constants, as torch)
            return ns.zeros_like(g), ns.zeros_like(g)
        a, b = saved
        need = ctx.needs_input_grad
        return (g / ns.c(b) if need[0] else None,  # (a / b) / b: no b * b to underflow
                -g * ns.c((a / b) / b) if need[1] else None)


INT_TO_FLOAT.add(Div)
OPMATH_OPS.update((Mul, Div))


def _floor_div(xp, a, b):
    # torch: floor(a / b) with Python's correction for the rounding of fmod; inf / inf is nan
    with errstate(xp, all="ignore"):
        return xp.floor_divide(a, b)


def _fmod(xp, a, b):
    return xp.fmod(a, b)


def _py_mod(xp, a, b):
    """torch's float remainder: fmod, moved by b where the signs differ (a zero keeps a's sign,
    where NumPy's remainder gives b's)."""
    m = xp.fmod(a, b)
    return xp.where((m != 0) & ((m < 0) != (b < 0)), m + b, m)


class Remainder(Op):
    """Python's modulo (sign of the divisor), as torch.remainder."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None, fn="remainder"):
        a, b = _as(a, dt), _as(b, dt)
        xp = ctx.xp
        k = a.dtype.kind
        if k in "bc":
            raise not_implemented(f"{fn}_cpu", a.dtype)
        if k in "iu":
            _int_zero_division(xp, b)
            return (xp.remainder if fn == "remainder" else xp.fmod)(a, b)
        ctx.fn = fn
        if ctx.needs_input_grad[1]:
            ctx.save(a, b)
        with errstate(xp, all="ignore"):
            return _compute2(xp, _fmod if fn == "fmod" else _py_mod, a, b)

    def backward(ctx, g):
        gb = None
        if ctx.needs_input_grad[1]:
            a, b = ctx.saved_tensors
            q = (a / b).floor() if ctx.fn == "remainder" else (a / b).trunc()
            gb = -g * q
        return g, gb


class Pow(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, e=None):
        if ctx.scalar_exponent:  # b's value; on CUDA from the Python exponent ``e``, not read back
            ctx.e = e = b.item() if e is None else _as(
                scalar_array(e, b.dtype, np), dt).item()
        a, b = _as(a, dt), _as(b, dt)
        k = a.dtype.kind
        if k == "b":
            if ctx.scalar_exponent and e == 1:  # torch copies for an exponent of 1
                return a.copy()
            if ctx.scalar_exponent and e == 0:
                return ctx.xp.ones_like(a)
            raise not_implemented("pow", a.dtype)
        if k in "iu" and not ctx.scalar_exponent and (b < 0).any():
            # torch: 1 ** -n == 1, (-1) ** -n == +-1, anything else ** -n == 0
            xp = ctx.xp
            pos = xp.power(a, xp.maximum(b, 0))
            neg = xp.where(a == 1, 1, xp.where(a == -1, xp.where(b % 2 == 0, 1, -1), 0))
            return xp.where(b < 0, neg, pos).astype(a.dtype)
        special = _POW_KERNELS.get(e) if ctx.scalar_exponent and k in "fc" and \
            a.dtype.itemsize > 2 else None  # half precision: pow in float32, as torch
        if special is not None:  # torch's kernels for these exponents (sqrt(-0) is -0, not 0)
            out = special(ctx.xp, a)
        else:
            out = _compute2(ctx.xp, lambda xp, x, y: xp.power(x, y), a, b)
        # the result only for the exponent's gradient (torch's rule), so y **= 2 can follow y = x**2
        ctx.save(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    def formula(ctx, ns, saved, g):
        a, b, y = saved
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if ctx.scalar_exponent:  # torch's pow_backward with a Scalar exponent
                e = ctx.e
                # zeros for 0, even for nan/inf a (no graph: a constant); 2 * a: the same bits
                ga = ns.zeros_like(g) if e == 0 else g * ns.c(
                    2 * a if e == 2 else e * ns.pow(a, e - 1))
            else:
                ga = g * ns.c(b * a ** (b - 1))
                ga = ns.keep(b != 0, ga) if ns.numel(ga) else ga
        if ctx.needs_input_grad[1]:
            # torch masks the coefficient, not the product: d(gb)/dg is 0 (not 0 * -inf) there
            k = y * ns.log(a)
            gb = g * ns.c(ns.keep(~((a == 0) & (b.real >= 0)), k) if ns.numel(k) else k)
        return ga, gb


Pow.scalar_exponent = False
# pow_tensor_scalar_optimized_kernel: these exponents are computed without pow (also faster)
class _PowScalar(Pow):
    __slots__ = ()
    scalar_exponent = True


# --- public functions ---------------------------------------------------------------------------


def _export(name: str, f, **kw) -> None:
    export(globals(), name, f, **kw)


__all__: list[str] = []


def add(input, other, *, alpha=1, out=None) -> Tensor:
    """Same as torch.add."""
    if alpha.__class__ is not int or alpha != 1:  # True, 1.0, 1+0j: torch's checks apply
        return _out(binary(Add, input, other, alpha=alpha), out, "add", (input, other))
    if out is not None:
        return _out(binary(Add, input, other), out, "add", (input, other))
    return binary(Add, input, other)


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """Same as torch.sub."""
    if alpha.__class__ is not int or alpha != 1:  # True, 1.0, 1+0j: torch's checks apply
        return _out(binary(Sub, input, other, alpha=alpha), out, "sub", (input, other))
    if out is not None:
        return _out(binary(Sub, input, other), out, "sub", (input, other))
    return binary(Sub, input, other)


# torch's nodes where one primitive stands for several of its ops (see binary's ``node``)
_Rsub = Sub.named("RsubBackward1")
_DivRounding = Div.named("DivBackward2")
_RemainderTensors = Remainder.named("RemainderBackward1")
_FmodTensors = Remainder.named("FmodBackward1")
_FmodScalar = Remainder.named("FmodBackward0")


def rsub(input, other, *, alpha=1) -> Tensor:
    """Same as torch.rsub: other - alpha * input."""
    return binary(Sub, other, input, node=_Rsub, alpha=alpha)


def mul(input, other, *, out=None) -> Tensor:
    """Same as torch.mul."""
    if out is not None:
        return _out(binary(Mul, input, other), out, "mul", (input, other))
    return binary(Mul, input, other)


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """Same as torch.div."""
    if rounding_mode is None:
        return _out(binary(Div, input, other), out, "div", (input, other))
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{rounding_mode}'")
    res = binary(Div, input, other, node=_DivRounding, rounding_mode=rounding_mode)
    return _out(res, out, "div", (input, other))


def true_divide(input, other, *, out=None) -> Tensor:
    """Same as torch.true_divide."""
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None) -> Tensor:
    """Same as torch.floor_divide; calling backward through it raises, as in torch."""
    res = binary(Div, input, other, node=_FloorDivideNode, rounding_mode="floor")
    return _out(res, out, "floor_divide")


class _FloorDivideNode(Div):
    __slots__ = ()
    _node_name, _op_name = "torch::autograd::NotImplemented", "floor_divide"

    def backward(ctx, g):
        raise no_derivative("floor_divide")


def remainder(input, other, *, out=None) -> Tensor:
    """Same as torch.remainder."""
    node = (_RemainderScalarNode if not isinstance(input, Tensor) else
            _RemainderTensors if isinstance(other, Tensor) else None)
    return _out(binary(Remainder, input, other, node=node), out, "remainder")


class _RemainderScalarNode(Remainder):
    __slots__ = ()
    _node_name, _op_name = "torch::autograd::NotImplemented", "remainder"

    def backward(ctx, g):
        raise no_derivative("remainder")


def fmod(input, other, *, out=None) -> Tensor:
    """Same as torch.fmod."""
    need_tensor("fmod", input, "input", 1)
    node = _FmodTensors if isinstance(other, Tensor) else _FmodScalar
    return _out(binary(Remainder, input, other, node=node, fn="fmod"), out, "fmod")


def pow(input, exponent, *, out=None) -> Tensor:
    """Same as torch.pow."""
    if isinstance(input, Tensor):
        if isinstance(exponent, Tensor):
            res = binary(Pow, input, exponent, node=_PowTensors)
        else:
            dt = weak_dtype(input, exponent) if exponent.__class__ in WEAK_TYPES else \
                D.result_type(input, exponent)
            if dt._kind == 1 and not isinstance(exponent, complex) and exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            if dt._kind == 1 or dt.itemsize == 2:  # float32/64 and complex take it as a double
                check_scalar_range(exponent, dt)
            kw = {} if input._device is CPU else {"e": exponent}  # CUDA: b is not read back
            res = binary(_PowScalar, input, exponent, dt, node=_PowTensorScalar, **kw)
    else:
        need_tensor("pow", exponent, "exponent")
        res = binary(Pow, input, exponent, node=_PowScalarBase)
    return _out(res, out, "pow")


# torch's nodes: tensor ** scalar, tensor ** tensor, scalar ** tensor
_PowTensorScalar = _PowScalar.named("PowBackward0")
_PowTensors, _PowScalarBase = Pow.named("PowBackward1"), Pow.named("PowBackward2")


def float_power(input, exponent, *, out=None) -> Tensor:
    """Same as torch.float_power: computed in double (or complex double) precision."""
    cplx = any(isinstance(x, complex) or isinstance(x, Tensor) and x.is_complex()
               for x in (input, exponent))
    dt = D.complex128 if cplx else D.float64
    if isinstance(input, Tensor):
        input = input.to(dt)
    if isinstance(exponent, Tensor):
        exponent = exponent.to(dt)
    return pow(input, exponent, out=out)


def square(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.square."""
    return pow(input, 2, out=out)


for _name in ("add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod",
              "pow", "float_power", "square"):
    _export(_name, globals()[_name])
for _alias, _name in {"subtract": "sub", "multiply": "mul", "divide": "div"}.items():
    _export(_alias, globals()[_name], inplace_too=False)
    _export(_alias + "_", globals()[_name + "_"], inplace_too=False)
__all__.append("rsub")


# --- complex parts --------------------------------------------------------------------------------


class Conj(Op):
    __slots__ = ()

    def forward(ctx, a):
        return ctx.xp.conj(a)

    def backward(ctx, g):
        return g.conj()


def conj(input: Tensor) -> Tensor:
    """Same as torch.conj (a copy, not a lazy view)."""
    return Conj.apply(input) if input.is_complex() else input


__all__ += ["conj"]


# --- selection ------------------------------------------------------------------------------------


class Where(Op):
    __slots__ = ()

    def forward(ctx, cond, a, b, dt=None, c_order=False):
        ctx.save(cond)
        out = ctx.xp.where(cond, _as(a, dt), _as(b, dt))
        return out.copy() if c_order and not out.flags.c_contiguous else out

    def formula(ctx, ns, saved, g):
        (cond,) = saved
        need = ctx.needs_input_grad
        return (None, ns.keep(cond, g) if need[1] else None,
                ns.keep(~cond, g) if need[2] else None)


def where(condition: Tensor, input=None, other=None, *, out=None):
    """Same as torch.where(condition, input, other); one argument gives nonzero's tuple form."""
    if input is None and other is None:
        return tuple(Tensor._make(i, condition._device) for i in
                     condition._device.xp.nonzero(condition._data))
    if condition.dtype is not D.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {torch_type_name(condition.dtype)}")
    dt = D.result_type(input, other)
    if dt._kind != 2 or dt.itemsize > 2:  # torch range-checks scalars, except half precision's
        for x in (input, other):
            if x.__class__ in WEAK_TYPES:
                check_scalar_range(x, dt)
    dev = condition._device
    a, b = _cast(input, dt, dev), _cast(other, dt, dev)
    try:
        return _out(Where.apply(condition, a, b, dt=dt), out, "where", (condition, a, b))
    except ValueError:
        broadcast_error(condition, a, b)
        raise


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """Same as torch.masked_fill."""
    if mask.dtype is not D.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{meta_name(mask.dtype)}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    if isinstance(value, Tensor):
        v = value.to(input.dtype)
    else:
        xp, npdt = input._device.xp, input._data.dtype
        v = Tensor._make(xp.asarray(int_fill(value, npdt, xp), dtype=npdt), input._device)
    try:  # torch fills a contiguous clone of input: C order whatever input's layout
        res = Where.apply(mask, v, input, c_order=True)
    except ValueError:
        broadcast_error(mask, v, input)
        raise
    if res._grad_fn is not None:
        res._grad_fn._name = "MaskedFillBackward0"
    return res


def masked_fill_(input: Tensor, mask: Tensor, value) -> Tensor:
    warn_expanded_fill(input, "masked_fill_")  # a fill: written through an expanded tensor
    return inplace_fill(input, masked_fill, mask, value)


__all__ += ["where", "masked_fill"]
