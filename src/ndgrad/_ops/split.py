"""Multi-output views (split, chunk, tensor_split, unbind) and sliding windows (unfold)."""

from __future__ import annotations

from .._tensor import Tensor, wrap_dim
from ..autograd.op import Op
from .movement import _as_view, _elem_strides, _strided, cat, narrow, select, stack
from .. import _dtype as D
from .._dtype import torch_type_name
from .._errors import no_dims_error

__all__ = ["chunk", "dsplit", "hsplit", "split", "tensor_split", "unbind", "vsplit"]


class Split(Op):
    """Consecutive pieces of ``sizes`` along ``dim``: views in, one concatenated grad out."""

    __slots__ = ()

    def forward(ctx, a, sizes, dim):
        ctx.dim = dim
        out, start = [], 0
        pre = (slice(None),) * dim
        for s in sizes:
            out.append(a[pre + (slice(start, start + s),)])
            start += s
        return tuple(out)

    def backward(ctx, *grads):
        return cat(grads, ctx.dim)

    def backward_raw(ctx, *grads):  # (a missing grad comes as zeros: Node._apply_raw)
        return ctx.xp.concatenate(grads, axis=ctx.dim)


def _split(input: Tensor, sizes, dim: int, name: str) -> tuple:
    outs = Split.named(name).apply(input, tuple(sizes), dim)
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    op = name.replace("Backward0", "")
    return tuple(_as_view(o, input, lambda b, s=s, n=n: narrow(b, dim, s, n),
                          f"Output {i} of {op}")
                 for i, (o, s, n) in enumerate(zip(outs, starts, sizes)))


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Same as torch.split: views of ``split_size`` (the last may be smaller) or given sizes."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, tensor.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [min(size, n - i) for i in range(0, n, size)] if size else [0]
        return _split(tensor, sizes or [0], d, "SplitBackward0")
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _split(tensor, sizes, d, "SplitWithSizesBackward0")


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Same as torch.split_with_sizes."""
    return split(input, list(split_sizes), dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Same as torch.chunk."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[wrap_dim(dim, input.ndim)]
    return split(input, max(1, -(-n // chunks)) if n else 0, dim) if n else tuple(
        split(input, 0, dim) * chunks)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Same as torch.tensor_split: ``sections`` near-equal pieces or cuts at ``indices``."""
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = wrap_dim(dim, input.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, Tensor):
        t = indices_or_sections
        if t.dtype is not D.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype of "
                               f"long, but got {torch_type_name(t.dtype)}")
        if t.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {t.ndim} dims")
        indices_or_sections = int(t) if t.ndim == 0 else t.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        sizes = [n // k + (i < n % k) for i in range(k)]
    else:
        cuts = [min(max(int(i) + (n if int(i) < 0 else 0), 0), n) for i in indices_or_sections]
        bounds = [0] + cuts + [n]
        sizes = [max(0, b - a) for a, b in zip(bounds, bounds[1:])]
        starts = bounds[:-1]
        return tuple(narrow(input, d, min(s, n), z) for s, z in zip(starts, sizes))
    return tuple(narrow(input, d, sum(sizes[:i]), z) for i, z in enumerate(sizes))


def _dim_split(name, dim, min_dim):
    def fn(input: Tensor, indices_or_sections) -> tuple:
        if input.ndim < min_dim:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} "
                               f"dimension, but got a tensor with {input.ndim} dimensions!")
        d = 0 if name == "hsplit" and input.ndim == 1 else dim
        if isinstance(indices_or_sections, int) and input.shape[d] % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the "
                               f"size of the dimension {input.shape[d]} is not divisible by the "
                               f"split_size {indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)

    fn.__name__ = name
    return fn


hsplit, vsplit, dsplit = _dim_split("hsplit", 1, 1), _dim_split("vsplit", 0, 2), \
    _dim_split("dsplit", 2, 3)


class Unbind(Op):
    __slots__ = ()

    def forward(ctx, a, dim):
        ctx.dim = dim
        m = ctx.xp.moveaxis(a, dim, 0)
        return tuple(m[i, ...] for i in range(m.shape[0]))  # 0-d views, not NumPy scalars

    def backward(ctx, *grads):
        return stack(grads, ctx.dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """Same as torch.unbind."""
    d = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        raise no_dims_error(dim)
    if input._data.shape[d] == 0:
        return ()
    outs = Unbind.apply(input, d)
    return tuple(_as_view(o, input, lambda b, i=i: select(b, d, i), f"Output {i} of Unbind")
                 for i, o in enumerate(outs))


# --- strided views -------------------------------------------------------------------------------
class Unfold(Op):
    """Sliding windows of ``size`` every ``step`` along ``dim``, as a new last dimension."""

    __slots__ = ()

    def forward(ctx, a, dim, size, step):
        ctx.shape, ctx.args = a.shape, (dim, size, step)
        if a.ndim == 0:  # torch treats a scalar as one window of size 1
            return a.reshape(1)
        st = list(_elem_strides(a))
        shape = list(a.shape)
        shape[dim] = (a.shape[dim] - size) // step + 1
        last = st[dim]
        st[dim] *= step
        return _strided(ctx.xp, a, tuple(shape) + (size,), tuple(st) + (last,))

    def backward(ctx, g):
        return UnfoldBackward.apply(g, ctx.shape, *ctx.args)


class UnfoldBackward(Op):
    """Overlapping windows add up: one strided add per window offset."""

    __slots__ = ()

    def forward(ctx, g, shape, dim, size, step):
        ctx.args = (dim, size, step)
        out = ctx.xp.zeros(shape, g.dtype)
        if not len(shape):
            return g.reshape(())
        n = g.shape[dim]
        for k in range(size):
            idx = (slice(None),) * dim + (slice(k, k + (n - 1) * step + 1, step),)
            out[idx] += g[..., k]
        return out

    def backward(ctx, gg):
        return Unfold.apply(gg, *ctx.args)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Same as torch.Tensor.unfold: a view with windows as the last dimension."""
    d = wrap_dim(dimension, input.ndim)
    n = input._data.shape[d] if input.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    out = Unfold.apply(input, d, size, step)
    return _as_view(out, input, lambda b: unfold(b, d, size, step))
