"""Inverses and linear solvers: inv, solve, solve_triangular, lstsq, pinv, matrix_rank."""

from __future__ import annotations

from ..._errors import infer_size, not_implemented
from ..._tensor import Tensor
from ...autograd.op import Op
from ..._dtype import torch_type_name
from ..shape import tril, triu
from . import _drivers
from ._common import (
    HALF,
    LinAlgError,
    batch_prefix,
    check_lapack_dtype,
    check_matrix,
    check_square,
    first_failure,
    mH,
    real_np,
    return_type,
)
from .._out import CAST, out_arg

__all__ = ["inverse", "pinverse"]

InvEx = return_type("linalg_inv_ex", "inverse info")
SolveEx = return_type("linalg_solve_ex", "result info")
Lstsq = return_type("linalg_lstsq", "solution residuals rank singular_values")


def _low_precision(name, A):
    if A._data.dtype in HALF:
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got "
                           f"{torch_type_name(A.dtype)}")


# --- inverse --------------------------------------------------------------------------------------
class Inv(Op):
    __slots__ = ()
    _node_name = "LinalgInvExBackward0"

    def forward(ctx, a, check=True, name="linalg.inv"):
        xp = ctx.xp
        out, info = _drivers.inv(xp, a)
        if info.any():
            if check:
                i = first_failure(info)
                raise LinAlgError(f"{name}: {batch_prefix(a, i)}The diagonal element "
                                  f"{int(info.reshape(-1)[i])} is zero, the inversion could not be "
                                  "completed because the input matrix is singular.")
            # singular matrices get NaN (LAPACK leaves unspecified values there)
            out = xp.where((info != 0)[..., None, None], xp.nan, out)
        ctx.save(out)
        return out, info

    def backward(ctx, g, _):
        (inv,) = ctx.saved_tensors
        ih = mH(inv)
        return -(ih @ g @ ih)


def _inv(A, check, name):
    check_square(name, A)
    _low_precision(name, A)
    out, info = Inv.apply(A, check=check, name=name)
    return out, info


@out_arg()
def inv(A, *, out=None) -> Tensor:
    """Same as torch.linalg.inv."""
    return _inv(A, True, "linalg.inv")[0]


@out_arg()
def inv_ex(A, *, check_errors=False, out=None) -> InvEx:
    """Same as torch.linalg.inv_ex; singular matrices give NaN where torch gives LAPACK's inf."""
    return InvEx(*_inv(A, check_errors, "linalg.inv_ex"))


inverse = inv


# --- solve ----------------------------------------------------------------------------------------
def _is_vector_rhs(A, B):
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def _stacked(a, b):
    """``b`` with a's batch rank: NumPy 1.x's solve reads a ``b`` with one dim fewer than ``a``
    as a stack of vectors, NumPy 2's always as matrices."""
    return b[(None,) * (a.ndim - b.ndim)] if b.ndim < a.ndim else b


class Solve(Op):
    """X = A^{-1} B; ``vec`` marks a vector right-hand side."""

    __slots__ = ()
    _node_name = "LinalgSolveExBackward0"

    def forward(ctx, a, b, vec=False, check=True):
        xp = ctx.xp
        bm = _stacked(a, b[..., None] if vec else b)
        x, info = _drivers.solve(xp, a, bm)
        if info.any():
            if check:
                raise LinAlgError(f"torch.linalg.solve: {batch_prefix(a, first_failure(info))}The "
                                  "solver failed because the input matrix is singular.")
            x = xp.where((info != 0)[..., None, None], xp.nan, x)
        x = x[..., 0] if vec else x
        ctx.vec = vec
        ctx.save(a, x)
        return x, info

    def backward(ctx, g, _):
        # X = A^{-1}B: gB = A^{-H} gX, gA = -gB X^H
        a, x = ctx.saved_tensors
        gb = solve(mH(a), g)
        if not ctx.needs_input_grad[0]:
            return None, gb
        ga = -(gb.unsqueeze(-1) * x.unsqueeze(-2).conj()) if ctx.vec else -(gb @ mH(x))
        return ga, gb


def _solve(A, B, left, check, name):
    check_square(name, A)
    if A.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of type "
                           f"{torch_type_name(A.dtype)} and B of type {torch_type_name(B.dtype)} "
                           "instead")
    check_lapack_dtype(A, "lu_cpu")
    if not left:
        res, info = _solve(A.mT, B.mT, True, check, name)
        return res.mT, info
    vec = _is_vector_rhs(A, B)
    bm = B.unsqueeze(-1) if vec else B
    if bm.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {bm.shape[-2]}x{bm.shape[-1]})")
    infer_size(bm.shape[:-2], A.shape[:-2])
    x, info = Solve.apply(A, B, vec=vec, check=check)
    return x, info


@out_arg()
def solve(A, B, *, left=True, out=None) -> Tensor:
    """Same as torch.linalg.solve."""
    return _solve(A, B, left, True, "linalg.solve")[0]


@out_arg()
def solve_ex(A, B, *, left=True, check_errors=False, out=None) -> SolveEx:
    """Same as torch.linalg.solve_ex; singular systems give NaN."""
    return SolveEx(*_solve(A, B, left, check_errors, "linalg.solve_ex"))


class SolveTriangular(Op):
    __slots__ = ()
    _node_name = "LinalgSolveTriangularBackward0"

    def forward(ctx, a, b, upper, unitriangular):
        x = _drivers.solve_triangular(ctx.xp, a, _stacked(a, b), upper, unitriangular)
        ctx.args = (upper, unitriangular)
        ctx.save(a, x)
        return x

    def backward(ctx, g):
        # as solve, with gA projected onto the triangle (and off the unit diagonal)
        a, x = ctx.saved_tensors
        upper, unit = ctx.args
        gb = solve_triangular(mH(a), g, upper=not upper, unitriangular=unit)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -(gb @ mH(x))
            ga = triu(ga, int(unit)) if upper else tril(ga, -int(unit))
        return ga, gb


@out_arg()
def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None) -> Tensor:
    """Same as torch.linalg.solve_triangular."""
    name = "linalg.solve_triangular"
    for t, what in ((A, "A"), (B, "B")):
        if t.ndim < 2:
            raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    if not (A.is_floating_point() or A.is_complex()) or A._data.dtype in HALF:
        raise not_implemented("triangular_solve_cpu", A.dtype)
    check_square(name, A)
    if A.dtype is not B.dtype:  # torch 2.13 casts B to A's dtype (a recorded cast)
        B = B.to(A.dtype)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    if B.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    infer_size(A.shape[:-2], B.shape[:-2])
    check_lapack_dtype(A, "triangular_solve_cpu")
    x = SolveTriangular.apply(A, B, upper, unitriangular)
    return x


# --- pseudo-inverse, least squares, rank ----------------------------------------------------------
def _cutoff(xp, s_max, atol, rtol, m, n, dt):
    """torch's singular value threshold max(atol, rtol * s_max); rtol defaults to eps*max(m, n)
    when atol is absent or zero."""
    def arr(t):  # a per-matrix tolerance broadcasts against s_max's kept last axis
        t = xp.asarray(t._data if isinstance(t, Tensor) else t)
        return t[..., None] if t.ndim else t

    a = arr(0.0 if atol is None else atol)
    if rtol is None:
        rtol = xp.finfo(dt).eps * max(m, n) if atol is None or not xp.any(a != 0) else 0.0
    return xp.maximum(a, arr(rtol) * s_max)


def _singular_values(xp, a, hermitian, uv):
    """(U, |s|, Vh) or just |s|; the Hermitian path uses eigh (U = V, signs moved into Vh)."""
    if hermitian:
        w, v = _drivers.eigh(xp, a, lower=True, vectors=True)
        s = xp.abs(w)
        return (v, s, mH_arr(xp, v * xp.sign(w)[..., None, :])) if uv else s
    return _drivers.svd(xp, a, full_matrices=False, compute_uv=uv)


def mH_arr(xp, a) -> Tensor:
    return a.swapaxes(-1, -2).conj()


class Pinv(Op):
    __slots__ = ()
    _node_name = "LinalgPinvBackward0"

    def forward(ctx, a, atol=None, rtol=None, hermitian=False):
        xp = ctx.xp
        m, n = a.shape[-2:]
        if a.size == 0:
            out = xp.zeros(a.shape[:-2] + (n, m), a.dtype)
        else:
            u, s, vh = _singular_values(xp, a, hermitian, True)
            cut = _cutoff(xp, s.max(-1, keepdims=True), atol, rtol, m, n, s.dtype)
            s_inv = xp.where(s > cut, 1 / xp.where(s > cut, s, 1), 0).astype(a.dtype)
            out = (mH_arr(xp, vh) * s_inv[..., None, :]) @ mH_arr(xp, u)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, p = ctx.saved_tensors
        return _pinv_backward(g, p, a)


def _pinv_backward(g, p, a):
    """torch's pinv_backward, ordered so the products involve the smaller dimension."""
    m, n = a.shape[-2:]
    ph, gh = mH(p), mH(g)
    if m <= n:
        K = gh @ p
        KpH = K @ ph
        return -mH(p @ K) + KpH - (a @ p) @ KpH + (ph @ p) @ (gh - K @ a)
    K = p @ gh
    pHK = ph @ K
    return -mH(K @ p) + (gh - a @ K) @ p @ ph + pHK - pHK @ p @ a


@out_arg(cast=True, dtype_error=CAST)
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None, out=None) -> Tensor:
    """Same as torch.linalg.pinv (`rcond`, also positional, is the deprecated name of `rtol`)."""
    if A.ndim < 2 or not (A.is_floating_point() or A.is_complex()) or A._data.dtype in HALF:
        raise RuntimeError(f"linalg.pinv({torch_type_name(A.dtype)}{{{list(A.shape)}}}): expected "
                           "a tensor with 2 or "
                           "more dimensions of float, double, cfloat or cdouble types")
    rtol = rcond if rtol is None else rtol
    res = Pinv.apply(A, atol=atol, rtol=rtol, hermitian=hermitian)
    return res


def pinverse(input, rcond=1e-15) -> Tensor:
    """Same as torch.pinverse."""
    return pinv(input, rtol=rcond)


def _double_only(A):
    if A._data.dtype in HALF or not (A.is_floating_point() or A.is_complex()):
        raise RuntimeError("This function doesn't handle types other than float and double")


@out_arg(cast=True, dtype_error=CAST)
def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None) -> Tensor:
    """Same as torch.linalg.matrix_rank (`tol` is the deprecated name of `atol`)."""
    check_matrix("linalg.matrix_rank", A)
    _double_only(A)
    xp = A._device.xp
    atol = tol if atol is None else atol
    m, n = A.shape[-2:]
    if A.numel() == 0:
        return Tensor._make(xp.zeros(A.shape[:-2], xp.int64), A._device)
    s = _singular_values(xp, A._data, hermitian, False)
    cut = _cutoff(xp, s.max(-1, keepdims=True), atol, rtol, m, n, s.dtype)
    return Tensor._make(xp.asarray((s > cut).sum(-1), dtype=xp.int64), A._device)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


class LstsqOp(Op):
    """Least squares through the SVD (gelsd's answer; for full-rank inputs every driver's)."""

    __slots__ = ()
    _node_name = "LinalgLstsqBackward0"

    def forward(ctx, a, b, rcond, driver, vec):
        xp = ctx.xp
        m, n = a.shape[-2:]
        bm = b[..., None] if vec else b
        u, s, vh = _drivers.svd(xp, a, full_matrices=False)
        rcond = xp.finfo(s.dtype).eps * max(m, n) if rcond is None else rcond
        keep = s > rcond * (s.max(-1, keepdims=True) if s.shape[-1] else s)
        s_inv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(a.dtype)
        x = mH_arr(xp, vh) @ (s_inv[..., :, None] * (mH_arr(xp, u) @ bm))
        rank = keep.sum(-1).astype(xp.int64)
        empty = xp.zeros((0,), real_np(a.dtype))
        res = empty
        if m > n and driver != "gelsy" and (driver == "gels" or bool((rank == n).all())):
            r = a @ x - bm
            res = (r * r.conj()).real.sum(-2)
        if driver == "gels":
            rank = xp.zeros((0,), xp.int64)
        sv = s if driver in ("gelsd", "gelss") else empty
        x = x[..., 0] if vec else x
        ctx.vec = vec
        ctx.save(a, b, x)
        return x, res, rank, sv

    def backward(ctx, gx, gres, _rank, _sv):
        a, b, x = ctx.saved_tensors
        if ctx.vec:
            b, x, gx = b.unsqueeze(-1), x.unsqueeze(-1), gx.unsqueeze(-1)
        p = pinv(a)
        ga = _pinv_backward(gx @ mH(b), p, a) if ctx.needs_input_grad[0] else None
        gb = mH(p) @ gx
        if gres.numel():  # residuals ||AX - B||^2: gA = 2 (g r) X^H, gB = -2 g r
            r = a @ x - b
            gr = gres.unsqueeze(-2) * r
            ga = ga + 2 * gr @ mH(x) if ga is not None else None
            gb = gb - 2 * gr
        return ga, gb.squeeze(-1) if ctx.vec else gb


def lstsq(A, B, rcond=None, *, driver=None) -> Lstsq:
    """Same as torch.linalg.lstsq; every driver solves through the SVD (gelsd), which agrees
    with torch's default gelsy wherever the answer is unique (full rank)."""
    name = "torch.linalg.lstsq"
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           "gelss)")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {torch_type_name(A.dtype)} and other's dtype "
                           f"{torch_type_name(B.dtype)}")
    check_matrix("linalg.lstsq", A)
    _double_only(A)
    if not 0 <= A.ndim - B.ndim <= 1:
        raise RuntimeError(f"{name}: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    vec = _is_vector_rhs(A, B)
    if A.shape[-2] != B.shape[-1 if vec else -2]:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size({-1 if vec else -2})")
    if A.ndim - B.ndim == 1:  # torch broadcasts A's batch with all of B's leading dims
        batch = infer_size(A.shape[:-2], B.shape[:-1])
        A = A if vec else A.expand(*batch, *A.shape[-2:])
    x, res, rank, sv = LstsqOp.apply(A, B, rcond, driver, vec)
    return Lstsq(x, res, rank, sv.detach())
