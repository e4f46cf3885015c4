"""Same as torch.utils."""

from . import data
