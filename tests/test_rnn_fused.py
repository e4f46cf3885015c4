"""float32 LSTM layers run as one node per layer and direction, as torch's CPU path
(MkldnnRnnLayerBackward0): the graph is torch's, values and gradients (first and second order)
match torch's, the node passes gradcheck and gradgradcheck in float64, and its reused work arrays
never overwrite what a caller still holds."""

import numpy as np
import pytest
import torch
from test_nn_graph import same_graph

import ndgrad
from ndgrad.nn._functional._lstm_layer import MkldnnRnnLayer

R = np.random.default_rng(3)

CONFIGS = {
    "plain": ({}, (4, 2, 3)),
    "2layer_bi_batch_first": ({"num_layers": 2, "bidirectional": True, "batch_first": True},
                              (2, 4, 3)),
    "no_bias": ({"bias": False}, (4, 2, 3)),
    "unbatched": ({}, (4, 3)),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_float32_lstm_graph_is_torchs(name):
    opts, shape = CONFIGS[name]

    def make(T):
        m = T.nn.LSTM(3, 2, **opts)
        x = T.tensor(np.linspace(-1, 1, int(np.prod(shape)), dtype=np.float32).reshape(shape),
                     requires_grad=True)
        out, (h, c) = m(x)
        return [out, h, c], {**dict(m.named_parameters()), "x": x}

    same_graph(make, 3)


def test_float32_lstm_graph_with_initial_state_is_torchs():
    def make(T):
        m = T.nn.LSTM(3, 2)
        h0 = T.tensor(np.full((1, 2, 2), 0.5, np.float32), requires_grad=True)
        out, (h, c) = m(T.ones(4, 2, 3), (h0, h0 * 2))
        return [out, h, c], {**dict(m.named_parameters()), "h0": h0}

    same_graph(make, 2)


def _pair(opts, dtype="float32"):
    torch.manual_seed(0)
    tm = torch.nn.LSTM(3, 5, **opts).to(getattr(torch, dtype))
    nm = ndgrad.nn.LSTM(3, 5, **opts).to(getattr(ndgrad, dtype))
    nm.load_state_dict({k: ndgrad.from_numpy(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})
    return tm, nm


@pytest.mark.parametrize("opts", [{}, {"num_layers": 2, "bidirectional": True}],
                         ids=["plain", "2layer_bi"])
def test_float32_lstm_double_backward_matches_torch(opts):
    tm, nm = _pair(opts)
    a = R.uniform(-1, 1, (6, 2, 3)).astype(np.float32)
    res = []
    for T, m in ((torch, tm), (ndgrad, nm)):
        x = T.from_numpy(a.copy()).requires_grad_()
        out, (h, c) = m(x)
        loss = (out ** 2).sum() + (h * c).sum()
        gx, gw = T.autograd.grad(loss, [x, m.weight_hh_l0], create_graph=True)
        ((gx ** 2).sum() + (gw ** 2).sum()).backward()
        res.append([out, gx, gw, x.grad, m.weight_ih_l0.grad, m.bias_hh_l0.grad])
    for i, (w, g) in enumerate(zip(*res)):
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=2e-4, atol=2e-5,
                                   err_msg=f"item {i}")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_node_gradcheck_and_gradgradcheck(reverse, bias):
    def t(*shape):
        return ndgrad.from_numpy(R.uniform(-1, 1, shape)).requires_grad_()

    H = 3
    args = [t(4, 2, 2), t(4 * H, 2), t(4 * H, H), t(4 * H) if bias else None,
            t(4 * H) if bias else None, t(2, H), t(2, H)]

    def f(*a):
        return MkldnnRnnLayer.apply(*a, reverse=reverse)

    assert ndgrad.autograd.gradcheck(f, args)
    assert ndgrad.autograd.gradgradcheck(f, args)


def test_layer_node_raw_backward_matches_composed_backward():
    tm, nm = _pair({"bidirectional": True})
    a = R.uniform(-1, 1, (5, 3, 3)).astype(np.float32)
    grads = []
    for create in (False, True):
        x = ndgrad.from_numpy(a.copy()).requires_grad_()
        out, (h, c) = nm(x)
        params = list(nm.parameters())
        g = ndgrad.autograd.grad((out * out).sum() + c.sum(), [x] + params, create_graph=create)
        grads.append([t.detach().numpy() for t in g])
    for raw, full in zip(*grads):
        np.testing.assert_allclose(raw, full, rtol=1e-5, atol=1e-6)


def test_work_arrays_never_overwrite_held_results():
    _, nm = _pair({})
    a = ndgrad.from_numpy(R.uniform(-1, 1, (4, 2, 3)).astype(np.float32))
    out1, (h1, c1) = nm(a)
    keep = [t.detach().numpy().copy() for t in (out1, h1, c1)]
    with ndgrad.no_grad():
        nm(a * 2)
    out3, _ = nm(a * 3)
    out3.sum().backward()
    for t, k in zip((out1, h1, c1), keep):
        np.testing.assert_array_equal(t.detach().numpy(), k)


def test_batch_of_one_outputs_do_not_alias():
    _, nm = _pair({})
    with ndgrad.no_grad():
        out, (h, c) = nm(ndgrad.ones(4, 1, 3))
        last, cell = out[-1].clone(), c.clone()
        out.add_(1)
    np.testing.assert_array_equal(h[0].numpy(), last.numpy())
    np.testing.assert_array_equal(c.numpy(), cell.numpy())
