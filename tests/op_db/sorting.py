"""Op-table entries for sorting and order statistics: sort, argsort, msort, topk, kthvalue,
median/nanmedian, mode, quantile/nanquantile, unique/unique_consecutive, isin."""

import numpy as np

from op_db import OpInfo, arr, register

FLOATS = ("float32", "float64", "float16", "bfloat16")
F64 = ("float32", "float64")
INTS = ("int64", "int32", "uint8")

# distinct values (ties order indices differently across sort algorithms)
SHAPES = [((), 0), ((5,), 0), ((5,), -1), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), 1), ((0, 3), 1),
          ((3, 0), 1), ((4, 6), 1)]


def distinct(rng, shape, dtype, low=-50, high=50):
    """Values without ties, in the dtype (random permutations of a spaced range)."""
    n = int(np.prod(shape))
    vals = rng.permutation(n) + (0 if dtype in INTS + ("bool",) else 0.25)
    if dtype in ("float16", "bfloat16"):
        vals = vals / 2
    elif dtype not in INTS:
        vals = vals * 0.5 - n / 4
    return np.asarray(vals.reshape(shape)).astype(arr(rng, (1,), dtype).dtype)


def strided(x):
    return x[:, ::2] if x.ndim == 2 and x.shape == (4, 6) else x


def dim_samples(shapes=SHAPES, extra=({},), ties=False):
    def samples(rng, dtype):
        for shape, d in shapes:
            for e in extra:
                x = np.asarray(arr(rng, shape, dtype, -3, 3)) if ties else distinct(
                    rng, shape, dtype)
                yield [x], {"dim": d, **e}

    return samples


def op(name, fn, samples, dtypes=F64, **kw):
    return OpInfo(name, lambda T, x, **k: fn(T, strided(x), **k), samples, dtypes=dtypes, **kw)


NONEMPTY = [(s, d) for s, d in SHAPES if 0 not in s]
register(
    op("sort", lambda T, x, **k: T.sort(x, **k), dim_samples(extra=({}, {"descending": True})),
       FLOATS + INTS),
    op("sort_stable_ties", lambda T, x, **k: T.sort(x, stable=True, **k),
       dim_samples(extra=({}, {"descending": True}), ties=True), F64 + ("int64", "bool"),
       gradcheck=False),
    op("sort_method_nan", lambda T, x, **k: (x.log()).sort(**k),
       dim_samples(extra=({}, {"descending": True}), ties=True), F64, gradcheck=False),
    op("argsort", lambda T, x, **k: T.argsort(x, **k),
       dim_samples(extra=({}, {"descending": True})), FLOATS + INTS, grad=False),
    op("argsort_stable", lambda T, x, **k: x.argsort(stable=True, **k),
       dim_samples(extra=({}, {"descending": True}), ties=True), ("float64", "int64", "bool"),
       grad=False),
    op("msort", lambda T, x, dim: T.msort(x), dim_samples([((5,), 0), ((3, 4), 0)]),
       FLOATS + ("int64",)),
    op("topk", lambda T, x, **k: T.topk(x, 2, **k), dim_samples(NONEMPTY[1:]), FLOATS + INTS),
    op("topk_smallest", lambda T, x, **k: x.topk(1, largest=False, **k), dim_samples(NONEMPTY),
       F64 + ("int64",)),
    op("topk_zero", lambda T, x, **k: T.topk(x, 0, **k), dim_samples(SHAPES[1:4]), F64),
    op("kthvalue", lambda T, x, **k: T.kthvalue(x, 1, **k),
       dim_samples(NONEMPTY, extra=({}, {"keepdim": True})), FLOATS + INTS),
    op("kthvalue_2", lambda T, x, **k: x.kthvalue(2, **k),
       dim_samples(NONEMPTY[1:], extra=({}, {"keepdim": True})), F64),
    op("median_dim", lambda T, x, **k: T.median(x, **k),
       dim_samples(NONEMPTY, extra=({}, {"keepdim": True})), FLOATS + INTS),
    op("median_dim_nan", lambda T, x, **k: x.log().median(**k),
       dim_samples(NONEMPTY, extra=({}, {"keepdim": True}), ties=True), F64, gradcheck=False),
    op("median_all", lambda T, x, dim: T.median(x), dim_samples(NONEMPTY), FLOATS + INTS),
    # an empty input's median is nan, cast to an integer dtype as torch does
    op("median_all_empty", lambda T, x, dim: (T.median(x), T.nanmedian(x)),
       dim_samples([((0,), 0), ((0, 3), 0)]), FLOATS + INTS),
    op("median_all_ties", lambda T, x, dim: x.median(), dim_samples(NONEMPTY, ties=True),
       F64 + ("int64",), gradcheck=False),
    op("median_all_nan", lambda T, x, dim: T.median(x.log()), dim_samples(NONEMPTY, ties=True),
       F64, gradcheck=False),
    # (an all-nan slice's index is whatever torch's nth_element leaves first: not compared)
    op("nanmedian_dim", lambda T, x, **k: T.nanmedian((x + 2).log(), **k),
       dim_samples(NONEMPTY, extra=({}, {"keepdim": True}), ties=True), F64, gradcheck=False),
    op("nanmedian_all", lambda T, x, dim: x.log().nanmedian(), dim_samples(NONEMPTY, ties=True),
       F64, gradcheck=False),
    op("nanmedian_plain", lambda T, x, **k: T.nanmedian(x, **k), dim_samples(NONEMPTY),
       FLOATS + ("int64",)),
    op("mode", lambda T, x, **k: T.mode(x, **k),
       dim_samples(NONEMPTY, extra=({}, {"keepdim": True}), ties=True),
       F64 + ("int64", "bool"), gradcheck=False),
    op("mode_method", lambda T, x, **k: x.mode(**k), dim_samples(NONEMPTY), FLOATS + INTS),
)


def round_ties(T, x):
    return (x * 2).round() / 2  # many equal values


def quantile_samples(rng, dtype):
    for shape in [(7,), (3, 5), (2, 3, 4), (4, 6), ()]:
        x = distinct(rng, shape, dtype)
        for q in (0.3, 0.0, 1.0, "t"):
            for d in (None, 0, -1):
                for k in (False, True):
                    if shape == () and d == -1:
                        continue
                    yield [x], {"q": q, "dim": d, "keepdim": k}


def qfn(method):
    def fn(T, x, q, **k):
        if q == "t":
            q = T.tensor([0.1, 0.5, 0.75], dtype=x.dtype)
        return getattr(T, method)(x, q, **k)

    return fn


INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def interp_samples(rng, dtype):
    for shape in [(6,), (3, 5), (4, 4)]:
        x = distinct(rng, shape, dtype)
        for i in INTERP:
            yield [x], {"q": "t", "dim": -1, "interpolation": i}
            yield [x], {"q": 0.4, "dim": None, "interpolation": i}


def nan_samples(rng, dtype):
    x = np.asarray(arr(rng, (4, 6), dtype, -1, 3))
    yield [x], {"q": 0.5, "dim": 1}
    yield [x], {"q": "t", "dim": 0, "keepdim": True}
    yield [x], {"q": 0.2, "dim": None}


register(
    op("quantile", qfn("quantile"), quantile_samples, F64),
    op("quantile_interp", qfn("quantile"), interp_samples, F64),
    op("nanquantile", qfn("nanquantile"), quantile_samples, F64),
    # the gradient of a nan quantile goes to one of the nans; which one is torch's sort's choice
    OpInfo("quantile_nan", lambda T, x, **k: qfn("quantile")(T, x.log(), **k), nan_samples,
           dtypes=F64, grad=False),
    OpInfo("nanquantile_nan", lambda T, x, **k: qfn("nanquantile")(T, x.log(), **k),
           nan_samples, dtypes=F64, gradcheck=False),
    OpInfo("nanquantile_interp", lambda T, x, **k: qfn("nanquantile")(T, x.log(), **k),
           interp_samples, dtypes=F64, gradcheck=False),
)


def unique_samples(rng, dtype):
    for shape in [(12,), (3, 4), (0,), (), (2, 0)]:
        x = np.asarray(arr(rng, shape, dtype, -3, 3))
        if x.dtype.kind == "f":
            x = np.asarray(np.round(x)).astype(x.dtype)
        for kw in ({}, {"return_inverse": True}, {"return_counts": True},
                   {"return_inverse": True, "return_counts": True}):
            yield [x], kw


def unique_dim_samples(rng, dtype):
    x = np.asarray(arr(rng, (6, 3), dtype, 0, 2))
    x[3] = x[1]
    x[5] = x[1]
    for d in (0, 1, -1):
        yield [x], {"dim": d, "return_inverse": True, "return_counts": True}
    yield [x], {"dim": 0}
    yield [x[:0]], {"dim": 0, "return_inverse": True, "return_counts": True}
    yield [x[:, :0]], {"dim": -1, "return_counts": True}


register(
    OpInfo("unique", lambda T, x, **k: T.unique(x, **k), unique_samples,
           dtypes=("float32", "float64", "int64", "uint8", "bool"), grad=False),
    OpInfo("unique_method_sorted", lambda T, x, **k: x.unique(sorted=True, **k), unique_samples,
           dtypes=("float32", "int64"), grad=False),
    OpInfo("unique_dim", lambda T, x, **k: T.unique(x, **k), unique_dim_samples,
           dtypes=("float32", "int64"), grad=False),
    OpInfo("unique_nan", lambda T, x: T.unique(T.cat([x, x]).log()), lambda rng, dt: [
        ([np.asarray(arr(rng, (6,), dt))], {})], dtypes=F64, grad=False),
    OpInfo("unique_consecutive", lambda T, x, **k: T.unique_consecutive(x, **k), unique_samples,
           dtypes=("float32", "int64", "bool"), grad=False),
    OpInfo("unique_consecutive_dim", lambda T, x, **k: x.unique_consecutive(**k),
           unique_dim_samples, dtypes=("float32", "int64"), grad=False),
)


def isin_samples(rng, dtype):
    for s1, s2 in [((10,), (4,)), ((3, 4), (2, 3)), ((), (5,)), ((5,), ()), ((0,), (3,))]:
        yield [np.asarray(arr(rng, s1, dtype, -4, 4)), np.asarray(arr(rng, s2, dtype, -4, 4))], {}


register(
    OpInfo("isin", lambda T, x, y: T.isin(x.round() if x.is_floating_point() else x,
                                          y.round() if y.is_floating_point() else y),
           isin_samples, dtypes=("float32", "float64", "int64", "uint8"), grad=False),
    OpInfo("isin_invert", lambda T, x, y: T.isin(x, y, invert=True), isin_samples,
           dtypes=("int64",), grad=False),
    OpInfo("isin_scalar", lambda T, x, y: (T.isin(x, 2), T.isin(1, x)), isin_samples,
           dtypes=("int64",), grad=False),
    # a Python scalar takes the tensor's dtype (an int wraps into uint8), as in torch
    OpInfo("isin_scalar_result_type", lambda T, x, y: (
        T.isin(x, 257), T.isin(x, 2**40 + 1), T.isin(x, 1.5), T.isin(258, x),
        T.isin(x, y.amax() if y.numel() else y)),
        isin_samples, dtypes=("uint8", "int64", "float32"), grad=False),
)
