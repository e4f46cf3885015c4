"""Views and in-place writes under composition, against torch: what a write through a view does to
its base's history (retain_grad follows the base to its CopySlices node), and the writes torch
refuses because an operand partially overlaps the written tensor. Each case is a bug a probe
found."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from harness import to_numpy

import ndgrad


def _x(T, shape=(3, 4)):
    return T.tensor(np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape), requires_grad=True)


def _same(want, got):
    for w, g in zip(want, got, strict=True):
        assert (w is None) == (g is None)
        if w is not None:
            assert tuple(g.shape) == tuple(w.shape)
            tol = 1e-6 if w.dtype == torch.float32 else 1e-12
            np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=tol, atol=tol)


# --- retain_grad on a base written through a view: .grad is that of the new value --------------
def _retained(T, write):
    x = _x(T)
    y = x * 1
    v = y[1]
    y.retain_grad()
    v.retain_grad()
    write(y, v)
    (y * y).sum().backward()
    return [x.grad, y.grad, v.grad]


WRITES = {
    "view.exp_()": lambda y, v: v.exp_(),
    "view.mul_(2) twice": lambda y, v: (v.mul_(2), v.mul_(2)),
    "other view": lambda y, v: y[:, 2].add_(1),
    "view then base": lambda y, v: (v.sin_(), y.mul_(3)),
    "transposed view": lambda y, v: y.t()[1:].sigmoid_(),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_retain_grad_follows_a_base_written_through_a_view(write):
    _same(_retained(torch, WRITES[write]), _retained(ndgrad, WRITES[write]))


# --- torch refuses an operand that partially overlaps the written tensor ------------------------
REFUSED = [
    "v[1:].add_(v[:-1])", "v[1:].copy_(v[:-1])", "x.t().add_(x)", "x.t().copy_(x)",
    "y.add_(y[0])", "y.mul_(y[1])", "v[1:].add_(v[:-1], alpha=2)",
    "v[1:].addcmul_(v[:-1], v[:-1])", "v[1:].lerp_(v[:-1], .5)", "v[1:].clamp_(v[:-1])",
    "v[1:].atan2_(v[:-1])", "v[1:].sub_(v[:-1].view(7))", "v[1:].pow_(v[:-1])",
    "v[1:].div_(v[:-1])",
]
ALLOWED = [  # the same elements, apart, or not dense (torch's 'too hard' to tell)
    "v.add_(v)", "v.add_(v.view(2, 4).view(8))", "v[:4].add_(v[4:])",
    "y.t().add_(y.t())", "v[1:].exp_()", "v[1:].add_(v[0])", "v[1:].mul_(v[:1])",
    "v[1:].masked_fill_(v[1:] > 2, 0)", "v[1:].index_add_(0, T.tensor([0]), v[:1])",
    "v[2:].copy_(v[2:] * 2)", "x[::2].add_(x[1::2])",
]


def _program(T, code):
    y = T.arange(12.0).reshape(3, 4)
    x = T.arange(16.0).reshape(4, 4)
    v = T.arange(8.0)
    eval(code, {"T": T, "x": x, "y": y, "v": v})
    return [x, y, v]


@pytest.mark.parametrize("code", REFUSED)
def test_partial_overlap_is_refused(code):
    for T in (torch, ndgrad):
        with pytest.raises(RuntimeError, match="some elements of the input tensor and the "
                                               "written-to tensor refer to a single memory"):
            _program(T, code)


@pytest.mark.parametrize("code", ALLOWED)
def test_overlap_torch_allows(code):
    _same(_program(torch, code), _program(ndgrad, code))


def test_overlap_too_hard_to_tell_is_allowed():
    """Overlapping operands that are not dense: torch does not check (its result then depends on
    its loop order, ndgrad's is the out-of-place one); neither raises."""
    for T in (torch, ndgrad):
        _program(T, "y[:, 1:].add_(y[:, :-1])")


def test_partial_overlap_refused_under_autograd_leaves_values_and_versions():
    for T in (torch, ndgrad):
        x = _x(T, (8,))
        y = x * 1
        with pytest.raises(RuntimeError, match="single memory location"):
            y[1:].mul_(y[:-1])
        assert y._version == 0
        np.testing.assert_allclose(to_numpy(y), np.linspace(0.5, 1.5, 8))


# --- a write after an op raises torch's version error exactly where torch's formula reads it -----
def _written_after(T, op, which):
    x = _x(T)
    y = x * 1
    z = op(T, y)
    (z if which == "result" else y).mul_(2)
    try:
        T.autograd.grad(z.sum(), x)
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e)
        return "error"
    return "ok"


WRITTEN = {  # torch's formulas: erfinv, i0 and entr read the input, ndtri the result
    "erfinv": lambda T, y: (y * 0.5).erfinv(), "i0": lambda T, y: T.special.i0(y),
    "entr": lambda T, y: T.special.entr(y), "ndtri": lambda T, y: T.special.ndtri(y * 0.5),
    "erfcx": lambda T, y: T.special.erfcx(y), "i0e": lambda T, y: T.special.i0e(y),
    "exp": lambda T, y: y.exp(), "sin": lambda T, y: y.sin(), "pow": lambda T, y: y ** 3,
    # a quotient by a constant keeps only the divisor (x / 2, then x written: torch computes)
    "div by 2": lambda T, y: y / 2, "div by 0-d": lambda T, y: y / T.tensor(2.0),
    "div by tensor": lambda T, y: y.true_divide(T.full((3, 4), 2.0)),
    "rdiv": lambda T, y: 2 / y, "div by itself": lambda T, y: y / y.detach(),
}


@pytest.mark.parametrize("which", ["result", "input"])
@pytest.mark.parametrize("op", sorted(WRITTEN))
def test_write_after_op_raises_as_torch(op, which):
    assert _written_after(ndgrad, WRITTEN[op], which) == _written_after(torch, WRITTEN[op], which)
