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


Tensor.i0 = lambda self: i0(self)
Tensor.i0_ = i0_
Tensor.igamma = lambda self, other: igamma(self, other)
Tensor.igamma_ = lambda self, other: inplace(self, igamma, other)
Tensor.igammac = lambda self, other: igammac(self, other)
Tensor.igammac_ = lambda self, other: inplace(self, igammac, other)
Tensor.mvlgamma = lambda self, p: mvlgamma(self, p)
Tensor.mvlgamma_ = lambda self, p: inplace(self, mvlgamma, p)
