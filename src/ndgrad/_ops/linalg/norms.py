"""Norms: vector_norm (one node for every order), matrix_norm and norm."""

from __future__ import annotations

import math

from ... import _dtype as D
from ..._tensor import Tensor, wrap_dims
from ...autograd.op import Op
from ..._dtype import torch_type_name
from ..reduce import _rename, amax, amin
from ..reduce import sum as _sum
from ._common import HALF, check_float
from .._out import out_arg
from .._layout import contiguous_result

_INF = float("inf")


def _expand_back(t, ndim, axes, keepdim):
    """A reduced tensor with its reduced axes put back as size 1 (to broadcast with the input)."""
    if keepdim:
        return t
    shape = list(t.shape)
    for ax in sorted(axes):
        shape.insert(ax, 1)
    return t.reshape(shape)


def _norm(xp, x, ord, axes, keepdim):
    if ord == 2:  # sum |x|^2 without the square root of abs
        sq = x.real * x.real + x.imag * x.imag if x.dtype.kind == "c" else x * x
        return xp.sqrt(sq.sum(axis=axes, keepdims=keepdim))
    m = xp.abs(x)
    if ord == _INF:
        return m.max(axis=axes, keepdims=keepdim)
    if ord == -_INF:
        return m.min(axis=axes, keepdims=keepdim)
    if ord == 0:
        return (m != 0).sum(axis=axes, keepdims=keepdim).astype(m.dtype)
    if ord == 1:
        return m.sum(axis=axes, keepdims=keepdim)
    return (m ** ord).sum(axis=axes, keepdims=keepdim) ** (1.0 / ord)


class VectorNorm(Op):
    __slots__ = ()
    _node_name = "LinalgVectorNormBackward0"

    @contiguous_result
    def forward(ctx, a, ord, axes, keepdim):
        xp = ctx.xp
        half = a.dtype in HALF
        x = a.astype(xp.float32) if half else a
        out = xp.asarray(_norm(xp, x, ord, axes, keepdim))
        out = out.astype(a.dtype if half else x.real.dtype, copy=False)
        ctx.args = (ord, axes, keepdim)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        # torch's norm_backward; a zero norm gets a zero (sub)gradient
        a, n = ctx.saved_tensors
        p, axes, keepdim = ctx.args
        if p == 0:  # torch's norm_backward returns an undefined gradient: grad() gives None
            return None
        g = _expand_back(g, a.ndim, axes, keepdim)
        n = _expand_back(n, a.ndim, axes, keepdim)
        if p == 1:
            return a.sgn() * g
        if p == 2:
            return g * (a / n).masked_fill(n == 0, 0)
        if math.isinf(p):
            aa = a.abs()
            mask = (aa == n).logical_or(aa.isnan())  # ties share the gradient; NaN counts as max
            return a.sgn() * ((g / _sum(mask, axes, keepdim=True)) * mask)
        if p < 1:
            return a.sgn() * a.abs().pow(p - 1).masked_fill(a == 0, 0) * g * n.pow(1 - p)
        scale = (g / n.pow(p - 1)).masked_fill(n == 0, 0)
        if p < 2:
            return a.sgn() * a.abs().pow(p - 1) * scale
        return a * a.abs().pow(p - 2) * scale


def _norm_dims(dim, ndim):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    return wrap_dims(dim, ndim) if ndim else ()


@out_arg()
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None) -> Tensor:
    """Same as torch.linalg.vector_norm."""
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{type(ord).__name__}")
    check_float("linalg.vector_norm", x)
    if dtype is not None:
        dtype = D.to_dtype(dtype)
        if D.promote_types(x.dtype, dtype) is not dtype:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input "
                               f"({torch_type_name(x.dtype)}) should be convertible without "
                               f"narrowing to the specified dtype ({torch_type_name(dtype)})")
        x = x.to(dtype)
    axes = _norm_dims(dim, x.ndim)
    if (ord < 0 or math.isinf(ord)) and (any(x.shape[a] == 0 for a in axes)
                                         or (x.numel() == 0 and not axes)):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor "
                           "because the operation does not have an identity")
    res = VectorNorm.apply(x, float(ord), axes, keepdim)
    return res


_MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, _INF, -_INF)


@out_arg(dtype_error="linalg.matrix_norm expected out tensor dtype {Want} but got: {Got}")
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None) -> Tensor:
    """Same as torch.linalg.matrix_norm."""
    name = "linalg.matrix_norm"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    check_float(name, A)
    if len(dim) != 2:
        raise RuntimeError(f"{name}: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    d0, d1 = wrap_dims(dim, A.ndim)
    if d0 == d1:
        raise RuntimeError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"{name}: Order {ord} not supported.")
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        from .factorizations import svdvals

        rest = [i for i in range(A.ndim) if i not in (d0, d1)]
        s = svdvals(A.permute(*rest, d0, d1))
        res = _sum(s, -1) if ord == "nuc" else _amax0(s, -1) if ord == 2 else amin(s, -1)
        if keepdim:
            res = res.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return res
    # 1 / -1: max / min column sum; inf / -inf: max / min row sum
    summed, other = (d0, d1) if ord in (1, -1) else (d1, d0)
    if not keepdim and other > summed:
        other -= 1
    return (_amax0 if ord > 0 else amin)(_sum(A.abs(), summed, keepdim), other, keepdim)


def _amax0(t, dim, keepdim=False):
    """amax, 0 over an empty dim (the norm of an empty matrix, as torch; amin still raises)."""
    if t.shape[dim] == 0:
        shape = list(t.shape)
        shape[dim] = 1
        return t.new_zeros(shape) if keepdim else t.new_zeros(shape).squeeze(dim)
    return amax(t, dim, keepdim)


@out_arg()
def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None) -> Tensor:
    """Same as torch.linalg.norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got "
                           f"{list(dim)}")
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None and A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D.")
    if (dim is None and A.ndim == 2) or (dim is not None and len(dim) == 2) or isinstance(ord, str):
        return matrix_norm(A, ord, dim or (-2, -1), keepdim, dtype=dtype)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """Same as torch.dist: the p-norm of input - other."""
    return _rename(vector_norm(input - other, p), "DistBackward0")
