"""Same as torch.optim.SparseAdam: Adam on the elements a sparse gradient holds."""

from __future__ import annotations

import math

from .._tensor import Tensor
from . import _arrays as A
from ._state import zeros_like
from .optimizer import Optimizer

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Same as torch.optim.SparseAdam. Dense gradients raise torch's error; a sparse COO
    gradient (``coalesce``/``_indices``/``_values``) updates only the elements it holds."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        found = {"Sparse": [], "Complex": []}
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                if p.is_sparse:
                    found["Sparse"].append([i, j])
                if p.is_complex():
                    found["Complex"].append([i, j])
        if found["Sparse"]:
            raise ValueError(f"Sparse params at indices {found['Sparse']}: SparseAdam requires "
                             "dense parameter tensors")
        if found["Complex"]:
            raise ValueError(f"Complex params at indices {found['Complex']}: SparseAdam does not "
                             "support complex parameters")

    def _step_group(self, group) -> None:
        lr, (beta1, beta2), eps = A.scalar(group["lr"]), group["betas"], group["eps"]
        params = [p for p in group["params"] if p.grad is not None]
        for p in params:  # torch checks the whole group before updating any of it
            if not p.grad.is_sparse:
                raise RuntimeError("SparseAdam does not support dense gradients, please consider "
                                   "Adam instead")
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"], state["exp_avg_sq"] = zeros_like(p), zeros_like(p)
            state["step"] += 1
            grad = -p.grad if group.get("maximize", False) else p.grad
            grad = grad.coalesce()  # the update is non-linear, so indices must be unique
            values = grad._values()._data
            if values.size == 0:
                continue
            at = tuple(grad._indices()._data)  # one index array per sparse dimension
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            # old <- b * old + (1 - b) * new, written as old += (1 - b) * (new - old)
            old_m = m[at]
            m_update = (values - old_m) * (1 - beta1)
            m[at] += m_update
            old_v = v[at]
            v_update = (values ** 2 - old_v) * (1 - beta2)
            v[at] += v_update
            numer = m_update + old_m
            v_update += old_v
            denom = p._device.xp.sqrt(v_update)
            denom += eps
            step = state["step"]
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            numer /= denom
            p._data[at] += -step_size * numer
            p._vc[0] += 1
