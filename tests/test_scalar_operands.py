"""Python scalars (and 0-d tensors) meeting narrow dtypes, as torch treats them: converted in the
op's compute dtype (no wrap-around before a true division), range-checked where torch converts
them with c10's checked conversion, wrapped around where torch casts them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ndgrad

from harness import to_numpy


def _run(lib, expr: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy 1.x's overflow warnings, torch's UserWarnings
        try:
            return eval(expr, {"L": lib, "inf": float("inf"), "nan": float("nan")})
        except Exception as e:  # noqa: BLE001  (compared with torch's)
            return e


def check(expr: str) -> None:
    """``expr`` (written against ``L``) gives in ndgrad what it gives in torch: the same dtype,
    shape and values, or the same exception type and message."""
    got, want = _run(ndgrad, expr), _run(torch, expr)
    if isinstance(want, Exception):
        assert isinstance(got, Exception), f"{expr}: torch raised {want!r}, ndgrad gave {got}"
        assert type(got).__name__ == type(want).__name__ and str(got) == str(want), \
            f"{expr}: {got!r} != torch's {want!r}"
        return
    assert not isinstance(got, Exception), f"{expr}: ndgrad raised {got!r}"
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], expr
    assert tuple(got.shape) == tuple(want.shape), expr
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=2e-7, atol=0,
                               equal_nan=True, err_msg=expr)


INTS = ["uint8", "int8", "int16", "int32", "bool"]
X = "L.tensor([1, 0, 3], dtype=L.{})"


@pytest.mark.parametrize("dt", INTS)
@pytest.mark.parametrize("v", ["300", "-1", "-200", "2**40", "True", "1.5", "L.tensor(300)",
                               "L.tensor(-200)", "L.tensor(2**40)"])
@pytest.mark.parametrize("op", ["{x} / {v}", "{v} / {x}", "L.true_divide({x}, {v})",
                                "L.copysign({x}, {v})", "L.xlogy({x}, {v})", "L.xlogy({v}, {x})",
                                "L.atan2({x}, L.as_tensor({v}))", "L.div({x}, {v}, rounding_mode='floor')"])
def test_int_operands_convert_in_the_float_compute_dtype(dt, v, op):
    # torch converts an int scalar straight to the float the op computes in: uint8 / 300 is
    # 1/300, not 1/44; copysign(uint8, -1) is negative
    check(op.format(x=X.format(dt), v=v))
