"""Same as torch.linalg."""

from ._ops.combinatorics import linalg_vander as vander
from ._ops.linalg._common import LinAlgError
from ._ops.linalg.extras import tensorinv, tensorsolve
from ._ops.linalg.householder import householder_product
from ._ops.linalg.ldl import ldl_factor, ldl_factor_ex, ldl_solve
from ._ops.linalg.triangular import linalg_lu_solve as lu_solve
from ._ops.linalg.contractions import linalg_cross as cross
from ._ops.linalg.contractions import multi_dot, vecdot
from ._ops.linalg.diagonal import linalg_diagonal as diagonal
from ._ops.linalg.factorizations import (
                                         cholesky_ex,
                                         eig,
                                         eigh,
                                         eigvals,
                                         eigvalsh,
                                         lu,
                                         lu_factor,
                                         lu_factor_ex,
                                         svdvals,
)
from ._ops.linalg.factorizations import linalg_cholesky as cholesky
from ._ops.linalg.factorizations import linalg_qr as qr
from ._ops.linalg.factorizations import linalg_svd as svd
from ._ops.linalg.matfuncs import cond, det, matrix_exp, matrix_power
from ._ops.linalg.matfuncs import linalg_slogdet as slogdet
from ._ops.linalg.norms import matrix_norm, norm, vector_norm
from ._ops.linalg.products import matmul
from ._ops.linalg.solvers import (
                                         inv,
                                         inv_ex,
                                         lstsq,
                                         matrix_rank,
                                         pinv,
                                         solve,
                                         solve_ex,
                                         solve_triangular,
)

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig",
           "eigh", "eigvals", "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor",
           "ldl_factor_ex", "ldl_solve", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
           "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot",
           "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd",
           "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm"]
