"""Reductions: sum, mean, max/min (with indices), amax/amin, prod, var/std, logsumexp, sum_to_size."""

from __future__ import annotations

from collections import namedtuple

from .. import _dtype as D
from .._tensor import Tensor, tensor_method, wrap_dims
from ..autograd.function import Op
from ._inplace import torch_type_name

__all__ = ["all", "amax", "amin", "any", "argmax", "argmin", "max", "mean", "min", "sum"]

_HALF = (D.float16.np, D.bfloat16.np)


def _axes(dim, ndim):
    """dim=None or () means every axis, as in torch."""
    if dim is None or dim == () or dim == []:
        return None
    return wrap_dims(dim, ndim)


def _expand_back(g, shape, axes, keepdim):
    """A reduced gradient reshaped (keepdim) and broadcast back to the input's shape."""
    if not keepdim and axes is not None:
        kept = list(g.shape)
        for ax in sorted(axes):
            kept.insert(ax, 1)
        g = g.reshape(kept)
    elif not keepdim:
        g = g.reshape((1,) * len(shape))
    return g.expand(shape)


class Sum(Op):
    __slots__ = ()

    def forward(ctx, a, axes=None, keepdim=False, dtype=None):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        if dtype is None and a.dtype.kind in "biu":
            dtype = ctx.xp.int64
        if a.dtype in _HALF:  # accumulate in float32, like torch
            return a.astype(ctx.xp.float32).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        return a.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)


class Mean(Op):
    __slots__ = ()

    def forward(ctx, a, axes=None, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.count = a.size // (_size(a.shape, axes, keepdim=True) or 1)  # max is torch.max here
        if a.dtype in _HALF:
            return a.astype(ctx.xp.float32).mean(axis=axes, keepdims=keepdim).astype(a.dtype)
        return a.mean(axis=axes, keepdims=keepdim)

    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim) / ctx.count


def _size(shape, axes, keepdim):
    import math

    if axes is None:
        return 1
    return math.prod(1 if i in axes else s for i, s in enumerate(shape))


@tensor_method
def sum(input, dim=None, keepdim=False, *, dtype=None):
    axes = _axes(dim, input.ndim)
    out = Sum.apply(input, axes, keepdim, dtype=None if dtype is None else dtype.np)
    if out._grad_fn is not None and axes is not None:
        out._grad_fn._name = "SumBackward1"
    return out


@tensor_method
def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    dt = input.dtype
    if not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {torch_type_name(dt)}")
    axes = _axes(dim, input.ndim)
    out = Mean.apply(input, axes, keepdim)
    if out._grad_fn is not None and axes is not None:
        out._grad_fn._name = "MeanBackward1"
    return out


def sum_to_size(g: Tensor, shape) -> Tensor:
    """Sum a broadcast gradient back to ``shape`` (leading axes and axes that were 1)."""
    shape = tuple(shape)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if axes:
        g = sum(g, axes, keepdim=True)
    if lead:
        g = g.reshape(shape)
    return g


Tensor.sum_to_size = lambda self, *size: sum_to_size(
    self, size[0] if len(size) == 1 and not isinstance(size[0], int) else size)


class Amax(Op):
    """amax/amin and max()/min() without dim: ties share the gradient evenly, as in torch."""

    __slots__ = ()

    def forward(ctx, a, axes=None, keepdim=False, fn="max"):
        if a.size == 0 and (axes is None or any(a.shape[i] == 0 for i in axes)):
            raise RuntimeError(f"{fn}(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        out = getattr(a, fn)(axis=axes, keepdims=keepdim)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        out = _expand_back(out, ctx.shape, ctx.axes, ctx.keepdim)
        mask = (a == out).to(g.dtype)
        count = sum(mask, ctx.axes, keepdim=True)
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim) * mask / count


class MaxDim(Op):
    """max/min along a dim: values and indices; the gradient goes to the chosen index."""

    __slots__ = ()

    def forward(ctx, a, dim, keepdim=False, fn="max"):
        xp = ctx.xp
        if a.ndim == 0:
            return a.copy(), xp.zeros((), xp.int64)
        if a.shape[dim] == 0:
            raise IndexError(f"{fn}(): Expected reduction dim {dim} to have non-zero size.")
        arg = xp.nanargmax if False else (xp.argmax if fn == "max" else xp.argmin)
        idx = xp.expand_dims(arg(a, axis=dim), dim)
        if a.dtype.kind == "f":  # nan wins, as in torch
            nan = xp.isnan(a)
            has_nan = nan.any(axis=dim, keepdims=True)
            idx = xp.where(has_nan, xp.expand_dims(xp.argmax(nan, axis=dim), dim), idx)
        vals = xp.take_along_axis(a, idx, axis=dim)
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        ctx.save(idx)
        return vals, idx.astype(xp.int64)

    def backward(ctx, g, _):
        (idx,) = ctx.saved_tensors
        if not ctx.keepdim:
            g, idx = g.unsqueeze(ctx.dim), idx.unsqueeze(ctx.dim)
        zeros = g.new_zeros(ctx.shape)
        return zeros.scatter(ctx.dim, idx, g)


return_types = {n: namedtuple(n, ["values", "indices"]) for n in (
    "max", "min", "sort", "topk", "kthvalue", "median", "mode", "cummax", "cummin", "nanmedian")}


def _max_min(fn, input, dim=None, keepdim=False):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        from .elementwise import maximum, minimum

        return (maximum if fn == "max" else minimum)(input, dim)
    if dim is None:
        out = Amax.apply(input, None, False, fn=fn)
        if out._grad_fn is not None:
            out._grad_fn._name = "MaxBackward1" if fn == "max" else "MinBackward1"
        return out
    d = wrap_dims(dim, input.ndim)[0] if input.ndim else 0
    vals, idx = MaxDim.apply(input, d, keepdim, fn=fn)
    if vals._grad_fn is not None:
        vals._grad_fn._name = "MaxBackward0" if fn == "max" else "MinBackward0"
    return return_types[fn](vals, idx)


@tensor_method
def max(input, dim=None, keepdim=False):
    return _max_min("max", input, dim, keepdim)


@tensor_method
def min(input, dim=None, keepdim=False):
    return _max_min("min", input, dim, keepdim)


@tensor_method
def amax(input, dim=(), keepdim=False):
    return Amax.apply(input, _axes(dim, input.ndim), keepdim, fn="max")


@tensor_method
def amin(input, dim=(), keepdim=False):
    out = Amax.apply(input, _axes(dim, input.ndim), keepdim, fn="min")
    if out._grad_fn is not None:
        out._grad_fn._name = "AminBackward0"
    return out


@tensor_method
def argmax(input, dim=None, keepdim=False):
    xp = input._device.xp
    a = input._data
    if dim is None:
        out = xp.asarray(xp.argmax(a.reshape(-1)), dtype=xp.int64)
        return Tensor._make(out.reshape((1,) * a.ndim) if keepdim else out, input._device)
    return max(input, dim, keepdim).indices


@tensor_method
def argmin(input, dim=None, keepdim=False):
    xp = input._device.xp
    a = input._data
    if dim is None:
        out = xp.asarray(xp.argmin(a.reshape(-1)), dtype=xp.int64)
        return Tensor._make(out.reshape((1,) * a.ndim) if keepdim else out, input._device)
    return min(input, dim, keepdim).indices


@tensor_method
def all(input, dim=None, keepdim=False):
    xp = input._device.xp
    out = xp.all(input._data, axis=_axes(dim, input.ndim), keepdims=keepdim)
    return Tensor._make(xp.asarray(out), input._device)


@tensor_method
def any(input, dim=None, keepdim=False):
    xp = input._device.xp
    out = xp.any(input._data, axis=_axes(dim, input.ndim), keepdims=keepdim)
    return Tensor._make(xp.asarray(out), input._device)
