"""ctc_loss: the forward-backward (alpha-beta) recursions of torch's CPU kernel, vectorised over the
batch and the extended label sequence (blank, l1, blank, l2, ..., blank), looping over time.
The per-sample loss is one node (CtcLossBackward0) whose gradient is torch's:
exp(lp) - exp(log(sum of alpha*beta over the label's positions) + nll - lp), i.e. the gradient
with respect to logits when log_probs is a log_softmax output. As in torch, differentiating
that gradient raises."""

from __future__ import annotations

import math

import numpy as np

from ..._errors import no_derivative
from ..._backend import to_numpy
from ..._tensor import Tensor
from ...autograd.op import Op

_NEG = -math.inf


def _logsumexp3(xp, a, b, c):
    """log(e^a + e^b + e^c) shifted by the max (0 when all are -inf), as torch's kernel."""
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(m == _NEG, 0, m)
    with np.errstate(divide="ignore"):
        return xp.log(xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m)) + m


def _shift(xp, a, k):
    """a[..., s - k] (-inf where s < k)."""
    out = xp.full(a.shape, _NEG, a.dtype)
    out[..., k:] = a[..., :-k]
    return out


class CtcLoss(Op):
    """log_probs (T, N, C) -> per-sample negative log likelihood (N,)."""

    __slots__ = ()

    def forward(ctx, lp, labels, in_len, tg_len, zero_infinity):
        xp = ctx.xp
        t_max, n = lp.shape[:2]
        ll = labels.shape[1]
        lpl = xp.take_along_axis(lp, xp.broadcast_to(labels[None], (t_max, n, ll)), axis=2)
        skip = xp.zeros((n, ll), bool)  # s may come from s - 2: a label unlike the one before
        skip[:, 2:] = labels[:, 2:] != labels[:, :-2]
        alpha = xp.full((t_max, n, ll), _NEG, lp.dtype)
        if t_max:
            alpha[0, :, 0] = lpl[0, :, 0]
            if ll > 1:
                alpha[0, :, 1] = xp.where(tg_len > 0, lpl[0, :, 1], _NEG)
        for t in range(1, t_max):
            a = alpha[t - 1]
            a3 = xp.where(skip, _shift(xp, a, 2), _NEG)
            alpha[t] = _logsumexp3(xp, a, _shift(xp, a, 1), a3) + lpl[t]
        rows = xp.arange(n)
        last = alpha[xp.maximum(in_len - 1, 0), rows]  # (N, L)
        l1 = last[rows, 2 * tg_len]
        l2 = xp.where(tg_len > 0, last[rows, xp.maximum(2 * tg_len - 1, 0)], _NEG)
        m = xp.maximum(l1, l2)
        m = xp.where(m == _NEG, 0, m)
        with np.errstate(divide="ignore"):
            nll = -(xp.log(xp.exp(l1 - m) + xp.exp(l2 - m)) + m)
        ctx.args = (lp, labels, lpl, skip, alpha, in_len, tg_len, nll, zero_infinity)
        ctx.save(lp, nll)  # lp: an edge of the gradient's node, as torch's; nll is read there
        return nll

    def backward(ctx, g):
        lp, _ = ctx.saved_tensors
        return CtcLossGrad.apply(g, lp, node=ctx)

    def backward_raw(ctx, g):
        _ = ctx.saved_arrays  # version-checked: _ctc_grad reads its arrays from ctx.args
        return _ctc_grad(ctx, g)


class CtcLossGrad(Op):
    """The gradient as a node of its own, not differentiable (torch's _ctc_loss_backward has no
    derivative: differentiating it raises torch's error)."""

    __slots__ = ()
    _node_name = "NotImplemented"

    def forward(ctx, g, lp, node):
        return _ctc_grad(node, g)

    def backward(ctx, gg):
        raise no_derivative("_ctc_loss_backward")


def _ctc_grad(ctx, g):
    xp = ctx.xp
    lp, labels, lpl, skip, alpha, in_len, tg_len, nll, zero_infinity = ctx.args
    t_max, n, c = lp.shape
    ll = labels.shape[1]
    pos = xp.arange(ll)
    valid = pos[None] <= 2 * tg_len[:, None]
    init = xp.where(valid & (pos[None] >= 2 * tg_len[:, None] - 1) & (pos[None] >= 0), 0.0, _NEG)
    skip_up = xp.zeros((n, ll), bool)  # s may come from s + 2
    skip_up[:, :-2] = skip[:, 2:]
    beta = xp.full((t_max, n, ll), _NEG, lp.dtype)
    nxt = xp.full((n, ll), _NEG, lp.dtype)
    for t in range(t_max - 1, -1, -1):
        b2 = xp.full((n, ll), _NEG, lp.dtype)
        b2[:, :-1] = nxt[:, 1:]
        b3 = xp.full((n, ll), _NEG, lp.dtype)
        b3[:, :-2] = nxt[:, 2:]
        rec = _logsumexp3(xp, nxt, b2, xp.where(skip_up, b3, _NEG)) + lpl[t]
        first = (init + lpl[t]).astype(lp.dtype)
        row = xp.where((t == in_len - 1)[:, None], first, xp.where((t < in_len - 1)[:, None], rec,
                                                                     _NEG))
        beta[t] = nxt = xp.where(valid, row, _NEG)
    ab = alpha + beta  # (T, N, L)
    top = ab.max(axis=2, keepdims=True)
    top = xp.where(top == _NEG, 0, top)
    onehot = (labels[:, :, None] == xp.arange(c)).astype(lp.dtype)  # (N, L, C)
    summed = xp.einsum("tnl,nlc->tnc", xp.exp(ab - top), onehot)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        lcab = xp.log(summed) + top
        grad = (xp.exp(lp) - xp.exp(lcab + nll[None, :, None] - lp)) * g[None, :, None]
    grad = xp.where((xp.arange(t_max)[:, None] < in_len[None])[..., None], grad, 0)
    if zero_infinity:
        grad = xp.where(xp.isinf(nll)[None, :, None], 0, grad)
    return grad.astype(lp.dtype, copy=False)


def _lengths(x, name):
    if isinstance(x, Tensor):
        if x.dtype.name not in ("int64", "int32"):
            raise RuntimeError(f"{name} must be integral")
        return [int(v) for v in to_numpy(x._data).reshape(-1).tolist()]  # on the host, as torch
    return [int(v) for v in x]


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor) or \
            isinstance(input_lengths, int) or isinstance(target_lengths, int):
        raise TypeError("ctc_loss() received an invalid combination of arguments: "
                        "input_lengths and target_lengths must both be tensors or both be "
                        "tuples of ints")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    batched = log_probs.ndim == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    tg = targets if batched else targets.unsqueeze(0)
    il, tl = _lengths(input_lengths, "input_lengths"), _lengths(target_lengths, "target_lengths")
    where = " (while checking arguments for ctc_loss_allocate_outputs)"
    if lp.ndim != 3:  # the unbatched input was unsqueezed: torch counts that
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {lp.ndim}-dimensional tensor "
                           f"for argument #1 'log_probs'{where}")
    t_max, n, c = lp.shape
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    if len(il) != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(tl) != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    xp = lp._device.xp
    t = to_numpy(tg._data).astype(np.int64)
    s_max = max(tl, default=0)
    if t.ndim == 1:  # concatenated targets
        if t.shape[0] != sum(tl):
            raise RuntimeError(f"Expected tensor to have size {sum(tl)} at dimension 0, but got "
                               f"size {t.shape[0]} for argument #2 'targets'{where}")
        offs = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        rows = [t[o:o + k] for o, k in zip(offs, tl)]
    else:
        if t.shape[1] < s_max:
            raise RuntimeError(f"Expected tensor to have size at least {s_max} at dimension 1, "
                               f"but got size {t.shape[1]} for argument #2 'targets'{where}")
        rows = [t[i, :k] for i, k in enumerate(tl)]
    if max(il, default=0) > t_max:
        raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got "
                           f"value {max(il)}{where}")
    labels = np.full((n, 2 * s_max + 1), blank, np.int64)
    for i, r in enumerate(rows):
        labels[i, 1:2 * len(r):2] = r
    res = CtcLoss.apply(lp, labels=xp.asarray(labels), in_len=xp.asarray(il, dtype=np.int64),
                        tg_len=xp.asarray(tl, dtype=np.int64), zero_infinity=zero_infinity)
    if zero_infinity:
        from ... import where as _where

        res = _where(res == math.inf, res.new_zeros(()), res)
    if not batched:
        res = res.squeeze(0)
    if reduction == "mean":
        div = Tensor._make(xp.maximum(xp.asarray(tl, dtype=np.int64), 1), lp._device)
        return (res / (div if batched else div[0])).mean()
    return res.sum() if reduction == "sum" else res


def ctc_loss_aten(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths,
                  blank: int = 0, reduction: int = 0, zero_infinity: bool = False) -> Tensor:
    """Same as torch.ctc_loss (ATen's op): nn.functional.ctc_loss with an integer reduction
    (1 mean, 2 sum, anything else none, as torch's kernel does). The default is no reduction:
    ATen's schema says Mean, but torch 2.13's Python binding of torch.ctc_loss returns the
    per-sample losses when reduction is left out, and that is what this matches."""
    if isinstance(reduction, bool) or not isinstance(reduction, int):
        raise TypeError("ctc_loss() received an invalid combination of arguments: argument "
                        f"'reduction' must be int, not {type(reduction).__name__}")
    return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                    {1: "mean", 2: "sum"}.get(reduction, "none"), zero_infinity)
