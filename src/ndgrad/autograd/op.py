"""``Op``: an internal primitive (forward on arrays, backward on tensors) and how a call records.

One interface: ``Op.apply(*args, **kw)`` runs ``forward(ctx, *arrays, **kw)`` and, when grad mode
is on and a tensor argument requires grad, records ``ctx`` as the outputs' node: edges to the inputs
(``next_edges``), their shapes and dtypes (``in_meta``), the saved values packed with versions
(``saved.py``). ``apply_one(t, *args, **kw)`` (one tensor, the first argument) and
``apply_pair(a, b, dt)`` (a binary op's tensor and tensor or 0-d array) are the same call
specialised for the hottest paths (measured: the unrolled pair is 1.2 us of a 2.5 us add); they
must give what ``apply`` gives for their arguments.

A node's name is torch's, declared with the op: the class name (``Add`` -> ``AddBackward0``), a
``_node_name`` attribute, or ``Op.named(name)`` where one primitive records several of torch's
nodes depending on the call (``Sub.named("RsubBackward1").apply(...)``)."""

from __future__ import annotations

import re
import sys
import traceback

import numpy as np

from .._backend import CPU, device_of_array
from .._errors import reraise_allocation_error
from .._grad_mode import anomaly as _anomaly
from .._grad_mode import state as _grad_state
from .._tensor import Tensor, refresh_view
from .formula import TENSORS, arrays
from .node import _NAMED, Node, _named_class
from .saved import _CONST_VC, _IN, _OUT, _pack

# ndgrad.profiler's recorder while a profile records, else None. The one check below per op
# call is all the profiler costs otherwise; it re-enters the call with this cleared, timed.
_profiler = None


class Op(Node):
    """An internal primitive. Subclasses define ``forward(ctx, *arrays, **kw)`` returning an array
    (or a tuple of arrays) and ``backward(ctx, *grads)`` on tensors, returning one gradient per
    positional argument (None where there is none)."""

    __slots__ = ()

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "_renamed" not in cls.__dict__:  # (not one of named()'s subclasses)
            name = cls.__name__.lstrip("_")
            if "_node_name" not in cls.__dict__:  # torch's node name: Add -> AddBackward0
                cls._node_name = name if re.search(r"Backward\d+$", name) else name + "Backward0"
            if "_op_name" not in cls.__dict__:
                cls._op_name = name.lower()
            # type(grad_fn).__name__ is torch's too (the qualified name stays the Python class's)
            cls.__name__ = cls._node_name.rpartition("::")[2]
        f = cls.__dict__.get("formula")
        if f is not None:  # one derivative: backward on tensors, backward_raw on arrays
            cls.backward = lambda ctx, *g: f(ctx, TENSORS, ctx.saved_tensors, *g)
            if "backward_raw" not in cls.__dict__:
                cls.backward_raw = lambda ctx, *g: f(ctx, arrays(ctx.xp), ctx.saved_arrays, *g)
        elif "backward" in cls.__dict__ and "backward_raw" not in cls.__dict__:
            cls.backward_raw = None  # an inherited raw backward would not match the new backward

    @classmethod
    def named(cls, name: str) -> type:
        """This op recording torch's node ``name`` (a subclass, made once): for a primitive that
        stands for several of torch's ops, ``Index.named("GatherBackward0").apply(...)``."""
        if name == cls._node_name:
            return cls
        return _NAMED.get((cls, name)) or _named_class(cls, name)  # (the lookup inlined: hot)

    @classmethod
    def apply(cls, *args, **kw):
        if _profiler is not None:  # ndgrad.profiler is recording (see above)
            return _profiler.op(cls.apply, cls, args, kw)
        try:
            dev = None
            needs = []  # per argument: a Tensor that requires grad?
            arrays = []
            for a in args:
                if isinstance(a, Tensor):
                    if dev is None:
                        dev = a._device
                    elif a._device is not dev:
                        return cls.apply(*cpu_scalars(cls, args), **kw)
                    needs.append(a._requires_grad)
                    arrays.append(a._data)
                else:
                    needs.append(False)
                    arrays.append(a)
            if dev is None:
                dev = CPU
            ctx = object.__new__(cls)
            xp = ctx.xp = dev.xp
            ctx.saved = ()
            if not (True in needs and _grad_state.grad_enabled):
                ctx.needs_input_grad = _NO_GRAD
                return _wrap(cls.forward(ctx, *arrays, **kw), dev, xp)
            needs = tuple(needs)
            ctx.needs_input_grad = needs = _NEEDS.get(needs) or _shared(_NEEDS, needs, needs)
            if len(arrays) > 1:
                _distinct(args, arrays)
            out = cls.forward(ctx, *arrays, **kw)
            _edges(ctx, args, needs)
            return _outputs(ctx, out, dev, xp, args, arrays)
        except (MemoryError, ValueError) as e:  # NumPy's allocation failures: torch's error
            reraise_allocation_error(e)

    @classmethod
    def apply_one(cls, t, /, *args, **kw):
        """``apply(t, *args, **kw)`` for an op whose only tensor argument is the first (unary
        math, reductions, views): the same steps without the scan for tensors. (``t`` is
        positional only: a keyword argument ``t`` is the op's.)"""
        if _profiler is not None:  # ndgrad.profiler is recording (see above)
            return _profiler.op(cls.apply_one, cls, (t, *args), kw)
        try:
            dev = t._device
            d = t._data
            ctx = object.__new__(cls)
            xp = ctx.xp = dev.xp
            ctx.saved = ()
            if not (t._requires_grad and _grad_state.grad_enabled):
                ctx.needs_input_grad = _NO_GRAD
                return _wrap(cls.forward(ctx, d, *args, **kw), dev, xp)
            ctx.needs_input_grad = _FIRST
            out = cls.forward(ctx, d, *args, **kw)
            if t._base is not None and t._view_ver != t._vc[0]:  # _edge inlined
                refresh_view(t)
            fn = t._grad_fn
            ctx.next_edges = ((t, 0) if fn is None else (fn, t._output_nr),)
            ctx.in_meta = (_METAS.get((d.shape, d.dtype)) or _metas(d))[0]
            ctx._hooks = None
            if _anomaly.enabled:
                ctx._stack = traceback.format_stack()[:-1]
            if type(out) is not xp.ndarray:
                if xp is np and isinstance(out, np.generic):  # a reduction's 0-d result
                    out = _as_saved_array(ctx, out, np.asarray(out))
                if type(out) is not xp.ndarray:
                    return _outputs(ctx, out, dev, xp, (t,), (d,))
            if _grad_state.saved_hooks:
                return _outputs(ctx, out, dev, xp, (t,), (d,))
            # _outputs and _pack unrolled for one array out, as in apply_pair
            diff = out.dtype.kind in "fcV"
            res = Tensor._make(out, dev, diff, ctx if diff else None, 0)
            ctx.out_meta = None
            saved = ctx.saved
            if saved:
                packed = []  # (a loop, as in apply_pair)
                for s in saved:
                    packed.append(None if s is None else (_IN, t, t._vc, t._vc[0]) if s is d else
                                  (_OUT, (out, 0, dev), res._vc, 0) if s is out else
                                  (_IN, Tensor._make(s, dev), _CONST_VC, 0))
                ctx.saved = tuple(packed)
            return res
        except (MemoryError, ValueError) as e:  # NumPy's allocation failures: torch's error
            reraise_allocation_error(e)

    @classmethod
    def apply_pair(cls, a, b, dt=None):
        """``apply(a, b, dt=dt)`` unrolled for the commonest call, a binary op on a tensor and
        a tensor or a raw 0-d array (a promoted Python scalar)."""
        if _profiler is not None:  # ndgrad.profiler is recording (see above)
            return _profiler.op(cls.apply_pair, cls, (a, b, dt), {})
        try:
            ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
            dev = a._device if ta else b._device
            if ta and tb and b._device is not dev:
                return cls.apply_pair(*cpu_scalars(cls, (a, b)), dt)
            ra, rb = ta and a._requires_grad, tb and b._requires_grad
            da, db = a._data if ta else a, b._data if tb else b
            ctx = object.__new__(cls)
            xp = ctx.xp = dev.xp
            ctx.saved = ()
            if not ((ra or rb) and _grad_state.grad_enabled):
                ctx.needs_input_grad = _NO_GRAD
                return _wrap(cls.forward(ctx, da, db, dt), dev, xp)
            if da is db and a is not b:  # x and x.detach(): see _distinct
                db = db.view()
            if ra:  # (the edges' and metas' three cases apart: 3% of a small op's fwd+bwd)
                if rb:
                    ctx.needs_input_grad = _BOTH
                    out = cls.forward(ctx, da, db, dt)
                    ctx.next_edges = (_edge(a), _edge(b))
                    ctx.in_meta = ((_METAS.get((da.shape, da.dtype)) or _metas(da))[0][0],
                                   (_METAS.get((db.shape, db.dtype)) or _metas(db))[0][0])
                else:
                    ctx.needs_input_grad = _LEFT
                    out = cls.forward(ctx, da, db, dt)
                    ctx.next_edges = (_edge(a), None)
                    ctx.in_meta = (_METAS.get((da.shape, da.dtype)) or _metas(da))[1]
            else:
                ctx.needs_input_grad = _RIGHT
                out = cls.forward(ctx, da, db, dt)
                ctx.next_edges = (None, _edge(b))
                ctx.in_meta = (_METAS.get((db.shape, db.dtype)) or _metas(db))[2]
            ctx._hooks = None
            if _anomaly.enabled:
                ctx._stack = traceback.format_stack()[:-1]
            if type(out) is not xp.ndarray:
                if type(out) is tuple or _grad_state.saved_hooks:
                    return _outputs(ctx, out, dev, xp, (a, b), (da, db))
                out = _as_saved_array(ctx, out, xp.asarray(out))
            elif _grad_state.saved_hooks:
                return _outputs(ctx, out, dev, xp, (a, b), (da, db))
            # _outputs and _pack unrolled for this hottest case: 20% of a binary op's time
            diff = out.dtype.kind in "fcV"
            res = Tensor._make(out, dev, diff, ctx if diff else None, 0)
            ctx.out_meta = None
            saved = ctx.saved
            if saved:
                packed = []  # (a loop: a list comprehension is a call of its own before 3.12)
                for s in saved:
                    packed.append(
                        None if s is None else (_IN, a, a._vc, a._vc[0]) if s is da and ta else
                        (_IN, b, b._vc, b._vc[0]) if s is db and tb else
                        (_OUT, (out, 0, dev), res._vc, 0) if s is out else
                        (_IN, Tensor._make(s, dev), _CONST_VC, 0))
                ctx.saved = tuple(packed)
            return res
        except (MemoryError, ValueError) as e:  # NumPy's allocation failures: torch's error
            reraise_allocation_error(e)


class _NoGrad(tuple):
    """needs_input_grad when nothing is recorded: every index reads False."""

    def __getitem__(self, i):
        return False


_NO_GRAD = _NoGrad()


class _First(tuple):
    """needs_input_grad of apply_one: the first argument only."""

    def __getitem__(self, i):
        return i == 0


_FIRST = _First((True,))


# One object per kind of input meta (shape, dtype) and needs_input_grad, shared by the nodes
# that record it: each node keeps fewer objects of its own for the garbage collector to scan
# (a graph of 1,000 small ops spent a third of its time in collections).
# (shape, dtype) -> (m,), (m, None), (None, m) for m = (shape, dtype): in_meta of a one-input
# node and of a binary one where one side needs no gradient
_METAS: dict = {}
_NEEDS: dict = {}
_BOTH, _LEFT, _RIGHT = (True, True), (True, False), (False, True)


def _meta(d) -> tuple:
    """``(d.shape, d.dtype)``, shared."""
    return (_METAS.get((d.shape, d.dtype)) or _metas(d))[0][0]


def _metas(d) -> tuple:
    m = (d.shape, d.dtype)
    return _shared(_METAS, m, ((m,), (m, None), (None, m)))


def _shared(table: dict, key, value):
    if len(table) > 4096:  # (bounded: shapes come and go)
        table.clear()
    table[key] = value
    return value


def _edge(a: Tensor) -> tuple:
    """The graph edge to a tensor that requires grad: its node, or itself for a leaf."""
    if a._base is not None and a._view_ver != a._vc[0]:
        refresh_view(a)  # a view whose base changed in place
    fn = a._grad_fn
    return (a, 0) if fn is None else (fn, a._output_nr)


def _distinct(args, arrays) -> None:
    """Two tensors sharing one array (x and x.detach()) get array objects of their own: saved
    values are matched to their tensors by identity (else x * x.detach() saved x twice, and its
    second derivative was wrong)."""
    for i in range(1, len(arrays)):
        for j in range(i):
            if arrays[j] is arrays[i] and args[j] is not args[i]:
                arrays[i] = arrays[i].view()
                break


def _edges(node, args, needs) -> None:
    edges, meta = [], []
    for a, need in zip(args, needs):
        if need:  # _edge and _meta inlined
            if a._base is not None and a._view_ver != a._vc[0]:
                refresh_view(a)
            fn = a._grad_fn
            edges.append((a, 0) if fn is None else (fn, a._output_nr))
            d = a._data
            meta.append((_METAS.get((d.shape, d.dtype)) or _metas(d))[0][0])
        else:
            edges.append(None)
            meta.append(None)
    node.next_edges = tuple(edges)
    node.in_meta = tuple(meta)
    node._hooks = None
    if _anomaly.enabled:
        node._stack = traceback.format_stack()[:-2]


def _wrap(out, dev, xp):
    """Tensors around an unrecorded forward's array (or tuple of arrays)."""
    if type(out) is tuple:
        return tuple(Tensor._make(o if type(o) is xp.ndarray else xp.asarray(o), dev) for o in out)
    if type(out) is not xp.ndarray:
        out, dev = _result(out, dev, xp)
    return Tensor._make(out, dev)


def _result(out, dev, xp) -> tuple:
    """(array, device) of a forward's result that is not an array of the op's device: an array
    the op made on another device (a move, ToCopy) lives there; NumPy's 0-d scalars become
    arrays of the op's device."""
    if xp is np:
        cp = sys.modules.get("cupy")
        if cp is not None and type(out) is cp.ndarray:
            return out, device_of_array(out)
    elif type(out) is np.ndarray:
        return out, CPU
    return xp.asarray(out), dev


def _outputs(ctx, out, dev, xp, args, arrays):
    """Tensors around a recorded forward's array (or tuple of arrays), with ``ctx`` as their
    grad_fn and its saved values packed. Integer outputs (indices) are not differentiable."""
    if type(out) is not tuple:
        if type(out) is not xp.ndarray:  # NumPy's 0-d scalars, or a move's array
            arr, dev = _result(out, dev, xp)
            out = _as_saved_array(ctx, out, arr)
        diff = out.dtype.kind in "fcV"
        res = Tensor._make(out, dev, diff, ctx if diff else None, 0)
        ctx.out_meta = None
        if ctx.saved:
            outs, results = (out,), (res,)
            ctx.saved = tuple([_pack(s, args, arrays, outs, results, dev) for s in ctx.saved])
        return res
    outs = tuple(o if type(o) is xp.ndarray else _as_saved_array(ctx, o, xp.asarray(o))
                 for o in out)
    out = outs
    results = []
    for i, o in enumerate(outs):
        diff = o.dtype.kind in "fcV"
        results.append(Tensor._make(o, dev, diff, ctx if diff else None, i))
    ctx.out_meta = tuple((r._data.shape, r._data.dtype, dev) for r in results)
    if ctx.saved:
        ctx.saved = tuple([_pack(s, args, arrays, out, results, dev) for s in ctx.saved])
    return tuple(results)


def _as_saved_array(ctx, out, arr):
    """``arr``, the output array for NumPy's 0-d scalar result ``out``; a saved reference to the
    scalar becomes the array, so it is still known as the output (its graph re-attached on
    unpacking)."""
    if ctx.saved:
        ctx.saved = tuple([arr if s is out else s for s in ctx.saved])
    return arr


def cpu_scalars(cls, args) -> list:
    """``args`` with their 0-d CPU tensors moved to the other tensors' device (torch takes them
    as scalars beside CUDA tensors), or torch's error for tensors on two devices."""
    devs = [a._device for a in args if isinstance(a, Tensor)
            and not (a._device is CPU and a._data.ndim == 0)]
    dev = devs[0] if devs else CPU
    for d in devs:
        if d is not dev:
            _device_mismatch(cls, dev, d)
    return [a.to(dev) if isinstance(a, Tensor) and a._device is not dev else a for a in args]


def _device_mismatch(cls, a, b):
    raise RuntimeError("Expected all tensors to be on the same device, but found at least two "
                       f"devices, {a} and {b}! (when checking argument for {cls._op_name})")
