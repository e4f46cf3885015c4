"""Same as torch.optim.RMSprop (centered, momentum, weight_decay, maximize)."""

from __future__ import annotations

from . import _arrays as A
from ._state import check_args, step_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Same as torch.optim.RMSprop."""

    _sparse = "RMSprop does not support sparse gradients"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False) -> None:
        check_args(lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _init_state(self, p, group):
        state = {"step": step_tensor(), "square_avg": zeros_like(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = zeros_like(p)
        return state

    def _update(self, group, p, g, state, step):
        alpha, wd, xp = group["alpha"], group["weight_decay"], p._device.xp
        param, (sq,) = A.real(p._data), A.arrays(state, "square_avg")
        lr = A.scalar(group["lr"])
        if wd != 0:
            g = A.added(g, param, wd)
        sq *= alpha
        A.addcmul_(sq, g, g, 1 - alpha)
        if group["centered"]:
            (ga,) = A.arrays(state, "grad_avg")
            A.lerp_(ga, g, 1 - alpha)
            avg = A.addcmul_(sq.copy(), ga, ga, -1)
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(sq)
        avg += group["eps"]
        if group["momentum"] > 0:
            (buf,) = A.arrays(state, "momentum_buffer")
            buf *= group["momentum"]
            A.addcdiv_(buf, g, avg)
            A.add_(param, buf, -lr)
        else:
            A.addcdiv_(param, g, avg, -lr)
