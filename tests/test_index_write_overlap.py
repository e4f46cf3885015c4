"""Overlap checks of index writes, as torch's. ``x[key] = value`` checks the region written
(not the whole tensor) against the value: its copy_ refuses a partial overlap, an advanced key's
index_put_ a partial or full one, with or without autograd. Before, ndgrad compared the whole
tensor under autograd (``x[:2] = x[2:4]`` raised, and torch's LowRankMultivariateNormal of rank
one, which adds the identity as ``K.view(-1, m * m)[:, ::m + 1] += 1``) and nothing without it
(``x[1:3] = x[2:4]`` passed); index_put_ did not check, masked_scatter_ refused its own source."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndgrad

CASES = ["x[T.tensor([0, 1])] = x[2:4]", "x[1:3] = x[2:4]", "x[:2] = x[2:4]",
         "x[x > 100] = x[:0]", "x[...] = x", "x[:] = x.flip(0)", "x[2:4] = x[2:4]",
         "x[T.tensor([0, 1])] = x[T.tensor([0, 1])] * 1", "y = x.view(6, 1); y[:, ::2] += 1",
         "x.view(3, 2)[:, 0] = x.view(3, 2)[:, 1]", "x[::2] = x[1::2]", "x[T.tensor([5])] = x[5:]",
         # the other writes of given values: index_put_ refuses a partial or full overlap,
         # masked_scatter_ reads its source in order (no check), the rest a partial one
         "x.index_put_((T.tensor([0, 1]),), x[2:4])",
         "x.index_put_((T.tensor([0, 1]),), x[2:4], True)",
         "x.index_put_((T.tensor([0, 1]),), x[T.tensor([2, 3])])", "x.masked_scatter_(x > 0, x)",
         "x.index_copy_(0, T.tensor([0, 1]), x[2:4])", "x.scatter_(0, T.tensor([0, 1]), x[2:4])",
         "x.index_add_(0, T.tensor([0, 1]), x[1:3])", "x[1:3].copy_(x[2:4])",
         "x.put_(T.tensor([0, 1]), x[2:4])", "x.masked_fill_(x > 0, x[0])"]


def _run(T, code, grad):
    x = T.linspace(-1, 1, 6, dtype=T.float64, requires_grad=grad) * 1
    try:
        exec(code, {"T": T, "x": x})
    except RuntimeError as e:
        assert "refer to a single memory location" in str(e)
        return "refused"
    return x.detach().numpy() if T is torch else x.detach()._data


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("code", CASES)
def test_setitem_overlap_as_torch(code, grad):
    want, got = _run(torch, code, grad), _run(ndgrad, code, grad)
    if isinstance(want, str):
        assert got == want
    else:
        np.testing.assert_array_equal(got, want)


def test_low_rank_mvn_of_rank_one_equals_torch():
    def run(T):
        loc = T.tensor([0.1, -0.2, 0.3], dtype=T.float64, requires_grad=True)
        f = T.tensor([[0.5], [-1.0], [2.0]], dtype=T.float64, requires_grad=True)
        d = T.distributions.LowRankMultivariateNormal(loc, f, T.ones(3, dtype=T.float64))
        lp = d.log_prob(T.tensor([0.2, 0.3, 0.5], dtype=T.float64)) + d.entropy()
        return [lp.detach(), *T.autograd.grad(lp, (loc, f))]

    for a, b in zip(run(torch), run(ndgrad)):
        np.testing.assert_allclose(b._data, a.numpy(), rtol=1e-12)
