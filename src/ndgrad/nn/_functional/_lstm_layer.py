"""One LSTM layer over a whole sequence as one primitive: torch's float32 CPU path
(mkldnn_rnn_layer, node MkldnnRnnLayerBackward0). Forward loops over time on arrays, saving the
gate activations; first-order backward runs backpropagation through time on arrays in the same
node. The input projection of every step is one matmul up front and the four gates of a step one
matmul. Differentiating the backward (create_graph) re-runs the layer as composed cell ops and
differentiates those, so higher orders come from the one per-step description in rnn.py."""

from __future__ import annotations

import sys

import numpy as np

from ...autograd.op import Op
from ...autograd.op import _NO_GRAD

# Work arrays kept from call to call: fresh megabyte arrays cost page faults on every step (a
# third of the layer's time, measured). One is reused only when nothing else holds it (the
# graph that saved it was freed, the output was dropped), so a caller keeps the array object it
# got in a name while it uses it (out= calls; CuPy stand-ins may rebind on ``*=``).
_POOL: dict = {}
_POOL_KEYS, _POOL_BYTES = 16, 64 << 20  # a bound on what it keeps: shapes, and bytes per array


def _buffer(xp, shape, dtype):
    key = (xp, shape, dtype)
    free = _POOL.get(key)
    if free is None:
        if len(_POOL) >= _POOL_KEYS:  # many sequence lengths: forget the oldest shape
            del _POOL[next(iter(_POOL))]
        free = _POOL[key] = []
    for a in free:
        if sys.getrefcount(a) == 3:  # the pool's list, the loop's name, getrefcount's argument
            return a
    a = xp.empty(shape, dtype)
    if len(free) < 8 and a.nbytes <= _POOL_BYTES:
        free.append(a)
    return a


def _sigmoid_(xp, a):
    """sigmoid in place, as torch's kernel: 1 / (1 + exp(-a)) (exp may overflow to inf: 0)."""
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    return xp.reciprocal(a, out=a)


class MkldnnRnnLayer(Op):
    """(input (T, N, I), w_ih, w_hh, b_ih, b_hh, hx, cx) -> (output (T, N, H), hy, cy)."""

    __slots__ = ()

    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, hx, cx, reverse=False):
        # Each step works on (features, batch) arrays: W_hh @ h^T is a faster GEMM than
        # h @ W_hh^T for a small batch (14 vs 25 us at 512x128x16, measured), and each gate is
        # a contiguous block of rows.
        xp = ctx.xp
        T, N, I = x.shape
        H = w_hh.shape[1]
        dt = x.dtype
        gi2 = _buffer(xp, (T * N, 4 * H), dt)  # (a name holds each work array while in use)
        xp.matmul(x.reshape(T * N, I), w_ih.T, out=gi2)
        if b_ih is not None:
            gi2 += b_ih + b_hh  # mkldnn adds the two biases once
        gi = _buffer(xp, (T, 4 * H, N), dt)
        xp.copyto(gi, gi2.reshape(T, N, 4 * H).transpose(0, 2, 1))
        acts = _buffer(xp, (T, 4 * H, N), dt)  # [i, f, g, o] of every step
        cs = _buffer(xp, (T, H, N), dt)  # c_t
        tcs = _buffer(xp, (T, H, N), dt)  # tanh(c_t)
        hs = _buffer(xp, (T, H, N), dt)
        h, c = hx.T, cx.T
        with np.errstate(over="ignore"):
            for t in (range(T - 1, -1, -1) if reverse else range(T)):
                a = xp.matmul(w_hh, h, out=acts[t])
                a += gi[t]
                g = xp.tanh(a[2 * H:3 * H])
                _sigmoid_(xp, a)
                a[2 * H:3 * H] = g
                c = xp.multiply(a[H:2 * H], c, out=cs[t])
                c += a[:H] * g
                tc = xp.tanh(c, out=tcs[t])
                h = xp.multiply(a[3 * H:], tc, out=hs[t])
        out = hs.transpose(0, 2, 1).copy()  # (copies: for N = 1 a transpose is contiguous)
        ctx.reverse = reverse
        if ctx.needs_input_grad is not _NO_GRAD:
            ctx.save(x, w_ih, w_hh, b_ih, b_hh, hx, cx, out, acts, cs, tcs)
        return out, h.T.copy(), c.T.copy()

    def backward_raw(ctx, g_out, g_h, g_c):
        x, w_ih, w_hh, _, _, hx, cx, out, acts, cs, tcs = ctx.saved_arrays
        xp = ctx.xp
        T, N, H = out.shape
        rev = ctx.reverse
        # per-element derivatives of the activations, all steps at once
        d = _buffer(xp, acts.shape, acts.dtype)
        xp.subtract(1, acts, out=d)
        xp.multiply(d, acts, out=d)  # sigmoid' = s (1 - s) (no *=: d must stay the pool's)
        gg = acts[:, 2 * H:3 * H]
        xp.multiply(gg, gg, out=d[:, 2 * H:3 * H])
        xp.subtract(1, d[:, 2 * H:3 * H], out=d[:, 2 * H:3 * H])  # tanh' = 1 - tanh^2
        q = _buffer(xp, tcs.shape, tcs.dtype)
        xp.multiply(tcs, tcs, out=q)
        xp.subtract(1, q, out=q)
        xp.multiply(q, acts[:, 3 * H:], out=q)  # dc/dh through h = o tanh(c)
        dgates = _buffer(xp, acts.shape, acts.dtype)
        whh_t = xp.ascontiguousarray(w_hh.T)
        dh, dc = g_h.T.copy(), g_c.T.copy()  # (never the caller's arrays: updated in place)
        for t in (range(T) if rev else range(T - 1, -1, -1)):
            dh += g_out[t].T
            c_prev = cx.T if t == (T - 1 if rev else 0) else cs[t + 1 if rev else t - 1]
            a, dg = acts[t], dgates[t]
            dc += dh * q[t]
            xp.multiply(dc, a[2 * H:3 * H], out=dg[:H])
            xp.multiply(dc, c_prev, out=dg[H:2 * H])
            xp.multiply(dc, a[:H], out=dg[2 * H:3 * H])
            xp.multiply(dh, tcs[t], out=dg[3 * H:])
            dg *= d[t]
            dc *= a[H:2 * H]
            dh = xp.matmul(whh_t, dg)
        need = ctx.needs_input_grad
        fl = _buffer(xp, (4 * H, T, N), acts.dtype)  # (4H, T * N): one GEMM per weight
        xp.copyto(fl, dgates.transpose(1, 0, 2))
        flat = fl.reshape(4 * H, T * N)
        gx = xp.matmul(flat.T, w_ih).reshape(x.shape) if need[0] else None
        gw_ih = xp.matmul(flat, x.reshape(T * N, -1)) if need[1] else None
        gw_hh = None
        if need[2]:  # the state each step read: h0, then the outputs in the order of the steps
            prev = xp.concatenate([out[1:], hx[None]]) if rev else \
                xp.concatenate([hx[None], out[:-1]])
            gw_hh = xp.matmul(flat, prev.reshape(T * N, H))
        gb = flat.sum(1) if need[3] or need[4] else None
        return (gx, gw_ih, gw_hh, gb, None if gb is None else gb.copy(),
                dh.T.copy() if need[5] else None, dc.T.copy() if need[6] else None)

    def backward(ctx, g_out, g_h, g_c):
        from ... import autograd, enable_grad
        from .rnn import lstm_layer_composed

        saved = ctx.saved_tensors[:7]
        with enable_grad():
            out, h, c = lstm_layer_composed(*saved, ctx.reverse)
        want = [i for i, n in enumerate(ctx.needs_input_grad) if n and saved[i] is not None]
        got = autograd.grad([out, h, c], [saved[i] for i in want], [g_out, g_h, g_c],
                            allow_unused=True, create_graph=True)
        res = [None] * 7
        for i, g in zip(want, got):
            res[i] = g
        return tuple(res)
