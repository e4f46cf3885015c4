"""The one-node float32 LSTM layer at a trained model's sizes (hidden 128, batch 16, 32 steps, as
bench's char LSTM) and with saturated gates: outputs, final states and every gradient match
torch's (the layer computes sigmoid through tanh and folds the input projection into the step's
GEMM, so these are checked where rounding accumulates and where gates reach 0 and 1)."""

import numpy as np
import pytest
import torch

import ndgrad


def _pair(opts, shift=0.0):
    """torch's and ndgrad's LSTM(32, 128) with the same weights; ``shift`` added to every
    other input bias with alternating sign, to drive those gates to 0 and 1."""
    torch.manual_seed(0)
    tm = torch.nn.LSTM(32, 128, **opts)
    with torch.no_grad():
        for name, p in tm.named_parameters():
            if name.startswith("bias_ih"):
                p.add_(torch.tensor(np.resize([shift, 0, -shift], p.shape), dtype=p.dtype))
    nm = ndgrad.nn.LSTM(32, 128, **opts)
    nm.load_state_dict({k: ndgrad.from_numpy(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})
    return tm, nm


@pytest.mark.parametrize("opts", [{"batch_first": True}, {"bidirectional": True},
                                  {"bias": False}], ids=["batch_first", "bidirectional",
                                                         "no_bias"])
@pytest.mark.parametrize("shift", [0.0, 30.0], ids=["plain", "saturated"])
def test_layer_matches_torch_at_model_size(opts, shift):
    if shift and not opts.get("bias", True):
        pytest.skip("no bias to shift")
    tm, nm = _pair(opts, shift)
    rng = np.random.default_rng(1)
    shape = (16, 32, 32) if opts.get("batch_first") else (32, 16, 32)
    dirs = 2 if opts.get("bidirectional") else 1
    a = rng.standard_normal(shape).astype(np.float32)
    h0 = rng.standard_normal((dirs, 16, 128)).astype(np.float32)
    c0 = rng.standard_normal((dirs, 16, 128)).astype(np.float32)
    gy = rng.standard_normal(shape[:2] + (128 * dirs,)).astype(np.float32)
    res = []
    for T, m in ((torch, tm), (ndgrad, nm)):
        x, h, c = (T.from_numpy(v.copy()).requires_grad_() for v in (a, h0, c0))
        out, (hn, cn) = m(x, (h, c))
        ((out * T.from_numpy(gy)).sum() + (hn * cn).sum()).backward()
        res.append([out, hn, cn, x.grad, h.grad, c.grad] +
                   [p.grad for _, p in sorted(m.named_parameters())])
    for k, (want, got) in enumerate(zip(*res)):
        w, g = want.detach().numpy(), got.detach().numpy()
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(w).max()),
                                   err_msg=f"item {k}")


def test_saturated_gates_are_exactly_zero_and_one():
    """Pre-activations of +-1e4 (exp(-z) overflows in float32): sigmoid is 0 or 1, with no
    NaN, as torch's."""
    tm, nm = _pair({})
    with torch.no_grad():
        tm.bias_ih_l0.copy_(torch.tensor(np.tile([1e4, -1e4], 256), dtype=torch.float32))
    nm.bias_ih_l0.data = ndgrad.from_numpy(tm.bias_ih_l0.detach().numpy().copy())
    a = np.random.default_rng(2).standard_normal((5, 3, 32)).astype(np.float32)
    got = nm(ndgrad.from_numpy(a))[0].detach().numpy()
    want = tm(torch.from_numpy(a))[0].detach().numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
