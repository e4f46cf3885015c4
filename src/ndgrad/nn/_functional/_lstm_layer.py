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


def _gate_rows(xp, w, H, negate):
    """torch's gate rows [i, f, g, o] in the layer's order [o, i, f, g]: the sigmoid gates are
    one block (rows :3H) and so are the gates dc scales (rows H:); with ``negate`` the sigmoid
    rows change sign, so a step's exp(-z) is exp of what the GEMM wrote (negation is exact)."""
    out = xp.empty_like(w)
    for dst, src in ((0, 3), (1, 0), (2, 1), (3, 2)):
        rows, into = w[src * H:(src + 1) * H], out[dst * H:(dst + 1) * H]
        if negate and dst < 3:
            xp.negative(rows, out=into)
        else:
            into[...] = rows
    return out


class MkldnnRnnLayer(Op):
    """(input (T, N, I), w_ih, w_hh, b_ih, b_hh, hx, cx) -> (output (T, N, H), hy, cy)."""

    __slots__ = ()

    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, hx, cx, reverse=False):
        # Each step works on (features, batch) arrays: W_hh @ h^T is a faster GEMM than
        # h @ W_hh^T for a small batch (26 vs 30 us at 512x128x16, measured), and each gate is
        # a contiguous block of rows. Gates are kept as [o, i, f, g] (see _gate_rows): a step is
        # 11 NumPy calls, sigmoid as torch's kernel, 1 / (1 + exp(-z)), over one 3H-row block.
        xp = ctx.xp
        T, N, I = x.shape
        H = w_hh.shape[1]
        dt = x.dtype
        gi = _buffer(xp, (T, 4 * H, N), dt)  # (a name holds each work array while in use)
        # per step W_ih @ x_t^T in one batched call: no transposed copy of (T * N, 4H) after it
        xp.matmul(_gate_rows(xp, w_ih, H, True), xp.ascontiguousarray(x.transpose(0, 2, 1)),
                  out=gi)
        if b_ih is not None:  # mkldnn adds the two biases once; (4H, N) so the add is long rows
            bias = xp.empty((4 * H, N), dt)
            bias[...] = _gate_rows(xp, b_ih + b_hh, H, True)[:, None]
            xp.add(gi, bias, out=gi)  # (out=: a stand-in may rebind on +=, see _POOL)
        w = _gate_rows(xp, w_hh, H, True)
        acts = _buffer(xp, (T, 4 * H, N), dt)  # [o, i, f, g] of every step
        cs = _buffer(xp, (T, H, N), dt)  # c_t
        tcs = _buffer(xp, (T, H, N), dt)  # tanh(c_t)
        hs = _buffer(xp, (T, H, N), dt)
        ig = xp.empty((H, N), dt)
        h, c = hx.T, cx.T
        with np.errstate(over="ignore"):  # exp(-z) may overflow to inf: sigmoid 0, as torch's
            for t in (range(T - 1, -1, -1) if reverse else range(T)):
                a = xp.matmul(w, h, out=acts[t])
                xp.add(a, gi[t], out=a)
                s = a[:3 * H]
                xp.exp(s, out=s)
                xp.add(s, 1, out=s)
                xp.reciprocal(s, out=s)
                g = xp.tanh(a[3 * H:], out=a[3 * H:])
                c = xp.multiply(a[2 * H:3 * H], c, out=cs[t])
                xp.add(c, xp.multiply(a[H:2 * H], g, out=ig), out=c)
                tc = xp.tanh(c, out=tcs[t])
                h = xp.multiply(a[:H], tc, out=hs[t])
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
        # What multiplies dh (row block o) or dc (blocks i, f, g) in each gate's gradient, all
        # steps at once: the loop is then 6 small NumPy calls and the GEMM a step
        fac = _buffer(xp, acts.shape, acts.dtype)
        s, o, i, f, g = (acts[:, :3 * H], acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:3 * H],
                         acts[:, 3 * H:])
        xp.subtract(1, s, out=fac[:, :3 * H])
        xp.multiply(fac[:, :3 * H], s, out=fac[:, :3 * H])  # sigmoid' = s (1 - s)
        xp.multiply(fac[:, :H], tcs, out=fac[:, :H])  # o: by dh tanh(c)
        xp.multiply(fac[:, H:2 * H], g, out=fac[:, H:2 * H])  # i: by dc g
        cprev = fac[:, 2 * H:3 * H]  # f: by dc c_{t-1}
        first, rest = (T - 1, slice(None, -1)) if rev else (0, slice(1, None))
        xp.multiply(cprev[rest], cs[slice(1, None) if rev else slice(None, -1)], out=cprev[rest])
        xp.multiply(cprev[first], cx.T, out=cprev[first])
        xp.multiply(g, g, out=fac[:, 3 * H:])
        xp.subtract(1, fac[:, 3 * H:], out=fac[:, 3 * H:])  # tanh' = 1 - tanh^2
        xp.multiply(fac[:, 3 * H:], i, out=fac[:, 3 * H:])  # g: by dc i
        q = _buffer(xp, tcs.shape, tcs.dtype)
        xp.multiply(tcs, tcs, out=q)
        xp.subtract(1, q, out=q)
        xp.multiply(q, o, out=q)  # dc/dh through h = o tanh(c)
        gout = _buffer(xp, tcs.shape, tcs.dtype)
        xp.copyto(gout, g_out.transpose(0, 2, 1))
        dgates = _buffer(xp, acts.shape, acts.dtype)
        whh_t = xp.ascontiguousarray(_gate_rows(xp, w_hh, H, False).T)
        dh, dc = g_h.T.copy(), g_c.T.copy()  # (never the caller's arrays: updated in place)
        tmp = xp.empty_like(dh)
        for t in (range(T) if rev else range(T - 1, -1, -1)):
            dh += gout[t]
            dc += xp.multiply(dh, q[t], out=tmp)
            dg = dgates[t]
            xp.multiply(dh, fac[t, :H], out=dg[:H])
            xp.multiply(dc, fac[t, H:].reshape(3, H, N), out=dg[H:].reshape(3, H, N))
            dc *= f[t]
            dh = xp.matmul(whh_t, dg)
        need = ctx.needs_input_grad
        fl = _buffer(xp, (4 * H, T, N), acts.dtype)  # (4H, T * N) in torch's gate order
        for dst, src in ((0, 1), (1, 2), (2, 3), (3, 0)):
            xp.copyto(fl[dst * H:(dst + 1) * H],
                      dgates[:, src * H:(src + 1) * H].transpose(1, 0, 2))
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
