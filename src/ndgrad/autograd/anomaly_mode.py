"""Same as torch.autograd.anomaly_mode: detect_anomaly and set_detect_anomaly.

While enabled, every recorded op keeps the Python stack of its forward call; a backward that
raises reports that stack (as a warning), and, with ``check_nan``, a backward that returns nan
raises. The flag is process-wide, as in torch."""

from __future__ import annotations

import warnings

from .._grad_mode import _Mode, anomaly

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled() -> bool:
    """Same as torch.is_anomaly_enabled."""
    return anomaly.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Same as torch.is_anomaly_check_nan_enabled."""
    return anomaly.check_nan


class detect_anomaly(_Mode):
    """Same as torch.autograd.detect_anomaly: a context manager and decorator."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self._prev = anomaly.enabled, anomaly.check_nan
        anomaly.enabled, anomaly.check_nan = True, self.check_nan

    def __exit__(self, *exc) -> None:
        anomaly.enabled, anomaly.check_nan = self._prev

    def clone(self):
        return detect_anomaly(self.check_nan)


class set_detect_anomaly(detect_anomaly):
    """Same as torch.autograd.set_detect_anomaly: takes effect at once; also a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = anomaly.enabled, anomaly.check_nan
        self.mode, self.check_nan = mode, check_nan
        anomaly.enabled, anomaly.check_nan = mode, check_nan

    def __enter__(self) -> None:
        pass

    def clone(self):
        return set_detect_anomaly(self.mode, self.check_nan)
