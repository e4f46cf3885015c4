"""embedding (a gather primitive whose gradient scatter-adds rows) and one_hot."""

from __future__ import annotations

import math

import numpy as np

from ..._errors import index_out_of_range, wrong_scalar_type
from ..._tensor import Tensor
from ..._trace import array_of
from ...autograd.op import Op
from ...autograd.torch_saves import saves
from ...autograd.grad_mode import no_grad
from ...autograd.op import _device_mismatch
from ._utils import scatter_add


def _row_factor(xp, idx, padding_idx, scale_grad_by_freq, dtype):
    """Per-lookup gradient factor: 0 at padding_idx, 1/count with scale_grad_by_freq."""
    f = (idx != padding_idx).astype(dtype)
    if scale_grad_by_freq:
        _, inv, counts = xp.unique(idx, return_inverse=True, return_counts=True)
        f = f / counts[inv.reshape(idx.shape)]
    return f


class Embedding(Op):
    __slots__ = ()

    def forward(ctx, w, idx, padding_idx, scale_grad_by_freq):
        ctx.args = (idx, w.shape[0], padding_idx, scale_grad_by_freq)
        return w[idx]

    def backward(ctx, g):
        idx, num, padding_idx, scale = ctx.args
        return EmbeddingBackward.apply(g, idx=idx, num=num, padding_idx=padding_idx,
                                       scale_grad_by_freq=scale)

    def backward_raw(ctx, g):
        return _embedding_grad(ctx.xp, g, *ctx.args)


def _embedding_grad(xp, g, idx, num, padding_idx, scale_grad_by_freq):
    """torch's embedding_dense_backward on arrays: the rows of g summed per index."""
    rows = g.reshape((idx.size,) + g.shape[idx.ndim:])
    if padding_idx >= 0 or scale_grad_by_freq:  # (the indices are >= 0: -1 is no padding)
        f = _row_factor(xp, idx, padding_idx, scale_grad_by_freq, g.dtype).reshape(-1)
        rows = rows * f[(...,) + (None,) * (rows.ndim - 1)]
    out = xp.zeros((num,) + rows.shape[1:], dtype=g.dtype)
    flat = idx.reshape(-1)
    if xp is not np or not flat.size or g.dtype.kind != "f" or g.itemsize < 4:  # (half: in
        # order, as torch rounds it)
        scatter_add(xp, out, flat, rows)
        return out
    if flat.size == 1 or (flat[1:] > flat[:-1]).all():  # each row once (positions: arange)
        out[flat] += rows  # (0 + -0.0 is 0.0, as torch's sum)
        return out
    # torch's index_add_ order (each index's rows summed in turn, bit for bit) through add.at's
    # 1-d fast path, on the flat positions of the elements: ~2x faster than a sort and
    # reduceat (whose order is not torch's), ~5x than add.at over rows
    d = math.prod(rows.shape[1:])
    pos = (flat.astype(np.intp, copy=False) * d)[:, None] + np.arange(d)
    np.add.at(out.reshape(-1), pos.reshape(-1), rows.reshape(-1))
    return out


class EmbeddingBackward(Op):
    """Rows of g summed into (num_weights, D) at idx; its own gradient gathers them again."""

    __slots__ = ()
    _node_name = "EmbeddingDenseBackwardBackward0"

    def forward(ctx, g, idx, num, padding_idx, scale_grad_by_freq):
        ctx.args = (idx, padding_idx, scale_grad_by_freq)
        return _embedding_grad(ctx.xp, g, idx, num, padding_idx, scale_grad_by_freq)

    def backward(ctx, gg):
        # torch's embedding_dense_double_backward: rows gathered, the padding row's zeroed; the
        # frequency scaling is not applied again
        idx, padding_idx, scale = ctx.args
        f = _row_factor(gg._device.xp, idx, padding_idx, False, gg._data.dtype)
        rows = Embedding.apply(gg, idx=idx, padding_idx=padding_idx, scale_grad_by_freq=False)
        return rows * Tensor._make(f[(...,) + (None,) * (gg.ndim - 1)], gg._device)


def _embedding_renorm_(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    xp = weight._device.xp
    rows = xp.unique(idx)
    with no_grad():
        w = weight._data
        norms = (xp.abs(w[rows]) ** norm_type).sum(-1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        w[rows] *= scale[:, None]
        weight._vc[0] += 1


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    n = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < n, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -n, "Padding_idx must be within num_embeddings"
            padding_idx = n + padding_idx
    else:
        padding_idx = -1
    if input._data.dtype not in _INDEX_DTYPES:
        raise wrong_scalar_type("indices", 1, "embedding", "Long, Int", input.dtype)
    if input._device is not weight._device:
        _device_mismatch(Embedding, weight._device, input._device)
    idx = array_of(input)  # (known to ndgrad.compile's tracer: replays pass their own)
    if idx.size and (_min(idx, None) < 0 or _max(idx, None) >= n if type(idx) is np.ndarray
                     else idx.min() < 0 or idx.max() >= n):  # (NumPy: min/max's Python skipped)
        raise index_out_of_range()
    if max_norm is not None:
        _embedding_renorm_(weight, idx, max_norm, norm_type)
    # the indices are no edge: torch's EmbeddingBackward0 links to the weight only
    # its node saves the indices, as torch's: a later write into them raises
    return saves(Embedding.apply_one(weight, idx=idx, padding_idx=padding_idx,
                                     scale_grad_by_freq=scale_grad_by_freq), input)


_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32))
_min, _max = np.minimum.reduce, np.maximum.reduce


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    if tensor.dtype.name != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = tensor._device.xp
    a = tensor._data
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size:
        if a.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if a.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (a[..., None] == xp.arange(num_classes)).astype(xp.int64, order="C")  # (contiguous
    # whatever the index's layout, as torch's)
    return Tensor._make(out, tensor._device)
