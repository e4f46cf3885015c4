"""torch.testing.make_tensor: random test tensors, drawn from the generator as torch draws them."""

from __future__ import annotations

import math
import warnings

import ml_dtypes
import numpy as np

from .. import _dtype as D
from .._tensor import Tensor


def make_tensor(*shape, dtype: D.dtype, device, low: float | None = None,
                high: float | None = None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """Same as torch.testing.make_tensor (same values after the same ``manual_seed``)."""
    from .._creation import empty
    from ..random import randint

    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got noncontiguous={noncontiguous!r} and "
                         f"memory_format={memory_format!r}")
    integral = dtype._kind < 2
    if requires_grad and integral:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral dtypes, "
                         f"but got dtype={dtype!r}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # every other element of a twice-as-wide last dim
        shape = (*shape[:-1], 2 * shape[-1])
    if integral:
        if dtype is D.bool_:
            lo, hi, default = 0, 2, (0, 2)
        else:
            info = np.iinfo(dtype.np)
            lo, hi, default = int(info.min), int(info.max) + (dtype is not D.int64), (-9, 10)
        low, high = _low_high(low, high, lo, hi, default, dtype)
        result = randint(low, high, shape, device=device, dtype=dtype)
    else:
        fmax = float(ml_dtypes.finfo(dtype.to_real().np).max)
        low, high = _low_high(low, high, -fmax, fmax, (-9, 9), dtype)
        result = empty(shape, device=device, dtype=dtype)
        target = result if not dtype.is_complex else Tensor._make(
            result._data[..., None].view(dtype.to_real().np), result.device)
        if high - low >= fmax:  # uniform_ needs to - from <= max: draw half the range, double it
            target.uniform_(low / 2, high / 2)
            target._data *= 2
        else:
            target.uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        tiny = 1 if integral else float(ml_dtypes.finfo(dtype.to_real().np).tiny)
        result._data[result._data == 0] = tiny
    if not integral:
        result.requires_grad = requires_grad
    return result


def _low_high(low, high, lowest, highest, default, dtype) -> tuple:
    """torch's checks and clamping of the [low, high) range; integral bounds are ceiled."""
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low!r} and high={high!r}")
    if low == high and dtype._kind >= 2:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex "
                      "types is deprecated since 2.1 and will be removed in 2.3. Use "
                      "`torch.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (math.ceil(low), math.ceil(high)) if dtype._kind < 2 else (low, high)
