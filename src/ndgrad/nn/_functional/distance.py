"""Distances and normalisation along a dimension."""

from __future__ import annotations

from ..._grad_mode import no_grad
from ..._tensor import Tensor
from ._utils import broadcast_pair, named, scalar_node


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    res = input / denom
    if out is not None:
        out.copy_(res)
        return out
    return res


def _clamp_unrecorded(t: Tensor, eps: float) -> Tensor:
    """A copy of t clamped below at eps, its gradient t's own: torch clamps a clone in place
    under no_grad (CloneBackward0 in the graph)."""
    t = t.clone()
    with no_grad():
        t.clamp_(min=eps)
    return t


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    if not (x1.is_floating_point() or x2.is_floating_point()):
        raise RuntimeError("expected common dtype to be floating point, yet common dtype is "
                           f"{x1.dtype}")
    x1, x2 = broadcast_pair(x1, x2)
    n1 = _clamp_unrecorded(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamp_unrecorded(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    last = max(x1.ndim, x2.ndim) - 1
    d = scalar_node(x1 - x2 + eps, "AddBackward1")
    if last < 0:  # two scalars
        return named(d.abs(), "NormBackward1")
    return named(d.norm(p, last, keepdim=keepdim), "NormBackward1")
