"""Type promotion against torch: promote_types, result_type and the dtypes ops actually produce,
for every dtype pair, 0-d tensors and weak Python scalars."""

import itertools

import numpy as np
import pytest
import torch

import ndgrad

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
PAIRS = list(itertools.product(NAMES, NAMES))
SCALARS = [True, 3, -2, 2.5, 1e10, 1 + 2j]


def pair(name):
    return getattr(ndgrad, name), getattr(torch, name)


def tensors(name, shape):
    """The same values as an ndgrad and a torch tensor of dtype ``name``."""
    nd, th = pair(name)
    return ndgrad.ones(shape, dtype=nd), torch.ones(shape, dtype=th)


def same(a, b):
    return str(a).split(".")[-1] == str(b).split(".")[-1]


def half_complex(*targs):
    """torch promotes a float16 tensor with a complex 0-d tensor or scalar to complex32, a dtype
    ndgrad does not have: it gives complex64 there (tested in test_complex32_becomes_complex64)."""
    return torch.result_type(*targs) == torch.complex32


@pytest.mark.parametrize("a,b", PAIRS)
def test_promote_types(a, b):
    got = ndgrad.promote_types(pair(a)[0], pair(b)[0])
    want = torch.promote_types(pair(a)[1], pair(b)[1])
    assert same(got, want), f"{a}+{b}: {got} vs {want}"


@pytest.mark.parametrize("a,b", PAIRS)
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), ()), ((), (3,)), ((), ())])
def test_result_type_tensors(a, b, shapes):
    (x, tx), (y, ty) = tensors(a, shapes[0]), tensors(b, shapes[1])
    want = torch.result_type(tx, ty)
    assert same(ndgrad.result_type(x, y), torch.complex64 if half_complex(tx, ty) else want)


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("shape", [(3,), ()])
@pytest.mark.parametrize("scalar", SCALARS)
def test_result_type_scalars(a, shape, scalar):
    x, tx = tensors(a, shape)
    want = torch.complex64 if half_complex(tx, scalar) else torch.result_type(tx, scalar)
    assert same(ndgrad.result_type(x, scalar), want)
    assert same(ndgrad.result_type(scalar, x), want)


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("scalar", [True, 3, 2.5, 1j])
def test_result_type_default_double(a, scalar):
    ndgrad.set_default_dtype(ndgrad.float64)
    torch.set_default_dtype(torch.float64)
    x, tx = tensors(a, (2,))
    want = torch.complex64 if half_complex(tx, scalar) else torch.result_type(tx, scalar)
    assert same(ndgrad.result_type(x, scalar), want)


def test_complex32_becomes_complex64():
    x = ndgrad.ones(2, dtype=ndgrad.float16)
    assert ndgrad.result_type(x, 1j) is ndgrad.complex64
    assert ndgrad.result_type(x, ndgrad.tensor(1j, dtype=ndgrad.complex128)) is ndgrad.complex64
    assert (x * 1j).dtype is ndgrad.complex64


def _op_dtype(lib, op, x, y):
    try:
        return str(op(lib, x, y).dtype).split(".")[-1]
    except Exception as e:  # noqa: BLE001  (the same failure is part of the behaviour)
        return type(e).__name__


BINARY_OPS = {
    "add": lambda T, x, y: x + y,
    "mul": lambda T, x, y: T.mul(x, y),
    "div": lambda T, x, y: x / y,
    "floor_divide": lambda T, x, y: x // y,
    "remainder": lambda T, x, y: x % y,
    "pow": lambda T, x, y: x ** y,
    "maximum": lambda T, x, y: T.maximum(x, y),
    "atan2": lambda T, x, y: T.atan2(x, y),
    "eq": lambda T, x, y: x == y,
    "where": lambda T, x, y: T.where(x == x, x, y),
    "clamp": lambda T, x, y: T.clamp(x, min=y),
    "logical_and": lambda T, x, y: T.logical_and(x, y),
    "bitwise_or": lambda T, x, y: x | y,
    "xlogy": lambda T, x, y: T.xlogy(x, y),
    "copysign": lambda T, x, y: T.copysign(x, y),
}


@pytest.mark.parametrize("op", BINARY_OPS)
@pytest.mark.parametrize("shapes", [((2,), (2,)), ((2,), ())])
def test_op_result_dtypes(op, shapes):
    """The dtype each op gives (or the exception type it raises) for every dtype pair."""
    fn = BINARY_OPS[op]
    bad = []
    for a, b in PAIRS:
        (x, tx), (y, ty) = tensors(a, shapes[0]), tensors(b, shapes[1])
        if half_complex(tx, ty):
            continue
        got, want = _op_dtype(ndgrad, fn, x, y), _op_dtype(torch, fn, tx, ty)
        if got != want:
            bad.append(f"{a},{b}: {got} != {want}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("op", ["add", "mul", "div", "pow", "remainder", "eq", "clamp",
                                "where", "xlogy", "floor_divide", "bitwise_or"])
def test_op_result_dtypes_with_scalars(op):
    fn = BINARY_OPS[op]
    bad = []
    for a in NAMES:
        for s in SCALARS:
            (x, tx) = tensors(a, (2,))
            if half_complex(tx, s):
                continue
            for args, targs in [((x, s), (tx, s)), ((s, x), (s, tx))]:
                if op in ("clamp", "where") and not isinstance(args[0], ndgrad.Tensor):
                    continue
                got, want = _op_dtype(ndgrad, fn, *args), _op_dtype(torch, fn, *targs)
                if got != want:
                    bad.append(f"{a},{s!r}: {got} != {want}")
    assert not bad, "\n".join(bad)


# named examples from the brief, with values
@pytest.mark.parametrize("make", [
    lambda T: T.tensor([1, 2]) + 2.5,
    lambda T: T.tensor([1, 2], dtype=T.uint8) + T.tensor([1, -2], dtype=T.int8),
    lambda T: T.tensor([1.5], dtype=T.float16) + T.tensor([1.5], dtype=T.bfloat16),
    lambda T: T.tensor([True, False]) + 1,
    lambda T: T.tensor([True, False]) + T.tensor([3, 4]),
    lambda T: T.tensor(2.5, dtype=T.float64) * T.tensor([1.0, 2.0]),
    lambda T: T.tensor(2.5, dtype=T.float64) * T.tensor([1, 2], dtype=T.int32),
    lambda T: T.tensor(3) * T.tensor([1.0, 2.0], dtype=T.float16),
    lambda T: T.tensor([200], dtype=T.uint8) + 100,
    lambda T: T.tensor([1], dtype=T.int8) + 1000,
    lambda T: T.tensor([1], dtype=T.uint8) < -1,
    lambda T: T.tensor([1.0], dtype=T.float16) * 1e10,
    lambda T: T.tensor([1, 2]) * (1 + 1j),
    lambda T: T.tensor([1.0], dtype=T.float64) + 1j,
    lambda T: T.tensor(1 + 1j, dtype=T.complex128) + T.tensor([1.0]),
    lambda T: T.tensor([1, 2]) / 2,
    lambda T: 7 // T.tensor([2, -2]),
    lambda T: 2 ** T.tensor([1, 2]),
    lambda T: 2.0 ** T.tensor([1, -2]),
    lambda T: T.tensor([2, 3]) ** 2,
    lambda T: T.tensor([2, 3]) ** 0.5,
    lambda T: T.tensor([1, 2]) + np.float64(2.5),
    lambda T: T.tensor([1.0, 2.0]) + np.ones(2),
])
def test_promotion_examples(make):
    got, want = make(ndgrad), make(torch)
    assert same(got.dtype, want.dtype)
    np.testing.assert_allclose(np.asarray(got.tolist()), np.asarray(want.tolist()), rtol=1e-6)


def test_promote_types_errors_and_aliases():
    assert ndgrad.promote_types(ndgrad.int, ndgrad.float) is ndgrad.float32
    assert ndgrad.promote_types(ndgrad.long, ndgrad.half) is ndgrad.float16
    assert ndgrad.result_type(ndgrad.tensor([1]), ndgrad.tensor(1.5)) is ndgrad.float32
    assert same(ndgrad.promote_types(ndgrad.float32, float),
                torch.promote_types(torch.float32, float))
    assert same(ndgrad.promote_types(int, ndgrad.uint8), torch.promote_types(int, torch.uint8))
