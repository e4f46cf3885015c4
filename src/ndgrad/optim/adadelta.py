"""Same as torch.optim.Adadelta."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from .optimizer import Optimizer, _no_differentiable, _step_tensor, _zeros_like

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Same as torch.optim.Adadelta."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _no_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable, foreach=foreach,
                                      differentiable=differentiable))

    def _step_group(self, group) -> None:
        lr, rho, eps, wd = A.scalar(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["square_avg"], state["acc_delta"] = _zeros_like(p), _zeros_like(p)
            xp = p._device.xp
            param, g = A.real(p._data), A.real(p.grad._data)
            sq, acc = A.real(state["square_avg"]._data), A.real(state["acc_delta"]._data)
            state["step"]._data += 1
            g = -g if group["maximize"] else g
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
            A.add_(param, delta, -lr)
            A.bump(p)
