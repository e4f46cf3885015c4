"""set_num_threads / get_num_threads: torch's checks; the BLAS pool follows the setting."""

import pytest
import torch

import ndgrad


@pytest.mark.parametrize("bad", [0, -1, 2.5, "2", True])
def test_set_num_threads_rejects_what_torch_rejects(bad):
    with pytest.raises(RuntimeError) as want:
        torch.set_num_threads(bad)
    with pytest.raises(RuntimeError) as got:
        ndgrad.set_num_threads(bad)
    assert str(got.value) == str(want.value)


def test_set_num_threads_sizes_the_blas_pool():
    from threadpoolctl import threadpool_info

    before = ndgrad.get_num_threads()
    try:
        ndgrad.set_num_threads(1)
        assert ndgrad.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    finally:
        ndgrad.set_num_threads(before)
    assert ndgrad.get_num_threads() == before >= 1


def test_stacks_of_small_matrices_split_over_threads_give_the_same_bits():
    import numpy as np

    from ndgrad._threads import split_matmul

    rng = np.random.default_rng(0)
    a = rng.standard_normal((400, 50, 60), dtype=np.float32)
    b = rng.standard_normal((400, 60, 40), dtype=np.float32)
    before = ndgrad.get_num_threads()
    try:
        ndgrad.set_num_threads(2)
        out = split_matmul(a, b)
        assert out is not None and np.array_equal(out, np.matmul(a, b))
        assert split_matmul(a[:4], b[:4]) is None  # too little work to split
        x, y = ndgrad.from_numpy(a).requires_grad_(), ndgrad.from_numpy(b).requires_grad_()
        tx, ty = torch.from_numpy(a).requires_grad_(), torch.from_numpy(b).requires_grad_()
        ndgrad.bmm(x, y).square().sum().backward()
        torch.bmm(tx, ty).square().sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-4, atol=1e-3)
    finally:
        ndgrad.set_num_threads(before)
