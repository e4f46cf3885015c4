"""The LAPACK drivers behind svd, eig, eigh, inv, solve, LU, det, cholesky and triangular solves:
the input precision's own routine (gesdd, geev, syevd, getri, gesv, getrf, potrf, trsm) through
SciPy when it is installed (the `fast` extra), NumPy's linalg otherwise.

NumPy's linalg computes float32 and complex64 in double precision and casts back: twice the work
(svd 512x512 took 2.3x torch's time, eigvals and inv about 1.9x), and LU had only a Python-loop
stand-in. torch calls the single-precision routines, as SciPy's wrappers do, one matrix per call:
so they only serve matrices large enough that the Python loop over a batch does not show (MIN_N).
CuPy arrays keep cupy.linalg.

SciPy's results keep LAPACK's column-major matrices, whose strides torch reports too."""

from __future__ import annotations


import numpy as np

from ..._backend import linalg_checked, scipy_linalg
from . import _lapack
from ._common import LinAlgError, batch_prefix

MIN_N = 16  # below this NumPy's C loop over a batch beats one SciPy call per matrix
_PREFIX = {"f": "s", "d": "d", "F": "c", "D": "z"}
def _routines(xp, a, n, *names):
    """SciPy's routines for a's precision, or None where NumPy's linalg should run."""
    if xp is not np or n < MIN_N or a.size == 0 or a.dtype.char not in _PREFIX:
        return None
    sp = scipy_linalg()
    if not sp:
        return None
    p = _PREFIX[a.dtype.char]
    return [getattr(sp.lapack, p + name, None) or getattr(sp.blas, p + name) for name in names]


def _sizes(work) -> int:
    return int(work.real * 1.000001) + 1  # a float32 size may have been rounded down


def _lwork(query, *args, **kw) -> int:
    return _sizes(query(*args, **kw)[0])


def _each(one, *arrays):
    """one(column-major copies of the arrays' matrices at a batch index) -> (arrays, info) over
    the broadcast batch; outputs stay column-major per matrix, as torch's batches are."""
    batch = np.broadcast_shapes(*(x.shape[:-2] for x in arrays))
    full = [np.broadcast_to(x, batch + x.shape[-2:]) for x in arrays]
    info = np.zeros(batch, np.int32)
    outs = None
    for i in np.ndindex(batch):  # once, at (), for plain matrices
        res, info[i] = one(*(np.array(x[i], order="F") for x in full))
        if not batch:
            return res, info
        if outs is None:
            outs = [np.empty(batch + r.shape[::-1], r.dtype).swapaxes(-1, -2) if r.ndim == 2
                    else np.empty(batch + r.shape, r.dtype) for r in res]
        for out, r in zip(outs, res):
            out[i] = r
    return outs, info


def _failed(xp, a, name, info, what, finite=True):
    """torch's LinAlgError for a driver that did not converge (info > 0) or met NaN (info < 0,
    or no info: NumPy's linalg only says that it failed); `finite=False`: torch does not tell
    non-finite inputs apart."""
    flat = a.reshape(-1, *a.shape[-2:])
    bad = ~xp.isfinite(flat).all(axis=(-2, -1)) & finite
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

    out, info = _each(one, a)
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
    if not hasattr(xp.linalg, "eig"):  # CuPy 13 has no geev: on the host, one copy each way
        w, v = eig(np, a.get(), vectors)
        return xp.asarray(w), None if v is None else xp.asarray(v)
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

    out, info = _each(one, a)
    if info.any():
        raise _failed(xp, a, "linalg.eig", info, "eigenvalues")
    return out[0], (out[1] if vectors else None)


def _singular_safe(xp, a, solve):
    """NumPy's solve/inv raise for a whole batch if one matrix is singular: find those (info as
    LAPACK's getrf) and solve the rest, the singular ones swapped for identities."""
    info = _lapack.getrf(xp, a)[2]
    eye = xp.eye(a.shape[-1], dtype=a.dtype)
    return solve(xp.where((info != 0)[..., None, None], eye, a)), info


def inv(xp, a):
    """(inverse, int32 info): info > 0 is the 1-based zero pivot that makes a matrix singular,
    whose inverse is then unspecified."""
    n = a.shape[-1]
    found = _routines(xp, a, n, "getrf", "getri", "getri_lwork")
    if found is None:
        try:
            with linalg_checked(xp):
                return xp.linalg.inv(a), xp.zeros(a.shape[:-2], xp.int32)
        except np.linalg.LinAlgError:
            return _singular_safe(xp, a, xp.linalg.inv)
    getrf, getri, query = found
    lwork = _lwork(query, n)

    def one(x):  # getri inverts in place from the LU: a quarter fewer flops than solving A X = I
        lu, piv, info = getrf(x, overwrite_a=True)
        return ((lu,) if info else getri(lu, piv, lwork=lwork, overwrite_lu=True)[:1]), info

    out, info = _each(one, a)
    return out[0], info


def _folded(one, a, b):
    """_each(one, a, b), one matrix a serving a batch of b's as one call on b's columns."""
    if a.ndim > 2 or b.ndim == 2:
        return _each(one, a, b)
    cols = np.moveaxis(b, -2, 0).reshape(b.shape[-2], -1)
    (x,), info = _each(one, a, cols)
    return [np.moveaxis(x.reshape(b.shape[-2], *b.shape[:-2], b.shape[-1]), 0, -2)], info


def solve(xp, a, b):
    """(X, int32 info of a's batch) for A X = B, b a stack of matrices broadcasting with a;
    info > 0 marks a singular matrix, whose X is then unspecified."""
    found = _routines(xp, a, a.shape[-1], "gesv")
    if found is None or not b.size or a.ndim > 2 and np.broadcast_shapes(
            a.shape[:-2], b.shape[:-2]) != a.shape[:-2]:  # (one LU per matrix of a only)
        try:
            with linalg_checked(xp):
                return xp.linalg.solve(a, b), xp.zeros(a.shape[:-2], xp.int32)
        except np.linalg.LinAlgError:
            return _singular_safe(xp, a, lambda safe: xp.linalg.solve(safe, b))
    (gesv,) = found

    def one(x, y):
        *_, x, info = gesv(x, y, overwrite_a=True, overwrite_b=True)
        return (x,), info

    out, info = _folded(one, a, b)
    return out[0], info


def getrf(xp, a):
    """LU = P^T A with partial pivoting: (LU, 1-based int32 pivots, int32 info) as LAPACK's."""
    found = _routines(xp, a, min(a.shape[-2:]), "getrf")
    if found is None:
        return _lapack.getrf(xp, a)
    (lapack_getrf,) = found

    def one(x):
        lu, piv, info = lapack_getrf(x, overwrite_a=True)
        return (lu, piv + 1), info  # SciPy's wrapper makes the pivots 0-based

    (lu, piv), info = _each(one, a)
    return lu, piv, info


def eigh(xp, a, lower: bool, vectors: bool):
    """(real eigenvalues, eigenvectors or None) of a Hermitian matrix, reading one triangle."""
    n = a.shape[-1]
    herm = a.dtype.kind == "c"
    found = _routines(xp, a, n, *(("heevd", "heevd_lwork") if herm else ("syevd", "syevd_lwork")))
    if found is None:
        uplo = "L" if lower else "U"
        return xp.linalg.eigh(a, UPLO=uplo) if vectors else (xp.linalg.eigvalsh(a, UPLO=uplo), None)
    evd, query = found
    *work, _ = query(n, compute_v=vectors, lower=lower)
    names = ("lwork", "liwork", "lrwork") if herm else ("lwork", "liwork")
    sizes = {k: _sizes(w) for k, w in zip(names, work)}

    def one(x):
        w, v, info = evd(x, compute_v=vectors, lower=lower, overwrite_a=True, **sizes)
        return ((w, v) if vectors else (w,)), info

    out, info = _each(one, a)
    if info.any():  # torch does not check for NaN here: LAPACK just fails to converge
        raise _failed(xp, a, "linalg.eigh", info, "eigenvalues", finite=False)
    return out[0], (out[1] if vectors else None)


def cholesky(xp, a):
    """(lower Cholesky factor, int32 info): a matrix that is not positive-definite holds potf2's
    partial factor, and its info the order of the leading minor that fails."""
    found = _routines(xp, a, a.shape[-1], "potrf")
    if found is None:
        try:
            with linalg_checked(xp):
                return xp.linalg.cholesky(a), xp.zeros(a.shape[:-2], xp.int32)
        except np.linalg.LinAlgError:
            return _lapack.potf2(xp, a)
    (potrf,) = found

    def one(x):
        c, info = potrf(x, lower=True, clean=True, overwrite_a=True)
        return (c,), info

    out, info = _each(one, a)
    return _lapack.potf2(xp, a) if info.any() else (out[0], info)


def solve_triangular(xp, a, b, upper: bool, unit: bool):
    """A X = B reading one triangle of a (unit diagonal if `unit`), b a stack of matrices
    broadcasting with a; a zero on the diagonal gives inf/NaN, as BLAS's trsm (torch's)."""
    n = a.shape[-1]
    found = _routines(xp, a, n, "trsm")
    if found is None or not b.size:
        lower = xp.tri(n, n, 0, dtype=bool)
        t = xp.where(lower.T if upper else lower, a, 0)  # only the named triangle is read
        if unit:
            t = xp.where(xp.eye(n, dtype=bool), xp.ones((), a.dtype), t)
        try:
            return xp.linalg.solve(t, b)
        except np.linalg.LinAlgError:  # a zero on the diagonal: BLAS divides by it anyway
            return _lapack.trsm(xp, t, b, upper)
    (trsm,) = found

    def one(x, y):
        return (trsm(1.0, x, y, lower=not upper, diag=unit, overwrite_b=True),), 0

    return _folded(one, a, b)[0][0]


def _lu_diagonal(xp, a):
    """(diagonal of U, sign of P) from LAPACK's LU, or None where NumPy's linalg should run."""
    if _routines(xp, a, a.shape[-1], "getrf") is None:
        return None
    lu, piv, _ = getrf(xp, a)
    odd = (piv != np.arange(1, a.shape[-1] + 1, dtype=piv.dtype)).sum(-1) % 2
    return lu.diagonal(0, -2, -1), np.where(odd, -1, 1).astype(a.dtype)


def det(xp, a):
    """det(A) as torch's: the product of U's diagonal, signed by the row swaps."""
    parts = _lu_diagonal(xp, a)
    if parts is None:
        return xp.asarray(xp.linalg.det(a))
    d, sign = parts
    return np.asarray(d.prod(-1) * sign)


def slogdet(xp, a):
    """(sign, log|det A|) as torch's: sign 0 and -inf for a singular matrix."""
    parts = _lu_diagonal(xp, a)
    if parts is None:
        return tuple(xp.asarray(x) for x in xp.linalg.slogdet(a))
    d, sign = parts
    mag = np.abs(d)
    with np.errstate(divide="ignore"):
        logabs = np.log(mag).sum(-1)
    unit = np.where(mag == 0, 0, d / np.where(mag == 0, 1, mag))
    return np.asarray(unit.prod(-1) * sign), np.asarray(logabs)
