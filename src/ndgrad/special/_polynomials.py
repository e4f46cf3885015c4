"""Array kernels of torch.special's orthogonal polynomials, ported from ATen/native/Math.h: the
closed forms torch uses at the special points and inside [-1, 1] for large n, and the three-term
recurrence elsewhere, run over the elements whose degree is not reached yet."""

from __future__ import annotations

import math

from ._cephes import flat


def _degree(xp, n):
    """n as the int64 torch casts it to (truncated; nan, inf and out-of-range give a negative
    degree, as x86's conversion gives INT64_MIN, and every polynomial is 0 there)."""
    ok = xp.isfinite(n) & (xp.abs(n) < 2.0 ** 63)
    return xp.where(ok, n, -1).astype(xp.int64)


def _libm(xp, name, x):
    """A float32 function value as glibc's (all but correctly rounded) float functions give it:
    NumPy's float32 SIMD approximations are off by ulps, which cos(n arccos x) multiplies by n."""
    fn = getattr(xp, name)
    return fn(x.astype(xp.float64)).astype(x.dtype) if x.dtype.itemsize == 4 else fn(x)


def _fma(a, b, c):
    """a * b + c with one rounding in float32, as torch's compiled loops contract it (float64
    keeps the two roundings: NumPy has no fused multiply-add)."""
    if a.dtype.itemsize == 4:
        return (a.astype("float64") * b + c).astype(a.dtype)
    return a * b + c


def _recurrence(xp, x, n, p, q, step, nan_stop=True):
    """q after n - 1 steps (p, q) <- (q, step(k, x, p, q)), k = 1, 2, ...: each element stops at its
    own degree, or (``nan_stop``) once q is nan, as torch's loops do."""
    out = q.copy()
    idx = xp.arange(x.size)
    k = 1
    while idx.size:
        live = n > k
        if nan_stop:
            live &= ~xp.isnan(q)
        if not live.all():
            out[idx[~live]] = q[~live]
            idx, x, n, p, q = idx[live], x[live], n[live], p[live], q[live]
            if not idx.size:
                break
        p, q = q, step(k, x, p, q)
        k += 1
    return out


def _poly(cases, start, step, nan_stop=True):
    """A polynomial kernel: ``cases(xp, x, n, t)`` gives (condition, value) pairs whose first
    true condition decides an element (torch's if-chain; ``t`` is n in x's dtype), the rest runs
    the recurrence from (p, q) = ``start(x)``."""

    def kernel(xp, x, n):
        n = _degree(xp, n)
        t = n.astype(x.dtype)
        conds, values = zip(*cases(xp, x, n, t))
        rest = ~xp.any(xp.stack(conds), 0)
        out = xp.select(conds, [xp.broadcast_to(v, x.shape) for v in values]).astype(x.dtype)
        if rest.any():
            p, q = start(x[rest])
            out[rest] = _recurrence(xp, x[rest], n[rest], xp.ones_like(q) * p, q, step, nan_stop)
        return out

    return flat(kernel)


# Chebyshev polynomials of the four kinds: T_{k+1} = 2s T_k - T_{k-1} with s = x (or 2x - 1 for the
# shifted ones); their values at s = 1 and s = -1 (x = 1 and x = 0 when shifted) are closed forms.
def _ends(kind, n, t):
    """(value at s = 1, value at s = -1)."""
    sign = 2.0 * (n % 2 == 0) - 1
    return {"t": (1.0, sign), "u": (t + 1, sign * (t + 1)), "v": (1.0, sign * (t + t + 1)),
            "w": (t + t + 1, sign)}[kind]


def _cheb_cases(kind, shifted):
    limit = 4 if shifted and kind == "w" else 6 if shifted or kind == "t" else 8

    def cases(xp, x, n, t):
        s = x + x - 1 if shifted else x
        plus, minus = _ends(kind, n, t)
        if shifted:
            ends = [(x == 1, plus), (x == 0, minus)]
        else:
            ends = [(xp.abs(x) == 1, xp.where(x > 0, plus, minus))]
        theta = _libm(xp, "arccos", s)
        big = (n > limit) & (xp.abs(s) < 1)  # cos/sin of multiples of arccos(s)
        cos, sin = (lambda v: _libm(xp, "cos", v)), (lambda v: _libm(xp, "sin", v))
        if kind == "t":
            trig = [(big, cos(t * theta))]
        elif kind == "u":
            sine = sin(theta)
            trig = [(big & (sine != 0), sin((t + 1) * theta) / sine),
                    (big, (t + 1) * cos((t + 1) * theta) / s)]
        elif kind == "v":
            trig = [(big & (sin(theta / 2) != 1), cos((t + 0.5) * theta) / cos(theta / 2)),
                    (big, minus)]
        else:
            trig = [(big & (cos(theta / 2) != 1), sin((t + 0.5) * theta) / sin(theta / 2)),
                    (big, minus if shifted else xp.where(x > 0, plus, minus))]
        return [(n < 0, 0.0)] + ends + trig + [(n == 0, 1.0), (n == 1, _first(kind, s))]

    return cases


def _first(kind, s):
    return {"t": s, "u": s + s, "v": s + s - 1, "w": s + s + 1}[kind]


def _chebyshev(kind, shifted=False):
    def start(x):
        s = x + x - 1 if shifted else x
        return 1.0, _first(kind, s)

    def step(k, x, p, q):
        s = x + x - 1 if shifted else x
        return _fma(s + s, q, -p)

    return _poly(_cheb_cases(kind, shifted), start, step)


chebyshev_polynomial_t = _chebyshev("t")
chebyshev_polynomial_u = _chebyshev("u")
chebyshev_polynomial_v = _chebyshev("v")
chebyshev_polynomial_w = _chebyshev("w")
shifted_chebyshev_polynomial_t = _chebyshev("t", True)
shifted_chebyshev_polynomial_u = _chebyshev("u", True)
shifted_chebyshev_polynomial_v = _chebyshev("v", True)
shifted_chebyshev_polynomial_w = _chebyshev("w", True)


def _hermite(physicists):
    """H_n (physicists') or He_n (probabilists'); nan past torch's degree limit."""

    def cases(xp, x, n, t):
        limit = 128 if x.dtype.itemsize == 4 else 512
        return [(n < 0, 0.0), (n == 0, 1.0), (n == 1, x + x if physicists else x),
                (n > limit, math.nan)]

    if physicists:
        return _poly(cases, lambda x: (1.0, x + x),
                     lambda k, x, p, q: _fma(x + x, q, -((2 * k) * p)), nan_stop=False)
    return _poly(cases, lambda x: (1.0, x), lambda k, x, p, q: _fma(x, q, -(k * p)),
                 nan_stop=False)


hermite_polynomial_h = _hermite(True)
hermite_polynomial_he = _hermite(False)

laguerre_polynomial_l = _poly(
    lambda xp, x, n, t: [(n < 0, 0.0), (xp.abs(x) == 0, 1.0), (n == 0, 1.0), (n == 1, 1 - x)],
    lambda x: (1.0, 1 - x), lambda k, x, p, q: _fma((k + k) + (1 - x), q, -(k * p)) / (k + 1))

legendre_polynomial_p = _poly(
    lambda xp, x, n, t: [(n < 0, 0.0),
                         (xp.abs(x) == 1, xp.where((x > 0) | (n % 2 == 0), 1.0, -1.0)),
                         (n == 0, 1.0), (n == 1, x)],
    lambda x: (1.0, x), lambda k, x, p, q: _fma((k + k + 1) * x, q, -(k * p)) / (k + 1))
