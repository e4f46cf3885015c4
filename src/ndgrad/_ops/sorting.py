"""Order statistics: sort/argsort/msort, topk, kthvalue, median/nanmedian, mode,
quantile/nanquantile, unique/unique_consecutive, isin."""

from __future__ import annotations

import numpy as np

from .._backend import errstate, to_device, to_numpy
from .. import _dtype as D
from .._dtype import promote_types, result_type, torch_type_name
from .._tensor import Tensor, wrap_dim
from ..autograd.op import Op
from ..autograd.torch_saves import saves
from ._out import _out, write_out
from .indexing import _like
from .._errors import empty_reduction, no_dims_error, not_implemented
from ._export import export
from ._operands import wrap
from .reduce import _index_tensor, _rename, return_types, select_along
from .scan import accumulate
from .stl_order import mode_ties, quickselect_ties, stl_topk

__all__: list[str] = []
_NS = globals()


def argsort_array(xp, a, axis: int, descending: bool = False):
    """Stable argsort; nan sorts as the largest value, as in torch."""
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    # the stable ascending order of the reversed slice, reversed: descending with ties (and nans)
    # still in their original order
    n = a.shape[axis]
    r = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return xp.flip(n - 1 - r, axis)


def _check_sortable(input: Tensor) -> None:
    if input.is_complex():
        raise RuntimeError(" Sort does not support complex dtypes on CPU")


def _sorted(input: Tensor, dim: int, descending: bool, name: str, k: int | None = None,
            fix_order: bool = False):
    """(values, indices) of ``input`` sorted along ``dim``, the first ``k`` only if given
    (``fix_order``: in torch's unsorted order, see _stl_topk)."""
    _check_sortable(input)
    xp = input._device.xp
    d = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        idx = xp.zeros((1,), xp.int64)
        vals = select_along(input.reshape(1), idx, 0, False, name)
        return vals, _index_tensor(idx, False, 0, input._device, vals)
    idx = argsort_array(xp, input._data, d, descending)
    if k is not None:
        full, idx = idx, xp.take(idx, xp.arange(k), axis=d)
        if xp is np and k:  # torch's order among ties (and unsorted), see _stl_topk
            idx = stl_topk(input._data, full, idx, d, k, descending, fix_order)
    else:
        idx = _like_input(xp, idx, input._data)
    vals = select_along(input, idx, d, True, name)
    return vals, _index_tensor(idx, True, d, input._device, vals)


def _like_input(xp, idx, a):
    """Sorted indices laid out as torch's sort lays out both its results: in ``a``'s order of
    dims (take_along_axis then follows the indices' layout)."""
    out = _like(xp, a, idx.dtype)
    out[...] = idx
    return out


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *,
         out=None):
    """Same as torch.sort (always stable)."""
    res = return_types.sort(*_sorted(input, dim, descending, "SortBackward0"))
    return _tuple_out(res, out, "sort")


def _tuple_out(res, out, name):
    """(values, indices) written into ``out``: torch wants both of the result's own dtypes."""
    return res if out is None else write_out(res, out, name)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Same as torch.argsort (always stable)."""
    _check_sortable(input)
    xp = input._device.xp
    d = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return wrap(xp.zeros((), xp.int64), input._device)
    idx = _like_input(xp, argsort_array(xp, input._data, d, descending), input._data)
    return _index_tensor(idx, True, d, input._device)


def msort(input: Tensor, *, out=None) -> Tensor:
    """Same as torch.msort: sorted along dim 0."""
    return _out(sort(input, 0).values, out, "msort")


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *,
         out=None):
    """Same as torch.topk (its order among ties, and with sorted=False, where it selects rather than
    sorts: see _stl_topk)."""
    if input.dtype is D.bool_ or input.is_complex():
        raise RuntimeError(f"{'' if input.dtype is D.bool_ else ' '}topk does not support "
                           f"{'bool' if input.dtype is D.bool_ else 'complex'} dtypes on CPU")
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if k < 0 or k > size:
        raise RuntimeError("selected index k out of range")
    res = return_types.topk(*_sorted(input, dim, largest, "TopkBackward0", k, not sorted))
    return _tuple_out(res, out, "topk")


def _pick(input: Tensor, dim: int, keepdim: bool, pos_fn, name: str, kind: str):
    """The element at sorted position ``pos_fn(sorted_values, sorted_indices, d)`` (a raw index
    array with keepdims) along ``dim``, as (values, indices)."""
    xp = input._device.xp
    a = input._data
    if a.ndim == 0:
        a, input, d = a.reshape(1), input.reshape(1), 0
        keepdim = False
    else:
        d = wrap_dim(dim, a.ndim)
    order = argsort_array(xp, a, d)
    srt = xp.take_along_axis(a, order, axis=d)
    pos = pos_fn(xp, srt, d)
    idx = xp.take_along_axis(order, pos, axis=d)
    if kind == "kthvalue" and xp is np:
        idx = quickselect_ties(a, srt, pos, idx, d)
    elif kind == "mode" and xp is np:
        idx = mode_ties(a, srt, idx, d)
    vals = select_along(input, idx, d, keepdim, name)
    return getattr(return_types, kind)(vals, _index_tensor(idx, keepdim, d, input._device, vals))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    """Same as torch.kthvalue: the k-th smallest element (1-based)."""
    if input.dtype is D.bool_ or input.is_complex():
        raise not_implemented("kthvalue_cpu", input.dtype)
    d = wrap_dim(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if size == 0:
        raise empty_reduction("kthvalue", d)
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")

    def pos(xp, srt, d):
        return xp.full(_keep(srt.shape, d), k - 1, xp.int64)

    return _tuple_out(_pick(input, dim, keepdim, pos, "KthvalueBackward0", "kthvalue"), out,
                      "kthvalue")


def _keep(shape, d):
    s = list(shape)
    s[d] = 1
    return tuple(s)


def _median_pos(ignore_nan):
    def pos(xp, srt, d):
        n = srt.shape[d]
        nan = xp.isnan(srt) if srt.dtype.kind in "fV" else xp.zeros(srt.shape, bool)
        nans = nan.sum(axis=d, keepdims=True)
        if ignore_nan:  # the lower median of the values that are not nan (nan if all are)
            valid = n - nans
            return xp.where(valid > 0, (valid - 1) // 2, 0).astype(xp.int64)
        # nan sorts last; a slice with a nan has the first nan as its median
        return xp.where(nans > 0, n - nans, (n - 1) // 2).astype(xp.int64)

    return pos


def _median_dim(input, dim, keepdim, ignore_nan):
    name = "nanmedian" if ignore_nan else "median"
    if input.dtype._kind in (0, 3):
        raise not_implemented("median_out", input.dtype)
    _check_sortable(input)
    d = wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise empty_reduction(name, d)
    node = "NanmedianBackward1" if ignore_nan else "MedianBackward1"
    return _pick(input, dim, keepdim, _median_pos(ignore_nan), node, name)


class _Median(Op):
    """median() of all elements: its gradient is shared by every element equal to it."""

    __slots__ = ()

    def forward(ctx, a, ignore_nan=False):
        xp = ctx.xp
        flat = a.reshape(-1)
        if flat.size == 0:  # nan, cast as torch does for integers (NumPy's cast agrees)
            with errstate(xp, invalid="ignore"):
                out = xp.asarray(xp.nan).astype(a.dtype)
        else:
            srt = xp.sort(flat)
            out = srt[_median_pos(ignore_nan)(xp, srt[None], 1)[0, 0]]
        ctx.save(a, out)
        return xp.asarray(out, a.dtype)

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if a.numel() == 0:
            return a * 0
        mask = a.isnan() if bool(out.isnan()) else (a == out)
        return mask * (g / mask.sum())


def median(input: Tensor, dim: int | None = None, keepdim: bool = False, *, out=None):
    """Same as torch.median: the lower median; nan if there is one."""
    if dim is None:
        if input.dtype._kind in (0, 3):  # torch has no bool or complex median kernel
            raise not_implemented("median_cpu", input.dtype)
        _check_sortable(input)
        res = _rename(_Median.apply(input), "MedianBackward0")
        return _out(saves(res, outputs=(res,)), out, "median")  # torch's node saves its result
    return _tuple_out(_median_dim(input, dim, keepdim, False), out, "median")


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False, *, out=None):
    """Same as torch.nanmedian: the lower median of the values that are not nan."""
    if dim is None:
        if input.dtype._kind in (0, 3):  # torch has no bool or complex median kernel
            raise not_implemented("median_cpu", input.dtype)
        _check_sortable(input)
        res = _rename(_Median.apply(input, ignore_nan=True), "NanmedianBackward0")
        return _out(saves(res, outputs=(res,)), out, "nanmedian")  # (as median's)
    return _tuple_out(_median_dim(input, dim, keepdim, True), out, "nanmedian")


def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out=None):
    """Same as torch.mode: the most frequent value (the smallest on ties) and torch's index of it
    (see stl_order.mode_ties)."""
    if input.is_complex():
        raise not_implemented("mode_cpu", input.dtype)
    _check_sortable(input)
    d = wrap_dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise empty_reduction("mode", d)

    def pos(xp, srt, d):
        n = srt.shape[d]
        moved = xp.moveaxis(srt, d, -1)
        change = moved[..., 1:] != moved[..., :-1]
        edge = xp.ones(change.shape[:-1] + (1,), bool)
        first = xp.concatenate([edge, change], -1)
        last = xp.concatenate([change, edge], -1)
        j = xp.arange(n)
        start = accumulate(xp, "maximum", xp.where(first, j, 0), -1)
        run = xp.where(last, j - start + 1, 0)
        # the first longest run in sorted order is the smallest most frequent value; its last
        # position is, by stability, that value's last occurrence
        best = xp.argmax(run, axis=-1)[..., None]
        return xp.moveaxis(best, -1, d)

    return _tuple_out(_pick(input, dim, keepdim, pos, "ModeBackward0", "mode"), out, "mode")


# --- quantile -----------------------------------------------------------------------------------
_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, input: Tensor, q, dim, keepdim, interpolation, ignore_nan):
    from .gather import gather
    from .pointwise import lerp

    xp = input._device.xp
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if input.dtype.name not in ("float32", "float64"):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    if not scalar_q:
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    qa = xp.asarray(q._data if not scalar_q else q, dtype=input._data.dtype).reshape(-1)
    if qa.size and not ((qa >= 0) & (qa <= 1)).all():
        bad = qa[~((qa >= 0) & (qa <= 1))][0]
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {bad:g}"
                           if scalar_q else f"{name}() q values must be in the range [0, 1]")
    # torch's steps: sort with the reduced dim last, view that as the result's rows (1s where
    # keepdim) and a last dim, gather at ranks there (q last), then move q first
    ndim = input.ndim
    if dim is None:
        srt, rows = sort(input.reshape(-1)).values, [1] * ndim if keepdim else []
    else:
        d = wrap_dim(dim, ndim)
        srt = sort(input if d == ndim - 1 else input.unsqueeze(-1).transpose(d, -1)).values
        rows = [1 if k == d else n for k, n in enumerate(input.shape) if keepdim or k != d]
    n = srt.shape[-1]
    srt = srt.reshape(rows + [n])
    s, dt = srt._data, srt._data.dtype
    nan = xp.isnan(s)
    if ignore_nan:  # ranks among the values that are not nan (0 if all are)
        ranks = xp.maximum(qa * (n - nan.sum(-1, keepdims=True) - 1).astype(dt), 0)
    else:  # a slice with a nan gives nan: rank it last
        ranks = xp.where(nan.any(-1, keepdims=True), dt.type(n - 1), qa * dt.type(n - 1))
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)  # half to even, as torch
    below = ranks.astype(xp.int64)
    out = gather(srt, -1, wrap(below, input._device))
    if interpolation in ("linear", "midpoint"):
        w = xp.full(below.shape, 0.5, dt) if interpolation == "midpoint" else ranks - below
        hi = gather(srt, -1, wrap(xp.ceil(ranks).astype(xp.int64), input._device))
        out = lerp(out, hi, wrap(w.astype(dt), input._device))
    return _rename(_QFirst.apply(out, scalar_q), "SqueezeBackward4")


class _QFirst(Op):
    """The end of torch's quantile: the q dim (last) dropped for a scalar q, else moved first, by
    ops in place on a tensor of its own (so the result is not a view)."""

    __slots__ = ()

    def forward(ctx, a, scalar):
        ctx.scalar = scalar
        return a[..., 0] if scalar else ctx.xp.moveaxis(a, -1, 0)

    def backward(ctx, g):
        return g.unsqueeze(-1) if ctx.scalar else g.movedim(0, -1)


def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear", out=None) -> Tensor:
    """Same as torch.quantile."""
    return _out(_quantile("quantile", input, q, dim, keepdim, interpolation, False), out,
                "quantile")


def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear", out=None) -> Tensor:
    """Same as torch.nanquantile."""
    # torch's messages say quantile() for both
    return _out(_quantile("quantile", input, q, dim, keepdim, interpolation, True), out,
                "nanquantile")


# --- unique, isin -------------------------------------------------------------------------------
class _Unique(Op):
    """unique's values: torch records a node for them but has no derivative (backward raises)."""

    __slots__ = ()

    def forward(ctx, a, vals, what):
        ctx.what = what
        return vals

    def backward(ctx, g):
        raise NotImplementedError(f"the derivative for '{ctx.what}' is not implemented.")


_UNIQUE_NODES = {"_unique2": "Unique2Backward0", "unique_dim": "UniqueDimBackward0",
                 "unique_consecutive": "UniqueConsecutiveBackward0"}


def _unique_result(input, what, vals, inverse, counts, return_inverse, return_counts):
    dev = input._device
    xp = dev.xp
    out = [_rename(_Unique.apply(input, vals, what), _UNIQUE_NODES[what])]
    if return_inverse:
        out.append(wrap(inverse.astype(xp.int64), dev))
    if return_counts:
        out.append(wrap(counts.astype(xp.int64), dev))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_dim(a, dim: int) -> int:
    """``dim`` wrapped, with torch's checks for 0-d and empty inputs."""
    if a.ndim == 0:
        raise no_dims_error(dim)
    d = wrap_dim(dim, a.ndim)
    if a.size == 0:
        if a.shape[d]:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                               "cannot be applied")
        if a.shape.count(0) > 1:
            raise RuntimeError("Number of zero sized dimensions is more than one, so unique "
                               "cannot be applied ")
    return d


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """Same as torch.unique (the result is always sorted, as torch's CPU kernel does)."""
    import numpy as np

    if input.is_complex():  # torch's kernels have no complex code
        raise not_implemented("unique" if dim is None else "unique_dim", input.dtype)
    dev = input._device
    a = to_numpy(input._data)  # a data-dependent size: computed on the host
    if dim is not None:
        d = _unique_dim(a, dim)
        if a.shape[d] == 0:
            vals, inv, cnt = a.copy(), np.zeros(0, np.int64), np.zeros(0, np.int64)
        else:
            vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d,
                                       equal_nan=False)
        inv = inv.reshape(-1)
    else:
        vals, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True,
                                   equal_nan=False)
        inv = inv.reshape(a.shape)
    vals, inv, cnt = (to_device(x, dev) for x in (vals, inv, cnt))
    return _unique_result(input, "_unique2" if dim is None else "unique_dim", vals, inv, cnt,
                          return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """Same as torch.unique_consecutive."""
    if input.is_complex():
        raise not_implemented("unique", input.dtype)
    xp = input._device.xp
    a = input._data
    if dim is None:
        flat, d, moved = a.reshape(-1), 0, None
    else:
        d = _unique_dim(a, dim)
        moved = xp.moveaxis(a, d, 0)
        flat = moved.reshape(moved.shape[0], a.size // max(a.shape[d], 1))
    n = flat.shape[0]
    if n == 0:
        keep = xp.zeros(0, bool)
    else:
        diff = flat[1:] != flat[:-1]
        if diff.ndim > 1:
            diff = diff.any(axis=1)
        keep = xp.concatenate([xp.ones(1, bool), diff])
    starts = xp.nonzero(keep)[0]
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n])]))
    inverse = xp.cumsum(keep) - 1
    if dim is None:
        return _unique_result(input, "unique_consecutive", flat[keep], inverse.reshape(a.shape),
                              counts, return_inverse, return_counts)
    vals = xp.moveaxis(xp.ascontiguousarray(moved[keep]), 0, d)  # torch's layout
    return _unique_result(input, "unique_consecutive", vals, inverse, counts, return_inverse,
                          return_counts)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Same as torch.isin."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(
            f"isin() received an invalid combination of arguments - got ("
            f"{type(elements).__name__}, {type(test_elements).__name__}), but expected one of:\n"
            " * (Tensor elements, Tensor test_elements, *, bool assume_unique = False, bool "
            "invert = False, Tensor out = None)\n * (Number element, Tensor test_elements, *, "
            "bool assume_unique = False, bool invert = False, Tensor out = None)\n * (Tensor "
            "elements, Number test_element, *, bool assume_unique = False, bool invert = False, "
            "Tensor out = None)\n")
    ref = elements if isinstance(elements, Tensor) else test_elements
    for t in (elements, test_elements):
        kind = t.dtype._kind if isinstance(t, Tensor) else 0 if isinstance(t, bool) else \
            3 if isinstance(t, complex) else 1
        if kind in (0, 3):
            name = torch_type_name(t.dtype) if isinstance(t, Tensor) else \
                "Bool" if kind == 0 else "ComplexDouble"
            raise RuntimeError(f"Unsupported input type encountered for isin(): {name}")
    xp = ref._device.xp
    e, t = (x._data if isinstance(x, Tensor) else xp.asarray(x) for x in (elements, test_elements))
    # torch compares in result_type (a Python int wraps into a narrower integer dtype) when it
    # takes its brute-force path, else in the promotion of both as 1-D tensors
    if t.size < int(10.0 * float(e.size) ** 0.145):
        common = result_type(elements, test_elements).np
    else:
        common = promote_types(*(x.dtype if isinstance(x, Tensor) else
                                 D.int64 if isinstance(x, int) else D.float64
                                 for x in (elements, test_elements))).np
    res = xp.isin(e.astype(common, copy=False), t.astype(common, copy=False),
                  assume_unique=assume_unique, invert=invert)
    return wrap(res, ref._device)


for _name in ("sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
              "quantile", "nanquantile", "unique", "unique_consecutive", "isin"):
    export(_NS, _name, _NS[_name], inplace_too=False)
