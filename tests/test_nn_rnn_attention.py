"""Recurrent layers and attention against torch: a torch state_dict loads as is and gives the same
outputs, final states and gradients."""

import numpy as np
import pytest
import torch
from nn_compare import make_pair, nd, run_pair, same_repr

import ndgrad

R = np.random.default_rng(1)


def x(*shape):
    return R.uniform(-1, 1, shape)


RNNS = {
    "RNN": (lambda T: T.nn.RNN(3, 4), [x(5, 2, 3)]),
    "RNN_relu_2layer_bi": (lambda T: T.nn.RNN(3, 4, 2, nonlinearity="relu", bidirectional=True),
                           [x(4, 2, 3), x(4, 2, 4)]),
    "LSTM": (lambda T: T.nn.LSTM(3, 5), [x(6, 2, 3)]),
    "LSTM_2layer_bi_batch_first": (lambda T: T.nn.LSTM(3, 4, num_layers=2, bidirectional=True,
                                                       batch_first=True), [x(2, 5, 3)]),
    "LSTM_proj_nobias": (lambda T: T.nn.LSTM(3, 6, bias=False, proj_size=2, num_layers=2),
                         [x(4, 2, 3)]),
    "LSTM_unbatched": (lambda T: T.nn.LSTM(3, 4), [x(5, 3)]),
    "GRU": (lambda T: T.nn.GRU(3, 4, num_layers=2), [x(5, 2, 3), x(2, 2, 4)]),
    "GRU_bi_batch_first": (lambda T: T.nn.GRU(2, 3, bidirectional=True, batch_first=True),
                           [x(3, 4, 2)]),
    "RNNCell": (lambda T: T.nn.RNNCell(3, 4, nonlinearity="relu"), [x(2, 3), x(2, 4)]),
    "LSTMCell": (lambda T: T.nn.LSTMCell(3, 4), [x(2, 3)]),
    "GRUCell": (lambda T: T.nn.GRUCell(3, 4), [x(3), x(4)]),
}
CASES = [(n, d) for n in RNNS for d in ("float32", "float64")]


@pytest.mark.parametrize("name,dtype", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_recurrent_layers_match_torch(name, dtype):
    make, inputs = RNNS[name]
    tm, nm = make_pair(make, dtype)
    run_pair(tm, nm, [a.astype(dtype) for a in inputs], dtype, scale=5)
    same_repr(nm, tm)
    assert [n for n, _ in nm.named_parameters()] == [n for n, _ in tm.named_parameters()]


def test_lstm_with_initial_state_tuple():
    tm, nm = make_pair(lambda T: T.nn.LSTM(3, 4, num_layers=2), "float64")
    h, c = x(2, 2, 4), x(2, 2, 4)
    run_pair(tm, nm, [x(5, 2, 3), h, c], call=lambda m, i, a, b: m(i, (a, b)))


def test_rnn_dropout_between_layers_uses_torchs_stream():
    outs = []
    for T in (ndgrad, torch):
        torch.manual_seed(0), ndgrad.manual_seed(0)
        tm = torch.nn.GRU(3, 4, num_layers=3, dropout=0.5)
        m = T.nn.GRU(3, 4, num_layers=3, dropout=0.5)
        m.load_state_dict({k: nd(v) if T is ndgrad else v for k, v in tm.state_dict().items()})
        T.manual_seed(5)
        inp = T.from_numpy(np.linspace(-1, 1, 30).reshape(5, 2, 3))
        outs.append(np.asarray(m.double()(inp)[0].detach()))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10)


def test_rnn_argument_errors_match_torch():
    cases = [
        lambda T: T.nn.LSTM(3, 4)(T.zeros(2, 2, 5)),
        lambda T: T.nn.GRU(3, 4)(T.zeros(2, 3, 3), T.zeros(1, 2, 4)),
        lambda T: T.nn.RNN(3, 4)(T.zeros(2, 3, 3, 1)),
        lambda T: T.nn.LSTM(3, 4)(T.zeros(2, 1, 3, dtype=T.float64)),
        lambda T: T.nn.LSTM(3, 4, proj_size=4),
        lambda T: T.nn.GRU(3, 4, proj_size=2),
        lambda T: T.nn.RNN(3, 4, nonlinearity="gelu"),
        lambda T: T.nn.GRUCell(3, 4)(T.zeros(1, 1, 3)),
    ]
    for case in cases:
        errs = []
        for T in (ndgrad, torch):
            with pytest.raises(Exception) as e:
                case(T)
            errs.append((type(e.value).__name__, str(e.value).replace("ndgrad", "torch")))
        assert errs[0] == errs[1]


# --- attention ------------------------------------------------------------------------------------
def _mha(**kw):
    return lambda T: T.nn.MultiheadAttention(8, 2, **kw)


MHAS = {
    "self": (_mha(), lambda m, a: m(a, a, a), [x(5, 2, 8)]),
    "cross_kdim_vdim": (_mha(kdim=3, vdim=5, batch_first=True),
                        lambda m, q, k, v: m(q, k, v), [x(2, 4, 8), x(2, 6, 3), x(2, 6, 5)]),
    "bias_kv_zero_attn": (_mha(add_bias_kv=True, add_zero_attn=True),
                          lambda m, q, k: m(q, k, k, average_attn_weights=False),
                          [x(3, 2, 8), x(4, 2, 8)]),
    "no_bias_unbatched": (_mha(bias=False), lambda m, a: m(a, a, a), [x(4, 8)]),
    "masks": (_mha(batch_first=True), lambda m, a: m(
        a, a, a, key_padding_mask=m_kpm(a), attn_mask=m_causal(a)), [x(2, 4, 8)]),
    "float_mask_no_weights": (_mha(), lambda m, a: m(
        a, a, a, attn_mask=m_float(a), need_weights=False), [x(4, 2, 8)]),
}


def _lib(t):
    return ndgrad if isinstance(t, ndgrad.Tensor) else torch


def m_kpm(a):
    return _lib(a).tensor([[False, False, True, True], [False, False, False, True]])


def m_causal(a):
    T = _lib(a)
    return T.tensor(np.triu(np.ones((4, 4), dtype=bool), 1))


def m_float(a):
    return _lib(a).from_numpy(np.random.default_rng(3).standard_normal((4, 4)))


CASES_MHA = [(n, d) for n in MHAS for d in ("float32", "float64")]


@pytest.mark.parametrize("name,dtype", CASES_MHA, ids=[f"{n}-{d}" for n, d in CASES_MHA])
def test_multihead_attention_matches_torch(name, dtype):
    make, call, inputs = MHAS[name]
    tm, nm = make_pair(make, dtype)
    if name == "float_mask_no_weights":

        def call(m, a):
            return m(a, a, a, attn_mask=m_float(a).to(a.dtype), need_weights=False)
    run_pair(tm, nm, [a.astype(dtype) for a in inputs], dtype, call=call, scale=5)
    same_repr(nm, tm)


ENCODERS = {
    "layer": lambda T: T.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
    "layer_norm_first_gelu": lambda T: T.nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation="gelu", norm_first=True, batch_first=True),
    "encoder": lambda T: T.nn.TransformerEncoder(
        T.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
        norm=T.nn.LayerNorm(8), enable_nested_tensor=False),
}


@pytest.mark.parametrize("name", list(ENCODERS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_transformer_encoder_matches_torch(name, dtype):
    tm, nm = make_pair(ENCODERS[name], dtype)
    a = x(2, 5, 8).astype(dtype)
    run_pair(tm, nm, [a], dtype, scale=5)
    if name != "layer":  # batch first: a (batch, seq) key padding mask

        def padded(m, t):
            kpm = _lib(t).tensor([[False] * 5, [False, False, False, True, True]])
            return m(t, src_key_padding_mask=kpm)

        run_pair(tm, nm, [a], dtype, scale=5, call=padded)
    same_repr(nm, tm)
    assert list(nm.state_dict()) == list(tm.state_dict())


def test_transformer_encoder_causal_mask_and_eval_padding_like_torch():
    for T in (ndgrad, torch):
        with pytest.warns(UserWarning, match="use_nested_tensor is False because encoder_layer"
                                             ".self_attn.batch_first was not True"):
            T.nn.TransformerEncoder(T.nn.TransformerEncoderLayer(8, 2, 16), 2)
    tm, nm = make_pair(lambda T: T.nn.TransformerEncoder(
        T.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2), "float32")
    tm.eval(), nm.eval()
    a = x(2, 5, 8).astype("float32")
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    with torch.no_grad(), ndgrad.no_grad():
        run_pair(tm, nm, [a], "float32", grad=False, scale=5,
                 call=lambda m, t: m(t, mask=nd(mask) if isinstance(t, ndgrad.Tensor) else mask))
        # inference fast path: padded positions come out as zeros
        run_pair(tm, nm, [a], "float32", grad=False, scale=5, call=lambda m, t: m(
            t, src_key_padding_mask=_lib(t).tensor([[False] * 5, [False] * 3 + [True] * 2])))


def test_mha_errors_match_torch():
    for case in (lambda T: T.nn.MultiheadAttention(7, 2),
                 lambda T: T.nn.MultiheadAttention(8, 2)(T.zeros(2, 8), T.zeros(1, 2, 8),
                                                         T.zeros(1, 2, 8))):
        errs = []
        for T in (ndgrad, torch):
            with pytest.raises(Exception) as e:
                case(T)
            errs.append(type(e.value).__name__)
        assert errs[0] == errs[1]
