"""Same as torch.optim.NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from . import _arrays as A
from .adam import _check_common
from .optimizer import Optimizer, _no_differentiable, _step_tensor, _zeros_like

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Same as torch.optim.NAdam."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False) -> None:
        _check_common(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _no_differentiable(differentiable)
        super().__init__(params, dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable))

    def _step_group(self, group) -> None:
        lr, (beta1, beta2) = A.scalar(group["lr"]), group["betas"]
        wd, eps, psi = group["weight_decay"], group["eps"], group["momentum_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["mu_product"] = Tensor._make(np.array(1.0, D.float32.np))
                state["exp_avg"], state["exp_avg_sq"] = _zeros_like(p), _zeros_like(p)
            param, g = A.real(p._data), A.real(p.grad._data)
            m, v = A.real(state["exp_avg"]._data), A.real(state["exp_avg_sq"]._data)
            g = -g if group["maximize"] else g
            state["step"]._data += 1
            step = state["step"].item()
            bias_correction2 = 1 - beta2 ** step
            if wd != 0:
                if group["decoupled_weight_decay"]:
                    param *= 1 - lr * wd
                else:
                    g = A.added(g, param, wd)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            state["mu_product"]._data *= np.float32(mu)  # a float32 running product, as in torch
            mu_product = state["mu_product"].item()
            A.lerp_(m, g, 1 - beta1)
            v *= beta2
            A.addcmul_(v, g, g, 1 - beta2)
            denom = p._device.xp.sqrt(v / bias_correction2)
            denom += eps
            A.addcdiv_(param, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
            A.addcdiv_(param, m, denom, -lr * mu_next / (1.0 - mu_product * mu_next))
            A.bump(p)
