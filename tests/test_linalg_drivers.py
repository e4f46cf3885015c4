"""The LAPACK drivers behind svd, eig and inv (_ops/linalg/_drivers.py) against torch, on both
paths (SciPy's routines in the input precision; NumPy's linalg when SciPy is missing) with
matrices large enough for the SciPy path: values, dtypes, strides, batches, failures, gradients."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad._ops.linalg import _drivers

N = _drivers.MIN_N + 4
RNG = np.random.default_rng(1)
DTYPES = ["float32", "float64", "complex64", "complex128"]
TOL = {"float32": 1e-3, "complex64": 1e-3, "float64": 1e-9, "complex128": 1e-9}


@pytest.fixture(params=["scipy", "numpy"])
def path(request, monkeypatch):
    assert _drivers._scipy_lapack(), "scipy is in the test extra"
    if request.param == "numpy":
        monkeypatch.setattr(_drivers, "_scipy", False)
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
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)


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
    got, want = (_message(lambda: FAILURES[name](L, y)) for L, y in ((ndgrad, a), (torch, t)))
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


def _eig_loss(w, v):
    return ((v * v.conj()).real * w.real.unsqueeze(-2)).sum()  # phase-invariant


GRADS = {
    "svd": lambda L, x: _svd_loss(*L.linalg.svd(x, full_matrices=False)),
    "svdvals": lambda L, x: L.linalg.svdvals(x).sum(),
    "inv": lambda L, x: (L.linalg.inv(x + N * L.eye(N, dtype=x.dtype)) ** 2).sum(),
    "eig": lambda L, x: _eig_loss(*L.linalg.eig(x)),
    "eigvals": lambda L, x: (L.linalg.eigvals(x) ** 2).real.sum(),
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
            "ndgrad.linalg.svd(ndgrad.randn(%d, %d)); "
            "assert 'scipy.linalg' in sys.modules; "
            "print(sorted({p['num_threads'] for p in threadpoolctl.threadpool_info() "
            "if p['user_api'] == 'blas'}))" % (N, N))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[1]"
