"""Layouts: the strides torch gives the tensors it creates (an array-level leaf module: the ops
that make results, convert's clone and the in-place fills import it)."""

from __future__ import annotations

import numpy as np


def _order(shape, *strides) -> list:
    """Dims fastest first, as torch lays out a new result from its operands' strides
    (TensorIterator's reorder_dimensions, infer_dense_strides): an insertion sort where a 0
    stride leaves a pair to the next operand and equal strides put the smaller dim first."""
    perm = list(range(len(shape) - 1, -1, -1))
    for i in range(1, len(shape)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            a, b, c = perm[d0], perm[d1], 0
            for st in strides:
                sa, sb = abs(st[a]), abs(st[b])
                if not (sa and sb):
                    continue  # a broadcast dim decides nothing
                if sa != sb:
                    c = 1 if sa > sb else -1
                    break
                if shape[a] > shape[b]:
                    c = 1
                    break
            if c > 0:
                perm[d0], perm[d1] = b, a
                d1 = d0
            elif c < 0:
                break
    return perm


def _empty(xp, shape, dtype, perm=None):
    """An uninitialised array with its dims laid out fastest first as ``perm`` (None: C order)."""
    if perm is None or perm == list(range(len(shape) - 1, -1, -1)):
        return xp.empty(shape, dtype)
    slow = perm[::-1]
    return xp.empty(tuple(shape[d] for d in slow), dtype).transpose(tuple(np.argsort(slow)))


def _laid(xp, a, perm=None):
    """``a``, or a copy of it, with the strides of a new torch tensor laid out as ``perm`` (None:
    C order; NumPy's fancy indexing and joins may hand back other orders)."""
    if not a.size:
        return a
    if _is_c(a) if perm is None else a.strides == tuple(x * a.itemsize for x in
                                                       _dense(a.shape, perm)):
        return a
    out = _empty(xp, a.shape, a.dtype, perm)
    out[...] = a
    return out


def _like(xp, a, dtype=None):
    """torch's empty_like: an uninitialised array with ``a``'s order of dims, dense."""
    perm = _order(a.shape, a.strides) if a.ndim > 1 else None
    return _empty(xp, a.shape, dtype or a.dtype, perm)


def _dense(shape, perm) -> list:
    """Dense strides (in elements) for dims laid out fastest first as ``perm``."""
    out, acc = [0] * len(shape), 1
    for d in perm:
        out[d] = acc
        acc *= shape[d]
    return out


def _is_c(a) -> bool:
    """C ordered with torch's strides for its 1-sized dims too (NumPy's flag ignores those)."""
    return a.flags.c_contiguous and (1 not in a.shape or a.strides == tuple(
        x * a.itemsize for x in _dense(a.shape, range(a.ndim - 1, -1, -1))))


def fills_block(a) -> bool:
    """``a`` fills its memory block without gaps or overlaps, in some order of its dims."""
    step = a.itemsize
    for s, n in sorted((s, n) for s, n in zip(a.strides, a.shape) if n > 1):
        if s != step:
            return False
        step *= n
    return True


def contiguous_result(forward):
    """The ``forward`` of an op whose result torch allocates contiguous whatever its input's
    layout (reductions over dims, scans, softmax, layer and group norm: ``x.t().softmax(-1)
    .view(-1)`` works): its result made C-contiguous (a copy only for a strided input), and
    what it saved of the result is the new array (the saved output stays the output)."""
    def laid(ctx, *args, **kwargs):
        out = forward(ctx, *args, **kwargs)
        return tuple(_c_result(ctx, o) for o in out) if type(out) is tuple else \
            _c_result(ctx, out)
    laid.__name__, laid.__qualname__, laid.__doc__ = forward.__name__, forward.__qualname__, \
        forward.__doc__
    return laid


def _c_result(ctx, out):
    if out.flags.c_contiguous:
        return out
    new = ctx.xp.ascontiguousarray(out)
    if ctx.saved:
        ctx.saved = tuple(new if s is out else s for s in ctx.saved)
    return new
