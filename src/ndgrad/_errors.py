"""Torch's errors for failures NumPy reports its own way."""

from __future__ import annotations

import functools
import math

from . import _trace


class OutOfMemoryError(RuntimeError, MemoryError):
    """An allocation that failed: torch's RuntimeError, still a MemoryError for code that catches
    NumPy's."""


def allocation_error(e: Exception) -> Exception:
    """torch's error for NumPy's MemoryError or "array is too big" ValueError (and CuPy 13's
    missing bfloat16); ``e`` itself for any other exception."""
    if isinstance(e, MemoryError):
        shape, dtype = getattr(e, "shape", None), getattr(e, "dtype", None)
        if shape is None or dtype is None:
            return OutOfMemoryError("DefaultCPUAllocator: can't allocate memory")
        nbytes = math.prod(shape) * dtype.itemsize
        return OutOfMemoryError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
            f"memory: you tried to allocate {nbytes} bytes. Error code 12 (Cannot allocate "
            "memory)")
    if isinstance(e, ValueError) and str(e).startswith(("array is too big",
                                                        "Maximum allowed dimension")):
        return RuntimeError("Storage size calculation overflowed: the tensor has more elements "
                            "than memory can address")
    if isinstance(e, ValueError) and str(e).startswith("Unsupported dtype "):
        # CuPy's: no float8, and no bfloat16 before 14 (ml_dtypes); worded as torch's MPS float64
        name = str(e)[18:]
        need = " (it needs CuPy >= 14 with ml_dtypes)" if name == "bfloat16" else ""
        return TypeError(f"Cannot create a CUDA tensor of {name} dtype: this CuPy has no {name}"
                         f"{need}. Please use float16 or float32 instead.")
    return e


def reraise_allocation_error(e: Exception):
    """Inside an ``except`` of NumPy's MemoryError/ValueError: raise torch's error for an
    allocation failure, else the exception being handled, unchanged."""
    err = allocation_error(e)
    if err is e:
        raise  # noqa: PLE0704  (the exception the caller is handling)
    raise err from None


def torch_allocation_errors(fn):
    """``fn`` (a creation function) raising torch's allocation errors instead of NumPy's, and
    recorded by ndgrad.compile's tracer while a step is captured."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            if _trace.tracer is not None:
                return _trace.tracer.produce(fn, args, kwargs)
            return fn(*args, **kwargs)
        except (MemoryError, ValueError) as e:
            reraise_allocation_error(e)
    return wrapper
