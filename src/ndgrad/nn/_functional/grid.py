"""affine_grid and grid_sample, composed of differentiable ops (so both derivatives, in the input
and in the grid, and those of any order, come from existing rules): the grid is unnormalised and
padded as torch's CPU kernels do (the 2-d kernel's vectorised formulas, the 3-d kernel's scalar
ones; clipped coordinates take no gradient at the borders, as there), the corners are gathered
from the flattened input and blended with weights that are functions of the grid."""

from __future__ import annotations

import math
import warnings

from ..._errors import dtype_mismatch, not_implemented
from ..._tensor import Tensor
from ...autograd.torch_saves import saves
from ._utils import named

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False "
                  "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
                  "See the documentation of grid_sample for details.")


# --- affine_grid ----------------------------------------------------------------------------------
def _lin(theta: Tensor, n: int, align_corners: bool) -> Tensor:
    from ... import linspace, tensor

    if n <= 1:
        return tensor(0, dtype=theta.dtype, device=theta.device)
    r = linspace(-1, 1, n, dtype=theta.dtype, device=theta.device)
    return r if align_corners else r * (n - 1) / n


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    from ... import empty

    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(size)
    if len(size) == 4:
        if theta.ndim != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {theta.shape}.")
    elif len(size) == 5:
        if theta.ndim != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {theta.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    nd = len(spatial)
    if theta.shape[0] != size[0]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {nd + 1}] but got: [{theta.shape[0]}, {nd + 1}].")
    base = empty((size[0],) + spatial + (nd + 1,), dtype=theta.dtype, device=theta.device)
    for j in range(nd):  # coordinate j runs along spatial dim nd - 1 - j (x along the last)
        lin = _lin(theta, spatial[nd - 1 - j], align_corners)._data
        base._data[..., j] = lin.reshape(lin.shape + (1,) * j) if lin.ndim else lin
    base._data[..., nd] = 1
    grid = base.reshape(size[0], math.prod(spatial), nd + 1).bmm(theta.transpose(1, 2))
    return named(grid.view((size[0],) + spatial + (nd,)), "AffineGridGeneratorBackward0")


# --- grid_sample ----------------------------------------------------------------------------------
def _unnormalize(coord: Tensor, size: int, align_corners: bool, vectorised: bool) -> Tensor:
    if vectorised:  # torch's 2-d CPU kernel: a scaling factor, then a shift
        return (coord + 1) * ((size - 1) / 2) if align_corners else \
            (coord + 1) * (size / 2) - 0.5
    return ((coord + 1) / 2) * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2


def _clip(x: Tensor, size: int) -> Tensor:
    """Clamped to [0, size - 1]; the borders themselves take no gradient, as torch's kernels."""
    from ... import where

    d = x.detach()
    inside = (d > 0) & (d < size - 1)
    return where(inside, x, d.clamp(0, size - 1))


def _reflect(x: Tensor, twice_low: int, twice_high: int) -> Tensor:
    from ... import where

    if twice_low == twice_high:
        return x * 0
    lo, span = twice_low / 2, (twice_high - twice_low) / 2
    a = (x - lo).abs()
    extra = a.fmod(span)
    flips = (a.detach() / span).floor()
    return where(flips.fmod(2) == 0, extra + lo, (span - extra) + lo)


def _pad_coord(x: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    from ... import where

    if padding_mode == "border":
        x = _clip(x, size)
    elif padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        x = _clip(x, size)
    d = x.detach()  # torch's safe_downgrade_to_int_range: nan, inf or huge reads nothing
    ok = d.isfinite() & (d.abs() < 2.0 ** 31)
    return x if bool(ok.all()) else where(ok, x, x.new_full((), -100.0))


def _gather(flat: Tensor, sizes, idx) -> Tensor:
    """flat (N, C, prod(sizes)) at the integer positions ``idx`` (one (N, *out) array per
    spatial dim); zero where a position falls outside."""
    xp = flat._device.xp
    inside = True
    pos = 0
    for i, n in zip(idx, sizes):
        inside = inside & (i >= 0) & (i < n)
        pos = pos * n + xp.clip(i, 0, n - 1)
    n_, c = flat.shape[:2]
    out_shape = pos.shape[1:]
    m = math.prod(out_shape)  # (not -1: an empty batch has no size to infer)
    index = Tensor._make(xp.broadcast_to(pos.reshape(n_, 1, m), (n_, c, m))
                         .astype(xp.int64), flat._device)
    vals = flat.gather(2, index).reshape((n_, c) + out_shape)
    if bool(inside.all()):
        return vals
    mask = Tensor._make(inside[:, None].astype(flat._data.dtype), flat._device)
    return vals * mask


def _cubic_coeffs(t: Tensor):
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1.0), near(t), near(1.0 - t), far((1.0 - t) + 1.0)


def _check_grid(input: Tensor, grid: Tensor, mode: str) -> None:
    if input.ndim == 0 or grid.ndim == 0 or input.shape[0] != grid.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last "
                           f"dimension, but got grid with sizes {list(grid.shape)}")
    for i in range(2, input.ndim):
        if not input.shape[i]:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {i} being empty")
    nd = 2 if input.ndim == 4 else 3
    if input.ndim != grid.ndim or input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected {nd + 2}D input and grid with same number of "
                           f"dimensions, but got input with sizes {list(input.shape)} and grid "
                           f"with sizes {list(grid.shape)}")
    if nd == 3 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype is not grid.dtype:
        raise dtype_mismatch(input.dtype, grid.dtype)
    if not input.dtype.is_floating_point:
        raise not_implemented(f"grid_sampler_{nd}d_cpu_kernel_impl", input.dtype)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' "
                         f"or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    return _sample(input, grid, mode, padding_mode, bool(align_corners))


def _sample(input: Tensor, grid: Tensor, mode: str, padding_mode: str, align_corners: bool):
    _check_grid(input, grid, mode)
    nd = input.ndim - 2
    sizes = tuple(input.shape[2:])
    flat = input.reshape(input.shape[0], input.shape[1], math.prod(sizes))
    # grid[..., 0] indexes the last (x) dim: coordinate j belongs to spatial dim nd - 1 - j
    coords = [_unnormalize(grid[..., nd - 1 - d], sizes[d], align_corners, nd == 2)
              for d in range(nd)]
    xp = input._device.xp
    if mode == "bicubic":
        out = _bicubic(flat, sizes, coords, padding_mode, align_corners)
    else:
        coords = [_pad_coord(c, n, padding_mode, align_corners) for c, n in zip(coords, sizes)]
        if mode == "nearest":  # round half to even, as nearbyint
            idx = [xp.round(c._data).astype(xp.int64) for c in coords]
            out = _gather(flat, sizes, idx)
        else:
            out = _linear(flat, sizes, coords, nd)
    # torch's one node saves both (a later write raises; ndgrad's ops may have copied them)
    return saves(named(out, f"GridSampler{nd}DBackward0"), input, grid)


def _linear(flat, sizes, coords, nd):
    """Bilinear/trilinear: the 2^nd corners in torch's order, blended by products of the
    fractional parts (the vectorised 2-d kernel's 1 - frac, the 3-d kernel's floor + 1 - x)."""
    xp = flat._device.xp
    lows = [xp.floor(c._data) for c in coords]
    fr = [c - Tensor._make(lo, c._device) for c, lo in zip(coords, lows)]
    if nd == 2:
        rest = [1 - f for f in fr]
    else:
        rest = [Tensor._make(lo + 1, c._device) - c for c, lo in zip(coords, lows)]
    base = [lo.astype(xp.int64) for lo in lows]
    out = None
    for bits in range(2 ** nd):
        sel = [(bits >> (nd - 1 - d)) & 1 for d in range(nd)]  # dim 0 (z or y) varies slowest
        w = None
        for d in range(nd):
            part = fr[d] if sel[d] else rest[d]
            w = part if w is None else w * part
        v = _gather(flat, sizes, [b + s for b, s in zip(base, sel)]) * w.unsqueeze(1)
        out = v if out is None else out + v
    return out


def _bicubic(flat, sizes, coords, padding_mode, align_corners):
    """4 x 4 taps around floor(x), each tap position padded on its own (get_value_bounded)."""
    xp = flat._device.xp
    (iy, ix), (h, w) = coords, sizes
    y0, x0 = xp.floor(iy._data), xp.floor(ix._data)
    cy = _cubic_coeffs(iy - Tensor._make(y0, iy._device))
    cx = _cubic_coeffs(ix - Tensor._make(x0, ix._device))

    def tap(pos, n):
        t = Tensor._make(pos, flat._device)
        if padding_mode != "zeros":
            t = _pad_coord(t, n, padding_mode, align_corners)
        return t._data.astype(xp.int64)

    out = None
    for i in range(4):
        yi = tap(y0 - 1 + i, h)
        row = None
        for j in range(4):
            v = _gather(flat, sizes, [yi, tap(x0 - 1 + j, w)]) * cx[j].unsqueeze(1)
            row = v if row is None else row + v
        v = row * cy[i].unsqueeze(1)
        out = v if out is None else out + v
    return out


# --- ATen's entry points: torch.grid_sampler / grid_sampler_2d / grid_sampler_3d -----------------
_MODES, _PADDINGS = ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection")


def _aten_modes(name, interpolation_mode, padding_mode, align_corners):
    for arg, pos, val in (("interpolation_mode", 3, interpolation_mode),
                          ("padding_mode", 4, padding_mode)):
        if isinstance(val, bool) or not isinstance(val, int):
            raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be int, not "
                            f"{type(val).__name__}")
    if not isinstance(align_corners, bool):
        raise TypeError(f"{name}(): argument 'align_corners' (position 5) must be bool, not "
                        f"{type(align_corners).__name__}")
    # torch reads uninitialised memory for an enum value out of range; ndgrad refuses it
    if not 0 <= interpolation_mode < 3:
        raise RuntimeError(f"{name}(): interpolation_mode must be 0 (bilinear), 1 (nearest) or "
                           f"2 (bicubic), but got {interpolation_mode}")
    if not 0 <= padding_mode < 3:
        raise RuntimeError(f"{name}(): padding_mode must be 0 (zeros), 1 (border) or "
                           f"2 (reflection), but got {padding_mode}")
    return _MODES[interpolation_mode], _PADDINGS[padding_mode]


def grid_sampler(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                 align_corners: bool) -> Tensor:
    """Same as torch.grid_sampler: grid_sample with ATen's integer modes (0 bilinear, 1 nearest,
    2 bicubic; padding 0 zeros, 1 border, 2 reflection)."""
    mode, pad = _aten_modes("grid_sampler", interpolation_mode, padding_mode, align_corners)
    return _sample(input, grid, mode, pad, align_corners)


def grid_sampler_2d(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                    align_corners: bool) -> Tensor:
    """Same as torch.grid_sampler_2d: grid_sampler for 4-d input only."""
    mode, pad = _aten_modes("grid_sampler_2d", interpolation_mode, padding_mode, align_corners)
    _require_dims(input, grid, 4)
    return _sample(input, grid, mode, pad, align_corners)


def grid_sampler_3d(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                    align_corners: bool) -> Tensor:
    """Same as torch.grid_sampler_3d: grid_sampler for 5-d input only."""
    mode, pad = _aten_modes("grid_sampler_3d", interpolation_mode, padding_mode, align_corners)
    _require_dims(input, grid, 5)
    if mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    return _sample(input, grid, mode, pad, align_corners)


def _require_dims(input, grid, n):
    if input.ndim and grid.ndim and input.shape[0] == grid.shape[0] and (
            input.ndim != n or grid.ndim != n):
        raise RuntimeError(f"grid_sampler(): expected {n}D input and grid with same number of "
                           f"dimensions, but got input with sizes {list(input.shape)} and grid "
                           f"with sizes {list(grid.shape)}")
