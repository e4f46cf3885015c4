"""pad, interpolate (separable weight matrices or nearest indices), pixel_shuffle."""

from __future__ import annotations

import math

from ..._tensor import Tensor
from ...autograd.function import Op
from ._utils import named, scatter_add
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d


class ConstantPad(Op):
    """Pad (or crop, for negative widths) the trailing dims; the gradient is the opposite pad."""

    __slots__ = ()

    def forward(ctx, a, widths, value):
        xp = ctx.xp
        ctx.widths = widths
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in
                     zip(a.shape, widths))
        a = a[crop]
        pos = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        return xp.pad(a, pos, constant_values=value) if any(any(p) for p in pos) else a.copy()

    def backward(ctx, g):
        return ConstantPad.apply(g, tuple((-lo, -hi) for lo, hi in ctx.widths), 0)


def _pad_widths(ndim: int, pad) -> tuple:
    """torch's pad list (last dim first, (left, right) pairs) as numpy widths per dim."""
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return tuple(widths)


def _index_pad(input: Tensor, pad, mode: str) -> Tensor:
    nd = len(pad) // 2
    if input.ndim not in (nd + 1, nd + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    xp = input._device.xp
    out = input
    for i in range(nd):
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        dim = input.ndim - 1 - i
        n = input.shape[dim]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{dim} of input {list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        pos = xp.arange(-lo, n + hi)
        if mode == "reflect":
            pos = xp.abs(pos)
            pos = xp.where(pos >= n, 2 * (n - 1) - pos, pos)
        elif mode == "replicate":
            pos = xp.clip(pos, 0, n - 1)
        else:
            pos = pos % n
        out = out[(slice(None),) * dim + (Tensor._make(pos, input._device),)]
    names = {"reflect": "ReflectionPad", "replicate": "ReplicationPad"}
    return named(out, f"{names[mode]}{nd}DBackward0") if mode in names else out


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    if mode == "constant":
        out = ConstantPad.apply(input, _pad_widths(input.ndim, pad), 0 if value is None else value)
        return named(out, "ConstantPadNdBackward0")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    return _index_pad(input, pad, mode)


# --- interpolation -------------------------------------------------------------------------------
def _scale(n_in, n_out, align_corners, scale, ft):
    if align_corners:
        return ft((n_in - 1) / (n_out - 1)) if n_out > 1 else ft(0)
    return ft(1.0 / scale) if scale is not None and scale > 0 else ft(n_in) / ft(n_out)


def _nearest_index(xp, n_in, n_out, scale, exact):
    """Source index per output position, computed in float32 like torch's kernels."""
    ft = xp.float32
    s = _scale(n_in, n_out, False, scale, ft)
    dst = xp.arange(n_out, dtype=ft)
    if exact:
        src = xp.floor((dst + ft(0.5)) * s)
    elif n_out == n_in:
        return xp.arange(n_out)
    elif n_out == 2 * n_in:
        return xp.arange(n_out) >> 1
    else:
        src = xp.floor(dst * s)
    return xp.minimum(src.astype(xp.int64), n_in - 1)


def _cubic(x, a=-0.75):
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return near, far


def _interp_matrix(xp, n_in, n_out, align_corners, scale, cubic, ft):
    """(n_out, n_in) weights of linear or bicubic (A=-0.75) interpolation, as torch's kernels."""
    m = xp.zeros((n_out, n_in), dtype=ft)
    rows = xp.arange(n_out)
    if n_in == n_out:
        m[rows, rows] = 1
        return m
    s = _scale(n_in, n_out, align_corners, scale, ft)
    dst = xp.arange(n_out, dtype=ft)
    src = s * dst if align_corners else s * (dst + ft(0.5)) - ft(0.5)
    if not cubic:
        src = xp.maximum(src, ft(0))
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    t = xp.clip(src - i0, 0, 1).astype(ft)
    if not cubic:
        i1 = i0 + (i0 < n_in - 1)
        scatter_add(xp, m, (rows, i0), 1 - t)
        scatter_add(xp, m, (rows, i1), t)
        return m
    n0, f0 = _cubic(t + 1)[1], _cubic(t)[0]
    n1, f1 = _cubic(1 - t)[0], _cubic(2 - t)[1]
    for off, w in ((-1, n0), (0, f0), (1, n1), (2, f1)):
        scatter_add(xp, m, (rows, xp.clip(i0 + off, 0, n_in - 1)), w.astype(ft))
    return m


def _check_upsample_sizes(shape: tuple, out_size: list) -> None:
    """torch's upsample checks: spatial sizes above 0, then only the batch may be empty."""
    names = "DHW"[3 - len(out_size):]
    ins, outs = shape[2:], out_size
    if not all(ins) or not all(o > 0 for o in outs):
        fmt = (lambda v: ", ".join(f"{n}: {x}" for n, x in zip(names, v)))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({fmt(ins)}){' and' if len(outs) == 1 else ''} output ({fmt(outs)})")
    if not all(shape[1:]):
        raise RuntimeError(f"Non-empty {len(shape)}D data tensor expected but got a tensor with "
                           f"sizes {list(shape)}")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    nd = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError("Input and output must have the same number of spatial "
                                 "dimensions, but got input with spatial dimensions of "
                                 f"{list(input.shape[2:])} and output size of {size}. Please "
                                 "provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "output size in (o1, o2, ...,oK) format.")
            out_size = [int(s) for s in size]
        else:
            out_size = [int(size)] * nd
        scales = [None] * nd
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError("Input and scale_factor must have the same number of spatial "
                                 "dimensions, but got input with spatial dimensions of "
                                 f"{list(input.shape[2:])} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, "
                                 "...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * nd
        out_size = [int(math.floor(n * s)) for n, s in zip(input.shape[2:], scales)]
        if recompute_scale_factor or mode == "area":
            scales = [None] * nd
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias:
        raise NotImplementedError("antialias=True is not supported by ndgrad")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    if mode != "area":
        _check_upsample_sizes(input.shape, out_size)
    if mode == "area":
        if nd == 1:
            return adaptive_avg_pool1d(input, out_size)
        return adaptive_avg_pool2d(input, out_size)
    xp = input._device.xp
    if mode in ("nearest", "nearest-exact"):
        out = input
        for j in range(nd):
            idx = _nearest_index(xp, input.shape[2 + j], out_size[j], scales[j],
                                 mode == "nearest-exact")
            out = out[(slice(None),) * (2 + j) + (Tensor._make(idx, input._device),)]
        kind = "NearestExact" if mode == "nearest-exact" else "Nearest"
        return named(out, f"Upsample{kind}{nd}DBackward0")
    wanted = {"linear": 1, "bilinear": 2, "bicubic": 2}
    if mode not in wanted or wanted[mode] != nd:
        if mode in wanted:
            need = {1: "3D", 2: "4D"}[wanted[mode]]
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {need} "
                                      "input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    ft = xp.float64 if input._data.dtype == xp.float64 else xp.float32
    dt = input._data.dtype
    out = input
    for j in range(nd):  # separable: one matrix per spatial dim, applied from the last
        m = _interp_matrix(xp, input.shape[2 + j], out_size[j], align_corners, scales[j],
                           mode == "bicubic", ft).astype(dt)
        mt = Tensor._make(m, input._device)
        out = out @ mt.mT if j == nd - 1 else (mt @ out.transpose(2 + j, -2)).transpose(2 + j,
                                                                                        -2)
    if nd == 2:
        out = out.contiguous()
    name = {"linear": "UpsampleLinear1D", "bilinear": "UpsampleBilinear2D",
            "bicubic": "UpsampleBicubic2D"}[mode]
    return named(out, name + "Backward0")


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    r = upscale_factor
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    c, h, w = input.shape[-3:]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = tuple(input.shape[:-3])
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    k = len(lead)
    x = x.permute(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return named(x.reshape(lead + (c // (r * r), h * r, w * r)), "PixelShuffleBackward0")


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    r = downscale_factor
    c, h, w = input.shape[-3:]
    if h % r or w % r:
        raise RuntimeError("pixel_unshuffle expects height and width to be divisible by "
                           "downscale_factor")
    lead = tuple(input.shape[:-3])
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    k = len(lead)
    x = x.permute(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return named(x.reshape(lead + (c * r * r, h // r, w // r)), "PixelUnshuffleBackward0")
