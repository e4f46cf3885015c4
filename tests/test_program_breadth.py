"""Names and behaviours public programs needed (pytorch/examples, minGPT, tutorials...), each a
short snippet of its own checked against torch."""

from collections import deque

import numpy as np
import pytest
import torch

import ndgrad


def _same(fn):
    ours, ref = fn(ndgrad), fn(torch)
    assert str(ours.dtype).rpartition(".")[2] == str(ref.dtype).rpartition(".")[2]
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), ref.detach().numpy())


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(deque([1.0, 2.5, -3.0])),  # reinforce.py: torch.tensor(returns)
    lambda lib: lib.tensor(deque([1, 2])),
    lambda lib: lib.tensor([deque([1, 2]), deque([3, 4])]),
    lambda lib: lib.tensor(deque([lib.tensor(1.0), lib.tensor(2.0)])),
])
def test_tensor_from_a_deque(make):
    _same(make)
