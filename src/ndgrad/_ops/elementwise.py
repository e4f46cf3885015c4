"""Pointwise primitives: unary math, binary arithmetic with PyTorch's promotion, comparisons."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._backend import special
from .._tensor import Tensor, tensor_method
from ..autograd.function import Op
from ._inplace import inplace, torch_type_name


def not_implemented(kernel: str, dt) -> NotImplementedError:
    """torch's error for a kernel that has no implementation for a dtype."""
    if not isinstance(dt, D.dtype):
        dt = D.from_numpy(dt)
    return NotImplementedError(f'"{kernel}" not implemented for \'{torch_type_name(dt)}\'')


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


# --- unary primitives ---------------------------------------------------------------------------
def unary(name: str, fwd, grad=None, *, saves="input", ints="float", bool_err=None,
          complex_err=None):
    """Declare a unary primitive: ``fwd(xp, a)`` on arrays and ``grad(saved, g)`` on tensors.

    ``ints``: "float" computes ints/bools in the default float dtype, "keep" keeps their dtype.
    ``bool_err``/``complex_err``: the exception torch raises for those inputs (a callable taking
    the numpy dtype)."""

    def prepare(a):
        k = a.dtype.kind
        if k == "b" and bool_err is not None:
            raise bool_err(a.dtype)
        if k == "c" and complex_err is not None:
            raise complex_err(a.dtype)
        if k in "biu" and ints == "float":
            return _to_float(a)
        return a

    def forward(ctx, a):
        if a.dtype.kind != "f":
            a = prepare(a)
        out = _compute(ctx.xp, fwd, a)
        if ctx.needs_input_grad[0]:
            ctx.save(a if saves == "input" else out)
        return out

    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return grad(s, g)

    return type(name, (Op,), {"forward": forward, "backward": backward, "__slots__": ()})


def _kernel(kernel):
    return lambda dt: not_implemented(kernel, dt)


def _msg(exc, text):
    return lambda dt: exc(text)


def _c(x):
    """conj(f'(z)) for complex inputs (torch's convention); the identity for real ones."""
    return x.conj() if x.is_complex() else x


_SQRT_PI = math.sqrt(math.pi)
_NEG_BOOL = _msg(RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If "
                               "you are trying to invert a mask, use the `~` or `logical_not()` "
                               "operator instead.")

# name: (array forward, gradient from the saved input or output). `saves="output"` marks the ones
# whose derivative is cheapest from the result (exp, sigmoid, tanh, sqrt).
Neg = unary("Neg", lambda xp, a: -a, lambda a, g: -g, saves=None, ints="keep", bool_err=_NEG_BOOL)
Sin = unary("Sin", lambda xp, a: xp.sin(a), lambda a, g: g * _c(a.cos()))
Cos = unary("Cos", lambda xp, a: xp.cos(a), lambda a, g: -g * _c(a.sin()))
Tan = unary("Tan", lambda xp, a: xp.tan(a), lambda y, g: g * _c(1 + y * y), saves="output")
Asin = unary("Asin", lambda xp, a: xp.arcsin(a), lambda a, g: g * _c((1 - a * a).rsqrt()))
Acos = unary("Acos", lambda xp, a: xp.arccos(a), lambda a, g: -g * _c((1 - a * a).rsqrt()))
Atan = unary("Atan", lambda xp, a: xp.arctan(a), lambda a, g: g / _c(1 + a * a))
Sinh = unary("Sinh", lambda xp, a: xp.sinh(a), lambda a, g: g * _c(a.cosh()))
Cosh = unary("Cosh", lambda xp, a: xp.cosh(a), lambda a, g: g * _c(a.sinh()))
Tanh = unary("Tanh", lambda xp, a: xp.tanh(a), lambda y, g: g * _c(1 - y * y), saves="output")
Asinh = unary("Asinh", lambda xp, a: xp.arcsinh(a), lambda a, g: g * _c((a * a + 1).rsqrt()))
Acosh = unary("Acosh", lambda xp, a: xp.arccosh(a),
              lambda a, g: g * _c((a + 1).rsqrt() * (a - 1).rsqrt()))
Atanh = unary("Atanh", lambda xp, a: xp.arctanh(a), lambda a, g: g / _c(1 - a * a))
Exp = unary("Exp", lambda xp, a: xp.exp(a), lambda y, g: g * _c(y), saves="output")
Exp2 = unary("Exp2", lambda xp, a: xp.exp2(a), lambda y, g: g * _c(y * math.log(2)),
             saves="output")
Expm1 = unary("Expm1", lambda xp, a: xp.expm1(a), lambda y, g: g * _c(y + 1), saves="output")
Log = unary("Log", lambda xp, a: xp.log(a), lambda a, g: g / _c(a))
Log2 = unary("Log2", lambda xp, a: xp.log2(a), lambda a, g: g / _c(a * math.log(2)))
Log10 = unary("Log10", lambda xp, a: xp.log10(a), lambda a, g: g / _c(a * math.log(10)))
Log1p = unary("Log1p", lambda xp, a: xp.log1p(a), lambda a, g: g / _c(a + 1))
Sqrt = unary("Sqrt", lambda xp, a: xp.sqrt(a), lambda y, g: g / _c(2 * y), saves="output")
Rsqrt = unary("Rsqrt", lambda xp, a: 1 / xp.sqrt(a), lambda y, g: -0.5 * g * _c(y * y * y),
              saves="output")
Reciprocal = unary("Reciprocal", lambda xp, a: 1 / a, lambda y, g: -g * _c(y * y), saves="output")
Sigmoid = unary("Sigmoid", lambda xp, a: _sigmoid(xp, a), lambda y, g: g * _c(y * (1 - y)),
                saves="output")
Relu = unary("Relu", lambda xp, a: xp.maximum(a, 0).astype(a.dtype),
             lambda y, g: g.masked_fill(y <= 0, 0), saves="output", ints="keep",  # +0, as torch
             bool_err=_msg(RuntimeError, "Boolean inputs not supported for relu"),
             complex_err=_msg(NotImplementedError, "clamp is not supported for complex types"))
Abs = unary("Abs", lambda xp, a: xp.abs(a), lambda a, g: g * a.sgn(), ints="keep",
            bool_err=_kernel("abs_cpu"))
Erf = unary("Erf", lambda xp, a: special(xp, "erf")(a),
            lambda a, g: g * (2 / _SQRT_PI) * (-a * a).exp(), complex_err=_kernel("erf_vml_cpu"))
Erfc = unary("Erfc", lambda xp, a: special(xp, "erfc")(a),
             lambda a, g: -g * (2 / _SQRT_PI) * (-a * a).exp(), complex_err=_kernel("erfc_vml_cpu"))
Erfinv = unary("Erfinv", lambda xp, a: special(xp, "erfinv")(a),
               lambda y, g: g * (_SQRT_PI / 2) * (y * y).exp(), saves="output",
               complex_err=_kernel("erfinv_vml_cpu"))
Lgamma = unary("Lgamma", lambda xp, a: special(xp, "lgamma")(a), lambda a, g: g * a.digamma(),
               complex_err=_kernel("lgamma_vml_cpu"))
Digamma = unary("Digamma", lambda xp, a: _digamma(xp, a), lambda a, g: g * polygamma(1, a),
                complex_err=_kernel("digamma"))
Sinc = unary("Sinc", lambda xp, a: xp.sinc(a), lambda a, g: g * _c(_sinc_grad(a)))
Frac = unary("Frac", lambda xp, a: a - xp.trunc(a), lambda a, g: g, saves=None,
             bool_err=_kernel("frac_cpu"), complex_err=_kernel("frac_cpu"))


def _sigmoid(xp, a):
    if a.dtype.kind == "c":
        return 1 / (1 + xp.exp(-a))
    # exp of a non-positive number only, so large |a| neither overflows nor loses precision
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype)


def _digamma(xp, a):
    # torch: digamma(+-0) is -+inf (scipy gives nan at that pole)
    out = special(xp, "digamma")(a)
    zero = a == 0
    return xp.where(zero, -xp.copysign(xp.inf, a), out).astype(out.dtype) if zero.any() else out


def _sinc_grad(a):
    pa = a * math.pi
    d = (pa.cos() * pa - pa.sin()) / (pa * a)
    return d.masked_fill(a == 0, 0)


class Polygamma(Op):
    __slots__ = ()

    def forward(ctx, a, n=1):
        a = _to_float(a)
        ctx.n = n
        ctx.save(a)
        return _compute(ctx.xp, lambda xp, x: _polygamma(xp, n, x), a)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, a)


def _polygamma(xp, n, x):
    if n == 0:
        return _digamma(xp, x)
    return special(xp, "polygamma")(n, x).astype(x.dtype)


def polygamma(n: int, input: Tensor, *, out=None) -> Tensor:
    """Same as torch.polygamma."""
    if input.is_complex():
        raise not_implemented("polygamma", input.dtype)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _out(Polygamma.apply(input, n=n), out, "polygamma")


tensor_method("polygamma")(lambda self, n: polygamma(n, self))
tensor_method("polygamma_")(lambda self, n: inplace(self, lambda t: polygamma(n, t)))


# Functions whose gradient is zero almost everywhere: integers pass through unchanged.
def _rounding(name: str, fwd, kernel: str, complex_text: str | None = None):
    def forward(ctx, a):
        k = a.dtype.kind
        if k == "b":
            raise not_implemented(kernel, a.dtype)
        if k == "c":
            raise (NotImplementedError(complex_text) if complex_text
                   else not_implemented(kernel, a.dtype))
        if k in "iu":
            return a.copy()
        return _compute(ctx.xp, fwd, a)

    def backward(ctx, g):
        return g * 0

    return type(name, (Op,), {"forward": forward, "backward": backward, "__slots__": ()})


Floor = _rounding("Floor", lambda xp, a: xp.floor(a), "floor_vml_cpu",
                  "floor is not supported for complex inputs")
Ceil = _rounding("Ceil", lambda xp, a: xp.ceil(a), "ceil_vml_cpu",
                 "ceil is not supported for complex inputs")
Trunc = _rounding("Trunc", lambda xp, a: xp.trunc(a), "trunc_vml_cpu",
                  "trunc is not supported for complex inputs")


class Round(Op):
    __slots__ = ()

    def forward(ctx, a, decimals=0):
        k = a.dtype.kind
        if k in "bc":
            raise not_implemented("round_vml_cpu", a.dtype)
        if k in "iu":
            if decimals:
                raise not_implemented("round_cpu", a.dtype)
            return a.copy()
        return _compute(ctx.xp, lambda xp, x: xp.round(x, decimals), a)

    def backward(ctx, g):
        return g * 0


class Sign(Op):
    __slots__ = ()

    def forward(ctx, a):
        k = a.dtype.kind
        if k == "c":
            raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex "
                                      "numbers. Please use torch.sgn instead.")
        return a.copy() if k == "b" else _sign(ctx.xp, a)

    def backward(ctx, g):
        return g * 0


def _sign(xp, a):
    if a.dtype.kind in "iu":
        return xp.sign(a)
    # (a > 0) - (a < 0), as torch computes it: nan gives 0
    return (a > 0).astype(a.dtype) - (a < 0).astype(a.dtype)


class Sgn(Op):
    """sign for reals, z/|z| for complex numbers."""

    __slots__ = ()

    def forward(ctx, a):
        xp = ctx.xp
        k = a.dtype.kind
        if k != "c":
            return a.copy() if k == "b" else _sign(xp, a)
        m = xp.abs(a)
        out = xp.where(m == 0, 0, a / xp.where(m == 0, 1, m)).astype(a.dtype)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        if not ctx.saved:
            return g * 0
        a, s = ctx.saved_tensors
        m = a.abs()
        # d(z/|z|): the part of g along the unit circle's tangent, divided by |z|
        out = (g - (g * s.conj()).real * s) / m
        return out.masked_fill(m == 0, 0)


# --- binary primitives --------------------------------------------------------------------------
def _scalar_array(x, dt, xp):
    try:
        return xp.asarray(x, dtype=dt.np)
    except OverflowError:  # an int out of range wraps around, as in torch
        return xp.asarray(x).astype(dt.np)


def _cast(x, dt, dev):
    if isinstance(x, Tensor):
        return x  # cast inside forward, so backward casts the gradient back
    return Tensor._make(_scalar_array(x, dt, dev.xp), dev)


_NUMBERS = (int, float, complex)


def _coerce(x, name: str, pos: int):
    """A non-Tensor operand: a Python number stays (a weak scalar), a NumPy array or scalar is
    converted, anything else is torch's TypeError."""
    if isinstance(x, _NUMBERS):
        return x
    import numbers

    import numpy as np

    if isinstance(x, np.ndarray):
        from .._creation import from_numpy

        return from_numpy(x)
    if isinstance(x, numbers.Number):
        return x.item() if hasattr(x, "item") else complex(x)
    arg = "input" if pos == 1 else "other"
    raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, not "
                    f"{type(x).__name__}")


_CPP_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
              "int64": "int64_t", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "float32": "float", "float64": "double"}


def check_scalar_range(value, dt) -> None:
    """torch's error for a scalar argument that overflows the dtype it is converted to (pow's
    exponent, clamp's bounds; arithmetic operands wrap around instead)."""
    if isinstance(value, (bool, complex)) or dt._kind in (0, 3):
        return
    if dt._kind == 1:
        info = np.iinfo(dt.np)
        # c10 lets negative values wrap into unsigned types down to -max
        ok = (-info.max if info.min == 0 else info.min) <= value <= info.max
    else:
        ok = not math.isfinite(value) or math.fabs(value) <= float(finfo(dt.np).max)
    if not ok:
        raise RuntimeError(f"value cannot be converted to type {_CPP_NAMES[dt.name]} without "
                           "overflow")


def finfo(npdt):
    """np.finfo, with bfloat16 from ml_dtypes."""
    if npdt == D.bfloat16.np:
        import ml_dtypes

        return ml_dtypes.finfo(npdt)
    return np.finfo(npdt)


def _as(a, dt):
    return a if dt is None or a.dtype == dt.np else a.astype(dt.np)


def _broadcast_error(a, b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b "
                               f"({pb[i]}) at non-singleton dimension {i}") from None


def binary(cls, a, b, dt=None, **kw):
    """Promote (Python scalars are 'weak'), then apply; broadcasting failures get torch's text.

    Both operands reach ``forward`` as arrays; ``dt`` (None when no cast is needed) is the
    promoted dtype that ``forward`` casts them to with ``_as``."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        a, b, dt = _mixed(cls, a, b, dt)
    elif dt is None and a._data.dtype is not b._data.dtype:
        dt = D.result_type(a, b)
    try:
        return cls.apply(a, b, dt=dt, **kw)
    except ValueError:
        _broadcast_error(a, b)
        raise


def _mixed(cls, a, b, dt):
    """Operands where at least one is not a Tensor: the scalar becomes a 0-d tensor of dt."""
    name = cls.__name__.lower()
    if not isinstance(a, Tensor):
        a = _coerce(a, name, 1)
    if not isinstance(b, Tensor):
        b = _coerce(b, name, 2)
    if dt is None and (not isinstance(a, Tensor) or not isinstance(b, Tensor)
                       or a._data.dtype is not b._data.dtype):
        dt = D.result_type(a, b)
    if isinstance(a, Tensor):
        return a, _cast(b, dt, a._device), dt
    if isinstance(b, Tensor):
        return _cast(a, dt, b._device), b, dt
    raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                    f"{type(a).__name__}")


def need_tensor(fn: str, x, arg: str = "other", pos: int = 2) -> None:
    """torch's TypeError for a Python value where only a Tensor is accepted."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


class Add(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, alpha=1):
        a, b = _as(a, dt), _as(b, dt)
        if alpha == 1:
            return a + b
        ctx.alpha = _alpha(a, alpha)
        return a + ctx.alpha * b

    def backward(ctx, g):
        alpha = getattr(ctx, "alpha", None)
        return g, g if alpha is None else g * _conj_scalar(alpha)


def _conj_scalar(x):
    return x.conjugate() if isinstance(x, complex) else x


def _alpha(a, alpha):
    if a.dtype.kind in "iub" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    return alpha


class Sub(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, alpha=1):
        if a.dtype.kind == "b" or b.dtype.kind == "b":
            _sub_bool(a, b)
        a, b = _as(a, dt), _as(b, dt)
        if alpha == 1:
            return a - b
        ctx.alpha = _alpha(a, alpha)
        return a - ctx.alpha * b

    def backward(ctx, g):
        alpha = getattr(ctx, "alpha", None)
        return g, -g if alpha is None else g * -_conj_scalar(alpha)


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
        a, b = _as(a, dt), _as(b, dt)
        ctx.save(b if ctx.needs_input_grad[0] else None, a if ctx.needs_input_grad[1] else None)
        return a * b

    def backward(ctx, g):
        b, a = ctx.saved_tensors
        return (g * _c(b) if ctx.needs_input_grad[0] else None,
                g * _c(a) if ctx.needs_input_grad[1] else None)


def _int_zero_division(xp, b):
    if (b == 0).any():
        raise RuntimeError("ZeroDivisionError")


class Div(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, rounding_mode=None):
        a, b = _as(a, dt), _as(b, dt)
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

    def backward(ctx, g):
        if not ctx.saved:
            return g * 0, g * 0
        a, b = ctx.saved_tensors
        return g / _c(b), -g * _c(a / (b * b))


def _floor_div(xp, a, b):
    # torch: floor(a / b) with Python's correction for the rounding of fmod; inf / inf is nan
    with _quiet(xp):
        return xp.floor_divide(a, b)


def _quiet(xp):
    return xp.errstate(all="ignore")


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
        with _quiet(xp):
            return _compute2(xp, lambda xp, x, y: getattr(xp, fn)(x, y), a, b)

    def backward(ctx, g):
        gb = None
        if ctx.needs_input_grad[1]:
            a, b = ctx.saved_tensors
            q = (a / b).floor() if ctx.fn == "remainder" else (a / b).trunc()
            gb = -g * q
        return g, gb


class Pow(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        k = a.dtype.kind
        if k == "b":
            if ctx.scalar_exponent and b == 1:  # torch copies for an exponent of 1
                return a.copy()
            raise not_implemented("pow", a.dtype)
        if k in "iu" and (b < 0).any():
            # torch: 1 ** -n == 1, (-1) ** -n == +-1, anything else ** -n == 0
            xp = ctx.xp
            pos = xp.power(a, xp.maximum(b, 0))
            neg = xp.where(a == 1, 1, xp.where(a == -1, xp.where(b % 2 == 0, 1, -1), 0))
            return xp.where(b < 0, neg, pos).astype(a.dtype)
        out = _compute2(ctx.xp, lambda xp, x, y: xp.power(x, y), a, b)
        ctx.save(a, b, out)
        return out

    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g * _c(b * a.pow(b - 1))
            ga = ga.masked_fill((b == 0) & (a == 0), 0) if ga.numel() else ga
        if ctx.needs_input_grad[1]:
            gb = g * _c(y * a.log())
            gb = gb.masked_fill((a == 0) & (b.real >= 0), 0) if gb.numel() else gb
        return ga, gb


Pow.scalar_exponent = False


class _PowScalar(Pow):
    __slots__ = ()
    scalar_exponent = True


class MinMax(Op):
    """maximum/minimum (nan propagates, ties split the gradient) and fmax/fmin (nan ignored,
    ties give the gradient to the first argument), as in torch."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None, fn="maximum"):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind == "c":
            raise RuntimeError(f"{fn} not implemented for complex tensors.")
        ctx.fn = fn
        ctx.save(a, b)
        return getattr(ctx.xp, fn)(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        fn = ctx.fn
        first = (a > b) if fn in ("maximum", "fmax") else (a < b)
        if fn in ("maximum", "minimum"):
            w = first + (a == b) * 0.5
            return g * w, g * (1 - w)
        w = first | (a == b) | b.isnan()
        return g * w, g * ~w


class Atan2(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind == "c":
            raise not_implemented("atan2_cpu", a.dtype)
        a, b = _to_float(a), _to_float(b)
        ctx.save(a, b)
        return _compute2(ctx.xp, lambda xp, x, y: xp.arctan2(x, y), a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = a * a + b * b
        return g * b / d, -g * a / d


class Hypot(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind not in "fV":
            raise not_implemented("hypot_cpu", a.dtype)
        out = _compute2(ctx.xp, lambda xp, x, y: xp.hypot(x, y), a, b)
        ctx.save(a, b, out)
        return out

    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        return g * a / y, g * b / y


class Xlogy(Op):
    """x * log(y), defined as 0 where x == 0 (unless y is nan)."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind == "c":
            raise not_implemented("xlogy_cpu", a.dtype)
        a, b = _to_float(a), _to_float(b)
        ctx.save(a, b)

        def f(xp, x, y):
            with _quiet(xp):
                return xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log(y)).astype(x.dtype)

        return _compute2(ctx.xp, f, a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = xlogy(g, b).masked_fill((a == 0) & (b <= 0), 0)
        if ctx.needs_input_grad[1]:
            gb = g * a / b
        return ga, gb


class LogAddExp(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, base2=False):
        a, b = _as(a, dt), _as(b, dt)
        name = "logaddexp2" if base2 else "logaddexp"
        if a.dtype.kind in "biu" or (base2 and a.dtype.kind == "c"):
            raise not_implemented(name + "_cpu", a.dtype)
        ctx.base2 = base2
        ctx.save(a, b)
        if a.dtype.kind == "c":  # numpy has no complex logaddexp: shift by the larger real part
            xp = ctx.xp
            m = xp.where(a.real >= b.real, a, b)
            return m + xp.log(xp.exp(a - m) + xp.exp(b - m))
        return _compute2(ctx.xp, lambda xp, x, y: getattr(xp, name)(x, y), a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # d/da log(e^a + e^b) = 1 / (1 + e^(b-a)): the sigmoid of a - b
        d = a - b
        if ctx.base2:
            d = d * math.log(2)
        return g * _c(d.sigmoid()), g * _c((-d).sigmoid())


class Copysign(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind == "c":
            raise not_implemented("copysign_cpu", a.dtype)
        a, b = _to_float(a), _to_float(b)
        out = _compute2(ctx.xp, lambda xp, x, y: xp.copysign(x, y), a, b)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, y = ctx.saved_tensors
        ratio = (y / a).masked_fill(a == 0, 0)
        return g * ratio, g * 0


class NoGrad(Op):
    """Ops whose result carries no derivative in torch; calling backward raises, as there."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None, fn=None, name=None):
        ctx.fname = name
        return fn(ctx.xp, _as(a, dt), _as(b, dt))

    def backward(ctx, *g):
        raise RuntimeError(f"derivative for aten::{ctx.fname} is not implemented")


def _no_grad_node(out: Tensor) -> Tensor:
    if out._grad_fn is not None:
        out._grad_fn._name = "torch::autograd::NotImplemented"
    return out


class Compare(Op):
    """Comparisons, logical and bitwise ops: no gradient."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None, fn=None):
        return getattr(ctx.xp, fn)(_as(a, dt), _as(b, dt))


def _compare(name, fn):
    def op(input, other, *, out=None):
        if input.__class__ is Tensor and other.__class__ is Tensor and out is None \
                and input._data.dtype is other._data.dtype and input._data.dtype.kind != "c":
            try:  # fast path: no promotion, no graph
                return wrap(getattr(input._device.xp, fn)(input._data, other._data),
                            input._device)
            except ValueError:
                _broadcast_error(input, other)
                raise
        if name in ("lt", "le", "gt", "ge"):
            for x in (input, other):
                if isinstance(x, Tensor) and x.is_complex() or isinstance(x, complex):
                    raise not_implemented(f"{name}_cpu", D.complex64 if not isinstance(x, Tensor)
                                          else x.dtype)
        return _out(binary(Compare, input, other, fn=fn), out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Same as torch.{name}."
    return op


# --- out= -----------------------------------------------------------------------------------------
def _out(res: Tensor, out, name: str = "") -> Tensor:
    """Write ``res`` into ``out`` (resized when its shape differs), as torch's out= variants do."""
    if out is None:
        return res
    from .._grad_mode import state

    if state.grad_enabled and (res._requires_grad or out._requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    src = res._data
    if src.dtype != out._data.dtype:
        got, want = res.dtype, out.dtype
        if got._kind > want._kind:
            raise RuntimeError(f"result type {torch_type_name(got)} can't be cast to the desired "
                               f"output type {torch_type_name(want)}")
        src = src.astype(out._data.dtype)
    if src.shape != out._data.shape:
        out._data = src.copy() if src is res._data else src
    else:
        out._data[...] = src
    out._vc[0] += 1
    return out


# --- public functions ---------------------------------------------------------------------------
def _unary_fn(cls, name):
    def fn(input, *, out=None):
        if out is not None:
            return _out(cls.apply(input), out, name)
        return cls.apply(input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Same as torch.{name}."
    return fn


def _inplace_fn(f, name):
    def fn(input, *args, **kwargs):
        return inplace(input, f, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"In-place {name[:-1]}."
    return fn


def export(ns: dict, name: str, f, *, method: bool = True, inplace_too: bool = True) -> None:
    """Module-level function (and its in-place twin ``name_``) plus Tensor methods of the same
    names, added to the namespace ``ns`` and its ``__all__``."""
    ns[name] = f
    ns["__all__"].append(name)
    if method:
        tensor_method(name)(f)
    if inplace_too:
        fi = _inplace_fn(f, name + "_")
        ns[name + "_"] = fi
        ns["__all__"].append(name + "_")
        tensor_method(name + "_")(fi)


def _export(name: str, f, **kw) -> None:
    export(globals(), name, f, **kw)


UNARY = {"neg": Neg, "sin": Sin, "cos": Cos, "tan": Tan, "asin": Asin, "acos": Acos,
         "atan": Atan, "sinh": Sinh, "cosh": Cosh, "tanh": Tanh, "asinh": Asinh, "acosh": Acosh,
         "atanh": Atanh, "exp": Exp, "exp2": Exp2, "expm1": Expm1, "log": Log, "log2": Log2,
         "log10": Log10, "log1p": Log1p, "sqrt": Sqrt, "rsqrt": Rsqrt, "reciprocal": Reciprocal,
         "sigmoid": Sigmoid, "relu": Relu, "abs": Abs, "erf": Erf, "erfc": Erfc, "erfinv": Erfinv,
         "lgamma": Lgamma, "digamma": Digamma, "floor": Floor, "ceil": Ceil, "trunc": Trunc,
         "sign": Sign, "sgn": Sgn, "sinc": Sinc, "frac": Frac}
ALIASES = {"negative": "neg", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
           "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "absolute": "abs",
           "fix": "trunc"}

__all__ = ["polygamma"]
for _name, _cls in UNARY.items():
    _export(_name, _unary_fn(_cls, _name))
for _alias, _name in ALIASES.items():
    _export(_alias, globals()[_name], inplace_too=False)
    globals()[_alias + "_"] = globals()[_name + "_"]
    tensor_method(_alias + "_")(globals()[_name + "_"])
    __all__.append(_alias + "_")


def _frac(input, *, out=None):
    if input.dtype._kind == 1:
        raise not_implemented("frac_cpu", input.dtype)
    return _out(Frac.apply(input), out, "frac")


_export("frac", _frac)


def round(input: Tensor, *, decimals: int = 0, out=None) -> Tensor:
    """Same as torch.round (half to even)."""
    res = Round.apply(input, decimals=decimals)
    if decimals and res._grad_fn is not None:
        res._grad_fn._name = "RoundBackward1"
    return _out(res, out, "round")


_export("round", round)


def add(input, other, *, alpha=1, out=None) -> Tensor:
    """Same as torch.add."""
    if alpha != 1:
        return _out(binary(Add, input, other, alpha=alpha), out, "add")
    if out is not None:
        return _out(binary(Add, input, other), out, "add")
    return binary(Add, input, other)


def sub(input, other, *, alpha=1, out=None) -> Tensor:
    """Same as torch.sub."""
    if alpha != 1:
        return _out(binary(Sub, input, other, alpha=alpha), out, "sub")
    if out is not None:
        return _out(binary(Sub, input, other), out, "sub")
    return binary(Sub, input, other)


def rsub(input, other, *, alpha=1) -> Tensor:
    """Same as torch.rsub: other - alpha * input."""
    res = binary(Sub, other, input, alpha=alpha)
    if res._grad_fn is not None:
        res._grad_fn._name = "RsubBackward1"
    return res


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
    res = binary(Div, input, other, rounding_mode=rounding_mode)
    if res._grad_fn is not None:
        res._grad_fn._name = "DivBackward2"
    return _out(res, out, "div")


def true_divide(input, other, *, out=None) -> Tensor:
    """Same as torch.true_divide."""
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None) -> Tensor:
    """Same as torch.floor_divide; calling backward through it raises, as in torch."""
    res = binary(Div, input, other, rounding_mode="floor")
    if res._grad_fn is not None:
        res._grad_fn.__class__ = _FloorDivideNode
        res._grad_fn._name = "torch::autograd::NotImplemented"
    return _out(res, out, "floor_divide")


class _FloorDivideNode(Div):
    __slots__ = ()

    def backward(ctx, g):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


def remainder(input, other, *, out=None) -> Tensor:
    """Same as torch.remainder."""
    res = binary(Remainder, input, other)
    if res._grad_fn is not None:
        if not isinstance(input, Tensor):
            res._grad_fn.__class__ = _RemainderScalarNode
            res._grad_fn._name = "torch::autograd::NotImplemented"
        elif isinstance(other, Tensor):
            res._grad_fn._name = "RemainderBackward1"
    return _out(res, out, "remainder")


class _RemainderScalarNode(Remainder):
    __slots__ = ()

    def backward(ctx, g):
        raise RuntimeError("derivative for aten::remainder is not implemented")


def fmod(input, other, *, out=None) -> Tensor:
    """Same as torch.fmod."""
    need_tensor("fmod", input, "input", 1)
    res = binary(Remainder, input, other, fn="fmod")
    if res._grad_fn is not None and isinstance(other, Tensor):
        res._grad_fn._name = "FmodBackward1"
    return _out(res, out, "fmod")


def pow(input, exponent, *, out=None) -> Tensor:
    """Same as torch.pow."""
    if isinstance(input, Tensor):
        if isinstance(exponent, Tensor):
            res, name = binary(Pow, input, exponent), "PowBackward1"
        else:
            dt = D.result_type(input, exponent)
            check_scalar_range(exponent, dt)
            if dt._kind == 1 and not isinstance(exponent, complex) and exponent < 0:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            res, name = binary(_PowScalar, input, exponent), "PowBackward0"
    else:
        need_tensor("pow", exponent, "exponent")
        res, name = binary(Pow, input, exponent), "PowBackward2"
    if res._grad_fn is not None:
        res._grad_fn._name = name
    return _out(res, out, "pow")


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


def _binary_fn(cls, name, *, scalars=False, rename=None, **fixed):
    def fn(input, other, *, out=None):
        need_tensor(name, input, "input", 1)
        if not scalars:
            need_tensor(name, other)
        res = binary(cls, input, other, **fixed)
        if rename and res._grad_fn is not None:
            res._grad_fn._name = rename
        return _out(res, out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Same as torch.{name}."
    return fn


maximum = _binary_fn(MinMax, "maximum", rename="MaximumBackward0", fn="maximum")
minimum = _binary_fn(MinMax, "minimum", rename="MinimumBackward0", fn="minimum")
fmax = _binary_fn(MinMax, "fmax", rename="FmaxBackward0", fn="fmax")
fmin = _binary_fn(MinMax, "fmin", rename="FminBackward0", fn="fmin")
atan2 = _binary_fn(Atan2, "atan2")
hypot = _binary_fn(Hypot, "hypot")
logaddexp = _binary_fn(LogAddExp, "logaddexp")
logaddexp2 = _binary_fn(LogAddExp, "logaddexp2", rename="Logaddexp2Backward0", base2=True)
copysign = _binary_fn(Copysign, "copysign", scalars=True)


def xlogy(input, other, *, out=None) -> Tensor:
    """Same as torch.xlogy."""
    res = binary(Xlogy, input, other)
    if res._grad_fn is not None:
        res._grad_fn._name = ("XlogyBackward0" if isinstance(input, Tensor) and
                              isinstance(other, Tensor) else
                              "XlogyBackward1" if isinstance(other, Tensor) else "XlogyBackward2")
    return _out(res, out, "xlogy")


def heaviside(input: Tensor, values: Tensor, *, out=None) -> Tensor:
    """Same as torch.heaviside."""
    need_tensor("heaviside", values, "values")
    if input.is_complex() or values.is_complex():
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")

    def f(xp, a, v):
        return xp.where(a == 0, v, (a > 0).astype(a.dtype)).astype(a.dtype)

    return _out(_no_grad_node(binary(NoGrad, input, values, fn=f, name="heaviside")), out,
                "heaviside")


def _shift(name, kernel, numpy_fn):
    def f(xp, a, b):
        bits = a.dtype.itemsize * 8
        out = getattr(xp, numpy_fn)(a, xp.clip(b, 0, bits).astype(a.dtype))
        # shifting by the width or more (or by a negative count) gives 0 / the sign, as in torch
        bad = (b < 0) | (b >= bits)
        if numpy_fn == "right_shift":
            return xp.where(bad, xp.where(a < 0, -1, 0).astype(a.dtype), out)
        return xp.where(bad, xp.zeros((), a.dtype), out)

    def fn(input, other, *, out=None):
        res = binary(NoGrad, input, other, fn=_checked(f, kernel), name=name)
        return _out(res, out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Same as torch.{name}."
    return fn


def _checked(f, kernel):
    def g(xp, a, b):
        if a.dtype.kind not in "iu":
            raise not_implemented(kernel, a.dtype)
        return f(xp, a, b)

    return g


bitwise_left_shift = _shift("bitwise_left_shift", "lshift_cpu", "left_shift")
bitwise_right_shift = _shift("bitwise_right_shift", "rshift_cpu", "right_shift")

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


def logical_not(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.logical_not."""
    return _out(wrap(input._device.xp.logical_not(input._data), input._device), out,
                "logical_not")


def _bitwise(name):
    def op(input, other, *, out=None):
        a, b, dt = (input, other, None) if isinstance(input, Tensor) and isinstance(
            other, Tensor) and input._data.dtype is other._data.dtype else _mixed(Compare, input,
                                                                                 other, None)
        if (dt or a.dtype)._kind > 1:
            raise not_implemented(f"{name}_cpu", dt or a.dtype)
        return _out(binary(Compare, a, b, dt=dt, fn=name), out, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Same as torch.{name}."
    return op


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def bitwise_not(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.bitwise_not."""
    if input._data.dtype.kind not in "iub":
        raise not_implemented("bitwise_not_cpu", input.dtype)
    return _out(wrap(input._device.xp.invert(input._data), input._device), out, "bitwise_not")


for _name in ("add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod",
              "pow", "float_power", "square", "maximum", "minimum", "fmax", "fmin", "atan2",
              "hypot", "logaddexp", "logaddexp2", "copysign", "xlogy", "heaviside",
              "bitwise_left_shift", "bitwise_right_shift", "eq", "ne", "lt", "le", "gt", "ge",
              "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
              "bitwise_or", "bitwise_xor", "bitwise_not"):
    _export(_name, globals()[_name])
for _alias, _name in {"subtract": "sub", "multiply": "mul", "divide": "div", "arctan2": "atan2",
                      "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le",
                      "not_equal": "ne"}.items():
    _export(_alias, globals()[_name], inplace_too=False)
    globals()[_alias + "_"] = globals()[_name + "_"]
    tensor_method(_alias + "_")(globals()[_name + "_"])
    __all__.append(_alias + "_")
__all__.append("rsub")

# --- operators ----------------------------------------------------------------------------------
T = Tensor


def _operand_ok(other) -> bool:
    if isinstance(other, (Tensor, int, float, complex)):
        return True
    import numbers

    import numpy as np

    return isinstance(other, (numbers.Number, np.ndarray))


def _binop(fn, reflected=False):
    """A binary dunder: NotImplemented for operands torch rejects, so Python raises its TypeError."""
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


def _inplace_op(fn):
    return lambda self, other: inplace(self, fn, other)


def _rtruediv(self, other):
    return mul(reciprocal(self), other)  # as torch computes scalar / tensor


T.__add__ = _fast(Add)
T.__radd__ = _binop(add, True)
T.__iadd__ = _inplace_op(add)
T.__sub__ = _fast(Sub)
T.__rsub__ = _binop(rsub)
T.__isub__ = _inplace_op(sub)
T.__mul__ = _fast(Mul)
T.__rmul__ = _binop(mul, True)
T.__imul__ = _inplace_op(mul)
T.__truediv__ = _fast(Div)
T.__rtruediv__ = _binop(_rtruediv)
T.__itruediv__ = _inplace_op(div)
T.__floordiv__ = _binop(floor_divide)
T.__rfloordiv__ = _binop(floor_divide, True)
T.__ifloordiv__ = _inplace_op(floor_divide)
T.__mod__ = _binop(remainder)
T.__rmod__ = _binop(remainder, True)
T.__imod__ = _inplace_op(remainder)
T.__pow__ = _binop(pow)
T.__rpow__ = _binop(pow, True)
T.__ipow__ = _inplace_op(pow)
T.__neg__ = neg  # noqa: F821  (made by _export)
T.__pos__ = lambda self: self
T.__abs__ = abs  # noqa: F821
T.__eq__ = _binop(eq)
T.__ne__ = _binop(ne)
T.__lt__ = _binop(lt)
T.__le__ = _binop(le)
T.__gt__ = _binop(gt)
T.__ge__ = _binop(ge)
T.__and__ = _binop(bitwise_and)
T.__rand__ = _binop(bitwise_and, True)
T.__iand__ = _inplace_op(bitwise_and)
T.__or__ = _binop(bitwise_or)
T.__ror__ = _binop(bitwise_or, True)
T.__ior__ = _inplace_op(bitwise_or)
T.__xor__ = _binop(bitwise_xor)
T.__rxor__ = _binop(bitwise_xor, True)
T.__ixor__ = _inplace_op(bitwise_xor)
T.__invert__ = bitwise_not
T.__lshift__ = _binop(bitwise_left_shift)
T.__rlshift__ = _binop(bitwise_left_shift, True)
T.__ilshift__ = _inplace_op(bitwise_left_shift)
T.__rshift__ = _binop(bitwise_right_shift)
T.__rrshift__ = _binop(bitwise_right_shift, True)
T.__irshift__ = _inplace_op(bitwise_right_shift)
T.__hash__ = lambda self: id(self)


# --- complex parts --------------------------------------------------------------------------------
class Conj(Op):
    __slots__ = ()

    def forward(ctx, a):
        return ctx.xp.conj(a)

    def backward(ctx, g):
        return g.conj()


class Real(Op):
    __slots__ = ()

    def forward(ctx, a):
        return a.real

    def backward(ctx, g):
        return g.to(g.dtype.to_complex())


class Imag(Op):
    __slots__ = ()

    def forward(ctx, a):
        return a.imag

    def backward(ctx, g):
        return g.to(g.dtype.to_complex()) * 1j


def conj(input: Tensor) -> Tensor:
    """Same as torch.conj (a copy, not a lazy view)."""
    return Conj.apply(input) if input.is_complex() else input


def real(input: Tensor) -> Tensor:
    """Same as torch.real (a copy for complex inputs, not a view)."""
    return Real.apply(input) if input.is_complex() else input


def imag(input: Tensor) -> Tensor:
    """Same as torch.imag (a copy, not a view)."""
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)


tensor_method("conj")(conj)
Tensor.real = property(real)
Tensor.imag = property(imag)
__all__ += ["conj", "real", "imag"]


# --- selection ------------------------------------------------------------------------------------
class Where(Op):
    __slots__ = ()

    def forward(ctx, cond, a, b, dt=None):
        ctx.save(cond)
        return ctx.xp.where(cond, _as(a, dt), _as(b, dt))

    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = g.new_zeros(())
        return None, where(cond, g, zero), where(cond, zero, g)


def where(condition: Tensor, input=None, other=None, *, out=None):
    """Same as torch.where(condition, input, other); one argument gives nonzero's tuple form."""
    if input is None and other is None:
        return tuple(Tensor._make(i, condition._device) for i in
                     condition._device.xp.nonzero(condition._data))
    if condition.dtype is not D.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {torch_type_name(condition.dtype)}")
    dt = D.result_type(input, other)
    dev = condition._device
    a, b = _cast(input, dt, dev), _cast(other, dt, dev)
    try:
        return _out(Where.apply(condition, a, b, dt=dt), out, "where")
    except ValueError:
        shapes = ", ".join(str(list(t.shape)) for t in (condition, a, b))
        raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape "
                           f"({shapes})") from None


Tensor.where = lambda self, condition, other: where(condition, self, other)


@tensor_method
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """Same as torch.masked_fill."""
    if mask.dtype is not D.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    v = value.to(input.dtype) if isinstance(value, Tensor) else Tensor._make(
        _scalar_array(value, input.dtype, input._device.xp), input._device)
    res = where(mask, v, input)
    if res._grad_fn is not None:
        res._grad_fn._name = "MaskedFillBackward0"
    return res


@tensor_method
def masked_fill_(input: Tensor, mask: Tensor, value) -> Tensor:
    return inplace(input, masked_fill, mask, value)


__all__ += ["where", "masked_fill"]
