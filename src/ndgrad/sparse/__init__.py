"""torch.sparse, minimal: COO tensors (see _coo: stored as indices + values, densified for the
ops they do not implement), sparse.mm / addmm / sum and the top-level sparse products."""

from __future__ import annotations

from ._coo import SparseTensor, sparse_coo  # noqa: F401
from ._ops import *  # noqa: F403
from ._ops import addmm, mm  # noqa: F401

__all__ = ["addmm", "mm", "sum"]


def sum(input, dim=None, dtype=None):
    """Same as torch.sparse.sum over all dimensions (a dense 0-d tensor); over some dims the
    result is dense here where torch's is sparse."""
    dense = input.to_dense()
    out = dense.sum(dtype=dtype) if dim is None else dense.sum(dim, dtype=dtype)
    return out
