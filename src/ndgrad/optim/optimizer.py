"""Optimizer: param_groups, per-parameter state, state_dict round trips, step hooks, and the one
per-parameter loop every built-in optimizer shares.

A built-in optimizer declares its defaults (constructor), its state's initial values
(``_init_state``) and its update formula on arrays (``_update``), as torch's ``_single_tensor_*``
functions do; the base class runs the closure, the hooks, the loop over groups and parameters, lazy
state init, the complex/sparse/capturable checks, ``maximize`` and the ``step`` count. ``foreach``
and ``fused`` are accepted and run the same loop (NumPy has no multi-tensor kernels)."""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain
from typing import Any, Callable, Iterable

from .._backend import to_device
from .._grad_mode import enable_grad
from .._tensor import Tensor
from ._arrays import real
from ._state import check_capturable, check_fused

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    mod = type(obj).__module__
    return type(obj).__qualname__ if mod == "builtins" else f"{mod}.{type(obj).__qualname__}"


class _Handle:
    """Same as torch.utils.hooks.RemovableHandle for one hook dict."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self.hooks, self.id = hooks, _Handle._next_id
        _Handle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


def _hooked(step: Callable) -> Callable:
    """``step`` wrapped to run the optimizer's step pre- and post-hooks around it once."""

    @functools.wraps(step)
    def run(self, *args, **kwargs):
        d = self.__dict__
        if d.get("_in_step") or not (d["_optimizer_step_pre_hooks"]
                                     or d["_optimizer_step_post_hooks"]):
            return step(self, *args, **kwargs)  # a subclass's step calling super().step(), or
            # no hooks to run (then a nested call needs no guard either)
        for pre in list(self._optimizer_step_pre_hooks.values()):
            out = pre(self, args, kwargs)
            if out is not None:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("optimizer must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {out}.")
                args, kwargs = out
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        for post in list(self._optimizer_step_post_hooks.values()):
            post(self, args, kwargs)
        return out

    return run


class Optimizer:
    """Same as torch.optim.Optimizer."""

    _complex = True  # complex params update as (..., 2) float views (torch's view_as_real)
    _sparse = ""  # torch's refusal of sparse gradients, when it has one
    _capturable = ("params and state_steps", True)  # torch's capturable check: its words, xla

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if defaults.get("differentiable") and type(self)._update is not Optimizer._update:
            raise NotImplementedError("ndgrad optimizers update arrays in place without a graph: "
                                      "differentiable=True is not supported")
        self.defaults = defaults
        self._optimizer_step_pre_hooks: dict = OrderedDict()
        self._optimizer_step_post_hooks: dict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)
        if defaults.get("fused") and defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())
        for group in self.param_groups:  # a state_dict saved before an option existed
            for k, v in self.__dict__.get("defaults", {}).items():
                group.setdefault(k, v)

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:  # a custom step still runs the step hooks, as in torch
            cls.step = _hooked(cls.__dict__["step"])

    # --- stepping ------------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None):
        """Run the closure (with grad enabled), then update every group in place."""
        cls = type(self)
        if cls._update is Optimizer._update and cls._step_group is Optimizer._step_group:
            raise NotImplementedError
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        """Check and init the state of every param with a gradient (torch's ``_init_group``),
        then update each in place with ``maximize`` and the ``step`` count applied."""
        todo, states, init = [], self.state, self._init_state
        sparse, no_complex = self._sparse, not self._complex
        stateful, fused = self._keeps_state(group), group.get("fused")
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            if sparse and grad.is_sparse:
                raise RuntimeError(sparse)
            if no_complex and p._data.dtype.kind == "c":
                raise RuntimeError(f"{type(self).__name__} does not support complex parameters")
            if fused:
                check_fused(p)
            state = states.get(p) if stateful else None
            if stateful and not state:
                state = states[p] = init(p, group)
            todo.append((p, grad._data, state))
        if group.get("capturable"):
            for p, _, _ in todo:
                check_capturable(p, *self._capturable)
        maximize, update, hyper = group.get("maximize"), self._update, self._prepare(group)
        for p, g, state in todo:
            if g.dtype.kind == "c":
                g = real(g)
            if maximize:
                g = -g
            step = state.get("step") if state else None
            if step is not None:
                step._data += 1
                step = float(step._data)
            update(hyper, p, g, state, step)
            p._vc[0] += 1  # an in-place update (saved-tensor checks see it, as in torch)

    def _keeps_state(self, group: dict[str, Any]) -> bool:
        return True

    def _prepare(self, group: dict[str, Any]) -> Any:
        """What ``_update`` reads of the group: the group itself, or its values taken out once
        per step (torch passes them to its update functions as keyword arguments)."""
        return group

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state of ``p`` before its first update."""
        return {}

    def _update(self, group: Any, p: Tensor, grad, state: dict[str, Any],
                step: float | None) -> None:
        """The update formula on arrays, in place on ``A.real(p._data)``: ``group`` is what
        ``_prepare`` made of the param's group, ``grad`` is the
        gradient's array (a float view of a complex one, negated under ``maximize``), ``state``
        holds the tensors ``_init_state`` made, ``step`` is the state's count after this update
        (None without one)."""
        raise NotImplementedError

    step = _hooked(step)  # type: ignore[assignment]

    def register_step_pre_hook(self, hook: Callable) -> _Handle:
        h = _Handle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[h.id] = hook
        return h

    def register_step_post_hook(self, hook: Callable) -> _Handle:
        h = _Handle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[h.id] = hook
        return h

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g._data[...] = 0
                g._vc[0] += 1

    # --- param groups --------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        names = [p[0] for p in param_group["params"] if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p
                                 for p in param_group["params"]]
        if names:
            if len(names) != len(param_group["params"]):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or
                                                                      p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # --- state_dict ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Same as torch: state keyed by the params' positions, groups with position lists."""
        mapping: dict[int, int] = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = self.param_groups
        saved = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = _cast(id_map[k], v)
            else:
                state[k] = v
        for g, s in zip(groups, saved):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
        self.__setstate__({"state": state, "param_groups": saved})


def _cast(param: Tensor, value, key=None):
    """A loaded state value with tensors moved to the param's device and floating ones cast to
    its dtype; ``step`` stays as it is (on the CPU: torch moves it only for capturable/fused
    optimizers); like torch's ``.to``, a tensor that needs neither is shared."""
    if isinstance(value, Tensor):
        if key == "step":
            return value
        arr = to_device(value._data, param.device)
        if param.is_floating_point():
            arr = arr.astype(param._data.dtype, copy=False)
        return value if arr is value._data else Tensor._make(arr, param.device)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v) for v in value)
    return value
