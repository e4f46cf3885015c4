"""linear (one fused primitive: the layer every model uses) and bilinear."""

from __future__ import annotations

import math

from ..._tensor import Tensor
from ...autograd.function import Op
from ._utils import c_name, mm, named
from ._utils import torch_name as _tn


def _rows(a):
    """``a`` as a matrix of its last dim (-1 is ambiguous when that dim is 0)."""
    n = a.shape[-1]
    return a.reshape(-1, n) if n else a.reshape(math.prod(a.shape[:-1]), 0)


class Linear(Op):
    """x @ W.T + b as one node: BLAS, no temporaries."""

    __slots__ = ()

    def forward(ctx, x, w, b=None):
        need = ctx.needs_input_grad
        ctx.saved = (x if need[1] else None, w if need[0] else None)
        out = mm(ctx.xp, x, w.T)
        if b is not None:
            out += b
        return out

    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = g @ w if ctx.needs_input_grad[0] else None
        gw = gb = None
        if ctx.needs_input_grad[1]:
            if x.ndim == 1:
                gw = g.unsqueeze(-1) * x
            else:
                gw = _rows(g).mT @ _rows(x)
        if ctx.needs_input_grad[2]:
            gb = g if g.ndim == 1 else _rows(g).sum(0)
        return gx, gw, gb

    def backward_raw(ctx, g):
        x, w = ctx.saved_arrays
        xp, need = ctx.xp, ctx.needs_input_grad
        gx = mm(xp, g, w) if need[0] else None
        g2 = _rows(g)
        gw = gb = None
        if need[1]:
            # 1-D input: an outer product like torch's (a K=1 matmul would turn -0.0 into 0.0)
            gw = g[:, None] * x if x.ndim == 1 else mm(xp, g2.T, _rows(x))
        if need[2]:
            gb = g2.sum(0)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    xs, ws = input._data.shape, weight._data.shape
    if not xs or not ws:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{len(xs)}D and {len(ws)}D")
    if len(ws) != 2:
        return _linear_vector(input, weight, bias)
    if xs[-1] != ws[-1]:
        rows = "x".join(map(str, (math.prod(xs[:-1]), xs[-1]) if len(xs) > 1 else (1,) + xs))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows} and "
                           f"{ws[1]}x{ws[0]})")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{c_name(input)} != {c_name(weight)}")
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_tn(bias)} and "
                           f"{_tn(input)}")
    try:
        out = Linear.apply(input, weight, bias)
    except ValueError:
        _bias_error(input, weight, bias)
        raise
    node = out._grad_fn
    if node is not None:  # torch's node names: addmm/mm for 2-D input, a view otherwise
        if len(xs) == 2:
            node._name = "AddmmBackward0" if bias is not None else "MmBackward0"
        elif bias is None:
            node._name = "SqueezeBackward4" if len(xs) == 1 else "ViewBackward0"
        else:  # torch folds a 1-D bias into addmm for contiguous input, else adds it after
            node._name = "ViewBackward0" if bias._data.ndim == 1 and \
                input._data.flags.c_contiguous else "AddBackward0"
    return out


def _bias_error(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """torch's error for a 1-D bias that does not fit the output: addmm's expand, or add's
    broadcast for a non-contiguous batch."""
    if bias is None or bias.ndim != 1:
        return
    n, b = weight.shape[0], bias.shape[0]
    if input.ndim < 3 or input.is_contiguous():
        rows = math.prod(input.shape[:-1])
        raise RuntimeError(f"The expanded size of the tensor ({n}) must match the existing size "
                           f"({b}) at non-singleton dimension 1.  Target sizes: [{rows}, {n}].  "
                           f"Tensor sizes: [{b}]")
    raise RuntimeError(f"The size of tensor a ({n}) must match the size of tensor b ({b}) at "
                       f"non-singleton dimension {input.ndim - 1}")


def _linear_vector(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """torch's linear for a weight that is not a matrix: matmul(input, weight) (dot, mv), plus
    bias unless torch's fused addmm path takes it and refuses the vector."""
    if weight.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {weight.ndim}D")
    if bias is not None and (input.ndim == 2 or bias.ndim == 1 and input.is_contiguous()):
        raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
    out = input @ weight
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and "
                           f"{input2.ndim}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {i1}")
    if input2.shape[-1] != i2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {i2}")
    lead = tuple(input1.shape[:-1])
    a, c = input1.reshape(-1, i1), input2.reshape(-1, i2)
    # y[m, o] = sum_ij a[m, i] W[o, i, j] c[m, j]: one matmul, then a product-sum over j
    t = (a @ weight.permute(1, 0, 2).reshape(i1, o * i2)).reshape(-1, o, i2)
    y = (t * c.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return named(y.reshape(lead + (o,)), "ViewBackward0")
