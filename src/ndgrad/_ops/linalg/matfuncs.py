"""Functions of a square matrix: det, slogdet, logdet, matrix_power, matrix_exp, cond."""

from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.op import Op
from ..elementwise import where
from ..movement import cat, stack
from . import _drivers
from ._common import (
    HALF,
    check_lapack_dtype,
    check_matrix,
    check_square,
    eye,
    mH,
    real_np,
    return_type,
)
from .diagonal import diag_embed
from .factorizations import linalg_svd, svdvals
from .norms import matrix_norm
from .solvers import _low_precision, inv, inv_ex, solve
from .._out import CAST, out_arg
from ..convert import contiguous_format

__all__ = ["det", "logdet", "matrix_exp", "matrix_power", "slogdet"]

Slogdet = return_type("linalg_slogdet", "sign logabsdet")
TorchSlogdet = return_type("slogdet", "sign logabsdet")


class Det(Op):
    __slots__ = ()
    _node_name = "LinalgDetBackward0"

    def forward(ctx, a):
        out = _drivers.det(ctx.xp, a)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, d0 = ctx.saved_tensors
        if a.numel() == 0:
            return a.new_zeros(a.shape)
        n = a.shape[-1]
        d = (g * d0.conj()).unsqueeze(-1).unsqueeze(-1)
        eps = float(a._device.xp.finfo(real_np(a._data.dtype)).eps)
        if not bool((d0.abs() < 100 * eps)._data.any()):
            return solve(mH(a), d * eye(n, a))  # gA = g conj(det) A^{-H}
        # singular somewhere: g adj(A)^H from the SVD, as torch does
        # (https://nhigham.com/2020/06/16/what-is-the-adjugate-of-a-matrix/)
        U, S, Vh = linalg_svd(a)
        alpha = (det(U) * det(Vh)).conj() * g
        return (U * (alpha.unsqueeze(-1) * _prod_others(S)).unsqueeze(-2)) @ Vh


def _prod_others(s):
    """prod_{j != i} s_j for each i, without dividing (s may hold zeros)."""
    cols = s.unbind(-1)
    one = Tensor._make(s._device.xp.ones(s.shape[:-1], s._data.dtype), s._device)
    pre, suf = [one], [one]
    for c in cols[:-1]:
        pre.append(pre[-1] * c)
    for c in cols[:0:-1]:
        suf.append(suf[-1] * c)
    return stack([p * q for p, q in zip(pre, suf[::-1])], -1)


@out_arg()
def det(A, *, out=None) -> Tensor:
    """Same as torch.linalg.det."""
    check_square("linalg.det", A)
    check_lapack_dtype(A, "lu_cpu")
    res = Det.apply(A)
    return res


class SlogdetOp(Op):
    __slots__ = ()
    _node_name = "LinalgSlogdetBackward0"

    def forward(ctx, a):
        xp = ctx.xp
        sign, logabs = _drivers.slogdet(xp, a)
        ctx.save(a, sign)
        return sign, logabs

    def backward(ctx, gsign, glog):
        # d logabsdet = Re tr(A^{-1} dA), d sign = i sign Im tr(A^{-1} dA)
        a, sign = ctx.saved_tensors
        g = glog - 1j * (gsign.conj() * sign).imag if a.is_complex() else glog
        n = a.shape[-1]
        return solve(mH(a), diag_embed(g.unsqueeze(-1).expand(*g.shape, n)))


@out_arg()
def linalg_slogdet(A, *, out=None) -> Slogdet:
    """Same as torch.linalg.slogdet."""
    check_square("linalg.slogdet", A)
    _low_precision("linalg.slogdet", A)
    sign, logabs = SlogdetOp.apply(A)
    return Slogdet(sign, logabs)


def slogdet(input) -> TorchSlogdet:
    """Same as torch.slogdet."""
    return TorchSlogdet(*linalg_slogdet(input))


def logdet(input) -> Tensor:
    """Same as torch.logdet: NaN for a negative real determinant."""
    sign, logabs = linalg_slogdet(input)
    if input.is_complex():
        return sign.log() + logabs
    return where(sign == -1, float("nan"), logabs)


def matrix_power(input, n) -> Tensor:
    """Same as torch.linalg.matrix_power: repeated squaring (an inverse first when n < 0)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    if input.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    if input.shape[-1] != input.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {input.shape[-2]} by {input.shape[-1]} matrices")
    if n == 0:  # the identity, still connected to the graph (with a zero gradient)
        mask = Tensor._make(input._device.xp.eye(input.shape[-1], dtype=bool), input._device)
        return input.masked_fill(~mask, 0).masked_fill(mask, 1)
    if n == 1:
        return input.clone(memory_format=contiguous_format)  # as torch's
    base = inv(input) if n < 0 else input
    n, result = abs(n), None
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


# --- matrix exponential ---------------------------------------------------------------------------
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(xp, a):
    """Scaling and squaring with the degree-13 Pade approximant (Higham 2005), per matrix."""
    norm = xp.abs(a).sum(-2).max(-1)
    s = xp.ceil(xp.log2(xp.where(norm > 0, norm, 1) / _THETA13))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(xp.int64)
    a = a * (0.5 ** s).astype(a.real.dtype)[..., None, None]
    b = _PADE13
    ident = xp.eye(a.shape[-1], dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * ident
    r = xp.linalg.solve(v - u, v + u)
    for i in range(int(s.max()) if s.size else 0):
        r = xp.where((s > i)[..., None, None], r @ r, r)
    return r


class MatrixExp(Op):
    __slots__ = ()
    _node_name = "LinalgMatrixExpBackward0"

    def forward(ctx, a):
        xp = ctx.xp
        ctx.save(a)
        if a.size == 0:
            return a.copy()
        if a.dtype in HALF:
            return _expm(xp, a.astype(xp.float32)).astype(a.dtype)
        return _expm(xp, a)

    def backward(ctx, g):
        # the adjoint of the Frechet derivative: exp([[A^H, G], [0, A^H]]) holds it top right
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        ah = mH(a)
        zero = Tensor._make(a._device.xp.zeros(a.shape, a._data.dtype), a._device)
        big = cat([cat([ah, g], -1), cat([zero, ah], -1)], -2)
        return matrix_exp(big)[..., :n, n:]


def matrix_exp(input) -> Tensor:
    """Same as torch.linalg.matrix_exp (half precision is computed in float32)."""
    check_square("linalg.matrix_exp", input)
    res = MatrixExp.apply(input)
    return res


@out_arg(cast=True, dtype_error=CAST)
def cond(A, p=None, *, out=None) -> Tensor:
    """Same as torch.linalg.cond."""
    if p in (None, 2, -2):
        check_matrix("linalg.cond", A)
        if A.numel() == 0:  # torch: an empty matrix has condition number 0
            return A.new_zeros(A.shape[:-2]).abs()
        s = svdvals(A)
        big, small = s[..., 0], s[..., -1]
        return small / big if p == -2 else big / small
    if not isinstance(p, str) and A.numel() == 0:  # (torch checks squareness after, for these)
        check_matrix("linalg.cond", A)
        return A.new_zeros(A.shape[:-2]).abs()
    if A.ndim >= 2 and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but they "
                           f"are {A.shape[-2]} by {A.shape[-1]} matrices")
    if A.numel() == 0:
        return A.new_zeros(A.shape[:-2]).abs()
    ainv, info = inv_ex(A)
    res = matrix_norm(A, p) * matrix_norm(ainv, p)
    return where(info > 0, float("inf"), res)  # singular: infinitely ill-conditioned
