"""Window functions: torch.hann_window, hamming_window, blackman_window, bartlett_window,
kaiser_window, computed as ATen does (an arange scaled in the window's dtype)."""

from __future__ import annotations

import math

from .. import _dtype as D
from .._grad_mode import no_grad
from .._tensor import Tensor
from .._dtype import meta_name
from .._errors import not_implemented

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window",
           "kaiser_window"]


def _start(name: str, n, dtype, device, requires_grad):
    """torch's checks; the window's length (one more when periodic) and dtype."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(n).__name__}")
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    if dt._kind < 2:
        raise RuntimeError(f"{name} expects floating point dtypes, got: TensorOptions(dtype="
                           f"{meta_name(dt)}, device=cpu, layout=Strided (default), "
                           "requires_grad=false (default), pinned_memory=false, "
                           "memory_format=(nullopt))")
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={n}")
    if dt._kind == 3 and n > 1:
        raise not_implemented("arange_cpu", dt)
    return dt


def _window(name, n, periodic, dtype, device, requires_grad, body) -> Tensor:
    from .._creation import arange, empty, ones

    dt = _start(name, n, dtype, device, requires_grad)
    if n <= 1:
        make = ones if n else empty
        return make(n, dtype=dt, device=device, requires_grad=requires_grad)
    m = n + 1 if periodic else n
    with no_grad():
        w = body(arange(m, dtype=dt, device=device), m)
        if periodic:
            w = w[:n].clone()
    return w.requires_grad_(requires_grad)


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False) -> Tensor:
    """Same as torch.hamming_window."""
    def body(k, m):
        return (k * (math.pi * 2.0 / (m - 1))).cos() * -beta + alpha

    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, body)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """Same as torch.hann_window."""
    _start("hann_window", window_length, dtype, device, requires_grad)
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """Same as torch.blackman_window."""
    def body(k, m):
        k = k * (math.pi / (m - 1))
        return (k * 4).cos() * 0.08 - (k * 2).cos() * 0.5 + 0.42

    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, body)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """Same as torch.bartlett_window."""
    def body(k, m):
        w = k * (2.0 / (m - 1))
        half = ((m - 1) >> 1) + 1
        w[half:] = w[half:] * -1 + 2
        return w

    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, body)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None,
                  layout=None, device=None, pin_memory=False, requires_grad=False) -> Tensor:
    """Same as torch.kaiser_window."""
    from ..special import i0

    def body(k, m):
        alpha = (m - 1) / 2.0
        x = k.double()
        w = i0(beta * (1 - ((x - alpha) / alpha) ** 2).abs().sqrt()) / i0(Tensor._make(
            x._device.xp.asarray(float(beta)), x._device))
        return w.to(k.dtype)

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, body)

