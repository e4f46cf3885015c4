"""Householder reflectors: geqrf (LAPACK's compact QR), householder_product (orgqr) and ormqr.
The products are compositions of rank-one updates, so autograd differentiates them."""

from __future__ import annotations

from ..._errors import not_implemented
from ..._tensor import Tensor
from ...autograd.op import Op
from ..._dtype import torch_type_name
from ._common import HALF, return_type
from .._out import CAST, out_arg

__all__ = ["geqrf", "orgqr", "ormqr"]  # householder_product: torch.linalg's only

Geqrf = return_type("geqrf", "a tau")


def _geqr2(xp, a):
    """LAPACK's geqr2 vectorised over the batch: reflectors H_j = I - tau_j v_j v_j^H (dlarfg's
    choice of beta = -sign(Re alpha) ||(alpha, x)||), applied to the trailing columns."""
    a = a.copy()
    m, n = a.shape[-2:]
    k = min(m, n)
    cplx = a.dtype.kind == "c"
    tau = xp.zeros(a.shape[:-2] + (k,), a.dtype)
    for j in range(k):
        alpha = a[..., j, j].copy()
        x = a[..., j + 1:, j]
        xnorm = xp.sqrt((x.real ** 2 + x.imag ** 2).sum(-1)) if cplx else xp.sqrt((x * x).sum(-1))
        re, im = alpha.real, alpha.imag if cplx else 0 * alpha
        norm = xp.sqrt(re * re + im * im + xnorm * xnorm)
        skip = (xnorm == 0) & (im == 0)
        beta = -xp.copysign(norm, re)
        safe = xp.where(skip, 1, beta)
        t = (safe - alpha) / safe
        scale = 1 / xp.where(skip, 1, alpha - safe)
        a[..., j + 1:, j] = x * scale[..., None]
        a[..., j, j] = xp.where(skip, alpha, beta)
        tau[..., j] = xp.where(skip, 0, t)
        if j + 1 < n:  # apply H_j^H to the trailing columns
            v = a[..., j:, j].copy()
            v[..., 0] = 1
            rest = a[..., j:, j + 1:]
            w = (v.conj()[..., :, None] * rest).sum(-2)
            a[..., j:, j + 1:] = rest - tau[..., j, None, None].conj() * v[..., :, None] * \
                w[..., None, :]
    return a, tau


class _GeqrfNode(Op):
    __slots__ = ()
    _node_name = "torch::autograd::NotImplemented"

    def forward(ctx, a):
        return _geqr2(ctx.xp, a)

    def backward(ctx, *grads):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def _kernel(name: str, t: Tensor) -> None:
    if t._data.dtype.kind not in "fc" or t._data.dtype in HALF:
        raise not_implemented(name, t.dtype)


@out_arg()
def geqrf(input: Tensor, *, out=None):
    """Same as torch.geqrf (Householder QR computed here column by column, as LAPACK's geqr2)."""
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _kernel("geqrf_cpu", input)
    return Geqrf(*_GeqrfNode.apply_one(input))


def _reflector(A: Tensor, i: int) -> Tensor:
    """v_i: zeros above row i, 1 at row i, A's column i below."""
    from ..._creation import arange

    rows = arange(A.shape[-2], device=A.device)
    col = A[..., :, i].masked_fill(rows <= i, 0)
    return col + (rows == i).to(A.dtype)


def _apply(C: Tensor, v: Tensor, t: Tensor, left: bool) -> Tensor:
    """(I - t v v^H) C from the left, C (I - t v v^H) from the right."""
    if left:
        return C - (t[..., None, None] * v[..., :, None]) * (v.conj()[..., None, :] @ C)
    return C - (C @ v[..., :, None]) * (t[..., None, None] * v.conj()[..., None, :])


def _zero_grad(A: Tensor) -> Tensor:
    """Zeros that depend on A (no reflectors: the result is constant, A's gradient zero)."""
    return A.masked_fill(A.new_ones((), dtype=bool), 0)


def _check(name: str, A: Tensor, tau: Tensor) -> None:
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau.ndim} and input.ndim is equal to {A.ndim}")
    if A.ndim > 2 and tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau.shape[:-1])}")


@out_arg(cast=True, dtype_error=CAST)
def householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """Same as torch.linalg.householder_product: the first n columns of H_1 ... H_k."""
    from ..._creation import eye

    name = "torch.linalg.householder_product"
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if n < tau.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    _check(name, A, tau)
    if tau.dtype is not A.dtype:
        raise RuntimeError(f"{name}: tau dtype {torch_type_name(tau.dtype)} does not match input "
                           f"dtype {torch_type_name(A.dtype)}")
    _kernel("orgqr_cpu", A)
    Q = eye(m, n, dtype=A.dtype, device=A.device).expand(*A.shape)
    for i in reversed(range(tau.shape[-1])):
        Q = _apply(Q, _reflector(A, i), tau[..., i], True)
    return Q if tau.shape[-1] else Q + _zero_grad(A)


@out_arg(cast=True, dtype_error=CAST)
def orgqr(input: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """Same as torch.orgqr (torch.linalg.householder_product)."""
    return householder_product(input, tau)


@out_arg()
def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False,
          *, out=None) -> Tensor:
    """Same as torch.ormqr: other multiplied by Q = H_1 ... H_k (or Q^H) from the left or the
    right, without forming Q."""
    name = "torch.ormqr"
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if other.ndim < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{side}] must be equal to input.shape[-2]")
    if tau.shape[-1] != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           "input.shape[-1])")
    _check(name, input, tau)
    for what, t in (("tau", tau), ("other", other)):
        if t.dtype is not input.dtype:
            raise RuntimeError(f"{name}: Expected input and {what} to have the same dtype, but "
                               f"input has dtype{torch_type_name(input.dtype)} and {what} has "
                               f"dtype {torch_type_name(t.dtype)}")
    _kernel("ormqr_cpu", input)
    k = tau.shape[-1]
    # Q C applies H_k first; Q^H C applies H_1^H first; C Q applies H_1 first; C Q^H H_k^H first
    order = range(k) if left == transpose else reversed(range(k))
    C = other
    for i in order:
        t = tau[..., i].conj() if transpose else tau[..., i]
        C = _apply(C, _reflector(input, i), t, left)
    return C if k else C + _zero_grad(input)[..., :1, :1]
