"""Tensors torch's node saves that ndgrad's derivative does not read: gather's or a pooling's input
(torch reads only its shape, or recomputes from it), a weight passed beside the arrays, a result
torch's formula reads. ``saves(out, *inputs, outputs=...)`` keeps them on ``out``'s node as saved
values (saved.py's entries, with their versions), in one last entry after the node's own, checked
when its backward runs: a write into one of them raises torch's version error where torch's does,
and a second backward through a freed node raises torch's error too. The node becomes an instance
of a subclass that checks them first and hides them from ``saved_tensors``/``saved_arrays``, so
the op's formula is unchanged and no other node pays."""

from __future__ import annotations

from .._grad_mode import state as _grad_state
from .._tensor import Tensor
from .node import Node
from .saved import _FREED, _IN, _OUT, FREED_MSG, _modified_message, _unpack, _unpack_array

_GUARDS = 3  # the kind of the last saved entry: (kind, entries, None, None)


def saves(out, *inputs, outputs=()):
    """``out`` (a tensor or a tuple of them, the op's results) with its node also saving the
    tensors among ``inputs`` and the tensors ``outputs`` (results of the same node) as torch's
    does. Returns ``out``."""
    node = (out if isinstance(out, Tensor) else out[0])._grad_fn
    if node is None or _grad_state.saved_hooks:
        return out
    extra = tuple([(_IN, t, t._vc, t._vc[0]) for t in inputs if isinstance(t, Tensor)])
    if outputs:
        extra += tuple([(_OUT, (o._data, o._output_nr, o._device), o._vc, o._vc[0])
                        for o in outputs])
    saved = node.saved
    if not extra or saved is _FREED:
        return out
    sub = _GUARDED.get(type(node))
    if sub is None:  # an op's node, or one renamed since it was guarded
        if "_guarded" not in type(node).__dict__ and getattr(type(node), "_guarded", False):
            node.saved = saved[:-1] + ((_GUARDS, saved[-1][1] + extra, None, None),) \
                if _own(saved) is not saved else saved + ((_GUARDS, extra, None, None),)
            return out
        if not isinstance(node, Node):
            return out
        sub = _guarded_class(type(node))
    if sub is type(node) and _own(saved) is not saved:  # guarded already: more entries
        node.saved = saved[:-1] + ((_GUARDS, saved[-1][1] + extra, None, None),)
    else:
        node.__class__ = sub
        node.saved = saved + ((_GUARDS, extra, None, None),)
    return out


def _check(node) -> None:
    saved = node.saved
    if saved is _FREED:
        raise RuntimeError(FREED_MSG)
    if _own(saved) is not saved:
        for s in saved[-1][1]:
            if s[2][0] != s[3]:
                raise RuntimeError(_modified_message(node, s[1], s[0], s[2][0], s[3]))


def _own(saved) -> tuple:
    """The node's own saved entries (a node of a guarded class may have none added: a compiled
    step replays its op's forward into a node of that class)."""
    last = saved[-1] if saved else None
    return saved[:-1] if last is not None and last[0] == _GUARDS else saved


_GUARDED: dict = {}


def _guarded_class(cls) -> type:
    def backward(ctx, *grads):
        _check(ctx)
        return cls.backward(ctx, *grads)

    def backward_raw(ctx, *grads):
        _check(ctx)
        return cls.backward_raw(ctx, *grads)

    def saved_tensors(ctx):
        if ctx.saved is _FREED:
            raise RuntimeError(FREED_MSG)
        return tuple([_unpack(ctx, s) for s in _own(ctx.saved)])

    def saved_arrays(ctx):
        if ctx.saved is _FREED:
            raise RuntimeError(FREED_MSG)
        return tuple([_unpack_array(ctx, s) for s in _own(ctx.saved)])

    sub = type(cls)(cls.__name__, (cls,), {
        "__slots__": (), "_node_name": cls._node_name, "__module__": cls.__module__,
        "__qualname__": cls.__qualname__, "_renamed": True, "_guarded": True,
        "backward": backward, "backward_raw": None if cls.backward_raw is None else backward_raw,
        "saved_tensors": property(saved_tensors), "saved_arrays": property(saved_arrays)})
    _GUARDED[cls] = _GUARDED[sub] = sub  # (a guarded class maps to itself)
    return sub
