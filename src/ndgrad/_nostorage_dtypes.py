"""torch's dtypes that NumPy cannot store: the sub-byte integers (int1..int7, uint1..uint7), the
quantized types (qint8, quint8, qint32, quint4x2, quint2x4), float4_e2m1fn_x2 and complex32
(chalf). They are real dtype objects with torch's repr, itemsize and is_* flags; making a tensor
of one raises ``NoStorageError`` (a TypeError that is also a NotImplementedError, so code that
catches torch's RuntimeError/NotImplementedError for these dtypes still catches it).

Why not store them: ndgrad derives a tensor's dtype from its NumPy array, so a dtype without a
NumPy twin (complex half, 4-bit ints) cannot be reported consistently everywhere; torch itself
computes almost nothing with the sub-byte and quantized types (its empty()/zeros() work, its
tensor()/to() raise)."""

from __future__ import annotations

from ._dtype import dtype

__all__ = ["chalf", "complex32", "float4_e2m1fn_x2", "qint32", "qint8", "quint2x4", "quint4x2",
           "quint8", *(f"int{b}" for b in range(1, 8)), *(f"uint{b}" for b in range(1, 8))]


class NoStorageError(TypeError, NotImplementedError):
    """Raised when a tensor of a dtype NumPy cannot hold is asked for."""


class _NoStorageDtype(dtype):
    __slots__ = ("_quantized",)

    def __init__(self, name: str, kind: int, itemsize: int, signed: bool, quantized=False):
        self.name, self._kind, self.itemsize, self._quantized = name, kind, itemsize, quantized
        self.is_floating_point, self.is_complex = kind == 2, kind == 3
        dtype.is_signed.__set__(self, signed)  # the base slot; the property below reads it

    @property
    def is_signed(self) -> bool:
        if self._quantized:  # torch: isSignedType is undefined for quantized types
            raise RuntimeError("isSignedType not supported for quantized types")
        return dtype.is_signed.__get__(self)

    @property
    def np(self):
        raise NoStorageError(
            f"ndgrad cannot create tensors of dtype ndgrad.{self.name}: NumPy has no such element "
            "type (ndgrad has the dtype object only; use a wider dtype such as "
            f"{'complex64' if self.is_complex else 'float32' if self._kind == 2 else 'int8'})")

    def to_real(self):
        from ._dtype import float16
        return float16 if self is complex32 else self

    def __reduce__(self):
        return (_by_name, (self.name,))


def _by_name(name: str):
    return _BY_NAME[name]


int1, int2, int3, int4, int5, int6, int7 = (_NoStorageDtype(f"int{b}", 1, 1, True)
                                            for b in range(1, 8))
uint1, uint2, uint3, uint4, uint5, uint6, uint7 = (_NoStorageDtype(f"uint{b}", 1, 1, False)
                                                   for b in range(1, 8))
qint8, quint8, quint4x2, quint2x4 = (_NoStorageDtype(n, 1, 1, n[0] == "q" and n[1] == "i", True)
                                     for n in ("qint8", "quint8", "quint4x2", "quint2x4"))
qint32 = _NoStorageDtype("qint32", 1, 4, True, True)
float4_e2m1fn_x2 = _NoStorageDtype("float4_e2m1fn_x2", 2, 1, True)
complex32 = chalf = _NoStorageDtype("complex32", 3, 4, True)
_BY_NAME = {d.name: d for d in (int1, int2, int3, int4, int5, int6, int7, uint1, uint2, uint3,
                                uint4, uint5, uint6, uint7, qint8, quint8, qint32, quint4x2,
                                quint2x4, float4_e2m1fn_x2, complex32)}


def _promotions():
    """torch.promote_types' answers for these dtypes (every other pair raises RuntimeError, as
    torch's does): each with itself; complex32 with the computing dtypes; uint1..7 with floating
    dtypes (as uint16..64 do) and with float4_e2m1fn_x2, as uint16..64 (torch's table)."""
    from . import _dtype as D

    out = {(d, d): d for d in _BY_NAME.values()}
    for d in D.ALL:
        c = complex32 if d._kind < 2 or d is D.float16 else D._promote_pair(d, D.complex64) \
            if d is not D.float64 else D.complex128
        out[complex32, d] = out[d, complex32] = c
    for u in (uint1, uint2, uint3, uint4, uint5, uint6, uint7):
        for f in (D.float16, D.bfloat16, D.float32, D.float64, float4_e2m1fn_x2):
            out[u, f] = out[f, u] = f
    for u in (D.uint16, D.uint32, D.uint64):
        out[u, float4_e2m1fn_x2] = out[float4_e2m1fn_x2, u] = float4_e2m1fn_x2
    return out


_dtype_module = __import__("ndgrad._dtype", fromlist=["_PROMOTE"])
_dtype_module._PROMOTE.update(_promotions())  # the one promotion table, extended here


def _chalf(self, memory_format=None):
    """Same as torch.Tensor.chalf: ``self.to(torch.complex32)``; ndgrad has no complex-half
    storage, so this raises NoStorageError (see the module docstring)."""
    return self.to(complex32)


