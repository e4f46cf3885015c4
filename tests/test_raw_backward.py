"""First-order backward runs on raw arrays (``Node.backward_raw`` where an op has one); with
create_graph it runs ``backward`` on tensors. Both must give the same gradients for every entry
of the op table."""

from __future__ import annotations

import warnings

import numpy as np
import op_db.all  # noqa: F401  (registers every family)
from harness import flat_outputs, to_lib
from op_db import OPS

import ndgrad
from ndgrad.autograd.op import Op

GRAD_OPS = [op for op in OPS if op.grad and not op.skip_reason
            and ("float64" in op.dtypes or "float32" in op.dtypes)]


def _grads(op, arrays, kwargs, create_graph):
    ins = [to_lib(ndgrad, a, True) for a in arrays]
    outs = [o for o in flat_outputs(op.fn(ndgrad, *ins, **kwargs))
            if isinstance(o, ndgrad.Tensor) and o.requires_grad]
    leaves = [t for t in ins if isinstance(t, ndgrad.Tensor) and t.requires_grad]
    if not outs or not leaves:
        return None
    rng = np.random.default_rng(1)
    cots = [ndgrad.from_numpy(rng.standard_normal(tuple(o.shape))).to(o.dtype) for o in outs]
    return ndgrad.autograd.grad(outs, leaves, cots, allow_unused=True, create_graph=create_graph)


def _compare(op) -> int:
    dtype = "float64" if "float64" in op.dtypes else "float32"
    compared = 0
    for arrays, kwargs in op.samples(np.random.default_rng(0), dtype):
        raw = _grads(op, arrays, kwargs, create_graph=False)
        if raw is None:
            continue
        full = _grads(op, arrays, kwargs, create_graph=True)
        for a, b in zip(raw, full):
            assert (a is None) == (b is None), op.name
            if a is not None:
                assert a.dtype == b.dtype and a.shape == b.shape, op.name
                np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6,
                                           atol=1e-6, equal_nan=True, err_msg=op.name)
                compared += 1
    return compared


def _raw_classes() -> set:
    seen, stack = set(), [Op]
    while stack:
        for c in stack.pop().__subclasses__():
            stack.append(c)
            if c.__dict__.get("backward_raw") is not None and "_guarded" not in c.__dict__:
                seen.add(c)
    return seen


def test_raw_backward_matches_tensor_backward(monkeypatch):
    ran = set()

    def spy(owner, original):
        def backward_raw(ctx, *grads):
            ran.add(owner)  # the class that defines it (a node may be a subclass named by torch)
            return original(ctx, *grads)
        return backward_raw

    for c in _raw_classes():
        monkeypatch.setattr(c, "backward_raw", spy(c, c.__dict__["backward_raw"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compared = sum(_compare(op) for op in GRAD_OPS)
    assert compared > 1000
    missing = sorted(c.__name__ for c in _raw_classes() - ran)
    assert not missing, f"ops with a backward_raw no op-table entry exercises: {missing}"
