"""The fast paths of LeNet-style layers against torch: max pooling over tiling windows without
indices (values, first- and second-order gradients, torch's first-maximum rule on ties and NaN);
unit-row-stride 2-D convolution (im2col from shifted rows, the input gradient by one GEMM over
shifted g) over paddings, dilations, groups, width strides and non-contiguous inputs."""

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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cfg", [
    dict(x=(4, 6, 14, 14), w=(16, 6, 5, 5)),  # LeNet's conv2
    dict(x=(4, 1, 28, 28), w=(6, 1, 5, 5), padding=2),  # LeNet's conv1
    dict(x=(2, 4, 9, 7), w=(6, 2, 3, 2), padding="same", dilation=(2, 1), groups=2),
    dict(x=(2, 3, 8, 9), w=(4, 3, 2, 3), padding=(1, 2), dilation=(1, 2)),
    dict(x=(2, 3, 8, 9), w=(4, 3, 3, 3), stride=(1, 2), padding=1),
    dict(x=(3, 2, 5, 1), w=(3, 2, 1, 1)),
    dict(x=(2, 3, 6, 5), w=(2, 3, 6, 5)),  # the kernel covers the input
    dict(x=(2, 3, 7, 8), w=(4, 3, 3, 3), transpose=True),
    dict(x=(0, 3, 7, 8), w=(4, 3, 3, 3)),
])
def test_unit_row_stride_conv2d(cfg, dtype):
    cfg = dict(cfg)
    xs, ws, transpose = cfg.pop("x"), cfg.pop("w"), cfg.pop("transpose", False)
    a = R.standard_normal(xs).astype(dtype)
    if transpose:
        a = np.ascontiguousarray(a.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    wa, ba = R.standard_normal(ws).astype(dtype), R.standard_normal(ws[0]).astype(dtype)
    res = []
    for T in (torch, ndgrad):
        x = T.from_numpy(a).requires_grad_()
        w, b = T.from_numpy(wa.copy()).requires_grad_(), T.from_numpy(ba.copy()).requires_grad_()
        out = T.nn.functional.conv2d(x, w, b, **cfg)
        cot = T.from_numpy(np.random.default_rng(0).standard_normal(tuple(out.shape))
                           .astype(dtype))
        grads = T.autograd.grad(out, (x, w, b), cot)
        res.append([t.detach().numpy() for t in (out, *grads)])
    tol = (1e-4, 1e-3) if dtype == np.float32 else (1e-10, 1e-10)  # (float32: sums of 3136)
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=tol[0], atol=tol[1])
