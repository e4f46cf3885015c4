"""Same as torch.optim.Adamax: Adam with an infinity-norm second moment."""

from __future__ import annotations

from . import _arrays as A
from .adam import _check_common
from .optimizer import Optimizer, _no_differentiable, _step_tensor, _zeros_like

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Same as torch.optim.Adamax."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False) -> None:
        _check_common(lr, eps, betas, weight_decay)
        _no_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _step_group(self, group) -> None:
        lr, (beta1, beta2) = A.scalar(group["lr"]), group["betas"]
        wd, eps = group["weight_decay"], group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["exp_avg"], state["exp_inf"] = _zeros_like(p), _zeros_like(p)
            xp = p._device.xp
            param, g = A.real(p._data), A.real(p.grad._data)
            m, u = A.real(state["exp_avg"]._data), A.real(state["exp_inf"]._data)
            g = -g if group["maximize"] else g
            state["step"]._data += 1
            if wd != 0:
                g = A.added(g, param, wd)
            A.lerp_(m, g, 1 - beta1)
            u *= beta2
            norm = xp.abs(g)
            norm += eps
            xp.maximum(u, norm, out=u)
            clr = lr / (1 - beta1 ** state["step"].item())
            A.addcdiv_(param, m, u, -clr)
            A.bump(p)
