"""Array kernels of torch.special's Cephes-style functions: i0/i0e/i1/i1e, ndtri, erfcx, log_ndtr,
entr, xlog1py. Ported from ATen/native/Math.h, vectorised: every branch of the C code is a mask,
evaluated on the elements that take it. Each kernel takes ``(xp, x)`` with x float32 or float64
(half precision is computed in float32 by the caller) and computes in x's dtype, as torch does,
so overflow thresholds match (i0(89.) is inf in float32)."""

from __future__ import annotations

import math

from .._backend import special as _shim
from ._tables import ERFCX

_SQRT1_2 = 0.7071067811865476


def flat(kernel):
    """Run ``kernel(xp, *arrays)`` on 1-d views (masks and fancy assignment need arrays, and
    NumPy 1.x promotes a 0-d float32 with a Python float) and restore the broadcast shape."""

    def run(xp, *arrays):
        if len(arrays) > 1:
            arrays = xp.broadcast_arrays(*arrays)
        shape = arrays[0].shape
        out = kernel(xp, *(a.reshape(-1) for a in arrays))
        return out.reshape(shape)

    run.__name__ = kernel.__name__
    return run


def branch(xp, out, mask, fn, *arrays):
    """``out[mask] = fn(*(a[mask] for a in arrays))``: one branch of a C ``if``."""
    if mask.any():
        out[mask] = fn(xp, *(a[mask] for a in arrays))


def horner(y, coeffs):
    """Cephes' polevl: coeffs from the highest degree down."""
    r = coeffs[0]  # a Python float: weak, so the first product takes y's dtype
    for c in coeffs[1:]:
        r = r * y + c
    return r


def chbevl(y, coeffs):
    """Cephes' chbevl: the Chebyshev series sum(c_i T_i(y/2)), coefficients highest order first."""
    b0, b1, b2 = coeffs[0], 0.0, 0.0
    for c in coeffs[1:]:
        b2, b1 = b1, b0
        b0 = y * b1 - b2 + c
    return 0.5 * (b0 - b2)


def erfc(xp, x):
    """erfc through the shared shim (another module owns its kernel)."""
    return _shim(xp, "erfc")(x).astype(x.dtype, copy=False)


def lgamma(xp, x):
    return _shim(xp, "lgamma")(x).astype(x.dtype, copy=False)


# --- modified Bessel functions of the first kind (Cephes i0, i0e, i1, i1e) -----------------------
I0_A = (-4.41534164647933937950e-18, 3.33079451882223809783e-17, -2.43127984654795469359e-16,
        1.71539128555513303061e-15, -1.16853328779934516808e-14, 7.67618549860493561688e-14,
        -4.85644678311192946090e-13, 2.95505266312963983461e-12, -1.72682629144155570723e-11,
        9.67580903537323691224e-11, -5.18979560163526290666e-10, 2.65982372468238665035e-9,
        -1.30002500998624804212e-8, 6.04699502254191894932e-8, -2.67079385394061173391e-7,
        1.11738753912010371815e-6, -4.41673835845875056359e-6, 1.64484480707288970893e-5,
        -5.75419501008210370398e-5, 1.88502885095841655729e-4, -5.76375574538582365885e-4,
        1.63947561694133579842e-3, -4.32430999505057594430e-3, 1.05464603945949983183e-2,
        -2.37374148058994688156e-2, 4.93052842396707084878e-2, -9.49010970480476444210e-2,
        1.71620901522208775349e-1, -3.04682672343198398683e-1, 6.76795274409476084995e-1)
I0_B = (-7.23318048787475395456e-18, -4.83050448594418207126e-18, 4.46562142029675999901e-17,
        3.46122286769746109310e-17, -2.82762398051658348494e-16, -3.42548561967721913462e-16,
        1.77256013305652638360e-15, 3.81168066935262242075e-15, -9.55484669882830764870e-15,
        -4.15056934728722208663e-14, 1.54008621752140982691e-14, 3.85277838274214270114e-13,
        7.18012445138366623367e-13, -1.79417853150680611778e-12, -1.32158118404477131188e-11,
        -3.14991652796324136454e-11, 1.18891471078464383424e-11, 4.94060238822496958910e-10,
        3.39623202570838634515e-9, 2.26666899049817806459e-8, 2.04891858946906374183e-7,
        2.89137052083475648297e-6, 6.88975834691682398426e-5, 3.36911647825569408990e-3,
        8.04490411014108831608e-1)
I1_A = (2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
        -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
        3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
        -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
        9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7,
        -8.56872026469545474066e-7, 3.47025130813767847674e-6, -1.32731636560394358279e-5,
        4.78156510755005422638e-5, -1.61760815825896745588e-4, 5.12285956168575772895e-4,
        -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
        2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1,
        -1.76416518357834055153e-1, 2.52587186443633654823e-1)
I1_B = (7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
        -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
        -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
        4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
        -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
        3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
        -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7,
        -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
        7.78576235018280120474e-1)


@flat
def i0(xp, x):
    return _i0(xp, x, scaled=False)


@flat
def i0e(xp, x):
    return _i0(xp, x, scaled=True)


def _i0(xp, x, scaled):
    ax = xp.abs(x)
    out = xp.empty_like(x)
    scale = (lambda a: 1) if scaled else xp.exp
    branch(xp, out, ax <= 8, lambda xp, a: scale(a) * chbevl(a / 2 - 2, I0_A), ax)
    branch(xp, out, ~(ax <= 8), lambda xp, a: scale(a) * chbevl(32 / a - 2, I0_B) / xp.sqrt(a),
           ax)
    return out


def i1_any(xp, x, scaled=False, full=False):
    """i1 or i1e. torch's float32 i1/i1e drop the leading terms of both series (``full`` keeps
    them, as modified_bessel_i1 does)."""
    short = x.dtype.itemsize == 4 and not full
    a_coef, b_coef = (I1_A[-17:], I1_B[-7:]) if short else (I1_A, I1_B)
    ax = xp.abs(x)
    out = xp.empty_like(x)
    scale = (lambda a: 1) if scaled else xp.exp
    branch(xp, out, ax <= 8, lambda xp, a: scale(a) * a * chbevl(a / 2 - 2, a_coef), ax)
    branch(xp, out, ~(ax <= 8), lambda xp, a: scale(a) * chbevl(32 / a - 2, b_coef) / xp.sqrt(a),
           ax)
    return xp.where(x < 0, -out, out)


i1 = flat(lambda xp, x: i1_any(xp, x))
i1e = flat(lambda xp, x: i1_any(xp, x, scaled=True))


# --- ndtri: the inverse of the standard normal CDF (Cephes) --------------------------------------
_NDTRI_P0 = (-5.99633501014107895267e1, 9.80010754185999661536e1, -5.66762857469070293439e1,
             1.39312609387279679503e1, -1.23916583867381258016e0)
_NDTRI_Q0 = (1.0, 1.95448858338141759834e0, 4.67627912898881538453e0, 8.63602421390890590575e1,
             -2.25462687854119370527e2, 2.00260212380060660359e2, -8.20372256168333339912e1,
             1.59056225126211695515e1, -1.18331621121330003142e0)
_NDTRI_P1 = (4.05544892305962419923e0, 3.15251094599893866154e1, 5.71628192246421288162e1,
             4.40805073893200834700e1, 1.46849561928858024014e1, 2.18663306850790267539e0,
             -1.40256079171354495875e-1, -3.50424626827848203418e-2, -8.57456785154685413611e-4)
_NDTRI_Q1 = (1.0, 1.57799883256466749731e1, 4.53907635128879210584e1, 4.13172038254672030440e1,
             1.50425385692907503408e1, 2.50464946208309415979e0, -1.42182922854787788574e-1,
             -3.80806407691578277194e-2, -9.33259480895457427372e-4)
_NDTRI_P2 = (3.23774891776946035970e0, 6.91522889068984211695e0, 3.93881025292474443415e0,
             1.33303460815807542389e0, 2.01485389549179081538e-1, 1.23716634817820021358e-2,
             3.01581553508235416007e-4, 2.65806974686737550832e-6, 6.23974539184983293730e-9)
_NDTRI_Q2 = (1.0, 6.02427039364742014255e0, 3.67983563856160859403e0, 1.37702099489081330271e0,
             2.16236993594496635890e-1, 1.34204006088543189037e-2, 3.28014464682127739104e-4,
             2.89247864745380683936e-6, 6.79019408009981274425e-9)
_EXP_M2 = 0.13533528323661269189  # exp(-2)


@flat
def ndtri(xp, y0):
    out = xp.full_like(y0, math.nan)
    out[y0 == 0] = -math.inf
    out[y0 == 1] = math.inf
    inside = (y0 > 0) & (y0 < 1)
    upper = y0 > 1 - y0.dtype.type(_EXP_M2)  # the upper tail mirrored: y -> 1 - y
    y = xp.where(upper, 1 - y0, y0)
    branch(xp, out, inside & (y > _EXP_M2), _ndtri_center, y)
    branch(xp, out, inside & ~(y > _EXP_M2), _ndtri_tail, y, upper)
    return out


def _ndtri_center(xp, y):
    y = y - 0.5
    y2 = y * y
    return (y + y * (y2 * horner(y2, _NDTRI_P0) / horner(y2, _NDTRI_Q0))) * 2.50662827463100050242


def _ndtri_tail(xp, y, upper):
    x = xp.sqrt(-2.0 * xp.log(y))
    x0 = x - xp.log(x) / x
    z = 1 / x
    x1 = xp.where(x < 8, z * horner(z, _NDTRI_P1) / horner(z, _NDTRI_Q1),
                  z * horner(z, _NDTRI_P2) / horner(z, _NDTRI_Q2))
    x = x0 - x1
    return xp.where(upper, x, -x)


# --- erfcx(x) = exp(x^2) erfc(x), log_ndtr ------------------------------------------------------
_ISPI = 0.56418958354775628694807945156  # 1 / sqrt(pi)


@flat
def erfcx(xp, x):
    """Computed in float64 for both dtypes: torch's float32 kernel evaluates its polynomial table
    in double as well."""
    t = x.astype(xp.float64)
    out = t.copy()  # nan stays nan
    branch(xp, out, t > 5e7, lambda xp, v: _ISPI / v, t)
    branch(xp, out, (t > 50) & ~(t > 5e7), lambda xp, v: _ISPI * ((v * v) * (v * v + 4.5) + 2) / (
        v * ((v * v) * (v * v + 5) + 3.75)), t)
    branch(xp, out, (t >= 0) & ~(t > 50), lambda xp, v: _y100(xp, 400 / (4 + v)), t)
    out[t < -26.7] = math.inf
    branch(xp, out, (t < -6.1) & ~(t < -26.7), lambda xp, v: 2 * xp.exp(v * v), t)
    branch(xp, out, (t < 0) & ~(t < -6.1),
           lambda xp, v: 2 * xp.exp(v * v) - _y100(xp, 400 / (4 - v)), t)
    return out.astype(x.dtype, copy=False)


_ERFCX = None


def _y100(xp, y100):
    """erfcx on y = 4 / (4 + x), from the piece of the table that 100 y falls in."""
    global _ERFCX
    if _ERFCX is None:
        import numpy as np

        _ERFCX = np.array(ERFCX)
    k = xp.floor(y100).astype(xp.int64)
    inside = k < 100  # k == 100 only at x == 0 (y = 1), where erfcx is 1
    c = xp.asarray(_ERFCX)[xp.minimum(k, 99)]
    t = 2 * y100 - (2 * k + 1)
    r = c[:, 6]
    for j in range(5, -1, -1):
        r = c[:, j] + r * t
    return xp.where(inside, r, 1.0)


@flat
def log_ndtr(xp, x):
    t = x * _SQRT1_2
    out = xp.empty_like(x)
    branch(xp, out, x < -1, lambda xp, v: xp.log(erfcx(xp, -v) / 2) - v * v, t)
    branch(xp, out, ~(x < -1), lambda xp, v: xp.log1p(-erfc(xp, v) / 2), t)
    return out


# --- entr, xlog1py --------------------------------------------------------------------------------
def entr(xp, x):
    """-x log(x); 0 at 0, -inf below it."""
    neg = xp.where(x == 0, 0, -math.inf).astype(x.dtype)
    return xp.where(xp.isnan(x) | (x > 0), -x * xp.log(x), neg).astype(x.dtype, copy=False)


def xlog1py(xp, x, y):
    """x log1p(y), 0 where x == 0 unless y is nan."""
    r = xp.where(x == 0, 0, x * xp.log1p(y))
    return xp.where(xp.isnan(y), math.nan, r).astype(x.dtype, copy=False)
