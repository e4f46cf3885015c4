"""Scalar per-parameter state as torch keeps it, and torch's check of the ``capturable`` flag."""

from __future__ import annotations

from .. import _dtype as D
from .._backend import CPU
from .._tensor import Tensor

# torch's _get_capturable_supported_devices(): capturable state lives on an accelerator
_CAPTURABLE = ["cuda", "xpu", "hpu", "privateuseone", "xla"]


def scalar_tensor(value: float = 0.0, device=None) -> Tensor:
    """A 0-d tensor in torch's ``_get_scalar_dtype()`` (float64 under a float64 default dtype,
    else float32), on the CPU unless ``device`` is given."""
    device = CPU if device is None else device
    dt = D.float64 if D.get_default_dtype() is D.float64 else D.float32
    return Tensor._make(device.xp.asarray(value, dtype=dt.np), device)


def check_capturable(p: Tensor, what: str = "params and state_steps") -> None:
    """torch refuses ``capturable=True`` for parameters off an accelerator (its CPU included)."""
    if p._device.type not in _CAPTURABLE:
        raise AssertionError(f"If capturable=True, {what} must be on supported devices: "
                             f"{_CAPTURABLE}.")
