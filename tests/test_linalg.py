"""Linear algebra behaviour beyond the op table, against torch: error types and messages, named
tuples, grad_fn names, views, the complex gauge checks, second derivatives, fft helpers."""

import numpy as np
import pytest
import torch
from autograd_compare import same
from hypothesis import given, settings
from hypothesis import strategies as st

import ndgrad

RNG = np.random.default_rng(0)
A33 = RNG.standard_normal((3, 3))
A34 = RNG.standard_normal((3, 4))
B233 = RNG.standard_normal((2, 3, 3))
SING = np.array([[1.0, 2.0], [2.0, 4.0]])
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])


def t(lib, a, dtype=None, grad=False):
    x = lib.tensor(a, dtype=dtype or lib.float32)
    return x.requires_grad_() if grad else x


def f32(lib, *shape):
    return lib.ones(*shape)


ERRORS = {
    "inv_singular": lambda L: L.linalg.inv(t(L, SING)),
    "inv_zeros": lambda L: L.linalg.inv(L.zeros(2, 2)),
    "inv_batch_singular": lambda L: L.linalg.inv(L.stack([L.eye(2), t(L, SING)])),
    "inverse_singular": lambda L: L.inverse(t(L, SING)),
    "inv_ex_check": lambda L: L.linalg.inv_ex(t(L, SING), check_errors=True),
    "inv_int": lambda L: L.linalg.inv(L.eye(2, dtype=L.long)),
    "inv_half": lambda L: L.linalg.inv(L.eye(2).half()),
    "inv_1d": lambda L: L.linalg.inv(f32(L, 3)),
    "inv_rect": lambda L: L.linalg.inv(f32(L, 2, 3)),
    "det_int": lambda L: L.linalg.det(L.eye(2, dtype=L.long)),
    "det_half": lambda L: L.linalg.det(L.eye(2).half()),
    "det_rect": lambda L: L.det(f32(L, 2, 3)),
    "slogdet_half": lambda L: L.linalg.slogdet(L.eye(2).half()),
    "cholesky_not_pd": lambda L: L.linalg.cholesky(t(L, NOT_PD)),
    "cholesky_batch": lambda L: L.linalg.cholesky(L.stack([L.eye(2), t(L, NOT_PD)])),
    "cholesky_minor3": lambda L: L.linalg.cholesky(L.diag(L.tensor([1.0, 1.0, -1.0]))),
    "cholesky_ex_check": lambda L: L.linalg.cholesky_ex(t(L, NOT_PD), check_errors=True),
    "cholesky_int": lambda L: L.linalg.cholesky(L.eye(2, dtype=L.long)),
    "cholesky_half": lambda L: L.linalg.cholesky(L.eye(2).half()),
    "solve_singular": lambda L: L.linalg.solve(t(L, SING), L.ones(2)),
    "solve_batch_singular": lambda L: L.linalg.solve(L.stack([L.eye(2), t(L, SING)]), L.ones(2)),
    "solve_shape": lambda L: L.linalg.solve(L.eye(2), L.ones(3)),
    "solve_shape_matrix": lambda L: L.linalg.solve(L.eye(2), L.ones(3, 2)),
    "solve_dtype": lambda L: L.linalg.solve(L.eye(2), L.ones(2, dtype=L.float64)),
    "solve_batch": lambda L: L.linalg.solve(L.eye(2).expand(3, 2, 2), L.ones(4, 2, 1)),
    "solve_triangular_vector": lambda L: L.linalg.solve_triangular(L.eye(2), L.ones(2),
                                                                   upper=True),
    "matmul_dtype": lambda L: f32(L, 2, 2) @ L.ones(2, 2, dtype=L.float64),
    "matmul_shapes": lambda L: f32(L, 3, 5) @ f32(L, 4, 4),
    "matmul_0d": lambda L: L.matmul(L.tensor(1.0), f32(L, 2)),
    "matmul_3d_2d": lambda L: f32(L, 2, 3, 4) @ f32(L, 5, 5),
    "matmul_1d_3d": lambda L: f32(L, 3) @ f32(L, 2, 4, 5),
    "matmul_3d_1d": lambda L: f32(L, 2, 3, 4) @ f32(L, 5),
    "matmul_batch": lambda L: f32(L, 2, 3, 4) @ f32(L, 3, 4, 5),
    "matmul_bool": lambda L: L.ones(2, 2, dtype=L.bool) @ L.ones(2, 2, dtype=L.bool),
    "mv_dtype": lambda L: f32(L, 2, 2) @ L.ones(2, dtype=L.float64),
    "bmm_sizes": lambda L: L.bmm(f32(L, 2, 3, 4), f32(L, 3, 4, 5)),
    "bmm_2d": lambda L: L.bmm(f32(L, 3, 4), f32(L, 4, 5)),
    "bmm_dtype": lambda L: f32(L, 2, 2, 2) @ L.ones(2, 2, 2, dtype=L.float64),
    "mm_3d": lambda L: L.mm(f32(L, 2, 2, 3), f32(L, 3, 2)),
    "mm_shapes": lambda L: L.mm(f32(L, 2, 3), f32(L, 4, 2)),
    "mv_shapes": lambda L: L.mv(f32(L, 2, 3), f32(L, 4)),
    "dot_sizes": lambda L: L.dot(f32(L, 3), f32(L, 4)),
    "dot_dtype": lambda L: L.dot(f32(L, 3), L.ones(3, dtype=L.float64)),
    "dot_2d": lambda L: L.dot(f32(L, 3, 1), f32(L, 3)),
    "vdot_2d": lambda L: L.vdot(f32(L, 3, 1), f32(L, 3)),
    "outer_2d": lambda L: L.outer(f32(L, 3, 1), f32(L, 3)),
    "inner_shapes": lambda L: L.inner(f32(L, 2, 3), f32(L, 4)),
    "inner_dtype": lambda L: L.inner(f32(L, 3), L.ones(3, dtype=L.float64)),
    "tensordot_sizes": lambda L: L.tensordot(f32(L, 2, 3), f32(L, 4, 5), 1),
    "tensordot_dtype": lambda L: L.tensordot(f32(L, 2, 3), L.ones(3, 5, dtype=L.float64), 1),
    "tensordot_negative": lambda L: L.tensordot(f32(L, 2, 3), f32(L, 3, 5), -1),
    "addmm_1d": lambda L: L.addmm(f32(L, 2, 2), f32(L, 2), f32(L, 2, 2)),
    "addmm_shapes": lambda L: L.addmm(f32(L, 2, 2), f32(L, 2, 3), f32(L, 2, 2)),
    "addmm_dtype": lambda L: L.addmm(f32(L, 2, 2), f32(L, 2, 2), L.ones(2, 2, dtype=L.float64)),
    "addmm_input": lambda L: L.addmm(f32(L, 2), f32(L, 2, 4), f32(L, 4, 3)),
    "addmv_dims": lambda L: L.addmv(f32(L, 2), f32(L, 2, 2), f32(L, 2, 1)),
    "addmv_shapes": lambda L: L.addmv(f32(L, 2), f32(L, 2, 3), f32(L, 2)),
    "addmv_dtype": lambda L: L.addmv(L.ones(2, dtype=L.float64), f32(L, 2, 2), f32(L, 2)),
    "baddbmm_sizes": lambda L: L.baddbmm(f32(L, 2, 2), f32(L, 2, 2, 3), f32(L, 3, 3, 2)),
    "baddbmm_dtype": lambda L: L.baddbmm(L.ones(2, 2, dtype=L.float64), f32(L, 2, 2, 3),
                                         f32(L, 2, 3, 2)),
    "baddbmm_input": lambda L: L.baddbmm(f32(L, 3), f32(L, 2, 2, 4), f32(L, 2, 4, 2)),
    "addbmm_sizes": lambda L: L.addbmm(f32(L, 2, 2), f32(L, 2, 2, 3), f32(L, 2, 2, 2)),
    "addbmm_input": lambda L: L.addbmm(f32(L, 3, 2), f32(L, 2, 2, 3), f32(L, 2, 3, 2)),
    "svd_int": lambda L: L.linalg.svd(L.ones(2, 2, dtype=L.long)),
    "svd_half": lambda L: L.linalg.svd(L.ones(2, 2).half()),
    "svd_1d": lambda L: L.linalg.svd(f32(L, 2)),
    "svdvals_half": lambda L: L.linalg.svdvals(L.ones(2, 2).half()),
    "eigvals_int": lambda L: L.linalg.eigvals(L.eye(2, dtype=L.long)),
    "eig_half": lambda L: L.linalg.eig(L.eye(2).half()),
    "eigh_rect": lambda L: L.linalg.eigh(f32(L, 2, 3)),
    "eigh_uplo": lambda L: L.linalg.eigh(L.eye(2), UPLO="X"),
    "eigvalsh_half": lambda L: L.linalg.eigvalsh(L.eye(2).half()),
    "qr_mode": lambda L: L.linalg.qr(L.eye(2), mode="foo"),
    "qr_half": lambda L: L.linalg.qr(L.eye(2).half()),
    "matrix_power_float_n": lambda L: L.linalg.matrix_power(L.eye(2), 1.5),
    "matrix_power_rect": lambda L: L.linalg.matrix_power(f32(L, 2, 3), 2),
    "matrix_power_int_negative": lambda L: L.linalg.matrix_power(L.eye(2, dtype=L.long), -1),
    "matrix_exp_int": lambda L: L.linalg.matrix_exp(L.eye(2, dtype=L.long)),
    "cross_length": lambda L: L.linalg.cross(f32(L, 3, 2), f32(L, 3, 2)),
    "cross_ndim": lambda L: L.linalg.cross(f32(L, 4, 3), f32(L, 3)),
    "cross_dtype": lambda L: L.linalg.cross(f32(L, 3), L.ones(3, dtype=L.float64)),
    "cross_broadcast": lambda L: L.linalg.cross(f32(L, 2, 3), f32(L, 4, 3)),
    "multi_dot_one": lambda L: L.linalg.multi_dot([f32(L, 2, 2)]),
    "multi_dot_empty": lambda L: L.linalg.multi_dot([]),
    "multi_dot_shapes": lambda L: L.linalg.multi_dot([f32(L, 2, 2), f32(L, 3, 3)]),
    "multi_dot_first_3d": lambda L: L.linalg.multi_dot([f32(L, 2, 2, 2), f32(L, 2, 3)]),
    "multi_dot_last_3d": lambda L: L.linalg.multi_dot([f32(L, 2, 2), f32(L, 2, 2, 2)]),
    "multi_dot_middle_1d": lambda L: L.linalg.multi_dot([f32(L, 2, 2), f32(L, 2), f32(L, 2, 2)]),
    "multi_dot_dtype": lambda L: L.linalg.multi_dot([f32(L, 2, 2), L.ones(2, 2,
                                                                          dtype=L.float64)]),
    "vecdot_dtype": lambda L: L.linalg.vecdot(f32(L, 3), L.ones(3, dtype=L.float64)),
    "vecdot_int": lambda L: L.linalg.vecdot(L.ones(3, dtype=L.long), L.ones(3, dtype=L.long)),
    "vector_norm_int": lambda L: L.linalg.vector_norm(L.ones(2, dtype=L.long)),
    "vector_norm_empty_inf": lambda L: L.linalg.vector_norm(f32(L, 0), float("inf")),
    "vector_norm_empty_ninf": lambda L: L.linalg.vector_norm(f32(L, 0), -float("inf")),
    "vector_norm_narrowing": lambda L: L.linalg.vector_norm(L.ones(3, dtype=L.float64),
                                                            dtype=L.float32),
    "vector_norm_str": lambda L: L.linalg.vector_norm(f32(L, 3), "fro"),
    "matrix_norm_order": lambda L: L.linalg.matrix_norm(f32(L, 3, 3), 3),
    "matrix_norm_1d": lambda L: L.linalg.matrix_norm(f32(L, 3)),
    "matrix_norm_int": lambda L: L.linalg.matrix_norm(L.ones(3, 3, dtype=L.long)),
    "matrix_norm_dims": lambda L: L.linalg.matrix_norm(f32(L, 3, 3), dim=(0, 0)),
    "norm_3d_ord": lambda L: L.linalg.norm(f32(L, 3, 3, 3), 2),
    "norm_fro_1d": lambda L: L.linalg.norm(f32(L, 3), "fro"),
    "norm_int": lambda L: L.linalg.norm(L.ones(3, dtype=L.long)),
    "norm_3_dims": lambda L: L.linalg.norm(f32(L, 3, 3, 3), dim=(0, 1, 2)),
    "matrix_rank_half": lambda L: L.linalg.matrix_rank(L.eye(2).half()),
    "pinv_half": lambda L: L.linalg.pinv(L.eye(2).half()),
    "lstsq_vector": lambda L: L.linalg.lstsq(f32(L, 3, 2), f32(L, 4)),
    "lstsq_matrix": lambda L: L.linalg.lstsq(f32(L, 3, 2), f32(L, 4, 2)),
    "lstsq_driver": lambda L: L.linalg.lstsq(f32(L, 2, 4), f32(L, 2, 1), driver="foo"),
    "lstsq_dtype": lambda L: L.linalg.lstsq(f32(L, 2, 2), L.ones(2, 2, dtype=L.float64)),
    "cond_rect": lambda L: L.linalg.cond(f32(L, 2, 3), 1),
    "lu_factor_singular": lambda L: L.linalg.lu_factor(t(L, SING)),
    "lu_factor_batch": lambda L: L.linalg.lu_factor(L.stack([L.eye(2), L.zeros(2, 2)])),
    "lu_no_pivot": lambda L: L.linalg.lu_factor(L.eye(2), pivot=False),
    "lu_half": lambda L: L.linalg.lu(L.eye(2).half()),
    "einsum_sizes": lambda L: L.einsum("ij,jk->ik", f32(L, 2, 3), f32(L, 4, 5)),
    "einsum_few": lambda L: L.einsum("ij,jk->ik", f32(L, 2, 3)),
    "einsum_many": lambda L: L.einsum("i", f32(L, 2), f32(L, 2)),
    "einsum_ndim": lambda L: L.einsum("ijk->i", f32(L, 2, 3)),
    "einsum_ellipsis_ndim": lambda L: L.einsum("ijk...", f32(L, 2, 3)),
    "einsum_char": lambda L: L.einsum("i1", f32(L, 2, 3)),
    "einsum_two_ellipses": lambda L: L.einsum("......", f32(L, 2, 3)),
    "einsum_arrows": lambda L: L.einsum("i->i->i", f32(L, 2)),
    "einsum_dtype": lambda L: L.einsum("i,i->", f32(L, 2), L.ones(2, dtype=L.float64)),
    "einsum_out_unknown": lambda L: L.einsum("ij->k", f32(L, 2, 3)),
    "einsum_out_repeated": lambda L: L.einsum("ij->ii", f32(L, 2, 3)),
    "einsum_diag_sizes": lambda L: L.einsum("ii->i", f32(L, 2, 3)),
    "einsum_sublist_range": lambda L: L.einsum(f32(L, 2, 3), [0, 60]),
    "einsum_nothing": lambda L: L.einsum("ij,jk"),
    "diagonal_dims": lambda L: L.diagonal(f32(L, 2, 3), dim1=1, dim2=1),
    "diag_embed_dims": lambda L: L.diag_embed(f32(L, 2, 3), dim1=1, dim2=1),
    "diag_3d": lambda L: L.diag(f32(L, 2, 3, 4)),
    "diag_0d": lambda L: L.diag(L.tensor(2.0)),
    "cov_3d": lambda L: L.cov(f32(L, 2, 2, 2)),
    "corrcoef_3d": lambda L: L.corrcoef(f32(L, 2, 2, 2)),
    "cdist_1d": lambda L: L.cdist(f32(L, 3), f32(L, 3)),
    "cdist_columns": lambda L: L.cdist(f32(L, 3, 2), f32(L, 3, 3)),
    "cdist_int": lambda L: L.cdist(L.ones(3, 2, dtype=L.long), L.ones(3, 2, dtype=L.long)),
    "cdist_negative_p": lambda L: L.cdist(f32(L, 3, 2), f32(L, 3, 2), p=-1),
    "cdist_half": lambda L: L.cdist(f32(L, 3, 2).half(), f32(L, 3, 2).half()),
    "cdist_dtype": lambda L: L.cdist(f32(L, 3, 2), L.ones(3, 2, dtype=L.float64)),
    "trapezoid_x_size": lambda L: L.trapezoid(f32(L, 2, 3), L.tensor([0.0, 1.0])),
    "cov_fweights_float": lambda L: L.cov(f32(L, 2, 3), fweights=f32(L, 3)),
    "cov_fweights_negative": lambda L: L.cov(f32(L, 2, 3), fweights=L.tensor([1, -1, 1])),
    "cov_aweights_int": lambda L: L.cov(f32(L, 2, 3), aweights=L.tensor([1, 1, 1])),
    "cov_weights_zero": lambda L: L.cov(f32(L, 2, 3), fweights=L.tensor([0, 0, 0])),
    "cov_weights_numel": lambda L: L.cov(f32(L, 2, 3), fweights=L.tensor([1, 1])),
    "cov_bool": lambda L: L.cov(L.ones(2, 3, dtype=L.bool)),
    "lstsq_dims": lambda L: L.linalg.lstsq(f32(L, 3, 2), f32(L, 2, 3, 2)),
    "fft_norm": lambda L: L.fft.fft(f32(L, 3), norm="foo"),
    "fft_n0": lambda L: L.fft.fft(f32(L, 3), n=0),
    "fft_empty": lambda L: L.fft.fft(f32(L, 0)),
    "fft_bf16": lambda L: L.fft.fft(f32(L, 3).bfloat16()),
    "fft_half": lambda L: L.fft.fft(f32(L, 3).half()),
    "fft_0d": lambda L: L.fft.fft(L.tensor(1.0)),
    "fft_dim": lambda L: L.fft.fft(f32(L, 3), dim=1),
    "rfft_complex": lambda L: L.fft.rfft(L.ones(3, dtype=L.complex64)),
    "fft2_1d": lambda L: L.fft.fft2(f32(L, 3)),
    "fft2_s_dim": lambda L: L.fft.fft2(f32(L, 3, 3), s=(4, 2, 1)),
    "fftn_repeated_dim": lambda L: L.fft.fftn(f32(L, 3, 3, 3), dim=(0, 0)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as want:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(ndgrad)
    w, g = want.value, got.value
    if isinstance(w, torch.linalg.LinAlgError):
        assert isinstance(g, ndgrad.linalg.LinAlgError)
    else:
        assert type(g).__name__ == type(w).__name__, f"{g!r} is not a {type(w)}"
    assert str(g).replace("ndgrad", "torch") == str(w), f"\nndgrad: {g}\ntorch:  {w}"


def test_linalg_error_is_a_runtime_error():
    assert issubclass(ndgrad.linalg.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError, match="the inversion could not be completed"):
        ndgrad.inverse(ndgrad.zeros(2, 2))


# --- named tuples and metadata --------------------------------------------------------------------
TUPLES = {
    "linalg_svd": lambda L, x: L.linalg.svd(x),
    "svd": lambda L, x: L.svd(x),
    "linalg_slogdet": lambda L, x: L.linalg.slogdet(x),
    "slogdet": lambda L, x: L.slogdet(x),
    "linalg_eigh": lambda L, x: L.linalg.eigh(x + x.mT),
    "linalg_eig": lambda L, x: L.linalg.eig(x),
    "linalg_qr": lambda L, x: L.linalg.qr(x),
    "qr": lambda L, x: L.qr(x),
    "linalg_inv_ex": lambda L, x: L.linalg.inv_ex(x),
    "linalg_cholesky_ex": lambda L, x: L.linalg.cholesky_ex(x @ x.mT),
    "linalg_solve_ex": lambda L, x: L.linalg.solve_ex(x, x),
    "linalg_lstsq": lambda L, x: L.linalg.lstsq(x, x),
    "linalg_lu_factor": lambda L, x: L.linalg.lu_factor(x),
    "linalg_lu_factor_ex": lambda L, x: L.linalg.lu_factor_ex(x),
    "linalg_lu": lambda L, x: L.linalg.lu(x),
}


@pytest.mark.parametrize("name", list(TUPLES))
def test_named_tuples(name):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = TUPLES[name](torch, torch.tensor(A33))
        got = TUPLES[name](ndgrad, ndgrad.tensor(A33))
    assert type(got).__name__ == type(want).__name__ == name
    assert got._fields == type(want)._fields if hasattr(type(want), "_fields") else True
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape) and str(g.dtype)[7:] == str(w.dtype)[6:]
    assert repr(got).startswith(f"ndgrad.return_types.{name}(\n")
    field = repr(want).split("\n")[1].split("=")[0]
    assert getattr(got, field) is got[0]


GRAD_FNS = {
    "mm": lambda L, a: a @ a, "mv": lambda L, a: a @ a[0], "vm": lambda L, a: a[0] @ a,
    "dot": lambda L, a: a[0] @ a[1], "bmm": lambda L, a: L.bmm(a[None], a[None]),
    "batched": lambda L, a: a[None] @ a, "vdot": lambda L, a: L.vdot(a[0], a[1]),
    "outer": lambda L, a: L.outer(a[0], a[1]), "addmm": lambda L, a: L.addmm(a, a, a),
    "addmv": lambda L, a: L.addmv(a[0], a, a[1]), "baddbmm": lambda L, a: L.baddbmm(a, a[None],
                                                                                     a[None]),
    "addbmm": lambda L, a: L.addbmm(a, a[None], a[None]), "cross": lambda L, a: L.cross(a, a,
                                                                                       dim=0),
    "inv": lambda L, a: L.linalg.inv(a), "inverse": lambda L, a: a.inverse(),
    "det": lambda L, a: L.det(a), "svdvals": lambda L, a: L.linalg.svdvals(a),
    "eigvals": lambda L, a: L.linalg.eigvals(a), "eigvalsh": lambda L, a: L.linalg.eigvalsh(a),
    "cholesky": lambda L, a: L.linalg.cholesky(a @ a.mT), "pinv": lambda L, a: L.linalg.pinv(a),
    "solve": lambda L, a: L.linalg.solve(a, a[0]), "matrix_exp": lambda L, a: a.matrix_exp(),
    "solve_triangular": lambda L, a: L.linalg.solve_triangular(a, a, upper=True),
    "logdet": lambda L, a: L.logdet(a @ a.mT), "matrix_power_1": lambda L, a: a.matrix_power(1),
    "matrix_power_3": lambda L, a: a.matrix_power(3), "norm": lambda L, a: L.linalg.norm(a),
    "norm_2": lambda L, a: L.linalg.norm(a, 2), "norm_nuc": lambda L, a: L.linalg.norm(a, "nuc"),
    "norm_inf": lambda L, a: L.linalg.norm(a, float("inf")),
    "vector_norm_inf": lambda L, a: L.linalg.vector_norm(a, float("inf")),
    "matrix_norm_-2": lambda L, a: L.linalg.matrix_norm(a, -2),
    "diag": lambda L, a: L.diag(a[0]), "diag_2d": lambda L, a: L.diag(a),
    "diagonal": lambda L, a: a.diagonal(), "diag_embed": lambda L, a: L.diag_embed(a),
    "einsum_2": lambda L, a: L.einsum("ij,jk", a, a), "einsum_sum": lambda L, a: L.einsum("ij->",
                                                                                          a),
    "einsum_transpose": lambda L, a: L.einsum("ij->ji", a), "cdist": lambda L, a: L.cdist(a, a),
    "fft": lambda L, a: L.fft.fft(a), "rfft": lambda L, a: L.fft.rfft(a),
    "irfft": lambda L, a: L.fft.irfft(a), "ifft": lambda L, a: L.fft.ifft(a),
    "fft_complex": lambda L, a: L.fft.fft(L.fft.fft(a)), "lstsq": lambda L, a: L.linalg.lstsq(
        a, a).solution, "lu_factor": lambda L, a: L.linalg.lu_factor(a).LU,
    "qr": lambda L, a: L.linalg.qr(a).R, "slogdet": lambda L, a: L.linalg.slogdet(a).logabsdet,
}


@pytest.mark.parametrize("name", list(GRAD_FNS))
def test_grad_fn_names(name):
    same(lambda L: GRAD_FNS[name](L, L.tensor(A33, requires_grad=True)).grad_fn.name())


def test_eigvals_of_float32_is_complex64_and_usable_as_in_the_notebook():
    x = RNG.standard_normal((10, 10)).astype(np.float32)
    a = x @ x.T
    got = max(ndgrad.linalg.eigvals(ndgrad.tensor(a)).real)
    want = max(torch.linalg.eigvals(torch.tensor(a)).real)
    assert ndgrad.linalg.eigvals(ndgrad.tensor(a)).dtype is ndgrad.complex64
    assert abs(got.item() - want.item()) < 1e-3 and repr(got).startswith("tensor(")


def test_notebook_svd_is_full_and_returns_vh():
    u, s, vh = ndgrad.linalg.svd(ndgrad.tensor(A34, dtype=ndgrad.float32))
    assert (u.shape, s.shape, vh.shape) == ((3, 3), (3,), (4, 4))
    rec = u @ ndgrad.diag(s) @ vh[:3]
    np.testing.assert_allclose(rec.numpy(), A34, atol=1e-5)


# --- views and in-place ---------------------------------------------------------------------------
def test_diagonal_is_a_view_that_writes_through():
    def fn(L):
        x = L.zeros(3, 4)
        d = x.diagonal(1)
        d.fill_(2.0)
        return x, d._version, x._version

    same(fn)


def test_inplace_on_diagonal_view_backpropagates_like_torch():
    def fn(L):
        a = L.tensor(A33, requires_grad=True)
        b = a * 1
        b.diagonal().mul_(3)
        (g,) = L.autograd.grad((b * b).sum(), a)
        return b, g

    same(fn)


def test_diag_of_matrix_is_a_copy():
    def fn(L):
        x = L.ones(2, 2)
        d = L.diag(x)
        d[0] = 5
        return x

    same(fn)


def test_inplace_add_products_like_torch():
    def fn(L):
        c = L.tensor(A33, requires_grad=True)
        x = c * 1
        x.addmm_(c, c, beta=0.5).unsqueeze(0).baddbmm_(c[None], c[None])
        x[0].addmv_(c, c[1], alpha=2)
        return x, L.autograd.grad(x.sum(), c)

    same(fn, rtol=1e-5, atol=1e-5)


# --- gauge checks and gradient corner cases -------------------------------------------------------
def _complex(lib):
    z = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    return lib.tensor(z, requires_grad=True)


@pytest.mark.parametrize("which", ["svd", "eigh", "eig"])
def test_phase_dependent_losses_raise_like_torch(which):
    z = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))

    def fn(L):
        x = L.tensor(z, requires_grad=True)
        if which == "svd":
            v = L.linalg.svd(x).U
        elif which == "eigh":
            v = L.linalg.eigh(x + x.mH).eigenvectors
        else:
            v = L.linalg.eig(x).eigenvectors
        v.real.sum().backward()

    same(fn)


def test_phase_invariant_complex_svd_loss_matches_torch():
    z = RNG.standard_normal((4, 3)) + 1j * RNG.standard_normal((4, 3))

    def fn(L):
        x = L.tensor(z, requires_grad=True)
        u, s, vh = L.linalg.svd(x, full_matrices=False)
        loss = (u @ vh).abs().sum() + s.sum() + (u * u.conj()).real[0].sum()
        return L.autograd.grad(loss, x)

    same(fn, rtol=1e-8, atol=1e-8)


def test_svd_full_matrices_gradient_narrows_like_torch():
    def fn(L):
        x = L.tensor(A34, requires_grad=True)
        u, s, vh = L.linalg.svd(x)
        return L.autograd.grad(s.sum() + (u[:, :1] * vh[:1].sum()).sum() * 0, x)

    same(fn, rtol=1e-8, atol=1e-8)


def test_det_gradient_at_a_singular_matrix_is_the_adjugate():
    # torch's first-order path returns 0 here (det == 0 scales its LU solve); with create_graph
    # it switches to the SVD formula for the adjugate, which ndgrad uses for both
    def fn(L):
        x = L.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]], dtype=L.float64,
                     requires_grad=True)
        return L.autograd.grad(L.linalg.det(x), x, create_graph=True)[0].detach()

    g = same(fn, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(g.numpy(), [[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]],
                               atol=1e-12)


def test_qr_backward_errors_like_torch():
    same(lambda L: L.linalg.qr(L.tensor(A34.T, requires_grad=True), mode="complete").Q.sum()
         .backward())
    same(lambda L: L.linalg.qr(L.tensor(A34, requires_grad=True), mode="r").R.sum().backward())


def _eigh_loss(w, v):
    return (v * v) * w  # sign-invariant


def _eig_loss(w, v):
    return (v * v.conj()).real * w.real  # phase-invariant


def _svd_loss(u, s, vh):
    return (u * s) @ vh + (u * u) * s


SECOND = {
    "matmul": lambda L, x: (x @ x @ x).sin(),
    "inv": lambda L, x: L.linalg.inv(x + 4 * L.eye(3, dtype=x.dtype)),
    "det": lambda L, x: L.linalg.det(x),
    "slogdet": lambda L, x: L.linalg.slogdet(x + 4 * L.eye(3, dtype=x.dtype)).logabsdet,
    "solve": lambda L, x: L.linalg.solve(x + 4 * L.eye(3, dtype=x.dtype), x[0]),
    "cholesky": lambda L, x: L.linalg.cholesky(x @ x.mT + L.eye(3, dtype=x.dtype)),
    "eigvalsh": lambda L, x: L.linalg.eigvalsh(x + x.mT),
    "svdvals": lambda L, x: L.linalg.svdvals(x),
    "matrix_exp": lambda L, x: L.linalg.matrix_exp(x),
    "einsum": lambda L, x: L.einsum("ij,jk,ki->i", x, x, x),
    "einsum_trace": lambda L, x: L.einsum("ii", x * x),
    "vector_norm": lambda L, x: L.linalg.vector_norm(x, 3, dim=1),
    "cross": lambda L, x: L.linalg.cross(x, x.sin()),
    "fft": lambda L, x: L.fft.irfft(L.fft.rfft(x) * L.fft.rfft(x)),
    "diag_embed": lambda L, x: L.diag_embed(x.diagonal() ** 2),
    "pinv": lambda L, x: L.linalg.pinv(x),
    "qr": lambda L, x: L.linalg.qr(x)[0] + L.linalg.qr(x)[1],
    "eigh_vec": lambda L, x: _eigh_loss(*L.linalg.eigh(x + x.mT)),
    "eig": lambda L, x: _eig_loss(*L.linalg.eig(x)),
    "eigvals": lambda L, x: L.linalg.eigvals(x).real,
    "svd": lambda L, x: _svd_loss(*L.linalg.svd(x)),
    "lu": lambda L, x: L.linalg.lu(x)[1] + L.linalg.lu(x)[2],
    "lu_factor": lambda L, x: L.linalg.lu_factor(x)[0],
    "solve_triangular": lambda L, x: L.linalg.solve_triangular(x + 4 * L.eye(3, dtype=x.dtype),
                                                                x.sin(), upper=True),
    "lstsq": lambda L, x: L.linalg.lstsq(x, x.cos()).solution,
    "matrix_power": lambda L, x: L.linalg.matrix_power(x, -2),
    "multi_dot": lambda L, x: L.linalg.multi_dot([x, x.sin(), x.cos()]),
    "matrix_norm_nuc": lambda L, x: L.linalg.matrix_norm(x, "nuc"),
    "matrix_norm_2": lambda L, x: L.linalg.matrix_norm(x, 2),
    "vector_norm_inf": lambda L, x: L.linalg.vector_norm(x, float("inf"), dim=0),
    "vector_norm_half": lambda L, x: L.linalg.vector_norm(x, 0.5, dim=0),
    "cov": lambda L, x: L.cov(x),
    "corrcoef": lambda L, x: L.corrcoef(x),
    "kron": lambda L, x: L.kron(x, x.sin()),
    "tensordot": lambda L, x: L.tensordot(x, x.exp(), 1),
    "addmm": lambda L, x: L.addmm(x, x, x.sin(), beta=0.5, alpha=2),
    "trapezoid": lambda L, x: L.trapezoid(x.sin(), x),
    "fft2": lambda L, x: L.fft.ifft2(L.fft.fft2(x) ** 2).real,
    "logdet_spd": lambda L, x: L.logdet(x @ x.mT + L.eye(3, dtype=x.dtype)),
    "det_singular": lambda L, x: L.linalg.det(x[:, :1].expand(3, 3) * x),
}


@pytest.mark.parametrize("name", list(SECOND))
def test_second_derivatives_match_torch(name):
    def fn(L):
        x = L.tensor(A33, requires_grad=True)
        out = SECOND[name](L, x)
        v = L.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)), dtype=out.dtype)
        (g,) = L.autograd.grad(out, x, v, create_graph=True)
        (h,) = L.autograd.grad((g * g).sum(), x)
        if getattr(h, "_is_zerotensor", lambda: False)():  # torch's lazy zeros
            h = L.zeros_like(h)
        return g.detach(), h

    same(fn, rtol=1e-7, atol=1e-7)


# --- helpers and details --------------------------------------------------------------------------
def test_fftfreq_and_rfftfreq_match_torch():
    same(lambda L: [L.fft.fftfreq(n, d) for n in (1, 4, 5) for d in (1.0, 0.1)] +
         [L.fft.rfftfreq(n, 0.5) for n in (1, 4, 5)] +
         [L.fft.fftfreq(4, dtype=L.float64), L.fft.fftfreq(3, requires_grad=True)])


def test_half_precision_products_are_accurate():
    a = RNG.standard_normal((8, 64)).astype(np.float16)
    b = RNG.standard_normal((64, 8)).astype(np.float16)
    same(lambda L: [L.tensor(a) @ L.tensor(b), L.einsum("ij,jk", L.tensor(a), L.tensor(b))],
         rtol=2e-3, atol=2e-2)


def test_matrix_rank_and_infos_of_singular_batches():
    def fn(L):
        x = L.tensor(np.stack([np.eye(3), np.diag([1.0, 0.0, 2.0]), np.ones((3, 3))]))
        return [L.linalg.matrix_rank(x), L.linalg.matrix_rank(x, hermitian=True),
                L.linalg.inv_ex(x).info, L.linalg.lu_factor_ex(x).info,
                L.linalg.cholesky_ex(x).info, L.linalg.matrix_rank(x, atol=1.5),
                L.linalg.matrix_rank(x, rtol=0.4)]

    same(fn)


def test_cholesky_ex_partial_factor_like_lapack():
    same(lambda L: L.linalg.cholesky_ex(L.tensor(NOT_PD)))


def test_det_slogdet_logdet_of_singular_and_negative():
    same(lambda L: [L.linalg.det(L.tensor(SING)), L.linalg.slogdet(L.tensor(SING)).logabsdet,
                    L.logdet(L.tensor(SING)), L.logdet(-L.eye(3)),
                    L.linalg.slogdet(-L.eye(3)).sign])


def test_solve_triangular_with_zero_diagonal_gives_inf_like_torch():
    same(lambda L: L.linalg.solve_triangular(L.tensor([[0.0, 1.0], [0.0, 1.0]]), L.ones(2, 2),
                                             upper=True).isinf().any())


@pytest.mark.parametrize("call,start", [
    (lambda L: L.cholesky(L.eye(2)), "torch.cholesky is deprecated in favor of"),
    (lambda L: L.qr(L.eye(2)).R, "torch.qr is deprecated in favor of"),
    (lambda L: L.cross(L.eye(3), L.ones(3, 3)), "Using torch.cross without specifying the dim")])
def test_deprecated_names_warn_once_like_torch(call, start, monkeypatch):
    import warnings

    from ndgrad._ops.linalg import _common

    monkeypatch.setattr(_common, "_WARNED", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(ndgrad)
        call(ndgrad)
    assert len(caught) == 1 and str(caught[0].message).startswith(start)
    same(call, check_warnings=False)


def test_einsum_caches_its_contraction_path():
    from ndgrad._ops.linalg.einsum import _contraction_path

    x = ndgrad.ones(3, 4)
    ndgrad.einsum("ij,jk,kl->il", x, x.mT, x)
    before = _contraction_path.cache_info()
    ndgrad.einsum("ij,jk,kl->il", x, x.mT, x)
    after = _contraction_path.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(0, 2),
       st.integers(0, 2), st.booleans(), st.booleans())
def test_matmul_broadcasting_matches_torch(batch, drop_a, drop_b, vec_a, vec_b):
    rng = np.random.default_rng(len(batch) * 7 + drop_a)
    sa = batch[drop_a:] + [2, 3]
    sb = [1 if i == 0 else b for i, b in enumerate(batch[drop_b:])] + [3, 4]
    a = rng.standard_normal([3] if vec_a else sa)
    b = rng.standard_normal([3] if vec_b else sb)

    def fn(L):
        x, y = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
        out = x @ y
        return out.detach(), L.autograd.grad(out.sum(), (x, y))

    same(fn, rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from("abcd"), min_size=1, max_size=3),
       st.lists(st.sampled_from("abcd"), min_size=1, max_size=3), st.booleans())
def test_einsum_random_equations_match_torch(s1, s2, implicit):
    sizes = {"a": 2, "b": 3, "c": 1, "d": 4}
    out = sorted(set(s1) ^ set(s2))
    eq = f"{''.join(s1)},{''.join(s2)}" + ("" if implicit else "->" + "".join(out))
    rng = np.random.default_rng(len(eq))
    a = rng.standard_normal([sizes[c] for c in s1])
    b = rng.standard_normal([sizes[c] for c in s2])

    def fn(L):
        x, y = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
        r = L.einsum(eq, x, y)
        return r.detach(), L.autograd.grad((r * r).sum(), (x, y))

    same(fn, rtol=1e-10, atol=1e-10)


# --- edge cases: empty and batched shapes, dtypes, defaults ---------------------------------------
R3 = np.random.default_rng(0).standard_normal((2, 3, 3))
EDGES = {
 "svd_empty": lambda L: L.linalg.svd(L.ones(0, 3)),
 "svd_empty_red": lambda L: L.linalg.svd(L.ones(3, 0), full_matrices=False),
 "svd_empty_batch": lambda L: L.linalg.svd(L.ones(0, 2, 3)),
 "svdvals_empty": lambda L: L.linalg.svdvals(L.ones(0, 3)),
 "eigh_empty": lambda L: L.linalg.eigh(L.ones(0, 0)),
 "eigvalsh_empty": lambda L: L.linalg.eigvalsh(L.ones(2, 0, 0)),
 "qr_empty": lambda L: L.linalg.qr(L.ones(0, 3)),
 "chol_empty": lambda L: L.linalg.cholesky(L.ones(0, 0)),
 "det_empty_batch": lambda L: L.linalg.det(L.ones(0, 2, 2)),
 "slogdet_empty": lambda L: L.linalg.slogdet(L.ones(0, 0)),
 "mnorm_empty": lambda L: L.linalg.matrix_norm(L.ones(0, 3)),
 "mnorm2_empty": lambda L: L.linalg.matrix_norm(L.ones(2, 0, 3)),
 "pinv_empty": lambda L: L.linalg.pinv(L.ones(0, 3)),
 "mexp_empty": lambda L: L.linalg.matrix_exp(L.ones(0, 0)),
 "mpow_empty": lambda L: L.linalg.matrix_power(L.ones(0, 0), 3),
 "solve_empty": lambda L: L.linalg.solve(L.ones(0, 0), L.ones(0)),
 "eig_empty": lambda L: L.linalg.eig(L.ones(0, 0)),
 "lu_empty": lambda L: L.linalg.lu_factor(L.ones(0, 0)),
 "rank_empty": lambda L: L.linalg.matrix_rank(L.ones(0, 3)),
 "cond_2": lambda L: L.linalg.cond(L.eye(3) * 2),
 "vnorm_dim_empty": lambda L: L.linalg.vector_norm(L.ones(2, 0), dim=1),
 "vnorm_0d_dim": lambda L: L.linalg.vector_norm(L.tensor(3.0), dim=0),
 "vnorm_complex_dtype": lambda L: L.linalg.vector_norm(L.ones(3, dtype=L.complex64),
                                                      dtype=L.complex128),
 "norm_dtype": lambda L: L.linalg.norm(L.ones(3, 3), dtype=L.float64),
 "mnorm_dtype": lambda L: L.linalg.matrix_norm(L.ones(3, 3), "nuc", dtype=L.float64),
 "vector_norm_keepdim_none": lambda L: L.linalg.vector_norm(L.ones(2, 3), keepdim=True),
 "tnorm_fro_dim": lambda L: L.norm(L.ones(2, 3, 4), "fro", dim=(1, 2)),
 "tnorm_p3": lambda L: L.norm(L.ones(2, 3), 3),
 "tnorm_nuc": lambda L: L.norm(L.eye(3), "nuc"),
 "tensor_norm": lambda L: L.ones(2, 3).norm(dim=1),
 "mexp_1x1": lambda L: L.linalg.matrix_exp(L.tensor([[2.0]])),
 "mexp_big": lambda L: L.linalg.matrix_exp(L.tensor([[10.0, 20.0], [-30.0, 5.0]], dtype=L.float64)),
 "mexp_nilpotent": lambda L: L.linalg.matrix_exp(L.tensor([[0.0, 1.0], [0.0, 0.0]])),
 "einsum_bcast_ell": lambda L: L.einsum("...i,...i->...", L.ones(2, 1, 3), L.ones(4, 3)),
 "einsum_upper": lambda L: L.einsum("Ab,bC->AC", L.ones(2, 3), L.ones(3, 4)),
 "tensordot_0d": lambda L: L.tensordot(L.tensor(2.0), L.ones(3), 0),
 "kron_int": lambda L: L.kron(L.ones(2, dtype=L.long), L.ones(2)),
 "outer_promote": lambda L: L.outer(L.ones(2), L.ones(3, dtype=L.long)),
 "diag_int_offset": lambda L: L.diag(L.arange(3), -2),
 "diag_embed_0d": lambda L: L.diag_embed(L.tensor(2.0)),
 "cross_int": lambda L: L.linalg.cross(L.ones(3, dtype=L.long), L.arange(3)),
 "trapz_int_x": lambda L: L.trapezoid(L.tensor([1, 2, 3]), L.tensor([1, 2, 4])),
 "trapz_int": lambda L: L.trapezoid(L.tensor([1, 2, 3])),
 "trapz_dx_int": lambda L: L.trapezoid(L.tensor([1, 2, 3]), dx=2),
 "cov_int": lambda L: L.cov(L.tensor([[1, 2, 4], [1, 0, 1]])),
 "cov_w": lambda L: L.cov(L.tensor([[1.0, 2, 4], [1, 0, 1]]), fweights=L.tensor([1, 2, 1]),
                          aweights=L.tensor([0.5, 1, 2])),
 "cov_fw_float": lambda L: L.cov(L.ones(2, 3), fweights=L.ones(3)),
 "corrcoef_int": lambda L: L.corrcoef(L.tensor([[1, 2, 4], [1, 0, 1]])),
 "corrcoef_1d": lambda L: L.corrcoef(L.tensor([1.0, 2, 4])),
 "cdist_bcast": lambda L: L.cdist(L.ones(2, 1, 3, 2), L.ones(4, 5, 2)),
 "cdist_empty": lambda L: L.cdist(L.ones(0, 2), L.ones(3, 2)),
 "lstsq_wide_res": lambda L: L.linalg.lstsq(
     L.tensor(np.random.default_rng(0).standard_normal((2, 4))), L.ones(2, 1, dtype=L.float64),
     driver="gelsd"),
 "lstsq_batch_bcast": lambda L: L.linalg.lstsq(
     L.tensor(np.random.default_rng(0).standard_normal((4, 3))),
     L.ones(2, 4, 1, dtype=L.float64)).solution,
 "pinv_atol_tensor": lambda L: L.linalg.pinv(L.tensor(R3),
                                             atol=L.tensor([0.1, 2.0], dtype=L.float64)),
 "rank_atol_tensor": lambda L: L.linalg.matrix_rank(L.tensor(R3),
                                                    atol=L.tensor([0.1, 1.0], dtype=L.float64)),
 "inv_noncontig": lambda L: L.linalg.inv(
     L.tensor(np.random.default_rng(0).standard_normal((3, 3)) + 3 * np.eye(3)).mT),
 "fft_c_norm_ortho": lambda L: L.fft.ifft(L.ones(4, dtype=L.complex128), norm="ortho"),
 "rfft_n_odd": lambda L: L.fft.rfft(L.arange(5.0), n=7),
 "irfft_default": lambda L: L.fft.irfft(L.ones(1, dtype=L.complex64)),
 "fftn_default": lambda L: L.fft.fftn(L.ones(2, 3)),
 "fftn_s_only": lambda L: L.fft.fftn(L.ones(2, 3, 4), s=(3, 3)),
 "fftn_s_minus1": lambda L: L.fft.fftn(L.ones(2, 3, 4), s=(-1, 5)),
 "fftfreq_0": lambda L: L.fft.fftfreq(0),
 "matmul_int32": lambda L: L.ones(2, 2, dtype=L.int32) @ L.ones(2, 2, dtype=L.int32),
 "matmul_u8": lambda L: L.ones(2, 2, dtype=L.uint8) @ L.ones(2, 2, dtype=L.uint8),
 "dot_bool": lambda L: L.dot(L.ones(2, dtype=L.bool), L.ones(2, dtype=L.bool)),
 "addmm_int_float_alpha": lambda L: L.addmm(L.ones(2, 2, dtype=L.long), L.ones(2, 2, dtype=L.long),
                                            L.ones(2, 2, dtype=L.long), alpha=2.5),
 "addmm_int_beta": lambda L: L.addmm(L.ones(2, 2, dtype=L.long), L.ones(2, 2, dtype=L.long),
                                     L.ones(2, 2, dtype=L.long), beta=0.5),
 "addmm_0d_input": lambda L: L.addmm(L.tensor(1.0), L.ones(2, 3), L.ones(3, 2)),
 "addmv_0d_input": lambda L: L.addmv(L.tensor(1.0), L.ones(2, 3), L.ones(3)),
 "baddbmm_beta0_nan": lambda L: L.baddbmm(L.full((2, 2, 2), float("nan")), L.ones(2, 2, 2),
                                          L.ones(2, 2, 2), beta=0),
 "multi_dot_dtypes": lambda L: L.linalg.multi_dot([L.ones(2, 3, dtype=L.float64),
                                                   L.ones(3, 2, dtype=L.float64)]),
 "vecdot_bcast": lambda L: L.linalg.vecdot(L.ones(2, 3), L.ones(4, 1, 3)),
 "inner_0d": lambda L: L.inner(L.tensor(2.0), L.tensor(3.0)),
 "solve_tri_batch_bcast": lambda L: L.linalg.solve_triangular(L.eye(3).expand(2, 3, 3),
                                                              L.ones(4, 1, 3, 2), upper=False),
 "eig_real_sym": lambda L: L.linalg.eigvals(L.tensor([[2.0, 1.0], [1.0, 2.0]])),
 "matrix_power_batch0": lambda L: L.linalg.matrix_power(L.ones(2, 3, 3), 0),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_edge_cases_match_torch(name):
    same(EDGES[name], rtol=1e-5, atol=1e-5, check_warnings=False)
