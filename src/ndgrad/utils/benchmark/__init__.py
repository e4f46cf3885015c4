"""Same as torch.utils.benchmark: Timer (Python statements) and Measurement, printed as torch
prints them. ``Compare``, the fuzzers and Callgrind are not ported."""

from ._common import Measurement, TaskSpec, select_unit, trim_sigfig, unit_to_english
from ._timer import Language, Timer, timer

__all__ = ["Language", "Measurement", "TaskSpec", "Timer", "select_unit", "timer", "trim_sigfig",
           "unit_to_english"]
