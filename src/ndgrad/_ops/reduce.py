"""Reductions: sum/mean/prod (and nan variants), max/min/amax/amin/aminmax/argmax/argmin,
var/std (and *_mean), logsumexp, all/any, count_nonzero, dist; plus the gather-along-dim pair
(Select/PutAlong) that every index-returning reduction differentiates through."""

from __future__ import annotations

import builtins
import math
import types
from collections import namedtuple

import numpy as np

from .. import _dtype as D
from .._grad_mode import state as _grad_state
from .._tensor import Tensor, wrap_dim, wrap_dims
from ..autograd.op import Op
from ..autograd.torch_saves import saves
from ..autograd.node import _check_grads
from .._dtype import torch_type_name
from ._out import _out, write_out
from .binary import maximum, minimum
from .joins import cat
from .._errors import empty_reduction, not_implemented, repeated_dim
from .elementwise import where
from ._operands import _is_half, wrap
from ._export import export
from ._layout import contiguous_result

__all__: list[str] = ["return_types"]
_NS = globals()


def _axes(dim, ndim):
    """Normalised reduction axes; None (every axis) for dim=None, (), [] or a 0-d input."""
    if dim is None or dim == () or dim == []:
        return None
    axes = wrap_dims(dim, ndim)
    if len(set(axes)) != len(axes):
        d = next(a for a in axes if axes.count(a) > 1)
        raise repeated_dim(d)
    return axes if ndim else None


def _expand_back(g, shape, axes, keepdim):
    """A reduced gradient reshaped (keepdim) and broadcast back to the input's shape."""
    if not _grad_state.grad_enabled:  # first order (hooks, anomaly mode): a raw broadcast view
        return Tensor._make(_expand_array(g._device.xp, g._data, shape, axes, keepdim), g._device)
    if not keepdim:
        g = g.reshape([1 if axes is None or i in axes else n for i, n in enumerate(shape)])
    return g.expand(shape)


def _expand_array(xp, g, shape, axes, keepdim):
    """``_expand_back`` on arrays: a read-only broadcast view."""
    if g.ndim == 0 and issubclass(type(g), (np.ndarray, np.generic)):  # a scalar loss: the
        # zero-stride view made in C, 10x faster (a compile lowering's traced array has no buffer)
        out = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        out.flags.writeable = False
        return out
    if not keepdim:
        g = g.reshape([1 if axes is None or i in axes else n for i, n in enumerate(shape)])
    return xp.broadcast_to(g, shape)


def _rename(t: Tensor, name: str) -> Tensor:
    if t._grad_fn is not None:
        t._grad_fn._name = name
    return t


def _return_type(name: str, fields: tuple):
    """A named tuple that prints like torch.return_types.<name>."""

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"ndgrad.return_types.{name}(\n{body})"

    cls = type(name, (namedtuple(name, fields),), {"__slots__": (), "__repr__": __repr__})
    cls.__module__ = "ndgrad.return_types"
    return cls


return_types = types.SimpleNamespace(**{n: _return_type(n, ("values", "indices")) for n in (
    "max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin")},
    aminmax=_return_type("aminmax", ("min", "max")))


# --- gather along a dim: the differentiable core of max(dim), sort, topk, median, mode... --------
class Select(Op):
    """take_along_axis(a, idx, dim), dropping ``dim`` unless keepdim; idx is a raw int array.
    ``repeats``: an index may occur more than once in a slice (so backward must add up)."""

    __slots__ = ()

    def forward(ctx, a, idx, dim, keepdim=True, repeats=False):
        ctx.idx, ctx.dim, ctx.keepdim, ctx.shape, ctx.repeats = idx, dim, keepdim, a.shape, repeats
        out = ctx.xp.take_along_axis(a, idx, axis=dim)
        return out if keepdim else out.squeeze(dim)

    def backward(ctx, g):
        if not ctx.keepdim:
            g = g.unsqueeze(ctx.dim)
        return PutAlong.apply(g, ctx.idx, ctx.dim, ctx.shape, ctx.repeats), None


class PutAlong(Op):
    """zeros(shape) with ``g`` added at ``idx`` along ``dim``."""

    __slots__ = ()

    def forward(ctx, g, idx, dim, shape, repeats=False):
        xp = ctx.xp
        ctx.idx, ctx.dim, ctx.repeats = idx, dim, repeats
        out = xp.zeros(shape, g.dtype)
        if not repeats and xp is np:
            xp.put_along_axis(out, idx, g, axis=dim)
            return out
        flat = _flat_index(xp, idx, dim, shape)
        vals = xp.broadcast_to(g, idx.shape).reshape(-1)
        if not repeats:
            out.reshape(-1)[flat] = vals
            return out
        # scatter-add through bincount (NumPy's add.at has no CuPy twin)
        n = out.size
        acc = xp.bincount(flat, weights=vals.real, minlength=n)
        if vals.dtype.kind == "c":
            acc = acc + 1j * xp.bincount(flat, weights=vals.imag, minlength=n)
        return acc.astype(g.dtype).reshape(shape)

    def backward(ctx, g):
        return Select.apply(g, ctx.idx, ctx.dim, True, ctx.repeats), None


def _flat_index(xp, idx, dim, shape):
    """Flat positions in an array of ``shape`` of the entries ``idx`` selects along ``dim``."""
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    flat = idx * strides[dim]
    for i, n in enumerate(idx.shape):
        if i != dim:
            flat = flat + xp.arange(n).reshape([-1 if j == i else 1 for j in range(idx.ndim)]) \
                * strides[i]
    return flat.reshape(-1)


def select_along(input: Tensor, idx, dim: int, keepdim: bool, name: str,
                 repeats: bool = False) -> Tensor:
    """``input`` gathered at the raw index array ``idx`` along ``dim``, grad node ``name``."""
    return _rename(Select.apply(input, idx, dim, keepdim, repeats), name)


def _index_tensor(idx, keepdim, dim, dev, values=None) -> Tensor:
    """The indices as a tensor; ``values``' node saves it (its gradient reads ``idx``), as
    torch's saves its indices: a later write into them raises."""
    xp = dev.xp
    idx = idx if keepdim else idx.squeeze(dim)
    ind = wrap(idx.astype(xp.int64, copy=False), dev)
    if values is not None:
        saves(values, ind)
    return ind


# --- sum, mean, prod ----------------------------------------------------------------------------
class Sum(Op):
    __slots__ = ()

    def forward(ctx, a, axes=None, keepdim=False, dtype=None):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        if dtype is None:
            k = a.dtype.kind
            if k == "f" and a.dtype.itemsize > 2:  # the hot path (ndarray.sum's Python skipped)
                return _add_reduce(a, axes, None, None, keepdim) if ctx.xp is np else \
                    a.sum(axis=axes, keepdims=keepdim)
            if k in "biu":
                dtype = ctx.xp.int64
            elif _is_half(a):  # accumulate in float32, like torch
                return a.astype(ctx.xp.float32).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        if dtype is not None and dtype != a.dtype:
            a = a.astype(dtype)
        # dtype=: NumPy sums small integers and bools as int64 unless told to keep the dtype
        return a.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)

    def backward_raw(ctx, g):
        return _expand_array(ctx.xp, g, ctx.shape, ctx.axes, ctx.keepdim)


class Mean(Op):
    __slots__ = ()

    def forward(ctx, a, axes=None, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        n = ctx.count = _count(a.shape, axes)
        xp = ctx.xp
        if xp is np and a.dtype in _F32_F64:  # sum / n: ndarray.mean is slow Python
            total = _add_reduce(a, axes, None, None, keepdim)
        else:
            work = a.astype(xp.float32) if _is_half(a) else a
            total = work.sum(axis=axes, keepdims=keepdim)
        if n == 0:  # the mean of nothing is nan; its (empty) input's grad needs no 0-division
            ctx.count = math.inf
            return ctx.xp.full(ctx.xp.shape(total), ctx.xp.nan, a.dtype)
        return (total / n).astype(a.dtype, copy=False)

    def backward(ctx, g):
        return _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim) / ctx.count

    def backward_raw(ctx, g):
        return _expand_array(ctx.xp, g / ctx.count, ctx.shape, ctx.axes, ctx.keepdim)


_add_reduce = np.add.reduce  # ndarray.sum's own call, without its Python wrapper
_F32_F64 = (np.dtype(np.float32), np.dtype(np.float64))
_SumDims = Sum.named("SumBackward1")  # torch's node for a sum over given dims
_MeanDims = Mean.named("MeanBackward1")
_SumDims.forward = contiguous_result(Sum.forward)  # (the sum of all: a 0-d array)
_MeanDims.forward = contiguous_result(Mean.forward)


def _out_dtype(dtype, out):
    """torch's sum/prod/cumsum/cumprod with ``out`` compute in out's dtype (as with ``dtype``)."""
    if dtype is None:
        return out.dtype if isinstance(out, Tensor) else None
    return D.to_dtype(dtype)  # sum(dtype=float): float64; np.float64 is torch's TypeError


def _count(shape, axes) -> int:
    return math.prod(shape) if axes is None else math.prod(shape[i] for i in axes)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Same as torch.sum."""
    if dim is None and dtype is None and out is None and not keepdim:  # x.sum(): nothing
        # to normalise
        return Sum.apply_one(input)
    dtype = _out_dtype(dtype, out)
    axes = _axes(dim, input.ndim)
    res = (Sum if dim is None else _SumDims).apply_one(  # (a dim of a 0-d tensor too)
        input, axes, keepdim, dtype=None if dtype is None else dtype.np)
    return res if out is None else _out(res, out, "sum")


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Same as torch.mean."""
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           "floating point or complex dtype. Got: "
                           f"{torch_type_name(input.dtype)}")
    if dim is None and out is None and not keepdim:  # x.mean(): nothing to normalise
        return Mean.apply_one(input)
    axes = _axes(dim, input.ndim)
    res = (Mean if dim is None else _MeanDims).apply_one(input, axes, keepdim)
    return res if out is None else _out(res, out, "mean")


class Nansum(Sum):
    """sum with nan counted as 0; the gradient is g * (x is not nan), as torch multiplies."""

    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, axes=None, keepdim=False, dtype=None):
        if a.dtype.kind in "fV":
            nan = ctx.xp.isnan(a)
            if ctx.needs_input_grad[0]:
                ctx.save(nan)
            a = ctx.xp.where(nan, ctx.xp.zeros((), a.dtype), a)
        return Sum.forward(ctx, a, axes, keepdim, dtype)

    def backward(ctx, g):
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return g * ctx.saved_tensors[0].logical_not() if ctx.saved else g


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Same as torch.nansum."""
    if input.is_complex():
        raise RuntimeError("nansum on CPU does not support complex inputs")
    if dtype is not None and dtype.is_complex:
        raise not_implemented("nansum_cpu", dtype)
    res = Nansum.apply(input, _axes(dim, input.ndim), keepdim,
                       dtype=None if dtype is None else dtype.np)
    return _out(res, out, "nansum")


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Same as torch.nanmean."""
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {torch_type_name(input.dtype)}")
    if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError("nanmean(): could not infer output dtype. Optional dtype must be either "
                           f"a floating point or complex dtype. Got: {torch_type_name(dtype)}")
    count = sum(input.isnan().logical_not(), dim, keepdim)
    return _out(nansum(input, dim, keepdim, dtype=dtype) / count, out, "nanmean")


class Prod(Op):
    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, axis=None, keepdim=False, dtype=None):
        xp = ctx.xp
        x = a
        if dtype is None and a.dtype.kind in "biu":
            dtype = xp.int64
        if dtype is not None and dtype != a.dtype:
            x = a.astype(dtype)
        ctx.axis, ctx.keepdim = axis, keepdim
        if _is_half(x):
            out = x.astype(xp.float32).prod(axis=axis, keepdims=keepdim).astype(x.dtype)
        else:  # (dtype: NumPy would multiply small integers as int64)
            out = x.prod(axis=axis, keepdims=keepdim, dtype=x.dtype)
        ctx.save(a, out)  # the input itself (not a cast copy): its graph serves double backward
        return out

    def backward(ctx, g):
        """torch's prod_backward: out / a without zeros, else the product of the others."""
        a, out = ctx.saved_tensors
        a = a.to(out.dtype)
        if a.ndim == 0:
            return g
        axis = ctx.axis
        if axis is not None and not ctx.keepdim:
            g, out = g.unsqueeze(axis), out.unsqueeze(axis)
        zeros = int((a._data == 0).sum())
        if not zeros:
            return g * (out / a).conj()
        if axis is not None:
            return _prod_others(g, a, axis)
        if zeros > 1 and not _grad_state.grad_enabled:  # first order: every product has a zero
            return a.new_zeros(a.shape)
        return _prod_others(g, a.reshape(-1), 0).reshape(a.shape)


def _prod_others(g: Tensor, a: Tensor, dim: int) -> Tensor:
    """g times the product of the slice's other elements at each position, from exclusive prefix
    and suffix products (no division; torch's prod_safe_zeros_backward)."""
    n = a.shape[dim]
    if a.numel() == 0:
        return g.expand(a.shape)
    if n == 1:
        return g
    ones = a.new_ones(()).expand(_with(a.shape, dim, 1))
    left = cat([ones, a.narrow(dim, 0, n - 1)], dim).cumprod(dim)  # (scan.py imports reduce.py)
    right = cat([ones, a.narrow(dim, 1, n - 1).flip(dim)], dim).cumprod(dim).flip(dim)
    return g * (left * right).conj()


def _with(shape, dim, size):
    s = list(shape)
    s[dim] = size
    return tuple(s)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None,
         out=None) -> Tensor:
    """Same as torch.prod."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod() received an invalid combination of arguments - got "
                        f"({type(dim).__name__}), but expected one of:\n * (*, torch.dtype dtype "
                        "= None)\n * (int dim, bool keepdim = False, *, torch.dtype dtype = None)")
    axis = None if dim is None else wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        axis = None
    dtype = _out_dtype(dtype, out)
    res = Prod.apply(input, axis, keepdim if dim is not None else False,
                     dtype=None if dtype is None else dtype.np)
    if dim is not None:
        _rename(res, "ProdBackward1")
    return _out(res, out, "prod")


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


# --- max / min ----------------------------------------------------------------------------------
class Amax(Op):
    """amax/amin and max()/min() without dim: ties share the gradient evenly, as in torch."""

    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, axes=None, keepdim=False, fn="max"):
        name = ("a" + fn) if ctx.named_a else fn
        if a.size == 0 and axes is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        for i in axes or ():
            if a.shape[i] == 0:
                raise empty_reduction(name, i)
        if a.dtype.kind == "c":  # torch has no complex kernel (max(x, dim) says otherwise)
            raise not_implemented(f"{fn}_values_cpu" if ctx.named_a else f"{fn}_all", a.dtype)
        out = getattr(a, fn)(axis=axes, keepdims=keepdim)
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        # torch: grad / count * mask over the elements equal to the result; max()/min() also
        # count nan as equal to a nan result (evenly_distribute_backward)
        a, out = ctx.saved_tensors
        if not ctx.named_a:  # (no dim) zeros elsewhere even for an infinite g: a masked fill
            mask = (a == out) | (a.isnan() & out.isnan())
            return where(mask, g / sum(mask.to(g.dtype)), 0)
        out = _expand_back(out, ctx.shape, ctx.axes, ctx.keepdim)
        mask = (a == out).to(g.dtype)
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return g / sum(mask, ctx.axes, keepdim=True) * mask


Amax.named_a = False


class _AmaxNamed(Amax):
    __slots__ = ()
    named_a = True


def _arg_index(xp, a, dim, fn):
    """argmax/argmin along dim with keepdims; nan wins (the first one), as in torch."""
    idx = (xp.argmax if fn == "max" else xp.argmin)(a, axis=dim, keepdims=True)
    return idx


def _max_min(fn, input, dim=None, keepdim=False, out=None):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        return (maximum if fn == "max" else minimum)(input, dim, out=out)
    res = _max_min_reduce(fn, input, dim, keepdim)
    return res if out is None else write_out(res, out, fn)


def _max_min_reduce(fn, input, dim, keepdim):
    if dim is None:
        res = Amax.apply(input, None, False, fn=fn)
        return _rename(res, "MaxBackward1" if fn == "max" else "MinBackward1")
    d = wrap_dim(dim, input.ndim)
    a = input._data
    if a.ndim == 0:
        idx = input._device.xp.zeros((1,), input._device.xp.int64)
        vals = select_along(input.reshape(1), idx, 0, False, fn.capitalize() + "Backward0")
        return getattr(return_types, fn)(vals, _index_tensor(idx, False, 0, input._device, vals))
    if a.shape[d] == 0:
        raise empty_reduction(fn, d)
    if a.dtype.kind == "c":
        raise RuntimeError(f"{fn}(): does not support complex input")
    idx = _arg_index(input._device.xp, a, d, fn)
    vals = select_along(input, idx, d, keepdim, fn.capitalize() + "Backward0")
    return getattr(return_types, fn)(vals, _index_tensor(idx, keepdim, d, input._device, vals))


def max(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """Same as torch.max: the maximum, (values, indices) along dim, or maximum(input, other)."""
    return _max_min("max", input, dim, keepdim, out)


def min(input: Tensor, dim=None, keepdim: bool = False, *, out=None):
    """Same as torch.min: the minimum, (values, indices) along dim, or minimum(input, other)."""
    return _max_min("min", input, dim, keepdim, out)


def amax(input: Tensor, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.amax."""
    res = _AmaxNamed.apply(input, _axes(dim, input.ndim), keepdim, fn="max")
    return _out(_rename(res, "AmaxBackward0"), out, "amax")


def amin(input: Tensor, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.amin."""
    res = _AmaxNamed.apply(input, _axes(dim, input.ndim), keepdim, fn="min")
    return _out(_rename(res, "AminBackward0"), out, "amin")


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """Same as torch.aminmax: (min, max)."""
    if input.is_complex():
        raise not_implemented("aminmax_cpu", input.dtype)
    if input.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if input.numel() == 0 and input.shape[wrap_dim(dim, input.ndim)] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {wrap_dim(dim, input.ndim)} to have "
                         "non-zero size.")
    d = () if dim is None else dim
    lo, hi = amin(input, d, keepdim), amax(input, d, keepdim)
    if dim is None and keepdim:
        lo, hi = lo.reshape((1,) * input.ndim), hi.reshape((1,) * input.ndim)
    lo, hi = _rename(lo, "AminmaxBackward0"), _rename(hi, "AminmaxBackward0")
    return return_types.aminmax(saves(lo, hi), saves(hi, lo))  # torch's one node saves both


def _argmax_min(fn, input, dim, keepdim):
    xp = input._device.xp
    a = input._data
    if a.dtype.kind == "c":
        raise RuntimeError(f"arg{fn}(): does not support complex input")
    if a.dtype.kind == "b":
        raise RuntimeError(f"arg{fn}(): does not support bool input")
    if dim is None:
        if a.size == 0:
            raise IndexError(f"arg{fn}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        i = (xp.argmax if fn == "max" else xp.argmin)(a.reshape(-1))
        res = xp.asarray(i, dtype=xp.int64)
        return wrap(res.reshape((1,) * a.ndim) if keepdim else res, input._device)
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return wrap(xp.zeros((), xp.int64), input._device)
    if a.shape[d] == 0:
        raise IndexError(f"arg{fn}(): Expected reduction dim {d} to have non-zero size.")
    return _index_tensor(_arg_index(xp, a, d, fn), keepdim, d, input._device)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.argmax."""
    res = _argmax_min("max", input, dim, keepdim)
    return res if out is None else write_out(res, out, "argmax")


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.argmin."""
    res = _argmax_min("min", input, dim, keepdim)
    return res if out is None else write_out(res, out, "argmin")


# --- var / std ----------------------------------------------------------------------------------
class VarMean(Op):
    """(var or std, mean) over axes in one pass. Saves the input, and the result only for std
    (as torch): an in-place change of a var or a mean afterwards breaks no backward."""

    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, axes=None, correction=1, keepdim=False, std=False, listed=False):
        xp = ctx.xp
        work = a.astype(xp.float32) if _is_half(a) else a
        n = _count(a.shape, axes)
        m = work.mean(axis=axes, keepdims=True) if n else xp.full(
            [1 if axes is None or i in axes else s for i, s in enumerate(a.shape)], xp.nan,
            work.dtype)
        d = work - m
        sq = (d * d.conj()).real if d.dtype.kind == "c" else d * d
        dof = builtins.max(n - correction, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = sq.sum(axis=axes, keepdims=keepdim) / dof
        if std:
            v = xp.sqrt(v)
        if not keepdim:
            m = m.reshape(v.shape)
        real = a.real.dtype if a.dtype.kind == "c" else a.dtype
        v, m = v.astype(real, copy=False), m.astype(a.dtype, copy=False)
        ctx.axes, ctx.keepdim, ctx.corr, ctx.std, ctx.n = axes, keepdim, correction, std, n
        ctx.listed = listed  # dim=[]: torch's backward takes it as reducing over 1 element
        ctx.save(a, v if std else None)
        return v, m

    def _apply_backward(ctx, grads):  # torch adds only the gradients that exist (no 0 * inf)
        return _check_grads(ctx, (ctx.backward(*grads),))

    def backward(ctx, gv, gm):
        a, v = ctx.saved_tensors
        axes, keepdim = ctx.axes, ctx.keepdim
        grad = None
        if gv is not None:
            if ctx.std:  # torch: d std = d var / (2 std), 0 where std is 0
                with np.errstate(divide="ignore", invalid="ignore"):
                    gv = (gv / (v * 2)).masked_fill(v == 0, 0)
            grad = _var_grad(gv, a, axes, keepdim, ctx.corr, ctx.listed)
        if gm is not None:
            gm = _expand_back(gm, a.shape, axes, keepdim) / ctx.n
            grad = gm if grad is None else grad + gm
        return grad


def _var_grad(g, a, axes, keepdim, correction, listed):
    """torch's var_backward: 2 (a - mean) / (n - correction), from tensors (differentiable)."""
    if axes is None and (a.ndim == 0 or not listed):
        dof = a.numel() - correction
        if dof <= 0:  # torch: inf, or nan where a equals its mean
            return g * g.new_full(a.shape, math.inf).masked_fill(a == mean(a), math.nan)
        return (2 / dof) * g * (a - mean(a))
    dof = (1 if axes is None else _count(a.shape, axes)) - correction
    if not keepdim and axes is not None:
        g = g.reshape([1 if i in axes else n for i, n in enumerate(a.shape)])
    with np.errstate(divide="ignore", invalid="ignore"):
        return (2 / dof if dof else math.inf) * g * (a - mean(a, axes, keepdim=True))


def _var_args(name, input, dim, unbiased, keepdim, correction):
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if isinstance(dim, bool):  # var(input, unbiased) positional form
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{name}: Only one of unbiased and correction may be given")
    corr = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
    axes = _axes(dim, input.ndim)
    listed = isinstance(dim, (list, tuple)) and not dim
    n = _count(input.shape, axes) if input.numel() else 0  # torch: numel / output numel
    if n - corr <= 0:
        import warnings

        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    return axes, corr, listed


def _var_mean(name, node, std, input, dim, unbiased, keepdim, correction):
    axes, corr, listed = _var_args(name, input, dim, unbiased, keepdim, correction)
    return VarMean.named(node).apply(input, axes, corr, keepdim, std=std, listed=listed)


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None, out=None) -> Tensor:
    """Same as torch.var."""
    return _out(_var_mean("var", "VarBackward0", False, input, dim, unbiased, keepdim,
                          correction)[0], out, "var")


def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None, out=None) -> Tensor:
    """Same as torch.std."""
    return _out(_var_mean("std", "StdBackward0", True, input, dim, unbiased, keepdim,
                          correction)[0], out, "std")


def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """Same as torch.var_mean."""
    return _var_mean("var_mean", "VarMeanBackward0", False, input, dim, unbiased, keepdim,
                     correction)


def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """Same as torch.std_mean."""
    return _var_mean("std_mean", "StdMeanBackward0", True, input, dim, unbiased, keepdim,
                     correction)


# --- logsumexp ----------------------------------------------------------------------------------
class Logsumexp(Op):
    __slots__ = ()

    @contiguous_result
    def forward(ctx, a, axes, keepdim=False):
        xp = ctx.xp
        if a.dtype.kind in "biu":
            a = a.astype(D.get_default_dtype().np)
        work = a.astype(xp.float32) if _is_half(a) else a
        # shift by the max so exp cannot overflow; an infinite max is kept as is
        # (complex: by the max of the real part, as torch)
        top = work.real.max(axis=axes, keepdims=True) if work.size else xp.zeros(
            [1] * work.ndim, work.real.dtype)
        top = xp.where(xp.isfinite(top), top, 0)
        with np.errstate(divide="ignore"):
            out = xp.log(xp.exp(work - top).sum(axis=axes, keepdims=True)) + top
        if not keepdim:
            out = out.squeeze(axis=axes) if axes is not None else out.reshape(())
        out = out.astype(a.dtype, copy=False)
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, out = ctx.saved_tensors
        shape, axes, keepdim = a.shape, ctx.axes, ctx.keepdim
        p = (a - _expand_back(out, shape, axes, keepdim)).exp()
        return _expand_back(g, shape, axes, keepdim) * (p.conj() if p.is_complex() else p)


def logsumexp(input: Tensor, dim, keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.logsumexp."""
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType")
    return _out(Logsumexp.apply(input, _axes(dim, input.ndim), keepdim), out, "logsumexp")


# --- boolean reductions -------------------------------------------------------------------------
def _logical_reduce(fn, input, dim, keepdim, out):
    xp = input._device.xp
    a = input._data
    if isinstance(dim, (tuple, list)) and not dim:  # torch: an empty dim list reduces nothing
        res = a != 0
    else:
        res = getattr(xp, fn)(a, axis=_axes(dim, input.ndim), keepdims=keepdim)
        if not res.flags.c_contiguous:  # (torch's result is contiguous, as the other reductions)
            res = xp.ascontiguousarray(res)
    if a.dtype == xp.uint8:  # torch keeps uint8 for all/any of uint8
        res = xp.asarray(res).astype(xp.uint8)
    return _out(wrap(res, input._device), out, fn)


def all(input: Tensor, dim=None, keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.all."""
    return _logical_reduce("all", input, dim, keepdim, out)


def any(input: Tensor, dim=None, keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.any."""
    return _logical_reduce("any", input, dim, keepdim, out)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Same as torch.count_nonzero."""
    xp = input._device.xp
    res = xp.count_nonzero(input._data, axis=_axes(dim, input.ndim))
    if getattr(res, "ndim", 0) and not res.flags.c_contiguous:  # (contiguous, as torch's)
        res = xp.ascontiguousarray(res)
    return wrap(xp.asarray(res, dtype=xp.int64), input._device)


for _name in ("sum", "mean", "nansum", "nanmean", "prod", "max", "min", "amax", "amin",
              "aminmax", "argmax", "argmin", "var", "std", "var_mean", "std_mean", "logsumexp",
              "all", "any", "count_nonzero"):
    export(_NS, _name, _NS[_name], inplace_too=False)
