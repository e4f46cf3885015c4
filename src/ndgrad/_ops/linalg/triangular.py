"""Solvers that take a factorization: cholesky_solve, cholesky_inverse, triangular_solve,
torch.lu, lu_unpack, lu_solve (torch's and torch.linalg's)."""

from __future__ import annotations

from ..._errors import not_implemented
from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd.op import Op
from ..._dtype import torch_type_name
from . import _drivers, _lapack
from ._common import HALF, eye, mH, return_type, warn_once
from .._out import CAST, out_arg

__all__ = ["cholesky_inverse", "cholesky_solve", "lu", "lu_solve", "lu_unpack",
           "triangular_solve"]

TriangularSolve = return_type("triangular_solve", "solution cloned_coefficient")
LuWithInfo = return_type("_lu_with_info", "LU pivots info")
LuUnpack = return_type("lu_unpack", "P L U")


def _mH(xp, a):
    return xp.conj(a.swapaxes(-1, -2))


def _int_kernel(kernel: str, t: Tensor) -> None:
    if t._data.dtype.kind not in "fc" or t._data.dtype in HALF:
        raise not_implemented(kernel, t.dtype)


def _same_dtype(b: Tensor, A: Tensor, prefix: str = "") -> None:
    if b.dtype is not A.dtype:
        raise RuntimeError(f"{prefix}Expected b and A to have the same dtype, but found b of type "
                           f"{torch_type_name(b.dtype)} and A of type {torch_type_name(A.dtype)} "
                           "instead.")


def _square(A: Tensor, prefix: str = "") -> None:
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{prefix}A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


# --- Cholesky -------------------------------------------------------------------------------------
def _cho_solve(xp, b, L, upper):
    """(L L^H)^-1 b (or (U^H U)^-1 b) by two triangular solves."""
    first, second = (_mH(xp, L), L) if upper else (L, _mH(xp, L))
    y = _drivers.solve_triangular(xp, first, b, upper=False, unit=False)
    return _drivers.solve_triangular(xp, second, y, upper=True, unit=False)


class CholeskySolve(Op):
    __slots__ = ()

    def forward(ctx, b, L, upper):
        ctx.upper = upper
        x = _cho_solve(ctx.xp, b, L, upper)
        ctx.save(L, x)
        return x

    def backward(ctx, g):
        # torch's cholesky_solve_backward: L's gradient is a full matrix, not a triangle
        L, x = ctx.saved_tensors
        gb = CholeskySolve.apply(g, L, ctx.upper)
        if not ctx.needs_input_grad[1]:
            return gb, None, None
        common = gb @ mH(x)
        common = common + mH(common)
        return gb, -(L @ common) if ctx.upper else -(common @ L), None


@out_arg(cast=True, dtype_error=CAST)
def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """Same as torch.cholesky_solve: solves A X = input for A = L L^H given L = input2."""
    b, L = input, input2
    if b.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {b.ndim} dimensions "
                           "instead")
    if L.ndim < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {L.ndim} dimensions "
                           "instead")
    _same_dtype(b, L)
    _int_kernel("cholesky_solve_cpu", b)
    _square(L)
    if L.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{L.shape[-2]} by {L.shape[-1]} but each b matrix is {b.shape[-2]} "
                           f"by {b.shape[-1]}")
    return CholeskySolve.apply(b, L, upper)


class CholeskyInverse(Op):
    __slots__ = ()

    def forward(ctx, L, upper):
        xp = ctx.xp
        ctx.upper = upper
        n = L.shape[-1]
        inv = _cho_solve(xp, xp.broadcast_to(xp.eye(n, dtype=L.dtype), L.shape), L, upper)
        ctx.save(L, inv)
        return inv

    def backward(ctx, g):
        # torch's cholesky_inverse_backward
        L, inv = ctx.saved_tensors
        common = inv @ ((g + mH(g)) @ inv)
        return -(L @ common) if ctx.upper else -(common @ L), None


@out_arg(cast=True, dtype_error=CAST)
def cholesky_inverse(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """Same as torch.cholesky_inverse."""
    if input.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 "
                           "dimensions.")
    _int_kernel("cholesky_inverse_out_cpu", input)
    _square(input, "cholesky_inverse: ")
    return CholeskyInverse.apply(input, upper)


# --- triangular_solve -----------------------------------------------------------------------------
@out_arg()
def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False, *, out=None):
    """Same as torch.triangular_solve (deprecated there for linalg.solve_triangular)."""
    from .solvers import solve_triangular

    warn_once("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular"
              "and will be removed in a future PyTorch release.\ntorch.linalg.solve_triangular "
              "has its arguments reversed and does not return a copy of one of the inputs.\n"
              "X = torch.triangular_solve(B, A).solution\nshould be replaced with\n"
              "X = torch.linalg.solve_triangular(A, B).")
    for name, t in (("b", b), ("A", A)):
        if t.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 "
                               f"dimensions, but it has {t.ndim} dimensions instead")
    _square(A)
    _same_dtype(b, A)
    M = A.mT if transpose else A
    x = solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolve(x, A.expand(*x.shape[:-2], *A.shape[-2:]).clone())


# --- LU -------------------------------------------------------------------------------------------
@out_arg()
def lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out=None):
    """Same as torch.lu (deprecated there for linalg.lu_factor): (LU, pivots[, infos])."""
    from .factorizations import lu_factor_ex

    warn_once("torch.lu is deprecated in favor of torch.linalg.lu_factor / "
              "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.\n"
              "LU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\nLU, pivots = "
              "torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
              "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = "
              "torch.linalg.lu_factor_ex(A, compute_pivots)")
    if A.ndim < 2:
        raise RuntimeError("torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, piv, info = lu_factor_ex(A)
    return LuWithInfo(LU, piv, info) if get_infos else (LU, piv)


def _check_pivots(piv: Tensor, name: str) -> None:
    if piv.dtype is not D.int32:
        raise RuntimeError(f"{name}: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used with "
                           "the output produced by torch.linalg.lu_factor")


@out_arg()
def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True, *, out=None):
    """Same as torch.lu_unpack: (P, L, U) with A = P L U."""
    from ..shape import tril, triu

    if LU_data.ndim < 2:
        raise RuntimeError("torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(LU_data.shape)} instead")
    _check_pivots(LU_pivots, "torch.lu_unpack")
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    dev, xp = LU_data._device, LU_data._device.xp
    empty = Tensor._make(xp.empty((0,), LU_data._data.dtype), dev)
    if unpack_data:
        L = tril(LU_data[..., :, :k], -1) + eye(m, LU_data)[..., :k]
        U = triu(LU_data[..., :k, :])
    else:
        L = U = empty
    P = empty
    if unpack_pivots:
        P = Tensor._make(_lapack.permutation(xp, LU_pivots._data, m, LU_data._data.dtype), dev)
    return LuUnpack(P, L, U)


@out_arg()
def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
                    adjoint: bool = False, out=None) -> Tensor:
    """Same as torch.linalg.lu_solve."""
    from .solvers import solve_triangular

    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if LU.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor LU must have at least 2 "
                           "dimensions.")
    _square(LU, "torch.linalg.lu_solve: ")
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
    if pivots.dtype is not D.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    if B.dtype is not LU.dtype:
        raise RuntimeError("linalg.lu_solve: Expected LU and B to have the same dtype, but found "
                           f"LU of type {torch_type_name(LU.dtype)} and B of type "
                           f"{torch_type_name(B.dtype)} instead")
    P, L, U = lu_unpack(LU, pivots)
    if not left:  # X A = B is A^H X^H = B^H
        return mH(linalg_lu_solve(LU, pivots, mH(B), adjoint=not adjoint))
    if adjoint:  # A^H = U^H L^H P^T
        y = solve_triangular(mH(U), B, upper=False)
        return P @ solve_triangular(mH(L), y, upper=True, unitriangular=True)
    y = solve_triangular(L, P.mT @ B, upper=False, unitriangular=True)
    return solve_triangular(U, y, upper=True)


@out_arg()
def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out=None) -> Tensor:
    """Same as torch.lu_solve (deprecated there for linalg.lu_solve)."""
    warn_once("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed "
              "in a future PyTorch release.\nNote that torch.linalg.lu_solve has its arguments "
              "reversed.\nX = torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = "
              "torch.linalg.lu_solve(LU, pivots, B)")
    return linalg_lu_solve(LU_data, LU_pivots, b)
