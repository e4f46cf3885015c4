"""Same as torch.optim.NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _arrays as A
from ._state import check_args, step_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Same as torch.optim.NAdam."""

    _sparse = "NAdam does not support sparse gradients"
    _capturable = ("params, mu_products and state_steps", True)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False) -> None:
        check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay,
                   momentum_decay=momentum_decay)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable))

    def _init_state(self, p, group):
        return {"step": step_tensor(), "mu_product": Tensor._make(np.array(1.0, np.float32)),
                "exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}

    def _update(self, group, p, g, state, step):
        lr, (beta1, beta2), wd = A.scalar(group["lr"]), group["betas"], group["weight_decay"]
        param, (m, v, mu_product) = A.real(p._data), A.arrays(state, "exp_avg", "exp_avg_sq",
                                                              "mu_product")
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                g = A.added(g, param, wd)
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mu_product *= np.float32(mu)  # a float32 running product, as in torch
        mu_product = float(mu_product)
        A.lerp_(m, g, 1 - beta1)
        v *= beta2
        A.addcmul_(v, g, g, 1 - beta2)
        denom = p._device.xp.sqrt(v / (1 - beta2 ** step))
        denom += group["eps"]
        A.addcdiv_(param, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
        A.addcdiv_(param, m, denom, -lr * mu_next / (1.0 - mu_product * mu_next))
