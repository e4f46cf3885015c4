"""torch.onnx: ``export`` writes a real ONNX file through the ``onnx`` package when it is
installed (``pip install onnx``, the ``onnx`` extra) and raises ModuleNotFoundError saying so
when it is not; see _export for the ops it maps."""

from __future__ import annotations

import enum

from ._export import export, is_in_onnx_export

__all__ = ["TrainingMode", "export", "is_in_onnx_export"]


class TrainingMode(enum.IntEnum):
    """Same as torch.onnx.TrainingMode (export always runs the module in eval mode here)."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2
