"""Same as torch.autograd.graph: the Node type, saved-tensor hooks, multi-tensor gradient hooks;
and ``to_dot``, a picture of the graph (torchviz's ``make_dot``, which torch lacks)."""

from __future__ import annotations

import contextlib
import functools
import itertools
import shutil
import subprocess
import threading
import warnings

from .._grad_mode import no_grad as _no_grad
from .._grad_mode import state as _state
from .._tensor import Tensor
from .node import AccumulateGrad, Node

__all__ = ["DotGraph", "Node", "allow_mutation_on_saved_tensors", "disable_saved_tensors_hooks",
           "register_multi_grad_hook", "save_on_cpu", "saved_tensors_hooks", "to_dot"]

_local = threading.local()  # disabled: torch's message while saved-tensor hooks are disabled


class saved_tensors_hooks:
    """Same as torch.autograd.graph.saved_tensors_hooks: ``pack_hook(tensor)`` runs when an op
    saves a tensor for backward, ``unpack_hook(packed)`` when backward reads it back. As in torch,
    a hooked tensor is not version-checked. The hooks are thread-local."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> None:
        message = getattr(_local, "disabled", None)
        if message is not None:
            raise RuntimeError(message)
        _state.saved_hooks = _state.saved_hooks + ((self.pack_hook, self.unpack_hook),)

    def __exit__(self, *exc) -> None:
        _state.saved_hooks = _state.saved_hooks[:-1]


class save_on_cpu(saved_tensors_hooks):
    """Same as torch.autograd.graph.save_on_cpu: tensors saved for backward wait on the CPU."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: (t.device, t.cpu()), lambda p: p[1].to(p[0]))


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """Same as torch.autograd.graph.disable_saved_tensors_hooks: entering saved_tensors_hooks
    (or this, while hooks are active) raises RuntimeError(error_message)."""
    prev = getattr(_local, "disabled", None)
    if _state.saved_hooks:
        raise RuntimeError(error_message)
    _local.disabled = error_message
    try:
        yield
    finally:
        _local.disabled = prev


class _AllowMutationOnSavedContext:
    """What allow_mutation_on_saved_tensors yields: the tensors it saved, cleared on exit."""

    def __init__(self) -> None:
        self.saved: list = []

    def clear(self) -> None:
        self.saved.clear()


_MUTATION_OUTSIDE = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
                     "in which the graph was originally recorded.")  # sic: torch's message
_mutation = threading.local()  # ctx: the active _AllowMutationOnSavedContext


@contextlib.contextmanager
def allow_mutation_on_saved_tensors():
    """Same as torch.autograd.graph.allow_mutation_on_saved_tensors: a tensor saved for backward
    may be modified in place; backward uses its value at saving. torch clones it when it is
    modified; here it is cloned when saved (ndgrad has no hook on in-place writes) and the clone
    is used only if the tensor's version moved, so an unmodified one unpacks as itself."""
    ctx = _AllowMutationOnSavedContext()

    def pack(t):
        with _no_grad():
            copy = t.detach().clone()
        ctx.saved.append(copy)
        return t, t._vc[0], copy

    def unpack(packed):
        if getattr(_mutation, "ctx", None) is None or not ctx.saved:
            raise AssertionError(_MUTATION_OUTSIDE)
        t, version, copy = packed
        return t if t._vc[0] == version else copy

    with saved_tensors_hooks(pack, unpack):
        if getattr(_mutation, "ctx", None) is not None:
            raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
        _mutation.ctx = ctx
        try:
            yield ctx
        finally:
            ctx.clear()
            _mutation.ctx = None


# --- hooks on the gradients of several tensors ----------------------------------------------------
class _Task:
    """One backward pass (torch's graph task): its roots and, for autograd.grad / backward(inputs),
    its target edges; ``will_execute`` is torch._C._will_engine_execute_node."""

    _ids = itertools.count()

    def __init__(self, roots: list, targets) -> None:
        self.roots, self.targets, self._nodes = roots, targets, None
        self.id = next(self._ids)  # unique, as torch's graph task ids (id() would be reused)

    def will_execute(self, node) -> bool:
        if self.targets is not None and isinstance(node, Tensor):
            raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are "
                               "currently running autograd.grad(). This is currently not "
                               "supported.")
        if self._nodes is None:
            self._nodes = self._executed()
        return id(node) in self._nodes

    def _executed(self) -> dict:
        """{id: node} of the nodes (leaves as tensors) the pass reaches and, with targets, that
        lie on a path to one of them."""
        seen = {id(fn): fn for fn, _ in self.roots}
        parents: dict = {}
        stack = [fn for fn in seen.values() if not isinstance(fn, Tensor)]
        while stack:
            fn = stack.pop()
            for e in fn.next_edges:
                if e is None:
                    continue
                parents.setdefault(id(e[0]), []).append(fn)
                if id(e[0]) not in seen:
                    seen[id(e[0])] = e[0]
                    if not isinstance(e[0], Tensor):
                        stack.append(e[0])
        if self.targets is None:
            return seen
        needed = {id(fn): fn for fn, _ in self.targets if id(fn) in seen}
        stack = list(needed.values())
        while stack:
            for p in parents.get(id(stack.pop()), ()):
                if id(p) not in needed:
                    needed[id(p)] = p
                    stack.append(p)
        return needed


_tasks = threading.local()  # stack: the backward passes running on this thread


def _current_task() -> _Task:
    stack = getattr(_tasks, "stack", None)
    if not stack:
        raise AssertionError("expected this hook to be called inside a backward call")
    return stack[-1]


def _track_tasks() -> None:
    """Have engine.run record each backward pass it runs (once, on the first multi-grad hook;
    nothing else pays for it)."""
    from . import engine

    if getattr(engine.run, "_tracks_tasks", False):
        return
    run = engine.run

    @functools.wraps(run)
    def tracked(roots, root_grads, retain_graph, create_graph, targets=None):
        stack = _tasks.__dict__.setdefault("stack", [])
        stack.append(_Task(roots, targets))
        try:
            return run(roots, root_grads, retain_graph, create_graph, targets)
        finally:
            stack.pop()

    tracked._tracks_tasks = True
    engine.run = tracked


class _MultiHandle:
    """The handle register_multi_grad_hook returns: ``remove()`` removes every tensor's hook."""

    def __init__(self, handles: tuple) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register_multi_grad_hook(tensors, fn, *, mode: str = "all") -> _MultiHandle:
    """Same as torch.autograd.graph.register_multi_grad_hook. "all": once per backward pass,
    ``fn(grads)`` (a list, None for a tensor that got no gradient) when every tensor whose
    gradient this pass computes has it; "any": ``fn(grad)`` with the first gradient computed."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    _track_tasks()
    lock = threading.Lock()
    if mode == "any":
        ran: dict = {}

        @functools.wraps(fn)
        def wrapped(grad) -> None:
            task = _current_task()
            with lock:
                prev, ran[task.id] = ran.get(task.id, False), True
            if not prev:
                fn(grad)

        return _MultiHandle(tuple(t.register_hook(wrapped) for t in tensors if t.requires_grad))
    if not all(t.requires_grad for t in tensors):
        raise AssertionError("Expected gradient function to be set")
    nodes = [t if t.grad_fn is None else t.grad_fn for t in tensors]  # a leaf: itself
    count: dict = {}
    buffer: dict = {}
    calls: dict = {}

    def inner(idx: int):
        def hook(grad) -> None:
            task = _current_task()
            key = task.id
            with lock:
                n = count.get(key, 0)
                count[key] = n + 1
                if n == 0:
                    buffer[key] = [None] * len(nodes)
                    calls[key] = sum(task.will_execute(node) for node in nodes)
            buffer[key][idx] = grad
            if n == calls[key] - 1:
                grads = buffer.pop(key)
                del count[key], calls[key]
                fn(grads)

        return hook

    return _MultiHandle(tuple(t.register_hook(inner(i)) for i, t in enumerate(tensors)))


# --- a picture of the graph: torchviz's make_dot, built in ----------------------------------------
def _walk(outputs) -> tuple[list, list]:
    """The graph behind ``outputs`` as (items, edges): items are the grad_fn nodes, first seen
    first, with each leaf as its AccumulateGrad (``.variable`` is the leaf); edges are
    (input item, consuming item, k) for the consumer's k-th next function, in the direction data
    flows forward."""
    index: dict = {}
    items: list = []
    edges: list = []

    def visit(fn) -> int:
        key = id(fn.variable) if isinstance(fn, AccumulateGrad) else id(fn)
        i = index.get(key)
        if i is None:
            i = index[key] = len(items)
            items.append(fn)
            stack.append(i)
        return i

    stack: list = []
    for t in outputs:
        if t.grad_fn is not None:
            visit(t.grad_fn)
        elif t.requires_grad:
            visit(AccumulateGrad(t))
    while stack:  # iterative: a 100,000-op chain is no problem
        i = stack.pop()
        for k, (fn, _) in enumerate(getattr(items[i], "next_functions", ())):
            if fn is not None:
                edges.append((visit(fn), i, k))
    return items, edges


def _shape(t) -> str:
    return "(" + ", ".join(str(n) for n in t.shape) + ")"


def _quote(label: str) -> str:
    return '"' + label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(output, params: dict | None = None, show_saved: bool = False) -> DotGraph:
    """DOT text of the autograd graph behind ``output`` (a tensor or a sequence of them), drawn
    as torchviz's ``make_dot`` draws it: grad_fn nodes by name (``MulBackward0``), leaves in blue
    labelled by their name in ``params`` (e.g. ``dict(model.named_parameters())``) and shape, the
    output in green, with ``show_saved`` the tensors nodes saved for backward in orange."""
    outputs = [output] if isinstance(output, Tensor) else list(output)
    names = {id(p): n for n, p in (params or {}).items()}
    items, edges = _walk(outputs)
    lines = ["digraph {", '\tgraph [size="12,12"]',
             "\tnode [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box "
             "style=filled]"]
    ids = {}

    def node(key, label: str, color: str | None = None) -> str:
        nid = ids.get(key)
        if nid is None:
            nid = ids[key] = f"n{len(ids)}"
            lines.append(f"\t{nid} [label={_quote(label)}"
                         + (f" fillcolor={color}]" if color else "]"))
        return nid

    def var(t, color: str, name: str = "") -> str:
        return node(("t", id(t)), f"{names.get(id(t), name)}\n {_shape(t)}", color)

    for i, fn in enumerate(items):
        here = node(i, fn.name().rpartition("::")[2])
        if isinstance(fn, AccumulateGrad):
            lines.append(f"\t{var(fn.variable, 'lightblue')} -> {here}")
        elif show_saved:
            lines += [f"\t{var(t, _saved_color(t), f'saved {k}')} -> {here} [dir=none]"
                      for k, t in enumerate(_saved(fn)) if isinstance(t, Tensor)]
    lines += [f"\t{ids[a]} -> {ids[b]}" for a, b, _ in edges]
    for t in outputs:
        fn = t.grad_fn
        if fn is not None:
            lines.append(f"\t{ids[items.index(fn)]} -> {var(t, 'darkolivegreen1', 'output')}")
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n")


def _saved_color(t) -> str:
    return "lightblue" if t.requires_grad and t.grad_fn is None else "orange"  # a leaf stays blue


def _saved(fn) -> tuple:
    try:
        return tuple(fn.saved_tensors)
    except (RuntimeError, AttributeError):  # freed by backward, or nothing saved
        return ()


class DotGraph(str):
    """DOT text (a ``str``) that graphviz's ``dot`` renders, when it is installed: ``render``
    writes a file, ``pipe`` returns the bytes, and Jupyter shows it inline as SVG."""

    @property
    def source(self) -> str:
        return str(self)

    def pipe(self, format: str = "svg") -> bytes:
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(_NO_DOT)
        return subprocess.run([dot, f"-T{format}"], input=self.encode(), capture_output=True,
                              check=True).stdout

    def render(self, filename: str, format: str = "svg") -> str | None:
        """Write ``<name>.dot`` and the picture ``<name>.<format>`` (``filename`` with or without
        the suffix); returns the picture's path, or None with a warning when ``dot`` is missing."""
        out = filename if filename.endswith("." + format) else f"{filename}.{format}"
        with open(out[: -len(format)] + "dot", "w") as f:
            f.write(self)
        if shutil.which("dot") is None:
            warnings.warn(_NO_DOT + " Only the DOT text was written.", stacklevel=2)
            return None
        with open(out, "wb") as f:
            f.write(self.pipe(format))
        return out

    def _repr_svg_(self) -> str | None:
        return self.pipe("svg").decode() if shutil.which("dot") else None

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        svg = self._repr_svg_()
        return {"text/plain": self.source, **({"image/svg+xml": svg} if svg else {})}


_NO_DOT = ("graphviz's `dot` program was not found: install graphviz (apt-get install graphviz, "
           "brew install graphviz, conda install graphviz) to render the graph.")
