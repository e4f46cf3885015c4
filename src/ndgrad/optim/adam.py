"""Same as torch.optim.Adam (amsgrad, maximize, weight_decay, decoupled_weight_decay)."""

from __future__ import annotations

from .._tensor import Tensor
from . import _arrays as A
from ._adam_flat import step_flat
from ._state import check_args, step_tensor, zeros_like
from .optimizer import Optimizer

__all__ = ["Adam"]


class Adam(Optimizer):
    """Same as torch.optim.Adam."""

    _sparse = "Adam does not support sparse gradients, please consider SparseAdam instead"
    _capturable = ("params and state_steps", True)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False) -> None:
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        check_args(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)
                or isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor) and foreach and not capturable:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False "
                                 "and foreach=True")
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
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

    def _prepare(self, group):
        return group, {}  # and the scalars as 0-d arrays, per dtype and step

    def _step_group(self, group) -> None:
        if type(self)._update is not Adam._update or not step_flat(self, group):
            super()._step_group(group)

    def _update(self, hyper, p, g, state, step):
        (group, made), param, xp = hyper, A.real(p._data), p._device.xp
        k = made.get((param.dtype, step))
        if k is None:
            k = made[param.dtype, step] = constants(xp, group, param.dtype, step)
        m, v = A.arrays(state, "exp_avg", "exp_avg_sq")
        if group["weight_decay"] != 0:
            if group["decoupled_weight_decay"]:
                param *= k[1]
            else:
                g = A.added(g, param, group["weight_decay"])
        vmax = A.real(state["max_exp_avg_sq"]._data) if group["amsgrad"] else None
        param += moments_step(xp, k, g, m, v, vmax)


def constants(xp, group, dtype, step) -> tuple:
    """(lerp's small-weight form?, decay, weight, beta2, 1 - beta2, sqrt of bias correction 2,
    eps, -step size) for ``dtype`` at ``step``."""
    lr, (beta1, beta2) = A.scalar(group["lr"]), map(A.scalar, group["betas"])
    weight = 1 - beta1  # lerp's weight; torch's form for weights >= 0.5 takes 1 - w
    return (weight < 0.5, *A.constants(
        xp, dtype, 1 - lr * group["weight_decay"], weight if weight < 0.5 else
        1 - dtype.type(weight), beta2, 1 - beta2, (1 - beta2 ** step) ** 0.5, group["eps"],
        -lr / (1 - beta1 ** step)))


def moments_step(xp, k, g, m, v, vmax=None, out=None):
    """Update the moments m, v (and vmax, amsgrad's) in place from the gradient g; return the
    step to add to the parameter (in ``out`` if given), in torch's operation order."""
    small, _, w, beta2, one_minus_beta2, bias_correction2_sqrt, eps, step_size = k
    tmp = xp.subtract(g, m, out=xp.empty_like(m) if out is None else out)  # m.lerp_(g, 1 - beta1)
    tmp *= w
    if small:
        m += tmp
    else:
        xp.subtract(g, tmp, out=m)
    v *= beta2  # v = beta2 v + (1 - beta2) g²
    xp.multiply(g, one_minus_beta2, out=tmp)
    tmp *= g
    v += tmp
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    denom = xp.sqrt(v)
    denom /= bias_correction2_sqrt
    denom += eps
    xp.multiply(m, step_size, out=tmp)  # param.addcdiv_(m, denom, -step_size)
    tmp /= denom
    return tmp
