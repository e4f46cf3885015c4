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


def _forward_dir(step, gi, init, sizes):
    hidden, off, last, done, outs = init, 0, sizes[0], [], []
    for bs in sizes:
        x = gi[off:off + bs]
        off += bs
        if bs < last:  # sequences that ended: their state is final
            done.append(_rows(hidden, bs, last))
            hidden = _rows(hidden, 0, bs)
        last = bs
        hidden = step(x, hidden)
        outs.append(_out(hidden))
    done.append(hidden)
    return outs, _cat(done[::-1])


def _reverse_dir(step, gi, init, sizes):
    off, last = gi.shape[0], sizes[-1]
    hidden, outs = _rows(init, 0, last), []
    for bs in reversed(sizes):
        if bs > last:  # sequences that start here (from their end) join with their initial state
            hidden = _cat([hidden, _rows(init, last, bs)])
        x = gi[off - bs:off]
        off -= bs
        last = bs
        hidden = step(x, hidden)
        outs.append(_out(hidden))
    return outs[::-1], hidden


def packed_layers(mode, data, sizes, hx, groups, has_biases, num_layers, p, train,
                  bidirectional):
    """The layers over packed ``data`` (rows of each step, ``sizes`` rows per step): the output
    data and the final states, one per layer and direction (h, or (h, c) for LSTM)."""
    from ... import cat
    from .._functional.rnn import cell

    dirs = 2 if bidirectional else 1
    states = list(zip(hx[0].unbind(0), hx[1].unbind(0))) if mode == "LSTM" else hx.unbind(0)
    x, finals = data, []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            w = groups[layer * dirs + d]
            gi = F.linear(x, w[0], w[2] if has_biases else None)
            run = _reverse_dir if d else _forward_dir
            steps, final = run(lambda g, s, w=w: cell(mode, g, s, w, has_biases), gi,
                               states[layer * dirs + d], sizes)
            outs.append(cat(steps))
            finals.append(final)
        x = outs[0] if dirs == 1 else cat(outs, 1)
        if p and train and layer < num_layers - 1:
            x = F.dropout(x, p, True)
    return x, finals
