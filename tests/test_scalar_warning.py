"""torch warns once a process (TORCH_WARN_ONCE) when float() or complex() reads a tensor that
requires grad, at the caller's line; int(), item(), bool() and detached tensors do not warn."""

import subprocess
import sys

import pytest

PROBE = """
import warnings, {lib} as torch
x = torch.ones(1, requires_grad=True)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    {calls}
print([(i.category.__name__, str(i.message).split(" (Triggered")[0], i.lineno) for i in w])
"""


@pytest.mark.parametrize("calls", [
    "float(x)", "complex(x)", "float(x * 2); float(x)", "import math; math.exp(x)",
    "int(x); x.item(); bool(x); x.tolist()", "float(x.detach())",
    "with torch.no_grad(): float(x)"])
def test_float_of_a_tensor_that_requires_grad_warns_once_as_torch(calls):
    out = [subprocess.run([sys.executable, "-c", PROBE.format(lib=lib, calls=calls)], check=True,
                          capture_output=True, text=True).stdout for lib in ("torch", "ndgrad")]
    assert out[1] == out[0]
    assert ("Converting a tensor" in out[0]) == calls.startswith(("float(x)", "complex", "float(x ",
                                                                   "import"))
