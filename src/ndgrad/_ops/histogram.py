"""torch.histogram and torch.histogramdd (histc and bincount live in stats.py)."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._backend import to_device
from .._tensor import Tensor
from ..autograd.op import Op
from ._out import out_arg
from .._errors import no_derivative, not_implemented
from .linalg._common import return_type

__all__ = ["histogram", "histogramdd"]

_histogram_t = return_type("histogram", "hist bin_edges")
_histogramdd_t = return_type("histogramdd", "hist bin_edges")


class _Histogram(Op):
    """Counts and edges; as in torch, both carry a node whose backward raises."""

    __slots__ = ()
    _node_name = "torch::autograd::NotImplemented"

    def forward(ctx, x, *edges, weight=None, density=False, kernel=""):
        ctx.kernel = kernel
        return (_counts(ctx.xp, x, edges, weight, density),) + tuple(e.copy() for e in edges)

    def backward(ctx, *grads):
        raise no_derivative(ctx.kernel)


def _counts(xp, x, edges, weight, density):
    """torch's histogramdd kernel: elements outside [first, last] edge (and nan) are skipped,
    a bin holds [edge_i, edge_i+1), the last bin also its right edge."""
    n = len(edges)
    keep = xp.ones(x.shape[0], bool)
    flat = xp.zeros(x.shape[0], np.int64)
    for d, e in enumerate(edges):
        v = x[:, d]
        keep &= (v >= e[0]) & (v <= e[-1])
        pos = xp.searchsorted(e, v, side="right") - 1
        pos = xp.where(pos >= e.shape[0] - 1, e.shape[0] - 2, pos)
        flat = flat * (e.shape[0] - 1) + pos
    shape = tuple(e.shape[0] - 1 for e in edges)
    w = None if weight is None else weight[keep].astype(np.float64)
    hist = xp.bincount(flat[keep], weights=w, minlength=math.prod(shape))
    hist = hist[:math.prod(shape)].reshape(shape).astype(x.dtype)
    if density:
        with np.errstate(all="ignore"):
            hist = hist / hist.sum()
            for d, e in enumerate(edges):
                hist = hist / xp.diff(e).reshape((-1,) + (1,) * (n - 1 - d))
    return hist.astype(x.dtype)


def _edges(x: Tensor, bins, rng, name: str) -> list:
    """The bin edges per dimension: given tensors, or bins[d] + 1 points spanning the range (or
    the data's min and max; an empty span widened by 0.5 each side, as NumPy and torch do)."""
    n = x.shape[-1]
    dt = x._data.dtype
    if all(isinstance(b, Tensor) for b in bins):
        if len(bins) != n:
            raise RuntimeError(f"torch.histogramdd: expected {n} sequences of bin edges for a "
                               f"{n}-dimensional histogram but got {len(bins)}")
        for d, b in enumerate(bins):
            if b.ndim != 1:
                raise RuntimeError("torch.histogramdd: bins tensor should have one dimension, but "
                                   f"got {b.ndim} dimensions in the bins tensor for dimension {d}")
            if b.shape[0] < 2:
                raise RuntimeError(f"torch.histogram(): bins must be > 0, but got "
                                   f"{b.shape[0] - 1} for dimension {d}")
            if b._data.dtype != dt:
                raise RuntimeError("torch.histogramdd: input tensor and bins tensors should have "
                                   f"the same dtype, but got input with dtype {_c(dt)} and bins "
                                   f"for dimension {d} with dtype {_c(b._data.dtype)}")
        return [b._data for b in bins]
    if len(bins) != n:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    for d, b in enumerate(bins):
        if b <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {b} for dimension "
                               f"{d}")
    flat = x._data.reshape(-1, n)
    if rng is not None:
        if len(rng) != 2 * n:
            raise RuntimeError(f"torch.histogramdd: for a {n}-dimensional histogram range should "
                               f"have {2 * n} elements, but got {len(rng)}")
        lo, hi = [float(r) for r in rng[0::2]], [float(r) for r in rng[1::2]]
    elif flat.shape[0]:
        lo, hi = [float(v) for v in flat.min(0)], [float(v) for v in flat.max(0)]
    else:
        lo, hi = [0.0] * n, [1.0] * n
    from .._creation import _linspace

    out = []
    for d in range(n):
        if not (math.isfinite(lo[d]) and math.isfinite(hi[d])):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{_g(lo[d])}, "
                               f"{_g(hi[d])}] is not finite")
        if lo[d] > hi[d]:
            raise RuntimeError("torch.histogramdd: min should not exceed max, but got min "
                               f"{_g(lo[d])} max {_g(hi[d])} for dimension {d}")
        if lo[d] == hi[d]:
            lo[d], hi[d] = lo[d] - 0.5, hi[d] + 0.5
        e = _linspace(lo[d], hi[d], bins[d] + 1, D.from_numpy(dt)).astype(dt)
        out.append(to_device(e, x._device))
    return out


def _g(v: float) -> str:
    return f"{v:g}"


def _c(npdt) -> str:
    from .._dtype import meta_name

    return meta_name(D.from_numpy(npdt))


def _check(x: Tensor, weight) -> None:
    if x._data.dtype.kind != "f" or x._data.dtype.itemsize == 2:
        raise not_implemented("histogramdd", x.dtype)
    if weight is None:
        return
    if tuple(weight.shape) != tuple(x.shape[:-1]):
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the "
                           "same shape as the input tensor excluding its innermost dimension, but "
                           f"got input with shape {list(x.shape)} and weight with shape "
                           f"{list(weight.shape)}")
    if weight.dtype is not x.dtype:
        raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and "
                           f"weight tensor should have the same dtype, but got input"
                           f"({_c(x._data.dtype)}), and weight({_c(weight._data.dtype)})")


def _run(x: Tensor, bins: list, rng, weight, density, kernel) -> tuple:
    _check(x, weight)
    edges = _edges(x, bins, rng, kernel)
    w = None if weight is None else weight._data.reshape(-1)
    ins = [Tensor._make(e, x._device) for e in edges]
    return _Histogram.apply(x.reshape(-1, x.shape[-1]), *ins, weight=w, density=density,
                            kernel=kernel)


@out_arg(dtype_error="torch.histogram: input tensor and hist tensor should have the "
                     "same dtype, but got input {want} and hist {got}")
def histogram(input: Tensor, bins=100, *, range=None, weight=None, density=False, out=None):
    """Same as torch.histogram."""
    if isinstance(bins, Tensor) and range is not None:
        raise TypeError("histogram() received an invalid combination of arguments - got (Tensor, "
                        "Tensor, range=tuple), but expected one of:\n * (Tensor input, Tensor "
                        "bins, *, Tensor weight = None, bool density = False, tuple of Tensors out "
                        "= None)\n * (Tensor input, int bins = 100, *, tuple of floats range = "
                        "None, Tensor weight = None, bool density = False, tuple of Tensors out = "
                        "None)\n")
    weight = None if weight is None else weight.reshape(-1)
    hist, edges = _run(input.reshape(-1, 1), [bins], range, weight, density, "histogram")
    return _histogram_t(hist, edges)


def histogramdd(input: Tensor, bins=10, *, range=None, weight=None, density=False):
    """Same as torch.histogramdd."""
    if input.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    n = input.shape[-1]
    if isinstance(bins, int):
        bins = [bins] * n
    bins = list(bins)
    kernel = ("_histogramdd_from_bin_tensors" if bins and isinstance(bins[0], Tensor) else
              "_histogramdd_from_bin_cts")
    hist, *edges = _run(input, bins, range, weight, density, kernel)
    return _histogramdd_t(hist, tuple(edges))

