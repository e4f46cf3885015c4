"""Same as torch.nn.functional (the functions implemented so far)."""

from __future__ import annotations

from .._ops.elementwise import relu as _relu
from .._ops.elementwise import relu_ as _relu_
from .._ops.linalg import _mm
from .._tensor import Tensor
from ..autograd.function import Op


class Linear(Op):
    """x @ W.T + b as one node: the layer every model uses, so one primitive (BLAS, no temporaries)."""

    __slots__ = ()

    def forward(ctx, x, w, b=None):
        ctx.save(x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        out = _mm(ctx.xp, x, w.T)
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
                gw = g.reshape(-1, g.shape[-1]).mT @ x.reshape(-1, x.shape[-1])
        if ctx.needs_input_grad[2]:
            gb = g if g.ndim == 1 else g.reshape(-1, g.shape[-1]).sum(0)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    if input.shape[-1] != weight.shape[-1]:
        rows = "x".join(map(str, (input.reshape(-1, input.shape[-1]).shape if input.ndim != 1
                                  else (1, input.shape[0]))))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows} and "
                           f"{weight.shape[1]}x{weight.shape[0]})")
    if input.dtype is not weight.dtype:
        from .._ops.linalg import _dtype_check

        _dtype_check(input, weight, "mat1", "mat2")
    out = Linear.apply(input, weight, bias) if bias is not None else Linear.apply(input, weight)
    if out._grad_fn is not None:
        if input.ndim == 2:
            out._grad_fn._name = "AddmmBackward0" if bias is not None else "MmBackward0"
        elif input.ndim == 1 and bias is None:
            out._grad_fn._name = "SqueezeBackward4"
        else:
            out._grad_fn._name = "ViewBackward0"
    return out


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _relu_(input) if inplace else _relu(input)
