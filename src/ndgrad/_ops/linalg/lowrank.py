"""torch.svd_lowrank and torch.pca_lowrank: Halko et al.'s randomized range finder, ported from
torch/_lowrank.py (its Gaussian draws come from ndgrad's generator, whose stream is torch's)."""

from __future__ import annotations

from ... import _dtype as D
from ..._tensor import Tensor

__all__ = ["pca_lowrank", "svd_lowrank"]


def _basis(A: Tensor, q: int, niter, M) -> Tensor:
    """An orthonormal Q whose range approximates A's (minus M's), after niter power steps."""
    from ...random import randn
    from .factorizations import linalg_qr

    niter = 2 if niter is None else niter
    dtype = A.dtype if A.is_floating_point() or A.is_complex() else D.float32
    R = randn(A.shape[-1], q, dtype=dtype, device=A.device)

    def project(X, B):  # X B, less M B
        return X @ B if M is None else X @ B - (M if X is A else M.mH) @ B

    Q = linalg_qr(project(A, R)).Q
    for _ in range(niter):
        Q = linalg_qr(A.mH @ Q if M is None else A.mH @ Q - M.mH @ Q).Q
        Q = linalg_qr(project(A, Q)).Q
    return Q


def _svd_lowrank(A: Tensor, q=6, niter=2, M=None) -> tuple:
    from .factorizations import linalg_svd

    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:  # the algorithm assumes a tall A
        A = A.mH
        M = None if M is None else M.mH
    Q = _basis(A, q, niter, M)
    B = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M
    U, S, Vh = linalg_svd(B, full_matrices=False)
    V, U = Vh.mH, Q @ U
    return (V, S, U) if m < n else (U, S, V)


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None):
    """Same as torch.svd_lowrank: (U, S, V) of a rank-q approximation of A (minus M)."""
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2):
    """Same as torch.pca_lowrank (dense inputs)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)
