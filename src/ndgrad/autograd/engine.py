"""The reverse-mode engine: dependency counts, a ready stack, gradient buffers per node.

Iterative, so a chain of 100,000 ops needs no recursion. Leaves are graph sinks keyed by the tensor
itself; their summed gradient is accumulated into ``.grad`` once per backward call."""

from __future__ import annotations

from .._tensor import Tensor
from .grad_mode import set_grad_enabled
from .grad_mode import state as _grad_state


def _root_edges(tensors, grads, create_graph):
    edges, root_grads = [], []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward expects tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        g = grads[i] if grads is not None else None
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = Tensor._make(t._device.xp.ones(t._data.shape, t._data.dtype), t._device)
        elif not isinstance(g, Tensor):
            g = Tensor._make(t._device.xp.asarray(g, t._data.dtype), t._device)
        elif tuple(g.shape) != tuple(t.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                               f"output[{i}] has a shape of {t.shape}.")
        if not create_graph:
            g = g.detach()
        edges.append((t._grad_fn, t._output_nr) if t._grad_fn is not None else (t, 0))
        root_grads.append(g)
    return edges, root_grads


def _dependencies(edges) -> dict:
    deps: dict = {}
    seen = set()
    stack = []
    for fn, _ in edges:
        if fn not in seen:
            seen.add(fn)
            stack.append(fn)
    while stack:
        fn = stack.pop()
        if isinstance(fn, Tensor):
            continue
        for e in fn.next_edges:
            if e is None:
                continue
            tgt = e[0]
            deps[tgt] = deps.get(tgt, 0) + 1
            if tgt not in seen:
                seen.add(tgt)
                stack.append(tgt)
    return deps


def _n_outputs(fn) -> int:
    if isinstance(fn, Tensor):
        return 1
    meta = getattr(fn, "out_meta", None)
    return len(meta) if meta else 1


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool) -> None:
    if leaf._grad is None:
        # A fresh buffer we own, so later backward calls can add into it in place.
        leaf._grad = g if create_graph else Tensor._make(g._data.copy(), g._device)
    elif create_graph or leaf._grad._requires_grad:
        leaf._grad = leaf._grad + g
    else:
        leaf._grad._data += g._data
        leaf._grad._vc[0] += 1


def _call_hooks(hooks, g):
    for hook in hooks:
        r = hook(g)
        if r is not None:
            g = r
    return g


def run(edges, root_grads, retain_graph: bool, create_graph: bool, capture=None,
        accumulate_into=None) -> dict:
    """Backpropagate ``root_grads`` from ``edges``. With ``capture`` (a dict edge -> slot), gradients
    reaching those edges are returned instead of being accumulated into leaves."""
    deps = _dependencies(edges)
    buffers: dict = {}
    for (fn, nr), g in zip(edges, root_grads):
        buf = buffers.get(fn)
        if buf is None:
            buf = buffers[fn] = [None] * _n_outputs(fn)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [fn for fn in buffers if deps.get(fn, 0) == 0]
    captured: dict = {}
    with set_grad_enabled(create_graph):
        while ready:
            fn = ready.pop()
            grads = buffers.pop(fn, None)
            if isinstance(fn, Tensor):  # a leaf
                if grads is None or grads[0] is None:
                    continue
                g = grads[0]
                if fn._hooks:
                    g = _call_hooks(fn._hooks, g)
                if capture is not None:
                    if (fn, 0) in capture:
                        captured[fn, 0] = g
                elif accumulate_into is None or fn in accumulate_into:
                    _accumulate(fn, g, create_graph)
                continue
            in_grads = None
            if grads is not None and any(g is not None for g in grads):
                if fn._hooks:
                    for nr, hooks in fn._hooks.items():
                        if grads[nr] is not None:
                            grads[nr] = _call_hooks(hooks, grads[nr])
                if capture is not None:
                    for nr, g in enumerate(grads):
                        if (fn, nr) in capture and g is not None:
                            captured[fn, nr] = g
                in_grads = fn._apply_backward(grads)
                if not retain_graph:
                    fn._release()
            for i, e in enumerate(fn.next_edges):
                if e is None:
                    continue
                tgt, nr = e
                g = in_grads[i] if in_grads is not None else None
                if g is not None:
                    buf = buffers.get(tgt)
                    if buf is None:
                        buf = buffers[tgt] = [None] * _n_outputs(tgt)
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                deps[tgt] -= 1
                if deps[tgt] == 0:
                    ready.append(tgt)
    return captured


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Same as torch.autograd.backward."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    edges, root_grads = _root_edges(tensors, grad_tensors, create_graph)
    only = None
    if inputs is not None:
        only = set(_as_tuple(inputs))
    run(edges, root_grads, retain_graph, create_graph, accumulate_into=only)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Same as torch.autograd.grad: gradients of ``outputs`` w.r.t. ``inputs``, as a tuple."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    edges, root_grads = _root_edges(outputs, grad_outputs, create_graph)
    keys = [(t._grad_fn, t._output_nr) if t._grad_fn is not None else (t, 0) for t in inputs]
    captured = run(edges, root_grads, retain_graph, create_graph, capture=set(keys))
    result = []
    for i, (t, k) in enumerate(zip(inputs, keys)):
        g = captured.get(k)
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            if materialize_grads:
                g = Tensor._make(t._device.xp.zeros_like(t._data), t._device)
        result.append(g)
    return tuple(result)


def _grad_enabled() -> bool:
    return _grad_state.grad_enabled
