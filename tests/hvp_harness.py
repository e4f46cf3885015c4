"""First and second derivatives of a function in ndgrad and torch, for the second-order tests.

``derivatives(lib, fn, arrays)`` runs ``fn(lib, *tensors)`` on leaves made from ``arrays`` (float
arrays require grad), takes the gradient of its float outputs for a random cotangent with
``create_graph`` and then the gradient of ``sum(grad_i * v_i)`` (a Hessian-vector product, plus
the derivative with respect to the cotangent, which is J v) with respect to the inputs and the
cotangents. ``compare`` checks one library's result against the other's, where an unused (None)
gradient and an all-zero one are the same."""

from __future__ import annotations

import numpy as np
import torch
from harness import dtype_name, flat_outputs, to_lib, to_numpy

import ndgrad


class Result:
    """What one library computed: outputs, first-order grads, second-order grads (None where the
    step raised; ``error`` then holds the exception)."""

    def __init__(self):
        self.outs, self.grads, self.second, self.error, self.stage = None, None, None, None, None
        self.requires_grad = None

    def __repr__(self):
        return f"Result(stage={self.stage!r}, error={self.error!r})"


def _rand_like(rng, o):
    c = rng.standard_normal(tuple(o.shape))
    if o.is_complex():
        c = c + 1j * rng.standard_normal(tuple(o.shape))
    return np.asarray(c).astype(to_numpy(o).dtype)


def derivatives(lib, fn, arrays, kwargs=None, *, nonleaf=False, dtypes=None, seed=1,
                create_graph=True, second=True, cotangents=None) -> Result:
    """Outputs, gradients and (with ``second``) the Hessian-vector product of ``fn`` in ``lib``.

    ``nonleaf``: the op sees ``leaf * 1`` (a node inside a bigger graph), not the leaf itself.
    ``dtypes``: per array, a numpy dtype name to cast it to first (None: keep).
    ``cotangents``: fixed numpy cotangents (else random from ``seed``)."""
    res = Result()
    arrays = [a.astype(d) if d is not None and isinstance(a, np.ndarray) else a
              for a, d in zip(arrays, dtypes or [None] * len(arrays))]
    leaves = [to_lib(lib, a, True) for a in arrays]
    ins = [t * 1 if nonleaf and isinstance(t, lib.Tensor) and t.requires_grad else t
           for t in leaves]
    res.stage = "forward"
    try:
        out = fn(lib, *ins, **(kwargs or {}))
    except Exception as e:  # noqa: BLE001  (compared with the other library's)
        res.error = e
        return res
    res.outs = flat_outputs(out)
    # after the call, as the harness: torch.asarray(x, requires_grad=False) unflags the leaf x
    diff_leaves = [t for t in leaves if isinstance(t, lib.Tensor) and t.requires_grad]
    diff = [o for o in res.outs if isinstance(o, lib.Tensor) and o.requires_grad]
    res.requires_grad = [isinstance(o, lib.Tensor) and o.requires_grad for o in res.outs]
    if not diff or not diff_leaves:
        res.grads, res.second = [], []
        return res
    rng = np.random.default_rng(seed)
    cot_arrays = cotangents if cotangents is not None else [_rand_like(rng, o) for o in diff]
    cots = [to_lib(lib, np.asarray(c), False).to(o.dtype) for c, o in zip(cot_arrays, diff)]
    if create_graph:
        cots = [c.requires_grad_(True) for c in cots]
    res.stage = "first"
    try:
        g = lib.autograd.grad(diff, diff_leaves, cots, allow_unused=True,
                              create_graph=create_graph)
    except Exception as e:  # noqa: BLE001
        res.error = e
        return res
    res.grads = list(g)
    if not (create_graph and second):
        return res
    res.stage = "second"
    terms = []
    for gi, leaf in zip(g, diff_leaves):
        v = to_lib(lib, np.asarray(rng.standard_normal(tuple(leaf.shape))), False).to(leaf.dtype)
        if gi is not None and gi.requires_grad:
            terms.append((gi * v).sum())
    wrt = diff_leaves + [c for c in cots if c.requires_grad]
    if not terms:
        res.second = [None] * len(wrt)
        return res
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    if total.is_complex():
        total = total.real
    try:
        res.second = list(lib.autograd.grad(total, wrt, allow_unused=True))
    except Exception as e:  # noqa: BLE001
        res.error = e
    return res


def _zero_or_none(a) -> bool:
    return a is None or not np.any(to_numpy(a))


def compare_values(got, want, rtol, atol, what, *, check_dtype=True):
    """``got`` (ndgrad) equals ``want`` (torch); None and an all-zero tensor are the same."""
    if want is None or got is None:
        other = got if want is None else want
        assert _zero_or_none(other), (
            f"{what}: torch {'None' if want is None else _show(want)} vs ndgrad "
            f"{'None' if got is None else _show(got)}")
        return
    if check_dtype:
        assert dtype_name(got) == dtype_name(want), f"{what}: dtype {got.dtype} != {want.dtype}"
    assert tuple(got.shape) == tuple(want.shape), f"{what}: shape {got.shape} != {want.shape}"
    x, y = to_numpy(got), to_numpy(want)
    if x.dtype.kind in "fc":
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{what}: ndgrad vs torch")
    else:
        np.testing.assert_array_equal(x, y, err_msg=what)


def _show(t) -> str:
    a = to_numpy(t)
    return np.array2string(a.ravel()[:6], precision=4) + ("..." if a.size > 6 else "")


# torch errors in a backward step that are torch's own gaps, not behaviour to copy: a backward
# kernel that refuses the mixed dtypes its forward accepted. (A missing double backward, "...
# is not implemented", is behaviour to copy: ndgrad must raise it too.)
TORCH_GAPS = ("Found dtype",)


def torch_gap(want: Result) -> bool:
    """Did torch stop at a backward step for one of its own gaps (see TORCH_GAPS)?"""
    return want.error is not None and want.stage != "forward" and any(
        m in str(want.error) for m in TORCH_GAPS)


def compare(got: Result, want: Result, rtol, atol, what="", *, check_dtype=True):
    """ndgrad's ``got`` against torch's ``want``: the same errors (by stage), outputs, grads and
    second-order grads. Where torch stops at one of its own gaps (``torch_gap``), ndgrad may go
    on: what both computed is compared, the rest is the caller's (finite differences)."""
    if torch_gap(want) and got.error is None:
        want.error = None
        if want.stage == "first":
            want.grads = None
        want.second = None
    if want.error is not None:
        assert got.error is not None and got.stage == want.stage, (
            f"{what}: torch raised {want.error!r} in {want.stage}, ndgrad: "
            f"{got.error!r} in {got.stage}" if got.error is not None else
            f"{what}: torch raised {want.error!r} in {want.stage}, ndgrad did not")
        if want.stage == "forward":
            return
    else:
        assert got.error is None, f"{what}: ndgrad raised {got.error!r} in {got.stage}"
    assert len(got.outs) == len(want.outs), f"{what}: output count"
    assert got.requires_grad == want.requires_grad, (
        f"{what}: outputs that require grad: torch {want.requires_grad}, ndgrad "
        f"{got.requires_grad}")
    for k, (a, b) in enumerate(zip(got.outs, want.outs)):
        if isinstance(b, torch.Tensor):
            compare_values(a, b, rtol, atol, f"{what} output {k}", check_dtype=check_dtype)
    if want.grads is None:
        return
    assert got.grads is not None and len(got.grads) == len(want.grads), f"{what}: grad count"
    for k, (a, b) in enumerate(zip(got.grads, want.grads)):
        compare_values(a, b, rtol, atol, f"{what} grad {k}", check_dtype=check_dtype)
    if want.second is None:
        return
    assert got.second is not None, f"{what}: ndgrad computed no second-order gradients"
    assert len(got.second) == len(want.second), (
        f"{what}: ndgrad's cotangents/grads need grad differently "
        f"({len(got.second)} vs torch {len(want.second)} second-order targets)")
    for k, (a, b) in enumerate(zip(got.second, want.second)):
        compare_values(a, b, rtol, atol, f"{what} second-order grad {k}",
                       check_dtype=check_dtype)


def both(fn, arrays, kwargs=None, **kw):
    """(ndgrad result, torch result) of ``derivatives``."""
    return derivatives(ndgrad, fn, arrays, kwargs, **kw), derivatives(torch, fn, arrays, kwargs,
                                                                      **kw)
