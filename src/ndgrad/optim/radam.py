"""Same as torch.optim.RAdam: Adam whose adaptive term is switched on once the variance of the
adaptive learning rate is tractable (rho_t > 5)."""

from __future__ import annotations

from . import _arrays as A
from ._state import check_args, scalar_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Same as torch.optim.RAdam."""

    _sparse = "RAdam does not support sparse gradients"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False) -> None:
        check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _init_state(self, p, group):
        return {"step": scalar_tensor(0.0, p._device if group["capturable"] else None),
                "exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}

    def _update(self, group, p, g, state, step):
        lr, (beta1, beta2), wd = A.scalar(group["lr"]), group["betas"], group["weight_decay"]
        param, (m, v) = A.real(p._data), A.arrays(state, "exp_avg", "exp_avg_sq")
        rho_inf = 2 / (1 - beta2) - 1  # the maximum length of the approximated SMA
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                g = A.added(g, param, wd)
        A.lerp_(m, g, 1 - beta1)
        v *= beta2
        A.addcmul_(v, g, g, 1 - beta2)
        bias_correction2 = 1 - beta2 ** step
        update = m / (1 - beta1 ** step)
        update *= lr
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:  # torch's term order: (m / bc1) * lr * (sqrt(bc2) / (√v + eps)) * r
            denom = p._device.xp.sqrt(v)
            denom += group["eps"]
            update *= bias_correction2 ** 0.5 / denom
            update *= ((rho_t - 4) * (rho_t - 2) * rho_inf
                       / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        param -= update
