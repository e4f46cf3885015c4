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

import itertools

import numpy as np

from .._parallel import pieces, run
from .._tensor import Tensor
from . import _arrays as A
from ._state import step_tensor

_OPTIONS_OFF = ("amsgrad", "maximize", "capturable", "differentiable", "fused")


def _eligible(opt, todo) -> bool:
    """The flat path applies to these parameters (the group's with a gradient)."""
    if len(todo) < 2:
        return False
    dt = todo[0]._data.dtype
    if dt != np.float32 and dt != np.float64:
        return False
    steps = set()
    for p in todo:
        d, g = p._data, p._grad
        if type(d) is not np.ndarray or d.dtype != dt or g._data.dtype != dt or g.is_sparse \
                or type(g._data) is not np.ndarray:
            return False
        state = opt.state.get(p)
        steps.add(float(state["step"]._data) if state else 0.0)
    return len(steps) == 1


def _still(opt, todo, made) -> bool:
    """``made`` is for these parameters, their state holds its tensors, their data and
    gradients are still NumPy arrays of its dtype."""
    params, tensors, dt = made[0], made[1], made[2].dtype
    if len(params) != len(todo):
        return False
    state = opt.state
    for p, q, (s, m, v) in zip(todo, params, tensors):
        st = state.get(p)
        g = p._grad
        if p is not q or st is None or st.get("step") is not s or st.get("exp_avg") is not m \
                or st.get("exp_avg_sq") is not v or p._data.dtype != dt or g.is_sparse \
                or type(g._data) is not np.ndarray or g._data.dtype != dt:
            return False
    return True


def _build(opt, group, todo):
    """Flat (exp_avg, exp_avg_sq, step) arrays for the group, the state tensors made views of
    them (keeping the values the state holds)."""
    dt = todo[0]._data.dtype
    n = sum(p._data.size for p in todo)
    flat_m, flat_v = np.zeros(n, dt), np.zeros(n, dt)
    steps = np.zeros(len(todo), step_tensor()._data.dtype)
    tensors, lo = [], 0
    for i, p in enumerate(todo):
        hi = lo + p._data.size
        state = opt.state.get(p)
        if not state:
            state = opt.state[p] = {}
        for key, flat in (("step", steps), ("exp_avg", flat_m), ("exp_avg_sq", flat_v)):
            view = (steps[i:i + 1].reshape(()) if key == "step" else
                    flat[lo:hi].reshape(p._data.shape))
            if key in state:
                view[...] = state[key]._data
            state[key] = Tensor._make(view, p._device)
        tensors.append((state["step"], state["exp_avg"], state["exp_avg_sq"]))
        lo = hi
    made = opt.__dict__.setdefault("_adam_flat", {})[id(group)] = (todo, tensors, flat_m,
                                                                   flat_v, steps)
    return made


def step_flat(opt, group) -> bool:
    """Adam's update of ``group`` in one pass over its flat state; False where it does not
    apply (the caller then steps parameter by parameter)."""
    from .adam import constants, moments_step  # (adam imports this module)

    if any(group.get(k) for k in _OPTIONS_OFF) or isinstance(group["lr"], Tensor):
        return False
    todo = [p for p in group["params"] if p._grad is not None]
    made = opt.__dict__.get("_adam_flat", {}).get(id(group))
    if made is None or not _still(opt, todo, made):
        if not _eligible(opt, todo):
            return False
        made = _build(opt, group, todo)
    _, _, m, v, steps = made
    steps += 1
    step = float(steps[0])
    params = [p._data for p in todo]
    g = np.concatenate([p._grad._data.reshape(-1) for p in todo])
    k = constants(np, group, g.dtype, step)
    decay = group["weight_decay"] != 0 and group["decoupled_weight_decay"]
    if group["weight_decay"] != 0 and not decay:
        g = A.added(g, np.concatenate([d.reshape(-1) for d in params]), group["weight_decay"])
    bounds = pieces(m.size, 14, like=m)
    if len(bounds) > 1 and all(d.flags.c_contiguous for d in params):
        _split_step(moments_step, params, k, g, m, v, decay, bounds)
    else:
        if decay:  # param *= 1 - lr * weight_decay
            for d in params:
                d *= k[1]
        tmp = moments_step(np, k, g, m, v)
        lo = 0
        for d in params:
            hi = lo + d.size
            d += tmp[lo:hi].reshape(d.shape)
            lo = hi
    for p in todo:
        p._vc[0] += 1  # an in-place update (saved-tensor checks see it, as in torch)
    return True


def _split_step(moments_step, params, k, g, m, v, decay, bounds) -> None:
    """The update above (decay, moments, step) on pieces of the flat range on the threads: a
    piece may cut a parameter (then it works on a flat view of its part)."""
    tmp = np.empty_like(m)
    starts = list(itertools.accumulate((d.size for d in params), initial=0))

    def piece(lo, hi):
        parts = _parts(params, starts, lo, hi)
        if decay:
            for d, _, _ in parts:
                d *= k[1]
        moments_step(np, k, g[lo:hi], m[lo:hi], v[lo:hi], out=tmp[lo:hi])
        for d, a, b in parts:
            d += tmp[a:b].reshape(d.shape)

    run(piece, bounds)


def _parts(params, starts, lo, hi) -> list:
    """(part, a, b) for the parameters' elements a:b in the flat range lo:hi: ``part`` the
    parameter itself where it lies whole in the range, else a flat view of its piece."""
    out = []
    for d, s in zip(params, starts):
        a, b = max(lo, s), min(hi, s + d.size)
        if a < b:
            out.append((d if b - a == d.size else d.reshape(-1)[a - s:b - s], a, b))
    return out
