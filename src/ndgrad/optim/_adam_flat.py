"""Adam/AdamW's step over a whole parameter group at once (torch's foreach path, in effect).

Per parameter, Adam's update is ~14 NumPy calls; for a model of small tensors that Python cost is
most of the step (makemore's MLP: 5 tensors, 70 us). Here the moments of a group live in one flat
array per kind (the state tensors are views of it), the gradients are concatenated once, and the
same operations run once over all of them: each element gets the same arithmetic as the
per-parameter update (bit for bit), in ~12 calls plus one write per parameter.

It applies to plain NumPy float32/float64 groups (no amsgrad, maximize, capturable, fused,
differentiable or tensor hyperparameters, every parameter at the same step); anything else
takes the per-parameter path.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from . import _arrays as A
from ._state import step_tensor

_OPTIONS_OFF = ("amsgrad", "maximize", "capturable", "differentiable", "fused")


def _eligible(opt, group) -> list | None:
    """The group's parameters with a gradient, if the flat path applies to them."""
    if any(group.get(k) for k in _OPTIONS_OFF) or isinstance(group["lr"], Tensor):
        return None
    todo = [p for p in group["params"] if p._grad is not None]
    if len(todo) < 2:
        return None
    dt = todo[0]._data.dtype
    if dt != np.float32 and dt != np.float64:
        return None
    steps = set()
    for p in todo:
        d, g = p._data, p._grad
        if type(d) is not np.ndarray or d.dtype != dt or g._data.dtype != dt or g.is_sparse \
                or type(g._data) is not np.ndarray:
            return None
        state = opt.state.get(p)
        steps.add(float(state["step"]._data) if state else 0.0)
    return todo if len(steps) == 1 else None


def _moments(opt, group, todo):
    """The group's flat (exp_avg, exp_avg_sq) arrays, made (or remade, keeping the values the
    state holds) when the parameters or their state tensors are not the ones it was made for."""
    cache = opt.__dict__.setdefault("_adam_flat", {})
    made = cache.get(id(group))
    if made is not None and len(made[0]) == len(todo) and all(
            p is q and opt.state.get(p, {}).get("exp_avg") is m and
            opt.state[p].get("exp_avg_sq") is v for p, (q, m, v) in zip(todo, made[0])):
        return made
    dt = todo[0]._data.dtype
    n = sum(p._data.size for p in todo)
    flat_m, flat_v = np.zeros(n, dt), np.zeros(n, dt)
    views, lo = [], 0
    for p in todo:
        hi = lo + p._data.size
        state = opt.state.get(p)
        if not state:
            state = opt.state[p] = {"step": step_tensor()}
        pair = []
        for key, flat in (("exp_avg", flat_m), ("exp_avg_sq", flat_v)):
            view = flat[lo:hi].reshape(p._data.shape)
            if key in state:
                view[...] = state[key]._data
            state[key] = Tensor._make(view, p._device)
            pair.append(state[key])
        views.append((p, *pair))
        lo = hi
    made = cache[id(group)] = (views, flat_m, flat_v)
    return made


def step_flat(opt, group) -> bool:
    """Adam's update of ``group`` in one pass over its flat state; False where it does not
    apply (the caller then steps parameter by parameter)."""
    from .adam import constants, moments_step  # (adam imports this module)

    todo = _eligible(opt, group)
    if todo is None:
        return False
    _, m, v = _moments(opt, group, todo)
    for p in todo:
        opt.state[p]["step"]._data += 1
    step = float(opt.state[todo[0]]["step"]._data)
    params = [p._data for p in todo]
    g = np.concatenate([p._grad._data.reshape(-1) for p in todo])
    k = constants(np, group, g.dtype, step)
    if group["weight_decay"] != 0:
        if group["decoupled_weight_decay"]:
            for d in params:
                d *= k[1]
        else:
            g = A.added(g, np.concatenate([d.reshape(-1) for d in params]),
                        group["weight_decay"])
    tmp = moments_step(np, k, g, m, v)
    lo = 0
    for p, d in zip(todo, params):
        hi = lo + d.size
        d += tmp[lo:hi].reshape(d.shape)
        p._vc[0] += 1  # an in-place update (saved-tensor checks see it, as in torch)
        lo = hi
    return True
