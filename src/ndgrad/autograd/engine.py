"""The reverse-mode engine: dependency counts, a ready stack, one gradient buffer per node.

Iterative, so a chain of 100,000 ops needs no recursion. Leaves are graph sinks keyed by the tensor
itself; their summed gradient goes through the leaf's hooks into ``.grad`` once per call. For
``autograd.grad`` (and ``backward(inputs=...)``) only nodes on a path to an input run."""

from __future__ import annotations

import functools
import sys
import warnings

import numpy as np

from .._errors import not_tensor_element
from .._backend import device_of_array
from .._grad_mode import anomaly, set_grad_enabled
from .._grad_mode import state as _state
from .._tensor import Tensor, refresh_view
from .node import _check_arrays, _fix_array
from .._ops._layout import fills_block
from .saved import _FREED

_Grads = list  # one gradient (or None) per output of a node
# ndgrad.profiler's recorder while a profile records, else None: one check per node below is all
# it costs otherwise; it runs the node's backward itself, timed.
_profiler = None
# ndgrad.compile's tracer while a step is captured, else None: it records the backward (run).
_tracer = None


def _as_tuple(x) -> tuple | None:
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _edge(t: Tensor) -> tuple:
    if t._base is not None and t._view_ver != t._vc[0]:
        refresh_view(t)  # a view whose base changed in place
    return (t._grad_fn, t._output_nr) if t._grad_fn is not None else (t, 0)


def _roots(tensors: tuple, grads: tuple | None, create_graph: bool) -> tuple[list, list]:
    """The graph edges of ``tensors`` and their starting gradients, checked as torch does."""
    if grads is None:
        grads = (None,) * len(tensors)
    for g in grads:
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"gradients can be either Tensors or None, but got "
                            f"{type(g).__name__}")
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    edges, root_grads = [], []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not isinstance(t, Tensor):
            raise not_tensor_element(i, t)
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            d = t._data
            if d.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            one = t._device.xp.array(1, d.dtype)  # faster than ones() for the usual 0-d loss
            g = Tensor._make(one if d.ndim == 0 else one.reshape(d.shape), t._device)
        else:
            if g._data.shape != t._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {t.shape}.")
            if g._data.dtype != t._data.dtype:
                g = g.to(t.dtype)
            if g._device is not t._device:  # torch moves a 0-d gradient, refuses any other
                if g._data.ndim:
                    raise RuntimeError(f"invalid gradient at index {i} - expected device "
                                       f"{t.device} but got {g.device}")
                g = g.to(t._device)
            if not create_graph:
                g = g.detach()
        edges.append(_edge(t))
        root_grads.append(g)
    return edges, root_grads


def _add(a, b, create_graph: bool):
    """a + b for gradient buffers: tensors (recorded under create_graph) or raw arrays."""
    if a is None:
        return b
    if create_graph:
        return a + b
    if type(a) is Tensor:
        return Tensor._make(_sum(a._data, b._data), a._device)
    return _sum(a, b)


def _sum(a, b):
    s = a + b  # never in place: a may be aliased
    return np.asarray(s) if isinstance(s, np.generic) else s  # NumPy's 0-d sums are scalars


def _call_hooks(hooks: list, g: Tensor) -> Tensor:
    for hook in hooks:
        r = hook(g)
        if r is None:
            continue
        if not isinstance(r, Tensor):
            raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
        if r._data.shape != g._data.shape:
            raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the size of "
                               "value")
        if r._data.dtype != g._data.dtype or r._device is not g._device:
            raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the type of "
                               f"value (was {g.type()} got {r.type()})")
        g = r
    return g


def _node_hooks(fn, grads: _Grads) -> _Grads:
    hooks = fn._hooks
    for nr, g in enumerate(grads):
        if g is not None and hooks.get(nr):
            grads[nr] = _call_hooks(hooks[nr], g)
    for pre in hooks.get("pre", ()):
        r = pre(tuple(grads))
        if r is not None:
            grads = list(r)
    return grads


def _post_hooks(fn, in_grads: tuple, grads: _Grads) -> tuple:
    for post in fn._hooks.get("post", ()):
        r = post(in_grads, tuple(grads))
        if r is not None:
            in_grads = tuple(r)
    return in_grads


# --- the graph walk -------------------------------------------------------------------------------
def _dependencies(roots: list, targets) -> tuple[dict, set | None]:
    """Pending-edge counts of every node reachable from ``roots``; with ``targets`` (edges whose
    gradient is wanted), also the set of nodes that lie on a path to one of them."""
    deps: dict = {}
    parents: dict | None = {} if targets is not None else None
    stack = []
    for fn, _ in roots:
        if fn not in deps and not isinstance(fn, Tensor):
            deps[fn] = 0
            stack.append(fn)
    while stack:
        fn = stack.pop()
        for e in fn.next_edges:
            if e is None:
                continue
            t = e[0]
            if parents is not None:
                parents.setdefault(t, []).append(fn)
            if isinstance(t, Tensor):
                continue
            n = deps.get(t)
            if n is None:
                deps[t] = 1
                stack.append(t)
            else:
                deps[t] = n + 1
    if targets is None:
        return deps, None
    return deps, _on_paths(parents, targets)


def _counts(roots: list) -> dict:
    """``_dependencies`` without targets: the pending-edge count of every node reachable from
    ``roots`` (leaves are not counted)."""
    deps: dict = {}
    stack = []
    for fn, _ in roots:
        if fn not in deps and not isinstance(fn, Tensor):
            deps[fn] = 0
            stack.append(fn)
    get = deps.get
    while stack:
        for e in stack.pop().next_edges:
            if e is not None:
                t = e[0]
                n = get(t)
                if n is not None:
                    deps[t] = n + 1
                elif not isinstance(t, Tensor):
                    deps[t] = 1
                    stack.append(t)
    return deps


def _on_paths(parents: dict, targets) -> set:
    """The nodes from which a path leads to one of the ``targets`` edges."""
    needed: set = set()
    stack = [fn for fn, _ in targets]
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    return needed


def run(roots: list, root_grads: list, retain_graph: bool, create_graph: bool,
        targets: dict | None = None) -> dict:
    """Backpropagate ``root_grads`` from the ``roots`` edges. Gradients reach leaves' ``.grad``,
    or, with ``targets`` (a collection of edges), are returned as {edge: gradient} instead.

    First order (no create_graph, no anomaly mode) runs on raw arrays: nodes with a
    ``backward_raw`` skip Tensor wrapping; the others, and hooks, see tensors as usual."""
    if _tracer is not None:
        return _tracer.run(roots, root_grads, retain_graph, create_graph, targets)
    raw = not create_graph and not anomaly.enabled
    if raw and targets is None and _profiler is None:  # the usual backward: _walk's inline step
        prev_mode = _state.grad_enabled
        _state.grad_enabled = False
        try:
            leaves = _walk(roots, [g._data for g in root_grads], _counts(roots), None,
                           retain_graph, False)
            _into_leaves(leaves, None, None, False)  # (the walk's frame gone: see _sole_owner)
        finally:
            _state.grad_enabled = prev_mode
        return {}
    deps, needed = _dependencies(roots, targets)
    if raw:
        root_grads = [g._data for g in root_grads]
    captured: dict = {}
    step = _node_step(raw, targets, captured, needed)
    prev_mode = _state.grad_enabled
    _state.grad_enabled = create_graph
    try:
        leaves = _walk(roots, root_grads, deps, step, retain_graph, create_graph)
        _into_leaves(leaves, targets, captured, create_graph)
    finally:
        _state.grad_enabled = prev_mode
    if raw:
        for k, g in captured.items():
            if type(g) is not Tensor:
                captured[k] = Tensor._make(g, device_of_array(g))
    return captured


def _walk(roots: list, root_grads: list, deps: dict, step, retain_graph: bool,
          create_graph: bool) -> dict:
    """Run each node once every edge into it has delivered (``deps`` counts them down): pop a
    ready node, run it, add each of its inputs' gradients to that node's buffer (a list for
    several outputs) or its leaf's sum; free what the node saved unless ``retain_graph``. Returns
    {leaf: gradient}.

    ``step`` None is the usual backward (first order, into ``.grad``, no profiler): gradients
    are arrays, a node's ``backward_raw`` runs on them inline and each result is checked against
    its input's meta as it is delivered (as ``_check_arrays`` does); a node with hooks, several
    outputs or no (or a deferring) raw backward takes ``_first_order_step``. Any other backward
    passes ``step(fn, grads)``: its inputs' gradients, checked, or None (not run: what it saved
    is kept)."""
    buffers: dict = {}
    leaves: dict = {}
    ready = []  # only roots can start with no pending edges
    for (fn, nr), g in zip(roots, root_grads):
        if isinstance(fn, Tensor):
            leaves[fn] = _add(leaves.get(fn), g, create_graph)
            continue
        if deps[fn] == 0 and fn not in buffers:
            ready.append(fn)
        _deliver(buffers, fn, nr, g, create_graph)
    add = _sum if step is None else functools.partial(_add, create_graph=create_graph)
    pop, push = buffers.pop, ready.append
    while ready:
        fn = ready.pop()
        g = pop(fn, None)
        edges = fn.next_edges
        checked = True
        res = None
        if g is not None:
            if step is not None:
                res = step(fn, [g] if fn.out_meta is None else g)
            else:
                if fn.out_meta is None and fn._hooks is None:
                    br = fn.backward_raw
                    if br is not None:
                        res = br(g)
                        if res is NotImplemented:
                            res = None
                        elif type(res) is not tuple:
                            res = (res,)
                if res is None:  # hooks, several outputs, no (or a deferring) raw backward
                    res = _first_order_step(fn, [g] if fn.out_meta is None else g)
                else:
                    checked, nd = False, fn.xp.ndarray
        if res is None:  # no gradient reached it, or not run: its inputs' counts still go down
            res = _NONES(len(edges))
        elif not retain_graph and fn.saved:
            fn.saved = _FREED
        for e, gi, meta in zip(edges, res, fn.in_meta):
            if e is None:
                continue
            t, nr = e
            if gi is not None and not checked:  # _check_arrays inlined
                if meta is None:
                    gi = None
                elif gi.shape != meta[0] or gi.dtype is not meta[1] or type(gi) is not nd:
                    gi = _fix_array(fn, gi, meta, res)
            n = deps.get(t)
            if n is None:  # a leaf
                if gi is not None:
                    old = leaves.get(t)
                    leaves[t] = gi if old is None else add(old, gi)
                continue
            if gi is not None:
                if t.out_meta is None:  # _deliver's usual case, inlined
                    old = buffers.get(t)
                    buffers[t] = gi if old is None else add(old, gi)
                else:
                    _deliver(buffers, t, nr, gi, create_graph)
            deps[t] = n - 1
            if n == 1:
                push(t)
    return leaves


def _deliver(buffers: dict, fn, nr: int, g, create_graph: bool) -> None:
    """Add ``g`` to the buffer of ``fn``'s output ``nr``."""
    if fn.out_meta is None:
        old = buffers.get(fn)
        buffers[fn] = g if old is None else _add(old, g, create_graph)
    else:
        buf = buffers.setdefault(fn, [None] * len(fn.out_meta))
        buf[nr] = _add(buf[nr], g, create_graph)


def _into_leaves(leaves: dict, targets, captured: dict, create_graph: bool) -> None:
    """Each leaf's summed gradient through its hooks into ``.grad`` (with ``targets``: into
    ``captured`` for the wanted ones)."""
    for leaf in list(leaves):
        g = leaves.pop(leaf)
        if targets is not None and (leaf, 0) not in targets:
            continue
        if leaf._hooks:
            g = _call_hooks(leaf._hooks, _tensor(g, leaf._device))
        if targets is None:
            _accumulate(leaf, g, create_graph)
        else:
            captured[leaf, 0] = g


# --- the per-node step: a node's hooks and backward for its outputs' gradients ------------------
def _first_order_step(fn, grads: _Grads) -> tuple:
    """The usual step (first order, every node wanted, no profiler): gradients are arrays; a
    node's ``backward_raw`` runs on them, unless it has hooks or defers to ``backward``."""
    if fn._hooks:
        return _run_node(fn, grads, True, None, None, None)
    br = fn.backward_raw  # Node._apply_raw's usual case, inlined
    res = br(*grads) if br is not None and fn.out_meta is None else None
    if res is None or res is NotImplemented:
        return fn._apply_raw(grads)
    return _check_arrays(fn, res if type(res) is tuple else (res,))


def _node_step(raw: bool, targets, captured: dict, needed):
    """The step of any other backward: with ``targets``, it first captures the wanted gradients
    of ``fn``'s outputs and runs only nodes on a path to a target; the profiler times each node."""
    def step(fn, grads):
        if _profiler is not None:  # ndgrad.profiler is recording (see above)
            return _profiler.node(fn, grads, raw, targets, captured, needed)
        if not raw or fn._hooks:
            return _run_node(fn, grads, raw, targets, captured, needed)
        _capture(fn, grads, targets, captured)
        return fn._apply_raw(grads) if fn in needed else None
    return step


def _tensor(g, dev) -> Tensor:
    return g if type(g) is Tensor else Tensor._make(g, dev)


def _capture(fn, grads, targets, captured) -> None:
    for nr, gi in enumerate(grads):
        if gi is not None and (fn, nr) in targets:
            captured[fn, nr] = gi


def _run_node(fn, grads, raw, targets, captured, needed) -> tuple | None:
    """One node's backward through tensors: its hooks, captured gradients, anomaly checks.
    With ``raw``, the grads come and go as arrays."""
    if needed is not None and fn not in needed and not any(
            (fn, nr) in targets for nr in range(len(grads))):
        return None  # off every path to the inputs: torch runs neither it nor its hooks
    if raw:
        dev = device_of_array(next(g for g in grads if g is not None))
        grads = [None if g is None else Tensor._make(g, dev) for g in grads]
    if fn._hooks:
        grads = _node_hooks(fn, grads)
    if targets is not None:
        _capture(fn, grads, targets, captured)
    if needed is not None and fn not in needed:
        return None
    in_grads = _backward(fn, grads) if anomaly.enabled else fn._apply_backward(grads)
    if fn._hooks and "post" in fn._hooks:
        in_grads = _post_hooks(fn, in_grads, grads)
    if raw:
        in_grads = tuple([None if g is None else g._data for g in in_grads])
    return in_grads


def _NONES(n: int) -> tuple:
    return (None,) * n


def _backward(fn, grads: _Grads) -> tuple:
    """``fn._apply_backward`` under anomaly detection: a failure (or, with check_nan, a nan
    gradient) first warns with the Python stack of the forward call that made ``fn``."""
    try:
        res = fn._apply_backward(grads)
        if anomaly.check_nan:
            for i, g in enumerate(res):
                if g is not None and g._device.xp.isnan(g._data).any():
                    raise RuntimeError(f"Function '{fn.name()}' returned nan values in its {i}th "
                                       "output.")
    except Exception:
        stack = "".join(fn.__dict__.get("_stack", ["(no forward traceback recorded)\n"]))
        warnings.warn(f"Error detected in {fn.name()}. Traceback of forward call that caused the "
                      f"error:\n{stack}", UserWarning, stacklevel=2)
        raise
    return res


def _accumulate(leaf: Tensor, g, create_graph: bool) -> None:
    """Add into ``leaf.grad`` as torch's AccumulateGrad does: in place unless recording. ``g`` is
    a Tensor, or a raw array in first-order runs."""
    old = leaf._grad
    if old is None:
        if create_graph and g._requires_grad:
            from .._ops.convert import contiguous_format  # (clone's default keeps g's layout;

            g = g.clone(memory_format=contiguous_format)  # torch's: the leaf's, C for a C leaf)
            g._grad_fn._name = "torch::autograd::CopyBackwards"
            leaf._grad = g
        elif type(g) is not Tensor and _sole_owner(g) and _obeys(g, leaf._data):
            leaf._grad = Tensor._make(g, leaf._device)  # torch steals such a buffer too
        else:  # a buffer of our own, so later calls can add into it in place
            d = g._data if type(g) is Tensor else g
            leaf._grad = Tensor._make(_grad_copy(d, leaf._data, leaf._device.xp), leaf._device)
    elif create_graph:
        leaf._grad = old + g
    else:
        old._data += g._data if type(g) is Tensor else g
        old._vc[0] += 1
    if POST_ACCUMULATE_HOOKS[0]:  # once any leaf has them: {key: hook(leaf)}; DDP uses it
        hooks = getattr(leaf, "_post_accumulate_grad_hooks", None)
        if hooks:
            for hook in tuple(hooks.values()):
                hook(leaf)


def _obeys(g, a) -> bool:
    """torch's layout contract for a leaf's first .grad: the leaf's strides (a leaf that fills
    its block: a transposed weight's grad is transposed too), else C order."""
    if g.strides == a.strides:
        return True
    if fills_block(a):
        return g.shape == a.shape and all(
            x == y for x, y, n in zip(g.strides, a.strides, a.shape) if n > 1)
    return g.flags.c_contiguous


def _grad_copy(g, a, xp):
    """``g`` copied, laid out as torch's AccumulateGrad lays out the first grad of ``a``."""
    if a.flags.c_contiguous or g.shape != a.shape or not fills_block(a):
        return g.copy()
    out = xp.empty_like(a, dtype=g.dtype)  # (order K: a's strides, as it fills its block)
    out[...] = g
    return out


# Set by Tensor.register_post_accumulate_grad_hook and DDP's reducer: until then, accumulating a
# gradient does not look for the hooks (a property lookup per leaf per backward)
POST_ACCUMULATE_HOOKS = [False]


# References to a leaf's gradient array when only the engine holds it: run's variable,
# _accumulate's and _sole_owner's arguments, getrefcount's own. CPython 3.14 may skip counting
# references on its stack, so there the count proves nothing and every grad is copied.
_ENGINE_REFS = 4 if sys.version_info < (3, 14) and sys.implementation.name == "cpython" else -1


def _sole_owner(a) -> bool:
    """Whether the raw gradient ``a`` is a fresh array nothing else refers to (not a view, not
    one a backward handed to two inputs): then it can become ``.grad`` without a copy."""
    return (type(a) is np.ndarray and a.base is None and a.flags.writeable
            and sys.getrefcount(a) == _ENGINE_REFS)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """Same as torch.autograd.backward."""
    if (type(tensors) is Tensor and grad_tensors is None and grad_variables is None
            and inputs is None and not create_graph and tensors._requires_grad
            and tensors._data.size == 1):  # loss.backward(): the usual call, checked quickly
        d = tensors._data
        one = tensors._device.xp.array(1, d.dtype)
        run([_edge(tensors)], [Tensor._make(one if d.ndim == 0 else one.reshape(d.shape),
                                            tensors._device)],
            bool(retain_graph), False)
        return
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors if grad_variables is None else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between the "
            "parameter and its gradient which can cause a memory leak. We recommend using "
            "autograd.grad when creating the graph to avoid this. If you have to use this "
            "function, make sure to reset the .grad fields of your parameters to None after use "
            "to break the cycle and avoid the leak.", UserWarning, stacklevel=2)
    roots, root_grads = _roots(tensors, grads, create_graph)
    if inputs is None:
        run(roots, root_grads, retain_graph, create_graph)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    _check_inputs(inputs)
    keys = [_edge(t) for t in inputs]
    captured = run(roots, root_grads, retain_graph, create_graph, dict.fromkeys(keys))
    for t, k in zip(inputs, keys):
        g = captured.get(k)
        if g is not None:
            with set_grad_enabled(create_graph):
                _accumulate(t, g, create_graph)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Same as torch.Tensor.backward."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def _check_inputs(inputs: tuple) -> None:
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor in inputs, but got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Same as torch.autograd.grad: gradients of ``outputs`` w.r.t. ``inputs``, as a tuple.
    ``is_grads_batched`` loops over the batch instead of vectorising."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", UserWarning, stacklevel=2)
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grad_outputs = _as_tuple(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        return _batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                        materialize_grads)
    allow_unused = allow_unused or materialize_grads
    _check_inputs(inputs)
    roots, root_grads = _roots(outputs, grad_outputs, create_graph)
    keys = [_edge(t) for t in inputs]
    captured = run(roots, root_grads, retain_graph, create_graph, dict.fromkeys(keys))
    result = []
    for i, (t, k) in enumerate(zip(inputs, keys)):
        g = captured.get(k)
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            if materialize_grads:  # requiring grad under create_graph, as torch's
                g = Tensor._make(t._device.xp.zeros_like(t._data), t._device, create_graph)
        result.append(g)
    return tuple(result)


def _batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
             materialize_grads) -> tuple:
    from .._ops.movement import stack

    n = grad_outputs[0].shape[0]
    per = [grad(outputs, inputs, [g[b] for g in grad_outputs], retain_graph=True if b < n - 1
                else retain_graph, create_graph=create_graph,
                allow_unused=allow_unused or materialize_grads) for b in range(n)]
    out = []
    for t, col in zip(inputs, zip(*per)):
        if col[0] is not None:
            out.append(stack(list(col)))
        elif materialize_grads:  # torch's zeros for an unused input have no batch dimension
            out.append(Tensor._make(t._device.xp.zeros_like(t._data), t._device, create_graph))
        else:
            out.append(None)
    return tuple(out)
