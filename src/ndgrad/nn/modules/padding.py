"""Padding layers (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad)."""

from __future__ import annotations

from .. import functional as F
from .._functional._utils import ntuple
from .module import Module


class _PadNd(Module):
    _nd = 2
    mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = ntuple(2 * self._nd)(padding)
        self.value = value

    def forward(self, input):
        if self.mode == "constant":
            return F.pad(input, self.padding, "constant", self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    _nd = 2


class ZeroPad1d(_PadNd):
    _nd = 1

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(ZeroPad1d):
    _nd = 2


class ReflectionPad1d(_PadNd):
    _nd, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    _nd, mode = 2, "reflect"


class ReplicationPad1d(_PadNd):
    _nd, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    _nd, mode = 2, "replicate"


class CircularPad1d(_PadNd):
    _nd, mode = 1, "circular"


class CircularPad2d(_PadNd):
    _nd, mode = 2, "circular"
