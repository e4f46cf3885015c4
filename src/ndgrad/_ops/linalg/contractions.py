"""Contractions built on matmul: inner, tensordot, kron, cross, vecdot, multi_dot."""

from __future__ import annotations

import math

from ..._tensor import Tensor, wrap_dim, wrap_dims
from ..._errors import dtype_mismatch, not_implemented, not_tensor_element, size_mismatch
from ...autograd.op import Op
from ..._dtype import meta_name, torch_type_name
from ..elementwise import mul
from ..reduce import sum as _sum
from ._common import check_float, warn_once
from .._out import CAST, out_arg

_TENSORDOT = ("tensordot: Expected the output tensor to have dtype {Want}, but got an output "
              "tensor with dtype {Got}")

__all__ = ["chain_matmul", "cross", "inner", "kron", "tensordot"]


@out_arg(dtype_error=_TENSORDOT)
def inner(input, other, *, out=None) -> Tensor:
    """Same as torch.inner."""
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def _dims_arg(dims, na, nb):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(na, nb):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims)), True
    da, db = dims
    da = [da] if isinstance(da, int) else list(da)
    db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    return da, db, False


@out_arg(dtype_error=_TENSORDOT)
def tensordot(a, b, dims=2, out=None) -> Tensor:
    """Same as torch.tensordot: permute, reshape, one matmul."""
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    da, db, _ = _dims_arg(dims, a.ndim, b.ndim)
    for x, y in zip(da, db):
        sa, sb = a.shape[x], b.shape[y]
        if sa != sb:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa} in "
                               f"dim {x} and second has size {sb} in dim {y}")
    ca, cb = wrap_dims(da, a.ndim) if da else (), wrap_dims(db, b.ndim) if db else ()
    fa = [i for i in range(a.ndim) if i not in ca]
    fb = [i for i in range(b.ndim) if i not in cb]
    k = math.prod(a.shape[i] for i in ca)
    # explicit sizes: -1 is ambiguous when a size is 0
    a2 = a.permute(*fa, *ca).reshape(math.prod(a.shape[i] for i in fa), k)
    b2 = b.permute(*cb, *fb).reshape(k, math.prod(b.shape[i] for i in fb))
    return (a2 @ b2).reshape(*(a.shape[i] for i in fa), *(b.shape[i] for i in fb))


@out_arg(cast=True, dtype_error=CAST)
def kron(input, other, *, out=None) -> Tensor:
    """Same as torch.kron: one broadcast product of interleaved views."""
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = input.reshape(*[d for s in sa for d in (s, 1)])
    b = other.reshape(*[d for s in sb for d in (1, s)])
    return (a * b).reshape(*[x * y for x, y in zip(sa, sb)])


class Cross(Op):
    """a x b along one axis of size 3; d(a x b) = da x b + a x db."""

    __slots__ = ()
    _node_name = "LinalgCrossBackward0"

    def forward(ctx, a, b, dim):
        ctx.dim = dim
        ctx.save(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        return ctx.xp.cross(a, b, axis=dim)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = ctx.dim
        ga = _cross(b.conj(), g, d) if ctx.needs_input_grad[0] else None
        gb = _cross(g, a.conj(), d) if ctx.needs_input_grad[1] else None
        return ga, gb


def _cross(a, b, dim):
    out = Cross.apply(a, b, dim)
    return out


@out_arg()
def linalg_cross(input, other, *, dim=-1, out=None) -> Tensor:
    """Same as torch.linalg.cross."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, input.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    if input._data.dtype.kind == "b":  # torch's kernel has no bool code (checked first)
        raise not_implemented("cross", input.dtype)
    if input.dtype is not other.dtype:
        raise dtype_mismatch(input.dtype, other.dtype)
    for x, y in zip(input.shape, other.shape):
        if x != y and 1 not in (x, y):
            raise size_mismatch(x, y, list(input.shape).index(x))
    return _cross(input, other, d - input.ndim)


@out_arg()
def cross(input, other, dim=None, *, out=None) -> Tensor:
    """Same as torch.cross: without `dim`, the first dimension of size 3 (deprecated in torch)."""
    if dim is None:
        warn_once("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                  "either pass the dim explicitly or simply use torch.linalg.cross.\nThe default "
                  "value of dim will change to agree with that of linalg.cross in a future "
                  "release.")
        dim = next((i for i, s in enumerate(input.shape) if s == 3), -1)
    return linalg_cross(input, other, dim=dim)


@out_arg()
def vecdot(x, y, *, dim=-1, out=None) -> Tensor:
    """Same as torch.linalg.vecdot: sum(conj(x) * y, dim)."""
    check_float("linalg.vecdot", x)
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {torch_type_name(x.dtype)} and y of type "
                           f"{torch_type_name(y.dtype)} instead")
    return _sum(x.conj() * y, dim)


def multi_dot(tensors, *, out=None) -> Tensor:
    """Same as torch.linalg.multi_dot: the cheapest parenthesisation (chain-order DP)."""
    n = len(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise not_tensor_element(i, t)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first, last = tensors[0], tensors[-1]
    if first.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.ndim}D")
    for i, t in enumerate(tensors[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for i, t in enumerate(tensors[1:], 1):
        if t.dtype is not first.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 "
                               f"is {meta_name(first.dtype)} and tensor {i} {meta_name(t.dtype)}")
    mats = [first.unsqueeze(0) if first.ndim == 1 else first, *tensors[1:-1],
            last.unsqueeze(-1) if last.ndim == 1 else last]
    for i in range(n - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} cannot "
                               "be multiplied")
    out = _chain(mats, _chain_order([m.shape[0] for m in mats] + [mats[-1].shape[1]]), 0, n - 1)
    # torch views the product to the shape of the 1-D ends' squeezed result (ViewBackward0)
    return out.view(*first.shape[:-1], *last.shape[1:])


@out_arg(dtype_error="multi_dot(): expected out tensor to have dtype {want} but got {got}")
def chain_matmul(*matrices, out=None) -> Tensor:
    """Same as torch.chain_matmul (deprecated in torch in favour of torch.linalg.multi_dot)."""
    warn_once("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. "
              "Use torch.linalg.multi_dot instead, which accepts a list of two or more tensors "
              "rather than multiple parameters.")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for t in matrices:
        if t.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {t.ndim}, expected 2 instead.")
    return matrices[0].clone() if len(matrices) == 1 else multi_dot(matrices)


def _chain_order(p):
    """split[i][j]: where the optimal product of matrices i..j splits (CLRS matrix-chain)."""
    n = len(p) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min((cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1],
                                           k) for k in range(i, j))
    return split


def _chain(mats, split, i, j):
    if i == j:
        return mats[i]
    k = split[i][j]
    return _chain(mats, split, i, k) @ _chain(mats, split, k + 1, j)
