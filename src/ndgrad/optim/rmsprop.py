"""Same as torch.optim.RMSprop (centered, momentum, weight_decay, maximize)."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from .optimizer import Optimizer, _no_differentiable, _step_tensor, _zeros_like

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Same as torch.optim.RMSprop."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for name, value in (("learning rate", lr), ("epsilon value", eps),
                            ("momentum value", momentum), ("weight_decay value", weight_decay),
                            ("alpha value", alpha)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        _no_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _step_group(self, group) -> None:
        lr, alpha, eps = A.scalar(group["lr"]), group["alpha"], group["eps"]
        wd, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["square_avg"] = _zeros_like(p)
                if momentum > 0:
                    state["momentum_buffer"] = _zeros_like(p)
                if centered:
                    state["grad_avg"] = _zeros_like(p)
            xp = p._device.xp
            param, g = A.real(p._data), A.real(p.grad._data)
            g = -g if group["maximize"] else g
            sq = A.real(state["square_avg"]._data)
            state["step"]._data += 1
            if wd != 0:
                g = A.added(g, param, wd)
            sq *= alpha
            A.addcmul_(sq, g, g, 1 - alpha)
            if centered:
                ga = A.real(state["grad_avg"]._data)
                A.lerp_(ga, g, 1 - alpha)
                avg = A.addcmul_(sq.copy(), ga, ga, -1)
                xp.sqrt(avg, out=avg)
            else:
                avg = xp.sqrt(sq)
            avg += eps
            if momentum > 0:
                buf = A.real(state["momentum_buffer"]._data)
                buf *= momentum
                A.addcdiv_(buf, g, avg)
                A.add_(param, buf, -lr)
            else:
                A.addcdiv_(param, g, avg, -lr)
            A.bump(p)
