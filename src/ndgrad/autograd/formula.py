"""One derivative formula for both backward paths.

A primitive writes its derivative once, as ``formula(ctx, ns, saved, *grads)``: ``saved`` and the
gradients are Tensors (any order: the formula is recorded when create_graph is on) or raw arrays
(the first-order fast path), and ``ns`` gives the few functions whose spelling differs between
the two. Arithmetic operators, comparisons and ``**`` are written as they are: both kinds have
them. ``Op`` turns a ``formula`` into ``backward`` and ``backward_raw``, so the two cannot drift."""

from __future__ import annotations

import numpy as np

from .._kernels import POW_KERNELS, conj_array, keep_where, one_minus_square
from .._tensor import Tensor


def _conj_tensor(x):
    return x.conj() if x.is_complex() else x


class _TensorNS:
    """The tensor side: every call is a recorded op."""

    tensors = True
    c = staticmethod(_conj_tensor)  # conj(f'(z)) for complex inputs (torch's convention)
    cos = staticmethod(lambda x: x.cos())
    sin = staticmethod(lambda x: x.sin())
    exp = staticmethod(lambda x: x.exp())
    log = staticmethod(lambda x: x.log())
    sqrt = staticmethod(lambda x: x.sqrt())
    rsqrt = staticmethod(lambda x: x.rsqrt())
    numel = staticmethod(lambda x: x.numel())
    pow = staticmethod(lambda x, e: x ** e)  # x to a Python number, with torch's kernels

    @staticmethod
    def zeros_like(x):
        """A constant zero gradient (no graph, as torch's zeros_like in a formula)."""
        return Tensor._make(x._device.xp.zeros_like(x._data), x._device)

    @staticmethod
    def keep(mask, g):
        """``g`` where ``mask``, else +0 (nan and -0 included): differentiable in ``g``."""
        return g.masked_fill(~mask, 0)

    @staticmethod
    def one_minus_square(y):
        """``1 - y * y`` with one rounding (see _kernels), differentiable as ``1 - y * y``."""
        plain = 1 - y * y
        if y._data.dtype != np.float32:
            return plain
        fused = one_minus_square(y._device.xp, y._data)
        return plain + Tensor._make(fused - plain._data, y._device)


TENSORS = _TensorNS()


class _ArrayNS:
    """The array side, for one array module (NumPy or CuPy)."""

    tensors = False

    def __init__(self, xp):
        self.c = conj_array
        self.cos, self.sin, self.exp, self.log, self.sqrt = xp.cos, xp.sin, xp.exp, xp.log, xp.sqrt
        self.rsqrt = lambda x: xp.reciprocal(xp.sqrt(x))
        self.numel = lambda x: x.size

        def pow(x, e):
            kernel = POW_KERNELS.get(e) if x.dtype.kind in "fc" and x.itemsize > 2 else None
            return kernel(xp, x) if kernel is not None else xp.power(x, e)
        self.pow = pow
        self.zeros_like = xp.zeros_like
        self.keep = lambda mask, g: keep_where(xp, mask, g)
        self.one_minus_square = lambda y: one_minus_square(xp, y)


_ARRAYS: dict = {}


def arrays(xp) -> _ArrayNS:
    """The namespace of array module ``xp``."""
    ns = _ARRAYS.get(xp)
    if ns is None:
        ns = _ARRAYS[xp] = _ArrayNS(xp)
    return ns
