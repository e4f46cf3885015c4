"""Autocast's thread-local state (per device type: enabled, dtype; the cache flag, the nesting
count) and torch's top-level functions over it, plus the casts the ops that autocast covers apply
to their inputs (``lower`` for matmul/linear/conv, ``fp32`` for the losses)."""

from __future__ import annotations

import threading
import warnings

from .. import _dtype as D
from .._backend import _TYPES

# torch's default autocast dtype per device type
_DEFAULT = {"cpu": D.bfloat16, "hpu": D.bfloat16, "xla": D.bfloat16, "maia": D.bfloat16}


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled: dict = {}
        self.dtype: dict = {}
        self.on = False  # some device type enabled: the one check the covered ops make
        self.cache = True
        self.nesting = 0


state = _State()

__all__ = ["is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
           "set_autocast_dtype", "is_autocast_cpu_enabled", "set_autocast_cpu_enabled",
           "get_autocast_cpu_dtype", "set_autocast_cpu_dtype", "get_autocast_gpu_dtype",
           "set_autocast_gpu_dtype", "is_autocast_ipu_enabled", "set_autocast_ipu_enabled",
           "get_autocast_ipu_dtype", "set_autocast_ipu_dtype", "is_autocast_xla_enabled",
           "set_autocast_xla_enabled", "get_autocast_xla_dtype", "set_autocast_xla_dtype",
           "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
           "autocast_increment_nesting", "autocast_decrement_nesting"]


def _device_type(device_type: str) -> str:
    if device_type not in _TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device "
                           f"string: {device_type}")
    if device_type in ("meta", "lazy"):
        raise RuntimeError("unsupported scalarType")
    return device_type


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Same as torch.is_autocast_enabled (no argument: CUDA's flag)."""
    return state.enabled.get(_device_type(device_type), False)


def set_autocast_enabled(device_type, enabled=None) -> None:
    """Same as torch.set_autocast_enabled(device_type, enabled) (or (enabled): CUDA's)."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    state.enabled[_device_type(device_type)] = bool(enabled)
    state.on = any(state.enabled.values())


def get_autocast_dtype(device_type: str) -> D.dtype:
    """Same as torch.get_autocast_dtype."""
    dt = _device_type(device_type)
    return state.dtype.get(dt) or _DEFAULT.get(dt, D.float16)


def set_autocast_dtype(device_type: str, dtype: D.dtype) -> None:
    """Same as torch.set_autocast_dtype."""
    state.dtype[_device_type(device_type)] = dtype


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"torch.{old}() is deprecated. Please use torch.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def _legacy(kind: str, device: str):
    """torch's deprecated per-device spellings (is_autocast_cpu_enabled...)."""

    def is_enabled() -> bool:
        _deprecated(f"is_autocast_{kind}_enabled", f"is_autocast_enabled('{device}')")
        return is_autocast_enabled(device)

    def set_enabled(enabled: bool) -> None:
        _deprecated(f"set_autocast_{kind}_enabled", f"set_autocast_enabled('{device}', enabled)")
        set_autocast_enabled(device, enabled)

    def get_dtype() -> D.dtype:
        _deprecated(f"get_autocast_{kind}_dtype", f"get_autocast_dtype('{device}')")
        return get_autocast_dtype(device)

    def set_dtype(dtype: D.dtype) -> None:
        _deprecated(f"set_autocast_{kind}_dtype", f"set_autocast_dtype('{device}', dtype)")
        set_autocast_dtype(device, dtype)

    return is_enabled, set_enabled, get_dtype, set_dtype


is_autocast_cpu_enabled, set_autocast_cpu_enabled, get_autocast_cpu_dtype, \
    set_autocast_cpu_dtype = _legacy("cpu", "cpu")
_, _, get_autocast_gpu_dtype, set_autocast_gpu_dtype = _legacy("gpu", "cuda")
is_autocast_ipu_enabled, set_autocast_ipu_enabled, get_autocast_ipu_dtype, \
    set_autocast_ipu_dtype = _legacy("ipu", "ipu")
is_autocast_xla_enabled, set_autocast_xla_enabled, get_autocast_xla_dtype, \
    set_autocast_xla_dtype = _legacy("xla", "xla")


def is_autocast_cache_enabled() -> bool:
    """Same as torch.is_autocast_cache_enabled (ndgrad keeps no cast cache: casts are cheap
    next to the ops, and the values are the same)."""
    return state.cache


def set_autocast_cache_enabled(enabled: bool) -> None:
    state.cache = bool(enabled)


def clear_autocast_cache() -> None:
    """Same as torch.clear_autocast_cache (there is no cache to clear)."""


def autocast_increment_nesting() -> int:
    state.nesting += 1
    return state.nesting


def autocast_decrement_nesting() -> int:
    state.nesting -= 1
    return state.nesting


# --- the casts of the covered ops ----------------------------------------------------------------
def _cast(t, dtype_of):
    """t in its device's autocast dtype, if autocast covers it (a floating tensor other than
    float64 on an enabled device type; the cast is a recorded op, so gradients flow back)."""
    if t is None or not hasattr(t, "_data") or t._data.dtype.kind not in "fV":
        return t
    kind = t._device.type
    if not state.enabled.get(kind) or t.dtype is D.float64:
        return t
    dt = dtype_of(kind)
    return t if t.dtype is dt else t.to(dt)


def lower(*tensors):
    """torch's lower_precision_fp policy: matmul, mm, bmm, addmm, baddbmm, addbmm, linear,
    conv*, conv_transpose*, prelu, scaled_dot_product_attention compute in the autocast dtype."""
    return tuple(_cast(t, get_autocast_dtype) for t in tensors)


def fp32(*tensors):
    """torch's fp32 policy (the losses, cdist, prod...): inputs in float32."""
    return tuple(_cast(t, lambda kind: D.float32) for t in tensors)
