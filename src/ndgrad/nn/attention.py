"""Same as torch.nn.attention: ``sdpa_kernel`` and ``SDPBackend``.

ndgrad has one implementation of scaled_dot_product_attention (on the CPU it is torch's fused
kernel for float32 4-d inputs, the math path otherwise), so choosing a backend changes nothing it
computes; the context manager checks its argument as torch does and restores the choice."""

from __future__ import annotations

import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """Same as torch.nn.attention.SDPBackend."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_enabled: list = [list(SDPBackend)[1:]]  # the backends the innermost sdpa_kernel allows


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Same as torch.nn.attention.sdpa_kernel (a context manager)."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, (list, tuple, set)) or not all(
            isinstance(b, SDPBackend) for b in backends):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    _enabled.append(list(dict.fromkeys(backends)))
    try:
        yield
    finally:
        _enabled.pop()
