"""Same as torch.autograd.function: ``Function``, PyTorch's public contract for user-defined ops,
over the machinery of ``node``; ``once_differentiable``."""

from __future__ import annotations

import functools
import inspect
import sys
import warnings

from .._grad_mode import no_grad
from .._grad_mode import state as _grad_state
from .._ops._inplace import check_leaf, rebase_written
from .._tensor import Tensor
from .node import Node, RetainGrad, _check_grads, _zeros  # noqa: F401  (RetainGrad: for _tensor)
from .op import Op, _edges
from .saved import _IN, _hooked

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class _DelayedError(Op):
    """Identity whose backward raises: what @once_differentiable puts on its outputs."""

    __slots__ = ()
    _node_name = "DelayedError"

    def forward(ctx, a):
        return a

    def backward(ctx, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


# --- the public Function --------------------------------------------------------------------------
class FunctionCtx:
    """The ``ctx`` methods of a user-defined Function (in torch, ctx is the backward node)."""

    __slots__ = ()

    def save_for_backward(self, *tensors) -> None:
        self.to_save = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors) -> None:
        self.dirty_tensors = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class BackwardCFunction(FunctionCtx, Node):
    """The graph node (and ``ctx``) of a user-defined Function call."""

    __slots__ = ()
    fn_cls: type

    @property
    def ctx(self):
        return self

    @property
    def next_functions(self) -> tuple:
        return tuple(f for f, d in zip(Node.next_functions.fget(self), self._in_devices)
                     if d is not None)

    def _apply_backward(self, grads: list) -> tuple:
        meta = self.out_meta
        if self.materialize_grads and meta is not None:
            grads = [g if g is not None or m is None else _zeros(m) for g, m in zip(grads, meta)]
        cls = self.fn_cls
        if cls.backward is not Function.backward and cls.vjp is not Function.vjp:
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is "
                               "not allowed. You should only implement one of them.")
        user_fn = cls.vjp if cls.vjp is not Function.vjp else cls.backward
        res = user_fn(self, *grads)
        if type(res) is not tuple:
            res = (res,)
        n = len(self.next_edges)
        if len(res) < n or any(r is not None for r in res[n:]):
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(res)})")
        devs, moved = self._in_devices, False
        for i, g in enumerate(res[:n]):
            if g is None:
                continue
            if not isinstance(g, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if devs[i] is None:
                raise RuntimeError(f"function {self.name()} returned a gradient different than "
                                   f"None at position {i + 1}, but the corresponding forward "
                                   "input was not a Variable")
            moved = moved or g._device is not devs[i]
        res = _check_grads(self, res[:n])
        if moved:
            res = tuple([g if g is None or g._device is devs[i] else _to_device(self, i, g, devs[i])
                         for i, g in enumerate(res)])
        return res


class FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        node_name = ns.get("_node_name", name + "Backward")  # torch's: the class's, + Backward
        cls._backward_cls = type(node_name.rpartition("::")[2], (BackwardCFunction,),
                                 {"fn_cls": cls, "_node_name": node_name})


class Function(metaclass=FunctionMeta):
    """Same as torch.autograd.Function: define ``forward`` and ``backward`` (or ``vjp``) as
    staticmethods, optionally ``setup_context``, and call ``.apply(...)``."""

    def __init__(self, *args, **kwargs) -> None:
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions "
                      "are all static, so you should invoke them on the class itself. "
                      "Instantiating an autograd function will raise an error in a future version "
                      "of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("You must implement either the backward or vjp method for your "
                                  "custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        setup = cls.setup_context is not Function.setup_context
        if not setup and _in_func_transform(cls):
            raise RuntimeError("In order to use an autograd.Function with functorch transforms "
                               "(vmap, grad, jvp, jacrev, ...), it must override the setup_context "
                               "staticmethod. For more details, please see "
                               "https://pytorch.org/docs/main/notes/extending.func.html")
        if setup and kwargs:  # setup_context sees every argument positionally, as in torch
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, {}
        node = object.__new__(cls._backward_cls)
        node.materialize_grads = True
        node._in_devices = devs = [a._device if isinstance(a, Tensor) else None for a in args]
        node.needs_input_grad = tuple(d is not None and a._requires_grad
                                      for d, a in zip(devs, args))
        with no_grad():
            if setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, out)
            else:
                out = cls.forward(node, *args, **kwargs)
        if not (_grad_state.grad_enabled and any(node.needs_input_grad)):
            return out
        return _record_function(node, cls, args, out)


def _in_func_transform(cls) -> bool:
    """Is a torch.func transform (grad, jacrev, vjp, jvp) running? ndgrad's own Functions stand
    in for torch's built-in ops there, so only user-defined ones count."""
    func = sys.modules.get("ndgrad.func")
    return bool(func is not None and func._levels.depth) and not cls.__module__.startswith(
        "ndgrad.")


def _record_function(node, cls, args, out):
    d = node.__dict__
    dirty = {id(t) for t in d.get("dirty_tensors", ())}
    for a in args:
        if id(a) in dirty:
            if a._requires_grad and a._grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
            if a._base is not None:
                check_leaf(a, True)  # views that may not be rebased, views of leaves
    _edges(node, args, node.needs_input_grad)  # the dirty inputs' history before the write
    for a in args:
        if id(a) in dirty:
            a._vc[0] += 1
    node.saved = ()
    node.xp = None
    non_diff = {id(t) for t in d.get("non_differentiable", ())}
    multi = isinstance(out, tuple)
    results = []
    for i, o in enumerate(out if multi else (out,)):
        if isinstance(o, Tensor):
            if id(o) not in dirty and any(o is a for a in args):  # an input returned as is:
                alias = Tensor._make(o._data, o._device)
                if getattr(cls, "_plain_alias", False):  # (forward_ad's: torch's are view ops)
                    alias._vc = o._vc
                else:  # a view of it, as in torch
                    from .._ops.movement import _as_view  # (movement imports this module)

                    alias = _as_view(alias, o, _same)
                o = alias
            if id(o) not in non_diff and (o.is_floating_point() or o.is_complex()):
                if id(o) in dirty:  # written in place: as any in-place op (a view's base too)
                    rebase_written(o, Tensor._make(o._data, o._device, True, node, i))
                else:
                    o._grad_fn, o._output_nr, o._requires_grad = node, i, True
                    if o._base is not None and o._view_meta != "inference":
                        # an in-place write would bypass the custom backward: torch forbids it
                        o._view_meta = "custom"
            else:
                o._requires_grad = False
        results.append(o)
    node.out_meta = tuple((r._data.shape, r._data.dtype, r._device) if isinstance(r, Tensor)
                          else None for r in results) if multi else None
    to_save = d.pop("to_save", ())
    if to_save:
        hooks = _grad_state.saved_hooks
        node.saved = tuple(None if t is None else _hooked(t) if hooks else
                           (_IN, t, t._vc, t._vc[0]) for t in to_save)
    return tuple(results) if multi else results[0]


def _same(t):
    return t


def _to_device(node, i, g, dev):
    """torch's check of a gradient's device: a 0-d one is moved, any other is an error."""
    if g.ndim:
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - "
                           f"expected device {dev} but got {g.device}")
    return g.to(dev)


def once_differentiable(fn):
    """Same as torch.autograd.function.once_differentiable: backward runs without recording, and
    differentiating its result raises."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not _grad_state.grad_enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        wrapped = tuple(o if not isinstance(o, Tensor) else _delayed(o)
                        for o in ((outputs,) if single else outputs))
        return wrapped[0] if single else wrapped

    return wrapper


def _delayed(o):
    # torch links the error node to a detached copy, so only differentiating through it fails
    out = _DelayedError.apply(o.detach().requires_grad_())
    return out
