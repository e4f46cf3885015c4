"""Values saved for backward: packed with the version of the tensor they came from, checked when
unpacked, so a value modified in place since raises torch's error instead of a wrong gradient.

A saved value is ``(kind, obj, vc, version)``: an input tensor (``_IN``, the tensor itself), an
output (``_OUT``, its array, output number and device: the tensor is rebuilt on unpacking, so the
node does not keep its own output alive in a cycle) or a pack hook's result (``_HOOKED``, ``vc`` is
then the unpack hook). ``vc`` is the version counter the value is checked against."""

from __future__ import annotations

import re
import weakref

from .._grad_mode import anomaly as _anomaly
from .._grad_mode import state as _grad_state
from .._tensor import Tensor

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")
_FREED = (None,)  # ``saved`` once released: truthy, so ``if ctx.saved:`` still reaches the error
_OUT, _IN, _HOOKED = 0, 1, 2  # kinds of saved values


def _unpack(node, s):
    if s is None:
        return None
    kind, obj, vc, version = s
    if kind is _HOOKED:
        return _in_place_of(vc(obj[0]), obj[1])  # the unpack hook's tensor
    if vc[0] != version:
        raise RuntimeError(_modified_message(node, obj, kind, vc[0], version))
    if kind is _OUT:  # rebuild the output tensor without a reference cycle
        arr, nr, dev = obj[:3]
        t = Tensor._make(arr, dev, True, node, nr)
        t._vc = vc
        return t
    return obj


def _unpack_array(node, s):
    if s is None:
        return None
    kind, obj, vc, version = s
    if kind is _HOOKED:
        return vc(obj[0])._data
    if vc[0] != version:
        raise RuntimeError(_modified_message(node, obj, kind, vc[0], version))
    return obj[0] if kind is _OUT else obj._data


def _modified_message(node, obj, kind, now, version) -> str:
    if kind is _OUT:  # torch names the node that saved its own output (see written_output)
        arr, nr, dev = obj[:3]
        t, op = Tensor._make(arr, dev), (node, nr)
        if len(obj) > 3 and obj[3]() is not None:  # the view's node while it lives, as torch's
            op = (obj[3](), obj[4])
    else:
        t, op = obj, (obj._grad_fn, obj._output_nr)
    where = ""
    if op[0] is not None:  # torch's forward_op_name: ExpBackward0 -> Exp, EluBackward1 -> Elu1
        name = re.sub(r"Backward(0?)$", "", re.sub(r"Backward([1-9]\d*)$", r"\1", op[0].name()))
        where = f", which is output {op[1]} of {name},"
    hint = ("the backtrace further above shows the operation that failed to compute its "
            "gradient. The variable in question was changed in there or anywhere later. Good "
            "luck!" if _anomaly.enabled else
            "enable anomaly detection to find the operation that failed to compute its gradient, "
            "with ndgrad.autograd.set_detect_anomaly(True, check_nan=False).")
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{t.type()} {list(t.shape)}]{where} is at version {now}; "
            f"expected version {version} instead. Hint: {hint}")


def written_output(new: Tensor, t: Tensor) -> None:
    """An in-place op computed ``new`` and wrote it into ``t``, which took ``new``'s history: if
    ``new``'s node saved ``new`` (exp_, sigmoid_, relu_...), the saved value is ``t`` now, checked
    against ``t``'s version, so a later write to ``t`` raises as torch's does. Written through a
    view, torch names the view's node (AsStrided) in the error."""
    node = new._grad_fn
    saved = None if node is None else node.saved
    if not saved or saved is _FREED:
        return
    vc, nr = new._vc, new._output_nr
    named = () if t._grad_fn is node else (weakref.ref(t._grad_fn), t._output_nr)
    node.saved = tuple([
        (_OUT, s[1][:3] + named, t._vc, t._vc[0]) if s is not None and s[0] is _OUT
        and s[2] is vc and s[1][1] == nr else s for s in saved])


def _hooked(value: Tensor):
    """A pack hook's result, and the saved tensor's place in the graph: as torch's, the unpack
    hook gives only the data, and the unpacked tensor stands where the saved one stood (its
    node's output, or the leaf), so a double backward reaches the forward's graph (a
    non-reentrant checkpoint's recomputed values are detached)."""
    hooks = _grad_state.saved_hooks
    pack, unpack = hooks[-1]
    _grad_state.saved_hooks = ()  # ops inside the pack hook save their tensors plainly
    try:
        packed = pack(value)
    finally:
        _grad_state.saved_hooks = hooks
    fn = value._grad_fn  # (weakly: a node saving its own output would keep itself alive)
    place = (weakref.ref(fn), value._output_nr) if fn is not None else \
        value if value._requires_grad else None
    return (_HOOKED, (packed, place), unpack, None)


def _in_place_of(t, place):
    """The unpacked tensor ``t`` where the saved one stood in the graph (see ``_hooked``)."""
    if place is None or not isinstance(t, Tensor):
        return t
    if type(place) is tuple:
        fn = place[0]()
        return t if fn is None else Tensor._make(t._data, t._device, True, fn, place[1])
    return place  # a leaf: gradients reach it (its data are what was saved)


def _pack(s, args, arrays, outs, results, dev):
    """A saved value with what checks it at unpacking: an input tensor or an output (by identity
    with the forward's arrays) with its version, or a constant."""
    if s is None:
        return None
    if _grad_state.saved_hooks:
        return _hooked(_saved_tensor(s, args, arrays, outs, results, dev))
    for a, arr in zip(args, arrays):
        if s is arr and a is not arr:  # an input tensor
            return (_IN, a, a._vc, a._vc[0])
    for i, o in enumerate(outs):
        if s is o:  # an output: kept as its array, rebuilt on unpacking (no reference cycle)
            r = results[i]
            return (_OUT, (r._data, i, dev), r._vc, r._vc[0])
    return (_IN, Tensor._make(s, dev), _CONST_VC, 0)


def _saved_tensor(s, args, arrays, outs, results, dev) -> Tensor:
    for a, arr in zip(args, arrays):
        if s is arr and a is not arr:
            return a
    for o, r in zip(outs, results):
        if s is o:
            return r
    return Tensor._make(s, dev)


_CONST_VC = [0]
