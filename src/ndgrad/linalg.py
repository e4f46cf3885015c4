"""Same as torch.linalg (the functions implemented so far)."""

from ._ops.linalg import (LinAlgError, det, diagonal_ as diagonal, eigh, eigvals, eigvalsh, inv,
                          matrix_norm, norm, svd, svdvals, vector_norm)

__all__ = ["LinAlgError", "det", "diagonal", "eigh", "eigvals", "eigvalsh", "inv", "matrix_norm",
           "norm", "svd", "svdvals", "vector_norm"]
