"""Graph nodes. ``Op``: an internal primitive (forward on arrays, backward on tensors).
``Function``: PyTorch's public contract for user-defined ops, over the same machinery."""

from __future__ import annotations

import weakref

from .._backend import CPU
from .._tensor import Tensor
from .grad_mode import no_grad
from .grad_mode import state as _grad_state

_OUT = object()  # marks a saved value that is one of the node's own outputs

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")


class Node:
    """One recorded call: edges to its inputs' nodes (or leaf tensors) and what backward needs.

    ``next_edges[i]`` is ``(node, output_nr)`` for a non-leaf input, ``(leaf_tensor, 0)`` for a
    leaf that requires grad, and None for an input that needs no gradient."""

    __slots__ = ("next_edges", "saved", "needs_input_grad", "xp", "in_meta", "out_meta", "_name",
                 "_freed", "_hooks", "__weakref__", "__dict__")

    def name(self) -> str:
        return self._name or type(self).__name__ + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        out = []
        for e in self.next_edges:
            if e is None:
                out.append((None, 0))
            elif isinstance(e[0], Tensor):
                out.append((AccumulateGrad(e[0]), 0))
            else:
                out.append(e)
        return tuple(out)

    def register_hook(self, fn):
        raise NotImplementedError("Node.register_hook is not supported; use Tensor.register_hook")

    def _add_tensor_hook(self, nr: int, hook) -> None:
        if self._hooks is None:
            self._hooks = {}
        self._hooks.setdefault(nr, []).append(hook)

    def save(self, *values) -> None:
        """Keep arrays (inputs, outputs or others) for backward."""
        self.saved = values

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(FREED_MSG)
        return tuple(_unpack(self, s) for s in self.saved)

    def _release(self) -> None:
        if self.saved:
            self.saved = None
            self._freed = True

    def _apply_backward(self, grads: list) -> tuple:
        """Run backward for the gradients of the outputs; sum each result to its input's shape."""
        if len(grads) > 1:
            grads = [g if g is not None else _zeros(self, m) for g, m in zip(grads, self.out_meta)]
        res = self.backward(*grads)
        if not isinstance(res, tuple):
            res = (res,)
        out = []
        for g, meta in zip(res, self.in_meta):
            if g is None or meta is None:
                out.append(None)
                continue
            shape, dt = meta
            if g._data.shape != shape:
                g = _sum_to(g, shape)
            if g._data.dtype != dt:
                if g._data.dtype.kind == "c" and dt.kind != "c":
                    g = g.real
                g = g.to(_DTYPE.from_numpy(dt))
            out.append(g)
        return tuple(out)


def _zeros(node, meta):
    shape, dt, dev = meta
    return Tensor._make(dev.xp.zeros(shape, dt), dev)


def _unpack(node, s):
    kind, obj, vc, version = s
    if vc[0] != version:
        t = obj if kind is not _OUT else None
        what = (f"[{t.type()} {list(t.shape)}]" if t is not None else "an output")
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {what}, which is output 0 of {node.name()}, is at version "
            f"{vc[0]}; expected version {version} instead. Hint: the backtrace further above "
            "can help find the operation that failed to compute its gradient.")
    if kind is _OUT:  # rebuild the output tensor without a reference cycle
        arr, nr, dev = obj
        t = Tensor._make(arr, dev, True, node, nr)
        t._vc = vc
        return t
    return obj


def _wrap(out, dev):
    if type(out) is not dev.xp.ndarray:
        out = dev.xp.asarray(out)
    return Tensor._make(out, dev)


class Op(Node):
    """An internal primitive. Subclasses define ``forward(ctx, *arrays, **kw)`` returning an array
    (or a tuple of arrays) and ``backward(ctx, *grads)`` on tensors, returning one gradient per
    positional argument (None where there is none)."""

    __slots__ = ()

    @classmethod
    def apply(cls, *args, **kw):
        dev = None
        record = False
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                if dev is None:
                    dev = a._device
                elif a._device is not dev:
                    _device_mismatch(cls, dev, a._device)
                if a._requires_grad:
                    record = True
                arrays.append(a._data)
            else:
                arrays.append(a)
        if dev is None:
            dev = CPU
        ctx = object.__new__(cls)
        ctx.xp = dev.xp
        ctx.saved = ()
        ctx._name = None
        if not (record and _grad_state.grad_enabled):
            ctx.needs_input_grad = _NO_GRAD
            out = cls.forward(ctx, *arrays, **kw)
            if type(out) is tuple:
                return tuple(_wrap(o, dev) for o in out)
            return _wrap(out, dev)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        out = cls.forward(ctx, *arrays, **kw)
        return _record(ctx, args, arrays, out, dev)


class _NoGrad(tuple):
    """needs_input_grad when nothing is recorded: every index reads False."""

    def __getitem__(self, i):
        return False


_NO_GRAD = _NoGrad()


def _record(ctx, args, arrays, out, dev):
    ctx._freed = False
    ctx._hooks = None
    edges, meta = [], []
    for a, need in zip(args, ctx.needs_input_grad):
        if need:
            edges.append((a._grad_fn, a._output_nr) if a._grad_fn is not None else (a, 0))
            meta.append((a._data.shape, a._data.dtype))
        else:
            edges.append(None)
            meta.append(None)
    ctx.next_edges = tuple(edges)
    ctx.in_meta = tuple(meta)
    multi = type(out) is tuple
    outs = out if multi else (out,)
    xp = dev.xp
    results = []
    for i, o in enumerate(outs):
        if type(o) is not xp.ndarray:
            o = xp.asarray(o)
        diff = o.dtype.kind in "fcV"  # integer outputs (indices) are not differentiable
        results.append(Tensor._make(o, dev, diff, ctx if diff else None, i))
    if multi:
        ctx.out_meta = tuple((r._data.shape, r._data.dtype, dev) for r in results)
    if ctx.saved:
        ctx.saved = tuple(_pack(s, args, arrays, outs, results, dev) for s in ctx.saved)
    return tuple(results) if multi else results[0]


def _pack(s, args, arrays, outs, results, dev):
    for a, arr in zip(args, arrays):
        if s is arr and isinstance(a, Tensor):
            return ("in", a, a._vc, a._vc[0])
    for i, o in enumerate(outs):
        if s is o:
            r = results[i]
            return (_OUT, (r._data, i, dev), r._vc, r._vc[0])
    return ("const", Tensor._make(s, dev), _CONST_VC, 0)


_CONST_VC = [0]


def _device_mismatch(cls, a, b):
    raise RuntimeError("Expected all tensors to be on the same device, but found at least two "
                       f"devices, {a} and {b}! (when checking argument for {cls.__name__.lower()})")


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf, as in torch."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


# --- the public Function --------------------------------------------------------------------------
class FunctionCtx:
    """The ``ctx`` a user-defined Function's forward and backward receive."""

    def save_for_backward(self, *tensors) -> None:
        self.to_save = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors) -> None:
        self.dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class BackwardCFunction(Node):
    """The graph node of a user-defined Function call."""

    def backward(self, *grads):
        ctx = self.ctx
        if not ctx.materialize_grads:
            grads = tuple(None if getattr(g, "_zero_fill", False) else g for g in grads)
        res = self.fn_cls.backward(ctx, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n = len(self.next_edges)
        if len(res) < n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(res)})")
        return tuple(res[:n])

    @property
    def saved_tensors(self):
        return self.ctx.saved_tensors

    def _release(self) -> None:
        if getattr(self.ctx, "to_save", None):
            self.ctx._freed = True


class _SavedTensors:
    """Descriptor giving ctx.saved_tensors with the freed-graph check."""

    def __get__(self, ctx, owner=None):
        if ctx is None:
            return self
        if getattr(ctx, "_freed", False):
            raise RuntimeError(FREED_MSG)
        return tuple(ctx.to_save) if hasattr(ctx, "to_save") else ()


FunctionCtx.saved_tensors = _SavedTensors()


class FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"fn_cls": cls})


class Function(metaclass=FunctionMeta):
    """Same as torch.autograd.Function: define ``forward(ctx, ...)`` and ``backward(ctx, ...)`` as
    staticmethods and call ``.apply(...)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.materialize_grads = True
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        record = _grad_state.grad_enabled and any(ctx.needs_input_grad)
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        if not record:
            return out
        node = object.__new__(cls._backward_cls)
        node.ctx = ctx
        node.saved = None
        node._freed = False
        node._hooks = None
        node._name = cls.__name__ + "Backward"
        node.xp = None
        edges, meta = [], []
        for a, need in zip(args, ctx.needs_input_grad):
            if need:
                edges.append((a._grad_fn, a._output_nr) if a._grad_fn is not None else (a, 0))
                meta.append((a._data.shape, a._data.dtype))
            else:
                edges.append(None)
                meta.append(None)
        node.next_edges, node.in_meta = tuple(edges), tuple(meta)
        non_diff = {id(t) for t in getattr(ctx, "non_differentiable", ())}
        results = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                results.append(o)
                continue
            if any(o is a for a in args):  # returned an input as is: a new tensor object, like torch
                o = Tensor._make(o._data, o._device)
            if id(o) not in non_diff and (o.is_floating_point() or o.is_complex()):
                o._grad_fn, o._output_nr, o._requires_grad = node, i, True
            results.append(o)
        node.out_meta = tuple((r._data.shape, r._data.dtype, r._device) if isinstance(r, Tensor)
                              else ((), None, CPU) for r in results)
        ctx._node = weakref.ref(node)
        return tuple(results) if multi else results[0]


class _Lazy:
    """Late imports that would otherwise be circular (the ops import this module)."""

    def __getattr__(self, name):
        from .. import _dtype

        return getattr(_dtype, name)


_DTYPE = _Lazy()


def _sum_to(g, shape):
    from .._ops.reduce import sum_to_size

    return sum_to_size(g, shape)
