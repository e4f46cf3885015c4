"""Tensor creation: from data, filled, ranges, and random (PyTorch's CPU streams)."""

from __future__ import annotations

import numbers

import numpy as np

from . import _dtype as D
from ._backend import CPU, device, to_device
from ._tensor import Tensor, _resolve_device, tensor_method
from .autograd.grad_mode import state as _grad_state

__all__ = ["arange", "as_tensor", "asarray", "empty", "empty_like", "eye", "from_dlpack",
           "from_numpy", "full", "full_like", "linspace", "logspace", "ones", "ones_like",
           "tensor", "zeros", "zeros_like"]


def _leaf(arr, dev, requires_grad=False) -> Tensor:
    t = Tensor._make(arr, dev)
    if requires_grad:
        t.requires_grad = True  # validates the dtype
    return t


def _infer_dtype(data) -> D.dtype:
    """torch.tensor's inference: bool < int (int64) < float (default) < complex."""
    kind = 0
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            d = x.dtype
            kind = max(kind, d._kind if d._kind < 2 else (2 if d._kind == 2 else 3))
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, (bool, np.bool_)):
            pass
        elif isinstance(x, numbers.Integral):
            kind = max(kind, 1)
        elif isinstance(x, numbers.Real):
            kind = max(kind, 2)
        elif isinstance(x, numbers.Complex):
            kind = 3
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    if kind == 3:
        return D.complex64 if D.get_default_dtype() is not D.float64 else D.complex128
    return (D.bool_, D.int64, D.get_default_dtype())[kind]


def _array_from_data(data, dt: D.dtype | None):
    """A fresh host array of ``dt`` from nested lists, scalars, arrays or tensors."""
    if isinstance(data, Tensor):
        arr = np.asarray(data.detach().__array__())
        return arr.astype(dt.np if dt else arr.dtype, copy=True)
    if isinstance(data, np.ndarray) or hasattr(data, "__array_interface__"):
        arr = np.asarray(data)
        D.from_numpy(arr.dtype)  # reject dtypes torch lacks
        return np.array(arr, dtype=dt.np if dt else arr.dtype, copy=True)
    if hasattr(data, "__cuda_array_interface__"):
        return data.astype(dt.np if dt else data.dtype, copy=True)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _tensors_to_lists(data)
    target = dt or _infer_dtype(data)
    if not isinstance(data, (list, tuple, numbers.Number, np.generic)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    try:
        arr = np.array(data, dtype=target.np if target is not D.bfloat16 else np.float64)
    except ValueError as e:
        raise ValueError(f"expected sequence of equal length lists: {e}") from None
    return arr.astype(target.np) if target is D.bfloat16 else arr


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        if data.numel() != 1 or data.ndim:
            return data.tolist()
        return data.item()
    return [_tensors_to_lists(x) for x in data] if isinstance(data, (list, tuple)) else data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Same as torch.tensor: always copies; infers int64 / float32 / bool / complex64."""
    dt = None if dtype is None else D.to_dtype(dtype)
    dev = _resolve_device(device) if device is not None else (
        data.device if isinstance(data, Tensor) else CPU)
    arr = _array_from_data(data, dt)
    return _leaf(to_device(arr, dev), dev, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Same as torch.as_tensor: shares memory with tensors and NumPy arrays when it can."""
    dt = None if dtype is None else D.to_dtype(dtype)
    if isinstance(data, Tensor):
        return data.to(dtype=dt, device=device) if dt or device else data
    if isinstance(data, np.ndarray) and (dt is None or data.dtype == dt.np) and (
            device is None or str(device) == "cpu"):
        return from_numpy(data)
    return tensor(data, dtype=dt, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    t = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        t = t.clone()
    if requires_grad:
        t.requires_grad_()
    return t


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """Same as torch.from_numpy: the tensor shares the array's memory."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy(ndarray.dtype)
    return Tensor._make(ndarray, CPU)


def from_dlpack(ext) -> Tensor:
    """Zero-copy import of any DLPack producer (NumPy, torch, CuPy)."""
    dev_type = ext.__dlpack_device__()[0] if hasattr(ext, "__dlpack_device__") else 1
    if dev_type == 1:
        return Tensor._make(np.from_dlpack(ext), CPU)
    from ._backend import cupy

    arr = cupy().from_dlpack(ext)
    return Tensor._make(arr, device("cuda", arr.device.id))


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"zeros(): argument 'size' must be tuple of ints, but found element of "
                            f"type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _filled(fill, size, dtype, device, requires_grad):
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    dev = _resolve_device(device)
    return _leaf(fill(dev.xp, _size(size), dt.np), dev, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _filled(lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _filled(lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None, pin_memory=False) -> Tensor:
    return _filled(lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = D.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else \
            fill_value.dtype
    return _filled(lambda xp, s, d: xp.full(s, fill_value, d), (size,) if isinstance(
        size, int) else tuple(size), dtype, device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    m = n if m is None else m
    return _filled(lambda xp, s, d: xp.eye(n, m, dtype=d), (n, m), dtype, device, requires_grad)


def _like(fn):
    def like(input, *args, dtype=None, layout=None, device=None, requires_grad=False,
             memory_format=None, **kw):
        return fn(input.shape, *args, dtype=dtype or input.dtype, device=device or input.device,
                  requires_grad=requires_grad, **kw)

    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        dtype = D.get_default_dtype() if any(isinstance(v, float) for v in vals) else D.int64
    dt = D.to_dtype(dtype)
    start, end, step = vals
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    import math

    n = max(0, math.ceil((end - start) / step))
    dev = _resolve_device(device)
    # torch computes start + i*step in the accumulation type, then casts
    arr = (start + np.arange(n, dtype=np.float64 if dt._kind >= 2 else np.int64) * step)
    return _leaf(to_device(arr.astype(dt.np), dev), dev, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    dev = _resolve_device(device)
    # torch fills the first half from start and the second half from end (symmetric rounding)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    return _leaf(to_device(arr.astype(dt.np), dev), dev, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    lin = linspace(start, end, steps, dtype=D.float64)
    dev = _resolve_device(device)
    return _leaf(to_device((base ** lin._data).astype(dt.np), dev), dev, requires_grad)


# --- new_* methods ---------------------------------------------------------------------------------
def _new(fn):
    def new(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)

    return new


Tensor.new_zeros = _new(zeros)
Tensor.new_ones = _new(ones)
Tensor.new_empty = _new(empty)
Tensor.new_full = lambda self, size, fill_value, *, dtype=None, device=None, \
    requires_grad=False: full(size, fill_value, dtype=dtype or self.dtype,
                              device=device or self.device, requires_grad=requires_grad)
Tensor.new_tensor = lambda self, data, *, dtype=None, device=None, requires_grad=False: tensor(
    data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


@tensor_method
def zero_(self) -> Tensor:
    return fill_(self, 0)


@tensor_method
def fill_(self, value) -> Tensor:
    from ._ops._inplace import check_leaf, inplace

    check_leaf(self)
    if _grad_state.grad_enabled and (self._requires_grad or isinstance(value, Tensor) and
                                     value._requires_grad):
        from ._ops.elementwise import add, mul

        return inplace(self, lambda t, v: add(mul(t, 0), v), value)
    self._data[...] = value._data if isinstance(value, Tensor) else value
    self._vc[0] += 1
    return self


@tensor_method
def copy_(self, src, non_blocking=False) -> Tensor:
    from ._ops._inplace import inplace

    if not isinstance(src, Tensor):
        src = tensor(src)
    if src.device != self.device or src.dtype is not self.dtype:
        src = src.to(device=self.device, dtype=self.dtype)
    return inplace(self, lambda t, s: s.expand(t.shape), src)
