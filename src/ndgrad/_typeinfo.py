"""torch.finfo, torch.iinfo and torch.can_cast."""

from __future__ import annotations

import numpy as np

from . import _dtype as D

__all__ = ["can_cast", "finfo", "iinfo"]


def _g(x: float) -> str:
    return f"{x:.6g}"


class finfo:
    """Same as torch.finfo: machine limits of a floating (or complex: its real part) dtype."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type=None):
        dt = D.get_default_dtype() if type is None else D.to_dtype(type)
        if dt._kind < 2:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo "
                            "to handle 'torch.finfo'")
        real = dt.to_real()
        info = D.finfo(real.np)
        self.bits = real.itemsize * 8
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = float(10.0 ** -info.precision)
        self.dtype = real.name

    def __eq__(self, other) -> bool:
        return isinstance(other, finfo) and self.dtype == other.dtype

    __hash__ = None  # type: ignore[assignment]  (unhashable, as in torch)

    def __repr__(self) -> str:
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, "
                f"eps={_g(self.eps)}, smallest_normal={_g(self.smallest_normal)}, "
                f"tiny={_g(self.tiny)}, dtype={self.dtype})")

    __str__ = __repr__


class iinfo:
    """Same as torch.iinfo: limits of an integer dtype."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type):
        dt = D.to_dtype(type)
        if dt is D.bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if dt._kind != 1:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(dt.np)
        self.bits, self.max, self.min, self.dtype = info.bits, int(info.max), int(info.min), dt.name

    def __eq__(self, other) -> bool:
        return isinstance(other, iinfo) and self.dtype == other.dtype

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"iinfo(min={_g(self.min)}, max={_g(self.max)}, dtype={self.dtype})"

    __str__ = __repr__


def can_cast(from_: D.dtype, to: D.dtype) -> bool:
    """Same as torch.can_cast: no cast to a lower kind (complex > float > int > bool)."""
    for name, d in (("from_", from_), ("to", to)):
        if not isinstance(d, D.dtype):
            raise TypeError(f"can_cast(): argument '{name}' (position {1 + (name == 'to')}) must "
                            f"be torch.dtype, not {type(d).__name__}")
    return from_._kind <= to._kind
