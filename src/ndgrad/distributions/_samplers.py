"""The samplers torch draws from its own C++ kernels (torch._standard_gamma, _sample_dirichlet,
poisson, binomial) and their reparameterised gradients, plus Tensor.cauchy_.

All four are torch's streams: ATen's samplers, one double uniform (or normal) at a time, in
Python (~10 us an element: fine for the sizes programs sample).
``cauchy_`` is torch's stream (double uniforms through ``median + sigma * tan(pi * (u - 0.5))``).
The gradients are ATen's approximations (Distributions.h: standard_gamma_grad_one,
dirichlet_grad_one), written here once with ndgrad's ops on float64 tensors."""

from __future__ import annotations

import math

import numpy as np

import ndgrad
from ndgrad import Tensor
from ndgrad.autograd import Function
from ndgrad.autograd.function import once_differentiable
from ndgrad._errors import not_implemented


def _to_numpy(t: Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _like(arr: np.ndarray, ref: Tensor) -> Tensor:
    return ndgrad.from_numpy(np.ascontiguousarray(arr)).to(device=ref.device, dtype=ref.dtype)


def _tiny_clamp(arr: np.ndarray, ref: Tensor) -> np.ndarray:
    """ATen clamps gamma draws at the dtype's smallest normal number (no exact zeros)."""
    return np.maximum(arr, ndgrad.finfo(ref.dtype).tiny)


def _gamma_sampler(single: bool):
    """ATen's sample_gamma (Marsaglia and Tsang, alpha < 1 boosted): ``single`` for float32
    alphas, whose ``scalar_t`` steps round to float32; float literals (1.0f / 3.0f, 0.0331f)
    as the double values C promotes them to."""
    f = (lambda v: float(np.float32(v))) if single else (lambda v: v)
    third, c331 = float(np.float32(1.0 / 3.0)), float(np.float32(0.0331))

    def sample(alpha, uniform, normal):
        scale = 1.0
        if alpha < 1.0:
            if alpha == 0.0:
                return 0.0
            scale *= math.pow(1 - uniform(), f(1.0 / alpha))
            alpha = f(alpha + 1.0)
        d = f(alpha - third)
        c = 1.0 / math.sqrt(9.0 * d)
        while True:
            while True:
                x = normal()
                y = 1.0 + c * x
                if y > 0:
                    break
            v = y * y * y
            u = 1 - uniform()
            xx = x * x
            if u < 1.0 - c331 * xx * xx:
                return scale * d * v
            if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
                return scale * d * v

    return sample


_GAMMA = {True: _gamma_sampler(True), False: _gamma_sampler(False)}


def _gammas(alpha: np.ndarray, single: bool, generator=None) -> np.ndarray:
    """One gamma draw per element in order, from one stream of uniforms and normals."""
    draws = _Uniforms(generator)
    sample = _GAMMA[single]
    try:
        out = [sample(a, draws, draws.normal) for a in alpha.ravel().tolist()]
    finally:
        draws.done()
    return np.array(out, np.float64).reshape(alpha.shape)


def _sample_gamma(alpha: Tensor) -> Tensor:
    single = alpha.dtype != ndgrad.float64
    x = _gammas(_to_numpy(alpha).astype(np.float64), single)
    return _like(_tiny_clamp(x.astype(np.float32) if single else x, alpha), alpha)


def _sample_dirichlet(concentration: Tensor) -> Tensor:
    """ATen's _s_dirichlet_cpu: gammas in double, normalised, clamped below 1."""
    gammas = np.maximum(_gammas(_to_numpy(concentration).astype(np.float64), False),
                        np.finfo(np.float64).tiny)
    out = (gammas / gammas.sum(-1, keepdims=True)).astype(_to_numpy(concentration).dtype)
    tiny = np.finfo(out.dtype).tiny
    return _like(np.minimum(np.nextafter(out.dtype.type(1), out.dtype.type(0)),
                            np.maximum(out, tiny)), concentration)


class _Uniforms:
    """ATen's serial samplers' ``uniform_real_distribution<double>`` draws, one at a time
    (rejection loops take a varying number): drawn in blocks, and the generator left exactly
    past the ones used (``done``), as if drawn one by one. ``normal()`` is
    at::normal_distribution<double>'s scalar path: Box-Muller on two of them, the second value
    kept (in the generator) for the next call."""

    def __init__(self, generator):
        from ..random import _engine

        self.engine = engine = _engine(generator)
        self.saved = (engine._bits.state, engine._fresh)
        self.block, self.used, self.cached = [], 0, engine._normal_double

    def __call__(self) -> float:
        if not self.block:
            self.block = self.engine._unit_double(64 + self.used).tolist()[::-1]
        self.used += 1
        return self.block.pop()

    def normal(self) -> float:
        if self.cached is not None:
            x, self.cached = self.cached, None
            return x
        u1, u2 = self(), self()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.cached = r * math.sin(theta)
        return r * math.cos(theta)

    def done(self) -> None:
        engine = self.engine
        engine._bits.state, engine._fresh = self.saved
        engine._unit_double(self.used)
        engine._normal_double = self.cached


def _sample_poisson(lam: float, uniform) -> float:
    """ATen's sample_poisson (Distributions.cpp): Hormann's transformed rejection from 10 on,
    products of uniforms below."""
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - math.lgamma(k + 1)):
                return k
    if lam == 0:
        return 0
    x, prod, enlam = 0, 1.0, math.exp(-lam)
    while True:
        prod *= uniform()
        if prod <= enlam:
            return x
        x += 1


def _each(fn, arrays, out_dtype, generator) -> np.ndarray:
    """``fn(*values, uniform)`` on each element in order, with one stream of uniforms."""
    uniform = _Uniforms(generator)
    try:
        out = [fn(*vals, uniform) for vals in zip(*(a.ravel().tolist() for a in arrays))]
    finally:
        uniform.done()
    return np.array(out, out_dtype).reshape(arrays[0].shape)


def poisson(rate: Tensor, generator=None) -> Tensor:
    """torch.poisson: ATen's sampler on torch's stream (no gradient, as torch's is zero)."""
    if not rate.is_floating_point():
        raise not_implemented("poisson_cpu", rate.dtype)
    arr = _to_numpy(rate).astype(np.float64)
    if (arr < 0).any() or np.isnan(arr).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _like(_each(_sample_poisson, [arr], np.float64, generator), rate)


_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                  0.00833056343336287)


def _stirling_tail(k: float) -> float:
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_sampler(single: bool):
    """ATen's sample_binomial (Distributions.h, from TensorFlow): inversion below a mean of 10,
    BTRS above. ``single``: float32 tensors, whose ``scalar_t`` arithmetic rounds to float32
    (``f``) where the kernel's does; the rest is in double."""
    f = (lambda v: float(np.float32(v))) if single else (lambda v: v)
    log1p = (lambda v: float(np.log1p(np.float32(v)))) if single else math.log1p

    def inversion(count, prob, uniform):
        geom_sum, num_geom = 0.0, 0
        logprob = log1p(-prob)
        while True:
            geom_sum += math.ceil(math.log(uniform()) / logprob)
            if geom_sum > count:
                return num_geom
            num_geom += 1

    def btrs(count, prob, uniform):
        stddev = f(math.sqrt(f(f(count * prob) * f(1 - prob))))
        b = 1.15 + 2.53 * stddev
        a = -0.0873 + 0.0248 * b + 0.01 * prob
        c = f(count * prob) + 0.5
        v_r = 0.92 - 4.2 / b
        r = f(prob / f(1 - prob))
        alpha = (2.83 + 5.1 / b) * stddev
        m = math.floor(f((count + 1) * prob))
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + c)
            if k < 0 or k > count:
                continue
            if us >= 0.07 and v <= v_r:
                return k
            v = math.log(v * alpha / (a / (us * us) + b))
            upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                     + (count + 1) * math.log((count - m + 1) / (count - k + 1))
                     + (k + 0.5) * math.log(r * (count - k + 1) / (k + 1))
                     + _stirling_tail(m) + _stirling_tail(count - m)
                     - _stirling_tail(k) - _stirling_tail(count - k))
            if v <= upper:
                return k

    def sample(count, prob, uniform):
        if count <= 0.0 or prob <= 0.0:
            return 0.0
        if prob >= 1.0:
            return count
        if prob <= 0.5:
            draw = btrs if f(count * prob) >= 10.0 else inversion
            return draw(count, prob, uniform)
        if prob > 0.5:
            q = f(1.0 - prob)
            draw = btrs if f(count * q) >= 10.0 else inversion
            return count - draw(count, q, uniform)
        return math.nan

    return sample


_BINOMIAL = {True: _binomial_sampler(True), False: _binomial_sampler(False)}


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """torch.binomial: ATen's sampler on torch's stream."""
    c = _to_numpy(count)
    p = np.broadcast_to(_to_numpy(prob), c.shape)
    sampler = _BINOMIAL[c.dtype != np.float64]
    return _like(_each(sampler, [c.astype(np.float64), p.astype(np.float64)], np.float64,
                       generator), count)


def cauchy_(t: Tensor, median: float = 0.0, sigma: float = 1.0) -> Tensor:
    """Tensor.cauchy_: torch's stream (one double uniform per value), in place."""
    u = ndgrad.rand(t.shape, dtype=ndgrad.float64, device=t.device)
    with ndgrad.no_grad():
        return t.copy_(median + sigma * ndgrad.tan(math.pi * (u - 0.5)))


# --- reparameterised gradients ----------------------------------------------------------------
def _f(v: float) -> float:
    """A C float literal (0.8f) as the double ATen compares with."""
    return float(np.float32(v))


def _standard_gamma_grad(alpha: Tensor, x: Tensor) -> Tensor:
    """d x / d alpha for x ~ Gamma(alpha, 1), i.e. -(d cdf / d alpha) / pdf (ATen's branches)."""
    dt = x.dtype
    alpha, x = alpha.double(), x.double()
    # Taylor series for small x
    numer, denom = ndgrad.ones_like(x), alpha.clone()
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = x.pow(alpha)
    gamma_pdf = x.pow(alpha - 1) * ndgrad.exp(-x)
    gamma_cdf_alpha = (
        x.log() - ndgrad.digamma(alpha)
    ) * pow_x_alpha * series1 - pow_x_alpha * series2
    small = -gamma_cdf_alpha / gamma_pdf
    small = ndgrad.where(ndgrad.isnan(small), 0.0, small)
    # Rice saddle point expansion for large alpha
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = (
        1440 * alpha * alpha
        + 6 * x * (53 - 120 * x)
        - 65 * x * x / alpha
        + alpha * (107 + 3600 * x)
    )
    centre = numer_1 * numer_2 / (1244160 * alpha * alpha * alpha * alpha)
    denom = (8 * alpha).sqrt()
    term2 = denom / (alpha - x)
    term3 = (x - alpha - alpha * (x / alpha).log()).pow(-1.5)
    term23 = ndgrad.where(x < alpha, term2 - term3, term2 + term3)
    term1 = (x / alpha).log() * term23 - (2 / alpha).sqrt() * (alpha + x) / ((alpha - x) ** 2)
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    tails = -stirling * x * term1 / denom
    large = ndgrad.where((_f(0.9) * alpha <= x) & (x <= _f(1.1) * alpha), centre, tails)
    # bivariate rational approximation otherwise
    u, v = (x / alpha).log(), alpha.log()
    cv = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_GAMMA_UV)]
    p = cv[0] + v * (cv[1] + v * (cv[2] + v * cv[3]))
    q = cv[4] + v * (cv[5] + v * (cv[6] + v * cv[7]))
    rational = (p / q).exp()
    out = ndgrad.where(x < _f(0.8), small, ndgrad.where(alpha > 8.0, large, rational))
    return out.to(dt)


_GAMMA_UV = (
    (0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
    (
        0.53487893,
        0.1298071,
        0.065735949,
        -0.0015649758,
        0.16639465,
        0.020070113,
        -0.0035938915,
        -0.00058392623,
    ),
    (
        0.040121004,
        -0.0065914022,
        -0.0026286047,
        -0.0013441777,
        0.017050642,
        -0.0021309326,
        0.00085092367,
        -1.5247877e-07,
    ),
)


class _StandardGamma(Function):
    """torch._standard_gamma: a Gamma(alpha, 1) draw, differentiable in alpha (implicit
    reparameterisation)."""

    @staticmethod
    def forward(ctx, alpha):
        x = _sample_gamma(alpha)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * _standard_gamma_grad(alpha, x)


def standard_gamma(alpha: Tensor) -> Tensor:
    return _StandardGamma.apply(alpha)


def _beta_grad_alpha_small(x, alpha, beta):
    """Taylor expansion of the Beta(alpha, beta) reparameterised gradient near x = 0."""
    factor = ndgrad.digamma(alpha) - ndgrad.digamma(alpha + beta) - x.log()
    numer = ndgrad.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x).pow(-beta) * series
    return ndgrad.where(ndgrad.isnan(result), 0.0, result)


def _beta_grad_beta_small(x, alpha, beta):
    factor = ndgrad.digamma(alpha + beta) - ndgrad.digamma(beta)
    numer, betas, dbetas = ndgrad.ones_like(x), ndgrad.ones_like(x), ndgrad.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -(1 - x).pow(1 - beta) * series
    return ndgrad.where(ndgrad.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(x, alpha, beta):
    """Rice saddle point expansion for large alpha and beta."""
    total = alpha + beta
    mean = alpha / total
    std = (alpha * beta / (total + 1)).sqrt() / total
    poly = 47 * x * beta**4 + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * beta**3
        + alpha
        * (
            3 * (59 + 180 * beta - 90 * x) * beta**2
            + alpha
            * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta
                + alpha * (8 * (1 - x) * (135 * beta - 11))
            )
        )
    )
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha**3 * beta**2 * (1 + 12 * total)
    centre = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / (2 * alpha * beta / total).sqrt()
    stirling = (
        (1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
        * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
        / (1 + 1 / (12 * total) + 1 / (288 * total * total))
    )
    term1_num = 2 * alpha * alpha * (x - 1) + alpha * beta * (x - 1) - x * beta * beta
    axbx = alpha * (x - 1) + beta * x
    term1 = term1_num / ((2 * alpha / beta).sqrt() * total.pow(1.5) * axbx * axbx)
    term2 = 0.5 * (alpha / (total * x)).log()
    term3 = (8 * alpha * beta / total).sqrt() / (beta * x + alpha * (x - 1))
    term4 = (beta * (beta / (total * (1 - x))).log() + alpha * (alpha / (total * x)).log()).pow(
        -1.5
    )
    tails = stirling * prefactor * (term1 + term2 * (term3 + ndgrad.where(x < mean, term4, -term4)))
    return ndgrad.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), centre, tails)


def dirichlet_grad(x: Tensor, alpha: Tensor, total: Tensor) -> Tensor:
    """torch._dirichlet_grad: -(d cdf / d alpha) / pdf / (1 - x) of Beta(alpha, total - alpha)."""
    dt = x.dtype
    x, alpha, total = x.double(), alpha.double(), total.double()
    beta = total - alpha
    boundary = total * x * (1 - x)
    u = x.log()
    a = alpha.log() - u
    b = total.log() - a
    pq = []
    for c in _DIRICHLET_C:
        acc = 0
        for i, ui in enumerate((1, u, u * u)):
            for j, aj in enumerate((1, a, a * a)):
                k = c[i][j]
                acc = acc + ui * aj * (k[0] + b * (k[1] + b * (k[2] + b * k[3])))
        pq.append(acc)
    approx = x * (ndgrad.digamma(total) - ndgrad.digamma(alpha)) / beta
    out = pq[0] / pq[1] * approx
    out = ndgrad.where((alpha > 6) & (beta > 6), _beta_grad_alpha_mid(x, alpha, beta), out)
    out = ndgrad.where(
        (x >= 0.5) & (boundary < 0.75), -_beta_grad_beta_small(1 - x, beta, alpha), out
    )
    out = ndgrad.where((x <= 0.5) & (boundary < 2.5), _beta_grad_alpha_small(x, alpha, beta), out)
    return out.to(dt)


_DIRICHLET_C = (
    (
        (
            (1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
            (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
            (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013),
        ),
        (
            (0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
            (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
            (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05),
        ),
        (
            (-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
            (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
            (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05),
        ),
    ),
    (
        (
            (1, -0.02924021934, -0.04438342661, 0.007285809825),
            (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
            (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149),
        ),
        (
            (0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
            (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
            (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05),
        ),
        (
            (0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
            (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
            (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06),
        ),
    ),
)


class Dirichlet(Function):
    """A Dirichlet draw, differentiable in the concentration (torch's _Dirichlet)."""

    @staticmethod
    def forward(ctx, concentration):
        x = _sample_dirichlet(concentration)
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, concentration = ctx.saved_tensors
        total = concentration.sum(-1, True).expand_as(concentration)
        grad = dirichlet_grad(x, concentration, total)
        return grad * (grad_output - (x * grad_output).sum(-1, True))
