"""Normalisation layers: layer, batch and group norm are one node each, as torch's
native_*_norm (edges: input, weight, bias), whose backward is the closed-form gradient written once
for arrays (the first-order pass, from the forward's statistics) and tensors (recording: the
statistics recomputed from the input, so the second derivative is exact); instance norm is
batch norm over a view, as in torch."""

from __future__ import annotations

import math

import numpy as np

from ..._errors import dtype_mismatch
from ..._grad_mode import no_grad
from ..._parallel import pieces, run, worth
from ..._tensor import Tensor
from ..._trace import array_of, derived
from ...autograd.op import Op
from ._utils import is_half
from ..._ops._layout import contiguous_result


def _edge_gemv(a, dims):
    """The sums of C-contiguous float32/64 ``a`` over its trailing (or leading) ``dims`` as one
    matrix-vector product with ones: BLAS is ~3x faster than NumPy's reduction over the last
    axis. None where that does not apply."""
    n = a.ndim
    if not (a.dtype.kind == "f" and a.itemsize >= 4 and a.flags.c_contiguous and dims and a.size
            and isinstance(a, np.ndarray)):
        return None
    if dims == tuple(range(n - len(dims), n)):
        k = math.prod(a.shape[n - len(dims):])
        return (a.reshape(-1, k) @ np.ones(k, a.dtype)).reshape(a.shape[:n - len(dims)])
    if dims == tuple(range(len(dims))):
        k = math.prod(a.shape[:len(dims)])
        return (np.ones(k, a.dtype) @ a.reshape(k, -1)).reshape(a.shape[len(dims):])
    return None


class _ArrayNS:
    @staticmethod
    def mean(a, dims):
        s = _edge_gemv(a, dims)
        if s is None:
            return a.mean(axis=dims, keepdims=True)
        s *= 1 / math.prod(a.shape[d] for d in dims)
        return s.reshape([1 if i in dims else m for i, m in enumerate(a.shape)])

    @staticmethod
    def sum(a, dims):
        s = _edge_gemv(a, dims)
        return a.sum(axis=dims) if s is None else s


class _TensorNS:
    mean = staticmethod(lambda a, dims: a.mean(dims, keepdim=True))
    sum = staticmethod(lambda a, dims: a.sum(dims))


def _stats(ns, xr, dims):
    """Mean, x - mean and biased variance over ``dims``, kept as size-1 dims."""
    mean = ns.mean(xr, dims)
    d = xr - mean
    return mean, d, ns.mean(d * d, dims)


def _norm_grads(ns, need, g, xhat_r, rstd, w, k):
    """Gradients of x-hat * w + b, x-hat = (x - mean) * rstd seen as ``xhat_r`` (statistics over
    k.dims), for x, w and b (w and b viewed as k.wview); ``k.train``: mean and rstd depend on
    x."""
    gy = g if w is None else g * w.reshape(k.wview)
    gx = gw = gb = None
    if need[0]:
        gyr = gy.reshape(xhat_r.shape)
        if k.train:
            gyr = gyr - ns.mean(gyr, k.dims) - xhat_r * ns.mean(gyr * xhat_r, k.dims)
        gx = (gyr * rstd).reshape(k.xshape)
    if need[1]:
        gw = g * xhat_r.reshape(k.xshape)
        gw = (ns.sum(gw, k.waxes) if k.waxes else gw).reshape(k.wshape)
    if need[2]:
        gb = (ns.sum(g, k.waxes) if k.waxes else g).reshape(k.bshape)
    return gx, gw, gb


class _Layout:
    """Where a norm takes its statistics and applies its affine parameters."""

    __slots__ = ("rshape", "dims", "wview", "waxes", "xshape", "wshape", "bshape", "train",
                 "eps")

    def __init__(self, x, w, b, rshape, dims, wview, waxes, train, eps):
        self.rshape, self.dims, self.wview, self.waxes = rshape, dims, wview, waxes
        self.xshape, self.train, self.eps = x.shape, train, eps
        self.wshape = None if w is None else w.shape
        self.bshape = None if b is None else b.shape


class _Norm(Op):
    """(x - mean) * rstd * w + b, the statistics over ``layout.dims`` of x viewed as
    ``layout.rshape``; ``given``: eval batch norm's (running mean, running var) instead."""

    __slots__ = ()

    def forward(ctx, x, w, b, layout, given=None, stats=None):
        xp = ctx.xp
        xf = x.astype(xp.float32) if is_half(x.dtype) else x  # torch's opmath for half
        xr = xf.reshape(layout.rshape)
        with np.errstate(invalid="ignore", divide="ignore"):  # an empty batch's stats are nan
            if given is None:
                mean, xhat, var = _stats(_ArrayNS, xr, layout.dims)
            else:
                (mean, var), xhat = given, xr - given[0]
            if stats is not None:  # for the running statistics
                stats.append((mean, var))
            rstd = (var + layout.eps) ** -0.5
            xhat *= rstd  # (x - mean) * rstd, in place
        xhat = xhat.reshape(x.shape)
        out = xhat
        if w is not None:
            out = out * w.reshape(layout.wview)
        if b is not None:
            out = out + b.reshape(layout.wview) if out is xhat else _iadd(out, b, layout)
        ctx.layout, ctx.mean, ctx.rstd = layout, mean, rstd
        # x-hat for the first-order backward, unless it is the output (which may change)
        ctx.xhat = xhat if out is not xhat and True in ctx.needs_input_grad else None
        ctx.save(x, w)
        return out.astype(x.dtype, copy=False)

    def backward(ctx, g):
        x, w = ctx.saved_tensors
        k = ctx.layout
        if is_half(x._data.dtype):  # computed in float32, as the forward
            x, g, w = x.float(), g.float(), None if w is None else w.float()
        xr = x.reshape(k.rshape)
        if k.train:
            mean, d, var = _stats(_TensorNS, xr, k.dims)
            rstd = (var + k.eps) ** -0.5
        else:
            mean, rstd = (Tensor._make(a, g._device) for a in (ctx.mean, ctx.rstd))
            d = xr - mean
        return _norm_grads(_TensorNS, ctx.needs_input_grad, g, d * rstd, rstd, w, k)

    def backward_raw(ctx, g):
        x, w = ctx.saved_arrays
        k, xp = ctx.layout, ctx.xp
        if is_half(x.dtype):
            x, g = x.astype(xp.float32), g.astype(xp.float32)
            w = None if w is None else w.astype(xp.float32)
        xhat = ctx.xhat
        xhat = (x.reshape(k.rshape) - ctx.mean) * ctx.rstd if xhat is None else \
            xhat.reshape(k.rshape)
        return _norm_grads(_ArrayNS, ctx.needs_input_grad, g, xhat, ctx.rstd, w, k)


def _running_stats(mean, var, c: int, n: int, dt):
    """The batch's per-channel mean and unbiased variance, in the input's dtype."""
    return mean.reshape(c).astype(dt), (var.reshape(c) * (n / (n - 1))).astype(dt)


def _iadd(out, b, layout):
    """out += b (viewed as the weight's layout) where the dtypes allow it in place."""
    b = b.reshape(layout.wview)
    if out.dtype != b.dtype:
        return out + b
    out += b
    return out


class NativeLayerNorm(_Norm):
    """Its common case (NumPy, float32/64, C-contiguous, parameters of the input's dtype) runs
    on the rows of x: the generic path's operations and rounding (the sums by BLAS with ones),
    without its per-call layout work (~1/3 of a 512x128 layer norm's time)."""

    __slots__ = ()

    @contiguous_result
    def forward(ctx, x, w, b, layout, given=None, stats=None):
        ctx.rows = None
        if not _rows_ok(x, w, b):
            return _Norm.forward(ctx, x, w, b, layout, given, stats)
        c = math.prod(layout.rshape[len(layout.waxes):])
        x2 = x.reshape(-1, c)
        w1 = None if w is None else w.reshape(c)
        b1 = None if b is None else b.reshape(c)
        if worth(x.size, 8) and type(x) is np.ndarray:  # rows in pieces on the threads
            n = len(x2)
            mean, rstd = np.empty(n, x.dtype), np.empty(n, x.dtype)
            d = np.empty_like(x2)
            out = d if w is None and b is None else np.empty_like(x2)

            def piece(lo, hi):
                mean[lo:hi], rstd[lo:hi], _, _ = _rows_forward(
                    x2[lo:hi], w1, b1, layout.eps, d[lo:hi], out[lo:hi])

            run(piece, pieces(n, 8 * c, 8, x))
        else:
            mean, rstd, d, out = _rows_forward(x2, w1, b1, layout.eps)
        keep = x.shape[:len(layout.waxes)] + (1,) * len(layout.dims)
        ctx.layout, ctx.mean, ctx.rstd = layout, mean.reshape(keep), rstd.reshape(keep)
        # x-hat for the first-order backward, unless it is the output (which may change)
        ctx.xhat = d if out is not d and True in ctx.needs_input_grad else None
        ctx.rows = (mean, rstd)
        ctx.save(x, w)
        return out.reshape(x.shape)

    def backward_raw(ctx, g):
        if ctx.rows is None or not g.flags.c_contiguous or g.dtype != ctx.rstd.dtype:
            return _Norm.backward_raw(ctx, g)
        x, w = ctx.saved_arrays
        mean, rstd = ctx.rows
        need, k = ctx.needs_input_grad, ctx.layout
        c = rstd.size and x.size // rstd.size
        g2 = g.reshape(-1, c)
        xhat = ctx.xhat
        if xhat is None:
            xhat = x.reshape(-1, c) - mean[:, None]
            xhat *= rstd[:, None]
        else:
            xhat = xhat.reshape(-1, c)
        gb = None
        w1 = None if w is None else w.reshape(c)
        sums = need[1] and bool(k.waxes)  # w's gradient: g * x-hat, summed over the rows below
        if worth(g.size, 9) and type(g) is np.ndarray:  # rows in pieces on the threads
            gx = np.empty_like(g2) if need[0] else None
            gw = np.empty_like(g2) if sums else None
            run(lambda lo, hi: _rows_backward(
                g2[lo:hi], xhat[lo:hi], rstd[lo:hi], w1, need[0], sums,
                None if gx is None else gx[lo:hi], None if gw is None else gw[lo:hi]),
                pieces(len(g2), 9 * c, 8, g))
        else:
            gx, gw = _rows_backward(g2, xhat, rstd, w1, need[0], sums)
        if gx is not None:
            gx = gx.reshape(x.shape)
        rows = _ones(len(g2), g.dtype) if k.waxes else None  # (1-d x: no sum, as the generic)
        if need[1]:
            gw = (g2 * xhat if rows is None else rows @ gw).reshape(k.wshape)
        if need[2]:
            gb = (g2 if rows is None else rows @ g2).reshape(k.bshape)
        return gx, gw, gb


def _rows_forward(x, w, b, eps, d=None, out=None):
    """Layer norm of the rows of ``x`` (the generic path's operations): (mean, rstd, x-hat,
    output), x-hat written into ``d`` and the output into ``out`` where given (the output is
    x-hat itself without parameters)."""
    c = x.shape[1]
    ones = _ones(c, x.dtype)
    mean = x @ ones
    mean *= 1 / c
    d = np.subtract(x, mean[:, None], out=d)
    var = (d * d) @ ones
    var *= 1 / c
    with np.errstate(invalid="ignore", divide="ignore"):
        rstd = (var + eps) ** -0.5
    d *= rstd[:, None]
    if w is not None:
        out = np.multiply(d, w, out=out)
        if b is not None:
            out += b
    else:
        out = d if b is None else np.add(d, b, out=out)
    return mean, rstd, d, out


def _rows_backward(g, xhat, rstd, w, need_x, need_w, gx=None, gw=None):
    """Layer norm's gradients on rows: (x's, g * x-hat: w's before the sum over rows), each
    where needed (written into ``gx``, ``gw`` where given)."""
    if need_x:
        c = g.shape[1]
        ones = _ones(c, g.dtype)
        gy = g if w is None else g * w
        m1 = gy @ ones
        m1 *= 1 / c
        m2 = (gy * xhat) @ ones
        m2 *= 1 / c
        gx = np.subtract(gy, m1[:, None], out=gx)
        gx -= xhat * m2[:, None]
        gx *= rstd[:, None]
    if need_w:
        gw = np.multiply(g, xhat, out=gw)
    return gx, gw


_ONES: dict = {}


def _ones(n: int, dtype):
    """A vector of n ones (BLAS's row and column sums), made once per size and dtype."""
    v = _ONES.get((n, dtype))
    if v is None:
        if len(_ONES) > 64:
            _ONES.clear()
        v = _ONES[n, dtype] = np.ones(n, dtype)
        v.flags.writeable = False
    return v


def _rows_ok(x, w, b) -> bool:
    """The layer norm's rows path applies: NumPy float32/64, C-contiguous, rows (a 1-d input's
    statistics come out 0-d in the generic path, which NumPy 1.x rounds otherwise), not empty,
    the parameters of x's dtype."""
    return (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.itemsize >= 4 and x.ndim > 1
            and x.size > 0 and x.flags.c_contiguous and (w is None or w.dtype == x.dtype)
            and (b is None or b.dtype == x.dtype))


class NativeBatchNorm(_Norm):
    __slots__ = ()


class NativeGroupNorm(_Norm):
    __slots__ = ()


NativeGroupNorm.forward = contiguous_result(_Norm.forward)


def _affine(y: Tensor, weight, bias, shape) -> Tensor:
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    c = input.shape[1] if input.ndim > 1 else 1
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    _check_params(input, weight, bias, running_mean, running_var)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.requires_grad:
            from ..._grad_mode import is_grad_enabled

            if is_grad_enabled():
                raise RuntimeError(f"The function 'native_batch_norm' is not differentiable "
                                   f"with respect to argument '{name}'. This input cannot have "
                                   "requires_grad True.")
    if training:
        per_channel = input.numel() // c if c else 0
        if per_channel == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        if per_channel == 0:  # an empty batch passes through, the running stats untouched
            return _affine(input, weight, bias, shape)
        stats: list = []
        layout = _Layout(input._data, _data(weight), _data(bias), input.shape, dims, shape, dims,
                         True, eps)
        out = NativeBatchNorm.apply(input, weight, bias, layout=layout, stats=stats)
        if running_mean is not None or running_var is not None:
            # (derived: recorded for ndgrad.compile's replays, as the forward's side results)
            mean, var = derived(_running_stats, *stats[0], c, per_channel, input._data.dtype)
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(
                        Tensor._make(mean, input._device) * momentum)
                if running_var is not None:
                    running_var.mul_(1 - momentum).add_(
                        Tensor._make(var, input._device) * momentum)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    xp = input._device.xp
    given = tuple(xp.asarray(array_of(t).reshape(shape), dtype=xp.float32 if is_half(t._data.dtype)
                             else t._data.dtype) for t in (running_mean, running_var))
    layout = _Layout(input._data, _data(weight), _data(bias), input.shape, dims, shape, dims,
                     False, eps)
    return NativeBatchNorm.apply(input, weight, bias, layout=layout, given=given)


def _data(t):
    return None if t is None else t._data


def _check_params(input: Tensor, *params) -> None:
    """torch's CPU dtype rules for norm parameters: all the input's dtype, or (mixed) all
    float32 for a float32 or half-precision input."""
    given = [p for p in params if p is not None]
    if not given:
        return
    dt = input.dtype
    if given[0].dtype is not dt:
        if dt.name not in ("float32", "float16", "bfloat16"):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        if any(p.dtype.name != "float32" for p in given):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        return
    for p in given:
        if p.dtype is not dt:
            raise dtype_mismatch(input.dtype, p.dtype)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Same as torch.nn.functional.instance_norm: batch norm of the input viewed as one sample of
    N * C channels (the affine parameters and running statistics repeated N times)."""
    n, c = input.shape[:2]
    shape = (1, n * c) + tuple(input.shape[2:])

    def rep(t):
        return None if t is None else t.repeat(n)

    rm, rv = rep(running_mean), rep(running_var)
    out = batch_norm(input.contiguous().view(shape), rm, rv, rep(weight), rep(bias),
                     use_input_stats, momentum, eps)
    with no_grad():
        if running_mean is not None:
            running_mean.copy_(rm.view(n, c).mean(0))
        if running_var is not None:
            running_var.copy_(rv.view(n, c).mean(0))
    return out.view(input.shape)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if not k:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    if tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but got "
                               f"{what} of shape {list(p.shape)} and normalized_shape = "
                               f"{list(shape)}")
    _check_params(input, weight, bias)
    lead = input.ndim - k
    layout = _Layout(input._data, _data(weight), _data(bias), input.shape,
                     tuple(range(lead, input.ndim)), shape, tuple(range(lead)), True, eps)
    return NativeLayerNorm.apply(input, weight, bias, layout=layout)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.shape[:2]
    size = [n * c // num_groups, num_groups, *input.shape[2:]]  # torch's _verify_batch_size
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{size}")
    if c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p.ndim != 1 or p.shape[0] != c):
            raise RuntimeError(f"Expected {what} to be a vector of size equal to the number of "
                               f"channels in input, but got {what} of shape {list(p.shape)} and "
                               f"input of shape {list(input.shape)}")
    _check_params(input, weight, bias)
    rshape = (n, num_groups, c // num_groups * math.prod(input.shape[2:]))
    shape = (1, c) + (1,) * (input.ndim - 2)
    waxes = (0,) + tuple(range(2, input.ndim))
    layout = _Layout(input._data, _data(weight), _data(bias), rshape, (2,), shape, waxes, True,
                     eps)
    return NativeGroupNorm.apply(input, weight, bias, layout=layout)
