"""torch.special's own functions as ndgrad ops: the kernels of this package behind torch's dtype
rules (ints and bools compute in the default float dtype, half precision in float32 where torch
has a half kernel, torch's error where it has none) and torch's derivatives, each written once
on tensors so that every order works."""

from __future__ import annotations

import math

from .._errors import not_implemented, not_tensor
from .. import _dtype as D
from .._grad_mode import no_grad
from .._tensor import Tensor
from .._ops._operands import (INT_TO_FLOAT, _as, _compute, _compute2, _is_half, _to_float, binary,
                              wrap)
from .._dtype import finfo
from .._ops._out import _out
from ..autograd.op import Op
from . import _bessel, _cephes, _gamma, _polynomials


def _need_tensor(name: str, x, arg: str = "input", pos: int = 1) -> None:
    if not isinstance(x, Tensor):
        raise not_tensor(name, x, arg, pos)


def _floating(a, kernel: str, half: bool):
    """The array a kernel computes on: torch's dtype checks, then ints and bools as floats."""
    if a.dtype.kind == "c" or (not half and _is_half(a)):
        raise not_implemented(kernel, a.dtype)
    return _to_float(a)


# --- differentiable unary primitives --------------------------------------------------------------
def _unary_op(name: str, kernel: str, fn, grad, half: bool = True, saves: str = "xy"):
    """A primitive ``fn(xp, a)`` whose derivative ``grad(x, y, g)`` is written on tensors (x the
    input, y the result). ``saves``: which of them torch's formula reads (None for the other),
    so a later in-place write raises torch's version error exactly where torch's does."""

    def forward(ctx, a):
        a = _floating(a, kernel, half)
        out = _compute(ctx.xp, fn, a)
        ctx.save(a if "x" in saves else None, out if "y" in saves else None)
        return out

    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return grad(x, y, g)

    return type(name, (Op,), {"forward": forward, "backward": backward, "__slots__": ()})


def _safe_small(x: Tensor):
    """torch's i1/i1e backward guard: |x| <= eps is replaced (the limit there is 0.5)."""
    eps = float(finfo(x._data.dtype).eps)
    big = x.abs() > eps
    return big, x.where(big, eps)


def _i1_grad(scaled):
    def grad(x, y, g):
        if _is_half(x._data):  # torch's backward kernels have no half-precision version
            raise not_implemented("i1e_backward" if scaled else "i1_backward", x.dtype)
        big, safe = _safe_small(x)
        if scaled:  # d i1e = i0e - i1e (sgn x + 1/x)
            d = i0e(safe) - y * (safe.sgn() + safe.reciprocal())
        else:  # d i1 = i0 - i1 / x
            d = i0(safe) - y * safe.reciprocal()
        return g * d.where(big, 0.5)

    return grad


_SQRT_2PI = math.sqrt(2 * math.pi)

I0 = _unary_op("I0", "i0_vml_cpu", _cephes.i0, lambda x, y, g: g * i1(x), saves="x")
SpecialI0E = _unary_op("SpecialI0E", "i0e_cpu", _cephes.i0e,
                       lambda x, y, g: g * (i1e(x) - x.sgn() * y))
SpecialI1 = _unary_op("SpecialI1", "i1_cpu", _cephes.i1, _i1_grad(False))
SpecialI1E = _unary_op("SpecialI1E", "i1e_cpu", _cephes.i1e, _i1_grad(True))
SpecialNdtri = _unary_op("SpecialNdtri", "ndtri_cpu", _cephes.ndtri,
                         lambda x, y, g: g * _SQRT_2PI * (y.square() / 2).exp(), half=False,
                         saves="y")
SpecialLogNdtr = _unary_op("SpecialLogNdtr", "log_ndtr_cpu", _cephes.log_ndtr,
                           lambda x, y, g: g / _SQRT_2PI * (y + x.pow(2) / 2).neg().exp(),
                           half=False)
SpecialErfcx = _unary_op("SpecialErfcx", "erfcx_cpu", _cephes.erfcx,
                         lambda x, y, g: (2.0 * x * y - 2.0 / math.sqrt(math.pi)) * g, half=False)
SpecialEntr = _unary_op("SpecialEntr", "entr_cpu", _cephes.entr,
                        lambda x, y, g: g * (-(1 + x.log())), saves="x")


def _unary_fn(cls, name: str, top: str | None = None):
    label = top or "special_" + name

    def fn(input: Tensor, *, out=None) -> Tensor:
        _need_tensor(label, input)
        return _out(cls.apply_one(input), out, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Same as torch.special.{name}."
    return fn


i0 = _unary_fn(I0, "i0", top="i0")
i0e = _unary_fn(SpecialI0E, "i0e")
i1 = _unary_fn(SpecialI1, "i1")
i1e = _unary_fn(SpecialI1E, "i1e")
ndtri = _unary_fn(SpecialNdtri, "ndtri")
log_ndtr = _unary_fn(SpecialLogNdtr, "log_ndtr")
erfcx = _unary_fn(SpecialErfcx, "erfcx")
entr = _unary_fn(SpecialEntr, "entr")


def ndtr(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.special.ndtr: (1 + erf(x / sqrt 2)) / 2, composed as torch composes it."""
    from .. import erf

    _need_tensor("special_ndtr", input)
    return _out((1 + erf(input * math.sqrt(0.5))) * 0.5, out, "special_ndtr")


# --- functions torch gives no derivative (their results never require grad) -----------------------
def _plain_unary(name: str, fn):
    def f(input: Tensor, *, out=None) -> Tensor:
        _need_tensor("special_" + name, input)
        a = _floating(input._data, name + "_cpu", half=False)
        return _out(wrap(fn(input._device.xp, a), input._device), out, name)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Same as torch.special.{name} (no derivative, as in torch)."
    return f


_PLAIN = ("airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
          "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
          "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0")
PLAIN_UNARY = {n: _plain_unary(n, getattr(_bessel, n)) for n in _PLAIN}


class _Polynomial(Op):
    """x and n promoted together (ints to the default float); no derivative, as in torch."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None, fn=None, name=""):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind == "c" or _is_half(a):
            raise not_implemented(name + "_cpu", a.dtype)
        return fn(ctx.xp, _to_float(a), _to_float(b))


INT_TO_FLOAT.add(_Polynomial)


def _polynomial(name: str):
    fn = getattr(_polynomials, name)

    def f(input, n, *, out=None) -> Tensor:
        _scalar_pair("special_" + name, input, n, ("x", "n"))
        with no_grad():
            res = binary(_Polynomial, input, n, fn=fn, name=name)
        return _out(res, out, name)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Same as torch.special.{name} (no derivative, as in torch)."
    return f


def _scalar_pair(name: str, a, b, args=("input", "other")) -> None:
    """torch's overloads (Tensor, Tensor), (Number, Tensor), (Tensor, Number)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return
    got = ", ".join(type(v).__name__ for v in (a, b))
    x, o = args
    first = "self" if args[0] == "input" else x
    raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but "
                    f"expected one of:\n * (Tensor {x}, Tensor {o}, *, Tensor out = None)\n"
                    f" * (Number {first}, Tensor {o}, *, Tensor out = None)\n"
                    f" * (Tensor {x}, Number {o}, *, Tensor out = None)\n")


POLYNOMIALS = {n: _polynomial(n) for n in (
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
    "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p")}


# --- binary primitives: xlog1py, zeta, gammainc/gammaincc -----------------------------------------
def _no_derivative(what: str):
    return NotImplementedError(f"the derivative for '{what}' is not implemented.")


class SpecialXlog1Py(Op):
    """x log1p(y), 0 where x == 0 (unless y is nan)."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind == "c":
            raise not_implemented("xlog1py_cpu", a.dtype)
        a, b = _to_float(a), _to_float(b)
        ctx.save(a, b)
        return _compute2(ctx.xp, _cephes.xlog1py, a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = xlog1py(g, b).masked_fill((a == 0) & (b <= -1), 0)
        if ctx.needs_input_grad[1]:
            gb = g * a / (b + 1)
        return ga, gb


class SpecialZeta(Op):
    """Hurwitz zeta(x, q); torch differentiates it in q only."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind == "c" or _is_half(a):
            raise not_implemented("zeta_cpu", a.dtype)
        a, b = _to_float(a), _to_float(b)
        ctx.save(a, b)
        return _gamma.zeta(ctx.xp, a, b)

    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise _no_derivative("zeta")
        a, b = ctx.saved_tensors
        return None, g * -a * zeta(a + 1.0, b)


INT_TO_FLOAT.update((SpecialXlog1Py, SpecialZeta))


def _igamma_op(name: str, upper: bool):
    """The regularized lower (upper) incomplete gamma: torch differentiates it in x only."""

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind not in "fV":
            raise not_implemented(name.lower() + "_cpu", a.dtype)
        ctx.save(a, b)
        return _compute2(ctx.xp, _gamma.gammaincc if upper else _gamma.gammainc, a, b)

    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise _no_derivative(name.lower() + ": input")
        a, b = ctx.saved_tensors
        from .. import lgamma

        d = ((a - 1) * b.log() - b - lgamma(a)).exp()  # x^(a-1) e^-x / Gamma(a)
        return None, (-g if upper else g) * d

    return type(name, (Op,), {"forward": forward, "backward": backward, "__slots__": ()})


Igamma = _igamma_op("Igamma", False)
Igammac = _igamma_op("Igammac", True)


def _rename(res: Tensor, a, b) -> Tensor:
    """torch numbers the scalar overloads' nodes: Backward1 for a Number first, 2 for second."""
    if res._grad_fn is not None and not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        res._grad_fn._name = res._grad_fn._name[:-1] + ("1" if isinstance(b, Tensor) else "2")
    return res


def xlog1py(input, other, *, out=None) -> Tensor:
    """Same as torch.special.xlog1py."""
    _scalar_pair("special_xlog1py", input, other)
    return _out(_rename(binary(SpecialXlog1Py, input, other), input, other), out, "xlog1py")


def zeta(input, other, *, out=None) -> Tensor:
    """Same as torch.special.zeta (the Hurwitz zeta function)."""
    _scalar_pair("special_zeta", input, other)
    return _out(_rename(binary(SpecialZeta, input, other), input, other), out, "zeta")


def _igamma_fn(cls, name: str):
    def f(input: Tensor, other: Tensor, *, out=None) -> Tensor:
        _need_tensor(name, input)
        _need_tensor(name, other, "other", 2)
        return _out(binary(cls, input, other), out, name)

    f.__name__ = f.__qualname__ = name.replace("special_", "")
    f.__doc__ = f"Same as torch.{name.replace('special_', 'special.')}."
    return f


gammainc, igamma = _igamma_fn(Igamma, "special_gammainc"), _igamma_fn(Igamma, "igamma")
gammaincc, igammac = _igamma_fn(Igammac, "special_gammaincc"), _igamma_fn(Igammac, "igammac")


# --- multigammaln ---------------------------------------------------------------------------------
class Mvlgamma(Op):
    """log of the multivariate gamma function: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)."""

    __slots__ = ()

    def forward(ctx, a, p):
        a = _to_float(a)
        ctx.p = p
        ctx.save(a)

        def f(xp, x):
            args = xp.arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=x.dtype) + x[..., None]
            return (_cephes.lgamma(xp, args).sum(-1) + p * (p - 1) * math.log(math.pi) * 0.25
                    ).astype(x.dtype)

        return _compute(ctx.xp, f, a)

    def backward(ctx, g):
        from .. import arange

        (x,) = ctx.saved_tensors
        p = ctx.p
        args = arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=x.dtype) + x.unsqueeze(-1)
        return g * args.digamma().sum(-1)


def multigammaln(input: Tensor, p: int, *, out=None) -> Tensor:
    """Same as torch.special.multigammaln (torch.mvlgamma)."""
    _need_tensor("special_multigammaln", input)
    return _out(mvlgamma(input, p), out, "multigammaln")


def mvlgamma(input: Tensor, p: int, *, out=None) -> Tensor:
    """Same as torch.mvlgamma."""
    _need_tensor("mvlgamma", input)
    if input.dtype is D.bool_:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if input.is_complex():  # torch's composite meets arange first
        raise not_implemented("arange_cpu", input.dtype)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return _out(Mvlgamma.apply_one(input, p), out, "mvlgamma")
