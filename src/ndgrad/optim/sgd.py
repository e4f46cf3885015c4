"""Same as torch.optim.SGD (momentum, dampening, nesterov, weight_decay, maximize)."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from .optimizer import Optimizer, _no_differentiable

__all__ = ["SGD"]


class SGD(Optimizer):
    """Same as torch.optim.SGD; ``foreach``/``fused`` are accepted and use the same loop."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _no_differentiable(differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group) -> None:
        lr, momentum, dampening = A.scalar(group["lr"]), group["momentum"], group["dampening"]
        wd, nesterov = A.scalar(group["weight_decay"]), group["nesterov"]
        maximize = group["maximize"]
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            param, g = A.real(p._data), A.real(grad._data)
            g = -g if maximize else g
            if wd != 0:
                g = A.added(g, param, wd)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:  # the first step's buffer is the (decayed) gradient itself
                    buf = state["momentum_buffer"] = Tensor._make(
                        p._device.xp.empty_like(p._data), p._device)
                    b = A.real(buf._data)
                    b[...] = g
                else:
                    b = A.real(buf._data)
                    b *= momentum
                    A.add_(b, g, 1 - dampening)
                g = A.added(g, b, momentum) if nesterov else b
            A.add_(param, g, -lr)
            A.bump(p)

