"""Devices and their array modules: NumPy for ``cpu``, CuPy (imported on first use) for ``cuda``."""

from __future__ import annotations

import math

import numpy as np


class device:
    """Same as torch.device: ``device('cpu')``, ``device('cuda', 0)``, ``device('cuda:1')``."""

    __slots__ = ("type", "index")

    def __new__(cls, type_or_device="cpu", index: int | None = None):
        if isinstance(type_or_device, device):
            return type_or_device
        if isinstance(type_or_device, int):  # torch.device(0) means cuda:0
            type_or_device, index = "cuda", type_or_device
        kind, _, idx = str(type_or_device).partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(
                "Expected one of cpu, cuda device type at start of device string: "
                f"{type_or_device}")
        if idx:
            index = int(idx)
        if kind == "cuda" and index is None:
            index = 0
        key = (kind, index)
        cached = _DEVICES.get(key)
        if cached is not None:
            return cached
        self = object.__new__(cls)
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", index)
        _DEVICES[key] = self
        return self

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    @property
    def xp(self):
        """The array module that holds this device's arrays."""
        return np if self.type == "cpu" else cupy()


_DEVICES: dict = {}
CPU = device("cpu")


def cupy():
    """Import CuPy on first CUDA use; a clear error when it is missing."""
    try:
        import cupy as cp
    except ImportError:
        raise AssertionError("Torch not compiled with CUDA enabled: ndgrad needs CuPy for "
                             "device='cuda' (pip install 'ndgrad[cuda]')") from None
    return cp


def cuda_available() -> bool:
    try:
        import cupy as cp

        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def device_of_array(a) -> device:
    """The device an array lives on (NumPy arrays are cpu)."""
    if isinstance(a, np.ndarray) or np.isscalar(a):
        return CPU
    dev = getattr(a, "device", None)
    return device("cuda", int(getattr(dev, "id", 0)))


def to_device(a, dev: device):
    """Copy an array to ``dev`` (no copy if it already lives there)."""
    if dev.type == "cpu":
        return a if isinstance(a, np.ndarray) else a.get()
    cp = cupy()
    with cp.cuda.Device(dev.index):
        return cp.asarray(a)


def to_numpy(a) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.get()


# --- shims for functions one of the array modules lacks --------------------------------------------
def special(xp, name: str):
    """erf, erfinv, lgamma, digamma... from scipy.special / cupyx.scipy.special, with NumPy fallbacks."""
    if xp is np:
        try:
            import scipy.special as sp

            return getattr(sp, {"lgamma": "gammaln", "digamma": "psi"}.get(name, name))
        except ImportError:
            return _NUMPY_SPECIAL[name]
    import cupyx.scipy.special as csp

    return getattr(csp, {"lgamma": "gammaln", "digamma": "psi"}.get(name, name))


def _erf(x):
    return np.vectorize(math.erf, otypes=[x.dtype])(x)


def _erfinv(y):
    # Initial guess (Giles) refined by Newton steps on erf; accurate to float64 rounding.
    y = np.asarray(y, dtype=np.float64)
    w = -np.log((1.0 - y) * (1.0 + y))
    x = np.where(w < 5, np.sqrt(np.maximum(w, 0)) * 0.88, np.sqrt(np.maximum(w, 0)) * 0.9) * np.sign(y)
    for _ in range(60):
        err = _erf(x) - y
        x = x - err / (2 / math.sqrt(math.pi) * np.exp(-x * x))
    return np.where(np.abs(y) == 1, np.sign(y) * np.inf, x)


_NUMPY_SPECIAL = {
    "erf": _erf,
    "erfc": lambda x: 1 - _erf(x),
    "erfinv": _erfinv,
    "lgamma": lambda x: np.vectorize(math.lgamma, otypes=[x.dtype])(x),
}
