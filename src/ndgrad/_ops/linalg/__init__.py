"""Linear algebra: products, contractions, einsum, diagonals, factorizations, solvers, matrix
functions, norms and the observation statistics built on them. Exports the top-level torch
names; the torch.linalg namespace is ndgrad/linalg.py."""

from . import contractions as _contractions
from . import diagonal as _diagonal
from . import einsum as _einsum
from . import extras as _extras
from . import factorizations as _factorizations
from . import householder as _householder
from . import lowrank as _lowrank
from . import matfuncs as _matfuncs
from . import products as _products
from . import solvers as _solvers
from . import stats as _stats
from . import triangular as _triangular
from ._common import LinAlgError  # noqa: F401
from .contractions import *
from .diagonal import *
from .einsum import *
from .extras import *
from .factorizations import *
from .householder import *
from .lowrank import *
from .matfuncs import *
from .products import *
from .products import _dtype_check, _mm  # noqa: F401  (nn.functional's Linear uses them)
from .solvers import *
from .stats import *
from .triangular import *
from .norms import dist  # (torch.dist)

__all__ = [n for m in (_contractions, _diagonal, _einsum, _extras, _factorizations, _householder,
                       _lowrank, _matfuncs, _products, _solvers, _stats, _triangular)
           for n in m.__all__] + ["dist"]
