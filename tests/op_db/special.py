"""Op-table entries for torch.special's own primitives and their top-level names (i0, igamma,
igammac, mvlgamma). Edge values, every function and second derivatives: tests/test_special.py."""

import numpy as np

from op_db import BROADCAST_PAIRS, SHAPES_UNARY, OpInfo, arr, register

F2 = ("float32", "float64")
INPLACE_PAIRS = [((), ()), ((5,), ()), ((3, 4), (4,)), ((3, 4), (3, 1))]  # first: the result's
HALF = ("float16", "bfloat16")


def unary(low, high):
    def samples(rng, dtype):
        for s in SHAPES_UNARY:
            yield [np.asarray(arr(rng, s, dtype, low, high))], {}

    return samples


def binary(low, high, low2, high2, pairs=BROADCAST_PAIRS):
    def samples(rng, dtype):
        for sa, sb in pairs:
            yield [np.asarray(arr(rng, sa, dtype, low, high)),
                   np.asarray(arr(rng, sb, dtype, low2, high2))], {}

    return samples


def _sp(name):
    return lambda T, x: getattr(T.special, name)(x)


def _inplace(name, *args):
    def fn(T, x):
        y = x.clone()
        getattr(y, name)(*args)
        return y

    return fn


register(
    OpInfo("i0", lambda T, x: T.i0(x), unary(-3, 3), dtypes=F2 + HALF),
    OpInfo("i0_method", lambda T, x: x.i0(), unary(-3, 3), dtypes=F2, tags=("Tensor.i0",)),
    OpInfo("i0_", _inplace("i0_"), unary(-3, 3), dtypes=F2),
    OpInfo("special.i0e", _sp("i0e"), unary(-10, 10), dtypes=F2 + HALF),
    OpInfo("special.i1", _sp("i1"), unary(-10, 10), dtypes=F2 + HALF),
    OpInfo("special.i1e", _sp("i1e"), unary(-10, 10), dtypes=F2 + HALF),
    OpInfo("special.ndtri", _sp("ndtri"), unary(0.05, 0.95), dtypes=F2),
    OpInfo("special.log_ndtr", _sp("log_ndtr"), unary(-5, 3), dtypes=F2),
    OpInfo("special.erfcx", _sp("erfcx"), unary(-3, 8), dtypes=F2),
    OpInfo("special.entr", _sp("entr"), unary(0.1, 3), dtypes=F2 + HALF),
    OpInfo("special.ndtr", _sp("ndtr"), unary(-3, 3), dtypes=F2 + HALF),
    OpInfo("special.bessel_j0", _sp("bessel_j0"), unary(-10, 10), dtypes=F2, grad=False),
    OpInfo("special.chebyshev_polynomial_t",
           lambda T, x, n: T.special.chebyshev_polynomial_t(x, n), binary(-1.5, 1.5, 0, 9),
           dtypes=F2, grad=False),
    OpInfo("special.xlog1py", lambda T, x, y: T.special.xlog1py(x, y), binary(-2, 2, -0.5, 3),
           dtypes=F2 + HALF),
    # torch differentiates zeta in q and the incomplete gammas in x only: gradcheck would perturb
    # the detached argument too (test_special checks these by finite differences)
    OpInfo("special.zeta", lambda T, s, q: T.special.zeta(s.detach(), q), binary(1.5, 4, 0.5, 3),
           dtypes=F2, gradcheck=False),
    OpInfo("igamma", lambda T, a, x: T.igamma(a.detach(), x), binary(0.5, 4, 0.1, 5),
           dtypes=F2 + HALF, gradcheck=False),
    OpInfo("igammac", lambda T, a, x: T.igammac(a.detach(), x), binary(0.5, 4, 0.1, 5),
           dtypes=F2 + HALF, gradcheck=False),
    OpInfo("igamma_", lambda T, a, x: _inplace("igamma_", x)(T, a.detach()),
           binary(0.5, 4, 0.1, 5, INPLACE_PAIRS), dtypes=F2, gradcheck=False,
           tags=("igammac_",)),
    OpInfo("mvlgamma", lambda T, x: T.mvlgamma(x, 3), unary(1.5, 4), dtypes=F2 + HALF),
    OpInfo("mvlgamma_", _inplace("mvlgamma_", 2), unary(1.5, 4), dtypes=F2),
)
