"""Op-table entries for torch's recurrent ops with ATen's signatures (torch.lstm, gru, rnn_tanh,
rnn_relu over padded and packed input, and the *_cell ops)."""

from op_db import OpInfo, arr, register


def _weights(I, H, layers=1, dirs=1, gates=4, bias=True):
    shapes = []
    for layer in range(layers):
        for _ in range(dirs):
            shapes += [(gates * H, I if layer == 0 else H * dirs), (gates * H, H)]
            shapes += [(gates * H,), (gates * H,)] if bias else []
    return shapes


def _samples(*cases):
    """Each case: (shapes of the float inputs, kwargs)."""

    def samples(rng, dtype):
        for ss, kw in cases:
            yield [arr(rng, s, dtype, -1.0, 1.0) for s in ss], dict(kw)

    return samples


def _lstm(T, x, h, c, *params, bias=True, layers=1, bi=False, bf=False, train=False):
    return T.lstm(x, (h, c), params, bias, layers, 0.0, train, bi, bf)


def _simple(name):
    def fn(T, x, h, *params, bias=True, layers=1, bi=False, bf=False):
        return getattr(T, name)(x, h, list(params), bias, layers, 0.0, False, bi, bf)
    return fn


def _packed(name):
    """The packed overload: (data, batch_sizes, hx, params, ...), batch sizes [3, 2, 1]."""

    def fn(T, data, *rest, bias=True):
        sizes = T.tensor([3, 2, 1])
        if name == "lstm":
            return T.lstm(data, sizes, rest[:2], rest[2:], bias, 1, 0.0, False, False)
        return getattr(T, name)(data, sizes, rest[0], list(rest[1:]), bias, 1, 0.0, False, False)
    return fn


LSTM_CASES = _samples(
    ([(4, 2, 3), (1, 2, 5), (1, 2, 5)] + _weights(3, 5), {}),
    ([(2, 4, 3), (4, 2, 3), (4, 2, 3)] + _weights(3, 3, 2, 2), {"layers": 2, "bi": True,
                                                               "bf": True}),
    ([(3, 2, 2), (1, 2, 3), (1, 2, 3)] + _weights(2, 3, bias=False), {"bias": False}),
)


def _simple_cases(gates):
    return _samples(
        ([(4, 2, 3), (1, 2, 5)] + _weights(3, 5, gates=gates), {}),
        ([(2, 4, 3), (4, 2, 3)] + _weights(3, 3, 2, 2, gates=gates), {"layers": 2, "bi": True,
                                                                      "bf": True}),
    )


def _cell(name, gates):
    def fn(T, x, h, *w):
        if name == "lstm_cell":
            return T.lstm_cell(x, (h, h * 0.5), *w)
        return getattr(T, name)(x, h, *w)
    return OpInfo(name, fn, _samples(([(2, 3), (2, 4), (gates * 4, 3), (gates * 4, 4),
                                       (gates * 4,), (gates * 4,)], {}),
                                     ([(2, 3), (2, 4), (gates * 4, 3), (gates * 4, 4)], {})))


register(
    OpInfo("lstm", _lstm, LSTM_CASES, grad_rtol=1e-4, grad_atol=1e-5),
    # float32 first: torch's (and ndgrad's) one-node-per-layer path, MkldnnRnnLayerBackward0
    OpInfo("lstm_float32_layer", _lstm, LSTM_CASES, dtypes=("float32",), tags=("lstm",),
           grad_rtol=1e-4, grad_atol=1e-5),
    OpInfo("lstm_packed", _packed("lstm"), _samples(
        ([(6, 3), (1, 3, 4), (1, 3, 4)] + _weights(3, 4), {}),), tags=("lstm",)),
    OpInfo("gru", _simple("gru"), _simple_cases(3)),
    OpInfo("gru_packed", _packed("gru"), _samples(([(6, 3), (1, 3, 4)] + _weights(3, 4, gates=3),
                                                   {}),), tags=("gru",)),
    OpInfo("rnn_tanh", _simple("rnn_tanh"), _simple_cases(1)),
    OpInfo("rnn_relu", _simple("rnn_relu"), _simple_cases(1)),
    OpInfo("rnn_relu_packed", _packed("rnn_relu"), _samples(
        ([(6, 3), (1, 3, 4)] + _weights(3, 4, gates=1), {}),), tags=("rnn_relu",)),
    _cell("lstm_cell", 4), _cell("gru_cell", 3), _cell("rnn_tanh_cell", 1),
    _cell("rnn_relu_cell", 1),
)
