"""ndgrad.compile: a replayed step gives the eager results bit for bit (losses, parameters,
buffers, optimizer state) over many steps; what cannot be captured runs eagerly, says why, and
with fullgraph=True raises; guards recapture when the signature changes."""

from __future__ import annotations

import numpy as np
import pytest

import ndgrad
import ndgrad.nn as nn
import ndgrad.nn.functional as F
from ndgrad._compile import Captured, Eager, Unsupported
from ndgrad._compile.islands import Split


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.rnn, self.out = nn.Embedding(11, 8), nn.LSTM(8, 16, batch_first=True), \
            nn.Linear(16, 11)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.out(h).reshape(-1, 11)


class TinyAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.pos = nn.Embedding(13, 16), nn.Embedding(8, 16)
        self.qkv, self.proj, self.head = nn.Linear(16, 48), nn.Linear(16, 16), nn.Linear(16, 13)

    def forward(self, idx):
        b, t = idx.shape
        x = self.emb(idx) + self.pos(ndgrad.arange(0, t, dtype=ndgrad.long))
        q, k, v = (z.view(b, t, 2, 8).transpose(1, 2) for z in self.qkv(x).split(16, dim=2))
        att = (q @ k.transpose(-2, -1)) * 8 ** -0.5
        att = att.masked_fill(ndgrad.ones(t, t).tril() == 0, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, 16)
        x = x + F.gelu(self.proj(y))
        return self.head(x).view(-1, 13)


MODELS = {  # name: (model, optimizer, inputs, targets, loss)
    "mlp_sgd": (lambda: nn.Sequential(nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 1)),
                lambda p: ndgrad.optim.SGD(p, lr=0.05, momentum=0.9),
                lambda: ndgrad.randn(8, 20), lambda: ndgrad.randn(8, 1), F.mse_loss),
    "mlp_adamw_dropout": (
        lambda: nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3)),
        lambda p: ndgrad.optim.AdamW(p, lr=1e-2),
        lambda: ndgrad.randn(16, 10), lambda: ndgrad.randn(16, 3),
        lambda out, y: (out.log_softmax(-1) * y.softmax(-1)).sum(-1).mean().neg()),
    "batchnorm": (lambda: nn.Sequential(nn.Linear(10, 8), nn.BatchNorm1d(8), nn.Linear(8, 1)),
                  lambda p: ndgrad.optim.Adam(p, lr=1e-2),
                  lambda: ndgrad.randn(16, 10), lambda: ndgrad.randn(16, 1), F.mse_loss),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(4 * 5 * 5, 10)),
            lambda p: ndgrad.optim.Adam(p, lr=1e-3),
            lambda: ndgrad.randn(4, 1, 12, 12), lambda: ndgrad.randint(0, 10, (4,)),
            F.cross_entropy),
    "lstm": (CharLSTM, lambda p: ndgrad.optim.Adam(p, lr=1e-2),
             lambda: ndgrad.randint(0, 11, (4, 7)), lambda: ndgrad.randint(0, 11, (28,)),
             F.cross_entropy),
    "attention": (TinyAttention, lambda p: ndgrad.optim.AdamW(p, lr=1e-2),
                  lambda: ndgrad.randint(0, 13, (4, 8)), lambda: ndgrad.randn(32, 13),
                  lambda out, y: (out - y).square().mean()),
}


def _train(name: str, mode: str, steps: int = 6):
    make, make_opt, make_x, make_y, loss_fn = MODELS[name]
    ndgrad.manual_seed(0)
    model = make()
    opt = make_opt(model.parameters())
    data = [(make_x(), make_y()) for _ in range(steps)]
    ndgrad.manual_seed(1)
    forward = ndgrad.compile(model) if mode == "module" else model

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(forward(x), y)
        loss.backward()
        opt.step()
        return loss

    run = ndgrad.compile(step) if mode == "step" else step
    losses = [run(x, y).detach() for x, y in data]
    compiled = run if mode == "step" else forward.__dict__.get("_compiled")
    state = [v for s in opt.state.values() for v in s.values() if isinstance(v, ndgrad.Tensor)]
    return losses, list(model.parameters()) + list(model.buffers()) + state, compiled


@pytest.mark.parametrize("mode", ["step", "module"])
@pytest.mark.parametrize("name", list(MODELS))
def test_compiled_training_equals_eager_bit_for_bit(name, mode):
    ref_losses, ref_state, _ = _train(name, "eager")
    losses, state, compiled = _train(name, mode)
    for a, b in zip(ref_losses, losses):
        assert np.array_equal(a._data, b._data), (a, b)
    assert len(ref_state) == len(state)
    for a, b in zip(ref_state, state):
        assert np.array_equal(a._data, b._data)
    entries = list(compiled.cache.values())
    assert len(entries) == 1 and isinstance(entries[0], (Captured, Eager))


@pytest.mark.parametrize("mode", ["step", "module"])
@pytest.mark.parametrize("name", list(MODELS))
def test_these_models_are_replayed_not_run_eagerly(name, mode):
    *_, compiled = _train(name, mode)
    entry, = compiled.cache.values()
    assert type(entry) is Captured and not entry.pending, entry


def test_compiled_module_output_backward_and_its_graph():
    ndgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    cm = ndgrad.compile(model)
    assert cm._orig_mod is model and cm.training is model.training
    assert list(cm.state_dict()) == ["_orig_mod." + k for k in model.state_dict()]
    x = ndgrad.randn(5, 3, requires_grad=True)
    for _ in range(3):
        out = cm(x)
        ref = model(x)
        assert np.array_equal(out._data, ref._data)
        (gx,) = ndgrad.autograd.grad(out.square().sum(), x)
        (rx,) = ndgrad.autograd.grad(ref.square().sum(), x)
        assert np.array_equal(gx._data, rx._data)
    out = cm(x)
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
    out.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.sum().backward()
    with pytest.raises(RuntimeError, match="does not currently support double backward"):
        g, = ndgrad.autograd.grad(cm(x).sum(), x, create_graph=True)
        g.sum().backward()


def test_random_ops_draw_fresh_values_from_the_same_stream_as_eager():
    def f(x):
        return F.dropout(x, 0.5) * 2 + ndgrad.randn(4)

    cf = ndgrad.compile(f)
    x = ndgrad.ones(4)
    ndgrad.manual_seed(3)
    ref = [f(x) for _ in range(5)]
    ndgrad.manual_seed(3)
    got = [cf(x) for _ in range(5)]
    assert all(np.array_equal(a._data, b._data) for a, b in zip(ref, got))
    assert not np.array_equal(got[3]._data, got[4]._data)
    assert type(next(iter(cf.cache.values()))) is Captured


def test_python_reading_a_value_runs_eagerly_and_fullgraph_raises():
    def f(x):
        return x * 2 if x.sum().item() > 0 else x * 3

    cf = ndgrad.compile(f)
    for v in (1.0, -1.0, 1.0):
        x = ndgrad.full((3,), v)
        assert np.array_equal(cf(x)._data, f(x)._data)
    entry, = cf.cache.values()
    assert type(entry) is Eager and "Tensor.item" in entry
    g = ndgrad.compile(lambda x, y: x + 1 if ndgrad.equal(x, y) else x - 1)
    for a, b in (([1.0], [1.0]), ([1.0], [2.0]), ([3.0], [3.0])):
        x, y = ndgrad.tensor(a), ndgrad.tensor(b)
        assert g(x, y).tolist() == (x + 1 if a == b else x - 1).tolist()
    assert type(next(iter(g.cache.values()))) is Eager
    with pytest.raises(Unsupported, match="Tensor.item"):
        ndgrad.compile(f, fullgraph=True)(ndgrad.ones(3))
    assert isinstance(Unsupported("x"), RuntimeError)


def test_guards_recapture_on_new_shapes_grad_mode_and_training_flag():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    cm = ndgrad.compile(model)
    for shape in ((2, 3), (4, 3), (2, 3)):
        x = ndgrad.randn(*shape)
        ndgrad.manual_seed(0)
        a = cm(x)
        ndgrad.manual_seed(0)
        assert np.array_equal(a._data, model(x)._data)
    model.eval()
    x = ndgrad.randn(2, 3)
    assert np.array_equal(cm(x)._data, model(x)._data)
    with ndgrad.no_grad():
        out = cm(x)
    assert not out.requires_grad and np.array_equal(out._data, model(x)._data)
    assert len(cm.__dict__["_compiled"].cache) == 4


def test_a_parameter_frozen_after_capture_recaptures():
    model = nn.Linear(3, 1)
    cm = ndgrad.compile(model)
    x = ndgrad.randn(2, 3)
    for _ in range(3):
        cm(x).sum().backward()
    model.weight.requires_grad_(False)
    model.bias.grad = None
    cm(x).sum().backward()
    assert model.bias.grad is not None


def test_decorator_forms_disable_and_is_compiling():
    @ndgrad.compile(mode="reduce-overhead", dynamic=False)
    def f(x):
        return x + 1 if ndgrad.compiler.is_compiling() else x - 1

    for _ in range(4):  # the program the captures recorded, replayed
        assert f(ndgrad.zeros(2)).tolist() == [1.0, 1.0]
    assert type(next(iter(f.cache.values()))) is Captured
    assert not ndgrad.compiler.is_compiling()
    assert ndgrad.compile(f.__wrapped__, disable=True) is f.__wrapped__

    @ndgrad.compiler.disable
    def helper(x):
        return x * 2

    g = ndgrad.compile(lambda x: helper(x) + 1)
    for _ in range(3):
        assert g(ndgrad.ones(2)).tolist() == [3.0, 3.0]
    assert type(next(iter(g.cache.values()))) is Eager
    ndgrad.compiler.reset()
    assert not g.cache


def test_a_value_computed_in_python_from_data_is_not_frozen():
    # the count reaches the op as a constant computed from x's values outside any op
    def f(x):
        n = int(np.count_nonzero(x.detach()._data))
        return x * n

    cf = ndgrad.compile(f)
    for data in ([1.0, 0.0], [1.0, 2.0], [0.0, 0.0], [3.0, 3.0]):
        x = ndgrad.tensor(data)
        assert np.array_equal(cf(x)._data, f(x)._data)


def test_the_notebooks_manual_sgd_and_input_gradients_replay_bit_for_bit():
    def manual_sgd(compiled):
        ndgrad.manual_seed(0)
        w, b = ndgrad.randn(3, 1, requires_grad=True), ndgrad.zeros(1, requires_grad=True)
        xs = ndgrad.randn(20, 3)
        ys = xs @ ndgrad.tensor([[1.0], [-2.0], [0.5]]) + 0.3

        def step(x, y, lr):
            loss = ((x @ w + b - y) ** 2).mean()
            loss.backward()
            with ndgrad.no_grad():
                w.sub_(lr * w.grad)
                b.sub_(lr * b.grad)
                w.grad.zero_()
                b.grad.zero_()
            return loss

        f = ndgrad.compile(step) if compiled else step
        losses = [f(xs[i:i + 5], ys[i:i + 5], 0.1) for i in range(0, 20, 5)]
        return [t._data for t in losses + [w, b]], f

    def input_grads(compiled):
        ndgrad.manual_seed(0)
        w = ndgrad.randn(4, requires_grad=True)

        def step(x):
            (x * w).sin().sum().backward()
            return x.grad

        f = ndgrad.compile(step) if compiled else step
        outs = [f(ndgrad.randn(4, requires_grad=True)).clone() for _ in range(4)]
        return [t._data for t in outs + [w.grad]], f

    for program in (manual_sgd, input_grads):
        ref, _ = program(False)
        got, f = program(True)
        assert all(np.array_equal(a, b) for a, b in zip(ref, got))
        assert type(next(iter(f.cache.values()))) is Captured


def test_a_forward_that_stores_a_tensor_on_the_module_runs_that_statement_eagerly():
    class Keeps(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.last = nn.Linear(2, 2), None

        def forward(self, x):
            y = self.lin(x)
            self.last = y.detach()  # a side effect a replay would skip
            return y

    m = Keeps()
    cm = ndgrad.compile(m)
    for _ in range(3):
        x = ndgrad.randn(3, 2)
        cm(x)
        assert np.array_equal(m.last._data, m.lin(x)._data)
    entry, = cm._compiled.cache.values()  # that statement is an eager island
    assert type(entry) is Split and "Keeps.last" in entry.reason


def test_a_model_cast_after_capture_recaptures():
    model = nn.Linear(3, 2)
    cm = ndgrad.compile(model)
    for _ in range(3):
        cm(ndgrad.randn(4, 3))
    model.double()
    x = ndgrad.randn(4, 3, dtype=ndgrad.float64)
    out = cm(x)
    assert out.dtype is ndgrad.float64 and np.array_equal(out._data, model(x)._data)


@pytest.mark.parametrize("name", ["mlp_tiny", "fwd_bwd_16", "graph_1000", "gpt", "char_lstm",
                                  "lenet", "makemore_mlp"])
def test_the_bench_steps_replay_bit_for_bit(name):
    """Every bench model's step, eager and compiled from the same seed, over several steps."""
    from bench import models, workloads

    build = getattr(workloads, name, None) or getattr(models, name)

    def run(compiled: bool):
        ndgrad.manual_seed(0)
        step = build(ndgrad, True)
        cells = [c.cell_contents for c in step.__closure__ or ()]
        state = [t for c in cells if isinstance(c, ndgrad.optim.Optimizer)
                 for g in c.param_groups for t in g["params"]]
        state += [c for c in cells if isinstance(c, ndgrad.Tensor)]
        f = ndgrad.compile(step) if compiled else step
        for _ in range(4):
            f()
        return [t._data.copy() for t in state] + [t.grad._data.copy() for t in state
                                                  if t.grad is not None], f

    ref, _ = run(False)
    got, f = run(True)
    assert len(ref) == len(got) and ref
    for a, b in zip(ref, got):
        assert np.array_equal(a, b)
    entry, = f.cache.values()
    assert type(entry) is Captured and not entry.pending, entry


def test_a_compiled_function_recaptures_when_its_model_switches_train_and_eval():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    predict = ndgrad.compile(lambda x: model(x))
    x = ndgrad.ones(2, 4)
    for training in (True, True, True, False, False, True, False):
        model.train(training)
        ndgrad.manual_seed(0)
        got = predict(x)
        ndgrad.manual_seed(0)
        assert np.array_equal(got._data, model(x)._data)
    assert sorted(type(v).__name__ for v in predict.cache.values())[-2:] == ["Captured"] * 2


def test_a_loss_whose_graph_the_step_used_up_refuses_a_second_backward():
    model = nn.Linear(3, 1)

    @ndgrad.compile
    def step(x):
        loss = model(x).square().mean()
        loss.backward()
        return loss

    for _ in range(3):
        loss = step(ndgrad.randn(4, 3))
        assert loss.requires_grad and loss.grad_fn is not None
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()


def test_torch_dynamo_names():
    dynamo = ndgrad._dynamo
    limit = dynamo.config.cache_size_limit
    dynamo.config.cache_size_limit = 2
    try:
        f = ndgrad.compile(lambda x: x * 2)
        for n in range(1, 5):
            assert f(ndgrad.ones(n)).tolist() == [2.0] * n
        assert len(f.cache) == 2
    finally:
        dynamo.config.cache_size_limit = limit

    def g(x):
        dynamo.graph_break()
        return x + 1

    report = dynamo.explain(g)(ndgrad.ones(2))
    assert report.graph_break_count == 1 and "graph_break" in report.break_reasons[0]
    assert dynamo.exc.Unsupported is Unsupported and issubclass(Unsupported, RuntimeError)
    assert dynamo.OptimizedModule is ndgrad._compile.OptimizedModule
    dynamo.mark_dynamic(ndgrad.ones(2), 0)
    dynamo.reset()


def test_compiled_nanogpt_with_dropout_trains_as_eager():
    """nanoGPT's usage: model = torch.compile(model); loss = model(x, y); loss.backward()."""
    from bench import models

    def run(compiled: bool):
        ndgrad.manual_seed(0)
        model = models._gpt_classes(ndgrad)(65, 16, n_layer=2, n_head=4, n_embd=32, dropout=0.1)
        opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
        forward = ndgrad.compile(model) if compiled else model
        rng = np.random.default_rng(0)
        losses = []
        for _ in range(4):
            d = rng.integers(0, 65, (2, 17))
            loss = forward(ndgrad.tensor(d[:, :-1]), ndgrad.tensor(d[:, 1:]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss._data)
        return losses + [p._data for p in model.parameters()], forward

    ref, _ = run(False)
    got, forward = run(True)
    assert all(np.array_equal(a, b) for a, b in zip(ref, got))
    assert type(next(iter(forward._compiled.cache.values()))) is Captured
