"""Same as torch.optim.ASGD: SGD with a decaying step size and a running average ``ax``."""

from __future__ import annotations

from .. import _dtype as D
from . import _arrays as A
from ._state import check_args, scalar_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Same as torch.optim.ASGD."""

    _sparse = "ASGD does not support sparse gradients"
    _capturable = ("params, mus, etas, and state_steps", True)

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False) -> None:
        check_args(lr, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _init_state(self, p, group):
        return {"step": scalar_tensor(0.0, p._device),
                "eta": scalar_tensor(A.scalar(group["lr"]), p._device),
                "mu": scalar_tensor(1.0, p._device), "ax": zeros_like(p)}

    def _update(self, group, p, g, state, step):
        lr, lambd, wd = A.scalar(group["lr"]), group["lambd"], group["weight_decay"]
        param, (ax, eta, mu) = A.real(p._data), A.arrays(state, "ax", "eta", "mu")
        if wd != 0:
            g = A.added(g, param, wd)
        param *= 1 - lambd * float(eta)  # decay
        A.add_(param, g, -float(eta))
        if float(mu) != 1:
            ax += (param - ax) * mu  # mu: a 0-d tensor, as in torch
        else:
            ax[...] = param
        # torch.as_tensor(value).copy_: rounded to the default dtype first
        rounded = D.get_default_dtype().np.type
        eta[...] = rounded(lr / ((1 + lambd * lr * step) ** group["alpha"]))
        mu[...] = rounded(1 / max(1, step - group["t0"]))
