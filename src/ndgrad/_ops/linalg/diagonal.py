"""Diagonals: diagonal (a view), diag_embed, and diag (either, by the input's rank)."""

from __future__ import annotations

from ..._tensor import Tensor, wrap_dim
from ...autograd.op import Op
from ..movement import _as_view
from .._out import out_arg

__all__ = ["diag", "diag_embed", "diagonal"]


def _diagonal_view(xp, a, offset, d1, d2):
    """xp.diagonal, writable when the base is (NumPy hands out read-only diagonals)."""
    v = xp.diagonal(a, offset, d1, d2)
    if not getattr(v.flags, "writeable", True) and a.flags.writeable:
        v.flags.writeable = True
    return v


class Diagonal(Op):
    __slots__ = ()

    def forward(ctx, a, offset, d1, d2, copy=False):
        ctx.args, ctx.shape = (offset, d1, d2), a.shape
        v = _diagonal_view(ctx.xp, a, offset, d1, d2)
        return v.copy() if copy else v

    def backward(ctx, g):
        return _scatter(g, ctx.shape, *ctx.args)


class DiagScatter(Op):
    """Zeros of ``shape`` with ``g`` written along a diagonal: diagonal's adjoint; diag_embed."""

    __slots__ = ()

    def forward(ctx, g, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        out = ctx.xp.zeros(shape, g.dtype)
        _diagonal_view(ctx.xp, out, offset, d1, d2)[...] = g
        return out

    def backward(ctx, gg):
        return Diagonal.apply(gg, *ctx.args, copy=True)


# torch's nodes for the ops that run as DiagScatter / a copying Diagonal
_DiagonalBackward = DiagScatter.named("DiagonalBackwardBackward0")
_DiagEmbed = DiagScatter.named("DiagEmbedBackward0")
_DiagCopy = Diagonal.named("DiagonalBackward0_copy")


def _scatter(g, shape, offset, d1, d2):
    return _DiagonalBackward.apply(g, shape, offset, d1, d2)


def _dims(d1, d2, ndim):
    a, b = wrap_dim(d1, ndim), wrap_dim(d2, ndim)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {d1}, {d2}")
    return a, b


def diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor:
    """Same as torch.diagonal: a view that writes through to ``input``."""
    d1, d2 = _dims(dim1, dim2, input.ndim)
    out = Diagonal.apply(input, offset, d1, d2)
    return _as_view(out, input, lambda b: diagonal(b, offset, d1, d2))


def linalg_diagonal(A, *, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """Same as torch.linalg.diagonal."""
    return diagonal(A, offset, dim1, dim2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """Same as torch.diag_embed."""
    nd = input.ndim + 1
    d1, d2 = _dims(dim1, dim2, nd)
    n = (input.shape[-1] if input.ndim else 1) + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    out = _DiagEmbed.apply(input, shape, offset, d1, d2)
    return out


@out_arg()
def diag(input, diagonal=0, *, out=None) -> Tensor:
    """Same as torch.diag: a vector becomes a diagonal matrix; a matrix gives a copy of one."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _DiagCopy.apply(input, diagonal, 0, 1, copy=True)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
