"""Same as torch.cpu: the CPU device's queries (always present, one device) and torch.cpu.amp."""

from __future__ import annotations

from ..amp._legacy import cpu_amp as amp

__all__ = ["amp", "current_device", "device_count", "is_available", "is_initialized",
           "set_device", "synchronize"]


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device) -> None:
    """Same as torch.cpu.set_device: there is only one CPU device."""


def synchronize(device=None) -> None:
    """Same as torch.cpu.synchronize: CPU work is synchronous."""
