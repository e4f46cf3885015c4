"""torch's tooling namespaces (amp, backends, jit, compiler, accelerator, hub, cpu, onnx) and the
top-level names that go with them; ``ndgrad/__init__`` star-imports this module."""

from __future__ import annotations

from . import accelerator, amp, backends, compiler, cpu, hub, jit  # noqa: F401
from . import onnx  # noqa: F401  (torch.onnx: export through the optional onnx package)
from .amp import GradScaler, autocast
from .amp._state import *  # noqa: F403
from .amp._state import __all__ as _autocast_names
from ._predicates import *  # noqa: F403
from ._predicates import __all__ as _predicate_names
from ._switches import *  # noqa: F403
from ._switches import __all__ as _switch_names
from .utils import benchmark, checkpoint  # noqa: F401  (torch.utils.benchmark, .checkpoint)

__all__ = ["GradScaler", "accelerator", "amp", "autocast", "backends", "compiler", "cpu", "hub",
           "jit", "onnx", *_autocast_names, *_predicate_names, *_switch_names]
