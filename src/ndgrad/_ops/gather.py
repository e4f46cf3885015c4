"""Index-driven reads and writes along a dimension: gather/scatter, index_select/add/copy/fill,
masked_select/scatter, take/put, nonzero, searchsorted. Each is an advanced-index key fed to the two
indexing primitives (``Index`` and ``IndexPut``), so none needs a backward of its own."""

from __future__ import annotations

import numpy as np

from .._errors import index_out_of_range, infer_size, no_dims_error, not_implemented, not_tensor
from .. import _dtype as D
from .._backend import device_of_array, ufunc_at
from .._trace import array_of, derived
from .._tensor import Tensor, wrap_dim
from ..autograd.node import named as _named
from ..autograd.op import Op
from ..autograd.torch_saves import saves
from ._inplace import check_overlap, inplace, inplace_fill
from .._dtype import torch_type_name
from ._out import out_arg
from .indexing import Index, IndexPut, _expanded, _warn_expanded, put_in_place
from .shape import broadcast_tensors

__all__ = ["argwhere", "bucketize", "gather", "index_add", "index_copy", "index_fill",
           "index_select", "masked_scatter", "masked_select", "nonzero", "put", "scatter",
           "scatter_add", "scatter_reduce", "searchsorted", "take", "take_along_dim"]


# torch's nodes for the ops that index with Index/IndexPut
_Gather, _IndexSelect = Index.named("GatherBackward0"), Index.named("IndexSelectBackward0")
_MaskedSelect, _Take = Index.named("MaskedSelectBackward0"), Index.named("TakeBackward0")
_MaskedScatter = IndexPut.named("MaskedScatterBackward0")
_Put = IndexPut.named("PutBackward0")


def _int_index(index: Tensor, what: str) -> None:
    if not isinstance(index, Tensor) or index.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{what}(): Expected dtype int32/int64 for index")


def _check_range(idx, n: int, dim: int) -> None:
    """gather/scatter indices must lie in [0, n): negative ones are errors too."""
    if idx.size and (idx.max() >= n or idx.min() < 0):
        bad = int(idx[(idx >= n) | (idx < 0)].ravel()[0])
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {n}")


# --- gather / scatter: one index per output element ---------------------------------------------
def _along(index: Tensor, dim: int) -> tuple:
    """The advanced key reading ``a[i0, ..., index[i], ..., in]`` for every position of index."""
    return derived(_grids, array_of(index), dim)


def _grids(index, dim: int) -> tuple:
    xp = device_of_array(index).xp
    shape = index.shape
    grids = [xp.arange(s).reshape((-1,) + (1,) * (len(shape) - d - 1)) for d, s in
             enumerate(shape)]
    grids[dim] = index
    return tuple(grids)


def _check_gather(name: str, input: Tensor, dim: int, index: Tensor, src=None) -> int:
    d = wrap_dim(dim, input.ndim)
    if name == "gather":
        _int_index(index, name)
    elif not isinstance(index, Tensor) or index.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if isinstance(src, Tensor) and src.dtype is not input.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    # torch reads a 0-d tensor as one element along dim 0
    if max(index.ndim, 1) != max(input.ndim, 1) and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    if not index.numel():  # torch checks no sizes for an empty index
        return d
    ishape, sshape = list(index.shape), list(input.shape)
    ones = [1] * max(input.ndim, 1)
    too_big = [k for k, (i, s) in enumerate(zip(ishape or ones, sshape or ones))
               if k != d and i > s]
    if isinstance(src, Tensor):
        if too_big or any(i > s for i, s in zip(ishape or ones, list(src.shape) or ones)):
            raise RuntimeError(f"Expected index {ishape} to be no larger than self {sshape} apart "
                               f"from dimension {d} and to be no larger size than src "
                               f"{list(src.shape)}")
    elif too_big:
        raise RuntimeError(f"Size does not match at dimension {too_big[0]} expected index "
                           f"{ishape} to be no larger than self {sshape} apart from dimension {d}")
    _check_range(index._data, (sshape or ones)[d], d)
    return d


def _one(t):
    """A 0-d tensor as the 1-element vector torch's gather/scatter read it as."""
    return t.reshape(1) if isinstance(t, Tensor) and not t.ndim else t


@out_arg(overlap=True)
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False,
           out=None) -> Tensor:
    """Same as torch.gather."""
    d = _check_gather("gather", input, dim, index)
    if not (input.ndim and index.ndim):
        return _named(gather(_one(input), d, _one(index)).reshape(index.shape), "GatherBackward0")
    return saves(_Gather.apply(input, _along(index, d)), input, index)


def _scatter(input: Tensor, dim: int, index: Tensor, src, accumulate: bool, name: str):
    d = _check_gather(name, input, dim, index, src)
    if isinstance(src, Tensor):
        bname = "ScatterAddBackward0" if accumulate else "ScatterBackward0"
    else:
        bname = "ScatterBackward1"
    if not (input.ndim and index.ndim):
        fn, src = _scatter(_one(input), d, _one(index), _one(src), accumulate, name)
        return lambda t, v: _named(fn(_one(t), v).reshape(t.shape), bname), src
    if isinstance(src, Tensor):
        src = _one(src)[tuple(slice(0, s) for s in index.shape)]
    return lambda t, v: saves(IndexPut.named(bname).apply(t, v, (), _along(index, d), accumulate),
                              index), src


@out_arg(overlap=True)
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None,
            out=None) -> Tensor:
    """Same as torch.scatter (with ``src`` or ``value``; ``reduce='add'`` or 'multiply')."""
    fn, v = _scatter_fn(input, dim, index, src, value, reduce)
    return fn(input, v)


def scatter_(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
             reduce=None) -> Tensor:
    """Same as torch.Tensor.scatter_."""
    fn, v = _scatter_fn(input, dim, index, src, value, reduce)
    return inplace(input, fn, v)


def _scatter_fn(input, dim, index, src, value, reduce):
    src = value if src is None else src
    if reduce is None:
        return _scatter(input, dim, index, src, False, "scatter")
    if reduce == "add":
        import warnings

        warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will "
                      "be removed in a future PyTorch release. Use torch.scatter_reduce instead "
                      "for more reduction options.", UserWarning, stacklevel=3)
        return _scatter(input, dim, index, src, True, "scatter")
    raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}"
                       if reduce != "multiply" else "scatter(reduce='multiply') is not supported")


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Same as torch.scatter_add."""
    fn, v = _scatter(input, dim, index, src, True, "scatter")
    return fn(input, v)


def scatter_add_(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Same as torch.Tensor.scatter_add_."""
    fn, v = _scatter(input, dim, index, src, True, "scatter")
    return inplace(input, fn, v)


_REDUCE = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _identity(reduce: str, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    return -big if reduce == "amax" else big


class ScatterReduce(Op):
    """``input`` with ``src`` reduced into the positions the key names (ufunc.at accumulates)."""

    __slots__ = ()

    def forward(ctx, a, src, key, reduce, include_self):
        xp = ctx.xp
        out = a.copy()
        hit = xp.zeros(a.shape, bool)
        hit[key] = True
        if not include_self:
            out[hit] = _identity(reduce, a.dtype)
        ufunc_at(xp, _REDUCE[reduce], out, key, src)
        ctx.key, ctx.reduce, ctx.include_self, ctx.hit = key, reduce, include_self, hit
        if reduce == "mean":
            count = (xp.ones if include_self else xp.zeros)(a.shape, a.dtype)
            ufunc_at(xp, "add", count, key, 1)
            count[count == 0] = 1  # untouched slots keep their value
            out = out // count if a.dtype.kind in "iub" else (out / count).astype(a.dtype)
            ctx.count = count
        ctx.save(a, src, out)
        return out

    def backward(ctx, g):
        a, src, out = ctx.saved_tensors
        key, reduce, hit = ctx.key, ctx.reduce, Tensor._make(ctx.hit, g._device)
        def gather_(t):
            return Index.apply(t, key)

        if reduce in ("sum", "mean"):
            if reduce == "mean":
                g = g / Tensor._make(ctx.count, g._device)
            ga, gs = g, gather_(g)
        elif reduce == "prod":
            ga, gs = _prod_grads(g, a, src, out, key, ctx.include_self)
        else:
            self_is = a == out  # torch counts ties with self even when include_self=False
            src_is = src == gather_(out)
            n = self_is.to(g.dtype) + IndexPut.apply(g.new_zeros(g.shape), src_is.to(g.dtype),
                                                     (), key, True)
            g = g / n
            ga, gs = g * self_is, gather_(g) * src_is
        if not ctx.include_self:
            ga = ga.masked_fill(hit, 0)
        return ga, gs


def _prod_grads(g, a, src, out, key, include_self):
    """torch's exclusive products: a zero among the factors must not zero its own gradient."""
    from .elementwise import where

    def gather_(t):
        return Index.apply(t, key)

    masked_a = a.masked_fill(a == 0, 1)
    ga = g * ScatterReduce.apply(masked_a, src, key, "prod", include_self) / masked_a
    zero = src == 0
    zeros_per_slot = IndexPut.apply(a.new_zeros(a.shape), zero.to(a.dtype), (), key, True)
    single = zero & (gather_(zeros_per_slot) == 1)
    excl = ScatterReduce.apply(a, src.masked_fill(single, 1), key, "prod", include_self)
    gs = where(single, gather_(g * excl), gather_(g * out) / src.masked_fill(zero, 1))
    return ga, gs


@out_arg(overlap=True)
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True, out=None) -> Tensor:
    """Same as torch.scatter_reduce (sum, prod, mean, amax, amin) with torch's gradients."""
    if reduce not in _REDUCE:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    d = _check_gather("scatter", input, dim, index, src)
    if not (input.ndim and index.ndim):
        res = scatter_reduce(_one(input), d, _one(index), _one(src), reduce,
                             include_self=include_self)
        return _named(res.reshape(input.shape), "ScatterReduceBackward0")
    src = _one(src)[tuple(slice(0, s) for s in index.shape)]
    return saves(ScatterReduce.apply(input, src, _along(index, d), reduce, include_self), index)


def scatter_reduce_(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    """Same as torch.Tensor.scatter_reduce_."""
    return inplace(input, lambda t, s: scatter_reduce(t, dim, index, s, reduce,
                                                      include_self=include_self), src)


@out_arg(overlap=True)
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None, *, out=None) -> Tensor:
    """Same as torch.take_along_dim: gather after broadcasting all but ``dim``."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number "
                           f"of dimensions, but got {input.ndim} dimensions for input, and "
                           f"{indices.ndim} dimensions for indices")
    if indices.dtype is not D.int64:
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{torch_type_name(indices.dtype)}")
    d = wrap_dim(dim, input.ndim)
    if not input.ndim:
        raise no_dims_error(d)
    ishape, xshape = list(indices.shape), list(input.shape)
    ishape[d] = xshape[d] = 1
    shape = list(infer_size(xshape, ishape))
    shape[d] = input.shape[d]
    input = input.expand(shape)
    shape[d] = indices.shape[d]
    # a copy of the indices: torch's gradient reads them as they were (a later write into
    # ``indices`` neither changes it nor raises)
    return gather(input, d, indices.expand(shape).clone())


# --- one index per slice along dim ---------------------------------------------------------------
def _vector_index(name: str, index: Tensor) -> Tensor:
    if not isinstance(index, Tensor) or index.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return index.reshape(-1)


def _dim_key(input: Tensor, dim: int, index: Tensor, name: str) -> tuple[int, tuple]:
    d = wrap_dim(dim, input.ndim)
    idx = _vector_index(name, index)._data
    n = input.shape[d] if input.ndim else 1
    lo = -n if name == "index_fill_" else 0  # only index_fill takes negative indices
    if idx.size and (idx.max() >= n or idx.min() < lo):
        bad = int(idx[(idx >= n) | (idx < lo)].ravel()[0])
        if name == "index_select":
            if d:
                raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
            raise index_out_of_range()
        msg = f"index {bad} is out of bounds for dimension {d} with size {n}"
        if name == "index_add_":
            if input.ndim < 2:
                raise index_out_of_range()
            raise RuntimeError(msg)
        raise IndexError(f"{name}(): {msg}" if name == "index_copy_" else msg)
    return d, (slice(None),) * d + (idx,)


@out_arg(dtype_error="{name}(): self and result must have the same scalar type", overlap=True)
def index_select(input: Tensor, dim: int, index: Tensor, *, out=None) -> Tensor:
    """Same as torch.index_select."""
    if not input.ndim and isinstance(index, Tensor) and index.numel() != 1:
        raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                           f"{index.numel()} value(s)")
    _, key = _dim_key(input, dim, index, "index_select")
    if not input.ndim:  # torch reads a 0-d tensor as one element along dim 0
        return _named(saves(Index.apply(input.reshape(1), key), index).reshape(()),
                      "IndexSelectBackward0")
    return saves(_IndexSelect.apply(input, key), index)


def _index_add_check(input: Tensor, d: int, index: Tensor, source: Tensor) -> None:
    """torch's index_add_ argument checks, in its order (before the index bounds)."""
    _vector_index("index_add_", index)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_add_(): self ({torch_type_name(input.dtype)}) and source "
                           f"({torch_type_name(source.dtype)}) must have the same scalar type")
    if d and d >= source.ndim:
        raise RuntimeError(f"index_add_(): Indexing dim {d} is out of bounds of the source tensor "
                           f"with dim {source.ndim}")
    if not source.ndim and index.numel() != 1:
        raise no_dims_error(d)
    k = source.shape[d] if source.ndim else 1
    if index.numel() != k:
        raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({k}), for dim: {d}")
    xs, ss = list(input.shape), list(source.shape)
    if input.ndim and source.ndim:
        del xs[d], ss[d]
    if xs != ss:
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")


def _index_copy_check(input: Tensor, d: int, index: Tensor, source: Tensor) -> None:
    """torch's index_copy_ argument checks, in its order (before the index bounds)."""
    if isinstance(index, Tensor) and index.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    n = index.numel()
    if not source.ndim and n != 1:
        raise IndexError("index_copy_(): When source is scalar, index should have one element "
                         f"(got {n})")
    if source.ndim != input.ndim and source.ndim and input.ndim:
        raise IndexError("index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({source.ndim}), "
                         f"destination dimensionality ({input.ndim})")
    if index.dtype is not D.int64:
        raise RuntimeError("index_copy_(): Expected a long tensor for index, but got "
                           f"{torch_type_name(index.dtype)}")
    if source.dtype is not input.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {torch_type_name(input.dtype)} and (source) "
                           f"{torch_type_name(source.dtype)}")
    xs, ss = list(input.shape), list(source.shape)
    for sizes in (xs, ss):
        if sizes:
            del sizes[d]
    if xs != ss:
        raise RuntimeError("index_copy_(): Source/destination tensor must have same slice shapes. "
                           f"Destination slice shape: {' '.join(map(str, xs))} at dimension {d} "
                           f"and source slice shape: {' '.join(map(str, ss))} at dimension 0.")
    if source.ndim and n != source.shape[d]:
        raise IndexError(f"index_copy_(): Number of indices ({n}) should be equal to "
                         f"source.size(dim) ({source.shape[d]})")


def _index_put_fn(name, input, dim, index, accumulate, bname, keep=False, source=None):
    """(key, put): ``put(t, v)`` writes ``v`` at ``index`` along ``dim``; its node saves the
    index (and ``source``) as torch's does."""
    _, key = _dim_key(input, dim, index, name)
    if not input.ndim:  # torch reads a 0-d tensor as one element along dim 0
        return key, lambda t, v: _named(saves(
            IndexPut.apply(t.reshape(1), _one(v), (), key, accumulate), index, source).reshape(()),
            bname)
    return key, lambda t, v: saves(IndexPut.named(bname).apply(t, v, (), key, accumulate, keep),
                                   index, source)


def _index_add(inplace_: bool):
    def fn(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
        _index_add_check(input, wrap_dim(dim, input.ndim), index, source)
        _, put = _index_put_fn("index_add_", input, dim, index, True, "IndexAddBackward0",
                               source=source)
        src = source * alpha if alpha != 1 else source
        return inplace(input, put, src) if inplace_ else put(input, src)

    fn.__name__ = "index_add_" if inplace_ else "index_add"
    return fn


def _index_copy(inplace_: bool):
    def fn(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
        _index_copy_check(input, wrap_dim(dim, input.ndim), index, source)
        _, put = _index_put_fn("index_copy_", input, dim, index, False, "IndexCopyBackward0",
                               source=source)
        return inplace(input, put, source) if inplace_ else put(input, source)

    fn.__name__ = "index_copy_" if inplace_ else "index_copy"
    return fn


def _index_fill(inplace_: bool):
    def fn(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
        if isinstance(value, Tensor) and value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        if isinstance(value, Tensor):
            value = value.to(input.dtype)
        elif isinstance(value, complex) and not input.is_complex():
            raise RuntimeError("index_fill_(): Converting complex Scalar to non-complex type is "
                               "not supported")
        bname = "IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0"
        key, put = _index_put_fn("index_fill_", input, dim, index, False, bname, True)
        if not inplace_:
            return put(input, value)
        if _expanded(input._data):
            _warn_expanded("index_fill")
        if input.ndim and put_in_place(input, (), key, value):
            return input
        return inplace_fill(input, put, value)  # a fill: through an expanded tensor too

    fn.__name__ = "index_fill_" if inplace_ else "index_fill"
    return fn


index_add, index_add_ = _index_add(False), _index_add(True)
index_copy, index_copy_ = _index_copy(False), _index_copy(True)
index_fill, index_fill_ = _index_fill(False), _index_fill(True)


# --- masks ---------------------------------------------------------------------------------------
def _mask(name: str, input: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    if not isinstance(mask, Tensor) or mask.dtype is not D.bool_:
        raise RuntimeError(f"{name}: expected BoolTensor for mask")
    return broadcast_tensors(input, mask)


@out_arg(dtype_error="{name}(): self and result must have the same scalar type", overlap=True)
def masked_select(input: Tensor, mask: Tensor, *, out=None) -> Tensor:
    """Same as torch.masked_select."""
    x, m = _mask("masked_select", input, mask)
    return saves(_MaskedSelect.apply(x, (m._data,)), input, mask)


def _masked_scatter(inplace_: bool):
    name = "masked_scatter_" if inplace_ else "masked_scatter"

    def fn(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
        if not isinstance(source, Tensor):
            raise not_tensor(name, source, "source", 2)
        if not inplace_:  # torch broadcasts self and mask, then scatters into a copy
            mask, input = broadcast_tensors(mask, input)
        if source.dtype is not input.dtype:
            raise RuntimeError("masked_scatter: expected self and source to have same dtypes but "
                               f"got{torch_type_name(input.dtype)} and "
                               f"{torch_type_name(source.dtype)}")
        if mask.dtype is not D.bool_:
            raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with "
                               f"dtype {torch_type_name(mask.dtype)}")
        if mask.ndim > input.ndim:  # torch expands the mask in C++, hence the type's name
            raise RuntimeError(f"expand({mask._device.type.upper()}BoolType{{{list(mask.shape)}}}"
                               f", size={list(input.shape)}): the number of sizes provided "
                               f"({input.ndim}) must be greater or equal to the number of "
                               f"dimensions in the tensor ({mask.ndim})")
        m = mask.expand(input.shape)._data
        k = int(m.sum())
        if k > source.numel():
            raise RuntimeError("Number of elements of source < number of ones in mask")
        src = source.reshape(-1)[:k]

        def put(t, v):
            return saves(_MaskedScatter.apply(t, v, (), (m,)), mask)

        if not inplace_:
            return put(input, src)
        check_overlap(input)  # (torch checks no overlap with the source: it reads it in order)
        return inplace_fill(input, put, src)

    fn.__name__ = name
    return fn


masked_scatter, masked_scatter_ = _masked_scatter(False), _masked_scatter(True)


@out_arg(dtype_error="nonzero: Expected out tensor to have scalar type Long but got scalar "
         "type{Got}")
def nonzero(input: Tensor, *, out=None, as_tuple: bool = False):
    """Same as torch.nonzero: an (n, ndim) int64 tensor, or a tuple of index vectors."""
    xp, dev = input._device.xp, input._device
    a = input._data
    if as_tuple:
        parts = xp.nonzero(a.reshape(1) if a.ndim == 0 else a)  # may be strided columns
        return tuple(Tensor._make(xp.ascontiguousarray(p, np.int64), dev) for p in parts)
    if a.ndim == 0:
        return Tensor._make(xp.zeros((int(a != 0), 0), np.int64), dev)
    return Tensor._make(xp.argwhere(a).astype(np.int64, copy=False), dev)


def argwhere(input: Tensor) -> Tensor:
    """Same as torch.argwhere."""
    return nonzero(input)


def take(input: Tensor, index: Tensor) -> Tensor:
    """Same as torch.take: index the flattened input."""
    if not isinstance(index, Tensor) or index.dtype is not D.int64:
        raise RuntimeError("take(): Expected a long tensor for index, but got "
                           f"{torch_type_name(index.dtype) if isinstance(index, Tensor) else ''}")
    n, idx = input.numel(), index._data
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx[(idx >= n) | (idx < -n)].ravel()[0])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    return saves(_Take.apply(input.reshape(-1), (idx,)), input, index)


def _put_fn(input: Tensor, index: Tensor, source: Tensor, accumulate: bool, name: str = "put_",
            pos: int = 1):
    """torch's put_ checks, then the write of ``source`` at flat positions ``index``."""
    for i, (arg, t) in enumerate((("index", index), ("source", source)), pos):
        if not isinstance(t, Tensor):
            raise not_tensor(name, t, arg, i)
    if index.dtype is not D.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{torch_type_name(index.dtype)}")
    if source.dtype is not input.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {torch_type_name(input.dtype)} and source.dtype = "
                           f"{torch_type_name(source.dtype)}")
    n, m = input.numel(), index.numel()
    if source.numel() != m:
        raise IndexError("put_(): Expected source and index to have the same number of elements, "
                         f"but got source.numel() = {source.numel()}, index.numel() = {m}")
    if not n and m:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    idx = index._data.reshape(-1)
    if m and (idx.max() >= n or idx.min() < -n):
        bad = int(idx[(idx >= n) | (idx < -n)][0])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    key = input._device.xp.unravel_index(idx % max(n, 1), input.shape or (1,))

    def put(t, v):
        if not t.ndim:
            return _named(saves(IndexPut.apply(t.reshape(1), v, (), key, accumulate), index,
                                source).reshape(()), "PutBackward0")
        return saves(_Put.apply(t, v, (), key, accumulate, True), index, source)

    return put, source.reshape(-1)


def put_(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Same as torch.Tensor.put_."""
    fn, v = _put_fn(input, index, source, accumulate)
    return inplace(input, fn, v)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Same as torch.put."""
    fn, v = _put_fn(input, index, source, accumulate, "put", 2)
    return fn(input, v)


def _put_method(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Same as torch.Tensor.put."""
    fn, v = _put_fn(self, index, source, accumulate, "put")
    return fn(self, v)


# --- sorted search -------------------------------------------------------------------------------
_SEARCH_OUT = ("torch.searchsorted(): output tensor's dtype is wrong, it can only be Int(int32) or "
               "Long(int64) depending on whether out_int32 flag is True, but we got output "
               "tensor's dtype {Got}")


@out_arg(dtype_error=_SEARCH_OUT)
def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, out=None, sorter: Tensor | None = None) -> Tensor:
    """Same as torch.searchsorted; batched sequences are searched row by row in one NumPy call."""
    if side is not None:
        if side == "left" and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    seq = sorted_sequence
    xp, dev = seq._device.xp, seq._device
    vals = input._data if isinstance(input, Tensor) else xp.asarray(input)
    if sorter is not None and not seq.ndim:
        raise RuntimeError("ArrayRef: attempted to access back() of empty list")  # as torch
    if not vals.ndim and seq.ndim != 1:
        raise RuntimeError("torch.searchsorted(): input value can be a scalar only when boundaries "
                           f"tensor dimension is 1, but we got boundaries tensor dim({seq.ndim}) "
                           f"and input value's dim(0) numel(1)")
    if not seq.ndim:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    s = seq._data
    if sorter is not None:
        s = xp.take_along_axis(s, sorter._data, axis=-1)
    if s.ndim > 1 and s.shape[:-1] != vals.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor must "
                           f"match, but we got boundaries tensor {list(s.shape)} and input value "
                           f"tensor {list(vals.shape)}")
    common = D.result_type(seq, input)
    if common is D.bool_ or common.is_complex:  # torch's kernel has no bool or complex code
        raise not_implemented("searchsorted_out_cpu", common)
    side_ = "right" if right else "left"
    if s.ndim <= 1:
        res = xp.searchsorted(s, vals, side=side_)
    else:
        # Rank both together, then offset each row past the previous one: one sorted 1-D search.
        _, inv = xp.unique(xp.concatenate([s.ravel(), vals.ravel()]), return_inverse=True)
        inv = inv.ravel()
        rows, n = s.size // s.shape[-1], s.shape[-1]
        off = (xp.arange(rows) * (s.size + vals.size + 1)).reshape(s.shape[:-1] + (1,))
        keys = (inv[:s.size].reshape(s.shape) + off).ravel()
        res = xp.searchsorted(keys, (inv[s.size:].reshape(vals.shape) + off).ravel(), side=side_)
        res = res.reshape(vals.shape) - (xp.arange(rows) * n).reshape(s.shape[:-1] + (1,))
    return Tensor._make(xp.asarray(res, np.int32 if out_int32 else np.int64), dev)


@out_arg(dtype_error=_SEARCH_OUT)
def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False,
              out=None) -> Tensor:
    """Same as torch.bucketize (searchsorted with the roles of the arguments swapped)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
