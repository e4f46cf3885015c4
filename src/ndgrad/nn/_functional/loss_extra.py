"""soft_margin_loss, multilabel_soft_margin_loss, multi_margin_loss, multilabel_margin_loss,
triplet_margin_with_distance_loss and linear_cross_entropy, composed of differentiable ops as
torch's kernels compute them (hinges through relu: no gradient where the margin is exactly met,
as torch's ``z > 0``); the fused losses' final node carries torch's name."""

from __future__ import annotations

import math

from ... import _dtype as D
from ..._errors import dtype_mismatch, no_derivative, out_shape_mismatch
from ..._ops.once import once_differentiable
from ..._tensor import Tensor
from ._utils import legacy_reduction, named, reduce


def _reduced(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return named(reduce(loss, reduction), name)


def _no_target_grad(name: str, target: Tensor, arg: str = "target") -> None:
    from ..._grad_mode import is_grad_enabled

    if target.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{name}' is not differentiable with respect to argument "
                           f"'{arg}'. This input cannot have requires_grad True.")


def _long(target: Tensor) -> None:
    if target.dtype.name != "int64":
        raise dtype_mismatch(D.int64, target.dtype)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        from ... import broadcast_shapes

        shape = broadcast_shapes(input.shape, target.shape)
        if tuple(shape) != tuple(input.shape):
            raise out_shape_mismatch(input.shape, shape)
    _no_target_grad("soft_margin_loss", target)
    loss = ((-input) * target).exp().log1p().to(input.dtype)  # torch: the input's dtype
    return _reduced(loss, reduction, "SoftMarginLossBackward0")


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    from .activation import logsigmoid

    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _plain_reduce(loss, reduction)


def _plain_reduce(loss: Tensor, reduction: str) -> Tensor:
    return loss if reduction == "none" else loss.mean() if reduction == "mean" else loss.sum()


def _margin_rows(input: Tensor, name: str):
    """input as (N, C) rows: a vector (or a scalar) is one sample."""
    if input.ndim > 2 or (input.ndim == 2 and input.shape[1] == 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    return input.reshape(-1, max(input.numel(), 1)) if input.ndim < 2 else input


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    if weight is not None:
        _no_target_grad("multi_margin_loss", weight, "weight")
    return once_differentiable(lambda i: _multi_margin(i, target, p, margin, weight, reduction),
                               (input,), "MultiMarginLossBackward0",
                               lambda: no_derivative("multi_margin_loss_backward"))


def _multi_margin(input, target, p, margin, weight, reduction):
    from ... import where
    from .activation import relu

    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x = _margin_rows(input, "multi_margin_loss")
    n, c = x.shape
    if input.ndim == 2 and (target.ndim != 1 or target.shape[0] != n) or \
            input.ndim < 2 and target.numel() != 1:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to "
                           "the number of input samples (batch size). Expected target size "
                           f"[{n}], but got {list(target.shape)}. Input has shape "
                           f"{list(input.shape)}.")
    _long(target)
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got "
                           f"{list(weight.shape)}")
    t = target.reshape(n, 1)
    tv = t._data
    if tv.size and (tv.min() < 0 or tv.max() >= c):
        raise RuntimeError("target out of range")
    z = relu(margin - x.gather(1, t) + x)
    h = z * z if p == 2 else z
    if weight is not None:
        h = h * weight[t.reshape(n)].unsqueeze(1)
    xp = x._device.xp
    others = Tensor._make(xp.arange(c)[None] != tv, x._device)
    loss = where(others, h, h.new_zeros(())).sum(1) / c
    return _reduced(loss.reshape(target.shape), reduction, "MultiMarginLossBackward0")


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    return once_differentiable(lambda i: _multilabel_margin(i, target, reduction), (input,),
                               "MultilabelMarginLossBackward0",
                               lambda: no_derivative("multilabel_margin_loss_backward"))


def _multilabel_margin(input, target, reduction):
    from .activation import relu

    x = _margin_rows(input, "multilabel_margin_loss")
    n, c = x.shape
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    _long(target)
    xp = x._device.xp
    t = target._data.reshape(n, c)
    if t.size and (t.min() < -1 or t.max() >= c):
        raise RuntimeError("argument #2 'target' is out of range")
    # the targets are the entries before the first -1 (a repeated one counts each time); each
    # (sample, target) row holds relu(1 - x_target + x_k) for every non-target k: rows x C, not
    # samples x C x C
    listed = xp.cumprod(t >= 0, axis=1).astype(bool)
    rows = xp.nonzero(listed)[0]
    tgt = t[listed]
    dev = x._device
    is_target = xp.zeros((n, c), bool)
    is_target[rows, tgt] = True
    others = Tensor._make((~is_target[rows]).astype(x._data.dtype), dev)
    r, j = Tensor._make(rows, dev), Tensor._make(tgt, dev)
    hinge = (relu(1 - x[r, j].unsqueeze(1) + x[r]) * others).sum(1)
    loss = x.new_zeros(n).index_add(0, r, hinge) / c
    return _reduced(loss.reshape(input.shape[:-1]) if input.ndim else loss.reshape(()),
                    reduction, "MultilabelMarginLossBackward0")


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    from ... import clamp_min, minimum, pairwise_distance

    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == p == n:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {p}D, and "
                           f"negative {n}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        dist_neg = minimum(dist_neg, dist(positive, negative))
    loss = clamp_min(margin + dist_pos - dist_neg, 0)
    return _plain_reduce(loss, reduction)


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options=None) -> Tensor:
    """Same as torch.nn.functional.linear_cross_entropy; ``options`` (torch's batch chunking)
    changes nothing here: the logits are computed at once."""
    from .linear import linear
    from .loss import cross_entropy

    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions "
                           f"(in_features), got {input.shape[-1]} and {linear_weight.shape[-1]}, "
                           "respectively")
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, (N, "
                           f"{in_features}), got unbatched input with shape {tuple(input.shape)}")
    logits_shape = (*batches, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = ignore_index if ignore_index is not None else -100
    if out_features:
        rows = math.prod(out_features) * num_classes
        linear_weight = linear_weight.reshape((rows, in_features))
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(rows)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)
