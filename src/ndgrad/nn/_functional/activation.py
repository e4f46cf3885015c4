"""Activation functions: pointwise primitives (forward on arrays, backward on tensors), softmax."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import _dtype as D
from ..._ops._inplace import inplace
from ..._errors import no_derivative, not_implemented
from ..._dtype import check_scalar_range
from ..._tensor import Tensor, wrap_dim
from ...amp._state import lower as _autocast
from ...amp._state import state as _autocast_state
from ...autograd.op import Op
from ._gelu import gelu_forward, gelu_grad, gelu_parts
from ._utils import compute as _compute
from ._utils import is_half, scalar_node, torch_name, where
from ..._ops._layout import contiguous_result

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_PI = math.sqrt(2 / math.pi)  # torch's kBeta for gelu's tanh form
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)  # and for the erf form
_KAPPA = 0.044715
_SIXTH_F32 = 0.1666666716337204  # torch's hardsigmoid backward uses the float constant 1.0f/6


def _quiet():
    """Both branches of a where are computed: an overflow in the discarded one is no error."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore")


# --- pointwise activations ----------------------------------------------------------------------
class _Act(Op):
    """A pointwise activation: ``f(xp, x, **kw)`` forward on arrays. Its backward is torch's
    ``<act>_backward`` kernel, ``Grad.d``, once on arrays: straight in the first-order pass, and
    as a node of its own (``Grad``) when recording, so its derivative is torch's formula."""

    __slots__ = ()
    Grad: type  # the _ActGrad subclass
    inplace_error = None  # set on the node of an in-place call torch cannot differentiate

    def forward(ctx, a, **kw):
        ctx.kw = kw
        f = type(ctx).f
        out = _compute(ctx.xp, lambda xp, x: f(xp, x, **kw), a)
        out = out if out.dtype == a.dtype else out.astype(a.dtype)  # NumPy 1.x's 0-d promotion
        if ctx.needs_input_grad[0]:
            # an in-place call torch differentiates through its result (EluBackward1...) keeps
            # the result too: a later write to it raises as torch's does
            ctx.save(a, out) if _SAVES_RESULT[0] else ctx.save(a)
        return out

    def backward(ctx, g):
        if ctx.inplace_error:
            raise RuntimeError(ctx.inplace_error)
        a = ctx.saved_tensors[0]
        return type(ctx).Grad.apply(g, a, **ctx.kw)

    def backward_raw(ctx, g):
        if ctx.inplace_error:
            raise RuntimeError(ctx.inplace_error)
        a = ctx.saved_arrays[0]
        return _kernel(ctx.xp, type(ctx).Grad.d, a, g, ctx.kw)


_SAVES_RESULT = [False]  # set while an in-place call whose torch node saves its result runs
_RESULT_NODES = {"EluBackward1", "CeluBackward1", "LeakyReluBackward1", "RreluWithNoiseBackward1"}


def _kernel(xp, d, a, g, kw):
    """``d(xp, a, g, **kw)``, half precision computed in float32 as torch does on CPU."""
    with _quiet():
        if is_half(a.dtype):
            return d(xp, a.astype(xp.float32), g.astype(xp.float32), **kw).astype(a.dtype)
        return d(xp, a, g, **kw).astype(a.dtype, copy=False)


class _ActGrad(Op):
    """torch's ``<act>_backward(grad, self)`` as a node: ``d(xp, x, g, **kw)`` on arrays. It is
    linear in g (its own derivative there); in x its derivative is ``dd(x, g, gg, **kw)`` on
    tensors, torch's double-backward formula (None: zero, as for the piecewise-linear ones)."""

    __slots__ = ()
    dd = None

    def forward(ctx, g, a, **kw):
        ctx.kw = kw
        ctx.save(g, a)
        return _kernel(ctx.xp, type(ctx).d, a, g, kw)

    def backward(ctx, gg):
        g, a = ctx.saved_tensors
        cls, need = type(ctx), ctx.needs_input_grad
        ggo = cls.apply(gg, a, **ctx.kw) if need[0] else None
        ga = None
        if need[1]:
            ga = cls.dd(a, g, gg, **ctx.kw) if cls.dd is not None else _zeros(a)
        return ggo, ga


def _zeros(a: Tensor) -> Tensor:
    return Tensor._make(a._device.xp.zeros(a._data.shape, a._data.dtype), a._device)


def _act(name: str, f, d, dd=None, grad=None):
    """An activation primitive ``name`` (torch's node <name>Backward0) and its backward node
    (<name>BackwardBackward0), unless it shares ``grad`` with another (celu's is elu's)."""
    if grad is None:
        grad = type(name + "Backward", (_ActGrad,), {
            "__slots__": (), "d": staticmethod(d), "dd": None if dd is None else staticmethod(dd),
            "_node_name": name + "BackwardBackward0"})
    return type(name, (_Act,), {"__slots__": (), "f": staticmethod(f), "Grad": grad})


def _mask(cond: Tensor, like: Tensor) -> Tensor:
    """torch's ``cond.type_as(grad)``: multiplying by it turns an inf into nan, as there."""
    return cond.to(like.dtype)


def _elu_f(xp, a, alpha, scale, input_scale, grad_scale=None):
    with _quiet():  # expm1 of the positive side overflows unseen
        return xp.where(a > 0, a * scale, xp.expm1(a * input_scale) * (alpha * scale))


def _elu_d(xp, a, g, alpha, scale, input_scale, grad_scale=None):
    gs = input_scale if grad_scale is None else grad_scale  # celu: 1 / float32(alpha), as torch
    # torch's x <= 0 ? ... : ...: a nan input passes g * scale (its scalar kernel; the one
    # vectorised over 16+ elements gives nan there)
    with _quiet():
        return xp.where(a <= 0, g * gs * (alpha * scale) * xp.exp(a * gs), g * scale)


def _elu_dd(a, g, gg, alpha, scale, input_scale, grad_scale=None):
    # torch's elu_double_backward: elu_backward of gg * g * input_scale, on the negative side only
    # (so 0 at the kink, where the first derivative jumps)
    gs = input_scale if grad_scale is None else grad_scale
    kw = dict(alpha=alpha, scale=scale, input_scale=input_scale, grad_scale=grad_scale)
    return Elu.Grad.apply(gg * g * gs, a, **kw) * _mask(a < 0, gg)


def _gelu_f(xp, a, approximate):
    if approximate == "tanh":
        return 0.5 * a * (1 + xp.tanh(_SQRT_2_PI * (a + _KAPPA * a ** 3)))
    return a * gelu_parts(xp, a)[0]


def _gelu_d(xp, a, g, approximate, parts=None):
    """torch's gelu_backward; ``parts``: (Phi(a), exp(-a^2 / 2)) if the forward kept them."""
    if approximate == "tanh":
        x_sq = a * a
        t = xp.tanh(_SQRT_2_PI * (a + _KAPPA * x_sq * a))
        right = 0.5 * a * (1 - t * t) * (_SQRT_2_PI * (1 + 3 * _KAPPA * x_sq))
        return g * (0.5 * (1 + t) + right)
    return gelu_grad(xp, a, g, gelu_parts(xp, a) if parts is None else parts)


def _gelu_dd(a, g, gg, approximate):
    """torch's gelu_double_backward."""
    if approximate == "tanh":
        inner = _SQRT_2_PI * (a + _KAPPA * a ** 3)
        t = inner.tanh()
        sech = 1 / inner.cosh()
        f = 0.5 * a
        d_tanh = 1 - t * t
        h = _SQRT_2_PI * (1 + 3 * _KAPPA * a * a)
        f_prime_gh = 0.5 * d_tanh * h
        g_prime_fh = f * h * ((2 * sech) * (-sech * t) * h)
        h_prime_fg = f * d_tanh * (6 * _KAPPA * a * _SQRT_2_PI)
        return gg * g * (f_prime_gh + f_prime_gh + g_prime_fh + h_prime_fg)
    a_sq = a * a
    pdf = _INV_SQRT_2PI * (-0.5 * a_sq).exp()
    return gg * g * (2 * pdf - a_sq * pdf)


def _softplus_f(xp, a, beta, threshold):
    z = a * beta
    with _quiet():
        return xp.where(z > threshold, a, xp.log1p(xp.exp(z)) / beta)


def _softplus_d(xp, a, g, beta, threshold):
    z = a * beta
    with _quiet():
        e = xp.exp(z)
        return xp.where(z > threshold, g, g * e / (e + 1))


def _softplus_dd(a, g, gg, beta, threshold):
    # torch's softplus_double_backward: sigmoid_backward(gg * g, sigmoid(beta x)) below threshold
    z = a * beta
    y = z.sigmoid()
    return gg * g * (1 - y) * y * _mask(z < threshold, gg) * beta


def _logsigmoid_f(xp, a):
    return xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))


def _logsigmoid_d(xp, a, g):
    z = xp.exp(-xp.abs(a))
    s = z / (1 + z)
    return xp.where(a < 0, 1 - s, s) * g


def _logsigmoid_dd(a, g, gg):
    z = a.sigmoid()
    return gg * g * (z - 1) * z


def _hardswish_d(xp, a, g):
    # torch's scalar kernel: 0 up to -3, the slope below 3, else g (a nan input included)
    return xp.where(a <= -3, 0, xp.where(a < 3, g * (a / 3 + 0.5), g))


def _hardswish_dd(a, g, gg):
    zero = gg.new_zeros(())
    return where((a > -3) & (a < 3), gg * g / 3, zero)


Hardtanh = _act("Hardtanh", lambda xp, a, lo, hi: xp.clip(a, lo, hi),
                lambda xp, a, g, lo, hi: xp.where((a > lo) & (a < hi), g, 0))
LeakyRelu = _act("LeakyRelu", lambda xp, a, slope: xp.where(a > 0, a, a * slope),
                 lambda xp, a, g, slope: xp.where(a > 0, g, g * slope))
Elu = _act("Elu", _elu_f, _elu_d, _elu_dd)
Celu = _act("Celu", _elu_f, None, grad=Elu.Grad)  # torch differentiates celu with elu_backward


class Gelu(_act("Gelu", _gelu_f, _gelu_d, _gelu_dd)):
    """The erf form keeps Phi(x) and exp(-x^2 / 2) from the forward for the first-order
    backward (torch keeps x only and recomputes both: they are the costly part here)."""

    __slots__ = ()

    def forward(ctx, a, approximate):
        ctx.kw = {"approximate": approximate}
        ctx.parts = None
        if approximate == "tanh" or a.dtype.kind != "f" or is_half(a.dtype):
            return _Act.forward(ctx, a, approximate=approximate)
        out, parts = gelu_forward(ctx.xp, a)
        if ctx.needs_input_grad[0]:
            ctx.save(a)
            ctx.parts = parts
        return out

    def backward_raw(ctx, g):
        if ctx.parts is None:
            return _Act.backward_raw(ctx, g)
        (a,) = ctx.saved_arrays
        return _gelu_d(ctx.xp, a, g, "none", ctx.parts)


Hardswish = _act("Hardswish", lambda xp, a: a * xp.clip(a + 3, 0, 6) / 6, _hardswish_d,
                 _hardswish_dd)
Softplus = _act("Softplus", _softplus_f, _softplus_d, _softplus_dd)
LogSigmoid = _act("LogSigmoid", _logsigmoid_f, _logsigmoid_d, _logsigmoid_dd)
Threshold = _act("Threshold", lambda xp, a, th, value: xp.where(a <= th, value, a),
                 lambda xp, a, g, th, value: xp.where(a <= th, 0, g))


def _shrunk(a, lambd):
    return (a >= -lambd) & (a <= lambd)


def _kept(a, lambd):  # the backward's test: a nan input takes no gradient
    return (a < -lambd) | (a > lambd)


Hardshrink = _act("Hardshrink", lambda xp, a, lambd: xp.where(_shrunk(a, lambd), 0, a),
                  lambda xp, a, g, lambd: xp.where(_kept(a, lambd), g, 0))
# softshrink: x - l above l, x + l below -l, x * 0 between (torch's -0.0 for negative x there)
Softshrink = _act("Softshrink", lambda xp, a, lambd: xp.where(
    a > lambd, a - lambd, xp.where(a < -lambd, a + lambd, a * 0)),
    lambda xp, a, g, lambd: xp.where(_kept(a, lambd), g, 0))
# rrelu: the slope is the noise drawn per element in training (1 where x > 0), else the mean slope
# (torch differentiates with the mean slope when upper - lower is under 1e-6, noise or not)
RreluWithNoise = _act("RreluWithNoise",
                      lambda xp, a, noise, slope, by_noise: a * noise if noise is not None
                      else xp.where(a > 0, a, a * slope),
                      lambda xp, a, g, noise, slope, by_noise: g * noise if by_noise
                      else xp.where(a > 0, g, g * slope))


class _HardsigmoidGrad(_ActGrad):
    """torch has no derivative for hardsigmoid_backward: its node raises when reached."""

    __slots__ = ()
    _node_name = "torch::autograd::NotImplemented"
    d = staticmethod(lambda xp, a, g: xp.where((a > -3) & (a < 3), g * _SIXTH_F32, 0))

    def backward(ctx, gg):
        raise no_derivative("hardsigmoid_backward")


Hardsigmoid = _act("Hardsigmoid", lambda xp, a: xp.clip(a + 3, 0, 6) / 6, None,
                   grad=_HardsigmoidGrad)


# silu and mish: torch differentiates a recorded composite when grad mode is on, its kernel when
# it is off; both are this one formula (on tensors, or on arrays in the first-order pass)
def _silu_grad(x, g, s):
    """silu'(x) g from the sigmoid s of x."""
    return g * s * (1 + x * (1 - s))


def _mish_grad(x, g, s, t):
    """mish'(x) g from the sigmoid s of x and t = tanh(softplus(x))."""
    return g * (t + x * s * (1 - t * t))


def _sig_np(xp, a):
    e = xp.exp(-xp.abs(a))  # astype: NumPy 1.x makes where() of 0-d float32 values float64
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


def _tanh_softplus_np(xp, a):
    with _quiet():
        return xp.tanh(xp.log1p(xp.exp(a)))


class Silu(Op):
    __slots__ = ()

    def forward(ctx, a):
        if ctx.needs_input_grad[0]:
            ctx.save(a)
        return _compute(ctx.xp, lambda xp, x: x * _sig_np(xp, x), a)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()  # torch's composite: grad * s * (1.0 + x * (1.0 - s)), op for op
        return g * s * scalar_node(x * (1 - s) + 1, "AddBackward1")

    def backward_raw(ctx, g):
        (x,) = ctx.saved_arrays
        return _kernel(ctx.xp, lambda xp, x, g: _silu_grad(x, g, _sig_np(xp, x)), x, g, {})


class Mish(Op):
    __slots__ = ()

    def forward(ctx, a):
        if ctx.needs_input_grad[0]:
            ctx.save(a)
        return _compute(ctx.xp, lambda xp, x: x * _tanh_softplus_np(xp, x), a)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _mish_grad(x, g, x.sigmoid(), x.exp().log1p().tanh())

    def backward_raw(ctx, g):
        (x,) = ctx.saved_arrays
        return _kernel(ctx.xp, lambda xp, x, g: _mish_grad(
            x, g, _sig_np(xp, x), _tanh_softplus_np(xp, x)), x, g, {})


def _softplus_forward(a):
    return Softplus.apply(a, beta=1, threshold=20)


class PreluKernel(Op):
    """where(x > 0, x, w x) with ``w`` broadcast to x (torch's _prelu_kernel)."""

    __slots__ = ()

    def forward(ctx, x, w):
        ctx.save(x, w)
        return ctx.xp.where(x > 0, x, w * x).astype(x.dtype, copy=False)

    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_w = ctx.needs_input_grad[1]
        res = PreluKernelBackward.apply(g, x, w, need_w=need_w)
        return res if need_w else (res, None)

    def backward_raw(ctx, g):
        x, w = ctx.saved_arrays
        return _prelu_grads(ctx.xp, g, x, w, ctx.needs_input_grad[1])


def _prelu_grads(xp, g, x, w, need_w):
    """torch's _prelu_kernel_backward: the input's and the (unreduced) weight's gradients."""
    pos = x > 0
    gx = xp.where(pos, g, w * g).astype(x.dtype, copy=False)
    return (gx, xp.where(pos, 0, x * g).astype(x.dtype, copy=False)) if need_w else (gx, None)


class PreluKernelBackward(Op):
    """_prelu_kernel_backward as a node, with torch's derivative (which splits at x >= 0).
    Without ``need_w`` it has the one output, the input's gradient."""

    __slots__ = ()
    _node_name = "PreluKernelBackwardBackward0"

    def forward(ctx, g, x, w, need_w):
        ctx.save(g, x, w)
        gx, gw = _prelu_grads(ctx.xp, g, x, w, need_w)
        return (gx, gw) if need_w else gx

    def backward(ctx, ggx, ggw=None):
        g, x, w = ctx.saved_tensors
        pos = x >= 0
        zero = g.new_zeros(())
        need = ctx.needs_input_grad
        if ggw is None:
            return where(pos, ggx, ggx * w) if need[0] else None, _zeros(x), None
        return (where(pos, ggx, ggx * w + ggw * x) if need[0] else None,
                where(pos, zero, g * ggw) if need[1] else None,
                where(pos, zero, g * ggx) if need[2] else None)


class Glu(Op):
    """a * sigmoid(b) for the halves a, b of ``dim``."""

    __slots__ = ()

    def forward(ctx, x, dim):
        a, b = ctx.xp.split(x, 2, axis=dim)
        ctx.dim = dim
        ctx.save(x)
        return _compute(ctx.xp, lambda xp, a: a * _sig_np(xp, b.astype(a.dtype)), a)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return GluBackward.apply(g, x, dim=ctx.dim)

    def backward_raw(ctx, g):
        (x,) = ctx.saved_arrays
        return _glu_backward(ctx.xp, g, x, ctx.dim)


def _glu_backward(xp, g, x, dim):
    if is_half(x.dtype):
        return _glu_backward(xp, g.astype(xp.float32), x.astype(xp.float32), dim).astype(x.dtype)
    a, b = xp.split(x, 2, axis=dim)
    return xp.concatenate(_glu_grads(a, g, _sig_np(xp, b)), axis=dim)


class GluBackward(Op):
    """glu_backward as a node, with torch's glu_double_backward formulas."""

    __slots__ = ()
    _node_name = "GluBackwardBackward0"

    def forward(ctx, g, x, dim):
        ctx.dim = dim
        ctx.save(g, x)
        return _glu_backward(ctx.xp, g, x, dim)

    def backward(ctx, gg):
        from ... import cat

        g, x = ctx.saved_tensors
        dim, need = ctx.dim, ctx.needs_input_grad
        a, b = x.chunk(2, dim)
        gga, ggb = gg.chunk(2, dim)
        s = b.sigmoid()
        one_s = 1 - s
        sos = s * one_s
        dg = dx = None
        if need[0]:  # glu_double_backward_grad_output: gg through glu_backward's slopes
            dg = gga * s + ggb * (sos * a)
        if need[1]:
            second = sos * one_s - s * sos
            dx = cat([ggb * g * sos, ggb * a * g * second + gga * g * sos], dim)
        return dg, dx


def _glu_grads(a, g, s):
    """glu's gradients for its halves, from the sigmoid s of the second (torch's glu_backward)."""
    gs = g * s
    return gs, gs * a * (1 - s)


def _maybe_inplace(fn, input: Tensor, inplace_: bool, node: str | None = None,
                   error: str | None = None, **kw) -> Tensor:
    """``fn(input)``, or written into ``input``; torch names some in-place nodes apart (``node``:
    EluBackward1) and cannot differentiate some of them (``error``, raised by backward)."""
    if not inplace_:
        return fn(input, **kw)
    _SAVES_RESULT[0] = node in _RESULT_NODES
    try:
        out = inplace(input, lambda t: fn(t, **kw))
    finally:
        _SAVES_RESULT[0] = False
    if node is not None and out._grad_fn is not None:
        out._grad_fn._name = node
        if error:
            out._grad_fn.inplace_error = error
    return out


_NEG_SLOPE = ("In-place {} backward calculation is triggered with a negative slope which is not "
              "supported. This is caused by calling in-place forward function with a negative "
              "slope, please call out-of-place version instead.")


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else input.relu()


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def _scalar_for(input: Tensor, v):
    """A scalar argument as torch converts it to an integer or half input's dtype: range-checked
    (c10's checked conversion), then cast (a negative int wraps into an unsigned type)."""
    dt = input.dtype
    if dt is D.float32 or dt is D.float64 or dt is D.bool_:
        return v
    check_scalar_range(v, dt)
    return np.asarray(v).astype(dt.np).item() if dt._kind == 1 else v


def _hardtanh(x, lo, hi):
    return Hardtanh.apply(x, lo=lo, hi=hi)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input.dtype._kind == 1 and input.dtype.name.startswith("u") and min(min_val, max_val) < 0:
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    min_val, max_val = _scalar_for(input, min_val), _scalar_for(input, max_val)
    return _maybe_inplace(_hardtanh, input, inplace, lo=min_val, hi=max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    if input.dtype._kind in (0, 1):
        raise not_implemented("leaky_relu_cpu", input.dtype)
    err = None if negative_slope >= 0 else _NEG_SLOPE.format("leakyReLu") + (
        " File an issue at https://github.com/pytorch/pytorch if you do require supporting "
        "in-place leakRelu backward calculation with negative slope")
    return _maybe_inplace(lambda x, s: LeakyRelu.apply(x, slope=s), input, inplace,
                          "LeakyReluBackward1", err, s=negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


def _elu(x, alpha, scale, input_scale, cls=Elu, grad_scale=None):
    return cls.apply(x, alpha=alpha, scale=scale, input_scale=input_scale, grad_scale=grad_scale)


def _elu_error(alpha):
    return None if alpha >= 0 else _NEG_SLOPE.format("elu")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_elu, input, inplace, "EluBackward1", _elu_error(alpha), alpha=alpha,
                          scale=1.0, input_scale=1.0)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_elu, input, inplace, "EluBackward1", alpha=_SELU_ALPHA,
                          scale=_SELU_SCALE, input_scale=1.0)


def selu_(input: Tensor) -> Tensor:
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    # torch's derivative formula uses 1 / alpha.toFloat(): alpha rounded to float32
    grad_scale = 1.0 / float(np.float32(alpha))
    return _maybe_inplace(_elu, input, inplace, "CeluBackward1", _elu_error(alpha), alpha=alpha,
                          scale=1.0, input_scale=1.0 / alpha, cls=Celu, grad_scale=grad_scale)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, True)


def gelu(input: Tensor, *, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(lambda x: Silu.apply(x), input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(lambda x: Mish.apply(x), input, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(lambda x: Hardsigmoid.apply(x), input, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(lambda x: Hardswish.apply(x), input, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(input, beta=beta, threshold=threshold)


def softsign(input: Tensor) -> Tensor:
    return input / (input.abs() + 1)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    threshold, value = _scalar_for(input, threshold), _scalar_for(input, value)
    return _maybe_inplace(lambda x, th, v: Threshold.apply(x, th=th, value=v), input, inplace,
                          "ThresholdBackward1", th=threshold, v=value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return globals()["threshold"](input, threshold, value, True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    if _autocast_state.on:  # torch.autocast: in the region's lower precision
        input, weight = _autocast(input, weight)
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {torch_name(input)} and "
                           f"{torch_name(weight)}")
    if weight.numel() != 1:
        if input.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = input.shape[1] if input.ndim >= 2 else 1
        if weight.numel() != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {weight.numel()} and channel size = {c}.")
        if input.ndim >= 2:
            weight = weight.reshape((1, c) + (1,) * (input.ndim - 2))
    elif tuple(weight.shape) != (1,) * input.ndim:
        weight = weight.reshape((1,) * input.ndim)
    return PreluKernel.apply(input, weight)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    return Hardshrink.apply(input, lambd=lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    if lambd < 0:
        dt = input.dtype
        top = float(D.finfo(dt.np).max) if dt.is_floating_point else float(2 ** 63 - 1)
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype "
                           f"{torch_name(input)}, but found {lambd:g}")
    return Softshrink.apply(input, lambd=lambd)


def tanhshrink(input: Tensor) -> Tensor:
    return input - input.tanh()


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Same as torch.nn.functional.rrelu; in training, the slopes are drawn as torch's CPU
    kernel draws them (one double uniform per element <= 0, in order)."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    noise = None
    if training:
        from ..._random import _fma64
        from ...random import default_generator

        a = input._data
        neg = (a <= 0).reshape(-1)
        eng = default_generator._engine
        r = _fma64(eng._unit_double(int(neg.sum())), upper - lower, lower)  # torch's, contracted
        opmath = np.float64 if a.dtype == np.float64 else np.float32
        xp = input._device.xp  # the host's draws, placed on the input's device
        noise = xp.ones(a.size, opmath)
        noise[neg] = xp.asarray(r.astype(opmath))
        noise = noise.reshape(a.shape)
    by_noise = training and float(np.float32(upper)) - float(np.float32(lower)) > 1e-6
    return _maybe_inplace(lambda x: RreluWithNoise.apply(x, noise=noise, by_noise=by_noise,
                                                         slope=(lower + upper) / 2),
                          input, inplace, "RreluWithNoiseBackward1")


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, True)


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    return LogSigmoid.apply(input)


# --- softmax family -----------------------------------------------------------------------------
def _softmax_np(xp, x, axis):
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _log_softmax_np(xp, x, axis):
    s = x - x.max(axis=axis, keepdims=True)  # max-shift: exp never overflows
    s -= xp.log(xp.exp(s).sum(axis=axis, keepdims=True))
    return s


class Softmax(Op):
    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, dim):
        ctx.dim = dim
        out = _compute(ctx.xp, lambda xp, x: _softmax_np(xp, x, dim), a) if a.size else a.copy()
        if ctx.needs_input_grad[0]:
            ctx.save(out)
        return out

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return SoftmaxBackwardData.apply(g, y, dim=ctx.dim)

    def backward_raw(ctx, g):
        (y,) = ctx.saved_arrays
        return _softmax_grad(ctx.xp, g, y, ctx.dim)


class LogSoftmax(Op):
    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, dim):
        ctx.dim = dim
        out = _compute(ctx.xp, lambda xp, x: _log_softmax_np(xp, x, dim), a) if a.size \
            else a.copy()
        if ctx.needs_input_grad[0]:
            ctx.save(out)
        return out

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return LogSoftmaxBackwardData.apply(g, y, dim=ctx.dim)

    def backward_raw(ctx, g):
        (y,) = ctx.saved_arrays
        return _log_softmax_grad(ctx.xp, g, y, ctx.dim)


def _softmax_grad(xp, g, y, dim):
    """torch's _softmax_backward_data: g y - y sum(g y) (half in float32, rounded once)."""
    if is_half(y.dtype):
        return _softmax_grad(xp, g.astype(xp.float32), y.astype(xp.float32), dim).astype(y.dtype)
    gy = g * y
    return gy - y * gy.sum(dim, keepdims=True)


def _log_softmax_grad(xp, g, y, dim):
    """torch's _log_softmax_backward_data: g - exp(y) sum(g)."""
    if is_half(y.dtype):
        return _log_softmax_grad(xp, g.astype(xp.float32), y.astype(xp.float32),
                                 dim).astype(y.dtype)
    return g - xp.exp(y) * g.sum(dim, keepdims=True)


def _sum_keep(t: Tensor, dim) -> Tensor:
    return t.sum() if dim is None else t.sum(dim, keepdim=True)


class SoftmaxBackwardData(Op):
    """_softmax_backward_data as a node: linear in g; in the saved output y torch's
    softmax_double_backward (the graph goes on through y's own node)."""

    __slots__ = ()
    _node_name = "SoftmaxBackwardDataBackward0"

    def forward(ctx, g, y, dim):
        ctx.dim = dim
        ctx.save(g, y)
        return _softmax_grad(ctx.xp, g, y, dim)

    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        dim, need = ctx.dim, ctx.needs_input_grad
        dg = SoftmaxBackwardData.apply(gg, y, dim=dim) if need[0] else None
        dy = None
        if need[1]:
            dy = g * gg - _sum_keep(y * g, dim) * gg - g * _sum_keep(y * gg, dim)
        return dg, dy


class LogSoftmaxBackwardData(Op):
    """_log_softmax_backward_data as a node, with torch's derivatives in g and in y."""

    __slots__ = ()
    _node_name = "LogSoftmaxBackwardDataBackward0"

    def forward(ctx, g, y, dim):
        ctx.dim = dim
        ctx.save(g, y)
        return _log_softmax_grad(ctx.xp, g, y, dim)

    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        dim, need = ctx.dim, ctx.needs_input_grad
        e = y.exp()
        dg = gg - _sum_keep(gg * e, dim) if need[0] else None
        dy = -_sum_keep(g, dim) * e * gg if need[1] else None
        return dg, dy


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(cls, input: Tensor, dim, dtype, name: str) -> Tensor:
    if dim is None:
        dim = _softmax_dim(name, input.ndim, 4)
    if dtype is not None:
        input = input.to(dtype=dtype)  # (a str is no device here)
    d = wrap_dim(dim, input.ndim)
    if not input.is_floating_point():  # (complex too: torch has no complex kernel)
        last = "lastdim_" if d >= input.ndim - 1 else ""
        raise not_implemented(f"{name}_{last}kernel_impl", input.dtype)
    return cls.apply_one(input, d if input.ndim else None)  # 0-d: over its one element


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    return _softmax_like(Softmax, input, dim, dtype, "softmax")


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    return _softmax_like(LogSoftmax, input, dim, dtype, "log_softmax")


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim, 3)
    if dtype is not None:
        input = input.to(dtype=dtype)
    return _softmax_like(Softmax, -input, dim, None, "softmax")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    return Glu.apply(input, dim=d)


def _tensor_softmax(self, dim, dtype=None):
    return softmax(self, dim, dtype=dtype)


def _tensor_log_softmax(self, dim, dtype=None):
    return log_softmax(self, dim, dtype=dtype)
