"""Shared fixtures. torch is the oracle: a missing torch is an error, never a skip."""

import numpy as np
import pytest
import torch  # noqa: F401  (fail loudly if the test extra is not installed)

import ndgrad


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _devices():
    devs = ["cpu"]
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            devs.append("cuda")
    except Exception:
        pass
    return devs


@pytest.fixture(params=_devices())
def device(request):
    return request.param


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    ndgrad.set_default_dtype(ndgrad.float32)
    torch.set_default_dtype(torch.float32)
