"""Same as torch.optim.SGD (momentum, dampening, nesterov, weight_decay, maximize)."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from ._state import check_args
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Same as torch.optim.SGD."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None) -> None:
        check_args(lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _init_state(self, p, group):
        # plain SGD keeps no state; the momentum buffer is made from the first gradient
        return {"momentum_buffer": None} if group["momentum"] != 0 else {}

    def _update(self, group, p, g, state, step):
        param, momentum = A.real(p._data), group["momentum"]
        wd = A.scalar(group["weight_decay"])
        if wd != 0:
            g = A.added(g, param, wd)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:  # the first step's buffer is the (decayed) gradient itself
                buf = state["momentum_buffer"] = Tensor._make(
                    p._device.xp.empty_like(p._data), p._device)
                b = A.real(buf._data)
                b[...] = g
            else:
                b = A.real(buf._data)
                b *= momentum
                A.add_(b, g, 1 - group["dampening"])
            g = A.added(g, b, momentum) if group["nesterov"] else b
        A.add_(param, g, -A.scalar(group["lr"]))
