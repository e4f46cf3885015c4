"""torch's layout and quantization-scheme objects, the remaining memory formats, and the build
flags torch reports (what an eager NumPy build has)."""

from __future__ import annotations

from ._ops.convert import contiguous_format, memory_format

__all__ = ["channels_last_3d", "has_lapack", "has_mkl", "has_openmp", "has_spectral",
           "is_storage", "jagged", "layout", "legacy_contiguous_format", "per_channel_affine",
           "per_channel_affine_float_qparams", "per_channel_symmetric", "per_tensor_affine",
           "per_tensor_symmetric", "qscheme", "strided"]


class _Named:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __eq__(self, other) -> bool:  # Tensor.layout is the string "strided"
        return self is other or isinstance(other, str) and other == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self):
        return (_by_name, (type(self).__name__, self.name))


class layout(_Named):
    """Same as torch.layout: every ndgrad tensor is strided."""

    __slots__ = ()


class qscheme(_Named):
    """Same as torch.qscheme (ndgrad has no quantized tensors; the names exist for code that
    mentions them)."""

    __slots__ = ()


strided, jagged = layout("strided"), layout("jagged")
per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric, \
    per_channel_affine_float_qparams = (qscheme(n) for n in (
        "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
        "per_channel_symmetric", "per_channel_affine_float_qparams"))
channels_last_3d = memory_format("channels_last_3d")
legacy_contiguous_format = contiguous_format  # torch's is the same object

has_lapack, has_spectral = True, True  # NumPy's (or SciPy's) LAPACK and pocketfft
has_mkl, has_openmp = False, False


def _by_name(kind: str, name: str):
    return globals()[name] if kind in ("layout", "qscheme") else None


def is_storage(obj) -> bool:
    """Same as torch.is_storage: ndgrad has no storage objects, so always False."""
    return False
