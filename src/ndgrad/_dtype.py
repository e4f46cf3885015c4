"""Torch-named dtypes, PyTorch's type promotion and the default dtype."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np

from ._backend import scalar_array


class dtype:
    """A tensor element type; prints as ``ndgrad.float32`` like ``torch.float32``."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_kind")

    def __init__(self, name: str, np_dtype, kind: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self._kind = kind  # 0 bool, 1 integer, 2 floating, 3 complex
        self.is_floating_point = kind == 2
        self.is_complex = kind == 3
        self.is_signed = name != "bool" and not name.startswith("uint") and name[-3:] != "fnu"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return "ndgrad." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> "dtype":
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self) -> "dtype":
        return {"float64": complex128, "complex128": complex128}.get(self.name, complex64)


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
complex64 = dtype("complex64", np.complex64, 3)
complex128 = dtype("complex128", np.complex128, 3)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64,
       complex128)
# torch's storage-only dtypes: tensors hold and convert them, few ops compute with them (torch
# raises "not implemented" too), and they promote only with themselves (and uint with floats)
uint16, uint32, uint64 = (dtype(f"uint{b}", f"uint{b}", 1) for b in (16, 32, 64))
float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz, float8_e8m0fnu = (
    dtype(n, getattr(ml_dtypes, n), 2) for n in ("float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
                                                  "float8_e5m2fnuz", "float8_e8m0fnu"))
EXTRA = (uint16, uint32, uint64, float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz,
         float8_e8m0fnu)
ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32,
           "long": int64, "cfloat": complex64, "cdouble": complex128, "bool": bool_}
_BY_NAME = {d.name: d for d in ALL + EXTRA}
_FROM_NP = {d.np: d for d in ALL + EXTRA}


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


# --- names in torch's messages ------------------------------------------------------------------
# c10's names of a dtype: its ScalarType (most messages) and its C++ type as typeid prints it
_C10_NAMES = {"bool": ("Bool", "bool"), "uint8": ("Byte", "unsigned char"),
              "int8": ("Char", "signed char"), "int16": ("Short", "short int"),
              "int32": ("Int", "int"), "int64": ("Long", "long int"),
              "float16": ("Half", "c10::Half"), "bfloat16": ("BFloat16", "c10::BFloat16"),
              "float32": ("Float", "float"), "float64": ("Double", "double"),
              "complex64": ("ComplexFloat", "c10::complex<float>"),
              "complex128": ("ComplexDouble", "c10::complex<double>")}


def torch_type_name(d: dtype) -> str:
    """c10's ScalarType name of a dtype ('Float', 'Long', 'UInt16', 'Float8_e4m3fn')."""
    names = _C10_NAMES.get(d.name)
    if names is not None:
        return names[0]
    return "UInt" + d.name[4:] if d.name[0] == "u" else d.name.capitalize()


def meta_name(d: dtype) -> str:
    """A dtype as C++'s typeid names it in some torch messages ('float', 'long int')."""
    names = _C10_NAMES.get(d.name)
    return d.name if names is None else names[1]


def cpp_type_name(d: dtype) -> str:
    """A dtype as c10's checked scalar conversion names it ('int64_t', 'uint8_t', 'float')."""
    return "int" if d is int32 else f"{d.name}_t" if d._kind == 1 else meta_name(d)


def legacy_type_name(d: dtype) -> str:
    """The legacy tensor type of a dtype, 'FloatTensor'."""
    return torch_type_name(d) + "Tensor"


def from_numpy(np_dtype) -> dtype:
    """The ndgrad dtype of a NumPy dtype; raises TypeError for ones torch lacks."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, "
            "and bool.") from None


def to_dtype(d) -> dtype:
    """An ndgrad dtype, or a Python type (float, int, bool, complex) as torch's argument parser
    takes; anything else (np.float32, 'float32') is torch's TypeError."""
    if isinstance(d, dtype):
        return d
    got = _PY_TYPES.get(d) if isinstance(d, type) else None
    if got is None:
        kind = type(d)
        name = kind.__name__ if kind.__module__ == "builtins" else \
            f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"argument 'dtype' must be torch.dtype, not {name}")
    return got


_PY_TYPES = {float: float64, int: int64, bool: bool_, complex: complex128}


# --- default dtype -------------------------------------------------------------------------------
_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d: dtype) -> None:
    if not isinstance(d, dtype) or not d.is_floating_point:  # (float, np.float64: not dtypes)
        raise TypeError("invalid dtype object: " * (not isinstance(d, dtype)) + "only "
                        "floating-point types are supported as the default type")
    _default[0] = d
    from . import _print

    _print.set_default_dtype_name(d.name)


# --- promotion -----------------------------------------------------------------------------------
_INT_ORDER = {"uint8": 0, "int8": 1, "int16": 2, "int32": 3, "int64": 4}
_SIGNED_BY_BITS = {8: int8, 16: int16, 32: int32, 64: int64}


def _promote_pair(a: dtype, b: dtype) -> dtype:
    """torch.promote_types for two dtypes."""
    if a is b:
        return a
    if a._kind != b._kind:
        hi, lo = (a, b) if a._kind > b._kind else (b, a)
        if hi._kind == 3 and lo._kind == 2 and lo is float64:
            return complex128
        return hi
    if a._kind == 1:
        if uint8 in (a, b):  # unsigned with signed: the smallest signed type holding both
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if _INT_ORDER[a.name] > _INT_ORDER[b.name] else b
    if a._kind == 2:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a.itemsize > b.itemsize else b
    return a if a.itemsize > b.itemsize else b


class _Table(dict):
    """The promotion table; a pair with a storage-only dtype that torch refuses raises its
    error (a pair that is not two dtypes stays a KeyError)."""

    def __missing__(self, key):
        a, b = key
        if not (isinstance(a, dtype) and isinstance(b, dtype)):
            raise KeyError(key)
        what = "Float8 Types" if "float8" in a.name + b.name else "uint16, uint32, uint64 types"
        raise RuntimeError(f"Promotion for {what} is not supported, attempted to promote "
                           f"{torch_type_name(a)} and {torch_type_name(b)}")


_PROMOTE = _Table({(a, b): _promote_pair(a, b) for a in ALL for b in ALL})
_PROMOTE.update({(d, d): d for d in EXTRA})
_PROMOTE.update({p: f for u in EXTRA[:3] for f in (float16, bfloat16, float32, float64)
                 for p in ((u, f), (f, u))})


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """Same as torch.promote_types (Python types float, int, bool, complex are accepted)."""
    try:
        return _PROMOTE[type1, type2]
    except KeyError:
        return _PROMOTE[to_dtype(type1), to_dtype(type2)]


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """c10's combine_categories: a lower-priority tier only matters if its category is higher."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher._kind == 3:
        return higher
    if lower._kind == 3:
        return higher.to_complex() if higher._kind == 2 else lower
    if higher._kind == 2:
        return higher
    if higher is bool_ or lower._kind == 2:
        return _PROMOTE[higher, lower]
    return higher


def scalar_dtype(x) -> dtype:
    """The dtype a Python scalar takes when it enters a tensor op as a 'weak' (wrapped) number."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, complex):
        return complex64 if _default[0] is not float64 else complex128
    return _default[0]


def result_type(*args) -> dtype:
    """PyTorch's result type over tensors (dim > 0 first, then 0-d) and Python scalars."""
    dim = zero = wrapped = None
    for x in args:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dim = d if dim is None else _PROMOTE[dim, d]
            else:
                zero = d if zero is None else _PROMOTE[zero, d]
        else:
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else _PROMOTE[wrapped, d]
    return _combine(dim, _combine(zero, wrapped))


# --- Python scalars: weak promotion and c10's checked conversion ---------------------------------
WEAK_TYPES = frozenset((int, float, bool, complex))  # Python numbers: 'weak' (wrapped) scalars


def check_scalar_range(value, dt) -> None:
    """torch's error where c10's checked conversion rejects a Python scalar for ``dt`` (fill
    values, where's scalars, alpha/value arguments, clamp's bounds): out of range, nan or a
    fraction outside an integer type, an imaginary part into a real type. Arithmetic operands
    are cast (they wrap around) instead."""
    if dt._kind == 0:
        return
    if value.__class__ is complex:
        if dt._kind == 3:
            _check_range(value.real, dt.to_real(), dt)
            _check_range(value.imag, dt.to_real(), dt)
            return
        if value.imag:
            raise _overflow(dt)
        value = value.real
    _check_range(value, dt.to_real() if dt._kind == 3 else dt, dt)


def _check_range(value, real: dtype, dt: dtype) -> None:
    if real._kind == 1:
        info = np.iinfo(real.np)
        if value.__class__ is float:
            ok = info.min <= value <= info.max  # nan fails too
        else:  # c10 lets negative ints wrap into unsigned types down to -max
            ok = (-info.max if info.min == 0 else info.min) <= value <= info.max
    elif real is float64:
        return
    else:
        ok = not math.isfinite(value) or math.fabs(value) <= _FMAX[real.name]
    if not ok:
        raise _overflow(dt)


def int_fill(value, npdt, xp):
    """A value written into an array of ``npdt`` (fill_, full, setitem, index_fill, scatter): a
    Python scalar gets torch's checked conversion (``check_scalar_range``), an int wraps around
    into an unsigned type as in torch (NumPy 2 raises OverflowError, NumPy 1.x warns)."""
    cls = value.__class__
    if cls not in WEAK_TYPES:
        return value
    dt = from_numpy(npdt)
    if dt._kind == 0:
        return bool(value)  # c10: nonzero is True, 1j included
    check_scalar_range(value, dt)
    if cls is complex and dt._kind != 3:
        return value.real
    return scalar_array(value, dt.np, xp) if cls is int and dt._kind == 1 else value


def finfo(npdt):
    """np.finfo, with bfloat16 from ml_dtypes."""
    return ml_dtypes.finfo(npdt) if npdt == bfloat16.np else np.finfo(npdt)


_FMAX = {d: float(finfo(_by_name(d).np).max) for d in ("float16", "bfloat16", "float32")}
_WEAK: dict = {}


def weak_dtype(t, x) -> dtype:
    """result_type(t, x) for a Python scalar x, cached by (dtype, scalar type, default dtype)."""
    key = (t._data.dtype, x.__class__, _default[0])
    dt = _WEAK.get(key)
    if dt is None:
        dt = _WEAK[key] = result_type(t, x)
    return dt


def _overflow(d: dtype) -> RuntimeError:
    from ._errors import overflow  # (_errors names dtypes with this module)

    return overflow(d)
