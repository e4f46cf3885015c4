"""Statistics over whole tensors: trace, histc, bincount (cov, corrcoef and cdist live in
linalg/stats.py)."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from ._export import export
from ._operands import wrap
from .._errors import not_implemented
from .reduce import _rename, select_along

__all__: list[str] = []
_NS = globals()


def _diagonal(a: Tensor) -> Tensor:
    """a[i, i] for i < min(rows, cols), differentiable."""
    xp = a._device.xp
    k = min(a.shape)
    idx = xp.arange(k).reshape(k, 1)
    return select_along(a.narrow(0, 0, k), idx, 1, False, "DiagonalBackward0")


def trace(input: Tensor) -> Tensor:
    """Same as torch.trace."""
    if input.dtype is D.bool_:  # (torch checks the dtype first)
        raise not_implemented("trace", input.dtype)
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return _rename(_diagonal(input).sum(), "TraceBackward0")


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Same as torch.histc (no gradient, as in torch)."""
    xp = input._device.xp
    if not input.is_floating_point():
        raise not_implemented("histogram_cpu", input.dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dim 0")
    a = input._data.reshape(-1)
    work = a.astype(xp.float32) if a.dtype.itemsize == 2 else a
    lo, hi = float(min), float(max)
    if lo == hi and work.size:
        lo, hi = float(work.min()), float(work.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (xp.isfinite(lo) and xp.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    keep = work[(work >= lo) & (work <= hi)]
    # torch's binning: floor((x - min) * bins / (max - min)), the maximum in the last bin
    pos = ((keep - lo) * bins / (hi - lo)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    counts = xp.bincount(pos, minlength=bins).astype(a.dtype)
    return wrap(counts, input._device)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Same as torch.bincount."""
    xp = input._device.xp
    a = input._data
    if a.dtype.kind not in "iub" or a.dtype.kind == "b":
        raise not_implemented("bincount_cpu", input.dtype)
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None or a.size == 0:  # torch: no input gives int64 zeros, even with weights
        return wrap(xp.bincount(a, minlength=minlength).astype(xp.int64), input._device)
    if weights.shape != input.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    w = weights._data
    out_dt = w.dtype if w.dtype == xp.float32 else xp.float64
    return wrap(xp.bincount(a, weights=w.astype(xp.float64), minlength=minlength).astype(out_dt),
                input._device)


for _name in ("trace", "histc", "bincount"):
    export(_NS, _name, _NS[_name], inplace_too=False)
