"""3-d max, average and adaptive average pooling: pooling.py's N-d kernels over three spatial
dims, with torch's checks and node names."""

from __future__ import annotations

from ..._tensor import Tensor
from .pooling import _adaptive_matrix, _avg_pool, _max_pool
from .shape import _linear_map, _separable
from ._utils import named, ntuple

AdaptiveAvgPool3D = _linear_map("AdaptiveAvgPool3D", saves_input=True)


def _check_3d(name: str, input: Tensor) -> None:
    if input.ndim not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    if not all(input.shape[-4:]):  # torch's message always names dimension 0
        raise RuntimeError(f"{name}: Expected input's non-batch dimensions to have positive "
                           f"length, but input has a shape of {list(input.shape)} and "
                           "non-batch dimension 0 has length zero!")


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    _check_3d("max_pool3d_with_indices_out_cpu_template()", input)
    out = _max_pool(3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode,
                    True)
    named(out[0], "MaxPool3DWithIndicesBackward0")
    return out if return_indices else out[0]


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    _check_3d("avg_pool3d()", input)
    k, (t, h, w) = ntuple(3)(kernel_size), input.shape[-3:]
    if t < k[0] or h < k[1] or w < k[2]:  # the unpadded input, as torch's pool3d_shape_check
        raise RuntimeError(f"input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                           f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    out = _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override)
    return named(out, "AvgPool3DBackward0")


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    if input.ndim not in (4, 5):
        raise RuntimeError("adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got "
                           f"{list(input.shape)}")
    for i in range(input.ndim - 3, input.ndim):
        if not input.shape[i]:
            raise RuntimeError("adaptive_avg_pool3d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {list(input.shape)} "
                               f"with dimension {i} being empty")
    sizes = input.shape[-3:]
    outs = (output_size,) * 3 if isinstance(output_size, int) else tuple(output_size)
    outs = tuple(n if o is None else o for n, o in zip(sizes, outs))
    if outs == (1, 1, 1):  # torch takes the mean over the three dims (MeanBackward1)
        return input.mean((-1, -2, -3), keepdim=True)
    xp, dt = input._device.xp, input._data.dtype
    mats = {input.ndim - 3 + j: _adaptive_matrix(xp, n, o, dt)
            for j, (n, o) in enumerate(zip(sizes, outs))}
    return AdaptiveAvgPool3D.apply(input, fwd=_separable(mats, False), adj=_separable(mats, True))
