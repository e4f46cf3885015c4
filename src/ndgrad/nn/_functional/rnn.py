"""The recurrent layers' computation with ATen's signatures (torch.lstm, gru, rnn_tanh, rnn_relu,
over padded or packed input, and the *_cell ops); nn.RNN/LSTM/GRU call these. As torch on CPU,
float32 LSTM layers without projections run as one primitive per layer (_lstm_layer.py); the
other cases run the per-step cells below, op for op as torch's CPU cells (the graph is torch's)."""

from __future__ import annotations

from ..._errors import dim_out_of_range
from ..._tensor import Tensor
from ._lstm_layer import MkldnnRnnLayer
from .activation import relu, tanh
from .dropout import dropout as _dropout
from .linear import linear

__all__ = ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
           "rnn_relu_cell"]


def _stack(tensors, dim=0):
    from ... import stack  # late: the joins live in a module imported after nn's

    return stack(tensors, dim)


def _cat(tensors, dim=0):
    from ... import cat

    return cat(tensors, dim)


# --- one time step of each cell ------------------------------------------------------------------
def rnn_step(gi, h, w_hh, b_hh, act):
    return act(linear(h, w_hh, b_hh) + gi)  # linear_hh(h).add_(linear_ih(x))


def lstm_step(gi, state, w_hh, b_hh, w_hr=None):
    h, c = state
    gates = linear(h, w_hh, b_hh) + gi  # [input, forget, cell, output]
    i, f, g, o = gates.unsafe_chunk(4, 1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c = f * c + i * g
    h = o * c.tanh()
    if w_hr is not None:
        h = linear(h, w_hr)
    return h, c


def gru_step(gi, h, w_hh, b_hh):
    ir, iz, i_n = gi.unsafe_chunk(3, 1)  # [reset, update, new]
    hr, hz, h_n = linear(h, w_hh, b_hh).unsafe_chunk(3, 1)
    r = (hr + ir).sigmoid()
    z = (hz + iz).sigmoid()
    new = (i_n + h_n * r).tanh()
    return (h - new) * z + new  # (1 - z) * new + z * h


def cell(mode: str, gi, state, w, has_biases: bool):
    """One step of layer weights ``w`` ([w_ih, w_hh, (b_ih, b_hh), (w_hr)]) from input
    projection ``gi``."""
    b_hh = w[3] if has_biases else None
    if mode == "LSTM":
        return lstm_step(gi, state, w[1], b_hh, w[-1] if len(w) in (3, 5) else None)
    if mode == "GRU":
        return gru_step(gi, state, w[1], b_hh)
    return rnn_step(gi, state, w[1], b_hh, relu if mode == "RNN_RELU" else tanh)


def lstm_layer_composed(x, w_ih, w_hh, b_ih, b_hh, hx, cx, reverse=False):
    """One LSTM layer as per-step ops: (output, h, c); MkldnnRnnLayer's higher derivatives."""
    gi = linear(x, w_ih, b_ih).unbind(0)
    state, ys = (hx, cx), [None] * len(gi)
    for t in (range(len(gi) - 1, -1, -1) if reverse else range(len(gi))):
        state = lstm_step(gi[t], state, w_hh, b_hh)
        ys[t] = state[0]
    return _stack(ys), state[0], state[1]


# --- the layers ----------------------------------------------------------------------------------
def _groups(mode, params, has_biases, num_layers, bidirectional, proj):
    per = 2 + 2 * has_biases + proj
    dirs = 2 if bidirectional else 1
    params = list(params)
    if len(params) != per * num_layers * dirs:
        raise RuntimeError("got an incorrect number of RNN parameters")
    return [params[i:i + per] for i in range(0, len(params), per)]


def _fast(mode, x, groups) -> bool:
    """torch's CPU choice of mkldnn_rnn_layer: float32 LSTM without projections."""
    return mode == "LSTM" and x._data.dtype == "float32" and len(groups[0]) in (2, 4) and \
        x.numel() != 0


def _layers(mode, x, hx, groups, has_biases, num_layers, p, train, bidirectional, batch_first):
    """x (T, N, I), or (N, T, I) with batch_first; hx a tensor, or (h, c) for LSTM, with one
    state per layer and direction. Returns the output and the final states."""
    dirs = 2 if bidirectional else 1
    lstm = mode == "LSTM"
    fast = _fast(mode, x, groups)
    x = x.transpose(0, 1) if batch_first else x
    if fast:
        if any(t.dtype is not x.dtype for t in (*hx, *(w for ws in groups for w in ws))):
            raise RuntimeError("get_mkldnn_dtype: unsupported data type")  # torch's, as is
        x = x.contiguous()  # torch's mkldnn layer reads a contiguous input
        states = [(hx[0][k], hx[1][k]) for k in range(num_layers * dirs)]
    else:
        states = list(zip(hx[0].unbind(0), hx[1].unbind(0))) if lstm else hx.unbind(0)
    finals = []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            w = groups[k]
            if fast:
                b = w[2:4] if has_biases else (None, None)
                out, h, c = MkldnnRnnLayer.apply(x, w[0], w[1], *b, *states[k], reverse=d == 1)
                outs.append(out)
                finals.append((h, c))
                continue
            # the input projection of every step at once: one (T*N, I) x (I, G) matmul
            gi = linear(x, w[0], w[2] if has_biases else None).unbind(0)
            state = states[k]
            ys = [None] * len(gi)
            for t in (range(len(gi) - 1, -1, -1) if d else range(len(gi))):
                state = cell(mode, gi[t], state, w, has_biases)
                ys[t] = state[0] if lstm else state
            outs.append(_stack(ys) if ys else x.new_zeros(x.shape[:2] + (0,)))
            finals.append(state)
        x = outs[0] if dirs == 1 else _cat(outs, 2)
        if p and train and layer < num_layers - 1:
            x = _dropout(x, p, True)
    if batch_first:
        x = x.transpose(0, 1)
        if not lstm and x.grad_fn is not None:
            x.grad_fn._name = "TransposeBackward1"  # torch transposes RNN/GRU in place
    if lstm:
        return x, (_stack([f[0] for f in finals]), _stack([f[1] for f in finals]))
    return x, _stack(finals)


def _packed(mode, data, batch_sizes, hx, params, has_biases, num_layers, p, train,
            bidirectional):
    from ..modules._rnn_packed import packed_layers

    lstm = mode == "LSTM"
    proj = lstm and hx[0].shape[-1] != hx[1].shape[-1]
    groups = _groups(mode, params, has_biases, num_layers, bidirectional, proj)
    sizes = [int(b) for b in batch_sizes.tolist()]
    out, finals = packed_layers(mode, data, sizes, hx, groups, has_biases, num_layers, p, train,
                                bidirectional)
    if lstm:
        return out, _stack([f[0] for f in finals]), _stack([f[1] for f in finals])
    return out, _stack(finals)


def _aten(mode, input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
          batch_first):
    lstm = mode == "LSTM"
    if lstm and isinstance(hx, Tensor) or not lstm and isinstance(params, Tensor):
        # the packed overload: (data, batch_sizes, hx, params, has_biases, num_layers, dropout,
        # train, bidirectional)
        return _packed(mode, input, hx, params, has_biases, num_layers, dropout, train,
                       bidirectional, batch_first)
    proj = lstm and hx[0].shape[-1] != hx[1].shape[-1]
    groups = _groups(mode, params, has_biases, num_layers, bidirectional, proj)
    out, h = _layers(mode, input, tuple(hx) if lstm else hx, groups, has_biases, num_layers,
                     dropout, train, bidirectional, batch_first)
    return (out, *h) if lstm else (out, h)


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
         batch_first=None):
    """Same as torch.lstm, both overloads: (input, hx, params, has_biases, num_layers, dropout,
    train, bidirectional, batch_first) and (data, batch_sizes, hx, params, has_biases,
    num_layers, dropout, train, bidirectional). Returns (output, h_n, c_n)."""
    return _aten("LSTM", input, hx, params, has_biases, num_layers, dropout, train,
                 bidirectional, batch_first)


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
        batch_first=None):
    """Same as torch.gru (both overloads, as torch.lstm). Returns (output, h_n)."""
    return _aten("GRU", input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                 batch_first)


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first=None):
    """Same as torch.rnn_tanh (both overloads, as torch.lstm). Returns (output, h_n)."""
    return _aten("RNN_TANH", input, hx, params, has_biases, num_layers, dropout, train,
                 bidirectional, batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first=None):
    """Same as torch.rnn_relu (both overloads, as torch.lstm). Returns (output, h_n)."""
    return _aten("RNN_RELU", input, hx, params, has_biases, num_layers, dropout, train,
                 bidirectional, batch_first)


# --- cells ---------------------------------------------------------------------------------------
def _size(t: Tensor, dim: int) -> int:
    if t.ndim <= dim:
        raise dim_out_of_range(dim, t.ndim)
    return t.shape[dim]


def _check_cell(input, hidden, w_ih, w_hh) -> None:
    """torch's check_rnn_cell_forward_input/_hidden: sizes 0 and 1 of the input and hiddens."""
    if _size(input, 1) != _size(w_ih, 1):
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected "
                           f"{w_ih.shape[1]}")
    for i, h in enumerate(hidden):
        if _size(input, 0) != _size(h, 0):
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} batch "
                               f"size {h.shape[0]}")
        if _size(h, 1) != _size(w_hh, 1):
            raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, "
                               f"expected {w_hh.shape[1]}")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """Same as torch.lstm_cell: (h', c')."""
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    _check_cell(input, hx, w_ih, w_hh)
    return lstm_step(linear(input, w_ih, b_ih), tuple(hx), w_hh, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """Same as torch.gru_cell."""
    _check_cell(input, (hx,), w_ih, w_hh)
    return gru_step(linear(input, w_ih, b_ih), hx, w_hh, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """Same as torch.rnn_tanh_cell."""
    _check_cell(input, (hx,), w_ih, w_hh)
    return rnn_step(linear(input, w_ih, b_ih), hx, w_hh, b_hh, tanh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """Same as torch.rnn_relu_cell."""
    _check_cell(input, (hx,), w_ih, w_hh)
    return rnn_step(linear(input, w_ih, b_ih), hx, w_hh, b_hh, relu)
