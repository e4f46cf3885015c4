"""Capturing a step: run it once eagerly while recording the array-level program it executes.

The tracer sits on the few doors through which arrays are made: the ops' entry points (the hook
``autograd.op._profiler``), creation functions and random draws (``_trace.produced``), in-place
writes, snapshots, the engine's ``run``, an optimizer's ``step`` and ``zero_grad`` (patched on
the classes while capturing). Every array the step reads is then known: an argument's, a
register written by an earlier step, or a tensor made before the call (a parameter), read again
at each replay. What it cannot replay -- a tensor made some other way, a tensor's value read by
Python (``.item()``, ``if t:``, printing), hooks, ``create_graph`` -- breaks the capture: the call
finishes eagerly, and the step is cut around the statement where it broke (``islands``) or, where
it cannot be, the signature stays eager (``Unsupported`` says why)."""

from __future__ import annotations

import builtins
import contextlib
import os
import sys
import traceback
import types

from .. import _trace
from .._grad_mode import anomaly
from .._grad_mode import state as _grad_state
from .._tensor import Tensor
from ..autograd import engine as _engine
from ..autograd import op as _op
from . import program as P
from . import pystate


class Unsupported(RuntimeError):
    """Why a step cannot be captured (torch: torch._dynamo.exc.Unsupported)."""


# Tensor methods that give Python a tensor's values (or hook into its gradient): a step that
# calls one cannot be replayed without running its Python
_PY_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
             "__complex__", "__array__", "__repr__", "__str__", "__format__", "__contains__",
             "equal", "allclose", "is_nonzero", "register_hook", "retain_grad",
             "register_post_accumulate_grad_hook", "backward_hook")
_PY_READ_FUNCTIONS = ("equal", "allclose", "is_nonzero")  # the same, as ndgrad.<name>


class Tracer:
    def __init__(self, arg_tensors) -> None:
        self.prog = P.Program()
        self.origin: dict = {}  # id(array) -> register
        self.lazy: list = []  # ids of arrays read from tensors (re-read after an opaque call)
        self.keep: list = []  # what must stay alive while ids are compared
        self.arrays: list = []  # (array, register) of every known array
        self.created: set = set()  # ids of tensors made during the capture
        self.slots: dict = {}  # id(node) -> (its Forward, register, keys its forward set)
        self.edge_src: dict = {}  # (id of node or leaf, nr) of a tensor read -> its register
        self.externals: list = []  # tensors made before the call that the step reads
        self.objs: dict = {}  # register -> its object at capture, for the arguments
        self.modules: list = []  # the modules the step called
        self.constants: set = set()  # registers of 0-d constants: never written
        self.grads: dict = {}  # id(array) -> register of the leaf whose .grad it became (or
        # the leaf itself: see _eager_backward)
        self.failed: str | None = None
        self.py_exempt: set = set()  # Python state the opaque calls changed (see pystate)
        self.depth = 0  # > 0 inside a recorded creation function or opaque call
        # version counters: id -> (counter, value when first seen, writes a replay makes): an
        # in-place write not recorded (an op writing into its array itself) would be lost
        self.versions: dict = {}
        for t in arg_tensors:
            k = self.prog.reg()
            self.prog.arg_regs.append(k)
            self._known(t._data, k)
            j = self.prog.reg()
            self.prog.arg_obj_regs.append(j)
            self.objs[j] = t
            self._read(t, j)

    def _read(self, t: Tensor, k: int) -> None:
        """``t`` (in register ``k`` at replay) is read: where its gradient flows, if any."""
        self.keep.append(t)
        self.version(t)
        if t._requires_grad:
            fn = t._grad_fn
            self.edge_src.setdefault((id(fn), t._output_nr) if fn else (id(t), 0), k)

    # --- bookkeeping -------------------------------------------------------------------------
    def version(self, t: Tensor) -> None:
        vc = t._vc
        if id(vc) not in self.versions:
            self.versions[id(vc)] = [vc, vc[0], 0]

    def unseen_writes(self) -> bool:
        """Whether a tensor the step touched was written in place other than through a
        recorded door (its version moved more than the recorded writes account for)."""
        return any(vc[0] - v0 != n for vc, v0, n in self.versions.values())

    def _replayed(self, fn, *args, **kwargs):
        """``fn(*args)``, whose in-place writes a replay repeats as they are (an optimizer's
        step, the engine's accumulation into .grad): counted as recorded."""
        before = [(v, v[0][0]) for v in self.versions.values()]
        try:
            return fn(*args, **kwargs)
        finally:
            for v, n in before:
                v[2] += v[0][0] - n

    def _known(self, arr, k: int) -> None:
        self.origin[id(arr)] = k
        self.keep.append(arr)
        if _is_array(arr):
            self.arrays.append((arr, k))

    fullgraph = False
    frames: list = []  # where the capture stopped: (code, line) of each frame, outermost first

    def fail(self, reason: str) -> None:
        """Stop recording: the call goes on eagerly (with fullgraph, torch's error instead)."""
        if self.failed is None:
            self.failed = f"{reason} (at {_where()})"
            self.frames = _frames()
            if os.environ.get("NDGRAD_COMPILE_DEBUG"):
                traceback.print_stack()
        self._stop()
        if self.fullgraph:
            raise Unsupported(reason)

    @staticmethod
    def _stop() -> None:
        """Take every hook out: the rest of the call runs as plain eager code."""
        _trace.tracer = None
        _op._profiler = None
        _engine._tracer = None

    def reg_of(self, t: Tensor) -> int:
        """The register holding ``t``'s array at this point of the step."""
        arr = t._data
        k = self.origin.get(id(arr))
        if k is not None:
            return k
        leaf = self.grads.get(id(arr))
        if leaf is not None:  # a leaf's .grad the backward above gave (gradient clipping)
            if isinstance(leaf, Tensor):  # (a leaf of an argument's graph: see _eager_backward)
                leaf = self.edge_src.get((id(leaf), 0))
                if leaf is None:
                    if id(t) in self.created:
                        raise Unsupported("the step reads the .grad of a tensor it made")
                    leaf = self.prog.reg(self.grads[id(arr)])
            k = self.prog.reg()
            self.prog.steps.append(P.load_grad(k, leaf))  # (leaf: the leaf's register)
            self._known(arr, k)
            self.lazy.append(id(arr))
            return k
        if id(t) not in self.created:  # made before the call: read it from the tensor
            k = self.prog.reg()
            self.prog.steps.append(P.load(k, t))
            self._known(arr, k)
            self.lazy.append(id(arr))
            self.externals.append(t)
            self._read(t, self.prog.reg(t))
            return k
        k = self._view_of_known(arr)
        if k is not None:
            return k
        if not arr.ndim:  # a Python scalar as a tensor (masked_fill's value): a constant (one
            k = self.prog.reg(arr)  # computed from data would differ in the second capture)
            self._known(arr, k)
            self.constants.add(k)
            return k
        raise Unsupported("the step reads a tensor made outside ndgrad's recorded operations")

    def _view_of_known(self, arr) -> int | None:
        """The register of a view of a known array (a reshape, a slice), made at replay at the
        same place of that array's memory; None if ``arr`` is no such view."""
        base = getattr(arr, "base", None)
        while base is not None:
            src = self.origin.get(id(base))
            if src is not None:
                return self._view(arr, base, src)
            base = getattr(base, "base", None)
        if getattr(arr, "base", None) is None:
            return None
        start = _address(arr)  # a base known by its memory only (CuPy wraps bases anew)
        for b, k in reversed(self.arrays):
            if b.ndim and b.flags.c_contiguous and _address(b) <= start < _address(b) + b.nbytes:
                return self._view(arr, b, k)
        return None

    def _view(self, arr, base, src: int) -> int:
        offset = _address(arr) - _address(base)
        end = offset + sum((n - 1) * st for n, st in zip(arr.shape, arr.strides)) + arr.itemsize
        if (offset % arr.itemsize or not base.flags.c_contiguous or min(arr.strides, default=0) < 0
                or end > base.nbytes):
            raise Unsupported("a view the replay cannot place")
        k = self.prog.reg()
        self.prog.steps.append(P.strided_view(k, src, offset // arr.itemsize, arr.shape,
                                              arr.strides))
        self._known(arr, k)
        return k

    def operand(self, a) -> int:
        """The register an op argument is read from at replay."""
        if isinstance(a, Tensor):
            return self.reg_of(a)
        if _is_array(a):
            k = self.origin.get(id(a))
            if k is not None:
                return k
        if _is_array(a) and a.ndim:  # an array the caller passes: a tensor's, or a view of one
            k = self._view_of_known(a)
            if k is not None:
                return k
            raise Unsupported("an op argument computed from a tensor's values outside the op")
        if type(a) is tuple and not _constant(a):  # an indexing key: arrays among constants
            parts = [self.operand(x) for x in a]
            k = self.prog.reg()
            self.prog.steps.append(P.pack(k, parts))
            return k
        if not _constant(a):
            raise Unsupported(f"an op argument of type {type(a).__name__} holding arrays")
        return self.prog.reg(a)  # a constant: a Python value, or a promoted scalar's array

    # --- the doors -----------------------------------------------------------------------------
    def op(self, entry, cls, args, kw):
        """An op's entry point (``Op.apply``, ``apply_one``, ``apply_pair``)."""
        # an empty list argument is a side channel the forward fills (batch norm's statistics)
        sides = [k for k, v in kw.items() if type(v) is list and not v]
        _op._profiler = None
        try:
            res = entry(*args, **kw)
        finally:
            _op._profiler = self if self.failed is None else None
        if self.failed is not None or self.depth:
            return res
        try:
            self._record_op(entry, cls, args, kw, res, sides)
        except Unsupported as e:
            self.fail(str(e))
        return res

    def _record_op(self, entry, cls, args, kw, res, sides) -> None:
        if cls.__name__ in _DATA_SHAPED and any(_is_mask(a) for a in _flat(args)):
            raise Unsupported("an index by a boolean mask (the result's shape depends on the "
                              "data: Python reading it would be frozen)")
        name = entry.__func__.__name__
        side_regs = {}  # name -> registers of the arrays the forward put in that list
        for k in sides:
            side_regs[k] = [self._side(x) for x in kw[k]]
        kw = {k: v for k, v in kw.items() if k not in sides}
        tensors = [a for a in args if isinstance(a, Tensor)]
        if any(a._device is not tensors[0]._device for a in tensors):
            raise Unsupported("an op on tensors of two devices")
        ins = [self.operand(a) for a in args]
        kw_regs = {k: self.operand(v) for k, v in kw.items() if _is_array(v) and v.ndim
                   or type(v) is tuple and not _constant(v)}
        for k, v in kw.items():
            if k not in kw_regs and not _constant(v):
                raise Unsupported(f"an op argument of type {type(v).__name__} holding arrays")
        if name == "apply_pair":
            needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args[:2])
        elif name == "apply_one":
            needs = _op._FIRST
        else:
            needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        recorded = _grad_state.grad_enabled and True in needs
        if not recorded:
            needs = _op._NO_GRAD
        outs = res if type(res) is tuple else (res,)
        out_regs = []
        for o in outs:
            k = self.prog.reg()
            self._known(o._data, k)
            out_regs.append(k)
        dev = tensors[0]._device if tensors else _op.CPU
        node = outs[0]._grad_fn if recorded else None
        slot = None
        if node is not None and all(o._grad_fn in (node, None) for o in outs):
            slot = self.prog.reg()
        step = P.Forward(cls, ins, kw, kw_regs, out_regs, needs, dev, slot, side_regs)
        if slot is not None:
            self.slots[id(node)] = (step, slot, set(node.__dict__))
            self.keep.append(node)
        self.prog.steps.append(step)

    def _side(self, item):
        """Registers for an item a forward put in a side-channel list: an array or a tuple."""
        items = item if type(item) is tuple else (item,)
        if not all(_is_array(a) for a in items):
            raise Unsupported("a side result that is not an array")
        regs = []
        for a in items:
            k = self.prog.reg()
            self._known(a, k)
            regs.append(k)
        return tuple(regs) if type(item) is tuple else regs[0]

    def produce(self, make, args, kwargs):
        """A creation function or random draw (``_trace.produced``)."""
        self.depth += 1
        try:
            t = make(*args, **kwargs)
        finally:
            self.depth -= 1
        if self.failed is None and not self.depth and isinstance(t, Tensor):
            if t._requires_grad or any(isinstance(a, Tensor) for a in (*args, *kwargs.values())):
                self.fail("a tensor made from tensors, or requiring grad, inside the step")
            else:
                k = self.prog.reg()
                self.prog.steps.append(P.produce(k, make, args, kwargs))
                self._known(t._data, k)
        return t

    def read(self, t: Tensor) -> None:
        """``_trace.array_of``: ``t``'s array will reach an op as a plain argument."""
        if not self.depth and self.failed is None:
            try:
                self.reg_of(t)
            except Unsupported as e:
                self.fail(str(e))

    def derived(self, fn, args, out) -> None:
        """Arrays computed from arrays outside an op (``_trace.derived``)."""
        if self.depth or self.failed is not None:
            return
        try:
            ins = [self.operand(a) for a in args]
            outs = out if type(out) is tuple else (out,)
            regs = []
            for o in outs:
                k = self.prog.reg()
                self._known(o, k)
                regs.append(k)
            self.prog.steps.append(P.derived(fn, ins, regs, type(out) is tuple))
        except Unsupported as e:
            self.fail(str(e))

    def replayable(self, fn, args, kwargs):
        """A call of a function of tensors that records no graph (``_trace.replayable``)."""
        self.depth += 1
        try:
            res = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        if self.failed is not None or self.depth:
            return res
        try:
            if not isinstance(res, Tensor) or res._requires_grad:
                raise Unsupported(f"{fn.__name__} made a tensor that requires grad")
            spec = [(self.reg_of(a), a._device) if isinstance(a, Tensor) else
                    (self.prog.reg(a) if _constant(a) else _refuse(a), None) for a in args]
            if not all(_constant(v) for v in kwargs.values()):
                raise Unsupported(f"{fn.__name__} with tensor keyword arguments")
            k = self.prog.reg()
            self.prog.steps.append(P.call(k, fn, spec, kwargs))
            self._known(res._data, k)
        except Unsupported as e:
            self.fail(str(e))
        return res

    def write(self, t: Tensor, value: Tensor) -> None:
        """``_inplace.write``: ``value`` copied into ``t``'s buffer."""
        if self.depth:
            return
        try:
            dst = self.reg_of(t)
            src = self.reg_of(value)
            if dst in self.constants:
                raise Unsupported("an in-place write into a constant")
        except Unsupported as e:
            return self.fail(str(e))
        vc = t._vc if any(e is t for e in self.externals) else None
        self.prog.steps.append(P.write(dst, src, vc))
        v = self.versions.setdefault(id(t._vc), [t._vc, t._vc[0] - 1, 0])  # (bumped already)
        v[2] += 1

    def copied(self, src: Tensor, out: Tensor) -> None:
        """``_inplace._snapshot``: a copy of ``src``'s array."""
        if self.depth:
            return
        try:
            s = self.reg_of(src)
        except Unsupported as e:
            return self.fail(str(e))
        k = self.prog.reg()
        self.prog.steps.append(P.copy(k, s))
        self._known(out._data, k)

    py_roots: list = []  # what the step's Python can reach (see pystate)

    def opaque(self, fn, args, kwargs):
        """An optimizer's or a scheduler's step, zero_grad, a generator's seeding: run as it is
        now and at each replay."""
        if self.depth or self.failed is not None:
            return fn(*args, **kwargs)
        if kwargs.get("closure") is not None or any(callable(a) for a in args[1:]):
            self.fail("an optimizer step with a closure")
            return fn(*args, **kwargs)
        if any(isinstance(a, Tensor) or _is_array(a) and a.ndim
               for a in (*args[1:], *kwargs.values())):  # (ReduceLROnPlateau's metric)
            self.fail(f"{fn.__qualname__} reads a tensor")
            return fn(*args, **kwargs)
        self.depth += 1
        saved_tracer, _trace.tracer = _trace.tracer, None
        _op._profiler = None
        before = pystate.snapshot(self.py_roots) if self.py_roots else None
        try:
            res = self._replayed(fn, *args, **kwargs)
        finally:
            self.depth -= 1
            _trace.tracer = saved_tracer
            _op._profiler = self if self.failed is None else None
        if before is not None:  # what it changes in Python is changed again at each replay
            self.py_exempt |= pystate.changed(before, pystate.snapshot(self.py_roots))
        self.prog.steps.append(P.opaque(fn, args, kwargs))
        self._forget_reads()
        return res

    def _forget_reads(self) -> None:
        """After a call run as it is: it may have given tensors new arrays (a leaf's .grad, an
        optimizer's update), so the arrays read from tensors are read again when next used."""
        for i in self.lazy:
            self.origin.pop(i, None)
        self.lazy.clear()
        self.grads.clear()

    def run(self, roots, root_grads, retain_graph, create_graph, targets):
        """``autograd.engine.run``: the backward of a ``loss.backward()`` inside the step."""
        if (create_graph or targets is not None or anomaly.enabled or self.depth
                or _grad_state.saved_hooks):
            self.fail("a backward with create_graph, inputs, anomaly mode or saved-tensor hooks")
            return _engine.run(roots, root_grads, retain_graph, create_graph, targets)
        try:
            root_regs = [self.reg_of(g) if id(g._data) in self.origin or id(g) not in
                         self.created else self.prog.reg(g._data) for g in root_grads]
            args = self._argument_roots(roots)
            if args is not None:
                return self._eager_backward(args, roots, root_grads, root_regs, retain_graph)
            sched = self.schedule(roots, region=False)
        except Unsupported as e:
            self.fail(str(e))
            return _engine.run(roots, root_grads, retain_graph, create_graph, targets)
        prev = _grad_state.grad_enabled
        _grad_state.grad_enabled = False
        self.depth += 1  # a backward on tensors calls ops: not the step's own
        _op._profiler = None
        try:
            nodes = [n if n is not None else self.capture_node[s] for s, n in sched.order]
            leaves = sched.run(nodes, [g._data for g in root_grads], bool(retain_graph))
            self._replayed(sched.accumulate, leaves, self.at_capture())
        finally:
            _grad_state.grad_enabled = prev
            self.depth -= 1
            _op._profiler = self if self.failed is None else None
        self.prog.steps.append(P.backward(sched, root_regs, bool(retain_graph)))
        regs = self.at_capture()
        for k in sched.sinks:  # a later op may read a leaf's new .grad
            leaf = regs[k]
            if leaf._grad is not None:
                self.grads[id(leaf._grad._data)] = k
                self.keep.append(leaf._grad._data)
        return {}

    def _argument_roots(self, roots) -> list | None:
        """The registers of the argument tensors whose graphs ``roots`` are, if every root is
        one: a graph made before the step (by the piece of a step before a graph break)."""
        objs = set(self.prog.arg_obj_regs)
        regs = []
        for fn, nr in roots:
            k = self.edge_src.get((id(fn), nr))
            if isinstance(fn, Tensor) or id(fn) in self.slots or k not in objs or \
                    self.objs[k]._grad_fn is not fn:
                return None
            regs.append(k)
        return regs

    def _eager_backward(self, args, roots, root_grads, root_regs, retain_graph) -> dict:
        """The backward of an argument's graph, run by the engine as it is, now and at each
        replay; later reads of the leaves' new ``.grad`` are recorded as such."""
        self.depth += 1
        _op._profiler = _engine._tracer = None
        try:
            self._replayed(_engine.run, roots, root_grads, retain_graph, False, None)
        finally:
            self.depth -= 1
            _engine._tracer = self
            _op._profiler = self if self.failed is None else None
        devs = [g._device for g in root_grads]
        self.prog.steps.append(P.eager_backward(args, root_regs, devs, bool(retain_graph)))
        self._forget_reads()
        for leaf in _leaves(roots):  # (a leaf gets a register when its .grad is read)
            if leaf._grad is not None:
                self.grads[id(leaf._grad._data)] = leaf
                self.keep.append(leaf._grad._data)
        return {}

    def at_capture(self) -> dict:
        """The registers' values during the capture (the arguments', the constants)."""
        regs = dict(enumerate(self.prog.template))
        regs.update(self.objs)
        return regs

    # --- the backward's order ------------------------------------------------------------------
    def schedule(self, roots, region: bool) -> P.Schedule:
        """The nodes reachable from ``roots`` in the order engine.run pops them. In a region (a
        compiled module's forward), the edges that leave the captured ops are its sinks."""
        self.capture_node = {}

        def inside(fn) -> bool:
            return not isinstance(fn, Tensor) and (
                not region or id(fn) in self.slots or _static(fn))

        deps: dict = {}
        stack = [fn for fn, _ in roots if inside(fn)]
        for fn in stack:
            deps[fn] = 0
        while stack:
            for e in stack.pop().next_edges:
                if e is not None and inside(e[0]):
                    n = deps.get(e[0])
                    deps[e[0]] = 1 if n is None else n + 1
                    if n is None:
                        stack.append(e[0])
        ready, order, seen = [], [], set()
        for fn, _ in roots:  # engine.run's order: a stack, children once all parents ran
            if inside(fn) and deps[fn] == 0 and fn not in seen:
                ready.append(fn)
                seen.add(fn)
        while ready:
            fn = ready.pop()
            order.append(fn)
            for e in fn.next_edges:
                if e is not None and inside(e[0]):
                    deps[e[0]] -= 1
                    if deps[e[0]] == 0:
                        ready.append(e[0])
        index = {id(fn): i for i, fn in enumerate(order)}
        sinks: list = []  # registers holding the tensors gradients flow out to
        sink_index: dict = {}

        def target(e):
            if e is None:
                return None
            t, nr = e
            i = index.get(id(t))
            if i is not None:
                return (0, i, nr)
            k = self.edge_src.get((id(t), nr))
            if k is None:
                if not isinstance(t, Tensor) or id(t) in self.created:
                    raise Unsupported("a gradient flows to a tensor the replay cannot reach")
                k = self.prog.reg(t)  # a leaf the step never read itself (a view's base)
            if isinstance(t, Tensor) and t._hooks:
                raise Unsupported("a hook on a leaf")
            if k not in sink_index:
                sink_index[k] = len(sinks)
                sinks.append(k)
            return (1, sink_index[k], 0)

        slots, edges, multi = [], [], []
        for fn in order:
            if fn._hooks:
                raise Unsupported("a hook on a graph node")
            entry = self.slots.get(id(fn))
            if entry is not None:
                step, slot, keys = entry
                step.finish(fn, keys)
                slots.append((slot, None))
                self.capture_node[slot] = fn
            elif _static(fn):
                slots.append((None, fn))
            else:
                raise Unsupported(f"a {type(fn).__name__} node the step did not record")
            edges.append(tuple(target(e) for e in fn.next_edges))
            multi.append(None if fn.out_meta is None else len(fn.out_meta))
        return P.Schedule(slots, edges, multi, tuple(target(e) for e in roots), sinks)


def _static(fn) -> bool:
    """A node of a kind that keeps nothing per call (the view nodes a fused op adds): the same
    object serves every replay."""
    return getattr(fn, "_stateless", False) and not fn.saved and not fn._hooks


_DATA_SHAPED = ("IndexBackward0",)  # ops whose result's shape a boolean mask argument sets


def _flat(args):
    for a in args:
        if type(a) in (tuple, list):
            yield from _flat(a)
        else:
            yield a


def _is_mask(a) -> bool:
    d = a._data if isinstance(a, Tensor) else a
    return _is_array(d) and d.dtype.kind == "b"


def _refuse(a):
    raise Unsupported(f"an argument of type {type(a).__name__} holding arrays")


def _is_array(a) -> bool:
    """A NumPy or CuPy array (or scalar), not a Tensor."""
    return isinstance(getattr(a, "ndim", None), int) and hasattr(a, "dtype") and not isinstance(
        a, Tensor)


def _constant(v, depth: int = 0) -> bool:
    """Whether ``v`` can be kept as it is for every replay: it holds no array with elements."""
    if v is None or isinstance(v, (bool, int, float, complex, str, slice, type, type(...),
                                   types.ModuleType)):
        return True
    if _is_array(v):
        return v.ndim == 0
    if isinstance(v, (tuple, list)):
        return all(_constant(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(_constant(x, depth + 1) for x in v.values())
    if callable(v) or depth > 2:
        return True
    attrs = getattr(v, "__dict__", None)
    if attrs is None:
        attrs = {k: getattr(v, k, None) for k in getattr(type(v), "__slots__", ())}
    return all(_constant(x, depth + 1) for x in attrs.values())


def _where() -> str:
    """The innermost line of the stack outside this package: where the capture stopped."""
    skip = ("_compile", "_trace", "_dynamo.py", "autograd/node.py", "_errors.py")
    for f in reversed(traceback.extract_stack()[:-2]):
        if not any(s in f.filename for s in skip):
            return f"{f.filename.rpartition('/src/')[2]}:{f.lineno} in {f.name}"
    return "?"


def _leaves(roots) -> list:
    """The leaf tensors a backward from ``roots`` reaches."""
    seen, leaves, stack = set(), [], [fn for fn, _ in roots]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if isinstance(fn, Tensor):
            leaves.append(fn)
        else:
            stack.extend(e[0] for e in fn.next_edges if e is not None)
    return leaves


def _frames() -> list:
    frames, f = [], sys._getframe(2)
    while f is not None:
        frames.append((f.f_code, f.f_lineno))
        f = f.f_back
    return frames[::-1]


def _address(arr) -> int:
    return arr.__array_interface__["data"][0] if hasattr(arr, "__array_interface__") else \
        arr.data.ptr


# --- installing and removing the doors -----------------------------------------------------------
@contextlib.contextmanager
def tracing(tracer: Tracer):
    """Install ``tracer`` for the duration of one call; every door is restored on the way out."""
    from ..nn.modules.module import Module
    from .._random import Engine
    from ..optim.lr_scheduler import LRScheduler
    from ..optim.optimizer import Optimizer

    patches = []

    def patch(owner, name, value):
        patches.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, value)

    orig_make = Tensor.__dict__["_make"].__func__

    def make(*a, **k):
        t = orig_make(*a, **k)
        tracer.created.add(id(t))
        tracer.keep.append(t)
        tracer.version(t)
        return t

    patch(Tensor, "_make", staticmethod(make))
    for name in _PY_READS:
        if name in Tensor.__dict__:
            patch(Tensor, name, _python_read(tracer, Tensor.__dict__[name], name))
    top = sys.modules["ndgrad"]
    for name in _PY_READ_FUNCTIONS:
        patch(top, name, _python_read(tracer, top.__dict__[name], name))
    for prop in ("grad", "data", "requires_grad"):
        p = Tensor.__dict__[prop]
        patch(Tensor, prop, property(p.fget, _setter(tracer, p.fset, prop), p.fdel))
    for cls in _subclasses(Optimizer) + _subclasses(LRScheduler):
        for name in ("step", "zero_grad"):
            if name in cls.__dict__:
                patch(cls, name, _opaque(tracer, cls.__dict__[name]))
    patch(Module, "zero_grad", _opaque(tracer, Module.__dict__["zero_grad"]))
    for name in ("manual_seed", "seed", "set_state"):  # seeding: done again at each replay
        patch(Engine, name, _opaque(tracer, Engine.__dict__[name]))
    module_call = Module.__dict__["__call__"]

    def call(self, *args, **kwargs):  # the modules a step calls: their training flags guarded
        tracer.modules.append(self)
        d = self.__dict__
        if (d["_forward_hooks"] or d["_forward_pre_hooks"] or d["_backward_hooks"]
                or d["_backward_pre_hooks"]) and tracer.failed is None and not tracer.depth:
            tracer.fail(f"a hook on {type(self).__name__}")  # (Python a replay would skip)
        return module_call(self, *args, **kwargs)

    patch(Module, "__call__", call)
    patch(Module, "__setattr__", _module_setattr(tracer, Module.__dict__["__setattr__"]))
    patch(builtins, "print", _side_effect(tracer, print))  # (a replay runs no Python)
    _trace.tracer = tracer
    _op._profiler = tracer
    _engine._tracer = tracer
    try:
        yield tracer
    finally:
        Tracer._stop()
        for owner, name, value in reversed(patches):
            setattr(owner, name, value)


def _python_read(tracer, fn, name):
    def read(self, *a, **k):
        if tracer.failed is None and not tracer.depth:
            tracer.fail(f"Python reads a tensor's value (Tensor.{name})")
        return fn(self, *a, **k)
    return read


def _side_effect(tracer, fn):
    def call(*a, **k):
        if tracer.failed is None and not tracer.depth:
            tracer.fail(f"a Python side effect ({fn.__name__})")
        return fn(*a, **k)
    return call


def _setter(tracer, fset, prop):
    def setter(self, value):
        if tracer.failed is None and not tracer.depth:
            tracer.fail(f"the step sets Tensor.{prop}")
        fset(self, value)
    return setter


def _module_setattr(tracer, setattr_):
    def store(self, name, value):
        if isinstance(value, Tensor) and tracer.failed is None and not tracer.depth:
            tracer.fail(f"the step stores a tensor on a module ({type(self).__name__}.{name})")
        setattr_(self, name, value)
    return store


def _opaque(tracer, fn):
    def call(*args, **kwargs):
        return tracer.opaque(fn, args, kwargs)
    return call


def _subclasses(cls) -> list:
    out, stack = [], [cls]
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(c.__subclasses__())
    return out
