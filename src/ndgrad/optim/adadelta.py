"""Same as torch.optim.Adadelta."""

from __future__ import annotations

from . import _arrays as A
from ._state import check_args, step_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Same as torch.optim.Adadelta."""

    _sparse = "Adadelta does not support sparse gradients"
    _capturable = ("params and state_steps", False)

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False) -> None:
        check_args(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_args(0.0, eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable, foreach=foreach,
                                      differentiable=differentiable))

    def _init_state(self, p, group):
        return {"step": step_tensor(), "square_avg": zeros_like(p), "acc_delta": zeros_like(p)}

    def _update(self, group, p, g, state, step):
        rho, eps, wd, xp = group["rho"], group["eps"], group["weight_decay"], p._device.xp
        param, (sq, acc) = A.real(p._data), A.arrays(state, "square_avg", "acc_delta")
        if wd != 0:
            g = A.added(g, param, wd)
        sq *= rho
        A.addcmul_(sq, g, g, 1 - rho)
        std = xp.sqrt(sq + eps)
        delta = xp.sqrt(acc + eps)
        delta /= std
        delta *= g
        acc *= rho
        A.addcmul_(acc, delta, delta, 1 - rho)
        A.add_(param, delta, -A.scalar(group["lr"]))
