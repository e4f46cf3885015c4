"""The breadth names beyond the op table: torch's errors (type and message), warnings, node names,
second derivatives and the non-tensor results, each run in ndgrad and torch."""

import warnings

import numpy as np
import pytest
import torch

import ndgrad

# Each case: a callable run with lib = ndgrad and lib = torch, which must raise the same exception
# type with the same message.
ERRORS = {
    "gcd_float": lambda T: T.gcd(T.ones(2), T.ones(2)),
    "gcd_bool": lambda T: T.gcd(T.tensor([True]), T.tensor([True])),
    "gcd_scalar": lambda T: T.gcd(T.tensor([2]), 3),
    "frexp_int": lambda T: T.frexp(T.tensor([1])),
    "ldexp_scalar": lambda T: T.ldexp(T.ones(2), 2),
    "nextafter_int": lambda T: T.nextafter(T.tensor([1]), T.tensor([2])),
    "signbit_complex": lambda T: T.signbit(T.tensor([1j])),
    "combinations_2d": lambda T: T.combinations(T.ones(2, 2)),
    "combinations_neg": lambda T: T.combinations(T.ones(2), -1),
    "cartesian_dtypes": lambda T: T.cartesian_prod(T.ones(2), T.tensor([1])),
    "cartesian_empty": lambda T: T.cartesian_prod(),
    "tril_indices_dtype": lambda T: T.tril_indices(3, 3, dtype=T.float32),
    "tril_indices_int8": lambda T: T.tril_indices(3, 3, dtype=T.int8),
    "tril_indices_row": lambda T: T.tril_indices(-1, 3),
    "triu_indices_col": lambda T: T.triu_indices(1, -3),
    "unravel_float": lambda T: T.unravel_index(T.ones(2), (2, 3)),
    "unravel_neg_shape": lambda T: T.unravel_index(T.tensor([1]), (2, -3)),
    "unravel_float_shape": lambda T: T.unravel_index(T.tensor([1]), (2.0, 3)),
    "unravel_tensor_shape": lambda T: T.unravel_index(T.tensor([1]), T.tensor([2, 3])),
    "block_diag_3d": lambda T: T.block_diag(T.ones(2, 2, 2)),
    "vander_2d": lambda T: T.vander(T.ones(2, 2)),
    "vander_neg": lambda T: T.vander(T.ones(2), -1),
    "linalg_vander_n": lambda T: T.linalg.vander(T.ones(2), N=1),
    "linalg_vander_bool": lambda T: T.linalg.vander(T.tensor([True])),
    "linalg_vander_half": lambda T: T.linalg.vander(T.ones(2, dtype=T.float16)),
    "histogram_int": lambda T: T.histogram(T.tensor([1, 2]), 3),
    "histogram_half": lambda T: T.histogram(T.ones(2, dtype=T.float16), 3),
    "histogram_bins0": lambda T: T.histogram(T.ones(3), 0),
    "histogram_weight_shape": lambda T: T.histogram(T.ones(6), 3, weight=T.ones(5)),
    "histogram_weight_dtype": lambda T: T.histogram(T.ones(6), 3, weight=T.ones(6).double()),
    "histogram_range": lambda T: T.histogram(T.ones(6), 3, range=(3.0, 1.0)),
    "histogram_inf": lambda T: T.histogram(T.ones(6), 3, range=(1.0, float("inf"))),
    "histogram_edges_1": lambda T: T.histogram(T.ones(6), T.tensor([1.0])),
    "histogram_edges_2d": lambda T: T.histogram(T.ones(6), T.ones(1, 2)),
    "histogram_edges_dtype": lambda T: T.histogram(T.ones(6), T.tensor([1.0, 2.0]).double()),
    "histogram_edges_range": lambda T: T.histogram(T.ones(6), T.tensor([0.0, 1]), range=(0, 1)),
    "histogram_backward": lambda T: T.histogram(T.ones(3, requires_grad=True), 2).hist.sum()
    .backward(),
    "histogramdd_1d": lambda T: T.histogramdd(T.ones(3), bins=[2]),
    "histogramdd_bins": lambda T: T.histogramdd(T.ones(3, 2), bins=[2, 2, 2]),
    "histogramdd_range": lambda T: T.histogramdd(T.ones(3, 2), bins=2, range=[0.0, 1.0]),
    "histogramdd_edges": lambda T: T.histogramdd(T.ones(3, 2), bins=[T.tensor([1.0, 2])]),
    "histogramdd_backward": lambda T: T.histogramdd(T.ones(3, 2, requires_grad=True), 2).hist
    .sum().backward(),
    "trapz_both": lambda T: T.trapz(T.ones(3), T.ones(3), dx=1),
    "cumtrapz_both": lambda T: T.cumulative_trapezoid(T.ones(3), T.ones(3), dx=1),
    "cumtrapz_bool": lambda T: T.cumulative_trapezoid(T.tensor([True])),
    "cumtrapz_bool_x": lambda T: T.cumulative_trapezoid(T.ones(1), T.tensor([True])),
    "cumtrapz_complex_dx": lambda T: T.cumulative_trapezoid(T.ones(3), dx=1j),
    "cumtrapz_0d": lambda T: T.cumulative_trapezoid(T.tensor(1.0)),
    "cumtrapz_x_len": lambda T: T.cumulative_trapezoid(T.ones(3), T.ones(2)),
    "gradient_uint8": lambda T: T.gradient(T.ones(3, dtype=T.uint8)),
    "gradient_edge_order": lambda T: T.gradient(T.ones(3), edge_order=3),
    "gradient_small": lambda T: T.gradient(T.ones(2, 4), edge_order=2),
    "gradient_spacing_len": lambda T: T.gradient(T.ones(2, 4), spacing=[1.0]),
    "gradient_spacing_dims": lambda T: T.gradient(T.ones(2, 4), spacing=[1.0], dim=[0, 1]),
    "gradient_dim": lambda T: T.gradient(T.ones(2, 4), dim=2),
    "gradient_repeated": lambda T: T.gradient(T.ones(2, 4), dim=(0, 0)),
    "gradient_coords_2d": lambda T: T.gradient(T.ones(2, 2), spacing=[T.ones(2, 2)], dim=0),
    "hann_int": lambda T: T.hann_window(4, dtype=T.int64),
    "hamming_negative": lambda T: T.hamming_window(-1),
    "kaiser_complex": lambda T: T.kaiser_window(3, dtype=T.complex64),
    "blackman_float_length": lambda T: T.blackman_window(4.0),
    "bartlett_grad_int": lambda T: T.bartlett_window(3, dtype=T.int32, requires_grad=True),
    "stft_no_return_complex": lambda T: T.stft(T.ones(20), 8),
    "stft_hop": lambda T: T.stft(T.ones(20), 8, hop_length=0, return_complex=True),
    "stft_win": lambda T: T.stft(T.ones(20), 8, win_length=9, return_complex=True),
    "stft_window_size": lambda T: T.stft(T.ones(20), 8, window=T.ones(5), return_complex=True),
    "stft_int": lambda T: T.stft(T.ones(20, dtype=T.int64), 8, return_complex=True),
    "stft_3d": lambda T: T.stft(T.ones(2, 2, 5), 4, return_complex=True),
    "stft_n_fft": lambda T: T.stft(T.ones(20), 30, center=False, return_complex=True),
    "stft_onesided_complex": lambda T: T.stft(T.ones(20, dtype=T.complex64), 8, onesided=True,
                                              return_complex=True),
    "stft_align": lambda T: T.stft(T.ones(20), 8, return_complex=True, align_to_window=True),
    "istft_real": lambda T: T.istft(T.ones(5, 3), 8),
    "istft_freq": lambda T: T.istft(T.ones(4, 3, dtype=T.complex64), 8),
    "istft_freq_twosided": lambda T: T.istft(T.ones(4, 3, dtype=T.complex64), 8, onesided=False),
    "istft_hop": lambda T: T.istft(T.ones(5, 3, dtype=T.complex64), 8, hop_length=9),
    "istft_nola": lambda T: T.istft(T.stft(T.ones(40, dtype=T.float64), 10, 3, window=T.tensor(
        np.hanning(10)), return_complex=True), 10, 3, window=T.tensor(np.hanning(10)), length=45),
    "view_as_real_float": lambda T: T.view_as_real(T.ones(2)),
    "view_as_complex_int": lambda T: T.view_as_complex(T.ones(2, 2, dtype=T.int64)),
    "view_as_complex_size": lambda T: T.view_as_complex(T.ones(2, 3)),
    "view_as_complex_stride": lambda T: T.view_as_complex(T.ones(2, 2).t()),
    "view_as_complex_even": lambda T: T.view_as_complex(T.ones(2, 5)[:, :2]),
    "view_as_complex_offset": lambda T: T.view_as_complex(T.ones(5)[1:5].view(2, 2)),
    "view_as_complex_copy_grad": lambda T: T.view_as_complex_copy(T.ones(2, 2,
                                                                         requires_grad=True)),
    "as_strided_bounds": lambda T: T.as_strided(T.ones(3, 4), (5, 5), (1, 2)),
    "as_strided_offset": lambda T: T.as_strided(T.ones(3, 4), (2,), (1,), 11),
    "as_strided_negative": lambda T: T.as_strided(T.ones(3, 4), (2,), (-1,)),
    "as_strided_lengths": lambda T: T.as_strided(T.ones(3, 4), (2, 2), (1,)),
    "select_scatter_size": lambda T: T.select_scatter(T.ones(3, 4), T.ones(3), 0, 1),
    "select_scatter_index": lambda T: T.select_scatter(T.ones(3, 4), T.ones(4), 0, 5),
    "select_scatter_complex": lambda T: T.select_scatter(T.ones(3, 4, dtype=T.complex64,
                                                                requires_grad=True),
                                                         T.ones(4, dtype=T.complex64), 0, 0),
    "slice_scatter_size": lambda T: T.slice_scatter(T.ones(3, 4), T.ones(1, 4)),
    "diagonal_scatter_size": lambda T: T.diagonal_scatter(T.ones(3, 4), T.ones(4)),
    "as_strided_scatter_size": lambda T: T.as_strided_scatter(T.ones(3, 4), T.ones(2, 3), (2, 2),
                                                              (1, 2)),
    "cholesky_solve_1d": lambda T: T.cholesky_solve(T.ones(3), T.eye(3)),
    "cholesky_solve_rect": lambda T: T.cholesky_solve(T.ones(3, 2), T.ones(2, 3)),
    "cholesky_solve_dtype": lambda T: T.cholesky_solve(T.ones(3, 2).double(), T.eye(3)),
    "cholesky_solve_int": lambda T: T.cholesky_solve(T.ones(3, 2).long(), T.eye(3).long()),
    "cholesky_solve_sizes": lambda T: T.cholesky_solve(T.ones(2, 3), T.eye(3)),
    "cholesky_inverse_1d": lambda T: T.cholesky_inverse(T.ones(3)),
    "cholesky_inverse_rect": lambda T: T.cholesky_inverse(T.ones(2, 3)),
    "cholesky_inverse_int": lambda T: T.cholesky_inverse(T.eye(3).long()),
    "triangular_solve_1d": lambda T: T.triangular_solve(T.ones(3), T.eye(3)),
    "triangular_solve_rect": lambda T: T.triangular_solve(T.ones(3, 2), T.ones(2, 3)),
    "triangular_solve_dtype": lambda T: T.triangular_solve(T.ones(3, 2).double(), T.eye(3)),
    "lu_1d": lambda T: T.lu(T.ones(3)),
    "lu_no_pivot": lambda T: T.lu(T.eye(3), pivot=False),
    "lu_unpack_pivots": lambda T: T.lu_unpack(T.eye(3), T.ones(3, dtype=T.int64)),
    "lu_solve_1d": lambda T: T.linalg.lu_solve(T.eye(3), T.ones(3, dtype=T.int32), T.ones(3)),
    "lu_solve_shapes": lambda T: T.linalg.lu_solve(T.eye(3), T.ones(3, dtype=T.int32),
                                                   T.ones(2, 2)),
    "lu_solve_pivots": lambda T: T.linalg.lu_solve(T.eye(3), T.ones(3), T.ones(3, 2)),
    "lu_solve_dtype": lambda T: T.linalg.lu_solve(T.eye(3), T.ones(3, dtype=T.int32),
                                                  T.ones(3, 2).double()),
    "lu_solve_rect": lambda T: T.linalg.lu_solve(T.ones(2, 3), T.ones(2, dtype=T.int32),
                                                 T.ones(3, 2)),
    "householder_1d": lambda T: T.linalg.householder_product(T.ones(3), T.ones(1)),
    "householder_wide": lambda T: T.linalg.householder_product(T.ones(3, 4), T.ones(2)),
    "householder_tau": lambda T: T.linalg.householder_product(T.ones(4, 3), T.ones(4)),
    "householder_tau_ndim": lambda T: T.linalg.householder_product(T.ones(4, 3), T.ones(1, 3)),
    "householder_batch": lambda T: T.linalg.householder_product(T.ones(2, 4, 3), T.ones(3, 3)),
    "householder_dtype": lambda T: T.linalg.householder_product(T.ones(4, 3), T.ones(3).double()),
    "householder_int": lambda T: T.linalg.householder_product(T.ones(4, 3).long(),
                                                              T.ones(3).long()),
    "geqrf_1d": lambda T: T.geqrf(T.ones(3)),
    "geqrf_int": lambda T: T.geqrf(T.ones(3, 3).long()),
    "geqrf_backward": lambda T: T.geqrf(T.ones(3, 3, requires_grad=True))[0].sum().backward(),
    "ormqr_rows": lambda T: T.ormqr(T.ones(4, 3), T.ones(3), T.ones(2, 4)),
    "ormqr_tau": lambda T: T.ormqr(T.ones(4, 3), T.ones(4), T.ones(4, 2)),
    "ormqr_1d": lambda T: T.ormqr(T.ones(3), T.ones(3), T.ones(4, 2)),
    "ormqr_other_dtype": lambda T: T.ormqr(T.ones(4, 3), T.ones(3), T.ones(4, 2).double()),
    "ormqr_tau_dtype": lambda T: T.ormqr(T.ones(4, 3), T.ones(3).double(), T.ones(4, 2)),
    "ldl_rect": lambda T: T.linalg.ldl_factor(T.ones(2, 3)),
    "ldl_1d": lambda T: T.linalg.ldl_factor(T.ones(3)),
    "ldl_int": lambda T: T.linalg.ldl_factor(T.eye(3).long()),
    "ldl_half": lambda T: T.linalg.ldl_factor(T.eye(3).half()),
    "ldl_solve_sizes": lambda T: T.linalg.ldl_solve(T.eye(3), T.ones(3, dtype=T.int32),
                                                    T.ones(2, 2)),
    "ldl_solve_dtype": lambda T: T.linalg.ldl_solve(T.eye(3), T.ones(3, dtype=T.int32),
                                                    T.ones(3, 2).double()),
    "ldl_backward": lambda T: T.linalg.ldl_factor(T.eye(3, requires_grad=True)).LD.sum()
    .backward(),
    "tensorinv_ind": lambda T: T.linalg.tensorinv(T.ones(4, 2, 2), ind=0),
    "tensorinv_singular": lambda T: T.linalg.tensorinv(T.zeros(2, 2, 4)),
    "tensorsolve_shapes": lambda T: T.linalg.tensorsolve(T.ones(6, 4), T.ones(6)),
    "frobenius_dims": lambda T: T.frobenius_norm(T.ones(2, 3, 4), (0, 1, 2)),
    "frobenius_int": lambda T: T.frobenius_norm(T.ones(3, 3).long(), (0,)),
    "nuclear_dim": lambda T: T.nuclear_norm(T.ones(3, 3), (0,)),
    "addr_2d": lambda T: T.addr(T.ones(3, 4), T.ones(3, 1), T.ones(4)),
    "addr_alpha_float": lambda T: T.addr(T.ones(3, 4).long(), T.ones(3).long(), T.ones(4).long(),
                                         alpha=0.5),
    "addr_expand": lambda T: T.addr(T.ones(2, 4), T.ones(3), T.ones(4)),
    "renorm_p0": lambda T: T.renorm(T.ones(3, 3), 0, 0, 1.0),
    "renorm_maxnorm": lambda T: T.renorm(T.ones(3, 3), 2, 0, -1.0),
    "renorm_1d": lambda T: T.renorm(T.ones(3), 2, 0, 1.0),
    "pdist_1d": lambda T: T.pdist(T.ones(3)),
    "pdist_p": lambda T: T.pdist(T.ones(4, 3), p=-1),
    "pdist_int": lambda T: T.pdist(T.ones(4, 3).long()),
    "pdist_double_backward": lambda T: _pdist_gg(T),
    "eig_removed": lambda T: T.eig(T.eye(2)),
    "lstsq_removed": lambda T: T.lstsq(T.eye(2), T.eye(2)),
    "solve_removed": lambda T: T.solve(T.eye(2), T.eye(2)),
    "symeig_removed": lambda T: T.ones(2, 2).symeig(),
    "matrix_rank_removed": lambda T: T.matrix_rank(T.eye(2)),
    "channel_shuffle_2d": lambda T: T.channel_shuffle(T.ones(2, 4), 2),
    "channel_shuffle_groups": lambda T: T.channel_shuffle(T.ones(2, 4, 3), 3),
    "channel_shuffle_zero": lambda T: T.channel_shuffle(T.ones(2, 4, 3), 0),
    "rms_norm_shape": lambda T: T.rms_norm(T.ones(2, 3), [4]),
    "rms_norm_weight": lambda T: T.rms_norm(T.ones(2, 4), [4], T.ones(3)),
    "feature_dropout_1d": lambda T: T.feature_dropout(T.ones(4), 0.5, True),
    "feature_dropout_p": lambda T: T.feature_dropout(T.ones(4, 2), 1.5, True),
    "range_step": lambda T: T.range(0, 1, 0),
    "range_sign": lambda T: T.range(4, 1),
    "range_inf": lambda T: T.range(0, float("inf")),
    "scalar_tensor_complex": lambda T: T.scalar_tensor(1 + 2j),
    "scalar_tensor_overflow": lambda T: T.scalar_tensor(1e300),
    "empty_strided_lengths": lambda T: T.empty_strided((2, 3), (1,)),
    "index_reduce_sum": lambda T: T.ones(4, 3).index_reduce(0, T.tensor([0, 2]), T.ones(2, 3),
                                                            "sum"),
    "index_reduce_float_index": lambda T: T.ones(4, 3).index_reduce(0, T.tensor([0.0, 2]),
                                                                    T.ones(2, 3), "amax"),
    "index_reduce_2d_index": lambda T: T.ones(4, 3).index_reduce(0, T.tensor([[0], [2]]),
                                                                 T.ones(2, 3), "amax"),
    "index_reduce_range": lambda T: T.ones(4, 3).index_reduce(0, T.tensor([0, 5]), T.ones(2, 3),
                                                              "amax"),
    "index_reduce_count": lambda T: T.ones(4, 3).index_reduce(1, T.tensor([0, 2]), T.ones(2, 3),
                                                              "amax"),
    "index_reduce_dtype": lambda T: T.ones(4, 3).index_reduce(0, T.tensor([0, 2]),
                                                              T.ones(2, 3).double(), "amax"),
    "post_hook_non_leaf": lambda T: (T.ones(2, requires_grad=True) * 2)
    .register_post_accumulate_grad_hook(print),
    "post_hook_no_grad": lambda T: T.ones(2).register_post_accumulate_grad_hook(print),
    "resize_numel": lambda T: T.ones(2, 3).resize(4, 2),
    "uint16_promotion": lambda T: T.ones(2, dtype=T.uint16) + T.ones(2, dtype=T.int32),
    "float8_promotion": lambda T: T.promote_types(T.float8_e4m3fn, T.float32),
    "float8_pair": lambda T: T.promote_types(T.float8_e4m3fn, T.float8_e5m2),
    "uint_bool": lambda T: T.promote_types(T.uint64, T.bool),
    "detach_copy_backward": lambda T: T.detach_copy(T.ones(2, requires_grad=True)).sum()
    .backward(),
}


def _pdist_gg(T):
    x = T.arange(6.0).reshape(3, 2).requires_grad_()
    (g,) = T.autograd.grad(T.pdist(x).sum(), x, create_graph=True)
    return T.autograd.grad(g.sum(), x)


def _outcome(fn, lib):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(lib)
    except Exception as e:  # noqa: BLE001  (the exception itself is what is compared)
        return type(e).__name__.lstrip("_"), str(e).replace("torch.", "ndgrad.")
    return None


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    want = _outcome(ERRORS[name], torch)
    assert want is not None, "torch raised nothing: the case is stale"
    assert _outcome(ERRORS[name], ndgrad) == want


def _pair(lib, x):
    return lib.tensor(np.asarray(x), requires_grad=True)


# --- second derivatives ---------------------------------------------------------------------------
_M3 = [[1.0, 0.5, -0.3], [0.2, 2.0, 0.7], [-1.0, 0.4, 1.5]]
SECOND = {
    "ldexp": (lambda T, a, b: T.ldexp(a, b), [[0.5, -1.5, 2.0], [1.0, -0.5, 2.5]]),
    "angle_complex": (lambda T, z: T.angle(z), [[1 + 2j, -0.5 + 0.1j, 3 - 1j]]),
    "frexp": (lambda T, x: T.frexp(x * x).mantissa, [[0.7, -3.0, 5.5]]),
    "block_diag": (lambda T, a, b: T.block_diag(a * a, b.reshape(1, 2) ** 3),
                   [[[1.0, 2.0], [3.0, 4.0]], [0.5, -2.0]]),
    "linalg_vander": (lambda T, x: T.linalg.vander(x, N=4), [[0.5, -1.5, 2.0]]),
    "cholesky_solve": (lambda T, b, l: T.cholesky_solve(b * b, l.tril() + 3 * T.eye(3)),
                       [[[1.0, 2.0], [0.5, -1.0], [2.0, 0.3]], _M3]),
    "cholesky_inverse": (lambda T, l: T.cholesky_inverse(l.tril() + 3 * T.eye(3)) ** 2, [_M3]),
    "as_strided": (lambda T, x: T.as_strided(x * x, (3, 3), (1, 1)) ** 2, [[0.5, 1, 2, -1, 3]]),
    "view_as_real": (lambda T, z: T.view_as_real(z * z) ** 2, [[1 + 2j, -0.5j]]),
    "view_as_complex": (lambda T, x: T.view_as_complex(x * x) * (1 + 1j), [[[1.0, 2], [3, 4]]]),
    "slice_scatter": (lambda T, x, s: T.slice_scatter(x * x, s ** 3, 1, 0, 3, 2),
                      [_M3, [[1.0, 2], [0.5, -1], [2, 3]]]),
    "addr": (lambda T, c, a, b: T.addr(c * c, a * a, b ** 3, beta=0.5, alpha=2),
             [_M3, [1.0, -2, 0.5], [0.3, 2, -1]]),
    "householder": (lambda T, a, t: T.linalg.householder_product(a * a, t * t), [_M3, [1.2, 0.7]]),
    "lu_solve": (lambda T, a, b: T.linalg.lu_solve(*T.linalg.lu_factor(a + 3 * T.eye(3)), b * b),
                 [_M3, [[1.0, 2], [0.5, -1], [2, 3]]]),
    "renorm": (lambda T, x: T.renorm(x * x, 2, 0, 1.0), [_M3]),
}


@pytest.mark.parametrize("name", sorted(SECOND))
def test_second_derivatives_match_torch(name):
    fn, inputs = SECOND[name]
    res = []
    for lib in (ndgrad, torch):
        xs = [_pair(lib, x) for x in inputs]
        out = fn(lib, *xs)
        cot = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)),
                         dtype=out.dtype)
        gs = lib.autograd.grad(out, xs, cot, create_graph=True)
        total = sum(((g * g.conj()).real if g.is_complex() else g * g).sum() for g in gs)
        res.append([np.asarray(g.detach()) for g in lib.autograd.grad(total, xs)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_tensor_attributes_match_torch():
    """Attributes and methods whose results are not tensors: compared directly."""
    res = []
    for lib in (ndgrad, torch):
        x = lib.ones(2, 3, requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            vol = x.volatile
        sub = (x * 2).as_subclass(lib.nn.Parameter)
        y = lib.zeros(5)
        y.set_(x.detach())
        res.append((vol, [str(m.message) for m in w], x.grad_dtype is x.dtype, x.name,
                    type(sub).__name__, sub.requires_grad, sub.grad_fn is not None,
                    tuple(y.shape), y.data_ptr() == x.data_ptr(), x.is_set_to(x),
                    x.is_set_to(x.view(3, 2)), repr(lib.strided)[-7:], repr(lib.jagged)[-6:],
                    x.layout == lib.strided, lib.is_storage(x), lib.has_lapack,
                    repr(lib.channels_last_3d)[-16:], repr(lib.per_tensor_affine)[-17:],
                    lib.legacy_contiguous_format is lib.contiguous_format))
    assert res[0] == res[1]


def test_as_subclass_keeps_graph():
    for lib in (ndgrad, torch):
        x = lib.ones(3, requires_grad=True)
        p = (x * 2).as_subclass(lib.Tensor)
        p.sum().backward()
        assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_to_padded_tensor_needs_a_nested_tensor():
    for lib in (ndgrad, torch):
        with pytest.raises(NotImplementedError, match="to_padded_tensor"):
            lib.ones(2, 3).to_padded_tensor(0.0)
