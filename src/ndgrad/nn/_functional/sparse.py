"""embedding (a gather primitive whose gradient scatter-adds rows) and one_hot."""

from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.function import Op
from ...autograd.grad_mode import no_grad
from ...autograd.node import _device_mismatch
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


class EmbeddingBackward(Op):
    """Rows of g summed into (num_weights, D) at idx; its own gradient gathers them again."""

    __slots__ = ()
    _node_name = "EmbeddingDenseBackwardBackward0"

    def forward(ctx, g, idx, num, padding_idx, scale_grad_by_freq):
        xp = ctx.xp
        ctx.args = (idx, padding_idx, scale_grad_by_freq)
        f = _row_factor(xp, idx, padding_idx, scale_grad_by_freq, g.dtype)
        out = xp.zeros((num,) + g.shape[idx.ndim:], dtype=g.dtype)
        rows = (g * f[(...,) + (None,) * (g.ndim - idx.ndim)]).reshape((-1,) + out.shape[1:])
        scatter_add(xp, out, idx.reshape(-1), rows)
        return out

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
    n = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < n, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -n, "Padding_idx must be within num_embeddings"
            padding_idx = n + padding_idx
    else:
        padding_idx = -1
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {input.type()} instead (while "
                           "checking arguments for embedding)")
    if input._device is not weight._device:
        _device_mismatch(Embedding, weight._device, input._device)
    idx = input._data
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, idx, max_norm, norm_type)
    # the indices are no edge: torch's EmbeddingBackward0 links to the weight only
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


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
    out = (a[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._make(out, tensor._device)
