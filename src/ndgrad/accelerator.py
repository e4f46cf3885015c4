"""Same as torch.accelerator: the current accelerator is CUDA when CuPy sees a GPU, else none."""

from __future__ import annotations

from ._backend import cuda_available, device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "device_index", "empty_cache", "is_available", "set_device_idx", "set_device_index",
           "synchronize"]


def is_available() -> bool:
    return cuda_available()


def current_accelerator(check_available: bool = False):
    """device('cuda') when a GPU is usable, else None."""
    return device("cuda") if cuda_available() else None


def device_count() -> int:
    from . import cuda

    return cuda.device_count()


def _need() -> None:
    if not cuda_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")


def current_device_index() -> int:
    _need()
    from . import cuda

    return cuda.current_device()


def set_device_index(device, /) -> None:
    _need()
    from . import cuda

    cuda.set_device(device)


current_device_idx, set_device_idx = current_device_index, set_device_index


def synchronize(device=None, /) -> None:
    _need()
    from . import cuda

    cuda.synchronize(device)


def empty_cache() -> None:
    _need()
    from . import cuda

    cuda.empty_cache()


class device_index:
    """Same as torch.accelerator.device_index: a context manager selecting a device index (None
    does nothing)."""

    def __init__(self, device, /) -> None:
        self.idx, self.prev = device, None

    def __enter__(self):
        if self.idx is not None:
            self.prev = current_device_index()
            set_device_index(self.idx)
        return self

    def __exit__(self, *exc) -> bool:
        if self.prev is not None:
            set_device_index(self.prev)
        return False
