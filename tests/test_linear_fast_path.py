"""linear's unrolled layer call (``_MmT.apply_layer``) and its ``ndarray.dot`` products must give
what the generic ``Op.apply`` and ``np.matmul`` give, bit for bit, and torch's values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad.nn._functional import linear as L

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e-45, 3e38, 0.5, -2.0])


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_mm_is_matmul_bit_for_bit(dt):
    rng = np.random.default_rng(0)
    for m, k, p in itertools.product([0, 1, 2, 5], [0, 1, 2, 7], [0, 1, 2, 9]):
        for trial in range(8):
            a = rng.choice(SPECIAL, (m, k)).astype(dt)
            b = rng.choice(SPECIAL, (k, p)).astype(dt)
            if trial & 1:
                a = np.asfortranarray(a)
            if trial & 2:
                b = np.asfortranarray(b)
            if trial & 4:  # strided and broadcast operands (matmul's own path)
                a = np.repeat(a, 2, axis=1)[:, ::2]
                b = np.broadcast_to(b[:, :1], b.shape) if p else b
            with np.errstate(all="ignore"):
                want, got = np.matmul(a, b), L._mm(np, a, b)
            assert got.shape == want.shape and got.dtype == want.dtype
            assert got.tobytes() == want.tobytes(), (m, k, p, trial)


def _run(x0, w0, b0, generic, monkeypatch):
    if generic:
        monkeypatch.setattr(L._MmT, "apply_layer", classmethod(lambda cls, b, x, w: None))
    x = ndgrad.tensor(x0, requires_grad=True)
    w = ndgrad.tensor(w0, requires_grad=True)
    b = None if b0 is None else ndgrad.tensor(b0, requires_grad=True)
    y = ndgrad.nn.functional.linear(x, w, b)
    name = type(y.grad_fn).__name__
    nexts = [None if f is None else type(f).__name__ for f, _ in y.grad_fn.next_functions]
    (y * y).sum().backward()
    monkeypatch.undo()
    return y, name, nexts, [t.grad for t in (x, w, b) if t is not None]


@pytest.mark.parametrize("shape", [(1, 20, 20), (32, 48, 256), (3, 5, 1), (1, 1, 4), (4, 0, 3)])
@pytest.mark.parametrize("bias", ["none", "row", "matrix"])
def test_layer_call_is_apply(shape, bias, monkeypatch):
    n, i, o = shape
    rng = np.random.default_rng(1)
    x0, w0 = rng.standard_normal((n, i)), rng.standard_normal((o, i))
    b0 = None if bias == "none" else rng.standard_normal((o,) if bias == "row" else (n, o))
    fast = _run(x0, w0, b0, False, monkeypatch)
    slow = _run(x0, w0, b0, True, monkeypatch)
    assert fast[1:3] == slow[1:3]
    for a, b in zip([fast[0]] + fast[3], [slow[0]] + slow[3]):
        assert a.dtype == b.dtype and a.detach().numpy().tobytes() == b.detach().numpy().tobytes()
    tx, tw = (torch.tensor(a, requires_grad=True) for a in (x0, w0))
    tb = None if b0 is None else torch.tensor(b0, requires_grad=True)
    ty = torch.nn.functional.linear(tx, tw, tb)
    (ty * ty).sum().backward()
    assert fast[1] == type(ty.grad_fn).__name__
    np.testing.assert_allclose(fast[0].detach().numpy(), ty.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    for a, b in zip(fast[3], [t.grad for t in (tx, tw, tb) if t is not None]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_layer_call_checks_saved_versions():
    x = ndgrad.randn(2, 3, requires_grad=True)
    w = ndgrad.randn(4, 3, requires_grad=True)
    xx = x * 1
    y = ndgrad.nn.functional.linear(xx, w)
    xx.add_(1)  # W's gradient needs the input as it was
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    tx = torch.randn(2, 3, requires_grad=True) * 1
    ty = torch.nn.functional.linear(tx, torch.randn(4, 3, requires_grad=True))
    tx.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()


def test_layer_call_of_a_tensor_and_its_detached_self():
    w0 = np.random.default_rng(2).standard_normal((3, 3))
    w, tw = ndgrad.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    for lib, t in ((ndgrad, w), (torch, tw)):
        lib.nn.functional.linear(t.detach(), t).pow(2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
