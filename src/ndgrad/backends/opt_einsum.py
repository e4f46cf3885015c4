"""Same as torch.backends.opt_einsum: available when the opt_einsum package is installed."""

from __future__ import annotations

import importlib.util


def is_available() -> bool:
    return importlib.util.find_spec("opt_einsum") is not None


def get_opt_einsum():
    """The opt_einsum module, or None."""
    if not is_available():
        return None
    import opt_einsum

    return opt_einsum


enabled = is_available()
strategy = "auto" if enabled else None
