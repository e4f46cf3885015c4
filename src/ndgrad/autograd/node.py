"""Graph nodes. ``Node``: one recorded call (edges to its inputs, what backward needs, hooks) and
the base class's chores around a backward: each gradient summed to its input's shape and cast to
its dtype. ``Op`` (``op.py``) is the internal primitive built on it; ``saved.py`` packs and checks
the values a node saves."""

from __future__ import annotations

from .._backend import device_of_array
from .._tensor import RetainGrad, Tensor
from .saved import _FREED, _HOOKED, _IN, FREED_MSG, _unpack, _unpack_array

class Node:
    """One recorded call: edges to its inputs' nodes (or leaf tensors) and what backward needs.

    ``next_edges[i]`` is ``(node, output_nr)`` for a non-leaf input, ``(leaf_tensor, 0)`` for a
    leaf that requires grad, and None for an input that needs no gradient. ``out_meta`` is None
    for a single output, else one ``(shape, dtype, device)`` per output (None: not a tensor).
    ``_hooks`` maps an output number to its tensor hooks; "pre"/"post" hold the node's own."""

    __slots__ = ("next_edges", "saved", "needs_input_grad", "xp", "in_meta", "out_meta",
                 "_hooks", "__weakref__", "__dict__")
    _node_name = "Node"  # torch's name for this kind of node: the class is named after it
    # Optional first-order backward on raw arrays (no Tensor wrapping, no graph): a primitive on a
    # hot path may define it beside ``backward``; it may return NotImplemented to defer to it.
    backward_raw = None

    def name(self) -> str:
        return type(self)._node_name

    @property
    def _name(self) -> str:
        return type(self)._node_name

    @_name.setter
    def _name(self, name) -> None:
        """Name this node as torch does where one op records several of torch's nodes (a
        reduction with or without dim is SumBackward0/SumBackward1): the node becomes an instance
        of a subclass of that name, so ``type(grad_fn).__name__`` is torch's too."""
        if name is not None and name != type(self)._node_name:
            self.__class__ = _named_class(type(self), name)

    def __repr__(self) -> str:
        return f"<{self.name().rpartition('::')[2]} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        return tuple((None, 0) if e is None else (AccumulateGrad(e[0]), 0)
                     if isinstance(e[0], Tensor) else e for e in self.next_edges)

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})

    def register_prehook(self, fn):
        """Same as torch's Node.register_prehook: ``fn(grad_outputs)`` may return new ones."""
        return self._add_hook("pre", fn)

    def register_hook(self, fn):
        """Same as torch's Node.register_hook: ``fn(grad_inputs, grad_outputs)`` may return new
        grad_inputs."""
        return self._add_hook("post", fn)

    def _add_hook(self, key, hook, before_retain: bool = False):
        if self._hooks is None:
            self._hooks = {}
        hooks = self._hooks.setdefault(key, [])
        if before_retain and hooks and isinstance(hooks[-1], RetainGrad):
            hooks.insert(len(hooks) - 1, hook)  # torch runs retain_grad's hook last
        else:
            hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def save(self, *values) -> None:
        """Keep arrays (inputs, outputs or others) for backward."""
        self.saved = values

    @property
    def saved_tensors(self) -> tuple:
        if self.saved is _FREED:
            raise RuntimeError(FREED_MSG)
        return tuple(_unpack(self, s) for s in self.saved)

    def _apply_backward(self, grads: list) -> tuple:
        """Run backward for the outputs' gradients; sum/cast each result to its input's meta."""
        if self.out_meta is not None:
            grads = [g if g is not None or m is None else _zeros(m)
                     for g, m in zip(grads, self.out_meta)]
        res = self.backward(*grads)
        return _check_grads(self, res if type(res) is tuple else (res,))

    def _apply_raw(self, grads: list) -> tuple:
        """First-order backward on arrays: ``backward_raw`` if the op has one (and takes these
        grads), else ``backward`` on tensors wrapped around them."""
        if self.backward_raw is not None:
            if self.out_meta is not None:
                grads = [g if g is not None or m is None else m[2].xp.zeros(m[0], m[1])
                         for g, m in zip(grads, self.out_meta)]
            res = self.backward_raw(*grads)
            if res is not NotImplemented:
                return _check_arrays(self, res if type(res) is tuple else (res,))
        dev = device_of_array(next(g for g in grads if g is not None))
        res = self._apply_backward([None if g is None else Tensor._make(g, dev) for g in grads])
        return tuple([None if g is None else g._data for g in res])

    @property
    def saved_arrays(self) -> tuple:
        """The saved values as arrays, version-checked (for ``backward_raw``)."""
        if self.saved is _FREED:
            raise RuntimeError(FREED_MSG)
        out = []
        for s in self.saved:  # _unpack_array inlined for the usual case: unchanged, no hooks
            if s is not None and s[0] is not _HOOKED and s[2][0] == s[3]:
                out.append(s[1]._data if s[0] is _IN else s[1][0])
            else:
                out.append(_unpack_array(self, s))
        return tuple(out)

    def backward(self, *grads):
        raise NotImplementedError


_NAMED: dict = {}


def named(out: Tensor, name: str) -> Tensor:
    """Give a composite's last (freshly made) node torch's grad_fn name for the op it stands for
    (ops recording one node declare theirs: ``Op.named``, ``_node_name``)."""
    if out._grad_fn is not None:
        out._grad_fn._name = name
    return out


def _named_class(cls, name: str) -> type:
    sub = _NAMED.get((cls, name))
    if sub is None:
        short = name.rpartition("::")[2]
        sub = _NAMED[cls, name] = type(cls)(short, (cls,), {
            "__slots__": (), "_node_name": name, "__module__": cls.__module__,
            "__qualname__": short, "_renamed": True})
    return sub


class RemovableHandle:
    """Returned by register_hook; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _zeros(meta):
    shape, dt, dev = meta
    return Tensor._make(dev.xp.zeros(shape, dt), dev)


def _check_grads(node, res: tuple) -> tuple:
    """Each gradient summed to its input's shape (if it broadcasts to it) and cast to its dtype."""
    out = []
    for i, (g, meta) in enumerate(zip(res, node.in_meta)):
        if g is None or meta is None:
            out.append(None)
            continue
        shape, dt = meta
        d = g._data
        if d.shape != shape:
            if not _expandable(shape, d.shape):
                raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index "
                                   f"{i} - got {list(d.shape)} but expected shape compatible with "
                                   f"{list(shape)}")
            g = g.sum_to_size(shape)  # (a Tensor method: ops are above this module)
        if g._data.dtype != dt:
            if g._data.dtype.kind == "c" and dt.kind != "c":
                g = g.real
            g = g.to(_DTYPE.from_numpy(dt))
        out.append(g)
    return tuple(out)


def _check_arrays(node, res: tuple) -> tuple:
    """``_check_grads`` for raw arrays: summed to each input's shape and cast to its dtype."""
    out = []
    nd = node.xp.ndarray
    for g, meta in zip(res, node.in_meta):
        if g is None or meta is None:
            out.append(None)
        elif g.shape == meta[0] and g.dtype is meta[1] and type(g) is nd:
            out.append(g)
        else:
            out.append(_fix_array(node, g, meta, res))
    return tuple(out)


def _fix_array(node, g, meta, res):
    shape, dt = meta
    if g.shape != shape:
        if not _expandable(shape, g.shape):
            _check_grads(node, tuple(  # raises torch's error
                None if r is None else Tensor._make(node.xp.asarray(r)) for r in res))
        g = sum_to_array(g, shape)
    if g.dtype != dt:
        g = (g.real if g.dtype.kind == "c" and dt.kind != "c" else g).astype(dt)
    return g if type(g) is node.xp.ndarray else node.xp.asarray(g)  # NumPy's 0-d scalars


def sum_to_array(g, shape):
    """Sum the array ``g`` over the axes that broadcasting ``shape`` to ``g.shape`` added."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and g.shape[i + lead] != 1)
    if not axes:
        return g.reshape(shape)
    if g.itemsize == 2 and g.dtype.kind != "i":  # half: accumulate in float32, as torch does
        return g.sum(axis=axes, keepdims=True, dtype="float32").astype(g.dtype).reshape(shape)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


def _expandable(shape, to) -> bool:
    return len(shape) <= len(to) and all(s in (1, t) for s, t in zip(shape[::-1], to[::-1]))


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf, as in torch."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    next_functions = ()  # a leaf's node: nothing behind it

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


class _Lazy:
    """Late imports that would otherwise be circular (the ops import this module)."""

    def __getattr__(self, name):
        from .. import _dtype

        return getattr(_dtype, name)


_DTYPE = _Lazy()
