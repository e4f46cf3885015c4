"""torch's top-level spellings of nn.functional ops, with ATen's signatures (positional
arguments, reductions as the ints 0/1/2, stride [] meaning kernel_size), delegated to
ndgrad.nn.functional; and the few such ops that functional lacks here (channel_shuffle, rms_norm,
feature dropout, norm_except_dim)."""

from __future__ import annotations

import warnings

from ._tensor import Tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "alpha_dropout", "alpha_dropout_",
           "avg_pool1d", "bilinear", "binary_cross_entropy_with_logits", "celu", "celu_",
           "channel_shuffle", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "convolution", "cosine_embedding_loss", "dropout_", "feature_alpha_dropout",
           "feature_alpha_dropout_", "feature_dropout", "feature_dropout_", "group_norm",
           "hardshrink", "hinge_embedding_loss", "instance_norm", "kl_div", "margin_ranking_loss",
           "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d", "norm_except_dim",
           "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu", "rms_norm", "rrelu",
           "rrelu_", "selu", "selu_", "threshold_", "triplet_margin_loss",
           "lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
           "rnn_relu_cell"]

_REDUCTION = {0: "none", 1: "mean", 2: "sum"}


def _F():
    from .nn import functional

    return functional


def _red(reduction) -> str:
    return _REDUCTION[reduction] if isinstance(reduction, int) else reduction


def _stride(stride):
    return None if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride


def _n(v, n: int):
    """An int[n] argument given as one element: aten repeats it."""
    return tuple(v) * n if isinstance(v, (list, tuple)) and len(v) == 1 else v


# --- activations ---------------------------------------------------------------------------------
def celu(input: Tensor, alpha=1.0) -> Tensor:
    """Same as torch.celu."""
    return _F().celu(input, alpha)


def celu_(input: Tensor, alpha=1.0) -> Tensor:
    """Same as torch.celu_."""
    return _F().celu_(input, alpha)


def selu(input: Tensor) -> Tensor:
    """Same as torch.selu."""
    return _F().selu(input)


def selu_(input: Tensor) -> Tensor:
    """Same as torch.selu_."""
    return _F().selu_(input)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Same as torch.prelu."""
    return _F().prelu(input, weight)


def threshold_(input: Tensor, threshold, value) -> Tensor:
    """Same as torch.threshold_."""
    return _F().threshold_(input, threshold, value)


def hardshrink(input: Tensor, lambd=0.5) -> Tensor:
    """Same as torch.hardshrink."""
    return _F().hardshrink(input, lambd)


def rrelu(input: Tensor, lower=1.0 / 8, upper=1.0 / 3, training: bool = False,
          generator=None) -> Tensor:
    """Same as torch.rrelu."""
    return _F().rrelu(input, lower, upper, training)


def rrelu_(input: Tensor, lower=1.0 / 8, upper=1.0 / 3, training: bool = False,
           generator=None) -> Tensor:
    """Same as torch.rrelu_."""
    return _F().rrelu_(input, lower, upper, training)


# --- dropout -------------------------------------------------------------------------------------
def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """Same as torch.dropout_."""
    return _F().dropout(input, p, train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Same as torch.alpha_dropout."""
    return _F().alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """Same as torch.alpha_dropout_."""
    return _F().alpha_dropout(input, p, train, inplace=True)


def _feature(input: Tensor, p: float, train: bool, alpha: bool, inplace: bool) -> Tensor:
    """ATen's _dropout_impl with feature noise: one draw per (sample, channel)."""
    from ._creation import empty

    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not train or input.numel() == 0:
        return input
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1:
        zero = input.new_zeros(())
        return input.mul_(zero) if inplace else input * zero
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    noise = empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
    if not alpha:
        noise.div_(1 - p)
        return input.mul_(noise) if inplace else input * noise
    a = 1.0 / ((1.7580993408473766 ** 2 * p + 1) * (1 - p)) ** 0.5
    b = noise.add(-1).mul_(1.7580993408473766 * a).add_(1.7580993408473766 * a * p)
    noise.mul_(a)
    return input.mul_(noise).add_(b) if inplace else input * noise + b


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Same as torch.feature_dropout: whole channels zeroed."""
    return _feature(input, p, train, False, False)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """Same as torch.feature_dropout_."""
    return _feature(input, p, train, False, True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Same as torch.feature_alpha_dropout."""
    return _feature(input, p, train, True, False)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """Same as torch.feature_alpha_dropout_."""
    return _feature(input, p, train, True, True)


# --- convolution, pooling, shape ---------------------------------------------------------------
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Same as torch.conv_transpose1d."""
    return _F().conv_transpose1d(input, weight, bias, stride, padding, output_padding, groups,
                                 dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Same as torch.conv_transpose2d."""
    return _F().conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                                 dilation)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """Same as torch.conv3d."""
    from .nn._functional import conv3d as c

    return c.conv3d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Same as torch.conv_transpose3d."""
    from .nn._functional import conv3d as c

    return c.conv_transpose3d(input, weight, bias, stride, padding, output_padding, groups,
                              dilation)


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups) -> Tensor:
    """Same as torch.convolution: a 1-, 2- or 3-d convolution, plain or transposed, by weight's
    rank."""
    F = _F()
    n = weight.ndim - 2
    if n not in (1, 2, 3):
        raise RuntimeError("convolution: expected a weight of 3 to 5 dimensions, got "
                           f"{weight.ndim}")
    if input.ndim != weight.ndim:  # no unbatched input here, unlike F.conv*
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional"
                           f" weight {list(weight.shape)}, but got {input.ndim}-dimensional input "
                           f"of size {list(input.shape)} instead")
    if transposed:
        fn = (F.conv_transpose1d, F.conv_transpose2d, conv_transpose3d)[n - 1]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    fn = (F.conv1d, F.conv2d, conv3d)[n - 1]
    return fn(input, weight, bias, stride, padding, dilation, groups)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False) -> Tensor:
    """Same as torch.max_pool1d."""
    return _F().max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False) -> tuple:
    """Same as torch.max_pool1d_with_indices."""
    return _F().max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode,
                           return_indices=True)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False) -> Tensor:
    """Same as torch.max_pool2d."""
    return _F().max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False) -> Tensor:
    """Same as torch.max_pool3d."""
    from .nn._functional.pooling3d import max_pool3d as pool

    kernel_size, stride, padding, dilation = (_n(v, 3) for v in (kernel_size, stride, padding,
                                                                  dilation))
    return pool(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def adaptive_max_pool1d(input, output_size) -> tuple:
    """Same as torch.adaptive_max_pool1d: (values, indices)."""
    from .nn._functional.adaptive_max import adaptive_max_pool1d as pool

    return pool(input, output_size, True)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Same as torch.avg_pool1d."""
    return _F().avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                           count_include_pad)


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Same as torch.adaptive_avg_pool1d."""
    return _F().adaptive_avg_pool1d(input, output_size)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Same as torch.pixel_shuffle."""
    return _F().pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Same as torch.pixel_unshuffle."""
    return _F().pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Same as torch.channel_shuffle: channels regrouped as (groups, C / groups) transposed."""
    if input.ndim < 3:
        raise RuntimeError("channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if groups <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and "
                           f"{groups} groups.")
    from .nn._functional.shape import _linear_map

    global _ChannelShuffle
    if _ChannelShuffle is None:  # one node, as torch's ChannelShuffleBackward0
        _ChannelShuffle = _linear_map("ChannelShuffle")
    rest, k = tuple(input.shape[2:]), c // groups

    def fwd(xp, a):  # (n, groups, k, ...) -> (n, k, groups, ...)
        return xp.ascontiguousarray(a.reshape((n, groups, k) + rest).swapaxes(1, 2)).reshape(
            (n, c) + rest)

    def inv(xp, a):
        return xp.ascontiguousarray(a.reshape((n, k, groups) + rest).swapaxes(1, 2)).reshape(
            (n, c) + rest)

    return _ChannelShuffle.apply(input, fwd=fwd, adj=inv)


_ChannelShuffle = None


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """Same as torch.bilinear."""
    return _F().bilinear(input1, input2, weight, bias)


# --- normalisation -------------------------------------------------------------------------------
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """Same as torch.group_norm."""
    return _F().group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled) -> Tensor:
    """Same as torch.instance_norm: aten's argument order, unlike F.instance_norm's."""
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                              momentum, eps)


def rms_norm(input: Tensor, normalized_shape, weight=None, eps=None) -> Tensor:
    """Same as torch.rms_norm: input / sqrt(mean(input^2 over the last dims) + eps) * weight,
    computed in float32 for half precision; eps defaults to that dtype's machine epsilon."""
    from . import _dtype as D

    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*{', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {list(weight.shape)} and normalized_shape = "
                           f"{list(shape)}")
    x = input.float() if input.dtype in (D.float16, D.bfloat16) else input
    if eps is None:
        eps = float(D.finfo(x._data.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    out = (x * (x * x).mean(dims, keepdim=True).add(eps).rsqrt()).to(input.dtype)
    return out if weight is None else (out * weight).to(input.dtype)  # torch: the input's dtype


def norm_except_dim(v: Tensor, pow=2, dim: int = 0) -> Tensor:
    """Same as torch.norm_except_dim: the norm over all dims but dim, kept as size-1 dims."""
    if dim == -1:
        return v.norm(pow)
    if dim == 0:
        return v.reshape(v.shape[0], -1).norm(pow, 1).view(
            [v.shape[0]] + [1] * (v.ndim - 1))
    if dim == v.ndim - 1:
        return v.reshape(-1, v.shape[-1]).norm(pow, 0).view([1] * (v.ndim - 1) + [v.shape[-1]])
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


# --- losses (reduction as aten's int; as torch's bindings parse it, an omitted one is 0: none) --
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """Same as torch.binary_cross_entropy_with_logits."""
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=_red(reduction),
                                                 pos_weight=pos_weight)


def kl_div(input, target, reduction=0, *, log_target=False) -> Tensor:
    """Same as torch.kl_div (reduction 1 is 'mean', without F.kl_div's warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _F().kl_div(input, target, reduction=_red(reduction), log_target=log_target)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0) -> Tensor:
    """Same as torch.cosine_embedding_loss."""
    return _F().cosine_embedding_loss(input1, input2, target, margin, reduction=_red(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0) -> Tensor:
    """Same as torch.hinge_embedding_loss."""
    return _F().hinge_embedding_loss(input, target, margin, reduction=_red(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0) -> Tensor:
    """Same as torch.margin_ranking_loss."""
    return _F().margin_ranking_loss(input1, input2, target, margin, reduction=_red(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction) -> Tensor:
    """Same as torch.poisson_nll_loss (every argument positional, as aten's)."""
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps,
                                 reduction=_red(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False,
                        reduction=0) -> Tensor:
    """Same as torch.triplet_margin_loss."""
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_red(reduction))


# --- recurrent layers (torch's _VF ops, which nn.LSTM/GRU/RNN call) ------------------------------
from .nn._functional.rnn import (gru, gru_cell, lstm, lstm_cell, rnn_relu,  # noqa: E402
                                 rnn_relu_cell, rnn_tanh, rnn_tanh_cell)
