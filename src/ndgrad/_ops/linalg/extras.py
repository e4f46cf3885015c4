"""The rest of torch's linear algebra names: tensorinv/tensorsolve, addr, renorm, pdist, the
deprecated frobenius_norm/nuclear_norm, and the removed functions that only raise torch's message
(eig, lstsq, solve, symeig, matrix_rank)."""

from __future__ import annotations

import math

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor, wrap_dim
from ...autograd.op import Op
from ...autograd.torch_saves import saves
from .._inplace import inplace
from ..._dtype import torch_type_name
from ._common import warn_once
from .._out import CAST, out_arg

__all__ = ["addr", "eig", "frobenius_norm", "lstsq", "matrix_rank", "nuclear_norm", "pdist",
           "renorm", "solve", "symeig"]


# --- tensor equations -----------------------------------------------------------------------------
@out_arg(cast=True, dtype_error=CAST)
def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """Same as torch.linalg.tensorinv."""
    from ._common import LinAlgError
    from .solvers import inv_ex

    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    end, start = tuple(A.shape[ind:]), tuple(A.shape[:ind])
    n = math.prod(end)
    res, info = inv_ex(A.reshape(n, n))
    if int(info.item()):  # torch names the check "inv", not "linalg.inv"
        raise LinAlgError(f"inv: The diagonal element {int(info.item())} is zero, the inversion "
                          "could not be completed because the input matrix is singular.")
    return res.reshape(end + start)


@out_arg()
def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """Same as torch.linalg.tensorsolve."""
    from .solvers import solve

    if dims is not None:
        dims = list(dims)
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))
    shape = tuple(A.shape[B.ndim:])
    n, m = math.prod(shape), B.numel()
    if n != m:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[other.ndim:]) "
                           f"== prod(self.shape[:other.ndim]), but got {n} != {m}")
    return solve(A.reshape(n, n), B.flatten()).reshape(shape)


# --- addr -----------------------------------------------------------------------------------------
class Addr(Op):
    __slots__ = ()

    def forward(ctx, c, a, b, beta, alpha, dt):
        ctx.save(a, b)  # the inputs themselves, so that second derivatives see them
        a, b = a.astype(dt.np, copy=False), b.astype(dt.np, copy=False)
        ctx.beta, ctx.alpha, ctx.dt = beta, alpha, dt
        if dt is D.bool_:  # torch: (beta and input) or (alpha and vec1 vec2^T)
            out = a[:, None] & b[None, :] & bool(alpha)
            return out | c.astype(bool) if beta else out
        out = a[:, None] * b[None, :]
        if alpha != 1:
            out = out * alpha
        if beta:  # beta == 0 ignores the input, nan and inf included
            out = out + (c.astype(dt.np) if beta == 1 else c.astype(dt.np) * beta)
        return out.astype(dt.np)

    def backward(ctx, g):
        # torch's: self maybe_multiply(grad, conj(beta)), vec1 grad @ conj(vec2) * conj(alpha)...
        a, b = (t.to(ctx.dt) for t in ctx.saved_tensors)
        need = ctx.needs_input_grad
        beta, alpha = _conj(ctx.beta), _conj(ctx.alpha)
        gc = (g if beta == 1 else g * beta) if need[0] else None
        ga = (g @ b.conj()) * alpha if need[1] else None
        gb = (g.mT @ a.conj()) * alpha if need[2] else None
        return gc, ga, gb, None, None, None


def _conj(x):
    return x.conjugate() if isinstance(x, complex) else x


def _scalar_checks(dt: D.dtype, beta, alpha) -> None:
    for name, v in (("beta", beta), ("alpha", alpha)):
        if dt._kind == 1 and isinstance(v, float):
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                               "floating point number.")
        if dt._kind == 0 and not isinstance(v, (bool, int)):
            raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
        if dt._kind < 3 and isinstance(v, complex):
            raise RuntimeError(f"For non-complex input tensors, argument {name} must not be a "
                               "complex number.")


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """Same as torch.addr: beta * input + alpha * outer(vec1, vec2)."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    dt = D.result_type(input, vec1, vec2)
    _scalar_checks(dt, beta, alpha)
    input.expand(vec1.shape[0], vec2.shape[0])  # torch's broadcast error
    res = Addr.apply(input, vec1, vec2, beta, alpha, dt)
    if out is not None:
        from .._out import _out

        return _out(res, out, "addr")
    return res


def addr_(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    return inplace(input, addr, vec1, vec2, beta=beta, alpha=alpha)


# --- renorm, pdist --------------------------------------------------------------------------------
def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """Same as torch.renorm: slices along dim whose p-norm exceeds maxnorm are scaled to it."""
    from ..elementwise import where
    from .norms import vector_norm

    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    if input.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           "dimensions")
    d = wrap_dim(dim, input.ndim)
    dims = tuple(i for i in range(input.ndim) if i != d)
    norm = vector_norm(input, p, dims, keepdim=True)
    factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * factor


def renorm_(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    return inplace(input, renorm, p, dim, maxnorm)


def _row_norms(xp, d, p):
    """The p-norm of each row of d (torch's pdist kernel's cases)."""
    a = xp.abs(d)
    if p == 0:
        return (a != 0).sum(-1).astype(d.dtype)
    if p == 1:
        return a.sum(-1)
    if p == 2:
        return xp.sqrt((d * d).sum(-1))
    if p == math.inf:
        return a.max(-1) if a.shape[-1] else a.sum(-1)  # no columns: distance 0
    return (a ** p).sum(-1) ** (1.0 / p)


def _pair_grad(xp, d, dist, g, p):
    """d(dist)/d(diff) * g for each pair (torch's _pdist_backward: 0 where dist is 0)."""
    if p == 0:
        return xp.zeros_like(d)
    safe = xp.where(dist == 0, 1, dist)[:, None]
    gg = xp.where(dist == 0, 0, g)[:, None]
    if p == 1:
        return xp.sign(d) * gg
    if p == 2:
        return d / safe * gg
    if p == math.inf:
        return xp.sign(d) * (xp.abs(d) == dist[:, None]) * gg
    a = xp.abs(d)
    if p < 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = xp.sign(d) * a ** (p - 1) / safe ** (p - 1) * gg
        return xp.where(d == 0, 0, out)
    return d * a ** (p - 2) / safe ** (p - 1) * gg


class Pdist(Op):
    """Distances of the pairs (i, j > i), one row of pairs at a time: no N^2 x M temporary."""

    __slots__ = ()

    def forward(ctx, x, p):
        xp = ctx.xp
        ctx.p = p
        rows = [_row_norms(xp, x[i] - x[i + 1:], p) for i in range(x.shape[0] - 1)]
        out = xp.concatenate(rows) if rows else xp.zeros((0,), x.dtype)
        ctx.save(x, out)
        return out.astype(x.dtype)

    def backward(ctx, g):
        x, out = ctx.saved_tensors
        return PdistBackward.apply(g, x, out, ctx.p), None


class PdistBackward(Op):
    """torch's _pdist_backward, by rows of pairs; as in torch, it has no derivative itself."""

    __slots__ = ()

    def forward(ctx, g, x, dist, p):
        xp = ctx.xp
        gx = xp.zeros_like(x)
        k = 0
        for i in range(x.shape[0] - 1):
            n = x.shape[0] - i - 1
            c = _pair_grad(xp, x[i] - x[i + 1:], dist[k:k + n], g[k:k + n], p)
            gx[i] += c.sum(0)
            gx[i + 1:] -= c
            k += n
        return gx

    def backward(ctx, *grads):
        raise NotImplementedError("the derivative for '_pdist_backward' is not implemented.")


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """Same as torch.pdist: the p-norm distance of every pair of rows (i < j), row-major."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    out = Pdist.apply(input, float(p))
    return saves(out, outputs=(out,))  # torch's node saves its result: a later write raises


# --- deprecated norms -----------------------------------------------------------------------------
def _norm_dtype(input: Tensor) -> None:
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError("norm(): input dtype should be either floating point or complex. Got "
                           f"{torch_type_name(input.dtype)} instead.")


@out_arg()
def frobenius_norm(input: Tensor, dim, keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.frobenius_norm (deprecated there for linalg.vector_norm)."""
    from .norms import vector_norm

    warn_once("at::frobenius_norm is deprecated and it is just left for JIT compatibility. It "
              "will be removed in a future PyTorch release. Please use `linalg.vector_norm(A, 2., "
              "dim, keepdim)` instead")
    dim = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dim) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions "
                           "instead.")
    _norm_dtype(input)
    return vector_norm(input, 2, dim, keepdim)


@out_arg()
def nuclear_norm(input: Tensor, dim=None, keepdim: bool = False, *, out=None) -> Tensor:
    """Same as torch.nuclear_norm (deprecated there for linalg.matrix_norm)."""
    from .norms import matrix_norm

    warn_once("at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will "
              "be removed in a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', "
              "dim, keepdim)` instead")
    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


# --- removed in torch 1.9+: torch's messages ------------------------------------------------------
_REMOVED = "This function was deprecated since version 1.9 and is now removed. "
_MESSAGES = {
    "eig": _REMOVED + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` "
    "rather than real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be "
    "replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, "
    "eigenvectors=True) should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)",
    "lstsq": _REMOVED + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
    "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition in the "
    "returned tuple (although it returns other information about the problem).\n\nTo get the QR "
    "decomposition consider using `torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` "
    "stored the residuals of the solution in the last m - n columns of the returned value "
    "whenever m > n. In torch.linalg.lstsq, the residuals are in the field 'residuals' of the "
    "returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = torch.lstsq(B, "
    "A).solution[:A.size(1)]\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
    "solve": _REMOVED + "`torch.solve` is deprecated in favor of `torch.linalg.solve`. "
    "`torch.linalg.solve` has its arguments reversed and does not return the LU factorization.\n\n"
    "To get the LU factorization see `torch.lu`, which can be used with `torch.lu_solve` or "
    "`torch.lu_unpack`.\nX = torch.solve(B, A).solution should be replaced with:\nX = "
    "torch.linalg.solve(A, B)",
    "symeig": _REMOVED + "The default behavior has changed from using the upper triangular "
    "portion of the matrix by default to using the lower triangular portion.\n\nL, _ = "
    "torch.symeig(A, upper=upper) should be replaced with:\nL = torch.linalg.eigvalsh(A, "
    "UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) should be "
    "replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
    "matrix_rank": "This function was deprecated since version 1.9 and is now removed.\nPlease "
    "use the `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed "
    "in `torch.linalg.matrix_rank()` to 'hermitian'.",
}


def _removed(name: str):
    def fn(*args, **kwargs):
        raise RuntimeError(_MESSAGES[name])

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name} was removed in torch 1.9: raises torch's message."
    return fn


eig, lstsq, solve, symeig, matrix_rank = (_removed(n) for n in
                                          ("eig", "lstsq", "solve", "symeig", "matrix_rank"))
