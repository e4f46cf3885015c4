"""Op-table entries for pointwise ops: unary math, binary arithmetic, clamp/lerp/addcmul,
predicates."""

import numpy as np

from op_db import BROADCAST_PAIRS, SHAPES_UNARY, OpInfo, arr, binary_samples, register

FLOATS = ("float32", "float64", "float16", "bfloat16")
COMPLEX = ("complex64", "complex128")
INTS = ("int64", "int32", "uint8", "bool")


def unary(low=-2.0, high=2.0, *, avoid_zero=False, kwargs=None):
    """0-d, empty, vector, matrix, 3-d, plus a non-contiguous slice (a fn applies it)."""

    def samples(rng, dtype):
        for s in SHAPES_UNARY + [(4, 6)]:
            x = np.asarray(arr(rng, s, dtype, low, high))
            if avoid_zero and dtype not in ("bool",) and x.dtype.kind in "fc":
                x = np.where(np.abs(x) < 0.2, x + np.asarray(0.5, x.dtype), x).astype(x.dtype)
            yield [x], dict(kwargs or {})

    return samples


def _strided(x):
    return x[:, ::2] if x.ndim == 2 and x.shape[1] == 6 else x


def u(name, low=-2.0, high=2.0, dtypes=FLOATS, *, grad=True, avoid_zero=False, method=True,
      **kw):
    """A unary entry for torch.<name>(x) (and x.<name>() on non-contiguous inputs)."""
    if method:
        fn = lambda T, x: getattr(_strided(x), name)()  # noqa: E731
    else:
        fn = lambda T, x: getattr(T, name)(_strided(x))  # noqa: E731
    samples = unary(low, high, avoid_zero=avoid_zero)
    floats = tuple(d for d in dtypes if d not in INTS + ("int32",))
    ints = tuple(d for d in dtypes if d in INTS + ("int32",))
    # integer inputs give float32 results that may differ from torch's kernels in the last bit
    out = [OpInfo(name, fn, samples, dtypes=floats, grad=grad, **kw)] if floats else []
    if ints:
        out.append(OpInfo(name + "_int", fn, samples, dtypes=ints, grad=False, rtol=1e-6,
                          atol=1e-6))
    return out


ALL_UNARY_DT = FLOATS + COMPLEX + INTS
NOBOOL = FLOATS + COMPLEX + ("int64", "int32", "uint8")
UNARY = [*(e for group in [
    u("neg", dtypes=NOBOOL),
    u("abs", dtypes=NOBOOL, avoid_zero=True),
    u("sign", dtypes=FLOATS + INTS, avoid_zero=True),
    u("sgn", dtypes=ALL_UNARY_DT, avoid_zero=True),
    u("reciprocal", dtypes=FLOATS + COMPLEX + ("int64",), avoid_zero=True),
    u("square", dtypes=ALL_UNARY_DT, method=False),
    u("sqrt", 0.1, 3.0, dtypes=ALL_UNARY_DT),
    u("rsqrt", 0.1, 3.0, dtypes=ALL_UNARY_DT),
    u("exp", dtypes=ALL_UNARY_DT),
    u("exp2", dtypes=ALL_UNARY_DT),
    u("expm1", dtypes=ALL_UNARY_DT),
    u("log", 0.1, 3.0, dtypes=ALL_UNARY_DT),
    u("log2", 0.1, 3.0, dtypes=ALL_UNARY_DT),
    u("log10", 0.1, 3.0, dtypes=ALL_UNARY_DT),
    u("log1p", -0.5, 3.0, dtypes=ALL_UNARY_DT),
    u("sin", dtypes=ALL_UNARY_DT),
    u("cos", dtypes=ALL_UNARY_DT),
    u("tan", -1.2, 1.2, dtypes=ALL_UNARY_DT),
    u("asin", -0.9, 0.9, dtypes=ALL_UNARY_DT),
    u("acos", -0.9, 0.9, dtypes=ALL_UNARY_DT),
    u("atan", dtypes=ALL_UNARY_DT),
    u("sinh", dtypes=ALL_UNARY_DT),
    u("cosh", dtypes=ALL_UNARY_DT),
    u("tanh", dtypes=ALL_UNARY_DT),
    u("asinh", dtypes=ALL_UNARY_DT),
    u("acosh", 1.2, 3.0, dtypes=FLOATS + COMPLEX + ("int64",)),
    u("atanh", -0.9, 0.9, dtypes=ALL_UNARY_DT),
    u("sigmoid", -6.0, 6.0, dtypes=ALL_UNARY_DT),
    u("relu", dtypes=FLOATS + ("int64", "uint8")),
    u("erf", dtypes=FLOATS + INTS),
    u("erfc", dtypes=FLOATS + INTS),
    u("erfinv", -0.9, 0.9, dtypes=FLOATS + ("bool",)),
    u("lgamma", 0.2, 4.0, dtypes=FLOATS + ("int64",)),
    u("digamma", 0.2, 4.0, dtypes=FLOATS + ("int64",), grad_rtol=1e-5, grad_atol=1e-8),
    u("floor", dtypes=FLOATS + ("int64", "uint8")),
    u("ceil", dtypes=FLOATS + ("int64", "uint8")),
    u("trunc", dtypes=FLOATS + ("int64", "uint8")),
    u("round", dtypes=FLOATS + ("int64",)),
    u("frac", dtypes=FLOATS),
    u("sinc", dtypes=ALL_UNARY_DT, avoid_zero=True),
    u("deg2rad", dtypes=FLOATS + ("int64", "bool")),
    u("rad2deg", dtypes=FLOATS + ("int64", "bool")),
    u("nan_to_num", dtypes=FLOATS + INTS),
    u("nan_to_num", dtypes=COMPLEX, grad=False),
    u("logit", 0.05, 0.95, dtypes=FLOATS + ("int64",)),
    u("fix", dtypes=FLOATS + ("int64",)),
    u("negative", dtypes=FLOATS),
    u("absolute", dtypes=FLOATS, avoid_zero=True),
    u("arcsin", -0.9, 0.9, dtypes=("float64",)),
    u("arccos", -0.9, 0.9, dtypes=("float64",)),
    u("arctan", dtypes=("float64",)),
    u("arcsinh", dtypes=("float64",)),
    u("arccosh", 1.2, 3.0, dtypes=("float64",)),
    u("arctanh", -0.9, 0.9, dtypes=("float64",)),
] for e in group)]
for _n in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "logical_not", "bitwise_not",
           "isreal"):
    _dts = {"isposinf": FLOATS + INTS, "isneginf": FLOATS + INTS,
            "bitwise_not": ("int64", "int32", "uint8", "bool")}.get(_n, ALL_UNARY_DT)
    UNARY.extend(u(_n, dtypes=_dts, grad=False))


def special_values(rng, dtype):
    """nan, +-inf, zeros and ordinary numbers for the predicates and nan_to_num."""
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.5, 1e30], dtype=np.float64)
    if dtype.startswith("complex"):
        v = v + 1j * v[::-1]
    yield [v.astype(dtype) if dtype != "bfloat16" else arr(rng, (3,), dtype)], {}


register(*UNARY)
for _n in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "nan_to_num", "sign", "sgn",
           "isreal"):
    _cplx = () if _n in ("isposinf", "isneginf", "sign") else COMPLEX
    register(OpInfo(f"{_n}_special", lambda T, x, _n=_n: getattr(T, _n)(x), special_values,
                    dtypes=("float32", "float64", "float16") + _cplx, grad=False))
register(
    OpInfo("nan_to_num_kwargs", lambda T, x: T.nan_to_num(x, nan=1.5, posinf=2.0, neginf=-3.0),
           special_values, dtypes=("float32", "float64", "float16"), grad=False),
    OpInfo("nan_to_num_grad", lambda T, x: T.nan_to_num(x * 1.0),
           unary(), dtypes=("float32", "float64")),
    OpInfo("round_decimals", lambda T, x: T.round(x * 100, decimals=1), unary(),
           dtypes=("float32", "float64"), grad=False),
    OpInfo("logit_eps", lambda T, x: T.logit(x, eps=0.1), unary(-0.2, 1.2),
           dtypes=("float32", "float64")),
    # torch's trigamma is accurate to ~1e-9 only
    OpInfo("polygamma1", lambda T, x: T.polygamma(1, x), unary(0.3, 4.0),
           dtypes=("float32", "float64"), rtol=1e-5, atol=1e-8),
    OpInfo("polygamma2", lambda T, x: x.polygamma(2), unary(0.3, 4.0),
           dtypes=("float32", "float64")),
    OpInfo("polygamma0", lambda T, x: T.polygamma(0, x), unary(0.3, 4.0),
           dtypes=("float32", "float64")),
)

# --- binary ops ---------------------------------------------------------------------------------
PAIRS = BROADCAST_PAIRS + [((4, 6), (3,))]


def binary(low=-2.0, high=2.0, low2=None, high2=None, *, avoid_zero=False, pairs=PAIRS):
    base = binary_samples(low, high, pairs, low2, high2)

    def samples(rng, dtype):
        for (x, y), kw in base(rng, dtype):
            x, y = np.asarray(x), np.asarray(y)
            if avoid_zero and y.dtype.kind in "fc":
                y = np.where(np.abs(y) < 0.3, y + np.asarray(0.7, y.dtype), y).astype(y.dtype)
            elif avoid_zero and y.dtype.kind in "iu":
                y = np.where(y == 0, np.ones((), y.dtype), y).astype(y.dtype)
            yield [x, y], kw

    return samples


def b(name, fn, low=-2.0, high=2.0, low2=None, high2=None, *, dtypes=FLOATS, grad=True,
      avoid_zero=False, **kw):
    samples = binary(low, high, low2, high2, avoid_zero=avoid_zero)
    f = lambda T, x, y: fn(T, _strided(x), y)  # noqa: E731
    floats = tuple(d for d in dtypes if d not in INTS + ("int32",))
    ints = tuple(d for d in dtypes if d in INTS + ("int32",))
    out = [OpInfo(name, f, samples, dtypes=floats, grad=grad, **kw)] if floats else []
    if ints:  # float results of integer inputs may differ from torch's kernels in the last bit
        out.append(OpInfo(name + "_int", f, samples, dtypes=ints, grad=False, rtol=1e-6,
                          atol=1e-6))
    return out


ARITH = FLOATS + COMPLEX + ("int64", "int32", "uint8")
BINARY = [
    b("add", lambda T, x, y: T.add(x, y), dtypes=ARITH + ("bool",)),
    b("add_alpha", lambda T, x, y: T.add(x, y, alpha=2), dtypes=ARITH),
    b("sub", lambda T, x, y: x - y, dtypes=ARITH),
    b("sub_alpha", lambda T, x, y: T.sub(x, y, alpha=-3), dtypes=FLOATS + ("int64",)),
    b("rsub_fn", lambda T, x, y: T.rsub(x, y), dtypes=FLOATS + ("int64",)),
    b("mul", lambda T, x, y: T.mul(x, y), dtypes=ARITH + ("bool",)),
    b("div", lambda T, x, y: x / y, dtypes=ARITH + ("bool",), avoid_zero=True),
    b("div_floor", lambda T, x, y: T.div(x * 3, y, rounding_mode="floor"),
      dtypes=FLOATS + ("int64", "int32"), avoid_zero=True),
    b("div_trunc", lambda T, x, y: T.div(x * 3, y, rounding_mode="trunc"),
      dtypes=FLOATS + ("int64", "int32"), avoid_zero=True),
    b("floor_divide", lambda T, x, y: x * 3 // y, dtypes=FLOATS + ("int64",), avoid_zero=True,
      grad=False),
    b("remainder", lambda T, x, y: T.remainder(x * 3, y), dtypes=FLOATS + ("int64", "int32"),
      avoid_zero=True),
    b("fmod", lambda T, x, y: T.fmod(x * 3, y), dtypes=FLOATS + ("int64", "int32"),
      avoid_zero=True),
    b("pow", lambda T, x, y: x ** y, 0.2, 2.0, -2.0, 2.0, dtypes=FLOATS + COMPLEX),
    b("pow_int", lambda T, x, y: T.pow(x, y), 0.0, 4.0, 0.0, 3.0, dtypes=("int64", "uint8")),
    b("float_power", lambda T, x, y: T.float_power(x, y), 0.2, 2.0, -2.0, 2.0,
      dtypes=("float32", "float64", "int64")),
    b("maximum", lambda T, x, y: T.maximum(x, y), dtypes=FLOATS + ("int64", "bool")),
    b("minimum", lambda T, x, y: T.minimum(x, y), dtypes=FLOATS + ("int64", "bool")),
    b("fmax", lambda T, x, y: T.fmax(x, y), dtypes=FLOATS + ("int64", "bool")),
    b("fmin", lambda T, x, y: T.fmin(x, y), dtypes=FLOATS + ("int64", "bool")),
    b("atan2", lambda T, x, y: T.atan2(x, y), dtypes=FLOATS + ("int64",), avoid_zero=True),
    b("arctan2", lambda T, x, y: T.arctan2(x, y), dtypes=("float64",), avoid_zero=True),
    b("hypot", lambda T, x, y: T.hypot(x, y), dtypes=FLOATS, avoid_zero=True),
    b("xlogy", lambda T, x, y: T.xlogy(x, y), -2.0, 2.0, 0.1, 3.0, dtypes=FLOATS + ("int64",)),
    b("logaddexp", lambda T, x, y: T.logaddexp(x, y), dtypes=FLOATS),
    b("logaddexp2", lambda T, x, y: T.logaddexp2(x, y), dtypes=FLOATS),
    b("copysign", lambda T, x, y: T.copysign(x, y), dtypes=FLOATS + ("int64",), avoid_zero=True),
    b("heaviside", lambda T, x, y: T.heaviside(x.round(), y), dtypes=FLOATS, grad=False),
    b("heaviside_int", lambda T, x, y: T.heaviside(x, y), dtypes=("int64", "bool"), grad=False),
    b("lerp_scalar", lambda T, x, y: T.lerp(x, y, 0.3), dtypes=FLOATS + COMPLEX),
    b("lerp_tensor", lambda T, x, y: T.lerp(x, y, y.sigmoid()), dtypes=FLOATS),
    b("lerp_far", lambda T, x, y: x.lerp(y, 0.8), dtypes=("float32", "float64")),
    b("hypot_method", lambda T, x, y: x.hypot(y), dtypes=("float64",), avoid_zero=True),
    b("eq", lambda T, x, y: x == y, dtypes=ARITH + ("bool",), grad=False),
    b("ne", lambda T, x, y: T.ne(x, y), dtypes=ARITH + ("bool",), grad=False),
    b("eq_self", lambda T, x, y: x.eq(x), dtypes=ARITH + ("bool",), grad=False),
    b("lt", lambda T, x, y: x < y, dtypes=FLOATS + INTS, grad=False),
    b("le", lambda T, x, y: T.le(x, y), dtypes=FLOATS + INTS, grad=False),
    b("gt", lambda T, x, y: x > y, dtypes=FLOATS + INTS, grad=False),
    b("ge", lambda T, x, y: T.greater_equal(x, y), dtypes=FLOATS + INTS, grad=False),
    b("logical_and", lambda T, x, y: T.logical_and(x, y), dtypes=ARITH + ("bool",), grad=False),
    b("logical_or", lambda T, x, y: x.logical_or(y), dtypes=ARITH + ("bool",), grad=False),
    b("logical_xor", lambda T, x, y: T.logical_xor(x, y), dtypes=ARITH + ("bool",), grad=False),
    b("bitwise_and", lambda T, x, y: x & y, dtypes=INTS, grad=False),
    b("bitwise_or", lambda T, x, y: T.bitwise_or(x, y), dtypes=INTS, grad=False),
    b("bitwise_xor", lambda T, x, y: x ^ y, dtypes=INTS, grad=False),
    b("lshift", lambda T, x, y: x << y.abs(), -50, 50, 0, 70, dtypes=("int64", "int32", "uint8"),
      grad=False),
    b("rshift", lambda T, x, y: x >> y.abs(), -50, 50, 0, 70, dtypes=("int64", "int32", "uint8"),
      grad=False),
    b("mod_op", lambda T, x, y: x % y, dtypes=("float32", "float64", "int64"), avoid_zero=True),
    b("rdiv_op", lambda T, x, y: 2 / y, dtypes=("float32", "float64", "int64"), avoid_zero=True),
]
for _e in BINARY:
    register(*_e)


def scalar_samples(consts=(2, -1.5, 0.5, True), low=0.5):
    """A tensor with Python int, float and bool scalars: weak-scalar promotion."""

    def samples(rng, dtype):
        for s in [(), (3,), (2, 3)]:
            for c in consts:
                yield [np.asarray(arr(rng, s, dtype, low, 3.0))], {"c": c}

    return samples


NOBOOLC = (2, -1.5, 0.5)
POSC = (2, 1.5, 0.5)


for _name, _fn, _dts, _samples in [
    ("add_scalar", lambda T, x, c: x + c, ARITH, scalar_samples()),
    ("radd_scalar", lambda T, x, c: c + x, ARITH, scalar_samples()),
    ("sub_scalar", lambda T, x, c: x - c, FLOATS + ("int64", "uint8"), scalar_samples(NOBOOLC)),
    ("rsub_scalar", lambda T, x, c: c - x, FLOATS + ("int64",), scalar_samples(NOBOOLC)),
    ("mul_scalar", lambda T, x, c: x * c, ARITH, scalar_samples()),
    ("div_scalar", lambda T, x, c: x / c, ARITH, scalar_samples()),
    ("rdiv_scalar", lambda T, x, c: c / x, FLOATS + ("int64",), scalar_samples(low=1.0)),
    ("pow_scalar", lambda T, x, c: x ** c, FLOATS + COMPLEX, scalar_samples()),
    ("rpow_scalar", lambda T, x, c: c ** x, FLOATS, scalar_samples(POSC)),
    ("remainder_scalar", lambda T, x, c: x % c, FLOATS + ("int64",), scalar_samples(NOBOOLC)),
    ("rremainder_scalar", lambda T, x, c: c % x, FLOATS + ("int64",),
     scalar_samples(NOBOOLC, low=1.0)),
    ("floordiv_scalar", lambda T, x, c: x // c, FLOATS + ("int64",), scalar_samples(NOBOOLC)),
    ("fmod_scalar", lambda T, x, c: T.fmod(x, c), FLOATS + ("int64",), scalar_samples(NOBOOLC)),
    ("eq_scalar", lambda T, x, c: x == c, ARITH, scalar_samples()),
    ("lt_scalar", lambda T, x, c: x < c, FLOATS + ("int64", "uint8"), scalar_samples()),
    ("xlogy_scalar", lambda T, x, c: T.xlogy(x, c), FLOATS + ("int64",), scalar_samples(POSC)),
    ("rxlogy_scalar", lambda T, x, c: T.xlogy(c, x), FLOATS + ("int64",), scalar_samples(NOBOOLC)),
    ("copysign_scalar", lambda T, x, c: T.copysign(x, -c), FLOATS + ("int64",),
     scalar_samples(NOBOOLC)),
    ("clamp_scalar", lambda T, x, c: T.clamp(x, c, 2.5), FLOATS + ("int64", "uint8"),
     scalar_samples(NOBOOLC)),
    ("clamp_min_scalar", lambda T, x, c: T.clamp_min(x, c), FLOATS + ("int64",),
     scalar_samples(NOBOOLC)),
    ("clamp_max_scalar", lambda T, x, c: x.clamp_max(c), FLOATS + ("int64",),
     scalar_samples(NOBOOLC)),
    ("clip_scalar", lambda T, x, c: T.clip(x, max=c), FLOATS + ("int64",),
     scalar_samples(NOBOOLC)),
]:
    _grad = not _name.startswith(("eq", "lt", "floordiv", "rremainder"))
    _f = tuple(d for d in _dts if d not in INTS + ("int32",))
    _i = tuple(d for d in _dts if d in INTS + ("int32",))
    register(OpInfo(_name, _fn, _samples, dtypes=_f, grad=_grad))
    if _i:
        register(OpInfo(_name + "_int", _fn, _samples, dtypes=_i, grad=False, rtol=1e-6,
                        atol=1e-6))

# pow with a scalar exponent on integers, square
register(OpInfo("pow_int_scalar", lambda T, x: x ** 3, unary(0.0, 5.0), dtypes=("int64", "uint8"),
                grad=False))


# --- ternary ------------------------------------------------------------------------------------
def ternary(shapes, lows=(-2.0, -2.0, -2.0), avoid_zero_last=False):
    def samples(rng, dtype):
        for sh in shapes:
            xs = [np.asarray(arr(rng, s, dtype, lo, 2.0)) for s, lo in zip(sh, lows)]
            if avoid_zero_last and xs[-1].dtype.kind == "f":
                xs[-1] = np.where(np.abs(xs[-1]) < 0.3, xs[-1] + 0.7, xs[-1]).astype(xs[-1].dtype)
            yield xs, {}

    return samples


TERNARY_SHAPES = [((), (), ()), ((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((4, 6), (3,), (1,)),
                  ((3,), (2, 1), (4, 1, 1)), ((0, 3), (3,), (1,))]
# torch's clamp backward cannot handle bounds that broadcast the input to a bigger shape
CLAMP_SHAPES = [((), (), ()), ((3,), (3,), (3,)), ((2, 3), (3,), (2, 1)), ((4, 6), (3,), (1,)),
                ((2, 3), (), (1, 3)), ((0, 3), (3,), (1,))]


def tern(name, fn, samples, **kw):
    return OpInfo(name, lambda T, x, y, z: fn(T, _strided(x), y, z), samples, **kw)


register(
    tern("clamp_tensor", lambda T, x, lo, hi: T.clamp(x, lo, hi), ternary(CLAMP_SHAPES),
           dtypes=FLOATS + ("int64",)),
    tern("clamp_tensor_ordered", lambda T, x, lo, hi: T.clamp(x, lo - 1, hi.abs() + 0.5),
           ternary(CLAMP_SHAPES), dtypes=("float32", "float64")),
    tern("clamp_min_tensor", lambda T, x, lo, hi: T.clamp(x, min=lo), ternary(CLAMP_SHAPES),
           dtypes=FLOATS + ("int64",)),
    tern("clamp_max_tensor", lambda T, x, lo, hi: x.clamp(max=hi), ternary(CLAMP_SHAPES),
           dtypes=FLOATS + ("int64",)),
    tern("clamp_min_fn_tensor", lambda T, x, lo, hi: T.clamp_min(x, lo),
           ternary(CLAMP_SHAPES), dtypes=("float32", "float64")),
    tern("clamp_max_fn_tensor", lambda T, x, lo, hi: T.clamp_max(x, hi),
           ternary(CLAMP_SHAPES), dtypes=("float32", "float64")),
    tern("clip_tensor", lambda T, x, lo, hi: x.clip(lo, hi), ternary(CLAMP_SHAPES),
           dtypes=("float32", "float64")),
    tern("lerp_weight_tensor", lambda T, x, y, w: T.lerp(x, y, w), ternary(TERNARY_SHAPES),
           dtypes=FLOATS),
    tern("addcmul", lambda T, x, y, z: T.addcmul(x, y, z), ternary(TERNARY_SHAPES),
           dtypes=FLOATS + ("int64",) + COMPLEX),
    tern("addcmul_value", lambda T, x, y, z: x.addcmul(y, z, value=-0.5),
           ternary(TERNARY_SHAPES), dtypes=FLOATS),
    tern("addcmul_int_value", lambda T, x, y, z: T.addcmul(x, y, z, value=3),
           ternary(TERNARY_SHAPES), dtypes=("int64",)),
    tern("addcdiv", lambda T, x, y, z: T.addcdiv(x, y, z, value=2),
           ternary(TERNARY_SHAPES, avoid_zero_last=True), dtypes=FLOATS),
    tern("addcdiv_method", lambda T, x, y, z: x.addcdiv(y, z),
           ternary(TERNARY_SHAPES, avoid_zero_last=True), dtypes=("float32", "float64")),
    tern("where", lambda T, x, y, z: T.where(z > 0, x, y), ternary(TERNARY_SHAPES),
           dtypes=FLOATS + ("int64", "bool")),
    tern("where_scalar", lambda T, x, y, z: T.where(z > 0, x, 0.5), ternary(TERNARY_SHAPES),
           dtypes=FLOATS + ("int64",)),
)


# --- close / equal --------------------------------------------------------------------------------
def close_samples(rng, dtype):
    for sa, sb in [((4,), (4,)), ((2, 3), (3,)), ((), ())]:
        x = np.asarray(arr(rng, sa, dtype))
        y = np.asarray(arr(rng, sb, dtype))
        if x.shape == y.shape:
            y = x.copy()
            if y.size and y.dtype.kind == "f":
                y.flat[0] = y.flat[0] + 1e-6
        yield [x, y], {}


register(
    OpInfo("isclose", lambda T, x, y: T.isclose(x, y), close_samples,
           dtypes=FLOATS + COMPLEX + ("int64", "bool"), grad=False),
    OpInfo("isclose_tol", lambda T, x, y: x.isclose(y, rtol=0.1, atol=0.5), close_samples,
           dtypes=FLOATS + ("int64",), grad=False),
    OpInfo("isclose_nan", lambda T, x, y: T.isclose(x.log(), y.log(), equal_nan=True),
           close_samples, dtypes=("float32", "float64"), grad=False),
    OpInfo("allclose", lambda T, x, y: T.allclose(x, y), close_samples,
           dtypes=FLOATS + ("int64",), grad=False),
    OpInfo("equal", lambda T, x, y: T.equal(x, y), close_samples, dtypes=FLOATS + ("int64",),
           grad=False),
    OpInfo("equal_self", lambda T, x, y: T.equal(x, x.clone()), close_samples,
           dtypes=FLOATS + ("int64", "bool"), grad=False),
)


# --- top-level in-place twins and bitwise functions (added for tests/test_op_coverage.py) --------
def _inplace(name):
    """``torch.<name>(y, ...)`` on a copy ``y`` of the input, returning ``y``; torch exports some
    of these only as methods (add_, mul_, ...), so its side calls ``torch.Tensor.<name>``."""

    def fn(T, x, *args, **kw):
        f = getattr(T, name) if hasattr(T, name) else getattr(T.Tensor, name)
        y = x.clone()  # in-place on a leaf that requires grad raises
        f(y, *args, **kw)
        return y

    return fn


INPLACE_PAIRS = [((), ()), ((5,), ()), ((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (3, 1)),
                 ((0, 3), (3,))]  # the first shape is the broadcast shape
F2 = ("float32", "float64")
_UNARY_INPLACE = {  # name: (low, high, avoid_zero)
    "abs_": (-2, 2, True), "absolute_": (-2, 2, True), "acos_": (-0.9, 0.9, False),
    "arccos_": (-0.9, 0.9, False), "asin_": (-0.9, 0.9, False), "arcsin_": (-0.9, 0.9, False),
    "atan_": (-2, 2, False), "arctan_": (-2, 2, False), "ceil_": (-2, 2, False),
    "cos_": (-2, 2, False), "cosh_": (-2, 2, False), "deg2rad_": (-2, 2, False),
    "digamma_": (0.3, 3, False), "erf_": (-2, 2, False), "erfc_": (-2, 2, False),
    "erfinv_": (-0.9, 0.9, False), "exp2_": (-2, 2, False), "exp_": (-2, 2, False),
    "expm1_": (-2, 2, False), "fix_": (-2, 2, False), "floor_": (-2, 2, False),
    "frac_": (-2, 2, False), "lgamma_": (0.3, 3, False), "log10_": (0.1, 3, False),
    "log1p_": (-0.5, 3, False), "log2_": (0.1, 3, False), "log_": (0.1, 3, False),
    "logit_": (0.1, 0.9, False), "nan_to_num_": (-2, 2, False), "neg_": (-2, 2, False),
    "negative_": (-2, 2, False), "rad2deg_": (-2, 2, False), "reciprocal_": (-2, 2, True),
    "relu_": (-2, 2, True), "round_": (-2, 2, False), "rsqrt_": (0.1, 3, False),
    "sgn_": (-2, 2, True), "sigmoid_": (-2, 2, False), "sign_": (-2, 2, True),
    "sin_": (-2, 2, False), "sinc_": (-2, 2, False), "sinh_": (-2, 2, False),
    "sqrt_": (0.1, 3, False), "square_": (-2, 2, False), "tan_": (-1, 1, False),
    "tanh_": (-2, 2, False), "trunc_": (-2, 2, False),
}
for _n, (_lo, _hi, _az) in _UNARY_INPLACE.items():
    register(OpInfo(_n, _inplace(_n), unary(_lo, _hi, avoid_zero=_az), dtypes=F2))
# torch raises "the derivative for 'inplace version of acosh' is not implemented" (ndgrad has it)
for _n, (_lo, _hi) in {"acosh_": (1.2, 3), "arccosh_": (1.2, 3), "asinh_": (-2, 2),
                       "arcsinh_": (-2, 2), "atanh_": (-0.9, 0.9), "arctanh_": (-0.9, 0.9)}.items():
    register(OpInfo(_n, _inplace(_n), unary(_lo, _hi), dtypes=F2, grad=False))
register(
    OpInfo("logical_not_", _inplace("logical_not_"), unary(), dtypes=F2 + ("bool",), grad=False),
    OpInfo("bitwise_not_", _inplace("bitwise_not_"), unary(), dtypes=("int64", "bool"),
           grad=False),
    OpInfo("bitwise_not", lambda T, x: T.bitwise_not(x), unary(), dtypes=("int64", "bool"),
           grad=False),
    OpInfo("clamp_", _inplace("clamp_"), unary(kwargs={"min": -0.5, "max": 0.7}), dtypes=F2),
    OpInfo("clip_", _inplace("clip_"), unary(kwargs={"max": 0.7}), dtypes=F2),
    OpInfo("clamp_min_", _inplace("clamp_min_"), unary(kwargs={"min": -0.5}), dtypes=F2),
    OpInfo("clamp_max_", _inplace("clamp_max_"), unary(kwargs={"max": 0.5}), dtypes=F2),
)
_BINARY_INPLACE = {  # name: (low, high, low2, high2, avoid_zero, grad)
    **dict.fromkeys(["add_", "sub_", "subtract_", "mul_", "multiply_"],
                    (-2, 2, None, None, False, True)),
    **dict.fromkeys(["div_", "divide_", "true_divide_", "fmod_", "remainder_", "atan2_",
                     "arctan2_", "hypot_", "copysign_"], (-2, 2, None, None, True, True)),
    "pow_": (0.2, 2, -2, 2, False, True), "xlogy_": (-2, 2, 0.1, 3, False, True),
    "floor_divide_": (-2, 2, None, None, True, False),
    **dict.fromkeys(["heaviside_", "eq_", "ne_", "not_equal_", "lt_", "less_", "le_",
                     "less_equal_", "gt_", "greater_", "ge_", "greater_equal_", "logical_and_",
                     "logical_or_", "logical_xor_"], (-2, 2, None, None, False, False)),
}
for _n, (_lo, _hi, _lo2, _hi2, _az, _g) in _BINARY_INPLACE.items():
    register(OpInfo(_n, _inplace(_n), binary(_lo, _hi, _lo2, _hi2, avoid_zero=_az,
                                             pairs=INPLACE_PAIRS), dtypes=F2, grad=_g))
register(
    # float_power_ computes in float64, so torch only allows a float64 (or complex128) self
    OpInfo("float_power_", _inplace("float_power_"),
           binary(0.2, 2, -2, 2, pairs=INPLACE_PAIRS), dtypes=("float64",)),
    OpInfo("lerp_", lambda T, x, y: _inplace("lerp_")(T, x, y, 0.3),
           binary(pairs=INPLACE_PAIRS), dtypes=F2),
    OpInfo("lerp_tensor_weight_", lambda T, x, y: _inplace("lerp_")(T, x, y, y.sigmoid()),
           binary(pairs=INPLACE_PAIRS), dtypes=F2),
    OpInfo("addcmul_", lambda T, x, y, z: _inplace("addcmul_")(T, x, y, z, value=0.5),
           ternary([((), (), ()), ((2, 3), (3,), (2, 1)), ((0, 3), (3,), (1,))]), dtypes=F2),
    OpInfo("addcdiv_", lambda T, x, y, z: _inplace("addcdiv_")(T, x, y, z, value=2),
           ternary([((), (), ()), ((2, 3), (3,), (2, 1)), ((0, 3), (3,), (1,))],
                   avoid_zero_last=True), dtypes=F2),
)
_BITWISE = ("int64", "bool")
_SHIFT = binary(0, 50, 0, 20, pairs=INPLACE_PAIRS)
register(
    OpInfo("bitwise_and", lambda T, x, y: T.bitwise_and(x, y), binary(pairs=BROADCAST_PAIRS),
           dtypes=_BITWISE, grad=False),
    OpInfo("bitwise_xor", lambda T, x, y: T.bitwise_xor(x, y), binary(pairs=BROADCAST_PAIRS),
           dtypes=_BITWISE, grad=False),
    OpInfo("bitwise_left_shift", lambda T, x, y: T.bitwise_left_shift(x, y),
           binary(-50, 50, 0, 20, pairs=BROADCAST_PAIRS), dtypes=("int64",), grad=False),
    OpInfo("bitwise_right_shift", lambda T, x, y: T.bitwise_right_shift(x, y),
           binary(-50, 50, 0, 20, pairs=BROADCAST_PAIRS), dtypes=("int64",), grad=False),
    *(OpInfo(n, _inplace(n), binary(pairs=INPLACE_PAIRS), dtypes=_BITWISE, grad=False)
      for n in ("bitwise_and_", "bitwise_or_", "bitwise_xor_")),
    OpInfo("bitwise_left_shift_", _inplace("bitwise_left_shift_"), _SHIFT, dtypes=("int64",),
           grad=False),
    OpInfo("bitwise_right_shift_", _inplace("bitwise_right_shift_"), _SHIFT, dtypes=("int64",),
           grad=False),
)


def _write_views(T, x, y):
    z = x * 1
    z[1:].mul_(y)  # an in-place op on a view of a non-leaf: torch's CopySlices node
    z.select(1, 0).add_(y.sum())
    return z


def _predicates(T, x):
    one = T.is_nonzero(x.reshape(-1)[:1]) if x.numel() else None
    return T.is_complex(x), T.is_floating_point(x), T.is_tensor(x), T.is_tensor(x.tolist()), one


register(
    OpInfo("true_divide", lambda T, x, y: T.true_divide(x, y), binary(avoid_zero=True,
                                                                     pairs=BROADCAST_PAIRS),
           dtypes=F2 + ("int64",)),
    OpInfo("positive", lambda T, x: T.positive(x) * 1, unary(), dtypes=F2 + ("int64",)),
    OpInfo("conj", lambda T, x: T.conj(x) * (1 + 2j), unary(), dtypes=COMPLEX + ("float64",)),
    OpInfo("real", lambda T, x: T.real(x), unary(), dtypes=COMPLEX + ("float64",)),
    OpInfo("imag", lambda T, x: T.imag(x), unary(), dtypes=COMPLEX),
    OpInfo("is_predicates", _predicates, unary(), dtypes=F2 + COMPLEX + ("int64", "bool"),
           grad=False, tags=("is_complex", "is_floating_point", "is_tensor", "is_nonzero")),
    OpInfo("inplace_on_views", _write_views, binary(pairs=[((3, 4), (4,)), ((2, 4), (1, 4))]),
           dtypes=F2),
)
