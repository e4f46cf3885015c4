"""LDL^T (Bunch-Kaufman) factorization and solve: torch.linalg.ldl_factor(_ex), ldl_solve,
through LAPACK's sytrf/hetrf and sytrs/hetrs (SciPy), one matrix at a time as torch's CPU
kernel. Not differentiable, as in torch."""

from __future__ import annotations

import numpy as np

from ..._errors import dim_out_of_range, no_derivative, not_implemented
from ..._tensor import Tensor
from ...autograd.op import Op
from ..._dtype import torch_type_name
from ._common import HALF, LinAlgError, batch_prefix, return_type
from ..._backend import scipy_linalg
from ._drivers import _each
from .._out import out_arg

__all__: list[str] = []

LdlFactorEx = return_type("linalg_ldl_factor_ex", "LD pivots info")
LdlFactor = return_type("linalg_ldl_factor", "LD pivots")
_PREFIX = {"f": "s", "d": "d", "F": "c", "D": "z"}


def _lapack(a, name: str):
    sp = scipy_linalg()
    if not sp:
        raise RuntimeError("torch.linalg.ldl_factor and ldl_solve need SciPy's LAPACK here "
                           "(install ndgrad's `fast` extra)")
    return getattr(sp.lapack, _PREFIX[a.dtype.char] + name)


class _NotDifferentiable(Op):
    """Outputs that carry torch's NotImplemented node: backward raises."""

    __slots__ = ()
    _node_name = "torch::autograd::NotImplemented"

    def forward(ctx, *arrays, fn=None, kernel=""):
        ctx.kernel = kernel
        return fn(ctx.xp, *arrays)

    def backward(ctx, *grads):
        raise no_derivative(ctx.kernel)


def _factor(xp, a, hermitian):
    if xp is not np:
        a = a.get()
    trf = _lapack(a, "hetrf" if hermitian and a.dtype.kind == "c" else "sytrf")

    def one(x):
        ld, piv, info = trf(x, lower=1)
        return (np.tril(ld), piv.astype(np.int32)), info

    (ld, piv), info = _each(one, a)
    out = (ld, piv, info.astype(np.int32))
    return tuple(xp.asarray(o) for o in out) if xp is not np else out


def _checks(name: str, A: Tensor) -> None:
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if not (A.is_floating_point() or A.is_complex()):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{torch_type_name(A.dtype)}")
    if A._data.dtype in HALF:
        raise not_implemented("ldl_factor_kernel_cpu", A.dtype)


@out_arg()
def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out=None):
    """Same as torch.linalg.ldl_factor_ex."""
    _checks("torch.linalg.ldl_factor_ex", A)
    ld, piv, info = _NotDifferentiable.apply(A, fn=lambda xp, a: _factor(xp, a, hermitian),
                                             kernel="linalg_ldl_factor_ex")
    if check_errors and bool(info._data.any()):
        i = int(np.asarray(info._data).reshape(-1).nonzero()[0][0])
        raise LinAlgError(f"torch.linalg.ldl_factor_ex: {batch_prefix(A, i)}The factorization "
                          "could not be completed because the input is not invertible.")
    return LdlFactorEx(ld, piv, info)


@out_arg()
def ldl_factor(A: Tensor, *, hermitian: bool = False, out=None):
    """Same as torch.linalg.ldl_factor (a singular D raises, as torch's does)."""
    ld, piv, info = ldl_factor_ex(A, hermitian=hermitian)
    if bool(info._data.any()):
        code = int(np.asarray(info._data).reshape(-1)[np.asarray(info._data).reshape(-1) != 0][0])
        raise RuntimeError(f"torch.linalg.ldl_factor: Unknown error code: {code}.")
    return LdlFactor(ld, piv)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False,
              out=None) -> Tensor:
    """Same as torch.linalg.ldl_solve."""
    if LD.ndim < 2:
        raise RuntimeError("torch.linalg.ldl_solve: The input tensor LD must have at least 2 "
                           "dimensions.")
    if B.ndim < 2:
        raise dim_out_of_range(-2, B.ndim)
    if B.dtype is not LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{torch_type_name(B.dtype)} and A of type {torch_type_name(LD.dtype)} "
                           "instead.")
    if LD.shape[-1] != B.shape[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix "
                           f"is {LD.shape[-2]} by {LD.shape[-1]} but each b matrix is "
                           f"{B.shape[-2]} by {B.shape[-1]}")
    herm = hermitian and LD.is_complex()

    def solve(xp, ld, piv, b):
        host = [x if xp is np else x.get() for x in (ld, piv, b)]
        trs = _lapack(host[0], "hetrs" if herm else "sytrs")

        def one(x, p, y):
            return (trs(x, p[:, 0], y, lower=1)[0],), 0

        out = _each(one, host[0], host[1][..., None].astype(np.int32), host[2])[0][0]
        return out if xp is np else xp.asarray(out)

    return _NotDifferentiable.apply(LD, pivots, B, fn=solve, kernel="linalg_ldl_solve")

