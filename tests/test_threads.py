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
