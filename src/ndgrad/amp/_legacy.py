"""torch.cpu.amp and torch.cuda.amp: the deprecated per-device spellings of autocast and
GradScaler (each warns FutureWarning, as torch's do, then is the device's torch.amp object)."""

from __future__ import annotations

import sys
import types
import warnings

from .. import _dtype as D
from .autocast_mode import autocast as _autocast
from .autocast_mode import custom_bwd as _custom_bwd
from .autocast_mode import custom_fwd as _custom_fwd
from .grad_scaler import GradScaler as _GradScaler


def _warn(old: str, new: str) -> None:
    warnings.warn(f"`{old}(args...)` is deprecated. Please use `{new}` instead.", FutureWarning,
                  stacklevel=3)


def namespace(device: str, dtype: D.dtype) -> types.ModuleType:
    """The module torch.<device>.amp: autocast and GradScaler fixed to ``device``."""

    class autocast(_autocast):
        def __init__(self, enabled: bool = True, dtype: D.dtype = dtype,
                     cache_enabled: bool = True) -> None:
            _warn(f"torch.{device}.amp.autocast", f"torch.amp.autocast('{device}', args...)")
            super().__init__(device, enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)

    class GradScaler(_GradScaler):
        def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                     backoff_factor: float = 0.5, growth_interval: int = 2000,
                     enabled: bool = True) -> None:
            _warn(f"torch.{device}.amp.GradScaler", f"torch.amp.GradScaler('{device}', args...)")
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval,
                             enabled)

    mod = types.ModuleType(f"ndgrad.{device}.amp", f"Same as torch.{device}.amp (deprecated).")
    mod.autocast, mod.GradScaler = autocast, GradScaler
    for cls in (autocast, GradScaler):
        cls.__module__, cls.__qualname__ = mod.__name__, cls.__name__
    if device == "cuda":
        def custom_fwd(fwd=None, *, cast_inputs=None):
            _warn("torch.cuda.amp.custom_fwd", "torch.amp.custom_fwd(args..., device_type='cuda')")
            return _custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)

        def custom_bwd(bwd):
            _warn("torch.cuda.amp.custom_bwd", "torch.amp.custom_bwd(args..., device_type='cuda')")
            return _custom_bwd(bwd, device_type="cuda")

        mod.custom_fwd, mod.custom_bwd = custom_fwd, custom_bwd
    return mod


cpu_amp = sys.modules["ndgrad.cpu.amp"] = namespace("cpu", D.bfloat16)
cuda_amp = sys.modules["ndgrad.cuda.amp"] = namespace("cuda", D.float16)
