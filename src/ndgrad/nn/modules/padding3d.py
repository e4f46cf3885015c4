"""The 3-d padding layers (ZeroPad3d, ConstantPad3d, ReflectionPad3d, ReplicationPad3d,
CircularPad3d)."""

from __future__ import annotations

from .padding import _ConstantPadNd, _PadNd


class ConstantPad3d(_ConstantPadNd):
    _nd = 3


class ZeroPad3d(_PadNd):
    _nd = 3

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad3d(_PadNd):
    _nd, mode = 3, "reflect"


class ReplicationPad3d(_PadNd):
    _nd, mode = 3, "replicate"


class CircularPad3d(_PadNd):
    _nd, mode = 3, "circular"
