"""torch ops the distributions use that ndgrad's core lacks, composed from its public ops."""

from __future__ import annotations

import math

import numpy as np

import ndgrad
from ndgrad import Tensor
from ndgrad._backend import special as _special
from ndgrad.autograd import Function
from ndgrad.autograd.function import once_differentiable


def mvlgamma(x: Tensor, p: int) -> Tensor:
    """torch.mvlgamma: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if not bool((x > 0.5 * (p - 1)).all()):
        raise RuntimeError("All elements must be greater than (p-1)/2")
    args = ndgrad.arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=x.dtype, device=x.device)
    return (x.unsqueeze(-1) + args).lgamma().sum(-1) + p * (p - 1) * math.log(math.pi) / 4


class _GammaInc(Function):
    """torch.special.gammainc (regularised lower incomplete gamma); like torch, it has no
    derivative in ``a``."""

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        dt = ndgrad.result_type(a, x)
        a_, x_ = (t.detach().cpu().numpy().astype(dt.np) for t in ndgrad.broadcast_tensors(a, x))
        return ndgrad.from_numpy(_special(np, "gammainc")(a_, x_)).to(a.device, dt)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        return None, grad * ((a - 1) * x.log() - x - a.lgamma()).exp()


def gammainc(a: Tensor, x: Tensor) -> Tensor:
    return _GammaInc.apply(a, x)


def cholesky_solve(b: Tensor, l: Tensor) -> Tensor:  # noqa: E741
    """torch.cholesky_solve(b, l): (l l^T)^-1 b. Solved as that product, not by triangular
    solves, so that l's upper triangle gets torch's gradient (its backward treats l as full)."""
    return ndgrad.linalg.solve(l @ l.mT, b)


def cholesky_inverse(l: Tensor) -> Tensor:  # noqa: E741
    """torch.cholesky_inverse(l): (l l^T)^-1, with torch's full-matrix gradient in l."""
    return ndgrad.linalg.inv(l @ l.mT)


def tril_indices(row: int, col: int, offset: int = 0, device=None) -> Tensor:
    return ndgrad.ones(row, col, device=device).tril(offset).nonzero().T
