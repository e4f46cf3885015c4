"""Copies and conversions: clone, contiguous, ``.to()`` (dtype and device), ``.type()`` and the
``.float()``-style casters."""

from __future__ import annotations

import warnings

from .. import _dtype as D
from .._backend import cuda_available, device, device_of_array, to_device
from .._tensor import Tensor, _resolve_device
from ..autograd.op import Op
from ._layout import _empty, _like

__all__ = ["channels_last", "clone", "contiguous_format", "memory_format", "preserve_format"]


class memory_format:
    """Same as torch.memory_format; every ndgrad tensor is laid out C-contiguously or as a view."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")


class Clone(Op):
    """A copy laid out as ``order`` asks: "C", "K" (torch's preserve_format: a dense input's
    strides, else its order of dims made dense) or "NHWC" (channels_last)."""

    __slots__ = ()

    def forward(ctx, a, order="K"):
        if order == "C" or a.ndim < 2 or (order == "K" and a.flags.c_contiguous):
            return a.copy()
        out = _like(ctx.xp, a) if order == "K" else _empty(ctx.xp, a.shape, a.dtype, [1, 3, 2, 0])
        out[...] = a
        return out

    def backward(ctx, g):
        return g


def _order_of(memory_format, ndim: int) -> str:
    if memory_format is None or memory_format is preserve_format:
        return "K"
    if memory_format is channels_last:
        if ndim != 4:
            raise RuntimeError("required rank 4 tensor to use channels_last format")
        return "NHWC"
    return "C"


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """Same as torch.clone: by default (preserve_format) in the input's layout."""
    if memory_format is None:  # (no keyword: the common call stays cheap)
        return Clone.apply(input)
    return Clone.apply(input, order=_order_of(memory_format, input.ndim))


def _suggested(t: Tensor):
    """torch's suggest_memory_format: channels_last for a 4-d tensor laid out NHWC."""
    a = t._data
    return channels_last if a.ndim == 4 and not a.flags.c_contiguous and a.transpose(
        0, 2, 3, 1).flags.c_contiguous else contiguous_format


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """Same as torch.Tensor.contiguous: the tensor itself when already laid out as asked."""
    order = "C" if memory_format in (None, preserve_format) else _order_of(memory_format,
                                                                            input.ndim)
    if order == "C" and input._data.flags.c_contiguous:
        return input
    if order == "NHWC" and input._data.transpose(0, 2, 3, 1).flags.c_contiguous:
        return input
    return Clone.apply(input, order=order)


class ToCopy(Op):
    __slots__ = ()

    def forward(ctx, a, dt, dev):
        ctx.src_dtype, ctx.src_dev = a.dtype, device_of_array(a)
        if a.dtype.kind == "c" and dt.kind != "c":
            warnings.warn("Casting complex values to real discards the imaginary part",
                          UserWarning, stacklevel=5)
            a = a.real
        if a.ndim > 1 and not a.flags.c_contiguous:
            # torch's empty_like: NumPy's order "K" would put an expanded (0-stride) dim
            res = _like(ctx.xp, a, dt)  # innermost, torch keeps it
            res[...] = a
            return to_device(res, dev)
        out = to_device(a.astype(dt, copy=False), dev)
        return out.copy() if out is a else out  # to(copy=True): never the input's own buffer

    def backward(ctx, g):
        if g.is_complex() and ctx.src_dtype.kind != "c":
            g = g.real  # the gradient of a real-to-complex cast is the real part
        return g.to(dtype=D.from_numpy(ctx.src_dtype), device=ctx.src_dev)


_TO_OVERLOADS = (
    ", but expected one of:\n"
    " * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, bool "
    "copy = False, *, torch.memory_format memory_format = None)\n"
    " * (torch.dtype dtype, bool non_blocking = False, bool copy = False, *, torch.memory_format "
    "memory_format = None)\n"
    " * (Tensor tensor, bool non_blocking = False, bool copy = False, *, torch.memory_format "
    "memory_format = None)\n")


def _parse_to(args, kwargs):
    """(dtype, device) from ``.to()``'s positional forms: (device, dtype), (dtype), (tensor)."""
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    if "other" in kwargs:
        raise TypeError("to() received an invalid combination of arguments - got (other=Tensor, )"
                        + _TO_OVERLOADS)
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            dt, dev = a.dtype, a.device
        elif isinstance(a, D.dtype) or isinstance(a, type) and a in D._PY_TYPES:  # float: float64
            if dt is not None:
                raise TypeError(_to_invalid(args))
            dt = a
        elif isinstance(a, (str, device, int)) and not isinstance(a, bool) and i == 0:
            dev = a
        elif not isinstance(a, bool):  # (non_blocking, copy): np.float32, 'float32' are not dtypes
            raise TypeError(_to_invalid(args))
    return dt, dev


def _to_invalid(args) -> str:
    names = ("torch.dtype" if isinstance(x, D.dtype) else "torch.device" if isinstance(x, device)
             else type(x).__name__ if type(x).__module__ == "builtins" else
             f"{type(x).__module__}.{type(x).__qualname__}" for x in args)
    return f"to() received an invalid combination of arguments - got ({', '.join(names)})" + \
        _TO_OVERLOADS


def to(input: Tensor, *args, **kwargs) -> Tensor:
    """Same as torch.Tensor.to(dtype), .to(device, dtype), .to(other), with ``copy=`` and
    ``memory_format=``; ``non_blocking`` is accepted and ignored."""
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    fmt = kwargs.pop("memory_format", None)
    if fmt not in (None, preserve_format):
        out = to(input, *args, copy=copy, **kwargs)
        if out is input and _suggested(input) is fmt:
            return input  # torch's to() aliases a tensor whose layout suggests that format
        return contiguous(out, fmt)
    if len(args) > 2 and isinstance(args[-1], bool):  # to(device, dtype, non_blocking, copy)
        copy = args[-1]
    dt, dev = _parse_to(args, kwargs)
    dt = input.dtype if dt is None else D.to_dtype(dt)
    dev = input._device if dev is None else _resolve_device(dev)
    if dt is input.dtype and dev == input._device and not copy:
        return input
    out = ToCopy.apply(input, dt.np, dev)  # a CuPy/NumPy result is labelled by node._result;
    out._device = dev  # between two GPUs the array module is the same: name the device here
    return out


def _caster(name, dt):
    def cast(self, memory_format=None):
        return to(self, dt)

    cast.__name__ = name
    return cast


# Tensor.float(), .double(), ...: a cast to the dtype (the methods are made in _tensor_api)
CASTS = {"float": D.float32, "double": D.float64, "half": D.float16, "bfloat16": D.bfloat16,
         "int": D.int32, "long": D.int64, "short": D.int16, "char": D.int8, "byte": D.uint8,
         "bool": D.bool_, "cfloat": D.complex64, "cdouble": D.complex128}


def cpu(self, memory_format=None) -> Tensor:
    """Same as torch.Tensor.cpu."""
    return to(self, "cpu")


def cuda(self, device=None, non_blocking=False, memory_format=None) -> Tensor:
    """Same as torch.Tensor.cuda (CuPy arrays)."""
    if device is not None and not cuda_available():  # torch's CPU build asks its accelerator
        raise RuntimeError(_NO_ACCELERATOR)
    return to(self, "cuda" if device is None else
              (f"cuda:{device}" if isinstance(device, int) else device))


_NO_ACCELERATOR = "Cannot access accelerator device when none is available."


def pin_memory(self, device=None) -> Tensor:
    """Same as torch.Tensor.pin_memory: a copy (CuPy's transfers need no pinned pages); without
    an accelerator torch's RuntimeError."""
    if not cuda_available():
        raise RuntimeError(_NO_ACCELERATOR)
    return self.clone() if self._device.type == "cpu" else self


def is_pinned(self, device=None) -> bool:
    """Same as torch.Tensor.is_pinned: ndgrad never pins pages."""
    return False


_FROM_LEGACY = {D.legacy_type_name(d): d for d in D.ALL}


def legacy_type_name(t: Tensor) -> str:
    """torch's 'torch.FloatTensor' / 'torch.cuda.FloatTensor' name of a tensor's type."""
    prefix = "torch." if t._device.type == "cpu" else "torch.cuda."
    return prefix + D.legacy_type_name(t.dtype)


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """Same as torch.Tensor.type: the legacy type name, or a cast to a dtype or type name."""
    if dtype is None:
        return legacy_type_name(self)
    if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), D.dtype):
        dtype = dtype.dtype  # a legacy type such as FloatTensor
    if isinstance(dtype, type) and not isinstance(getattr(dtype, "dtype", None), D.dtype):
        name = dtype.__name__ if dtype.__module__ == "builtins" else \
            f"{dtype.__module__}.{dtype.__qualname__}"  # float, np.float32: not a tensor type
        raise ValueError(f"invalid type: '{name}'")
    if isinstance(dtype, str):
        mod, _, name = dtype.rpartition(".")
        if mod not in ("torch", "torch.cuda") or name not in _FROM_LEGACY:
            raise ValueError(f"invalid type: '{dtype}'")
        dev = "cuda" if mod == "torch.cuda" else "cpu"
        return to(self, dev, _FROM_LEGACY[name])
    return to(self, dtype)
