"""``ndgrad.compile``: capture a step once per input signature, replay it as a list of array calls.

The first call with a new signature runs the function eagerly while ``capture.Tracer`` records
what it executes on arrays (forward ops, the backward the engine runs, in-place writes, creation
functions and random draws, the optimizer's step and zero_grad). Later calls with the same
signature replay that record (``program.Program``): no Tensor objects, no graph recording, no
dispatch, and the user's Python is not run again. Results, ``.grad`` and optimizer state are the
eager ones, bit for bit. A step that reads a tensor's value in Python (``.item()``, ``if t:``,
printing) or otherwise cannot be replayed is cut around the statement where it broke: the pieces
before and after are compiled, the statement runs eagerly (``islands``); where it cannot be cut,
the signature stays eager (``fullgraph=True`` raises instead). The signature: the arguments'
shapes, dtypes, devices, requires_grad and other values, grad mode, autocast, the default dtype
and device, and for a module its and its submodules' ``training``. On the CPU the third call
lowers the program to one function of NumPy calls (``lower``), which later calls run."""

from __future__ import annotations

import functools
import types
import weakref

from .. import _dtype, _trace
from .._backend import _DEFAULT as _DEFAULT_DEVICE
from .._grad_mode import anomaly
from ..amp._state import state as _autocast
from .._grad_mode import state as _grad_state
from .._tensor import Tensor
from ..autograd import op as _op
from ..autograd.op import _edge
from ..autograd.saved import _FREED, _IN
from ..nn.modules.module import WRITES, Module
from . import capture as C
from . import islands as I
from . import lower as L
from . import program as P
from . import pystate
from .capture import Unsupported

__all__ = ["compile", "config", "reset", "CompiledFunction", "OptimizedModule", "Unsupported"]



class _Config:
    """torch._dynamo.config: ``cache_size_limit`` signatures per compiled function are recorded,
    then new ones run eagerly; torch's other options are accepted and kept."""

    cache_size_limit = 8
    recompile_limit = 8
    accumulated_cache_size_limit = 256
    suppress_errors = False
    verbose = False
    capture_scalar_outputs = False
    automatic_dynamic_shapes = True
    optimize_ddp = True


config = _Config()


class Eager(str):
    """A signature that runs eagerly: why it could not be captured."""


def compile(model=None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend="inductor", mode: str | None = None, options: dict | None = None,
            disable: bool = False):
    """Same as torch.compile: ``model`` (a function or a Module) captured at its first call per
    input signature and replayed afterwards; usable as a decorator, with or without arguments.
    ``backend``, ``mode`` and ``options`` are accepted; ``dynamic`` shapes recapture."""
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if not callable(model):
        raise RuntimeError("compile() expects a callable (a function or an nn.Module)")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph)
    return functools.wraps(model)(CompiledFunction(model, fullgraph))


_ALL: weakref.WeakSet = weakref.WeakSet()


def reset() -> None:
    """Same as torch.compiler.reset: every compiled function captures again at its next call."""
    for f in list(_ALL):
        f.cache.clear()


class CompiledFunction:
    """``fn`` with a cache of captured steps, one per signature."""

    def __init__(self, fn, fullgraph: bool = False, modules=()) -> None:
        self.fn, self.fullgraph = fn, fullgraph
        # the modules whose training flags are guarded: a compiled module's submodules, and
        # every module a capture saw called (a compiled function's model)
        self.modules = list(modules)
        self.cache: dict = {}
        self.recaptures = 0
        _ALL.add(self)

    def __get__(self, obj, owner=None):  # a decorated method
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if (_trace.tracer is not None or _op._profiler is not None or anomaly.enabled
                or _grad_state.saved_hooks):
            return self.fn(*args, **kwargs)  # nested, profiled or debugged: eagerly
        tensors: list = []
        key = _signature(args, kwargs, tensors, self.modules)
        entry = self.cache.get(key)
        if type(entry) is Captured and not entry.pending and entry.valid():
            return entry.replay(tensors)
        if type(entry) is I.Split:
            return entry(args, kwargs)
        if type(entry) is Eager or (entry is None and len(self.cache) >= config.cache_size_limit):
            return self.fn(*args, **kwargs)
        return self._capture(key, tensors, args, kwargs, entry)

    def _capture(self, key, tensors, args, kwargs, first):
        """Run ``fn`` eagerly while recording it. The first two calls of a signature are both
        recorded and must record the same program: a value the step computed in Python from
        the tensors' data would differ between them, and the signature then stays eager."""
        tracer = C.Tracer(tensors)
        tracer.fullgraph = self.fullgraph
        # the Python state it changes, judged on the second capture (the first may set up
        # things once: an optimizer's state, a cache)
        second = type(first) is Captured
        tracer.py_roots = pystate.roots(self.fn, args, kwargs) if second else []
        before = pystate.snapshot(tracer.py_roots)
        with C.tracing(tracer):
            out = self.fn(*args, **kwargs)
        if tracer.failed is None and tracer.unseen_writes():
            tracer.failed = ("an in-place write the capture does not see (an op writing into a "
                             "tensor's array itself): a replay would skip it")
        if second and tracer.failed is None and pystate.changed(
                before, pystate.snapshot(tracer.py_roots)) - tracer.py_exempt:
            tracer.failed = ("the step changes Python state a replay would not (a variable, "
                             "an attribute, a container)")
        new = [m for m in dict.fromkeys(tracer.modules) if not any(m is n for n in self.modules)]
        if new:  # the key of this signature now includes their flags: key it again
            self.modules += new
            key = _signature(args, kwargs, [], self.modules)
        if tracer.failed is None and I.hands_on_containers(out) and I.body_of(self.fn):
            tracer.failed = "a piece of a step hands a list, dict or set to the next"
        if tracer.failed is None and type(first) is Captured and not first.valid():
            self.recaptures += 1  # a variable or a module's attribute it reads changed
            if self.recaptures > config.cache_size_limit:
                tracer.failed = (f"what the step reads changed {self.recaptures} times between "
                                 "calls (a global, a closure variable, a module's attribute)")
        if tracer.failed is None:
            try:
                entry = Captured(tracer, out, tensors, self.fn)
                if first is None or not first.valid():
                    self.cache[key] = entry  # replayed once the next call records the same
                    return out
                if P.same_program(first.prog, entry.prog):
                    entry.pending = False
                    self.cache[key] = entry
                    return out
                tracer.failed = "the step computes a value from tensor data outside its ops"
            except Unsupported as e:
                tracer.failed = str(e)
        if self.fullgraph:
            raise Unsupported(tracer.failed)
        # a graph break: the step is cut around the statement where it happened, if it can be
        self.cache[key] = I.split(self.fn, tracer.frames, tracer.failed, self._piece) or \
            Eager(tracer.failed)
        return out

    def _piece(self, fn) -> CompiledFunction:
        """A piece of this function cut at a graph break, compiled on its own."""
        return CompiledFunction(fn, False, self.modules)


class Captured:
    """One signature's program, how to rebuild the function's result from its registers, and the
    guards checked at each call."""

    pending = True  # until a second capture confirms the program

    def __init__(self, tracer: C.Tracer, out, tensors, fn) -> None:
        self.prog = tracer.prog
        arg_ids = {id(t): i for i, t in enumerate(tensors)}
        region = []  # outputs that leave the step requiring grad, with their graph
        kept = []  # registers the result is rebuilt from
        self.rebuild = _spec(out, tracer, arg_ids, region, kept)
        self.region = None
        self.spent = None  # the node of outputs whose graph a backward inside the step used up
        if region and all(_used_up(t._grad_fn) for t in region):
            self.spent = P.region_node((), (), None, region[0]._device.xp, ())
            self.spent.saved = _FREED  # as eager's: a second backward raises torch's error
        elif region:
            sched = tracer.schedule([(t._grad_fn, t._output_nr) for t in region], region=True)
            dev = region[0]._device
            # several outputs: one entry each, None so that an output without a gradient
            # stays None (the region's backward skips it) instead of zeros
            out_meta = None if len(region) == 1 else (None,) * len(region)
            self.region = (sched, out_meta, dev.xp)
            self.region_outs = [(t._data.shape, t._data.dtype) for t in region]
            self.watch = _saved_from_outside(region, tracer, tensors)
            kept += sched.sinks + sched.slots()
        self.prog.finalize(kept)
        self.externals = [(t, t._requires_grad, t._data.dtype, t._data.shape)
                          for t in tracer.externals]
        self.bindings = pystate.bindings(fn)
        self.writes = WRITES[0]
        # lowered at its first replay: a step on CPU
        self.lower = L.ENABLED and all(
            t._device.type == "cpu" for t in (*tensors, *tracer.externals))

    def valid(self) -> bool:
        """Whether what the step read is as it was at capture: the variables its code names
        (the same objects, or equal plain values), the modules' parameters, buffers, submodules
        and hyperparameters (no module attribute written since), and the dtype, shape and
        requires_grad of the tensors it read (a model moved to half, a frozen layer)."""
        if WRITES[0] != self.writes or not pystate.same_bindings(self.bindings):
            return False
        for t, flag, dt, shape in self.externals:
            d = t._data
            if t._requires_grad is not flag or d.dtype is not dt or d.shape != shape:
                return False
        return True

    def replay(self, tensors):
        prog = self.prog
        low = prog.lowered
        regs = low.run(tensors) if low is not None else None
        if regs is None:  # (a lowered run that fell back hands on the draws it made)
            lowering = None
            if self.lower:
                lowering = L.Lowering if self.region is None else \
                    functools.partial(L.Lowering, region=self.region[0], outs=self.region_outs)
            regs = prog.run(tensors, lowering, low.drawn if low is not None else None)
            self.lower = False  # (tried once)
            low = None
        node = self.spent
        if self.region is not None:
            sched, out_meta, xp = self.region
            sinks = [regs[k] for k in sched.sinks]
            edges = tuple(_edge(t) if t._requires_grad else None for t in sinks)
            in_meta = tuple((t._data.shape, t._data.dtype) if e is not None else None
                            for t, e in zip(sinks, edges))
            watched = [(t, t._vc[0]) for t in (tensors[w] if type(w) is int else w
                                               for w in self.watch)]
            if low is not None:
                node = P.region_node(edges, in_meta, out_meta, xp, watched, lowered=low,
                                     regs=regs)
            else:
                node = P.region_node(edges, in_meta, out_meta, xp, watched, schedule=sched,
                                     nodes=sched.nodes(regs))
                if prog.pending is not None:  # lowered at the first backward of this call's
                    # outputs (if none comes, the region keeps the op-level replay)
                    node.__dict__["then"] = prog.pending.finish_region
                    prog.pending = None
        return self.rebuild(regs, tensors, node)


def _saved_from_outside(region, tracer: C.Tracer, tensors) -> list:
    """The tensors from outside a region (an argument: its index; a parameter, a buffer) that
    its nodes saved for backward: their versions are checked when the region's backward runs,
    as the engine checks a saved tensor's (an optimizer's step between a compiled module's
    forward and its backward raises torch's error instead of using the new weights)."""
    arg_index = {id(t): i for i, t in enumerate(tensors)}
    outside = {id(t) for t in tracer.externals}
    found: dict = {}
    for fn in _graph([t._grad_fn for t in region], lambda fn: id(fn) in tracer.slots):
        for s in fn.saved if type(fn.saved) is tuple else ():
            t = s[1] if s is not None and s[0] is _IN else None
            if isinstance(t, Tensor) and id(t) not in found:
                if id(t) in arg_index:
                    found[id(t)] = arg_index[id(t)]
                elif id(t) in outside:
                    found[id(t)] = t
    return list(found.values())


def _used_up(fn) -> bool:
    """Whether a backward freed what a node of this graph saved: a second backward through it
    raises torch's error."""
    return any(n.saved is _FREED for n in _graph([fn], lambda n: True))


def _graph(roots, inside):
    """The nodes reachable from ``roots`` through nodes ``inside`` accepts, each once."""
    seen, stack = set(), list(roots)
    while stack:
        fn = stack.pop()
        if isinstance(fn, Tensor) or id(fn) in seen or not inside(fn):
            continue
        seen.add(id(fn))
        yield fn
        stack.extend(e[0] for e in fn.next_edges if e is not None)


def _spec(out, tracer: C.Tracer, arg_ids: dict, region: list, kept: list):
    """A function rebuilding a result like ``out`` from a replay's registers (``kept``: the
    registers it reads)."""
    if isinstance(out, Tensor):
        i = arg_ids.get(id(out))
        if i is not None:
            return lambda regs, tensors, node: tensors[i]
        if any(out is t for t in tracer.externals):
            return lambda regs, tensors, node: out
        k, dev = tracer.reg_of(out), out._device
        kept.append(k)
        if out._grad_fn is not None:
            nr = len(region)
            region.append(out)
            return lambda regs, tensors, node: Tensor._make(regs[k], dev, True, node, nr)
        return lambda regs, tensors, node: Tensor._make(regs[k], dev, out._requires_grad)
    if isinstance(out, (tuple, list)):
        parts = [_spec(o, tracer, arg_ids, region, kept) for o in out]
        kind = type(out)
        if kind is tuple or kind is list:
            return lambda regs, tensors, node: kind(p(regs, tensors, node) for p in parts)
        return lambda regs, tensors, node: kind(*(p(regs, tensors, node) for p in parts))
    if isinstance(out, dict):
        parts = {k: _spec(v, tracer, arg_ids, region, kept) for k, v in out.items()}
        return lambda regs, tensors, node: {k: p(regs, tensors, node) for k, p in parts.items()}
    return lambda regs, tensors, node: out  # a constant (the step read no tensor's value)


def _signature(args, kwargs, tensors: list, modules) -> tuple:
    key = [_grad_state.grad_enabled, _dtype.get_default_dtype(), _DEFAULT_DEVICE[0]]
    if _autocast.on:  # (the ops autocast covers cast their inputs while recording)
        key.append((tuple(_autocast.enabled.items()), tuple(_autocast.dtype.items())))
    for a in args:
        if type(a) is Tensor or isinstance(a, Tensor):
            d = a._data
            key.append((d.shape, d.dtype, a._device, a._requires_grad,
                        next((i for i, t in enumerate(tensors) if t._data is d), None)))
            tensors.append(a)
        else:
            _flatten(a, key, tensors)
    if kwargs:
        _flatten(kwargs, key, tensors)
    if modules:
        key.append(tuple([m.training for m in modules]))
    return tuple(key)


def _flatten(obj, key: list, tensors: list) -> None:
    if isinstance(obj, Tensor):
        d = obj._data
        alias = next((i for i, t in enumerate(tensors) if t._data is d), None)
        tensors.append(obj)
        key.append((d.shape, d.dtype, obj._device, obj._requires_grad, alias))
    elif type(obj) in (tuple, list):
        key.append(type(obj))
        for o in obj:
            _flatten(o, key, tensors)
        key.append(len(obj))
    elif type(obj) is dict:
        for k, v in obj.items():
            key.append(k)
            _flatten(v, key, tensors)
    elif obj is None or type(obj) in (int, float, bool, str, complex):
        key.append((type(obj), obj))
    else:
        key.append(("id", id(obj)))


class OptimizedModule(Module):
    """Same as torch's OptimizedModule: the module's calls compiled; its parameters and attributes
    are the original's (``_orig_mod``), so its state_dict keys start with ``_orig_mod.`` as
    torch's do."""

    def __init__(self, mod, fullgraph: bool = False) -> None:
        super().__init__()
        self._orig_mod = mod
        mods = tuple(mod.modules())
        # the module's forward, compiled as a function of the module (a graph break then cuts
        # it as it cuts a function), and its __call__ for a module with hooks
        forward = type(mod).forward
        self.__dict__["_compiled"] = CompiledFunction(forward, fullgraph, mods) if \
            type(forward) is types.FunctionType else None
        self.__dict__["_compiled_call"] = CompiledFunction(mod.__call__, fullgraph, mods)

    def forward(self, *args, **kwargs):
        mod, d = self._orig_mod, self.__dict__
        own = mod.__dict__
        if d["_compiled"] is None or "forward" in own or own["_forward_hooks"] or \
                own["_forward_pre_hooks"] or own["_backward_hooks"] or own["_backward_pre_hooks"]:
            return d["_compiled_call"](*args, **kwargs)
        return d["_compiled"](mod, *args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)
