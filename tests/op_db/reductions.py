"""Op-table entries for reductions, scans and statistics."""

import numpy as np

from op_db import OpInfo, arr, register

FLOATS = ("float32", "float64", "float16", "bfloat16")
COMPLEX = ("complex64", "complex128")
F64 = ("float32", "float64")

# (shape, dim); dim None means "not passed"
DIMS = [((), None), ((), 0), ((), -1), ((0,), None), ((5,), None), ((5,), 0), ((3, 4), None),
        ((3, 4), 0), ((3, 4), -1), ((3, 4), (0, 1)), ((3, 4), [1]), ((2, 3, 4), (0, 2)),
        ((2, 3, 4), 1), ((0, 3), 0), ((0, 3), 1), ((4, 6), 1)]
INT_DIMS = [(s, d) for s, d in DIMS if d is None or isinstance(d, int)]
NONEMPTY = [(s, d) for s, d in INT_DIMS if 0 not in s]


def strided(x):
    return x[:, ::2] if x.ndim == 2 and x.shape == (4, 6) else x


def reduce_samples(dims=DIMS, low=-2.0, high=2.0, keepdims=(False, True), extra=None):
    def samples(rng, dtype):
        for shape, d in dims:
            for k in keepdims:
                x = np.asarray(arr(rng, shape, dtype, low, high))
                kw = {} if d is None else {"dim": d, "keepdim": k}
                if d is None and k:
                    continue
                yield [x], {**kw, **(extra or {})}

    return samples


def red(name, fn, samples, dtypes=F64, **kw):
    return OpInfo(name, lambda T, x, **k: fn(T, strided(x), **k), samples, dtypes=dtypes, **kw)


def exact_int(name, fn, samples, dtypes, **kw):
    """Integer inputs: float results of int inputs may differ from torch's in the last bit."""
    return red(name, fn, samples, dtypes, rtol=1e-6, atol=1e-6, **kw)


no_ties = reduce_samples(NONEMPTY)
register(
    red("sum", lambda T, x, **k: T.sum(x, **k), reduce_samples(), FLOATS + COMPLEX),
    red("sum_int", lambda T, x, **k: x.sum(**k), reduce_samples(), ("int64", "int32", "uint8",
                                                                   "bool"), grad=False),
    red("sum_dtype", lambda T, x, **k: T.sum(x, dtype=T.float64, **k), reduce_samples(),
        ("float32", "int64")),
    red("mean", lambda T, x, **k: x.mean(**k), reduce_samples(), FLOATS + COMPLEX),
    red("mean_dtype", lambda T, x, **k: T.mean(x, dtype=T.float64, **k), reduce_samples(),
        ("float32", "int64")),
    red("nansum", lambda T, x, **k: T.nansum(x.log(), **k), reduce_samples(), F64,
        gradcheck=False),
    red("nansum_int", lambda T, x, **k: T.nansum(x, **k), reduce_samples(), ("int64", "bool"),
        grad=False),
    red("nanmean", lambda T, x, **k: T.nanmean(x.log(), **k), reduce_samples(), F64,
        gradcheck=False),
    red("nanmean_plain", lambda T, x, **k: x.nanmean(**k), reduce_samples(), FLOATS),
    red("prod", lambda T, x, **k: x.prod(**k), reduce_samples(INT_DIMS), FLOATS + COMPLEX),
    red("prod_int", lambda T, x, **k: T.prod(x, **k), reduce_samples(INT_DIMS),
        ("int64", "int32", "bool"), grad=False),
    red("prod_zeros", lambda T, x, **k: T.prod(x.round() * x, **k), reduce_samples(
        INT_DIMS, -1.4, 1.4), F64, gradcheck=False),
    red("prod_dtype", lambda T, x, **k: T.prod(x, dtype=T.float64, **k),
        reduce_samples(INT_DIMS), ("float32", "int64")),
    red("max_dim", lambda T, x, **k: T.max(x, **k), no_ties, FLOATS + ("int64", "bool")),
    red("min_dim", lambda T, x, **k: x.min(**k), no_ties, FLOATS + ("int64", "bool")),
    red("max_all", lambda T, x: T.max(x), reduce_samples([((3, 4), None), ((), None),
                                                           ((4, 6), None)]),
        FLOATS + ("int64", "bool")),
    red("min_all", lambda T, x: x.min(), reduce_samples([((3, 4), None), ((), None)]),
        FLOATS + ("int64",)),
    red("amax", lambda T, x, **k: T.amax(x, **k), reduce_samples(
        [(s, d) for s, d in DIMS if 0 not in s]), FLOATS + ("int64", "bool")),
    red("amin", lambda T, x, **k: x.amin(**k), reduce_samples(
        [(s, d) for s, d in DIMS if 0 not in s]), FLOATS + ("int64",)),
    red("amax_empty_other_dim", lambda T, x, **k: T.amax(x, **k),
        reduce_samples([((0, 3), 1)]), F64),
    red("aminmax", lambda T, x, **k: T.aminmax(x, **k), reduce_samples(
        [((3, 4), None), ((3, 4), 0), ((2, 3, 4), -1), ((4, 6), 1)]), FLOATS + ("int64",)),
    red("argmax", lambda T, x, **k: T.argmax(x, **k), no_ties, FLOATS + ("int64",),
        grad=False),
    red("argmin", lambda T, x, **k: x.argmin(**k), no_ties, FLOATS + ("int64",), grad=False),
    red("argmax_keepdim_nodim", lambda T, x: T.argmax(x, keepdim=True),
        reduce_samples([((3, 4), None)]), F64, grad=False),
    red("logsumexp", lambda T, x, **k: T.logsumexp(x, **k), reduce_samples(
        [(s, d) for s, d in DIMS if d is not None], -5, 5), FLOATS),
    red("logsumexp_int", lambda T, x, **k: x.logsumexp(**k), reduce_samples(
        [(s, d) for s, d in DIMS if d is not None and 0 not in s], -5, 5), ("int64",),
        grad=False, rtol=1e-6, atol=1e-6),
    red("logsumexp_large", lambda T, x, **k: T.logsumexp(x * 1000, **k),
        reduce_samples([((3, 4), 1)]), F64),
    red("all", lambda T, x, **k: T.all(x, **k), reduce_samples(), ("bool", "float32", "int64",
                                                                  "uint8"), grad=False),
    red("any", lambda T, x, **k: x.any(**k), reduce_samples(), ("bool", "float32", "int64",
                                                               "uint8"), grad=False),
    red("count_nonzero", lambda T, x, dim=None, keepdim=False: T.count_nonzero(
        x.round() if x.is_floating_point() else x, dim),
        reduce_samples(), F64 + ("int64", "bool"), grad=False),
)


def var_samples(rng, dtype):
    for shape, d in [((5,), None), ((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2)),
                     ((4, 6), 1), ((3, 4), [0, 1]), ((), None), ((), 0), ((0, 4), -1)]:
        for extra in ({}, {"correction": 0}, {"unbiased": False}, {"correction": 2}):
            if shape == () and extra in ({}, {"correction": 2}):
                continue  # no degrees of freedom: nan, which gradcheck cannot differentiate
            x = np.asarray(arr(rng, shape, dtype))
            kw = dict(extra)
            if d is not None:
                kw.update(dim=d, keepdim=bool(len(extra) % 2))
            yield [x], kw


for _name in ("var", "std", "var_mean", "std_mean"):
    register(red(_name, lambda T, x, _n=_name, **k: getattr(T, _n)(x, **k), var_samples,
                 FLOATS + COMPLEX))
register(
    red("var_method", lambda T, x, **k: x.var(**k), var_samples, F64),
    red("std_positional_unbiased", lambda T, x: x.std(0, False), reduce_samples([((3, 4), None)]),
        F64),
    red("std_constant", lambda T, x, **k: (x * 0 + 1).std(**k), reduce_samples([((3, 4), 1)]),
        F64, gradcheck=False),
    red("dist", lambda T, x, **k: T.dist(x, x * 0.5 + 1, **k),
        lambda rng, dt: ([[np.asarray(arr(rng, s, dt))], {"p": p}] for s in [(3, 4), (5,)]
                         for p in (1, 2, 3, float("inf"), 0.5)), F64),
)

# --- scans --------------------------------------------------------------------------------------
SCAN = [((), 0), ((), -1), ((5,), 0), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((0, 3), 1),
        ((4, 6), 1)]


def scan_samples(low=-2.0, high=2.0, shapes=SCAN):
    def samples(rng, dtype):
        for shape, d in shapes:
            yield [np.asarray(arr(rng, shape, dtype, low, high))], {"dim": d}

    return samples


register(
    red("cumsum", lambda T, x, **k: T.cumsum(x, **k), scan_samples(), FLOATS + COMPLEX),
    red("cumsum_int", lambda T, x, **k: x.cumsum(**k), scan_samples(), ("int64", "int32", "bool"),
        grad=False),
    red("cumsum_dtype", lambda T, x, **k: T.cumsum(x, dtype=T.float64, **k), scan_samples(),
        ("float32", "int64")),
    red("cumprod", lambda T, x, **k: T.cumprod(x, **k), scan_samples(0.5, 1.5), FLOATS + COMPLEX),
    red("cumprod_signed", lambda T, x, **k: x.cumprod(**k), scan_samples(), F64),
    red("cumprod_zeros", lambda T, x, **k: T.cumprod(x.round() * x, **k),
        scan_samples(-1.4, 1.4), F64, gradcheck=False),
    red("cumprod_int", lambda T, x, **k: T.cumprod(x, **k), scan_samples(), ("int64", "int32"),
        grad=False),
    red("cummax", lambda T, x, **k: T.cummax(x, **k), scan_samples(), FLOATS + ("int64",)),
    red("cummin", lambda T, x, **k: x.cummin(**k), scan_samples(), FLOATS + ("int64",)),
    red("cummax_ties", lambda T, x, **k: T.cummax(x.round(), **k), scan_samples(), F64,
        grad=False),
    red("cummin_ties", lambda T, x, **k: T.cummin(x.round(), **k), scan_samples(), F64,
        grad=False),
    red("logcumsumexp", lambda T, x, **k: T.logcumsumexp(x, **k), scan_samples(-5, 5), FLOATS),
    red("logcumsumexp_wide", lambda T, x, **k: x.logcumsumexp(**k),
        scan_samples(-800, 800, [((6,), 0), ((3, 5), 1)]), F64, gradcheck=False),
)


def diff_samples(rng, dtype):
    for shape, kw in [((5,), {}), ((3, 4), {"dim": 0}), ((3, 4), {"n": 2}), ((3, 4), {"n": 5}),
                      ((2, 3, 4), {"dim": 1, "n": 2}), ((4, 6), {"dim": -1})]:
        yield [np.asarray(arr(rng, shape, dtype))], kw


def diff_pend_samples(rng, dtype):
    yield ([np.asarray(arr(rng, s, dtype)) for s in [(3, 4), (3, 1), (3, 2)]], {})
    yield ([np.asarray(arr(rng, s, dtype)) for s in [(5,), (2,), (1,)]], {"n": 2})


register(
    red("diff", lambda T, x, **k: T.diff(x, **k), diff_samples, FLOATS + ("int64", "bool")),
    OpInfo("diff_prepend_append", lambda T, x, p, a, **k: T.diff(x, prepend=p, append=a, **k),
           diff_pend_samples, dtypes=F64 + ("int64",)),
    OpInfo("diff_method_prepend", lambda T, x, p, a, **k: x.diff(dim=-1, prepend=p, **k),
           diff_pend_samples, dtypes=F64),
)


# --- statistics ---------------------------------------------------------------------------------
def mats(shapes):
    def samples(rng, dtype):
        for s in shapes:
            yield [np.asarray(arr(rng, s, dtype))], {}

    return samples


def cov_samples(rng, dtype):
    for s in [(3, 5), (5,), (1, 4), (2, 6)]:
        yield [np.asarray(arr(rng, s, dtype))], {}
        yield [np.asarray(arr(rng, s, dtype))], {"correction": 0}
    x = np.asarray(arr(rng, (3, 5), dtype))
    yield [x], {"fweights": "f"}
    yield [x], {"aweights": "a"}
    yield [x], {"fweights": "f", "aweights": "a", "correction": 2}


def cov_fn(T, x, fweights=None, aweights=None, **k):
    n = x.shape[-1]
    f = T.tensor([1, 2, 1, 3, 1][:n]) if fweights else None
    real = T.float64 if x.is_complex() else x.dtype
    a = T.tensor([0.5, 1.0, 2.0, 1.5, 0.25][:n], dtype=real) if aweights else None
    return T.cov(x, fweights=f, aweights=a, **k)


def cdist_samples(rng, dtype):
    for s1, s2 in [((3, 4), (5, 4)), ((2, 3, 4), (2, 5, 4)), ((2, 3, 4), (1, 5, 4)),
                   ((30, 3), (4, 3)), ((0, 3), (2, 3))]:
        for p in (2.0, 1.0, 3.0, float("inf"), 0.0, 0.5):
            if p == 0.5 and s1 == (30, 3):
                continue
            yield [np.asarray(arr(rng, s1, dtype)), np.asarray(arr(rng, s2, dtype))], {"p": p}


register(
    red("trace", lambda T, x: T.trace(x), mats([(3, 3), (2, 4), (4, 2), (4, 6)]),
        FLOATS + COMPLEX),
    red("trace_int", lambda T, x: x.trace(), mats([(3, 3), (2, 4)]), ("int64", "int32"),
        grad=False),
    red("histc", lambda T, x: T.histc(x, bins=7), mats([(20,), (4, 6), (1,), (0,)]),
        FLOATS, grad=False),
    red("histc_range", lambda T, x: x.histc(5, -1, 1.5), mats([(30,), (3, 4)]), F64, grad=False),
    OpInfo("bincount", lambda T, x: T.bincount(x.abs()), mats([(10,), (0,), (1,)]),
           dtypes=("int64", "uint8"), grad=False),
    OpInfo("bincount_weights", lambda T, x: T.bincount(x.abs(), x.float() * 0.5, minlength=7),
           mats([(10,), (0,)]), dtypes=("int64",), grad=False),
    OpInfo("bincount_weights_f64", lambda T, x: x.abs().bincount(x.double()),
           mats([(10,)]), dtypes=("int64",), grad=False),
    OpInfo("cov", cov_fn, cov_samples, dtypes=F64 + COMPLEX),
    OpInfo("cov_int", lambda T, x: T.cov(x), mats([(3, 5), (5,)]), dtypes=("int64",),
           rtol=1e-6, atol=1e-6),
    OpInfo("corrcoef", lambda T, x: T.corrcoef(x), mats([(3, 5), (2, 6), (1, 4)]),
           dtypes=F64),
    OpInfo("cdist", lambda T, a, b, **k: T.cdist(a, b, **k), cdist_samples, dtypes=F64,
           grad_rtol=1e-4, grad_atol=1e-5),
    OpInfo("cdist_mm", lambda T, a, b: T.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
           lambda rng, dt: [([np.asarray(arr(rng, (6, 3), dt)),
                              np.asarray(arr(rng, (4, 3), dt))], {})], dtypes=F64,
           rtol=1e-5, atol=1e-6),
)

# --- added for tests/test_op_coverage.py: torch.min, the in-place scans
register(
    red("min", lambda T, x, **k: T.min(x, **k), no_ties, FLOATS + ("int64", "bool")),
    red("min_binary", lambda T, x, **_: T.min(x, x.flip(-1) if x.ndim else -x),
        scan_samples(shapes=[((), 0), ((5,), 0), ((3, 4), 0)]), F64),
    red("cumsum_", lambda T, x, **k: (x * 1).cumsum_(**k), scan_samples(), F64),
    red("cumprod_", lambda T, x, **k: (x * 1).cumprod_(**k), scan_samples(0.5, 1.5), F64),
)
