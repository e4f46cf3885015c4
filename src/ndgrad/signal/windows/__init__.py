"""Same as torch.signal.windows."""

from .windows import *  # noqa: F403
from .windows import __all__  # noqa: F401
