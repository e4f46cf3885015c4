"""Loss functions. nll_loss is a primitive (gather forward, masked backward); the rest compose."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..._tensor import Tensor
from ...autograd.function import Op
from ._utils import legacy_reduction, named, torch_name, where
from ._utils import reduce as _reduce
from .activation import _softplus_forward, log_softmax
from .distance import pairwise_distance

_REDUCTIONS = ("none", "mean", "sum")


def _relu(x: Tensor) -> Tensor:
    return x.relu()


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _size_warning(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted(loss: Tensor, input: Tensor, weight, reduction: str, mean_by_weight: bool):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                         "'sum'.")
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    _size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    d = input - target
    if weight is not None:
        return _weighted(d * d, input, weight, reduction, True)
    _check_reduction(reduction)
    return named(_reduce(d * d, reduction), "MseLossBackward0")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    _size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    d = (input - target).abs()
    if weight is not None:
        return _weighted(d, input, weight, reduction, True)
    _check_reduction(reduction)
    return _reduce(d, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    _size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    z = d.abs()
    if beta == 0:  # torch falls back to l1_loss
        return _reduce(z, reduction)
    loss = where(z < beta, 0.5 * d * d / beta, z - 0.5 * beta)
    return named(_reduce(loss, reduction), "SmoothL1LossBackward0")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    _size_warning(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = input - target
    z = d.abs()
    loss = where(z < delta, 0.5 * d * d, delta * (z - 0.5 * delta))
    if weight is not None:
        return _weighted(named(loss, "HuberLossBackward0"), input, weight, reduction, False)
    _check_reduction(reduction)
    return named(_reduce(loss, reduction), "HuberLossBackward0")


# --- negative log likelihood / cross entropy -----------------------------------------------------
class NllLoss(Op):
    """-input[i, target[i]] * weight[target[i]], reduced. ``x`` is (M, C) (class dim last),
    ``t`` (M,); ignored entries weigh 0. Backward: the same mask times the incoming gradient."""

    __slots__ = ()

    def forward(ctx, x, t, w, ignore_index, reduction):
        xp = ctx.xp
        keep = t != ignore_index
        safe = xp.where(keep, t, 0)
        wt = (w[safe] if w is not None else xp.ones(t.shape, x.dtype)) * keep
        wt = wt.astype(x.dtype)
        picked = -xp.take_along_axis(x, safe[:, None], axis=1)[:, 0] * wt
        ctx.t, ctx.wt, ctx.reduction, ctx.nclass = safe, wt, reduction, x.shape[1]
        ctx.keep = keep
        if reduction == "none":
            return picked
        total = picked.sum(dtype=xp.float32 if x.dtype.kind == "V" else None)
        if reduction == "sum":
            return xp.asarray(total, dtype=x.dtype)
        ctx.denom = wt.sum()
        with _quiet():
            return xp.asarray(total / ctx.denom, dtype=x.dtype)

    def backward(ctx, g):
        m = Tensor._make(ctx.grad_mask(), g._device)
        return (g.unsqueeze(1) if ctx.reduction == "none" else g) * m, None

    def backward_raw(ctx, g):
        return (g[:, None] if ctx.reduction == "none" else g) * ctx.grad_mask(), None

    def grad_mask(ctx):
        """d loss / d x for a unit incoming gradient: scale at each kept [i, target[i]]."""
        xp = ctx.xp
        scale = -ctx.wt
        if ctx.reduction == "mean":  # ignored entries stay 0 even when every one is ignored
            with _quiet():
                scale = xp.where(ctx.keep, scale / ctx.denom, 0).astype(scale.dtype)
        mask = xp.zeros((len(ctx.t), ctx.nclass), dtype=ctx.wt.dtype)
        mask[xp.arange(len(ctx.t)), ctx.t] = scale
        return mask


def _quiet():
    """0/0 is nan on purpose (every target ignored), as in torch: no NumPy warning."""
    return np.errstate(invalid="ignore", divide="ignore")


def _check_target_dtype(target: Tensor) -> None:
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{torch_name(target)}")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim != 1 and input.shape[0] != (target.shape[0] if target.ndim else 1):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.ndim else 1}).")
    _check_target_dtype(target)
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if input.ndim == 1 and target.ndim > 1 or input.ndim == 2 and target.ndim != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input.ndim > 2:
        want = (input.shape[0],) + tuple(input.shape[2:])
        if input.ndim == 4 and target.ndim != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {target.ndim}")
        if tuple(target.shape) != want:
            raise RuntimeError(f"Expected target size {list(want)}, got {list(target.shape)}")
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    tarr = target._data.astype("int64").reshape(-1)
    bad = (tarr != ignore_index) & ((tarr < 0) | (tarr >= c))
    if bad.any():
        raise IndexError(f"Target {int(tarr[bad.argmax()])} is out of bounds.")
    # class dim last, everything else flattened: (M, C)
    if input.ndim == 1:
        x = input.reshape(1, c)
    elif input.ndim > 2:
        x = input.permute((0, *range(2, input.ndim), 1)).reshape(-1, c)
    else:
        x = input
    w = None if weight is None else weight._data.astype(input._data.dtype, copy=False)
    out = NllLoss.apply(x, tarr, w, ignore_index, reduction)
    if reduction == "none":
        out = out.reshape(target.shape)
    return named(out, "NllLossBackward0")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    class_dim = 0 if input.ndim == 1 else 1
    if input.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    n = input.shape[class_dim]
    if target.shape == input.shape:
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing, class_dim, n)
    logp = log_softmax(input, class_dim)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0:
        return nll
    ignore = (target == ignore_index)
    wshape = [1] * input.ndim
    wshape[class_dim] = n
    smooth = -(logp * weight.reshape(wshape) if weight is not None else logp).sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            keep = target._data[~ignore._data]
            smooth = smooth.sum() / weight[Tensor._make(keep, target._device)].sum()
        else:
            smooth = smooth.sum() / (~ignore).sum()
    else:
        smooth = _reduce(smooth, reduction)
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n)


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, eps, class_dim, n):
    if not target.is_floating_point():
        raise RuntimeError("Expected floating point type for target with class probabilities, "
                           f"got {torch_name(target)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if weight is not None and (weight.ndim != 1 or weight.numel() != n):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {n} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    logp = log_softmax(input, class_dim)
    if eps > 0:
        target = target * (1 - eps) + eps / n
    prod = logp * target
    if weight is not None:
        wshape = [1] * input.ndim
        wshape[class_dim] = n
        prod = prod * weight.reshape(wshape)
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    if input.numel() == 0:
        return -prod.sum() * float("nan")
    return -prod.sum() / (input.numel() // n)


# --- binary cross entropy ------------------------------------------------------------------------
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    a = input._data
    if ((a < 0) | (a > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    # torch clamps each log at -100 so a saturated input gives a finite loss
    loss = -(target * input.log().clamp_min(-100) +
             (1 - target) * (1 - input).log().clamp_min(-100))
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    # log(sigmoid(x)) = -softplus(-x): stable for large |x|
    log_sig = -_softplus_forward(-input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # xlogy(t, t) - t * input, with 0 log 0 = 0
        loss = target * where(target == 0, 1.0, target).log() - target * input
    if reduction == "batchmean":
        out = loss.sum()
        return out / input.shape[0] if input.ndim else out
    _check_reduction(reduction)
    return _reduce(loss, reduction)


# --- embedding / ranking losses ------------------------------------------------------------------
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.ndim != input2.ndim or input1.ndim not in (1, 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    d = input1.ndim - 1
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    zero = cos * 0
    loss = where(target == 1, 1 - cos, zero) + where(target == -1, _relu(cos - margin), zero)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    return _reduce(_relu(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    zero = input * 0
    loss = where(target != 1, _relu(margin - input), zero) + where(target != -1, input, zero)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce(_relu(margin + d_pos - d_neg), reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        safe = where(target > 1, target, 2.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.new_full(input.shape, float(var))
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.ndim == var.ndim and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass  # heteroscedastic case
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    # torch clamps var without recording it: the gradient flows as if unclamped
    var = var + (var.detach().clamp_min(eps) - var.detach())
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
