"""Joins: cat and stack, their h/v/d/column variants and the atleast_nd helpers they use."""

from __future__ import annotations

from .._errors import not_tensor, not_tensor_element
from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ..autograd.op import Op
from ._out import out_arg

# torch writes every join through cat's out: a dtype the result casts to is fine
_cat_out = out_arg("cat", cast=True, error=TypeError, overlap=True,
                   dtype_error="torch.cat(): input types can't be cast to the desired output "
                   "type {Got}")

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "cat", "column_stack", "concat",
           "concatenate", "dstack", "hstack", "row_stack", "stack", "vstack"]


def _skipped(a) -> bool:
    """torch's legacy rule: cat skips 1-D empty tensors, whatever the others' rank."""
    return a.ndim == 1 and a.shape[0] == 0


class Cat(Op):
    __slots__ = ()

    def forward(ctx, *arrays, dim=0):
        keep = [a for a in arrays if not _skipped(a)] or arrays[:1]
        ctx.sizes, ctx.dim = [None if _skipped(a) else a.shape[dim] for a in arrays], dim
        shape = list(keep[0].shape)
        shape[dim] = sum(a.shape[dim] for a in keep)
        # torch's result is C ordered; NumPy's would follow F ordered inputs
        return ctx.xp.concatenate(keep, axis=dim, out=ctx.xp.empty(shape, keep[0].dtype))

    def backward(ctx, g):
        out, start = [], 0
        for s in ctx.sizes:
            out.append(g.new_zeros(0) if s is None else g.narrow(ctx.dim, start, s))
            start += s or 0
        return tuple(out)


def _tensor_list(name: str, tensors) -> list:
    if isinstance(tensors, Tensor):
        raise not_tensor(name, tensors, "tensors", 1, "tuple of Tensors")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise not_tensor_element(i, t)
    return tensors


def _promote_all(tensors: list) -> list:
    dt = D.result_type(*tensors)
    return [t if t.dtype is dt else t.to(dt) for t in tensors]


@_cat_out
def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Same as torch.cat (1-D empty tensors are skipped, as torch's legacy rule says)."""
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    tensors = _promote_all(tensors)
    checked = [(i, t) for i, t in enumerate(tensors) if not _skipped(t._data)] or [(0, tensors[0])]
    ref = checked[0][1]
    if ref.ndim == 0:
        raise RuntimeError(f"zero-dimensional tensor (at position {checked[0][0]}) cannot be "
                           "concatenated")
    d = wrap_dim(dim, ref.ndim)
    for i, t in checked[1:]:
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
        shape = list(arrays[0].shape)
        shape.insert(dim, len(arrays))
        return ctx.xp.stack(arrays, axis=dim, out=ctx.xp.empty(shape, arrays[0].dtype))

    def backward(ctx, g):
        return tuple(g.unbind(ctx.dim))


@_cat_out
def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Same as torch.stack."""
    tensors = _tensor_list("stack", tensors)
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


def _atleast(n: int):
    def fn(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            return tuple(fn(t) for t in tensors[0])
        if len(tensors) != 1:
            return tuple(fn(t) for t in tensors)
        t = tensors[0]
        if t.ndim >= n:
            return t
        if t.ndim == 0:
            return t.reshape((1,) * n)
        if n == 2 or t.ndim == 2:
            return t.unsqueeze(0 if n == 2 else -1)
        return t.reshape(1, t.shape[0], 1)

    fn.__name__ = f"atleast_{n}d"
    fn.__doc__ = f"Same as torch.atleast_{n}d: views with dimensions added."
    return fn


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


@_cat_out
def hstack(tensors, *, out=None) -> Tensor:
    """Same as torch.hstack."""
    ts = atleast_1d(tuple(_tensor_list("hstack", tensors)))
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1)  # the first tensor decides, as torch


@_cat_out
def vstack(tensors, *, out=None) -> Tensor:
    """Same as torch.vstack."""
    return cat(atleast_2d(tuple(_tensor_list("vstack", tensors))), 0)


row_stack = vstack


@_cat_out
def dstack(tensors, *, out=None) -> Tensor:
    """Same as torch.dstack."""
    return cat(atleast_3d(tuple(_tensor_list("dstack", tensors))), 2)


@_cat_out
def column_stack(tensors, *, out=None) -> Tensor:
    """Same as torch.column_stack."""
    ts = [t.reshape(t.numel(), 1) if t.ndim <= 1 else t
          for t in _tensor_list("column_stack", tensors)]
    return cat(ts, 1)
