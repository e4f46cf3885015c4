"""Top-level aliases of torch.nn.functional and compatibility switches, against torch."""

import numpy as np
import pytest
import torch

import ndgrad


@pytest.mark.parametrize("name,kw", [("softmax", {"dim": 1}), ("log_softmax", {"dim": 0}),
                                     ("threshold", {"threshold": 0.1, "value": -1.0}),
                                     ("ravel", {})])
def test_top_level_functional_aliases(name, kw):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    a = getattr(ndgrad, name)(ndgrad.from_numpy(x), **kw)
    b = getattr(torch, name)(torch.from_numpy(x), **kw)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)


def test_is_nonzero_and_switches():
    assert ndgrad.is_nonzero(ndgrad.tensor([2.0])) == torch.is_nonzero(torch.tensor([2.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        ndgrad.is_nonzero(ndgrad.ones(2))
    ndgrad.use_deterministic_algorithms(True)
    assert ndgrad.are_deterministic_algorithms_enabled()
    ndgrad.use_deterministic_algorithms(False)
    model = ndgrad.nn.Linear(2, 2)
    assert ndgrad.compile(model)._orig_mod is model
