"""fakecupy's cupyx: scatter_add (same dtype limits as cupy.add.at) and errstate."""
import contextlib

import cupy


def scatter_add(a, slices, value):
    cupy.add.at(a, slices, value)


@contextlib.contextmanager
def errstate(*, linalg=None):
    """CuPy's: linalg="raise" makes cupy.linalg raise LinAlgError (it checks LAPACK's info)."""
    old = cupy._LINALG[0]
    if linalg is not None:
        cupy._LINALG[0] = linalg
    try:
        yield
    finally:
        cupy._LINALG[0] = old
