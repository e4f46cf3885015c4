"""Graph nodes. ``Node``: one recorded call; ``Op``: an internal primitive (forward on arrays,
backward on tensors), and how values saved for backward are packed and version-checked."""

from __future__ import annotations

import re
import sys
import traceback

import numpy as np

from .._backend import CPU, device_of_array
from .._errors import reraise_allocation_error
from .._grad_mode import anomaly as _anomaly
from .._grad_mode import state as _grad_state
from .._tensor import RetainGrad, Tensor, refresh_view
from .formula import TENSORS, arrays

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")
_FREED = (None,)  # ``saved`` once released: truthy, so ``if ctx.saved:`` still reaches the error
_OUT, _IN, _HOOKED = 0, 1, 2  # kinds of saved values


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
            g = _sum_to(g, shape)
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


# --- saving values for backward, with version checks ----------------------------------------------
def _unpack(node, s):
    if s is None:
        return None
    kind, obj, vc, version = s
    if kind is _HOOKED:
        return vc(obj)  # the unpack hook
    if vc[0] != version:
        raise RuntimeError(_modified_message(node, obj, kind, vc[0], version))
    if kind is _OUT:  # rebuild the output tensor without a reference cycle
        arr, nr, dev = obj
        t = Tensor._make(arr, dev, True, node, nr)
        t._vc = vc
        return t
    return obj


def _unpack_array(node, s):
    if s is None:
        return None
    kind, obj, vc, version = s
    if kind is _HOOKED:
        return vc(obj)._data
    if vc[0] != version:
        raise RuntimeError(_modified_message(node, obj, kind, vc[0], version))
    return obj[0] if kind is _OUT else obj._data


def _modified_message(node, obj, kind, now, version) -> str:
    if kind is _OUT:  # torch names the node that saved its own output
        arr, nr, dev = obj
        t, op = Tensor._make(arr, dev), (node, nr)
    else:
        t, op = obj, (obj._grad_fn, obj._output_nr)
    where = ""
    if op[0] is not None:
        name = re.sub(r"Backward\d*$", "", op[0].name())
        where = f", which is output {op[1]} of {name},"
    hint = ("the backtrace further above shows the operation that failed to compute its "
            "gradient. The variable in question was changed in there or anywhere later. Good "
            "luck!" if _anomaly.enabled else
            "enable anomaly detection to find the operation that failed to compute its gradient, "
            "with ndgrad.autograd.set_detect_anomaly(True, check_nan=False).")
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{t.type()} {list(t.shape)}]{where} is at version {now}; "
            f"expected version {version} instead. Hint: {hint}")


def _hooked(value: Tensor):
    hooks = _grad_state.saved_hooks
    pack, unpack = hooks[-1]
    _grad_state.saved_hooks = ()  # ops inside the pack hook save their tensors plainly
    try:
        return (_HOOKED, pack(value), unpack, None)
    finally:
        _grad_state.saved_hooks = hooks


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
        if "_node_name" not in cls.__dict__:  # torch's node name: Add -> AddBackward0
            name = cls.__name__.lstrip("_")
            cls._node_name = name if re.search(r"Backward\d+$", name) else name + "Backward0"
            cls._op_name = name.lower()
            cls.__name__ = cls._node_name  # (the qualified name stays the Python class's)
        f = cls.__dict__.get("formula")
        if f is not None:  # one derivative: backward on tensors, backward_raw on arrays
            cls.backward = lambda ctx, *g: f(ctx, TENSORS, ctx.saved_tensors, *g)
            if "backward_raw" not in cls.__dict__:
                cls.backward_raw = lambda ctx, *g: f(ctx, arrays(ctx.xp), ctx.saved_arrays, *g)
        elif "backward" in cls.__dict__ and "backward_raw" not in cls.__dict__:
            cls.backward_raw = None  # an inherited raw backward would not match the new backward

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
            ctx.needs_input_grad = needs = tuple(needs)
            out = cls.forward(ctx, *arrays, **kw)
            _edges(ctx, args, needs)
            return _outputs(ctx, out, dev, xp, args, arrays)
        except (MemoryError, ValueError) as e:  # NumPy's allocation failures: torch's error
            reraise_allocation_error(e)

    @classmethod
    def apply_one(cls, t, *args, **kw):
        """``apply(t, *args, **kw)`` for an op whose only tensor argument is the first (unary
        math, reductions, views): the same steps without the scan for tensors."""
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
            ctx.next_edges = (_edge(t),)
            ctx.in_meta = ((d.shape, d.dtype),)
            ctx._hooks = None
            if _anomaly.enabled:
                ctx._stack = traceback.format_stack()[:-1]
            return _outputs(ctx, out, dev, xp, (t,), (d,))
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
            ctx.needs_input_grad = (ra, rb)
            out = cls.forward(ctx, da, db, dt)
            ctx.next_edges = (_edge(a) if ra else None, _edge(b) if rb else None)
            ctx.in_meta = ((da.shape, da.dtype) if ra else None,
                           (db.shape, db.dtype) if rb else None)
            ctx._hooks = None
            if _anomaly.enabled:
                ctx._stack = traceback.format_stack()[:-1]
            if type(out) is tuple or _grad_state.saved_hooks:
                return _outputs(ctx, out, dev, xp, (a, b), (da, db))
            # _outputs and _pack unrolled for this hottest case: 20% of a binary op's time
            if type(out) is not xp.ndarray:
                out = _as_saved_array(ctx, out, xp.asarray(out))
            diff = out.dtype.kind in "fcV"
            res = Tensor._make(out, dev, diff, ctx if diff else None, 0)
            ctx.out_meta = None
            if ctx.saved:
                ctx.saved = tuple([
                    None if s is None else (_IN, a, a._vc, a._vc[0]) if s is da and ta else
                    (_IN, b, b._vc, b._vc[0]) if s is db and tb else
                    (_OUT, (out, 0, dev), res._vc, 0) if s is out else
                    (_IN, Tensor._make(s, dev), _CONST_VC, 0) for s in ctx.saved])
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


def _edge(a: Tensor) -> tuple:
    """The graph edge to a tensor that requires grad: its node, or itself for a leaf."""
    if a._base is not None and a._view_ver != a._vc[0]:
        refresh_view(a)  # a view whose base changed in place
    fn = a._grad_fn
    return (a, 0) if fn is None else (fn, a._output_nr)


def _edges(node, args, needs) -> None:
    edges, meta = [], []
    for a, need in zip(args, needs):
        if need:
            edges.append(_edge(a))
            d = a._data
            meta.append((d.shape, d.dtype))
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
            ctx.saved = tuple([_pack(s, args, arrays, (out,), (res,), dev) for s in ctx.saved])
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


def _sum_to(g, shape):
    from .._ops.reduce import sum_to_size

    return sum_to_size(g, shape)
