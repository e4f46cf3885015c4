"""Combinatorics and structured matrices: cartesian_prod, combinations, tril/triu_indices,
unravel_index, block_diag, vander (and linalg.vander), diagflat."""

from __future__ import annotations

import itertools
import operator

import numpy as np

from .._errors import not_implemented
from .. import _dtype as D
from .._backend import to_device
from .._tensor import Tensor, _resolve_device
from ..autograd.op import Op
from .._dtype import torch_type_name

__all__ = ["block_diag", "cartesian_prod", "combinations", "diagflat", "tril_indices",
           "triu_indices", "unravel_index", "vander"]


def _one_d(t: Tensor) -> None:
    if t.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Same as torch.cartesian_prod."""
    from .shape import meshgrid

    for t in tensors:
        _one_d(t)
    if len(tensors) == 1:
        return tensors[0]
    from .joins import stack

    return stack([g.flatten() for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Same as torch.combinations."""
    _one_d(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(input._device.xp.empty((0,), input._data.dtype), input._device)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    from .joins import stack

    cols = to_device(idx.T.copy(), input._device)
    return stack([input[Tensor._make(c, input._device)] for c in cols], 1)


def _tri_indices(name: str, row: int, col: int, offset: int, dtype, device, lower: bool):
    dt = D.int64 if dtype is None else D.to_dtype(dtype)
    if dt not in (D.int32, D.int64):
        raise not_implemented(name, dt)
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    rows, cols = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    dev = _resolve_device(device)
    return Tensor._make(to_device(np.stack([rows, cols]).astype(dt.np), dev), dev)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                 pin_memory=False) -> Tensor:
    """Same as torch.tril_indices."""
    return _tri_indices("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None,
                 pin_memory=False) -> Tensor:
    """Same as torch.triu_indices."""
    return _tri_indices("triu_indices", row, col, offset, dtype, device, False)


def unravel_index(indices: Tensor, shape) -> tuple:
    """Same as torch.unravel_index (flat indices wrap around, as in torch)."""
    if indices.is_complex() or indices.is_floating_point() or indices.dtype is D.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, Tensor) or not isinstance(shape, (int, tuple, list)):
        kind = "<class 'ndgrad.Tensor'>" if isinstance(shape, Tensor) else type(shape)
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {kind}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    for d in shape:
        if not isinstance(d, int):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(d)}")
    if any(d < 0 for d in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coefs = list(reversed(list(itertools.accumulate(reversed(shape[1:] + (1,)), operator.mul))))
    dev, xp = indices._device, indices._device.xp
    flat = indices._data.astype(np.int64)[..., None]
    with np.errstate(divide="ignore"):
        res = xp.floor_divide(flat, xp.asarray(coefs, np.int64)) % xp.asarray(shape, np.int64) \
            if shape else flat[..., :0]
    return tuple(Tensor._make(xp.array(res[..., i]), dev) for i in range(len(shape)))


class BlockDiag(Op):
    __slots__ = ()

    def forward(ctx, *arrays, dt=None):
        mats = [a.reshape(1, -1) if a.ndim == 1 else a.reshape(1, 1) if a.ndim == 0 else a
                for a in arrays]
        rows = np.cumsum([0] + [m.shape[0] for m in mats])
        cols = np.cumsum([0] + [m.shape[1] for m in mats])
        out = ctx.xp.zeros((int(rows[-1]), int(cols[-1])), dt.np)
        for m, r, c in zip(mats, rows, cols):
            out[r:r + m.shape[0], c:c + m.shape[1]] = m
        ctx.blocks = [(a.shape, r, c, m.shape) for a, m, r, c in zip(arrays, mats, rows, cols)]
        return out

    def backward(ctx, g):
        return tuple(g[r:r + ms[0], c:c + ms[1]].reshape(s) if need else None
                     for (s, r, c, ms), need in zip(ctx.blocks, ctx.needs_input_grad))


def block_diag(*tensors: Tensor) -> Tensor:
    """Same as torch.block_diag."""
    if not tensors:
        return Tensor._make(np.empty((1, 0), D.get_default_dtype().np))
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError("torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t.ndim} dimensions")
    return BlockDiag.apply(*tensors, dt=D.result_type(*tensors))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """Same as torch.diagflat."""
    from .linalg.diagonal import diag_embed

    return diag_embed(input.reshape(-1), offset)


def _powers(x: Tensor, n: int) -> Tensor:
    """[1, x, x^2, ..., x^(n-1)] along a new last dim, as cumulative products (torch's way)."""
    from .joins import cat

    ones = x.new_ones(x.shape + (1,))
    if n == 1:
        return ones
    return cat([ones, x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)], -1)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """Same as torch.vander."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    x = x.to(D.promote_types(x.dtype, D.int64))  # cumprod's promotion of integers to long
    res = _powers(x, n) if n else x.new_empty((x.shape[0], 0))
    return res if increasing else res.flip(1)


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """Same as torch.linalg.vander."""
    if x._data.dtype.kind not in "iufc" or x.dtype in (D.float16, D.bfloat16):
        raise RuntimeError("linalg.vander supports floating point, complex, and integer tensors, "
                           f"but got {torch_type_name(x.dtype)}")
    if x.ndim == 0:
        x = x.unsqueeze(-1)
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x.dtype._kind == 1:
        x = x.to(D.int64)
    return _powers(x, n)

