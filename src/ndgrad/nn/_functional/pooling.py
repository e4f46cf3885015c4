"""Pooling on strided window views: max pooling gathers at argmax indices (whose gradient
scatters back), or, over tiling windows without indices asked for, keeps each window's local
argmax (``MaxPool2DTiles``); average pooling sums windows and spreads back with ``Fold``; 1-D
pooling is 2-D pooling of an unsqueezed input, as in torch."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..._errors import dim_out_of_range
from ..._tensor import Tensor
from ..._trace import array_of, derived
from ..._errors import no_dims_error
from ...autograd.op import Op
from ...autograd.torch_saves import saves
from ._im2col import col2im
from ._utils import is_half, ntuple
from .conv import windows
from ..._ops._layout import contiguous_result


class MaxPool2DWithIndices(Op):
    """x (N, C, *S) or unbatched (C, *S), idx (N, C, *out) flat spatial indices -> x at those
    indices (max pooling's gather)."""

    __slots__ = ()

    def forward(ctx, x, idx):
        batched = x.ndim == idx.ndim
        x = x if batched else x[None]
        n, c = x.shape[:2]
        ctx.size, ctx.idx = x.shape[2:], idx
        flat = x.reshape(n, c, math.prod(ctx.size))  # explicit: -1 fails on an empty batch
        out = ctx.xp.take_along_axis(flat, idx.reshape(n, c, math.prod(idx.shape[2:])),
                                     axis=2).reshape(idx.shape)
        return out if batched else out[0]

    def backward(ctx, g):
        return MaxPool2DWithIndicesBackward.apply(g, idx=ctx.idx, size=ctx.size)

    def backward_raw(ctx, g):
        return _scatter(ctx.xp, g, ctx.idx, ctx.size)


class MaxPool2DWithIndicesBackward(Op):
    """The adjoint of the gather: g summed into zeros of spatial size ``size`` at ``idx``; its own
    derivative in g gathers again (torch's max_pool_double_backward)."""

    __slots__ = ()
    _node_name = "MaxPool2DWithIndicesBackwardBackward0"

    def forward(ctx, g, idx, size):
        ctx.idx = idx
        return _scatter(ctx.xp, g, idx, size)

    def backward(ctx, g):
        return MaxPool2DWithIndices.apply(g, idx=ctx.idx)


def _scatter(xp, g, idx, size):
    if g.ndim != idx.ndim:  # unbatched
        return _scatter(xp, g[None], idx, size)[0]
    n, c = g.shape[:2]
    s = math.prod(size)
    # bincount over (row, index) pairs: a vectorised scatter-add that handles repeats
    rows = xp.arange(n * c).reshape(n, c, *(1,) * (idx.ndim - 2)) * s
    w = g.astype(xp.float64) if g.dtype.kind == "V" or g.dtype.itemsize < 4 else g
    out = xp.bincount((rows + idx).ravel(), weights=w.ravel(), minlength=n * c * s)
    return out.astype(g.dtype).reshape((n, c) + tuple(size))


def _pool_geometry(size, k, s, p, d, ceil_mode):
    """Output sizes and the right padding that makes ceil_mode's last windows exist."""
    outs, pads = [], []
    for n, ki, si, pi, di in zip(size, k, s, p, d):
        span = di * (ki - 1) + 1
        num = n + 2 * pi - span
        o = (-(-num // si) if ceil_mode else num // si) + 1
        if ceil_mode and (o - 1) * si >= n + pi:  # the last window must start inside the input
            o -= 1
        outs.append(o)
        pads.append((pi, max(pi, (o - 1) * si + span - n - pi)))
    return tuple(outs), tuple(pads)


def _check_pool(name, nd, input, k, s, p, d):
    shape = input.shape
    if name == "avg_pool2d" and input.ndim < 3:  # torch reads size(-3) first
        raise no_dims_error(-3) if not shape else dim_out_of_range(-3, input.ndim)
    if input.ndim not in (nd + 1, nd + 2) and name != "avg_pool2d":
        raise RuntimeError(f"{name}: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(shape)}" if nd == 1 else
                           "non-empty 3D or 4D (batch mode) tensor expected for input")
    if input.ndim not in (nd + 1, nd + 2) or not all(shape[-nd - 1:]):
        # only the batch dim may be empty; avg_pool1d is avg_pool2d on an unsqueezed input
        what = "max_pool1d: Expected 2D or 3D" if name == "max_pool1d" else "Expected 3D or 4D"
        got = shape[:-1] + (1, shape[-1]) if name == "avg_pool1d" else shape
        raise RuntimeError(f"{what} (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got:{list(got)}")
    for ki, pi, di in zip(k, p, d):
        if pi > ki // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pi}, kernel_size={ki} and dilation={di}")
    for si in s:
        if si <= 0:
            raise RuntimeError("stride should be greater than zero")


class MaxPool2DTiles(Op):
    """max_pool2d over windows that tile the input (stride = kernel, no padding, no indices
    asked for): the kh*kw window offsets are split once into contiguous planes, then a running
    maximum keeps each window's local argmax (a small int); the backward writes g at that offset
    with one multiply per offset. No flat indices, gather or scatter: 4-8x fewer microseconds
    than the indexed path on LeNet's pools (measured)."""

    __slots__ = ()
    _node_name = "MaxPool2DWithIndicesBackward0"

    def forward(ctx, x, k, outs):
        xp = ctx.xp
        (kh, kw), (ho, wo) = k, outs
        x4 = x if x.ndim == 4 else x[None]
        n, c = x4.shape[:2]
        ctx.geom = (x.shape, k, outs)
        tiles = x4[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)
        planes = xp.ascontiguousarray(tiles.transpose(3, 5, 0, 1, 2, 4))
        planes = planes.reshape(kh * kw, n, c, ho, wo)
        best = planes[0].copy()
        arg = xp.zeros(best.shape, xp.int8 if kh * kw < 128 else xp.int32)
        step = xp.empty_like(arg)
        for j in range(1, kh * kw):
            # only a strictly greater later value wins: ties keep the first (torch's rule); as
            # j grows, the winner's offset is the largest j that won
            xp.multiply(xp.greater(planes[j], best), arg.dtype.type(j), out=step)
            xp.maximum(arg, step, out=arg)
            xp.maximum(best, planes[j], out=best)
        # NaN: torch's scan, exactly (on a GPU always: looking for one would read the device)
        if best.dtype.kind == "f" and (xp is not np or xp.isnan(best).any()):
            arg = _first_nan_arg(xp, planes, arg.dtype)
        ctx.arg = arg
        return best if x.ndim == 4 else best[0]

    def backward(ctx, g):
        shape, k, outs = ctx.geom
        idx = _tile_flat_indices(ctx.xp, ctx.arg, k, outs, shape[-1])
        return MaxPool2DWithIndicesBackward.apply(g, idx=idx, size=shape[-2:])

    def backward_raw(ctx, g):
        xp = ctx.xp
        shape, (kh, kw), (ho, wo) = ctx.geom
        g4 = g if g.ndim == 4 else g[None]
        n, c, H, W = g4.shape[:2] + shape[-2:]
        whole = H == ho * kh and W == wo * kw
        gx = (xp.empty if whole else xp.zeros)((n, c, H, W), g.dtype)
        tiles = gx[:, :, :ho * kh, :wo * kw].reshape(n, c, ho, kh, wo, kw)
        for j in range(kh * kw):
            xp.multiply(ctx.arg == j, g4, out=tiles[:, :, :, j // kw, :, j % kw])
        return gx if g.ndim == 4 else gx[0]



def _first_nan_arg(xp, planes, dtype):
    """The window argmax by torch's scan when NaNs are present (a NaN wins, the first NaN stays)."""
    best, arg = planes[0].copy(), xp.zeros(planes.shape[1:], dtype)
    for j in range(1, len(planes)):
        wins = _later_wins(xp, planes[j], best)
        arg = xp.where(wins, dtype.type(j), arg)
        best = xp.where(wins, planes[j], best)
    return arg


def _tile_flat_indices(xp, arg, k, outs, width):
    """Flat spatial indices (torch's) of the window-local argmaxes of MaxPool2DTiles."""
    (kh, kw), (ho, wo) = k, outs
    r, q = xp.divmod(arg.astype(xp.int64), kw)
    return (r + (xp.arange(ho) * kh).reshape(ho, 1)) * width + q + xp.arange(wo) * kw


def _max_pool_indices(xp, x, k, s, pads, d, outs):
    """Flat input index of each window's first maximum (torch's tie rule; NaN wins), as int64.
    A running max over the kernel offsets: strided views only, no (windows x kernel) copy."""
    if len(k) == 2 and k == s and d == (1, 1) and not any(lo or hi for lo, hi in pads):
        idx = _tile_indices(xp, x, k, outs)
        if idx is not None:
            return idx
    if x.dtype.kind in "iub":  # integers: a padding value below every input's, never a max
        x = x.astype(xp.int64)
    low = -xp.inf if x.dtype.kind in "fcV" else xp.iinfo(xp.int64).min
    v = windows(xp, x, k, s, pads, d, value=low)
    nd = len(k)
    v = v[(slice(None), slice(None)) + tuple(slice(0, o) for o in outs)]
    best = arg = None
    for j, offs in enumerate(itertools.product(*(range(ki) for ki in k))):
        cand = v[(...,) + offs]
        if best is None:
            best, arg = cand.copy(), xp.zeros(cand.shape, dtype=xp.int64)
            continue
        better = (cand > best) | (xp.isnan(cand) & ~xp.isnan(best))
        best = xp.where(better, cand, best)
        arg[better] = j
    # (not unravel_index: NumPy 2.4's gives wrong values for an index array of over 8192
    # elements that is not 1-D; pooling's windows are (N, C, *out))
    offs = [None] * nd
    for j in reversed(range(nd)):
        arg, offs[j] = xp.divmod(arg, k[j])
    idx = 0
    for j, (o, si, (lo, _), di) in enumerate(zip(outs, s, pads, d)):
        pos = xp.arange(o).reshape((o,) + (1,) * (nd - 1 - j)) * si - lo + offs[j] * di
        idx = idx * x.shape[2 + j] + pos
    return idx.astype(xp.int64)


def _tile_indices(xp, x, k, outs):
    """_max_pool_indices for windows that tile the input (stride = kernel, no padding, the
    usual 2x2 pooling): the maximum along each window's rows first (long unit-stride passes),
    then across its rows: half the time of the running max over kernel offsets (measured)."""
    (kh, kw), (ho, wo) = k, outs
    n, c, H, W = x.shape
    v = x[:, :, :ho * kh, :wo * kw].reshape(n, c, ho * kh, wo, kw)
    best, col = v[..., 0].copy(), xp.zeros((n, c, ho * kh, wo), xp.int8)
    for b in range(1, kw):
        cand = v[..., b]
        col = xp.where(_later_wins(xp, cand, best), xp.int8(b), col)
        xp.maximum(best, cand, out=best)  # keeps a NaN, as the rule below does
    rows, cols = best.reshape(n, c, ho, kh, wo), col.reshape(n, c, ho, kh, wo)
    top, row, arg = rows[:, :, :, 0].copy(), xp.zeros((n, c, ho, wo), xp.int8), cols[:, :, :, 0]
    for a in range(1, kh):
        cand = rows[:, :, :, a]
        better = _later_wins(xp, cand, top)
        row = xp.where(better, xp.int8(a), row)
        arg = xp.where(better, cols[:, :, :, a], arg)
        xp.maximum(top, cand, out=top)
    idx = row.astype(xp.int64)  # (NumPy 1.x would keep int8 * a small int64 scalar in int8)
    idx *= W
    idx += arg
    idx += (xp.arange(ho) * (kh * W)).reshape(ho, 1) + xp.arange(wo) * kw
    return idx


def _later_wins(xp, cand, best):
    """torch's scan: a later value wins if greater, or NaN over a number (the first NaN stays)."""
    if cand.dtype.kind != "f":
        return cand > best
    return ~(cand <= best) & (best == best)


def _max_pool(nd, name, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    tup = ntuple(nd)
    k = tup(kernel_size)
    s = tup(stride) if stride is not None and stride != [] and stride != () else k
    p, d = tup(padding), tup(dilation)
    _check_pool(name, nd, input, k, s, p, d)
    if nd == 1:  # torch pools 1-D as 2-D over an unsqueezed input, and squeezes
        o = _pool_geometry(input.shape[-1:], k, s, p, d, ceil_mode)[0][0]
        if o <= 0 and not return_indices:  # (with indices: the 2-D message)
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {o}")
        out = _max_pool(2, "max_pool2d", input.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p,
                        (1,) + d, ceil_mode, True)
        return (out[0].squeeze(-2), out[1].squeeze(-2)) if return_indices else \
            out[0].squeeze(-2)
    batched = input.ndim == nd + 2
    shape = input.shape if batched else (1,) + tuple(input.shape)
    outs, pads = _pool_geometry(shape[2:], k, s, p, d, ceil_mode)
    _too_small(shape, outs)
    xp = input._device.xp
    if (not return_indices and k == s and d == (1, 1) and input._data.dtype.kind == "f"
            and not any(lo or hi for lo, hi in pads)):
        return saves(MaxPool2DTiles.apply(input, k=k, outs=outs), input)
    data = array_of(input).reshape(shape)
    data = data.astype(xp.float32) if data.dtype.kind == "V" else data
    idx = derived(_max_pool_indices, xp, data, k, s, pads, d, outs)
    out = MaxPool2DWithIndices.apply(input, idx=idx)
    ind = Tensor._make(idx if batched else idx[0], input._device)
    saves(out, input, ind)  # as torch's node: a later write into either raises
    return (out, ind) if return_indices else out


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    return _max_pool(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    return _max_pool(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """Output and indices, whatever ``return_indices`` says (as torch's)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """Output and indices, whatever ``return_indices`` says (as torch's)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


class AvgPool2D(Op):
    """Window sums over a strided view (no copy) divided by torch's divisor; the gradient spreads
    g / divisor back over each window with Fold. An unbatched input pools as a batch of one."""

    __slots__ = ()

    @contiguous_result
    def forward(ctx, x, k, s, pads, outs, div):
        if x.ndim == len(k) + 1:
            ctx.unbatched = True
            return AvgPool2D.forward(ctx, x[None], k, s, pads, outs, div)[0]
        xp = ctx.xp
        nd = len(k)
        v = windows(xp, x, k, s, pads, (1,) * nd)
        v = v[(slice(None), slice(None)) + tuple(slice(0, o) for o in outs)]
        ctx.args = (x.shape, k, s, pads, outs, div)
        tot = v.sum(axis=tuple(range(-nd, 0)), dtype=xp.float32 if x.dtype.kind == "V" else None)
        return (tot / div).astype(x.dtype)

    def backward(ctx, g):
        return AvgPool2DBackward.apply(g, node=ctx)

    def backward_raw(ctx, g):
        return _avg_spread(ctx, g)


def _avg_spread(node, g):
    """avg_pool's adjoint: g / divisor spread back over each window (col2im, no columns)."""
    xp = node.xp
    shape, k, s, pads, outs, div = node.args
    if is_half(g.dtype):
        return _avg_spread(node, g.astype(xp.float32)).astype(g.dtype)
    unbatched = node.__dict__.get("unbatched")
    gd = (g[None] if unbatched else g) / div  # every kernel offset spreads the same block
    gx = col2im(xp, lambda j: gd, shape[:2], gd.dtype, shape[2:], k, s, pads, (1,) * len(k), outs)
    return gx[0] if unbatched else gx


class AvgPool2DBackward(Op):
    """avg_pool's adjoint as a node; its derivative in g pools again (torch's)."""

    __slots__ = ()
    _node_name = "AvgPool2DBackwardBackward0"

    def forward(ctx, g, node):
        ctx.node = node
        return _avg_spread(node, g)

    def backward(ctx, gg):
        shape, k, s, pads, outs, div = ctx.node.args
        return AvgPool2D.apply(gg, k=k, s=s, pads=pads, outs=outs, div=div)


def _too_small(shape, outs) -> None:
    """torch's error for a window larger than the (padded) input: DenseNet on too small images."""
    if any(o <= 0 for o in outs):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, shape[1:]))}). Calculated "
                           f"output size: ({'x'.join(map(str, (shape[1],) + outs))}). Output "
                           "size is too small")


def _avg_divisor(xp, size, k, s, p, outs, count_include_pad, dtype):
    """torch's per-window divisor: the window clipped to the padded input (count_include_pad) or
    to the input; separable, so an outer product of one count per dimension."""
    div = None
    for n, ki, si, pi, o in zip(size, k, s, p, outs):
        start = xp.arange(o) * si - pi
        end = xp.minimum(start + ki, n + pi)
        if count_include_pad:
            cnt = end - start
        else:
            cnt = xp.minimum(end, n) - xp.maximum(start, 0)
        div = cnt if div is None else div[..., None] * cnt
    return div.astype(dtype)


def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    tup = ntuple(nd)
    k = tup(kernel_size)
    s = tup(stride) if stride is not None and stride != [] and stride != () else k
    p = tup(padding)
    _check_pool(f"avg_pool{nd}d", nd, input, k, s, p, (1,) * nd)
    if nd == 1:  # torch pools 1-D as 2-D over an unsqueezed input, and squeezes
        return _avg_pool(2, input.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p, ceil_mode,
                         count_include_pad, None).squeeze(-2)
    size = input.shape[-nd:]
    outs, pads = _pool_geometry(size, k, s, p, (1,) * nd, ceil_mode)
    _too_small(input.shape if input.ndim == nd + 2 else (1,) + tuple(input.shape), outs)
    xp = input._device.xp
    if divisor_override:
        div = divisor_override
    else:
        dt = xp.float32 if input._data.dtype.kind == "V" else input._data.dtype
        div = _avg_divisor(xp, size, k, s, p, outs, count_include_pad, dt)
        if not ceil_mode and (count_include_pad or not any(p)):
            div = math.prod(k)
    return saves(AvgPool2D.apply(input, k=k, s=s, pads=pads, outs=outs, div=div), input)


def _check_1d(name: str, input: Tensor) -> None:
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for {name})")


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    _check_1d("avg_pool1d", input)
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_matrix(xp, n, o, dtype):
    """(o, n) averaging matrix of torch's adaptive windows [floor(i*n/o), ceil((i+1)*n/o))."""
    i = xp.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    j = xp.arange(n)
    m = (j >= start[:, None]) & (j < end[:, None])
    return (m / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2D(Op):
    """Adaptive average pooling as two small averaging matrices: ah @ x @ aw (linear in x)."""

    __slots__ = ()

    def forward(ctx, x, ah, aw):
        ctx.ah, ctx.aw = ah, aw  # bfloat16: NumPy's matmul returns float32
        return ctx.xp.matmul(ctx.xp.matmul(ah, x), aw).astype(x.dtype, copy=False)

    def backward(ctx, g):
        return AdaptiveAvgPool2DBackward.apply(g, ah=ctx.ah, aw=ctx.aw)

    def backward_raw(ctx, g):
        return ctx.xp.matmul(ctx.xp.matmul(ctx.ah.T, g), ctx.aw.T)


class AdaptiveAvgPool2DBackward(Op):
    """The adjoint, ah.T @ g @ aw.T; its derivative in g pools again (as torch's)."""

    __slots__ = ()
    _node_name = "AdaptiveAvgPool2DBackwardBackward0"

    def forward(ctx, g, ah, aw):
        ctx.ah, ctx.aw = ah, aw
        return ctx.xp.matmul(ctx.xp.matmul(ah.T, g), aw.T).astype(g.dtype, copy=False)

    def backward(ctx, gg):
        return AdaptiveAvgPool2D.apply(gg, ah=ctx.ah, aw=ctx.aw)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    if isinstance(output_size, (tuple, list)) and input.ndim < 3:  # torch's _list_with_default
        raise ValueError("Input dimension should be at least 3")
    if output_size == 1 and input.ndim >= 2:  # torch's mean, before its checks (any rank)
        return input.mean((-1, -2), keepdim=True)
    if input.ndim not in (3, 4):
        raise RuntimeError("adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{list(input.shape)}")
    for i in range(input.ndim - 2, input.ndim):
        if not input.shape[i]:
            raise RuntimeError("adaptive_avg_pool2d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {list(input.shape)} "
                               f"with dimension {i} being empty")
    h, w = input.shape[-2:]
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    oh, ow = h if oh is None else oh, w if ow is None else ow
    if oh == 1 and ow == 1:  # torch takes the mean over the two dims (MeanBackward1)
        return input.mean((-1, -2), keepdim=True)
    xp = input._device.xp
    dt = input._data.dtype
    return saves(AdaptiveAvgPool2D.apply(input, ah=_adaptive_matrix(xp, h, oh, dt),
                                         aw=_adaptive_matrix(xp, w, ow, dt).T), input)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    _check_1d("adaptive_avg_pool1d", input)
    if not input.shape[-1]:  # torch pools an unsqueezed (..., 1, L) input in 2-D
        shape = list(input.shape[:-1]) + [1, 0]
        raise RuntimeError("adaptive_avg_pool2d(): Expected input to have non-zero size for "
                           f"non-batch dimensions, but input has sizes {shape} with dimension "
                           f"{len(shape) - 1} being empty")
    o = output_size if isinstance(output_size, int) else output_size[0]
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)
