"""Same as torch.optim.Adagrad (lr_decay, weight_decay, initial_accumulator_value)."""

from __future__ import annotations

from . import _arrays as A
from ._state import check_args, full_like, step_tensor
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Same as torch.optim.Adagrad; state is created for every parameter up front, like torch."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False,
                 fused=None) -> None:
        check_args(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                   initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._init_state(p, group)

    def _init_state(self, p, group):
        return {"step": step_tensor(),
                "sum": full_like(p, self.defaults["initial_accumulator_value"])}

    def _update(self, group, p, g, state, step):
        param, (s,) = A.real(p._data), A.arrays(state, "sum")
        wd = group["weight_decay"]
        if wd != 0:
            if p._grad.is_sparse:
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            g = A.added(g, param, wd)
        clr = A.scalar(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        A.addcmul_(s, g, g)
        std = p._device.xp.sqrt(s)
        std += group["eps"]
        A.addcdiv_(param, g, std, -clr)
