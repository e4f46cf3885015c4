"""The model steps' kernels (issue 14) against torch, where their fast paths differ from the
general ones: embedding's backward bit for bit (torch's index_add_ order), GELU's float32 erf
on views and 0-d, layer norm's rows path and nll's (N, C) path bit for bit the general ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndgrad


def _embedding_grad(lib, idx, w, g):
    wt = lib.from_numpy(w.copy()).requires_grad_()
    lib.nn.functional.embedding(lib.from_numpy(idx), wt).backward(lib.from_numpy(g))
    return wt.grad.numpy()


@pytest.mark.parametrize("case", ["repeated", "arange", "one", "int32", "float64", "3d"])
def test_embedding_backward_is_torch_bit_for_bit(case):
    """Repeated indices sum in torch's order (sequential), unique increasing ones (positions)
    are written once; -0.0 gradients give +0.0 (0 + -0.0), as torch's sum."""
    rng = np.random.default_rng(0)
    num, d, dt = 65, 24, "float64" if case == "float64" else "float32"
    idx = {"arange": np.arange(num), "one": np.array([3])}.get(case)
    if idx is None:
        idx = rng.integers(0, num, (8, 64) if case != "3d" else (2, 3, 40))
    idx = idx.astype(np.int32 if case == "int32" else np.int64)
    g = rng.standard_normal(idx.shape + (d,)).astype(dt) * 10.0 ** rng.integers(-3, 4, d)
    g.reshape(-1, d)[::5, ::3] = -0.0
    w = rng.standard_normal((num, d)).astype(dt)
    a, b = _embedding_grad(ndgrad, idx, w, g), _embedding_grad(torch, idx, w, g)
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)
    assert np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("shape", [(), (3, 40), (40, 3)])
def test_gelu_float32_strided_and_0d_match_torch(shape, monkeypatch):
    """torch's float erf formula on views (the sign read through an int32 view of any strides)
    and on 0-d input; the backward from the forward's Phi and exp(-x^2/2)."""
    import sys

    monkeypatch.setitem(sys.modules, "scipy", None)
    x = np.asarray(np.random.default_rng(1).standard_normal(shape) * 4, np.float32)
    if x.ndim:
        x.reshape(-1)[:3] = [0.0, -0.0, -20.0]
    res = []
    for lib in (ndgrad, torch):
        t = lib.from_numpy(x.copy()).requires_grad_()
        v = t.T if t.ndim else t
        y = lib.nn.functional.gelu(v)
        y.backward(lib.ones_like(y) * 0.5)
        res.append((y.detach().numpy(), t.grad.numpy()))
    for a, b in zip(*res):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_nll_rows_fast_path_is_the_general_one_bit_for_bit(reduction):
    """cross_entropy on (N, C) with no weight and no ignored target (its own path) gives the bits
    of the general path (weights of one), and torch's values, first and second derivatives."""
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((37, 27)) * 3).astype(np.float32)
    t = rng.integers(0, 27, 37)
    out = []
    for lib, kw in ((ndgrad, {}), (ndgrad, {"weight": ndgrad.ones(27)}), (torch, {})):
        xt = lib.from_numpy(x.copy()).requires_grad_()
        loss = lib.nn.functional.cross_entropy(xt, lib.from_numpy(t), reduction=reduction,
                                               ignore_index=-1, **kw)
        (g,) = lib.autograd.grad(loss * 1.5, xt, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), xt)
        out.append([v.detach().numpy() for v in (loss, g, h)])
    for a, b, c in zip(*out):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,norm", [((4, 6, 16), (16,)), ((3, 5, 4), (5, 4)), ((7,), (7,)),
                                        ((2, 1), (1,))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_rows_path_is_the_generic_one_bit_for_bit(monkeypatch, dtype, shape, norm,
                                                             affine):
    from ndgrad.nn._functional import norm as norm_mod

    rng = np.random.default_rng(3)
    x, g = ((rng.standard_normal(shape) * 3 + 1).astype(dtype) for _ in range(2))
    params = [rng.standard_normal(norm).astype(dtype) for _ in range(2)] if affine else []
    res = []
    for rows in (True, False):
        if not rows:
            monkeypatch.setattr(norm_mod, "_rows_ok", lambda *a: False)
        ts = [ndgrad.from_numpy(a.copy()).requires_grad_() for a in [x] + params]
        y = ndgrad.nn.functional.layer_norm(ts[0], norm, *ts[1:])
        res.append([y.detach().numpy()] + [
            t.numpy() for t in ndgrad.autograd.grad(y, ts, ndgrad.from_numpy(g))])
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)
        assert np.array_equal(np.signbit(a), np.signbit(b))


def _adam_run(cls, kw, dtype, flat, monkeypatch, steps=4, reload_at=None):
    from ndgrad.optim import _adam_flat

    monkeypatch.setattr(_adam_flat, "_eligible", _ELIGIBLE if flat else lambda *a: None)
    rng = np.random.default_rng(4)
    shapes = [(5, 3), (7,), (), (4, 2, 3)]
    ps = [ndgrad.from_numpy(np.asarray(rng.standard_normal(s), dtype)).requires_grad_()
          for s in shapes]
    opt = cls([{"params": ps[:3]}, {"params": ps[3:], "weight_decay": 0.3}], lr=0.1, **kw)
    out = []
    for i in range(steps):
        for p in ps:
            p.grad = ndgrad.from_numpy(np.asarray(rng.standard_normal(p.shape), dtype))
        ps[0].grad = ndgrad.from_numpy(np.asarray(rng.standard_normal((3, 5)), dtype)).T  # strided
        if i == 2:
            ps[2].grad = None  # a parameter without a gradient this step
        if i == reload_at:
            sd = opt.state_dict()
            opt = cls([{"params": ps[:3]}, {"params": ps[3:], "weight_decay": 0.3}], lr=0.1,
                      **kw)
            opt.load_state_dict(sd)
        opt.step()
        out += [p.detach().numpy().copy() for p in ps]
    st = opt.state[ps[0]]
    return out + [st["exp_avg"].numpy(), st["exp_avg_sq"].numpy(), st["step"].numpy()]


from ndgrad.optim._adam_flat import _eligible as _ELIGIBLE  # noqa: E402


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls,kw", [("AdamW", {}), ("Adam", {"weight_decay": 0.1}),
                                    ("Adam", {"betas": (0.3, 0.9)}), ("AdamW", {"amsgrad": True})])
@pytest.mark.parametrize("reload_at", [None, 1])
def test_adam_flat_step_is_the_per_parameter_one_bit_for_bit(monkeypatch, dtype, cls, kw,
                                                             reload_at):
    """One pass over a group's flat moments gives each parameter the bits of its own update
    (also after load_state_dict, with a strided gradient and a parameter skipped a step)."""
    cls = getattr(ndgrad.optim, cls)
    a = _adam_run(cls, kw, dtype, True, monkeypatch, reload_at=reload_at)
    b = _adam_run(cls, kw, dtype, False, monkeypatch, reload_at=reload_at)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_adam_flat_state_tensors_are_updated_in_place():
    ps = [ndgrad.randn(3, requires_grad=True) for _ in range(3)]
    opt = ndgrad.optim.AdamW(ps)
    for p in ps:
        p.grad = ndgrad.ones(3)
    opt.step()
    m = opt.state[ps[1]]["exp_avg"]
    opt.step()
    assert m is opt.state[ps[1]]["exp_avg"]
    np.testing.assert_allclose(m.numpy(), 0.19, rtol=1e-6)  # 0.1, then 0.9 * 0.1 + 0.1
