"""Complex logcumsumexp (values, gradients of first and second order) and torch's errors for
complex median/mode and in-place scans of bool tensors, against torch."""

import numpy as np
import pytest
import torch

import ndgrad


def _pair(arr, requires_grad=False):
    return (ndgrad.tensor(arr, requires_grad=requires_grad),
            torch.tensor(arr, requires_grad=requires_grad))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((4, 3, 2), 0), ((), 0),
                                       ((0, 3), 0)])
def test_logcumsumexp_values(dtype, shape, dim):
    rng = np.random.default_rng(0)
    arr = (rng.normal(size=shape) * 3 + 1j * rng.normal(size=shape) * 4).astype(dtype)
    ours, ref = _pair(arr)
    a, b = ndgrad.logcumsumexp(ours, dim), torch.logcumsumexp(ref, dim)
    assert a.dtype is getattr(ndgrad, str(b.dtype).rpartition(".")[2])
    tol = 1e-5 if dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)


def test_logcumsumexp_special_values():
    inf, nan = float("inf"), float("nan")
    vals = [complex(-inf, 0), complex(-inf, 1), complex(1, 2), complex(inf, 0), complex(inf, 1),
            complex(2, -1), complex(nan, 0), complex(0, 3)]
    ours, ref = _pair(np.array(vals, np.complex128))
    np.testing.assert_allclose(ndgrad.logcumsumexp(ours, 0).numpy(),
                               torch.logcumsumexp(ref, 0).numpy(), rtol=1e-12, equal_nan=True)
    ours, ref = _pair(np.array(vals[:3], np.complex128))
    np.testing.assert_allclose(ndgrad.logcumsumexp(ours, 0).numpy(),
                               torch.logcumsumexp(ref, 0).numpy(), rtol=1e-12)


def test_logcumsumexp_gradients():
    rng = np.random.default_rng(1)
    arr = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    go = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    grads = []
    for lib in (ndgrad, torch):
        x = lib.tensor(arr, requires_grad=True)
        y = lib.logcumsumexp(x, 1)
        (g,) = lib.autograd.grad(y, x, lib.tensor(go), create_graph=True)
        (gg,) = lib.autograd.grad((g * g.conj()).real.sum(), x)
        grads.append((g.detach().resolve_conj().numpy(), gg.resolve_conj().numpy(),
                      y.grad_fn.name()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-10)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-10)
    assert grads[0][2] == grads[1][2]
    x = ndgrad.tensor(arr, requires_grad=True)
    assert ndgrad.autograd.gradcheck(lambda t: ndgrad.logcumsumexp(t, 0), (x,))
    assert ndgrad.autograd.gradgradcheck(lambda t: ndgrad.logcumsumexp(t, 1), (x,))


@pytest.mark.parametrize("call", [
    lambda lib: lib.median(lib.tensor([1 + 2j, 3 - 1j])),
    lambda lib: lib.median(lib.tensor([1 + 2j, 3 - 1j]), 0),
    lambda lib: lib.nanmedian(lib.tensor([1 + 2j, 3 - 1j])),
    lambda lib: lib.nanmedian(lib.tensor([1 + 2j, 3 - 1j]), 0, keepdim=True),
    lambda lib: lib.mode(lib.tensor([1 + 2j, 3 - 1j])),
    lambda lib: lib.tensor([True, False, True]).cumsum_(0),
    lambda lib: lib.tensor([True, False, True]).cumprod_(0),
    lambda lib: lib.logcumsumexp(lib.tensor([1, 2]), 0),
])
def test_errors(call):
    with pytest.raises(Exception) as ref:
        call(torch)
    with pytest.raises(type(ref.value)) as ours:
        call(ndgrad)
    assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float16", "float32"])
@pytest.mark.parametrize("name", ["cumsum_", "cumprod_"])
def test_inplace_scans_keep_the_dtype(name, dtype):
    arr = np.array([[1, 2, 3], [4, 5, 6]])
    res = []
    for lib in (ndgrad, torch):
        t = lib.tensor(arr, dtype=getattr(lib, dtype))
        r = getattr(t, name)(1)
        assert r is t
        res.append((str(t.dtype).rpartition(".")[2], t.tolist()))
    assert res[0] == res[1]
    for lib in (ndgrad, torch):  # a dtype= that differs from the tensor's is torch's cast error
        with pytest.raises(RuntimeError):
            getattr(lib.tensor(arr, dtype=lib.int32), name)(1, dtype=lib.float32)
