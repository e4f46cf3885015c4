"""Dropout: a Bernoulli(1-p) mask scaled by 1/(1-p), drawn like torch so streams match."""

from __future__ import annotations

import warnings

from ... import empty, empty_like
from ..._tensor import Tensor


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input: Tensor, p: float, training: bool, inplace: bool, noise_shape) -> Tensor:
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * input.new_zeros(())
    # torch draws the mask in empty_like's layout: in the memory order of a non-contiguous input
    noise = (empty_like(input) if tuple(noise_shape) == tuple(input.shape) else
             empty(noise_shape, dtype=input.dtype, device=input.device)).bernoulli_(1 - p)
    noise.div_(1 - p)
    return input.mul_(noise) if inplace else input * noise


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    return _dropout(input, p, training, inplace, input.shape)


def _feature_shape(input: Tensor, batched_ndim: int):
    if input.ndim == batched_ndim - 1:  # no batch dim: one mask entry per channel
        return (input.shape[0],) + (1,) * (input.ndim - 1)
    return tuple(input.shape[:2]) + (1,) * (input.ndim - 2)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an optional "
                           "batch dimension (i.e. 2D or 3D inputs).")
    return _dropout(input, p, training, inplace, _feature_shape(input, 3))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain the "
                      "behavior and silence this warning, please use dropout instead. Note that "
                      "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D "
                      "or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=2)
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if input.ndim >= 2 else input.shape
    return _dropout(input, p, training, inplace, shape)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    alpha = 1.7580993408473766
    keep = empty_like(input).bernoulli_(1 - p)
    a = 1.0 / ((alpha * alpha * p + 1) * (1 - p)) ** 0.5
    b = keep.add(-1).mul_(alpha * a).add_(alpha * a * p)
    keep.mul_(a)
    return input.mul_(keep).add_(b) if inplace else input * keep + b
