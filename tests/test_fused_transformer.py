"""The GPT step's fused primitives against torch: GELU's float32 path (its own erf), causal
scaled_dot_product_attention, layer_norm, embedding's backward and cross_entropy on views; values,
first and second derivatives, on the default install (SciPy hidden where it matters)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import ndgrad
import ndgrad.nn.functional as F

TF = torch.nn.functional


def _pair(arr, requires_grad=True):
    a = ndgrad.from_numpy(arr.copy()).requires_grad_(requires_grad)
    b = torch.from_numpy(arr.copy()).requires_grad_(requires_grad)
    return a, b


def _close(a, b, rtol, atol):
    a = a.detach().numpy() if hasattr(a, "detach") else a
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=rtol, atol=atol)


@pytest.fixture
def no_scipy(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.special", None)


# --- GELU ------------------------------------------------------------------------------------------
def test_gelu_float32_dense_grid_matches_torch(no_scipy):
    x = np.concatenate([np.linspace(-12, 12, 200_001, dtype=np.float32),
                        np.float32(10.0) ** np.linspace(-40, 1, 2001, dtype=np.float32),
                        np.array([0.0, -0.0, np.nan, 1e-45, 1e30], np.float32)])
    # (no inf, no 3e38: torch's vectorised and scalar kernels differ there: nan/inf vs inf/3e38)
    x = np.concatenate([x, -x])
    a, b = _pair(x)
    ya, yb = F.gelu(a), TF.gelu(b)
    _close(ya, yb, 2e-6, 2e-6)
    g = np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
    (ga,), (gb,) = ndgrad.autograd.grad(ya, a, ndgrad.from_numpy(g)), \
        torch.autograd.grad(yb, b, torch.from_numpy(g))
    _close(ga, gb, 2e-6, 2e-6)
    assert ya.dtype == ndgrad.float32 and ga.dtype == ndgrad.float32


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_gelu_second_order_matches_torch(dtype, no_scipy):
    x = (np.random.default_rng(1).standard_normal((5, 7)) * 3)
    a = ndgrad.tensor(x, dtype=getattr(ndgrad, dtype), requires_grad=True)
    b = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    tol = {"float32": 2e-6, "float64": 1e-12, "float16": 2e-3, "bfloat16": 2e-2}[dtype]
    outs = []
    for lib, t in ((ndgrad, a), (torch, b)):
        y = lib.nn.functional.gelu(t)
        (g,) = lib.autograd.grad((y * y).sum(), t, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), t)
        outs.append([v.detach().float().numpy() for v in (y, g, h)])
    for u, v in zip(*outs):
        np.testing.assert_allclose(u, v, rtol=tol, atol=tol)


def test_gelu_gradcheck(no_scipy):
    x = ndgrad.tensor(np.random.default_rng(2).standard_normal(8) * 2, requires_grad=True)
    assert ndgrad.autograd.gradcheck(F.gelu, (x,))
    assert ndgrad.autograd.gradgradcheck(F.gelu, (x,))
