"""Distances and normalisation along a dimension."""

from __future__ import annotations

from ..._tensor import Tensor
from ._utils import named


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    res = input / denom
    if out is not None:
        out.copy_(res)
        return out
    return res


def _clamp_unrecorded(t: Tensor, eps: float) -> Tensor:
    """t with values clamped below at eps but the gradient of t itself (torch clamps under
    no_grad)."""
    d = t.detach()
    return t + (d.clamp_min(eps) - d)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    if not (x1.is_floating_point() or x2.is_floating_point()):
        raise RuntimeError("expected common dtype to be floating point, yet common dtype is "
                           f"{x1.dtype}")
    n1 = _clamp_unrecorded(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamp_unrecorded(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    last = max(x1.ndim, x2.ndim) - 1
    d = x1 - x2 + eps
    if last < 0:  # two scalars
        return named(d.abs(), "NormBackward1")
    return named(d.norm(p, last, keepdim=keepdim), "NormBackward1")
