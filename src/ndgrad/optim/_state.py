"""Per-parameter state as torch keeps it, and torch's argument checks shared by the optimizers."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import CPU
from .._tensor import Tensor

_NAMES = {"lr": "learning rate", "eps": "epsilon value"}


def check_args(lr, **values) -> None:
    """torch's constructor checks, in its order: a one-element tensor lr, then each value >= 0
    (``betas`` in [0, 1))."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    for name, value in (("lr", lr), *values.items()):
        if name == "betas":
            for i, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        elif not 0.0 <= value:
            raise ValueError(f"Invalid {_NAMES.get(name, name + ' value')}: {value}")


def zeros_like(p: Tensor) -> Tensor:
    return Tensor._make(p._device.xp.zeros_like(p._data), p._device)


def full_like(p: Tensor, value: float) -> Tensor:
    """``value`` everywhere (``value + value*1j`` for a complex ``p``, as torch fills them)."""
    return Tensor._make(p._device.xp.full_like(
        p._data, complex(value, value) if p._data.dtype.kind == "c" else value), p._device)


def step_tensor(value: float = 0.0) -> Tensor:
    """The float32 0-d ``step`` counter torch keeps per parameter."""
    return Tensor._make(np.array(value, dtype=D.float32.np))


def scalar_tensor(value: float = 0.0, device=None) -> Tensor:
    """A 0-d tensor in torch's ``_get_scalar_dtype()`` (float64 under a float64 default dtype,
    else float32), on the CPU unless ``device`` is given."""
    device = CPU if device is None else device
    dt = D.float64 if D.get_default_dtype() is D.float64 else D.float32
    return Tensor._make(device.xp.asarray(value, dtype=dt.np), device)


def check_capturable(p: Tensor, what: str, xla: bool) -> None:
    """torch refuses ``capturable=True`` for parameters off an accelerator (its CPU included);
    its _get_capturable_supported_devices() lists xla for some optimizers only."""
    devices = ["cuda", "xpu", "hpu", "privateuseone"] + (["xla"] if xla else [])
    if p._device.type not in devices:
        raise AssertionError(f"If capturable=True, {what} must be on supported devices: "
                             f"{devices}.")


def check_fused(p: Tensor) -> None:
    """torch's fused kernels take floating-point params only."""
    if not p.is_floating_point():
        raise RuntimeError("`fused=True` requires all the params to be floating point Tensors "
                           "of supported devices: ['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', "
                           f"'privateuseone'] but {p.dtype} and {p._device.type}")
