"""Array kernels of the Hurwitz zeta function and the regularized incomplete gamma functions
(torch.special.zeta, gammainc, gammaincc), ported from ATen/native/Math.h (Cephes and SciPy).

The C code iterates per element until a term stops counting; here each loop runs over the
elements still iterating (``_Live``), so an array costs as many steps as its slowest element."""

from __future__ import annotations

import math

from ._cephes import erfc, flat, horner, lgamma
from ._tables import IGAM_D


class _Live:
    """The elements still iterating, as 1-d arrays named by keyword (``st.s``): ``retire(done,
    value)`` writes ``value[done]`` into ``out`` at their places and drops them from every array."""

    def __init__(self, out, idx, **arrays):
        self.out, self.idx, self._v = out, idx, arrays

    @classmethod
    def over(cls, out, mask, **arrays):
        """The elements of ``mask`` (of full-size ``arrays``)."""
        idx = mask.nonzero()[0]
        return cls(out, idx, **{k: v[idx] for k, v in arrays.items()})

    def __getattr__(self, name):
        return self.__dict__["_v"][name]

    def set(self, **arrays):
        self._v.update(arrays)

    def take(self, done) -> dict:
        """Drop the ``done`` elements; their arrays (and places, as ``idx``) come back."""
        got = {k: v[done] for k, v in self._v.items()}
        got["idx"] = self.idx[done]
        keep = ~done
        self.idx = self.idx[keep]
        self._v = {k: v[keep] for k, v in self._v.items()}
        return got

    def retire(self, done, value) -> None:
        if done.any():
            self.out[self.idx[done]] = value[done]
            self.take(done)

    def finish(self, name: str) -> None:
        """Stop iterating: every element left keeps its current ``name``."""
        self.out[self.idx] = self._v[name]

    def __bool__(self) -> bool:
        return self.idx.size > 0


# --- zeta ----------------------------------------------------------------------------------------
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042e-16


@flat
def zeta(xp, x, q):
    """Hurwitz zeta(x, q) = sum_k (k + q)^-x. Both dtypes compute in float64, as torch does (its
    accumulate type on CPU): direct summation until k + q > 9, then Euler-Maclaurin."""
    dt = x.dtype
    x, q = x.astype(xp.float64), q.astype(xp.float64)
    out = xp.full(x.shape, math.nan)
    pole = (q <= 0) & (q == xp.floor(q))
    out[(x == 1) | (~(x < 1) & pole)] = math.inf
    go = ~((x <= 1) | pole | ((q <= 0) & (x != xp.floor(x))))
    st = _Live.over(out, go, x=x, s=q ** -x, a=q, b=xp.zeros_like(x), i=xp.zeros_like(x))
    tails = []
    while st:
        a, i = st.a + 1, st.i + 1
        b = a ** -st.x
        s = st.s + b
        st.set(a=a, i=i, b=b, s=s)
        st.retire((-_MACHEP * s < b) & (b < _MACHEP * s), s)
        ready = ~((st.i < 9) | (st.a <= 9))
        if ready.any():
            tails.append(st.take(ready))
    for t in tails:
        _euler_maclaurin(xp, out, t)
    return out.astype(dt, copy=False)


def _euler_maclaurin(xp, out, t):
    """The tail of zeta once the direct sum has reached k + q > 9."""
    x, w, b = t["x"], t["a"], t["b"]
    s = t["s"] + b * w / (x - 1) - 0.5 * b
    st = _Live(out, t["idx"], x=x, w=w, b=b, s=s, a=xp.ones_like(x))
    k = 0.0
    for coef in _ZETA_A:
        if not st:
            return
        a = st.a * (st.x + k)
        b = st.b / st.w
        term = a * b / coef
        s = st.s + term
        st.set(a=a * (st.x + k + 1), b=b / st.w, s=s)
        st.retire(xp.abs(term / s) < _MACHEP, s)
        k += 2
    st.finish("s")


# --- incomplete gamma ----------------------------------------------------------------------------
def _consts(dt):
    """torch's per-precision constants: MACHEP, MAXLOG, BIG, BIGINV."""
    if dt.itemsize == 8:
        return 1.11022302462515654042e-16, 7.09782712893383996843e2, 4.503599627370496e15, \
            2.22044604925031308085e-16
    return 5.9604644775390625e-8, 88.72283905206835, 16777216.0, 5.9604644775390625e-8


_LANCZOS_NUM = (0.006061842346248907, 0.5098416655656676, 19.519927882476175, 449.9445569063168,
                6955.999602515376, 75999.29304014542, 601859.6171681099, 3481712.154980646,
                14605578.087685067, 43338889.32467614, 86363131.2881386, 103794043.11634454,
                56906521.913471565)
_LANCZOS_DEN = (1.0, 66.0, 1925.0, 32670.0, 357423.0, 2637558.0, 13339535.0, 45995730.0,
                105258076.0, 150917976.0, 120543840.0, 39916800.0, 0.0)
_LANCZOS_G = 6.024680040776729583740234375
_2PI_F = 6.2831854820251465  # torch's 2 * c10::pi<float>, for both precisions


def _lanczos_sum_expg_scaled(xp, a):
    """ratevl: the rational function in a, or in 1/a (coefficients reversed) for a > 1."""
    big = xp.abs(a) > 1
    y = xp.where(big, 1 / a, a)
    fwd = horner(y, _LANCZOS_NUM) / horner(y, _LANCZOS_DEN)
    rev = horner(y, _LANCZOS_NUM[::-1]) / horner(y, _LANCZOS_DEN[::-1])
    return xp.where(big, rev, fwd)


def _fac(xp, a, x):
    """x^a e^-x / Gamma(a), with Lanczos' approximation where a ~ x."""
    maxlog = _consts(a.dtype)[1]
    far = xp.abs(a - x) > 0.4 * xp.abs(a)
    ax = a * xp.log(x) - x - lgamma(xp, a)
    fac = a + _LANCZOS_G - 0.5
    res = xp.sqrt(fac / 2.718281828459045) / _lanczos_sum_expg_scaled(xp, a)
    num = x - a - _LANCZOS_G + 0.5
    numfac = num / fac
    near = xp.where((a < 200) & (x < 200), xp.exp(a - x) * (x / fac) ** a,
                    xp.exp(a * (xp.log1p(numfac) - numfac) + x * (0.5 - _LANCZOS_G) / fac))
    return xp.where(far, xp.where(ax < -maxlog, 0, xp.exp(ax)), res * near).astype(a.dtype)


def _igam_series(xp, a, x):
    """DLMF 8.11.4: the lower function by its power series."""
    machep = _consts(a.dtype)[0]
    ax = _fac(xp, a, x)
    out = xp.zeros_like(a)
    st = _Live.over(out, ax != 0, r=a, c=xp.ones_like(a), ans=xp.ones_like(a), x=x)
    for _ in range(2000):
        if not st:
            break
        r = st.r + 1
        c = st.c * (st.x / r)
        ans = st.ans + c
        st.set(r=r, c=c, ans=ans)
        st.retire(c <= machep * ans, ans)
    st.finish("ans")
    return out * ax / a


def _igamc_series(xp, a, x):
    """DLMF 8.7.3: the upper function for small x, without the cancellation of 1 - lower."""
    machep = _consts(a.dtype)[0]
    out = xp.zeros_like(a)
    st = _Live.over(out, x == x, fac=xp.ones_like(a), sum=xp.zeros_like(a), a=a, x=x)
    for n in range(1, 2000):
        if not st:
            break
        fac = st.fac * (-st.x / n)
        term = fac / (st.a + n)
        total = st.sum + term
        st.set(fac=fac, sum=total)
        st.retire(xp.abs(term) <= machep * xp.abs(total), total)
    st.finish("sum")
    logx = xp.log(x)
    term = -xp.expm1(a * logx - lgamma(xp, 1 + a))
    return term - xp.exp(a * logx - lgamma(xp, a)) * out


def _igam_asymptotic(xp, a, x, lower):
    """DLMF 8.12.3/8.12.4: Temme's uniform expansion for large a with x ~ a."""
    machep = _consts(a.dtype)[0]
    sgn = -1 if lower else 1
    lam, sigma = x / a, (x - a) / a
    root = xp.sqrt(-2 * (xp.log1p(sigma) - sigma))
    eta = xp.where(lam > 1, root, xp.where(lam < 1, -root, 0)).astype(a.dtype)
    res = 0.5 * erfc(xp, sgn * eta * xp.sqrt(a / 2))
    etapow = xp.cumprod(xp.concatenate([xp.ones_like(eta)[:, None],
                                        xp.broadcast_to(eta[:, None], (eta.size, 24))], 1), 1)
    total, afac = xp.zeros_like(a), xp.ones_like(a)
    old = xp.full_like(a, math.inf)
    live = xp.ones(a.shape, bool)
    for row in IGAM_D:
        # ck = d[k][0] + d[k][1] eta + ...: summed until a term stops counting
        terms = xp.asarray(row, dtype=a.dtype) * etapow
        ck = xp.cumsum(terms, 1)[:, 1:]  # d0 + t1, (d0 + t1) + t2, ...: the C loop's order
        stop = xp.abs(terms[:, 1:]) < machep * xp.abs(ck)
        stop[:, -1] = True
        ck = ck[xp.arange(a.size), xp.argmax(stop, 1)]
        term = ck * afac
        live &= ~(xp.abs(term) > old)
        total = xp.where(live, total + term, total)
        live &= ~(xp.abs(term) < machep * xp.abs(total))
        old, afac = xp.abs(term), afac / a
        if not live.any():
            break
    return res + sgn * xp.exp(-0.5 * a * eta * eta) * total / xp.sqrt(_2PI_F * a)


def _igamc_fraction(xp, a, x):
    """DLMF 8.9.2: the upper function by its continued fraction."""
    machep, _, big, biginv = _consts(a.dtype)
    ax = _fac(xp, a, x)
    y = 1 - a
    z = x + y + 1
    pkm1, qkm1 = x + 1, z * x
    out = xp.zeros_like(a)
    st = _Live.over(out, ax != 0, y=y, z=z, pkm2=xp.ones_like(a), qkm2=x, pkm1=pkm1, qkm1=qkm1,
                    ans=pkm1 / qkm1)
    c = 0.0
    for _ in range(2000):
        if not st:
            break
        c += 1
        y, z = st.y + 1, st.z + 2
        yc = y * c
        pk = st.pkm1 * z - st.pkm2 * yc
        qk = st.qkm1 * z - st.qkm2 * yc
        nz = qk != 0
        r = pk / xp.where(nz, qk, 1)
        t = xp.where(nz, xp.abs((st.ans - r) / r), 1)
        ans = xp.where(nz, r, st.ans)
        scale = xp.where(xp.abs(pk) > big, biginv, 1).astype(a.dtype)  # rescale, as Cephes
        st.set(y=y, z=z, pkm2=st.pkm1 * scale, pkm1=pk * scale, qkm2=st.qkm1 * scale,
               qkm1=qk * scale, ans=ans)
        st.retire(t <= machep, ans)
    st.finish("ans")
    return out * ax


def _igam(xp, a, x, lower):
    """calc_igamma (lower) or calc_igammac: boundary values, Temme's expansion where a ~ x is
    large, else series or continued fraction (one from the other by 1 - f)."""
    out = xp.full_like(a, math.nan)
    at_inf, at_zero = (1.0, 0.0) if lower else (0.0, 1.0)  # the values for x = inf and x = 0
    done = (x < 0) | (a < 0)
    for cond, value in (((a == 0) & (x > 0), at_inf), (a == 0, math.nan), (x == 0, at_zero),
                        (xp.isinf(a) & xp.isinf(x), math.nan), (xp.isinf(a), at_zero),
                        (xp.isinf(x), at_inf), (xp.isnan(a) | xp.isnan(x), math.nan)):
        m = cond & ~done  # the C code's if/else chain, in its order
        out[m] = value
        done |= m
    ratio = xp.abs(x - a) / a
    asym = ~done & (((a > 20) & (a < 200) & (ratio < 0.3)) |
                    ((a > 200) & (ratio < 4.5 / xp.sqrt(a))))
    _into(xp, out, asym, lambda xp, a, x: _igam_asymptotic(xp, a, x, lower), a, x)
    rest = ~(done | asym)
    if lower:
        _into(xp, out, rest & (x > 1) & (x > a), lambda xp, a, x: 1 - _igamc_core(xp, a, x), a, x)
        _into(xp, out, rest & ~((x > 1) & (x > a)), _igam_series, a, x)
    else:
        _into(xp, out, rest, _igamc_core, a, x)
    return out


def _igamc_core(xp, a, x):
    with_lower = xp.where(x > 1.1, x < a, xp.where(x <= 0.5, -0.4 / xp.log(x) < a, x * 1.1 < a))
    out = xp.empty_like(a)
    _into(xp, out, with_lower, lambda xp, a, x: 1 - _igam_series(xp, a, x), a, x)
    _into(xp, out, ~with_lower & (x > 1.1), _igamc_fraction, a, x)
    _into(xp, out, ~with_lower & ~(x > 1.1), _igamc_series, a, x)
    return out


def _into(xp, out, mask, fn, *arrays):
    if mask.any():
        out[mask] = fn(xp, *(v[mask] for v in arrays))


gammainc = flat(lambda xp, a, x: _igam(xp, a, x, True))
gammaincc = flat(lambda xp, a, x: _igam(xp, a, x, False))
