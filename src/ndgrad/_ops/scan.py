"""Scans along a dim: cumsum, cumprod, cummax/cummin, logcumsumexp, and diff."""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor, wrap_dim
from ..autograd.function import Op
from .elementwise import _out, export, not_implemented, where
from .reduce import _index_tensor, _is_half, return_types, select_along

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


class Cumsum(Op):
    """Forward or reverse (right-to-left) cumulative sum: each is the other's gradient."""

    __slots__ = ()

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
        out = xp.cumsum(_flip(xp, work, axis) if reverse else work, axis=axis)
        return (_flip(xp, out, axis) if reverse else out).astype(a.dtype, copy=False)

    def backward(ctx, g):
        return Cumsum.apply(g, ctx.axis, not ctx.reverse)


def cumsum(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Same as torch.cumsum."""
    res = Cumsum.apply(input, wrap_dim(dim, input.ndim), dtype=None if dtype is None else dtype.np)
    return _out(res, out, "cumsum")


def rev_cumsum(input: Tensor, dim: int) -> Tensor:
    """Sums from each position to the end of ``dim`` (internal)."""
    return Cumsum.apply(input, wrap_dim(dim, input.ndim), True)


class Cumprod(Op):
    __slots__ = ()

    def forward(ctx, a, axis, reverse=False, dtype=None):
        xp = ctx.xp
        if dtype is None and a.dtype.kind in "biu":
            dtype = xp.int64
        if dtype is not None and a.dtype != dtype:
            a = a.astype(dtype)
        ctx.axis, ctx.reverse = axis, reverse
        if a.ndim == 0:
            out = a.copy()
        else:
            work = a.astype(xp.float32) if _is_half(a) else a
            out = xp.cumprod(_flip(xp, work, axis) if reverse else work, axis=axis)
            out = (_flip(xp, out, axis) if reverse else out).astype(a.dtype, copy=False)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        axis, reverse = ctx.axis, ctx.reverse
        if a.ndim == 0:
            return g
        back = rev_cumsum if not reverse else cumsum
        if not (a == 0).any():
            # d out_k / d a_i = out_k / a_i for k >= i
            return back((g * out.conj()), axis) / a.conj()
        return _cumprod_grad_zeros(a, g, axis, reverse)


def _cumprod_grad_zeros(a: Tensor, g: Tensor, axis: int, reverse: bool) -> Tensor:
    """The cumprod gradient when the input has zeros (no division): grad_i = P_i * Q_i with P the
    exclusive prefix product and Q_i = g_i + a_{i+1} Q_{i+1}, a recurrence run along ``axis``."""
    xp = a._device.xp
    x, gg = a._data, g._data
    if reverse:
        x, gg = xp.flip(x, axis), xp.flip(gg, axis)
    x, gg = xp.moveaxis(x, axis, -1), xp.moveaxis(gg, axis, -1)
    n = x.shape[-1]
    prefix = xp.concatenate([xp.ones_like(x[..., :1]), xp.cumprod(x[..., :-1], axis=-1)], -1)
    q = xp.empty_like(gg if gg.dtype.kind == "c" else prefix)
    acc = xp.zeros_like(q[..., 0])
    for i in range(n - 1, -1, -1):  # one vectorised step per position along the dim
        nxt = x[..., i + 1] if i + 1 < n else 0
        acc = gg[..., i] + xp.conj(nxt) * acc
        q[..., i] = acc
    res = xp.moveaxis(xp.conj(prefix) * q, -1, axis)
    if reverse:
        res = xp.flip(res, axis)
    return Tensor._make(res.astype(g._data.dtype, copy=False), a._device)


def cumprod(input: Tensor, dim: int, *, dtype=None, out=None) -> Tensor:
    """Same as torch.cumprod (its gradient through zeros is first-order only)."""
    res = Cumprod.apply(input, wrap_dim(dim, input.ndim), dtype=None if dtype is None else dtype.np)
    return _out(res, out, "cumprod")


def rev_cumprod(input: Tensor, dim: int) -> Tensor:
    """Products from each position to the end of ``dim`` (internal)."""
    return Cumprod.apply(input, wrap_dim(dim, input.ndim), True)


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
        return getattr(return_types, fn)(vals, _index_tensor(idx, False, 0, input._device))
    acc = accumulate(xp, "maximum" if fn == "cummax" else "minimum", a, d)
    # the latest position holding the running extreme (ties move the index forward, as in
    # torch); a nan is the extreme from its position on
    hit = (a == acc)
    if a.dtype.kind in "fV":
        hit = hit | xp.isnan(a)
    pos = xp.arange(a.shape[d]).reshape([-1 if i == d else 1 for i in range(a.ndim)])
    idx = accumulate(xp, "maximum", xp.where(hit, pos, 0), d)
    vals = select_along(input, idx, d, True, fn.capitalize() + "Backward0", repeats=True)
    res = getattr(return_types, fn)(vals, _index_tensor(idx, True, d, input._device))
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

    def forward(ctx, a, axis, reverse=False):
        xp = ctx.xp
        ctx.axis, ctx.reverse = axis, reverse
        if a.ndim == 0:
            out = a.copy()
        else:
            work = a.astype(xp.float32) if _is_half(a) else a
            if reverse:
                work = xp.flip(work, axis)
            out = accumulate(xp, "logaddexp", work, axis)
            out = (xp.flip(out, axis) if reverse else out).astype(a.dtype, copy=False)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if a.ndim == 0:
            return g
        # grad_i = sum_{k >= i} g_k exp(a_i - out_k), summed in log space separately for the
        # positive and negative parts of g so nothing overflows
        axis, rev = ctx.axis, not ctx.reverse
        ninf = g.new_full((), -math.inf)
        pos = where(g > 0, g.abs().log(), ninf) - out
        neg = where(g < 0, g.abs().log(), ninf) - out
        scan = Logcumsumexp.apply
        return (scan(pos, axis, rev) + a).exp() - (scan(neg, axis, rev) + a).exp()


def logcumsumexp(input: Tensor, dim: int, *, out=None) -> Tensor:
    """Same as torch.logcumsumexp (real inputs only)."""
    if input.dtype._kind < 2:
        raise not_implemented("logcumsumexp_out_cpu", input.dtype)
    if input.is_complex():
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
        from .movement import cat

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
