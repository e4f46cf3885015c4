"""Second derivatives against torch for inputs test_second_order.py does not build: every float
input the op sees is a non-contiguous view, every other element of a bigger leaf, and, from 2-D
up, transposed too (``big[..., 0].mT``: strides (2, 2n) where the op expects (n, 1)). One case per
op table entry (float64): its first sample. The gradient for a random cotangent is taken with
create_graph=True, then the gradient of ``sum(grad * v)`` with respect to the leaves and the
cotangents; ndgrad and torch must agree on outputs, both orders and the errors raised
(hvp_harness.compare). A sweep over every later sample found nothing test_second_order.py misses
(it took a minute), so it is not kept."""

from __future__ import annotations

import warnings

import numpy as np
import op_db.all  # noqa: F401  (registers every family)
import pytest
from hvp_harness import both, compare
from op_db import OPS

# entries that differ from torch for a reason of torch's own
TORCH_QUIRKS = {
    # torch's kernels refuse a transposed input with a view error ("view size is not
    # compatible with input tensor's size and stride"); ndgrad computes the result
    "take_along_dim", "kron",
    # torch.cond / while_loop: torch's higher-order ops (see test_second_order.py)
    "cond", "while_loop",
    # median of an empty tensor: torch's double backward gives nan, ndgrad None
    "median_all_empty",
    # as_strided of an expanded strided view: torch's derivative in the cotangent is nan for the
    # storage elements the view never reads; ndgrad gives 0 there
    "as_strided_expanded",
}


def _floats(arrays):
    return [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _viewed(fn, which):
    def g(lib, *xs, **kw):
        xs = list(xs)
        for k in which:
            xs[k] = xs[k][..., 0].mT if xs[k].ndim >= 3 else xs[k][..., 0]
        return fn(lib, *xs, **kw)
    return g


def _case(op):
    """(fn, arrays, kwargs): the first sample with float inputs, as the bigger leaves."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        samples = op.samples(np.random.default_rng(0), "float64")
        for arrays, kwargs in samples:
            fl = _floats(arrays)
            if fl:
                new = list(arrays)
                for k in fl:
                    a = arrays[k] if arrays[k].ndim < 2 else np.swapaxes(arrays[k], -1, -2)
                    new[k] = np.ascontiguousarray(np.stack([a, a + 1.0], -1))
                return _viewed(op.fn, fl), new, kwargs
    return None


def _params():
    out, seen = [], {}
    for op in OPS:
        if not op.grad or op.skip_reason or "float64" not in op.dtypes or op.name in TORCH_QUIRKS:
            continue
        n = seen[op.name] = seen.get(op.name, 0) + 1
        out.append(pytest.param(op, id=op.name if n == 1 else f"{op.name}#{n}"))
    return out


@pytest.mark.parametrize("op", _params())
def test_second_order_of_strided_views(op):
    case = _case(op)
    assert case is not None, "the table lists it as differentiable: it has float inputs"
    fn, arrays, kwargs = case
    rtol = max(1e-6, op.grad_rtol or 0, op.rtol or 0)
    atol = max(1e-8, op.grad_atol or 0, op.atol or 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = both(fn, arrays, kwargs)
    compare(got, want, rtol, atol, f"{op.name} on strided views")
