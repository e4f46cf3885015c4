"""Graph breaks cut a compiled step into captured pieces around an eager island, as torch's do:
results stay eager's bit for bit, and the pieces before and after the break are replayed."""

from __future__ import annotations

import numpy as np
import pytest

import ndgrad
import ndgrad.nn as nn
import ndgrad.nn.functional as F
from ndgrad._compile import Captured, Eager
from ndgrad._compile.islands import Split

GLOBAL_SCALE = 3.0


def _model():
    ndgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 1))
    return model, ndgrad.optim.Adam(model.parameters(), lr=0.01)


def _step(where: str):
    """A training step reading a value in Python at ``where``, closing over its model."""
    model, opt = _model()
    log = []

    def step(x, y, scale=2.0):
        opt.zero_grad()
        out = model(x)
        loss = F.mse_loss(out, y)
        if where == "before backward":
            log.append(loss.item())
        loss.backward()
        if where == "in a loop":
            for p in model.parameters():
                log.append(float(p.grad.norm()))
        ndgrad.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        total = loss.detach() * scale * GLOBAL_SCALE
        if where == "returning early" and total.item() > 0:
            return total, out.sum()
        log.append((total + 1).item())
        return total, out.sum()

    return step, model, log


def _run(where: str, compiled: bool, calls: int = 6):
    step, model, log = _step(where)
    fn = ndgrad.compile(step) if compiled else step
    ndgrad.manual_seed(1)
    x, y = ndgrad.randn(16, 4), ndgrad.randn(16, 1)
    outs = [fn(x, y) for _ in range(calls)]
    return outs, log, [p.detach().clone() for p in model.parameters()], fn


def _kinds(entry) -> list:
    """The pieces of a cut step: 'captured', 'eager', 'island' or 'not run' each, nested for a
    piece cut again."""
    out = []
    for _, call in entry.pieces:
        if not hasattr(call, "cache"):
            out.append("island")
            continue
        if not call.cache:  # after an island that returned
            out.append("not run")
            continue
        e = list(call.cache.values())[-1]  # (a piece reading a new Python value: one each)
        out.append(_kinds(e) if type(e) is Split else
                   "captured" if type(e) is Captured and not e.pending else "eager")
    return out


@pytest.mark.parametrize("where", ["at the end", "before backward", "in a loop",
                                   "returning early"])
def test_a_graph_break_cuts_the_step_and_results_stay_eagers(where):
    eager, log_e, params_e, _ = _run(where, False)
    got, log_c, params_c, fn = _run(where, True)
    assert log_c == log_e
    for (t, s), (tc, sc) in zip(eager, got):
        assert np.array_equal(t._data, tc._data) and np.array_equal(s._data, sc._data)
        assert sc.requires_grad and sc.grad_fn is not None
    for p, q in zip(params_e, params_c):
        assert np.array_equal(p._data, q._data)
    entry, = fn.cache.values()
    assert type(entry) is Split and ("Tensor.item" in entry.reason or "__float__" in entry.reason)
    kinds = _kinds(entry)
    assert kinds[0] == "captured" and "island" in kinds  # the forward and backward replayed
    if where == "before backward":  # the backward of the first piece's graph is captured too
        assert kinds[2][0] == "captured"


def test_explain_counts_the_graphs_around_a_break():
    def f(x):
        y = (x * 2).sin()
        n = y.sum().item()
        return y * n

    report = ndgrad._dynamo.explain(f)(ndgrad.ones(3))
    assert report.graph_count == 2 and report.graph_break_count == 1
    assert "Tensor.item" in report.break_reasons[0]


def test_arguments_defaults_varargs_globals_and_closures_reach_every_piece():
    offset = ndgrad.tensor([0.5, -0.5])

    def f(x, *rest, scale=2.0, **kw):
        a = x * scale + offset
        positive = float(a.sum()) > -100  # a Python value the next piece reads
        b = a + sum(rest) * GLOBAL_SCALE + kw["bias"]
        return b * positive

    cf = ndgrad.compile(f)
    for i in range(5):
        x = ndgrad.tensor([1.0, float(i)])
        args = (x, ndgrad.ones(2), ndgrad.ones(2))
        assert np.array_equal(cf(*args, scale=3.0, bias=1.0)._data,
                              f(*args, scale=3.0, bias=1.0)._data)
    entry, = cf.cache.values()
    assert _kinds(entry) == ["captured", "island", "captured"]


def test_a_piece_handing_on_a_new_list_stays_eager():
    def f(x):
        seen = [x.sum()]  # a new list each call: a replay would hand on the captured one
        seen.append(seen[0].item())
        return x * len(seen), seen

    cf = ndgrad.compile(f)
    for i in range(4):
        x = ndgrad.full((2,), float(i))
        out, seen = cf(x)
        assert len(seen) == 2 and seen[1] == 2.0 * i and out.tolist() == [2.0 * i] * 2
    entry, = cf.cache.values()
    assert _kinds(entry)[0] == "eager"


def test_what_cannot_be_cut_stays_eager():
    cf = ndgrad.compile(lambda x: x * 2 if x.sum().item() > 0 else x * 3)
    for v in (1.0, -1.0):
        cf(ndgrad.full((2,), v))
    assert type(next(iter(cf.cache.values()))) is Eager

    def one_statement(x):
        return (x * x.sum().item()).exp()

    cf = ndgrad.compile(one_statement)
    for v in (1.0, 2.0, 1.0):
        assert cf(ndgrad.full((2,), v)).tolist() == one_statement(ndgrad.full((2,), v)).tolist()
    assert type(next(iter(cf.cache.values()))) is Eager


def test_print_breaks_the_graph_and_runs_at_every_call(capsys):
    def f(x):
        y = x.exp()
        print("step")
        return y * 2

    cf = ndgrad.compile(f)
    for _ in range(4):
        assert np.array_equal(cf(ndgrad.ones(2))._data, f(ndgrad.ones(2))._data)
    assert capsys.readouterr().out == "step\n" * 8
    assert _kinds(next(iter(cf.cache.values()))) == ["captured", "island", "captured"]


class _Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 1)

    def forward(self, x):
        h = self.a(x).relu()
        if h.sum() > 1:  # data-dependent control flow: the island
            h = h * 2
        return self.b(h)


def test_a_compiled_modules_forward_is_cut_and_hooks_still_run():
    ndgrad.manual_seed(0)
    model = _Branchy()
    cm = ndgrad.compile(model)
    for i in range(5):
        x = ndgrad.randn(4, 3) * (i - 2)
        got, want = cm(x), model(x)
        assert np.array_equal(got._data, want._data)
        got.sum().backward()
    entry, = cm._compiled.cache.values()
    assert _kinds(entry) == ["captured", "island", "captured"]
    seen = []
    model.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    x = ndgrad.randn(4, 3)
    assert np.array_equal(cm(x)._data, model(x)._data) and len(seen) == 2


def test_a_forward_calling_super_is_not_cut():
    class Scaled(nn.Linear):
        def forward(self, x):
            y = super().forward(x)
            if y.sum() > 0:
                y = y * 2
            return y

    ndgrad.manual_seed(0)
    m = Scaled(3, 2)
    cm = ndgrad.compile(m)
    for _ in range(4):
        x = ndgrad.randn(2, 3)
        assert np.array_equal(cm(x)._data, m(x)._data)
    assert type(next(iter(cm._compiled.cache.values()))) is Eager


def test_a_decorated_function_is_cut_at_its_own_lines():
    seen = []

    @ndgrad.compile(
        mode="default")
    def f(x):
        y = x.exp()
        seen.append(y.sum().item())
        return y + 1

    for i in range(4):
        assert f(ndgrad.full((2,), float(i))).tolist() == (ndgrad.full((2,), float(i)).exp()
                                                           + 1).tolist()
    assert len(seen) == 4
    assert _kinds(next(iter(f.cache.values()))) == ["captured", "island", "captured"]


def _scheduled(compiled: bool, plateau: bool = False):
    ndgrad.manual_seed(0)
    m = nn.Linear(3, 1)
    opt = ndgrad.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    sched = ndgrad.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    calls = {"n": 0}

    def step(x):
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        opt.step()
        sched.step()  # a scheduler: replayed as it is, as the optimizer's step
        return loss.detach()

    def counted(x):
        calls["n"] += 1  # Python state a replay would not change: runs eagerly
        return step(x)

    f, g = (ndgrad.compile(step), ndgrad.compile(counted)) if compiled else (step, counted)
    x = ndgrad.randn(4, 3)
    for _ in range(4):
        f(x)
        g(x)
    return m.weight.detach().clone(), opt.param_groups[0]["lr"], calls["n"], f, g


def test_python_state_a_step_changes_is_kept_as_eager_changes_it():
    w, lr, n, _, _ = _scheduled(False)
    wc, lrc, nc, f, g = _scheduled(True)
    assert np.array_equal(w._data, wc._data) and lr == lrc == 0.1 * 0.5 ** 4 and n == nc == 4
    assert type(next(iter(f.cache.values()))) is Captured  # the scheduler's step replays
    entry = next(iter(g.cache.values()))
    assert type(entry) is Eager and "Python state" in entry


def test_an_optimizer_wrapped_by_a_scheduler_steps_at_each_replay():
    def run(compiled):
        ndgrad.manual_seed(0)
        m = nn.Linear(3, 1)
        opt = ndgrad.optim.SGD(m.parameters(), lr=0.1)
        sched = ndgrad.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)  # wraps opt.step

        def step(x):
            opt.zero_grad()
            m(x).pow(2).mean().backward()
            opt.step()

        f = ndgrad.compile(step) if compiled else step
        x = ndgrad.randn(4, 3)
        for _ in range(5):
            f(x)
            sched.step()
        return m.weight.detach().clone(), f

    (w, _), (wc, f) = run(False), run(True)
    assert np.array_equal(w._data, wc._data)
    assert type(next(iter(f.cache.values()))) is Captured


def test_module_hooks_boolean_masks_and_seeding_are_not_frozen_by_replays():
    ndgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    acts = {}
    model[0].register_forward_hook(lambda m, i, o: acts.__setitem__("x", o.detach()))

    def hooked(x):
        return model(x).sum()

    def masked(x):
        y = x[x > 0]  # the result's shape depends on the data
        return y.sum() / y.shape[0]

    def seeded(x):
        ndgrad.manual_seed(7)
        return x + ndgrad.randn(3)

    fns = {f: ndgrad.compile(f) for f in (hooked, masked, seeded)}
    for v in ([1.0, 2.0, -1.0], [3.0, 4.0, -1.0], [1.0, 2.0, 3.0], [-1.0, 5.0, -2.0]):
        x = ndgrad.tensor(v)
        for f, cf in fns.items():
            got = cf(x if f is not hooked else x[None])
            if f is hooked:
                assert np.array_equal(acts["x"]._data, model[0](x[None]).detach()._data)
            assert np.array_equal(got._data, f(x if f is not hooked else x[None])._data)


GLOBAL_SHIFT = 0.5


def test_a_replaced_parameter_a_changed_hyperparameter_or_global_recaptures():
    global GLOBAL_SHIFT

    class Temp(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.t = nn.Linear(2, 1), 2.0

        def forward(self, x):
            return self.lin(x) / self.t + GLOBAL_SHIFT

    model = Temp()
    cm = ndgrad.compile(model)
    x = ndgrad.ones(3, 2)

    def check():
        for _ in range(3):
            assert np.array_equal(cm(x)._data, model(x)._data)

    check()
    model.lin.weight = nn.Parameter(ndgrad.ones(1, 2))  # a parameter replaced
    check()
    model.t = 4.0  # a hyperparameter
    check()
    model.lin = nn.Linear(2, 1)  # a submodule
    check()
    try:
        GLOBAL_SHIFT = 1.5  # a global the forward reads
        check()
    finally:
        GLOBAL_SHIFT = 0.5
    entry = list(cm._compiled.cache.values())[-1]  # (a new submodule: a new signature)
    assert type(entry) is Captured and not entry.pending


def test_autocast_is_part_of_the_signature():
    ndgrad.manual_seed(0)
    lin = nn.Linear(4, 3)
    f = ndgrad.compile(lambda x: lin(x) * 2)
    x = ndgrad.randn(2, 4)
    for _ in range(3):
        assert f(x).dtype == ndgrad.float32
    with ndgrad.autocast("cpu"):
        for _ in range(3):
            got = f(x)
            assert got.dtype == ndgrad.bfloat16 and np.array_equal(got._data, (lin(x) * 2)._data)
    assert f(x).dtype == ndgrad.float32


def test_hooks_and_retained_grads_on_a_compiled_modules_output():
    ndgrad.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    cm = ndgrad.compile(m)
    for _ in range(4):
        x = ndgrad.randn(5, 3, requires_grad=True)
        out, ref = cm(x * 2), m(x * 2)
        seen = []
        out.register_hook(lambda g: seen.append(g * 3))
        out.retain_grad()
        out.sum().backward()
        gx = x.grad
        x.grad = None
        ref.sum().backward()
        assert np.array_equal(gx._data, x.grad._data) and len(seen) == 1
        assert np.array_equal(out.grad._data, np.ones((5, 2), np.float32))
