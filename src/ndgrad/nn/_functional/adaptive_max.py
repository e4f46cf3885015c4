"""Adaptive max pooling (1-d, 2-d, 3-d): each output reads its window [floor(i*n/o),
ceil((i+1)*n/o)) per dim; the windows are gathered at once (padded to the longest by repeating
their last position), their first maximum found (the last NaN wins, as torch's kernels) and the
input gathered there by max pooling's gather primitive (its gradient scatters back)."""

from __future__ import annotations

import math

from ..._tensor import Tensor
from ...autograd.torch_saves import saves
from .pooling import MaxPool2DWithIndices, _check_1d


def window_argmax(xp, x, positions):
    """Flat spatial index of each window's maximum in x (N, C, *S). ``positions[j]``
    (N or 1, C or 1, o_j, k_j) lists the positions window i reads along spatial dim j.
    Ties go to the first position in the window's row-major order, NaN to the last."""
    nd = len(positions)
    n, c, size = x.shape[0], x.shape[1], x.shape[2:]
    lead = (1,) * (2 * nd)
    idx = [xp.arange(n).reshape((n, 1) + lead), xp.arange(c).reshape((1, c) + lead)]
    flat = 0
    for j, p in enumerate(positions):
        p = p.reshape(p.shape[:2] + (1, 1) * j + p.shape[2:] + (1, 1) * (nd - 1 - j))
        idx.append(p)
        flat = flat * size[j] + p
    win = x[tuple(idx)]  # (N, C, o_0, k_0, o_1, k_1, ...)
    order = (0, 1) + tuple(range(2, 2 + 2 * nd, 2)) + tuple(range(3, 3 + 2 * nd, 2))
    outs = tuple(p.shape[2] for p in positions)
    kk = math.prod(p.shape[3] for p in positions)
    win = win.transpose(order).reshape((n, c) + outs + (kk,))
    flat = xp.broadcast_to(flat, win.shape[:2] + flat.shape[2:]) if nd else flat
    flat = flat.transpose(order).reshape((flat.shape[0], flat.shape[1]) + outs + (kk,))
    if win.dtype.kind == "V":  # bfloat16: compare in float32
        win = win.astype(xp.float32)
    arg = xp.argmax(win, axis=-1)
    nan = xp.isnan(win)
    if nan.any():
        last = kk - 1 - xp.argmax(nan[..., ::-1], axis=-1)
        arg = xp.where(nan.any(-1), last, arg)
    flat = xp.broadcast_to(flat, (n, c) + outs + (kk,))
    return xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0].astype(xp.int64)


def adaptive_positions(xp, n, o):
    """(1, 1, o, k) positions of torch's adaptive windows over a dim of size n."""
    i = xp.arange(o)
    start = (i * n) // o
    end = -((-(i + 1) * n) // o)
    k = int((end - start).max()) if o else 1
    pos = xp.minimum(start[:, None] + xp.arange(k), end[:, None] - 1)
    return pos.reshape(1, 1, o, k)


def _adaptive_max(nd: int, input: Tensor, output_size, return_indices: bool):
    name = f"adaptive_max_pool{nd}d()"
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    for i in range(input.ndim - nd, input.ndim):
        if not input.shape[i]:
            raise RuntimeError(f"{name}: Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {i} being empty")
    sizes = input.shape[-nd:]
    outs = (output_size,) * nd if isinstance(output_size, int) else tuple(output_size)
    if len(outs) != nd:
        raise RuntimeError(f"{name}: internal error: output_size.size() must be {nd}")
    outs = tuple(s if o is None else o for s, o in zip(sizes, outs))
    xp = input._device.xp
    data = input._data if input.ndim == nd + 2 else input._data[None]
    idx = window_argmax(xp, data, [adaptive_positions(xp, s, o) for s, o in zip(sizes, outs)])
    out = MaxPool2DWithIndices.named(f"AdaptiveMaxPool{nd}DBackward0").apply(input, idx=idx)
    ind = Tensor._make(idx if input.ndim == nd + 2 else idx[0], input._device)
    saves(out, input, ind)  # as torch's node: a later write into either raises
    return (out, ind) if return_indices else out


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    _check_1d("adaptive_max_pool1d", input)
    o = output_size if isinstance(output_size, int) else output_size[0]
    out = _adaptive_max(2, input.unsqueeze(-2), (1, o), True)  # torch pools 1-d as 2-d
    out = (out[0].squeeze(-2), out[1].squeeze(-2))
    return out if return_indices else out[0]


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max(2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max(3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    return adaptive_max_pool1d(input, output_size, True)  # both, whatever return_indices says


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max(2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max(3, input, output_size, True)
