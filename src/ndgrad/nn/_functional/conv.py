"""Convolutions through im2col + matmul: ``Unfold``/``Fold`` are the only primitives (each is the
other's gradient); conv and conv_transpose are matmuls around them, so every derivative order
comes from existing backward rules."""

from __future__ import annotations

import itertools
import math

from ..._tensor import Tensor
from ...autograd.function import Op
from ._utils import c_name, named, ntuple, pair, torch_name


def windows(xp, x, k, s, pads, d, value=0):
    """Strided view (N, C, *out, *k) of every window; only the padding copies the input."""
    if any(lo or hi for lo, hi in pads):
        x = xp.pad(x, [(0, 0), (0, 0), *pads], constant_values=value)
    nd = len(k)
    span = tuple((ki - 1) * di + 1 for ki, di in zip(k, d))
    v = xp.lib.stride_tricks.sliding_window_view(x, span, axis=tuple(range(2, 2 + nd)))
    return v[(slice(None), slice(None)) + tuple(slice(None, None, si) for si in s) +
             tuple(slice(None, None, di) for di in d)]


class Unfold(Op):
    """im2col: (N, C, *spatial) -> (N, C * prod(k), L), columns in torch's order."""

    __slots__ = ()

    def forward(ctx, x, k, s, pads, d, out=None):
        v = windows(ctx.xp, x, k, s, pads, d)
        nd = len(k)
        if out is not None:  # Fold's gradient: only the blocks Fold summed (output_padding)
            v = v[(slice(None), slice(None)) + tuple(slice(0, m) for m in out)]
        out = v.shape[2:2 + nd]
        ctx.args = (x.shape[2:], k, s, pads, d, out)
        perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
        return v.transpose(perm).reshape(x.shape[0], x.shape[1] * math.prod(k), math.prod(out))

    def backward(ctx, g):
        size, k, s, pads, d, out = ctx.args
        cols = g.reshape((g.shape[0], -1, math.prod(k)) + tuple(out))
        return Fold.apply(cols, size, k, s, pads, d)


class Fold(Op):
    """col2im: (N, C, K, *out) -> (N, C, *size), summing overlaps (one add per kernel offset)."""

    __slots__ = ()

    def forward(ctx, cols, size, k, s, pads, d):
        xp = ctx.xp
        n, c, _, *out = cols.shape
        ctx.args = (k, s, pads, d, cols.shape)
        padded = tuple(sz + lo + hi for sz, (lo, hi) in zip(size, pads))
        res = xp.zeros((n, c) + padded, dtype=cols.dtype)
        for j, offs in enumerate(itertools.product(*(range(ki) for ki in k))):
            sl = tuple(slice(o * di, o * di + si * (m - 1) + 1, si)
                       for o, di, si, m in zip(offs, d, s, out))
            res[(slice(None), slice(None)) + sl] += cols[:, :, j]
        crop = tuple(slice(lo, lo + sz) for sz, (lo, _) in zip(size, pads))
        return res[(slice(None), slice(None)) + crop]

    def backward(ctx, g):
        k, s, pads, d, shape = ctx.args
        return Unfold.apply(g, k, s, pads, d, out=shape[3:]).reshape(shape)


def _sym(p):
    return tuple((pi, pi) for pi in p)


def out_size(size, k, s, p, d):
    return tuple((n + 2 * pi - di * (ki - 1) - 1) // si + 1
                 for n, ki, si, pi, di in zip(size, k, s, p, d))


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    if input.ndim != 4:
        raise NotImplementedError(f"Input Error: Only 4D input Tensors are supported "
                                  f"(got {input.ndim}D)")
    k, d, p, s = pair(kernel_size), pair(dilation), pair(padding), pair(stride)
    return named(Unfold.apply(input, k, s, _sym(p), d), "Im2ColBackward0")


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    size, k, d, p, s = (pair(output_size), pair(kernel_size), pair(dilation), pair(padding),
                        pair(stride))
    batched = input.ndim == 3
    x = input if batched else input.unsqueeze(0)
    kk = math.prod(k)
    if x.shape[1] % kk:
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={k}")
    blocks = out_size(size, k, s, p, d)
    if math.prod(blocks) != x.shape[2]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {math.prod(blocks)}, but got "
                           f"input.size(2)={x.shape[2]}.")
    cols = x.reshape((x.shape[0], x.shape[1] // kk, kk) + blocks)
    out = named(Fold.apply(cols, size, k, s, _sym(p), d), "Col2ImBackward0")
    return out if batched else out.squeeze(0)


# --- convolution ---------------------------------------------------------------------------------
def _conv_checks(name, nd, input, weight, bias, groups, transposed=False):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError("weight should have at least three dimensions")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"expected scalar type {torch_name(input)} but found "
                           f"{torch_name(weight)}")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({c_name(input)}) and bias type ({c_name(bias)}) should be "
                           "the same")
    batched = input.ndim == nd + 2
    x = input if batched else input.unsqueeze(0)
    c = x.shape[1]
    if transposed:
        if weight.shape[0] != c:
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, "
                               f"expected input{list(x.shape)} to have {weight.shape[0]} "
                               f"channels, but got {c} channels instead")
    else:
        if weight.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                               f"{groups} at dimension 0, but got weight of size "
                               f"[{list(weight.shape)}] instead")
        if weight.shape[1] * groups != c:
            raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                               f"expected input{list(x.shape)} to have {weight.shape[1] * groups}"
                               f" channels, but got {c} channels instead")
    return x, batched


def _padding(padding, nd, k, d, name):
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            pads = []
            for ki, di in zip(k, d):
                total = di * (ki - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"Invalid padding string '{padding}', should be one of "
                         "{'valid', 'same'}")
    return _sym(ntuple(nd)(padding))


def _convnd(nd, name, input, weight, bias, stride, padding, dilation, groups):
    x, batched = _conv_checks(name, nd, input, weight, bias, groups)
    tup = ntuple(nd)
    k, s, d = tuple(weight.shape[2:]), tup(stride), tup(dilation)
    if isinstance(padding, str) and padding == "same" and any(si != 1 for si in s):
        raise ValueError("padding='same' is not supported for strided convolutions")
    pads = _padding(padding, nd, k, d, name)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    span = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    if any(p < sp for p, sp in zip(padded, span)):
        sz = " x ".join(map(str, padded))
        ks = " x ".join(map(str, span))
        raise RuntimeError(f"Calculated padded input size per channel: ({sz}). Kernel size: "
                           f"({ks}). Kernel size can't be greater than actual input size")
    n, o = x.shape[0], weight.shape[0]
    cols = Unfold.apply(x, k, s, pads, d)  # (N, C*K, L)
    out_sp = tuple((p - sp) // si + 1 for p, sp, si in zip(padded, span, s))
    w = weight.reshape(groups, o // groups, -1)
    out = w @ cols.reshape(n, groups, -1, cols.shape[-1])  # (N, G, O/G, L)
    if bias is not None:
        out = out + bias.reshape(groups, o // groups, 1)
    out = out.reshape((n, o) + out_sp)
    out = named(out, "ConvolutionBackward0")
    return out if batched else out.squeeze(0)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(nd, name, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    x, batched = _conv_checks(name, nd, input, weight, bias, groups, transposed=True)
    tup = ntuple(nd)
    k, s, p, op, d = tuple(weight.shape[2:]), tup(stride), tup(padding), tup(output_padding), \
        tup(dilation)
    for opi, si, di in zip(op, s, d):
        if opi >= si and opi >= di:
            raise RuntimeError("output padding must be smaller than either stride or dilation, "
                               f"but got output_padding: {opi}, stride: {si}, dilation: {di}")
    n, cin, *sp = x.shape
    cout_g = weight.shape[1]
    size = tuple((i - 1) * si - 2 * pi + di * (ki - 1) + opi + 1
                 for i, si, pi, di, ki, opi in zip(sp, s, p, d, k, op))
    # the transpose of conv: columns W^T x, then col2im onto the (padded) output
    w = weight.reshape(groups, cin // groups, -1).mT  # (G, Cout/G*K, Cin/G)
    cols = w @ x.reshape(n, groups, cin // groups, -1)  # (N, G, Cout/G*K, L)
    cols = cols.reshape((n, groups * cout_g, math.prod(k)) + tuple(sp))
    out = Fold.apply(cols, size, k, s, tuple((pi, pi) for pi in p), d)
    if bias is not None:
        out = out + bias.reshape((groups * cout_g,) + (1,) * nd)
    out = named(out, "ConvolutionBackward0")
    return out if batched else out.squeeze(0)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)
