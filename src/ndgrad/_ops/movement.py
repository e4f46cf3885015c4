"""Shape and movement primitives: views (reshape, transpose, permute, expand, squeeze, indexing),
joins (cat, stack), copies (clone, to) and indexing with gradients."""

from __future__ import annotations

import math

from .. import _dtype as D
from .._backend import device, to_device
from .._tensor import Size, Tensor, tensor_method, wrap_dim, wrap_dims
from ..autograd.function import Op
from ._inplace import inplace

__all__ = ["broadcast_to", "cat", "clone", "concat", "concatenate", "flatten", "narrow", "permute",
           "reshape", "select", "squeeze", "stack", "swapaxes", "swapdims", "t", "transpose",
           "unbind", "unflatten", "unsqueeze", "index_put"]


def _as_view(out: Tensor, src: Tensor, fn) -> Tensor:
    """Mark ``out`` as a view of ``src``'s base; ``fn(base)`` rebuilds it (for in-place ops)."""
    if src._base is None:
        out._base, out._view_fn = src, fn
    else:
        prev = src._view_fn
        out._base, out._view_fn = src._base, lambda b: fn(prev(b))
    out._vc = src._vc
    return out


def _shape_arg(shape):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer(shape, numel):
    shape = list(shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[shape.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


class View(Op):
    __slots__ = ()

    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    def backward(ctx, g):
        return g.reshape(ctx.shape)


@tensor_method
def reshape(input, *shape):
    shape = _infer(_shape_arg(shape), input.numel())
    if shape == input._data.shape and not input._requires_grad:
        return _as_view(Tensor._make(input._data.view(), input._device), input,
                        lambda b: b.reshape(shape))
    out = View.apply(input, shape)
    if out._data.base is not None or out._data.size == 0:
        return _as_view(out, input, lambda b: b.reshape(shape))
    if out._grad_fn is not None:
        out._grad_fn._name = "UnsafeViewBackward0"
    return out


@tensor_method
def view(input, *shape):
    if len(shape) == 1 and isinstance(shape[0], (D.dtype, type)) and not isinstance(shape[0], int):
        dt = D.to_dtype(shape[0])
        return Tensor._make(input._data.view(dt.np), input._device)
    shape = _infer(_shape_arg(shape), input.numel())
    if not input._data.flags.c_contiguous and input._data.size > 1:
        probe = input._data.view()
        try:
            probe.shape = shape  # NumPy refuses exactly when a view is impossible
        except AttributeError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.") from None
    out = View.apply(input, shape)
    return _as_view(out, input, lambda b: b.view(shape))


Tensor.view_as = lambda self, other: view(self, other.shape)
Tensor.reshape_as = lambda self, other: reshape(self, other.shape)


@tensor_method
def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, input.ndim), wrap_dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input.shape
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


@tensor_method
def unflatten(input, dim, sizes):
    d = wrap_dim(dim, input.ndim)
    shp = input.shape
    sizes = _infer(tuple(sizes), shp[d])
    return view(input, shp[:d] + sizes + shp[d + 1:])


class Permute(Op):
    __slots__ = ()

    def forward(ctx, a, perm):
        ctx.perm = perm
        return a.transpose(perm)

    def backward(ctx, g):
        inv = [0] * len(ctx.perm)
        for i, p in enumerate(ctx.perm):
            inv[p] = i
        return g.permute(inv)


@tensor_method
def permute(input, *dims):
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}")
    perm = wrap_dims(dims, input.ndim)
    if len(set(perm)) != len(perm):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _as_view(Permute.apply(input, perm), input, lambda b: b.permute(perm))


@tensor_method
def transpose(input, dim0, dim1):
    n = input.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    perm = list(range(n))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    out = Permute.apply(input, tuple(perm))
    if out._grad_fn is not None:
        out._grad_fn._name = "TransposeBackward0"
    return _as_view(out, input, lambda b: b.transpose(d0, d1))


swapaxes = swapdims = transpose
Tensor.swapaxes = Tensor.swapdims = transpose


@tensor_method
def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, -1) if input.ndim == 2 else input


def _T(self):
    if self.ndim > 2:
        import warnings

        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                      "shape is deprecated and it will throw an error in a future release.",
                      UserWarning, stacklevel=2)
    return permute(self, tuple(range(self.ndim - 1, -1, -1)))


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.H = property(lambda self: _T(self).conj())
Tensor.mH = property(lambda self: _mT(self).conj())


class Expand(Op):
    __slots__ = ()

    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return ctx.xp.broadcast_to(a, shape)

    def backward(ctx, g):
        from .reduce import sum_to_size

        return sum_to_size(g, ctx.shape)


@tensor_method
def expand(input, *sizes):
    sizes = list(_shape_arg(sizes))
    n = len(sizes) - input.ndim
    if n < 0:
        raise RuntimeError(f"expand({input.type()}{{{list(input.shape)}}}, size={sizes}): the "
                           "number of sizes provided ({}) must be greater or equal to the number "
                           f"of dimensions in the tensor ({input.ndim})".format(len(sizes)))
    for i, s in enumerate(sizes):
        if s == -1:
            sizes[i] = input.shape[i - n]
        elif i >= n and input.shape[i - n] not in (1, s):
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({input.shape[i - n]}) at non-singleton dimension {i}.  "
                               f"Target sizes: {sizes}.  Tensor sizes: {list(input.shape)}")
    sizes = tuple(sizes)
    if sizes == input._data.shape:
        return _as_view(Tensor._make(input._data.view(), input._device, input._requires_grad,
                                     None), input, lambda b: b.expand(sizes)) \
            if not input._requires_grad else Expand.apply(input, sizes)
    return _as_view(Expand.apply(input, sizes), input, lambda b: b.expand(sizes))


Tensor.expand_as = lambda self, other: expand(self, other.shape)


def broadcast_to(input, size):
    return expand(input, size)


@tensor_method
def squeeze(input, dim=None):
    if dim is None:
        axes = tuple(i for i, s in enumerate(input.shape) if s == 1)
        name = "SqueezeBackward0"
    else:
        axes = tuple(d for d in wrap_dims(dim, input.ndim) if input.shape[d] == 1) \
            if input.ndim else ()
        name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
    shape = tuple(s for i, s in enumerate(input.shape) if i not in axes)
    out = View.apply(input, shape)
    if out._grad_fn is not None:
        out._grad_fn._name = name
    return _as_view(out, input, lambda b: b.squeeze(dim))


@tensor_method
def unsqueeze(input, dim):
    d = wrap_dim(dim, input.ndim + 1)
    shape = input.shape[:d] + (1,) + input.shape[d:]
    out = View.apply(input, shape)
    if out._grad_fn is not None:
        out._grad_fn._name = "UnsqueezeBackward0"
    return _as_view(out, input, lambda b: b.unsqueeze(d))


# --- joins --------------------------------------------------------------------------------------
class Cat(Op):
    __slots__ = ()

    def forward(ctx, *arrays, dim=0):
        ctx.sizes, ctx.dim = [a.shape[dim] for a in arrays], dim
        return ctx.xp.concatenate(arrays, axis=dim)

    def backward(ctx, g):
        out, start = [], 0
        for s in ctx.sizes:
            out.append(g.narrow(ctx.dim, start, s))
            start += s
        return tuple(out)


def _promote_all(tensors):
    dt = D.result_type(*tensors)
    return [t if t.dtype is dt else t.to(dt) for t in tensors]


def cat(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    nonempty = [t for t in tensors if not (t.ndim == 1 and t.numel() == 0)]
    tensors = _promote_all(nonempty or tensors[:1])
    ref = tensors[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim)
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != ref.ndim:
            raise RuntimeError("Tensors must have same number of dimensions: got "
                               f"{ref.ndim} and {t.ndim}")
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[k]} but got size {t.shape[k]} for "
                                   f"tensor number {i} in the list.")
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


class Stack(Op):
    __slots__ = ()

    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        return ctx.xp.stack(arrays, axis=dim)

    def backward(ctx, g):
        return tuple(g.unbind(ctx.dim))


def stack(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at "
                               f"entry {i}")
    tensors = _promote_all(tensors)
    d = wrap_dim(dim, tensors[0].ndim + 1)
    return Stack.apply(*tensors, dim=d)


class Unbind(Op):
    __slots__ = ()

    def forward(ctx, a, dim):
        ctx.dim = dim
        return tuple(ctx.xp.moveaxis(a, dim, 0)) if a.shape[dim] else ()

    def backward(ctx, *grads):
        return stack(grads, ctx.dim)


@tensor_method
def unbind(input, dim=0):
    d = wrap_dim(dim, input.ndim)
    outs = Unbind.apply(input, d)
    if not isinstance(outs, tuple):
        outs = (outs,)
    return tuple(_as_view(o, input, lambda b, i=i: b.select(d, i)) for i, o in enumerate(outs))


@tensor_method
def narrow(input, dim, start, length):
    d = wrap_dim(dim, input.ndim)
    start = int(start)
    if start < 0:
        start += input.shape[d]
    if start + length > input.shape[d] or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({input.shape[d]}).")
    idx = (slice(None),) * d + (slice(start, start + length),)
    return input[idx]


@tensor_method
def select(input, dim, index):
    d = wrap_dim(dim, input.ndim)
    return input[(slice(None),) * d + (index,)]


# --- copies and conversions ---------------------------------------------------------------------
class Clone(Op):
    __slots__ = ()

    def forward(ctx, a):
        return a.copy()

    def backward(ctx, g):
        return g


@tensor_method
def clone(input, *, memory_format=None):
    return Clone.apply(input)


@tensor_method
def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    return Clone.apply(input)


class ToCopy(Op):
    __slots__ = ()

    def forward(ctx, a, dt, dev):
        ctx.src_dtype, ctx.src_dev = a.dtype, ctx.device_of(a)
        if a.dtype.kind == "c" and dt.kind != "c":
            import warnings

            warnings.warn("Casting complex values to real discards the imaginary part",
                          UserWarning, stacklevel=4)
            a = a.real
        return to_device(a.astype(dt, copy=False), dev)

    def device_of(ctx, a):
        from .._backend import device_of_array

        return device_of_array(a)

    def backward(ctx, g):
        return g.to(dtype=D.from_numpy(ctx.src_dtype), device=ctx.src_dev)


def _parse_to(args, kwargs):
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    for a in args:
        if isinstance(a, D.dtype):
            dt = a
        elif isinstance(a, Tensor):
            dt, dev = a.dtype, a.device
        elif isinstance(a, (str, device)):
            dev = a
    return dt, dev


@tensor_method
def to(input, *args, **kwargs):
    """Same as torch.Tensor.to(dtype), .to(device), .to(other), with ``copy=`` and
    ``non_blocking=`` (ignored)."""
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    dt, dev = _parse_to(args, kwargs)
    dt = input.dtype if dt is None else D.to_dtype(dt)
    dev = input._device if dev is None else device(dev)
    if dt is input.dtype and dev == input._device and not copy:
        return input
    out = ToCopy.apply(input, dt.np, dev)
    out._device = dev
    return out


def _caster(dt):
    def cast(self, memory_format=None):
        return to(self, dt)

    return cast


for _n, _dt in (("float", D.float32), ("double", D.float64), ("half", D.float16),
                ("bfloat16", D.bfloat16), ("int", D.int32), ("long", D.int64),
                ("short", D.int16), ("char", D.int8), ("byte", D.uint8), ("bool", D.bool_),
                ("cfloat", D.complex64), ("cdouble", D.complex128)):
    setattr(Tensor, _n, _caster(_dt))

Tensor.cpu = lambda self, memory_format=None: to(self, "cpu")
Tensor.cuda = lambda self, device=None, non_blocking=False: to(
    self, "cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device))
Tensor.type_as = lambda self, other: to(self, other.dtype)

_LEGACY = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
           "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
           "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
           "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
           "complex128": "ComplexDoubleTensor"}


def _type(self, dtype=None, non_blocking=False):
    if dtype is None:
        prefix = "torch." if self._device.type == "cpu" else "torch.cuda."
        return prefix + _LEGACY[self.dtype.name]
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1]
        dtype = next(D._by_name(k) for k, v in _LEGACY.items() if v == name)
    return to(self, dtype)


Tensor.type = _type


# --- indexing -----------------------------------------------------------------------------------
def _index_key(key, dev):
    """Tensors in an index become arrays; bool/int checks as torch does."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
            if k.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(k, list):
            k = dev.xp.asarray(k)
            if k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        out.append(k)
    return tuple(out)


def _is_basic(key):
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key)


def _check_bounds(key, shape):
    dim = 0
    for k in key:
        if k is None:
            continue
        if k is Ellipsis:
            dim = len(shape) - sum(1 for x in key if x is not None and x is not Ellipsis)
            continue
        if isinstance(k, int) and dim < len(shape):
            if not -shape[dim] <= k < shape[dim]:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
        elif isinstance(k, int):
            raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
        dim += 1 if not hasattr(k, "dtype") or k.dtype.kind != "b" else k.ndim


class Index(Op):
    __slots__ = ()

    def forward(ctx, a, key, basic):
        ctx.shape, ctx.key, ctx.basic = a.shape, key, basic
        return a[key]

    def backward(ctx, g):
        return IndexBackward.apply(g, ctx.shape, ctx.key, ctx.basic)


class IndexBackward(Op):
    """Scatter a gradient into zeros; repeated advanced indices accumulate."""

    __slots__ = ()

    def forward(ctx, g, shape, key, basic):
        ctx.key, ctx.basic = key, basic
        out = ctx.xp.zeros(shape, g.dtype)
        if basic:
            out[key] = g
        else:
            ctx.xp.add.at(out, key, g)
        return out

    def backward(ctx, gg):
        return Index.apply(gg, ctx.key, ctx.basic)


def _index_name(key, basic):
    if not basic:
        return "IndexBackward0"
    last = None
    for k in key:
        if isinstance(k, int):
            last = "SelectBackward0"
        elif isinstance(k, slice) and k != slice(None):
            last = "SliceBackward0"
        elif k is None:
            last = "UnsqueezeBackward0"
    return last or "AliasBackward0"


def getitem(self, key):
    key = _index_key(key, self._device)
    basic = _is_basic(key)
    if basic:
        _check_bounds(key, self._data.shape)
    try:
        out = Index.apply(self, key, basic)
    except IndexError as e:
        raise IndexError(_numpy_index_message(str(e))) from None
    if out._grad_fn is not None:
        out._grad_fn._name = _index_name(key, basic)
    if basic:
        _as_view(out, self, lambda b: getitem(b, key))
    return out


def _numpy_index_message(msg):
    import re

    m = re.match(r"index (-?\d+) is out of bounds for axis (\d+) with size (\d+)", msg)
    if m:
        return f"index {m[1]} is out of bounds for dimension {m[2]} with size {m[3]}"
    return msg


class IndexPut(Op):
    """``a[key] = v`` out of place: the slots written lose their gradient; v gets the rest."""

    __slots__ = ()

    def forward(ctx, a, v, key, accumulate=False):
        ctx.key, ctx.vshape = key, v.shape
        out = a.copy()
        if accumulate:
            ctx.xp.add.at(out, key, v)
        else:
            out[key] = v
        return out

    def backward(ctx, g):
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = IndexPut.apply(g, g.new_zeros(()), ctx.key)
        if ctx.needs_input_grad[1]:
            gv = Index.apply(g, ctx.key, _is_basic(ctx.key))
            if gv.shape != ctx.vshape:
                from .reduce import sum_to_size

                gv = sum_to_size(gv, ctx.vshape)
        return ga, gv


def setitem(self, key, value):
    key = _index_key(key, self._device)
    if isinstance(value, Tensor):
        if value._device != self._device:
            raise RuntimeError(f"expected device {self._device} but got device {value._device}")
    if _is_basic(key):
        _check_bounds(key, self._data.shape)
    recording = _recording(self, value)
    if not recording:
        self._data[key] = value._data if isinstance(value, Tensor) else value
        self._vc[0] += 1
        return
    if not isinstance(value, Tensor):
        value = Tensor._make(self._device.xp.asarray(value, self._data.dtype), self._device)
    elif value.dtype is not self.dtype:
        value = value.to(self.dtype)

    def put(t, v):
        out = IndexPut.apply(t, v, key)
        out._grad_fn._name = "IndexPutBackward0" if not _is_basic(key) else "CopySlices"
        return out

    inplace(self, put, value)


def _recording(*ts):
    from ..autograd.grad_mode import state

    return state.grad_enabled and any(
        isinstance(t, Tensor) and (t._requires_grad or (t._base is not None and
                                                        t._base._requires_grad)) for t in ts)


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem


@tensor_method
def index_put_(input, indices, values, accumulate=False):
    key = _index_key(tuple(indices), input._device)
    return inplace(input, lambda t, v: IndexPut.apply(t, v, key, accumulate), values)


@tensor_method
def index_put(input, indices, values, accumulate=False):
    key = _index_key(tuple(indices), input._device)
    return IndexPut.apply(input, values, key, accumulate)


Tensor.size_ = None
del Tensor.size_
_ = Size
