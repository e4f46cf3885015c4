"""Same as torch.optim.Adam (amsgrad, maximize, weight_decay, decoupled_weight_decay)."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from .optimizer import Optimizer, _no_differentiable, _step_tensor, _zeros_like

__all__ = ["Adam"]


def _check_common(lr, eps, betas, weight_decay) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    """Same as torch.optim.Adam; ``foreach``/``fused``/``capturable`` run the same loop."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False) -> None:
        _check_common(lr, eps, betas, weight_decay)
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)
                or isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)):
            raise ValueError("betas must be either both floats or both Tensors")
        _no_differentiable(differentiable)
        defaults = dict(lr=lr, betas=tuple(A.scalar(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable,
                        fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _step_group(self, group) -> None:
        lr, (beta1, beta2) = A.scalar(group["lr"]), map(A.scalar, group["betas"])
        wd, eps, amsgrad = group["weight_decay"], group["eps"], group["amsgrad"]
        decoupled = group["decoupled_weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["exp_avg"], state["exp_avg_sq"] = _zeros_like(p), _zeros_like(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = _zeros_like(p)
            param, g = A.real(p._data), A.real(p.grad._data)
            m, v = A.real(state["exp_avg"]._data), A.real(state["exp_avg_sq"]._data)
            g = -g if group["maximize"] else g
            state["step"]._data += 1
            if wd != 0:
                if decoupled:
                    param *= 1 - lr * wd
                else:
                    g = A.added(g, param, wd)
            A.lerp_(m, g, 1 - beta1)
            v *= beta2
            A.addcmul_(v, g, g, 1 - beta2)
            step = state["step"].item()
            step_size = lr / (1 - beta1 ** step)
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            if amsgrad:
                vmax = A.real(state["max_exp_avg_sq"]._data)
                p._device.xp.maximum(vmax, v, out=vmax)
                v = vmax
            denom = p._device.xp.sqrt(v)
            denom /= bias_correction2_sqrt
            denom += eps
            A.addcdiv_(param, m, denom, -step_size)
            A.bump(p)
