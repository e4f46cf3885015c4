"""Second derivatives torch refuses: ops whose backward kernel has no derivative of its own
(cdist's _cdist_backward, the margin losses', embedding_bag's, sdpa's fused CPU kernel). ndgrad
raises torch's error (type and message) where torch does, and only there: which inputs the
kernel reads decides whether a first derivative has a graph at all (embedding_bag's weight
gradient reads the cotangent only). First derivatives and outputs against torch too."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndgrad


def F(T):
    return T.nn.functional


def _outcome(T, fn, arrays, cot_grad):
    """(output, first grads, second-order outcome) of ``fn`` at float64 leaves: the second
    order is the gradient of sum(g * g) (an error as (type name, message), or the values)."""
    xs = [T.tensor(a, requires_grad=True) for a in arrays]
    out = fn(T, *xs)
    cot = T.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)),
                   requires_grad=cot_grad)
    gs = T.autograd.grad(out, xs, cot, create_graph=True, allow_unused=True)
    first = [None if g is None else g.detach().numpy().copy() for g in gs]
    live = [g for g in gs if g is not None and g.requires_grad]
    if not live:
        return out.detach().numpy(), first, "no graph"
    total = sum((g * g).sum() for g in live)
    try:
        second = T.autograd.grad(total, xs + ([cot] if cot_grad else []), allow_unused=True)
    except (RuntimeError, NotImplementedError) as e:
        return out.detach().numpy(), first, (type(e).__name__, str(e))
    return out.detach().numpy(), first, [None if h is None else h.numpy() for h in second]


rng = np.random.default_rng(0)
A34, A24, A44 = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.random((4, 3))
Q = rng.standard_normal((3, 2, 2, 3, 4))
IDX, OFF = [0, 2, 1, 2, 3], [0, 2]

CASES = {
    **{f"cdist p={p}": (lambda T, a, b, p=p: T.cdist(a, b, p=p), (A34, A24))
       for p in (0, 1, 1.5, 2, 3, float("inf"))},
    "cdist p=2 mm": (lambda T, a, b: T.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
                     (A34, A24)),
    "cdist batched": (lambda T, a, b: T.cdist(a, b, p=1), (Q[0, 0], Q[1, 0, :1])),
    "multi_margin_loss": (lambda T, x: F(T).multi_margin_loss(x, T.tensor([0, 1, 3])), (A34,)),
    "multi_margin_loss p=2 none": (lambda T, x: F(T).multi_margin_loss(
        x, T.tensor([0, 1, 3]), p=2, weight=T.ones(4, dtype=T.float64), reduction="none"),
        (A34,)),
    "multilabel_margin_loss": (lambda T, x: F(T).multilabel_margin_loss(
        x, T.tensor([[0, 1, -1, 2], [3, -1, 0, 0], [1, 2, 3, 0]])), (A34,)),
    **{f"embedding_bag {m}": (lambda T, w, m=m: F(T).embedding_bag(
        T.tensor(IDX), w, T.tensor(OFF), mode=m), (A44,)) for m in ("sum", "mean", "max")},
    "embedding_bag per_sample_weights": (lambda T, w, p: F(T).embedding_bag(
        T.tensor(IDX), w, T.tensor(OFF), mode="sum", per_sample_weights=p),
        (A44, np.arange(5.0))),
    "embedding_bag per_sample_weights only": (lambda T, p: F(T).embedding_bag(
        T.tensor(IDX), T.ones(4, 3, dtype=T.float64), T.tensor(OFF), mode="sum",
        per_sample_weights=p), (np.arange(5.0),)),
    "sdpa flash": (lambda T, q, k, v: F(T).scaled_dot_product_attention(q, k, v), tuple(Q)),
    "sdpa flash causal": (lambda T, q, k, v: F(T).scaled_dot_product_attention(
        q, k, v, is_causal=True), tuple(Q)),
    "sdpa flash gqa": (lambda T, q, k, v: F(T).scaled_dot_product_attention(
        q, k[:, :1], v[:, :1], enable_gqa=True), tuple(Q)),
    "sdpa mask with grad (math)": (lambda T, q, k, v, m: F(T).scaled_dot_product_attention(
        q, k, v, attn_mask=m), tuple(Q) + (A34[:, :3],)),
    "sdpa 3-d (math)": (lambda T, q, k, v: F(T).scaled_dot_product_attention(q, k, v),
                        tuple(Q[:, 0])),
}


@pytest.mark.parametrize("cot_grad", [True, False], ids=["cot-grad", "cot-const"])
@pytest.mark.parametrize("name", list(CASES))
def test_second_order_refused_where_torch_refuses(name, cot_grad):
    fn, arrays = CASES[name]
    want = _outcome(torch, fn, arrays, cot_grad)
    got = _outcome(ndgrad, fn, arrays, cot_grad)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
    for a, b in zip(got[1], want[1]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    if isinstance(want[2], list):
        assert isinstance(got[2], list), got[2]
        for a, b in zip(got[2], want[2]):
            if a is None or b is None:
                assert not np.any(a if b is None else b)
            else:
                np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    else:
        assert got[2] == want[2]


def test_flash_sdpa_node_and_mask_gradient_as_torch():
    """torch takes its fused kernel for gqa too, and the math path for a mask that needs its
    gradient (the fused kernel gives none)."""
    names = []
    for T in (torch, ndgrad):
        q, k, m = (T.tensor(a, requires_grad=True) for a in (Q[0], Q[1, :, :1], A34[:, :3]))
        a = F(T).scaled_dot_product_attention(q, k, k, enable_gqa=True)
        b = F(T).scaled_dot_product_attention(q, q, q, attn_mask=m)
        b.sum().backward()
        names.append((a.grad_fn.name(), b.grad_fn.name(), m.grad.numpy().copy()))
    assert names[0][:2] == names[1][:2]
    np.testing.assert_allclose(names[1][2], names[0][2], rtol=1e-10, atol=1e-12)


def test_margin_loss_weight_refuses_grad_as_torch():
    for T in (torch, ndgrad):
        w = T.ones(4, dtype=T.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="'multi_margin_loss' is not differentiable with "
                                               "respect to argument 'weight'"):
            F(T).multi_margin_loss(T.zeros(3, 4, dtype=T.float64), T.tensor([0, 1, 3]), weight=w)
