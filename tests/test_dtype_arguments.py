"""dtype= takes what torch's argument parser takes: a torch dtype or a Python type (float, int,
bool, complex); NumPy's dtypes and names ('float32') are torch's TypeError, everywhere."""

import numpy as np
import pytest
import torch

import ndgrad

CALLS = {
    "zeros": lambda lib, d: lib.zeros(2, dtype=d),
    "tensor": lambda lib, d: lib.tensor([1.0, 2.0], dtype=d),
    "as_tensor": lambda lib, d: lib.as_tensor([1.0], dtype=d),
    "full": lambda lib, d: lib.full((2,), 1.0, dtype=d),
    "arange": lambda lib, d: lib.arange(3, dtype=d),
    "randn": lambda lib, d: lib.randn(2, dtype=d),
    "ones_like": lambda lib, d: lib.ones_like(lib.ones(2), dtype=d),
    "new_zeros": lambda lib, d: lib.ones(2).new_zeros(2, dtype=d),
    "sum": lambda lib, d: lib.ones(2).sum(dtype=d),
    "prod": lambda lib, d: lib.ones(2).prod(dtype=d),
    "to": lambda lib, d: lib.ones(2).to(d),
    "to_device_dtype": lambda lib, d: lib.ones(2).to("cpu", d),
    "to_kw": lambda lib, d: lib.ones(2).to(dtype=d),
    "type": lambda lib, d: lib.ones(2).type(d),
    "Linear": lambda lib, d: lib.nn.Linear(2, 2, dtype=d).weight,
    "softmax": lambda lib, d: lib.softmax(lib.ones(2), 0, dtype=d),
}
DTYPES = {"float": float, "int": int, "bool": bool, "complex": complex, "np.float32": np.float32,
          "np.dtype": np.dtype("float64"), "str": "float32", "torch_str": "torch.float32"}


def _outcome(fn):
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - the error's type is the outcome compared
        return type(e).__name__
    return str(out.dtype).rpartition(".")[2], tuple(out.shape)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("call", CALLS)
def test_dtype_argument_as_torch(call, dt):
    d = DTYPES[dt]
    if call == "Linear" and dt == "complex":
        pytest.skip("uniform_ of a complex tensor (torch fills both parts) is not built yet")
    want = _outcome(lambda: CALLS[call](torch, d))
    got = _outcome(lambda: CALLS[call](ndgrad, d))
    assert got == want


def test_messages_name_the_argument():
    with pytest.raises(TypeError, match="argument 'dtype' must be torch.dtype, not type"):
        ndgrad.zeros(2, dtype=np.float32)
    with pytest.raises(TypeError, match=r"to\(\) received an invalid combination of arguments - "
                                        r"got \(str, type\)"):
        ndgrad.ones(2).to("cpu", np.float32)
    with pytest.raises(ValueError, match="invalid type: 'numpy.float32'"):
        ndgrad.ones(2).type(np.float32)


@pytest.mark.parametrize("d", [float, np.float64, "float64", ndgrad.int64])
def test_set_default_dtype_refuses_what_torch_refuses(d):
    td = torch.int64 if d is ndgrad.int64 else d
    with pytest.raises(TypeError) as want:
        torch.set_default_dtype(td)
    with pytest.raises(TypeError) as got:
        ndgrad.set_default_dtype(d)
    assert str(got.value) == str(want.value)
    assert ndgrad.get_default_dtype() is ndgrad.float32
