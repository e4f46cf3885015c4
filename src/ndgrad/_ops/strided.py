"""Views on a tensor's storage and their scatter twins: as_strided(_), view_as_real,
view_as_complex, select/slice/diagonal/as_strided_scatter (movement.py, the other views' home,
is another engineer's)."""

from __future__ import annotations

import numpy as np

from .._errors import negative_size
from .._grad_mode import state as _grad_state
from .._tensor import Tensor, wrap_dim
from ..autograd.op import Op
from .._dtype import torch_type_name
from .movement import _as_view, select
from ._layout import _like, fills_block
from .convert import contiguous_format

__all__ = ["as_strided", "as_strided_", "as_strided_scatter", "diagonal_scatter", "imag", "real",
           "select_scatter", "slice_scatter", "view_as_complex", "view_as_real"]


# --- storage geometry ---------------------------------------------------------------------------
def _ptr(a) -> int:
    return a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr


def _storage(a):
    """(flat storage in memory order, a's element offset in it): the array owning a's memory,
    when it is dense; else a copy of ``a`` alone (then nothing is shared)."""
    root = a
    while True:
        base = root.base
        while base is not None and not isinstance(base, type(a)) and hasattr(base, "base"):
            base = base.base  # NumPy's as_strided keeps its source inside a DummyArray
        if not isinstance(base, type(a)):
            break
        root = base
    if fills_block(root):  # (exp of a permuted tensor is dense in another order: its memory order)
        return root.ravel(order="K"), (_ptr(a) - _ptr(root)) // a.itemsize
    return a.ravel(), 0


def _positions(xp, shape, strides, offset):
    """The storage element each element of a (shape, strides, offset) view reads."""
    pos = xp.full(tuple(shape), offset, np.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        pos += (xp.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(shape) - d - 1))
    return pos


def _elem_strides(a) -> tuple:
    return tuple(s // a.itemsize for s in a.strides)


class StridedMap(Op):
    """out[j] = (w * scatter_add(x at storage positions src))[dst[j]]: as_strided's backward
    (``w`` divides by how often the input reads each element). Linear; its adjoint swaps
    src and dst, so derivatives of any order are this op again."""

    __slots__ = ()

    def forward(ctx, x, src, dst, w, shape):
        ctx.args = (src, dst, w, x.shape)
        xp, dt = ctx.xp, x.dtype
        n = int(max(src.max(initial=-1), dst.max(initial=-1))) + 1
        n = n if w is None else max(n, w.size)  # w spans the whole memory block

        def add(v):
            return xp.bincount(src.ravel(), v.ravel().astype(np.float64), minlength=n)

        store = add(x.real) + 1j * add(x.imag) if dt.kind == "c" else add(x)
        if w is not None:
            store = store * w
        return store[dst].reshape(shape).astype(dt)

    def backward(ctx, g):
        src, dst, w, shape = ctx.args
        return StridedMap.apply(g, dst, src, w, shape)


class AsStrided(Op):
    __slots__ = ()

    def forward(ctx, a, size, stride, offset):
        xp = ctx.xp
        flat, own = _storage(a)
        offset = own if offset is None else offset
        need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
        if need > flat.size:
            raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                               f"offset {offset}, and itemsize {a.itemsize} requiring a storage "
                               f"size of {need * a.itemsize} are out of bounds for storage of "
                               f"size {flat.size * a.itemsize}")
        if ctx.needs_input_grad[0]:
            src = _positions(xp, size, stride, offset)
            dst = _positions(xp, a.shape, _elem_strides(a), own)
            reads = xp.bincount(dst.ravel(), minlength=flat.size)
            w = None if a.size == 0 or reads.max() <= 1 else 1.0 / xp.maximum(reads, 1)
            ctx.args = (src, dst, w, a.shape)
        start = flat[min(offset, flat.size):]
        return xp.lib.stride_tricks.as_strided(start, tuple(size),
                                               tuple(s * a.itemsize for s in stride))

    def backward(ctx, g):
        src, dst, w, shape = ctx.args
        return StridedMap.apply(g, src, dst, w, shape)


def _check_geometry(size, stride) -> tuple:
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if any(n < 0 for n in size):
        raise negative_size(min(size), list(size))
    return size, stride


def as_strided(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """Same as torch.as_strided: a view of the input's storage (NumPy's memory block; a tensor
    whose memory is not one contiguous block gets a view of its own copy)."""
    size, stride = _check_geometry(size, stride)
    out = AsStrided.apply(input, size, stride, storage_offset)
    return _as_view(out, input, lambda b: as_strided(b, size, stride, storage_offset))


def as_strided_(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """Same as torch.as_strided_: the tensor itself becomes the strided view."""
    res = as_strided(input, size, stride, storage_offset)
    input._data = res._data
    if res._grad_fn is not None:
        input._grad_fn, input._output_nr = res._grad_fn, 0
    return input


# --- real and complex views ---------------------------------------------------------------------
class ViewAsReal(Op):
    __slots__ = ()

    def forward(ctx, a):
        r = a.real
        return ctx.xp.lib.stride_tricks.as_strided(r, a.shape + (2,),
                                                   r.strides + (r.itemsize,))

    def backward(ctx, g):
        return view_as_complex(g.contiguous())


class ViewAsComplex(Op):
    __slots__ = ()

    def forward(ctx, a):
        cdt = np.complex64 if a.dtype == np.float32 else np.complex128
        return a.view(cdt)[..., 0]  # the last dim is contiguous (checked), so this is a view

    def backward(ctx, g):
        return view_as_real(g.contiguous())


def view_as_real(input: Tensor) -> Tensor:
    """Same as torch.view_as_real."""
    if not input.is_complex():
        raise RuntimeError("view_as_real is only supported for complex tensors")
    out = ViewAsReal.apply_one(input)
    return _as_view(out, input, view_as_real)


def view_as_complex(input: Tensor) -> Tensor:
    """Same as torch.view_as_complex (half precision has no complex32 here: it raises)."""
    a = input._data
    if a.dtype not in (np.float32, np.float64):
        if a.dtype == np.float16:
            raise RuntimeError("view_as_complex: complex32 (ComplexHalf) is not supported")
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: "
                           f"{torch_type_name(input.dtype)}")
    if a.ndim == 0 or a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    st = input.stride()
    if st[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in st[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    out = ViewAsComplex.apply_one(input)
    return _as_view(out, input, view_as_complex)


# --- scatters: the input with a view of it replaced ----------------------------------------------
class ViewScatter(Op):
    """``a`` (copied: laid out as torch's clone lays it out, or C order with ``c_order``, which
    as_strided_scatter's strides index) with a view of it set to ``src``: ``view(out)`` gives
    that view, writable, for arrays and tensors alike (basic indexing, or a strided view)."""

    __slots__ = ()

    def forward(ctx, a, src, view, c_order=False):
        ctx.view, ctx.c_order = view, c_order
        if c_order:
            out = a.copy()
        else:
            out = _like(ctx.xp, a)
            out[...] = a
        view(out)[...] = src if src.dtype.kind != "c" or a.dtype.kind == "c" else src.real
        return out

    def backward(ctx, g):
        need = ctx.needs_input_grad
        gs = ctx.view(g)
        ga = ViewScatter.apply(g, gs.new_zeros(gs.shape), ctx.view, ctx.c_order) if need[0] \
            else None
        return ga, gs if need[1] else None, None, None


def _strided_view(t, shape, strides, offset):
    """A view of ``t``'s elements (C order) with these element strides and offset: on an array
    (a C-contiguous copy), writable; on a tensor, as_strided of a fresh copy (differentiable)."""
    if isinstance(t, Tensor):
        return as_strided(t.clone(memory_format=contiguous_format), shape, strides, offset)
    xp = np if isinstance(t, np.ndarray) else __import__("cupy")
    return xp.lib.stride_tricks.as_strided(t.reshape(-1)[offset:], tuple(shape),
                                           tuple(s * t.itemsize for s in strides))


def _scatter(input: Tensor, src: Tensor, view, name: str, want=None, c_order=False) -> Tensor:
    """input with ``view(input)`` replaced by src (torch's errors come from the tensor view)."""
    want = tuple(view(input).shape) if want is None else tuple(want)
    if tuple(src.shape) != want:
        raise RuntimeError("expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(want)}")
    if name[0] == "S" and (input.is_complex() or src.is_complex()) and _grad_state.grad_enabled \
            and (input._requires_grad or src._requires_grad):
        op = "select_scatter" if name.startswith("Select") else "slice_scatter"
        raise RuntimeError(f"{op} does not support automatic differentiation for outputs with "
                           "complex dtype.")
    return ViewScatter.named(name).apply(input, src, view, c_order)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """Same as torch.select_scatter."""
    def view(t):
        if isinstance(t, Tensor):
            return t.select(dim, index)
        d = wrap_dim(dim, t.ndim)  # a slice, then squeeze: a view even when the result is 0-d
        i = index % t.shape[d]
        return t[(slice(None),) * d + (slice(i, i + 1),)].squeeze(d)

    return _scatter(input, src, view, "SelectScatterBackward0")


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None,
                  step: int = 1) -> Tensor:
    """Same as torch.slice_scatter."""
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    d = wrap_dim(dim, input.ndim)

    def view(t):
        return t[(slice(None),) * d + (slice(start, end, step),)]

    return _scatter(input, src, view, "SliceScatterBackward0")


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """Same as torch.diagonal_scatter."""
    def view(t):
        if isinstance(t, Tensor):
            return t.diagonal(offset, dim1, dim2)
        d1, d2 = wrap_dim(dim1, t.ndim), wrap_dim(dim2, t.ndim)
        n = max(0, min(t.shape[d1] - max(-offset, 0), t.shape[d2] - max(offset, 0)))
        rest = [i for i in range(t.ndim) if i not in (d1, d2)]
        key = [slice(None)] * t.ndim  # start at the diagonal's first element (any layout of t)
        if n:
            key[d2 if offset >= 0 else d1] = slice(abs(offset), None)
        xp = np if isinstance(t, np.ndarray) else __import__("cupy")
        st = t.strides
        return xp.lib.stride_tricks.as_strided(
            t[tuple(key)], tuple([t.shape[i] for i in rest] + [n]),
            tuple([st[i] for i in rest] + [st[d1] + st[d2]]))

    return _scatter(input, src, view, "DiagonalScatterBackward0")


def as_strided_scatter(input: Tensor, src: Tensor, size, stride, storage_offset=None) -> Tensor:
    """Same as torch.as_strided_scatter (strides index the input's elements in C order, as in a
    clone of it). The input's gradient is the output's with the written elements zeroed; torch's
    is the reverse (the written elements' gradient, zeros elsewhere), a bug in its formula."""
    size, stride = _check_geometry(size, stride)
    offset = 0 if storage_offset is None else storage_offset
    need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    if need > input.numel():
        item = input._data.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{need * item} are out of bounds for storage of size "
                           f"{input.numel() * item}")

    if isinstance(src, Tensor) and src.dtype is not input.dtype:  # torch writes by index_put
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{torch_type_name(input.dtype)} for the destination and "
                           f"{torch_type_name(src.dtype)} for the source.")

    def view(t):
        return _strided_view(t, size, stride, offset)

    return _scatter(input, src, view, "AsStridedScatterBackward0", size, True)


def real(input: Tensor) -> Tensor:
    """Same as torch.real: for a complex tensor a view of its real parts (view_as_real's first
    column), so a write through it reaches the tensor and its gradient, as in torch."""
    if not input.is_complex():
        return input
    return select(view_as_real(input), -1, 0)


def imag(input: Tensor) -> Tensor:
    """Same as torch.imag: a view of the imaginary parts."""
    if not input.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return select(view_as_real(input), -1, 1)
