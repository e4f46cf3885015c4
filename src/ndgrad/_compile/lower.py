"""Lowering a captured step to one straight-line Python function of NumPy calls.

A ``Program`` replays op by op: each forward makes a node object and calls the op's ``forward``;
the backward walks the nodes calling each ``backward_raw``. Lowering runs those bodies once more,
beside a real replay, on traced twins of the registers (``traced``): every NumPy call they make
is recorded, and the recording becomes the source of one function (``r[k]`` the program's
registers, ``t<k>`` the bodies' temporaries, freed after their last reader). The other steps
(loads from tensors, in-place writes, creation functions, an optimizer's step...) are called as
they are. Later replays run that function: no node objects, no op dispatch, no per-op Python.

The traced run is checked against the real one bit for bit. A body that reads an array's value in
Python, or does anything else a recording cannot repeat, raises ``Escape``: the program keeps its
op-level replay. A body's ``if`` on an array becomes a guard: a call whose data take the other
branch runs the op-level replay instead, which is why a guard may only come before the first line
that changes state (a write into an outside array, a gradient accumulated, a random draw, an
optimizer's step). The twins have the registers' shapes, dtypes and strides; the arguments' and
parameters' strides are checked before each lowered run (the signature does not hold them)."""

from __future__ import annotations

import copy
import math
import os
import threading
import traceback

import numpy as np

from ..autograd.engine import _accumulate
from . import program as P
from .traced import _WRITES_FIRST, Escape, Recorder, Traced, _frozen, patched

ENABLED = os.environ.get("NDGRAD_COMPILE_LOWER", "1") != "0"
_ASARRAY = np.asarray  # NumPy's own (``traced.patched`` stands in for it while tracing)


class Lowering:
    """The traced run beside one real replay of ``prog`` (whose registers are ``regs``)."""

    def __init__(self, prog: P.Program, regs: list, region: P.Schedule | None = None,
                 outs=()) -> None:
        self.prog, self.regs = prog, regs
        # a compiled region's backward (run by the engine after the step): traced at its first
        # run, then the region lowers to a forward and a backward function (``finish_region``);
        # ``outs``: the shape and dtype of each of its outputs
        self.region, self.outs = region, outs
        self.first_temp = len(prog.template)
        self.rec = Recorder(self.first_temp)
        self.dry: dict = {}  # program register -> its traced value (or a node, or a key tuple)
        self.mark = self.first_temp  # temporaries from here on were made by the current step
        # registers holding arrays from outside the step (writing into them changes state): the
        # arguments', the loads from tensors and views of those
        self.outside = set(prog.arg_regs)
        for step, _ in prog.plan:
            if getattr(step, "outside", False) or getattr(step, "view_of", None) in self.outside:
                self.outside.update(step.writes)

    # --- registers, as the traced bodies see them ---------------------------------------------
    def read(self, k: int):
        v = self.dry.get(k)
        if v is not None:
            return v
        real = self.regs[k]
        if not isinstance(real, (np.ndarray, np.generic)) or real is self.prog.template[k]:
            return real  # a constant of the program (the same object at every replay), a tensor
        self.rec.busy = True  # (NumPy's own calls, not the body's)
        try:
            twin = _twin(real)
        finally:
            self.rec.busy = False
        v = self.dry[k] = self.rec.new(twin, k, ext=k in self.outside)
        return v

    def bind(self, k: int, v) -> None:
        """A step's result ``v`` is register ``k``: a temporary just made takes its number."""
        if type(v) is Traced and v.k >= self.mark:
            v.k = k
        self.dry[k] = v
        self.bound.append(k)

    def materialize(self, k: int) -> None:
        """Make ``r[k]`` hold register ``k``'s value for a step called as it is."""
        v = self.dry.get(k)
        if v is None or type(v) is Traced and v.k == k:
            return
        if type(v) is Traced or type(v) is tuple:
            self.rec.lines.append(("alias", k, (v,), {}, None))
        elif not isinstance(v, (int, float, bool, type(None))):
            raise Escape("a step called as it is reads a node")

    # --- the steps ------------------------------------------------------------------------------
    def run(self, step) -> Lowering | None:
        """Trace ``step``, run it for real, and check that the traced run computed what the real
        one did, bit for bit (a body may take another path on traced arrays); None once the
        program cannot be lowered (the step still ran)."""
        self.bound, self.accumulated, self.embedded = [], [], False
        try:
            self.step(step)
        except Exception as e:  # noqa: BLE001  (an Escape, or a body failing on traced arrays)
            step(self.regs)
            return self._fail(step, e)
        before = [(leaf, _grad_copy(leaf)) for leaf, _ in self.accumulated]
        step(self.regs)
        if self.embedded:  # an in-place write (as it is) into an array a twin stands for
            for k in getattr(step, "reads", ()):
                v = self.dry.get(k)
                if type(v) is Traced and type(v.a) is np.ndarray and v.a.flags.writeable:
                    np.copyto(v.a, self.regs[k])
        for k in self.bound:
            v = self.dry[k]
            if type(v) is Traced and not _same_bits(v.a, self.regs[k]):
                return self._fail(step, Escape("its traced run computed something else"))
        for (leaf, old), (_, g) in zip(before, self.accumulated):
            g = g.a if type(g) is Traced else g
            want = g if old is None else old + g
            if not _same_bits(want, leaf._grad._data, layout=False):  # (.grad may be a copy)
                return self._fail(step, Escape(
                    f"its traced run computed another gradient for a {tuple(leaf.shape)} leaf"))
        return self

    def _fail(self, step, e) -> None:
        self.prog.not_lowered = f"{_name(step)}: {type(e).__name__}: {e}"
        self.prog.pending = None
        if os.environ.get("NDGRAD_COMPILE_DEBUG"):
            traceback.print_exception(e)
        return None

    def step(self, step) -> None:
        """Trace ``step`` (before it runs for real)."""
        self.mark = self.rec.next
        if type(step) is P.Forward:
            dry = copy.copy(step)
            dry.nd = None  # (its results taken as NumPy's 0-d scalars are: through asarray)
            with patched(self.rec):
                dry(_DryRegs(self))
        elif getattr(step, "schedule", None) is not None:
            with patched(self.rec):
                self._backward(step)
        elif getattr(step, "parts", None) is not None:  # an index key: a tuple of registers
            self.dry[step.out] = tuple(self.read(i) for i in step.parts)
        else:
            for k in getattr(step, "reads", ()):
                self.materialize(k)
            line = ("step", step, (), {}, None)
            self.rec.lines.append(line)
            self.embedded = True
            dst = getattr(step, "dst", None)
            if dst is not None and (dst in self.outside or getattr(self.dry.get(dst), "ext",
                                                                   False)):
                self.rec.effects.add(id(line))  # an in-place write into an outside array
            for k in step.writes:
                self.dry.pop(k, None)

    def _backward(self, step) -> None:
        s = step.schedule
        leaves = self._traced_backward(s, [self.read(k) for k in step.root_regs])
        for i, g in leaves.items():  # (a gradient made of constants only is one: read-only)
            g = g if type(g) is Traced else _frozen(g)
            self.rec.lines.append(("acc", s.sinks[i], (g,), {}, None))
            self.accumulated.append((self.regs[s.sinks[i]], g))

    def _traced_backward(self, s: P.Schedule, roots) -> dict:
        """The schedule ``s`` run on the traced forwards' nodes: {sink index: gradient}."""
        sched = P.Schedule(s.order, s.edges, s.multi, s.roots, s.sinks)
        nodes = []
        for slot, node in s.order:
            if node is None:
                node = self.dry.get(slot)
                if node is None or type(node) is Traced:
                    raise Escape("a backward of a node no traced forward made")
            nodes.append(node)  # (or a node kept as it is: it saves nothing)
        rec = self.rec

        def traced_sum(a, b):  # engine._sum: NumPy's 0-d sums are scalars, made arrays
            s = a + b
            return rec.call(_ASARRAY, (s,), {}) if type(s) is Traced and \
                isinstance(s.a, np.generic) else s

        return sched.run(nodes, roots, True, traced_sum)

    def finish(self, tensors) -> Lowered | None:
        """The lowered step, once the traced run went through (a region's: at its backward)."""
        prog = self.prog
        self.arg_strides = [t._data.strides for t in tensors]
        self.loads = [(step.tensor, step.tensor._data.strides) for step, _ in prog.plan
                      if hasattr(step, "tensor")]
        constants = [k for k, v in enumerate(prog.template) if v is not None]
        self.draws = [s.writes[0] for s, _ in prog.plan if getattr(s, "draws", False)]
        self.keep = {*prog.kept, *prog.arg_regs, *constants, *self.draws}
        if self.region is not None:
            prog.pending = self
            return None
        try:
            fn = Emitter(self.rec.lines, self.first_temp, self.keep, self.rec.effects).build()
        except Escape as e:
            prog.not_lowered = f"Escape: {e}"
            return None
        return self._lowered(fn)

    def _lowered(self, fn, backward=None) -> Lowered:
        return Lowered(fn, self.prog, self.rec.next - self.first_temp, self.arg_strides,
                       self.loads, self.draws, backward)

    def finish_region(self, grads, real) -> None:
        """The first backward of the lowering call's region outputs, from ``grads`` (``real``:
        what the op-level backward gave the region's inputs): traced on the forward's nodes,
        checked bit for bit, and the region lowered to a forward function and a backward
        function that reads the forward's saved temporaries from its registers."""
        prog, rec = self.prog, self.rec
        try:
            if threading.get_ident() != rec.thread:
                raise Escape("a backward on another thread than its forward")
            split = len(rec.lines)
            self.mark = rec.next
            rec.busy = True
            try:  # (an output without a gradient takes zeros: the lowered backward always
                # runs every output's branch, whichever of them a later backward reaches)
                roots = [rec.new(_twin(np.zeros(*o) if g is None else g))
                         for g, o in zip(grads, self.outs)]
            finally:
                rec.busy = False
            with patched(rec):
                leaves = self._traced_backward(self.region, roots)
            res = tuple(leaves.get(i) for i in range(len(self.region.sinks)))
            for got, want in zip(res, real):
                got = got.a if type(got) is Traced else got
                if (got is None) != (want is None) or got is not None and not _same_bits(
                        got, want):
                    raise Escape("its traced backward computed another gradient")
            forward, backward = _hoist(rec.lines[:split], rec.lines[split:], roots)
            if any(ln[0] == "guard" for ln in backward):
                raise Escape("a branch on data in a compiled region's backward")
            res = tuple(g if g is None or type(g) is Traced else _frozen(g) for g in res)
            backward.append(("result", None, (res,), {}, None))
            made, saved = {r.k for r in roots}, set()  # (saved: what it reads of the forward)
            for ln in backward:
                saved.update(k for k in _reads(ln) if k not in made)
                made.update(o.k for o in _traced_in(ln[4]))
            listed = {r.k for r in roots} | {k for k in saved if k >= self.first_temp}
            fwd = Emitter(forward, self.first_temp, self.keep | saved, rec.effects,
                          listed).build()
            bwd = Emitter(backward, self.first_temp, set(range(self.first_temp)) | listed,
                          rec.effects, listed).build()
        except Exception as e:  # noqa: BLE001  (an Escape, or a body failing on traced arrays)
            self._fail(self.region, e)
            return
        prog.lowered = self._lowered(fwd, (bwd, [(r.k, r.a) for r in roots]))


class GuardFailed(Exception):
    """A branch a body took on data at lowering goes the other way in this call."""


MAX_GUARD_FAILURES = 8  # then the op-level replay for good


class Lowered:
    """A lowered step: ``run`` gives the registers as ``Program.run`` would, or None when the
    arrays' strides are not those it was lowered with. A compiled region's has ``backward``."""

    def __init__(self, fn, prog: P.Program, temporaries: int, arg_strides, loads,
                 draws, backward=None) -> None:
        self.fn, self.prog, self.temporaries = fn, prog, temporaries
        self.arg_strides, self.loads = arg_strides, loads
        self.draws = draws  # registers of the random draws (kept to the end of a run)
        self.drawn: dict = {}  # those a run made before its guard failed
        # (the backward function, (register, traced twin) of each output's gradient)
        self.bwd, self.roots = backward or (None, ())

    failures = 0

    def run(self, tensors) -> list | None:
        self.drawn = {}
        if [t._data.strides for t in tensors] != self.arg_strides:
            return None
        for t, strides in self.loads:
            if t._data.strides != strides:
                return None
        regs = self.prog.start(tensors, self.temporaries)
        try:
            return self.fn(regs)
        except GuardFailed:  # data took a body's other branch: nothing was changed yet but
            # the random draws, which the op-level replay then takes instead of drawing again
            self.drawn = {k: regs[k] for k in self.draws if regs[k] is not None}
            self.failures += 1
            if self.failures > MAX_GUARD_FAILURES:
                self.prog.lowered = None
                self.prog.not_lowered = "its data kept taking a branch other than the traced"
            return None

    def backward(self, regs, grads) -> tuple:
        """The region's input gradients from its outputs' (``grads``), given in the layout
        they were traced with (a body's NumPy calls then run as they were checked). An output
        no gradient reached takes zeros: the result equals the engine's, which skips it, up to
        the sign of a zero (checked bit for bit at lowering)."""
        for (k, like), g in zip(self.roots, grads):
            if g is None:  # (no gradient reached this output: zeros, as at lowering)
                g = np.zeros(like.shape, like.dtype)
            if g.strides != like.strides or g.dtype != like.dtype or g.shape != like.shape:
                g = _strided_copy(np.broadcast_to(g, like.shape).astype(like.dtype, copy=False),
                                  like.strides)
            regs[k] = g
        return self.bwd(regs)


class _DryRegs:
    """What a step indexes as its registers while it is traced."""

    __slots__ = ("low",)

    def __init__(self, low: Lowering) -> None:
        self.low = low

    def __getitem__(self, k):
        return self.low.read(k)

    def __setitem__(self, k, v) -> None:
        self.low.bind(k, v)


def _grad_copy(leaf):
    return None if leaf._grad is None else leaf._grad._data.copy()


def _same_bits(a, b, layout: bool = True) -> bool:
    """The same array to the bit: dtype, shape, every byte, and (``layout``) type and strides."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if layout and (type(a) is not type(b) or a.strides != b.strides and a.size > 1):
        return False
    return np.asarray(a).tobytes() == np.asarray(b).tobytes()


def _name(step) -> str:
    return step.cls.__name__ if type(step) is P.Forward else getattr(
        step, "__qualname__", type(step).__name__).split(".")[0]


def _hoist(forward, backward, roots):
    """A region's backward with its guards on saved values (an embedding's "indices sorted"),
    and the lines computing them, moved to the end of its forward: a guard failing there falls
    back before anything ran (a lowered backward has no other branch). Left where they are if
    a guard reads the outputs' gradients, or its lines write into arrays or are written."""
    grads = {r.k for r in roots}
    maker: dict = {}  # register -> the first backward line making it
    for i, ln in enumerate(backward):
        for o in _traced_in(ln[4]):
            maker.setdefault(o.k, i)
    move: set = set()
    for i, ln in enumerate(backward):
        if ln[0] != "guard":
            continue
        stack = [i]
        while stack:
            j = stack.pop()
            if j in move:
                continue
            if j != i and (backward[j][0] not in _PURE or _writes_into(backward[j])):
                return forward, backward
            move.add(j)
            for k in _reads(backward[j]):
                if k in grads:
                    return forward, backward
                if maker.get(k, j) < j:
                    stack.append(maker[k])
    # what the moved lines read and make: no line left in the backward may write into it
    touched = [v.a for j in move for v in _traced_in((backward[j][2], backward[j][3],
                                                       backward[j][4]))]
    rest = [ln for j, ln in enumerate(backward) if j not in move]
    if any(np.may_share_memory(w.a, a) for ln in rest for w in _traced_in(_writes_into(ln))
           for a in touched):
        return forward, backward
    return forward + [ln for j, ln in enumerate(backward) if j in move], rest


def _writes_into(line):
    """What a recorded line writes into (None: nothing)."""
    kind, what, args, kwargs, _ = line
    return kwargs.get("out", args[0] if kind in ("inplace", "setitem") or
                      what in _WRITES_FIRST else None)


def _twin(a):
    """A copy of ``a`` with its strides and writeability (what a body may look at)."""
    if isinstance(a, np.generic):
        return a
    if min(a.strides, default=0) < 0:
        raise Escape("an array with negative strides")
    b = a.copy(order="K")
    if b.strides != a.strides:  # not dense: the same strides over a buffer of its span
        b = _strided_copy(a, a.strides)
    if not a.flags.writeable:
        b.flags.writeable = False
    return b


def _strided_copy(a, strides):
    """A copy of ``a`` with these (non-negative) strides, over a buffer of their span."""
    span = sum((n - 1) * s for n, s in zip(a.shape, strides)) // a.itemsize + 1
    b = np.lib.stride_tricks.as_strided(np.empty(span if a.size else 0, a.dtype), a.shape,
                                        strides)
    b[...] = a
    return b


# --- from instructions to source ---------------------------------------------------------------
def _acc(leaf, g) -> None:
    _accumulate(leaf, g, False)


def _acc_last(leaf, r, k) -> None:
    """The last use of ``r[k]``: handed over, so that ``.grad`` may take the array itself."""
    g = r[k]
    r[k] = None
    _accumulate(leaf, g, False)


_SIMPLE = (bool, int, str, type(None))


class Emitter:
    def __init__(self, lines, first_temp: int, keep: set, effects: set,
                 listed: set = frozenset()) -> None:
        self.lines, self.first_temp = lines, first_temp
        self.keep = keep  # registers never freed: the result's, the arguments', constants
        self.effects = effects  # ids of the traced lines writing into arrays from outside
        self.globals: dict = {"ACC": _acc, "ACC_LAST": _acc_last, "GuardFailed": GuardFailed}
        self.names: dict = {}  # id(constant) -> its name
        # temporaries kept in r: those an accumulation reads, and (a region's forward) those
        # its backward function reads
        self.listed: set = set(listed)

    def const(self, x) -> str:
        name = self.names.get(id(x))
        if name is None:
            name = self.names[id(x)] = f"C{len(self.names)}"
            self.globals[name] = x
        return name

    def ref(self, k: int) -> str:
        return f"r[{k}]" if k < self.first_temp or k in self.listed else f"t{k}"

    def arg(self, x) -> str:
        t = type(x)
        if t is Traced:
            return self.ref(x.k)
        if t in _SIMPLE or t is float and math.isfinite(x):
            return repr(x)
        if x is Ellipsis:
            return "..."
        if not _holds_traced(x):
            return self.const(x)
        if t is tuple:
            return "(" + "".join(self.arg(a) + ", " for a in x) + ")"
        if t is list:
            return "[" + ", ".join(self.arg(a) for a in x) + "]"
        if t is dict:
            return "{" + ", ".join(f"{k!r}: {self.arg(v)}" for k, v in x.items()) + "}"
        if t is slice:
            return f"slice({self.arg(x.start)}, {self.arg(x.stop)}, {self.arg(x.step)})"
        raise Escape(f"an argument of type {t.__name__}")

    def call_args(self, args, kwargs) -> str:
        parts = [self.arg(a) for a in args] + [f"{k}={self.arg(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    def line(self, kind, what, args, kwargs, out) -> str:
        if kind == "step":
            t = getattr(what, "tensor", None)  # a load: inlined
            return f"r[{what.writes[0]}] = {self.const(t)}._data" if t is not None else \
                f"{self.const(what)}(r)"
        if kind == "alias":
            return f"r[{what}] = {self.arg(args[0])}"
        if kind == "acc":
            return f"ACC(r[{what}], {self.arg(args[0])})"
        if kind == "result":
            return f"return {self.arg(args[0])}"
        if kind == "guard":
            return f"if {'not ' if what else ''}{self.arg(args[0])}: raise GuardFailed"
        if kind == "setitem":
            return f"{self.arg(args[0])}[{self.arg(args[1])}] = {self.arg(args[2])}"
        if kind == "inplace":
            return f"{self.arg(args[0])} {what} {self.arg(args[1])}"
        if kind == "call":
            rhs = f"{self.const(what)}({self.call_args(args, kwargs)})"
        elif kind == "method":
            rhs = f"{self.arg(args[0])}.{what}({self.call_args(args[1:], kwargs)})"
        elif kind == "attr":
            rhs = f"{self.arg(args[0])}.{what}"
        elif kind == "getitem":
            rhs = f"{self.arg(args[0])}[{self.arg(args[1])}]"
        elif kind == "binary":
            rhs = f"{self.arg(args[0])} {what} {self.arg(args[1])}"
        elif kind == "unary":
            rhs = f"abs({self.arg(args[0])})" if what == "abs" else f"{what}{self.arg(args[0])}"
        else:
            raise AssertionError(kind)
        if type(out) is Traced:
            return f"{self.ref(out.k)} = {rhs}"
        if out is None or not _holds_traced(out):
            return rhs
        outs = [f"{self.ref(o.k)} = _o[{i}]" for i, o in enumerate(out) if type(o) is Traced]
        return "; ".join([f"_o = {rhs}"] + outs)

    def changes_state(self, line) -> bool:
        """Whether running ``line`` twice differs from once (a guard failing after it could
        not fall back to the op-level replay): a write into an outside array, a gradient
        accumulated, a random draw, an optimizer's step; not a load, a pure step, zero_grad
        or manual_seed."""
        kind, what = line[0], line[1]
        if kind == "acc" or id(line) in self.effects:
            return True
        if kind != "step" or getattr(what, "draws", False) or hasattr(what, "dst"):
            return False  # (a fallback takes the draws; a write outside is an effect)
        name = getattr(getattr(what, "opaque_fn", None), "__name__", None)
        if name is not None:
            return name not in ("zero_grad", "manual_seed", "set_state")
        return getattr(what, "pure", False) is False

    def build(self):
        lines = self.lines = _live(self.lines, self.keep)
        first = next((i for i, ln in enumerate(lines) if self.changes_state(ln)), len(lines))
        if any(ln[0] == "guard" for ln in lines[first:]):
            raise Escape(f"a branch on data after the step changed state "
                         f"({self.line(*lines[first])}): a guard failing there could not fall "
                         "back")
        reads = [_reads(ln) for ln in lines]
        last: dict = {}
        for i, rs in enumerate(reads):
            for k in rs:
                last[k] = i
        for kind, _, args, _, _ in lines:
            if kind == "acc" and type(args[0]) is Traced:
                self.listed.add(args[0].k)
        free: list = [[] for _ in lines]
        for k, i in last.items():
            if k not in self.keep:
                free[i].append(k)
        src = ["def lowered(r):"]
        for i, ln in enumerate(lines):
            kind, what, args = ln[0], ln[1], ln[2]
            gone = free[i]
            if kind == "acc" and type(args[0]) is Traced and args[0].k in gone:
                src.append(f"    ACC_LAST(r[{what}], r, {args[0].k})")
                gone = [k for k in gone if k != args[0].k]
            else:
                src.append("    " + self.line(*ln))
            if gone:
                src.append("    " + " = ".join(self.ref(k) for k in gone) + " = None")
        if not lines or lines[-1][0] != "result":
            src.append("    return r")
        code = compile("\n".join(src), "<ndgrad.compile lowered step>", "exec")
        exec(code, self.globals)  # noqa: S102  (source made here, from recorded calls)
        fn = self.globals["lowered"]
        fn.source = "\n".join(src)
        return fn


_PURE = ("call", "method", "attr", "getitem", "binary", "unary")


def _live(lines, keep) -> list:
    """``lines`` without the computations whose results nothing reads (a gradient for an input
    that needs none): a line that makes new arrays and writes into none."""
    while True:
        read = {k for ln in lines for k in _reads(ln)} | keep
        live = [ln for ln in lines if not (
            ln[0] in _PURE and "out" not in ln[3] and ln[4] is not None
            and all(o.k not in read for o in _traced_in(ln[4])))]
        if len(live) == len(lines):
            return lines
        lines = live


def _traced_in(x):
    """The traced arrays in ``x`` (nested in tuples, lists, dicts and slices), in order."""
    t = type(x)
    if t is Traced:
        yield x
    elif t is tuple or t is list:
        for a in x:
            yield from _traced_in(a)
    elif t is dict:
        for a in x.values():
            yield from _traced_in(a)
    elif t is slice:
        yield from _traced_in((x.start, x.stop, x.step))


def _reads(line) -> list:
    kind, what, args, kwargs, _ = line
    if kind == "step":
        return list(getattr(what, "reads", ()))
    out = [v.k for v in _traced_in((args, kwargs))]
    if kind == "acc":
        out.append(what)
    return out


def _holds_traced(x) -> bool:
    return next(_traced_in(x), None) is not None
