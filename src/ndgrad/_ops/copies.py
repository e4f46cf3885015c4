"""The *_copy functions (a view op's result in memory of its own), the unsafe_ splits and the
other top-level spellings of existing shape ops (split_with_sizes, nonzero_static,
constant_pad_nd)."""

from __future__ import annotations

from .._errors import no_derivative
from .. import _dtype as D
from .._grad_mode import state as _grad_state
from .._tensor import Tensor
from ..autograd.op import Op
from . import strided as _s
from .convert import contiguous_format

__all__ = ["alias_copy", "as_strided_copy", "constant_pad_nd", "detach_copy", "diagonal_copy",
           "expand_copy", "narrow_copy", "nonzero_static", "permute_copy", "select_copy",
           "slice_copy", "split_copy", "split_with_sizes", "split_with_sizes_copy",
           "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unfold_copy",
           "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "unsqueeze_copy",
           "view_as_complex_copy", "view_as_real_copy", "view_copy"]


def _own(t: Tensor) -> Tensor:
    return t.clone(memory_format=contiguous_format)  # torch's *_copy: contiguous results


def alias_copy(input: Tensor) -> Tensor:
    """Same as torch.alias_copy."""
    return _own(input)


def as_strided_copy(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """Same as torch.as_strided_copy."""
    return _own(_s.as_strided(input, size, stride, storage_offset))


class _DetachCopy(Op):
    __slots__ = ()
    _node_name = "torch::autograd::NotImplemented"

    def forward(ctx, a):
        return a.copy()

    def backward(ctx, g):
        raise no_derivative("detach_copy")


def detach_copy(input: Tensor) -> Tensor:
    """Same as torch.detach_copy: as in torch, the copy keeps requires_grad, and its backward
    raises."""
    return _DetachCopy.apply_one(input)


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """Same as torch.diagonal_copy."""
    return _own(input.diagonal(offset, dim1, dim2))


def expand_copy(input: Tensor, size, *, implicit: bool = False) -> Tensor:
    """Same as torch.expand_copy."""
    return _own(input.expand(*size))


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """Same as torch.narrow_copy."""
    return _own(input.narrow(dim, start, length))


def permute_copy(input: Tensor, dims) -> Tensor:
    """Same as torch.permute_copy."""
    return _own(input.permute(*dims))


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    """Same as torch.select_copy."""
    return _own(input.select(dim, index))


def slice_copy(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    """Same as torch.slice_copy."""
    from .._tensor import wrap_dim

    return _own(input[(slice(None),) * wrap_dim(dim, input.ndim) + (slice(start, end, step),)])


def split_copy(input: Tensor, split_size, dim: int = 0) -> tuple:
    """Same as torch.split_copy."""
    return tuple(_own(t) for t in input.split(split_size, dim))


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Same as torch.split_with_sizes."""
    return input.split_with_sizes(split_sizes, dim)


def split_with_sizes_copy(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Same as torch.split_with_sizes_copy."""
    return tuple(_own(t) for t in input.split_with_sizes(split_sizes, dim))


def squeeze_copy(input: Tensor, dim=None) -> Tensor:
    """Same as torch.squeeze_copy."""
    return _own(input.squeeze(dim) if dim is not None else input.squeeze())


def t_copy(input: Tensor) -> Tensor:
    """Same as torch.t_copy."""
    return _own(input.t())


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Same as torch.transpose_copy."""
    return _own(input.transpose(dim0, dim1))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple:
    """Same as torch.unbind_copy."""
    return tuple(_own(t) for t in input.unbind(dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Same as torch.unfold_copy."""
    return _own(input.unfold(dimension, size, step))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    """Same as torch.unsqueeze_copy."""
    return _own(input.unsqueeze(dim))


def view_copy(input: Tensor, size) -> Tensor:
    """Same as torch.view_copy: reshape semantics (any strides), or a dtype reinterpretation."""
    if isinstance(size, D.dtype):
        return _own(input.view(size))
    return _own(input.reshape(size))


def view_as_real_copy(input: Tensor) -> Tensor:
    """Same as torch.view_as_real_copy."""
    return _own(_s.view_as_real(input))


def view_as_complex_copy(input: Tensor) -> Tensor:
    """Same as torch.view_as_complex_copy (which torch does not differentiate)."""
    if input._requires_grad and _grad_state.grad_enabled:
        raise RuntimeError("view_as_complex_copy does not support automatic differentiation for "
                           "outputs with complex dtype.")
    return _own(_s.view_as_complex(input))


# --- unsafe splits: torch's splits without the view bookkeeping ----------------------------------
def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Same as torch.unsafe_chunk."""
    return _unsafe(input.chunk(chunks, dim))


def unsafe_split(input: Tensor, split_size, dim: int = 0) -> tuple:
    """Same as torch.unsafe_split."""
    return _unsafe(input.split(split_size, dim))


def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Same as torch.unsafe_split_with_sizes."""
    return _unsafe(input.split_with_sizes(split_sizes, dim))


def _unsafe(parts: tuple) -> tuple:
    """The parts as plain views: no 'output of a function that returns multiple views' mark, so
    they may be modified in place (torch's UnsafeSplitBackward0)."""
    for p in parts:
        if getattr(p, "_view_meta", None) == "multi":
            p._view_meta = None
        if p._grad_fn is not None:
            p._grad_fn._name = "UnsafeSplitBackward0"
    return parts


# --- other spellings ----------------------------------------------------------------------------
def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """Same as torch.nonzero_static: nonzero's first ``size`` rows, padded with fill_value."""
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got "
                           f"{size}")
    xp = input._device.xp
    idx = xp.stack(xp.nonzero(input._data), -1) if input.ndim else \
        xp.zeros((int(bool(input._data)), 0), "int64")
    out = xp.full((size, input.ndim), fill_value, "int64")
    n = min(size, idx.shape[0])
    out[:n] = idx[:n]
    return Tensor._make(out, input._device)


def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    """Same as torch.constant_pad_nd."""
    from ..nn import functional as F

    return F.pad(input, list(pad), "constant", value)
