"""Functions that draw noise on torch's streams: gumbel_softmax, dropout3d and
feature_alpha_dropout. The draws are torch's, in torch's order, so a seed gives torch's values."""

from __future__ import annotations

import warnings

from ... import contiguous_format, empty, empty_like, zeros_like
from ..._tensor import Tensor
from .dropout import _check_p, _dropout


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    # torch draws into legacy_contiguous_format: C order whatever the logits' layout
    gumbels = -empty_like(logits, memory_format=contiguous_format).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits, memory_format=contiguous_format).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft  # straight through


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain the "
                      "behavior and silence this warning, please use dropout instead. Note that "
                      "dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 4D "
                      "or 5D inputs).", stacklevel=2)
    batched = input.ndim == 5
    x = input if batched else (input.unsqueeze_(0) if inplace else input.unsqueeze(0))
    out = _dropout(x, p, training, inplace, _feature_noise_shape(x))
    if batched:
        return out
    return out.squeeze_(0) if inplace else out.squeeze(0)


def _feature_noise_shape(x: Tensor) -> tuple:
    if x.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return tuple(x.shape[:2]) + (1,) * (x.ndim - 2)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * input.new_zeros(())
    alpha = 1.7580993408473766
    noise = empty(_feature_noise_shape(input), dtype=input.dtype,
                  device=input.device).bernoulli_(1 - p)
    a = 1.0 / ((alpha * alpha * p + 1) * (1 - p)) ** 0.5
    b = noise.add(-1).mul_(alpha * a).add_(alpha * a * p)
    noise.mul_(a)
    return input.mul_(noise).add_(b) if inplace else (input * noise).add_(b)
