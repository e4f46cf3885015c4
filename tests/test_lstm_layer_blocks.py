"""The float32 LSTM layer on one BLAS thread, where each step's GEMM runs as row blocks (OpenBLAS's
small-matrix GEMM, see _lstm_layer._blocks): outputs, final states and every gradient match
torch's at the char LSTM's sizes, forward and reverse (bidirectional)."""

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad.nn._functional._lstm_layer import _blocks


@pytest.fixture
def one_thread():
    before = ndgrad.get_num_threads()
    ndgrad.set_num_threads(1)
    yield
    ndgrad.set_num_threads(before)


def test_blocks_only_on_one_thread(one_thread):
    assert [(b.start, b.stop) for b in _blocks(np, 512, 161, 16)] == [(0, 256), (256, 512)]
    assert _blocks(np, 512, 161, 64) == [slice(0, 512)]  # a wide product: the general GEMM
    assert _blocks(np, 128, 161, 16) == [slice(0, 128)]  # small already
    ndgrad.set_num_threads(2)
    assert _blocks(np, 512, 161, 16) == [slice(0, 512)]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_layer_in_blocks_matches_torch(one_thread, bidirectional):
    torch.manual_seed(0)
    tm = torch.nn.LSTM(32, 128, batch_first=True, bidirectional=bidirectional)
    nm = ndgrad.nn.LSTM(32, 128, batch_first=True, bidirectional=bidirectional)
    nm.load_state_dict({k: ndgrad.from_numpy(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})
    dirs = 2 if bidirectional else 1
    rng = np.random.default_rng(3)
    a = rng.standard_normal((16, 32, 32)).astype(np.float32)
    h0, c0 = (rng.standard_normal((dirs, 16, 128)).astype(np.float32) for _ in range(2))
    gy = rng.standard_normal((16, 32, 128 * dirs)).astype(np.float32)
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


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("T", [1, 5])
def test_zero_initial_state_matches_torch(threads, T):
    """No hx (zeros): the layer's first step skips W_hh and dW_hh skips h0; both directions."""
    before = ndgrad.get_num_threads()
    ndgrad.set_num_threads(threads)
    try:
        torch.manual_seed(1)
        tm = torch.nn.LSTM(8, 128, bidirectional=True)
        nm = ndgrad.nn.LSTM(8, 128, bidirectional=True)
        nm.load_state_dict({k: ndgrad.from_numpy(v.detach().numpy().copy())
                            for k, v in tm.state_dict().items()})
        a = np.random.default_rng(4).standard_normal((T, 16, 8)).astype(np.float32)
        res = []
        for lib, m in ((torch, tm), (ndgrad, nm)):
            x = lib.from_numpy(a.copy()).requires_grad_()
            out, (hn, cn) = m(x)
            (out.square().sum() + hn.sum() + cn.square().sum()).backward()
            res.append([out, hn, cn, x.grad] + [p.grad for _, p in sorted(m.named_parameters())])
        for k, (want, got) in enumerate(zip(*res)):
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-4,
                                       atol=1e-5, err_msg=f"item {k}")
    finally:
        ndgrad.set_num_threads(before)
