"""Python scalars (and 0-d tensors) meeting narrow dtypes, as torch treats them: converted in the
op's compute dtype (no wrap-around before a true division), range-checked where torch converts
them with c10's checked conversion, wrapped around where torch casts them."""

from __future__ import annotations

import warnings
from math import inf, nan

import numpy as np
import pytest
import torch
from harness import to_numpy

import ndgrad


def _run(lib, expr: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy 1.x's overflow warnings, torch's UserWarnings
        try:
            return eval(expr, {"L": lib, "inf": float("inf"), "nan": float("nan")})
        except Exception as e:  # noqa: BLE001  (compared with torch's)
            return e


def check(expr: str, rtol: float = 2e-7) -> None:
    """``expr`` (written against ``L``) gives in ndgrad what it gives in torch: the same dtype,
    shape and values, or the same exception type and message."""
    got, want = _run(ndgrad, expr), _run(torch, expr)
    if "ComplexHalf" in str(want) or getattr(want, "dtype", None) == torch.complex32:
        # ndgrad has no complex32 (NumPy has no complex half): complex64 stands in, documented
        assert not isinstance(got, Exception) and got.dtype == ndgrad.complex64, expr
        if not isinstance(want, Exception):
            np.testing.assert_allclose(to_numpy(got), want.to(torch.complex64).numpy(),
                                       rtol=1e-3, equal_nan=True, err_msg=expr)
        return
    if isinstance(want, Exception):
        assert isinstance(got, Exception), f"{expr}: torch raised {want!r}, ndgrad gave {got}"
        assert type(got).__name__ == type(want).__name__ and str(got) == str(want), \
            f"{expr}: {got!r} != torch's {want!r}"
        return
    assert not isinstance(got, Exception), f"{expr}: ndgrad raised {got!r}"
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], expr
    assert tuple(got.shape) == tuple(want.shape), expr
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=rtol, atol=0,
                               equal_nan=True, err_msg=expr)


INTS = ["uint8", "int8", "int16", "int32", "bool"]
X = "L.tensor([1, 0, 3], dtype=L.{})"


@pytest.mark.parametrize("dt", INTS)
@pytest.mark.parametrize("v", ["300", "-1", "-200", "2**40", "True", "1.5", "L.tensor(300)",
                               "L.tensor(-200)", "L.tensor(2**40)"])
@pytest.mark.parametrize("op", [
    "{x} / {v}", "{v} / {x}", "L.true_divide({x}, {v})", "L.copysign({x}, {v})",
    "L.xlogy({x}, {v})", "L.xlogy({v}, {x})", "L.atan2({x}, L.as_tensor({v}))",
    "L.div({x}, {v}, rounding_mode='floor')"])
def test_int_operands_convert_in_the_float_compute_dtype(dt, v, op):
    # torch converts an int scalar straight to the float the op computes in: uint8 / 300 is
    # 1/300, not 1/44; copysign(uint8, -1) is negative
    check(op.format(x=X.format(dt), v=v))


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64"]
VALUES = ["300", "-1", "-200", "1e6", "1e39", "inf", "nan", "-1.5", "2**40", "1j", "(1+0j)",
          "True"]
T = "L.tensor([1, 0], dtype=L.{})"


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("v", VALUES)
@pytest.mark.parametrize("op", [
    "L.where(L.tensor([True, False]), {x}, {v})", "L.where(L.tensor([False, True]), {v}, {x})",
    "{x}.masked_fill(L.tensor([True, False]), {v})", "{x}.clone().fill_({v})",
    "L.full((2,), {v}, dtype={x}.dtype)", "{x}.index_fill(0, L.tensor([1]), {v})",
    "{x}.scatter(0, L.tensor([1]), {v})", "(lambda y: (y.__setitem__(0, {v}), y)[1])({x}.clone())",
    "(lambda y: (y.__setitem__(L.tensor([1]), {v}), y)[1])({x}.clone())",
])
def test_fill_values_get_torchs_checked_conversion(dt, v, op):
    # out of range, nan/inf or a fraction into an integer type, an imaginary part into a real
    # type: torch's RuntimeError; negative ints wrap into uint8 down to -255
    check(op.format(x=T.format(dt), v=v))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("v", VALUES + ["0", "False", "255", "-255", "256", "128", "-128"])
@pytest.mark.parametrize("op", [
    "L.add({x}, {x}, alpha={v})", "L.sub({x}, {x}, alpha={v})", "L.add({x}, 1, alpha={v})",
    "L.addcmul({x}, {x}, {x}, value={v})", "L.addcdiv({x}, {x}, {x} + 1, value={v})",
    "L.lerp({x}, {x} + 1, {v})", "L.pow({x}, {v})", "L.clamp({x}, max={v})",
    "L.nan_to_num({x}, nan={v})", "L.nan_to_num({x}, posinf={v})",
])
def test_scalar_arguments_get_torchs_checks(dt, v, op):
    check(op.format(x=T.format(dt), v=v))


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", [
    "L.addcmul({x}, {x}, {x}, value=7e4)", "L.addcmul({x}, {x}, {x}, value=1 / 3)",
    "L.addcdiv({x}, {x}, {x} + 100, value=7e4)", "L.lerp({x}, 2 * {x}, 7e4)",
    "L.lerp({x}, 2 * {x}, 0.1)", "L.nan_to_num({x} / 0, nan=1e6, posinf=-7e4)",
])
def test_half_precision_computes_scalar_arguments_in_float32(dt, op):
    # torch takes the scalar in float32 and rounds once: no inf * 0 = nan from a scalar that
    # overflowed float16 first
    x = f"L.tensor([-3.7, -1.1, 0.0, 0.3, 2.9, 7.3], dtype=L.{dt})"
    check(op.format(x=x))


@pytest.mark.parametrize("dt", ["float16", "bfloat16", "float32", "float64"])
def test_remainder_zero_keeps_the_dividends_sign(dt):
    # torch: fmod moved by b where the signs differ, so 3 % -1.5 is +0 (NumPy's remainder: -0)
    v = [-3.0, -2.5, -0.0, 0.0, 2.5, 3.0, -1.5, inf, -inf, nan, 1e-30, -1e4]
    res = []
    for lib in (ndgrad, torch):
        a = lib.tensor(v, dtype=getattr(lib, dt))
        res.append([to_numpy(lib.remainder(a[:, None], a)), to_numpy(a.remainder(-1.5))])
    for got, want in zip(*res):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got) & ~np.isnan(got),
                                      np.signbit(want) & ~np.isnan(want))


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
@pytest.mark.parametrize("v", ["0.1", "1 / 3", "-2.7", "7e4", "65536", "1e6", "1e-5",
                               "L.tensor(0.1, dtype=L.float64)", "L.tensor(7e4)"])
@pytest.mark.parametrize("op", ["{x} * {v}", "{v} * {x}", "{x} / {v}", "{v} / {x}",
                                "{x} // {v}", "L.div({x}, {v}, rounding_mode='trunc')"])
def test_half_precision_takes_scalar_operands_in_float32(dt, v, op):
    # torch's cpu-scalar kernels: x / 65536 in float16 is x * 2**-16, not x / inf = 0
    x = f"(L.arange(-40, 40, dtype=L.float32) * 0.37).to(L.{dt})"
    check(op.format(x=x, v=v))


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_half_precision_scalar_gradients(dt):
    res = []
    for lib in (ndgrad, torch):
        x = (lib.arange(-8, 8, dtype=lib.float32) * 0.37).to(getattr(lib, dt)).requires_grad_()
        y = (x * 0.1 + x / 7e4 + 3.0 / (x + 9)).sum()
        y.backward()
        res.append(to_numpy(x.grad))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-2)


@pytest.mark.parametrize("dt", ["uint8", "float16", "float32", "float64"])
@pytest.mark.parametrize("eps", ["None", "0.1", "0.7", "1.0", "0.0", "-0.5", "True", "1e39",
                                 "1e6", "1j"])
def test_logit_eps(dt, eps):
    # torch clamps x < eps first (eps > 1 - eps is not NumPy's clip), reads eps < 0 as none,
    # range-checks eps in the result dtype and rejects a complex eps
    x = f"L.tensor([0.0, 0.2, 0.5, 1.0, nan, -1.0, 2.0], dtype=L.{dt})"
    if dt == "uint8":
        x = "L.tensor([0, 1, 2], dtype=L.uint8)"
    check(f"L.logit({x}, {eps})", 1e-3 if dt == "float16" else 2e-7)  # torch rounds x/(1-x)
    if dt in ("float32", "float64"):
        got, want = [(lambda t: (lib.autograd.grad(lib.logit(t, eval(eps)).sum(), t)[0]))(
            lib.tensor([0.0, 0.2, 0.5, 1.0, nan, -1.0, 2.0], requires_grad=True))
            for lib in (ndgrad, torch)] if eps not in ("1j", "1e39") else (None, None)
        if want is not None:
            np.testing.assert_allclose(to_numpy(got), to_numpy(want), equal_nan=True)
