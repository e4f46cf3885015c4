"""The Python state a step can change besides tensors: a replay does not run the step's Python,
so a capture that changed it (a counter, a list appended to, an attribute set, a scheduler
stepped by hand) cannot be replayed. ``snapshot`` records the plain values reachable from the
step's closure, the globals it names and its arguments; two snapshots are compared around the
capture, less what the calls replayed as they are (an optimizer's or a scheduler's step) changed.
``bindings`` are the objects the step's code names, which a replay checks are still the same.
"""

from __future__ import annotations

import types

import numpy as np

from .._tensor import Tensor

_PLAIN = (int, float, complex, str, bytes, bool, type(None))
_OPAQUE = (Tensor, np.ndarray, np.generic, types.ModuleType, types.FunctionType,
           types.BuiltinFunctionType, types.MethodType, type, types.CodeType)
_MAX_DEPTH, _MAX_ITEMS, _MAX_LEN, _MAX_DICT = 6, 20000, 64, 4096


def roots(fn, args, kwargs) -> list:
    """What the step can reach: its closure, the globals its code names, its arguments."""
    out = [a for a in args if not isinstance(a, Tensor)]
    out += [v for v in kwargs.values() if not isinstance(v, Tensor)]
    if isinstance(fn, types.MethodType):
        out.append(fn.__self__)
    if getattr(getattr(fn, "__func__", fn), "__code__", None) is None:
        return out + [fn]
    return out + [value for _, _, value in bindings(fn)]


def bindings(fn) -> list:
    """(cell, None, value) or (globals, name, value) of the variables ``fn``'s code reads from
    its closure and its globals: a replay is valid while each is still bound to that object (a
    plain value: an equal one)."""
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    out = []
    for cell in fn.__closure__ or ():
        try:
            out.append((cell, None, cell.cell_contents))
        except ValueError:  # an empty cell
            pass
    g = fn.__globals__
    return out + [(g, n, g[n]) for n in sorted(_global_names(code)) if n in g]


def same_bindings(binds) -> bool:
    for where, name, value in binds:
        now = where.cell_contents if name is None else where.get(name, _MISSING)
        if now is not value and (type(now) is not type(value) or type(value) not in _PLAIN
                                 or now != value):
            return False
    return True


def _global_names(code) -> set:
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


def snapshot(objs) -> dict:
    """{(id of a container, key): value} for the plain values and the identities of the
    objects reachable from ``objs`` (tensors, arrays, functions and modules are not looked
    into)."""
    seen, out = set(), {}
    stack = [(o, 0) for o in objs]
    while stack and len(out) < _MAX_ITEMS:
        obj, depth = stack.pop()
        if id(obj) in seen or isinstance(obj, _PLAIN + _OPAQUE) or depth > _MAX_DEPTH:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            items = list(obj.items())
        elif isinstance(obj, (list, tuple)):
            items = list(enumerate(obj[:_MAX_LEN]))
        elif isinstance(obj, (set, frozenset)):
            items = []
        else:
            d = getattr(obj, "__dict__", None)
            if not isinstance(d, dict):
                continue
            items = list(d.items())
        if isinstance(obj, (list, tuple, set, frozenset, dict)):
            out[id(obj), "len"] = len(obj)
        for k, v in items[:_MAX_DICT]:
            out[id(obj), _value(k)] = _value(v)
            stack.append((v, depth + 1))
    return out


def _value(v):
    """A plain value (or a tuple of them, a shape) as it is, any other object by identity."""
    if isinstance(v, _PLAIN) or type(v) is tuple and all(isinstance(x, _PLAIN) for x in v):
        return v
    return "id", id(v)


def changed(before: dict, after: dict) -> set:
    """The keys whose values differ, or that only one snapshot has."""
    return {k for k in before.keys() | after.keys()
            if (a := before.get(k, _MISSING)) is not (b := after.get(k, _MISSING)) and a != b}


_MISSING = object()
