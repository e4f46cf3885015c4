"""Same as torch.optim.Rprop: per-element step sizes grown or shrunk by the sign of the change."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from ._state import check_capturable, scalar_tensor
from .optimizer import Optimizer, _no_differentiable, _zeros_like

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Same as torch.optim.Rprop; ``foreach`` runs the same loop."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _no_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _step_group(self, group) -> None:
        (etaminus, etaplus), (size_min, size_max) = group["etas"], group["step_sizes"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                lr = A.scalar(group["lr"])
                state["step"] = scalar_tensor(0.0, p._device if group["capturable"] else None)
                state["prev"] = _zeros_like(p)
                g = p.grad._data
                state["step_size"] = Tensor._make(
                    p._device.xp.full_like(g, complex(lr, lr) if g.dtype.kind == "c" else lr),
                    p._device)
            if group["capturable"]:
                check_capturable(p)
            xp = p._device.xp
            param, g = A.real(p._data), A.real(p.grad._data)
            prev, size = A.real(state["prev"]._data), A.real(state["step_size"]._data)
            g = -g if group["maximize"] else g
            state["step"]._data += 1
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
            A.bump(p)
