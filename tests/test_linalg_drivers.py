"""The LAPACK drivers of _ops/linalg/_drivers.py (svd, eig, eigh, inv, solve, LU, det, cholesky,
triangular solves) against torch, on both
paths (SciPy's routines in the input precision; NumPy's linalg when SciPy is missing) with
matrices large enough for the SciPy path: values, dtypes, strides, batches, failures, gradients."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad import _backend
from ndgrad._ops.linalg import _drivers

N = _drivers.MIN_N + 4
RNG = np.random.default_rng(1)
DTYPES = ["float32", "float64", "complex64", "complex128"]
TOL = {"float32": 1e-3, "complex64": 1e-3, "float64": 1e-9, "complex128": 1e-9}


@pytest.fixture(params=["scipy", "numpy"])
def path(request, monkeypatch):
    assert _backend.scipy_linalg(), "scipy is in the test extra"
    if request.param == "numpy":
        monkeypatch.setattr(_backend, "_SCIPY_LINALG", False)
    return request.param


def _input(shape, dtype, shift=0.0):
    x = RNG.standard_normal(shape)
    if shift:
        x = x + shift * np.eye(shape[-1])
    if dtype.startswith("complex"):
        x = x + 1j * RNG.standard_normal(shape)
    return x.astype(dtype)


def _both(x):
    return ndgrad.from_numpy(x.copy()), torch.from_numpy(x.copy())


def _check(got, want, path, tol):
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(want.shape)
    if path == "scipy":  # LAPACK's column-major results, as torch's
        assert got.stride() == want.stride()
    np.testing.assert_allclose(got.numpy(), want.resolve_conj().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(N, N), (2, N, N + 7), (N + 7, N)])
@pytest.mark.parametrize("full", [True, False])
def test_svd_matches_torch(path, dtype, shape, full):
    x = _input(shape, dtype)
    a, t = _both(x)
    (u, s, vh), (U, S, Vh) = ndgrad.linalg.svd(a, full), torch.linalg.svd(t, full_matrices=full)
    tol, k = TOL[dtype], min(shape[-2:])
    _check(s, S, path, tol)
    _check(ndgrad.linalg.svdvals(a), S, path, tol)
    # each vector is unique up to sign (phase): compare |entries| of the first k
    _check(u[..., :k].abs(), U[..., :k].abs(), path, tol)
    _check(vh[..., :k, :].abs(), Vh[..., :k, :].abs(), path, tol)
    assert u.shape == U.shape and vh.shape == Vh.shape
    recon = (u[..., :k] * s.to(u.dtype).unsqueeze(-2)) @ vh[..., :k, :]
    np.testing.assert_allclose(recon.numpy(), x, atol=10 * tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(N, N), (3, N, N)])
def test_inv_matches_torch(path, dtype, shape):
    x = _input(shape, dtype, shift=N)
    a, t = _both(x)
    _check(ndgrad.linalg.inv(a), torch.linalg.inv(t), path, TOL[dtype])
    np.testing.assert_array_equal(a.numpy(), x)  # the input is copied, never overwritten


def _pairing(w, W):
    """Index of torch's eigenvalue nearest each of ndgrad's (the orders may differ)."""
    return np.abs(w[..., :, None] - W[..., None, :]).argmin(-1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(N, N), (2, N, N)])
def test_eig_matches_torch(path, dtype, shape):
    x = _input(shape, dtype)
    a, t = _both(x)
    (w, v), (W, V) = ndgrad.linalg.eig(a.mT), torch.linalg.eig(t.mT)  # a strided input too
    if dtype == "float32":
        assert (W.imag != 0).any()  # complex pairs rebuilt from geev's real columns
    tol = 10 * TOL[dtype]
    idx = _pairing(w.numpy(), W.numpy())
    Wp = np.take_along_axis(W.numpy(), idx, -1)
    Vp = np.take_along_axis(V.numpy(), idx[..., None, :], -1)
    _check(w, torch.from_numpy(Wp), "numpy", tol)
    _check(v.abs(), torch.from_numpy(np.abs(Vp)), "numpy", tol)  # unique up to phase
    assert w.dtype == ndgrad.linalg.eigvals(a).dtype
    if path == "scipy":
        assert v.stride() == V.stride()
    np.testing.assert_allclose(ndgrad.linalg.eigvals(a.mT).numpy(), w.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.swapaxes(-1, -2) @ v.numpy(), (v * w.unsqueeze(-2)).numpy(),
                               atol=tol)
    np.testing.assert_array_equal(a.numpy(), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((N, N), (N, 3)), ((2, N, N), (2, N, 1)), ((2, N, N), (N, 2)),
                                    ((N, N), (3, N, 2)), ((N, N), (N,))])
def test_solve_matches_torch(path, dtype, shapes):
    x, y = _input(shapes[0], dtype, shift=N), _input(shapes[1], dtype)
    (a, t), (b, u) = _both(x), _both(y)
    _check(ndgrad.linalg.solve(a, b), torch.linalg.solve(t, u), "numpy", TOL[dtype])
    if len(shapes[0]) == len(shapes[1]) == 2:
        _check(ndgrad.linalg.solve(a, b.mT, left=False), torch.linalg.solve(t, u.mT, left=False),
               "numpy", TOL[dtype])


def test_singular_solve_fails_like_torch(path):
    x = _input((N, N), "float64", shift=N)
    x[3] = 0
    a, t = _both(np.stack([x, np.eye(N)]))
    b = ndgrad.ones(2, N, 1, dtype=ndgrad.float64)
    got = _message(lambda: ndgrad.linalg.solve(a, b))
    want = _message(lambda: torch.linalg.solve(t, torch.ones(2, N, 1, dtype=torch.float64)))
    assert str(got).replace("ndgrad", "torch") == str(want)
    res, info = ndgrad.linalg.solve_ex(a, b)
    assert info.tolist() == torch.linalg.solve_ex(t, torch.ones(2, N, 1, dtype=torch.float64)) \
        .info.tolist()
    assert np.isnan(res[0].numpy()).all()
    np.testing.assert_allclose(res[1].numpy(), np.ones((N, 1)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(N, N), (2, N, N + 5), (N + 5, N)])
def test_lu_matches_torch(path, dtype, shape):
    x = _input(shape, dtype)
    a, t = _both(x)
    (lu, piv), (LU, PIV) = ndgrad.linalg.lu_factor(a), torch.linalg.lu_factor(t)
    assert piv.tolist() == PIV.tolist() and piv.dtype == ndgrad.int32
    _check(lu, LU, path, TOL[dtype])
    for got, want in zip(ndgrad.linalg.lu(a), torch.linalg.lu(t)):
        _check(got, want, "numpy", TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [(), (2,)])
def test_det_and_slogdet_match_torch(path, dtype, batch):
    x = _input(batch + (N, N), dtype)
    x[(0,) * len(batch) + (slice(None), 4)] = 0  # one singular matrix: det 0, logabs -inf
    a, t = _both(x)
    _check(ndgrad.linalg.det(a), torch.linalg.det(t), "numpy", TOL[dtype] * 1e3)
    for got, want in zip(ndgrad.linalg.slogdet(a), torch.linalg.slogdet(t)):
        _check(got, want, "numpy", TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(N, N), (2, N, N)])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_matches_torch(path, dtype, shape, uplo):
    x = _input(shape, dtype)
    x = x + x.swapaxes(-1, -2).conj()
    x[..., 0, 1] = 7  # only the UPLO triangle is read
    a, t = _both(x)
    (w, v), (W, V) = ndgrad.linalg.eigh(a, uplo), torch.linalg.eigh(t, uplo)
    _check(w, W, path, TOL[dtype])
    _check(v.abs(), V.abs(), path, TOL[dtype])  # unique up to sign (phase)
    _check(ndgrad.linalg.eigvalsh(a, uplo), W, path, TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(N, N), (2, N, N)])
def test_cholesky_matches_torch(path, dtype, shape):
    x = _input(shape, dtype)
    x = x @ x.swapaxes(-1, -2).conj() + N * np.eye(N)
    a, t = _both(x)
    _check(ndgrad.linalg.cholesky(a), torch.linalg.cholesky(t), path, TOL[dtype])
    _check(ndgrad.linalg.cholesky(a, upper=True), torch.linalg.cholesky(t, upper=True), "numpy",
           TOL[dtype])
    x[..., 5, 5] = -1e3  # the leading minor of order 6 fails
    a, t = _both(x)
    got = _message(lambda: ndgrad.linalg.cholesky(a))
    assert str(got) == str(_message(lambda: torch.linalg.cholesky(t)))
    assert ndgrad.linalg.cholesky_ex(a).info.tolist() == torch.linalg.cholesky_ex(t).info.tolist()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((N, N), (N, 3)), ((2, N, N), (N, 2)), ((N, N), (3, N, 2))])
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_matches_torch(path, dtype, shapes, upper, unit):
    x, y = _input(shapes[0], dtype, shift=N), _input(shapes[1], dtype)
    (a, t), (b, u) = _both(x), _both(y)
    kw = {"upper": upper, "unitriangular": unit}
    _check(ndgrad.linalg.solve_triangular(a, b, **kw), torch.linalg.solve_triangular(t, u, **kw),
           "numpy", TOL[dtype])
    _check(ndgrad.linalg.solve_triangular(a, b.mT, left=False, **kw),
           torch.linalg.solve_triangular(t, u.mT, left=False, **kw), "numpy", TOL[dtype])


def test_solve_triangular_divides_by_a_zero_diagonal_like_blas(path):
    x = np.triu(_input((N, N), "float64", shift=N))
    x[N - 1, N - 1] = 0
    (a, t), b = _both(x), np.ones((N, 1))
    got = ndgrad.linalg.solve_triangular(a, ndgrad.from_numpy(b), upper=True).numpy()
    want = torch.linalg.solve_triangular(t, torch.from_numpy(b), upper=True).numpy()
    assert np.isinf(got[-1]).all() and np.isinf(want[-1]).all()
    assert not np.isfinite(got).any() and not np.isfinite(want).any()


def _message(fn):
    with pytest.raises(RuntimeError) as e:
        fn()
    return e.value


FAILURES = {
    "svd": lambda L, x: L.linalg.svd(x),
    "svdvals": lambda L, x: L.linalg.svdvals(x),
    "pinv": lambda L, x: L.linalg.pinv(x),
    "matrix_rank": lambda L, x: L.linalg.matrix_rank(x),
    "matrix_norm_2": lambda L, x: L.linalg.matrix_norm(x, 2),
    "eig": lambda L, x: L.linalg.eig(x),  # (torch's eigvals crashes on NaN)
}


@pytest.mark.parametrize("name", list(FAILURES))
@pytest.mark.parametrize("batch", [(), (3,)])
def test_non_finite_input_fails_like_torch(path, name, batch):
    x = _input(batch + (N, N), "float32")
    x[(1,) * len(batch) + (2, 3)] = np.nan
    a, t = _both(x)
    got = _message(lambda: FAILURES[name](ndgrad, a))
    want = _message(lambda: FAILURES[name](torch, t))
    assert str(got).replace("ndgrad", "torch") == str(want)
    assert isinstance(got, ndgrad.linalg.LinAlgError) == isinstance(want, torch.linalg.LinAlgError)


def test_singular_inverse_fails_like_torch(path):
    x = _input((N, N), "float32", shift=N)
    x[:, 5] = 0  # LU meets the zero pivot in column 6
    a, t = _both(np.stack([np.eye(N, dtype=np.float32), x]))
    got, want = _message(lambda: ndgrad.linalg.inv(a)), _message(lambda: torch.linalg.inv(t))
    assert str(got) == str(want) and isinstance(got, ndgrad.linalg.LinAlgError)
    inv, info = ndgrad.linalg.inv_ex(a)
    assert info.tolist() == torch.linalg.inv_ex(t).info.tolist() == [0, 6]
    assert np.isnan(inv[1].numpy()).all()
    np.testing.assert_allclose(inv[0].numpy(), np.eye(N))


def _svd_loss(u, s, vh):
    return ((u * s.unsqueeze(-2)) @ vh + (u * u) * s.unsqueeze(-2)).sum()  # sign-invariant


def _eigh_loss(w, v):
    return (v * v * w.unsqueeze(-2)).sum()  # sign-invariant


def _eig_loss(w, v):
    return ((v * v.conj()).real * w.real.unsqueeze(-2)).sum()  # phase-invariant


GRADS = {
    "svd": lambda L, x: _svd_loss(*L.linalg.svd(x, full_matrices=False)),
    "svdvals": lambda L, x: L.linalg.svdvals(x).sum(),
    "inv": lambda L, x: (L.linalg.inv(x + N * L.eye(N, dtype=x.dtype)) ** 2).sum(),
    "eig": lambda L, x: _eig_loss(*L.linalg.eig(x)),
    "eigvals": lambda L, x: (L.linalg.eigvals(x) ** 2).real.sum(),
    "eigh": lambda L, x: _eigh_loss(*L.linalg.eigh(x)),
    "solve": lambda L, x: L.linalg.solve(x + N * L.eye(N, dtype=x.dtype), x.sin()).sum(),
    "det": lambda L, x: L.linalg.det(x / 2).sum(),
    "slogdet": lambda L, x: L.linalg.slogdet(x).logabsdet.sum(),
    "cholesky": lambda L, x: L.linalg.cholesky(x @ x.mT + L.eye(N, dtype=x.dtype)).sum(),
    "lu_factor": lambda L, x: (L.linalg.lu_factor(x).LU ** 2).sum(),
    "solve_triangular": lambda L, x: L.linalg.solve_triangular(
        x + N * L.eye(N, dtype=x.dtype), x.cos(), upper=True).sum(),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_match_torch(path, name):
    x = _input((2, N, N), "float64")
    grads = []
    for L in (ndgrad, torch):
        a = L.tensor(x, requires_grad=True)
        GRADS[name](L, a).backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(*grads, rtol=1e-7, atol=1e-7)


def test_scipy_thread_pool_gets_the_size_set_before_it_loads():
    code = ("import ndgrad, threadpoolctl, sys; ndgrad.set_num_threads(1); "
            f"ndgrad.linalg.svd(ndgrad.randn({N}, {N})); "
            "assert 'scipy.linalg' in sys.modules; "
            "print(sorted({p['num_threads'] for p in threadpoolctl.threadpool_info() "
            "if p['user_api'] == 'blas'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1]"


def test_without_scipy_numpy_linalg_serves():
    code = ("import sys; sys.modules['scipy'] = None; import ndgrad; "
            "from ndgrad import _backend; "
            f"a = ndgrad.randn({N}, {N}, dtype=ndgrad.float64); "
            "u, s, vh = ndgrad.linalg.svd(a); w = ndgrad.linalg.eigvals(a); "
            "err = (ndgrad.linalg.inv(a) @ a - ndgrad.eye(len(a))).abs().max().item(); "
            "print(_backend._SCIPY_LINALG, err < 1e-9, w.dtype)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "ndgrad.complex128"]
