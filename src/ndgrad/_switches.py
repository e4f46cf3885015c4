"""torch's process-wide switches and build facts that belong to no op family: the default
device, warn_always, the deterministic debug mode, interop threads, flush_denormal, the has_*
flags, anomaly detection's top-level names, set_default_tensor_type and the math constants."""

from __future__ import annotations

import math
import os
import warnings

from . import _dtype as D
from . import _backend
from ._backend import device
from ._misc import _settings, are_deterministic_algorithms_enabled, use_deterministic_algorithms
from .autograd.anomaly_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,
                                    set_detect_anomaly)

__all__ = ["AcceleratorError", "e", "get_default_device", "get_deterministic_debug_mode",
           "get_num_interop_threads", "has_lapack", "has_mkl", "has_openmp", "has_spectral",
           "inf", "init_num_threads", "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "is_warn_always_enabled", "nan", "pi",
           "set_anomaly_enabled", "set_default_device", "set_default_tensor_type",
           "set_deterministic_debug_mode", "set_flush_denormal", "set_num_interop_threads",
           "set_warn_always"]

pi, e, inf, nan = math.pi, math.e, math.inf, math.nan
has_lapack, has_spectral = True, True  # NumPy's LAPACK and FFT
has_mkl, has_openmp = False, False


class AcceleratorError(RuntimeError):
    """Same as torch.AcceleratorError."""


_state = {"default_device": device("cpu"), "warn_always": False, "interop": None}


def set_default_device(dev) -> None:
    """Same as torch.set_default_device: factories without ``device=`` (zeros, tensor, randn,
    arange...) create their tensors there; ``from_numpy`` and ``*_like`` are not affected."""
    d = device("cpu") if dev is None else device(dev)
    _backend.set_default_device(d)
    _state["default_device"] = d


def get_default_device() -> device:
    """Same as torch.get_default_device."""
    return _state["default_device"]


def set_warn_always(b: bool) -> None:
    """Same as torch.set_warn_always (ndgrad's warnings follow Python's filters either way)."""
    _state["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _state["warn_always"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    """Same as torch.set_deterministic_debug_mode: 0/"default", 1/"warn", 2/"error"."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError("invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return bool(_settings.get("warn_only", False)) and are_deterministic_algorithms_enabled()


def get_deterministic_debug_mode() -> int:
    if not are_deterministic_algorithms_enabled():
        return 0
    return 1 if is_deterministic_algorithms_warn_only_enabled() else 2


def get_num_interop_threads() -> int:
    """Same as torch.get_num_interop_threads (ndgrad runs no inter-op pool: a recorded count)."""
    return _state["interop"] or os.cpu_count() or 1


def set_num_interop_threads(n: int) -> None:
    if _state["interop"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has "
                           "started or set_num_interop_threads called")
    _state["interop"] = int(n)


def init_num_threads() -> None:
    """Same as torch.init_num_threads: nothing to initialise."""


def set_flush_denormal(mode: bool) -> bool:
    """Same as torch.set_flush_denormal where unsupported: NumPy cannot set the CPU's
    flush-to-zero mode, so this returns False and changes nothing."""
    return False


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Same as torch.set_anomaly_enabled."""
    set_detect_anomaly(enabled, check_nan)


_TENSOR_TYPES = {"torch." + D.legacy_type_name(d): d
                 for d in (D.float32, D.float64, D.float16, D.bfloat16)}


def set_default_tensor_type(t) -> None:
    """Same as torch.set_default_tensor_type (deprecated there) for the CPU float types."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    name = name if name.startswith("torch.") else "torch." + name
    if name not in _TENSOR_TYPES:
        raise TypeError(f"invalid type: '{name}'")
    D.set_default_dtype(_TENSOR_TYPES[name])
