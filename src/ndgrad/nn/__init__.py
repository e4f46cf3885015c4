"""Same as torch.nn."""

from . import functional, init
from .modules import Identity, Linear, Module, ModuleDict, ModuleList, ReLU, Sequential
from .parameter import Buffer, Parameter
from . import parallel  # noqa: E402  (after modules: DDP is a Module)
