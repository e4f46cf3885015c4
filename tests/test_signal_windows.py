"""torch.signal.windows against torch: values, dtypes, shapes, graphs and errors."""

import numpy as np
import pytest
import torch

import ndgrad

NAMES = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_hamming",
         "hamming", "hann", "kaiser", "nuttall"]


def _both(name, *args, **kw):
    ours = getattr(ndgrad.signal.windows, name)(*args, **kw)
    kw = {k: getattr(torch, str(v).rpartition(".")[2]) if k == "dtype" else v
          for k, v in kw.items()}
    return ours, getattr(torch.signal.windows, name)(*args, **kw)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values(name, dtype):
    for M in (0, 1, 2, 5, 8, 17, 64):
        for sym in (True, False):
            ours, ref = _both(name, M, sym=sym, dtype=getattr(ndgrad, dtype))
            assert str(ours.dtype).endswith(dtype) and tuple(ours.shape) == tuple(ref.shape)
            # linspace, sin, cos and exp round differently from torch's vector kernels in the
            # last bit; gaussian's exp(-k**2) multiplies that by 2k**2 (~500 at M=64)
            tol = 1e-5 if dtype == "float32" else 1e-12
            np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=tol, atol=tol)


def test_parameters():
    cases = [("general_cosine", dict(a=[0.5, 0.3, 0.2])), ("general_hamming", dict(alpha=0.6)),
             ("exponential", dict(tau=2.5)), ("exponential", dict(center=3.0, sym=False)),
             ("gaussian", dict(std=0.7)), ("kaiser", dict(beta=3.5, sym=False))]
    for name, kw in cases:
        ours, ref = _both(name, 9, dtype=ndgrad.float64, **kw)
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-14, atol=1e-14)
    ours, ref = _both("hann", 6)  # the default dtype
    assert ours.dtype is ndgrad.float32 and np.allclose(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("name", NAMES)
def test_requires_grad_gives_a_graph(name):
    for M in (1, 6):
        ours, ref = _both(name, M, requires_grad=True)
        assert ours.requires_grad == ref.requires_grad
        assert (ours.grad_fn is None) == (ref.grad_fn is None)
        ours.sum().backward()  # the graph runs back to its (hidden) linspace leaf


@pytest.mark.parametrize("call", [
    lambda w, lib: w.hann(3, dtype=lib.float16),
    lambda w, lib: w.kaiser(3, dtype=lib.int64),
    lambda w, lib: w.cosine(-1),
    lambda w, lib: w.gaussian(4, std=0.0),
    lambda w, lib: w.exponential(4, tau=-1.0),
    lambda w, lib: w.exponential(4, center=1.0),
    lambda w, lib: w.kaiser(4, beta=-1.0),
    lambda w, lib: w.general_cosine(4, a=3),
    lambda w, lib: w.general_cosine(4, a=[]),
])
def test_errors(call):
    with pytest.raises(Exception) as ref:
        call(torch.signal.windows, torch)
    with pytest.raises(type(ref.value)) as ours:
        call(ndgrad.signal.windows, ndgrad)
    assert str(ours.value).replace("ndgrad", "torch") == str(ref.value)
