"""Same as torch.autograd.grad_mode (the flag lives in ndgrad._grad_mode, below the Tensor)."""

from .._grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                          is_inference_mode_enabled, no_grad, set_grad_enabled, state)
