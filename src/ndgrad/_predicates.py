"""torch's small tensor predicates and no-op resolutions: is_signed, is_same_size, is_conj/is_neg
and resolve_conj/resolve_neg (ndgrad's conj and neg are never lazy views, so there is no bit to
report or resolve)."""

from __future__ import annotations

from ._tensor import Tensor

__all__ = ["is_conj", "is_neg", "is_same_size", "is_signed", "resolve_conj", "resolve_neg"]


def is_signed(input: Tensor) -> bool:
    """Same as torch.is_signed: False for uint8 and bool only."""
    return input._data.dtype.kind not in "bu"


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return input.shape == other.shape


def is_conj(input: Tensor) -> bool:
    """Same as torch.is_conj: False (conj() returns a conjugated copy, not a lazy view)."""
    return False


def is_neg(input: Tensor) -> bool:
    return False


def resolve_conj(input: Tensor) -> Tensor:
    """Same as torch.resolve_conj: the input (there is never a conj bit to resolve)."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    return input
