"""Same as torch.profiler: ``profile`` times ndgrad's own ops (forward and backward apart) and
``record_function`` ranges; ``key_averages().table()`` and ``export_chrome_trace`` as in torch."""

from .profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,
                       supported_activities, tensorboard_trace_handler)

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler"]
