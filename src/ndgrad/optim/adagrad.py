"""Same as torch.optim.Adagrad (lr_decay, weight_decay, initial_accumulator_value)."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from .optimizer import Optimizer, _no_differentiable, _step_tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Same as torch.optim.Adagrad; state is created for every parameter up front, like torch."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False,
                 fused=None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay),
                            ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value),
                            ("epsilon value", eps)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        _no_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        if len(state) == 0:
            init = self.defaults["initial_accumulator_value"]
            state["step"] = _step_tensor()
            state["sum"] = Tensor._make(p._device.xp.full_like(
                p._data, complex(init, init) if p.is_complex() else init), p._device)
        return state

    def _step_group(self, group) -> None:
        lr, lr_decay = A.scalar(group["lr"]), group["lr_decay"]
        wd, eps = group["weight_decay"], group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self._init_state(p)
            param, g = A.real(p._data), A.real(p.grad._data)
            state["step"]._data += 1
            step = state["step"].item()
            g = -g if group["maximize"] else g
            if wd != 0:
                g = A.added(g, param, wd)
            clr = lr / (1 + (step - 1) * lr_decay)
            s = A.real(state["sum"]._data)
            A.addcmul_(s, g, g)
            std = p._device.xp.sqrt(s)
            std += eps
            A.addcdiv_(param, g, std, -clr)
            A.bump(p)
