"""Same as torch.optim.Rprop: per-element step sizes grown or shrunk by the sign of the change."""

from __future__ import annotations

from . import _arrays as A
from ._state import check_args, full_like, scalar_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Same as torch.optim.Rprop."""

    _sparse = "Rprop does not support sparse gradients"

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False) -> None:
        check_args(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _init_state(self, p, group):
        return {"step": scalar_tensor(0.0, p._device if group["capturable"] else None),
                "prev": zeros_like(p), "step_size": full_like(p.grad, A.scalar(group["lr"]))}

    def _update(self, group, p, g, state, step):
        (etaminus, etaplus), (size_min, size_max) = group["etas"], group["step_sizes"]
        param, xp = A.real(p._data), p._device.xp
        prev, size = A.arrays(state, "prev", "step_size")
        sign = xp.multiply(g, prev, out=xp.empty_like(prev))  # an array even when 0-d
        xp.sign(sign, out=sign)
        shrink = sign < 0  # torch's later sign.eq(etaminus): the elements that changed sign
        sign[sign > 0] = etaplus
        sign[shrink] = etaminus
        sign[sign == 0] = 1
        size *= sign
        xp.clip(size, size_min, size_max, out=size)
        g = xp.array(g)  # a copy, and an array even for -g of a 0-d gradient
        g[shrink] = 0  # after a sign change the step is skipped and the change forgotten
        A.addcmul_(param, xp.sign(g), size, -1)
        prev[...] = g
