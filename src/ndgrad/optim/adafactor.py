"""Same as torch.optim.Adafactor: second moments factored into row and column means over the
last two dimensions, relative step sizes, update clipping."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _arrays as A
from ._state import scalar_tensor
from .optimizer import Optimizer, _zeros_like

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Same as torch.optim.Adafactor; ``foreach`` runs the same loop."""

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _step_group(self, group) -> None:
        lr, decay, d = A.scalar(group["lr"]), group["beta2_decay"], group["d"]
        wd, (eps1, eps2) = group["weight_decay"], group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.is_complex():
                raise RuntimeError("Adafactor does not support complex parameters")
            if p.grad.is_sparse:
                raise RuntimeError("Adafactor does not support sparse gradients")
            state = self.state[p]
            g = p.grad._data
            if len(state) == 0:
                state["step"] = scalar_tensor()
                if g.ndim > 1:
                    state["row_var"] = Tensor._make(p._device.xp.zeros(
                        g.shape[:-1] + (1,), g.dtype), p._device)
                    state["col_var"] = Tensor._make(p._device.xp.zeros(
                        g.shape[:-2] + (1,) + g.shape[-1:], g.dtype), p._device)
                else:
                    state["variance"] = _zeros_like(p.grad)
            if eps1 is None:  # as in torch, the first parameter's dtype sets it for the group
                eps1 = float(np.finfo(p._data.dtype).eps)
            xp, param = p._device.xp, p._data
            g = -g if group["maximize"] else g
            state["step"]._data += 1
            step = state["step"].item()
            one_minus_beta2 = step ** decay
            rho = min(lr, 1 / step ** 0.5)
            alpha = max(eps2, _norm(xp, param) / param.size ** 0.5) * rho
            if wd != 0:
                param *= 1 - lr * wd
            if g.ndim > 1:
                row_var, col_var = state["row_var"]._data, state["col_var"]._data
                # (g * g).mean(-1) as torch computes it: a norm, squared, divided
                A.lerp_(row_var, _norm(xp, g, -1) ** 2 / g.shape[-1], one_minus_beta2)
                A.lerp_(col_var, _norm(xp, g, -2) ** 2 / g.shape[-2], one_minus_beta2)
                var = row_var @ col_var
                var /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
            else:
                var = state["variance"]._data
                A.lerp_(var, g * g, one_minus_beta2)
                var = var.copy()
            xp.maximum(var, eps1 * eps1, out=var)  # eps1 squared, as the square root follows
            update = 1 / xp.sqrt(var)
            update *= g
            denom = max(1.0, _norm(xp, update) / (update.size ** 0.5 * d))
            A.add_(param, update, -alpha / denom)
            A.bump(p)


def _norm(xp, a, axis=None):
    """The 2-norm (over ``axis`` with kept dims, else of everything as a float)."""
    if axis is None:
        return float(xp.sqrt(xp.vdot(a.ravel(), a.ravel())))
    return xp.sqrt((a * a).sum(axis=axis, keepdims=True))
