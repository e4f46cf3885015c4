"""Same as torch.optim.ASGD: SGD with a decaying step size and a running average ``ax``."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from . import _arrays as A
from ._state import check_capturable, scalar_tensor
from .optimizer import Optimizer, _no_differentiable, _zeros_like

__all__ = ["ASGD"]


def _default(value: float):
    return D.get_default_dtype().np.type(value)


class ASGD(Optimizer):
    """Same as torch.optim.ASGD; ``foreach`` runs the same loop."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _no_differentiable(differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _step_group(self, group) -> None:
        lr, lambd, alpha = A.scalar(group["lr"]), group["lambd"], group["alpha"]
        t0, wd = group["t0"], group["weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = scalar_tensor(0.0, p._device)
                state["eta"] = scalar_tensor(lr, p._device)
                state["mu"] = scalar_tensor(1.0, p._device)
                state["ax"] = _zeros_like(p)
            if group["capturable"]:
                check_capturable(p, "params, mus, etas, and state_steps")
            param, g = A.real(p._data), A.real(p.grad._data)
            ax, mu = A.real(state["ax"]._data), state["mu"]
            g = -g if group["maximize"] else g
            state["step"]._data += 1
            if wd != 0:
                g = A.added(g, param, wd)
            eta = state["eta"].item()
            param *= 1 - lambd * eta  # decay
            A.add_(param, g, -eta)
            if mu.item() != 1:
                ax += (param - ax) * mu._data  # mu: a 0-d tensor, as in torch
            else:
                ax[...] = param
            step = state["step"].item()
            # torch.as_tensor(value).copy_: rounded to the default dtype first
            state["eta"]._data[...] = _default(lr / ((1 + lambd * lr * step) ** alpha))
            state["mu"]._data[...] = _default(1 / max(1, step - t0))
            A.bump(p)
