"""Binary pointwise primitives beyond arithmetic: maximum/minimum/fmax/fmin, atan2, hypot,
xlogy, logaddexp(2), copysign, heaviside, bit shifts."""

from __future__ import annotations

from .._backend import errstate
from .._tensor import Tensor
from ..autograd.op import Op
from ._operands import INT_TO_FLOAT, _as, _c, _compute2, _to_float, binary, need_tensor
from ._export import export
from ._out import _out
from .._errors import no_derivative, not_implemented

__all__: list[str] = []


def _export(name: str, f, **kw) -> None:
    export(globals(), name, f, **kw)


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
        # masked_fill, not g * mask, as torch: a nan/inf gradient stays out of the losing side,
        # and a nan input takes the whole gradient on both sides
        if fn in ("maximum", "minimum"):
            h = g.where(a != b, g * 0.5)
            second = (a < b) if fn == "maximum" else (a > b)
            return h.masked_fill(second, 0), h.masked_fill(first, 0)
        w = first | (a == b) | b.isnan()
        return g.masked_fill(~w, 0), g.masked_fill(w, 0)


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
        # torch's atan2_backward: g * (b, -a) / (a^2 + b^2), the reciprocal 0 where that is 0
        a, b = ctx.saved_tensors
        d = a * a + b * b
        recip = d.reciprocal().masked_fill(d == 0, 0)
        need = ctx.needs_input_grad
        return g * b * recip if need[0] else None, g * -a * recip if need[1] else None


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
            with errstate(xp, all="ignore"):
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
        # torch's: d/da log(e^a + e^b) = g / (1 + e^(b - a)) (2^(b - a) for logaddexp2), so
        # its second derivative at infinities is torch's too
        need = ctx.needs_input_grad
        if ctx.base2:
            return (g / _c(1 + 2 ** (b - a)) if need[0] else None,
                    g / _c(1 + 2 ** (a - b)) if need[1] else None)
        return (g / _c(1 + (b - a).exp()) if need[0] else None,
                g / _c(1 + (a - b).exp()) if need[1] else None)


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
        gb = None
        if ctx.needs_input_grad[1]:  # torch's zeros_like(other): no graph, no inf * 0
            shape, dt = ctx.in_meta[1]
            gb = Tensor._make(g._device.xp.zeros(shape, dt), g._device)
        return g * ratio if ctx.needs_input_grad[0] else None, gb


INT_TO_FLOAT.update((Atan2, Xlogy, Copysign))


class NoGrad(Op):
    """Ops whose result carries no derivative in torch; calling backward raises, as there."""

    __slots__ = ()
    _node_name = "torch::autograd::NotImplemented"

    def forward(ctx, a, b, dt=None, fn=None, name=None):
        ctx.fname = name
        return fn(ctx.xp, _as(a, dt), _as(b, dt))

    def backward(ctx, *g):
        raise no_derivative(ctx.fname)


def _binary_fn(cls, name, *, scalars=False, rename=None, **fixed):
    node = None if rename is None else cls.named(rename)  # torch's node for this function

    def fn(input, other, *, out=None):
        if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
            need_tensor(name, input, "input", 1)
            if not scalars:
                need_tensor(name, other)
        res = binary(cls, input, other, node=node, **fixed)
        return res if out is None else _out(res, out, name)

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
    node = Xlogy.named("XlogyBackward0" if isinstance(input, Tensor) and isinstance(
        other, Tensor) else "XlogyBackward1" if isinstance(other, Tensor) else "XlogyBackward2")
    return _out(binary(Xlogy, input, other, node=node), out, "xlogy")


def heaviside(input: Tensor, values: Tensor, *, out=None) -> Tensor:
    """Same as torch.heaviside."""
    need_tensor("heaviside", values, "values")
    if input.is_complex() or values.is_complex():
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")

    def f(xp, a, v):
        return xp.where(a == 0, v, (a > 0).astype(a.dtype)).astype(a.dtype)

    return _out(binary(NoGrad, input, values, fn=f, name="heaviside"), out, "heaviside")


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

for _name in ("maximum", "minimum", "fmax", "fmin", "atan2", "hypot", "logaddexp", "logaddexp2",
              "copysign", "xlogy", "heaviside", "bitwise_left_shift", "bitwise_right_shift"):
    _export(_name, globals()[_name])
_export("arctan2", atan2, inplace_too=False)
_export("arctan2_", atan2_, inplace_too=False)  # noqa: F821  (made by _export)
