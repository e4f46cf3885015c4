"""Same as torch.optim.Adafactor: second moments factored into row and column means over the
last two dimensions, relative step sizes, update clipping."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _arrays as A
from ._state import scalar_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Same as torch.optim.Adafactor."""

    _complex, _sparse = False, "Adafactor does not support sparse gradients"

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for ok, what, value in ((0.0 <= lr, "Learning rate should be >= 0", lr),
                                (0.0 >= beta2_decay, "beta2_decay should be <= 0", beta2_decay),
                                (eps[0] is None or 0.0 <= eps[0], "epsilon1 should be >= 0",
                                 eps[0]),
                                (0.0 <= eps[1], "epsilon2 should be >= 0", eps[1]),
                                (1.0 <= d, "Clipping threshold d should be >= 1", d),
                                (0.0 <= weight_decay, "weight_decay should be >= 0",
                                 weight_decay)):
            if not ok:
                raise ValueError(f"{what} but is: {value}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _init_state(self, p, group):
        g, xp = p.grad._data, p._device.xp
        if g.ndim <= 1:
            return {"step": scalar_tensor(), "variance": zeros_like(p.grad)}
        return {"step": scalar_tensor(),
                "row_var": Tensor._make(xp.zeros(g.shape[:-1] + (1,), g.dtype), p._device),
                "col_var": Tensor._make(xp.zeros(g.shape[:-2] + (1,) + g.shape[-1:], g.dtype),
                                        p._device)}

    def _update(self, group, p, g, state, step):
        lr, d, (eps1, eps2) = A.scalar(group["lr"]), group["d"], group["eps"]
        xp, param = p._device.xp, p._data
        if eps1 is None:  # torch takes the first parameter's dtype for the group
            eps1 = float(np.finfo(param.dtype).eps)
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / step ** 0.5)
        alpha = max(eps2, _norm(xp, param) / param.size ** 0.5) * rho
        if group["weight_decay"] != 0:
            param *= 1 - lr * group["weight_decay"]
        if g.ndim > 1:
            row_var, col_var = A.arrays(state, "row_var", "col_var")
            # (g * g).mean(-1) as torch computes it: a norm, squared, divided
            A.lerp_(row_var, _norm(xp, g, -1) ** 2 / g.shape[-1], one_minus_beta2)
            A.lerp_(col_var, _norm(xp, g, -2) ** 2 / g.shape[-2], one_minus_beta2)
            var = row_var @ col_var
            var /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            (var,) = A.arrays(state, "variance")
            A.lerp_(var, g * g, one_minus_beta2)
            var = var.copy()
        xp.maximum(var, eps1 * eps1, out=var)  # eps1 squared, as the square root follows
        update = 1 / xp.sqrt(var)
        update *= g
        denom = max(1.0, _norm(xp, update) / (update.size ** 0.5 * d))
        A.add_(param, update, -alpha / denom)


def _norm(xp, a, axis=None):
    """The 2-norm (over ``axis`` with kept dims, else of everything as a float)."""
    if axis is None:
        return float(xp.sqrt(xp.vdot(a.ravel(), a.ravel())))
    return xp.sqrt((a * a).sum(axis=axis, keepdims=True))
