"""Number-theoretic and floating-point-format pointwise ops: gcd, lcm, frexp, ldexp, nextafter,
signbit, angle (the binary ones would sit in binary.py, which another engineer edits)."""

from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.op import Op
from ._inplace import inplace
from .binary import NoGrad
from ._operands import _as, binary, need_tensor
from .._errors import broadcast_error, not_implemented
from ._out import _out
from .linalg._common import return_type as _rt

__all__ = ["angle", "frexp", "gcd", "gcd_", "lcm", "lcm_", "ldexp", "ldexp_", "nextafter",
           "signbit"]


def _integral(kernel: str, numpy_fn: str):
    def f(xp, a, b):
        if a.dtype.kind not in "iu":
            raise not_implemented(kernel, a.dtype)
        return getattr(xp, numpy_fn)(a, b).astype(a.dtype)

    return f


_GCD, _LCM = _integral("gcd_cpu", "gcd"), _integral("lcm_cpu", "lcm")


def gcd(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Same as torch.gcd."""
    need_tensor("gcd", other)
    return _out(binary(NoGrad, input, other, fn=_GCD, name="gcd"), out, "gcd")


def lcm(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Same as torch.lcm."""
    need_tensor("lcm", other)
    return _out(binary(NoGrad, input, other, fn=_LCM, name="lcm"), out, "lcm")


def gcd_(input: Tensor, other: Tensor) -> Tensor:
    return inplace(input, gcd, other)


def lcm_(input: Tensor, other: Tensor) -> Tensor:
    return inplace(input, lcm, other)


# --- floating-point format ------------------------------------------------------------------------
def _f32(a):
    """Half precision through float32 (exact for frexp and nextafter's neighbours of halves)."""
    return a.astype("float32") if a.dtype.itemsize == 2 else a


class Frexp(Op):
    __slots__ = ()

    def forward(ctx, a):
        m, e = ctx.xp.frexp(_f32(a))
        e = e.astype("int32")
        ctx.save(e)
        return m.astype(a.dtype), e

    def formula(ctx, ns, saved, gm, ge):
        (e,) = saved
        return gm / 2.0 ** e  # d mantissa / dx = 2^-exponent (the exponent is piecewise constant)


_frexp_t = _rt("frexp", "mantissa exponent")


def frexp(input: Tensor, *, out=None):
    """Same as torch.frexp."""
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = Frexp.apply_one(input)
    if out is not None:
        _out(m, out[0], "frexp")
        _out(e, out[1], "frexp")
        return _frexp_t(*out)
    return _frexp_t(m, e)


class Ldexp(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, int_exp=False):
        # torch: a * pow(2, other), the power taken in other's own dtype when it is a float one
        if b.dtype.kind not in "fV":
            b = _as(b, dt)
        out = _as(a, dt) * _as(ctx.xp.exp2(_f32(b)).astype(b.dtype), dt)
        ctx.int_exp = int_exp
        ctx.save(b, out)
        return out

    def formula(ctx, ns, saved, g):
        b, y = saved
        p = 2.0 ** b
        if ctx.int_exp:  # torch takes pow(2, other) in other's integer dtype: 0 for other < 0
            p = ns.keep(b >= 0, p)
        return (g * ns.c(p) if ctx.needs_input_grad[0] else None,
                g * ns.c(y) * math.log(2) if ctx.needs_input_grad[1] else None)


def ldexp(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Same as torch.ldexp: input * 2 ** other."""
    need_tensor("ldexp", other)
    dt = D.result_type(input, other)
    if dt._kind < 2:
        dt = D.get_default_dtype()
    try:  # not binary(): other must reach forward in its own dtype
        res = Ldexp.apply(input, other, dt=dt, int_exp=other.dtype._kind < 2)
    except ValueError:
        broadcast_error(input, other)
        raise
    return _out(res, out, "ldexp")


def ldexp_(input: Tensor, other: Tensor) -> Tensor:
    return inplace(input, ldexp, other)


class Nextafter(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind != "f" and a.dtype.name != "bfloat16":
            raise not_implemented("nextafter_cpu", a.dtype)
        ctx.save(a, b)
        if a.dtype.name == "bfloat16":  # NumPy's nextafter lacks it: step the bits
            return _bf16_nextafter(ctx.xp, a, b)
        return ctx.xp.nextafter(a, b)

    def formula(ctx, ns, saved, g):
        a, b = saved
        return (ns.keep(a != b, g) if ctx.needs_input_grad[0] else None,
                g * 0 if ctx.needs_input_grad[1] else None)


def _bf16_nextafter(xp, a, b):
    bits = a.view("int16").astype("int32")
    up = (b > a) == (a >= 0)  # away from zero when moving up from a positive, down from a negative
    step = xp.where(up, 1, -1)
    nxt = xp.where(a == 0, xp.where(b > 0, 1, -32767), bits + step)  # 0 -> the smallest subnormal
    out = nxt.astype("int16").view(a.dtype)
    return xp.where(a == b, b, xp.where((a != a) | (b != b), a + b, out))


def nextafter(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Same as torch.nextafter."""
    need_tensor("nextafter", other)
    return _out(binary(Nextafter, input, other), out, "nextafter")


def nextafter_(input: Tensor, other: Tensor) -> Tensor:
    return inplace(input, nextafter, other)


def signbit(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.signbit."""
    a = input._data
    if a.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    xp = input._device.xp
    res = xp.signbit(_f32(a)) if a.dtype.kind in "fV" else a < 0 if a.dtype.kind == "i" else \
        xp.zeros(a.shape, bool)
    return _out(Tensor._make(xp.asarray(res), input._device), out, "signbit")


# --- angle ------------------------------------------------------------------------------------
class Angle(Op):
    __slots__ = ()

    def forward(ctx, a):
        xp = ctx.xp
        if a.dtype.kind == "c":
            ctx.save(a)
            return xp.angle(a)
        if a.dtype.kind in "biu":
            a = a.astype(D.get_default_dtype().np)
        # pi for negatives, 0 otherwise; nan stays nan
        zero = xp.where(a != a, a, xp.zeros((), a.dtype))
        return xp.where(a < 0, xp.asarray(math.pi, a.dtype), zero)

    def backward(ctx, g):
        if not ctx.saved:  # torch: zeros_like(self), no graph (nor g's nan/inf)
            return g.new_zeros(g.shape)
        (z,) = ctx.saved_tensors
        # torch's angle_backward: g * z / |z|^2 * i, 0 at z == 0
        res = g * z / (z.abs() ** 2) * 1j
        return res.masked_fill(z == 0, 0)


def angle(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.angle."""
    return _out(Angle.apply_one(input), out, "angle")


