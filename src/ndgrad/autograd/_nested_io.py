"""Same as torch.autograd.function.NestedIOFunction, kept by torch only for backward
compatibility: a Function whose forward/backward take nested tuples and lists of tensors.

torch 2.13's class no longer runs (calling an instance reaches the removed
``Function._do_forward``; ``.apply`` finds no ``_nested_input``): this port keeps its methods and
so fails the same way, with the same AttributeErrors."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from .function import Function

__all__ = ["NestedIOFunction"]


def _iter(obj, keep):
    """The leaves of nested lists/tuples/dicts that ``keep`` accepts, in order (None skipped)."""
    if keep(obj):
        yield obj
    elif obj is None:
        return
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _iter(o, keep)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _iter(o, keep)
    else:
        raise ValueError("Auto nesting doesn't know how to process an input object of type "
                         f"{_typename(obj)}. Accepted types: Tensors, or lists/tuples of them")


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    mod = type(obj).__module__
    return type(obj).__qualname__ if mod == "builtins" else f"{mod}.{type(obj).__qualname__}"


def _tensors(obj) -> tuple:
    return tuple(_iter(obj, lambda x: isinstance(x, Tensor)))


def _unflatten(flat, proto):
    """``flat`` regrouped as the nested lists/tuples of ``proto``."""

    def helper(flat, proto):
        if not isinstance(proto, (list, tuple)):
            return flat[0], flat[1:]
        res = []
        for e in proto:
            if e is None:
                res.append(e)
            else:
                r, flat = helper(flat, e)
                res.append(r)
        return type(proto)(res), flat

    return helper(flat, proto)[0]


def _data(obj):
    """``obj`` with each tensor replaced by its ``.data``."""
    if isinstance(obj, Tensor):
        return obj.data
    if obj is None:
        return None
    if isinstance(obj, (list, tuple)):
        mapped = (_data(x) for x in obj)
        return type(obj)(*mapped) if hasattr(obj, "_fields") else type(obj)(mapped)
    if isinstance(obj, dict):
        return {k: _data(v) for k, v in obj.items()}
    raise ValueError("Auto nesting doesn't know how to process an input object of type "
                     f"{_typename(obj)}. Accepted types: Tensors, or lists/tuples of them")


class NestedIOFunction(Function):
    """Same as torch.autograd.function.NestedIOFunction (legacy; use Function)."""

    def _do_forward(self, *input):
        self._nested_input = input
        flat_output = super()._do_forward(*_tensors(input))  # type: ignore[misc]
        return _unflatten(flat_output, self._nested_output)

    def _do_backward(self, gradients, retain_variables):
        self.retain_variables = retain_variables
        result = super()._do_backward(gradients, retain_variables)  # type: ignore[misc]
        if not retain_variables:
            del self._nested_output
            del self._to_save_nested
        return result

    def backward(self, *gradients: Any) -> Any:  # type: ignore[override]
        nested_gradients = _unflatten(gradients, self._nested_output)
        result = self.backward_extended(*nested_gradients)
        return tuple(_iter(result, lambda o: o is None or isinstance(o, Tensor)))

    __call__ = _do_forward

    def forward(self, *args: Any) -> Any:  # type: ignore[override]
        nested_tensors = _data(self._nested_input)
        result = self.forward_extended(*nested_tensors)
        del self._nested_input
        self._nested_output = result
        return _tensors(result)

    def save_for_backward(self, *args: Any) -> None:
        self.to_save = _tensors(args)
        self._to_save_nested = args

    @property
    def saved_tensors(self):
        return _unflatten(super().saved_tensors, self._to_save_nested)  # type: ignore[misc]

    def mark_dirty(self, *args: Any, **kwargs: Any) -> None:
        self.dirty_tensors = _tensors((args, kwargs))

    def mark_non_differentiable(self, *args: Any, **kwargs: Any) -> None:
        self.non_differentiable = _tensors((args, kwargs))

    def forward_extended(self, *input: Any) -> None:
        raise NotImplementedError

    def backward_extended(self, *grad_output: Any) -> None:
        raise NotImplementedError
