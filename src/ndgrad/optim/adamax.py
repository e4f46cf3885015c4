"""Same as torch.optim.Adamax: Adam with an infinity-norm second moment."""

from __future__ import annotations

from . import _arrays as A
from ._state import check_args, step_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Same as torch.optim.Adamax."""

    _sparse = "Adamax does not support sparse gradients"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False) -> None:
        check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _init_state(self, p, group):
        return {"step": step_tensor(), "exp_avg": zeros_like(p), "exp_inf": zeros_like(p)}

    def _update(self, group, p, g, state, step):
        (beta1, beta2), wd, xp = group["betas"], group["weight_decay"], p._device.xp
        param, (m, u) = A.real(p._data), A.arrays(state, "exp_avg", "exp_inf")
        if wd != 0:
            g = A.added(g, param, wd)
        A.lerp_(m, g, 1 - beta1)
        u *= beta2
        norm = xp.abs(g)
        norm += group["eps"]
        xp.maximum(u, norm, out=u)
        A.addcdiv_(param, m, u, -A.scalar(group["lr"]) / (1 - beta1 ** step))
