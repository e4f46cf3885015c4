"""interpolate(antialias=True) as torch's separable antialiased resampling (bilinear, bicubic
with a = -0.5, lanczos a = 3): values and gradients against torch in float32 and float64, down-
and upsampling, align_corners, recomputed scales; torch's errors for the modes and ranks it
refuses."""

import numpy as np
import pytest
import torch

import ndgrad

SIZES = [dict(size=(4, 3)), dict(size=(3, 5)), dict(scale_factor=0.5), dict(scale_factor=0.3),
         dict(size=(12, 10)), dict(scale_factor=1.7), dict(size=(4, 3), align_corners=True),
         dict(scale_factor=0.4, recompute_scale_factor=True), dict(size=(1, 1))]


def _run(lib, x, mode, kw):
    t = lib.tensor(x, requires_grad=True)
    try:
        r = lib.nn.functional.interpolate(t, mode=mode, antialias=True, **kw)
    except Exception as e:  # noqa: BLE001 - the error is the outcome compared
        return type(e).__name__, str(e)
    weight = lib.tensor(np.arange(r.numel(), dtype=x.dtype).reshape(tuple(r.shape)) % 7 - 3)
    (r * weight).sum().backward()
    return r.detach().numpy(), t.grad.numpy(), r.grad_fn.name()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", SIZES, ids=str)
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_antialias_as_torch(mode, kw, dtype):
    x = np.random.RandomState(0).rand(2, 2, 11, 9).astype(dtype)
    want, got = _run(torch, x, mode, kw), _run(ndgrad, x, mode, kw)
    if isinstance(want[0], str):
        assert got == want
        return
    tol = 2e-6 if dtype == np.float32 else 1e-13
    assert got[2] == want[2]
    np.testing.assert_allclose(got[0], want[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(got[1], want[1], rtol=tol, atol=tol * 10)


def test_antialias_gradcheck():
    x = ndgrad.rand(1, 1, 7, 6, dtype=ndgrad.float64, requires_grad=True)
    for mode in ("bilinear", "bicubic"):
        assert ndgrad.autograd.gradcheck(lambda t: ndgrad.nn.functional.interpolate(
            t, size=(3, 4), mode=mode, antialias=True), (x,))


@pytest.mark.parametrize("shape,kw", [
    ((1, 2, 5), dict(size=3, mode="linear", antialias=True)),
    ((1, 2, 5, 5), dict(size=3, mode="nearest", antialias=True)),
    ((2, 5, 5, 5, 5), dict(size=3, mode="trilinear", antialias=True)),
    ((1, 2, 5), dict(size=3, mode="lanczos")),
    ((1, 2, 5, 5), dict(size=3, mode="lanczos")),
    ((1, 2, 5, 5), dict(size=3, mode="lanczos", align_corners=True)),
    ((1, 2, 5, 5, 5), dict(size=3, mode="lanczos")),
], ids=str)
def test_antialias_refusals_as_torch(shape, kw):
    errors = []
    for lib in (torch, ndgrad):
        with pytest.raises((ValueError, NotImplementedError)) as e:
            lib.nn.functional.interpolate(lib.ones(*shape), **kw)
        errors.append((e.type, str(e.value)))
    assert errors[1] == errors[0]
