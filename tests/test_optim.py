"""Optimizers side by side with torch: same weights and gradients in, same parameters out."""

import math
import warnings

import numpy as np
import pytest
import torch

import ndgrad

SHAPES = [(4, 3), (3,), ()]
STEPS = 12

CASES = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.3),
            dict(lr=0.05, momentum=0.8, nesterov=True), dict(lr=0.1, weight_decay=0.1),
            dict(lr=0.1, maximize=True),
            dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True)],
    "Adam": [dict(), dict(lr=0.01, amsgrad=True), dict(lr=0.01, weight_decay=0.1),
             dict(lr=0.01, maximize=True), dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6),
             dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True),
             dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
             dict(lr=0.01, betas=(0.3, 0.9))],
    "AdamW": [dict(), dict(lr=0.01, amsgrad=True), dict(lr=0.01, weight_decay=0.0),
              dict(lr=0.01, weight_decay=0.5, maximize=True)],
    "RMSprop": [dict(), dict(lr=0.01, centered=True), dict(lr=0.01, momentum=0.9),
                dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1),
                dict(lr=0.01, maximize=True, alpha=0.9)],
    "Adagrad": [dict(), dict(lr=0.1, lr_decay=0.1), dict(lr=0.1, weight_decay=0.1),
                dict(lr=0.1, initial_accumulator_value=0.5), dict(lr=0.1, maximize=True)],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.8, weight_decay=0.1), dict(maximize=True)],
    "Adamax": [dict(), dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, maximize=True)],
    "NAdam": [dict(), dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, momentum_decay=0.01),
              dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.01, maximize=True)],
}
PARAMS = [(name, kw) for name, kws in CASES.items() for kw in kws]
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}


def _arrays(dtype, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _params(lib, arrays):
    return [lib.nn.Parameter(lib.tensor(a)) for a in arrays]


def _grads(step, dtype, shapes=SHAPES):
    rng = np.random.default_rng(1000 + step)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _run(lib, make, dtype, steps=STEPS, skip_last=False):
    """Build params and an optimizer, feed the same gradients ``steps`` times."""
    ps = _params(lib, _arrays(dtype))
    opt = make(lib, ps)
    for i in range(steps):
        for j, (p, g) in enumerate(zip(ps, _grads(i, dtype))):
            p.grad = None if skip_last and j == len(ps) - 1 and i % 2 else lib.tensor(g)
        opt.step()
    return ps, opt


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def _close(ours, theirs, dtype):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), _np(b), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", PARAMS, ids=[f"{n}-{k}" for n, k in PARAMS])
def test_matches_torch(name, kw, dtype):
    make = lambda lib, ps: getattr(lib.optim, name)(ps, **kw)  # noqa: E731
    ours, opt = _run(ndgrad, make, dtype, skip_last=True)
    theirs, topt = _run(torch, make, dtype, skip_last=True)
    _close(ours, theirs, dtype)
    _check_state(opt.state_dict(), topt.state_dict(), dtype)


def _check_state(ours, theirs, dtype):
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for k, st in theirs["state"].items():
        assert ours["state"][k].keys() == st.keys()
        for key, v in st.items():
            mine = ours["state"][k][key]
            assert isinstance(mine, ndgrad.Tensor) and mine.shape == tuple(v.shape)
            assert str(mine.dtype).split(".")[1] == str(v.dtype).split(".")[1]
            np.testing.assert_allclose(_np(mine), _np(v), **TOL[dtype])


def _convert(obj, lib):
    """A state_dict with its tensors copied into ``lib``."""
    if isinstance(obj, (ndgrad.Tensor, torch.Tensor)):
        return lib.tensor(_np(obj))
    if isinstance(obj, dict):
        return {k: _convert(v, lib) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_convert(v, lib) for v in obj]
    return obj


@pytest.mark.parametrize("name,kw", [(n, k[-1]) for n, k in CASES.items()])
def test_state_dict_round_trip_both_ways(name, kw):
    """Train 6 steps in one library, load its state into the other, train 6 more: same result."""
    dtype = np.float64
    make = lambda lib, ps: getattr(lib.optim, name)(ps, **kw)  # noqa: E731
    for src, dst in ((ndgrad, torch), (torch, ndgrad)):
        ps, opt = _run(src, make, dtype, steps=6)
        ref, ref_opt = _run(src, make, dtype, steps=6)
        moved = _params(dst, [_np(p) for p in ps])
        dst_opt = make(dst, moved)
        dst_opt.load_state_dict(_convert(opt.state_dict(), dst))
        for i in range(6, 12):
            for p, q, g in zip(moved, ref, _grads(i, dtype)):
                p.grad, q.grad = dst.tensor(g), src.tensor(g)
            dst_opt.step()
            ref_opt.step()
        _close(moved, ref, dtype)


def test_param_groups_match_torch():
    def make(lib, ps):
        return lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01,
                                                    "momentum": 0.5}], lr=0.1, momentum=0.9)

    ours, opt = _run(ndgrad, make, np.float64)
    theirs, topt = _run(torch, make, np.float64)
    _close(ours, theirs, np.float64)
    _check_state(opt.state_dict(), topt.state_dict(), np.float64)
    assert repr(opt) == repr(topt)


def test_add_param_group_and_defaults():
    def make(lib, ps):
        opt = lib.optim.Adam(ps[:2], lr=0.01)
        opt.add_param_group({"params": ps[2], "lr": 0.1, "amsgrad": True})
        return opt

    ours, opt = _run(ndgrad, make, np.float64)
    theirs, topt = _run(torch, make, np.float64)
    _close(ours, theirs, np.float64)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


def test_named_params_and_repr():
    for lib in (ndgrad, torch):
        m = lib.nn.Linear(2, 2)
        opt = lib.optim.AdamW(m.named_parameters(), lr=0.1)
        assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert repr(ndgrad.optim.SGD([ndgrad.nn.Parameter(ndgrad.ones(1))], lr=0.1)) == repr(
        torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1))


def test_load_state_dict_shares_tensors_like_torch():
    p = ndgrad.nn.Parameter(ndgrad.ones(3))
    opt = ndgrad.optim.Adam([p])
    p.grad = ndgrad.ones(3)
    opt.step()
    q = ndgrad.nn.Parameter(ndgrad.ones(3, dtype=ndgrad.float64))
    opt2 = ndgrad.optim.Adam([q])
    opt2.load_state_dict(opt.state_dict())
    assert opt2.state[q]["step"] is opt.state[p]["step"]  # step keeps its own dtype
    assert opt2.state[q]["exp_avg"].dtype is ndgrad.float64  # the rest follows the param


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax",
                                  "NAdam"])
def test_complex_params(name):
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))).astype(np.complex128)
    kw = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05}
    out = []
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.tensor(w))
        opt = getattr(lib.optim, name)([p], **kw)
        for i in range(5):
            g = np.random.default_rng(i)
            p.grad = lib.tensor((g.standard_normal((3, 2)) + 1j * g.standard_normal((3, 2))))
            opt.step()
        out.append(_np(p))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-10, atol=1e-12)


def test_low_precision_params_follow_torch():
    for dt in ("float16", "bfloat16"):
        out = []
        for lib in (ndgrad, torch):
            p = lib.nn.Parameter(lib.linspace(-1, 1, 8).to(getattr(lib, dt)))
            opt = lib.optim.Adam([p], lr=0.01)
            for i in range(5):
                p.grad = lib.linspace(-0.5, 0.7 + i, 8).to(getattr(lib, dt))
                opt.step()
            out.append(p.detach().float().numpy() if lib is torch else
                       p.detach().to(ndgrad.float32).numpy())
            assert p.dtype is getattr(lib, dt)
        np.testing.assert_allclose(out[0], out[1], rtol=2e-2, atol=2e-2)


def test_tensor_lr():
    out = []
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.ones(3))
        opt = lib.optim.SGD([p], lr=lib.tensor(0.1), momentum=0.5)
        for _ in range(3):
            p.grad = lib.tensor([1.0, -2.0, 3.0])
            opt.step()
        out.append(_np(p))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_zero_grad():
    p = ndgrad.nn.Parameter(ndgrad.ones(2))
    opt = ndgrad.optim.SGD([p], lr=0.1)
    p.grad = ndgrad.ones(2)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_params_without_grad_are_skipped_and_state_is_lazy():
    a, b = ndgrad.nn.Parameter(ndgrad.ones(2)), ndgrad.nn.Parameter(ndgrad.ones(2))
    opt = ndgrad.optim.SGD([a, b], lr=0.1)
    a.grad = ndgrad.ones(2)
    opt.step()
    assert a.tolist() == pytest.approx([0.9, 0.9]) and b.tolist() == [1.0, 1.0]
    assert opt.state_dict()["state"] == {}  # plain SGD keeps no state, as in torch
    assert a._version == 1


def test_step_runs_no_graph_and_bumps_versions():
    w = ndgrad.nn.Parameter(ndgrad.ones(2))
    loss = (w * w).sum()
    opt = ndgrad.optim.Adam([w])
    w.grad = ndgrad.ones(2)
    opt.step()
    assert w.grad_fn is None and w.is_leaf
    tw = torch.nn.Parameter(torch.ones(2))
    tloss = (tw * tw).sum()
    topt = torch.optim.Adam([tw])
    tw.grad = torch.ones(2)
    topt.step()
    with pytest.raises(RuntimeError) as theirs:
        tloss.backward()
    with pytest.raises(RuntimeError) as ours:
        loss.backward()
    assert "modified by an inplace operation" in str(ours.value)
    assert "modified by an inplace operation" in str(theirs.value)


def test_closure_and_hooks():
    p = ndgrad.nn.Parameter(ndgrad.tensor([2.0]))
    opt = ndgrad.optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0 and p.item() == pytest.approx(1.6)
    assert calls == ["pre", "post"]
    h1.remove()
    opt.step(closure)
    assert calls == ["pre", "post", "post"]


def test_custom_optimizer_subclass():
    class Sign(ndgrad.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            with ndgrad.no_grad():
                for g in self.param_groups:
                    for p in g["params"]:
                        p -= g["lr"] * p.grad.sign()

    p = ndgrad.nn.Parameter(ndgrad.tensor([1.0, -1.0]))
    opt = Sign([p])
    seen = []
    opt.register_step_post_hook(lambda *a: seen.append(1))
    p.grad = ndgrad.tensor([3.0, -2.0])
    opt.step()
    assert p.tolist() == pytest.approx([0.9, -0.9]) and seen == [1]
    with pytest.raises(NotImplementedError):
        ndgrad.optim.Optimizer([p], {}).step()


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e), str(e)
    return None


@pytest.mark.parametrize("make", [
    lambda L: L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=-1),
    lambda L: L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=0.1, momentum=-1),
    lambda L: L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=0.1, nesterov=True),
    lambda L: L.optim.Adam([L.nn.Parameter(L.ones(1))], betas=(1.0, 0.9)),
    lambda L: L.optim.Adam([L.nn.Parameter(L.ones(1))], betas=(0.9, 1)),
    lambda L: L.optim.Adam([L.nn.Parameter(L.ones(1))], eps=-1),
    lambda L: L.optim.AdamW([L.nn.Parameter(L.ones(1))], weight_decay=-1),
    lambda L: L.optim.RMSprop([L.nn.Parameter(L.ones(1))], alpha=-1),
    lambda L: L.optim.Adagrad([L.nn.Parameter(L.ones(1))], lr_decay=-1),
    lambda L: L.optim.Adadelta([L.nn.Parameter(L.ones(1))], rho=2),
    lambda L: L.optim.NAdam([L.nn.Parameter(L.ones(1))], momentum_decay=-1),
    lambda L: L.optim.SGD([], lr=0.1),
    lambda L: L.optim.SGD(L.ones(2, requires_grad=True), lr=0.1),
    lambda L: L.optim.SGD([{"params": {L.nn.Parameter(L.ones(1))}}], lr=0.1),
    lambda L: L.optim.SGD([L.ones(2, requires_grad=True) * 2], lr=0.1),
    lambda L: L.optim.SGD([1.0], lr=0.1),
    lambda L: L.optim.LBFGS([{"params": [L.nn.Parameter(L.ones(1))]},
                             {"params": [L.nn.Parameter(L.ones(1))]}]),
    lambda L: L.optim.SGD([{"params": [p := L.nn.Parameter(L.ones(1))]}, {"params": [p]}], lr=1),
    lambda L: L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=0.1).add_param_group([1]),
])
def test_errors_match_torch(make):
    ours, theirs = _error(lambda: make(ndgrad)), _error(lambda: make(torch))
    assert theirs is not None
    assert ours[0] is theirs[0]
    assert ours[1] in (theirs[1], theirs[1].replace("torch.", "ndgrad."))


def test_load_state_dict_errors_match_torch():
    for lib in (ndgrad, torch):
        ps = _params(lib, _arrays(np.float32))
        opt = lib.optim.SGD(ps, lr=0.1)
        with pytest.raises(ValueError, match="different number of parameter groups"):
            opt.load_state_dict({"state": {}, "param_groups": []})
        with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
            opt.load_state_dict({"state": {}, "param_groups": [{"params": [0], "lr": 1}]})


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_matches_torch(line_search):
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((8, 5)), rng.standard_normal(8)
    out = []
    for lib in (ndgrad, torch):
        x = lib.nn.Parameter(lib.zeros(5, dtype=lib.float64))
        At, bt = lib.tensor(A), lib.tensor(b)
        opt = lib.optim.LBFGS([x], lr=1, history_size=4, line_search_fn=line_search)

        def closure():
            opt.zero_grad()
            loss = ((At @ x - bt) ** 2).sum() + (x ** 4).sum()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(4)]
        st = opt.state[x]
        out.append((_np(x), losses, st["func_evals"], st["n_iter"]))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9)
    assert out[0][2:] == out[1][2:]


def test_lbfgs_rosenbrock_converges():
    x = ndgrad.nn.Parameter(ndgrad.tensor([-1.5, 2.0], dtype=ndgrad.float64))
    opt = ndgrad.optim.LBFGS([x], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-5)


def test_training_loop_matches_torch():
    """A small MLP trained with Adam + StepLR: losses and weights follow torch's."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 4)).astype(np.float32), rng.integers(0, 3, 32)
    W1, W2 = rng.standard_normal((8, 4)) * 0.5, rng.standard_normal((3, 8)) * 0.5
    losses = []
    for lib in (ndgrad, torch):
        model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 3))
        with lib.no_grad():
            model[0].weight.copy_(lib.tensor(W1, dtype=lib.float32))
            model[2].weight.copy_(lib.tensor(W2, dtype=lib.float32))
            model[0].bias.zero_()
            model[2].bias.zero_()
        opt = lib.optim.Adam(model.parameters(), lr=0.05)
        sched = lib.optim.lr_scheduler.StepLR(opt, 5, 0.5)
        Xt, yt = lib.tensor(X), lib.tensor(y)
        run = []
        for _ in range(15):
            opt.zero_grad()
            out = model(Xt)
            logp = out - out.exp().sum(1, keepdim=True).log()
            loss = -(logp[lib.arange(32), yt]).sum() / 32
            loss.backward()
            opt.step()
            sched.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
    assert losses[0][-1] < losses[0][0]
    assert not math.isnan(losses[0][-1])


def test_no_warnings_in_normal_use():
    p = ndgrad.nn.Parameter(ndgrad.ones(2))
    opt = ndgrad.optim.Adam([p])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p.grad = ndgrad.ones(2)
        opt.step()


def test_lbfgs_complex_params_match_torch():
    out = []
    for lib in (ndgrad, torch):
        x = lib.nn.Parameter(lib.tensor([1 + 2j, -1 + 0.5j], dtype=lib.complex128))
        opt = lib.optim.LBFGS([x], history_size=3, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = (x * x.conj()).real.sum() + (x.real ** 4).sum()
            loss.backward()
            return loss

        for _ in range(2):
            opt.step(closure)
        out.append(_np(x))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-12)
