"""ndgrad._print must reproduce repr(torch.Tensor) byte for byte (PyTorch 2.13)."""

import os
import sys
import zlib

import ml_dtypes
import numpy as np
import pytest
import torch  # deliberately not importorskip: these tests are meaningless without the reference

try:
    from ndgrad import _print
except ImportError:  # package not installed: use the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "src"))
    from ndgrad import _print

BF16 = np.dtype(ml_dtypes.bfloat16)
SHAPES = [(), (3,), (100,), (2000,), (10, 10), (2, 5, 5, 2), (3, 1000), (40, 40)]
SCALES = [1e-6, 1e-3, 1.0, 1e5, 1e9]


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    torch.set_printoptions(profile="default")
    _print.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    _print.set_default_dtype_name("float32")


def to_torch(arr: np.ndarray) -> torch.Tensor:
    if arr.dtype == BF16:  # torch.from_numpy knows no bfloat16; the float32 round trip is exact
        return torch.from_numpy(np.asarray(arr, np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.array(arr))


def dtype_name(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def check(arr: np.ndarray, t: torch.Tensor | None = None) -> None:
    t = to_torch(arr) if t is None else t
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    got = _print.format_tensor(
        arr, dtype_name=dtype_name(t), module="torch", grad_fn_name=grad_fn,
        requires_grad=t.requires_grad
    )
    assert got == repr(t)


def rng(*key) -> np.random.Generator:
    """Seeded per test case, so each case is reproducible on its own."""
    return np.random.default_rng(zlib.crc32(str(key).encode()))


def normal(shape, scale, dtype, key=0) -> np.ndarray:
    draws = rng(shape, scale, str(dtype), key).standard_normal(shape)
    return np.asarray(draws * scale).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_float_scales(shape, scale, dtype):
    check(normal(shape, scale, dtype))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("dtype", [np.float16, BF16], ids=["f16", "bf16"])
def test_half_precision(shape, scale, dtype):
    check(normal(shape, scale, dtype))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float16, BF16, np.float32, np.float64],
                         ids=["f16", "bf16", "f32", "f64"])
def test_integer_valued_floats(shape, dtype):
    arr = np.round(normal(shape, 50.0, np.float64)).astype(dtype)
    check(arr)


SPECIALS = {
    "nan_inf": [1.5, np.nan, np.inf, -np.inf, -2.25],
    "neg_zero": [-0.0, 0.0, 1.0, -3.0],
    "neg_zero_frac": [-0.0, 0.5, -1.25],
    "all_zero": [0.0, -0.0, 0.0],
    "all_nan": [np.nan, np.nan],
    "inf_only": [np.inf, -np.inf, 0.0],
    "int_nan": [1.0, 2.0, np.nan, -np.inf],
    "sci_nan": [1e-8, np.nan, 3e10, -0.0],
    "huge_ratio": [1.0, 1001.0],
    "near_1e8": [1e8, 2.0],
    "above_1e8": [1.5e8, 2.0],
    "tiny": [1e-5, 2e-5],
    "rounding_up": [9.99996, 0.5],
    "big_exp": [1e-300, 1e300, -5e-320],
    "max_float": [1.7e308, 5e-324],
}


@pytest.mark.parametrize("values", list(SPECIALS.values()), ids=list(SPECIALS))
@pytest.mark.parametrize("dtype", [np.float16, BF16, np.float32, np.float64],
                         ids=["f16", "bf16", "f32", "f64"])
def test_special_values(values, dtype):
    with np.errstate(over="ignore"):
        arr = np.array(values, dtype=np.float64).astype(dtype)
    check(arr)
    check(arr.reshape(-1, 1))
    check(arr[0].reshape(()))


@pytest.mark.parametrize("seed", range(40))
def test_random_mixtures(seed):
    """Random shapes mixing magnitudes, integral values, signed zeros and non-finite values."""
    g = rng("mix", seed)
    shape = tuple(g.integers(1, 6, size=g.integers(1, 4)))
    arr = g.standard_normal(shape) * 10.0 ** g.integers(-9, 10, size=shape)
    pool = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 3.0, -7.0])
    mask = g.random(shape) < 0.3
    arr[mask] = g.choice(pool, size=int(mask.sum()))
    for dtype in (np.float16, BF16, np.float32, np.float64):
        with np.errstate(over="ignore"):
            check(arr.astype(dtype))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8])
def test_ints(shape, dtype):
    info = np.iinfo(dtype)
    arr = rng(shape, str(dtype)).integers(info.min, info.max, size=shape, endpoint=True)
    arr = arr.astype(dtype)
    check(arr)
    check((arr // 7).astype(dtype))  # narrower values: different column widths


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_bool(shape):
    check(rng(shape).random(shape) < 0.5)
    check(np.ones(shape, dtype=bool))


@pytest.mark.parametrize("shape", [(), (3,), (6,), (100,), (2000,), (4, 4), (2, 3, 2), (40, 40)],
                         ids=str)
@pytest.mark.parametrize("scale", [1e-5, 1.0, 1e4, 1e9])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128], ids=["c64", "c128"])
def test_complex(shape, scale, dtype):
    g = rng(shape, scale, str(dtype))
    arr = ((g.standard_normal(shape) + 1j * g.standard_normal(shape)) * scale).astype(dtype)
    check(arr)


@pytest.mark.parametrize(
    "values",
    [[1 + 2j, 3 - 4j], [1 - 0j, -0.0 + 0j, 2 + 0.5j],
     [complex(np.nan, 1), complex(1, np.inf), complex(0, np.nan)], [1e-6 + 1j, 3e5 - 2j], [0j]],
    ids=["ints", "zeros", "nonfinite", "mixed_scale", "zero"],
)
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128], ids=["c64", "c128"])
def test_complex_special(values, dtype):
    arr = np.array(values, dtype=dtype)
    check(arr)
    check(arr[:1].reshape(()))


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 0)], ids=str)
@pytest.mark.parametrize(
    "dtype", [np.float32, np.float64, np.float16, BF16, np.int64, np.int32, np.uint8, bool,
              np.complex64, np.complex128]
)
def test_empty(shape, dtype):
    check(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("shape", [(), (3,), (5, 2), (2, 3, 4), (2000,), (40, 40)], ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.complex64],
                         ids=["f32", "f64", "f16", "c64"])
@pytest.mark.parametrize("op", ["leaf", "mul", "add", "sum0", "neg", "view"])
def test_autograd_suffix(shape, dtype, op):
    arr = normal(shape, 1.0, np.float64).astype(dtype)
    leaf = to_torch(arr).requires_grad_()
    t = {
        "leaf": lambda x: x,
        "mul": lambda x: x * 1,
        "add": lambda x: x + 0,
        "sum0": lambda x: x.sum(0) if x.dim() else x.clone(),
        "neg": lambda x: -x,
        "view": lambda x: x.reshape(-1),
    }[op](leaf)
    check(t.detach().numpy(), t)


@pytest.mark.parametrize("n", range(1, 14))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16], ids=["f32", "f64", "i16"])
def test_near_linewidth(n, dtype):
    """Vectors whose last line plus suffixes is around 80 columns, so the suffix may move to its
    own line."""
    arr = (np.arange(n) * 1.23456 - 3).astype(dtype)
    check(arr)
    if dtype != np.int16:
        check(arr, to_torch(arr).requires_grad_())
        check(arr, to_torch(arr).requires_grad_() * 1)
    check(np.stack([arr, arr]), to_torch(np.stack([arr, arr])))


@pytest.mark.parametrize("digits", range(1, 10))
@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("linewidth", [80, 73, 41])
def test_elements_per_line(digits, ndim, linewidth):
    """Columns of every width, at every nesting depth: exercises how many elements fit on a line."""
    torch.set_printoptions(linewidth=linewidth)
    _print.set_printoptions(linewidth=linewidth)
    arr = np.full((2,) * (ndim - 1) + (30,), 10**digits - 1, dtype=np.int64)
    check(arr)
    check(-arr)


@pytest.mark.parametrize("arr", [np.arange(6.0), np.arange(30.0).reshape(3, 10) / 7, np.array(2.5)],
                         ids=str)
def test_subclass_prefix(arr):
    class MyTensorSubclass(torch.Tensor):
        pass

    t = to_torch(arr).as_subclass(MyTensorSubclass)
    got = _print.format_tensor(arr, dtype_name="float64", module="torch",
                               prefix="MyTensorSubclass(")
    assert got == repr(t)


@pytest.mark.parametrize("arr", [np.arange(3.0, dtype=np.float32),
                                 np.arange(12.0).reshape(3, 4) / 3, np.zeros((2, 0))])
def test_device_suffix(arr):
    """No CUDA here: build torch's expected string from its own internals, a device suffix added."""
    t = to_torch(arr).requires_grad_() * 2
    name = dtype_name(t)
    suffixes = ["device='cuda:0'"]
    if arr.size == 0:
        suffixes.append(f"size={tuple(arr.shape)}")
        body = "[]"
    else:
        body = torch._tensor_str._tensor_str(t.detach(), len("tensor("))
    if name != "float32":
        suffixes.append(f"dtype=torch.{name}")
    suffixes.append("grad_fn=<MulBackward0>")
    expected = torch._tensor_str._add_suffixes("tensor(" + body, suffixes, len("tensor("), False)
    got = _print.format_tensor(t.detach().numpy(), dtype_name=name, device="cuda:0",
                               grad_fn_name="MulBackward0", module="torch")
    assert got == expected


def test_module_name_in_dtype_suffix():
    arr = np.array([1.5, 2.0], dtype=np.float16)
    fmt = _print.format_tensor
    assert fmt(arr, dtype_name="float16") == "tensor([1.5000, 2.0000], dtype=ndgrad.float16)"
    assert fmt(np.zeros(0, np.int64), dtype_name="int64") == "tensor([], dtype=ndgrad.int64)"
    assert fmt(np.array(32.4726, np.float32), dtype_name="float32") == "tensor(32.4726)"


@pytest.mark.parametrize(
    "arr", [np.array([1.5, 2.0], np.float32), np.array([1.5, 2.0]),
            np.array([1 + 1j], np.complex64), np.array([1 + 1j]), np.zeros((0,), np.float32),
            np.zeros((0,))],
    ids=["f32", "f64", "c64", "c128", "empty_f32", "empty_f64"],
)
def test_default_dtype_float64(arr):
    torch.set_default_dtype(torch.float64)
    _print.set_default_dtype_name("float64")
    check(arr)


OPTIONS = [
    dict(precision=2), dict(precision=0), dict(precision=8, linewidth=40), dict(sci_mode=True),
    dict(sci_mode=False), dict(profile="full"), dict(profile="short"), dict(linewidth=120),
    dict(threshold=5), dict(threshold=5, edgeitems=1),
    dict(threshold=5, edgeitems=0), dict(profile="short", precision=6), dict(linewidth=10),
]


def _option_arrays():
    g = np.random.default_rng(1234)
    return {
        "vec": g.standard_normal(100).astype(np.float32),
        "mat_big": g.standard_normal((10, 10)) * 1e5,
        "long": g.standard_normal(2000).astype(np.float32),
        "ints3d": g.integers(-500, 500, (3, 4, 5)),
        "int_floats": np.round(g.standard_normal((4, 6)) * 10).astype(np.float32),
        "complex": (g.standard_normal(6) + 1j * g.standard_normal(6)).astype(np.complex64),
        "bf16": (g.standard_normal(50) * 1e-3).astype(BF16),
        "bool": g.random((4, 8)) < 0.5,
        "scalar": np.array(3.14159265),
        "zeros": np.zeros((3, 3), np.float32),
        "mat_2000": g.standard_normal((3, 1000)),
    }


OPTION_ARRAYS = _option_arrays()


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
@pytest.mark.parametrize("name", list(OPTION_ARRAYS))
def test_printoptions(opts, name):
    torch.set_printoptions(**opts)
    _print.set_printoptions(**opts)
    assert _print.get_printoptions() == torch._tensor_str.get_printoptions()
    check(OPTION_ARRAYS[name])


def test_printoptions_context_and_restore():
    with _print.printoptions(precision=1, sci_mode=True):
        assert _print.get_printoptions()["precision"] == 1
        assert _print.format_tensor(np.array([1.25, 2.0]), dtype_name="float64") == (
            "tensor([1.2e+00, 2.0e+00], dtype=ndgrad.float64)"
        )
    assert _print.get_printoptions() == {
        "precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None
    }
