"""Array kernels of torch.special's Bessel and Airy functions: bessel_j0/j1/y0/y1,
modified_bessel_i0/i1/k0/k1, scaled_modified_bessel_k0/k1, spherical_bessel_j0, airy_ai.
Ported from ATen/native/Math.h (Cephes coefficients); each C branch is a mask, and the arithmetic
runs in the input's dtype as torch's does."""

from __future__ import annotations

import math

from ._cephes import branch, chbevl, flat, horner, i0, i1_any

_AIRY_AN = (0.346538101525629, 12.007595273964581, 76.27960536152345, 168.08922493463058,
            159.75639135016442, 70.53609068404442, 14.026469116338967, 1.0)
_AIRY_AD = (0.5675945326387702, 14.75625625848472, 84.51389701414746, 177.31808814540045,
            164.2346928715297, 71.47784008255756, 14.095913560783403, 1.0)
_AIRY_AFN = (-0.1316963234183318, -0.6264565444319123, -0.6931580360369335, -0.2797799815451191,
             -0.04919001326095003, -0.004062659235948854, -0.0001592764962392621,
             -2.776491081552329e-06, -1.6778769848911465e-08)
_AIRY_AFD = (13.356042070655324, 32.682503279522464, 26.736704094149957, 9.187074029072596,
             1.4752914677166642, 0.11568717379518804, 0.004402916416152112, 7.547203482874142e-05,
             4.5185009297058035e-07)
_AIRY_AGN = (0.01973399320916857, 0.39110302961568827, 1.0657989759959559, 0.9391692298166502,
             0.35146565610554764, 0.06338889196289255, 0.005858041130483885, 0.000282851600836737,
             6.98793669997261e-06, 8.117892395543892e-08, 3.415517847659236e-10)
_AIRY_AGD = (9.30892908077442, 19.835292871831214, 15.564662893286462, 5.476860694229755,
             0.9542936116189619, 0.08645808263523921, 0.004126565238242226, 0.00010125908511650914,
             1.1716673321441352e-06, 4.9183457006293e-09)
_J0_PP = (0.0007969367292973471, 0.08283523921074408, 1.239533716464143, 5.447250030587687,
          8.74716500199817, 5.303240382353949, 1.0)
_J0_PQ = (0.0009244088105588637, 0.08562884743544745, 1.2535274390105895, 5.470977403304171,
          8.761908832370695, 5.306052882353947, 1.0)
_J0_QP = (-0.011366383889846916, -1.2825271867050931, -19.553954425773597, -93.20601521237683,
          -177.68116798048806, -147.07750515495118, -51.41053267665993, -6.050143506007285)
_J0_QQ = (64.3178256118178, 856.4300259769806, 3882.4018360540163, 7240.467741956525,
          5930.727011873169, 2062.0933166032783, 242.0057402402914)
_J0_RP = (-4794432209.782018, 1956174919465.5657, -249248344360967.72, 9708622510473064.0)
_J0_RQ = (499.563147152651, 173785.4016763747, 48440965.83399621, 11185553704.535683,
          2112775201154.892, 310518229857422.56, 3.1812195594320496e+16, 1.7108629408104315e+18)
_J1_PP = (0.0007621256162081731, 0.07313970569409176, 1.1271960812968493, 5.112079511468076,
          8.424045901417724, 5.214515986823615, 1.0)
_J1_PQ = (0.0005713231280725487, 0.06884559087544954, 1.105142326340617, 5.073863861286015,
          8.399855543276042, 5.209828486823619, 1.0)
_J1_QP = (0.05108625947501766, 4.982138729512334, 75.82382841325453, 366.7796093601508,
          710.8563049989261, 597.4896124006136, 211.68875710057213, 25.207020585802372)
_J1_QQ = (74.23732770356752, 1056.4488603826283, 4986.410583376536, 9562.318924047562,
          7997.041604473507, 2826.1927851763908, 336.0936078106983)
_J1_RP = (-899971225.7055594, 452228297998.19403, -72749424522181.83, 3682957328638529.0)
_J1_RQ = (620.8364781180543, 256987.25675774884, 83514679.14319493, 22151159547.97925,
          4749141220799.914, 784369607876235.9, 8.952223361846274e+16, 5.322786203326801e+18)
_Y0_YP = (15592.436785523574, -14663929.59039716, 5435264770.518765, -982136065717.9115,
          87590639439536.7, -3466283033847297.0, 4.4273326857256984e+16, -1.8495080043698668e+16)
_Y0_YQ = (1041.2835366425984, 626107.330137135, 268919633.39381415, 86400248710.3935,
          20297961275010.555, 3171577528429750.5, 2.5059625617265306e+17)
_Y1_YP = (1263204747.9017804, -647355876379.1603, 114509511541823.73, -8127702555013251.0,
          2.024394757135949e+17, -7.788771962659501e+17)
_Y1_YQ = (594.3015923461282, 235564.09294306856, 73481194.44597217, 18760131610.870617,
          3882312774962.3857, 620557727146953.8, 6.871410873553005e+16, 3.9727060811656064e+18)
_K0_A = (1.374465435613523e-16, 4.25981614279661e-14, 1.0349695257633842e-11,
         1.904516377220209e-09, 2.5347910790261494e-07, 2.286212103119452e-05,
         0.001264615411446926, 0.0359799365153615, 0.3442898999246285, -0.5353273932339028)
_K0_B = (5.300433772686263e-18, -1.6475804301524212e-17, 5.2103915050390274e-17,
         -1.678231096805412e-16, 5.512055978524319e-16, -1.848593377343779e-15,
         6.3400764774050706e-15, -2.2275133269916698e-14, 8.032890775363575e-14,
         -2.9800969231727303e-13, 1.140340588208475e-12, -4.514597883373944e-12,
         1.8559491149547177e-11, -7.957489244477107e-11, 3.577397281400301e-10,
         -1.69753450938906e-09, 8.574034017414225e-09, -4.660489897687948e-08,
         2.766813639445015e-07, -1.8317555227191195e-06, 1.39498137188765e-05,
         -0.00012849549581627802, 0.0015698838857300533, -0.0314481013119645, 2.4403030820659555)
_K1_A = (-7.023863479386288e-18, -2.427449850519366e-15, -6.666901694199329e-13,
         -1.4114883926335278e-10, -2.213387630734726e-08, -2.4334061415659684e-06,
         -0.0001730288957513052, -0.006975723859639864, -0.12261118082265715, -0.3531559607765449,
         1.5253002273389478)
_K1_B = (-5.756744483665017e-18, 1.7940508731475592e-17, -5.689462558442859e-17,
         1.838093544366639e-16, -6.057047248373319e-16, 2.038703165624334e-15,
         -7.019837090418314e-15, 2.4771544244813043e-14, -8.976705182324994e-14,
         3.3484196660784293e-13, -1.2891739609510289e-12, 5.13963967348173e-12,
         -2.1299678384275683e-11, 9.218315187605006e-11, -4.1903547593418965e-10,
         2.015049755197033e-09, -1.0345762465678097e-08, 5.7410841254500495e-08,
         -3.5019606030878126e-07, 2.406484947837217e-06, -1.936197974166083e-05,
         0.00019521551847135162, -0.002857816859622779, 0.10392373657681724, 2.7206261904844427)

_PI_4, _3PI_4 = 0.785398163397448309615660845819875721, 2.356194490192344928846982537459627163
_SQRT_2_PI = 0.797884560802865355879892119868763737  # sqrt(2 / pi)
_2_PI = 0.636619772367581343075535053490057448  # 2 / pi


def _asymptotic(xp, x, w, pp, pq, qp, qq, shift, bessel_y):
    """Hankel's expansion for x > 5: w is (5 / x)^2, computed as torch computes it."""
    p = horner(w, pp) / horner(w, pq)
    q = 5 / x * (horner(w, qp) / horner(w, qq))
    if bessel_y:
        return (p * xp.sin(x - shift) + q * xp.cos(x - shift)) * _SQRT_2_PI / xp.sqrt(x)
    return (p * xp.cos(x - shift) - q * xp.sin(x - shift)) * _SQRT_2_PI / xp.sqrt(x)


def _j0_small(xp, x):
    z = x * x
    r = (z - 5.78318596294678452118) * (z - 30.4712623436620863991) * horner(z, _J0_RP) / horner(
        z, _J0_RQ)
    return xp.where(x < 0.00001, 1 - z / 4, r)


def _j0_large(xp, x):
    return _asymptotic(xp, x, 25 / (x * x), _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, _PI_4, False)


def _j1_small(xp, x):
    z = x * x
    return horner(z, _J1_RP) / horner(z, _J1_RQ) * x * (z - 14.6819706421238932572) * (
        z - 49.2184563216946036703)


def _j1_large(xp, x):
    return _asymptotic(xp, x, 5 / x * (5 / x), _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, _3PI_4, False)


@flat
def bessel_j0(xp, x):
    x = xp.abs(x)
    out = xp.empty_like(x)
    branch(xp, out, x <= 5, _j0_small, x)
    branch(xp, out, ~(x <= 5), _j0_large, x)
    return out


@flat
def bessel_j1(xp, x):
    ax = xp.abs(x)  # j1 is odd
    out = xp.empty_like(x)
    branch(xp, out, ax <= 5, _j1_small, ax)
    branch(xp, out, ~(ax <= 5), _j1_large, ax)
    return xp.where(x < 0, -out, out)


def _y0_small(xp, x):
    z = x * x
    return horner(z, _Y0_YP) / horner(z, _Y0_YQ) + _2_PI * xp.log(x) * bessel_j0(xp, x)


def _y1_small(xp, x):
    z = x * x
    return x * (horner(z, _Y1_YP) / horner(z, _Y1_YQ)) + _2_PI * (
        bessel_j1(xp, x) * xp.log(x) - 1 / x)


def _bessel_y(small, pp, pq, qp, qq, shift, w):
    def kernel(xp, x):
        out = xp.full_like(x, math.nan)  # negative x
        out[x == 0] = -math.inf
        branch(xp, out, (x > 0) & (x <= 5), small, x)
        branch(xp, out, ~(x <= 5), lambda xp, v: _asymptotic(xp, v, w(v), pp, pq, qp, qq, shift,
                                                              True), x)
        return out

    return flat(kernel)


bessel_y0 = _bessel_y(_y0_small, _J0_PP, _J0_PQ, _J0_QP, _J0_QQ, _PI_4, lambda x: 25 / (x * x))
bessel_y1 = _bessel_y(_y1_small, _J1_PP, _J1_PQ, _J1_QP, _J1_QQ, _3PI_4, lambda x: 5 / x * (5 / x))


# --- modified Bessel functions -------------------------------------------------------------------
modified_bessel_i0 = i0  # the same Cephes series as torch.i0
modified_bessel_i1 = flat(lambda xp, x: i1_any(xp, x, full=True))


def _k0_small(xp, x, scaled):
    if scaled:
        return (chbevl(x * x - 2, _K0_A) - xp.log(0.5 * x) * i0(xp, x)) * xp.exp(x)
    # torch's unscaled k0 takes log(0.5 * x) with a double 0.5: that term is in float64
    lg = xp.log(0.5 * x.astype(xp.float64))
    return (chbevl(x * x - 2, _K0_A) - lg * i0(xp, x)).astype(x.dtype)


def _k1_small(xp, x, scaled):
    r = xp.log(0.5 * x) * i1_any(xp, x, full=True) + chbevl(x * x - 2, _K1_A) / x
    return r * xp.exp(x) if scaled else r


def _bessel_k(small, b_coef, scaled):
    def kernel(xp, x):
        out = xp.full_like(x, math.nan)  # negative x
        out[x == 0] = math.inf
        branch(xp, out, (x > 0) & (x <= 2), lambda xp, v: small(xp, v, scaled), x)
        large = (lambda xp, v: chbevl(8 / v - 2, b_coef) / xp.sqrt(v)) if scaled else (
            lambda xp, v: xp.exp(-v) * chbevl(8 / v - 2, b_coef) / xp.sqrt(v))
        branch(xp, out, ~(x <= 2), large, x)
        return out

    return flat(kernel)


modified_bessel_k0 = _bessel_k(_k0_small, _K0_B, False)
modified_bessel_k1 = _bessel_k(_k1_small, _K1_B, False)
scaled_modified_bessel_k0 = _bessel_k(_k0_small, _K0_B, True)
scaled_modified_bessel_k1 = _bessel_k(_k1_small, _K1_B, True)


@flat
def spherical_bessel_j0(xp, x):
    z = x * x
    series = 1 + z * (-1 / 6 + z * (1 / 120 + z * (-1 / 5040 + z * (1 / 362880 + z * (
        -1 / 39916800 + z * (1 / 6227020800))))))
    out = xp.where(xp.abs(x) < 0.5, series, xp.sin(x) / x)
    return xp.where(xp.isinf(x), 0, out).astype(x.dtype, copy=False)


# --- Airy Ai -------------------------------------------------------------------------------------
@flat
def airy_ai(xp, x):
    out = xp.zeros_like(x)  # x > 103.892 underflows to 0
    out[xp.isinf(x)] = math.nan
    branch(xp, out, x < -2.09, _airy_negative, x)
    branch(xp, out, (x >= 2.09) & (x <= 103.892), _airy_positive, x)
    branch(xp, out, ~((x < -2.09) | (x >= 2.09)), _airy_series, x)
    return out


def _airy_negative(xp, x):
    t = -2 * x * xp.sqrt(-x) / 3
    z = 1 / t
    zz = z * z
    afn, afd = horner(zz, _AIRY_AFN), horner(zz, _AIRY_AFD)
    agn, agd = horner(zz, _AIRY_AGN), horner(zz, _AIRY_AGD)
    t = t + 0.25 * math.pi
    return 0.564189583547756286948 / xp.sqrt(xp.sqrt(-x)) * (
        xp.sin(t) * (1 + z * z * afn / afd) - xp.cos(t) * (z * agn / agd))


def _airy_positive(xp, x):
    zeta = 2 * x * xp.sqrt(x) / 3
    w = 1 / zeta
    return 0.564189583547756286948 * (horner(w, _AIRY_AN) / horner(w, _AIRY_AD)) / (
        2 * xp.sqrt(xp.sqrt(x)) * xp.exp(zeta))


def _airy_series(xp, x):
    """Maclaurin series f - g (Ai = c1 f - c2 g), summed until the terms of f stop counting."""
    eps = float(xp.finfo(x.dtype).eps)
    f, g, m, n = xp.ones_like(x), x.copy(), xp.ones_like(x), x.copy()
    z = x * x * x
    live = xp.ones(x.shape, bool)
    k = 1.0
    while live.any():
        m1, n1 = m * z / (k + 1), n * z / (k + 2)
        m1 = m1 / (k + 2)
        n1 = n1 / (k + 3)
        m, n = xp.where(live, m1, m), xp.where(live, n1, n)
        f, g = xp.where(live, f + m, f), xp.where(live, g + n, g)
        live &= xp.abs(m / f) > eps
        k += 3
    return 0.355028053887817239260 * f - 0.258819403792806798405 * g
