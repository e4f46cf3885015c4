"""Same as torch.signal: window functions (``windows``)."""

from . import windows

__all__ = ["windows"]
