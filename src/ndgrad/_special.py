"""Special functions on whole arrays (NumPy or CuPy ``xp``), ndgrad's own for installs without
SciPy: erf, erfc, erfinv, lgamma, digamma, polygamma. No per-element Python: rational and series
approximations and recurrences run as array operations (a loop over a recurrence's steps at
most).

erf, erfc, erfinv and lgamma are computed in float64 and rounded to the input's dtype: Cephes'
rational approximations (erf, erfc, lgamma), Taylor series where those lose relative precision,
Giles' approximation polished by Newton steps (erfinv). Against exact values: float32 correctly
rounded; float64 within 2 ulp (erf, erfinv), 5 ulp (erfc), 3 ulp (lgamma for x > 0; 10 ulp
for x < 0 but next to its zeros there, where the error is ~1e-15 absolute). torch calls the C
library's or SLEEF's functions, as accurate. digamma, trigamma and polygamma follow torch's own
algorithms (ATen's Math.h, from Cephes) step by step in the input's dtype, so they round as
torch does, inaccuracies near digamma's roots included; only polygamma's Hurwitz zeta is summed
in float64 for float32 too (torch's float32 sum is the less accurate one).

Cephes: Copyright 1984-2000 Stephen L. Moshier, 3-clause BSD (see torch's note [3-Clause BSD
License for the Cephes Math Library])."""

from __future__ import annotations

import numpy as np

_MACHEP = 1.11022302462515654042e-16
_LOGPI = 1.14472988584940017414
_LS2PI = 0.91893853320467274178  # log(sqrt(2 pi))
_2_SQRTPI = 1.12837916709551257390  # 2 / sqrt(pi)


def _polevl(x, coefs):
    """coefs[0] x^n + ... + coefs[n] (Horner, in place)."""
    r = x * coefs[0] + coefs[1]
    for c in coefs[2:]:
        r *= x
        r += c
    return r


def _p1evl(x, coefs):
    """x^n + coefs[0] x^(n-1) + ... (leading coefficient 1)."""
    return _polevl(x, (1.0,) + tuple(coefs))


def _flat64(xp, x):
    """``x`` as a 1-d float64 array (masks and fancy indexing need no 0-d special case)."""
    return xp.asarray(x, dtype=xp.float64).reshape(-1)


def _out(xp, res, x):
    x = xp.asarray(x)
    dt = x.dtype if x.dtype.kind == "f" else xp.float64
    return res.reshape(x.shape).astype(dt, copy=False)


def _parts(xp, a, out, pieces):
    """out[mask] = fn(a[mask]) for each (mask, fn); a whole-array call when one mask is all."""
    for mask, fn in pieces:
        if mask.all():
            return fn(a)
        if mask.any():
            out[mask] = fn(a[mask])
    return out


# --- erf, erfc (Cephes ndtr.c) ------------------------------------------------------------------
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
# erfc(3/4 + h): its Taylor coefficients, h^20 .. h^0
_ERFC_34 = (3.7686462355785005e-08, -1.988595070010976e-08, -3.820585027845882e-07,
            5.034286680771006e-07, 3.252264713003685e-06, -7.166231694301993e-06,
            -2.2117975642824626e-05, 7.57456209347206e-05, 0.00010618466494862627,
            -0.0006239836743132585, -0.00018603225735249506, 0.00396826044637477,
            -0.0023017883040209273, -0.018435235177909452, 0.026872509532768433,
            0.053242729167728105, -0.1506869693426267, -0.026788794549800304, 0.4821983018964055,
            -0.6429310691952074, 0.28884436634648486)
_ERFC_S = (2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _erf_small(xp, a):
    """erf for |a| <= 1: a T(a^2) / U(a^2)."""
    z = a * a
    return a * _polevl(z, _ERF_T) / _p1evl(z, _ERF_U)


def _erfc_big(xp, a):
    """erfc for |a| >= 1: exp(-a^2) P(|a|) / Q(|a|), reflected for a < 0."""
    x = xp.abs(a)
    near = x < 8
    r = _parts(xp, x, xp.empty_like(x), [
        (near, lambda v: _polevl(v, _ERFC_P) / _p1evl(v, _ERFC_Q)),
        (~near, lambda v: _polevl(v, _ERFC_R) / _p1evl(v, _ERFC_S))])
    m = xp.floor(x * 128 + 0.5) / 128  # exp(-x^2) as Cephes' expx2: x = m + f, m^2 exact
    f = x - m
    e1, e2 = -(m * m), -(2 * m * f + f * f)
    y = xp.exp(e1) * xp.exp(e2) * r
    sub = x > 26.5
    if sub.any():  # a subnormal result: P/Q goes into the exponent, not onto a rounded
        # exp(-m^2) (glibc's erfc is subnormal there too, where Cephes gives 0)
        y[sub] = xp.exp(e1[sub] + xp.log(r[sub])) * xp.exp(e2[sub])
    y = xp.where(a < 0, 2 - y, y)
    return xp.where(x > 27.3, xp.where(a < 0, 2.0, 0.0), y)  # erfc < 2^-1075: 0


def _erfc_mid(xp, a):
    """erfc for 0.5 <= |a| < 1 from its Taylor series about 3/4: 1 - erf there would carry
    erf's rounding into a result several times smaller."""
    r = _polevl(xp.abs(a) - 0.75, _ERFC_34)
    return xp.where(a < 0, 2 - r, r)


def _erf_cuts(xp, a, single):
    """The ranges of the three approximations; float32 inputs need no series (Cephes' 2 ulp
    in double are far below their rounding)."""
    ax = xp.abs(a)
    small = ax < (1 if single else 0.5)
    mid = xp.zeros_like(small) if single else (ax >= 0.5) & (ax < 1)
    return small, mid, ~(ax < 1)  # nan with the last


def erf(xp, x):
    a = _flat64(xp, x)
    with np.errstate(all="ignore"):
        small, mid, big = _erf_cuts(xp, a, xp.asarray(x).dtype == xp.float32)
        res = _parts(xp, a, xp.empty_like(a), [(small, lambda v: _erf_small(xp, v)),
                                               (mid, lambda v: 1 - _erfc_mid(xp, v)),
                                               (big, lambda v: 1 - _erfc_big(xp, v))])
    return _out(xp, res, x)


def erfc(xp, x):
    a = _flat64(xp, x)
    with np.errstate(all="ignore"):
        small, mid, big = _erf_cuts(xp, a, xp.asarray(x).dtype == xp.float32)
        res = _parts(xp, a, xp.empty_like(a), [(small, lambda v: 1 - _erf_small(xp, v)),
                                               (mid, lambda v: _erfc_mid(xp, v)),
                                               (big, lambda v: _erfc_big(xp, v))])
    return _out(xp, res, x)


# --- erfinv: Giles' single-precision approximation, then Newton steps on erf (or erfc) ---------
_GILES_W = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_S = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
            -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def erfinv(xp, y):
    """Near |y| = 1 the steps solve log erfc(x) = log(1 - |y|), 1 - |y| exact there, so the
    result keeps its precision (torch's is correctly rounded too)."""
    a = _flat64(xp, y)
    with np.errstate(all="ignore"):
        ay = xp.abs(a)
        c = 1 - ay
        w = -xp.log(c * (1 + ay))
        x = xp.where(w < 5, _polevl(w - 2.5, _GILES_W), _polevl(xp.sqrt(w) - 3, _GILES_S)) * ay
        tail = ay > 0.5
        for _ in range(4):
            d = _2_SQRTPI * xp.exp(-x * x)
            # the tail in log space: log erfc is nearly quadratic there (and the first guess
            # poor as |y| -> 1 in double), so Newton converges fast from either side
            e = erfc(xp, x)
            x = xp.where(tail, x + xp.log(e / c) * e / d, x - (erf(xp, x) - ay) / d)
        x = xp.copysign(x, a)
        x = xp.where(ay == 1, xp.copysign(np.inf, a), x)
        x = xp.where((ay > 1) | xp.isnan(a), np.nan, x)
        res = xp.where(a == 0, a, x)  # keeps -0
    return _out(xp, res, y)


# --- lgamma: series below 5/2, Cephes' lgam to 13, Stirling beyond; reflection below 0 ---------
_LGAM_A = (8.11614167470508450300e-4, -5.95061904284301438324e-4, 7.93650340457716943945e-4,
           -2.77777777730099687205e-3, 8.33333333333331927722e-2)
_LGAM_B = (-1.37825152569120859100e3, -3.88016315134637840924e4, -3.31612992738871184744e5,
           -1.16237097492762307383e6, -1.72173700820839662146e6, -8.53555664245765465627e5)
_LGAM_C = (-3.51815701436523470549e2, -1.70642106651881159223e4, -2.20528590553854454839e5,
           -1.13933444367982507207e6, -2.53252307177582951285e6, -2.01889141433532773231e6)
# lgamma(1 + d) = -gamma d + sum_{k>=2} (-1)^k zeta(k) / k d^k: coefficients k = 55 .. 2
_LGAM_1 = (-0.01818181818181818, 0.01851851851851852, -0.01886792452830189, 0.019230769230769235,
           -0.019607843137254912, 0.020000000000000018, -0.02040816326530616, 0.02083333333333341,
           -0.021276595744681003, 0.021739130434782917, -0.022222222222222855,
           0.02272727272727402, -0.023255813953491015, 0.023809523809529224,
           -0.024390243902450117, 0.025000000000022737, -0.025641025641072283,
           0.02631578947377995, -0.027027027027223673, 0.027777777778181998, -0.02857142857226011,
           0.029411764707594344, -0.030303030306558044, 0.03125000000727597, -0.03225806453115042,
           0.03333333336437758, -0.034482758684919304, 0.035714285847333355,
           -0.037037037312989324, 0.03846153903467518, -0.04000000119214014, 0.04166666915034121,
           -0.04347826605304026, 0.04545455629320467, -0.047619070330142226, 0.05000004769810169,
           -0.05263167937961666, 0.055555767627403614, -0.058823978658684585, 0.06250095514121304,
           -0.06666870588242046, 0.07143294629536133, -0.0769325164113522, 0.083353840546109,
           -0.09095401714582904, 0.1000994575127818, -0.11133426586956469, 0.12550966952474304,
           -0.1440498967688461, 0.1695571769974082, -0.20738555102867398, 0.27058080842778454,
           -0.40068563438653143, 0.8224670334241132)
# lgamma(2 + d) = (1 - gamma) d + sum_{k>=2} (-1)^k (zeta(k) - 1) / k d^k: k = 33 .. 2
_LGAM_2 = (-3.527742476575915e-12, 7.275974480239079e-12, -1.5021384080754142e-11,
           3.1044247747322276e-11, -6.4229645638381e-11, 1.330476437424449e-10,
           -2.7595228851242334e-10, 5.731367241678862e-10, -1.1921401405860912e-09,
           2.4836745438024785e-09, -5.183475041970047e-09, 1.0838659214896955e-08,
           -2.2711094608943164e-08, 4.7698101693639804e-08, -1.0043224823968099e-07,
           2.1207184805554665e-07, -4.492469198764566e-07, 9.55141213040742e-07,
           -2.039215753801366e-06, 4.374866789907488e-06, -9.439488275268397e-06,
           2.050721277567069e-05, -4.492623673813314e-05, 9.945751278180853e-05,
           -0.00022315475845357939, 0.0005096695247430425, -0.001192753911703261,
           0.0028905103307415234, -0.007385551028673986, 0.020580808427784546,
           -0.0673523010531981, 0.3224670334241132)
_EULER = 0.5772156649015329


def _lgamma_series(xp, a):
    """Series about 1 and 2, the zeros of lgamma, where a recurrence would lose the small
    result's relative precision (and for all a < 5/2): lgamma(a) = lgamma(1 + a) - log(a) below
    1/2, about 1 up to 3/2, about 2 up to 5/2."""
    low, one = a < 0.5, a < 1.5
    d = xp.where(low, a, xp.where(one, a - 1, a - 2))
    s1 = d * (d * _polevl(d, _LGAM_1) - _EULER)
    s2 = d * (d * _polevl(d, _LGAM_2) + (1 - _EULER))
    return xp.where(one, s1, s2) - xp.where(low, xp.log(a), 0) + 0.0  # lgamma(1) is +0


def _lgamma_mid(xp, a):
    """5/2 <= a < 13 (Cephes): Gamma(a) = z Gamma(u), u in [2, 3), then a rational fit there."""
    p = xp.zeros_like(a)
    u, z = a, xp.ones_like(a)
    for _ in range(10):  # u = a + p with one rounding, as Cephes
        m = u >= 3
        p = xp.where(m, p - 1, p)
        u = a + p
        z = xp.where(m, z * u, z)
    x = a + (p - 2)
    return xp.log(z) + x * _polevl(x, _LGAM_B) / _p1evl(x, _LGAM_C)


def _lgamma_big(xp, a):
    """a >= 13: Stirling's series."""
    q = (a - 0.5) * xp.log(a) - a + _LS2PI
    p = 1 / (a * a)
    corr = xp.where(a >= 1000, ((7.9365079365079365079365e-4 * p - 2.7777777777777777777778e-3)
                                * p + 0.0833333333333333333333), _polevl(p, _LGAM_A)) / a
    return xp.where(a > 1e8, q, q + corr)


def _lgamma_pos(xp, a):
    """lgamma of a > 0 (inf included)."""
    near = a < 2.5
    big = a >= 13
    mid = ~(near | big)
    res = _parts(xp, a, xp.empty_like(a), [(near, lambda v: _lgamma_series(xp, v)),
                                           (mid, lambda v: _lgamma_mid(xp, v)),
                                           (big, lambda v: _lgamma_big(xp, v))])
    return xp.where(a == np.inf, np.inf, res)


def _lgamma_neg(xp, a):
    """a < 0, not an integer: Gamma(a) Gamma(1 - a) = pi / sin(pi a)."""
    r = a - xp.round(a)  # exact; sin(pi r) keeps its precision where sin(pi a) would not
    return _LOGPI - xp.log(xp.abs(xp.sin(np.pi * r))) - _lgamma_pos(xp, 1 - a)


def lgamma(xp, x):
    a = _flat64(xp, x)
    with np.errstate(all="ignore"):
        pole = (a <= 0) & (a == xp.floor(a))
        res = a.copy()  # nan stays nan
        res[pole] = np.inf
        res = _parts(xp, a, res, [(a > 0, lambda v: _lgamma_pos(xp, v)),
                                  ((a < 0) & ~pole, lambda v: _lgamma_neg(xp, v))])
    return _out(xp, res, x)


# --- digamma, trigamma, polygamma (torch's calc_digamma, trigamma, calc_polygamma) --------------
_PSI_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
          -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
          8.33333333333333333333e-2)
_PSI_10 = 2.25175258906672110764  # digamma(10)


def _floating(xp, x):
    x = xp.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(xp.float64)


def _libm(xp, fn, x):
    """fn(x) rounded from double: as close as float32's C library (logf, sinf; correctly rounded
    but for rare cases), where NumPy's own float32 loops can be an ulp or two off."""
    return fn(x.astype(xp.float64)).astype(x.dtype) if x.dtype == xp.float32 else fn(x)


def _digamma_pos(xp, x):
    """digamma for x > 0 (or nan) in x's dtype: up past 10 by psi(x) = psi(x + 1) - 1/x, then
    the asymptotic series."""
    t = x.dtype.type
    res = xp.zeros_like(x)
    for _ in range(11):
        m = x < 10
        if not m.any():
            break
        res = xp.where(m, res - t(1) / x, res)
        x = xp.where(m, x + t(1), x)
    z = t(1) / (x * x)
    y = xp.where(x < t(1e17), z * _polevl(z, [t(c) for c in _PSI_A]), t(0))
    out = res + _libm(xp, xp.log, x) - t(0.5) / x - y
    return xp.where(x == 10, res + t(_PSI_10), out)


def digamma(xp, x):
    x = _floating(xp, x)
    t = x.dtype.type
    with np.errstate(all="ignore"):
        neg = x < 0
        res = _digamma_pos(xp, xp.where(neg, t(1) - x, x))
        r = (x - xp.trunc(x)).astype(xp.float64)  # the reflection term in double, as torch
        refl = (np.pi / xp.tan(np.pi * r)).astype(x.dtype)
        res = xp.where(neg, res - refl, res)
        res = xp.where(neg & (x == xp.trunc(x)), t(np.nan), res)
        return xp.where(x == 0, xp.copysign(t(np.inf), -x), res).astype(x.dtype, copy=False)


def _trigamma(xp, x):
    t = x.dtype.type
    pi = t(np.pi)
    low = x < t(0.5)
    s = _libm(xp, xp.sin, pi * x)
    res = xp.where(low, -(pi * pi) / (s * s), t(0))
    x = xp.where(low, t(1) - x, x)
    for _ in range(6):
        res = res + t(1) / (x * x)
        x = x + t(1)
    ixx = t(1) / (x * x)
    tail = (t(1) + t(1) / (t(2) * x)
            + ixx * (t(1 / 6) - ixx * (t(1 / 30) - ixx * t(1 / 42)))) / x
    return xp.where(low, t(-1), t(1)) * (res + tail)


_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)


def _zeta_sum(xp, s, q):
    """torch's zeta loop, sum_k (q + k)^-s from k = 0 until 9 terms are in and q + k > 9, or a
    term is below MACHEP of the sum. Returns (sum, a, b, converged); a and b are the last
    q + k and its term. Runs in blocks of steps, each a cumulative sum over a 2-d array: the
    same additions in the same order as torch's loop, but one array call per block."""
    n = q.shape[0]
    tot, a, b = q ** -s, q.copy(), xp.zeros_like(q)
    conv = xp.zeros(n, dtype=bool)
    live = xp.arange(n)
    i, step = 0, 9
    while live.size:
        ones = xp.ones((live.size, step))
        aa = xp.cumsum(xp.concatenate([a[live, None], ones], 1), 1)[:, 1:]  # a += 1, repeatedly
        bb = aa ** -s
        ss = xp.cumsum(xp.concatenate([tot[live, None], bb], 1), 1)[:, 1:]
        cv = (-_MACHEP * ss < bb) & (bb < _MACHEP * ss)
        ii = i + xp.arange(1, step + 1)
        stop = cv | ~((ii < 9) | (aa <= 9))
        j = xp.where(stop.any(1), xp.argmax(stop, 1), step - 1)
        r = xp.arange(live.size)
        tot[live], a[live], b[live], conv[live] = ss[r, j], aa[r, j], bb[r, j], cv[r, j]
        live = live[~stop.any(1)]
        # blocks grow (long sums: q far below 0) within ~4M elements a block
        i, step = i + step, min(step * 4, 1 << 12, max(64, (1 << 22) // max(live.size, 1)))
    return tot, a, b, conv


def _zeta(xp, s: float, q):
    """Hurwitz zeta(s, q) in float64 for an integer s >= 2 (torch's zeta, from Cephes)."""
    res = xp.full(q.shape, np.inf)  # at the poles
    idx = xp.flatnonzero(~((q <= 0) & (q == xp.floor(q))))
    for start in range(0, idx.size, 1 << 16):  # bounded temporaries
        sel = idx[start:start + (1 << 16)]
        tot, w, b, conv = _zeta_sum(xp, s, q[sel])
        # a sum that met its term limit is the result; the others get the Euler-Maclaurin tail
        tot = xp.where(conv, tot, tot + b * w / (s - 1) - 0.5 * b)
        done = conv
        a, k = 1.0, 0.0
        for c in _ZETA_A:
            a *= s + k
            b = b / w
            term = a * b / c
            new = tot + term
            tot = xp.where(done, tot, new)
            done = done | (xp.abs(term / new) < _MACHEP)
            k += 1
            a *= s + k
            b = b / w
            k += 1
        res[sel] = tot
    return res


def polygamma(xp, n: int, x):
    x = _floating(xp, x)
    if n == 0:
        return digamma(xp, x)
    with np.errstate(all="ignore"):
        if n == 1:
            return _trigamma(xp, x).astype(x.dtype, copy=False)
        t = x.dtype.type
        fac = t(1 if n % 2 else -1) * xp.exp(lgamma(xp, xp.asarray(n + 1.0, x.dtype)))
        z = _zeta(xp, float(n + 1), _flat64(xp, x)).reshape(x.shape).astype(x.dtype)
        return (fac * z).astype(x.dtype, copy=False)


FUNCTIONS = {"erf": erf, "erfc": erfc, "erfinv": erfinv, "lgamma": lgamma, "digamma": digamma,
             "polygamma": polygamma}
