"""Ops whose gradient torch computes with a backward kernel that has no derivative of its own
(cdist's _cdist_backward, the margin losses', embedding_bag's, sdpa's fused CPU kernel): the
first derivative is ndgrad's, differentiating it raises torch's error, as there.

``kernel_grads(grads, inputs, errors)`` makes computed gradients the outputs of such a kernel's
node (edges to the kernel's inputs); ``once_differentiable(fn, tensors, name, errors)`` runs a
composite ``fn`` as one node whose backward is such a kernel."""

from __future__ import annotations

from .._grad_mode import enable_grad
from .._grad_mode import state as _grad_state
from .._tensor import Tensor
from ..autograd.op import Op
from ..autograd.saved import _OUT


class KernelGrad(Op):
    """A gradient computed by a backward kernel torch cannot differentiate: an identity on the
    value with edges to the kernel's inputs; reaching it in a backward pass raises."""

    __slots__ = ()
    _node_name = "torch::autograd::NotImplemented"

    def forward(ctx, value, *inputs, error):
        ctx.error = error
        return value

    def backward(ctx, *grads):
        raise ctx.error()


def kernel_grads(grads, inputs, errors) -> tuple:
    """``grads`` (tensors or None) as outputs of non-differentiable kernels: ``inputs`` are the
    kernel's tensors (the cotangent and the op's inputs it reads), one tuple for all the grads or
    a list of one per grad; ``errors``: one exception factory, or a list of one per grad."""
    if not _grad_state.grad_enabled:
        return tuple(grads)
    if isinstance(inputs, tuple):
        inputs = [inputs] * len(grads)
    if callable(errors):
        errors = [errors] * len(grads)
    out = []
    for g, ins, e in zip(grads, inputs, errors):
        live = [t for t in ins if isinstance(t, Tensor) and t._requires_grad]
        out.append(g if g is None or not live else KernelGrad.apply(g._data, *live, error=e))
    return tuple(out)


class _Composite(Op):
    """A composite recorded as one node: its own graph (built on detached copies of the inputs)
    gives the first derivative, which is not differentiable (``kernel_grads``)."""

    __slots__ = ()

    def forward(ctx, *arrays, fn, tensors, errors, reads):
        with enable_grad():
            leaves = [t.detach().requires_grad_(bool(r)) if t.is_floating_point() or t.is_complex()
                      else t.detach() for t, r in zip(tensors, ctx.needs_input_grad)]
            out = fn(*leaves)
        ctx.inner, ctx.errors, ctx.reads = (out, leaves), errors, reads
        # the result is the inner graph's output: if its node saved it (cdist's sqrt), a later
        # write into the result would change the gradient, so it is saved (version-checked)
        node = out._grad_fn
        own = node is not None and node.saved and any(
            s is not None and s[0] is _OUT and s[1][0] is out._data for s in node.saved)
        ctx.save(*arrays, *((out._data,) if own else ()))
        return out._data

    def backward(ctx, g):
        from ..autograd import grad

        out, leaves = ctx.inner
        inputs = ctx.saved_tensors[:len(leaves)]
        want = [i for i, t in enumerate(leaves) if t.requires_grad]
        got = grad(out, [leaves[i] for i in want], g.detach(), retain_graph=True,
                   allow_unused=True, materialize_grads=True)
        grads = [None] * len(leaves)
        for i, gi in zip(want, got):
            grads[i] = gi
        if ctx.reads is None:
            return kernel_grads(grads, (g, *inputs), ctx.errors)
        return kernel_grads(grads, [(g, *(inputs[j] for j in r if j < len(inputs)))
                                    for r in ctx.reads],
                            ctx.errors)


def once_differentiable(fn, tensors, name: str, errors, reads=None) -> Tensor:
    """``fn(*tensors)`` recorded as torch's node ``name``, differentiable once (see above);
    computed plainly where nothing is recorded. ``reads``: per tensor, the indices of the
    tensors its gradient's kernel reads besides the cotangent (None: all)."""
    if not (_grad_state.grad_enabled and any(t._requires_grad for t in tensors)):
        return fn(*tensors)
    return _Composite.named(name).apply(*tensors, fn=fn, tensors=tensors, errors=errors,
                                             reads=reads)
