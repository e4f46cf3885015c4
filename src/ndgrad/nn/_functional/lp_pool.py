"""lp_pool1d/2d/3d: torch's composition, (sum over the window of x^p)^(1/p) through average
pooling times the window size."""

from __future__ import annotations

import math

from ..._tensor import Tensor
from .pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .pooling3d import avg_pool3d, max_pool3d
from ._utils import ntuple

_AVG = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}
_MAX = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode):
    from ... import sign
    from .activation import relu

    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return _MAX[nd](input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -_MAX[nd](-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is not None:
        out = _AVG[nd](input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = _AVG[nd](input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    k = kernel_size if nd == 1 else math.prod(ntuple(nd)(kernel_size))
    return (sign(out) * relu(out.abs())).mul(k).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride=None,
              ceil_mode: bool = False) -> Tensor:
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)
