"""Conv3d and ConvTranspose3d: conv.py's layers over three spatial dims."""

from __future__ import annotations

from .. import functional as F
from .conv import _Conv, _ConvTransposeNd


class Conv3d(_Conv):
    _nd = 3
    _fn = staticmethod(F.conv3d)


class ConvTranspose3d(_ConvTransposeNd):
    _nd = 3
    _fn = staticmethod(F.conv_transpose3d)
