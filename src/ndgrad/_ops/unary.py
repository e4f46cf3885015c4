"""Unary pointwise primitives: math functions, rounding, sign, with torch's dtype rules for
integer, bool, half and complex inputs."""

from __future__ import annotations

import math
import numbers

from .._backend import special
from .._tensor import Tensor
from ..autograd.op import Op
from ..autograd.formula import TENSORS, arrays
from ._operands import _compute, _to_float
from ._export import export
from ._out import _out
from .._errors import not_implemented

__all__: list[str] = []


def _export(name: str, f, **kw) -> None:
    export(globals(), name, f, **kw)


# --- unary primitives ---------------------------------------------------------------------------
def unary(name: str, fwd, grad=None, *, saves="input", ints="float", bool_err=None,
          complex_err=None, raw=False):
    """Declare a unary primitive: ``fwd(xp, a)`` on arrays and its derivative once, as
    ``grad(ns, saved, g)`` (see autograd.formula): on tensors at any order, and with ``raw`` also
    on float32/float64 arrays, the first-order fast path of hot ops (``grad`` then uses only
    ``ns``'s functions and operators).

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
        dt = a.dtype
        if dt.kind == "f" and dt.itemsize > 2:  # the hot path: float32/float64
            out = fwd(ctx.xp, a)
        else:
            a = prepare(a)
            out = _compute(ctx.xp, fwd, a)
        if saves:  # kept only if a graph is recorded
            ctx.saved = (a,) if saves == "input" else (out,)
        return out

    def formula(ctx, ns, saved, g):
        return grad(ns, saved[0] if saves else None, g)

    def backward_raw(ctx, g):
        if g.dtype.kind != "f" or g.itemsize < 4:
            return NotImplemented  # half precision and complex: on tensors
        return grad(arrays(ctx.xp), ctx.saved_arrays[0] if saves else None, g)

    ns = {"forward": forward, "formula": formula, "__slots__": (),
          "backward_raw": backward_raw if raw else None}
    return type(name, (Op,), ns)


def _kernel(kernel):
    return lambda dt: not_implemented(kernel, dt)


def _msg(exc, text):
    return lambda dt: exc(text)


_SQRT_PI = math.sqrt(math.pi)
_NEG_BOOL = _msg(RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If "
                               "you are trying to invert a mask, use the `~` or `logical_not()` "
                               "operator instead.")

# name: (array forward, gradient from the saved input or output). `saves="output"` marks the ones
# whose derivative is cheapest from the result (exp, sigmoid, tanh, sqrt).
Neg = unary("Neg", lambda xp, a: -a, lambda ns, a, g: -g, saves=None, raw=True, ints="keep",
            bool_err=_NEG_BOOL)
Sin = unary("Sin", lambda xp, a: xp.sin(a), lambda ns, a, g: g * ns.c(ns.cos(a)), raw=True)
Cos = unary("Cos", lambda xp, a: xp.cos(a), lambda ns, a, g: -g * ns.c(ns.sin(a)), raw=True)
Tan = unary("Tan", lambda xp, a: xp.tan(a), lambda ns, y, g: g * ns.c(1 + y * y), saves="output")
Asin = unary("Asin", lambda xp, a: xp.arcsin(a), lambda ns, a, g: g * ns.c((1 - a * a).rsqrt()))
Acos = unary("Acos", lambda xp, a: xp.arccos(a), lambda ns, a, g: -g * ns.c((1 - a * a).rsqrt()))
Atan = unary("Atan", lambda xp, a: xp.arctan(a), lambda ns, a, g: g / ns.c(1 + a * a))
Sinh = unary("Sinh", lambda xp, a: xp.sinh(a), lambda ns, a, g: g * ns.c(a.cosh()))
Cosh = unary("Cosh", lambda xp, a: xp.cosh(a), lambda ns, a, g: g * ns.c(a.sinh()))
Tanh = unary("Tanh", lambda xp, a: xp.tanh(a),
             lambda ns, y, g: g * ns.c(ns.one_minus_square(y)), saves="output", raw=True)
Asinh = unary("Asinh", lambda xp, a: xp.arcsinh(a), lambda ns, a, g: g * ns.c((a * a + 1).rsqrt()))
Acosh = unary("Acosh", lambda xp, a: xp.arccosh(a),
              lambda ns, a, g: g * ns.c((a + 1).rsqrt() * (a - 1).rsqrt()))
Atanh = unary("Atanh", lambda xp, a: xp.arctanh(a), lambda ns, a, g: g / ns.c(1 - a * a))
Exp = unary("Exp", lambda xp, a: xp.exp(a), lambda ns, y, g: g * ns.c(y), saves="output",
            raw=True)
Exp2 = unary("Exp2", lambda xp, a: xp.exp2(a), lambda ns, y, g: g * ns.c(y * math.log(2)),
             saves="output")
Expm1 = unary("Expm1", lambda xp, a: xp.expm1(a), lambda ns, y, g: g * ns.c(y + 1),
              saves="output")
Log = unary("Log", lambda xp, a: xp.log(a), lambda ns, a, g: g / ns.c(a), raw=True)
Log2 = unary("Log2", lambda xp, a: xp.log2(a), lambda ns, a, g: g / ns.c(a * math.log(2)))
Log10 = unary("Log10", lambda xp, a: xp.log10(a), lambda ns, a, g: g / ns.c(a * math.log(10)))
Log1p = unary("Log1p", lambda xp, a: xp.log1p(a), lambda ns, a, g: g / ns.c(a + 1))
Log1p._node_name = Log1p.__name__ = "Log1PBackward0"  # torch's spelling
Sqrt = unary("Sqrt", lambda xp, a: xp.sqrt(a), lambda ns, y, g: g / ns.c(2 * y), saves="output",
             raw=True)
Rsqrt = unary("Rsqrt", lambda xp, a: xp.reciprocal(xp.sqrt(a)),
              lambda ns, y, g: -0.5 * g * ns.c(y * y * y), saves="output")
# reciprocal, not 1 / a (NumPy 1.x gives float64 for a 0-d float32 a)
Reciprocal = unary("Reciprocal", lambda xp, a: xp.reciprocal(a),
                   lambda ns, y, g: -g * ns.c(y * y), saves="output")
Sigmoid = unary("Sigmoid", lambda xp, a: _sigmoid(xp, a), lambda ns, y, g: g * ns.c(y * (1 - y)),
                saves="output", raw=True)
Relu = unary("Relu", lambda xp, a: xp.maximum(0, a).astype(a.dtype, copy=False),  # -0 stays
             # +0 where y is 0 (torch's y <= 0 for an output that is never negative: nan keeps g)
             lambda ns, y, g: ns.keep(y != 0, g), saves="output", ints="keep", raw=True,
             bool_err=_msg(RuntimeError, "Boolean inputs not supported for relu"),
             complex_err=_msg(NotImplementedError, "clamp is not supported for complex types"))
Abs = unary("Abs", lambda xp, a: xp.abs(a), lambda ns, a, g: g * a.sgn(), ints="keep",
            bool_err=_kernel("abs_cpu"))
Erf = unary("Erf", lambda xp, a: special(xp, "erf")(a),
            lambda ns, a, g: g * (2 / _SQRT_PI) * (-a * a).exp(),
            complex_err=_kernel("erf_vml_cpu"))
Erfc = unary("Erfc", lambda xp, a: special(xp, "erfc")(a),
             lambda ns, a, g: -g * (2 / _SQRT_PI) * (-a * a).exp(),
             complex_err=_kernel("erfc_vml_cpu"))
Erfinv = unary("Erfinv", lambda xp, a: special(xp, "erfinv")(a),  # torch's formula reads the
               lambda ns, a, g: g * (_SQRT_PI / 2) * a.erfinv().square().exp(),  # input only
               complex_err=_kernel("erfinv_vml_cpu"))
def _lgamma(xp, a):
    """SciPy's and CuPy's gammaln give -inf at -inf; torch (as ndgrad's own code) gives inf."""
    r = special(xp, "lgamma")(a)
    return xp.where(xp.isneginf(a), xp.asarray(xp.inf, r.dtype), r) if a.dtype.kind == "f" else r


Lgamma = unary("Lgamma", lambda xp, a: _lgamma(xp, a),
               lambda ns, a, g: g * a.digamma(), complex_err=_kernel("lgamma_vml_cpu"))
Digamma = unary("Digamma", lambda xp, a: _digamma(xp, a), lambda ns, a, g: g * polygamma(1, a),
                complex_err=_kernel("digamma"))
Sinc = unary("Sinc", lambda xp, a: xp.sinc(a).astype(a.dtype, copy=False),  # 0-d: NumPy 1.x
             lambda ns, a, g: g * ns.c(_sinc_grad(a)))
Frac = unary("Frac", lambda xp, a: a - xp.trunc(a), lambda ns, a, g: g, saves=None,
             bool_err=_kernel("frac_cpu"), complex_err=_kernel("frac_cpu"))


def _sigmoid(xp, a):
    if a.dtype.kind == "c":  # astype: NumPy 1.x makes a 0-d complex64 with 1 complex128
        return (1 / (1 + xp.exp(-a))).astype(a.dtype, copy=False)
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
    return d.masked_fill(pa * a == 0, 0)  # torch's mask: also where pi * a * a underflows


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
    if isinstance(n, Tensor) and n.numel() == 1 and not n.is_floating_point():
        n = int(n.item())  # torch takes an integer 0-d tensor as the int
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if input.is_complex():
        raise not_implemented("polygamma", input.dtype)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _out(Polygamma.apply(input, n=n), out, "polygamma")


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
        return TENSORS.zeros_like(g)  # a constant, as torch: nan/inf gradients give 0

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
        if k in "bc":  # torch's kernel with decimals is round_cpu
            raise not_implemented("round_cpu" if decimals else "round_vml_cpu", a.dtype)
        if k in "iu":
            if decimals:
                raise not_implemented("round_cpu", a.dtype)
            return a.copy()
        return _compute(ctx.xp, lambda xp, x: xp.round(x, decimals), a)

    def backward(ctx, g):
        return TENSORS.zeros_like(g)  # a constant, as torch: nan/inf gradients give 0


class Sign(Op):
    __slots__ = ()

    def forward(ctx, a):
        k = a.dtype.kind
        if k == "c":
            raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex "
                                      "numbers. Please use torch.sgn instead.")
        return a.copy() if k == "b" else _sign(ctx.xp, a)

    def backward(ctx, g):
        return TENSORS.zeros_like(g)  # a constant, as torch: nan/inf gradients give 0


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
            return TENSORS.zeros_like(g)
        a, s = ctx.saved_tensors
        m = a.abs()
        # d(z/|z|): the part of g along the unit circle's tangent, divided by |z|
        out = (g - (g * s.conj()).real * s) / m
        return out.masked_fill(m == 0, 0)


def _unary_fn(cls, name):
    def fn(input, *, out=None):
        if out is not None:
            return _out(cls.apply_one(input), out, name, (input,))
        return cls.apply_one(input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Same as torch.{name}."
    return fn


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
    if _alias != "absolute":  # torch has Tensor.absolute_ but no torch.absolute_
        __all__.append(_alias + "_")
_abs_inplace = abs_  # noqa: F821  (made by _export above)


def abs_(input: Tensor) -> Tensor:
    """Same as torch.abs_: a complex tensor cannot hold its (real) absolute value."""
    if input.is_complex():
        raise RuntimeError("In-place abs is not supported for complex tensors.")
    return _abs_inplace(input)


absolute_ = abs_


def positive(input: Tensor) -> Tensor:
    """Same as torch.positive: the input itself."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


_export("positive", positive, inplace_too=False)


def _frac(input, *, out=None):
    if input.dtype._kind == 1:
        raise not_implemented("frac_cpu", input.dtype)
    return _out(Frac.apply(input), out, "frac")


_export("frac", _frac)


_RoundDecimals = Round.named("RoundBackward1")  # torch's node for round(decimals=)


def round(input: Tensor, *, decimals: int = 0, out=None) -> Tensor:
    """Same as torch.round (half to even)."""
    res = (_RoundDecimals if decimals else Round).apply(input, decimals=decimals)
    return _out(res, out, "round")


_export("round", round)
