"""Statistics over whole tensors: trace, histc, bincount, cov, corrcoef, cdist."""

from __future__ import annotations

import warnings

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Op
from ._inplace import torch_type_name
from .elementwise import export, not_implemented, wrap
from .reduce import _rename, select_along

__all__: list[str] = []
_NS = globals()


def _diagonal(a: Tensor) -> Tensor:
    """a[i, i] for i < min(rows, cols), differentiable."""
    xp = a._device.xp
    k = min(a.shape)
    idx = xp.arange(k).reshape(k, 1)
    return select_along(a.narrow(0, 0, k), idx, 1, False, "DiagonalBackward0")


def trace(input: Tensor) -> Tensor:
    """Same as torch.trace."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype is D.bool_:
        raise not_implemented("trace", input.dtype)
    return _rename(_diagonal(input).sum(), "TraceBackward0")


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Same as torch.histc (no gradient, as in torch)."""
    xp = input._device.xp
    if not input.is_floating_point():
        raise not_implemented("histogram_cpu", input.dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dim 0")
    a = input._data.reshape(-1)
    work = a.astype(xp.float32) if a.dtype.itemsize == 2 else a
    lo, hi = float(min), float(max)
    if lo == hi and work.size:
        lo, hi = float(work.min()), float(work.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (xp.isfinite(lo) and xp.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    keep = work[(work >= lo) & (work <= hi)]
    # torch's binning: floor((x - min) * bins / (max - min)), the maximum in the last bin
    pos = ((keep - lo) * bins / (hi - lo)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)
    counts = xp.bincount(pos, minlength=bins).astype(a.dtype)
    return wrap(counts, input._device)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Same as torch.bincount."""
    xp = input._device.xp
    a = input._data
    if a.dtype.kind not in "iub" or a.dtype.kind == "b":
        raise not_implemented("bincount_cpu", input.dtype)
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None or a.size == 0:  # torch: no input gives int64 zeros, even with weights
        return wrap(xp.bincount(a, minlength=minlength).astype(xp.int64), input._device)
    if weights.shape != input.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    w = weights._data
    out_dt = w.dtype if w.dtype == xp.float32 else xp.float64
    return wrap(xp.bincount(a, weights=w.astype(xp.float64), minlength=minlength).astype(out_dt),
                input._device)


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """Same as torch.cov (rows are variables, columns observations)."""
    if input.ndim > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an input "
                           f"with {input.ndim} dimensions")
    if input.dtype is D.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    n_obs = input.numel() if input.ndim < 2 else input.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, n_obs)
        if fweights.dtype._kind != 1:
            raise RuntimeError("cov(): expected fweights to have integral dtype but got fweights "
                               f"with {torch_type_name(fweights.dtype)} dtype")
        if (fweights < 0).any():
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, n_obs)
        if aweights.dtype._kind != 2:
            raise RuntimeError("cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {torch_type_name(aweights.dtype)} dtype")
        if (aweights < 0).any():
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if x.dtype._kind < 2:
        x = x.to(D.get_default_dtype())
    w_sum = w.sum() if w is not None else n_obs
    if w is not None and correction != 0 and aweights is not None:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm = w_sum - correction
    if bool(norm <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than "
                      "the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    avg = (x * w if w is not None else x).sum(1) / w_sum
    xm = x - avg.unsqueeze(1)
    c = xm.matmul((xm * w if w is not None else xm).t().conj())
    return (c / norm).squeeze()


def _check_weights(name, w, n_obs):
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {w.ndim} dimensions")
    if w.numel() != n_obs:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {w.numel()} != {n_obs}")


def corrcoef(input: Tensor) -> Tensor:
    """Same as torch.corrcoef."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = _diagonal(c)
    sd = (d.real if d.is_complex() else d).sqrt()
    c = c / sd.reshape(-1, 1)
    c = c / sd.reshape(1, -1)
    if c.is_complex():
        return c.real.clip(-1, 1) + c.imag.clip(-1, 1) * 1j
    return c.clip(-1, 1)


# --- cdist --------------------------------------------------------------------------------------
class Cdist(Op):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M)."""

    __slots__ = ()

    def forward(ctx, a, b, p=2.0, use_mm=False):
        xp = ctx.xp
        ctx.p = p
        if use_mm:  # |a|^2 + |b|^2 - 2 a.b, as torch does for large inputs
            aa = (a * a).sum(-1)[..., :, None]
            bb = (b * b).sum(-1)[..., None, :]
            out = xp.sqrt(xp.maximum(aa + bb - 2 * (a @ xp.swapaxes(b, -1, -2)), 0))
        else:
            d = xp.abs(a[..., :, None, :] - b[..., None, :, :])
            if p == 0:
                out = (d != 0).sum(-1).astype(a.dtype)
            elif p == float("inf"):
                out = d.max(-1) if d.shape[-1] else d.sum(-1)
            elif p == 1:
                out = d.sum(-1)
            elif p == 2:
                out = xp.sqrt((d * d).sum(-1))
            else:
                out = (d ** p).sum(-1) ** (1 / p)
        out = out.astype(a.dtype, copy=False)
        ctx.save(a, b, out)
        return out

    def backward(ctx, g):
        a, b, dist = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return g.new_zeros(a.shape), g.new_zeros(b.shape)
        if p == 2:  # sum_j w_ij (a_i - b_j) without the (P, R, M) difference tensor
            w = (g / dist).masked_fill(dist == 0, 0)
            ga = a * w.sum(-1, keepdim=True) - w.matmul(b)
            gb = b * w.sum(-2).unsqueeze(-1) - w.mT.matmul(a)
            return ga, gb
        diff = a.unsqueeze(-2) - b.unsqueeze(-3)
        dd = dist.unsqueeze(-1)
        if p == 1:
            coef = diff.sign()
        elif p == float("inf"):
            coef = diff.sign() * (diff.abs() == dd)
        else:
            coef = diff.sign() * (diff.abs() / dd) ** (p - 1)
        coef = coef.masked_fill(dd == 0, 0)
        t = g.unsqueeze(-1) * coef
        return t.sum(-2), -t.sum(-3)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Same as torch.cdist."""
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    if not x1.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: "
                           f"{torch_type_name(x1.dtype)}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X2 got: "
                           f"{torch_type_name(x2.dtype)}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
             "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    use_mm = p == 2 and (compute_mode == modes[1] or (
        compute_mode == modes[0] and (rows1 > 25 or rows2 > 25)))
    try:
        return _rename(Cdist.apply(x1, x2, float(p), use_mm), "CdistBackward0")
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({x1.shape[0]}) must match the size of tensor b "
                           f"({x2.shape[0]}) at non-singleton dimension 0") from None


for _name in ("trace", "histc", "bincount", "cov", "corrcoef"):
    export(_NS, _name, _NS[_name], inplace_too=False)
export(_NS, "cdist", cdist, method=False, inplace_too=False)
