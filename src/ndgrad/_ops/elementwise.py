"""Pointwise core: binary arithmetic with PyTorch's promotion (weak Python scalars),
add/sub/mul/div/remainder/pow, where/masked_fill, complex parts, and the helpers every
pointwise module shares (dtype errors, half-precision compute, out=, exports)."""

from __future__ import annotations

import math
import operator

import numpy as np

from .. import _dtype as D
from .. import _trace
from .._dtype import meta_name, torch_type_name
from .._errors import broadcast_error, no_derivative, not_implemented, not_tensor, overflow
from .._backend import CPU, errstate, scalar_array
from .._grad_mode import state as _grad_state
from .._kernels import POW_KERNELS as _POW_KERNELS
from .._tensor import Tensor
from ..autograd.op import Op
from ._inplace import inplace, inplace_fill, warn_expanded_fill
from ._out import _out

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


# --- binary primitives --------------------------------------------------------------------------


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


def check_scalar_range(value, dt) -> None:
    """torch's error where c10's checked conversion rejects a Python scalar for ``dt`` (fill
    values, where's scalars, alpha/value arguments, clamp's bounds): out of range, nan or a
    fraction outside an integer type, an imaginary part into a real type. Arithmetic operands
    are cast (they wrap around) instead."""
    if dt._kind == 0:
        return
    if value.__class__ is complex:
        if dt._kind == 3:
            _check_range(value.real, dt.to_real(), dt)
            _check_range(value.imag, dt.to_real(), dt)
            return
        if value.imag:
            raise overflow(dt)
        value = value.real
    _check_range(value, dt.to_real() if dt._kind == 3 else dt, dt)


def _check_range(value, real: D.dtype, dt: D.dtype) -> None:
    if real._kind == 1:
        info = np.iinfo(real.np)
        if value.__class__ is float:
            ok = info.min <= value <= info.max  # nan fails too
        else:  # c10 lets negative ints wrap into unsigned types down to -max
            ok = (-info.max if info.min == 0 else info.min) <= value <= info.max
    elif real is D.float64:
        return
    else:
        ok = not math.isfinite(value) or math.fabs(value) <= _FMAX[real.name]
    if not ok:
        raise overflow(dt)


def int_fill(value, npdt, xp):
    """A value written into an array of ``npdt`` (fill_, full, setitem, index_fill, scatter): a
    Python scalar gets torch's checked conversion (``check_scalar_range``), an int wraps around
    into an unsigned type as in torch (NumPy 2 raises OverflowError, NumPy 1.x warns)."""
    cls = value.__class__
    if cls not in _WEAK_TYPES:
        return value
    dt = D.from_numpy(npdt)
    if dt._kind == 0:
        return bool(value)  # c10: nonzero is True, 1j included
    check_scalar_range(value, dt)
    if cls is complex and dt._kind != 3:
        return value.real
    return scalar_array(value, dt.np, xp) if cls is int and dt._kind == 1 else value


def finfo(npdt):
    """np.finfo, with bfloat16 from ml_dtypes."""
    if npdt == D.bfloat16.np:
        import ml_dtypes

        return ml_dtypes.finfo(npdt)
    return np.finfo(npdt)


_FMAX = {d: float(finfo(D._by_name(d).np).max) for d in ("float16", "bfloat16", "float32")}


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


_WEAK_TYPES = frozenset((int, float, bool, complex))
_WEAK: dict = {}


def weak_dtype(t: Tensor, x) -> D.dtype:
    """result_type(t, x) for a Python scalar x, cached by (dtype, scalar type, default dtype)."""
    key = (t._data.dtype, x.__class__, D._default[0])
    dt = _WEAK.get(key)
    if dt is None:
        dt = _WEAK[key] = D.result_type(t, x)
    return dt


_SCALAR_DT: dict = {}


def _scalar_dt(key, t: Tensor, x):
    """The dt a tensor and a Python scalar compute in, cached by (op, dtype, scalar type, default
    dtype, no kwargs): weak promotion, int->float ops in float, Opmath for half precision."""
    cls, kw = key[0], () if key[4] else (True,)
    if cls is Sub and x.__class__ is bool:  # torch checks a bool scalar's own dtype (not cached)
        _sub_bool(t._data, np.asarray(x))
    dt = _float_ints(cls, weak_dtype(t, x), kw)
    if dt in OPMATH and cls in OPMATH_OPS and x.__class__ is not complex:
        dt = OPMATH[dt]
    _SCALAR_DT[key] = dt
    return dt


def _mixed(cls, a, b, dt, kw=None):
    """Operands where at least one is not a Tensor. A Python scalar becomes a raw 0-d array of
    the promoted dtype (it needs no gradient, so no Tensor); dt comes back None when the tensor
    operand already has that dtype."""
    if isinstance(a, Tensor) and b.__class__ in _WEAK_TYPES:
        t, x, first = a, b, True
    elif isinstance(b, Tensor) and a.__class__ in _WEAK_TYPES:
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
    if alpha.__class__ in _WEAK_TYPES:
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
        if dt is not None:
            a, b = _as(a, dt), _as(b, dt)
            if dt.__class__ is Opmath:
                return Mul.forward(ctx, a, b).astype(dt.out)
        need = ctx.needs_input_grad
        ctx.saved = (b if need[0] else None, a if need[1] else None)
        return a * b

    def formula(ctx, ns, saved, g):
        b, a = saved
        return (g * ns.c(b) if ctx.needs_input_grad[0] else None,
                g * ns.c(a) if ctx.needs_input_grad[1] else None)


_FAST = {Add: operator.add, Sub: operator.sub, Mul: operator.mul}  # binary's same-dtype path


def _int_zero_division(xp, b):
    if (b == 0).any():
        raise RuntimeError("ZeroDivisionError")


class Div(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, rounding_mode=None):
        if dt is not None:
            a, b = _as(a, dt), _as(b, dt)
            if dt.__class__ is Opmath:
                return Div.forward(ctx, a, b, None, rounding_mode).astype(dt.out)
        if rounding_mode is None:
            if a.dtype.kind in "iub":  # true division of integers gives the default float
                a, b = _to_float(a), _to_float(b)
            ctx.save(a, b)
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
            gb = g * ns.c(y * ns.log(a))
            gb = ns.keep(~((a == 0) & (b.real >= 0)), gb) if ns.numel(gb) else gb
        return ga, gb


Pow.scalar_exponent = False
# pow_tensor_scalar_optimized_kernel: these exponents are computed without pow (also faster)
class _PowScalar(Pow):
    __slots__ = ()
    scalar_exponent = True


# --- public functions ---------------------------------------------------------------------------


def _inplace_fn(f, name):
    def fn(input, *args, **kwargs):
        return inplace(input, f, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"In-place {name[:-1]}."
    return fn


def export(ns: dict, name: str, f, *, inplace_too: bool = True) -> None:
    """Module-level function (and its in-place twin ``name_``) added to the namespace ``ns``;
    ``__all__`` (ndgrad's namespace) gets the names torch has at top level."""
    ns[name] = f
    if not name.endswith("_") or name in _TOP_LEVEL_INPLACE:
        ns["__all__"].append(name)
    if inplace_too:
        fi = _inplace_fn(f, name + "_")
        ns[name + "_"] = fi
        if name + "_" in _TOP_LEVEL_INPLACE:
            ns["__all__"].append(name + "_")


# torch has these in-place functions at top level (torch.sin_); the others are Tensor methods only
_TOP_LEVEL_INPLACE = frozenset(
    "abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_ "
    "atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ erf_ erfc_ exp2_ exp_ "
    "expm1_ fix_ floor_ frac_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ rad2deg_ "
    "reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ "
    "xlogy_".split())


def _export(name: str, f, **kw) -> None:
    export(globals(), name, f, **kw)


__all__: list[str] = []


def add(input, other, *, alpha=1, out=None) -> Tensor:
    """Same as torch.add."""
    if alpha.__class__ is not int or alpha != 1:  # True, 1.0, 1+0j: torch's checks apply
        return _out(binary(Add, input, other, alpha=alpha), out, "add")
    if out is not None:
        return _out(binary(Add, input, other), out, "add")
    return binary(Add, input, other)


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """Same as torch.sub."""
    if alpha.__class__ is not int or alpha != 1:  # True, 1.0, 1+0j: torch's checks apply
        return _out(binary(Sub, input, other, alpha=alpha), out, "sub")
    if out is not None:
        return _out(binary(Sub, input, other), out, "sub")
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
        return _out(binary(Mul, input, other), out, "mul")
    return binary(Mul, input, other)


def div(input, other, *, rounding_mode=None, out=None) -> Tensor:
    """Same as torch.div."""
    if rounding_mode is None:
        return _out(binary(Div, input, other), out, "div")
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{rounding_mode}'")
    res = binary(Div, input, other, node=_DivRounding, rounding_mode=rounding_mode)
    return _out(res, out, "div")


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
            dt = weak_dtype(input, exponent) if exponent.__class__ in _WEAK_TYPES else \
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

    def forward(ctx, cond, a, b, dt=None):
        ctx.save(cond)
        return ctx.xp.where(cond, _as(a, dt), _as(b, dt))

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
            if x.__class__ in _WEAK_TYPES:
                check_scalar_range(x, dt)
    dev = condition._device
    a, b = _cast(input, dt, dev), _cast(other, dt, dev)
    try:
        return _out(Where.apply(condition, a, b, dt=dt), out, "where")
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
    res = where(mask, v, input)
    if res._grad_fn is not None:
        res._grad_fn._name = "MaskedFillBackward0"
    return res


def masked_fill_(input: Tensor, mask: Tensor, value) -> Tensor:
    warn_expanded_fill(input, "masked_fill_")  # a fill: written through an expanded tensor
    return inplace_fill(input, masked_fill, mask, value)


__all__ += ["where", "masked_fill"]
