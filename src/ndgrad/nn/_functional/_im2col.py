"""im2col and col2im on raw arrays (NumPy or CuPy), one copy or add per kernel offset.

Padding is never materialised: each kernel offset copies only the in-bounds part of the input
and zero-fills the border strips that would have read padding. With a stride, input position
``t * s + shift`` lies in the stride phase ``shift % s`` at ``t + shift // s``, so the input is
split once into contiguous phases and every offset then copies (or, for col2im, adds) with unit
strides instead of each re-reading the whole input with stride ``s``."""

from __future__ import annotations

import functools
import itertools
import math

_ALL = slice(None)


@functools.lru_cache(maxsize=256)
def plan(size: tuple, k: tuple, s: tuple, lo: tuple, d: tuple, out: tuple) -> tuple:
    """(phases, steps): ``phases`` maps a phase (one index per dim) to its slices of the input
    and whether to copy it out (read by several offsets, with a stride); each step is
    (j, phase, slices of the output block, slices of the phase, border slices of the block that
    read padding), with phase None when kernel offset j never reads the input."""
    per_dim = []
    for n, ki, si, pi, di, o in zip(size, k, s, lo, d, out):
        spans = []
        for off in range(ki):
            shift = off * di - pi  # output position t reads input t * si + shift
            a, base = shift % si, shift // si
            t0, t1 = max(0, -base), min(o, (n - a + si - 1) // si - base)
            if t1 <= t0:
                spans.append(None)
                continue
            border = [z for z in (slice(0, t0), slice(t1, o)) if z.start < z.stop]
            spans.append((a, slice(t0, t1), slice(t0 + base, t1 + base), border))
        per_dim.append(spans)
    nd, steps, uses = len(k), [], {}
    for j, spans in enumerate(itertools.product(*per_dim)):
        if None in spans:
            steps.append((j, None, None, None, None))
            continue
        phase = tuple(sp[0] for sp in spans)
        uses[phase] = uses.get(phase, 0) + 1
        # a border strip along one dim spans the whole block along the others
        zero = tuple((Ellipsis,) + (_ALL,) * ax + (z,) + (_ALL,) * (nd - 1 - ax)
                     for ax, sp in enumerate(spans) for z in sp[3])
        steps.append((j, phase, (Ellipsis,) + tuple(sp[1] for sp in spans),
                      (Ellipsis,) + tuple(sp[2] for sp in spans), zero))
    strided = any(si > 1 for si in s)
    phases = {p: ((Ellipsis,) + tuple(slice(a, None, si) for a, si in zip(p, s)),
                  strided and u > 1) for p, u in uses.items()}
    return phases, tuple(steps)


def out_shape(size, k, s, pads, d) -> tuple:
    return tuple((n + lo + hi - di * (ki - 1) - 1) // si + 1
                 for n, ki, si, (lo, hi), di in zip(size, k, s, pads, d))


def im2col(xp, x, k, s, pads, d, out=None):
    """(N, C, *size) -> columns (N, C, prod(k), *out): column j holds kernel offset j."""
    size = x.shape[2:]
    out = out_shape(size, k, s, pads, d) if out is None else tuple(out)
    if len(k) == 2 and s[0] == 1 and x.size:
        return _im2col_rows(xp, x, k, s, pads, d, out)
    phases, steps = plan(size, k, s, tuple(p[0] for p in pads), d, out)
    src = {p: xp.ascontiguousarray(x[sl]) if copy else x[sl] for p, (sl, copy) in phases.items()}
    cols = xp.empty(x.shape[:2] + (math.prod(k),) + out, x.dtype)
    for j, phase, dst, at, zero in steps:
        block = cols[:, :, j]
        if phase is None:
            block.fill(0)
            continue
        block[dst] = src[phase][at]
        for z in zero:
            block[z] = 0
    return cols


def _im2col_rows(xp, x, k, s, pads, d, out):
    """im2col in 2-D with a unit row stride: each kernel column's windows along the width are
    copied once for every input row (``rows``: (N, C, kw, H, Wo)); a kernel row is then a plain
    offset into those rows, so the columns are a strided view of them, copied with rows Ho * Wo
    long instead of one Wo-long copy per kernel offset (LeNet's conv2: 278 -> 150 us, measured).
    """
    (kh, kw), (ho, wo), (dh, dw) = k, out, d
    n, c = x.shape[:2]
    height = ho + (kh - 1) * dh  # padded rows read
    width = (wo - 1) * s[1] + (kw - 1) * dw + 1
    (top, _), (left, _) = pads
    if top or left or height > x.shape[2] or width > x.shape[3]:
        xpd = xp.zeros((n, c, height, width), x.dtype)
        src = x[:, :, :height - top, :width - left]
        xpd[:, :, top:top + src.shape[2], left:left + src.shape[3]] = src
        x = xpd
    strided = xp.lib.stride_tricks.as_strided
    st = x.strides
    rows = xp.ascontiguousarray(strided(x, (n, c, kw, height, wo),
                                        (st[0], st[1], dw * st[3], st[2], s[1] * st[3])))
    e = rows.itemsize  # (a length-1 axis may report any stride: rows is C-contiguous)
    plane = height * wo * e
    cols = strided(rows, (n, c, kh, kw, ho * wo),
                   (c * kw * plane, kw * plane, dh * wo * e, plane, e))
    return xp.ascontiguousarray(cols).reshape(n, c, kh * kw, ho, wo)


def col2im(xp, block, lead, dtype, size, k, s, pads, d, out):
    """The adjoint of im2col: sums ``block(j)`` (N, C, *out), the columns of kernel offset j,
    into (N, C, *size); ``lead`` is (N, C). A callable lets a caller make each block just in
    time (into one reused buffer) instead of materialising all the columns."""
    size = tuple(size)
    phases, steps = plan(size, k, s, tuple(p[0] for p in pads), d, tuple(out))
    res = xp.zeros(tuple(lead) + size, dtype)
    acc = {p: xp.zeros(res[sl].shape, dtype) if copy else res[sl]
           for p, (sl, copy) in phases.items()}
    for j, phase, dst, at, _ in steps:
        if phase is not None:
            view = acc[phase][at]
            view += block(j)[dst]
    for p, (sl, copy) in phases.items():
        if copy:
            res[sl] = acc[p]
    return res


def conv_input_grad_rows(xp, g, w, size, pads, d, groups):
    """The input gradient of a unit-stride 2-D convolution without columns of g: g shifted by
    each kernel column (``shifted``: (N, O, kw, Ho * Wp), its rows Wp wide with zeros past Wo so
    a shift is a flat offset), one batched GEMM against W over (O, kw) for every kernel row,
    then one add per kernel row of whole (Ho * Wp)-long rows. LeNet's conv2: 800 -> 350 us
    against 25 GEMMs and 25 short-row adds (measured)."""
    (kh, kw), (dh, dw) = w.shape[2:], d
    n, o, ho, wo = g.shape
    (top, bottom), (left, right) = pads
    hp, wp = size[0] + top + bottom, size[1] + left + right
    c = w.shape[1] * groups
    e, lead = g.itemsize, (kw - 1) * dw  # leading zeros: the largest shift
    flat = xp.zeros((n, o, lead + ho * wp), g.dtype)
    flat[:, :, lead:].reshape(n, o, ho, wp)[..., :wo] = g
    # row b' reads g shifted by (kw - 1 - b') * dw: kernel column kw - 1 - b'
    shifted = xp.ascontiguousarray(xp.lib.stride_tricks.as_strided(
        flat, (n, o, kw, ho * wp), (o * flat.shape[2] * e, flat.shape[2] * e, dw * e, e)))
    og, cg = o // groups, c // groups
    wk = w.reshape(groups, og, cg, kh, kw)[..., ::-1].transpose(0, 3, 2, 1, 4)
    wk = xp.ascontiguousarray(wk).reshape(groups, kh * cg, og * kw)
    part = xp.matmul(wk, shifted.reshape(n, groups, og * kw, ho * wp))
    part = part.reshape(n, groups, kh, cg, ho * wp)
    gx = xp.zeros((n, groups, cg, hp * wp), g.dtype)
    for a in range(kh):
        gx[..., a * dh * wp:a * dh * wp + ho * wp] += part[:, :, a]
    gx = gx.reshape(n, c, hp, wp)
    if top or bottom or left or right:
        gx = xp.ascontiguousarray(gx[:, :, top:top + size[0], left:left + size[1]])
    return gx
