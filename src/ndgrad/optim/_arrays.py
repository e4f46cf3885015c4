"""In-place array kernels with torch's operation order (``self + value * t1 / t2`` ...).

Optimizers run on raw arrays: no graph, no Tensor wrappers, temporaries only where torch's formula
needs one. torch's CPU kernels may fuse ``a + s * b`` into one FMA; NumPy rounds twice, so float32
results can differ from torch's in the last bit."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor


def scalar(x):
    """A Python number from a float or a one-element tensor (torch's ``_to_scalar``)."""
    return x.item() if isinstance(x, Tensor) else x


def real(a):
    """The array itself, or a float view (..., 2) of a complex one (torch's view_as_real)."""
    return a[..., None].view(a.real.dtype) if a.dtype.kind == "c" else a


def constants(xp, dtype, *values):
    """``values`` as 0-d NumPy arrays of ``dtype`` (float32/float64): a ufunc takes such an
    operand ~0.3 us sooner than a Python float, which it converts to the same value each call.
    Other dtypes and array modules keep the Python floats."""
    if xp is np and dtype.kind == "f" and dtype.itemsize >= 4:
        return [np.array(v, dtype) for v in values]
    return values


def add_(a, b, alpha=1.0):
    """a += alpha * b."""
    if alpha == 1:
        a += b
    else:
        a += b * alpha
    return a


def added(a, b, alpha=1.0):
    """a + alpha * b in a new array (torch's out-of-place ``add`` with alpha)."""
    return a + (b if alpha == 1 else b * alpha)


def addcmul_(a, t1, t2, value=1.0):
    """a += value * t1 * t2."""
    tmp = t1 * value if value != 1 else t1.copy()
    tmp *= t2
    a += tmp
    return a


def addcdiv_(a, t1, t2, value=1.0):
    """a += value * t1 / t2."""
    tmp = t1 * value if value != 1 else t1.copy()
    tmp /= t2
    a += tmp
    return a


def lerp_(a, end, weight: float):
    """a += weight * (end - a), or the form torch uses for weights >= 0.5."""
    tmp = end - a
    if abs(weight) < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1 - a.dtype.type(weight)
        a[...] = end - tmp
    return a


def arrays(state: dict, *keys):
    """The named state tensors' arrays (float views of complex ones)."""
    return [real(state[k]._data) for k in keys]
