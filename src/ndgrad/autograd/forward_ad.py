"""Same as torch.autograd.forward_ad: dual tensors (primal + tangent) for forward-mode AD.

Forward mode is computed from reverse mode, lazily. ``make_dual`` returns an alias of the primal
that records its uses in the ordinary autograd graph (it requires grad, so every op on it, in
place or not, is recorded); ``unpack_dual`` computes the tangent of any tensor from that graph by
the double-vjp trick: u ↦ uᵀJ is linear in u, so differentiating it w.r.t. u in the direction of
the duals' tangents gives J·tangent, the tangent torch propagates op by op.

Where this differs from torch: ops under ``no_grad`` (or inference mode) are not recorded, so
their results carry no tangent; a dual tensor reports ``requires_grad=True`` and a ``grad_fn``;
a tangent's graph runs through the primal's (backward through a tangent without
``retain_graph`` frees it); a custom ``Function`` contributes through its ``backward`` (its
``jvp`` is not used); where a backward is not differentiable (hardsigmoid's, as in torch) there
is no tangent; the returned tangent is a new tensor (torch returns the given tangent itself only
for the dual made from it, as here, and shares it through in-place ops)."""

from __future__ import annotations

import functools
import weakref
from typing import Any, NamedTuple

import numpy as np

from .._errors import not_tensor
from .._grad_mode import enable_grad
from .._tensor import Tensor
from .engine import grad as _grad
from .function import Function

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]

_current_level = -1


class _Level:
    """A dual level's duals: their graph nodes (the tangents' sources) and tangents."""

    def __init__(self) -> None:
        self.sources: dict = {}  # _MakeDual node -> (handle tensor on that node, tangent)
        self.duals: dict = {}  # id(dual) -> (weakref, tangent, version, node): unpacked as given
        self.anchor = Tensor._make(np.zeros(())).requires_grad_()  # so that make_dual records
        self.computing = False  # inside unpack_dual's backward passes (see _Primal)


_level: _Level | None = None


class _MakeDual(Function):
    """The dual: an alias of the primal, a graph node whose output is the tangent's source."""

    _node_name = "MakeDualBackward0"
    _plain_alias = True  # not a custom Function's view: may be written in place

    @staticmethod
    def forward(ctx, primal, anchor):
        return primal

    @staticmethod
    def backward(ctx, g):
        return g, None


class _Primal(Function):
    """unpack_dual's primal where it keeps a graph (its input requires grad): an alias that
    passes gradients back, except in unpack_dual's own passes, so it carries no tangent."""

    _node_name = "AliasBackward0"
    _plain_alias = True

    @staticmethod
    def forward(ctx, dual):
        return dual

    @staticmethod
    def backward(ctx, g):
        return None if _level is not None and _level.computing else g


def enter_dual_level() -> int:
    """Same as torch: enter a new (the only) forward AD level and return its number."""
    global _current_level, _level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current_level, _level = 0, _Level()
    return _current_level


def exit_dual_level(*, level=None) -> None:
    """Same as torch: leave the level; its duals' tangents are forgotten."""
    global _current_level, _level
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was "
                           "created. This is not supported.")
    _current_level, _level = level - 1, None


class dual_level:
    """Same as torch.autograd.forward_ad.dual_level: a context manager (and decorator)."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)

        return wrapper


class UnpackedDualTensor(NamedTuple):
    """Same as torch: what ``unpack_dual`` returns."""

    primal: Tensor
    tangent: Tensor | None


def make_dual(tensor: Tensor, tangent: Tensor, *, level=None) -> Tensor:
    """Same as torch.autograd.forward_ad.make_dual (a dual that records its uses; see above)."""
    if level is None:
        level = _current_level
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError("Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError("Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if level != _current_level or _level is None:
        raise RuntimeError("Invalid level given to _make_dual")
    if tangent.shape != tensor.shape:
        raise RuntimeError("Trying to set a forward gradient that has a different size than that "
                           "of the original Tensor, this is not supported. Tensor is of size "
                           f"{list(tensor.shape)} while the given forward gradient is of size "
                           f"{list(tangent.shape)}.")
    if _walk(tensor, _level)[0]:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported.")
    if tangent.stride() != tensor.stride():  # torch copies it into the primal's layout
        copy = Tensor._make(tensor._device.xp.empty_like(tensor._data, tangent._data.dtype),
                            tensor._device)
        tangent = copy.copy_(tangent)
    with enable_grad():
        dual = _MakeDual.apply(tensor, _level.anchor)
    node = dual._grad_fn
    handle = Tensor._make(dual._data, dual._device, True, node, 0)
    _level.sources[node] = (handle, tangent)
    _level.duals[id(dual)] = (weakref.ref(dual), tangent, dual._vc[0], node)
    return dual


def unpack_dual(tensor: Tensor, *, level=None) -> UnpackedDualTensor:
    """Same as torch.autograd.forward_ad.unpack_dual: (primal, tangent or None); the tangent is
    computed from the recorded graph (see above)."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, Tensor):
        raise not_tensor("_unpack_dual", tensor, "dual")
    lvl = _level
    if lvl is None or not tensor._requires_grad:
        return UnpackedDualTensor(tensor, None)
    reaches, real = _walk(tensor, lvl)
    if level != _current_level:
        if reaches:
            raise RuntimeError("Invalid level given to _fw_primal")
        return UnpackedDualTensor(tensor, None)
    with enable_grad():
        primal = _Primal.apply(tensor) if real else tensor.detach()
    if not reaches:
        return UnpackedDualTensor(primal, None)
    entry = lvl.duals.get(id(tensor))
    if (entry is not None and entry[0]() is tensor and entry[2] == tensor._vc[0]
            and entry[3] is tensor._grad_fn):
        return UnpackedDualTensor(primal, entry[1])  # the dual itself: its tangent as given
    return UnpackedDualTensor(primal, _tangent(lvl, tensor, real))


def _tangent(lvl: _Level, y: Tensor, real: bool) -> Tensor:
    """J·tangents by the double-vjp trick, from every dual of the level."""
    handles, tangents = zip(*lvl.sources.values())
    create = real or any(t._requires_grad for t in tangents)
    lvl.computing = True
    try:
        out = jvp_by_double_vjp([y], list(handles), list(tangents), create)[0]
    finally:
        lvl.computing = False
    return y.new_zeros(y.shape) if out is None else out


def jvp_by_double_vjp(outputs: list, inputs: list, tangents: list, create_graph: bool) -> list:
    """J·v for each output: the derivative of u ↦ uᵀJ (linear in u) at direction v. An entry is
    None where the output does not depend on the inputs (or does not require grad); a zero
    tensor where it does but its derivative is structurally zero. The graph is kept."""
    diff = [i for i, o in enumerate(outputs) if o._requires_grad]
    result: list = [None] * len(outputs)
    if not diff:
        return result
    with enable_grad():
        us = [outputs[i].new_ones(outputs[i].shape).requires_grad_() for i in diff]
        gs = _grad([outputs[i] for i in diff], inputs, us, retain_graph=True, create_graph=True,
                   allow_unused=True)
        pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None]
        if not pairs:
            return result
        live = [(g, t) for g, t in pairs if g._requires_grad]
        jv = _grad([g for g, _ in live], us, [t for _, t in live], retain_graph=True,
                   create_graph=create_graph, allow_unused=True) if live else [None] * len(us)
    for i, u, t in zip(diff, us, jv):
        result[i] = u.new_zeros(u.shape) if t is None else t if create_graph else t.detach()
    return result


def _walk(y: Tensor, lvl: _Level) -> tuple[bool, bool]:
    """(does ``y`` depend on a dual of the level, does it require grad for reasons of its own:
    a leaf or graph outside the duals). Paths through an unpacked primal carry no tangent."""
    if not y._requires_grad:
        return False, False
    if y._grad_fn is None:
        return False, y is not lvl.anchor
    reaches = real = False
    seen: set = set()
    stack = [(y._grad_fn, True)]
    while stack:
        fn, live = stack.pop()
        if (fn, live) in seen:
            continue
        seen.add((fn, live))
        if fn in lvl.sources:
            reaches = reaches or live
        live = live and not isinstance(fn, _Primal._backward_cls)
        for e in fn.next_edges:
            if e is None:
                continue
            if isinstance(e[0], Tensor):
                real = real or e[0] is not lvl.anchor
            else:
                stack.append((e[0], live))
        if reaches and real:
            break
    return reaches, real
