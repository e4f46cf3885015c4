"""Dropout3d and FeatureAlphaDropout."""

from __future__ import annotations

from .. import functional as F
from .dropout import _DropoutNd


class Dropout3d(_DropoutNd):
    fn = staticmethod(F.dropout3d)


class FeatureAlphaDropout(_DropoutNd):
    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
