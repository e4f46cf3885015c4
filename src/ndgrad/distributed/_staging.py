"""A tensor's storage as an MPI buffer: contiguous, on the host (or on the GPU when MPI is
CUDA-aware), in a dtype MPI can reduce; ``write_back`` puts the result into the tensor in place."""

from __future__ import annotations

import os

import numpy as np

from .._tensor import Tensor
from ._group import _mpi

# Half types reduce in float32 (an MPI SUM over their raw 16-bit patterns would be wrong).
_WIDEN = {"float16", "bfloat16"}


def cuda_aware() -> bool:
    """Whether to hand CuPy arrays straight to MPI. No portable query exists (the PyPI MPICH is
    not CUDA-aware), so it is opt-in: NDGRAD_MPI_CUDA_AWARE=1."""
    return os.environ.get("NDGRAD_MPI_CUDA_AWARE", "0") == "1"


def compute_dtype(dt: np.dtype) -> np.dtype:
    """The dtype an MPI reduction runs in for arrays of ``dt``."""
    if dt.name in _WIDEN:
        return np.dtype(np.float32)
    return np.dtype(np.uint8) if dt == np.bool_ else dt


def to_mpi_array(a):
    """``a`` itself if MPI can read it where it lies, else a host copy."""
    if isinstance(a, np.ndarray):
        return a
    if cuda_aware():
        import cupy

        cupy.cuda.get_current_stream().synchronize()  # MPI reads the memory behind CUDA's back
        return a
    return a.get()


class Staged:
    """``work`` is the array MPI operates on; it aliases the tensor whenever it can."""

    __slots__ = ("aliased", "reduce", "t", "work")

    def __init__(self, t: Tensor, reduce: bool) -> None:
        a = t._data
        host = to_mpi_array(a)
        self.t, self.reduce = t, reduce
        self.aliased = host is a
        cdt = compute_dtype(a.dtype) if reduce else a.dtype
        if cdt != a.dtype and cdt.itemsize == a.dtype.itemsize:  # bool as uint8: a free view
            host = host.view(cdt)
        elif cdt != a.dtype:
            host, self.aliased = host.astype(cdt), False
        if not host.flags.c_contiguous:
            host, self.aliased = host.copy(order="C"), False
        self.work = host

    @property
    def nbytes(self) -> int:
        return self.work.nbytes

    def mpi(self):
        if self.reduce:
            return self.work
        return [self.work.reshape(-1).view(np.uint8), _mpi().BYTE]

    def write_back(self) -> None:
        if not self.aliased:
            _assign(self.t, self.work)

    @staticmethod
    def fill_from_bytes(t: Tensor, raw: np.ndarray) -> None:
        """Copy a row of gathered bytes into ``t`` in place."""
        _assign(t, raw.view(t._data.dtype).reshape(t._data.shape))


def _assign(t: Tensor, src) -> None:
    a = t._data
    if isinstance(a, np.ndarray):
        a[...] = src.astype(a.dtype, copy=False)
    else:
        import cupy

        a[...] = cupy.asarray(src).astype(a.dtype, copy=False)
