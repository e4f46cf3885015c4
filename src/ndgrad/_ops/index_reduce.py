"""torch.index_reduce(_): scatter_reduce with a 1-D index along one dim (gather.py, the
scatters' home, is another engineer's); its gradients are scatter_reduce's, the same formulas
as torch's index_reduce_backward."""

from __future__ import annotations

from .._errors import index_out_of_range
from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ..autograd.torch_saves import saves
from ._inplace import inplace
from .._dtype import torch_type_name

__all__ = ["index_reduce"]

_REDUCES = ("prod", "mean", "amax", "amin")
_WARNED: list = []


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """Same as torch.index_reduce."""
    if not _WARNED:
        import warnings

        _WARNED.append(True)
        warnings.warn("index_reduce() is in beta and the API may change at any time.",
                      UserWarning, stacklevel=2)
    if reduce not in _REDUCES:
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or amin "
                           f"but got {reduce}.")
    d = wrap_dim(dim, max(input.ndim, 1))
    if index.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{index.ndim} with type: {torch_type_name(index.dtype)} and size: "
                         f"{list(index.shape)}")
    if index.dtype not in (D.int32, D.int64):
        raise RuntimeError("index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{torch_type_name(index.dtype)}")
    n = source.shape[d] if source.ndim else 1
    if index.numel() != n:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be equal "
                           f"to source.size(dim): ({n}), for dim: {d}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_reduce_(): self ({torch_type_name(input.dtype)}) and source "
                           f"({torch_type_name(source.dtype)}) must have the same scalar type")
    size = input.shape[d] if input.ndim else 1
    idx = index._data
    if idx.size and (idx.max() >= size or idx.min() < -size):
        raise index_out_of_range()
    shape = [1] * max(source.ndim, 1)
    shape[d] = -1
    full = index.long().remainder(size).reshape(shape).expand(*source.shape)
    out = input.scatter_reduce(d, full, source, reduce, include_self=include_self)
    if out._grad_fn is not None:
        out._grad_fn._name = "IndexReduceBackward0"
    return saves(out, index)  # torch's node saves it (the copy read here is ``full``)


def index_reduce_(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                  include_self: bool = True) -> Tensor:
    """Same as torch.Tensor.index_reduce_."""
    return inplace(input, index_reduce, dim, index, source, reduce, include_self=include_self)
