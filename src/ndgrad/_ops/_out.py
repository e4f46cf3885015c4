"""``out=`` for the ops whose result is computed out of place and then written (matmul, cat,
gather...): one decorator, so no function takes ``out`` and leaves it unwritten.

torch's out= variants differ in one thing, the dtype ``out`` may have: most structured kernels
want the result's own dtype ('Expected out tensor to have dtype float, but got double instead'),
some name it their way, a few cast (cat, outer: as the elementwise ops, ``cast=True``)."""

from __future__ import annotations

import functools
import warnings

from .._dtype import meta_name, torch_type_name
from .._errors import cast_error, not_tensor, out_requires_grad
from .._grad_mode import state as _grad_state
from .._tensor import Tensor
from ._inplace import check_partial_overlap

EXACT = "Expected out tensor to have dtype {want}, but got {got} instead"
CAST = "result type {Want} can't be cast to the desired output type {Got}"


def out_arg(name: str | None = None, *, dtype_error: str = EXACT, cast: bool = False,
            error=RuntimeError, overlap: bool = False):
    """Decorate an op that takes ``out=`` but computes a new tensor (or tuple of them): the
    result is written into ``out`` with torch's checks. ``dtype_error`` is torch's message for
    an ``out`` of another dtype ({want}/{got}: C++ names, {Want}/{Got}: torch's, {name}); with
    ``cast`` a dtype the result casts to is fine (``error`` is raised for one it does not).
    ``overlap``: torch refuses an ``out`` that partially overlaps an input (its TensorIterator
    kernels, gather, index_select...; not mm, tril, the norms)."""

    def deco(fn):
        op_name = name or fn.__name__

        @functools.wraps(fn)
        def wrapper(*args, out=None, **kwargs):
            res = fn(*args, **kwargs)
            if out is None:
                return res
            if overlap and isinstance(out, Tensor):  # torch's assert_no_partial_overlap
                check_partial_overlap(out, _tensors(args))
            return write_out(res, out, op_name, dtype_error, cast, error)

        return wrapper

    return deco


def write_out(res, out, name: str, dtype_error: str = EXACT, cast: bool = False,
              error=RuntimeError):
    """``res`` (a tensor or a tuple of them) written into ``out``; returns ``out``."""
    if isinstance(res, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(res):
            raise not_tensor(name, out, "out", None, "tuple of Tensors")
        for r, o in zip(res, out):
            write_out(r, o, name, dtype_error, cast, error)
        return type(res)(*out) if hasattr(res, "_fields") else tuple(out)
    if not isinstance(out, Tensor):
        raise not_tensor(name, out, "out", None)
    _grad_check(res, out, name)  # torch's autograd check comes before the dtype one
    want, got = res.dtype, out.dtype
    if got is not want and (not cast or want._kind > got._kind):
        raise error(dtype_error.format(want=meta_name(want), got=meta_name(got), name=name,
                                       Want=torch_type_name(want), Got=torch_type_name(got)))
    return _out(res, out, name)


def _tensors(args) -> list:
    """The tensors among an op's arguments, and in its sequences of them (cat's)."""
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(t for t in a if isinstance(t, Tensor))
    return out


def _out(res: Tensor, out, name: str = "", operands=()) -> Tensor:
    """Write ``res`` into ``out`` (resized when its shape differs), as torch's out= variants of
    the elementwise ops do: a result of a lower category than ``out`` casts. ``operands``: the
    op's inputs, which may not partially overlap ``out`` (torch's check; ``out`` may be one of
    them exactly)."""
    if out is None:
        return res
    if operands and isinstance(out, Tensor):
        check_partial_overlap(out, operands)
    _grad_check(res, out, name)
    src = res._data
    if src.dtype != out._data.dtype:
        if res.dtype._kind > out.dtype._kind:
            raise cast_error(res.dtype, out.dtype)
        src = src.astype(out._data.dtype)
    if src.shape != out._data.shape:
        if out._data.size:
            warnings.warn(
                "An output with one or more elements was resized since it had shape "
                f"{list(out._data.shape)}, which does not match the required output shape "
                f"{list(src.shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=3)
        out._data = src.copy() if src is res._data else src
    else:
        out._data[...] = src
    out._vc[0] += 1
    return out


def _grad_check(res, out, name: str) -> None:
    if _grad_state.grad_enabled and (res._requires_grad or out._requires_grad):
        raise out_requires_grad(name)
