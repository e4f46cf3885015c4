"""Tensors torch's node saves that ndgrad's derivative does not read: gather's or a pooling's input
(torch reads only its shape, or recomputes from it), a weight passed beside the arrays, a result
torch's formula reads. ``saves(out, *inputs, outputs=...)`` keeps them on ``out``'s node as saved
values (saved.py's entries, with their versions) after the node's own, checked when its backward
runs: a write into one of them raises torch's version error where torch's does, and a second
backward through a freed node raises torch's error too. The node becomes an instance of a subclass
that checks them first and hides them from ``saved_tensors``/``saved_arrays``, so the op's formula
is unchanged and no other node pays."""

from __future__ import annotations

from .._grad_mode import state as _grad_state
from .._tensor import Tensor
from .node import Node
from .saved import _FREED, _IN, _OUT, FREED_MSG, _modified_message


def saves(out, *inputs, outputs=None):
    """``out`` (a tensor or a tuple of them, the op's results) with its node also saving the
    tensors ``inputs`` and the tensors ``outputs`` (results of the same node) as torch's does.
    Returns ``out``."""
    first = out[0] if isinstance(out, (tuple, list)) else out
    node = first._grad_fn if isinstance(first, Tensor) else None
    if node is None or not isinstance(node, Node) or _grad_state.saved_hooks \
            or node.saved is _FREED:
        return out
    extra = [(_IN, t, t._vc, t._vc[0]) for t in inputs if isinstance(t, Tensor)]
    extra += [(_OUT, (o._data, o._output_nr, o._device), o._vc, o._vc[0])
              for o in outputs or () if isinstance(o, Tensor)]
    if extra:
        if not getattr(type(node), "_guarded", False):
            node.__dict__["_n_saved"] = len(node.saved)
            node.__class__ = _guarded_class(type(node))
        node.saved = tuple(node.saved) + tuple(extra)
    return out


def _check(node) -> None:
    saved = node.saved
    if saved is _FREED:
        raise RuntimeError(FREED_MSG)
    for s in saved[node._n_saved:]:
        if s[2][0] != s[3]:
            raise RuntimeError(_modified_message(node, s[1], s[0], s[2][0], s[3]))


_GUARDED: dict = {}


def _guarded_class(cls) -> type:
    sub = _GUARDED.get(cls)
    if sub is not None:
        return sub
    def backward(ctx, *grads):
        _check(ctx)
        return cls.backward(ctx, *grads)

    def backward_raw(ctx, *grads):
        _check(ctx)
        return cls.backward_raw(ctx, *grads)

    def saved_tensors(ctx):
        return Node.saved_tensors.fget(ctx)[:ctx._n_saved]

    def saved_arrays(ctx):
        return Node.saved_arrays.fget(ctx)[:ctx._n_saved]

    sub = _GUARDED[cls] = type(cls)(cls.__name__, (cls,), {
        "__slots__": (), "_node_name": cls._node_name, "__module__": cls.__module__,
        "__qualname__": cls.__qualname__, "_renamed": True, "_guarded": True,
        "backward": backward, "backward_raw": None if cls.backward_raw is None else backward_raw,
        "saved_tensors": property(saved_tensors), "saved_arrays": property(saved_arrays)})
    return sub
