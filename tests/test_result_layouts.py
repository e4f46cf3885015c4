"""Results laid out as torch lays them out, on permuted (non-contiguous) inputs: reductions over
dims, scans, softmax and the normalizations allocate contiguous results in torch, so that
``x.transpose(0, 2).softmax(-1).view(-1)`` works (it raised: ndgrad kept the input's layout).
Strides, values and ``view`` against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndgrad

F = "nn.functional"
OPS = {
    "sum1": lambda T, a: a.sum(1), "sum1k": lambda T, a: a.sum(1, keepdim=True),
    "mean2": lambda T, a: a.mean(2), "prod0": lambda T, a: a.prod(0),
    "amax1": lambda T, a: a.amax(1), "max1": lambda T, a: a.max(1).values,
    "argmax1": lambda T, a: a.argmax(1), "std1": lambda T, a: a.std(1),
    "var0k": lambda T, a: a.var(0, keepdim=True), "logsumexp2": lambda T, a: a.logsumexp(2),
    "norm1": lambda T, a: a.norm(dim=1), "all1": lambda T, a: (a > 0).all(1),
    "any2": lambda T, a: (a > 0).any(2), "nansum1": lambda T, a: a.nansum(1),
    "cumsum0": lambda T, a: a.cumsum(0), "cumsum2": lambda T, a: a.cumsum(2),
    "cumprod1": lambda T, a: a.cumprod(1), "cummax1": lambda T, a: a.cummax(1).values,
    "logcumsumexp1": lambda T, a: a.logcumsumexp(1), "softmax2": lambda T, a: a.softmax(2),
    "softmax0": lambda T, a: a.softmax(0), "log_softmax1": lambda T, a: a.log_softmax(1),
    "layer_norm": lambda T, a: T.nn.functional.layer_norm(a, (3,)),
    "group_norm": lambda T, a: T.nn.functional.group_norm(a, 1),
    "prod1": lambda T, a: a.prod(1), "count_nonzero1": lambda T, a: T.count_nonzero(a, 1),
    "avg_pool1d": lambda T, a: T.nn.functional.avg_pool1d(a, 2),
    "avg_pool2d": lambda T, a: T.nn.functional.avg_pool2d(a[None], 2),
    "lp_pool1d": lambda T, a: T.nn.functional.lp_pool1d(a, 2, 2),
    "one_hot": lambda T, a: T.nn.functional.one_hot((a > 0).long(), 2),
    "tile": lambda T, a: a.tile(2),
}
NO_GRAD = ("all1", "any2", "argmax1", "count_nonzero1", "one_hot")


def _input(T):
    return T.arange(24.0, dtype=T.float64).reshape(2, 3, 4).sin().permute(2, 0, 1)


@pytest.mark.parametrize("name", OPS)
def test_results_on_a_permuted_input_are_laid_out_as_torch(name):
    want, got = OPS[name](torch, _input(torch)), OPS[name](ndgrad, _input(ndgrad))
    assert got.stride() == want.stride() and got.is_contiguous() == want.is_contiguous()
    np.testing.assert_allclose(got.view(-1)._data, want.view(-1).numpy(), rtol=1e-12)


def test_tile_takes_one_int_or_unpacked_dims_as_tensor_tile():
    for T in (torch, ndgrad):
        x = T.ones(2, 3)
        assert tuple(x.tile(2).shape) == (2, 6) and tuple(x.tile(2, 1).shape) == (4, 3)


@pytest.mark.parametrize("name", [n for n in OPS if n not in NO_GRAD])
def test_gradients_through_laid_out_results_equal_torch(name):
    def grads(T):
        x = T.arange(24.0, dtype=T.float64).reshape(2, 3, 4).sin().requires_grad_()
        y = OPS[name](T, x.permute(2, 0, 1))
        w = T.linspace(-1, 1, y.numel(), dtype=T.float64).reshape(y.shape)
        g, = T.autograd.grad((y * w).sum(), x, create_graph=True)
        h, = T.autograd.grad((g * g * x.sin()).sum(), x)
        return [g.detach(), h]

    for a, b in zip(grads(torch), grads(ndgrad)):
        np.testing.assert_allclose(b._data, a.numpy(), rtol=1e-9, atol=1e-12)


def test_a_saved_output_made_contiguous_is_still_version_checked():
    for T in (torch, ndgrad):
        x = T.arange(6.0, dtype=T.float64).reshape(2, 3).requires_grad_()
        y = x.t().softmax(-1)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
