"""embedding_bag: the looked-up rows (``embedding``, so scale_grad_by_freq is embedding's) summed
into their bags with index_add (mean: over the bag's non-padding entries); max mode gathers each
bag's per-column first maximum. Empty bags give zeros, as torch."""

from __future__ import annotations

import warnings

from ..._errors import no_derivative, wrong_scalar_type
from ..._ops.once import once_differentiable
from ..._tensor import Tensor
from .sparse import _embedding_renorm_, embedding


def _bags(xp, offsets, n: int, include_last: bool):
    """Bag id of every input position, and the number of bags."""
    off = offsets._data.astype(xp.int64)
    if off.size and off[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has "
                           f"to start from position 0. However, got {int(off[0])}\n"
                           "[ torch.LongTensor{} ]")  # sic: torch prints an empty tensor
    if off.size and off[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {int(off[-1])}")
    nbags = off.size - 1 if include_last else off.size
    # positions past offsets[-1] with include_last_offset fall into the last bag, as in torch's
    # CPU kernel (documented input has offsets[-1] == len(input); -1 only when there is no bag)
    bag = xp.searchsorted(off[:nbags], xp.arange(n), side="right") - 1
    return bag, nbags


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    from ... import arange, promote_types

    if weight.dtype.name == "int64" and input.dtype.is_floating_point:
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is "
                             "a mini-batch of fixed length sequences. However, found offsets of "
                             f"type {type(offsets)}")
        offsets = arange(0, input.numel(), max(input.shape[1], 1), dtype=input.dtype,
                         device=input.device)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    it = promote_types(input.dtype, offsets.dtype)  # torch's promoteIndicesAndOffsets
    if it.name not in ("int64", "int32"):
        raise wrong_scalar_type("indices", 1, "embedding_bag", "Long, Int", it)
    input = input.to(it)
    if not weight.is_floating_point():
        raise wrong_scalar_type("weight", 1, "embedding_bag", "Half, BFloat16, Float, Double",
                                weight.dtype)
    if max_norm is not None:
        _embedding_renorm_(weight, input._data, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    xp = weight._device.xp
    num = weight.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} "
                               f"through {num - 1}, but got {padding_idx}")
        padding_idx %= num
    idx = input._data.astype(xp.int64)
    bag, nbags = _bags(xp, offsets, idx.size, include_last_offset)
    bad = (idx < 0) | (idx >= num)
    if bad.any():  # torch names the position within the bag
        i = int(xp.argmax(bad))
        start = int(offsets._data[bag[i]]) if bag[i] >= 0 else 0
        raise RuntimeError(f"Index {i - start} of input takes value {int(idx[i])} which is not in "
                           f"the valid range [0, {num})")
    keep = bag >= 0
    if padding_idx is not None:
        keep &= idx != padding_idx
    # torch's _embedding_bag_backward (and the per-sample weights') has no derivative; the
    # weight's reads the cotangent and the per-sample weights, theirs the weight
    tensors = (weight,) if per_sample_weights is None else (weight, per_sample_weights)
    return once_differentiable(
        lambda w, *psw: _bag_sum(xp, input, w, psw[0] if psw else None, idx, bag, nbags, keep,
                                 mode, scale_grad_by_freq),
        tensors, "EmbeddingBagBackward0", (_no_bag_double, _no_psw_double), ((1,), (0,)))


def _no_bag_double():
    return NotImplementedError("the derivative for '_embedding_bag_backward' is not implemented.")


def _no_psw_double():
    return no_derivative("_embedding_bag_per_sample_weights_backward")


def _bag_sum(xp, input, weight, per_sample_weights, idx, bag, nbags, keep, mode,
             scale_grad_by_freq):
    """The bags of ``weight``'s rows (``keep``: the positions that count)."""
    from ... import where, zeros

    dev = weight.device
    kept = Tensor._make(xp.nonzero(keep)[0], weight._device)
    bag_t = Tensor._make(bag[keep], weight._device)
    if mode == "max":
        return _bag_max(xp, weight, idx[keep], bag[keep], nbags)
    rows = embedding(input[kept], weight, scale_grad_by_freq=scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights[kept].unsqueeze(1)
    out = zeros((nbags, weight.shape[1]), dtype=weight.dtype, device=dev).index_add(0, bag_t, rows)
    if mode == "mean":
        size = xp.bincount(bag[keep], minlength=nbags)[:nbags]
        count = Tensor._make(xp.maximum(size, 1).astype(weight._data.dtype)[:, None],
                             weight._device)
        out = where(Tensor._make(size[:, None] > 0, weight._device), out / count,
                    out.new_zeros(()))
    return out


def _bag_max(xp, weight: Tensor, idx, bag, nbags: int) -> Tensor:
    """out[b, d] = weight[i, d] for the first i of bag b whose row has the largest d-th value."""
    from ... import where

    for_bag, nonempty = _max_rows(xp, weight._data, idx, bag, nbags)
    out = weight.gather(0, Tensor._make(for_bag, weight._device))
    return where(Tensor._make(nonempty[:, None], weight._device), out, out.new_zeros(()))


def _max_rows(xp, w, idx, bag, nbags: int):
    """The weight row of each bag's per-column first maximum (0 for an empty bag), and which
    bags are non-empty."""
    d = w.shape[1]
    rows = w[idx]  # (n, D)
    best = xp.full((nbags, d), -xp.inf, w.dtype)
    for_bag = xp.zeros((nbags, d), xp.int64)
    # one pass per position within the bags (bags are contiguous runs): first maximum wins
    pos = xp.arange(idx.size) - xp.searchsorted(bag, bag, side="left") if idx.size else idx
    for k in range(int(pos.max()) + 1 if idx.size else 0):
        sel = pos == k
        b, r, i = bag[sel], rows[sel], idx[sel]
        better = (r > best[b]) | (k == 0)
        best[b] = xp.where(better, r, best[b])
        for_bag[b] = xp.where(better, i[:, None], for_bag[b])
    return for_bag, xp.bincount(bag, minlength=nbags)[:nbags] > 0


def embedding_bag_aten(weight: Tensor, indices: Tensor, offsets: Tensor,
                       scale_grad_by_freq: bool = False, mode: int = 0, sparse: bool = False,
                       per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                       padding_idx: int | None = None):
    """Same as torch.embedding_bag (ATen's op): ``(output, offset2bag, bag_size, max_indices)``.

    output is nn.functional.embedding_bag's (mode 0 sum, 1 mean, 2 max). The three index tensors
    are what torch's CPU kernel returns: offset2bag is each index's bag (empty on the fast
    float32/float16/bfloat16 sum path without padding_idx), bag_size counts each bag's
    non-padding indices (zeros for sum), max_indices is the row each max came from (max mode),
    bag_size again (mean) or zeros (sum). They are integer outputs without gradient."""
    from ... import promote_types

    if isinstance(mode, bool) or not isinstance(mode, int):
        raise TypeError(f"embedding_bag(): argument 'mode' (position 5) must be int, not "
                        f"{type(mode).__name__}")
    if mode not in (0, 1, 2):
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if per_sample_weights is not None and mode != 0:
        raise RuntimeError("embedding_bag: per_sample_weights only supported with mode='sum'")
    out = embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                        mode=("sum", "mean", "max")[mode], sparse=sparse,
                        per_sample_weights=per_sample_weights,
                        include_last_offset=include_last_offset, padding_idx=padding_idx)
    xp, dev = weight._device.xp, weight._device
    it = promote_types(indices.dtype, offsets.dtype).np
    idx = indices._data.astype(xp.int64)
    bag, nbags = _bags(xp, offsets, idx.size, include_last_offset)
    bag = xp.maximum(bag, 0)
    keep = xp.ones(idx.size, bool) if padding_idx is None else idx != padding_idx % weight.shape[0]
    size = xp.bincount(bag[keep], minlength=nbags)[:nbags]
    fast = mode == 0 and padding_idx is None and weight.dtype.name in ("float32", "float16",
                                                                      "bfloat16")
    offset2bag = bag[:0] if fast else bag
    if mode == 0:
        size = xp.zeros(nbags, xp.int64)
        max_idx = size
    elif mode == 1:
        max_idx = size
    else:
        max_idx = _max_rows(xp, weight._data, idx[keep], bag[keep], nbags)[0]
    return (out, *(Tensor._make(xp.asarray(a, dtype=it), dev) for a in (offset2bag, size,
                                                                         max_idx)))
