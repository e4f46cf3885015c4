"""One LSTM layer over a whole sequence as one primitive: torch's float32 CPU path
(mkldnn_rnn_layer, node MkldnnRnnLayerBackward0). Forward loops over time on arrays, saving the
gate activations; first-order backward runs backpropagation through time on arrays in the same
node. A step's four gates, with the input projection and the biases, are one GEMM; the weight
gradients of all steps are one GEMM after the loop. Differentiating the backward (create_graph)
re-runs the layer as composed cell ops and differentiates those, so higher orders come from the
one per-step description in rnn.py."""

from __future__ import annotations

import sys

import numpy as np

from ... import _threads, _trace
from ...autograd.op import Op
from ...autograd.op import _NO_GRAD

# Work arrays kept from call to call: fresh megabyte arrays cost page faults on every step (a
# third of the layer's time, measured). One is reused only when nothing else holds it (the
# graph that saved it was freed, the output was dropped), so a caller keeps the array object it
# got in a name while it uses it (out= calls; CuPy stand-ins may rebind on ``*=``).
_POOL: dict = {}
_POOL_KEYS, _POOL_BYTES = 16, 64 << 20  # a bound on what it keeps: shapes, and bytes per array


def _buffer(xp, shape, dtype):
    if _trace.lowering:
        return xp.empty(shape, dtype)
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


def _gate_rows(xp, dst, w, H):
    """torch's gate rows [i, f, g, o] of ``w`` into ``dst`` in the layer's order [o, i, f, g]:
    the sigmoid gates are one block (rows :3H), and [i, f] lines up with [g, c_prev] in a step's
    rows; the sigmoid rows are scaled by 1/2 (exact), so one tanh over a step's four gates gives
    tanh(z / 2) on those rows: sigmoid(z) = (1 + tanh(z / 2)) / 2."""
    xp.multiply(w[3 * H:], 0.5, out=dst[:H])
    xp.multiply(w[:2 * H], 0.5, out=dst[H:3 * H])
    xp.copyto(dst[3 * H:], w[2 * H:3 * H])


def _blocks(xp, m, k, n):
    """Row blocks for an (m, k) @ (k, n) product. OpenBLAS (NumPy's wheels) has a small-matrix
    GEMM, taken for m n k <= 1e6, that reaches 108 GFLOP/s on a step's (512, 161) @ (161, 16)
    where the general GEMM on one thread reaches 83 (measured; for n >= 64 they are even): on one
    BLAS thread a thin product runs as row blocks under that size. On more threads the general
    GEMM splits the product between them, faster than the blocks one after the other."""
    p = -(-m * k * n // 1_000_000)
    if xp is not np or n >= 64 or p == 1 or m < 16 * p or _threads._count() > 1:
        return [slice(0, m)]
    return [slice(m * j // p, m * (j + 1) // p) for j in range(p)]


def _mm(xp, a, b):
    """a @ b in _blocks' row blocks."""
    blocks = _blocks(xp, a.shape[0], a.shape[1], b.shape[1])
    if len(blocks) == 1:
        return xp.matmul(a, b)
    out = xp.empty((a.shape[0], b.shape[1]), xp.result_type(a, b))
    for r in blocks:
        xp.dot(a[r], b, out=out[r])
    return out


def _gate_rows_t(xp, w, H):
    """The transpose of ``w`` with its rows in the layer's order (not halved), row-major (its row
    blocks are _blocks' operands; concatenating transposes would give a column-major array)."""
    wt = xp.empty((w.shape[1], 4 * H), w.dtype)
    xp.copyto(wt[:, :H], w[3 * H:].T)
    xp.copyto(wt[:, H:], w[:3 * H].T)
    return wt


class MkldnnRnnLayer(Op):
    """(input (T, N, I), w_ih, w_hh, b_ih, b_hh, hx, cx) -> (output (T, N, H), hy, cy)."""

    __slots__ = ()

    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, hx, cx, reverse=False):
        # Each step works on (features, batch) arrays: W_hh @ h^T is a faster GEMM than
        # h @ W_hh^T for a small batch (26 vs 30 us at 512x128x16, measured), and each gate is
        # a contiguous block of rows. A step's rows are [o, i, f, g, c_prev] (see _gate_rows):
        # one tanh over the four gates (sigmoid through tanh: 1.48 -> 1.39 ms for the loop,
        # measured, against exp, +1, 1/x and a tanh), and f c + i g as one product
        # [i, f] [g, c_prev] and one sum; a step is 8 NumPy calls.
        xp = ctx.xp
        T, N, I = x.shape
        H = w_hh.shape[1]
        k = H + I + 1
        dt = x.dtype
        # Step t's GEMM is [W_hh, W_ih, b] @ [h_prev; x_t; 1]: the input projection and the
        # biases ride in the recurrent GEMM (K 128 -> 161: 1.13 -> 1.09 ms for the GEMMs and
        # the add of a separate projection, measured). Operand blocks v[t] (fwd) or v[t + 1]
        # (reverse); each step writes its h into the next step's block.
        v = _buffer(xp, (T + 1, k, N), dt)  # (a name holds each work array while in use)
        op, nxt = (1, 0) if reverse else (0, 1)
        xp.copyto(v[op:op + T, H:H + I], x.transpose(0, 2, 1))
        v[op:op + T, H + I] = 1
        w = xp.empty((4 * H, k), dt)
        _gate_rows(xp, w[:, :H], w_hh, H)
        _gate_rows(xp, w[:, H:H + I], w_ih, H)
        if b_ih is None:
            w[:, H + I] = 0
        else:
            _gate_rows(xp, w[:, H + I], b_ih + b_hh, H)  # mkldnn adds the two once
        acts = _buffer(xp, (T, 5 * H, N), dt)  # [o, i, f, g, c_prev] of every step
        tcs = _buffer(xp, (T, H, N), dt)  # tanh(c_t)
        fc = xp.empty((2 * H, N), dt)  # [i g, f c_prev]
        cy = xp.empty((H, N), dt)
        order = range(T - 1, -1, -1) if reverse else range(T)
        xp.copyto(acts[order[0], 4 * H:], cx.T)
        xp.copyto(v[order[0] + op, :H], hx.T)
        # every step's views made up front, a list each (a list index costs less than slicing)
        blocks = _blocks(xp, 4 * H, k, N)
        wb = [w[r] for r in blocks]
        zb = [list(acts[:, r]) for r in blocks]
        z4, s3, i_f, g_c, o = (list(acts[:, r]) for r in (
            slice(0, 4 * H), slice(0, 3 * H), slice(H, 3 * H), slice(3 * H, 4 * H + H),
            slice(0, H)))
        c_in = list(acts[:, 4 * H:])
        c_out = [c_in[t] for t in order[1:]] + [cy]  # where each step writes its c
        vs, hs, tc = list(v), list(v[:, :H]), list(tcs)
        fc_i, fc_f = fc[:H], fc[H:]
        # the calls' names and the constant bound once: a Python float costs a conversion a call
        # (0.97 -> 0.62 us for a step's 384x16 product, measured)
        dot, tanh, mul, add, half = xp.dot, xp.tanh, xp.multiply, xp.add, xp.asarray(0.5, dt)
        # a zero initial state (nn.LSTM's default): the first step's GEMM without W_hh (on the
        # host only: reading a device array waits for the device)
        first = order[0] if xp is np and not hx.any() else -1
        for t, c in zip(order, c_out):
            vt = vs[t + op]
            if t == first:
                dot(w[:, H:], vt[H:], out=z4[t])
            else:
                for wk, zk in zip(wb, zb):
                    dot(wk, vt, out=zk[t])  # (dot: less overhead than matmul)
            z = z4[t]
            tanh(z, out=z)
            s = s3[t]
            mul(s, half, out=s)
            add(s, half, out=s)
            mul(i_f[t], g_c[t], out=fc)
            add(fc_i, fc_f, out=c)
            tanh(c, out=tc[t])
            mul(o[t], tc[t], out=hs[t + nxt])
        # h of every step, (T, N, H) (a copy: for N = 1 a transpose is contiguous)
        out = v[nxt:nxt + T, :H].transpose(0, 2, 1).copy()
        ctx.reverse = reverse
        if ctx.needs_input_grad is not _NO_GRAD:
            ctx.save(x, w_ih, w_hh, b_ih, b_hh, hx, cx, out, acts, tcs)
        h = out[order[-1]]
        return out, h.copy(), cy.T.copy()

    def backward_raw(ctx, g_out, g_h, g_c):
        x, w_ih, w_hh, _, _, hx, _, out, acts, tcs = ctx.saved_arrays
        xp = ctx.xp
        T, N, H = out.shape
        I = x.shape[2]
        dt = acts.dtype
        rev = ctx.reverse
        # What multiplies dh (row block o) or dc (blocks i, f, g) in each gate's gradient, all
        # steps at once (a pass over every step costs less than a call in the loop): o' tanh(c),
        # i' g, f' c_prev, (1 - g^2) i, with s' = s (1 - s); and q = o (1 - tanh(c)^2), what
        # carries dh into dc. The loop is then 6 small NumPy calls and the GEMM a step.
        fac = _buffer(xp, (T, 4 * H, N), dt)
        s, o, i, g = acts[:, :3 * H], acts[:, :H], acts[:, H:2 * H], acts[:, 3 * H:4 * H]
        xp.subtract(1, s, out=fac[:, :3 * H])
        xp.multiply(fac[:, :3 * H], s, out=fac[:, :3 * H])
        xp.multiply(fac[:, :H], tcs, out=fac[:, :H])
        xp.multiply(fac[:, H:3 * H], acts[:, 3 * H:], out=fac[:, H:3 * H])  # by [g, c_prev]
        xp.multiply(g, g, out=fac[:, 3 * H:])
        xp.subtract(1, fac[:, 3 * H:], out=fac[:, 3 * H:])
        xp.multiply(fac[:, 3 * H:], i, out=fac[:, 3 * H:])
        q = _buffer(xp, tcs.shape, dt)
        xp.multiply(tcs, tcs, out=q)
        xp.subtract(1, q, out=q)
        xp.multiply(q, o, out=q)
        gout = _buffer(xp, tcs.shape, dt)
        xp.copyto(gout, g_out.transpose(0, 2, 1))
        dgates = _buffer(xp, (T, 4 * H, N), dt)
        whh_t = _gate_rows_t(xp, w_hh, H)
        dh, dc = g_h.T.copy(), g_c.T.copy()  # (never the caller's arrays: updated in place)
        tmp = xp.empty_like(dh)  # (dh: one array, each step's GEMM writes the next into it)
        need = ctx.needs_input_grad
        order = range(T) if rev else range(T - 1, -1, -1)
        last = order[-1]
        blocks = _blocks(xp, H, 4 * H, N)
        wb, dhb = [whh_t[r] for r in blocks], [dh[r] for r in blocks]
        fac4, dg4 = fac.reshape(T, 4, H, N), dgates.reshape(T, 4, H, N)
        go, qs, dgs, fo, dgo, fifg, dgifg, f = (list(a) for a in (
            gout, q, dgates, fac[:, :H], dgates[:, :H], fac4[:, 1:], dg4[:, 1:],
            acts[:, 2 * H:3 * H]))
        dot, mul = xp.dot, xp.multiply
        for t in order:
            dh += go[t]
            dc += mul(dh, qs[t], out=tmp)
            dg = dgs[t]
            mul(dh, fo[t], out=dgo[t])
            mul(dc, fifg[t], out=dgifg[t])
            if t != last or need[6]:  # the first step's dc and dh reach only hx and cx
                dc *= f[t]
            if t != last or need[5]:
                for wk, dk in zip(wb, dhb):
                    dot(wk, dg, out=dk)
        # every step's gate gradients as one (4H, T N) matrix in torch's gate order, for one
        # GEMM per weight (measured after a forward, as in training: four copies and two GEMMs
        # beat one (T N, 4H) copy and one GEMM against [h_prev, x, 1], backward 2.88 -> 2.77 ms)
        fl = _buffer(xp, (4 * H, T, N), dt)
        if xp is np:  # a step's N numbers of a row moved as one element: 114 -> 74 us, measured
            el = np.dtype((np.void, N * dt.itemsize))
            src, dst = dgates.view(el)[..., 0].T, fl.view(el)[..., 0]
        else:
            src, dst = dgates.transpose(1, 0, 2), fl
        for d, r in ((0, 1), (1, 2), (2, 3), (3, 0)):
            xp.copyto(dst[d * H:(d + 1) * H], src[r * H:(r + 1) * H])
        flat = fl.reshape(4 * H, T * N)
        gx = xp.matmul(flat.T, w_ih).reshape(x.shape) if need[0] else None
        gw_ih = gb = None
        if need[1] or need[3] or need[4]:  # the bias gradient as a column of ones: no sum pass
            xa = _buffer(xp, (T, N, I + 1), dt)
            xp.copyto(xa[:, :, :I], x)
            xa[:, :, I] = 1
            gwa = _mm(xp, flat, xa.reshape(T * N, I + 1))
            gw_ih = gwa[:, :I].copy() if need[1] else None
            gb = gwa[:, I].copy() if need[3] or need[4] else None
        gw_hh = None
        if need[2] and xp is np and not hx.any():  # h0 = 0 adds nothing: no concatenate
            gw_hh = xp.matmul(flat[:, :-N], out[1:].reshape(-1, H)) if rev else \
                xp.matmul(flat[:, N:], out[:-1].reshape(-1, H))
        elif need[2]:  # the state each step read: h0, then the outputs in the order of the steps
            prev = xp.concatenate([out[1:], hx[None]]) if rev else \
                xp.concatenate([hx[None], out[:-1]])
            gw_hh = xp.matmul(flat, prev.reshape(T * N, H))
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
