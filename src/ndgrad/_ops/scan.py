"""Scans along a dim: cumsum, cumprod, cummax/cummin, logcumsumexp, and diff."""

from __future__ import annotations


import numpy as np

from .._grad_mode import state as _grad_state
from .._dtype import bool_
from .._tensor import Tensor, wrap_dim
from .._typeinfo import finfo
from ..autograd.op import Op
from ..autograd.torch_saves import saves
from .joins import cat
from .elementwise import where
from ._export import export
from ._out import _out
from .._errors import not_implemented
from .reduce import _index_tensor, _is_half, _out_dtype, return_types, select_along
from ._layout import contiguous_result

__all__: list[str] = []
_NS = globals()


def accumulate(xp, ufunc: str, a, axis: int):
    """``ufunc.accumulate`` along ``axis``; a loop over that axis where the array module has no
    accumulate for this ufunc (CuPy)."""
    if xp is np:
        return getattr(np, ufunc).accumulate(a, axis=axis)
    f = getattr(xp, ufunc)
    out = xp.moveaxis(a, axis, 0).copy()
    for i in range(1, out.shape[0]):
        out[i] = f(out[i - 1], out[i])
    return xp.moveaxis(out, 0, axis)


def _flip(xp, a, axis):
    return xp.flip(a, axis=axis) if a.ndim else a


def _unflip(xp, out, axis):
    """A right-to-left scan's result put back in order: a copy, as torch has no negative strides
    (a flipped view would make stride() negative and view() refuse)."""
    return xp.flip(out, axis=axis).copy(order="K")


class Cumsum(Op):
    """Forward or reverse (right-to-left) cumulative sum: each is the other's gradient."""

    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, axis, reverse=False, dtype=None):
        xp = ctx.xp
        if dtype is None and a.dtype.kind in "biu":
            dtype = xp.int64
        if dtype is not None and a.dtype != dtype:
            a = a.astype(dtype)
        ctx.axis, ctx.reverse = axis, reverse
        if a.ndim == 0:
            return a.copy()
        work = a.astype(xp.float32) if _is_half(a) else a
        if not reverse:
            return xp.cumsum(work, axis=axis).astype(a.dtype, copy=False)
        out = xp.empty_like(work)  # written through its flipped view: positive strides
        xp.cumsum(_flip(xp, work, axis), axis=axis, out=_flip(xp, out, axis))
        return out.astype(a.dtype, copy=False)

    def backward(ctx, g):
        return Cumsum.apply(g, ctx.axis, not ctx.reverse)


def cumsum(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Same as torch.cumsum."""
    dtype = _out_dtype(dtype, out)
    if dtype is bool_:  # torch has no bool kernel (a bool input scans as int64)
        raise not_implemented("cumsum_out_cpu", dtype)
    res = Cumsum.apply(input, wrap_dim(dim, input.ndim), dtype=None if dtype is None else dtype.np)
    return _out(res, out, "cumsum", (input,))


def rev_cumsum(input: Tensor, dim: int) -> Tensor:
    """Sums from each position to the end of ``dim`` (internal)."""
    return Cumsum.apply(input, wrap_dim(dim, input.ndim), True)


class Cumprod(Op):
    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, axis, dtype=None):
        xp = ctx.xp
        x = a
        if dtype is None and a.dtype.kind in "biu":
            dtype = xp.int64
        if dtype is not None and a.dtype != dtype:
            x = a.astype(dtype)
        ctx.axis = axis
        if x.ndim == 0:
            out = x.copy()
        else:
            work = x.astype(xp.float32) if _is_half(x) else x
            out = xp.cumprod(work, axis=axis).astype(x.dtype, copy=False)
        ctx.save(a, out)  # the input itself (not a cast copy): its graph serves double backward
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return _cumprod_grad(g.to(a.dtype), a, ctx.axis, out)  # torch casts the gradient


def _cumprod_grad(g: Tensor, a: Tensor, dim: int, out: Tensor) -> Tensor:
    """torch's cumprod_backward: sum_{j>=k} g_j out_j / a_k without zeros. With zeros, first
    order uses torch's masks; a graph to differentiate again uses the product of the other
    factors, prod_{i<k} a_i * Q_k with Q_k = g_k + a_{k+1} Q_{k+1} (a linear scan, no division)."""
    if a.numel() <= 1 or a.shape[dim] == 1:
        return g
    if not (a._data == 0).any():
        return rev_cumsum(out.conj() * g, dim) / a.conj()
    if not _grad_state.grad_enabled:
        res = _cumprod_grad_masks(a._device.xp, g._data, a._data, out._data, dim)
        return Tensor._make(res, a._device)
    prefix = Cumprod.apply(_shift(a, dim, 1, 1), dim)  # exclusive prefix products
    return prefix.conj() * Recur.apply(_shift(a, dim, -1, 0).conj(), g, dim, True)


def _cumprod_grad_masks(xp, g, a, out, dim):
    """torch's first-order cumprod gradient through zeros, on arrays: before the first zero z1,
    the division formula; at z1, prod(a[:z1]) * sum_{z1<=j<z2} g_j prod(a[z1+1:j+1]); after it, 0
    (even where g is inf or nan)."""
    ac = a.conj()
    zeros = xp.cumsum(a == 0, axis=dim)
    before = zeros == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = xp.where(before, out.conj() * g, 0)
        res = xp.where(before, xp.flip(xp.cumsum(xp.flip(w, dim), dim), dim) / ac, 0)
    first = zeros == 1
    z1 = xp.argmax(first, axis=dim, keepdims=True)  # 0 where there is no zero
    at_z1 = first & (xp.arange(a.shape[dim]).reshape(
        [-1 if i == dim else 1 for i in range(a.ndim)]) == z1)
    between = first & ~at_z1
    head = xp.take_along_axis(out.conj(), xp.maximum(z1 - 1, 0), dim)  # prod(a[:z1])
    head = xp.where(z1 == 0, xp.ones((), head.dtype), head)
    tail = xp.cumprod(xp.where(between, ac, xp.ones((), ac.dtype)), axis=dim)
    val = (tail * xp.where(first, g, 0)).sum(axis=dim, keepdims=True) * head
    return xp.where(at_z1, val, res).astype(res.dtype, copy=False)


def _shift(t: Tensor, dim: int, by: int, fill) -> Tensor:
    """``t`` moved one place along ``dim`` (by=1: towards the end), ``fill`` entering."""
    n = t.shape[dim]
    pad = t.new_full((), fill).expand([1 if i == dim else s for i, s in enumerate(t.shape)])
    return cat([pad, t.narrow(dim, 0, n - 1)] if by > 0 else [t.narrow(dim, 1, n - 1), pad], dim)


class Recur(Op):
    """The linear scan out_k = g_k + c_k out_{k-1} along ``axis`` (reverse: c_k out_{k+1}), one
    vectorised step per position. Backward is the transposed scan, run the other way:
    s_j = h_j + c_{j+1} s_{j+1}; d/dg = s, d/dc_k = out_{k-1} s_k."""

    __slots__ = ()

    def forward(ctx, c, g, axis, reverse=False):
        xp = ctx.xp
        cm, gm = xp.moveaxis(c, axis, 0), xp.moveaxis(g, axis, 0)
        res = xp.empty(gm.shape, xp.result_type(c, g))
        n = gm.shape[0]
        acc = None
        for i in (range(n - 1, -1, -1) if reverse else range(n)):
            acc = gm[i] if acc is None else gm[i] + cm[i] * acc
            res[i] = acc
        ctx.axis, ctx.reverse = axis, reverse
        out = xp.moveaxis(res, 0, axis)
        ctx.save(c, out if ctx.needs_input_grad[0] else None)
        return out

    def backward(ctx, h):
        c, out = ctx.saved_tensors
        axis, rev = ctx.axis, ctx.reverse
        step = 1 if rev else -1  # where the coefficient of the transposed scan comes from
        s = Recur.apply(_shift(c, axis, step, 0).conj(), h, axis, not rev)
        gc = _shift(out, axis, -step, 0).conj() * s if out is not None else None
        return gc, s


def cumprod(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Same as torch.cumprod."""
    dtype = _out_dtype(dtype, out)
    if dtype is bool_:  # torch has no bool kernel (a bool input scans as int64)
        raise not_implemented("cumprod_out_cpu", dtype)
    res = Cumprod.apply(input, wrap_dim(dim, input.ndim), dtype=None if dtype is None else dtype.np)
    return _out(res, out, "cumprod", (input,))


def _cum_extreme(fn, input: Tensor, dim: int, out=None):
    if input.ndim == 0 and dim not in (-1, 0):
        raise IndexError(f"{fn}(): Expected reduction dim -1 or 0 for scalar but got {dim}")
    d = wrap_dim(dim, input.ndim)
    xp = input._device.xp
    a = input._data
    if a.dtype.kind == "c":
        raise not_implemented(f"{fn}_cpu", input.dtype)
    if a.ndim == 0:
        idx = xp.zeros((1,), xp.int64)
        vals = select_along(input.reshape(1), idx, 0, False, fn.capitalize() + "Backward0")
        return getattr(return_types, fn)(vals, _index_tensor(idx, False, 0, input._device, vals))
    acc = accumulate(xp, "maximum" if fn == "cummax" else "minimum", a, d)
    # the latest position holding the running extreme (ties move the index forward, as in
    # torch); a nan is the extreme from its position on
    hit = (a == acc)
    if a.dtype.kind in "fV":
        hit = hit | xp.isnan(a)
    pos = xp.arange(a.shape[d]).reshape([-1 if i == d else 1 for i in range(a.ndim)])
    idx = xp.ascontiguousarray(accumulate(xp, "maximum", xp.where(hit, pos, 0), d))  # (the
    # values are gathered in its layout: contiguous, as torch's)
    vals = select_along(input, idx, d, True, fn.capitalize() + "Backward0", repeats=True)
    res = getattr(return_types, fn)(vals, _index_tensor(idx, True, d, input._device,
                                                        saves(vals, input)))  # (as torch's)
    if out is not None:
        _out(res[0], out[0], fn)
        _out(res[1], out[1], fn)
        return getattr(return_types, fn)(out[0], out[1])
    return res


def cummax(input: Tensor, dim: int, *, out=None):
    """Same as torch.cummax: (values, indices)."""
    return _cum_extreme("cummax", input, dim, out)


def cummin(input: Tensor, dim: int, *, out=None):
    """Same as torch.cummin: (values, indices)."""
    return _cum_extreme("cummin", input, dim, out)


class Logcumsumexp(Op):
    """log(cumsum(exp(a))) as a logaddexp scan: no overflow, no underflow of small terms."""

    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, axis, reverse=False):
        xp = ctx.xp
        ctx.axis, ctx.reverse = axis, reverse
        if a.ndim == 0:
            out = a.copy()
        else:
            work = a.astype(xp.float32) if _is_half(a) else a
            if reverse:
                work = xp.flip(work, axis)
            out = (_complex_scan(xp, work, axis) if work.dtype.kind == "c" else
                   accumulate(xp, "logaddexp", work, axis))
            out = (_unflip(xp, out, axis) if reverse else out).astype(a.dtype, copy=False)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if a.ndim == 0 or a.numel() == 0:
            return g
        # torch's logcumsumexp_backward: grad_i = sum_{k >= i} g_k exp(a_i - out_k), summed in
        # log space separately for the positive and negative parts of g so nothing overflows.
        # The parts g lacks are the lowest finite value, not -inf: -inf - -inf would be nan in
        # the scan's own backward (double backward).
        axis, rev = ctx.axis, not ctx.reverse
        scan = Logcumsumexp.apply
        if g.is_complex():  # torch: no sign split, conj(exp(rev_scan(log(conj g) - out) + a))
            with np.errstate(divide="ignore"):
                log_g = g.conj().log()
            return (scan(log_g - out, axis, rev) + a).exp().conj()
        low = g.new_full((), finfo(g.dtype).min)
        with np.errstate(divide="ignore"):  # log 0 = -inf, masked out (torch does not warn)
            log_abs = g.abs().log()
        pos = where(g > 0, log_abs, low) - out
        neg = where(g < 0, log_abs, low) - out
        return (scan(pos, axis, rev) + a).exp() - (scan(neg, axis, rev) + a).exp()


def _complex_scan(xp, a, axis):
    """logcumsumexp of complex ``a`` as torch's CPU kernel: a serial scan of
    ``_log_add_exp_helper`` (a loop over ``axis``, vectorised across the rest)."""
    a = xp.moveaxis(a, axis, 0)
    out = xp.empty_like(a)
    if a.shape[0]:
        out[0] = a[0]
    for i in range(1, a.shape[0]):
        out[i] = _log_add_exp(xp, a[i], out[i - 1])  # torch: (new, running)
    return xp.moveaxis(out, 0, axis)


def _log_add_exp(xp, x, y):
    """log(exp(x) + exp(y)) for complex x, y as torch's: log1p(exp(min - max)) + max, ordered
    by real part; nan stays nan, two equal infinite real parts are handled apart."""
    nan = xp.isnan(x) | xp.isnan(y)
    swap = x.real < y.real
    lo, hi = xp.where(swap, x, y), xp.where(swap, y, x)
    with np.errstate(all="ignore"):
        res = xp.log1p(xp.exp(lo - hi)) + hi
        inf = ~xp.isfinite(lo.real) & (lo.real == hi.real)
        if inf.any():
            res = xp.where(inf, xp.where(lo.real < 0, lo, xp.log(xp.exp(lo) + xp.exp(hi))), res)
    return xp.where(nan, xp.asarray(complex(np.nan, np.nan), res.dtype), res)


def logcumsumexp(input: Tensor, dim: int, *, out=None) -> Tensor:
    """Same as torch.logcumsumexp."""
    if input.dtype._kind < 2:
        raise not_implemented("logcumsumexp_out_cpu", input.dtype)
    return _out(Logcumsumexp.apply(input, wrap_dim(dim, input.ndim)), out, "logcumsumexp")


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """Same as torch.diff."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.ndim)
    if prepend is not None or append is not None:
        if any(t is not None and t.ndim != input.ndim for t in (prepend, append)):
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        input = cat([t for t in (prepend, input, append) if t is not None], d)
    for _ in range(n):
        m = input.shape[d]
        if m == 0:
            break
        hi, lo = input.narrow(d, 1, m - 1), input.narrow(d, 0, m - 1)
        input = hi.logical_xor(lo) if input.dtype._kind == 0 else hi - lo
    return input


for _name in ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff"):
    export(_NS, _name, _NS[_name], inplace_too=_name in ("cumsum", "cumprod"))


def _scan_inplace(twin):
    """``t.cumsum_(dim)`` is torch's cumsum_out(t, t, dim, dtype=t.dtype): the scan runs in
    ``t``'s dtype, so a bool tensor has no kernel (cumsum of one scans as int64)."""

    def fn(input, dim, *, dtype=None):
        return twin(input, dim, dtype=input.dtype if dtype is None else dtype)

    fn.__name__ = fn.__qualname__ = twin.__name__
    fn.__doc__ = twin.__doc__
    return fn


cumsum_, cumprod_ = _scan_inplace(cumsum_), _scan_inplace(cumprod_)  # noqa: F821 (exported)
