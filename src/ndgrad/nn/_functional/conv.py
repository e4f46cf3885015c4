"""Convolutions through im2col + matmul. ``Conv`` is one node (columns, one batched matmul, bias;
first-order backward on raw arrays); ``Unfold``/``Fold`` are im2col/col2im as primitives (each
is the other's gradient), so Conv's tensor backward, conv_transpose and every higher derivative
come from existing rules."""

from __future__ import annotations

import math

from ..._errors import dtype_mismatch, not_implemented
from ..._tensor import Tensor
from ...amp._state import lower as _autocast
from ...amp._state import state as _autocast_state
from ...autograd.op import Op
from ._im2col import col2im, conv_input_grad_rows, im2col
from ._utils import is_half, c_name, named, ntuple, pair


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
    _node_name = "Im2ColBackward0"

    def forward(ctx, x, k, s, pads, d, out=None):
        # out: Fold's gradient takes only the blocks Fold summed (output_padding)
        cols = im2col(ctx.xp, x, k, s, pads, d, out)
        ctx.args = (x.shape[2:], k, s, pads, d, cols.shape[3:])
        n, c, kk, *out = cols.shape  # explicit sizes: -1 is ambiguous for an empty batch
        return cols.reshape(n, c * kk, math.prod(out))

    def backward(ctx, g):
        size, k, s, pads, d, out = ctx.args
        cols = g.reshape((g.shape[0], g.shape[1] // math.prod(k), math.prod(k)) + tuple(out))
        return Fold.apply(cols, size=size, k=k, s=s, pads=pads, d=d)

    def backward_raw(ctx, g):
        size, k, s, pads, d, out = ctx.args
        cols = g.reshape((g.shape[0], g.shape[1] // math.prod(k), math.prod(k)) + tuple(out))
        return col2im(ctx.xp, lambda j: cols[:, :, j], cols.shape[:2], g.dtype, size, k, s, pads,
                      d, out)


class Fold(Op):
    """col2im: (N, C, K, *out) -> (N, C, *size), summing overlaps (one add per kernel offset).
    With ``blocks`` it takes fold's own input, (N, C * K, L) or unbatched (C * K, L)."""

    __slots__ = ()
    _node_name = "Col2ImBackward0"

    def forward(ctx, cols, size, k, s, pads, d, blocks=None):
        shape = cols.shape
        unbatched = blocks is not None and cols.ndim == 2
        if blocks is not None:
            c3 = cols[None] if unbatched else cols
            kk = math.prod(k)
            cols = c3.reshape((c3.shape[0], c3.shape[1] // kk, kk) + tuple(blocks))
        ctx.args = (k, s, pads, d, cols.shape, shape, unbatched)
        out = col2im(ctx.xp, lambda j: cols[:, :, j], cols.shape[:2], cols.dtype, size, k, s,
                     pads, d, cols.shape[3:])
        return out[0] if unbatched else out

    def backward(ctx, g):
        k, s, pads, d, cshape, shape, unbatched = ctx.args
        g = g.unsqueeze(0) if unbatched else g
        return Unfold.apply(g, k=k, s=s, pads=pads, d=d, out=cshape[3:]).reshape(shape)

    def backward_raw(ctx, g):
        k, s, pads, d, cshape, shape, unbatched = ctx.args
        g = g[None] if unbatched else g
        return im2col(ctx.xp, g, k, s, pads, d, cshape[3:]).reshape(shape)


class Conv(Op):
    """N-d convolution as one node: im2col columns (N, G, C/G * K, L) times the weight
    (G, O/G, C/G * K) in one batched matmul, plus bias. Backward: the weight gradient is g times
    the (remade) columns, the input gradient col2im of W^T g."""

    __slots__ = ()

    def forward(ctx, x, w, b=None, *, stride, pads, dilation, groups):
        xp, dt = ctx.xp, x.dtype
        k, o, n = w.shape[2:], w.shape[0], x.shape[0]
        half = is_half(dt)  # computed in float32 and rounded once, as torch does on CPU
        xc, wc = (x.astype(xp.float32), w.astype(xp.float32)) if half else (x, w)
        cols = im2col(xp, xc, k, stride, pads, dilation)
        out = cols.shape[3:]
        ck = w.shape[1] * math.prod(k)  # one group's columns
        res = xp.matmul(wc.reshape(groups, o // groups, ck),
                        cols.reshape(n, groups, ck, math.prod(out)))
        if b is not None:
            res += b.reshape(groups, o // groups, 1)
        need = ctx.needs_input_grad
        ctx.args = (x.shape[2:], k, stride, pads, dilation, groups, w.shape[1])
        # the columns too: the weight gradient reads them, and remaking them cost more than a
        # third of the LeNet step's conv backward (measured)
        keep = need[1] and not half and dt.kind == "f"
        ctx.save(x if need[1] else None, w if need[0] else None, cols if keep else None)
        res = res.reshape((n, o) + out)
        return res.astype(dt) if half else res

    def backward(ctx, g):
        x, w, _ = ctx.saved_tensors
        size, k, s, pads, d, groups, cg = ctx.args
        need = ctx.needs_input_grad
        n, o, out = g.shape[0], g.shape[1], tuple(g.shape[2:])
        kk, ll = math.prod(k), math.prod(out)
        g3 = g.reshape(n, groups, o // groups, ll)
        gx = gw = gb = None
        if need[0]:
            gc = w.reshape(groups, o // groups, cg * kk).mT @ g3
            gx = Fold.apply(gc.reshape((n, groups * cg, kk) + out), size=size, k=k, s=s,
                            pads=pads, d=d)
        if need[1]:
            cols = Unfold.apply(x, k=k, s=s, pads=pads, d=d)
            gw = (g3 @ cols.reshape(n, groups, cg * kk, ll).mT).sum(0)
            gw = gw.reshape((o, cg) + k)
        if need[2]:
            gb = g3.sum((0, 3)).reshape(o)
        return gx, gw, gb

    def backward_raw(ctx, g):
        if g.dtype.kind != "f" or is_half(g.dtype):
            return NotImplemented  # complex (conjugates) and half (float32 GEMMs): on tensors
        x, w, cols = ctx.saved_arrays
        xp, need = ctx.xp, ctx.needs_input_grad
        size, k, s, pads, d, groups, cg = ctx.args
        n, o, out = g.shape[0], g.shape[1], g.shape[2:]
        kk, ll = math.prod(k), math.prod(out)
        g3 = g.reshape(n, groups, o // groups, ll)
        gx = gw = gb = None
        if need[1]:  # first, so the remade columns are freed before col2im's buffers exist
            if cols is None:
                cols = im2col(xp, x, k, s, pads, d)
            cols = cols.reshape(n, groups, cg * kk, ll)
            if cg * kk > o // groups:  # the longer side as BLAS's rows: LeNet's conv2 440 -> 250 us
                gw = xp.matmul(cols, g3.swapaxes(2, 3)).sum(0).swapaxes(1, 2)
            else:
                gw = xp.matmul(g3, cols.swapaxes(2, 3)).sum(0)
            gw = gw.reshape((o, cg) + k)
            cols = None
        if need[0] and len(k) == 2 and s == (1, 1) and k != (1, 1):  # (1x1: one GEMM already)
            gx = conv_input_grad_rows(xp, g, w, size, pads, d, groups)
        elif need[0]:  # the columns W^T g of one kernel offset at a time, into one buffer
            # (K, G, C/G, O/G): each offset's W^T contiguous, as BLAS wants it
            wt = xp.ascontiguousarray(w.reshape(groups, o // groups, cg, kk).transpose(3, 0, 2, 1))
            buf = xp.empty((n, groups, cg, ll), g.dtype)
            bshape = (n, groups * cg) + out

            def block(j):
                return xp.matmul(wt[j], g3, out=buf).reshape(bshape)

            gx = col2im(xp, block, bshape[:2], g.dtype, size, k, s, pads, d, out)
        if need[2]:
            gb = g3.sum((0, 3)).reshape(o)
        return gx, gw, gb


def _sym(p):
    return tuple((pi, pi) for pi in p)


def out_size(size, k, s, p, d):
    return tuple((n + 2 * pi - di * (ki - 1) - 1) // si + 1
                 for n, ki, si, pi, di in zip(size, k, s, p, d))


def _im2col_params(kernel_size, dilation, padding, stride):
    """ATen's im2col/col2im checks: two values each, then their signs, in its order."""
    out = []
    for name, v in (("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding),
                    ("stride", stride)):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
        if len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
        out.append(v)
    k, d, p, s = out
    for vals, ok, what, short in ((k, 1, "kernel size should be greater than zero", "kernel"),
                                  (d, 1, "dilation should be greater than zero", "dilation"),
                                  (p, 0, "padding should be non-negative", "pad"),
                                  (s, 1, "stride should be greater than zero", "stride")):
        if min(vals) < ok:
            raise RuntimeError(f"{what}, but got {short}_height: {vals[0]} {short}_width: "
                               f"{vals[1]}")
    return k, d, p, s


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {input.ndim}D)")
    k, d, p, s = _im2col_params(kernel_size, dilation, padding, stride)
    blocks = out_size(input.shape[-2:], k, s, p, d)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(input.shape[-2:])}, "
                           f"kernel_size={k}, dilation={d}, padding={p}, calculated shape of the "
                           f"array of sliding blocks as {blocks}, but its components must be at "
                           "least one.")
    x = input if input.ndim == 4 else input.unsqueeze(0)  # unbatched (C, H, W)
    out = named(Unfold.apply(x, k=k, s=s, pads=_sym(p), d=d), "Im2ColBackward0")
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    k, d, p, s = _im2col_params(kernel_size, dilation, padding, stride)
    size = pair(output_size)
    ck, ll = input.shape[-2:]
    kk = math.prod(k)
    if ck % kk:
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={ck} and "
                           f"kernel_size={k}")
    blocks = out_size(size, k, s, p, d)
    if math.prod(blocks) != ll:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {math.prod(blocks)}, but got "
                           f"input.size(2)={ll}.")
    return named(Fold.apply(input, size=size, k=k, s=s, pads=_sym(p), d=d, blocks=blocks),
                 "Col2ImBackward0")


# --- convolution ---------------------------------------------------------------------------------
def _conv_checks(name, nd, input, weight, bias, groups, transposed=False):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError("weight should have at least three dimensions")
    if input.dtype is not weight.dtype:
        raise dtype_mismatch(input.dtype, weight.dtype)
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({c_name(input)}) and bias type ({c_name(bias)}) should be "
                           "the same")
    batched = input.ndim == nd + 2
    x = input if batched else input.unsqueeze(0)
    c = x.shape[1]
    if weight.shape[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {list(weight.shape)} instead")
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
    out_c = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_c):
        raise RuntimeError(f"Given {'transposed=1, ' if transposed else ''}weight of size "
                           f"{list(weight.shape)}, expected bias to be 1-dimensional with {out_c} "
                           f"elements, but got bias of size {list(bias.shape)} instead")
    return x, batched


def _kernel_dtype(x, nd, kernel):
    """torch's NotImplementedError for integer inputs its kernel has no code for (after the
    shape checks, as there): the plain kernels refuse bool only, the dilated and transposed ones
    (``kernel``) every integer type but int64."""
    dt = x._data.dtype
    if dt.kind in "biu":
        if kernel is None and dt.kind == "b":
            raise not_implemented(f"slow_conv{max(nd, 2)}d_cpu", x.dtype)
        if kernel is not None and dt.name != "int64":
            raise not_implemented(kernel, x.dtype)


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
        raise RuntimeError(f"Invalid padding string: '{padding}'")  # (nn.Conv*: ValueError)
    return _sym(ntuple(nd)(padding))


def _params(nd, groups, stride, padding, dilation, transposed=False):
    """ATen's checks of a convolution's parameters, in its order: groups, each parameter's
    length (one value or ``nd``), then their signs. (stride, padding, dilation) as tuples of nd;
    a padding string is left as it is."""
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    out = []
    for name, v in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if isinstance(v, str):
            out.append(v)
            continue
        v = tuple(v) if isinstance(v, (tuple, list)) else (v,)
        if len(v) not in (1, nd):
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} "
                               "values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        out.append(v * nd if len(v) == 1 else v)
    s, p, d = out
    if not isinstance(p, str) and any(pi < 0 for pi in p):
        raise RuntimeError("negative padding is not supported")
    if any(si <= 0 for si in s):
        raise RuntimeError("non-positive stride is not supported")
    if any(di <= 0 for di in d):
        full = (1,) * (nd == 1) + d  # torch runs a 1-d convolution as a 2-d one
        got = ", ".join(f"dilation_{n}: {v}" for n, v in zip(
            ("depth", "height", "width")[-len(full):], full)) if transposed else list(full)
        raise RuntimeError(f"dilation should be greater than zero, but got {got}")
    return s, p, d


def _convnd(nd, name, input, weight, bias, stride, padding, dilation, groups):
    if _autocast_state.on:  # torch.autocast: in the region's lower precision
        input, weight, bias = _autocast(input, weight, bias)
    s, padding, d = _params(nd, groups, stride, padding, dilation)
    x, batched = _conv_checks(name, nd, input, weight, bias, groups)
    k = tuple(weight.shape[2:])
    if isinstance(padding, str) and padding == "same" and any(si != 1 for si in s):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    pads = _padding(padding, nd, k, d, name)
    if any(lo != hi for lo, hi in pads):  # torch pads the odd one out explicitly
        from .shape import pad as _pad

        extra = [v for lo, hi in reversed(pads) for v in (0, hi - lo)]
        x = _pad(x, extra)
        pads = tuple((lo, lo) for lo, hi in pads)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    span = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    if any(p < sp for p, sp in zip(padded, span)):
        sz = " x ".join(map(str, padded))
        ks = " x ".join(map(str, span))
        raise RuntimeError(f"Calculated padded input size per channel: ({sz}). Kernel size: "
                           f"({ks}). Kernel size can't be greater than actual input size")
    _kernel_dtype(x, nd, "slow_conv_dilated<>" if any(di != 1 for di in d) else None)
    out = Conv.apply(x, weight, bias, stride=s, pads=pads, dilation=d, groups=groups)
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
    if _autocast_state.on:
        input, weight, bias = _autocast(input, weight, bias)
    s, p, d = _params(nd, groups, stride, padding, dilation, transposed=True)
    x, batched = _conv_checks(name, nd, input, weight, bias, groups, transposed=True)
    k, op = tuple(weight.shape[2:]), ntuple(nd)(output_padding)
    for opi, si, di in zip(op, s, d):
        if opi >= si and opi >= di:
            raise RuntimeError("output padding must be smaller than either stride or dilation, "
                               f"but got output_padding: {opi}, stride: {si}, dilation: {di}")
    n, cin, *sp = x.shape
    size = tuple((i - 1) * si - 2 * pi + di * (ki - 1) + opi + 1
                 for i, si, pi, di, ki, opi in zip(sp, s, p, d, k, op))
    if min(size) < 1:
        lead = (1,) * (nd == 1)  # torch runs conv_transpose1d as a 2-d one
        raise RuntimeError("Given input size per channel: "
                           f"({' x '.join(map(str, lead + tuple(sp)))})"
                           f". Calculated output size per channel: "
                           f"({' x '.join(map(str, lead + size))}). Output size is too small")
    _kernel_dtype(x, nd, f"slow_conv_transpose{max(nd, 2)}d_out_cpu")
    out = ConvTranspose.apply(x, weight, bias, stride=s, pads=_sym(p), dilation=d,
                              groups=groups, size=size)
    out = named(out, "ConvolutionBackward0")
    return out if batched else out.squeeze(0)


class ConvTranspose(Op):
    """The transpose of Conv as one node: columns W^T x (one batched matmul), col2im onto the
    output, plus bias. Backward: the columns of g (im2col) against W and x."""

    __slots__ = ()

    def forward(ctx, x, w, b=None, *, stride, pads, dilation, groups, size):
        xp, dt = ctx.xp, x.dtype
        half = is_half(dt)
        xc, wc = (x.astype(xp.float32), w.astype(xp.float32)) if half else (x, w)
        n, cin, *sp = x.shape
        cout_g, k = w.shape[1], w.shape[2:]
        kk, ll = math.prod(k), math.prod(sp)
        wm = wc.reshape(groups, cin // groups, cout_g * kk).swapaxes(1, 2)
        cols = xp.matmul(wm, xc.reshape(n, groups, cin // groups, ll))
        cols = cols.reshape((n, groups * cout_g, kk) + tuple(sp))
        out = col2im(xp, lambda j: cols[:, :, j], cols.shape[:2], cols.dtype, size, k, stride,
                     pads, dilation, tuple(sp))
        if b is not None:
            out += b.reshape((groups * cout_g,) + (1,) * len(k))
        need = ctx.needs_input_grad
        ctx.args = (k, stride, pads, dilation, groups, tuple(sp))
        ctx.save(x if need[1] else None, w if need[0] else None)
        return out.astype(dt) if half else out

    def backward(ctx, g):
        x, w = ctx.saved_tensors
        k, s, pads, d, groups, sp = ctx.args
        need = ctx.needs_input_grad
        n, cout = g.shape[:2]
        kk, ll = math.prod(k), math.prod(sp)
        gcols = Unfold.apply(g, k=k, s=s, pads=pads, d=d, out=sp).reshape(
            n, groups, cout // groups * kk, ll)
        gx = gw = gb = None
        if need[0]:
            cin = w.shape[0]
            gx = (w.reshape(groups, cin // groups, -1) @ gcols).reshape(x.shape if x is not None
                                                                        else (n, cin) + sp)
        if need[1]:
            xr = x.reshape(n, groups, x.shape[1] // groups, ll)
            gw = (xr @ gcols.mT).sum(0).reshape(w.shape if w is not None else
                                                 (x.shape[1], cout // groups) + k)
        if need[2]:
            gb = g.sum((0,) + tuple(range(2, g.ndim)))
        return gx, gw, gb

    def backward_raw(ctx, g):
        if g.dtype.kind != "f" or is_half(g.dtype):
            return NotImplemented
        x, w = ctx.saved_arrays
        xp, need = ctx.xp, ctx.needs_input_grad
        k, s, pads, d, groups, sp = ctx.args
        n, cout = g.shape[:2]
        kk, ll = math.prod(k), math.prod(sp)
        gcols = im2col(xp, g, k, s, pads, d, sp).reshape(n, groups, cout // groups * kk, ll)
        gx = gw = gb = None
        if need[0]:
            cin = w.shape[0]
            gx = xp.matmul(w.reshape(groups, cin // groups, -1), gcols).reshape((n, cin) + sp)
        if need[1]:
            xr = x.reshape(n, groups, x.shape[1] // groups, ll)
            gw = xp.matmul(xr, gcols.swapaxes(2, 3)).sum(0).reshape(
                (x.shape[1], cout // groups) + k)
        if need[2]:
            gb = g.sum((0,) + tuple(range(2, g.ndim)))
        return gx, gw, gb


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding,
                             output_padding, groups, dilation)
