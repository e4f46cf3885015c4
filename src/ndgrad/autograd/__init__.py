"""Same as torch.autograd: backward, grad, Function, grad modes, gradcheck, functional, graph,
forward_ad."""

from . import forward_ad, functional, graph
from ._nested_io import NestedIOFunction
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .engine import backward, grad
from .function import Function
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .variable import Variable

__all__ = ["Function", "GradcheckError", "NestedIOFunction", "backward", "detect_anomaly",
           "enable_grad", "forward_ad", "functional", "grad", "gradcheck", "gradgradcheck", "graph",
           "inference_mode", "is_grad_enabled", "is_inference_mode_enabled", "no_grad",
           "set_detect_anomaly", "set_grad_enabled", "Variable"]
