"""How the operands of a pointwise op meet: ``binary`` promotes with PyTorch's rules (weak Python
scalars, 0-d tensors, int->float ops, half precision through float32), converts Python and NumPy
operands, casts recorded operands, and gives broadcasting failures torch's text; and the array
helpers every pointwise family shares (half-precision compute, wrapping ufunc results)."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .. import _trace
from .._backend import scalar_array
from .._dtype import WEAK_TYPES
from .._errors import broadcast_error, not_tensor
from .._grad_mode import state as _grad_state
from .._tensor import Tensor


def wrap(arr, dev) -> Tensor:
    """A tensor around a ufunc result (which is a NumPy scalar, not an array, for 0-d inputs)."""
    xp = dev.xp
    return Tensor._make(arr if type(arr) is xp.ndarray else xp.asarray(arr), dev)


def _is_half(a) -> bool:
    return a.dtype.itemsize == 2 and a.dtype.kind in "fV"


def _compute(xp, fn, a):
    """Half precision computed in float32 and rounded back, as torch does on CPU."""
    if _is_half(a):
        return fn(xp, a.astype(xp.float32)).astype(a.dtype)
    return fn(xp, a)


def _compute2(xp, fn, a, b):
    if _is_half(a):
        return fn(xp, a.astype(xp.float32), b.astype(xp.float32)).astype(a.dtype)
    return fn(xp, a, b)


def _to_float(a):
    """Ints and bools as the default float dtype, as torch's floating ops do."""
    return a.astype(D.get_default_dtype().np) if a.dtype.kind in "biu" else a


def _c(x):
    """conj(f'(z)) for complex inputs (torch's convention); the identity for real ones."""
    return x.conj() if x.is_complex() else x


def _cast(x, dt, dev):
    if isinstance(x, Tensor):
        return x  # cast inside forward, so backward casts the gradient back
    if dt._kind == 2 and dt.itemsize == 2:
        with np.errstate(over="ignore"):  # where's 1e6 is inf in float16, without a warning
            return Tensor._make(scalar_array(x, dt.np, dev.xp), dev)
    return Tensor._make(scalar_array(x, dt.np, dev.xp), dev)


def _coerce(x, name: str, pos: int):
    """A non-Tensor operand: a Python number stays (a weak scalar), a NumPy array or scalar is
    converted, anything else is torch's TypeError."""
    if isinstance(x, np.ndarray):
        from .._creation import from_numpy

        return from_numpy(x)
    if isinstance(x, np.generic):  # NumPy scalars: plain Python numbers (weak, like torch)
        return x.item()
    for t in (bool, int, float, complex):  # other subclasses: plain numbers
        if isinstance(x, t):
            return t(x)
    import numbers

    if isinstance(x, numbers.Number):
        return x.item() if hasattr(x, "item") else complex(x)
    raise not_tensor(name, x, "input" if pos == 1 else "other", pos)


def _as(a, dt):
    return a if dt is None or a.dtype == dt.np else a.astype(dt.np)


def binary(cls, a, b, dt=None, node=None, **kw):
    """Promote (Python scalars are 'weak'), then apply; broadcasting failures get torch's text.

    Both operands reach ``forward`` as arrays; ``dt`` (None when no cast is needed) is the
    promoted dtype that ``forward`` casts them to with ``_as``. ``node``: the subclass of
    ``cls`` to record where torch names this call's node apart (rsub: RsubBackward1)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if dt is None and a._data.dtype is not b._data.dtype:
            dt = _float_ints(cls, D.result_type(a, b), kw)
            if dt in OPMATH and cls in OPMATH_OPS and not b._data.ndim:
                dt = OPMATH[dt]  # a 0-d other's own value, in float32 (torch's cpu scalar)
        elif (dt is None and not kw and a._device is b._device and cls in _FAST
              and not ((a._requires_grad or b._requires_grad) and _grad_state.grad_enabled)
              and _trace.tracer is None):  # (ndgrad.compile records ops only through apply)
            # Same dtype, nothing to record (e.g. inside backward): skip Op.apply.
            try:
                return wrap(_FAST[cls](a._data, b._data), a._device)
            except (ValueError, TypeError):
                pass  # the full path below raises torch's error
    else:
        a, b, dt = _mixed(cls, a, b, dt, kw)
    if dt is not None and dt.__class__ is not Opmath and _grad_state.grad_enabled:
        a, b = _cast_recorded(a, dt), _cast_recorded(b, dt)
    op = cls if node is None else node
    try:
        return op.apply(a, b, dt=dt, **kw) if kw else op.apply_pair(a, b, dt)
    except ValueError:
        broadcast_error(a, b)
        raise


def _cast_recorded(t, dt: D.dtype):
    """An operand that requires grad cast to the promoted dtype as a recorded op (ToCopyBackward0),
    so derivatives of every order see the cast: saved values are then the cast tensors, not
    constants made inside forward."""
    if isinstance(t, Tensor) and t._requires_grad and t._data.dtype != dt.np:
        from .convert import ToCopy

        return ToCopy.apply(t, dt.np, t._device)
    return t


# ops whose integer inputs compute in floating point (true division, atan2, copysign, xlogy)
INT_TO_FLOAT: set = set()


# ops torch computes in float32 for a half-precision tensor and a scalar (mul, div)
OPMATH_OPS: set = set()
# op -> check(array, Python scalar) of the scalar's own dtype, before promotion (sub refuses bool)
SCALAR_CHECKS: dict = {}
# op -> the NumPy operator: binary()'s path for two tensors of one dtype with nothing to record
_FAST: dict = {}


class Opmath:
    """binary()'s ``dt`` for a half-precision tensor with a Python scalar (or a 0-d tensor of
    another dtype) in an OPMATH_OPS op: torch takes the scalar in float32, not rounded to half
    (x / 65536 is not x / inf), computes in float32 and rounds the result once. ``_as`` casts
    to ``np`` (float32); the forward casts its result to ``out``."""

    __slots__ = ("np", "out")

    def __init__(self, out: D.dtype):
        self.np, self.out = np.dtype(np.float32), out.np


OPMATH = {D.float16: Opmath(D.float16), D.bfloat16: Opmath(D.bfloat16)}


def _float_ints(cls, dt: D.dtype, kw) -> D.dtype:
    """The dtype both operands are converted to: torch converts them straight to the default
    float for INT_TO_FLOAT ops, so an int scalar or 0-d tensor never wraps in a narrow integer
    type first (uint8 / 300 is 1/300, not 1/44)."""
    if dt._kind < 2 and cls in INT_TO_FLOAT and not kw:  # kw: div's rounding modes stay integral
        return D.get_default_dtype()
    return dt


_SCALAR_DT: dict = {}


def _scalar_dt(key, t: Tensor, x):
    """The dt a tensor and a Python scalar compute in, cached by (op, dtype, scalar type, default
    dtype, no kwargs): weak promotion, int->float ops in float, Opmath for half precision."""
    cls, kw = key[0], () if key[4] else (True,)
    check = SCALAR_CHECKS.get(cls)
    if check is not None:  # (it raises, so nothing is cached)
        check(t._data, x)
    dt = _float_ints(cls, D.weak_dtype(t, x), kw)
    if dt in OPMATH and cls in OPMATH_OPS and x.__class__ is not complex:
        dt = OPMATH[dt]
    _SCALAR_DT[key] = dt
    return dt


def _mixed(cls, a, b, dt, kw=None):
    """Operands where at least one is not a Tensor. A Python scalar becomes a raw 0-d array of
    the promoted dtype (it needs no gradient, so no Tensor); dt comes back None when the tensor
    operand already has that dtype."""
    if isinstance(a, Tensor) and b.__class__ in WEAK_TYPES:
        t, x, first = a, b, True
    elif isinstance(b, Tensor) and a.__class__ in WEAK_TYPES:
        t, x, first = b, a, False
    else:
        name = cls._op_name
        if not isinstance(a, Tensor):
            a = _coerce(a, name, 1)
        if not isinstance(b, Tensor):
            b = _coerce(b, name, 2)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            return a, b, dt if dt is not None or a._data.dtype is b._data.dtype else \
                _float_ints(cls, D.result_type(a, b), kw)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            raise not_tensor(name, a)
        return _mixed(cls, a, b, dt, kw)
    if dt is None:
        key = (cls, t._data.dtype, x.__class__, D._default[0], not kw)
        dt = _SCALAR_DT.get(key) or _scalar_dt(key, t, x)
        if dt.__class__ is Opmath:
            arr = t._device.xp.asarray(x, dtype=np.float32)
            return (t, arr, dt) if first else (arr, t, dt)
    arr = scalar_array(x, dt.np, t._device.xp)
    if dt.np is t._data.dtype:
        dt = None
    return (t, arr, dt) if first else (arr, t, dt)


def need_tensor(fn: str, x, arg: str = "other", pos: int = 2) -> None:
    """torch's TypeError for a Python value where only a Tensor is accepted."""
    if not isinstance(x, Tensor):
        raise not_tensor(fn, x, arg, pos)
