"""torch.cuda: device queries over CuPy (all answer 'no GPU' when CuPy or a GPU is missing)."""

from __future__ import annotations

from ._backend import cuda_available, cupy, device

__all__ = ["current_device", "device", "device_count", "empty_cache", "get_device_name",
           "is_available", "manual_seed", "manual_seed_all", "set_device", "synchronize"]


def is_available() -> bool:
    """Same as torch.cuda.is_available (CuPy and a GPU are present)."""
    return cuda_available()


def device_count() -> int:
    """Same as torch.cuda.device_count."""
    return cupy().cuda.runtime.getDeviceCount() if cuda_available() else 0


def _lazy_check() -> None:
    if not cuda_available():
        cupy()  # raises torch's "not compiled with CUDA" AssertionError when CuPy is missing
        raise RuntimeError("No CUDA GPUs are available")


def current_device() -> int:
    """Same as torch.cuda.current_device."""
    _lazy_check()
    return cupy().cuda.Device().id


def set_device(dev) -> None:
    """Same as torch.cuda.set_device."""
    _lazy_check()
    cupy().cuda.Device(device(dev).index if not isinstance(dev, int) else dev).use()


def get_device_name(dev=None) -> str:
    """Same as torch.cuda.get_device_name."""
    _lazy_check()
    idx = 0 if dev is None else (dev if isinstance(dev, int) else device(dev).index or 0)
    return cupy().cuda.runtime.getDeviceProperties(idx)["name"].decode()


def synchronize(dev=None) -> None:
    """Same as torch.cuda.synchronize."""
    if cuda_available():
        cupy().cuda.Device().synchronize()


def empty_cache() -> None:
    """Same as torch.cuda.empty_cache."""
    if cuda_available():
        cupy().get_default_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """Same as torch.cuda.manual_seed: ndgrad draws CUDA tensors from the CPU generator."""
    from .random import manual_seed as _seed

    _seed(seed)


manual_seed_all = manual_seed


from .amp._legacy import cuda_amp as amp  # noqa: E402,F401  (torch.cuda.amp)
