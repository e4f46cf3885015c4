"""max_pool2d over windows that tile the input (stride = kernel, no padding) takes a fast path:
its values, indices (torch's first-maximum rule on ties, NaN winning) and gradients are torch's."""

import numpy as np
import pytest
import torch

import ndgrad

R = np.random.default_rng(5)


def _input(shape, kind):
    a = R.standard_normal(shape).astype(np.float32)
    if kind == "ties":  # relu's zeros: whole windows tie
        a = np.maximum(a, 0).round(1)
    if kind == "nan" and a.size:
        a.flat[R.choice(a.size, 5, replace=False)] = np.nan
    return a


@pytest.mark.parametrize("kind", ["plain", "ties", "nan"])
@pytest.mark.parametrize("shape,k", [((4, 3, 8, 8), 2), ((2, 2, 7, 9), (3, 2)), ((3, 5, 6), 2),
                                     ((0, 2, 4, 4), 2)])
def test_tiling_max_pool_matches_torch(kind, shape, k):
    a = _input(shape, kind)
    res = []
    for T in (torch, ndgrad):
        x = T.from_numpy(a.copy()).requires_grad_()
        out, idx = T.nn.functional.max_pool2d(x, k, return_indices=True)
        if out.numel():
            (out * T.arange(out.numel(), dtype=out.dtype).reshape(out.shape)).nansum().backward()
        res.append([out.detach().numpy(), idx.numpy(),
                    None if x.grad is None else x.grad.numpy()])
    (w_out, w_idx, w_g), (g_out, g_idx, g_g) = res
    np.testing.assert_array_equal(g_out, w_out)
    np.testing.assert_array_equal(g_idx, w_idx)
    if w_g is not None:
        np.testing.assert_array_equal(g_g, w_g)
