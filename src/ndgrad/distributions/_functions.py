"""torch ops the distributions use that ndgrad's core lacks, composed from its public ops."""

from __future__ import annotations

import ndgrad
from ndgrad import Tensor


def cholesky_solve(b: Tensor, l: Tensor) -> Tensor:  # noqa: E741
    """torch.cholesky_solve(b, l): (l l^T)^-1 b. Solved as that product, not by triangular
    solves, so that l's upper triangle gets torch's gradient (its backward treats l as full)."""
    return ndgrad.linalg.solve(l @ l.mT, b)


def cholesky_inverse(l: Tensor) -> Tensor:  # noqa: E741
    """torch.cholesky_inverse(l): (l l^T)^-1, with torch's full-matrix gradient in l."""
    return ndgrad.linalg.inv(l @ l.mT)


def tril_indices(row: int, col: int, offset: int = 0, device=None) -> Tensor:
    return ndgrad.ones(row, col, device=device).tril(offset).nonzero().T
