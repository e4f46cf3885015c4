"""Same as torch.optim.RAdam: Adam whose adaptive term is switched on once the variance of the
adaptive learning rate is tractable (rho_t > 5)."""

from __future__ import annotations

from . import _arrays as A
from ._state import check_capturable, scalar_tensor
from .adam import _check_common
from .optimizer import Optimizer, _no_differentiable, _zeros_like

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Same as torch.optim.RAdam; ``foreach`` runs the same loop."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False) -> None:
        _check_common(lr, eps, betas, weight_decay)
        _no_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _step_group(self, group) -> None:
        lr, (beta1, beta2) = A.scalar(group["lr"]), group["betas"]
        wd, eps = group["weight_decay"], group["eps"]
        rho_inf = 2 / (1 - beta2) - 1  # the maximum length of the approximated SMA
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = scalar_tensor(0.0, p._device if group["capturable"] else None)
                state["exp_avg"], state["exp_avg_sq"] = _zeros_like(p), _zeros_like(p)
            if group["capturable"]:
                check_capturable(p)
            xp = p._device.xp
            param, g = A.real(p._data), A.real(p.grad._data)
            m, v = A.real(state["exp_avg"]._data), A.real(state["exp_avg_sq"]._data)
            g = -g if group["maximize"] else g
            state["step"]._data += 1
            step = state["step"].item()
            if wd != 0:
                if group["decoupled_weight_decay"]:
                    param *= 1 - lr * wd
                else:
                    g = A.added(g, param, wd)
            A.lerp_(m, g, 1 - beta1)
            v *= beta2
            A.addcmul_(v, g, g, 1 - beta2)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            update = m / bias_correction1
            update *= lr
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            if rho_t > 5.0:  # torch's term order: (m / bc1) * lr * (sqrt(bc2) / (√v + eps)) * r
                denom = xp.sqrt(v)
                denom += eps
                update *= bias_correction2 ** 0.5 / denom
                update *= ((rho_t - 4) * (rho_t - 2) * rho_inf
                           / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            param -= update
            A.bump(p)
