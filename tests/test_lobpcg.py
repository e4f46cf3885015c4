"""torch.lobpcg ported: seeded runs give torch's eigenpairs (both methods, largest/smallest,
batched), torch's gradient in A (complete and partial eigenspace), gradcheck/gradgradcheck of
the eigenvalues, and torch's errors."""

import numpy as np
import pytest
import torch

import ndgrad

R = np.random.default_rng(0)
M = R.standard_normal((12, 12))
A = M @ M.T + np.eye(12)


@pytest.mark.parametrize("method", ["ortho", "basic"])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [1, 2])
def test_lobpcg_matches_torch(method, largest, k):
    torch.manual_seed(1)
    ndgrad.manual_seed(1)
    et, xt = torch.lobpcg(torch.tensor(A), k=k, method=method, largest=largest, niter=40)
    en, xn = ndgrad.lobpcg(ndgrad.tensor(A), k=k, method=method, largest=largest, niter=40)
    np.testing.assert_allclose(en.numpy(), et.numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.abs(xn.numpy()), np.abs(xt.numpy()), atol=1e-8)
    assert en.dtype is ndgrad.float64 and tuple(xn.shape) == (12, k)


def test_lobpcg_batched_and_tracker():
    a3 = np.stack([A, A + np.diag(np.arange(12.0))])
    torch.manual_seed(1)
    ndgrad.manual_seed(1)
    et, _ = torch.lobpcg(torch.tensor(a3), k=2)
    seen = []
    en, _ = ndgrad.lobpcg(ndgrad.tensor(a3), k=2, tracker=lambda w: seen.append(w.ivars["istep"]))
    np.testing.assert_allclose(en.numpy(), et.numpy(), rtol=1e-10)
    assert seen and seen[0] == 1  # the tracker sees the worker after each step


@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg_gradient_matches_torch(k, largest):
    at, an = torch.tensor(A, requires_grad=True), ndgrad.tensor(A, requires_grad=True)
    torch.manual_seed(1)
    ndgrad.manual_seed(1)
    et, xt = torch.lobpcg(at, k=k, largest=largest)
    en, xn = ndgrad.lobpcg(an, k=k, largest=largest)
    assert en.grad_fn is not None
    w = R.standard_normal((12, k))  # a loss that does not see each column's sign
    (et.sum() + ((xt * torch.tensor(w)).sum(0) ** 2).sum()).backward()
    (en.sum() + ((xn * ndgrad.tensor(w)).sum(0) ** 2).sum()).backward()
    np.testing.assert_allclose(an.grad.numpy(), at.grad.numpy(), atol=1e-8)


def test_lobpcg_gradcheck():
    m = R.standard_normal((6, 6))
    a = ndgrad.tensor(m @ m.T + np.eye(6), requires_grad=True)
    x0 = ndgrad.tensor(R.standard_normal((6, 2)))
    f = lambda a: ndgrad.lobpcg(a, X=x0, tol=1e-13, niter=100)[0]  # noqa: E731
    assert ndgrad.autograd.gradcheck(f, (a,), atol=1e-5, rtol=1e-4)
    assert ndgrad.autograd.gradgradcheck(f, (a,), atol=1e-4, rtol=1e-3)


def test_lobpcg_errors_match_torch():
    for bad, k in ((A[:4, :4], 2), (A[:4, :3], 1)):
        with pytest.raises(Exception) as et:
            torch.lobpcg(torch.tensor(bad), k=k)
        with pytest.raises(type(et.value)) as en:
            ndgrad.lobpcg(ndgrad.tensor(bad), k=k)
        assert str(en.value).replace("ndgrad", "torch") == str(et.value)
    b = ndgrad.tensor(np.eye(12), requires_grad=True)
    e, _ = ndgrad.lobpcg(ndgrad.tensor(A, requires_grad=True), k=1, B=b)
    with pytest.raises(ValueError, match="B != I"):
        e.sum().backward()
