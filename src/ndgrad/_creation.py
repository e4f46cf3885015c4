"""Tensor creation: from data (with torch's dtype inference), filled, ranges, ``new_*`` methods."""

from __future__ import annotations

import builtins
import math
import numbers
import operator
import types
from collections import deque

import numpy as np

from ._errors import negative_size, out_shape_mismatch
from . import _dtype as D
from ._dtype import meta_name, torch_type_name
from ._backend import CPU, device, on, to_device
from ._tensor import Size, Tensor, _resolve_device
from ._tensor import _init as init_fields
from ._errors import not_implemented, not_tensor, overflow, size_mismatch, torch_allocation_errors
from .autograd.op import Op

__all__ = ["BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor",
           "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "arange",
           "as_tensor", "asarray", "complex", "empty", "empty_like", "eye", "from_dlpack",
           "from_numpy", "full", "full_like", "linspace", "logspace", "ones", "ones_like", "polar",
           "tensor", "zeros", "zeros_like"]


def factory_out(fn):
    """torch's out= for a factory: ``out``'s dtype (and device) is the one made, a different
    ``dtype=`` is an error; the result is written into ``out``, resized if needed."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, out=None, dtype=None, **kwargs):
        if out is None:
            return fn(*args, dtype=dtype, **kwargs)
        from ._ops._out import _out

        if dtype is not None and D.to_dtype(dtype) is not out.dtype:
            raise RuntimeError(f"dtype {torch_type_name(D.to_dtype(dtype))} does not match dtype "
                               f"of out parameter ({torch_type_name(out.dtype)})")
        kwargs.setdefault("device", out.device)
        return _out(fn(*args, dtype=out.dtype, **kwargs), out, fn.__name__)

    return wrapper


def _leaf(arr, dev, requires_grad=False) -> Tensor:
    t = Tensor._make(arr, dev)
    if requires_grad:
        if not (t.is_floating_point() or t.is_complex()):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


# --- from data ------------------------------------------------------------------------------------
_SEQ = (list, tuple, range, deque)  # torch takes any sequence (reinforce.py: a deque)
_PY_KIND = {bool: D.bool_, int: D.int64, float: None, complex: None}  # None: default-dtype based


def _scalar_dtype(t) -> D.dtype:
    """The dtype torch.tensor infers for one kind of leaf value."""
    d = _PY_KIND.get(t, False)
    if d is not False:
        return d or (D.get_default_dtype() if t is float else D.scalar_dtype(1j))
    if issubclass(t, np.generic):
        return D.from_numpy(np.dtype(t))
    if issubclass(t, numbers.Integral):
        return D.int64
    if issubclass(t, numbers.Real):
        return D.get_default_dtype()
    if issubclass(t, numbers.Complex):
        return D.scalar_dtype(1j)
    if t is str:
        raise TypeError("new(): invalid data type 'str'")
    raise RuntimeError(f"Could not infer dtype of {t.__name__}")


def _infer_dtype(data) -> D.dtype:
    """torch.tensor's inference: promote over every leaf (Python float means the default dtype)."""
    out = None
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, _SEQ):
            kinds = set(map(type, x))
            if any(issubclass(k, (_SEQ, Tensor, np.ndarray)) for k in kinds):
                stack.extend(x)
                continue
            dts = [_scalar_dtype(k) for k in kinds]
        elif isinstance(x, (Tensor, np.ndarray)):
            dts = [D.from_numpy(x.dtype) if isinstance(x, np.ndarray) else x.dtype]
        else:
            dts = [_scalar_dtype(type(x))]
        for d in dts:
            out = d if out is None else D.promote_types(out, d)
    return out or D.get_default_dtype()


def _ragged_message(data) -> str:
    """torch's message for nested sequences of unequal lengths."""
    level, dim = [data], 0
    while level and isinstance(level[0], _SEQ):
        n = len(level[0])
        for x in level:
            if not isinstance(x, _SEQ):
                return "not a sequence"
            if len(x) != n:
                return f"expected sequence of length {n} at dim {dim} (got {len(x)})"
        level = [y for x in level for y in x]
        dim += 1
    return "not a sequence"


def _unwrap_tensors(data):
    """Sequences holding tensors: each must be a single element (torch converts them to scalars)."""
    if isinstance(data, Tensor):
        if data.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    if isinstance(data, _SEQ):
        return [_unwrap_tensors(x) for x in data]
    return data


def _array_from_data(data, dt: D.dtype | None):
    """A fresh host array of ``dt`` (inferred as torch.tensor does when None) from ``data``."""
    if isinstance(data, Tensor):
        arr = np.asarray(data.detach().__array__())
        return arr.astype(dt.np if dt else arr.dtype, copy=True)
    if isinstance(data, np.ndarray) or hasattr(data, "__array_interface__"):
        arr = np.asarray(data)
        _check_numpy(arr)
        return np.array(arr, dtype=dt.np if dt else arr.dtype, copy=True)
    if hasattr(data, "__cuda_array_interface__"):
        return data.astype(dt.np if dt else data.dtype, copy=True)
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    first = data
    while isinstance(first, _SEQ) and len(first):
        first = first[0]
    if isinstance(first, str) and first is not data:  # torch reads a str there as a dimension
        raise ValueError("too many dimensions 'str'")
    target = dt or _infer_dtype(data)
    if isinstance(data, _SEQ) and any(isinstance(x, Tensor) for x in data):
        data = _unwrap_tensors(data)
    via = np.float64 if target is D.bfloat16 else target.np
    try:
        if target._kind == 1 and dt is not None and _infer_dtype(data)._kind > 1:
            arr = _floats_to_ints(data, target)
        elif target._kind == 1 and target.itemsize < 8:
            arr = _narrow_ints(data, target)
        else:
            arr = np.array(data, dtype=via)
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    except (ValueError, TypeError) as e:
        if isinstance(data, _SEQ):
            msg = _ragged_message(data)
            raise (TypeError if msg == "not a sequence" else ValueError)(msg) from None
        raise TypeError(str(e)) from None
    return arr.astype(target.np) if target is D.bfloat16 else arr


def _floats_to_ints(data, target: D.dtype) -> np.ndarray:
    """Python floats as an integer dtype: truncated, each within [min, max] as a double (nan and
    inf are not), torch's check."""
    arr = np.array(data, dtype=np.float64)
    info = np.iinfo(target.np)
    if arr.size and not ((arr >= float(info.min)) & (arr <= float(info.max))).all():
        raise overflow(target.name)
    with np.errstate(invalid="ignore"):  # int64's max as a double is 2**63: it wraps, as torch
        return arr.astype(np.int64).astype(target.np)


def _narrow_ints(data, target: D.dtype) -> np.ndarray:
    """Python ints as a narrow integer dtype with torch's range check (negatives wrap into
    unsigned types down to -max); NumPy's own check differs by version (1.x warns and wraps)."""
    arr = np.array(data, dtype=np.int64)
    info = np.iinfo(target.np)
    if arr.size and (arr.min() < (-info.max if info.min == 0 else info.min) or
                     arr.max() > info.max):
        raise overflow(target.name)
    return arr.astype(target.np)


def _check_numpy(arr: np.ndarray) -> None:
    """Reject arrays torch cannot wrap, with torch's messages."""
    if not arr.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. "
                         "Conversion between byte orders is currently not supported.")
    D.from_numpy(arr.dtype)


def legacy_array(args: tuple, dt: D.dtype, dev: device):
    """torch's legacy constructors: sizes (or a Size) give uninitialised memory, a sequence is
    copied into ``dt``."""
    if len(args) == 1 and not isinstance(args[0], (int, Size)):
        data = args[0]
        if isinstance(data, (float, builtins.complex, bool)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return to_device(_array_from_data(data, dt), dev)
    with on(dev):
        return dev.xp.empty(_size(args, "new") if args else (0,), dtype=dt.np)


def legacy_init(self: Tensor, *args, device=None) -> None:
    """Tensor.__init__, torch's legacy constructor: Tensor(sizes...) or Tensor(Size) is
    uninitialised, Tensor(sequence) copies into the default dtype, Tensor(tensor) aliases it."""
    if len(args) == 1 and isinstance(args[0], Tensor):
        init_fields(self, args[0]._data, args[0]._device)
        self._vc = args[0]._vc
        return
    dev = _resolve_device(device)
    init_fields(self, legacy_array(args, D.get_default_dtype(), dev), dev)


class _LegacyType(type):
    """torch.FloatTensor and friends: constructors of one dtype that also answer isinstance."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj._device.type == "cpu"


def _legacy_type(name: str, dt: D.dtype) -> type:
    def new(cls, *args, device=None) -> Tensor:
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype is not dt:
                opts = "TensorOptions(dtype={}, device=cpu, layout=Strided, requires_grad=false " \
                       "(default), pinned_memory=false (default), memory_format=(nullopt))"
                raise TypeError(f"expected {opts.format(meta_name(dt))} (got "
                                f"{opts.format(meta_name(args[0].dtype))})")
            return Tensor(args[0])
        dev = _resolve_device(device)
        return Tensor._make(legacy_array(args, dt, dev), dev)

    return _LegacyType(name, (), {"__new__": new, "dtype": dt, "__module__": "ndgrad",
                                  "__doc__": f"Same as torch.{name} (legacy constructor)."})


FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor, ShortTensor, \
    CharTensor, ByteTensor, BoolTensor = (
        _legacy_type(D.legacy_type_name(d), d) for d in (
            D.float32, D.float64, D.float16, D.bfloat16, D.int64, D.int32, D.int16, D.int8,
            D.uint8, D.bool_))


def new(self, *args, device=None) -> Tensor:
    """Same as torch.Tensor.new: the legacy constructor with this tensor's dtype and device."""
    if len(args) == 1 and isinstance(args[0], Tensor):
        return Tensor(args[0])
    dev = self._device if device is None else _resolve_device(device)
    return Tensor._make(legacy_array(args, self.dtype, dev), dev)


@torch_allocation_errors
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Same as torch.tensor: always copies; infers int64 / default float / bool / complex."""
    dt = None if dtype is None else D.to_dtype(dtype)
    dev = _resolve_device(device if device is not None or not isinstance(data, Tensor) else
                          data.device)
    if isinstance(data, Tensor):
        import warnings

        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    arr = _array_from_data(data, dt)
    return _leaf(to_device(arr, dev), dev, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Same as torch.as_tensor: shares memory with tensors and NumPy arrays when it can."""
    dt = None if dtype is None else D.to_dtype(dtype)
    if isinstance(data, Tensor):
        return data.to(dtype=dt, device=device) if dt or device else data
    dev = _resolve_device(device)
    if isinstance(data, np.ndarray) and (dt is None or data.dtype == dt.np) and dev is CPU:
        return from_numpy(data)
    return _leaf(to_device(_array_from_data(data, dt), dev), dev)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None) -> Tensor:
    """Same as torch.asarray: shares memory unless ``copy=True`` or a conversion is needed; an
    unspecified ``requires_grad`` keeps a tensor's graph (torch 2.13's default, without its
    deprecation warning)."""
    if copy is False:  # torch's errors for what cannot be aliased
        if isinstance(obj, np.generic):
            raise RuntimeError("can't alias NumPy scalars. Either remove copy=False or transform "
                               "it in a ndarray. ")
        if not isinstance(obj, (Tensor, np.ndarray)):
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        have = obj.dtype if isinstance(obj, Tensor) else D.from_numpy(obj.dtype)
        if dtype is not None and D.to_dtype(dtype) is not have:
            raise ValueError(f"can't alias tensor with dtype '{torch_type_name(have)}' into dtype "
                             f"'{torch_type_name(D.to_dtype(dtype))}'.")
    t = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        t = t.clone()
    if requires_grad is None or requires_grad == t.requires_grad:
        return t
    return t.detach().requires_grad_() if requires_grad else t.detach()


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """Same as torch.from_numpy: the tensor shares the array's memory."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _check_numpy(ndarray)
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    return Tensor._make(ndarray, CPU)


def from_dlpack(ext) -> Tensor:
    """Same as torch.from_dlpack: zero-copy import of a DLPack producer (NumPy, torch, CuPy)."""
    dev_type, dev_id = ext.__dlpack_device__()
    if dev_type == 1:  # kDLCPU
        arr = np.from_dlpack(ext)
        return Tensor._make(arr if arr.flags.writeable else _writable(arr), CPU)
    from ._backend import cupy

    arr = cupy().from_dlpack(ext)
    return Tensor._make(arr, device("cuda", int(dev_id)))


def _writable(arr):
    """torch imports DLPack memory writable; NumPy 1.x imports all of it read-only (the protocol
    had no flag): the same memory, writable, via a holder's array interface that keeps ``arr``."""
    iface = dict(arr.__array_interface__, data=(arr.__array_interface__["data"][0], False))
    return np.asarray(types.SimpleNamespace(__array_interface__=iface, keep=arr))


# --- filled ---------------------------------------------------------------------------------------
def _size(size, name: str = "zeros") -> tuple:
    """Sizes given as ints or one sequence, checked with torch's messages."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for i, s in enumerate(size, 1):
        if isinstance(s, (tuple, list)):
            raise TypeError(f"{name}() takes 1 positional argument but {len(size)} were given")
        if _as_int(s) is None:
            what = type_name(s)
            if len(size) == 1:
                raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, "
                                f"not {what}")
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {i} "
                            f"with error \"type must be tuple of ints,but got {what}\"")
        out.append(_as_int(s))
    for s in out:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise negative_size(s, out)
    return tuple(out)


def _as_int(x) -> int | None:
    """``x`` as torch's parser reads an int argument (what has __index__: a one-element integer
    tensor or NumPy array too, not a bool or a float), else None."""
    if isinstance(x, bool) or isinstance(x, (Tensor, np.ndarray)) and (
            x.dtype == bool or x.ndim and x.shape != (1,)):
        return None
    try:
        return operator.index(x)
    except TypeError:
        return None


def type_name(x) -> str:
    """A value's type as torch's argument errors name it: 'float', 'Tensor', 'numpy.ndarray'."""
    kind = type(x)
    if isinstance(x, Tensor) or kind.__module__ == "builtins":
        return "Tensor" if isinstance(x, Tensor) else kind.__name__
    return f"{kind.__module__}.{kind.__qualname__}"


@torch_allocation_errors
def _filled(name, fill, size, dtype, device, requires_grad):
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    dev = _resolve_device(device)
    if dev is CPU:
        return _leaf(fill(np, _size(size, name), dt.np), dev, requires_grad)
    with on(dev):  # cuda:N allocates on GPU N
        return _leaf(fill(dev.xp, _size(size, name), dt.np), dev, requires_grad)


def _size_kw(name: str, size: tuple, kw: dict) -> tuple:
    """The size given as ``*size`` or as torch's keyword ``size=`` (d2l: randn(size=());
    pytorch/examples' gat: empty(size=...))."""
    if "size" in kw and not size and len(kw) == 1:
        return (kw["size"],)
    if kw:
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"unexpected keyword arguments {sorted(kw)}")
    return size


@factory_out
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          **kw) -> Tensor:
    """Same as torch.zeros (the size also as ``size=``)."""
    size = _size_kw("zeros", size, kw) if kw else size
    return _filled("zeros", lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


@factory_out
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          **kw) -> Tensor:
    """Same as torch.ones (the size also as ``size=``)."""
    size = _size_kw("ones", size, kw) if kw else size
    return _filled("ones", lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


@factory_out
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None, pin_memory=False, **kw) -> Tensor:
    """Same as torch.empty (the size also as ``size=``: pytorch/examples' gat)."""
    size = _size_kw("empty", size, kw) if kw else size
    return _filled("empty", lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)


@factory_out
@torch_allocation_errors
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    """Same as torch.full: the dtype follows ``fill_value`` (bool, int64 or the default float)."""
    if isinstance(size, int):
        raise TypeError("full(): argument 'size' (position 1) must be tuple of ints, not int")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:  # a NumPy integer makes int64, any other NumPy scalar the default float
        dtype = D.int64 if isinstance(fill_value, np.integer) else \
            D.get_default_dtype() if isinstance(fill_value, np.generic) else \
            D.scalar_dtype(fill_value)
    return _filled("full", lambda xp, s, d: xp.full(s, D.int_fill(fill_value, d, xp), d),
                   tuple(size), dtype, device, requires_grad)


@factory_out
@torch_allocation_errors
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    """Same as torch.eye."""
    for name, v in (("n", n), ("m", m)):
        if v is not None and _as_int(v) is None:
            raise TypeError(f"eye(): argument '{name}' (position 1) must be int, not "
                            f"{type_name(v)}")
        if v is not None and _as_int(v) < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    n = _as_int(n)
    m = n if m is None else _as_int(m)
    return _filled("eye", lambda xp, s, d: xp.eye(n, m, dtype=d), (n, m), dtype, device,
                   requires_grad)


def made_like(make, input: Tensor, memory_format=None) -> Tensor:
    """``make(shape)`` laid out as torch's empty_like lays out a tensor like ``input``:
    preserve_format (the default) keeps a non-contiguous input's order of dims, channels_last
    is NHWC. ``make`` fills in memory order, so a random draw gets torch's values too."""
    name = getattr(memory_format, "name", "preserve_format")
    if name == "contiguous_format" or input.ndim < 2 or (
            name == "preserve_format" and input._data.flags.c_contiguous):
        return make(input.shape)
    if name == "channels_last":
        if input.ndim != 4:
            raise RuntimeError("required rank 4 tensor to use channels_last format")
        slow = [0, 2, 3, 1]
    else:
        from ._ops.indexing import _order

        slow = _order(input.shape, input._data.strides)[::-1]
    t = make(tuple(input.shape[d] for d in slow))
    out = Tensor._make(t._data.transpose(tuple(np.argsort(slow))), t._device)  # a leaf
    out._requires_grad = t._requires_grad
    return out


def _like(fn):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None) -> Tensor:
        _check_tensor(like.__name__, input)
        if memory_format is None and input._data.flags.c_contiguous:  # (the common case, fast)
            return fn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                      requires_grad=requires_grad)
        return made_like(lambda shape: fn(shape, dtype=dtype or input.dtype,
                                          device=device or input.device,
                                          requires_grad=requires_grad), input, memory_format)

    like.__name__ = like.__qualname__ = fn.__name__ + "_like"
    like.__doc__ = f"Same as torch.{like.__name__}."
    return like


def _check_tensor(name, input):
    if not isinstance(input, Tensor):
        raise not_tensor(name, input)


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)


@torch_allocation_errors
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """Same as torch.full_like."""
    _check_tensor("full_like", input)
    return made_like(lambda shape: full(shape, fill_value, dtype=dtype or input.dtype,
                                        device=device or input.device,
                                        requires_grad=requires_grad), input, memory_format)


# --- ranges ---------------------------------------------------------------------------------------
def _scalar(v):
    return v.item() if isinstance(v, Tensor) else v


@factory_out
@torch_allocation_errors
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Same as torch.arange, including its integer rules (bounds and step truncate first)."""
    if end is None:
        start, end = 0, start
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if any(isinstance(v, builtins.complex) for v in (start, end, step)):
        raise overflow(D.float64)
    if dtype is None:
        floating = any(isinstance(v, (float, np.floating)) for v in (start, end, step))
        dtype = D.get_default_dtype() if floating else D.int64
    dt = D.to_dtype(dtype)
    if dt is D.bool_ or dt.is_complex:  # torch's kernel has neither
        raise not_implemented("arange_cpu", dt)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not all(math.isfinite(v) for v in (start, end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dt._kind == 1:
        # torch accumulates integer dtypes in int64: start and step truncate before stepping
        if dt is D.int64:
            start, end, step = int(start), int(end), int(step)
            if step == 0:
                raise ValueError("step must be nonzero")
        n = max(0, math.ceil((end - start) / step))
        arr = int(start) + np.arange(n, dtype=np.int64) * int(step)
    else:
        n = max(0, math.ceil((end - start) / step))
        arr = start + np.arange(n, dtype=np.float64) * step  # torch accumulates in double
    dev = _resolve_device(device)
    return _leaf(to_device(arr.astype(dt.np), dev), dev, requires_grad)


def _steps(steps):
    if _as_int(steps) is None:
        raise TypeError(f"linspace(): argument 'steps' (position 3) must be int, not "
                        f"{type_name(steps)}")
    steps = _as_int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return int(steps)


def _linspace(start, end, steps, dt):
    # torch fills the first half from start and the second half from end (symmetric rounding)
    start, end = _scalar(start), _scalar(end)
    if dt is D.bool_:
        raise not_implemented("linspace_cpu", D.bool_)
    if steps == 1:
        return np.full(1, start, dtype=np.float64 if not isinstance(start, builtins.complex)
                       else np.complex128)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=np.float64)
    return np.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i))


def _space_dtype(name, start, end, dtype):
    """The default float, or complex when an end is complex, which only a complex dtype takes."""
    inferred = D.get_default_dtype()
    if any(isinstance(_scalar(v), (builtins.complex, np.complexfloating)) for v in (start, end)):
        inferred = D.scalar_dtype(1j)
    if dtype is None:
        return inferred
    dt = D.to_dtype(dtype)
    if inferred.is_complex and not dt.is_complex:
        raise RuntimeError(f"torch.{name}(): inferred dtype c10::complex<float> can't be safely "
                           f"cast to passed dtype {torch_type_name(dt)}")
    return dt


@factory_out
@torch_allocation_errors
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """Same as torch.linspace."""
    dt = _space_dtype("linspace", start, end, dtype)
    dev = _resolve_device(device)
    arr = _linspace(start, end, _steps(steps), dt)
    return _leaf(to_device(arr.astype(dt.np), dev), dev, requires_grad)


@factory_out
@torch_allocation_errors
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """Same as torch.logspace."""
    dt = _space_dtype("logspace", start, end, dtype)
    dev = _resolve_device(device)
    arr = np.power(float(base), _linspace(start, end, _steps(steps), dt))
    return _leaf(to_device(arr.astype(dt.np), dev), dev, requires_grad)


# --- complex from parts ---------------------------------------------------------------------------
class Complex(Op):
    __slots__ = ()

    def forward(ctx, real, imag):
        dt = np.complex128 if real.dtype == np.float64 else np.complex64
        out = ctx.xp.empty(np.broadcast_shapes(real.shape, imag.shape), dt)
        out.real, out.imag = real, imag  # not real + 1j * imag: -0.0 keeps its sign, inf no nan
        return out

    def backward(ctx, g):  # d/d(re) and d/d(im) of re + i*im under torch's conjugate convention
        return g.real, g.imag


def complex(real: Tensor, imag: Tensor, *, out=None) -> Tensor:
    """Same as torch.complex: ``real + 1j * imag`` for two float tensors of one dtype."""
    if real.dtype is not imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {_type_name(real)} but got scalar "
                           f"type {_type_name(imag)} for second argument")
    if real.dtype not in (D.float32, D.float64, D.float16):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{_type_name(real)} and {_type_name(imag)}")
    from ._errors import broadcast_error

    broadcast_error(real, imag)  # torch's size error, not NumPy's
    return Complex.apply(real, imag)


class Polar(Op):
    __slots__ = ()

    def forward(ctx, r, theta):
        out = Complex.forward(ctx, r * ctx.xp.cos(theta), r * ctx.xp.sin(theta))
        ctx.save(out)
        return out

    def backward(ctx, g):  # torch's polar_backward, from the result (so a negative abs flips)
        (y,) = ctx.saved_tensors
        gc = g.conj()
        return (gc * y.sgn()).real, (gc * y * 1j).real


def polar(abs: Tensor, angle: Tensor, *, out=None) -> Tensor:
    """Same as torch.polar: ``abs * (cos(angle) + 1j * sin(angle))``."""
    complex(abs.detach(), angle.detach())  # torch's dtype checks
    return Polar.apply(abs, angle)


def _type_name(t):
    return torch_type_name(t.dtype)


# --- new_* methods --------------------------------------------------------------------------------
def _new(fn):
    def new(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
            pin_memory=False, **kw) -> Tensor:
        size = _size_kw("new_" + fn.__name__, size, kw) if kw else size
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)

    new.__name__ = "new_" + fn.__name__
    return new


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False) -> Tensor:
    """Same as torch.Tensor.new_full."""
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False) -> Tensor:
    """Same as torch.Tensor.new_tensor."""
    dev = device or self.device
    if isinstance(data, Tensor):
        import warnings

        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        return data.detach().to(dtype=dtype or data.dtype, device=dev, copy=True) \
            .requires_grad_(requires_grad)
    return tensor(data, dtype=dtype or self.dtype, device=dev, requires_grad=requires_grad)


def _overwrite(t: Tensor, value, name: str, fill: bool = True) -> Tensor:
    from ._ops._inplace import Overwrite, inplace, inplace_fill

    write = inplace_fill if fill else inplace  # torch's fills write through an expanded tensor

    return write(t, Overwrite.named(name).apply, value)


def zero_(self) -> Tensor:
    """Same as torch.Tensor.zero_."""
    return _overwrite(self, 0, "ZeroBackward0")


def fill_(self, value) -> Tensor:
    """Same as torch.Tensor.fill_."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    return _overwrite(self, value, "FillBackward2" if not isinstance(value, Tensor) else
                      "FillBackward3", fill=not isinstance(value, Tensor))  # (a tensor: copied)


def copy_(self, src, non_blocking=False) -> Tensor:
    """Same as torch.Tensor.copy_: broadcasts and casts ``src`` into this tensor."""
    if not isinstance(src, Tensor):
        raise not_tensor("copy_", src, "other")
    if src.device != self.device or src.dtype is not self.dtype:
        src = src.to(device=self.device, dtype=self.dtype)
    shape, sshape = self._data.shape, src._data.shape
    n = max(len(shape), len(sshape))
    if len(sshape) > len(shape):
        raise out_shape_mismatch(shape, sshape)
    for k in range(1, min(len(shape), len(sshape)) + 1):
        a, b = shape[-k], sshape[-k]
        if b not in (1, a):
            raise size_mismatch(a, b, n - k)
    return _overwrite(self, src, "torch::autograd::CopyBackwards", fill=False)
