"""Array-level LAPACK stand-ins NumPy lacks: LU with partial pivoting (getrf), the unblocked
Cholesky that reports where it stops (potf2) and triangular substitution (trsm).

Each loops over one matrix dimension in Python and vectorises over the batch and the rest, so
they cost O(n) array operations; getrf also finds which matrix of a batch is singular."""

from __future__ import annotations

import math

from ..._backend import errstate


def getrf(xp, a):
    """LU = P^T A with partial pivoting: (LU, 1-based int32 pivots, int32 info) like LAPACK,
    info being the 1-based index of the first exactly-zero pivot (0 when none)."""
    *batch, m, n = a.shape
    k = min(m, n)
    b = math.prod(batch)
    lu = a.reshape(b, m, n).copy()
    rows = xp.arange(b)
    piv = xp.zeros((b, k), xp.int32)
    info = xp.zeros(b, xp.int32)
    for j in range(k):
        col = lu[:, j:, j]  # LAPACK's i?amax ranks complex numbers by |re| + |im|
        p = j + xp.argmax(xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c" else
                          xp.abs(col), axis=1)
        piv[:, j] = p + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        pivot = lu[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        # a zero pivot means the whole column below is zero too: LAPACK skips the scaling
        lu[:, j + 1:, j] /= xp.where(zero, 1, pivot)[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), piv.reshape(*batch, k), info.reshape(batch)


def permutation(xp, piv, m, dtype):
    """The P of A = P L U from LAPACK's sequential row swaps."""
    *batch, k = piv.shape
    b = math.prod(batch)
    flat = piv.reshape(b, k) - 1
    perm = xp.broadcast_to(xp.arange(m), (b, m)).copy()
    rows = xp.arange(b)
    for j in range(k):
        p = flat[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    # row j of L U is row perm[j] of A, so P[perm[j], j] = 1
    P = xp.zeros((b, m, m), dtype)
    P[rows[:, None], perm, xp.arange(m)] = 1
    return P.reshape(*batch, m, m)


def potf2(xp, a):
    """Unblocked lower Cholesky that stops at the first non-positive pivot, like LAPACK's potf2:
    (partial factor, int32 info = order of the failing leading minor, 0 when none)."""
    *batch, n, _ = a.shape
    L = xp.tril(a).reshape(math.prod(batch), n, n).copy()
    info = xp.zeros(L.shape[0], xp.int32)
    ok = xp.ones(L.shape[0], bool)
    for j in range(n):
        d = L[:, j, j] - (L[:, j, :j] * L[:, j, :j].conj()).sum(-1)
        bad = ok & ~(d.real > 0)  # NaN fails too
        info[bad] = j + 1
        L[bad, j, j] = d[bad]
        ok &= ~bad
        dj = xp.sqrt(xp.where(ok, d, 1))
        L[ok, j, j] = dj[ok]
        col = L[:, j + 1:, j] - (L[:, j + 1:, :j] @ L[:, j, :j, None].conj())[..., 0]
        L[ok, j + 1:, j] = (col / dj[:, None])[ok]
    return L.reshape(a.shape), info.reshape(batch)


def trsm(xp, a, b, upper):
    """Solve A X = B for triangular A by substitution; zero diagonals give inf/nan like BLAS."""
    n = a.shape[-1]
    x = xp.zeros(xp.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:],
                 xp.result_type(a, b))
    order = range(n - 1, -1, -1) if upper else range(n)
    with errstate(xp, divide="ignore", invalid="ignore"):
        for i in order:
            rest = slice(i + 1, n) if upper else slice(0, i)
            acc = b[..., i, :] - (a[..., i, None, rest] @ x[..., rest, :])[..., 0, :]
            x[..., i, :] = acc / a[..., i, i, None]
    return x
