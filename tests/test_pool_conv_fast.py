"""The fast paths of LeNet-style layers against torch: max pooling over tiling windows without
indices (values, first- and second-order gradients, torch's first-maximum rule on ties and NaN)."""

import numpy as np
import pytest
import torch

import ndgrad

R = np.random.default_rng(14)


def _input(shape, kind, dtype=np.float32):
    a = R.standard_normal(shape).astype(dtype)
    if kind == "ties":  # relu's zeros: whole windows tie
        a = np.maximum(a, 0).round(1)
    if kind == "nan" and a.size:
        a.flat[R.choice(a.size, min(a.size, 7), replace=False)] = np.nan
    return a


@pytest.mark.parametrize("kind", ["plain", "ties", "nan"])
@pytest.mark.parametrize("shape,k", [((4, 3, 8, 8), 2), ((2, 2, 7, 9), (3, 2)), ((3, 5, 6), 2),
                                     ((0, 2, 4, 4), 2), ((2, 3, 6, 6), 3), ((1, 2, 9, 8), (1, 4))])
def test_tiling_max_pool_without_indices(kind, shape, k):
    a = _input(shape, kind)
    cot = R.standard_normal(a.shape).astype(np.float32)
    wa = None
    res = []
    for T in (torch, ndgrad):
        x = T.from_numpy(a.copy()).requires_grad_()
        out = T.nn.functional.max_pool2d(x, k)
        wa = R.standard_normal(tuple(out.shape)).astype(np.float32) if wa is None else wa
        assert type(out.grad_fn).__name__ == "MaxPool2DWithIndicesBackward0"
        w = T.from_numpy(wa.copy()).requires_grad_()
        (g,) = T.autograd.grad((out * w).nansum(), x, create_graph=True)
        (gg,) = T.autograd.grad((g * T.from_numpy(cot)).sum(), w)
        (g1,) = T.autograd.grad((out * w).nansum(), x)  # first order on raw arrays
        res.append([t if t is None else t.detach().numpy() for t in (out, g, g1, gg)])
    for got, want in zip(res[1], res[0]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_tiling_max_pool_dtypes(dtype):
    a = _input((2, 3, 4, 6), "ties", dtype)
    outs = []
    for T in (torch, ndgrad):
        x = T.from_numpy(a.copy()).requires_grad_()
        out = T.nn.functional.max_pool2d(x, 2)
        out.sum().backward()
        outs.append((out.detach().numpy(), x.grad.numpy()))
    for got, want in zip(outs[1], outs[0]):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
