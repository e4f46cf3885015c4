"""Checks, errors and small tensor helpers shared by the linear algebra ops."""

from __future__ import annotations

from ..._errors import not_implemented
from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd.node import _check_grads
from ..._dtype import torch_type_name

HALF = (D.float16.np, D.bfloat16.np)


class LinAlgError(RuntimeError):
    """Same as torch.linalg.LinAlgError (torch._C._LinAlgError)."""


def check_float(name: str, A: Tensor) -> None:
    if not isinstance(A, Tensor):  # torch's argument parser comes first
        raise TypeError(f"{name.replace('.', '_')}(): argument 'input' (position 1) must be "
                        f"Tensor, not {type(A).__name__}")
    if not (A.is_floating_point() or A.is_complex()):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{torch_type_name(A.dtype)}")


def check_matrix(name: str, A: Tensor, what: str = "A") -> None:
    """A floating or complex tensor of at least 2 dimensions."""
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {what} must have at least 2 dimensions.")
    check_float(name, A)


def check_square(name: str, A: Tensor) -> None:
    check_matrix(name, A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def check_lapack_dtype(A: Tensor, kernel: str) -> None:
    """LAPACK has no half precision: torch raises NotImplementedError naming its CPU kernel."""
    if A._data.dtype in HALF:
        raise not_implemented(kernel, A.dtype)


def batch_prefix(A, flat_index: int) -> str:
    """torch names the failing matrix of a batch: ``(Batch element 3): ``."""
    return f"(Batch element {flat_index}): " if A.ndim > 2 else ""


def first_failure(info) -> int:
    """Flat index of the first nonzero LAPACK-style info code."""
    return int(info.reshape(-1).nonzero()[0][0])


_WARNED: set = set()


def warn_once(msg: str) -> None:
    """A UserWarning the first time only, like torch's TORCH_WARN_ONCE."""
    if msg not in _WARNED:
        _WARNED.add(msg)
        import warnings

        warnings.warn(msg, UserWarning, stacklevel=3)


def real_np(dt):
    """The real NumPy dtype of a (possibly complex) dtype."""
    return dt.type(0).real.dtype


# --- small tensor helpers (for backward formulas) -------------------------------------------------
def eye(n: int, like: Tensor) -> Tensor:
    xp = like._device.xp
    return Tensor._make(xp.eye(n, dtype=like._data.dtype), like._device)


def mH(x: Tensor) -> Tensor:
    return x.mT.conj()


def apply_unmaterialized(node, grads: list) -> tuple:
    """``Node._apply_backward`` for a decomposition whose backward takes None for an unused
    output, as torch's formulas take an undefined gradient: the eigen- and singular-vector terms
    divide by eigenvalue gaps, so with the vectors unused (eigvalsh, svdvals, matrix norms) they
    must be left out, not multiplied by zero (0 / 0 at repeated eigenvalues)."""
    res = node.backward(*grads)
    return _check_grads(node, res if type(res) is tuple else (res,))


def return_type(name: str, fields: str):
    """A named tuple that prints like torch.return_types.<name>."""
    from collections import namedtuple

    base = namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"ndgrad.return_types.{name}(\n{body})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__,
                                "__module__": "ndgrad.return_types"})
