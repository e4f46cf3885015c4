"""ndgrad.profiler against torch.profiler: the table's format, forward and backward events apart,
schedules, Chrome traces; and no cost when no profile records."""

from __future__ import annotations

import json
import re

import pytest
import torch
import torch.profiler

import ndgrad
import ndgrad.profiler as nprof
from ndgrad.autograd import engine, op


def mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(20, 20), lib.nn.ReLU(), lib.nn.Linear(20, 1))


def profiled(lib, **kw):
    m, x = mlp(lib), lib.randn(8, 20)
    with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU], **kw) as prof:
        with lib.profiler.record_function("model_inference"):
            y = m(x).sum()
        y.backward()
    return prof


def test_table_has_torchs_columns_and_layout():
    ours, theirs = (profiled(lib).key_averages().table(sort_by="self_cpu_time_total",
                                                       row_limit=10) for lib in (ndgrad, torch))
    o, t = ours.splitlines(), theirs.splitlines()
    assert o[1].split() == t[1].split()  # Name, Self CPU %, ..., # of Calls
    ours_cols, theirs_cols = ([len(c) for c in lines[0].split()] for lines in (o, t))
    assert ours_cols[1:] == theirs_cols[1:] == [12] * 6
    names = [line[:ours_cols[0]].strip() for line in o[3:-2]]
    assert ours_cols[0] == min(max(map(len, names)) + 4, 55)  # torch's rule for the name column
    assert o[-1].startswith("Self CPU time total: ") and t[-1].startswith("Self CPU time total: ")
    time, share = r"\s+\d+\.\d{3}(us|ms|s)", r"\s+\d+\.\d\d%"
    row = re.compile(r"^\s+\S.*?" + share + time + share + time + time + r"\s+\d+\s*$")
    assert all(row.match(line) for line in o[3:-2]), ours
    assert len(o) - 5 <= 10
    widths = [len(line) for line in o[:-1]]
    assert len(set(widths)) == 1  # every line of the grid has the same width, as torch's


def test_forward_ops_and_backward_nodes_apart():
    prof = profiled(ndgrad)
    ours = {e.key for e in prof.key_averages()}
    theirs = {e.key for e in profiled(torch).key_averages()}
    # torch also runs (and lists) TBackward0; ndgrad's linear only shows it in next_functions
    backward = {"AddmmBackward0", "ReluBackward0", "SumBackward0"}
    forward = {"aten::addmm", "aten::relu", "aten::sum"}
    assert backward | forward | {"model_inference"} <= ours
    assert backward | forward | {"model_inference"} <= theirs  # the same names as torch's
    (fwd,) = [e for e in prof.events() if e.name == "model_inference"]
    for e in prof.events():
        if e.name in backward:  # every backward node runs after the forward range
            assert e.time_range.start >= fwd.time_range.end
            assert e.cpu_parent is None
        elif e.name in forward:
            assert e.cpu_parent is fwd
    assert abs(fwd.self_cpu_time_total + sum(c.cpu_time_total for c in fwd.cpu_children)
               - fwd.cpu_time_total) < 1e-6
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["aten::addmm"].count == 2 and avg["AddmmBackward0"].count == 2
    assert avg["model_inference"].cpu_time_total >= avg["aten::addmm"].cpu_time_total
    total = prof.key_averages().total_average()
    assert total.count == len(prof.events())


def test_backward_ops_nest_under_their_node():
    x = ndgrad.randn(5, requires_grad=True)
    with nprof.profile() as prof:
        (g,) = ndgrad.autograd.grad((x * x).sum(), x, create_graph=True)
    nodes = [e for e in prof.events() if e.name == "MulBackward0"]
    assert len(nodes) == 1 and nodes[0].cpu_children  # its backward's own ops, e.g. aten::mul
    assert all(c.name.startswith("aten::") for c in nodes[0].cpu_children)
    assert g.requires_grad


def test_record_shapes_and_stacks():
    prof = profiled(ndgrad, record_shapes=True, with_stack=True)
    shapes = {(e.key, str(e.input_shapes)) for e in prof.key_averages(group_by_input_shape=True)}
    assert ("aten::relu", "[[8, 20]]") in shapes
    assert ("ReluBackward0", "[[8, 20]]") in shapes
    table = prof.key_averages(group_by_input_shape=True).table(row_limit=3)
    assert "Input Shapes" in table.splitlines()[1]
    stacked = prof.key_averages(group_by_stack_n=5)
    assert len([e for e in stacked if e.key == "aten::relu"][0].stack) == 5
    relu = [e for e in prof.events() if e.name == "aten::relu"][0]  # innermost frame first
    assert "test_profiler.py" in [s for s in relu.stack if "test_profiler.py" in s][0]
    assert "): profiled" in "".join(relu.stack)
    assert not any("profiler/" in s or "autograd/node.py" in s for s in relu.stack)
    assert "Source Location" in stacked.table(row_limit=2)


def test_chrome_trace_loads(tmp_path):
    prof = profiled(ndgrad, record_shapes=True)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    xs = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert len(xs) == len(prof.events())
    names = {e["name"] for e in xs}
    assert {"model_inference", "aten::addmm", "AddmmBackward0"} <= names
    ann = [e for e in xs if e["name"] == "model_inference"][0]
    assert ann["cat"] == "user_annotation"
    for e in xs:
        assert e["dur"] >= 0 and isinstance(e["ts"], float)
        if e["name"] == "aten::addmm":  # inside the annotated range on the timeline
            assert ann["ts"] <= e["ts"] and e["ts"] + e["dur"] <= ann["ts"] + ann["dur"] + 1e-3
            assert e["args"]["Input Dims"][1] == [8, 20]


def test_schedule_matches_torch():
    for kw in [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=2, active=1, repeat=2),
               dict(wait=2, warmup=1, active=3, repeat=1, skip_first=3),
               dict(wait=5, warmup=1, active=2, skip_first=2, skip_first_wait=1)]:
        ours, theirs = nprof.schedule(**kw), torch.profiler.schedule(**kw)
        assert [ours(s).name for s in range(30)] == [theirs(s).name for s in range(30)]
    with pytest.raises(AssertionError, match="Invalid profiler schedule"):
        nprof.schedule(wait=0, warmup=0, active=0)
    with pytest.warns(UserWarning, match="won't be using warmup"):
        nprof.schedule(wait=1, warmup=0, active=1)


@pytest.mark.filterwarnings("ignore:Warning. Profiler clears events")  # torch's, per cycle
def test_scheduled_cycles_match_torch(tmp_path):
    def run(lib):
        cycles = []
        m, x = mlp(lib), lib.randn(4, 20)
        sched = lib.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)

        def handler(p):
            keys = {e.key for e in p.key_averages() if e.key.startswith("ProfilerStep")}
            cycles.append((keys, sorted(e.trace_name for e in p.events()
                                        if e.name == "ProfilerStep*")))

        with lib.profiler.profile(schedule=sched, on_trace_ready=handler) as p:
            for _ in range(10):
                m(x).sum().backward()
                p.step()
        return cycles

    # torch's averages merge steps as ProfilerStep*; events keep each step's name for the trace
    assert run(ndgrad) == run(torch) == [({"ProfilerStep*"}, ["ProfilerStep#2", "ProfilerStep#3"]),
                                         ({"ProfilerStep*"}, ["ProfilerStep#6", "ProfilerStep#7"])]
    handler = nprof.tensorboard_trace_handler(str(tmp_path / "log"), worker_name="w")
    with nprof.profile(schedule=nprof.schedule(wait=0, warmup=1, active=1),
                       on_trace_ready=handler) as p:
        for _ in range(4):
            ndgrad.ones(2) * 2
            p.step()
    files = sorted((tmp_path / "log").iterdir())
    assert len(files) == 2 and files[0].name.startswith("w.") and files[0].name.endswith(
        ".pt.trace.json")
    json.loads(files[0].read_text())


def test_nothing_is_recorded_outside_a_profile():
    prof = nprof.profile()
    prof.start()
    assert op._profiler is not None and engine._profiler is not None
    ndgrad.ones(3) + 1
    prof.stop()
    assert op._profiler is None and engine._profiler is None
    ndgrad.ones(3) * 2
    assert [e.name for e in prof.events()] == ["aten::add"]
    with nprof.record_function("alone"):  # no profile: a no-op
        pass


def test_an_error_inside_an_op_leaves_the_profile_recording():
    with nprof.profile() as prof:
        with pytest.raises(RuntimeError):
            ndgrad.ones(2, 3) @ ndgrad.ones(2, 3)
        ndgrad.ones(2).exp()
    assert "aten::exp" in [e.name for e in prof.events()]
    assert op._profiler is None


def test_record_function_as_decorator_and_stacks_export(tmp_path):
    @nprof.record_function("my_block")
    def block(t):
        return (t * 2).sum()

    with nprof.profile(with_stack=True) as prof:
        block(ndgrad.ones(3))
        block(ndgrad.ones(3))
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["my_block"].count == 2 and avg["aten::mul"].count == 2
    assert all(e.cpu_parent.name == "my_block" for e in prof.events() if e.name == "aten::mul")
    prof.export_stacks(str(tmp_path / "stacks.txt"))
    lines = (tmp_path / "stacks.txt").read_text().splitlines()
    assert lines and all(re.fullmatch(r"\S+ \d+", line) for line in lines)
