"""Small top-level functions of torch that belong to no op family."""

from __future__ import annotations

from ._tensor import Tensor
from . import linalg as _linalg


__all__ = ["is_tensor", "numel", "is_floating_point", "is_complex", "norm"]


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Same as torch.norm (deprecated in torch in favour of torch.linalg.norm)."""
    if p == "fro" or p is None:
        return _linalg.vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if p == "nuc":
        return _linalg.matrix_norm(input, "nuc", dim or (-2, -1), keepdim)
    return _linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)


Tensor.norm = lambda self, p="fro", dim=None, keepdim=False, dtype=None: norm(
    self, p, dim, keepdim, dtype)

