"""torch.random.fork_rng: a block whose random draws leave the global generator as it was."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None):
    """Same as torch.random.fork_rng. ndgrad draws CUDA tensors from the CPU generator, so
    restoring it restores every device's stream."""
    if not enabled:
        yield
        return
    from .random import get_rng_state, set_rng_state

    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
