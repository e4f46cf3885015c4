"""Same as torch.optim.Muon: momentum whose 2-D update is orthogonalised by a Newton-Schulz
iteration in bfloat16."""

from __future__ import annotations

import math

from .._tensor import Tensor
from . import _arrays as A
from ._state import zeros_like
from .optimizer import Optimizer

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    """Same as torch.optim.Muon."""

    _complex, _sparse = False, "Muon does not support sparse gradients"

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _init_state(self, p, group):
        return {"momentum_buffer": zeros_like(p.grad)}

    def _update(self, group, p, g, state, step):
        if g.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        lr, momentum, (buf,) = A.scalar(group["lr"]), group["momentum"], A.arrays(
            state, "momentum_buffer")
        A.lerp_(buf, g, 1 - momentum)
        update = A.lerp_(g.copy(), buf, momentum) if group["nesterov"] else buf
        update = _newton_schulz(p._device.xp, update, group["ns_coefficients"],
                                group["ns_steps"], group["eps"])
        p._data *= 1 - lr * group["weight_decay"]
        A.add_(p._data, update.astype(p._data.dtype), -_adjust_lr(lr, group["adjust_lr_fn"],
                                                                  p.shape))


def _bf16(xp, a):
    """Float32 ``a`` rounded to bfloat16's precision (to nearest, ties to even), kept as float32:
    torch runs the iteration in bfloat16; products accumulate in float32 and round once."""
    bits = a.view(xp.uint32)
    rounded = ((bits + (0x7FFF + ((bits >> 16) & 1))) & 0xFFFF0000).view(xp.float32)
    return xp.where(xp.isnan(a), a, rounded)


def _newton_schulz(xp, grad, coefficients, steps: int, eps: float):
    """torch's _zeropower_via_newtonschulz: ≈ U Vᵀ of grad = U S Vᵀ, in bfloat16 arithmetic."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (xp.float32(k) for k in coefficients)
    x = _bf16(xp, grad.astype(xp.float32))
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(xp, xp.sqrt(xp.vdot(x.ravel(), x.ravel())).reshape(1))[0]
    x = _bf16(xp, x / max(norm, _bf16(xp, xp.asarray([eps], xp.float32))[0]))
    for _ in range(steps):
        gram = _bf16(xp, x @ x.T)
        update = _bf16(xp, b * gram + c * (gram @ gram))
        x = _bf16(xp, a * x + update @ x)
    return x.T if tall else x


def _adjust_lr(lr: float, adjust_lr_fn, shape) -> float:
    """torch's default learning-rate scaling for a rows x cols update."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr
