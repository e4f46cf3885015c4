"""ndgrad.distributions against torch.distributions: values, gradients, shapes, errors, samples.

Each case builds the same distribution in both libraries from the same NumPy parameters
(float64 leaves). Samplers built on torch's reproduced streams (rand, randn, normal_, uniform_,
exponential_, bernoulli, multinomial, cauchy_) are compared bit for bit after the same seed; the
ones torch draws from its own C++ kernels (gamma, dirichlet, poisson, binomial) are checked by
their moments instead."""

import math
import warnings

import numpy as np
import pytest
import torch

import ndgrad

R = np.random.default_rng(1234)


def _real(*s):
    return R.normal(size=s)


def _pos(*s, lo=0.5, hi=3.0):
    return R.uniform(lo, hi, size=s)


def _unit(*s):
    return R.uniform(0.1, 0.9, size=s)


def _simplex(*s):
    p = R.uniform(0.1, 1.0, size=s)
    return p / p.sum(-1, keepdims=True)


def _spd(b, n):
    a = R.normal(size=(b, n, n))
    return a @ a.transpose(0, 2, 1) + n * np.eye(n)


def _tril(b, n):
    return np.linalg.cholesky(_spd(b, n))


class Case:
    def __init__(self, name, params, make, stream=True, tol=1e-7, dtype="float64"):
        self.name, self.params, self.make, self.stream = name, params, make, stream
        self.tol, self.dtype = tol, dtype

    def build(self, lib):
        dtype = getattr(lib, self.dtype)
        params = {k: lib.tensor(v, dtype=dtype, requires_grad=True) for k, v in self.params.items()}
        return self.make(lib.distributions, lib, params), params

    def __repr__(self):
        return self.name


def _td(D, T, p):
    return D.TransformedDistribution(D.Normal(p["loc"], p["scale"]),
                                     [D.ExpTransform(), D.AffineTransform(1.0, 2.0)])


def _msf(D, T, p):
    return D.MixtureSameFamily(D.Categorical(logits=p["logits"]),
                               D.Normal(p["loc"], p["scale"]))


CASES = [
    Case("Normal", dict(loc=_real(2, 3), scale=_pos(2, 3)), lambda D, T, p: D.Normal(**p)),
    Case("Uniform", dict(low=_real(3), high=_real(3) + 4), lambda D, T, p: D.Uniform(**p)),
    Case("BernoulliP", dict(probs=_unit(4)), lambda D, T, p: D.Bernoulli(**p)),
    Case("BernoulliL", dict(logits=_real(4)), lambda D, T, p: D.Bernoulli(**p)),
    Case("CategoricalP", dict(probs=_simplex(2, 4)), lambda D, T, p: D.Categorical(**p)),
    Case("CategoricalL", dict(logits=_real(2, 4)), lambda D, T, p: D.Categorical(**p)),
    Case("OneHotCategorical", dict(probs=_simplex(2, 4)),
         lambda D, T, p: D.OneHotCategorical(**p)),
    Case("OneHotCategoricalST", dict(logits=_real(2, 4)),
         lambda D, T, p: D.OneHotCategoricalStraightThrough(**p)),
    Case("Beta", dict(concentration1=_pos(3), concentration0=_pos(3)),
         lambda D, T, p: D.Beta(**p), stream=False),
    Case("Gamma", dict(concentration=_pos(3), rate=_pos(3)), lambda D, T, p: D.Gamma(**p),
         stream=False),
    Case("Chi2", dict(df=_pos(3, lo=1, hi=5)), lambda D, T, p: D.Chi2(**p), stream=False),
    Case("Dirichlet", dict(concentration=_pos(2, 4)), lambda D, T, p: D.Dirichlet(**p),
         stream=False),
    Case("Exponential", dict(rate=_pos(3)), lambda D, T, p: D.Exponential(**p)),
    Case("Laplace", dict(loc=_real(3), scale=_pos(3)), lambda D, T, p: D.Laplace(**p)),
    Case("Cauchy", dict(loc=_real(3), scale=_pos(3)), lambda D, T, p: D.Cauchy(**p)),
    Case("HalfCauchy", dict(scale=_pos(3)), lambda D, T, p: D.HalfCauchy(**p)),
    Case("HalfNormal", dict(scale=_pos(3)), lambda D, T, p: D.HalfNormal(**p)),
    Case("LogNormal", dict(loc=_real(3), scale=_pos(3)), lambda D, T, p: D.LogNormal(**p)),
    Case("Gumbel", dict(loc=_real(3), scale=_pos(3)), lambda D, T, p: D.Gumbel(**p)),
    Case("Weibull", dict(scale=_pos(3), concentration=_pos(3)), lambda D, T, p: D.Weibull(**p)),
    Case("Pareto", dict(scale=_pos(3), alpha=_pos(3, lo=2.5, hi=4)),
         lambda D, T, p: D.Pareto(**p)),
    Case("Poisson", dict(rate=_pos(3, lo=1, hi=8)), lambda D, T, p: D.Poisson(**p),
         stream=False),
    Case("Binomial", dict(probs=_unit(3)),
         lambda D, T, p: D.Binomial(T.tensor([3.0, 5.0, 8.0], dtype=T.float64), **p),
         stream=False),
    Case("BinomialL", dict(logits=_real(3)),
         lambda D, T, p: D.Binomial(6, logits=p["logits"]), stream=False),
    Case("Multinomial", dict(probs=_simplex(2, 4)), lambda D, T, p: D.Multinomial(5, **p)),
    Case("Geometric", dict(probs=_unit(3)), lambda D, T, p: D.Geometric(**p)),
    Case("NegativeBinomial", dict(total_count=_pos(3, lo=1, hi=6), probs=_unit(3)),
         lambda D, T, p: D.NegativeBinomial(**p), stream=False),
    Case("StudentT", dict(df=_pos(3, lo=3, hi=6), loc=_real(3), scale=_pos(3)),
         lambda D, T, p: D.StudentT(**p), stream=False),
    Case("FisherSnedecor", dict(df1=_pos(3, lo=5, hi=9), df2=_pos(3, lo=5, hi=9)),
         lambda D, T, p: D.FisherSnedecor(**p), stream=False),
    Case("MVNTril", dict(loc=_real(2, 3), scale_tril=_tril(2, 3)),
         lambda D, T, p: D.MultivariateNormal(**p)),
    Case("MVNCov", dict(loc=_real(2, 3), covariance_matrix=_spd(2, 3)),
         lambda D, T, p: D.MultivariateNormal(**p), tol=1e-6),
    Case("MVNPrec", dict(loc=_real(3), precision_matrix=_spd(1, 3)[0]),
         lambda D, T, p: D.MultivariateNormal(**p), tol=1e-6),
    Case("LowRankMVN", dict(loc=_real(2, 3), cov_factor=_real(2, 3, 2), cov_diag=_pos(2, 3)),
         lambda D, T, p: D.LowRankMultivariateNormal(**p), tol=1e-6),
    Case("Independent", dict(loc=_real(2, 3), scale=_pos(2, 3)),
         lambda D, T, p: D.Independent(D.Normal(**p), 1)),
    Case("MixtureSameFamily", dict(logits=_real(2, 3), loc=_real(2, 3), scale=_pos(2, 3)), _msf),
    Case("TransformedDistribution", dict(loc=_real(3), scale=_pos(3, hi=1)), _td),
    Case("RelaxedBernoulli", dict(probs=_unit(3)),
         lambda D, T, p: D.RelaxedBernoulli(T.tensor(0.7, dtype=T.float64), **p)),
    Case("RelaxedOneHotCategorical", dict(logits=_real(2, 4)),
         lambda D, T, p: D.RelaxedOneHotCategorical(T.tensor(0.7, dtype=T.float64), **p)),
    Case("LogisticNormal", dict(loc=_real(2, 3), scale=_pos(2, 3, hi=1)),
         lambda D, T, p: D.LogisticNormal(**p)),
    Case("Kumaraswamy", dict(concentration1=_pos(3), concentration0=_pos(3)),
         lambda D, T, p: D.Kumaraswamy(**p), tol=1e-6),
    Case("VonMises", dict(loc=_real(3), concentration=_pos(3, lo=0.5, hi=6)),
         lambda D, T, p: D.VonMises(**p)),
    Case("Wishart", dict(covariance_matrix=_spd(2, 3)),
         lambda D, T, p: D.Wishart(T.tensor([4.0, 5.5], dtype=T.float64), **p), stream=False,
         tol=1e-6),
    Case("WishartTril", dict(df=_pos(2, lo=3, hi=6), scale_tril=_tril(2, 3)),
         lambda D, T, p: D.Wishart(**p), stream=False, tol=1e-6),
    Case("LKJCholesky", dict(concentration=_pos(2, lo=0.5, hi=3)),
         lambda D, T, p: D.LKJCholesky(3, **p), stream=False),
    Case("ContinuousBernoulli", dict(probs=np.array([0.1, 0.3, 0.5, 0.499, 0.8])),
         lambda D, T, p: D.ContinuousBernoulli(**p), tol=1e-6),
    Case("ContinuousBernoulliL", dict(logits=_real(3)),
         lambda D, T, p: D.ContinuousBernoulli(**p), tol=1e-6),
    Case("InverseGamma", dict(concentration=_pos(3, lo=2.5, hi=5), rate=_pos(3)),
         lambda D, T, p: D.InverseGamma(**p), stream=False),
    Case("GeneralizedPareto", dict(loc=_real(3), scale=_pos(3),
                                   concentration=np.array([-0.3, 0.0, 0.25])),
         lambda D, T, p: D.GeneralizedPareto(**p)),
    Case("GeneralizedPareto32", dict(loc=_real(3), scale=_pos(3),
                                     concentration=np.array([-0.3, 0.0, 0.25])),
         lambda D, T, p: D.GeneralizedPareto(**p), dtype="float32", tol=2e-6),
    Case("Normal32", dict(loc=_real(3), scale=_pos(3)), lambda D, T, p: D.Normal(**p),
         dtype="float32", tol=2e-6),
]


# --- helpers ------------------------------------------------------------------------------------
def _np(x):
    if isinstance(x, (torch.Tensor, ndgrad.Tensor)):
        return x.detach().numpy()
    return np.asarray(x)


def _r(obj):
    """A repr with torch's names as ndgrad's (dtype=ndgrad.float64), line breaks as spaces."""
    return " ".join(repr(obj).replace("torch.", "ndgrad.").split())


def assert_close(a, b, tol=1e-7, what=""):
    """a from ndgrad, b from torch: same shape, dtype and values (nan where torch has nan)."""
    if isinstance(b, torch.Tensor):
        assert isinstance(a, ndgrad.Tensor), what
        assert tuple(a.shape) == tuple(b.shape), (what, a.shape, b.shape)
        assert str(a.dtype) == str(b.dtype).replace("torch.", "ndgrad."), (what, a.dtype, b.dtype)
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol, err_msg=what)


def both(fn_nd, fn_t):
    """Call both; return (result, result) or assert both raise the same exception type."""
    try:
        want = fn_t()
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e)):
            fn_nd()
        return None, None
    return fn_nd(), want


def _values(case, dt):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = dt.sample((2,))
    return v


# --- tests --------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_values(case):
    dn, _ = case.build(ndgrad)
    dt, _ = case.build(torch)
    assert tuple(dn.batch_shape) == tuple(dt.batch_shape)
    assert tuple(dn.event_shape) == tuple(dt.event_shape)
    assert dn.has_rsample == dt.has_rsample
    assert dn.has_enumerate_support == dt.has_enumerate_support
    assert _r(dn.support) == _r(dt.support)
    assert {k: _r(c) for k, c in dn.arg_constraints.items()} == \
        {k: _r(c) for k, c in dt.arg_constraints.items()}
    for prop in ("mean", "mode", "variance", "stddev"):
        a, b = both(lambda: getattr(dn, prop), lambda: getattr(dt, prop))
        if b is not None:
            assert_close(a, b, case.tol, prop)
    for meth in ("entropy", "perplexity"):
        a, b = both(getattr(dn, meth), getattr(dt, meth))
        if b is not None:
            assert_close(a, b, case.tol, meth)
    v = _values(case, dt)
    vn = ndgrad.tensor(v.numpy())
    for meth in ("log_prob", "cdf"):
        a, b = both(lambda: getattr(dn, meth)(vn), lambda: getattr(dt, meth)(v))
        if b is not None:
            assert_close(a, b, case.tol, meth)
    q = np.linspace(0.05, 0.95, 3 * int(np.prod(dt.batch_shape)))
    q = q.reshape((3,) + tuple(dt.batch_shape)) if not dt.event_shape else q[:3]
    a, b = both(lambda: dn.icdf(ndgrad.tensor(q)), lambda: dt.icdf(torch.tensor(q)))
    if b is not None:
        assert_close(a, b, case.tol, "icdf")
    if dt.has_enumerate_support:
        for expand in (True, False):
            a, b = both(lambda: dn.enumerate_support(expand), lambda: dt.enumerate_support(expand))
            if b is not None:
                assert_close(a, b, 0, "enumerate_support")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_log_prob_grad(case):
    dn, pn = case.build(ndgrad)
    dt, pt = case.build(torch)
    v = _values(case, dt)
    vn = ndgrad.tensor(v.numpy())
    loss_n, loss_t = both(lambda: dn.log_prob(vn).sum(), lambda: dt.log_prob(v).sum())
    if loss_t is None:  # torch's own bug (GeneralizedPareto in float64): the same error
        return
    try:
        loss_t = loss_t + dt.entropy().sum()
        loss_n = loss_n + dn.entropy().sum()
    except NotImplementedError:
        pass
    gt = torch.autograd.grad(loss_t, list(pt.values()), allow_unused=True)
    gn = ndgrad.autograd.grad(loss_n, list(pn.values()), allow_unused=True)
    for k, a, b in zip(pt, gn, gt):
        if b is None:
            assert a is None or not np.any(_np(a)), k
        else:
            assert_close(a, b, max(case.tol, 1e-6), f"grad {k}")


@pytest.mark.parametrize("case", [c for c in CASES if c.stream], ids=repr)
def test_samples_match_torch(case):
    """Same seed, same draws; rsample's gradient w.r.t. the parameters as torch's."""
    dn, pn = case.build(ndgrad)
    dt, pt = case.build(torch)
    tol = 1e-9 if case.dtype == "float64" else 1e-6  # float32 math may differ in the last bit
    for shape in ((), (2,), (5, 1)):
        torch.manual_seed(3)
        ndgrad.manual_seed(3)
        assert_close(dn.sample(shape), dt.sample(shape), tol, f"sample {shape}")
    if not dt.has_rsample:
        with pytest.raises(NotImplementedError):
            dn.rsample()
        return
    torch.manual_seed(4)
    ndgrad.manual_seed(4)
    xt, xn = dt.rsample((3,)), dn.rsample((3,))
    assert_close(xn, xt, tol, "rsample")
    w = R.normal(size=tuple(xt.shape))
    gt = torch.autograd.grad((xt * torch.tensor(w)).sum(), list(pt.values()), allow_unused=True)
    gn = ndgrad.autograd.grad((xn * ndgrad.tensor(w)).sum(), list(pn.values()), allow_unused=True)
    for k, a, b in zip(pt, gn, gt):
        if b is not None:
            assert_close(a, b, max(tol, 1e-7), f"rsample grad {k}")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_shapes_and_expand(case):
    dn, _ = case.build(ndgrad)
    dt, _ = case.build(torch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shape in ((), (4,), (2, 1)):
            assert tuple(dn.sample(shape).shape) == tuple(dt.sample(shape).shape)
            if dt.has_rsample:
                assert tuple(dn.rsample(shape).shape) == tuple(dt.rsample(shape).shape)
        new_batch = (5,) + tuple(dt.batch_shape)
        en, et = dn.expand(new_batch), dt.expand(new_batch)
        assert type(en) is type(dn)
        assert tuple(en.batch_shape) == tuple(et.batch_shape)
        assert tuple(en.event_shape) == tuple(et.event_shape)
        assert tuple(en.sample((2,)).shape) == tuple(et.sample((2,)).shape)
        v = _values(case, et)
        vn = ndgrad.tensor(v.numpy())
        a, b = both(lambda: en.log_prob(vn), lambda: et.log_prob(v))
        if b is not None:
            assert_close(a, b, case.tol, "expanded log_prob")


@pytest.mark.parametrize("case", [c for c in CASES if not c.stream], ids=repr)
def test_sample_moments(case):
    """Samplers torch runs in C++ (gamma, dirichlet, poisson, binomial): moments, support."""
    dn, _ = case.build(ndgrad)
    ndgrad.manual_seed(0)
    x = dn.sample((4000,))
    assert bool(dn.support.check(x).all())
    if case.name == "LKJCholesky":  # no mean: correlations have unit diagonal, mean 0 off it
        corr = x @ x.mT
        assert_close(corr.diagonal(dim1=-2, dim2=-1), np.ones((4000, 2, 3)), 1e-9)
        assert np.abs(_np(corr.mean(0)) - np.eye(3)).max() < 0.05
        return
    se = (dn.variance / 4000).sqrt()
    np.testing.assert_array_less(np.abs(_np(x.mean(0) - dn.mean)), _np(6 * se + 1e-3))
    ndgrad.manual_seed(0)
    assert_close(dn.sample((4000,)), x, 0, "seeded")
