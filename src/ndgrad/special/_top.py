"""The names torch.special shares with the top level and Tensor: torch.i0, igamma, igammac,
mvlgamma and their methods (``ndgrad/__init__`` star-imports this module)."""

from __future__ import annotations

from .._ops._inplace import inplace
from .._tensor import Tensor
from ._ops import i0, igamma, igammac, mvlgamma

__all__ = ["i0", "i0_", "igamma", "igammac", "mvlgamma"]


def i0_(input: Tensor) -> Tensor:
    """Same as torch.i0_."""
    return inplace(input, i0)


