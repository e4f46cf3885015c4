"""The recorder behind torch.profiler's API: times ndgrad's own ops (forward: ``aten::<op>``),
autograd nodes (backward: ``MulBackward0``) and ``record_function`` ranges."""

from __future__ import annotations

import os
import re
import sys
import threading
import time
import warnings
from enum import Enum
from time import perf_counter_ns

from ..autograd import engine as _engine
from ..autograd import node as _node
from ..autograd import op as _op
from ._events import EventList, FunctionEvent

ProfilerActivity = Enum("ProfilerActivity", "CPU XPU MTIA CUDA HPU PrivateUse1")
ProfilerActivity.__doc__ = "Same as torch.profiler.ProfilerActivity; only CPU times are measured."


class ProfilerAction(Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


_active = None  # the recording _Recorder, for record_function
_SKIP = (os.path.dirname(__file__), _op.__file__, _node.__file__,  # not shown in stacks
         _engine.__file__)


class _Recorder:
    """Installed as the op machinery's and the engine's ``_profiler`` while a profile records."""

    def __init__(self, record_shapes: bool, with_stack: bool) -> None:
        self.record_shapes, self.with_stack = record_shapes, with_stack
        self.raw: list = []  # (name, is_annotation, start_ns, end_ns, thread, shapes, stack)
        self.names: dict = {}  # op class -> event name
        self.on = True
        self.wall0, self.perf0 = time.time_ns(), perf_counter_ns()

    def op(self, apply, cls, args: tuple, kw: dict):
        """One op call (``Op.apply``/``apply_one``/``apply_pair``), re-entered with the hook off."""
        _op._profiler = None
        start = perf_counter_ns()
        try:
            return apply(*args, **kw)
        finally:
            end = perf_counter_ns()
            if self.on:
                _op._profiler = self
            name = self.names.get(cls)
            if name is None:
                name = cls.__dict__.get("_op_name") or re.sub(r"Backward\d*$", "",
                                                              cls.__name__).lower()
                name = self.names[cls] = "aten::" + name
            self.add(name, False, start, end, args)

    def node(self, fn, grads: list, raw: bool, targets, captured, needed):
        """One node's backward, as the engine's loop runs it (its inlined fast path is
        ``Node._apply_raw``'s usual case, so that is called here)."""
        start = perf_counter_ns()
        try:
            if not raw or fn._hooks:
                return _engine._run_node(fn, grads, raw, targets, captured, needed)
            if targets is not None:
                _engine._capture(fn, grads, targets, captured)
            return fn._apply_raw(grads) if needed is None or fn in needed else None
        finally:
            self.add(fn.name(), False, start, perf_counter_ns(), grads)

    def add(self, name: str, annotation: bool, start: int, end: int, args=()) -> None:
        shapes = [list(getattr(a, "shape", ())) for a in args] if self.record_shapes else None
        self.raw.append((name, annotation, start, end, threading.get_native_id(), shapes,
                         _python_stack() if self.with_stack else None))

    def events(self) -> EventList:
        """The recorded ranges as FunctionEvents, each nested in the range around it."""
        us = lambda t: (self.wall0 + t - self.perf0) / 1000.0  # noqa: E731
        out = EventList(FunctionEvent(i, n, tid, us(s), us(e), shapes, stack, annotation)
                        for i, (n, annotation, s, e, tid, shapes, stack) in enumerate(self.raw))
        open_: dict = {}  # thread -> stack of ranges that may hold the next one
        for ev in sorted(out, key=lambda ev: (ev.time_range.start, -ev.time_range.end)):
            stack = open_.setdefault(ev.thread, [])
            while stack and stack[-1].time_range.end < ev.time_range.end:
                stack.pop()
            if stack:
                ev.cpu_parent = stack[-1]
                stack[-1].cpu_children.append(ev)
            stack.append(ev)
        out.sort(key=lambda ev: ev.time_range.start)
        return out


def _python_stack() -> list:
    """The caller's Python frames, innermost first, as torch writes them: ``file(line): name``."""
    out, f = [], sys._getframe(2)
    while f is not None:
        path = f.f_code.co_filename
        if not path.startswith(_SKIP):
            out.append(f"{path}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return out


class record_function:
    """Same as torch.profiler.record_function: a named range in the profile (a no-op when no
    profile records); a context manager or a decorator."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name, self.args = name, args
        self._starts: list = []

    def __enter__(self) -> record_function:
        self._starts.append((_active, perf_counter_ns()))
        return self

    def __exit__(self, *exc) -> None:
        rec, start = self._starts.pop()
        if rec is not None and rec is _active:
            rec.add(self.name, True, start, perf_counter_ns())

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapped


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """Same as torch.profiler.schedule: step number -> ProfilerAction."""

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod = step % num_steps
        if mod < wait:
            return ProfilerAction.NONE
        if mod < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod < num_steps - 1 else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    return schedule_fn


def supported_activities() -> set:
    return {ProfilerActivity.CPU}


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False):
    """Same as torch.profiler.tensorboard_trace_handler: each finished cycle's Chrome trace in
    ``dir_name`` as ``<worker>.<ns>.pt.trace.json``."""
    import socket

    def handler_fn(prof) -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler_fn


_N, _W, _R, _S = (ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
                  ProfilerAction.RECORD_AND_SAVE)


class profile:
    """Same as torch.profiler.profile, timing ndgrad's ops on the CPU: forward ops are named
    ``aten::<primitive>`` after ndgrad's primitives (a composite such as ``linear`` shows as the
    primitives it calls), backward nodes by their grad_fn name. ``profile_memory``, ``with_flops``
    and ``with_modules`` are accepted and record nothing; device (CUDA) times are not measured.
    An op another thread starts while one is being timed goes unrecorded."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None, acc_events: bool = False,
                 use_cuda: bool | None = None, custom_trace_id_callback=None,
                 post_processing_timeout_s: float | None = None) -> None:
        self.activities = set(activities) if activities else supported_activities()
        self.record_shapes, self.with_stack = record_shapes, with_stack
        self.profile_memory, self.with_flops = profile_memory, with_flops
        self.record_steps = schedule is not None
        self.schedule = schedule or (lambda step: _R)
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(0)
        self.step_rec_fn: record_function | None = None
        self._recorder: _Recorder | None = None
        self._events = EventList()
        self._metadata: dict = {}

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._transit(_N, self.current_action)
        self._step_range()

    def stop(self) -> None:
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit(self.current_action, None)

    def step(self) -> None:
        """Mark the start of the next step: the schedule decides what the profiler does next."""
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        self._step_range()

    def _step_range(self) -> None:
        if self.record_steps:  # torch marks each step in the trace when there is a schedule
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _transit(self, prev, now) -> None:
        """torch's action map: which of start/stop/ready each schedule change runs."""
        if prev in (_R, _S) and now in (_N, _W, None):
            if prev is _R and now is not None:
                warnings.warn(f"Incorrect schedule: RECORD followed by {now.name}", stacklevel=3)
            self._stop_trace()
            if now is not _W or prev is _S:
                self._trace_ready()
        elif prev is _S:  # into the next cycle's recording
            self._stop_trace()
            self._trace_ready()
            self._start_trace()
        elif prev in (_N, _W) and now in (_R, _S):
            self._start_trace()
        elif prev is _W and now in (_N, None):
            if now is _N:
                warnings.warn("Incorrect schedule: WARMUP followed by NONE", stacklevel=3)
            self._events = EventList()  # started and stopped at once: nothing recorded

    def _start_trace(self) -> None:
        global _active
        if _active is not None:
            raise RuntimeError("Profiler is already enabled on this thread")
        rec = _active = self._recorder = _Recorder(self.record_shapes, self.with_stack)
        _op._profiler = _engine._profiler = rec

    def _stop_trace(self) -> None:
        global _active
        rec = self._recorder
        if rec is None:
            return
        rec.on = False
        _op._profiler = _engine._profiler = _active = self._recorder = None
        self._events = rec.events()

    def _trace_ready(self) -> None:
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def events(self) -> EventList:
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self._events.key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> None:
        self._events.export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        self._events.export_stacks(path, metric)

    def add_metadata(self, key: str, value: str) -> None:
        self._metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        self._metadata[key] = value
