"""torch.serialization's allowlist for weights_only unpickling. ndgrad.load never unpickles (it
builds only tensors, containers and numbers), so the list changes nothing that loads; it is kept
so that programs registering their classes run unchanged."""

from __future__ import annotations

_SAFE: list = []


def add_safe_globals(safe_globals: list) -> None:
    """Same as torch.serialization.add_safe_globals."""
    _SAFE.extend(safe_globals)


def get_safe_globals() -> list:
    """Same as torch.serialization.get_safe_globals."""
    return list(_SAFE)


def clear_safe_globals() -> None:
    """Same as torch.serialization.clear_safe_globals."""
    _SAFE.clear()


class safe_globals:
    """Same as torch.serialization.safe_globals: the globals are allowed inside the block."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = safe_globals

    def __enter__(self):
        self._before = len(_SAFE)
        _SAFE.extend(self.safe_globals)
        return self

    def __exit__(self, *exc) -> bool:
        del _SAFE[self._before:]
        return False
