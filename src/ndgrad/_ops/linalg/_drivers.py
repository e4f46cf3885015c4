"""The LAPACK drivers behind svd, eig and inv: the input precision's own routine (gesdd, geev,
gesv) through SciPy when it is installed (the `fast` extra), NumPy's linalg otherwise.

NumPy's linalg computes float32 and complex64 in double precision and casts back (twice the
work: svd 512x512 is 2.5x torch's time) and runs geev with its minimal workspace (unblocked
Hessenberg reduction); torch calls the single-precision routines with the optimal one. SciPy's
wrappers do the same, one matrix per call, so they only serve matrices large enough that the
Python loop over a batch does not show (MIN_N); CuPy arrays keep cupy.linalg.

The outputs keep LAPACK's column-major matrices, whose strides torch reports too."""

from __future__ import annotations

import numpy as np

from . import _lapack
from ._common import LinAlgError, batch_prefix

MIN_N = 16  # below this NumPy's C loop over a batch beats one SciPy call per matrix
_PREFIX = {"f": "s", "d": "d", "F": "c", "D": "z"}
_scipy = None  # scipy.linalg.lapack once imported; False when SciPy is missing


def _scipy_lapack():
    global _scipy
    if _scipy is None:
        from ..._threads import get_num_threads

        n = get_num_threads()
        try:
            from scipy.linalg import lapack
        except ImportError:
            lapack = False
        else:  # SciPy's OpenBLAS is a pool of its own: give it the size set_num_threads chose
            from threadpoolctl import threadpool_limits

            threadpool_limits(n, user_api="blas")
        _scipy = lapack
    return _scipy


def _routines(xp, a, n, *names):
    """SciPy's routines for a's precision, or None where NumPy's linalg should run."""
    if xp is not np or n < MIN_N or a.size == 0 or a.dtype.char not in _PREFIX:
        return None
    lapack = _scipy_lapack()
    return [getattr(lapack, _PREFIX[a.dtype.char] + name) for name in names] if lapack else None


def _lwork(query, *args, **kw) -> int:
    work, _ = query(*args, **kw)
    return int(work.real * 1.000001) + 1  # a float32 size may have been rounded down


def _each(a, one):
    """one(column-major copy of a matrix) -> (arrays, info) over a's batch; outputs stay
    column-major per matrix."""
    if a.ndim == 2:
        arrays, info = one(np.array(a, order="F"))
        return arrays, np.asarray(info, np.int32)
    flat = a.reshape(-1, *a.shape[-2:])
    info = np.zeros(len(flat), np.int32)
    outs = None
    for i, x in enumerate(flat):
        arrays, info[i] = one(np.array(x, order="F"))
        if outs is None:
            outs = [np.empty((len(flat),) + r.shape[::-1], r.dtype).swapaxes(-1, -2) if r.ndim == 2
                    else np.empty((len(flat),) + r.shape, r.dtype) for r in arrays]
        for out, r in zip(outs, arrays):
            out[i] = r
    batch = a.shape[:-2]
    return [out.reshape(batch + out.shape[1:]) for out in outs], info.reshape(batch)


def _failed(xp, a, name, info, what):
    """torch's LinAlgError for a driver that did not converge (info > 0) or met NaN (info < 0,
    or no info: NumPy's linalg only says that it failed)."""
    flat = a.reshape(-1, *a.shape[-2:])
    bad = ~xp.isfinite(flat).all(axis=(-2, -1))
    i = int(info.reshape(-1).nonzero()[0][0]) if info is not None else \
        int(bad.argmax()) if bad.any() else None
    if i is None:
        return None
    why = ("contained non-finite values" if bad[i] else
           f"is ill-conditioned or has too many repeated {what} (error code: "
           f"{int(info.reshape(-1)[i])})")
    return LinAlgError(f"{name}: {batch_prefix(a, i)}The algorithm failed to converge because the "
                       f"input matrix {why}.")


def svd(xp, a, full_matrices: bool = True, compute_uv: bool = True):
    """xp.linalg.svd, failing with torch's LinAlgError."""
    m, n = a.shape[-2:]
    found = _routines(xp, a, min(m, n), "gesdd", "gesdd_lwork")
    if found is None:
        try:
            return xp.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
        except np.linalg.LinAlgError as e:
            raise _failed(xp, a, "linalg.svd", None, "singular values") or e from None
    gesdd, query = found
    lwork = _lwork(query, m, n, compute_uv=compute_uv, full_matrices=full_matrices)

    def one(x):
        u, s, vh, info = gesdd(x, compute_uv=compute_uv, full_matrices=full_matrices,
                               lwork=lwork, overwrite_a=True)
        return ((u, s, vh) if compute_uv else (s,)), info

    out, info = _each(a, one)
    if info.any():
        raise _failed(xp, a, "linalg.svd", info, "singular values")
    return tuple(out) if compute_uv else out[0]


def _complex(xp, dt):
    return xp.complex64 if dt in (xp.float32, xp.complex64) else xp.complex128


def _pair_vectors(vr, wi, c):
    """geev's real eigenvectors: a complex pair (wi > 0 first) is stored as (re, im) columns."""
    v = vr.astype(c)
    j = np.flatnonzero(wi > 0)
    v[:, j] += 1j * vr[:, j + 1]
    v[:, j + 1] = v[:, j].conj()
    return v


def eig(xp, a, vectors: bool):
    """(eigenvalues, eigenvectors or None), complex in a's precision like torch's."""
    if not bool(xp.isfinite(a).all()):
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    c = _complex(xp, a.dtype)
    n = a.shape[-1]
    found = _routines(xp, a, n, "geev", "geev_lwork")
    if found is None:
        if vectors:
            w, v = xp.linalg.eig(a)
            return w.astype(c), v.astype(c)
        return xp.linalg.eigvals(a).astype(c), None
    geev, query = found
    lwork = _lwork(query, n, compute_vl=False, compute_vr=vectors)
    real = a.dtype.kind == "f"

    def one(x):
        *res, info = geev(x, compute_vl=False, compute_vr=vectors, lwork=lwork, overwrite_a=True)
        if not real:
            return ((res[0], res[2]) if vectors else (res[0],)), info
        wr, wi, _, vr = res
        w = wr.astype(c)
        w.imag = wi
        return ((w, _pair_vectors(vr, wi, c)) if vectors else (w,)), info

    out, info = _each(a, one)
    if info.any():
        raise _failed(xp, a, "linalg.eig", info, "eigenvalues")
    return out[0], (out[1] if vectors else None)


def inv(xp, a):
    """(inverse, int32 info): info > 0 is the 1-based zero pivot that makes a matrix singular,
    whose inverse is then unspecified."""
    n = a.shape[-1]
    found = _routines(xp, a, n, "gesv")
    if found is None:
        try:
            return xp.linalg.inv(a), xp.zeros(a.shape[:-2], xp.int32)
        except np.linalg.LinAlgError:
            info = _lapack.getrf(xp, a)[2]
            safe = xp.where((info != 0)[..., None, None], xp.eye(n, dtype=a.dtype), a)
            return xp.linalg.inv(safe), info
    (gesv,) = found

    def one(x):  # torch's inverse too is gesv's solve of A X = I
        *_, x, info = gesv(x, np.eye(n, dtype=a.dtype, order="F"), overwrite_a=True,
                           overwrite_b=True)
        return (x,), info

    out, info = _each(a, one)
    return out[0], info
