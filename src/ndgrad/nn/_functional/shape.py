"""pad, interpolate (separable weight matrices or nearest indices), pixel_shuffle: linear maps,
each one node as in torch (ConstantPadNdBackward0, UpsampleBilinear2DBackward0...) whose
backward is the adjoint map, itself a node whose derivative is the map again."""

from __future__ import annotations

import math

from ..._errors import not_implemented
from ..._tensor import Tensor
from ...autograd.op import Op
from ...autograd.torch_saves import saves
from ._utils import mm, scatter_add
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d


class _LinearMap(Op):
    """``fwd(xp, a)``, a linear map (affine: ``lin`` is then its linear part), as one node;
    backward: its adjoint ``adj(xp, g)``, on arrays in the first-order pass and as the
    ``Adjoint`` node when recording."""

    __slots__ = ()
    Adjoint: type

    def forward(ctx, a, fwd, adj, lin=None):
        ctx.maps = (lin or fwd, adj)
        return fwd(ctx.xp, a)

    def backward(ctx, g):
        fwd, adj = ctx.maps
        return type(ctx).Adjoint.apply(g, fwd=adj, adj=fwd)

    def backward_raw(ctx, g):
        return ctx.maps[1](ctx.xp, g)


class _Adjoint(Op):
    __slots__ = ()
    Map: type

    def forward(ctx, g, fwd, adj):
        ctx.maps = (fwd, adj)
        return fwd(ctx.xp, g)

    def backward(ctx, gg):
        fwd, adj = ctx.maps
        return type(ctx).Map.apply(gg, fwd=adj, adj=fwd)


def _linear_map(name: str, adjoint: str | None = None, saves_input: bool = False) -> type:
    """A _LinearMap class torch names <name>Backward0, with its adjoint (<name>BackwardBackward0
    unless torch records the adjoint as another op: ``adjoint``). ``saves_input``: torch's node
    saves the input (for its shape), so a later write into it raises torch's version error."""
    op = type(name, (_LinearMap,), {"__slots__": ()})
    if saves_input:
        op.apply = classmethod(lambda cls, a, **kw: saves(Op.apply.__func__(cls, a, **kw), a))
    op.Adjoint = type(name + "Backward", (_Adjoint,), {
        "__slots__": (), "Map": op, "_node_name": adjoint or name + "BackwardBackward0"})
    return op


ConstantPadNd = _linear_map("ConstantPadNd", "ConstantPadNdBackward0")  # its adjoint is a crop


def _constant_pad(widths, value):
    """Pad (or crop, for negative widths) the trailing dims."""
    def fwd(xp, a):
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in
                     zip(a.shape, widths))
        a = a[crop]
        pos = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        return xp.pad(a, pos, constant_values=value) if any(any(p) for p in pos) else a.copy()

    return fwd


def _gather(idxs):
    """x indexed along each trailing dim ``d`` at ``idxs[d]`` (a dict dim -> index array)."""
    def fwd(xp, a):
        for d, pos in idxs.items():
            a = xp.take(a, pos, axis=d)
        return a

    return fwd


def _scatter(idxs, sizes):
    """The adjoint of _gather: g summed back to the sizes the gathers read from."""
    def adj(xp, g):
        for d, pos in reversed(list(idxs.items())):
            out = xp.zeros(g.shape[:d] + (sizes[d],) + g.shape[d + 1:], dtype=g.dtype)
            scatter_add(xp, out, (slice(None),) * d + (pos,), g)
            g = out
        return g

    return adj


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
    idxs = {}
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
        idxs[dim] = pos
    if mode == "circular":  # torch copies slices (CopySlices nodes): an index here
        out = input
        for dim, pos in idxs.items():
            out = out[(slice(None),) * dim + (Tensor._make(pos, input._device),)]
        return out
    if input._data.dtype.kind == "b":  # torch's reflection/replication kernels have no bool
        raise not_implemented(f"{'reflection' if mode == 'reflect' else 'replication'}_pad{nd}d",
                              input.dtype)
    op = (_REFLECT if mode == "reflect" else _REPLICATE)[nd]
    return op.apply(input, fwd=_gather(idxs), adj=_scatter(idxs, input.shape))


_REFLECT = {n: _linear_map(f"ReflectionPad{n}D", saves_input=True) for n in (1, 2, 3)}
_REPLICATE = {n: _linear_map(f"ReplicationPad{n}D", saves_input=True) for n in (1, 2, 3)}


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    if mode == "constant":
        widths = _pad_widths(input.ndim, pad)
        return ConstantPadNd.apply(input, fwd=_constant_pad(widths, 0 if value is None else value),
                                   adj=_constant_pad(tuple((-lo, -hi) for lo, hi in widths), 0),
                                   lin=_constant_pad(widths, 0))
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
        def fmt(v):
            return ", ".join(f"{n}: {x}" for n, x in zip(names, v))
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
    if antialias and (mode not in ("bilinear", "bicubic", "lanczos") or input.ndim != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    if mode == "lanczos" and input.ndim == 4:  # (other ranks: the rank error below)
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    if mode != "area":
        _check_upsample_sizes(input.shape, out_size)
    if mode == "area":
        from .pooling3d import adaptive_avg_pool3d  # pooling3d builds on this module
        pool = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}[nd]
        return pool(input, out_size)
    xp = input._device.xp
    if mode in ("nearest", "nearest-exact"):
        idxs = {2 + j: _nearest_index(xp, input.shape[2 + j], out_size[j], scales[j],
                                      mode == "nearest-exact") for j in range(nd)}
        kind = "NearestExact" if mode == "nearest-exact" else "Nearest"
        return _upsample_op(f"Upsample{kind}{nd}D").apply(
            input, fwd=_gather(idxs), adj=_scatter(idxs, input.shape))
    wanted = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3, "lanczos": 2}
    if mode not in wanted or wanted[mode] != nd:
        if mode in wanted and mode != "lanczos":
            need = {1: "3D", 2: "4D", 3: "5D"}[wanted[mode]]
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {need} "
                                      "input")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | lanczos | area | nearest-exact (got "
                                  f"{mode})")
    ft = xp.float64 if input._data.dtype == xp.float64 else xp.float32
    dt = input._data.dtype
    if antialias:  # (4-D, checked above)
        from ._antialias import aa_matrix

        mats = {2 + j: aa_matrix(xp, input.shape[2 + j], out_size[j], align_corners, scales[j],
                                 mode, ft).astype(dt) for j in range(2)}
        name = f"Upsample{mode.capitalize()}2DAa"
        return _upsample_op(name).apply(input, fwd=_separable(mats, False),
                                        adj=_separable(mats, True))
    mats = {2 + j: _interp_matrix(xp, input.shape[2 + j], out_size[j], align_corners, scales[j],
                                  mode == "bicubic", ft).astype(dt) for j in range(nd)}
    name = {"linear": "UpsampleLinear1D", "bilinear": "UpsampleBilinear2D",
            "bicubic": "UpsampleBicubic2D", "trilinear": "UpsampleTrilinear3D"}[mode]
    return _upsample_op(name).apply(input, fwd=_separable(mats, False),
                                    adj=_separable(mats, True))


_UPSAMPLE: dict = {}


def _upsample_op(name: str) -> type:
    op = _UPSAMPLE.get(name)
    if op is None:
        op = _UPSAMPLE[name] = _linear_map(name)
    return op


def _separable(mats, transpose: bool):
    """x times one (out, in) matrix per spatial dim (the adjoint: their transposes)."""
    def fwd(xp, a):
        for d, m in mats.items():
            a = xp.moveaxis(mm(xp, xp.moveaxis(a, d, -1), m if transpose else m.T), -1, d)
        return xp.ascontiguousarray(a)

    return fwd


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    return interpolate(input, size, scale_factor, mode, align_corners)


PixelShuffle = _linear_map("PixelShuffle", "ViewBackward0")  # torch's adjoints are reshapes
PixelUnshuffle = _linear_map("PixelUnshuffle", "ViewBackward0")


def _shuffle(lead, c, h, w, r):
    """(..., c r r, h, w) -> (..., c, h r, w r), and back."""
    k = len(lead)

    def fwd(xp, a):
        a = a.reshape(lead + (c, r, r, h, w)).transpose(
            tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
        return a.reshape(lead + (c, h * r, w * r))

    def inv(xp, a):
        a = a.reshape(lead + (c, h, r, w, r)).transpose(
            tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
        return a.reshape(lead + (c * r * r, h, w))

    return fwd, inv


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
    fwd, inv = _shuffle(tuple(input.shape[:-3]), c // (r * r), h, w, r)
    return PixelShuffle.apply(input, fwd=fwd, adj=inv)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    r = downscale_factor
    c, h, w = input.shape[-3:]
    if h % r or w % r:
        raise RuntimeError("pixel_unshuffle expects height and width to be divisible by "
                           "downscale_factor")
    fwd, inv = _shuffle(tuple(input.shape[:-3]), c, h // r, w // r, r)
    return PixelUnshuffle.apply(input, fwd=inv, adj=fwd)
