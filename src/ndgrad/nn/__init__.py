"""Same as torch.nn."""

from . import functional, init, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter
from . import parallel  # noqa: E402  (after modules: DDP is a Module)
from .parallel import DataParallel  # noqa: E402
from . import attention  # noqa: E402

__all__ = ["Buffer", "DataParallel", "Parameter", "attention", "functional", "init", "utils",
           *_modules_all]
