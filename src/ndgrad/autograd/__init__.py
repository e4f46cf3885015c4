"""Same as torch.autograd: backward, grad, Function, grad modes, gradcheck."""

from .engine import backward, grad
from .function import Function
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)

__all__ = ["backward", "grad", "Function", "enable_grad", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "no_grad", "set_grad_enabled"]
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402
