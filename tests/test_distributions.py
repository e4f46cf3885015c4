"""ndgrad.distributions against torch.distributions: values, gradients, shapes, errors, samples.

Each case builds the same distribution in both libraries from the same NumPy parameters
(float64 leaves). Samplers built on torch's reproduced streams (rand, randn, normal_, uniform_,
exponential_, bernoulli, multinomial, cauchy_) are compared bit for bit after the same seed; the
ones torch draws from its own C++ kernels (gamma, dirichlet, poisson, binomial) are checked by
their moments instead."""

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


@pytest.mark.filterwarnings("ignore:Singular sample detected")  # torch's Wishart warns alike
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


# --- kl_divergence --------------------------------------------------------------------------------
def _kl_builders():
    """Two instances of each registered class (batch (2,), events of size 3)."""
    def make(name, **params):
        arrays = {k: v for k, v in params.items()}
        return lambda D, T: getattr(D, name)(**{
            k: T.tensor(v, dtype=T.float64, requires_grad=True) for k, v in arrays.items()})

    def two(fn):
        return [fn(), fn()]

    b = {
        "Bernoulli": two(lambda: make("Bernoulli", probs=_unit(2))),
        "Beta": two(lambda: make("Beta", concentration1=_pos(2), concentration0=_pos(2))),
        "Binomial": two(lambda: lambda D, T, p=_unit(2): D.Binomial(
            5, T.tensor(p, dtype=T.float64, requires_grad=True))),
        "Categorical": two(lambda: make("Categorical", probs=_simplex(2, 3))),
        "Cauchy": two(lambda: make("Cauchy", loc=_real(2), scale=_pos(2))),
        "ContinuousBernoulli": two(lambda: make("ContinuousBernoulli", probs=_unit(2))),
        "Dirichlet": two(lambda: make("Dirichlet", concentration=_pos(2, 3))),
        "Exponential": two(lambda: make("Exponential", rate=_pos(2))),
        "Gamma": two(lambda: make("Gamma", concentration=_pos(2), rate=_pos(2))),
        "Geometric": two(lambda: make("Geometric", probs=_unit(2))),
        "Gumbel": two(lambda: make("Gumbel", loc=_real(2), scale=_pos(2))),
        "HalfNormal": two(lambda: make("HalfNormal", scale=_pos(2))),
        "Laplace": two(lambda: make("Laplace", loc=_real(2), scale=_pos(2))),
        "Normal": two(lambda: make("Normal", loc=_real(2), scale=_pos(2))),
        "OneHotCategorical": two(lambda: make("OneHotCategorical", probs=_simplex(2, 3))),
        "Pareto": two(lambda: make("Pareto", scale=_pos(2), alpha=_pos(2))),
        "Poisson": two(lambda: make("Poisson", rate=_pos(2))),
        "Uniform": [make("Uniform", low=np.array([-3.0, -2.5]), high=np.array([3.0, 2.0])),
                    make("Uniform", low=np.array([-1.0, -4.0]), high=np.array([1.5, 3.0]))],
        "MultivariateNormal": two(lambda: make("MultivariateNormal", loc=_real(2, 3),
                                               scale_tril=_tril(2, 3))),
        "LowRankMultivariateNormal": two(lambda: make(
            "LowRankMultivariateNormal", loc=_real(2, 3), cov_factor=_real(2, 3, 2),
            cov_diag=_pos(2, 3))),
        "Independent": two(lambda: lambda D, T, m=_real(2, 3), s=_pos(2, 3): D.Independent(
            D.Normal(T.tensor(m, dtype=T.float64, requires_grad=True), T.tensor(s)), 1)),
        "TransformedDistribution": two(lambda: lambda D, T, m=_real(2), s=_pos(2): D.LogNormal(
            T.tensor(m, dtype=T.float64, requires_grad=True), T.tensor(s))),
    }
    return b


KL = _kl_builders()
KL_PAIRS = sorted({(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY
                   if p.__name__ in KL and q.__name__ in KL})


def test_kl_registry_is_torchs():
    from ndgrad.distributions.kl import _KL_REGISTRY

    names = {(p.__name__, q.__name__) for p, q in _KL_REGISTRY}
    assert names == {(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY}
    assert len(KL_PAIRS) > 70


@pytest.mark.parametrize("pair", KL_PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
def test_kl_divergence(pair):
    pn, qn = KL[pair[0]][0](ndgrad.distributions, ndgrad), KL[pair[1]][1](ndgrad.distributions,
                                                                           ndgrad)
    pt, qt = KL[pair[0]][0](torch.distributions, torch), KL[pair[1]][1](torch.distributions, torch)
    a, b = both(lambda: ndgrad.distributions.kl_divergence(pn, qn),
                lambda: torch.distributions.kl_divergence(pt, qt))
    if b is None:
        return
    assert_close(a, b, 1e-6, "kl")
    finite = torch.isfinite(b)
    leaves_t, leaves_n = _leaves(pt) + _leaves(qt), _leaves(pn) + _leaves(qn)
    if b.requires_grad and bool(finite.any()) and leaves_t:
        gt = torch.autograd.grad(b[finite].sum(), leaves_t, allow_unused=True)
        gn = ndgrad.autograd.grad(a[ndgrad.tensor(finite.numpy())].sum(), leaves_n,
                                  allow_unused=True)
        for x, y in zip(gn, gt):
            if y is not None:
                assert_close(x, y, 1e-6, "kl grad")


def _leaves(d):
    """The parameters a builder made (leaf tensors that require grad), in a fixed order."""
    seen = []
    for v in vars(d).values():
        if isinstance(v, (torch.Tensor, ndgrad.Tensor)) and v.requires_grad and v.is_leaf:
            seen.append(v)
        elif hasattr(v, "__dict__") and not isinstance(v, (torch.Tensor, ndgrad.Tensor)):
            seen.extend(_leaves(v) if isinstance(v, (torch.distributions.Distribution,
                                                     ndgrad.distributions.Distribution)) else [])
    return seen


def test_kl_errors_and_register():
    D = ndgrad.distributions
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.VonMises(ndgrad.tensor(0.0), ndgrad.tensor(1.0)))

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return ndgrad.tensor(42.0)

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == 42.0


# --- transforms ---------------------------------------------------------------------------------
def _transforms(D, T):
    t64 = lambda a: T.tensor(a, dtype=T.float64)  # noqa: E731
    return {
        "abs": (D.AbsTransform(), _real(4)),
        "affine": (D.AffineTransform(t64([1.0, -2.0, 0.5]), t64([2.0, -0.5, 3.0])), _real(2, 3)),
        "affine_event": (D.AffineTransform(0.5, t64([2.0, -0.5, 3.0]), event_dim=1),
                         _real(2, 3)),
        "exp": (D.ExpTransform(), _real(4)),
        "sigmoid": (D.SigmoidTransform(), _real(4)),
        "tanh": (D.TanhTransform(), _real(4)),
        "softplus": (D.SoftplusTransform(), _real(4)),
        "power": (D.PowerTransform(t64([0.5, 2.0, 3.0])), _pos(2, 3)),
        "softmax": (D.SoftmaxTransform(), _real(2, 3)),
        "stick_breaking": (D.StickBreakingTransform(), _real(2, 3)),
        "reshape": (D.ReshapeTransform((2, 3), (6,)), _real(4, 2, 3)),
        "lower_cholesky": (D.LowerCholeskyTransform(), _real(2, 3, 3)),
        "corr_cholesky": (D.CorrCholeskyTransform(), _real(2, 3)),
        "positive_definite": (D.PositiveDefiniteTransform(), _real(2, 3, 3)),
        "compose": (D.ComposeTransform([D.ExpTransform(), D.AffineTransform(1.0, 2.0)]),
                    _real(4)),
        "independent": (D.IndependentTransform(D.ExpTransform(), 1), _real(2, 3)),
        "cat": (D.CatTransform([D.ExpTransform(), D.identity_transform], dim=1,
                               lengths=[2, 3]), _real(2, 5)),
        "stack": (D.StackTransform([D.ExpTransform(), D.SigmoidTransform()], dim=1),
                  _real(3, 2)),
        "cdf": (D.CumulativeDistributionTransform(D.Normal(t64(0.5), t64(2.0))), _real(4)),
        "identity": (D.identity_transform, _real(4)),
        "inverse_sigmoid": (D.SigmoidTransform().inv, _unit(4)),
    }


TRANSFORMS = list(_transforms(torch.distributions, torch))


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform(name):
    tn, x = _transforms(ndgrad.distributions, ndgrad)[name]
    tt, _ = _transforms(torch.distributions, torch)[name]
    assert _r(tn) == _r(tt)
    assert _r(tn.domain) == _r(tt.domain) and _r(tn.codomain) == _r(tt.codomain)
    assert tn.bijective == tt.bijective
    xn = ndgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yn, yt = tn(xn), tt(xt)
    assert_close(yn, yt, 1e-7, "forward")
    assert tuple(tn.forward_shape(x.shape)) == tuple(tt.forward_shape(x.shape))
    assert tuple(tn.inverse_shape(yt.shape)) == tuple(tt.inverse_shape(yt.shape))
    a, b = both(lambda: tn.sign, lambda: tt.sign)
    if b is not None:
        assert_close(a, b, 0, "sign")
    a, b = both(lambda: tn.inv(yn.detach()), lambda: tt.inv(yt.detach()))
    if b is not None:
        assert_close(a, b, 1e-6, "inverse")
    cached = tn.with_cache(1)
    assert cached.inv(cached(xn)) is xn  # cache_size=1 hands back the input, as torch's does
    ln, lt = both(lambda: tn.log_abs_det_jacobian(xn, yn), lambda: tt.log_abs_det_jacobian(xt, yt))
    if lt is not None:
        assert_close(ln, lt, 1e-7, "log_abs_det_jacobian")
        w = R.normal(size=tuple(yt.shape))
        gt = torch.autograd.grad((yt * torch.tensor(w)).sum() + lt.sum(), xt)[0]
        gn = ndgrad.autograd.grad((yn * ndgrad.tensor(w)).sum() + ln.sum(), xn)[0]
        assert_close(gn, gt, 1e-7, "grad")
    assert tn == tn and (tn.inv.inv is tn)


CONSTRAINTS = ["real", "positive", "nonnegative", "simplex", "unit_interval", "lower_cholesky",
               "positive_definite", "corr_cholesky", "real_vector", "greater_than", "less_than",
               "interval", "half_open_interval", "greater_than_eq", "independent", "cat", "stack",
               "lower_triangular", "positive_semidefinite"]


def _constraint(C, T, name):
    special = {
        "greater_than": lambda: C.greater_than(T.tensor([1.0, -2.0], dtype=T.float64)),
        "greater_than_eq": lambda: C.greater_than_eq(T.tensor([1.0, -2.0], dtype=T.float64)),
        "less_than": lambda: C.less_than(3.0),
        "interval": lambda: C.interval(T.tensor([-1.0, 0.0], dtype=T.float64), 2.0),
        "half_open_interval": lambda: C.half_open_interval(-1.0, 2.0),
        "independent": lambda: C.independent(C.positive, 1),
        "cat": lambda: C.cat([C.positive, C.real], dim=-1, lengths=[1, 1]),
        "stack": lambda: C.stack([C.positive, C.unit_interval], dim=-1),
    }
    return special[name]() if name in special else getattr(C, name)


@pytest.mark.parametrize("name", CONSTRAINTS)
def test_constraint_and_biject_to(name):
    cn = _constraint(ndgrad.distributions.constraints, ndgrad, name)
    ct = _constraint(torch.distributions.constraints, torch, name)
    assert _r(cn) == _r(ct)
    assert cn.is_discrete == ct.is_discrete and cn.event_dim == ct.event_dim
    shape = {"lower_cholesky": (2, 3, 3), "positive_definite": (2, 3, 3), "cholesky": (2, 3, 3),
             "lower_triangular": (2, 3, 3), "positive_semidefinite": (2, 3, 3),
             "corr_cholesky": (2, 3, 3)}.get(name, (3, 2))
    x = _real(*shape)
    assert_close(cn.check(ndgrad.tensor(x)), ct.check(torch.tensor(x)), 0, "check")
    for fn in ("biject_to", "transform_to"):
        tn, tt = both(lambda: getattr(ndgrad.distributions, fn)(cn),
                      lambda: getattr(torch.distributions, fn)(ct))
        if tt is None:
            continue
        assert _r(tn) == _r(tt)
        u = _real(*tt.inverse_shape(shape))
        un, ut = ndgrad.tensor(u, requires_grad=True), torch.tensor(u, requires_grad=True)
        yn, yt = tn(un), tt(ut)
        assert_close(yn, yt, 1e-7, fn)
        assert bool(cn.check(yn).all())
        a, b = both(lambda: tn.log_abs_det_jacobian(un, yn),
                    lambda: tt.log_abs_det_jacobian(ut, yt))
        if b is not None:
            assert_close(a, b, 1e-7, f"{fn} ladj")


# --- argument validation ------------------------------------------------------------------------
def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e), " ".join(str(e).replace("torch.", "ndgrad.").split())
    return None


INVALID = [
    lambda D, T: D.Normal(T.tensor([0.0, 1.0]), T.tensor([1.0, -1.0])),
    lambda D, T: D.Normal(0.0, 1.0).log_prob(1.0),
    lambda D, T: D.Normal(T.zeros(3), T.ones(3)).log_prob(T.zeros(2)),
    lambda D, T: D.Normal(T.zeros(3), T.ones(3)).log_prob(T.zeros(2, 4)),
    lambda D, T: D.Exponential(T.ones(2)).log_prob(T.tensor([1.0, -1.0])),
    lambda D, T: D.Bernoulli(T.tensor([0.2, 1.5])),
    lambda D, T: D.Bernoulli(T.tensor([0.2, 0.5])).log_prob(T.tensor([0.0, 0.5])),
    lambda D, T: D.Bernoulli(),
    lambda D, T: D.Categorical(probs=T.ones(3) / 3, logits=T.zeros(3)),
    lambda D, T: D.Categorical(probs=T.tensor(1.0)),
    lambda D, T: D.Categorical(T.tensor([0.5, 0.5])).log_prob(T.tensor([2])),
    lambda D, T: D.Dirichlet(T.tensor(1.0)),
    lambda D, T: D.Dirichlet(T.ones(3)).log_prob(T.tensor([0.5, 0.2, 0.2])),
    lambda D, T: D.Uniform(T.tensor([0.0]), T.tensor([-1.0])),
    lambda D, T: D.MultivariateNormal(T.zeros(2)),
    lambda D, T: D.MultivariateNormal(T.zeros(2), T.eye(2), scale_tril=T.eye(2)),
    lambda D, T: D.MultivariateNormal(T.zeros(2), T.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda D, T: D.Independent(D.Normal(T.zeros(3), T.ones(3)), 2),
    lambda D, T: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(T.zeros(2), T.ones(2))),
    lambda D, T: D.Binomial(T.tensor([2.0]), T.tensor([0.5])).log_prob(T.tensor([3.0])),
    lambda D, T: D.Wishart(T.tensor(1.0), T.eye(3)),
    lambda D, T: D.LKJCholesky(1),
    lambda D, T: D.Normal(0.0, 1.0).expand((2,)).log_prob(T.zeros(3)),
    lambda D, T: D.Poisson(T.tensor([-1.0])),
    lambda D, T: D.Normal(0.0, 1.0).enumerate_support(),
    lambda D, T: D.Geometric(T.tensor([0.0])),
    lambda D, T: D.Normal("a", 1.0),
    lambda D, T: D.TransformedDistribution(D.Normal(0.0, 1.0), [object()]),
]


@pytest.mark.parametrize("i", range(len(INVALID)))
def test_validation_errors(i):
    want = _error(lambda: INVALID[i](torch.distributions, torch))
    got = _error(lambda: INVALID[i](ndgrad.distributions, ndgrad))
    assert want is not None
    assert got == want


def test_validate_args_switch():
    D = ndgrad.distributions
    D.Normal(0.0, -1.0, validate_args=False)  # no check
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(0.0, -1.0).log_prob(ndgrad.tensor(0.0))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(3)
    with pytest.warns(FutureWarning):
        assert tuple(D.Normal(0.0, 1.0).sample_n(3).shape) == (3,)


# --- reparameterised gradients of the samplers torch runs in C++ ----------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_standard_gamma_grad_is_atens(dtype):
    from ndgrad.distributions import _samplers

    a = np.concatenate([R.uniform(0.05, 3, 300), R.uniform(3, 30, 300), [9.0, 10.0, 100.0]])
    x = np.concatenate([R.gamma(a[:-3]), [9.2, 1.5, 100.5]])
    want = torch._standard_gamma_grad(torch.tensor(a, dtype=getattr(torch, dtype)),
                                      torch.tensor(x, dtype=getattr(torch, dtype)))
    got = _samplers._standard_gamma_grad(ndgrad.tensor(a, dtype=getattr(ndgrad, dtype)),
                                         ndgrad.tensor(x, dtype=getattr(ndgrad, dtype)))
    assert_close(got, want, 1e-12 if dtype == "float64" else 1e-5)


def test_dirichlet_grad_is_atens():
    from ndgrad.distributions import _samplers

    alpha = R.uniform(0.05, 12, 600)
    total = alpha + R.uniform(0.05, 12, 600)
    x = R.beta(alpha, total - alpha)
    want = torch._dirichlet_grad(torch.tensor(x), torch.tensor(alpha), torch.tensor(total))
    got = _samplers.dirichlet_grad(ndgrad.tensor(x), ndgrad.tensor(alpha), ndgrad.tensor(total))
    assert_close(got, want, 1e-10)


def test_gamma_family_rsample_grads():
    """rsample's gradient is torch's implicit one evaluated at ndgrad's own draws."""
    D = ndgrad.distributions
    a, r = ndgrad.tensor(_pos(4), requires_grad=True), ndgrad.tensor(_pos(4), requires_grad=True)
    x = D.Gamma(a, r).rsample((3,))
    ga, gr = ndgrad.autograd.grad(x.sum(), [a, r])
    at, rt, xt = (torch.tensor(_np(t)) for t in (a, r, x))
    want_a = (torch._standard_gamma_grad(at.expand(3, 4), xt * rt) / rt).sum(0)
    assert_close(ga, want_a, 1e-10)
    assert_close(gr, (-xt / rt).sum(0), 1e-10)
    # Dirichlet and Beta: torch's _Dirichlet backward at ndgrad's draws
    c = ndgrad.tensor(_pos(2, 3), requires_grad=True)
    w = R.normal(size=(2, 3))
    x = D.Dirichlet(c).rsample()
    (g,) = ndgrad.autograd.grad((x * ndgrad.tensor(w)).sum(), [c])
    from torch.distributions.dirichlet import _Dirichlet_backward

    want = _Dirichlet_backward(torch.tensor(_np(x)), torch.tensor(_np(c)), torch.tensor(w))
    assert_close(g, want, 1e-10)
    c1, c0 = ndgrad.tensor(_pos(3), requires_grad=True), ndgrad.tensor(_pos(3), requires_grad=True)
    x = D.Beta(c1, c0).rsample()
    g1, g0 = ndgrad.autograd.grad(x.sum(), [c1, c0])
    xs = torch.stack([torch.tensor(_np(x)), 1 - torch.tensor(_np(x))], -1)
    cs = torch.stack([torch.tensor(_np(c1)), torch.tensor(_np(c0))], -1)
    want = _Dirichlet_backward(xs, cs, torch.stack([torch.ones(3), torch.zeros(3)], -1).double())
    assert_close(g1, want[..., 0], 1e-10)
    assert_close(g0, want[..., 1], 1e-10)


def test_gamma_cdf_grad():
    D = ndgrad.distributions
    a, r = _pos(3), _pos(3)
    v = _pos(3)
    rn, vn = ndgrad.tensor(r, requires_grad=True), ndgrad.tensor(v, requires_grad=True)
    rt, vt = torch.tensor(r, requires_grad=True), torch.tensor(v, requires_grad=True)
    cn, ct = D.Gamma(ndgrad.tensor(a), rn).cdf(vn), torch.distributions.Gamma(
        torch.tensor(a), rt).cdf(vt)
    assert_close(cn, ct, 1e-10)
    for x, y in zip(ndgrad.autograd.grad(cn.sum(), [rn, vn]), torch.autograd.grad(ct.sum(),
                                                                                 [rt, vt])):
        assert_close(x, y, 1e-10)
    an = ndgrad.tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match="igamma: input"):
        D.Gamma(an, 1.0).cdf(ndgrad.tensor(v)).sum().backward()


def test_exponential_family_bregman():
    """The generic ExponentialFamily KL and entropy (autograd of the log normalizer)."""
    from ndgrad.distributions import kl as kl_n
    from torch.distributions import kl as kl_t

    m, s, m2, s2 = _real(3), _pos(3), _real(3), _pos(3)
    for name in ("Normal", "Gamma"):
        pn = getattr(ndgrad.distributions, name)(ndgrad.tensor(s), ndgrad.tensor(s2))
        qn = getattr(ndgrad.distributions, name)(ndgrad.tensor(s2), ndgrad.tensor(m2 ** 2 + 1))
        pt = getattr(torch.distributions, name)(torch.tensor(s), torch.tensor(s2))
        qt = getattr(torch.distributions, name)(torch.tensor(s2), torch.tensor(m2 ** 2 + 1))
        assert_close(kl_n._kl_expfamily_expfamily(pn, qn), kl_t._kl_expfamily_expfamily(pt, qt),
                     1e-9)
        assert_close(ndgrad.distributions.ExponentialFamily.entropy(pn),
                     torch.distributions.ExponentialFamily.entropy(pt), 1e-9)
    del m


# --- Python numbers, default dtype ---------------------------------------------------------------
SCALAR = [
    lambda D: D.Normal(0.5, 2.0), lambda D: D.Uniform(-1.0, 3.0), lambda D: D.Bernoulli(0.3),
    lambda D: D.Exponential(1.5), lambda D: D.Laplace(0.0, 1.0), lambda D: D.Cauchy(1.0, 2.0),
    lambda D: D.Gumbel(0.0, 2.0), lambda D: D.LogNormal(0.0, 0.5), lambda D: D.HalfNormal(2.0),
    lambda D: D.Geometric(0.3), lambda D: D.Pareto(1.0, 3.0), lambda D: D.Weibull(1.0, 2.0),
    lambda D: D.RelaxedBernoulli(0.5, probs=0.3), lambda D: D.ContinuousBernoulli(0.3),
    lambda D: D.GeneralizedPareto(0.0, 1.0, 0.2), lambda D: D.Kumaraswamy(2.0, 3.0),
]


@pytest.mark.parametrize("i", range(len(SCALAR)))
def test_python_number_parameters(i):
    dn, dt = SCALAR[i](ndgrad.distributions), SCALAR[i](torch.distributions)
    assert tuple(dn.batch_shape) == tuple(dt.batch_shape) == ()
    torch.manual_seed(7)
    ndgrad.manual_seed(7)
    xt, xn = dt.sample((5,)), dn.sample((5,))
    assert_close(xn, xt, 1e-6)
    a, b = both(lambda: dn.log_prob(ndgrad.tensor(xt.numpy())), lambda: dt.log_prob(xt))
    if b is not None:  # (torch's RelaxedBernoulli needs a tensor temperature for log_prob)
        assert_close(a, b, 1e-5)
    assert _r(dn) == _r(dt)
