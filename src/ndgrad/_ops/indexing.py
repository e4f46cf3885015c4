"""``tensor[key]`` and ``tensor[key] = value`` with torch's semantics, and index_put.

A key is split the way torch does it: ints, slices, None and Ellipsis form a *basic* key applied
first as a view (ints select before advanced indices are placed, unlike NumPy); index tensors,
masks and Python bools then form an *advanced* key applied to that view (a copy)."""

from __future__ import annotations

import warnings

import numpy as np

from .._errors import index_out_of_bounds, leaf_in_place, not_tensor, not_tensor_element
from .. import _dtype as D
from .. import _trace
from .._backend import ufunc_at
from .._tensor import Tensor
from ..autograd.op import Op
from ..autograd.torch_saves import saves
from ._inplace import _OVERLAP, _PARTIAL, inplace_fill, overlap, writable, write
from ._layout import _dense, _empty, _is_c, _laid, _like, _order  # noqa: F401  (re-exported)
from .._dtype import check_scalar_range, int_fill
from .movement import Slice, _basic

__all__ = ["index_put"]

_ALL = slice(None)
_FAST_INDEX = (np.dtype(np.int64), np.dtype(np.bool_))
_SEQ_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in "
    "pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as "
    "tensor index, x[torch.tensor(seq)], which will result either in an error or a different "
    "result")
_INDEX_TYPES = "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables " \
               "are valid indices (got {})"


# --- parsing --------------------------------------------------------------------------------------
def _as_tuple(key) -> tuple:
    if type(key) is tuple:
        return key
    if isinstance(key, list) and len(key) < 32 and any(
            isinstance(k, (Tensor, list, tuple, slice, np.ndarray)) or k is None or k is Ellipsis
            for k in key):
        warnings.warn(_SEQ_WARNING, UserWarning, stacklevel=4)
        return tuple(key)
    return (key,)


def _index_array(k, xp):
    """An index that is not int/slice/None/Ellipsis as an integer or bool array (or an int)."""
    if isinstance(k, Tensor):
        a = k._data
    elif isinstance(k, np.ndarray):
        a = k
    elif isinstance(k, (list, tuple, range)):
        a = np.asarray(k)
        if a.size == 0:
            a = a.astype(np.int64)
    elif isinstance(k, str):
        warnings.warn(_SEQ_WARNING, UserWarning, stacklevel=4)
        raise TypeError("new(): invalid data type 'str'")
    else:
        mod = type(k).__module__
        raise IndexError(_INDEX_TYPES.format(type(k).__name__ if mod == "builtins" else
                                             f"{mod}.{type(k).__name__}"))
    kind = a.dtype.kind
    if not (a.dtype == np.int64 or a.dtype == np.int32 or kind == "b" or a.dtype == np.uint8):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.ndim == 0 and kind != "b" and a.dtype != np.uint8:
        return int(a)
    if a.dtype == np.uint8:
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                      "torch.bool instead.", UserWarning, stacklevel=4)
        a = a.astype(bool)
    if xp is not np and isinstance(a, np.ndarray):
        a = xp.asarray(a)
    return a


def _parse(t: Tensor, key):
    """Split ``key`` into (basic key, advanced key or None, node name of the basic part)."""
    shape = t._data.shape
    ndim = len(shape)
    items = _as_tuple(key)
    spec = 0
    conv = []
    for k in items:
        tk = type(k)
        if tk is int or tk is slice:
            spec += 1
        elif k is None or k is Ellipsis or tk is bool:
            pass
        elif hasattr(k, "__index__") and not isinstance(k, (Tensor, np.ndarray)):
            k = k.__index__()  # NumPy integers and other int-likes
            spec += 1
        elif isinstance(k, Tensor) and k._data.ndim == 0 and k._data.dtype.kind == "b":
            k = bool(k._data)
        else:
            k = _index_array(k, t._device.xp)
            spec += k.ndim if type(k) is not int and k.dtype.kind == "b" else 1
        conv.append(k)
    if spec > ndim:
        if ndim == 0 and type(conv[0]) is int:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, adv = [], []
    src = out = 0  # position in the input's dims and in the basic result's dims
    name = None  # the last basic op torch would record (None: the basic part is an alias)
    for i, k in enumerate(conv):
        tk = type(k)
        if tk is int:
            n = shape[src]
            if not -n <= k < n:
                raise index_out_of_bounds(k, i, n)
            basic.append(k)
            src += 1
            name = "SelectBackward0"
        elif tk is slice:
            if k.step is not None and k.step.__index__() <= 0:
                raise ValueError("step must be greater than zero" if k.step.__index__() else
                                 "slice step cannot be zero")
            basic.append(k)
            if not _whole(k, shape[src]):
                name = "SliceBackward0"
            src += 1
            out += 1
        elif k is None:
            basic.append(None)
            out += 1
            name = "UnsqueezeBackward0"
        elif k is Ellipsis:
            n = min(ndim - spec, ndim - src)
            basic.extend([_ALL] * n)
            src += n
            out += n
        elif tk is bool:
            basic.append(None)
            adv.append((out, t._device.xp.zeros(1 if k else 0, np.int64)))
            out += 1
            name = "UnsqueezeBackward0"  # torch unsqueezes, then indexes that view
        else:
            n = k.ndim if k.dtype.kind == "b" else 1
            basic.extend([_ALL] * n)
            adv.append((out, k))
            src += n
            out += n
    return tuple(basic), _adv_key(adv) if adv else None, name


def _whole(k: slice, n: int) -> bool:
    """torch skips a slice in a tuple key when its raw start is 0, step 1 and stop reaches n."""
    return (k.start is None or type(k.start) is int and k.start == 0) and k.step in (None, 1) \
        and (k.stop is None or type(k.stop) is int and k.stop >= n)


def _adv_key(adv) -> tuple:
    """The NumPy key that applies ``(dim, array)`` pairs to the basic result."""
    key, cur = [], 0
    for pos, a in adv:
        key.extend([_ALL] * (pos - cur))
        key.append(a)
        cur = pos + (a.ndim if a.dtype.kind == "b" else 1)
    return tuple(key)


def _explain(shape, akey, vshape=None, dtype_error: str | None = None) -> None:
    """Raise torch's error for an advanced read or write NumPy rejected, in torch's order: mask
    shapes, index broadcasting, the value's shape (a write), its dtype, then index bounds."""
    dim, arrays = 0, []
    for a in akey:
        if type(a) is slice:
            dim += 1
        elif a.dtype.kind == "b":
            for j, (m, s) in enumerate(zip(a.shape, shape[dim:])):
                if m != s:
                    raise IndexError(f"The shape of the mask {list(a.shape)} at index {j} does not "
                                     f"match the shape of the indexed tensor {list(shape)} at "
                                     f"index {dim + j}")
            arrays.append((int(a.sum()),))
            dim += a.ndim
        else:
            arrays.append(a.shape)
            dim += 1
    try:
        bshape = np.broadcast_shapes(*arrays)
    except ValueError:
        shapes = ", ".join(str(list(s)) for s in arrays)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with "
                         f"shapes {shapes}") from None
    if vshape is not None:
        region = _region_shape(shape, akey, bshape)
        if len(vshape) > len(region) or any(v not in (1, r) for v, r in
                                            zip(vshape[::-1], region[::-1])):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be "
                               f"broadcast to indexing result of shape {list(region)}")
    if dtype_error:
        raise RuntimeError(dtype_error)
    dim = ordinal = 0
    for a in akey:
        if type(a) is slice:
            dim += 1
            continue
        if a.dtype.kind != "b":
            n = shape[dim]
            if a.size and (a.max() >= n or a.min() < -n):
                if n == 0:
                    raise IndexError("index is out of bounds for dimension with size 0")
                bad = int(a[(a >= n) | (a < -n)].ravel()[0])
                raise index_out_of_bounds(bad, ordinal, n)
        k = a.ndim if a.dtype.kind == "b" else 1
        dim += k
        ordinal += k


def _region_shape(shape, akey, bshape) -> tuple:
    """The shape of ``view[akey]`` for a view of ``shape`` whose indices broadcast to ``bshape``
    (indices apart from each other put their dims first, as in NumPy)."""
    kept, pos, dim = [], [], 0
    for i, a in enumerate(akey):
        if type(a) is slice:
            kept.append(shape[dim])
            dim += 1
        else:
            pos.append(i)
            dim += a.ndim if a.dtype.kind == "b" else 1
    kept.extend(shape[dim:])
    first = pos[0] if pos == list(range(pos[0], pos[-1] + 1)) else 0
    return tuple(kept[:first]) + tuple(bshape) + tuple(kept[first:])


def _view_strides(old, st, new) -> list:
    """torch's computeStride: the strides of a ``new``-shaped view of a tensor (old, st)."""
    out, vd = [0] * len(new), len(new) - 1
    base, tn, vn = st[-1], 1, 1
    for td in range(len(old) - 1, -1, -1):
        tn *= old[td]
        if td == 0 or (old[td - 1] != 1 and st[td - 1] != tn * base):
            while vd >= 0 and (vn < tn or new[vd] == 1):
                out[vd] = vn * base
                vn *= new[vd]
                vd -= 1
            if td:
                base, tn, vn = st[td - 1], 1, 1
    return out


def _index_order(a, key):
    """The layout torch's advanced index gives ``a[key]`` (None: C order): TensorIterator's over
    ``a`` with the indexed dims restrided to 0, and the indices broadcast, then viewed with 1s
    for the other dims (masks become the columns of nonzero's C ordered result)."""
    if _is_c(a) and all(type(k) is slice or k.dtype.kind == "b" or _is_c(k) for k in key):
        return None  # every decisive stride comparison then keeps C order
    idx, dims, dim = [], [], 0  # (shape, element strides, int32?) of each index; indexed dims
    for k in key:
        if type(k) is slice:
            dim += 1
        elif k.dtype.kind == "b":
            idx.extend([((int(k.sum()),), (k.ndim,), False)] * k.ndim)
            dims.extend(range(dim, dim + k.ndim))
            dim += k.ndim
        else:
            idx.append((k.shape, [x // k.itemsize for x in k.strides], k.dtype == np.int32))
            dims.append(dim)
            dim += 1
    bshape = np.broadcast_shapes(*(s for s, _, _ in idx))
    rest = [d for d in range(a.ndim) if d not in dims]
    if dims == list(range(dims[0], dims[-1] + 1)):
        before, after = [d for d in rest if d < dims[0]], [d for d in rest if d > dims[0]]
    else:  # torch moves the indexed dims to the front
        before, after = [], rest
    shape = [a.shape[d] for d in before] + list(bshape) + [a.shape[d] for d in after]
    ops = [[a.strides[d] for d in before] + [0] * len(bshape) + [a.strides[d] for d in after]]
    ones = [1] * len(before) + list(bshape) + [1] * len(after)
    for s, st, int32 in idx:
        pad = len(bshape) - len(s)
        st = [0] * pad + [0 if n == 1 and m != 1 else x for n, m, x in zip(s, bshape[pad:], st)]
        if int32:  # torch converts it to int64 in a dense copy of the broadcast index
            st = _dense(bshape, _order(bshape, st))
        st = _view_strides(bshape, st, ones)
        ops.append([0 if n == 1 and m != 1 else x for n, m, x in zip(ones, shape, st)])
    return _order(shape, *ops)


# --- reading --------------------------------------------------------------------------------------
class Index(Op):
    """An advanced (copying) index; repeated indices accumulate in backward. The result is C
    ordered (torch's gather, take, index_select...) or, with ``ti``, laid out as torch's
    ``tensor[key]`` lays it out."""

    __slots__ = ()

    def forward(ctx, a, key, ti=False):
        ctx.shape, ctx.key = a.shape, key
        return _laid(ctx.xp, a[key], _index_order(a, key) if ti else None)

    def backward(ctx, g):
        return IndexBackward.apply(g, ctx.shape, ctx.key)

    def backward_raw(ctx, g):
        return IndexBackward.forward(ctx, g, ctx.shape, ctx.key)


class IndexBackward(Op):
    __slots__ = ()

    def forward(ctx, g, shape, key):
        ctx.key = key
        out = ctx.xp.zeros(shape, g.dtype)
        if all(type(k) is slice or k.dtype.kind == "b" for k in key):
            out[key] = g  # masks never repeat an element
        else:
            ufunc_at(ctx.xp, "add", out, key, g)
        return out

    def backward(ctx, gg):
        return Index.apply(gg, ctx.key)


def getitem(self: Tensor, key) -> Tensor:
    # fast paths for the common keys: one in-range int, one index tensor or mask
    """Same as torch.Tensor.__getitem__: basic keys give views, advanced keys copies."""
    tk = type(key)
    if tk is int and self._data.ndim and -self._data.shape[0] <= key < self._data.shape[0]:
        return _basic(self, (key,), "SelectBackward0")
    if tk is Tensor and key._data.ndim and key._data.dtype in _FAST_INDEX:
        akey = (key._data,)
        try:
            return saves(Index.apply_one(self, akey, True), key)
        except IndexError:
            _explain(self._data.shape, akey)
            raise
    basic, akey, name = _parse(self, key)
    if type(key) is slice:
        name = "SliceBackward0"  # torch never skips a lone slice
    out = self if akey is not None and name is None and None not in basic else \
        _basic(self, basic, name)
    if akey is None:
        return out
    try:
        return saves(Index.apply_one(out, akey, True), *_key_tensors(key))
    except IndexError:
        _explain(out._data.shape, akey)
        raise


def _key_tensors(key) -> list:
    """The tensors of an indexing key (torch's index nodes save them)."""
    return [k for k in key if isinstance(k, Tensor)] if type(key) in (tuple, list) else [key]


# --- writing --------------------------------------------------------------------------------------
class IndexPut(Op):
    """``a[basic][adv] = v`` (or ``+= v``) out of place; the slots written lose their gradient."""

    __slots__ = ()

    def forward(ctx, a, v, basic, akey, accumulate=False, keep=False):
        ctx.basic, ctx.akey, ctx.accumulate = basic, akey, accumulate
        if keep:  # torch's clone, else C order
            out = _like(ctx.xp, a)
            out[...] = a
        else:
            out = a.copy()
        _put(ctx.xp, out, basic, akey, v, accumulate)
        return out

    def backward(ctx, g):
        # the value broadcasts to the region written (no extra leading dims: _put checks), so the
        # base class sums the region's gradient back to the value's shape
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = g if ctx.accumulate else IndexPut.apply(g, g.new_zeros(()), ctx.basic, ctx.akey)
        if ctx.needs_input_grad[1]:
            gv = Slice.apply(g, ctx.basic)
            if ctx.akey is not None:
                gv = Index.apply(gv, ctx.akey)
        return ga, gv


def _put(xp, out, basic, akey, v, accumulate):
    v = int_fill(v, out.dtype, xp)
    if akey is None:
        if accumulate:
            out[basic] += v
        else:
            out[basic] = v
        return
    view = out[basic] if basic else out
    if _fills(xp, v, akey, accumulate):
        v = v.reshape(())
    elif getattr(v, "ndim", 0) > _region_ndim(view.ndim, akey):
        raise ValueError  # NumPy would drop the value's leading 1s; torch's index_put_ does not
    if accumulate:
        ufunc_at(xp, "add", view, akey, v)
    else:
        view[akey] = v


def _region_ndim(ndim: int, akey) -> int:
    """The number of dims of ``view[akey]`` for a view of ``ndim`` dims."""
    used = bcast = 0
    for k in akey:
        if type(k) is not slice:
            mask = k.dtype.kind == "b"
            used += k.ndim if mask else 1
            bcast = max(bcast, 1 if mask else k.ndim)
    return ndim - used + bcast


def _strip_ones(v):
    """torch's slicePrefix1sSize: a tensor or array value without its leading 1-sized dims."""
    shape = v.shape
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return v.reshape(shape[k:]) if k else v


def _value(self: Tensor, value):
    if isinstance(value, Tensor):
        if value._device != self._device:
            raise RuntimeError(f"expected device {self._device} but got device {value._device}")
        return value
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return value
    mod = type(value).__module__
    what = type(value).__name__ if mod == "builtins" else f"{mod}.{type(value).__name__}"
    raise TypeError(f"can't assign a {what} to a {self.type()}")


def _fills(xp, v, akey, accumulate: bool) -> bool:
    """torch's index_put_ writes a one-element CPU value through a lone mask with masked_fill_ (its
    ``value.item()``): any dtype, any shape (though a gradient must still fit the value)."""
    return not accumulate and xp is np and getattr(v, "size", 0) == 1 and _lone_mask(akey)


def _lone_mask(akey) -> bool:
    arrays = [k for k in akey if type(k) is not slice]
    return len(arrays) == 1 and arrays[0].dtype.kind == "b"


def _check_dtype(self: Tensor, basic, akey, value, accumulate: bool = False) -> None:
    """An index put needs the value in the destination's dtype (checked after the shapes)."""
    if akey is None or not isinstance(value, Tensor) or value.dtype is self.dtype or \
            _fills(value._device.xp, value._data, akey, accumulate):
        return
    from .._dtype import torch_type_name as tn

    _explain(np.shape(self._data[basic]), akey, value._data.shape,
             f"Index put requires the source and destination dtypes match, got {tn(self.dtype)} "
             f"for the destination and {tn(value.dtype)} for the source.")


def _put_error(self: Tensor, basic, akey, vshape, value) -> None:
    """Raise torch's message for a write NumPy rejected."""
    region = self._data[basic] if basic else self._data
    if akey is not None:
        _explain(np.shape(region), akey, vshape)
        return
    from .movement import expand_error

    vshape = list(vshape)
    while len(vshape) > np.ndim(region) and vshape[0] == 1:
        vshape.pop(0)  # torch drops leading 1s before expanding
    expand_error(value, list(np.shape(region)), vshape)


def setitem(self: Tensor, key, value) -> None:
    """Same as torch.Tensor.__setitem__, with gradients through the written values."""
    basic, akey, name = _parse(self, key)
    value = _value(self, value)
    # torch drops the value's leading 1s before broadcasting it: always for an advanced key, and
    # for a basic one when the shapes differ
    if isinstance(value, Tensor) and value._data.ndim and value._data.shape[0] == 1 and (
            akey is not None or value._data.shape != self._data[basic].shape):
        value = _strip_ones(value)
    _check_dtype(self, basic, akey, value)
    if _expanded(self._data[basic] if basic else self._data):
        if akey is None:  # copy_ and fill_ refuse it; index_put_ only warns
            raise RuntimeError(_OVERLAP)
        _warn_expanded(fills=_lone_mask(akey) and (
            value._data.size == 1 if isinstance(value, Tensor) else True))
    _check_put_overlap(self, basic, akey, value)
    if value.__class__ in _SCALARS and self.dtype in _HALVES:
        check_scalar_range(value, D.float64)  # torch writes it through a double, unchecked
        with np.errstate(over="ignore"):
            value = np.float64(value.real).astype(self._data.dtype)
    if put_in_place(self, basic, akey, value):
        return
    if not isinstance(value, Tensor):
        xp, npdt = self._device.xp, self._data.dtype
        value = Tensor._make(xp.asarray(int_fill(value, npdt, xp), npdt), self._device)
    elif value.dtype is not self.dtype:
        value = value.to(self.dtype)
    if akey is None and self._requires_grad and self._grad_fn is None:
        raise leaf_in_place(view=True)

    # torch's node: a view written (CopySlices), an index_put, or a copy_ of the whole tensor
    name = "torch::autograd::CopySlices" if name is not None else \
        "IndexPutBackward0" if akey is not None else "torch::autograd::CopyBackwards"

    def put(t, v):
        out = IndexPut.named(name).apply(t, v, basic, akey)
        return out if akey is None else saves(out, *_key_tensors(key))

    try:
        inplace_fill(self, put, value)  # nothing is written when the forward raises (the
        # overlap checks were made above, on the region written)
    except (IndexError, ValueError):
        _put_error(self, basic, akey, value._data.shape, value)
        raise


def _check_put_overlap(t: Tensor, basic, akey, value) -> None:
    """torch's overlap checks of ``t[basic][akey] = value``: its copy_ into the region refuses
    a partial overlap, its index_put_ a partial or a full one."""
    if isinstance(value, Tensor):
        seen = overlap(t._data[basic] if basic else t._data, value._data, value._device.xp)
        if seen == "partial" or seen == "full" and akey is not None:
            raise RuntimeError(_PARTIAL)


def put_in_place(t: Tensor, basic, akey, value, accumulate: bool = False) -> bool:
    """Write ``value`` at ``t[basic][akey]`` straight into ``t``'s buffer when nothing records
    (False: the write must be recorded). Only the positions written are touched, so an expanded
    tensor's shared memory holds what torch writes there."""
    if _recording(t, value):
        return False
    if _trace.tracer is not None:  # ndgrad.compile: recorded, a region as a write into its view
        return akey is None and not accumulate and _traced_put(t, basic, value)
    v = value._data if isinstance(value, Tensor) else value
    try:
        _put(t._device.xp, writable(t._data), basic, akey, v, accumulate)
    except (IndexError, ValueError):
        _put_error(t, basic, akey, np.shape(v), value)
        raise
    t._vc[0] += 1
    return True


def _traced_put(t: Tensor, basic, value) -> bool:
    """``t[basic] = value`` while a step is captured: a write into the view, which a replay
    repeats on that region alone (the recorded op would copy all of ``t`` at each write)."""
    view = t[basic] if basic else t
    if not isinstance(value, Tensor):
        xp, npdt = view._device.xp, view._data.dtype
        value = Tensor._make(xp.asarray(int_fill(value, npdt, xp), npdt), view._device)
    elif value.dtype is not view.dtype:
        value = value.to(view.dtype)
    write(view, value)
    return True


def _expanded(a) -> bool:
    """Do some of ``a``'s elements share memory (an expanded tensor)?"""
    return a.size > 1 and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape))


_EXPANDED = ("Use of {}_ on expanded tensors is deprecated. Please clone() the tensor before "
             "performing this operation. This also applies to advanced indexing e.g. tensor[{}] = "
             "{}")


def _warn_expanded(op: str = "index_put", fills: bool = False) -> None:
    """torch's warnings for an index put (or index_fill_) into an expanded tensor; an index put
    that dispatches to masked_fill_ (``fills``) warns for that too."""
    if op == "index_put":
        warnings.warn(_EXPANDED.format(op, "indices", "tensor"), UserWarning, stacklevel=3)
    if fills or op != "index_put":
        warnings.warn(_EXPANDED.format("masked_fill" if fills else op, "mask", "scalar"),
                      UserWarning, stacklevel=3)


_SCALARS = frozenset((bool, int, float, complex))
_HALVES = frozenset((D.float16, D.bfloat16))


def _recording(self: Tensor, value) -> bool:
    from ..autograd.grad_mode import state

    if not state.grad_enabled:
        return False
    base = self._base
    return self._requires_grad or (base is not None and base._requires_grad) or (
        isinstance(value, Tensor) and value._requires_grad)


def _indices_key(input: Tensor, indices):
    if not isinstance(indices, (tuple, list)):
        raise not_tensor("index_put", indices, "indices", 1, "tuple of Tensors")
    for i, k in enumerate(indices):
        if k is not None and not isinstance(k, Tensor):
            raise not_tensor_element(i, k)
    key = tuple(_ALL if k is None else k for k in indices)
    basic, akey, _ = _parse(input, key)
    if akey is None:  # index_put with only None indices writes everything
        akey = (_ALL,)
    return basic, akey


def index_put_(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """Same as torch.Tensor.index_put_."""
    basic, akey = _indices_key(input, indices)
    values = _value(input, values)
    if _expanded(input._data):
        _warn_expanded(fills=_fills(input._device.xp, values._data, akey, accumulate))
    _check_dtype(input, basic, akey, values, accumulate)
    _check_put_overlap(input, basic, akey if akey is not None else (), values)

    def put(t, v):
        return saves(_index_put(t, v, basic, akey, accumulate), *_key_tensors(indices))

    return input if put_in_place(input, basic, akey, values, accumulate) else \
        inplace_fill(input, put, values)  # torch writes through an expanded tensor


def _index_put(t: Tensor, v, basic, akey, accumulate: bool, keep: bool = False) -> Tensor:
    try:
        return IndexPut.apply(t, v, basic, akey, accumulate, keep)
    except (IndexError, ValueError):
        _put_error(t, basic, akey, np.shape(v._data if isinstance(v, Tensor) else v), v)
        raise


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """Same as torch.index_put."""
    basic, akey = _indices_key(input, indices)
    values = _value(input, values)
    _check_dtype(input, basic, akey, values, accumulate)
    return saves(_index_put(input, values, basic, akey, accumulate, True),
                 *_key_tensors(indices))
