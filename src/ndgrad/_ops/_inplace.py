"""In-place ops: write a result into a tensor's own buffer, bump its version, rebase its history.

Every in-place op is its out-of-place twin plus this: when grad is recorded, the old value is
snapshotted (so saved tensors stay valid), the graph continues from the new node, and a view's base
gets a node that routes the view's gradient back into it (torch's CopySlices); views made before
pick the new history up lazily (``refresh_view``). torch's checks come in its order: leaves and
views that may not be rebased, writes through overlapping (expanded) memory, then result types
that do not fit. Fills (``inplace_fill``) may write through an expanded tensor; random fills
(``fill_random``) give the old value a zero gradient."""

from __future__ import annotations

import warnings

from .._errors import cast_error, leaf_in_place, out_shape_mismatch
from .. import _dtype as D
from .. import _trace
from .._trace import produced
from .._backend import to_device
from .._tensor import Tensor, _ptr, move_retain_grad, refresh_view, sync_views, view_rebase_error
from ..autograd.op import Op
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _grad_state
from ..autograd.saved import written_output
from ._layout import fills_block

def check_leaf(t: Tensor, requires_grad: bool | None = None) -> None:
    """torch's check before an in-place op that records (``requires_grad``: does anything it
    reads require grad; ``t``'s flag by default). As in torch, a view or tensor counts as a leaf by
    its own node (one not yet regenerated after its base changed is one)."""
    if not _grad_state.grad_enabled or not (t._requires_grad if requires_grad is None
                                            else requires_grad):
        return
    base = t._base
    if base is not None:
        if t._view_meta is not None:
            raise view_rebase_error(t, indirect=False)
        if t._requires_grad and base._grad_fn is None:
            raise leaf_in_place(view=True)
    if t._requires_grad and t._grad_fn is None:
        raise leaf_in_place()


_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")


def _overlaps(a) -> bool:
    """Do two elements of ``a`` share memory (torch's has_internal_overlap: a stride 0)?"""
    return 0 in a.strides and a.size > 1 and any(
        s == 0 and n > 1 for s, n in zip(a.strides, a.shape))


def check_overlap(t: Tensor) -> None:
    """torch refuses to write through a tensor whose elements share memory (an expanded one),
    except in the fills (fill_, zero_, masked_fill_, index_fill_, index_put_)."""
    if _overlaps(t._data):
        raise RuntimeError(_OVERLAP)


_PARTIAL = ("unsupported operation: some elements of the input tensor and the written-to tensor "
            "refer to a single memory location. Please clone() the tensor before performing the "
            "operation.")


def _root(a):
    b = a.base
    return a if b is None else b


def check_partial_overlap(t: Tensor, operands) -> None:
    """torch's assert_no_partial_overlap between the written tensor and each operand: both
    dense (else torch finds it 'too hard' and lets it be), on the same memory, neither the same
    elements in the same order nor apart (``v[1:].add_(v[:-1])``, ``x.t().add_(x)``)."""
    for o in operands:
        if isinstance(o, Tensor) and overlap(t._data, o._data, t._device.xp) == "partial":
            raise RuntimeError(_PARTIAL)


def overlap(a, b, xp) -> str | None:
    """torch's get_overlap_status of two arrays: "full" (the same elements in the same order),
    "partial", or None (apart, empty, or either not dense: torch's 'too hard')."""
    if a is b:
        return "full"
    if _root(b) is not _root(a) or not (a.size and b.size):
        return None
    if a.strides == b.strides and a.shape == b.shape and _ptr(a) == _ptr(b):
        return "full"
    if fills_block(a) and fills_block(b) and xp.may_share_memory(a, b):
        return "partial"
    return None


def warn_expanded_fill(t: Tensor, op: str) -> None:
    """torch's deprecation warning when masked_fill_, index_fill_ or index_put_ (``op``) writes
    through an expanded tensor."""
    if _overlaps(t._data):
        example = "tensor[indices] = tensor" if op == "index_put_" else "tensor[mask] = scalar"
        warnings.warn(f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor "
                      "before performing this operation. This also applies to advanced indexing "
                      f"e.g. {example}", UserWarning, stacklevel=3)


def write(t: Tensor, value) -> None:
    """Copy ``value`` (a Tensor) into ``t``'s buffer with torch's casting and shape checks: the
    result type may not be of a higher kind (bool < integer < floating < complex) than ``t``'s."""
    src = value._data
    if src.shape != t._data.shape:
        if len(src.shape) > t._data.ndim or any(
                s not in (1, d) for s, d in zip(src.shape[::-1], t._data.shape[::-1])):
            raise out_shape_mismatch(t._data.shape, _broadcast(src.shape, t._data.shape))
    if src.dtype != t._data.dtype:
        got, want = D.from_numpy(src.dtype), D.from_numpy(t._data.dtype)
        if got._kind > want._kind:
            raise cast_error(got, want)
    dst = writable(t._data)
    if _overlaps(dst):  # an expanded tensor: only what the op wrote, or its aliases undo it
        src = t._device.xp.broadcast_to(src.astype(dst.dtype, copy=False), dst.shape)
        changed = (src != dst) & ~((src != src) & (dst != dst))  # (nan stays nan)
        dst[changed] = src[changed]
    else:
        dst[...] = src
    t._vc[0] += 1
    if _trace.tracer is not None:
        _trace.tracer.write(t, value)


def writable(a):
    """``a``, or a writable alias of it when it is an expanded array (NumPy's broadcast_to is
    read-only; torch writes through such a tensor where no two written elements share memory)."""
    if getattr(a.flags, "writeable", True):
        return a
    a = a.view()
    a.flags.writeable = True
    return a


def _broadcast(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def _snapshot(t: Tensor) -> Tensor:
    """The value ``t`` has now, at the same place in the graph, in a buffer of its own."""
    out = Tensor._make(t._data.copy(), t._device, t._requires_grad, t._grad_fn, t._output_nr)
    if _trace.tracer is not None:
        _trace.tracer.copied(t, out)
    return out


class CopySlices(Op):
    """base with a view's region replaced by ``value``; the view is ``view_fn(base)``."""

    _node_name = "torch::autograd::CopySlices"

    def forward(ctx, base, value, view_fn):
        ctx.view_fn = view_fn
        ctx.strides = _dense_strides(base)
        return base  # the buffer was already written through the view

    def backward(ctx, g):
        # the view replays on g's memory (as_strided reads it), so g and g_base are laid out as
        # the base was (torch's new_empty_strided(base.sizes(), base.strides()))
        if ctx.strides is None:
            g_base = g.clone()
        else:
            if g.stride() != ctx.strides:
                g = g.new_empty_strided(tuple(g.shape), ctx.strides).copy_(g)
            g_base = g.new_empty_strided(tuple(g.shape), ctx.strides).copy_(g)
        # recorded under create_graph, so double backward sees it; not a fill: an expanded
        # view's gradient cannot be written (torch's overlap error, in backward)
        inplace(ctx.view_fn(g_base), _refill, 0, "ZeroBackward0")
        return g_base, ctx.view_fn(g), None


def _dense_strides(a):
    """``a``'s element strides when it fills its memory block (in any order of its dims)."""
    strides = tuple(s // a.itemsize for s in a.strides)
    step = 1
    for s, n in sorted(zip(strides, a.shape)):
        if n > 1:
            if s != step:
                return None
            step *= n
    return strides


class Overwrite(Op):
    """``t``'s new value is ``v`` broadcast to its shape: fill_, zero_ and copy_ under autograd."""

    __slots__ = ()

    def forward(ctx, t, v):
        ctx.shape = t.shape
        return ctx.xp.broadcast_to(ctx.xp.asarray(D.int_fill(v, t.dtype, ctx.xp), dtype=t.dtype),
                                   t.shape)

    def backward(ctx, g):
        return g.new_zeros(ctx.shape) if ctx.needs_input_grad[0] else None, g


def _refill(old: Tensor, value, name: str) -> Tensor:
    """``old`` overwritten by ``value`` (broadcast), a zero gradient to ``old``: fills."""
    return Overwrite.named(name).apply(old, value)


class RandomFill(Op):
    """``old`` replaced by ``sample``, drawn from a distribution whose tensor parameters are
    ``params`` (bernoulli_'s p). As in torch, samples are not reparameterised: the gradient to the
    old value and to the parameters is zero."""

    def forward(ctx, old, sample, *params):
        ctx.shapes = (old.shape, None) + tuple(p.shape for p in params)
        return sample

    def backward(ctx, g):
        return tuple(None if s is None or not need else g.new_zeros(s)
                     for s, need in zip(ctx.shapes, ctx.needs_input_grad))


def fill_random(t: Tensor, draw, name: str, *params: Tensor) -> Tensor:
    """An in-place random fill (normal_, uniform_, ...): ``draw(shape, numpy dtype)`` gives the
    values, ``params`` are the distribution's tensor parameters. Its node, named ``name``
    (NormalBackward0, ...), cuts the gradient (see RandomFill)."""

    def refill(old, *ps):
        dev = old._device
        sample = produced(_sample, draw, tuple(old.shape), old._data.dtype, dev)
        return RandomFill.named(name).apply(old, sample, *ps)

    check_leaf(t, t._requires_grad or any(p._requires_grad for p in params))
    check_overlap(t)  # before drawing, so that the generator's state is left as it was
    return inplace(t, refill, *params)


def _sample(draw, shape, dtype, dev) -> Tensor:
    return Tensor._make(to_device(draw(shape, dtype), dev), dev)


def inplace(t: Tensor, fn, *args, **kwargs) -> Tensor:
    """Make ``t`` hold ``fn(t, *args, **kwargs)``, recording the graph when needed."""
    return _inplace(t, fn, args, kwargs, True)


def inplace_fill(t: Tensor, fn, *args, **kwargs) -> Tensor:
    """``inplace`` for the ops that only write given values (fill_, zero_, masked_fill_,
    index_fill_, index_put_), which torch lets write through an expanded tensor."""
    return _inplace(t, fn, args, kwargs, False)


def _inplace(t: Tensor, fn, args, kwargs, no_overlap: bool) -> Tensor:
    recording = _grad_state.grad_enabled and (t._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args) or any(
        isinstance(a, Tensor) and a._requires_grad for a in kwargs.values()))
    if not recording:
        with no_grad():
            new = _compute(t, t, fn, args, kwargs, no_overlap)
        write(t, new)
        return t
    check_leaf(t, True)
    base = t._base
    if base is not None and t._view_ver != t._vc[0]:
        refresh_view(t)
    old = _snapshot(t) if base is None or not _hooked(t._grad_fn) else _view_snapshot(t)
    new = _compute(t, old, fn, args, kwargs, no_overlap)
    write(t, new)
    rebase_written(t, new)
    written_output(new, t)  # what new's node saved of new is t's value now
    return t


def _hooked(fn) -> bool:
    return fn is not None and bool(fn._hooks) and any(fn._hooks.values())


def _view_snapshot(t: Tensor) -> Tensor:
    """``t``'s value as a new view of its base at the base's place in the graph: torch's
    CopySlices sends the view's gradient straight to the base's, never through the view's old
    node, so hooks registered on the view before the write do not run (used only when that node
    has hooks: otherwise the two graphs give the same gradients)."""
    base = t._base
    if base._grad_fn is not None:  # (a leaf is its own place in the graph)
        base = Tensor._make(base._data, base._device, True, base._grad_fn, base._output_nr)
    return _snapshot(t._view_fn(base))


def rebase_written(t: Tensor, new: Tensor) -> Tensor:
    """``t``'s buffer now holds ``new``'s value: ``t`` takes ``new``'s history (a view: its base
    takes a CopySlices node routing the view's gradient through ``new``'s node)."""
    base = t._base
    if base is None:
        _rebase(t, new._grad_fn, new._output_nr)
        sync_views(t)
        return t
    t._view_ver = t._vc[0]
    if not (new._requires_grad or base._requires_grad):
        return t  # nothing differentiable was written (an integer view)
    value = new if new._data.shape == t._data.shape else new.expand(t.shape)
    # The base's buffer already holds the new values (written through the view); its old place in
    # the graph becomes CopySlices' input edge.
    base_old = Tensor._make(base._data, base._device, base._requires_grad, base._grad_fn,
                            base._output_nr)
    node_out = CopySlices.apply(base_old, value, t._view_fn)
    _rebase(base, node_out._grad_fn, 0)  # (retain_grad on the base follows it)
    view = t._view_fn(base)  # the view's new history hangs off the new base
    view._grad_fn._name = "AsStridedBackward0"
    _rebase(t, view._grad_fn, view._output_nr)
    sync_views(base)
    return t


def _compute(t: Tensor, old: Tensor, fn, args, kwargs, no_overlap: bool) -> Tensor:
    """``fn(old, ...)``, with torch's order of errors: the op's own argument checks, then the
    overlap check, then the dtype ones (cast in ``write``, unsupported dtype from the kernel)."""
    try:
        new = fn(old, *args, **kwargs)
    except NotImplementedError:
        if no_overlap:
            check_overlap(t)
        raise
    if no_overlap:
        check_overlap(t)
        if args or kwargs:
            check_partial_overlap(t, args + tuple(kwargs.values()))
    return new


def _rebase(t: Tensor, fn, nr: int) -> None:
    """Give ``t`` its new node (none: an integer result, which requires no grad). As in torch,
    retain_grad follows the tensor to its new value while hooks registered before stay with the
    old one."""
    old_fn, old_nr = t._grad_fn, t._output_nr
    t._grad_fn, t._output_nr, t._requires_grad = fn, nr, fn is not None
    move_retain_grad(t, old_fn, old_nr)
