"""Array kernels that both an op's forward and a derivative formula use (on raw NumPy or CuPy
arrays): so the ops (`_ops/elementwise.py`) and the autograd core (`autograd/formula.py`) import
them from below instead of one from the other."""

import numpy as np


def conj_array(x):
    """``_c`` for raw arrays: conj(f'(z)) for complex inputs, the identity for real ones."""
    return x.conj() if x.dtype.kind == "c" else x


def keep_where(xp, keep, g):
    """The array ``g`` where ``keep``, else +0: torch's ``g.masked_fill(~keep, 0)`` (nan and -0
    included). Masks the bits instead of branching: ~10x faster than where() on a random mask."""
    if g.dtype.kind == "c" or g.size < 4096:  # where() is faster on few elements
        return xp.where(keep, g, xp.zeros((), g.dtype))
    bits = _INT_OF_SIZE[g.itemsize]
    m = xp.negative(keep.view(xp.int8), dtype=bits)  # 0 or all ones
    out = m if m.shape == g.shape and type(m) is xp.ndarray else None
    return xp.bitwise_and(m, g.view(bits), out=out).view(g.dtype)


_INT_OF_SIZE = {2: np.int16, 4: np.int32, 8: np.int64}

# torch's kernels for these exponents of x ** e (sqrt(-0) is -0, not 0)
POW_KERNELS = {2: lambda xp, x: x * x, 3: lambda xp, x: x * x * x, 0.5: lambda xp, x: xp.sqrt(x),
               -0.5: lambda xp, x: xp.reciprocal(xp.sqrt(x)), -1: lambda xp, x: xp.reciprocal(x),
               -2: lambda xp, x: xp.reciprocal(x * x)}



def one_minus_square(xp, y):
    """``1 - y * y`` rounded once for float32, as torch's tanh_backward computes it (its
    compiler fuses the product and the difference into one FMA): two roundings differ from it
    in the last bit for 30% of inputs (makemore's backprop lecture prints whether its manual
    gradients equal autograd's bit for bit). In float64 y * y is exact (24 + 24 bits). float64
    keeps two roundings: an exact product there (Dekker) costs ~8x the plain one."""
    if y.dtype != np.float32:
        return 1 - y * y
    w = y.astype(np.float64)
    xp.multiply(w, w, out=w)
    xp.subtract(1, w, out=w)
    return w.astype(np.float32)
