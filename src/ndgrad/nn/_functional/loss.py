"""Loss functions. The ones torch records as one node are primitives here too (mse, smooth_l1,
huber, binary cross entropy with and without logits, nll), with torch's backward kernels and,
when recording, backward nodes whose derivatives are torch's double-backward formulas; the rest
compose as torch's C++ composes them."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..._errors import dtype_mismatch
from ..._backend import CPU, device_of_array
from ..._grad_mode import no_grad
from ..._tensor import Tensor
from ..._trace import array_of, derived
from ...amp._state import fp32 as _fp32
from ...amp._state import state as _autocast_state
from ...autograd.op import Op
from ...autograd.torch_saves import saves
from ...autograd.op import _device_mismatch
from ._utils import (broadcast_pair, is_half, legacy_reduction, scalar_node, torch_name, where)
from ._utils import reduce as _reduce
from ..._ops.binary import xlogy
from .activation import _logsigmoid_f, _sig_np, log_softmax, logsigmoid
from .distance import pairwise_distance
_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _size_warning(input: Tensor, target: Tensor, stacklevel: int = 3) -> None:
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.",
                      stacklevel=stacklevel)


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


# --- elementwise losses of (input, target) as one node ------------------------------------------
def _reduce_array(xp, loss, reduction: str):
    if reduction == "none":
        return loss
    with _quiet():  # the mean of nothing is nan, as in torch
        return loss.mean() if reduction == "mean" else loss.sum()


def _half_op(xp, fn, *arrays):
    """``fn(*arrays)`` computed in float32 for half precision (torch's CPU opmath), rounded once."""
    a = arrays[0]
    if is_half(a.dtype):
        res = fn(*(x if x is None else x.astype(xp.float32) for x in arrays))
        dt = xp.result_type(*(x.dtype for x in arrays if x is not None))  # a float32 target wins
        return tuple(r if r is None else r.astype(dt) for r in res) \
            if type(res) is tuple else res.astype(dt)
    return fn(*arrays)


class _PairLoss(Op):
    """``f(xp, a, b, p)`` elementwise, reduced. Its gradient for input a is torch's backward
    kernel ``Grad.d(xp, a, b, g, norm, p)`` (the target's: a and b swapped), run on arrays in the
    first-order pass and as a ``Grad`` node when recording."""

    __slots__ = ()
    scale = 1  # the kernel's norm: scale / numel for "mean", else scale
    input_dtype = False  # the result in the input's dtype (huber), not the promoted one

    def forward(ctx, a, b, reduction, p):
        ctx.reduction, ctx.p = reduction, p
        ctx.save(a, b)
        f = type(ctx).f
        out = _half_op(ctx.xp, lambda a, b: _reduce_array(ctx.xp, f(ctx.xp, a, b, p), reduction),
                       a, b)
        return out.astype(a.dtype) if type(ctx).input_dtype and out.dtype != a.dtype else out

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        grad, need, kw = type(ctx).Grad, ctx.needs_input_grad, dict(reduction=ctx.reduction,
                                                                      p=ctx.p)
        return (grad.apply(g, a, b, **kw) if need[0] else None,
                grad.apply(g, b, a, **kw) if need[1] else None)

    def backward_raw(ctx, g):
        a, b = ctx.saved_arrays
        grad, need = type(ctx).Grad, ctx.needs_input_grad
        return (grad.kernel(ctx.xp, g, a, b, ctx.reduction, ctx.p) if need[0] else None,
                grad.kernel(ctx.xp, g, b, a, ctx.reduction, ctx.p) if need[1] else None)


class _PairLossGrad(Op):
    """torch's <loss>_backward(grad, self, target) as a node. Linear in grad (for a reduced loss
    its derivative there sums to the 0-d grad's shape); in self ``dd(a, b, g, gg, reduction, p)``
    on tensors, torch's double-backward formula, and the negative of that in target."""

    __slots__ = ()

    @classmethod
    def kernel(cls, xp, g, a, b, reduction, p):
        n = cls.scale / max(a.size, 1) if reduction == "mean" else cls.scale  # (empty: any)
        return _half_op(xp, lambda g, a, b: cls.d(xp, a, b, g, n, p), g, a, b)

    def forward(ctx, g, a, b, reduction, p):
        ctx.reduction, ctx.p = reduction, p
        ctx.save(g, a, b)
        with _quiet():
            return type(ctx).kernel(ctx.xp, g, a, b, reduction, p)

    def backward(ctx, gg):
        g, a, b = ctx.saved_tensors
        cls, need, red = type(ctx), ctx.needs_input_grad, ctx.reduction
        ggo = cls.apply(gg, a, b, reduction=red, p=ctx.p) if need[0] else None
        ga = cls.dd(a, b, g, gg, red, ctx.p) if need[1] or need[2] else None
        if ga is not None and red == "mean":
            ga = ga / a.numel()
        return ggo, ga if need[1] else None, -ga if need[2] else None


def _pair_loss(name, f, d, dd, scale=1, input_dtype=False):
    grad = type(name + "Backward", (_PairLossGrad,), {
        "__slots__": (), "d": staticmethod(d), "dd": staticmethod(dd), "scale": scale,
        "_node_name": name + "BackwardBackward0"})
    return type(name, (_PairLoss,), {"__slots__": (), "f": staticmethod(f), "Grad": grad,
                                     "input_dtype": input_dtype})


def _mask(cond: Tensor, like: Tensor) -> Tensor:
    return cond.to(like.dtype)  # torch's type_as: a product with it turns inf into nan


def _sl1_f(xp, a, b, beta):
    z = xp.abs(a - b)
    return xp.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)


def _sl1_d(xp, a, b, g, norm, beta):
    x = a - b
    return xp.where(x <= -beta, -norm * g, xp.where(x >= beta, norm * g, norm * x * g / beta))


def _huber_f(xp, a, b, delta):
    z = xp.abs(a - b)
    return xp.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))


def _huber_d(xp, a, b, g, norm, delta):
    x = a - b
    return xp.where(x <= -delta, -norm * g * delta,
                    xp.where(x >= delta, norm * g * delta, norm * x * g))


MseLoss = _pair_loss("MseLoss", lambda xp, a, b, p: (a - b) * (a - b),
                     lambda xp, a, b, g, norm, p: (a - b) * norm * g,
                     lambda a, b, g, gg, red, p: 2 * (gg * g), scale=2)
SmoothL1Loss = _pair_loss("SmoothL1Loss", _sl1_f, _sl1_d,
                          lambda a, b, g, gg, red, beta: gg * g * _mask(
                              (a - b).abs() < beta, gg) / beta)
HuberLoss = _pair_loss("HuberLoss", _huber_f, _huber_d,
                       lambda a, b, g, gg, red, delta: gg * g * _mask((a - b).abs() < delta, gg),
                       input_dtype=True)


def _expanded(input: Tensor, target: Tensor):
    _size_warning(input, target, 4)
    return broadcast_pair(input, target)


def _float_target(input: Tensor, target: Tensor) -> Tensor:
    """An integer or bool target in the input's floating dtype, as torch promotes them (NumPy
    would compute float32 - int64 in float64)."""
    if target._data.dtype.kind in "iub" and input._data.dtype.kind in "fV":
        return target.to(input.dtype)
    return target


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, target, weight = _fp32(input, target, weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _expanded(input, _float_target(input, target))
    if weight is not None:
        return _weighted((input - target) ** 2, input, weight, reduction, True)
    _check_reduction(reduction)
    return MseLoss.apply(input, target, reduction=reduction, p=None)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, target, weight = _fp32(input, target, weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    input, target = _expanded(input, target)
    d = (input - target).abs()  # torch composes l1_loss: AbsBackward0 under the reduction
    if weight is not None:
        return _weighted(d, input, weight, reduction, True)
    _check_reduction(reduction)
    return _reduce(d, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, target = _fp32(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input, target = _expanded(input, _float_target(input, target))
    if beta == 0:  # torch falls back to l1_loss
        return _reduce((input - target).abs(), reduction)
    return SmoothL1Loss.apply(input, target, reduction=reduction, p=float(beta))


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, target, weight = _fp32(input, target, weight)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _expanded(input, _float_target(input, target))
    if weight is not None:
        loss = HuberLoss.apply(input, target, reduction="none", p=float(delta))
        return _weighted(loss, input, weight, reduction, False)
    _check_reduction(reduction)
    return HuberLoss.apply(input, target, reduction=reduction, p=float(delta))


# --- negative log likelihood / cross entropy -----------------------------------------------------
class NllLoss(Op):
    """-input[i, target[i]] * weight[target[i]], reduced, for ``x`` with the classes in ``cdim``
    (torch's nll_loss; nll_loss2d for 4-d input). Ignored entries weigh 0."""

    __slots__ = ()

    def forward(ctx, x, t, w, ignore_index, reduction, cdim):
        xp = ctx.xp
        tshape, t = t.shape, t.reshape(-1)
        keep = t != ignore_index
        ctx.dtype, ctx.fast = x.dtype, False
        if xp is np and w is None and x.ndim == 2 and reduction != "none" and len(t) and \
                x.dtype.kind == "f" and x.itemsize >= 4 and _all(keep, None):
            return _nll_rows(ctx, x, t, reduction)
        safe = xp.where(keep, t, 0)
        wt = (w[safe] if w is not None else xp.ones(t.shape, x.dtype)) * keep
        wt = wt.astype(x.dtype)
        # picked along the class dim where it is: no copy of x with the classes moved last
        at = xp.expand_dims(safe.reshape(x.shape[:cdim] + x.shape[cdim + 1:]), cdim)
        picked = -xp.take_along_axis(x, at, axis=cdim).reshape(-1) * wt
        # ignored: 0, even at nan (a 0 of x's dtype: NumPy 1.x cannot promote bfloat16 with int)
        picked = xp.where(keep, picked, x.dtype.type(0)).astype(x.dtype, copy=False)
        ctx.t, ctx.wt, ctx.reduction, ctx.keep = safe, wt, reduction, keep
        ctx.shape, ctx.cdim = x.shape, cdim
        ctx.save(x)  # for the double backward's edge to it, as torch's
        if reduction == "none":  # one loss per target entry, in the target's shape
            return picked.reshape(tshape)
        total = picked.sum(dtype=xp.float32 if x.dtype.kind == "V" else None)
        if reduction == "sum":
            return xp.asarray(total, dtype=x.dtype)
        ctx.denom = wt.sum()
        with _quiet():
            return xp.asarray(total / ctx.denom, dtype=x.dtype)

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return NllLossBackward.apply(g, x, node=ctx)

    def backward_raw(ctx, g):
        return ctx.grad_mask(g)

    def grad_mask(ctx, g):
        """d loss / d x times the incoming gradient ``g`` (0-d, or one per target entry):
        -weight g (over the total weight for "mean") at each kept [i, target[i]], +0 elsewhere,
        in x's layout."""
        xp = ctx.xp
        if ctx.fast:  # (N, C), no weight, none ignored, reduced: -g (/ N) at each [i, t[i]]
            mask = np.zeros(ctx.shape, ctx.dtype)
            one = ctx.dtype.type(-1)
            mask[np.arange(len(ctx.t)), ctx.t] = (one / ctx.denom if ctx.reduction == "mean"
                                                  else one) * g
            return mask
        scale = -ctx.wt
        if ctx.reduction == "mean":  # ignored entries stay 0 even when every one is ignored
            with _quiet():
                scale = xp.where(ctx.keep, scale / ctx.denom, 0).astype(scale.dtype)
        n, c, cdim = len(ctx.t), ctx.shape[ctx.cdim], ctx.cdim
        vals = scale * (g.reshape(-1) if ctx.reduction == "none" else g)
        keep = ctx.keep  # ignored entries are not written: +0 there whatever g is
        if xp is np:  # written in x's layout (a moved (M, C) mask is strided for log_softmax)
            mask = np.zeros(ctx.shape, dtype=ctx.wt.dtype)
            rest = ctx.shape[:cdim] + ctx.shape[cdim + 1:]
            vals = np.where(keep, np.broadcast_to(vals, keep.shape), 0).astype(mask.dtype)
            np.put_along_axis(mask, np.expand_dims(ctx.t.reshape(rest), cdim),
                              np.expand_dims(vals.reshape(rest), cdim), axis=cdim)
            return mask
        mask = xp.zeros((n, c), dtype=ctx.wt.dtype)
        mask[xp.arange(n)[keep], ctx.t[keep]] = vals[keep]
        moved = ctx.shape[:ctx.cdim] + ctx.shape[ctx.cdim + 1:] + (c,)
        return xp.moveaxis(mask.reshape(moved), -1, ctx.cdim)


def _nll_rows(ctx, x, t, reduction):
    """NllLoss's forward for (N, C) float input, no weight and no target ignored: the same sums
    (-x[i, t[i]], then over N) without the weights' and the mask's passes."""
    picked = x[np.arange(len(t)), t]
    np.negative(picked, out=picked)
    ctx.t, ctx.reduction, ctx.shape, ctx.cdim, ctx.fast = t, reduction, x.shape, 1, True
    ctx.save(x)  # for the double backward's edge to it, as torch's
    total = _add_reduce(picked, None)  # (picked.sum() without its Python)
    if reduction == "sum":
        return np.asarray(total, dtype=x.dtype)
    ctx.denom = x.dtype.type(len(t))  # the weights' sum: N ones (N > 0)
    return np.asarray(total / ctx.denom, dtype=x.dtype)


_all, _add_reduce = np.logical_and.reduce, np.add.reduce


class NllLossBackward(Op):
    _node_name = "NllLossBackwardBackward0"
    """nll_loss_backward as a node: linear in the incoming gradient; its derivative there is
    nll_loss of the gradient's gradient, in the input it is zero (torch's formulas)."""

    __slots__ = ()

    def forward(ctx, g, x, node):
        if len(node.shape) == 4:
            ctx._name = "NllLoss2DBackwardBackward0"
        ctx.node = node
        return node.grad_mask(g)

    def backward(ctx, gg):
        node, need = ctx.node, ctx.needs_input_grad
        dg = dx = None
        if need[0]:
            m = Tensor._make(node.grad_mask(node.xp.ones((), node.dtype)), gg._device)
            prod = (gg * m).movedim(node.cdim, -1).sum(-1)  # one value per target entry
            dg = prod if node.reduction == "none" else prod.sum()
        if need[1]:  # torch's zeros_like(grad): no graph
            shape, dt = ctx.in_meta[1]
            dx = Tensor._make(gg._device.xp.zeros(shape, dt), gg._device)
        return dg, dx


def _quiet():
    """0/0 is nan on purpose (every target ignored), as in torch: no NumPy warning."""
    return np.errstate(invalid="ignore", divide="ignore")


def _check_target_dtype(target: Tensor) -> None:
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{torch_name(target)}")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, weight = _fp32(input, weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    xs = input._data.shape  # (the arrays' shapes: read once, not through Tensor's properties)
    nd = len(xs)
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    ts = target._data.shape
    if nd != 1 and xs[0] != (ts[0] if ts else 1):
        raise ValueError(f"Expected input batch_size ({xs[0]}) to match target "
                         f"batch_size ({ts[0] if ts else 1}).")
    if target._data.dtype not in _TARGET_DTYPES:
        _check_target_dtype(target)
    c = xs[0] if nd == 1 else xs[1]
    if nd == 1 and len(ts) > 1 or nd == 2 and len(ts) != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if nd > 2:
        want = (xs[0],) + xs[2:]
        if nd == 4 and len(ts) != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {len(ts)}")
        if ts != want:
            raise RuntimeError(f"Expected target size {list(want)}, got {list(ts)}")
    dev = input._device
    if weight is not None:
        if weight.numel() != c:
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or "
                               f"no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        if weight.dtype is not input.dtype:
            raise dtype_mismatch(input.dtype, weight.dtype)
        _no_weight_grad("nll_loss2d_forward" if nd > 2 else "nll_loss_forward", weight=weight)
    for t in (target, weight):
        if t is not None and t._device is not dev:
            _device_mismatch(NllLoss, dev, t._device)
    tarr = derived(_int64, array_of(target))  # (recorded for ndgrad.compile's replays)
    nan = None
    if dev is CPU:
        if tarr.size and (_min(tarr, None) < 0 or _max(tarr, None) >= c):  # (most calls: two
            bad = (tarr != ignore_index) & ((tarr < 0) | (tarr >= c))  # reductions only)
            if bad.any():
                raise IndexError(f"Target {int(tarr[bad.argmax()])} is out of bounds.")
    else:  # no read-back on CUDA (torch asserts there, later): a target out of range gives nan
        tarr, nan = derived(_unchecked_targets, tarr, c, ignore_index, input._data.dtype)
    w = None if weight is None else weight._data.astype(input._data.dtype, copy=False)
    if nd == 3 or nd > 4:  # torch views these as (N, C, 1, -1) for nll_loss2d
        n = xs[0]
        out = _nll(input.reshape(n, c, 1, -1), tarr.reshape(n, 1, -1), w, ignore_index,
                   reduction, (input, target, weight))
        out = out.view(target.shape) if reduction == "none" else out
    else:
        out = _nll(input, tarr, w, ignore_index, reduction, (input, target, weight))
    if nan is not None:
        derived(_add_into, out._data, nan)  # in place: NllLoss keeps no output for backward
    return out


_TARGET_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))
_min, _max = np.minimum.reduce, np.maximum.reduce  # (ndarray.min/max without their Python)


def _int64(a):
    return a.astype("int64")


def _unchecked_targets(tarr, c: int, ignore_index: int, dtype):
    """Targets out of range ignored, and nan to add to the loss if there was one."""
    xp = device_of_array(tarr).xp
    bad = (tarr != ignore_index) & ((tarr < 0) | (tarr >= c))
    return xp.where(bad, ignore_index, tarr), xp.where(bad.any(), xp.nan, 0).astype(dtype)


def _add_into(a, b):
    a += b
    return a


def _nll(input, tarr, w, ignore_index, reduction, saved=()):
    """The loss node; it also saves ``saved`` (the input, target and weight), as torch's."""
    op = _NllLoss2D if input._data.ndim == 4 else NllLoss
    return saves(op.apply_one(input, t=tarr, w=w, ignore_index=ignore_index,
                              reduction=reduction, cdim=0 if input._data.ndim == 1 else 1),
                 *saved)


_NllLoss2D = NllLoss.named("NllLoss2DBackward0")  # torch's node for 4-d input


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, weight = _fp32(input, weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    xs = input._data.shape  # (read once from the array: Tensor.shape makes a Size)
    class_dim = 0 if len(xs) == 1 else 1
    if not xs:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    n = xs[class_dim]
    if target._data.shape == xs:
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing, class_dim, n)
    logp = log_softmax(input, class_dim)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0:
        return nll
    # torch's cross_entropy_loss_label_smoothing, op for op
    ignore = (target == ignore_index)
    if weight is not None:
        wshape = [1] * input.ndim
        wshape[class_dim] = n
        smooth = -(logp * weight.view(wshape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            keep = target._data[~ignore._data].reshape(-1)
            smooth = smooth.sum() / weight.gather(0, Tensor._make(keep, target._device)).sum()
        else:
            smooth = smooth.sum() / (~ignore).sum()
    else:
        smooth = _reduce(smooth, reduction)
    return (scalar_node(nll * (1 - label_smoothing), "MulBackward1") +
            scalar_node(smooth * (label_smoothing / n), "MulBackward1"))


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
        target = scalar_node(scalar_node(target * (1 - eps), "MulBackward1") + eps / n,
                             "AddBackward1")
    prod = logp * target
    if weight is not None:
        wshape = [1] * input.ndim
        wshape[class_dim] = n
        prod = prod * weight.view(wshape)
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    if input.numel() == 0:
        return (-prod.sum()).fill_(math.nan)
    return scalar_node(-prod.sum() / (input.numel() // n), "DivBackward1")


# --- binary cross entropy ------------------------------------------------------------------------
_EPS = 1e-12  # torch's clamp of x (1 - x) in the gradient (for every dtype)


def _no_weight_grad(fn: str, **tensors) -> None:
    from ..._grad_mode import is_grad_enabled

    for name, t in tensors.items():
        if t is not None and t.requires_grad and is_grad_enabled():
            raise RuntimeError(f"The function '{fn}' is not differentiable with respect to "
                               f"argument '{name}'. This input cannot have requires_grad True.")


def _apply_reduction(xp, loss, w, reduction):
    return _reduce_array(xp, loss if w is None else loss * w, reduction)


def _bce_f(xp, x, t):
    with _quiet():  # torch clamps each log at -100 so a saturated input gives a finite loss
        return (t - 1) * xp.maximum(xp.log1p(-x), -100) - t * xp.maximum(xp.log(x), -100)


class BinaryCrossEntropy(Op):
    __slots__ = ()

    def forward(ctx, x, t, w, reduction):
        ctx.w, ctx.reduction = w, reduction
        ctx.save(x, t)
        return _half_op(ctx.xp, lambda x, t, w: _apply_reduction(ctx.xp, _bce_f(ctx.xp, x, t), w,
                                                                 reduction), x, t, w)

    def backward(ctx, g):
        x, t = ctx.saved_tensors
        need, w = ctx.needs_input_grad, ctx.w
        gx = BinaryCrossEntropyBackward.apply(g, x, t, w=w, reduction=ctx.reduction) \
            if need[0] else None
        if not need[1]:
            return gx, None
        # torch's binary_cross_entropy_target_backward: recorded ops
        gt = -x.logit() * g
        if w is not None:
            gt = gt * Tensor._make(w, g._device)
        return gx, gt / t.numel() if ctx.reduction == "mean" else gt

    def backward_raw(ctx, g):
        x, t = ctx.saved_arrays
        need, xp = ctx.needs_input_grad, ctx.xp
        if is_half(x.dtype):
            return NotImplemented
        gx = _bce_grad(xp, g, x, t, ctx.w, ctx.reduction) if need[0] else None
        gt = None
        if need[1]:
            with _quiet():
                gt = -xp.log(x / (1 - x)) * g
            gt = gt if ctx.w is None else gt * ctx.w
            gt = gt / t.size if ctx.reduction == "mean" else gt
        return gx, gt


def _bce_grad(xp, g, x, t, w, reduction):
    """torch's binary_cross_entropy_backward: g (x - t) / max(x (1 - x), eps), weighted."""
    with _quiet():
        res = g * (x - t) / xp.maximum((1 - x) * x, _EPS)
    if w is not None:
        res = res * w
    return res / x.size if reduction == "mean" else res


class BinaryCrossEntropyBackward(Op):
    """binary_cross_entropy_backward as a node, with torch's double-backward formulas (which
    shift by eps where the first derivative clamps)."""

    __slots__ = ()
    _node_name = "BinaryCrossEntropyBackwardBackward0"

    def forward(ctx, g, x, t, w, reduction):
        ctx.w, ctx.reduction = w, reduction
        ctx.save(g, x, t)
        return _half_op(ctx.xp, lambda g, x, t, w: _bce_grad(ctx.xp, g, x, t, w, reduction),
                        g, x, t, w)

    def backward(ctx, gg):
        g, x, t = ctx.saved_tensors
        need, red = ctx.needs_input_grad, ctx.reduction
        w = None if ctx.w is None else Tensor._make(ctx.w, gg._device)
        n = x.numel()
        ggo = gx = gt = None
        if need[0]:
            ggo = (x - t) / ((x + _EPS) * (1 - x + _EPS))
            ggo = ggo * gg if w is None else ggo * w * gg
            ggo = ggo if red == "none" else ggo.sum() / n if red == "mean" else ggo.sum()
        if need[1]:
            gx = (x * x - 2 * x * t + t) / ((x + _EPS) ** 2 * (1 - x + _EPS) ** 2) * (gg * g)
            gx = gx if w is None else gx * w
            gx = gx / n if red == "mean" else gx
        if need[2]:
            gt = -gg * g
            gt = gt if w is None else gt * w
            with no_grad():
                denom = ((1 - x) * x).clamp_min(_EPS)
            gt = gt / denom
            gt = gt / n if red == "mean" else gt
        return ggo, gx, gt


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, target, weight = _fp32(input, target, weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {torch_name(target)} but expected {torch_name(input)}")
    a, t = input._data, target._data
    if ((a < 0) | (a > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if ((t < 0) | (t > 1)).any():
        raise RuntimeError("all elements of target should be between 0 and 1")
    _no_weight_grad("binary_cross_entropy", weight=weight)
    w = None if weight is None else _broadcast_weight(weight, input)
    return BinaryCrossEntropy.apply(input, target, w=w, reduction=reduction)


def _broadcast_weight(weight: Tensor, input: Tensor, pos: bool = False):
    """The weight as an array in the input's dtype and shape (torch expands it to the input,
    with its broadcast errors: pos_weight is the left operand, weight the right one)."""
    if weight.shape != input.shape:
        from ..._errors import infer_size

        pair = (weight.shape, input.shape) if pos else (input.shape, weight.shape)
        if infer_size(*pair) != tuple(input.shape):
            raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the "
                               f"broadcast shape {list(infer_size(*pair))}")
    w = weight._data.astype(input._data.dtype, copy=False)
    return w if w.shape == input._data.shape else input._device.xp.broadcast_to(
        w, input._data.shape)


class BinaryCrossEntropyWithLogits(Op):
    """torch's loss from logits: (1 - t) x - log_weight * logsigmoid(x), weighted and reduced.
    Its backward is torch's composite: recorded ops when recording, one formula either way."""

    __slots__ = ()

    def forward(ctx, x, t, w, pw, reduction):
        ctx.w, ctx.pw, ctx.reduction = w, pw, reduction
        ctx.save(x, t)

        def f(x, t, w, pw):
            xp = ctx.xp
            ls = _logsigmoid_f(xp, x)
            if pw is not None:
                ls = ls * ((pw - 1) * t + 1)
            return _apply_reduction(xp, (1 - t) * x - ls, w, reduction)

        # torch computes into (1 - target) in place: the loss has the target's dtype
        return _half_op(ctx.xp, f, x, t, w, pw).astype(t.dtype, copy=False)

    def backward(ctx, g):
        x, t = ctx.saved_tensors
        dev = g._device
        w, pw = (None if a is None else Tensor._make(a, dev) for a in (ctx.w, ctx.pw))
        return _bcel_grads(ctx.needs_input_grad, g, x, t, w, pw, ctx.reduction,
                           lambda a: a.sigmoid(), logsigmoid, lambda a: a.numel())

    def backward_raw(ctx, g):
        x, t = ctx.saved_arrays
        if is_half(x.dtype):
            return NotImplemented
        xp = ctx.xp
        return _bcel_grads(ctx.needs_input_grad, g, x, t, ctx.w, ctx.pw, ctx.reduction,
                           lambda a: _sig_np(xp, a), lambda a: _logsigmoid_f(xp, a),
                           lambda a: a.size)


def _bcel_grads(need, g, x, t, w, pw, reduction, sigmoid, logsigmoid_, numel):
    """torch's binary_cross_entropy_with_logits_backward and _target_backward, written once for
    tensors and arrays."""
    gx = gt = None
    if need[0]:
        if pw is not None:
            pt = pw * t
            gx = (pt + 1 - t) * sigmoid(x) - pt
        else:
            gx = sigmoid(x) - t
        gx = gx * g
        gx = gx if w is None else gx * w
        gx = gx / numel(x) if reduction == "mean" else gx
    if need[1]:
        if pw is not None:
            gt = (logsigmoid_(-x) - logsigmoid_(x) * pw) * g
        else:
            gt = -x * g
        gt = gt if w is None else gt * w
        gt = gt / numel(t) if reduction == "mean" else gt
    return gx, gt


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, target, weight, pos_weight = _fp32(input, target, weight, pos_weight)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    _no_weight_grad("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)
    w = None if weight is None else _broadcast_weight(weight, input)
    pw = None if pos_weight is None else _broadcast_weight(pos_weight, input, pos=True)
    # the weights are read in backward: saved with their versions (a later write raises)
    return saves(BinaryCrossEntropyWithLogits.apply(input, target, w=w, pw=pw,
                                                    reduction=reduction), weight, pos_weight)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    if _autocast_state.on:  # torch.autocast: losses in float32
        input, target = _fp32(input, target)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:  # 0 log 0 = 0, and the target's gradient there is torch's (nan)
        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        out = loss.sum()
        return out / input.shape[0] if input.ndim else out
    _check_reduction(reduction)
    return _reduce(loss, reduction)


# --- embedding / ranking losses: torch's C++ compositions, op for op ------------------------------
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.ndim != input2.ndim or input1.ndim not in (1, 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    d = input1.ndim - 1
    prod = (input1 * input2).sum(d)
    mag1 = scalar_node((input1 * input1).sum(d) + 1e-12, "AddBackward1")
    mag2 = scalar_node((input2 * input2).sum(d) + 1e-12, "AddBackward1")
    cos = prod / (mag1 * mag2).sqrt()
    zeros = cos.detach().new_zeros(cos.shape)
    pos = 1 - cos
    neg = scalar_node(cos - margin, "SubBackward1").clamp_min(0)
    loss = where(target == 1, pos, zeros) + where(target == -1, neg, zeros)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    # clamp_min, not relu: at the hinge the gradient passes, as in torch
    loss = scalar_node(-target * (input1 - input2) + margin, "AddBackward1").clamp_min(0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    zeros = input.detach().new_zeros(input.shape)
    margin_clamp = (margin - input).clamp_min(0)
    loss = where(target != 1, margin_clamp, zeros) + where(target != -1, input, zeros)
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
    loss = (scalar_node(d_pos + margin, "AddBackward1") - d_neg).clamp_min(0)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * scalar_node(input + eps, "AddBackward1").log()
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):  # masked where target <= 1
            stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
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
    var = var.clone()  # clamped without recording it: the gradient flows as if unclamped
    with no_grad():
        var.clamp_(min=eps)
    loss = (var.log() + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
