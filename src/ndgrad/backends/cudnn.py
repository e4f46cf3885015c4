"""Same as torch.backends.cudnn: flags (recorded; ndgrad has no cuDNN) and its queries."""

from __future__ import annotations

import contextlib

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: ndgrad's convolutions do not use cuDNN."""
    return False


def version() -> None:
    return None


def is_acceptable(tensor) -> bool:
    return False


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    """Same as torch.backends.cudnn.flags: set the flags for a block, then restore them."""
    g = globals()
    new = {"enabled": enabled, "benchmark": benchmark, "benchmark_limit": benchmark_limit,
           "deterministic": deterministic, "allow_tf32": allow_tf32}
    old = {k: g[k] for k in new}
    g.update(new)
    try:
        yield
    finally:
        g.update(old)
