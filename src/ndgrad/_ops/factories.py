"""Factories torch has beyond _creation's: range, scalar_tensor, empty_strided (and
Tensor.new_empty_strided), empty_permuted, frombuffer, the out-of-place fill, poisson and
binomial."""

from __future__ import annotations

import builtins
import math
import warnings

import numpy as np

from .. import _dtype as D
from .._backend import CPU, to_device
from .._creation import factory_out
from .._errors import overflow
from .._tensor import Tensor, _resolve_device

__all__ = ["binomial", "empty_permuted", "empty_strided", "fill", "frombuffer", "poisson",
           "range", "scalar_tensor"]


def _leaf(arr, dev, requires_grad: bool) -> Tensor:
    from .._creation import _leaf as leaf

    return leaf(arr, dev, requires_grad)


@factory_out
def range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False) -> Tensor:
    """Same as torch.range (deprecated there): end included, the default float dtype unless a
    dtype is given."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its "
                  "behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    start, end, step = (float(v) if not isinstance(v, int) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    arr = start + np.arange(n, dtype=np.float64) * step  # accumulated in double, as torch
    if dt._kind == 1:
        arr = np.asarray(int(start) + np.arange(n, dtype=np.int64) * int(step))
    dev = _resolve_device(device)
    return _leaf(to_device(arr.astype(dt.np), dev), dev, requires_grad)


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False) -> Tensor:
    """Same as torch.scalar_tensor: a 0-d tensor of the default float dtype unless told."""
    if isinstance(s, Tensor):
        s = s.item()
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    if isinstance(s, complex) and dt._kind in (1, 2):  # bool takes nonzero as True
        raise overflow(D.float64 if dt._kind == 2 and dt.itemsize == 2 else dt)  # (c10's path)
    D.check_scalar_range(s, dt)
    dev = _resolve_device(device)
    return _leaf(to_device(np.asarray(s).astype(dt.np), dev), dev, requires_grad)


def _strided(size, stride, dt: D.dtype, dev):
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of "
                           f"strides ({len(stride)})")
    n = 1 + sum((a - 1) * s for a, s in zip(size, stride)) if all(size) else 0
    xp = dev.xp
    buf = xp.empty(max(n, 1), dt.np)
    return xp.lib.stride_tricks.as_strided(buf, size, tuple(s * buf.itemsize for s in stride))


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """Same as torch.empty_strided: uninitialised, with exactly these strides."""
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    dev = _resolve_device(device)
    return _leaf(_strided(size, stride, dt, dev), dev, requires_grad)


def new_empty_strided(self: Tensor, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad=False, pin_memory=False) -> Tensor:
    """Same as torch.Tensor.new_empty_strided."""
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                         device=self.device if device is None else device,
                         requires_grad=requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False) -> Tensor:
    """Same as torch.empty_permuted: dims laid out in memory in physical_layout's order."""
    from .._creation import empty

    size, order = tuple(size), tuple(physical_layout)
    if sorted(order) != list(builtins.range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(order)}")
    inverse = [order.index(i) for i in builtins.range(len(size))]
    out = empty(*[size[d] for d in order], dtype=dtype, device=device).permute(*inverse)
    out = Tensor._make(out._data, out._device)  # a fresh leaf, not a view of the buffer
    return out.requires_grad_(requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False) -> Tensor:
    """Same as torch.frombuffer: a tensor sharing the buffer's memory."""
    dt = D.to_dtype(dtype)
    nbytes = memoryview(buffer).nbytes
    if offset < 0 or offset >= nbytes and nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({nbytes} bytes) minus 1")
    if count <= 0 and (nbytes - offset) % dt.itemsize:
        raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} bytes) "
                         f"must be a multiple of element size ({dt.itemsize})")
    arr = np.frombuffer(buffer, dt.np, count, offset)
    if not arr.flags.writeable:
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. This means you can write to the underlying "
                      "(supposedly non-writable) buffer using the tensor. You may want to copy "
                      "the buffer to protect its data or make it writable before converting it "
                      "to a tensor. This type of warning will be suppressed for the rest of this "
                      "program.", UserWarning, stacklevel=2)
    return _leaf(arr, CPU, requires_grad)  # the buffer's memory: torch ignores the default device


def fill(input: Tensor, value) -> Tensor:
    """Same as torch.fill: a copy of input filled with value (a zero gradient to input)."""
    out = input.clone().fill_(value)
    if out._grad_fn is not None:
        out._grad_fn._name = "FillBackward1" if isinstance(value, Tensor) else "FillBackward0"
    return out


def poisson(input: Tensor, generator=None) -> Tensor:
    """Same as torch.poisson (torch's stream). As in torch, the sample carries a zero gradient."""
    from ..distributions._samplers import poisson as draw

    return draw(input, generator)


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Same as torch.binomial (torch's stream)."""
    from ..distributions._samplers import binomial as draw

    return draw(count, prob, generator)
