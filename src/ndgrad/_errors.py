"""torch's error messages, one function a family, so that the same check raises the same text
everywhere; and torch's errors for failures NumPy reports its own way."""

from __future__ import annotations

import functools
import math

from . import _trace
from ._dtype import cpp_type_name, dtype, from_numpy, torch_type_name


def not_implemented(kernel: str, dt) -> NotImplementedError:
    """A kernel with no implementation for a dtype (an ndgrad or NumPy dtype)."""
    if not isinstance(dt, dtype):
        dt = from_numpy(dt)
    return NotImplementedError(f'"{kernel}" not implemented for \'{torch_type_name(dt)}\'')


def dtype_mismatch(expected: dtype, found: dtype) -> RuntimeError:
    """Two operands whose dtypes must agree."""
    return RuntimeError(f"expected scalar type {torch_type_name(expected)} but found "
                        f"{torch_type_name(found)}")


def cast_error(result: dtype, out: dtype) -> RuntimeError:
    """A result written into a tensor (out=, in place) of a lower category."""
    return RuntimeError(f"result type {torch_type_name(result)} can't be cast to the desired "
                        f"output type {torch_type_name(out)}")


def overflow(dt: dtype | str) -> RuntimeError:
    """c10's checked conversion of a scalar to ``dt`` (a dtype, or the C++ type's name) failed."""
    name = dt if isinstance(dt, str) else cpp_type_name(dt)
    return RuntimeError(f"value cannot be converted to type {name} without overflow")


def size_mismatch(a: int, b: int, dim: int) -> RuntimeError:
    """Two sizes that do not broadcast at ``dim``."""
    return RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                        f"non-singleton dimension {dim}")


def infer_size(*shapes) -> tuple:
    """The shapes broadcast in order, as ATen's infer_size: its error names the first pair that
    does not broadcast at its rightmost mismatching dim."""
    cur = tuple(shapes[0])
    for s in shapes[1:]:
        n = max(len(cur), len(s))
        pa, pb = (1,) * (n - len(cur)) + cur, (1,) * (n - len(s)) + tuple(s)
        for i in range(n - 1, -1, -1):
            if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
                raise size_mismatch(pa[i], pb[i], i) from None  # (callers catch NumPy's error)
        cur = tuple(x if y == 1 else y for x, y in zip(pa, pb))
    return cur


def broadcast_error(*operands) -> None:
    """Raise torch's error if the shapes of ``operands`` (tensors or arrays; None is skipped) do
    not broadcast."""
    infer_size(*(tuple(x.shape) for x in operands if x is not None))


def dim_out_of_range(dim: int, ndim: int) -> IndexError:
    """``dim`` outside a tensor of ``ndim`` dims (a 0-d tensor takes dims -1 and 0)."""
    n = max(ndim, 1)
    return IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but "
                      f"got {dim})")


def no_dims_error(dim: int) -> IndexError:
    """A dim given to a 0-d tensor where torch does not wrap scalars."""
    return IndexError(f"Dimension specified as {dim} but tensor has no dimensions")


def empty_reduction(fn: str, dim: int) -> IndexError:
    """A reduction with no identity (max, median, mode...) over an empty dim."""
    return IndexError(f"{fn}(): Expected reduction dim {dim} to have non-zero size.")


def repeated_dim(dim: int) -> RuntimeError:
    return RuntimeError(f"dim {dim} appears multiple times in the list of dims")


def negative_size(size: int, shape) -> RuntimeError:
    return RuntimeError(f"Trying to create tensor with negative dimension {size}: {shape}")


def index_out_of_bounds(index: int, dim: int, size: int) -> IndexError:
    return IndexError(f"index {index} is out of bounds for dimension {dim} with size {size}")


def out_shape_mismatch(shape, broadcast) -> RuntimeError:
    """An in-place or out= result whose broadcast shape is not the tensor's."""
    return RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                        f"{list(broadcast)}")


def not_tensor_element(i: int, x) -> TypeError:
    """Element ``i`` of a sequence of tensors (argument 0) is something else."""
    return TypeError(f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}")


def index_out_of_range() -> IndexError:
    """An index past a lookup table's rows (embedding, index_select, index_add)."""
    return IndexError("index out of range in self")


# the dtypes with a legacy tensor type (torch.LongTensor); c10's checkScalarTypes names the
# others by their backend type (CPUBoolType, CPUComplexFloatType)
_LEGACY_TYPES = {"Double", "Float", "Half", "Long", "Int", "Short", "Char", "Byte"}


def wrong_scalar_type(arg: str, pos: int, fn: str, allowed: str, dt: dtype) -> RuntimeError:
    """torch's checkScalarTypes: tensor argument ``pos`` (``arg``) of ``fn`` has dtype ``dt``,
    none of ``allowed`` ('Long, Int')."""
    name = torch_type_name(dt)
    got = f"torch.{name}Tensor" if name in _LEGACY_TYPES else f"CPU{name}Type"
    return RuntimeError(f"Expected tensor for argument #{pos} '{arg}' to have one of the "
                        f"following scalar types: {allowed}; but got {got} instead (while "
                        f"checking arguments for {fn})")


def no_derivative(name: str) -> RuntimeError:
    """Backward through an op torch has no derivative for (aten::``name``)."""
    return RuntimeError(f"derivative for aten::{name} is not implemented")


def not_tensor(fn: str, x, arg: str = "input", pos: int | None = 1,
               what: str = "Tensor") -> TypeError:
    """A Python value passed where only a Tensor (``what``) is accepted (``pos`` None: a
    keyword-only argument)."""
    where = f"argument '{arg}'" if pos is None else f"argument '{arg}' (position {pos})"
    return TypeError(f"{fn}(): {where} must be {what}, not {type(x).__name__}")


def leaf_in_place(view: bool = False) -> RuntimeError:
    """An in-place write into a leaf that requires grad (or a view of one)."""
    what = "a view of a leaf Variable" if view else "a leaf Variable"
    return RuntimeError(f"{what} that requires grad is being used in an in-place operation.")


def out_requires_grad(fn: str) -> RuntimeError:
    """out= while autograd would record."""
    return RuntimeError(f"{fn}(): functions with out=... arguments don't support automatic "
                        "differentiation, but one of the arguments requires grad.")


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
