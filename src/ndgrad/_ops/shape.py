"""Rearranging copies: repeat/tile, flip/roll/rot90, triangles and diagonal fills, meshgrid, and
the broadcasting helpers."""

from __future__ import annotations

from .._tensor import Size, Tensor, wrap_dim, wrap_dims
from .._errors import infer_size, negative_size, repeated_dim
from ..autograd.op import Op
from ._out import out_arg
from .indexing import _laid, _like
from .movement import expand, flatten, reshape
from .._errors import no_dims_error
from .convert import contiguous_format

__all__ = ["broadcast_shapes", "broadcast_tensors", "flip", "fliplr", "flipud", "meshgrid",
           "repeat_interleave", "roll", "rot90", "tile", "tril", "triu"]


# --- broadcasting --------------------------------------------------------------------------------
def broadcast_shapes(*shapes) -> Size:
    """Same as torch.broadcast_shapes (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    res = [1] * max((len(s) for s in shapes), default=0)
    for i, s in enumerate(shapes):
        for k in range(1, len(s) + 1):
            if res[-k] == 1:
                res[-k] = s[-k]
            elif s[-k] not in (1, res[-k]):
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s[-k]} at "
                                   f"{-k}! Mismatching argument at index {i} had {s}; but "
                                   f"expected shape should be broadcastable to {res}")
    return Size(res)


def broadcast_tensors(*tensors) -> tuple:
    """Same as torch.broadcast_tensors: expanded views (a tensor already of the shape is kept)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape: tuple = ()
    for t in tensors:
        shape = infer_size(shape, tuple(t.shape))
    return tuple(t if tuple(t.shape) == shape else expand(t, shape) for t in tensors)


# --- repeating -----------------------------------------------------------------------------------
class Repeat(Op):
    __slots__ = ()

    def forward(ctx, a, reps):
        a = a.reshape((1,) * (len(reps) - a.ndim) + a.shape)
        ctx.shape, ctx.reps = a.shape, reps
        return ctx.xp.tile(a, reps)

    def backward(ctx, g):
        # view the grad as (r0, s0, r1, s1, ...) and sum the repeat axes
        split = tuple(x for r, s in zip(ctx.reps, ctx.shape) for x in (r, s))
        return g.reshape(split).sum(tuple(range(0, len(split), 2)))


def repeat(input: Tensor, *sizes) -> Tensor:
    """Same as torch.Tensor.repeat: tile the data ``sizes`` times along each dimension."""
    if len(sizes) == 1 and not isinstance(sizes[0], int):
        sizes = tuple(sizes[0])
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    padded = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    shape = [r * s for r, s in zip(sizes, padded)]
    for s in shape:
        if s < 0:
            raise negative_size(s, shape)
    return Repeat.apply(input, tuple(sizes))


def tile(input: Tensor, dims, *more) -> Tensor:
    """Same as torch.tile (and Tensor.tile, which takes the dims unpacked or one int too)."""
    dims = (dims, *more) if more or isinstance(dims, int) else tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Same as torch.repeat_interleave, including the one-argument form (repeat ``arange``)."""
    if repeats is None:  # repeat_interleave(repeats): index i repeated repeats[i] times
        r = input._data
        return Tensor._make(input._device.xp.repeat(
            input._device.xp.arange(r.shape[0] if r.ndim else 1), r.reshape(-1)), input._device)
    if dim is None:
        input, dim = flatten(input), 0
    d = wrap_dim(dim, input.ndim)
    if not isinstance(repeats, Tensor):  # torch: a contiguous copy of an expanded view
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        shape = list(input.shape)
        out = input.unsqueeze(d + 1).expand(shape[:d + 1] + [repeats] + shape[d + 1:])
        return out.clone(memory_format=contiguous_format).flatten(d, d + 1)

    n = input.shape[d] if input.ndim else 1
    if repeats.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.numel() != 1 and repeats.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {repeats.shape[0]} and input.size({d}) = {n}")
    xp = input._device.xp
    reps = repeats._data.reshape(-1)
    if (reps < 0).any():
        raise RuntimeError("repeats can not be negative")
    idx = Tensor._make(xp.repeat(xp.arange(n), reps if reps.size == n else int(reps[0])),
                       input._device)
    return input.index_select(d, idx)  # (a Tensor method: gather.py imports this module)


# --- reordering ----------------------------------------------------------------------------------
class Flip(Op):
    __slots__ = ()

    def forward(ctx, a, dims):
        ctx.dims = dims
        return _flip(ctx.xp, a, dims)

    def backward(ctx, g):
        return Flip.apply(g, ctx.dims)


def _flip(xp, a, dims):
    out = _like(xp, a)  # torch keeps the input's order of dims
    out[...] = xp.flip(a, dims)
    return out


def flip(input: Tensor, dims) -> Tensor:
    """Same as torch.flip."""
    if isinstance(dims, int):
        raise TypeError("flip(): argument 'dims' (position 2) must be tuple of ints, not int")
    ds = wrap_dims(tuple(dims), input.ndim)
    for d in ds:
        if ds.count(d) > 1:
            raise repeated_dim(d)
    return Flip.apply(input, ds if input.ndim else ())


def _flip_method(self: Tensor, *dims, **kw) -> Tensor:
    """Tensor.flip also takes the dims unpacked: ``x.flip(0, 1)``, ``x.flip(-1)``."""
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = dims[0]
    return flip(self, dims, **kw) if dims else flip(self, **kw)


def fliplr(input: Tensor) -> Tensor:
    """Same as torch.fliplr."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Same as torch.flipud."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Op):
    __slots__ = ()

    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        if dims is None:
            return ctx.xp.roll(a.reshape(-1), shifts).reshape(a.shape)
        return _laid(ctx.xp, ctx.xp.roll(a, shifts, dims))  # torch's is C ordered

    def backward(ctx, g):
        return Roll.apply(g, tuple(-s for s in ctx.shifts) if ctx.dims is not None else
                          -ctx.shifts, ctx.dims)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Same as torch.roll."""
    if not isinstance(dims, (int, type(None))):
        dims = tuple(dims) or None  # no dims rolls the flattened tensor
    if isinstance(shifts, (list, tuple)) and not shifts:
        raise RuntimeError("`shifts` required")
    if dims is None:
        if not isinstance(shifts, int):
            shifts = tuple(shifts)
            if len(shifts) != 1:
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                                   "dims:0")
            shifts = shifts[0]
        return Roll.apply(input, int(shifts), None)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if input.ndim == 0:
        raise no_dims_error(dims if isinstance(dims, int) else dims[0])
    dims = wrap_dims(dims, input.ndim)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    return Roll.apply(input, shifts, dims)


class Rot90(Op):
    __slots__ = ()

    def forward(ctx, a, k, dims):
        ctx.k, ctx.dims = k, dims
        k %= 4
        if k == 0:
            return a.copy()
        # torch flips, then transposes that flip (a result that is not C ordered)
        out = _flip(ctx.xp, a, dims if k == 2 else dims[1:] if k == 1 else dims[:1])
        return out if k == 2 else out.swapaxes(*dims)

    def backward(ctx, g):
        return Rot90.apply(g, -ctx.k, ctx.dims)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Same as torch.rot90."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = wrap_dims(dims, input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    return Rot90.apply(input, k % 4, (d0, d1))


# --- triangles, grids ---------------------------------------------------------------------------
class Tri(Op):
    """tril / triu: keep the lower or upper triangle of the last two dimensions."""

    __slots__ = ()

    def forward(ctx, a, k, lower):
        ctx.k, ctx.lower = k, lower
        return _laid(ctx.xp, (ctx.xp.tril if lower else ctx.xp.triu)(a, k))  # C, as torch's

    def backward(ctx, g):
        return _tri(g, ctx.k, ctx.lower)


_TRI = {True: Tri.named("TrilBackward0"), False: Tri.named("TriuBackward0")}


def _tri(input: Tensor, diagonal: int, lower: bool) -> Tensor:
    name = "tril" if lower else "triu"
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return _TRI[lower].apply(input, int(diagonal), lower)


@out_arg()
def tril(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """Same as torch.tril."""
    return _tri(input, diagonal, True)


@out_arg()
def triu(input: Tensor, diagonal: int = 0, *, out=None) -> Tensor:
    """Same as torch.triu."""
    return _tri(input, diagonal, False)


def fill_diagonal_(input: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Same as torch.Tensor.fill_diagonal_ (``wrap`` restarts the diagonal of tall matrices)."""
    if input.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if input.ndim > 2:
        if len(set(input.shape)) != 1:
            raise RuntimeError("all dimensions of input must be of equal length")
        i = Tensor._make(input._device.xp.arange(input.shape[0]), input._device)
        input[(i,) * input.ndim] = fill_value
        return input
    rows, cols = input.shape
    input.diagonal().fill_(fill_value)
    if wrap:  # torch continues one row below the end of each square block
        for start in range(cols + 1, rows, cols + 1):
            input[start:].diagonal().fill_(fill_value)
    return input


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Same as torch.meshgrid: expanded views of 0-D/1-D tensors ('ij' unless indexing='xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        import warnings

        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f"{indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t}")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    outs = [expand(reshape(t, tuple(-1 if i == j else 1 for j in range(len(ts)))), shape)
            for i, t in enumerate(ts)]
    if swap:
        outs[0], outs[1] = outs[1], outs[0]
    return tuple(outs)
