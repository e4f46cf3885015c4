"""Complex tensors where torch supports them: rand/randn draw torch's streams (the real view,
each part of randn with variance 1/2), and gradcheck/gradgradcheck check complex inputs and
outputs (perturbing real and imaginary parts, projecting onto complex directions)."""

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck
from ndgrad.autograd.gradcheck import GradcheckError


@pytest.mark.parametrize("n", [3, 16, 37])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("fn", ["rand", "randn"])
def test_complex_sampling_is_torchs_stream(fn, dtype, n):
    out = []
    for lib in (torch, ndgrad):
        lib.manual_seed(0)
        out.append(np.asarray(getattr(lib, fn)(n, 2, dtype=getattr(lib, dtype))))
    assert out[0].dtype == out[1].dtype
    np.testing.assert_array_equal(out[0], out[1])


def _z(*shape):
    ndgrad.manual_seed(0)
    return ndgrad.randn(*shape, dtype=ndgrad.complex128).requires_grad_()


@pytest.mark.parametrize("fn", [ndgrad.linalg.det, lambda z: z.exp() * z, lambda z: z.abs(),
                                lambda z: (z * z.conj()).real.sum(), lambda z: z.conj() * 2 + z,
                                lambda z: ndgrad.fft.fft(z)])
def test_gradcheck_complex_inputs(fn):
    z = _z(3, 3)
    assert gradcheck(fn, (z,)) and gradgradcheck(fn, (z,))


def test_gradcheck_complex_outputs_of_real_inputs():
    x = ndgrad.randn(6, dtype=ndgrad.float64, requires_grad=True)
    assert gradcheck(ndgrad.fft.rfft, (x,)) and gradgradcheck(ndgrad.fft.rfft, (x,))


def test_gradcheck_catches_a_wrong_complex_gradient():
    class Wrong(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            return z * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2j  # the right one is g * 2

    with pytest.raises(GradcheckError):
        gradcheck(Wrong.apply, (_z(2),))
