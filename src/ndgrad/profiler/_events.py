"""What a profile recorded: events, their averages by name, torch's table and trace formats."""

from __future__ import annotations

import gzip
import json
import os
import socket
from collections import defaultdict


class Interval:
    """Same as torch.autograd.profiler_util.Interval: start and end in microseconds."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start


class _Times:
    """The columns shared by an event and an average; devices and memory are not measured."""

    device_time_total = self_device_time_total = device_time = 0.0
    cpu_memory_usage = self_cpu_memory_usage = device_memory_usage = 0
    self_device_memory_usage = 0
    node_id = -1
    is_async = is_remote = is_legacy = False

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    cpu_time_str = property(lambda self: _format_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: _format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _format_time(self.self_cpu_time_total))


class FunctionEvent(_Times):
    """One recorded range: an op's forward (``aten::mul``), a node's backward (``MulBackward0``),
    or a ``record_function`` range (``is_user_annotation``). Times are in microseconds."""

    count = 1

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float,
                 input_shapes=None, stack=None, is_user_annotation: bool = False) -> None:
        self.id, self.thread = id, thread
        # torch's averages merge the steps of a schedule; the trace keeps each step's name
        self.trace_name = name
        self.name = "ProfilerStep*" if name.startswith("ProfilerStep#") else name
        self.time_range = Interval(start_us, end_us)
        self.input_shapes, self.stack = input_shapes or [], stack or []
        self.is_user_annotation = is_user_annotation
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] = []

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_total_str}"
                f" self_cpu_time={self.self_cpu_time_total_str} input_shapes={self.input_shapes}"
                f" cpu_children={[c.id for c in self.cpu_children]}>")


class FunctionEventAvg(_Times):
    """Events of one key (name, and shapes or stack when grouped by them) added up."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.input_shapes, self.stack = None, None
        self.cpu_parent, self.cpu_children = None, []
        self.is_user_annotation = False

    def add(self, other) -> FunctionEventAvg:
        if self.key is None:
            self.key, self.input_shapes, self.stack = other.key, other.input_shapes, other.stack
            self.is_user_annotation = other.is_user_annotation
            self.cpu_parent, self.cpu_children = other.cpu_parent, other.cpu_children
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        return self

    def __iadd__(self, other) -> FunctionEventAvg:
        return self.add(other)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str}"
                f" cpu_time={self.cpu_time_str} input_shapes={self.input_shapes}>")


class EventList(list):
    """Same as torch.autograd.profiler_util.EventList: a list of events (or of averages)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args)  # torch's use_device/profile_memory/with_flops: nothing to show

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        stats: dict = defaultdict(FunctionEventAvg)
        for e in self:
            key = (e.key, e.is_user_annotation,
                   str(e.input_shapes) if group_by_input_shapes else "",
                   *e.stack[:group_by_stack_n])
            stats[key].add(e)
        out = EventList(stats.values())
        for avg in out:
            avg.stack = avg.stack[:group_by_stack_n]
            if not group_by_input_shapes:
                avg.input_shapes = ""
        return out

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg()
        for e in self:
            total.add(e)
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_src_column_width: int = 75, max_name_column_width: int = 55,
              max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        return _build_table(self, sort_by, row_limit, max_src_column_width, max_name_column_width,
                            max_shapes_column_width, header, top_level_events_only, time_unit)

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str) -> None:
        """Chrome trace JSON (chrome://tracing, ui.perfetto.dev): one complete ("X") event per
        range, in microseconds; ``.gz`` paths are gzipped."""
        pid = os.getpid()
        events = []
        for i, e in enumerate(self):
            ev = {"ph": "X", "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                  "name": e.trace_name, "pid": pid, "tid": e.thread, "ts": e.time_range.start,
                  "dur": e.cpu_time_total, "args": {"External id": i + 1}}
            if e.input_shapes:
                ev["args"]["Input Dims"] = e.input_shapes
            events.append(ev)
        for tid in sorted({e.thread for e in self}):
            events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                           "args": {"name": f"thread {tid} (python)"}})
        trace = {"schemaVersion": 1, "deviceProperties": [], "host_name": socket.gethostname(),
                 "displayTimeUnit": "ms", "traceEvents": events, "traceName": path}
        with (gzip.open if path.endswith(".gz") else open)(path, "wt") as f:
            json.dump(trace, f)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Flame-graph stacks (``outer;...;inner value``) of the events recorded ``with_stack``."""
        if metric not in ("self_cpu_time_total", "self_cuda_time_total"):
            raise ValueError("metric should be one of: ['self_cpu_time_total', "
                             "'self_cuda_time_total']")
        clean = str.maketrans(" ;\t\n", "____")
        with open(path, "w") as f:
            for e in self:
                value = int(getattr(e, metric.replace("cuda", "device")))
                if e.stack and value > 0:
                    f.write(";".join(s.translate(clean) for s in reversed(e.stack))
                            + f" {value}\n")


def _format_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_share(us: float, total: float) -> str:
    return "NaN" if total == 0 else f"{us * 100.0 / total:.2f}%"


def _in_unit(us: float, unit: str | None) -> str:
    scale = {"s": 1e6, "ms": 1e3, "us": 1.0}.get(unit)  # type: ignore[arg-type]
    return _format_time(us) if scale is None else f"{us / scale:.3f}{unit}"


def _trim(path: str, width: int) -> str:
    if len(path) > width:
        path = path[len(path) - width:]
        path = "..." + path[3:] if len(path) > 3 else path
    return path


def _build_table(events, sort_by, row_limit, max_src_width, max_name_width, max_shapes_width,
                 header, top_level_only, time_unit) -> str:
    """torch's table, column for column (the CPU columns: nothing else is measured)."""
    if not events:
        return ""
    if sort_by is not None:
        attr = sort_by.replace("cuda", "device").replace("xpu", "device")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    name_width = min(max(len(e.key) for e in events) + 4, max_name_width)
    shapes_width = min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes_width)
    has_shapes = any(e.input_shapes for e in events)
    stacks = [e.stack for e in events if e.stack]
    src_width = min(max(len(s) for st in stacks for s in st) + 4, max_src_width) if stacks else 0
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
               "# of Calls"]
    widths, align = [name_width] + [12] * 6, [">"] * 7
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_width)
        align.append(">")
    if stacks:
        headers.append("Source Location")
        widths.append(src_width)
        align.append("<")
    row_format = "".join(f"{{: {a}{w}}}  " for a, w in zip(align, widths))
    sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2
    total = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [sep, row_format.format(*headers), sep]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key if len(e.key) < max_name_width - 3 else e.key[:max_name_width - 3] + "..."
        row = [name, _format_share(e.self_cpu_time_total, total),
               _in_unit(e.self_cpu_time_total, time_unit),
               _format_share(e.cpu_time_total, total), _in_unit(e.cpu_time_total, time_unit),
               _in_unit(e.cpu_time, time_unit), e.count]
        if has_shapes:
            row.append(str(e.input_shapes)[:shapes_width])
        if stacks:
            row.append(_trim(e.stack[0], src_width) if e.stack else "")
        lines.append(row_format.format(*row))
        if stacks:
            blank = [""] * (len(headers) - 1)
            lines += [row_format.format(*blank, _trim(s, src_width)) for s in e.stack[1:]]
            lines.append(row_format.format(*blank, ""))
    lines += [sep, f"Self CPU time total: {_in_unit(total, time_unit)}"]
    return "".join(line + "\n" for line in lines)
