"""RNN, LSTM and GRU over a PackedSequence, step for step as torch's PackedLayer and
ReversedPackedLayer: the forward direction drops the finished sequences' states as the batch
shrinks (they are the final states), the reverse one starts from the shortest batch and adds
each sequence's initial state when it begins."""

from __future__ import annotations

from .. import functional as F


def _rows(state, lo, hi):
    return tuple(s[lo:hi] for s in state) if isinstance(state, tuple) else state[lo:hi]


def _cat(states):
    from ... import cat

    if isinstance(states[0], tuple):
        return tuple(cat([s[i] for s in states]) for i in range(len(states[0])))
    return cat(states)


def _out(state):
    return state[0] if isinstance(state, tuple) else state


def _forward_dir(rnn, gi, init, sizes, w):
    hidden, off, last, done, outs = init, 0, sizes[0], [], []
    for bs in sizes:
        step = gi[off:off + bs]
        off += bs
        if bs < last:  # sequences that ended: their state is final
            done.append(_rows(hidden, bs, last))
            hidden = _rows(hidden, 0, bs)
        last = bs
        hidden = rnn._cell(step, hidden, w)
        outs.append(_out(hidden))
    done.append(hidden)
    return outs, _cat(done[::-1])


def _reverse_dir(rnn, gi, init, sizes, w):
    off, last = gi.shape[0], sizes[-1]
    hidden, outs = _rows(init, 0, last), []
    for bs in reversed(sizes):
        if bs > last:  # sequences that start here (from their end) join with their initial state
            hidden = _cat([hidden, _rows(init, last, bs)])
        step = gi[off - bs:off]
        off -= bs
        last = bs
        hidden = rnn._cell(step, hidden, w)
        outs.append(_out(hidden))
    return outs[::-1], hidden


def packed_forward(rnn, packed, hx):
    """``rnn.forward(packed, hx)`` for RNN/GRU/LSTM: (PackedSequence output, final state)."""
    from ... import cat, stack, zeros
    from ..utils.rnn import PackedSequence

    data, batch_sizes, sorted_indices, unsorted_indices = packed
    sizes = [int(b) for b in batch_sizes.tolist()]
    lstm = rnn.mode == "LSTM"
    dirs = 2 if rnn.bidirectional else 1
    real_h = rnn.proj_size if rnn.proj_size > 0 else rnn.hidden_size
    shape = (rnn.num_layers * dirs, sizes[0])
    if hx is None:
        h0 = zeros(shape + (real_h,), dtype=data.dtype, device=data.device)
        hx = (h0, zeros(shape + (rnn.hidden_size,), dtype=data.dtype, device=data.device)) \
            if lstm else h0
    elif sorted_indices is not None:
        hx = tuple(h.index_select(1, sorted_indices) for h in hx) if lstm else \
            hx.index_select(1, sorted_indices)
    w0 = rnn._flat_weights[0]
    if data.dtype is not w0.dtype:
        raise ValueError(f"RNN input dtype ({data.dtype}) does not match weight dtype "
                         f"({w0.dtype}). Convert input: input.to({w0.dtype}), or convert model: "
                         f"model.to({data.dtype})")
    if data.ndim != 2:
        raise RuntimeError(f"input must have 2 dimensions, got {data.ndim}")
    if rnn.input_size != data.shape[-1]:
        raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                           f"{rnn.input_size}, got {data.shape[-1]}")
    if lstm:
        rnn.check_hidden_size(hx[0], shape + (real_h,), "Expected hidden[0] size {}, got {}")
        rnn.check_hidden_size(hx[1], shape + (rnn.hidden_size,),
                              "Expected hidden[1] size {}, got {}")
        states = list(zip(hx[0].unbind(0), hx[1].unbind(0)))
    else:
        rnn.check_hidden_size(hx, shape + (real_h,))
        states = hx.unbind(0)
    x, finals = data, []
    for layer in range(rnn.num_layers):
        outs = []
        for d in range(dirs):
            w = rnn.all_weights[layer * dirs + d]
            gi = F.linear(x, w[0], w[2] if rnn.bias else None)
            run = _reverse_dir if d else _forward_dir
            steps, final = run(rnn, gi, states[layer * dirs + d], sizes, w)
            outs.append(cat(steps))
            finals.append(final)
        x = outs[0] if dirs == 1 else cat(outs, 1)
        if rnn.dropout and rnn.training and layer < rnn.num_layers - 1:
            x = F.dropout(x, rnn.dropout, True)
    if lstm:
        hidden = (stack([f[0] for f in finals]), stack([f[1] for f in finals]))
        if unsorted_indices is not None:
            hidden = tuple(h.index_select(1, unsorted_indices) for h in hidden)
    else:
        hidden = stack(finals)
        if unsorted_indices is not None:
            hidden = hidden.index_select(1, unsorted_indices)
    return PackedSequence(x, batch_sizes, sorted_indices, unsorted_indices), hidden
