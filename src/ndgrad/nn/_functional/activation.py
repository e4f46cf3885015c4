"""Activation functions: pointwise primitives (forward on arrays, backward on tensors), softmax."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import _dtype as D
from ..._ops._inplace import inplace
from ..._ops.elementwise import check_scalar_range, not_implemented
from ..._tensor import Tensor, tensor_method, wrap_dim
from ...autograd.function import Op
from ._utils import compute as _compute
from ._utils import named, torch_name, where

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_PI = math.sqrt(2 / math.pi)
_SIXTH_F32 = 0.1666666716337204  # torch's hardsigmoid backward uses the float constant 1.0f/6


class _Act(Op):
    """A pointwise activation with keyword parameters: ``f(xp, a, **kw)`` on arrays and
    ``df(a, g, **kw)`` on tensors (so it can be differentiated again)."""

    __slots__ = ()

    def forward(ctx, a, **kw):
        ctx.kw = kw
        if ctx.needs_input_grad[0]:
            ctx.save(a)
        f = type(ctx).f
        return _compute(ctx.xp, lambda xp, x: f(xp, x, **kw), a)

    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return type(ctx).df(a, g, **ctx.kw)


def _act(name: str, f, df):
    return type(name, (_Act,), {"__slots__": (), "f": staticmethod(f), "df": staticmethod(df)})


def _elu_f(xp, a, alpha, scale, input_scale, grad_scale=None):
    neg = (xp.exp(xp.minimum(a, 0) * input_scale) - 1) * (alpha * scale)
    return xp.where(a > 0, a * scale, neg).astype(a.dtype)


def _elu_df(a, g, alpha, scale, input_scale, grad_scale=None):
    gs = input_scale if grad_scale is None else grad_scale
    return where(a > 0, g * scale, g * ((alpha * scale * gs) * (a * gs).exp()))


def _gelu_f(xp, a, approximate):
    if approximate == "tanh":
        return (0.5 * a * (1 + xp.tanh(_SQRT_2_PI * (a + 0.044715 * a ** 3)))).astype(a.dtype)
    from ..._backend import special

    return (0.5 * a * (1 + special(xp, "erf")(a * (1 / math.sqrt(2))))).astype(a.dtype)


def _gelu_df(a, g, approximate):
    if approximate == "tanh":
        t = (_SQRT_2_PI * (a + 0.044715 * a ** 3)).tanh()
        return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * _SQRT_2_PI * (1 + 3 * 0.044715 * a * a))
    cdf = 0.5 * (1 + (a * (1 / math.sqrt(2))).erf())
    pdf = (-0.5 * a * a).exp() * (1 / math.sqrt(2 * math.pi))
    return g * (cdf + a * pdf)


def _softplus_f(xp, a, beta, threshold):
    z = a * beta
    return xp.where(z > threshold, a, xp.log1p(xp.exp(xp.minimum(z, threshold))) / beta
                    ).astype(a.dtype)


def _softplus_df(a, g, beta, threshold):
    z = a * beta
    return where(z > threshold, g, g * z.sigmoid())


def _mish_df(a, g):
    t = _softplus_forward(a).tanh()
    return g * (t + a * a.sigmoid() * (1 - t * t))


def _silu_df(a, g):
    s = a.sigmoid()
    return g * s * (1 + a * (1 - s))


def _sig_np(xp, a):
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e))


Hardtanh = _act("Hardtanh", lambda xp, a, lo, hi: xp.clip(a, lo, hi).astype(a.dtype, copy=False),
                lambda a, g, lo, hi: g * ((a > lo) & (a < hi)))
LeakyRelu = _act("LeakyRelu", lambda xp, a, slope: xp.where(a > 0, a, a * slope).astype(a.dtype),
                 lambda a, g, slope: where(a > 0, g, g * slope))
Elu = _act("Elu", _elu_f, _elu_df)
Celu = _act("Celu", _elu_f, _elu_df)
Gelu = _act("Gelu", _gelu_f, _gelu_df)
Silu = _act("Silu", lambda xp, a: (a * _sig_np(xp, a)).astype(a.dtype), _silu_df)
Mish = _act("Mish", lambda xp, a: (a * xp.tanh(_softplus_f(xp, a, 1, 20))).astype(a.dtype),
            _mish_df)
Hardsigmoid = _act("Hardsigmoid", lambda xp, a: (xp.clip(a + 3, 0, 6) / 6).astype(a.dtype),
                   lambda a, g: g * ((a > -3) & (a < 3)) * _SIXTH_F32)
Hardswish = _act("Hardswish", lambda xp, a: (a * xp.clip(a + 3, 0, 6) / 6).astype(a.dtype),
                 lambda a, g: where(a < -3, g * 0, where(a <= 3, g * (a / 3 + 0.5), g)))
Softplus = _act("Softplus", _softplus_f, _softplus_df)
Threshold = _act("Threshold", lambda xp, a, th, value: xp.where(a > th, a, value).astype(a.dtype),
                 lambda a, g, th, value: g * (a > th))


def _softplus_forward(a):
    return Softplus.apply(a, beta=1, threshold=20)


def _maybe_inplace(fn, input: Tensor, inplace_: bool, **kw) -> Tensor:
    return inplace(input, lambda t: fn(t, **kw)) if inplace_ else fn(input, **kw)


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
    return _maybe_inplace(lambda x, s: LeakyRelu.apply(x, slope=s), input, inplace,
                          s=negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, True)


def _elu(x, alpha, scale, input_scale, cls=Elu, grad_scale=None):
    return cls.apply(x, alpha=alpha, scale=scale, input_scale=input_scale, grad_scale=grad_scale)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_elu, input, inplace, alpha=alpha, scale=1.0, input_scale=1.0)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(_elu, input, inplace, alpha=_SELU_ALPHA, scale=_SELU_SCALE,
                          input_scale=1.0)


def selu_(input: Tensor) -> Tensor:
    return selu(input, True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    # torch's derivative formula uses 1 / alpha.toFloat(): alpha rounded to float32
    grad_scale = 1.0 / float(np.float32(alpha))
    return _maybe_inplace(_elu, input, inplace, alpha=alpha, scale=1.0, input_scale=1.0 / alpha,
                          cls=Celu, grad_scale=grad_scale)


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
                          th=threshold, v=value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return globals()["threshold"](input, threshold, value, True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    if weight.numel() != 1:
        if input.ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        c = input.shape[1] if input.ndim >= 2 else 1
        if weight.numel() != c:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {weight.numel()} and channel size = {c}.")
        if input.ndim >= 2:
            weight = weight.reshape((1, c) + (1,) * (input.ndim - 2))
    elif input.ndim > 0:
        weight = weight.reshape((1,) * input.ndim)
    else:
        weight = weight.reshape(())
    return named(where(input > 0, input, weight * input), "PreluKernelBackward0")


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    return named(-_softplus_forward(-input), "LogSigmoidBackward0")


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

    def forward(ctx, a, dim):
        ctx.dim = dim
        out = _compute(ctx.xp, lambda xp, x: _softmax_np(xp, x, dim), a) if a.size else a.copy()
        if ctx.needs_input_grad[0]:
            ctx.save(out)
        return out

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        gy = g * y
        return gy - y * gy.sum(ctx.dim, keepdim=True)

    def backward_raw(ctx, g):
        (y,) = ctx.saved_arrays
        if y.itemsize == 2:
            return NotImplemented  # half: the tensor ops' float32 rounding
        gy = g * y
        return gy - y * gy.sum(ctx.dim, keepdims=True)


class LogSoftmax(Op):
    __slots__ = ()

    def forward(ctx, a, dim):
        ctx.dim = dim
        out = _compute(ctx.xp, lambda xp, x: _log_softmax_np(xp, x, dim), a) if a.size \
            else a.copy()
        if ctx.needs_input_grad[0]:
            ctx.save(out)
        return out

    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g - y.exp() * g.sum(ctx.dim, keepdim=True)

    def backward_raw(ctx, g):
        (y,) = ctx.saved_arrays
        if y.itemsize == 2:
            return NotImplemented  # half: the tensor ops' float32 rounding
        return g - ctx.xp.exp(y) * g.sum(ctx.dim, keepdims=True)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(cls, input: Tensor, dim, dtype, name: str) -> Tensor:
    if dim is None:
        dim = _softmax_dim(name, input.ndim, 4)
    if dtype is not None:
        input = input.to(dtype)
    if not (input.is_floating_point() or input.is_complex()):
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for '
                                  f"'{torch_name(input)}'")
    d = wrap_dim(dim, input.ndim)
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
        input = input.to(dtype)
    return _softmax_like(Softmax, -input, dim, None, "softmax")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.narrow(d, 0, n // 2), input.narrow(d, n // 2, n // 2)
    return named(a * b.sigmoid(), "GluBackward0")


@tensor_method("softmax")
def _tensor_softmax(self, dim, dtype=None):
    return softmax(self, dim, dtype=dtype)


@tensor_method("log_softmax")
def _tensor_log_softmax(self, dim, dtype=None):
    return log_softmax(self, dim, dtype=dtype)
