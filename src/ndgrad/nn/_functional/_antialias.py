"""interpolate(antialias=True)'s weights: torch's (and PIL's) separable resampling, where the
filter is stretched by the downscale factor so that every input pixel counts. One (out, in)
matrix per spatial dim, its rows normalised; interpolate applies them as any linear upsample."""

from __future__ import annotations

import math

# filter support in input pixels at scale 1 (torch's interp_size / 2)
_SUPPORT = {"bilinear": 1.0, "bicubic": 2.0, "lanczos": 3.0}


def _filter(xp, mode, x):
    x = xp.abs(x)
    if mode == "bilinear":
        return xp.where(x < 1, 1 - x, 0)
    if mode == "bicubic":  # Keys' cubic with a = -0.5, as PIL (plain bicubic: -0.75)
        a = x.dtype.type(-0.5)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return xp.where(x < 1, near, xp.where(x < 2, far, 0))
    px = math.pi * x  # lanczos, a = 3: sinc(x) sinc(x / 3)
    safe = xp.where(x == 0, 1, px)
    w = xp.where(x == 0, 1, xp.sin(safe) / safe * xp.sin(safe / 3) / (safe / 3))
    return xp.where(x < 3, w, 0)


def aa_matrix(xp, n_in: int, n_out: int, align_corners: bool, scale, mode: str, ft):
    """(n_out, n_in) weights of torch's _compute_weights_aa, in the input's float type ``ft``:
    the window [center - support, center + support) clipped to the input, its weights
    filter((j - center + 0.5) / scale), divided by their sum."""
    if align_corners:
        s = ft((n_in - 1) / (n_out - 1)) if n_out > 1 else ft(0)
    else:
        s = ft(1.0 / scale) if scale is not None and scale > 0 else ft(n_in) / ft(n_out)
    support = ft(_SUPPORT[mode] * s if s >= 1 else _SUPPORT[mode])
    inv = ft(1.0 / s) if s >= 1 else ft(1)
    center = (s * (xp.arange(n_out) + 0.5)).astype(ft)
    lo = xp.maximum(xp.trunc(center - support + 0.5), 0).astype(xp.int64)
    hi = xp.minimum(xp.trunc(center + support + 0.5).astype(xp.int64), n_in)
    cols = xp.arange(n_in)
    inside = (cols >= lo[:, None]) & (cols < hi[:, None])
    w = _filter(xp, mode, ((cols - center[:, None] + 0.5) * inv).astype(ft)).astype(ft)
    w = xp.where(inside, w, ft(0))
    total = w.sum(1, keepdims=True)
    return xp.where(total != 0, w / xp.where(total != 0, total, 1), w).astype(ft)
