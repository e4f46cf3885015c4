"""Elementwise passes split across threads (``ndgrad._parallel``): GELU, layer norm's rows path
and Adam's flat step give the bits of one pass, at odd sizes and with more pieces than rows of
work would make by default; against torch as well."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad import _parallel


@pytest.fixture(params=[1, 2, 3])
def threads(request, monkeypatch):
    """Split into this many pieces wherever there is any work (1: one pass)."""
    monkeypatch.setattr(_parallel, "_count", lambda: request.param)
    monkeypatch.setattr(_parallel, "MIN_WORK", 1)
    monkeypatch.setattr(_parallel, "ENABLED", True)
    return request.param


def _bits(arrays):
    return [np.asarray(a).copy() for a in arrays]


def _same_bits(a, b):
    for u, v in zip(a, b, strict=True):
        assert u.dtype == v.dtype and u.shape == v.shape
        assert np.array_equal(u.view(np.uint8), v.view(np.uint8))


def test_pieces_cover_the_range_at_aligned_edges(threads):
    for n in (0, 1, 63, 64, 65, 1000, 4097):
        got = _parallel.pieces(n, like=np.empty(0))
        assert got[0][0] == 0 and got[-1][1] == n or got == [(0, 0)]
        assert all(a[1] == b[0] and b[0] % 64 == 0 for a, b in zip(got, got[1:]))
        assert len(got) <= threads
    assert _parallel.pieces(10 ** 6, like=[]) == [(0, 10 ** 6)]  # not a NumPy array: one piece


def test_errors_of_a_piece_reach_the_caller(threads):
    def fn(lo, hi):
        if lo:
            raise ValueError("piece")

    if threads > 1:
        with pytest.raises(ValueError, match="piece"):
            _parallel.run(fn, _parallel.pieces(1000, like=np.empty(0)))


def _gelu(lib, x, g):
    t = lib.from_numpy(x.copy()).requires_grad_()
    y = lib.nn.functional.gelu(t)
    y.backward(lib.from_numpy(g))
    return y.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("shape", [(3, 1001), (8, 64, 512), (7,)])
def test_gelu_split_is_one_pass_bit_for_bit_and_torch(threads, shape, monkeypatch):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    x.reshape(-1)[:6] = [0.0, -0.0, np.inf, -np.inf, 30.0, -30.0]
    g = rng.standard_normal(shape).astype(np.float32)
    got = _bits(_gelu(ndgrad, x, g))
    monkeypatch.setattr(_parallel, "_count", lambda: 1)
    _same_bits(got, _bits(_gelu(ndgrad, x, g)))
    finite = np.isfinite(x)  # (torch's vectorised gelu gives nan at inf)
    for a, b in zip(got, _gelu(torch, x, g)):
        np.testing.assert_allclose(a[finite], b[finite], rtol=2e-6, atol=2e-6)


def _layer_norm(lib, x, g, params, norm):
    ts = [lib.from_numpy(a.copy()).requires_grad_() for a in [x] + params]
    y = lib.nn.functional.layer_norm(ts[0], norm, *ts[1:])
    y.backward(lib.from_numpy(g))
    return [y.detach().numpy()] + [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,norm", [((8, 64, 128), (128,)), ((37, 33), (33,)),
                                        ((5, 6, 7), (6, 7))])
@pytest.mark.parametrize("params", [0, 1, 2])
def test_layer_norm_split_is_one_pass_bit_for_bit_and_torch(threads, dtype, shape, norm,
                                                            params, monkeypatch):
    rng = np.random.default_rng(1)
    x, g = ((rng.standard_normal(shape) * 3 + 1).astype(dtype) for _ in range(2))
    ps = [rng.standard_normal(norm).astype(dtype) for _ in range(params)]
    got = _bits(_layer_norm(ndgrad, x, g, ps, norm))
    monkeypatch.setattr(_parallel, "_count", lambda: 1)
    _same_bits(got, _bits(_layer_norm(ndgrad, x, g, ps, norm)))
    tol = 1e-4 if dtype == "float32" else 1e-10
    for a, b in zip(got, _layer_norm(torch, x, g, ps, norm)):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _adamw(lib, dtype, steps=3):
    rng = np.random.default_rng(2)
    ps = [lib.from_numpy(rng.standard_normal(s).astype(dtype)).requires_grad_()
          for s in [(300, 7), (5,), (40, 40)]]
    opt = lib.optim.AdamW([{"params": ps[:2]}, {"params": ps[2:], "weight_decay": 0.0}],
                          lr=0.01)
    for _ in range(steps):
        for p in ps:
            p.grad = lib.from_numpy(rng.standard_normal(tuple(p.shape)).astype(dtype))
        opt.step()
    st = opt.state[ps[0]]
    return [p.detach().numpy() for p in ps] + [st["exp_avg"].numpy(), st["exp_avg_sq"].numpy()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adamw_flat_split_is_one_pass_bit_for_bit_and_torch(threads, dtype, monkeypatch):
    got = _bits(_adamw(ndgrad, dtype))
    monkeypatch.setattr(_parallel, "_count", lambda: 1)
    _same_bits(got, _bits(_adamw(ndgrad, dtype)))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(got, _adamw(torch, dtype)):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _sdpa(lib, arrays, mask, causal):
    q, k, v, g = (lib.from_numpy(a.copy()) for a in arrays)
    for t in (q, k, v):
        t.requires_grad_()
    qt, kt, vt = (t.transpose(1, 2) for t in (q, k, v))  # nanoGPT's head views (strided)
    m = None if mask is None else lib.from_numpy(mask)
    y = lib.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=m, is_causal=causal)
    y.backward(g)
    return [y.detach().numpy()] + [t.grad.numpy() for t in (q, k, v)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mask", [None, "causal", "batch", "keys", "dead"])
def test_sdpa_split_over_the_batch_is_one_pass_bit_for_bit_and_torch(threads, dtype, mask,
                                                                     monkeypatch):
    rng = np.random.default_rng(3)
    b, t, h, e = 5, 9, 3, 4
    arrays = [rng.standard_normal((b, t, h, e)).astype(dtype) for _ in range(3)]
    arrays.append(rng.standard_normal((b, h, t, e)).astype(dtype))
    m = None
    if mask in ("batch", "dead"):
        m = rng.standard_normal((b, 1, t, t)).astype(dtype)
    elif mask == "keys":
        m = rng.standard_normal((t, t)).astype(dtype)
    if mask == "dead":
        m = m > 0
        m[1, 0, 2] = False  # a query that sees no key: zeros
    got = _bits(_sdpa(ndgrad, arrays, m, mask == "causal"))
    monkeypatch.setattr(_parallel, "_count", lambda: 1)
    _same_bits(got, _bits(_sdpa(ndgrad, arrays, m, mask == "causal")))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, b_ in zip(got, _sdpa(torch, arrays, m, mask == "causal")):
        np.testing.assert_allclose(a, b_, rtol=tol, atol=tol)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_splits_on_threads_of_its_own(monkeypatch):
    """A DataLoader worker forked after the parent used the pool: the parent's pool threads are
    gone there, so the child makes a pool of its own (it waited forever on the parent's)."""
    import os

    monkeypatch.setattr(_parallel, "_count", lambda: 2)
    monkeypatch.setattr(_parallel, "MIN_WORK", 1)
    monkeypatch.setattr(_parallel, "ENABLED", True)
    x = ndgrad.randn(4, 100)
    y = ndgrad.nn.functional.gelu(x).numpy()  # the parent's pool
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 3
        try:
            done = []
            _parallel.run(lambda lo, hi: done.append(hi), [(0, 1), (1, 2)])
            ok = done and np.array_equal(ndgrad.nn.functional.gelu(x).numpy(), y)
            code = 0 if ok else 4
        finally:
            os._exit(code)
    import signal
    import time

    for _ in range(200):  # the child's exit, or a hang
        got, status = os.waitpid(pid, os.WNOHANG)
        if got:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on the parent's pool")
    assert os.waitstatus_to_exitcode(status) == 0
