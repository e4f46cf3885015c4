"""Same as torch.optim.Adam (amsgrad, maximize, weight_decay, decoupled_weight_decay)."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from ._state import check_args, check_betas, step_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["Adam"]


class Adam(Optimizer):
    """Same as torch.optim.Adam."""

    _sparse = "Adam does not support sparse gradients, please consider SparseAdam instead"
    _capturable = ("params and state_steps", True)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False) -> None:
        check_args(lr, eps=eps)
        check_betas(betas)
        check_args(0.0, weight_decay=weight_decay)
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)
                or isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)):
            raise ValueError("betas must be either both floats or both Tensors")
        super().__init__(params, dict(
            lr=lr, betas=tuple(A.scalar(b) for b in betas), eps=eps, weight_decay=weight_decay,
            amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay))

    def _init_state(self, p, group):
        state = {"step": step_tensor(), "exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_like(p)
        return state

    def _update(self, group, p, g, state, step):
        lr, (beta1, beta2) = A.scalar(group["lr"]), map(A.scalar, group["betas"])
        param, xp, wd = A.real(p._data), p._device.xp, group["weight_decay"]
        m, v = A.arrays(state, "exp_avg", "exp_avg_sq")
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd
            else:
                g = A.added(g, param, wd)
        A.lerp_(m, g, 1 - beta1)
        v *= beta2
        A.addcmul_(v, g, g, 1 - beta2)
        if group["amsgrad"]:
            vmax = A.real(state["max_exp_avg_sq"]._data)
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        denom = xp.sqrt(v)
        denom /= (1 - beta2 ** step) ** 0.5
        denom += group["eps"]
        A.addcdiv_(param, m, denom, -lr / (1 - beta1 ** step))
