"""Op-table entries for the breadth names: number theory and float formats, combinatorics,
integration, histograms, windows, stft, view copies and scatters, predicates, top-level aliases
of nn.functional."""

import numpy as np

from op_db import OpInfo, arr, binary_samples, register, unary_samples

F = ("float32", "float64")
C = ("complex64", "complex128")
INTS = ("int64", "int32", "uint8")


def cases(*specs, low=-2.0, high=2.0):
    """Samples from (shapes, kwargs) pairs; a scalar in shapes is passed through as is, a
    (shape, dtype) pair is an array of that dtype whatever the entry's dtype."""
    def samples(rng, dtype):
        for shapes, kw in specs:
            ins = []
            for s in shapes:
                if isinstance(s, tuple) and len(s) == 2 and isinstance(s[1], str):
                    ins.append(np.asarray(arr(rng, s[0], s[1], low, high)))
                elif isinstance(s, tuple):
                    ins.append(np.asarray(arr(rng, s, dtype, low, high)))
                else:
                    ins.append(s)
            yield ins, kw

    return samples


def fixed(*specs):
    """Samples of given arrays (lists become arrays of the entry's dtype; arrays stay)."""
    def samples(rng, dtype):
        for ins, kw in specs:
            yield [np.asarray(x, dtype) if isinstance(x, list) else x for x in ins], kw

    return samples


def no_inputs(*kwargs):
    def samples(rng, dtype):
        for kw in kwargs:
            yield [], kw

    return samples


# --- number theory and floating-point formats ----------------------------------------------
EDGES = [0.0, -0.0, 1.5, -3.0, 1e-30, 7.25, -1e3, 0.1]
register(
    OpInfo("gcd", lambda T, a, b: T.gcd(a, b), binary_samples(-30, 30), dtypes=INTS, grad=False),
    OpInfo("lcm", lambda T, a, b: T.lcm(a, b), binary_samples(-30, 30), dtypes=INTS, grad=False),
    OpInfo("gcd_mixed", lambda T, a, b: (T.gcd(a, b), a.lcm(b), (a * 1).gcd_(b), (a * 1).lcm_(b)),
           cases(([((3, 4), "int64"), ((4,), "int32")], {}), ([((4,), "int16"), ((4,), "uint8")],
                                                            {}), low=-20, high=20),
           dtypes=("int64",), grad=False, tags=("gcd_", "lcm_")),
    OpInfo("frexp", lambda T, x: tuple(T.frexp(x)),
           fixed(([EDGES], {}), ([[[2.0, 0.5], [3, 4]]], {})),
           dtypes=F + ("float16", "bfloat16"), gradcheck=False),  # jumps at powers of two
    OpInfo("frexp_method", lambda T, x: x.frexp().mantissa * 2, unary_samples(-5, 5)),
    OpInfo("ldexp", lambda T, a, b: T.ldexp(a, b), binary_samples(-3, 3), dtypes=F),
    OpInfo("ldexp_complex", lambda T, a, b: T.ldexp(a, b), cases(([(3, 4), ((4,), "float32")], {})),
           dtypes=C, grad=False, rtol=1e-6, atol=1e-6),  # 2**other: float32's last bit
    # (torch's backward raises here: a real gradient for other)
    OpInfo("ldexp_int", lambda T, a, b: (T.ldexp(a, b), a.ldexp(b.double())),
           cases(([((3, 4), "float32"), ((4,), "int64")], {}),
                 ([((4,), "int64"), ((4,), "int64")], {}), ([((4,), "float16"), ((4,), "int32")],
                                                            {}), low=-5, high=5),
           dtypes=("float32",), grad_rtol=1e-4, tags=("ldexp_",)),
    OpInfo("ldexp_", lambda T, a, b: (a * 1).ldexp_(b),
           binary_samples(-3, 3, [((5,), ()), ((3, 4), (4,))])),
    OpInfo("nextafter", lambda T, a, b: T.nextafter(a, b),
           fixed(([[1.0, 2.0, -3.0, 0.0, 0.0, 5.0], [2.0, 1.0, 1.0, -1.0, 1.0, 5.0]], {})),
           dtypes=F + ("float16", "bfloat16"), gradcheck=False),
    OpInfo("nextafter_", lambda T, a, b: (a * 1).nextafter_(b) * 1,
           fixed(([[1.0, 2.0, -3.0, 0.0], [2.0, 1.0, 1.0, 0.0]], {})), gradcheck=False),
    OpInfo("signbit", lambda T, x: (T.signbit(x), x.signbit()), fixed(([EDGES], {})),
           dtypes=F + ("float16", "bfloat16"), grad=False),
    OpInfo("signbit_int", lambda T, x: T.signbit(x), unary_samples(-5, 5, [(5,), (2, 3)]),
           dtypes=INTS + ("bool",),
           grad=False),
    OpInfo("angle", lambda T, x: (T.angle(x), x.angle()),
           unary_samples(shapes=[(5,), (3, 4)]), dtypes=F + C + ("int64", "bool", "float16")),
)


# --- combinatorics and structured matrices ---------------------------------------------------
def _dt(T, kw):
    """kwargs with a dtype named by a string as ``T``'s dtype."""
    return {**kw, "dtype": getattr(T, kw["dtype"])} if isinstance(kw.get("dtype"), str) else kw


def _idx(*arrays):
    return [np.asarray(a, np.int64) for a in arrays]


register(
    OpInfo("cartesian_prod", lambda T, *xs: T.cartesian_prod(*xs),
           cases(([(3,), (2,)], {}), ([(3,), (2,), (2,)], {}), ([(4,)], {}), ([(0,), (2,)], {})),
           dtypes=F + C + ("int64",)),
    OpInfo("combinations", lambda T, x, **k: T.combinations(x, **k),
           cases(([(4,)], {}), ([(4,)], {"r": 3}), ([(3,)], {"r": 2, "with_replacement": True}),
                 ([(3,)], {"r": 4}), ([(3,)], {"r": 0}), ([(3,)], {"r": 1})),
           dtypes=F + ("int64", "bool")),
    OpInfo("tril_indices",
           lambda T, **k: (T.tril_indices(**_dt(T, k)), T.triu_indices(**_dt(T, k))),
           no_inputs({"row": 3, "col": 3}, {"row": 3, "col": 5, "offset": 1},
                     {"row": 4, "col": 2, "offset": -1, "dtype": "int32"}, {"row": 0, "col": 3},
                     {"row": 3, "col": 3, "offset": 7}, {"row": 3, "col": 3, "offset": -9}),
           dtypes=("int64",), grad=False, tags=("triu_indices",)),
    OpInfo("unravel_index", lambda T, i, shape: T.unravel_index(i, shape),
           fixed((_idx([4, 1, 5, 0]) + [(2, 3)], {}), (_idx(4) + [(2, 3)], {}),
                 (_idx([[1, 5], [2, 3]]) + [(2, 3)], {}), (_idx([7, -1]) + [(2, 3)], {}),
                 (_idx([3]) + [5], {}), (_idx([1]) + [()], {}),
                 ([np.asarray([1, 30], np.int32), (2, 3, 5)], {})),
           dtypes=("int64",), grad=False),
    OpInfo("block_diag", lambda T, *xs: T.block_diag(*xs),
           cases(([(2, 3), (3,), ()], {}), ([(2, 2)], {}), ([(0, 3), (2, 0), (1, 1)], {}),
                 ([(2, 2), ((3,), "int64")], {}), ([(2, 3), ((), "float64")], {})),
           dtypes=F + C + ("int64",)),
    OpInfo("vander", lambda T, x, **k: T.vander(x, **k),
           cases(([(4,)], {}), ([(3,)], {"N": 5}), ([(3,)], {"N": 2, "increasing": True}),
                 ([(3,)], {"N": 0}), ([(3,)], {"N": 1}), ([(0,)], {})),
           dtypes=F + C + ("int64", "int8", "bool"), grad=False),  # torch's backward raises
    # ndgrad's vander is differentiable (torch's backward trips over its own in-place cumprod):
    # its gradients against torch's linalg.vander, the same matrix with columns reversed
    OpInfo("vander_grad", lambda T, x, **k: T.linalg.vander(x, **k).flip(-1) if T.__name__ ==
           "torch" else T.vander(x, **k), cases(([(4,)], {}), ([(3,)], {"N": 5})), dtypes=F + C),
    OpInfo("vander_zero", lambda T, x: T.linalg.vander(x, N=4).flip(-1) if T.__name__ == "torch"
           else T.vander(x, 4), fixed(([[0.0, 2.0, -1.0]], {}))),
    OpInfo("linalg.vander", lambda T, x, **k: T.linalg.vander(x, **k),
           cases(([(4,)], {}), ([(2, 3)], {"N": 5}), ([()], {"N": 3}), ([(3,)], {"N": 2})),
           dtypes=F + C + ("int64", "int32")),
    OpInfo("diagflat", lambda T, x, **k: (T.diagflat(x, **k), x.diagflat(**k)),
           cases(([(3,)], {}), ([(2, 2)], {"offset": 1}), ([(2,)], {"offset": -2}), ([()], {}),
                 ([(0,)], {})), dtypes=F + C + ("int64",)),
)


# --- histograms, integration and differences ------------------------------------------------
HIST_X = [1.0, 2.0, 1.0, 2.5, 4.0, 0.0, 3.999, 2.0000001, -1.0, 7.0]
register(
    OpInfo("histogram", lambda T, x, *w, **k: tuple(T.histogram(x, weight=w[0] if w else None,
                                                                  **k)),
           cases(([(20,)], {"bins": 4}), ([(3, 5)], {"bins": 3, "range": (-1.0, 1.0)}),
                 ([(20,)], {"bins": 5, "density": True}), ([(0,)], {"bins": 2}),
                 ([(6,), (6,)], {"bins": 3}), ([(6,), (6,)], {"bins": 2, "density": True})),
           dtypes=F, grad=False),
    OpInfo("histogram_edges", lambda T, x, e, **k: tuple(x.histogram(e, **k)),
           fixed(([HIST_X, [0.0, 1.0, 3.0, 4.0]], {}), ([HIST_X, [0.0, 1.0, 3.0, 4.0]],
                                                       {"density": True}),
                 ([[3.0, 3.0], [1.0, 0.0]], {})), dtypes=F, grad=False),
    OpInfo("histogram_const", lambda T, x: tuple(T.histogram(x, 2)), fixed(([[3.0, 3.0]], {})),
           dtypes=F, grad=False),
    OpInfo("histogramdd", lambda T, x, **k: tuple(T.histogramdd(x, **k)),
           cases(([(10, 2)], {"bins": [3, 4]}), ([(2, 5, 3)], {"bins": 2}),
                 ([(8, 2)], {"bins": 2, "range": [-1.0, 1.0, 0.0, 2.0], "density": True}),
                 ([(0, 2)], {"bins": [2, 2]})), dtypes=F, grad=False),
    OpInfo("histogramdd_weight_edges",
           lambda T, x, w, e0, e1: tuple(T.histogramdd(x, [e0, e1], weight=w)),
           fixed(([[[0.0, 1], [1, 0], [2, 0], [2, 2]], [1.0, 2, 4, 8], [0.0, 1, 2],
                   [0.0, 2]], {})), dtypes=F, grad=False),
    OpInfo("trapz", lambda T, y, *x, **k: T.trapz(y, *x, **k),
           cases(([(5,)], {}), ([(3, 4)], {"dx": 0.5}), ([(3, 4), (4,)], {}),
                 ([(3, 4), (3, 4)], {"dim": 0}))),
    OpInfo("cumulative_trapezoid", lambda T, y, *x, **k: T.cumulative_trapezoid(y, *x, **k),
           cases(([(5,)], {}), ([(3, 4)], {"dx": 0.5}), ([(3, 4), (4,)], {}),
                 ([(3, 4), (3, 4)], {"dim": 0}), ([(2, 3, 4), (3, 1)], {"dim": 1}), ([(0,)], {}),
                 ([(1,)], {}))),
    OpInfo("cumulative_trapezoid_int", lambda T, y, *x, **k: T.cumulative_trapezoid(y, *x, **k),
           cases(([(5,)], {}), ([(5,), (5,)], {}), ([(5,)], {"dx": 3})), dtypes=("int64",),
           grad=False),
    OpInfo("gradient", lambda T, f, *xs, **k: T.gradient(f, **_spacing(xs, k)),
           cases(([(5,)], {}), ([(3, 4)], {"spacing": 2.0}),
                 ([(3, 4)], {"dim": 1, "edge_order": 2}),
                 ([(3, 4)], {"spacing": [0.5, 3], "edge_order": 2}),
                 ([(3, 4), (3,), (4,)], {}), ([(3, 4), (4,)], {"dim": -1, "edge_order": 2}),
                 ([(2, 3, 4)], {"dim": [0, 2]}), ([()], {}))),
    OpInfo("gradient_int", lambda T, f, **k: T.gradient(f, **k),
           cases(([(5,)], {}), ([(3, 4)], {"spacing": 2})), dtypes=("int64",), grad=False),
)


def _spacing(xs, kw):
    """Coordinate tensors (positional samples) as gradient's spacing list, kept increasing."""
    if not xs:
        return kw
    return {**kw, "spacing": [(x.abs() + 0.5).cumsum(0) for x in xs]}
