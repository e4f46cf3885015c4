"""Products over observations: cov, corrcoef, cdist, trapezoid."""

from __future__ import annotations

import math

import warnings

from ..._errors import dtype_mismatch, infer_size, no_dims_error, not_implemented, repeated_dim
from ... import _dtype as D
from ..._tensor import Tensor, wrap_dim
from ...autograd.op import Op
from ..._dtype import torch_type_name
from ..pointwise import clip
from ..once import once_differentiable
from ..reduce import sum as _sum
from ._common import HALF
from .norms import vector_norm

__all__ = ["cdist", "corrcoef", "cov", "cumulative_trapezoid", "gradient", "trapezoid", "trapz"]


def cov(input, *, correction=1, fweights=None, aweights=None) -> Tensor:
    """Same as torch.cov (rows are variables, columns observations)."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    if input.dtype is D.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    n_obs = x.shape[1]
    w = None
    for name, wt, kind in (("fweights", fweights, "integral"),
                           ("aweights", aweights, "floating point")):
        if wt is None:
            continue
        if wt.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                               f"{name} with {wt.ndim} dimensions")
        if wt.numel() != n_obs:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {wt.numel()} != {n_obs}")
        if wt.is_floating_point() != (kind == "floating point") or wt.is_complex():
            raise RuntimeError(f"cov(): expected {name} to have {kind} dtype but got {name} "
                               f"with {torch_type_name(wt.dtype)} dtype")
        if bool((wt < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = wt if w is None else w * wt
    w_sum = _sum(w) if w is not None else n_obs
    if w is not None and not bool(w_sum != 0):
        raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = _sum(x * w if w is not None else x, 1) / w_sum
    if w is None:
        norm = w_sum - correction
    elif aweights is not None and correction != 0:
        norm = w_sum - correction * _sum(w * aweights) / w_sum
    else:
        norm = w_sum - correction
    if bool(norm <= 0):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than "
                      "the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0
    x = x - avg.unsqueeze(1)
    c = x @ (x * w if w is not None else x).mT.conj()
    return (c / norm).squeeze()


def corrcoef(input) -> Tensor:
    """Same as torch.corrcoef."""
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    std = (d.real if d.is_complex() else d).sqrt()
    c = c / std.reshape(-1, 1) / std.reshape(1, -1)
    if c.is_complex():
        return clip(c.real, -1, 1) + 1j * clip(c.imag, -1, 1)
    return clip(c, -1, 1)


class CountDist(Op):
    """cdist with p = 0 (how many coordinates differ): torch's _cdist_backward gives zeros."""

    __slots__ = ()
    _node_name = "CdistBackward0"

    def forward(ctx, x1, x2):
        ctx.shapes = x1.shape, x2.shape
        d = ctx.xp.abs(x1[..., :, None, :] - x2[..., None, :, :])
        return ctx.xp.minimum(ctx.xp.ceil(d), 1).sum(-1)  # torch's kernel: nan stays nan

    def backward(ctx, g):
        return g.new_zeros(ctx.shapes[0]), g.new_zeros(ctx.shapes[1])


class EuclideanDist(Op):
    """cdist for p=2 as one node: pairwise distances from one matmul when the sets are large
    (torch's 'use_mm_for_euclid_dist' path), else from the differences."""

    __slots__ = ()
    _node_name = "CdistBackward0"

    def forward(ctx, x1, x2, use_mm):
        xp = ctx.xp
        if use_mm:  # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, clamped at 0 against rounding
            n1 = (x1 * x1).sum(-1)[..., :, None]
            n2 = (x2 * x2).sum(-1)[..., None, :]
            d2 = n1 + n2 - 2 * (x1 @ x2.swapaxes(-1, -2))
            out = xp.sqrt(xp.maximum(d2, 0))
        else:
            diff = x1[..., :, None, :] - x2[..., None, :, :]
            out = xp.sqrt((diff * diff).sum(-1))
        ctx.save(x1, x2, out)
        return out

    def backward(ctx, g):
        # d|a - b| / da = (a - b) / |a - b| (0 at 0), summed with matmuls, not a P x R x M array
        x1, x2, d = ctx.saved_tensors
        r = (g / d).masked_fill(d == 0, 0)
        g1 = x1 * _sum(r, -1, keepdim=True) - r @ x2 if ctx.needs_input_grad[0] else None
        g2 = x2 * _sum(r, -2).unsqueeze(-1) - r.mT @ x1 if ctx.needs_input_grad[1] else None
        return g1, g2


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Same as torch.cdist."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{torch_type_name(x.dtype)}")
    if x1.dtype is not x2.dtype:
        raise dtype_mismatch(x1.dtype, x2.dtype)
    if x1._data.dtype in HALF:
        raise not_implemented("cdist", x1.dtype)
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    batch = infer_size(x1.shape[:-2], x2.shape[:-2])
    x1 = x1.expand(*batch, *x1.shape[-2:])
    x2 = x2.expand(*batch, *x2.shape[-2:])
    big = x1.shape[-2] > 25 or x2.shape[-2] > 25
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
            big and compute_mode == "use_mm_for_euclid_dist_if_necessary")):
        return EuclideanDist.apply(x1, x2, True)  # torch's _euclidean_dist: a composite
    # torch's _cdist_forward: its backward kernel has no derivative
    return once_differentiable(lambda a, b: _cdist_forward(a, b, p), (x1, x2), "CdistBackward0",
                               _no_cdist_double)


def _no_cdist_double():
    return NotImplementedError("the derivative for '_cdist_backward' is not implemented.")


def _cdist_forward(x1, x2, p):
    if p == 2:
        return EuclideanDist.apply(x1, x2, False)
    if p == 0:
        return CountDist.apply(x1, x2)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == math.inf:  # torch's _cdist_backward gives every tied maximum the whole gradient
        a = diff.abs()
        d = a.amax(-1)
        s = (a * (a == d.detach().unsqueeze(-1))).sum(-1)  # d * ties, with that gradient
        return s - (s - d).detach()
    return vector_norm(diff, p, -1)


def trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """Same as torch.trapezoid."""
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments - got (Tensor, "
                        "Tensor, dx=...), but expected one of:\n * (Tensor y, Tensor x, *, int dim "
                        "= -1)\n * (Tensor y, *, Number dx = 1, int dim = -1)")
    if y.ndim == 0:  # torch's errors (with x, its dim is wrapped first)
        raise no_dims_error(dim if x is None else wrap_dim(dim, 0))
    d = wrap_dim(dim, y.ndim)
    if y.dtype is D.bool_:
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    n = y.shape[d]
    if n == 0:
        shape = y.shape[:d] + y.shape[d + 1:]
        return Tensor._make(y._device.xp.zeros(shape, y._data.dtype), y._device)
    if x is None:  # constant spacing: dx * (sum(y) - (y_first + y_last) / 2)
        return (_sum(y, d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * (1 if dx is None else dx)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        x = x.reshape(*[n if i == d else 1 for i in range(y.ndim)])
    elif x.ndim < y.ndim:
        x = x.reshape(*((1,) * (y.ndim - x.ndim) + tuple(x.shape)))
    spacing = x.narrow(d, 1, x.shape[d] - 1) - x.narrow(d, 0, x.shape[d] - 1)
    return _sum((y.narrow(d, 0, n - 1) + y.narrow(d, 1, n - 1)) * spacing, d) / 2.0


def trapz(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """Same as torch.trapz (torch.trapezoid's older name)."""
    if x is not None and dx is not None:
        raise TypeError("trapz() received an invalid combination of arguments - got (Tensor, "
                        "Tensor, dx=int), but expected one of:\n * (Tensor y, *, float dx = 1, "
                        "int dim = -1)\n * (Tensor y, Tensor x, *, int dim = -1)\n")
    return trapezoid(y, x, dx=dx, dim=dim)


def _cut(t: Tensor, d: int, start, stop) -> Tensor:
    """``t`` sliced along dim ``d`` (torch's slice: an empty result rather than an error)."""
    return t[(slice(None),) * d + (slice(start, stop),)]


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1) -> Tensor:
    """Same as torch.cumulative_trapezoid."""
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid() received an invalid combination of arguments - "
                        "got (Tensor, Tensor, dx=int), but expected one of:\n * (Tensor y, Tensor "
                        "x, *, int dim = -1)\n * (Tensor y, *, Number dx = 1, int dim = -1)\n")
    if y.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, y.ndim)
    if x is None:
        if y.dtype is D.bool_:
            raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is "
                               "not supported")
        dx = 1 if dx is None else dx
        if isinstance(dx, (bool, complex)):
            raise RuntimeError("cumulative_trapezoid: Currently, we only support dx as a real "
                               "number.")
        return (float(dx) / 2.0 * (_cut(y, d, 0, -1) + _cut(y, d, 1, None))).cumsum(d)
    if y.dtype is D.bool_ or x.dtype is D.bool_:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `x` or `y`, but bool "
                           "is not supported")
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError("cumulative_trapezoid: There must be one `x` value for each sample "
                               "point")
        x = x.reshape(*[x.shape[0] if i == d else 1 for i in range(y.ndim)])
    elif x.ndim < y.ndim:
        x = x.reshape(*((1,) * (y.ndim - x.ndim) + tuple(x.shape)))
    spacing = _cut(x, d, 1, None) - _cut(x, d, 0, -1)
    return ((_cut(y, d, 0, -1) + _cut(y, d, 1, None)) * spacing).cumsum(d) / 2.0


def gradient(input, *, spacing=1, dim=None, edge_order=1) -> tuple:
    """Same as torch.gradient: central differences inside, one-sided (edge_order 1 or 2) at the
    ends; spacing is a number, a list of numbers or a list of coordinate tensors."""
    if isinstance(spacing, Tensor) and spacing.ndim == 0:
        spacing = spacing.item()
    listed = isinstance(spacing, (list, tuple))
    dims = None if dim is None else [dim] if isinstance(dim, int) else list(dim)
    if input.dtype is D.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if listed and dims is None and len(spacing) != input.ndim:
        raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar, or a list "
                           f"of length equal to 'self.dim() = {input.ndim}', since dim argument "
                           f"was not given, but got a list of length {len(spacing)}")
    if listed and dims is not None and len(spacing) != len(dims):
        raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar or it's "
                           "spacing and dim arguments to have the same length, but got a spacing "
                           f"argument of length {len(spacing)} and a dim argument of length "
                           f"{len(dims)}.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = list(range(input.ndim)) if dims is None else [wrap_dim(d, input.ndim) for d in dims]
    if len(set(dims)) != len(dims):
        d = next(d for d in dims if dims.count(d) > 1)
        raise repeated_dim(d)
    if any(input.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError("torch.gradient expected each dimension size to be at least "
                           "edge_order+1")
    steps = list(spacing) if listed else [spacing] * len(dims)
    return tuple(_coord_diff(input, h, d, edge_order) if isinstance(h, Tensor) else
                 _step_diff(input, h, d, edge_order) for h, d in zip(steps, dims))


def _step_diff(f: Tensor, h, d: int, edge_order: int) -> Tensor:
    """torch's gradient_helper_float: uniform spacing ``h``."""
    from ..joins import cat

    center = (_cut(f, d, 2, None) - _cut(f, d, 0, -2)) / h
    if edge_order == 1:
        first = (_cut(f, d, 1, 2) - _cut(f, d, 0, 1)) / h
        last = (_cut(f, d, -1, None) - _cut(f, d, -2, -1)) / h
    else:
        first = (_cut(f, d, 0, 1) * -1.5 + _cut(f, d, 1, 2) * 2 - _cut(f, d, 2, 3) * 0.5) / h
        last = (_cut(f, d, -3, -2) * 0.5 + _cut(f, d, -2, -1) * -2 + _cut(f, d, -1, None) * 1.5) / h
    return cat([first, center / 2, last], d)


def _coord_diff(f: Tensor, x: Tensor, d: int, edge_order: int) -> Tensor:
    """torch's gradient_helper: samples at coordinates ``x`` (second-order accurate inside)."""
    from ..joins import cat

    if x.ndim != 1:
        raise RuntimeError("torch.gradient expected each element of spacing to have one "
                           f"dimension, but got an element with {x.ndim} dimensions!")
    shape = [1] * f.ndim
    shape[d] = -1
    h = x.diff()
    h1, h2 = h[:-1], h[1:]
    a = (-h2 / (h1 * (h1 + h2))).reshape(shape)
    b = ((h2 - h1) / (h1 * h2)).reshape(shape)
    c = (h1 / (h2 * (h1 + h2))).reshape(shape)
    center = a * _cut(f, d, 0, -2) + b * _cut(f, d, 1, -1) + c * _cut(f, d, 2, None)
    if edge_order == 1:
        first = (_cut(f, d, 1, 2) - _cut(f, d, 0, 1)) / h[0]
        last = (_cut(f, d, -1, None) - _cut(f, d, -2, -1)) / h[-1]
    else:
        a = -(2.0 * h[0] + h[1]) / (h[0] * (h[0] + h[1]))
        b = (h[0] + h[1]) / (h[0] * h[1])
        c = (-h[0]) / (h[1] * (h[0] + h[1]))
        first = a * _cut(f, d, 0, 1) + b * _cut(f, d, 1, 2) + c * _cut(f, d, 2, 3)
        a = h[-1] / (h[-2] * (h[-1] + h[-2]))
        b = -(h[-1] + h[-2]) / (h[-1] * h[-2])
        c = (2 * h[-1] + h[-2]) / (h[-1] * (h[-1] + h[-2]))
        last = a * _cut(f, d, -3, -2) + b * _cut(f, d, -2, -1) + c * _cut(f, d, -1, None)
    return cat([first, center, last], d)
