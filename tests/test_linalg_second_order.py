"""Second derivatives of the linear-algebra and FFT functions against torch.

For each case (float64 or complex128 inputs) the gradient for a random cotangent v is taken with
create_graph=True, then the gradient of ``sum(Re(grad_i * u_i))`` for random u with respect to
the inputs (a Hessian-vector product) and to v (J u). ndgrad and torch must agree, where an
unused (None) gradient and an all-zero one count as the same. Variants:

  leaf     the inputs are leaves
  nonleaf  the function sees ``leaf * 1`` (the op sits inside a bigger graph)
  first    first order only, with create_graph=False (the arrays fast path) and with
           create_graph=True

Decompositions unique only up to signs or phases (eigenvectors, singular vectors) are compared
through gauge-invariant functions of their outputs. Then a finite-difference gradgradcheck of a
subset, including the cases where torch itself cannot take the second derivative."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ndgrad

RTOL, ATOL = 1e-6, 1e-7
# at the kinks of the norms torch's second derivatives are NaN too (0 * inf in the masked
# entries); NumPy warns where torch is silent
pytestmark = pytest.mark.filterwarnings("ignore:(invalid value|divide by zero):RuntimeWarning")
_R = np.random.default_rng(1)


def r(*shape, c=False):
    a = _R.standard_normal(shape)
    return a + 1j * _R.standard_normal(shape) if c else a


def mT(a):
    return np.swapaxes(a, -1, -2).conj()


def well(n, batch=(), c=False):
    """Well conditioned: a random matrix with its diagonal shifted by 3."""
    return r(*batch, n, n, c=c) + 3 * np.eye(n)


def spd(n, batch=(), c=False):
    a = r(*batch, n, n, c=c)
    return a @ mT(a) + n * np.eye(n)


def herm(n, batch=(), c=False):
    a = r(*batch, n, n, c=c)
    return a + mT(a)


def tri(n, batch=(), upper=False, c=False):
    a = well(n, batch, c) + np.eye(n)
    return np.triu(a) if upper else np.tril(a)


SINGULAR = np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]])  # rank 2, LU gives det == 0 exactly
INF = float("inf")
CASES: dict = {}


def case(name, fn, *arrays, c=None):
    """``fn(T, *tensors)`` on ``arrays``; ``c``: the same function on complex arrays too."""
    CASES[name] = (fn, arrays)
    if c is not None:
        CASES[name + "_complex"] = (fn, c)


def _eigh(T, a, **kw):  # eigenvectors enter through |v|^2 (sign and phase free)
    w, v = T.linalg.eigh(a, **kw)
    return w, (v * v.conj()).real


def _svd(T, a, k=None):  # singular pairs enter through U Vh and |U|, |Vh|
    u, s, vh = T.linalg.svd(a, full_matrices=False)
    return s, u[..., :k] @ vh[..., :k, :], u.abs(), vh.abs()


# --- products -------------------------------------------------------------------------------------
case("matmul", lambda T, a, b: a @ b, r(3, 4), r(4, 2), c=(r(3, 4, c=True), r(4, 2, c=True)))
case("matmul_broadcast", lambda T, a, b: T.matmul(a, b), r(2, 1, 3, 4), r(3, 4, 2))
case("matmul_vec_mat", lambda T, a, b: T.matmul(a, b), r(4), r(2, 4, 3))
case("matmul_mat_vec", lambda T, a, b: T.matmul(a, b), r(2, 3, 4), r(4))
case("matmul_square_self", lambda T, a: a @ a, r(3, 3))
case("mm", lambda T, a, b: T.mm(a, b), r(3, 4), r(4, 2))
case("bmm", lambda T, a, b: T.bmm(a, b), r(2, 3, 4), r(2, 4, 2),
     c=(r(2, 3, 4, c=True), r(2, 4, 2, c=True)))
case("mv", lambda T, a, b: T.mv(a, b), r(3, 4), r(4))
case("dot", lambda T, a, b: T.dot(a, b), r(4), r(4), c=(r(4, c=True), r(4, c=True)))
case("dot_self", lambda T, a: T.dot(a, a), r(4))
case("vdot", lambda T, a, b: T.vdot(a, b), r(4), r(4), c=(r(4, c=True), r(4, c=True)))
case("inner", lambda T, a, b: T.inner(a, b), r(2, 4), r(3, 4), c=(r(4, c=True), r(4, c=True)))
case("outer", lambda T, a, b: T.outer(a, b), r(3), r(4), c=(r(3, c=True), r(4, c=True)))
case("addmm", lambda T, i, a, b: T.addmm(i, a, b, beta=0.5, alpha=2.0), r(3, 2), r(3, 4),
     r(4, 2), c=(r(3, 2, c=True), r(3, 4, c=True), r(4, 2, c=True)))
case("addmm_broadcast", lambda T, i, a, b: T.addmm(i, a, b), r(2), r(3, 4), r(4, 2))
case("addmm_beta0", lambda T, i, a, b: T.addmm(i, a, b, beta=0), r(3, 2), r(3, 4), r(4, 2))
case("addmv", lambda T, i, a, b: T.addmv(i, a, b, beta=0.5, alpha=2.0), r(3), r(3, 4), r(4))
case("addbmm", lambda T, i, a, b: T.addbmm(i, a, b, alpha=1.5), r(3, 2), r(2, 3, 4), r(2, 4, 2))
case("baddbmm", lambda T, i, a, b: T.baddbmm(i, a, b, beta=2.0), r(2, 3, 2), r(2, 3, 4),
     r(2, 4, 2), c=(r(3, 2, c=True), r(2, 3, 4, c=True), r(2, 4, 2, c=True)))
case("kron", lambda T, a, b: T.kron(a, b), r(2, 3), r(3, 2), c=(r(2, 2, c=True), r(3, c=True)))
case("tensordot", lambda T, a, b: T.tensordot(a, b, dims=([1, 2], [0, 1])), r(2, 3, 4),
     r(3, 4, 2))
case("tensordot_int", lambda T, a, b: T.tensordot(a, b, 1), r(2, 3), r(3, 4))
case("einsum", lambda T, a, b: T.einsum("bij,bjk->bik", a, b), r(2, 3, 4), r(2, 4, 2),
     c=(r(2, 3, 4, c=True), r(2, 4, 2, c=True)))
case("einsum_diagonal", lambda T, a, b: T.einsum("ii,ij->j", a, b), r(3, 3), r(3, 2))
case("einsum_trace", lambda T, a: T.einsum("ii", a), r(3, 3))
case("einsum_ellipsis", lambda T, a, b: T.einsum("...ij,...jk", a, b), r(2, 3, 4), r(4, 2))
case("einsum_broadcast", lambda T, a, b: T.einsum("bij,bjk->bik", a, b), r(1, 3, 4), r(2, 4, 2))
case("einsum_three", lambda T, a, b, c: T.einsum("ij,jk,kl->il", a, b, c), r(2, 3), r(3, 4),
     r(4, 2))
case("einsum_permute", lambda T, a: T.einsum("ijk->kji", a), r(2, 3, 4))
case("multi_dot", lambda T, a, b, c: T.linalg.multi_dot([a, b, c]), r(3), r(3, 4), r(4, 2))
case("chain_matmul", lambda T, a, b, c: T.chain_matmul(a, b, c), r(2, 3), r(3, 4), r(4, 2))
case("cross", lambda T, a, b: T.linalg.cross(a, b), r(2, 3), r(2, 3),
     c=(r(2, 3, c=True), r(2, 3, c=True)))
case("cross_broadcast", lambda T, a, b: T.linalg.cross(a, b), r(2, 3), r(1, 3))
case("cross_dim0", lambda T, a, b: T.cross(a, b, dim=0), r(3, 2), r(3, 2))
case("vecdot", lambda T, a, b: T.linalg.vecdot(a, b), r(2, 3, c=True), r(2, 3, c=True))

# --- determinants, inverses, solvers --------------------------------------------------------------
case("det", lambda T, a: T.linalg.det(a), well(3), c=(well(3, c=True),))
case("det_batch", lambda T, a: T.det(a), well(3, (2,)), c=(well(3, (2,), c=True),))
case("det_1x1", lambda T, a: T.linalg.det(a), r(2, 1, 1))
case("det_singular_graph", lambda T, a: T.linalg.det(a), SINGULAR)  # see test_det_singular_raw
case("slogdet", lambda T, a: T.linalg.slogdet(a), well(3, (2,)), c=(well(3, (2,), c=True),))
case("slogdet_sign", lambda T, a: T.linalg.slogdet(a)[0], well(3, (2,), c=True))
case("logdet", lambda T, a: T.logdet(a), spd(3), c=(well(3, c=True),))
case("inv", lambda T, a: T.linalg.inv(a), well(3, (2,)), c=(well(3, c=True),))
case("inv_ex", lambda T, a: T.linalg.inv_ex(a)[0], well(3))
case("inverse", lambda T, a: T.inverse(a), well(3))
case("solve", lambda T, a, b: T.linalg.solve(a, b), well(3, (2,)), r(2, 3, 2),
     c=(well(3, c=True), r(3, 2, c=True)))
case("solve_vector", lambda T, a, b: T.linalg.solve(a, b), well(3), r(3))
case("solve_batch_vector", lambda T, a, b: T.linalg.solve(a, b), well(3, (2,)), r(2, 3))
case("solve_broadcast_a", lambda T, a, b: T.linalg.solve(a, b), well(3, (2,)), r(3, 2))
case("solve_broadcast_b", lambda T, a, b: T.linalg.solve(a, b), well(3), r(2, 3, 2))
case("solve_right", lambda T, a, b: T.linalg.solve(a, b, left=False), well(3), r(2, 3))
case("solve_ex", lambda T, a, b: T.linalg.solve_ex(a, b)[0], well(3), r(3, 2))
case("solve_triangular", lambda T, a, b: T.linalg.solve_triangular(a, b, upper=True),
     tri(3, upper=True), r(3, 2), c=(tri(3, c=True, upper=True), r(3, 2, c=True)))
case("solve_triangular_right_unit", lambda T, a, b: T.linalg.solve_triangular(
    a, b, upper=False, left=False, unitriangular=True), tri(3, (2,)), r(2, 2, 3))
case("pinv", lambda T, a: T.linalg.pinv(a), r(4, 3), c=(r(3, 4, c=True),))
case("pinv_wide_batch", lambda T, a: T.linalg.pinv(a), r(2, 2, 4))
case("pinv_hermitian", lambda T, a: T.linalg.pinv(a, hermitian=True), herm(3))
case("pinverse", lambda T, a: T.pinverse(a), r(4, 3))
case("lstsq", lambda T, a, b: T.linalg.lstsq(a, b).solution, r(5, 3), r(5, 2))
case("lstsq_square_vector", lambda T, a, b: T.linalg.lstsq(a, b).solution, well(3), r(3))
case("lstsq_residuals", lambda T, a, b: T.linalg.lstsq(a, b, driver="gelsd")[:2], r(5, 3),
     r(5, 2))
case("lstsq_residuals_vector", lambda T, a, b: T.linalg.lstsq(a, b, driver="gels")[:2],
     r(2, 5, 3), r(2, 5))
case("lstsq_wide", lambda T, a, b: T.linalg.lstsq(a, b, driver="gelsd").solution, r(3, 5),
     r(3, 2))

# --- factorizations -------------------------------------------------------------------------------
case("cholesky", lambda T, a: T.linalg.cholesky(a), spd(3, (2,)), c=(spd(3, c=True),))
case("cholesky_upper", lambda T, a: T.linalg.cholesky(a, upper=True), spd(3),
     c=(spd(3, (2,), c=True),))
case("cholesky_ex", lambda T, a: T.linalg.cholesky_ex(a)[0], spd(3))
case("cholesky_deprecated", lambda T, a: T.cholesky(a), spd(3))
case("qr", lambda T, a: T.linalg.qr(a), r(4, 3), c=(r(4, 3, c=True),))
case("qr_wide", lambda T, a: T.linalg.qr(a), r(2, 4), c=(r(2, 4, c=True),))
case("qr_square_batch", lambda T, a: T.linalg.qr(a), r(2, 3, 3))
case("qr_complete_wide", lambda T, a: T.linalg.qr(a, "complete"), r(3, 4))
case("qr_deprecated", lambda T, a: T.qr(a), r(4, 3))
case("eigh", _eigh, herm(3, (2,)), c=(herm(3, c=True),))
case("eigh_upper", lambda T, a: _eigh(T, a, UPLO="U"), r(3, 3))
case("eigh_projector", lambda T, a: (lambda w, v: (v @ v.mH * 2).real)(*T.linalg.eigh(a)),
     herm(3, c=True))
case("eigvalsh", lambda T, a: T.linalg.eigvalsh(a), herm(3), c=(herm(3, c=True),))
case("eig", lambda T, a: (lambda w, v: (w, v.abs()))(*T.linalg.eig(a)), r(3, 3),
     c=(r(3, 3, c=True),))
case("eigvals", lambda T, a: T.linalg.eigvals(a), r(3, 3), c=(r(3, 3, c=True),))
case("svd", _svd, r(4, 3), c=(r(4, 3, c=True),))
case("svd_wide_batch", lambda T, a: _svd(T, a, 3), r(2, 3, 4))
case("svd_complex_wide", lambda T, a: _svd(T, a, 2), r(2, 3, c=True))
case("svd_full", lambda T, a: (lambda u, s, vh: (s, u.abs(), vh.abs()))(*T.linalg.svd(a)),
     r(3, 3))
case("svd_deprecated", lambda T, a: (lambda u, s, v: (s, u @ v.mT))(*T.svd(a)), r(3, 3))
case("svdvals", lambda T, a: T.linalg.svdvals(a), r(2, 4, 3), c=(r(3, 4, c=True),))
# one output used: the backward gets None (torch: undefined) for the others
case("svd_only_u", lambda T, a: T.linalg.svd(a, full_matrices=False)[0].abs(), r(4, 3),
     c=(r(4, 3, c=True),))
case("svd_only_vh_wide", lambda T, a: T.linalg.svd(a, full_matrices=False)[2].abs(), r(3, 4))
case("svd_only_vh_tall", lambda T, a: T.linalg.svd(a)[2].abs(), r(4, 3))
case("svd_only_u_wide_full", lambda T, a: T.linalg.svd(a)[0].abs(), r(3, 4))
case("eigh_only_vectors", lambda T, a: _eigh(T, a)[1], herm(3), c=(herm(3, c=True),))
case("eig_only_vectors", lambda T, a: T.linalg.eig(a)[1].abs(), r(3, 3))
# repeated (and zero) singular values and eigenvalues: finite with the vectors unused
for name, a in (("identity", np.eye(3)), ("zeros", np.zeros((2, 3)))):
    case(f"svdvals_{name}", lambda T, a: T.linalg.svdvals(a), a)
    for p in ("nuc", 2, -2):
        case(f"matrix_norm_{p}_{name}", lambda T, a, p=p: T.linalg.matrix_norm(a, p), a)
case("eigvalsh_identity", lambda T, a: T.linalg.eigvalsh(a), np.eye(3))
case("eigvals_identity", lambda T, a: T.linalg.eigvals(a), np.eye(3))
case("cond_identity", lambda T, a: T.linalg.cond(a), np.eye(3))
case("lu", lambda T, a: T.linalg.lu(a)[1:], well(3, (2,)), c=(well(3, c=True),))
case("lu_wide", lambda T, a: T.linalg.lu(a)[1:], r(3, 4))
case("lu_tall", lambda T, a: T.linalg.lu(a)[1:], r(4, 3))
case("lu_factor", lambda T, a: T.linalg.lu_factor(a)[0], well(3))
case("lu_factor_ex_batch", lambda T, a: T.linalg.lu_factor_ex(a)[0], r(2, 3, 3))
case("lu_factor_wide", lambda T, a: T.linalg.lu_factor(a)[0], r(3, 4))
case("lu_factor_tall", lambda T, a: T.linalg.lu_factor(a)[0], r(4, 3))

# --- matrix functions -----------------------------------------------------------------------------
case("matrix_exp", lambda T, a: T.linalg.matrix_exp(a), r(2, 3, 3) * 0.5,
     c=(r(3, 3, c=True) * 0.5,))
case("matrix_exp_squaring", lambda T, a: T.linalg.matrix_exp(a), r(3, 3) * 4)
case("matrix_power", lambda T, a: T.linalg.matrix_power(a, 5), r(2, 3, 3) * 0.5)
case("matrix_power_negative", lambda T, a: T.linalg.matrix_power(a, -2), well(3),
     c=(well(3, c=True),))
case("matrix_power_zero", lambda T, a: T.linalg.matrix_power(a, 0), r(3, 3))
case("cond", lambda T, a: T.linalg.cond(a), well(3), c=(well(3, c=True),))
case("cond_minus2", lambda T, a: T.linalg.cond(a, -2), r(3, 4))
case("cond_nuc", lambda T, a: T.linalg.cond(a, "nuc"), well(3))

# --- norms, at kinks too --------------------------------------------------------------------------
ZERO_ROW = np.array([[0.0, 0, 0], [1, -2, 0]])
for p in (2, 1, 3, 1.5, 0.5, INF, -INF, 0, -1, -2):
    case(f"vector_norm_{p}", lambda T, a, p=p: T.linalg.vector_norm(a, p, dim=-1), r(2, 3),
         c=(r(2, 3, c=True),))
    if p > 0:
        case(f"vector_norm_{p}_zero_row", lambda T, a, p=p: T.linalg.vector_norm(a, p, dim=1),
             ZERO_ROW)
case("vector_norm_all", lambda T, a: T.linalg.vector_norm(a), r(2, 3))
case("vector_norm_complex_zero_row", lambda T, a: T.linalg.vector_norm(a, dim=1),
     ZERO_ROW * (1 + 1j))
case("vector_norm_inf_ties", lambda T, a: T.linalg.vector_norm(a, INF, dim=1),
     np.array([[1.0, -1, 0.5], [2, 0, -2]]))
case("vector_norm_keepdim", lambda T, a: T.linalg.vector_norm(a, 4, dim=(0, 2), keepdim=True),
     r(2, 3, 2))
case("vector_norm_0d", lambda T, a: T.linalg.vector_norm(a), np.array(1.5))
case("vector_norm_zeros", lambda T, a: T.linalg.vector_norm(a), np.zeros(3))
for p in ("fro", "nuc", 2, -2, 1, -1, INF, -INF):
    case(f"matrix_norm_{p}", lambda T, a, p=p: T.linalg.matrix_norm(a, p), r(2, 3, 4))
case("matrix_norm_fro_complex", lambda T, a: T.linalg.matrix_norm(a), r(3, 3, c=True))
case("matrix_norm_nuc_keepdim", lambda T, a: T.linalg.matrix_norm(a, "nuc", dim=(0, 2),
                                                                   keepdim=True), r(3, 2, 4))
case("norm", lambda T, a: T.linalg.norm(a), r(3, 4))
case("norm_vector_ord", lambda T, a: T.linalg.norm(a, 3), r(4))
case("norm_matrix_inf", lambda T, a: T.linalg.norm(a, INF), r(3, 4))
case("tensor_norm_dim", lambda T, a: T.norm(a, dim=1), r(3, 4))
case("tensor_norm_p", lambda T, a: T.norm(a, p=1.5), r(3, 4))
case("tensor_norm_nuc", lambda T, a: T.norm(a, p="nuc"), r(3, 4))

# --- diagonals and statistics ---------------------------------------------------------------------
case("trace", lambda T, a: T.trace(a), r(3, 4))
case("diagonal", lambda T, a: T.diagonal(a, 1), r(3, 4))
case("linalg_diagonal", lambda T, a: T.linalg.diagonal(a), r(2, 3, 3))
case("diag_embed", lambda T, a: T.diag_embed(a, -1, 0, 2), r(2, 3))
case("diag_vector", lambda T, a: T.diag(a, 1), r(3))
case("diag_matrix", lambda T, a: T.diag(a, -1), r(3, 3))
case("cov", lambda T, a: T.cov(a), r(3, 5))
case("cov_weights", lambda T, a, w: T.cov(a, aweights=w, correction=0), r(3, 5),
     np.abs(r(5)) + 0.1)
case("corrcoef", lambda T, a: T.corrcoef(a), r(3, 5), c=(r(2, 5, c=True),))
case("cdist_mm", lambda T, a, b: T.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), r(3, 4),
     r(2, 4))
case("trapezoid", lambda T, a, x: T.trapezoid(a, x), r(2, 5), r(5))
case("trapezoid_dx", lambda T, a: T.trapezoid(a, dx=0.5), r(2, 5))

# --- the SciPy (LAPACK in the input precision) paths, from n = 16 ---------------------------------
case("big_det", lambda T, a: T.linalg.det(a * 0.3), well(16))
case("big_slogdet", lambda T, a: T.linalg.slogdet(a), well(16, (2,)))
case("big_inv", lambda T, a: T.linalg.inv(a), well(16, c=True))
case("big_solve", lambda T, a, b: T.linalg.solve(a, b), well(16, (2,)), r(2, 16, 3))
case("big_solve_triangular", lambda T, a, b: T.linalg.solve_triangular(a, b, upper=True),
     tri(16, upper=True), r(16, 3))
case("big_cholesky", lambda T, a: T.linalg.cholesky(a), spd(16))
case("big_eigh", _eigh, herm(16))
case("big_svd", lambda T, a: _svd(T, a)[:2], r(18, 16))
case("big_lu", lambda T, a: T.linalg.lu(a)[1:], well(16))
case("big_eigvals", lambda T, a: T.linalg.eigvals(a), r(16, 16))

# --- FFT ------------------------------------------------------------------------------------------
case("fft", lambda T, a: T.fft.fft(a, n=6), r(2, 5), c=(r(2, 5, c=True),))
case("fft_trim", lambda T, a: T.fft.fft(a, n=3, dim=0), r(5, 2, c=True))
case("ifft", lambda T, a: T.fft.ifft(a, norm="ortho"), r(2, 5), c=(r(2, 5, c=True),))
case("fft2", lambda T, a: T.fft.fft2(a, s=(3, 6)), r(2, 3, 4), c=(r(3, 4, c=True),))
case("ifft2", lambda T, a: T.fft.ifft2(a, s=(2, 5), norm="forward"), r(3, 4, c=True))
case("fftn", lambda T, a: T.fft.fftn(a, norm="forward"), r(2, 3, 4))
case("fftn_dims", lambda T, a: T.fft.fftn(a, dim=(0, 2), norm="ortho"), r(2, 3, 4, c=True))
case("ifftn", lambda T, a: T.fft.ifftn(a), r(3, 4, c=True))
case("rfft", lambda T, a: T.fft.rfft(a), r(2, 6))
case("rfft_odd", lambda T, a: T.fft.rfft(a, n=7, norm="ortho"), r(2, 6))
case("rfft_trim", lambda T, a: T.fft.rfft(a, n=4, dim=0), r(6, 2))
case("rfft_abs", lambda T, a: T.fft.rfft(a).abs(), r(8))
case("irfft", lambda T, a: T.fft.irfft(a), r(2, 4, c=True))
case("irfft_n", lambda T, a: T.fft.irfft(a, n=7, norm="forward"), r(2, 4, c=True))
case("irfft_dim", lambda T, a: T.fft.irfft(a, dim=0, norm="ortho"), r(5, 2, c=True))
case("irfft_odd", lambda T, a: T.fft.irfft(a, n=5), r(3, c=True))
case("irfft_real", lambda T, a: T.fft.irfft(a), r(2, 4))
for norm in (None, "forward", "ortho"):
    case(f"rfftn_{norm}", lambda T, a, n=norm: T.fft.rfftn(a, norm=n), r(3, 2, 5))
    case(f"rfft2_{norm}", lambda T, a, n=norm: T.fft.rfft2(a, s=(3, 4), norm=n), r(3, 2, 5))
    case(f"irfftn_{norm}", lambda T, a, n=norm: T.fft.irfftn(a, norm=n), r(3, 2, 4, c=True))
    case(f"irfft2_{norm}", lambda T, a, n=norm: T.fft.irfft2(a, s=(3, 5), norm=n),
         r(3, 2, 4, c=True))
    case(f"hfft_{norm}", lambda T, a, n=norm: T.fft.hfft(a, norm=n), r(2, 4, c=True))
    case(f"hfftn_{norm}", lambda T, a, n=norm: T.fft.hfftn(a, norm=n), r(3, 2, 4, c=True))
    case(f"hfft2_{norm}", lambda T, a, n=norm: T.fft.hfft2(a, s=(4, 7), norm=n),
         r(3, 2, 4, c=True))
    case(f"ihfft_{norm}", lambda T, a, n=norm: T.fft.ihfft(a, n=7, norm=n), r(2, 6))
    case(f"ihfftn_{norm}", lambda T, a, n=norm: T.fft.ihfftn(a, norm=n), r(3, 2, 6))
    case(f"ihfft2_{norm}", lambda T, a, n=norm: T.fft.ihfft2(a, s=(4, 5), norm=n), r(3, 2, 6))
case("hfft_n_dim", lambda T, a: T.fft.hfft(a, n=5, dim=0), r(4, 3, c=True))
case("hfft_real", lambda T, a: T.fft.hfft(a), r(4))
case("irfftn_dims", lambda T, a: T.fft.irfftn(a, s=(-1, 6), dim=(0, 2)), r(3, 2, 4, c=True))
case("rfftn_one_dim", lambda T, a: T.fft.rfftn(a, dim=1), r(3, 4, 2))
case("ihfftn_dims", lambda T, a: T.fft.ihfftn(a, dim=(2, 0)), r(3, 2, 5))
case("fftshift", lambda T, a: T.fft.fftshift(a), r(3, 4))
case("ifftshift", lambda T, a: T.fft.ifftshift(a, dim=(0,)), r(5, 4, c=True))


# --- running a case in one library ----------------------------------------------------------------
def _numpy(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():
            return None
        return t.detach().resolve_conj().resolve_neg().numpy()
    return np.asarray(t.detach())


def _random(lib, rng, shape, complex_):
    a = rng.standard_normal(shape)
    return lib.tensor(a + 1j * rng.standard_normal(shape) if complex_ else a)


def derivatives(lib, fn, arrays, variant, seed=0):
    """The first-order gradients (variants raw and graph) or the Hessian-vector product and J u
    (leaf and nonleaf) of ``fn`` in ``lib``, as arrays (None where unused)."""
    rng = np.random.default_rng(seed)
    create = variant != "raw"
    second = variant in ("leaf", "nonleaf")
    xs = [lib.tensor(a).requires_grad_() for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated names (chain_matmul, torch.svd, ...)
        out = fn(lib, *([x * 1 for x in xs] if variant == "nonleaf" else xs))
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.requires_grad]
    vs = [_random(lib, rng, tuple(o.shape), o.is_complex()).requires_grad_(second) for o in outs]
    gs = lib.autograd.grad(outs, xs, vs, create_graph=create, allow_unused=True)
    if not second:
        return [_numpy(g) for g in gs]
    total = 0
    for g, x in zip(gs, xs):
        u = _random(lib, rng, tuple(x.shape), x.is_complex())
        if g is not None and g.requires_grad:
            total = total + (g * u).sum().real if g.is_complex() else total + (g * u).sum()
    if isinstance(total, int):
        return [None] * (len(xs) + len(vs))
    return [_numpy(h) for h in lib.autograd.grad(total, xs + vs, allow_unused=True)]


def assert_same(got, want, where):
    assert len(got) == len(want), where
    for i, (a, b) in enumerate(zip(got, want)):
        if a is None and b is None:
            continue
        a = np.zeros_like(b) if a is None else a
        b = np.zeros_like(a) if b is None else b
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"{where}: input {i}")


@pytest.mark.parametrize("variant", ["first", "leaf", "nonleaf"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, variant):
    """``first`` runs the raw and the graph variants."""
    fn, arrays = CASES[name]
    for v in ("raw", "graph") if variant == "first" else (variant,):
        if name == "det_singular_graph" and v == "raw":
            continue  # torch's is 0 there: see test_det_singular_raw
        want = derivatives(torch, fn, arrays, v)
        got = derivatives(ndgrad, fn, arrays, v)
        assert_same(got, want, f"{name}[{v}]")


def test_det_singular_raw():
    """At an exactly singular matrix torch's first-order det gradient (grad mode off) is 0, not
    the adjugate; ndgrad gives the adjugate on both paths, as torch does under create_graph."""
    want = derivatives(torch, CASES["det_singular_graph"][0], (SINGULAR,), "graph")
    for variant in ("raw", "graph"):
        got = derivatives(ndgrad, CASES["det_singular_graph"][0], (SINGULAR,), variant)
        assert_same(got, want, variant)
    adjugate_t = np.array([[4.0, 4, -4], [-2, -2, 2], [0, 0, 0]])  # d det / dA = adj(A)^T
    a = ndgrad.tensor(SINGULAR, requires_grad=True)
    (g,) = ndgrad.autograd.grad(ndgrad.linalg.det(a), a)
    np.testing.assert_allclose(np.asarray(g), adjugate_t, atol=1e-12)


# --- finite differences ---------------------------------------------------------------------------
def _sym(fn):  # eigh and cholesky read one triangle: differences see only symmetric inputs
    return lambda T, a: fn(T, (a + a.mH) / 2)


# the second derivative by finite differences of ndgrad's own first derivative; the last entry
# is where torch raises instead (cond with p = 1 modifies a saved tensor)
FD_CASES = {
    "matmul": (CASES["matmul"][0], (r(2, 3), r(3, 2))),
    "det": CASES["det"],
    "det_singular": (CASES["det_singular_graph"][0], (SINGULAR,)),
    "slogdet": (CASES["slogdet"][0], (well(2),)),
    "inv": (CASES["inv"][0], (well(2),)),
    "solve": (CASES["solve"][0], (well(2), r(2, 2))),
    "solve_triangular": (CASES["solve_triangular"][0], (tri(2, upper=True), r(2, 1))),
    "cholesky": (_sym(CASES["cholesky"][0]), (spd(2),)),
    "qr": (CASES["qr"][0], (r(3, 2),)),
    "eigh": (_sym(_eigh), (herm(2),)),
    "svd": (_svd, (r(3, 2),)),
    "pinv": (CASES["pinv"][0], (r(3, 2),)),
    "lstsq_residuals": (CASES["lstsq_residuals"][0], (r(3, 2), r(3, 1))),
    "matrix_exp": (CASES["matrix_exp"][0], (r(2, 2),)),
    "lu": (CASES["lu"][0], (well(3),)),
    "vector_norm_1.5": (CASES["vector_norm_1.5"][0], (r(2, 3),)),
    "matrix_norm_nuc": (CASES["matrix_norm_nuc"][0], (r(2, 3),)),
    "irfft": (CASES["irfft_real"][0], (r(3),)),
    "cond_1": (lambda T, a: T.linalg.cond(a, 1), (well(2),)),
}
# complex inputs or outputs: ndgrad.autograd.gradcheck perturbs real parts only, so these go
# through a directional difference (like torch's fast mode) instead
FD_COMPLEX = {
    "det": (CASES["det"][0], (well(2, c=True),)),
    "solve": (CASES["solve"][0], (well(2, c=True), r(2, 2, c=True))),
    "cholesky": (_sym(CASES["cholesky"][0]), (spd(2, c=True),)),
    "eigh": (_sym(_eigh), (herm(2, c=True),)),
    "svd": (_svd, (r(3, 2, c=True),)),
    "qr": (CASES["qr"][0], (r(3, 2, c=True),)),
    "matrix_exp": (CASES["matrix_exp"][0], (r(2, 2, c=True),)),
    "rfft": (CASES["rfft_odd"][0], (r(2, 3),)),
    "hfft": (CASES["hfft_ortho"][0], (r(3, c=True),)),
    "ihfft2": (lambda T, a: T.fft.ihfft2(a, s=(2, 3)), (r(2, 3),)),
    "irfftn": (CASES["irfftn_forward"][0], (r(2, 3, c=True),)),
    "fft2": (CASES["fft2"][0], (r(2, 3),)),
}


@pytest.mark.parametrize("name", list(FD_CASES))
def test_gradgradcheck(name):
    fn, arrays = FD_CASES[name]
    xs = tuple(ndgrad.tensor(a).requires_grad_() for a in arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ndgrad.autograd.gradgradcheck(lambda *t: fn(ndgrad, *t), xs, atol=1e-5,
                                             rtol=1e-4)


def _first_order(fn, xs, vs):
    """First-order gradients of ``fn`` at ``xs`` for the cotangents ``vs`` (create_graph=False)."""
    leaves = [x.detach().requires_grad_() for x in xs]
    outs = [o for o in _as_tuple(fn(ndgrad, *leaves)) if o.requires_grad]
    return ndgrad.autograd.grad(outs, leaves, list(vs), allow_unused=True)


def _as_tuple(out):
    return out if isinstance(out, (tuple, list)) else (out,)


@pytest.mark.parametrize("name", list(FD_COMPLEX))
def test_second_derivative_directional_difference(name):
    """d/dt of sum Re(conj(u) grad(x + t dx, v + t dv)) at 0 by central differences equals
    Re<h, dx> + Re<k, dv> for the analytical (h, k) = gradient of that sum at t = 0."""
    fn, arrays = FD_COMPLEX[name]
    rng = np.random.default_rng(2)
    xs = [ndgrad.tensor(a).requires_grad_() for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = [o for o in _as_tuple(fn(ndgrad, *xs)) if o.requires_grad]
        vs = [_random(ndgrad, rng, tuple(o.shape), o.is_complex()).requires_grad_() for o in outs]
        us = [_random(ndgrad, rng, tuple(x.shape), x.is_complex()) for x in xs]
        dxs = [_random(ndgrad, rng, tuple(x.shape), x.is_complex()) for x in xs]
        dvs = [_random(ndgrad, rng, tuple(v.shape), v.is_complex()) for v in vs]
        gs = ndgrad.autograd.grad(outs, xs, vs, create_graph=True)
        total = sum((g * u.conj()).sum().real for g, u in zip(gs, us))
        hs = ndgrad.autograd.grad(total, xs + vs, allow_unused=True)

        def at(t):
            g = _first_order(fn, [x + t * d for x, d in zip(xs, dxs)],
                             [v + t * d for v, d in zip(vs, dvs)])
            return sum(float((gi * u.conj()).sum().real) for gi, u in zip(g, us))

    eps = 1e-6
    numerical = (at(eps) - at(-eps)) / (2 * eps)
    analytical = sum(float(np.real(np.vdot(np.asarray(h), np.asarray(d))))
                     for h, d in zip(hs, dxs + dvs) if h is not None)
    assert abs(numerical - analytical) <= 1e-5 + 1e-4 * abs(analytical), (numerical, analytical)


def test_torch_cannot_double_differentiate_these():
    """The fd cases above that torch refuses; if torch learns them, move them to CASES."""
    a = torch.tensor(well(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(torch.linalg.cond(a, 1), a, create_graph=True)

@pytest.mark.parametrize("p", [0, 1, 2, 3, float("inf")])
def test_cdist_refuses_double_backward_as_torch(p):
    """cdist's backward kernel (_cdist_backward: every p, p = 2 without the matmul path) has no
    derivative in torch; ndgrad raises the same error."""
    for T in (torch, ndgrad):
        x, y = (T.tensor(r(2, 3), requires_grad=True) for _ in range(2))
        (g,) = T.autograd.grad(T.cdist(x, y, p=p).sum(), x, create_graph=True)
        with pytest.raises(NotImplementedError, match="'_cdist_backward' is not implemented"):
            T.autograd.grad(g.sum(), x)


# --- the functions added with these tests, against torch ------------------------------------------
@pytest.mark.parametrize("name", [n for n in CASES if n.split("_")[0] in (
    "rfftn", "rfft2", "irfftn", "irfft2", "hfft", "hfftn", "hfft2", "ihfft", "ihfftn", "ihfft2",
    "fftshift", "ifftshift", "chain", "multi")])
def test_forward_matches_torch(name):
    """Values, dtype, shape and grad_fn name."""
    fn, arrays = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = fn(ndgrad, *(ndgrad.tensor(a).requires_grad_() for a in arrays))
        want = fn(torch, *(torch.tensor(a).requires_grad_() for a in arrays))
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    assert tuple(got.shape) == tuple(want.shape)
    assert got.grad_fn.name() == want.grad_fn.name()
    np.testing.assert_allclose(np.asarray(got.detach()), _numpy(want), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda T: T.fft.rfftn(T.zeros(2, 3, dtype=T.complex64)),
    lambda T: T.fft.ihfft(T.zeros(4, dtype=T.complex64)),
    lambda T: T.fft.ihfftn(T.zeros(2, 4, dtype=T.complex64)),
    lambda T: T.fft.irfftn(T.zeros(2, 3, dtype=T.complex64), s=(2, 0)),
    lambda T: T.fft.hfft(T.zeros(1, dtype=T.complex64)),
    lambda T: T.fft.rfftn(T.zeros(())),
    lambda T: T.fft.hfftn(T.zeros(())),
    lambda T: T.fft.hfft(T.zeros(())),
    lambda T: T.fft.fftshift(T.zeros(())),
    lambda T: T.chain_matmul(),
    lambda T: T.chain_matmul(T.zeros(2, 3), T.zeros(3)),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(ndgrad)
    assert str(got.value) == str(want.value)


def test_chain_matmul_single_and_dtypes():
    from ndgrad._ops.linalg import _common

    _common._WARNED.difference_update([m for m in _common._WARNED if "chain_matmul" in m])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = ndgrad.ones(2, 3, requires_grad=True)
        one = ndgrad.chain_matmul(a)
    assert one.grad_fn.name() == "CloneBackward0" and one is not a
    assert any("torch.chain_matmul is deprecated" in str(w.message) for w in caught)
    x = ndgrad.arange(4)
    assert ndgrad.fft.hfft(x).dtype is ndgrad.float32
    assert ndgrad.fft.ihfft(x).dtype is ndgrad.complex64
    assert ndgrad.fft.fftshift(x).tolist() == torch.fft.fftshift(torch.arange(4)).tolist()
