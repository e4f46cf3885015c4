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


# --- GELU -----------------------------------------------------------------------------------------
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


# --- scaled_dot_product_attention --------------------------------------------------------------
def _qkv(shape_q, shape_k, dtype="float32", seed=3):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in (shape_q, shape_k, shape_k)]


def _sdpa_both(arrs, first_order=True, **kw):
    """Output and q/k/v gradients for ndgrad and torch (not first_order: with create_graph, and
    the fused kernel's gradient refuses to be differentiated in both)."""
    res = []
    for lib in (ndgrad, torch):
        ts = [lib.from_numpy(a.copy()).requires_grad_() for a in arrs]
        mask = kw.get("attn_mask")
        kw2 = dict(kw, attn_mask=None if mask is None else lib.from_numpy(mask.copy()))
        y = lib.nn.functional.scaled_dot_product_attention(*ts, **kw2)
        w = lib.from_numpy(np.cos(np.arange(y.numel(), dtype=arrs[0].dtype)).reshape(y.shape))
        grads = lib.autograd.grad((y * w).sum(), ts, create_graph=not first_order)
        out = [y] + list(grads)
        if not first_order:
            with pytest.raises(RuntimeError, match="derivative for aten::_scaled_dot_product_"
                                                   "flash_attention_for_cpu_backward is not"):
                lib.autograd.grad(sum((g * g).sum() for g in grads), ts)
        res.append([t.detach().float().numpy() for t in out])
    return res


@pytest.mark.parametrize("nq,nk", [(16, 16), (5, 9), (9, 5)])
@pytest.mark.parametrize("first_order", [True, False])
def test_sdpa_causal_matches_torch(nq, nk, first_order):
    arrs = _qkv((2, 3, nq, 8), (2, 3, nk, 8))
    a, b = _sdpa_both(arrs, first_order, is_causal=True)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["bool", "float", "dead_rows", "broadcast"])
def test_sdpa_masks_match_torch(kind):
    arrs = _qkv((2, 2, 6, 4), (2, 2, 7, 4), seed=4)
    rng = np.random.default_rng(5)
    mask = {"bool": rng.random((2, 2, 6, 7)) > 0.3,
            "float": rng.standard_normal((2, 2, 6, 7)).astype(np.float32),
            "dead_rows": np.tile(np.arange(6)[:, None] > 1, (1, 7)),  # rows 0-1 see nothing
            "broadcast": rng.standard_normal((6, 7)).astype(np.float32)}[kind]
    for first_order in (True, False):
        a, b = _sdpa_both(arrs, first_order, attn_mask=mask)
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


def test_sdpa_causal_half_and_double():
    for dtype, tol in (("float16", 5e-3), ("float64", 1e-12)):
        arrs = _qkv((1, 2, 7, 4), (1, 2, 7, 4), dtype, seed=6)
        a, b = _sdpa_both(arrs, True, is_causal=True)
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=tol, atol=tol)


def test_sdpa_causal_gradgradcheck():
    rng = np.random.default_rng(7)
    q, k, v = (ndgrad.tensor(rng.standard_normal((1, 2, 4, 3)), requires_grad=True)
               for _ in range(3))

    def f(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert ndgrad.autograd.gradcheck(f, (q, k, v))
    with pytest.raises(RuntimeError, match="is not implemented"):  # as torch's fused kernel
        ndgrad.autograd.gradgradcheck(f, (q, k, v))


def test_sdpa_causal_output_layout_and_node():
    q, k, v = (ndgrad.randn(2, 5, 3, 4).transpose(1, 2).requires_grad_() for _ in range(3))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert type(y.grad_fn).__name__ == "ScaledDotProductFlashAttentionForCpuBackward0"
    assert y.transpose(1, 2).is_contiguous()  # the query's strides, as torch's kernel


# --- layer_norm, embedding ---------------------------------------------------------------------
def _both_grads(fn_nd, fn_t, arrs, second=False):
    res = []
    for lib, fn in ((ndgrad, fn_nd), (torch, fn_t)):
        ts = [lib.from_numpy(a.copy()).requires_grad_() for a in arrs]
        y = fn(lib, *ts)
        w = lib.from_numpy(np.sin(np.arange(y.numel(), dtype=arrs[0].dtype)).reshape(y.shape))
        grads = lib.autograd.grad((y * w).sum(), ts, create_graph=second)
        out = [y] + list(grads)
        if second:
            hs = lib.autograd.grad(sum((g * g).sum() for g in grads), ts, allow_unused=True)
            out += [lib.zeros_like(t) if h is None else h for h, t in zip(hs, ts)]
        res.append([t.detach().numpy() for t in out])
    return res


@pytest.mark.parametrize("shape,norm", [((4, 6, 16), (16,)), ((3, 5, 4), (5, 4)), ((7,), (7,))])
@pytest.mark.parametrize("second", [False, True])
def test_layer_norm_matches_torch(shape, norm, second):
    rng = np.random.default_rng(8)
    arrs = [rng.standard_normal(shape).astype(np.float32) * 3 + 1,
            rng.standard_normal(norm).astype(np.float32),
            rng.standard_normal(norm).astype(np.float32)]

    def fn(lib, x, w, b):
        return lib.nn.functional.layer_norm(x, norm, w, b)
    a, b = _both_grads(fn, fn, arrs, second)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=2e-4, atol=2e-4)


def test_layer_norm_no_affine_and_gradgradcheck():
    x = ndgrad.tensor(np.random.default_rng(9).standard_normal((3, 5)), requires_grad=True)
    w = ndgrad.tensor(np.random.default_rng(10).standard_normal(5), requires_grad=True)
    assert ndgrad.autograd.gradgradcheck(lambda x, w: F.layer_norm(x, (5,), w, w * 2), (x, w))
    y = F.layer_norm(x, (5,))  # the output is x-hat itself: changing it must not reach backward
    (g1,) = ndgrad.autograd.grad(y.pow(2).sum(), x, retain_graph=False)
    t = torch.from_numpy(x.detach().numpy()).requires_grad_()
    (g2,) = torch.autograd.grad(TF.layer_norm(t, (5,)).pow(2).sum(), t)
    _close(g1, g2, 1e-10, 1e-10)


@pytest.mark.parametrize("padding_idx", [None, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_backward_matches_torch(padding_idx, dtype):
    rng = np.random.default_rng(11)
    idx = rng.integers(0, 7, (5, 9))
    w = rng.standard_normal((7, 6)).astype(dtype)
    g = rng.standard_normal((5, 9, 6)).astype(dtype)
    out = []
    for lib in (ndgrad, torch):
        wt = lib.from_numpy(w.copy()).requires_grad_()
        gt = lib.from_numpy(g.copy()).requires_grad_()
        y = lib.nn.functional.embedding(lib.from_numpy(idx), wt, padding_idx=padding_idx)
        (gw,) = lib.autograd.grad(y, wt, gt, create_graph=True)
        (gg,) = lib.autograd.grad((gw * gw).sum(), gt)  # embedding's double backward: a gather
        out.append((gw.detach().numpy(), gg.numpy()))
    for u, v in zip(*out):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-5)


def test_gpt_block_step_matches_torch():
    """A nanoGPT block (layer_norm, causal sdpa, GELU MLP) with the same weights: loss and every
    parameter's gradient as torch's."""
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1]))
    from bench.models import _gpt_classes

    grads = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        model = _gpt_classes(lib)(65, 16, n_layer=2, n_head=4, n_embd=32)
        if lib is ndgrad:
            state = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
        else:
            model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        data = np.random.default_rng(12).integers(0, 65, (3, 17))
        x, y = (lib.from_numpy(np.ascontiguousarray(a)) for a in (data[:, :-1], data[:, 1:]))
        loss = model(x, y)
        loss.backward()
        grads.append([loss.detach().numpy()] + [p.grad.numpy() for p in model.parameters()])
    for u, v in zip(*grads):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)


# --- cross_entropy with the classes in dim 1 ---------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 7, 5), (2, 7, 3, 4), (7,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_class_dim_1_matches_torch(shape, reduction):
    rng = np.random.default_rng(13)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, 7, shape[:1] + shape[2:] if len(shape) > 1 else ())
    if t.ndim:
        t.reshape(-1)[::3] = -100  # some ignored
    out = []
    for lib in (ndgrad, torch):
        xt = lib.from_numpy(x.copy()).requires_grad_()
        loss = lib.nn.functional.cross_entropy(xt, lib.from_numpy(np.asarray(t)),
                                               reduction=reduction)
        w = lib.from_numpy(np.cos(np.arange(loss.numel(), dtype=np.float32)).reshape(loss.shape))
        (g,) = lib.autograd.grad((loss * w).sum(), xt, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), xt)
        out.append([v.detach().numpy() for v in (loss, g, h)])
    for u, v in zip(*out):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


def test_sdpa_recomputes_probabilities_past_the_size_limit(monkeypatch):
    from ndgrad.nn._functional import attention

    arrs = _qkv((2, 2, 9, 4), (2, 2, 9, 4), seed=14)
    want = _sdpa_both(arrs, True, is_causal=True)[1]
    monkeypatch.setattr(attention, "_KEEP_PROBS_BYTES", 0)
    got = _sdpa_both(arrs, True, is_causal=True)[0]
    for u, v in zip(got, want):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)
