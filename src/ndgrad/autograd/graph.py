"""Same as torch.autograd.graph: the Node type and saved-tensor hooks; and ``to_dot``, a picture
of the graph (torchviz's ``make_dot``, which torch lacks)."""

from __future__ import annotations

import shutil
import subprocess
import warnings

from .._grad_mode import state as _state
from .._tensor import Tensor
from .node import AccumulateGrad, Node

__all__ = ["DotGraph", "Node", "save_on_cpu", "saved_tensors_hooks", "to_dot"]


class saved_tensors_hooks:
    """Same as torch.autograd.graph.saved_tensors_hooks: ``pack_hook(tensor)`` runs when an op
    saves a tensor for backward, ``unpack_hook(packed)`` when backward reads it back. As in torch,
    a hooked tensor is not version-checked. The hooks are thread-local."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> None:
        _state.saved_hooks = _state.saved_hooks + ((self.pack_hook, self.unpack_hook),)

    def __exit__(self, *exc) -> None:
        _state.saved_hooks = _state.saved_hooks[:-1]


class save_on_cpu(saved_tensors_hooks):
    """Same as torch.autograd.graph.save_on_cpu: tensors saved for backward wait on the CPU."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: (t.device, t.cpu()), lambda p: p[1].to(p[0]))


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
