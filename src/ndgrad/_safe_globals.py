"""torch.serialization's allowlist for weights_only loading: the classes and functions a file
may name beyond torch's defaults (read by serialization.py and _torch_files.py)."""

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
