"""In-place ops: write a result into a tensor's own buffer, bump its version, rebase its history.

Every in-place op is its out-of-place twin plus this: when grad is recorded, the old value is
snapshotted (so saved tensors stay valid), the graph continues from the new node, and a view's base
gets a node that routes the view's gradient back into it (torch's CopySlices)."""

from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, refresh_view
from ..autograd.node import Op, RetainGrad
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _grad_state

_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                "int64": "Long", "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def torch_type_name(dt: D.dtype) -> str:
    return _TORCH_NAMES[dt.name]


def check_leaf(t: Tensor) -> None:
    """An in-place op on a leaf (or a view of one) that requires grad is an error while recording."""
    if not _grad_state.grad_enabled:
        return
    if t._requires_grad and t._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._base
    if base is not None and base._requires_grad and base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if base is not None and t._view_meta is not None:
        if t._view_meta == "no_grad":
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad mode "
                "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
                "You can clarify your code by moving both the view and the inplace either both "
                "inside the no_grad block (if you don't want the inplace to be tracked) or both "
                "outside (if you want the inplace to be tracked).")
        raise RuntimeError(f"{t._view_meta} is a view and is being modified inplace. This view is "
                           "the output of a function that returns multiple views. Such functions "
                           "do not allow the output views to be modified inplace. You should "
                           "replace the inplace operation by an out-of-place one.")


def write(t: Tensor, value) -> None:
    """Copy ``value`` (a Tensor) into ``t``'s buffer with torch's casting and shape checks."""
    src = value._data
    if src.shape != t._data.shape:
        if len(src.shape) > t._data.ndim or any(
                s not in (1, d) for s, d in zip(src.shape[::-1], t._data.shape[::-1])):
            raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the "
                               f"broadcast shape {list(_broadcast(src.shape, t._data.shape))}")
    if src.dtype != t._data.dtype:
        got, want = D.from_numpy(src.dtype), D.from_numpy(t._data.dtype)
        if got._kind > want._kind and not value._data.ndim == 0:
            raise RuntimeError(f"result type {torch_type_name(got)} can't be cast to the desired "
                               f"output type {torch_type_name(want)}")
    t._data[...] = src
    t._vc[0] += 1


def _broadcast(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def _snapshot(t: Tensor) -> Tensor:
    """The value ``t`` has now, at the same place in the graph, in a buffer of its own."""
    return Tensor._make(t._data.copy(), t._device, t._requires_grad, t._grad_fn, t._output_nr)


class CopySlices(Op):
    """base with a view's region replaced by ``value``; the view is ``view_fn(base)``."""

    def forward(ctx, base, value, view_fn):
        ctx.view_fn = view_fn
        return base  # the buffer was already written through the view

    def backward(ctx, g):
        g_base = g.clone()
        ctx.view_fn(g_base).zero_()  # recorded under create_graph, so double backward sees it
        return g_base, ctx.view_fn(g), None


def inplace(t: Tensor, fn, *args, **kwargs) -> Tensor:
    """Make ``t`` hold ``fn(t, *args, **kwargs)``, recording the graph when needed."""
    recording = _grad_state.grad_enabled and (t._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args) or (
        t._base is not None and t._base._requires_grad))
    if not recording:
        with no_grad():
            new = fn(t, *args, **kwargs)
        write(t, new)
        return t
    check_leaf(t)
    base = t._base
    if base is not None and t._view_ver != t._vc[0]:
        refresh_view(t)
    new = fn(_snapshot(t), *args, **kwargs)
    write(t, new)
    if base is None:
        _rebase(t, new._grad_fn, new._output_nr)
        return t
    value = new if new._data.shape == t._data.shape else new.expand(t.shape)
    # The base's buffer already holds the new values (written through the view); its old place in
    # the graph becomes CopySlices' input edge.
    base_old = Tensor._make(base._data, base._device, base._requires_grad, base._grad_fn,
                            base._output_nr)
    node_out = CopySlices.apply(base_old, value, t._view_fn)
    node_out._grad_fn._name = "torch::autograd::CopySlices"
    base._grad_fn, base._output_nr, base._requires_grad = node_out._grad_fn, 0, True
    view = t._view_fn(base)  # the view's new history hangs off the new base
    view._grad_fn._name = "AsStridedBackward0"
    _rebase(t, view._grad_fn, view._output_nr)
    t._view_ver = t._vc[0]
    return t


def _rebase(t: Tensor, fn, nr: int) -> None:
    """Give ``t`` its new node. As in torch, retain_grad follows the tensor to its new value while
    hooks registered before stay with the old one."""
    old_fn, old_nr = t._grad_fn, t._output_nr
    t._grad_fn, t._output_nr, t._requires_grad = fn, nr, True
    if t._retains_grad and old_fn is not None and old_fn._hooks:
        hooks = old_fn._hooks.get(old_nr, [])
        for h in [h for h in hooks if isinstance(h, RetainGrad)]:
            hooks.remove(h)
            fn._add_hook(nr, h)
