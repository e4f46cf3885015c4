"""Matrix factorizations with torch's backward formulas: cholesky, qr, eigh, eig, svd, lu.

Where a factorization is not unique (signs or phases of vectors), a loss must not depend on
the choice; like torch, the complex backwards check this and raise otherwise."""

from __future__ import annotations

from ..._errors import not_implemented
from ..._tensor import Tensor, grad_recording
from ...autograd.op import Op
from ..._dtype import torch_type_name
from ..movement import cat
from ..shape import tril, triu
from . import _drivers, _lapack
from ._common import (
    LinAlgError,
    apply_unmaterialized,
    batch_prefix,
    check_lapack_dtype,
    check_matrix,
    check_square,
    eye,
    first_failure,
    mH,
    return_type,
    warn_once,
)
from .diagonal import diag_embed
from .solvers import solve, solve_triangular
from .._out import out_arg

__all__ = ["cholesky", "qr", "svd"]

CholeskyEx = return_type("linalg_cholesky_ex", "L info")
QR = return_type("linalg_qr", "Q R")
Eigh = return_type("linalg_eigh", "eigenvalues eigenvectors")
Eig = return_type("linalg_eig", "eigenvalues eigenvectors")
SVD = return_type("linalg_svd", "U S Vh")
LUFactor = return_type("linalg_lu_factor", "LU pivots")
LUFactorEx = return_type("linalg_lu_factor_ex", "LU pivots info")
LU = return_type("linalg_lu", "P L U")
TorchSVD = return_type("svd", "U S V")
TorchQR = return_type("qr", "Q R")


def _diag(x):
    return x.diagonal(0, -2, -1)


# --- Cholesky -------------------------------------------------------------------------------------
class Cholesky(Op):
    __slots__ = ()
    _node_name = "LinalgCholeskyExBackward0"

    def forward(ctx, a, upper=False, check=True, name="linalg.cholesky"):
        xp = ctx.xp
        # upper reads A's upper triangle (LAPACK's 'U'): the lower factor of A^H, transposed
        L, info = _drivers.cholesky(xp, a.swapaxes(-1, -2).conj() if upper else a)
        if check and info.any():
            i = first_failure(info)
            raise LinAlgError(
                f"{name}: {batch_prefix(a, i)}The factorization could not be completed "
                "because the input is not positive-definite (the leading minor of order "
                f"{int(info.reshape(-1)[i])} is not positive-definite).")
        if upper:
            L = L.swapaxes(-1, -2).conj()
        ctx.upper = upper
        ctx.save(L)
        return L, info

    def backward(ctx, gL, _):
        # torch's cholesky_backward (Murray 2016): gA = L^{-H} Phi(L^H gL) L^{-1}
        (L,) = ctx.saved_tensors
        if ctx.upper:
            L, gL = mH(L), mH(gL)
        gA = tril(mH(L) @ gL)
        gA = 0.5 * (gA + mH(tril(gA, -1)))
        gA = solve_triangular(mH(L), gA, upper=True)
        return solve_triangular(L, gA, upper=False, left=False)


def _cholesky(A, upper, check, name, op=Cholesky):
    check_square(name, A)
    check_lapack_dtype(A, "cholesky_cpu")
    return op.apply(A, upper=upper, check=check, name=name)


_CholeskyLegacy = Cholesky.named("CholeskyBackward0")  # torch.cholesky's node


@out_arg()
def linalg_cholesky(A, *, upper=False, out=None) -> Tensor:
    """Same as torch.linalg.cholesky."""
    return _cholesky(A, upper, True, "linalg.cholesky")[0]


@out_arg()
def cholesky_ex(A, *, upper=False, check_errors=False, out=None) -> CholeskyEx:
    """Same as torch.linalg.cholesky_ex (a failed matrix holds potf2's partial factor)."""
    return CholeskyEx(*_cholesky(A, upper, check_errors, "linalg.cholesky_ex"))


@out_arg()
def cholesky(input, upper=False, *, out=None) -> Tensor:
    """Same as torch.cholesky (deprecated in torch in favour of torch.linalg.cholesky)."""
    warn_once("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
              "removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be "
              "replaced with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, "
              "upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
              "transform will produce equivalent results for all valid (symmetric positive "
              "definite) inputs.")
    return _cholesky(input, upper, True, "linalg.cholesky", _CholeskyLegacy)[0]


# --- QR -------------------------------------------------------------------------------------------
class Qr(Op):
    __slots__ = ()
    _node_name = "LinalgQrBackward0"

    def forward(ctx, a, mode):
        xp = ctx.xp
        if mode == "r":
            q, r = xp.zeros((0,), a.dtype), xp.linalg.qr(a, mode="r")
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        ctx.mode = mode
        ctx.save(q, r)
        return q, r

    def backward(ctx, gQ, gR):
        # torch's linalg_qr_backward
        Q, R = ctx.saved_tensors
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        gA = gR @ mH(R) - mH(Q) @ gQ
        if m >= n:
            t = triu(gA)
            t = t + mH(t)
            t = t - diag_embed(_diag(t).real * 0.5 if t.is_complex() else _diag(t) * 0.5)
            gA = Q @ t + gQ
            return solve_triangular(mH(R), gA, upper=False, left=False)
        t = tril(-gA - mH(-gA))
        if t.is_complex():
            t = t - diag_embed(_diag(t).imag * 0.5) * 1j
        gA = solve_triangular(mH(R[..., :m]), Q @ t, upper=False, left=False)
        zeros = Tensor._make(gA._device.xp.zeros(gA.shape[:-1] + (n - m,), gA._data.dtype),
                             gA._device)
        return cat([gA, zeros], -1) + Q @ gR


@out_arg()
def linalg_qr(A, mode="reduced", *, out=None) -> QR:
    """Same as torch.linalg.qr."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    check_matrix("linalg.qr", A)
    check_lapack_dtype(A, "geqrf_cpu")
    q, r = Qr.apply(A, mode)
    return QR(q, r)


@out_arg()
def qr(input, some=True, *, out=None) -> TorchQR:
    """Same as torch.qr (deprecated in torch in favour of torch.linalg.qr)."""
    warn_once("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a "
              "future PyTorch release.\nThe boolean parameter 'some' has been replaced with a "
              "string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\n"
              "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')")
    return TorchQR(*linalg_qr(input, "reduced" if some else "complete"))


# --- eigendecompositions --------------------------------------------------------------------------
def _check_phase(VhgV, msg):
    """Complex eigen/singular vectors have a free phase; a loss that sees it is ill-defined."""
    xp = VhgV._device.xp
    if not xp.allclose(xp.imag(xp.diagonal(VhgV._data, 0, -2, -1)), 0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(msg)


_PHASE = "The {} in the complex case are specified up to multiplication by e^{{i phi}}. The " \
    "specified loss function depends on {}"


def _eig_core(gL, gV, L, V, hermitian):
    """torch's linalg_eig_backward; gL or gV is None where that output was unused."""
    if gV is None:  # eigenvalues only: V diag(gL) V^{-1}, defined at repeated eigenvalues too
        if hermitian:
            return (V * gL.unsqueeze(-2)) @ mH(V)
        return solve(mH(V), gL.unsqueeze(-1) * mH(V))
    VhgV = mH(V) @ gV
    if V.is_complex():
        name = "linalg_eigh_backward" if hermitian else "linalg_eig_backward"
        _check_phase(VhgV, f"{name}: " + _PHASE.format("eigenvectors", "this quantity, so it is "
                                                        "ill-defined."))
    if hermitian:
        VhgV = 0.5 * (VhgV - mH(VhgV))
    else:
        VhgV = VhgV - mH(V) @ (V * _diag(VhgV).real.unsqueeze(-2))
    Lc = L.conj()
    E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1)
    one = eye(E.shape[-1], E)
    gA = VhgV / (E + one) * (1 - one)  # E's diagonal is 0; fill it with 1
    if gL is not None:
        gA = gA + diag_embed(gL)
    if hermitian:
        return V @ (gA @ mH(V))
    return solve(mH(V), gA @ mH(V))


class EighOp(Op):
    __slots__ = ()
    _node_name = "LinalgEighBackward0"
    _apply_backward = apply_unmaterialized

    def forward(ctx, a, uplo):
        w, v = _drivers.eigh(ctx.xp, a, uplo == "L", vectors=True)
        ctx.save(w, v)
        return w, v

    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        return _eig_core(gL, gV, L, V, True)


def _eigh_checks(name, A, UPLO):
    _no_kernel(A, "linalg_eigh_cpu")
    check_square(name, A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    check_lapack_dtype(A, "linalg_eigh_cpu")


def _no_kernel(A, kernel):
    """eigh and lu have no integer kernels: torch's NotImplementedError (shape checks after)."""
    if A.ndim >= 2 and not (A.is_floating_point() or A.is_complex()):
        raise not_implemented(kernel, A.dtype)


@out_arg()
def eigh(A, UPLO="L", *, out=None) -> Eigh:
    """Same as torch.linalg.eigh."""
    _eigh_checks("linalg.eigh", A, UPLO)
    w, v = EighOp.apply(A, UPLO)
    return Eigh(w, v)


# The values-only functions compute the vectors too when a gradient is recorded, as torch does:
# the backward needs them, and as outputs of the same node they stay differentiable.
@out_arg()
def eigvalsh(A, UPLO="L", *, out=None) -> Tensor:
    """Same as torch.linalg.eigvalsh."""
    _eigh_checks("linalg.eigvalsh", A, UPLO)
    if grad_recording(A):
        return EighOp.apply(A, UPLO)[0]
    return Tensor._make(_drivers.eigh(A._device.xp, A._data, UPLO == "L", vectors=False)[0],
                        A._device)


class EigOp(Op):
    __slots__ = ()
    _node_name = "LinalgEigBackward0"
    _apply_backward = apply_unmaterialized

    def forward(ctx, a):
        w, v = _drivers.eig(ctx.xp, a, vectors=True)
        ctx.save(w, v)
        return w, v

    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        return _eig_core(gL, gV, L, V, False)


def _eig_checks(name, A):
    if not (A.is_floating_point() or A.is_complex()):
        raise RuntimeError(f"Unknown Complex ScalarType for {torch_type_name(A.dtype)}")
    check_square(name, A)
    check_lapack_dtype(A, "linalg_eig_out_cpu")


@out_arg()
def eig(A, *, out=None) -> Eig:
    """Same as torch.linalg.eig."""
    _eig_checks("linalg.eig", A)
    w, v = EigOp.apply(A)
    return Eig(w, v)


@out_arg()
def eigvals(A, *, out=None) -> Tensor:
    """Same as torch.linalg.eigvals."""
    _eig_checks("linalg.eigvals", A)
    if grad_recording(A):
        return EigOp.apply(A)[0]
    return Tensor._make(_drivers.eig(A._device.xp, A._data, vectors=False)[0], A._device)


# --- SVD ------------------------------------------------------------------------------------------
def _svd_arrays(xp, a, full):
    if a.size:
        return _drivers.svd(xp, a, full_matrices=full)
    m, n = a.shape[-2:]  # torch: identity-filled vectors for an empty matrix
    k, b = min(m, n), a.shape[:-2]
    u = xp.broadcast_to(xp.eye(m, m if full else k, dtype=a.dtype), b + (m, m if full else k))
    vh = xp.broadcast_to(xp.eye(n if full else k, n, dtype=a.dtype), b + (n if full else k, n))
    return u.copy(), xp.zeros(b + (k,), a.real.dtype), vh.copy()


class SvdOp(Op):
    __slots__ = ()
    _node_name = "LinalgSvdBackward0"
    _apply_backward = apply_unmaterialized

    def forward(ctx, a, full_matrices):
        u, s, vh = _svd_arrays(ctx.xp, a, full_matrices)
        ctx.full = full_matrices
        ctx.save(u, s, vh)
        return u, s, vh

    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        if ctx.full:  # only the first k vectors are determined by A (torch narrows the same way)
            k = S.shape[-1]
            U, Vh = U[..., :k], Vh[..., :k, :]
            gU = None if gU is None else gU[..., :k]
            gVh = None if gVh is None else gVh[..., :k, :]
        return _svd_backward(gU, gS, gVh, U, S, Vh)


def _svd_backward(gU, gS, gVh, U, S, Vh):
    """torch's svd_backward (distinct singular values; full rank if rectangular or complex);
    a gradient is None where that output was unused."""
    m, n = U.shape[-2], Vh.shape[-1]
    if gU is None and gVh is None:  # singular values only: U diag(gS) Vh, for repeated ones too
        return U @ (gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)) @ Vh
    UhgU = None if gU is None else _skew(mH(U) @ gU)
    VhgV = None if gVh is None else _skew(Vh @ mH(gVh))
    if U.is_complex():
        _check_phase(VhgV if UhgU is None else UhgU if VhgV is None else UhgU + VhgV,
                     "svd_backward: " + _PHASE.format("singular vectors", "this phase term, "
                                                      "making it ill-defined."))
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    E = E + eye(E.shape[-1], E)  # its diagonal is 0; the numerators' diagonals are imaginary
    if VhgV is None:
        gA = UhgU * S.unsqueeze(-2) / E
    elif UhgU is None:
        gA = S.unsqueeze(-1) * VhgV / E
    else:
        gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
    if gS is not None:
        gA = gA + diag_embed(gS)
    if U.is_complex() and UhgU is not None:
        gA = gA + diag_embed(_diag(UhgU) / (2 * S))
    if m > n and gU is not None:
        gUSinv = gU / S.unsqueeze(-2)
        return (U @ gA + gUSinv - U @ (mH(U) @ gUSinv)) @ Vh
    if m < n and gVh is not None:
        SinvgVh = gVh / S.unsqueeze(-1)
        return U @ (gA @ Vh + SinvgVh - (SinvgVh @ mH(Vh)) @ Vh)
    return U @ (gA @ Vh)


def _skew(x):
    return x - mH(x)


def _check_driver(A, driver):
    if driver is not None and A.device.type == "cpu":
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on CUDA "
                           "inputs with cuSOLVER backend.")


@out_arg()
def linalg_svd(A, full_matrices=True, *, driver=None, out=None) -> SVD:
    """Same as torch.linalg.svd (`driver` is accepted and ignored on CUDA)."""
    _check_driver(A, driver)
    check_matrix("linalg.svd", A)
    check_lapack_dtype(A, "linalg_svd_cpu")
    u, s, vh = SvdOp.apply(A, full_matrices)
    return SVD(u, s, vh)


@out_arg()
def svdvals(A, *, driver=None, out=None) -> Tensor:
    """Same as torch.linalg.svdvals."""
    _check_driver(A, driver)
    check_matrix("linalg.svdvals", A)
    check_lapack_dtype(A, "linalg_svd_cpu")
    if grad_recording(A) or A.numel() == 0:
        return SvdOp.apply(A, False)[1]
    return Tensor._make(_drivers.svd(A._device.xp, A._data, compute_uv=False), A._device)


@out_arg()
def svd(input, some=True, compute_uv=True, *, out=None) -> TorchSVD:
    """Same as torch.svd: returns V (not Vh); without compute_uv, U and V are zero-filled."""
    if not compute_uv:
        s = svdvals(input)
        xp, dev, dt = input._device.xp, input._device, input._data.dtype
        m, n = input.shape[-2:]
        zeros = [Tensor._make(xp.zeros(input.shape[:-2] + (k, k), dt), dev) for k in (m, n)]
        return TorchSVD(zeros[0], s, zeros[1])
    u, s, vh = linalg_svd(input, full_matrices=not some)
    return TorchSVD(u, s, mH(vh))


# --- LU -------------------------------------------------------------------------------------------
def _lu_backward(gL, gU, P, L, U):
    """torch's linalg_lu_backward: A = P L U with unit lower L (m x k) and upper U (k x n)."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        gA = tril(mH(L) @ gL, -1) + triu(gU @ mH(U))
        gA = solve_triangular(mH(U), gA, upper=False, left=False)
        gA = solve_triangular(mH(L), gA, upper=True, unitriangular=True)
    elif m < n:  # wide: U = [U1 U2]
        U1 = U[..., :k]
        gA = tril(mH(L) @ gL - triu(gU) @ mH(U), -1)
        gA = solve_triangular(mH(U1), gA, upper=False, left=False)
        gA = cat([gA + triu(gU[..., :k]), gU[..., k:]], -1)
        gA = solve_triangular(mH(L), gA, upper=True, unitriangular=True)
    else:  # tall: L = [L1; L2]
        L1 = L[..., :k, :]
        gA = triu(gU @ mH(U) - mH(L) @ tril(gL, -1))
        gA = solve_triangular(mH(L1), gA, upper=True, unitriangular=True)
        gA = cat([gA + tril(gL[..., :k, :], -1), gL[..., k:, :]], -2)
        gA = solve_triangular(mH(U), gA, upper=False, left=False)
    return P @ gA


def _unpack(xp, lu, piv):
    """(P, L, U) arrays from a packed LU and its pivots."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
    return _lapack.permutation(xp, piv, m, lu.dtype), L, xp.triu(lu[..., :k, :])


class LuOp(Op):
    __slots__ = ()
    _node_name = "LinalgLuBackward0"

    def forward(ctx, a):
        xp = ctx.xp
        P, L, U = _unpack(xp, *_drivers.getrf(xp, a)[:2])
        ctx.save(P, L, U)
        return P, L, U

    def backward(ctx, gP, gL, gU):
        P, L, U = ctx.saved_tensors
        return _lu_backward(gL, gU, P.detach(), L, U)


class LuFactor(Op):
    __slots__ = ()
    _node_name = "LinalgLuFactorExBackward0"

    def forward(ctx, a):
        lu, piv, info = _drivers.getrf(ctx.xp, a)
        ctx.save(lu, piv)
        return lu, piv, info

    def backward(ctx, g, _piv, _info):
        LU, piv = ctx.saved_tensors
        xp = LU._device.xp
        m, n = LU.shape[-2:]
        k = min(m, n)
        L = tril(LU[..., :, :k], -1) + Tensor._make(xp.eye(m, k, dtype=LU._data.dtype), LU._device)
        P = Tensor._make(_lapack.permutation(xp, piv._data, m, LU._data.dtype), LU._device)
        U = triu(LU[..., :k, :])
        return _lu_backward(tril(g[..., :, :k], -1), triu(g[..., :k, :]), P, L, U)


def _lu_checks(name, A, pivot):
    _no_kernel(A, "lu_cpu")
    check_matrix(name, A)
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")
    check_lapack_dtype(A, "lu_cpu")


@out_arg()
def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None) -> LUFactorEx:
    """Same as torch.linalg.lu_factor_ex."""
    _lu_checks("linalg.lu_factor_ex", A, pivot)
    lu, piv, info = LuFactor.apply(A)
    if check_errors and bool(info._data.any()):
        i = first_failure(info._data)
        raise LinAlgError(f"linalg.lu_factor_ex: {batch_prefix(A, i)}The factorization could not "
                          "be completed because the input is singular.")
    return LUFactorEx(lu, piv, info)


@out_arg()
def lu_factor(A, *, pivot=True, out=None) -> LUFactor:
    """Same as torch.linalg.lu_factor."""
    _lu_checks("linalg.lu_factor", A, pivot)
    lu, piv, info = LuFactor.apply(A)
    if bool(info._data.any()):
        i = first_failure(info._data)
        j = int(info._data.reshape(-1)[i])
        raise RuntimeError(f"torch.linalg.lu_factor: {batch_prefix(A, i)}U[{j},{j}] is zero and "
                           "using it on lu_solve would result in a division by zero. If you still "
                           "want to perform the factorization, consider calling linalg.lu(A, "
                           "pivot) or linalg.lu_factor_ex(A, pivot)")
    return LUFactor(lu, piv)


@out_arg()
def lu(A, *, pivot=True, out=None) -> LU:
    """Same as torch.linalg.lu."""
    _lu_checks("linalg.lu", A, pivot)
    P, L, U = LuOp.apply(A)
    return LU(P.detach(), L, U)

