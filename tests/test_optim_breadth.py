"""ASGD, Adafactor, Muon, RAdam, Rprop, SparseAdam and optim.swa_utils side by side with torch."""

import math
import warnings

import numpy as np
import pytest
import torch

import ndgrad

SHAPES = [(4, 3), (3,), (), (2, 3, 4)]
MATRICES = [(4, 3), (3, 5)]  # Muon takes 2-D parameters only
STEPS = 12

CASES = {
    "ASGD": [dict(), dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3),
             dict(lr=0.05, weight_decay=0.1, t0=0), dict(lr=0.05, maximize=True, t0=5)],
    "RAdam": [dict(), dict(lr=0.01, weight_decay=0.1),
              dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.01, maximize=True), dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6)],
    "Rprop": [dict(), dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1)),
              dict(maximize=True)],
    "Adafactor": [dict(), dict(lr=0.05, weight_decay=0.1),
                  dict(eps=(1e-30, 1e-3), d=2.0, beta2_decay=-0.5), dict(maximize=True)],
    "Muon": [dict(), dict(lr=0.02, nesterov=False, momentum=0.9),
             dict(adjust_lr_fn="match_rms_adamw", weight_decay=0.0), dict(ns_steps=3)],
}
PARAMS = [(name, kw) for name, kws in CASES.items() for kw in kws]
# torch's CPU kernels fuse a + alpha * b (add_, addcmul_, addcdiv_, lerp_) into one FMA where NumPy
# rounds twice, so even float64 may differ in the last bit; Adafactor's norms also sum in another
# order. Rprop's update (sign times step size) has no such term: bit for bit.
EXACT = {"Rprop"}
TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=2e-5, atol=2e-6)}


def _shapes(name):
    return MATRICES if name == "Muon" else SHAPES


def _arrays(dtype, shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _params(lib, arrays):
    return [lib.nn.Parameter(lib.tensor(a)) for a in arrays]


def _grads(step, dtype, shapes):
    return _arrays(dtype, shapes, seed=1000 + step)


def _run(lib, make, dtype, shapes, steps=STEPS, skip_last=False):
    """Build params and an optimizer, feed the same gradients ``steps`` times."""
    ps = _params(lib, _arrays(dtype, shapes))
    opt = make(lib, ps)
    for i in range(steps):
        for j, (p, g) in enumerate(zip(ps, _grads(i, dtype, shapes))):
            p.grad = None if skip_last and j == len(ps) - 1 and i % 2 else lib.tensor(g)
        opt.step()
    return ps, opt


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def _close(ours, theirs, dtype, exact=False):
    for a, b in zip(ours, theirs):
        if exact:
            np.testing.assert_array_equal(_np(a), _np(b))
        else:
            np.testing.assert_allclose(_np(a), _np(b), **TOL[dtype])


def _check_state(ours, theirs, dtype, exact=False):
    assert ours["param_groups"] == theirs["param_groups"]
    assert ours["state"].keys() == theirs["state"].keys()
    for k, st in theirs["state"].items():
        assert list(ours["state"][k]) == list(st)
        for key, v in st.items():
            mine = ours["state"][k][key]
            if not isinstance(v, torch.Tensor):
                assert mine == v and type(mine) is type(v)
                continue
            assert isinstance(mine, ndgrad.Tensor) and mine.shape == tuple(v.shape)
            assert str(mine.dtype) == str(v.dtype).replace("torch", "ndgrad"), key
            _close([mine], [v], dtype, exact)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", PARAMS, ids=[f"{n}-{k}" for n, k in PARAMS])
def test_matches_torch(name, kw, dtype):
    make = lambda lib, ps: getattr(lib.optim, name)(ps, **kw)  # noqa: E731
    exact = name in EXACT and dtype is np.float64
    ours, opt = _run(ndgrad, make, dtype, _shapes(name), skip_last=True)
    theirs, topt = _run(torch, make, dtype, _shapes(name), skip_last=True)
    _close(ours, theirs, dtype, exact)
    _check_state(opt.state_dict(), topt.state_dict(), dtype, exact)


def _convert(obj, lib):
    """A state_dict with its tensors copied into ``lib`` (through NumPy values)."""
    if isinstance(obj, (ndgrad.Tensor, torch.Tensor)):
        return lib.tensor(_np(obj))
    if isinstance(obj, dict):
        return {k: _convert(v, lib) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_convert(v, lib) for v in obj]
    return obj


@pytest.mark.parametrize("name,kw", [(n, k[-1]) for n, k in CASES.items()])
def test_state_dict_round_trip_both_ways(name, kw):
    """Train 6 steps in one library; load its state (through NumPy values) into fresh optimizers
    of both libraries and train 6 more: the same continuation (loading casts state to the
    params' dtype in both, so the continuation is compared with a loaded one)."""
    dtype, shapes = np.float64, _shapes(name)
    make = lambda lib, ps: getattr(lib.optim, name)(ps, **kw)  # noqa: E731
    for src in (ndgrad, torch):
        ps, opt = _run(src, make, dtype, shapes, steps=6)
        state = opt.state_dict()
        results = []
        for dst in (ndgrad, torch):
            moved = _params(dst, [_np(p) for p in ps])
            dst_opt = make(dst, moved)
            dst_opt.load_state_dict(_convert(state, dst))
            for i in range(6, 12):
                for p, g in zip(moved, _grads(i, dtype, shapes)):
                    p.grad = dst.tensor(g)
                dst_opt.step()
            results.append((moved, dst_opt.state_dict()))
        _close(results[0][0], results[1][0], dtype, exact=name in EXACT)
        _check_state(results[0][1], results[1][1], dtype, exact=name in EXACT)


@pytest.mark.parametrize("name", ["ASGD", "RAdam", "Rprop", "Adafactor"])
def test_param_groups_and_own_state_dict(name):
    def make(lib, ps):
        return getattr(lib.optim, name)([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}])

    ours, opt = _run(ndgrad, make, np.float64, SHAPES)
    theirs, topt = _run(torch, make, np.float64, SHAPES)
    _close(ours, theirs, np.float64, exact=name in EXACT)
    _check_state(opt.state_dict(), topt.state_dict(), np.float64, exact=name in EXACT)
    assert repr(opt) == repr(topt)
    again = make(ndgrad, ours)
    again.load_state_dict(opt.state_dict())
    assert again.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


@pytest.mark.parametrize("name", ["ASGD", "RAdam", "Rprop"])
def test_complex_params(name):
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))).astype(np.complex128)
    out = []
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.tensor(w))
        opt = getattr(lib.optim, name)([p], lr=0.05)
        for i in range(8):
            g = np.random.default_rng(i)
            p.grad = lib.tensor(g.standard_normal((3, 2)) + 1j * g.standard_normal((3, 2)))
            opt.step()
        out.append((_np(p), {k: _np(v) for k, v in opt.state[p].items()}))
    exact = name in EXACT
    check = np.testing.assert_array_equal if exact else lambda a, b: np.testing.assert_allclose(
        a, b, **TOL[np.float64])
    check(out[0][0], out[1][0])
    for k, v in out[1][1].items():
        check(out[0][1][k], v)


@pytest.mark.parametrize("name", ["ASGD", "RAdam", "Rprop", "Adafactor"])
def test_scalar_state_follows_default_dtype(name):
    old = torch.get_default_dtype()
    try:
        for lib in (ndgrad, torch):
            lib.set_default_dtype(lib.float64)
        ours, opt = _run(ndgrad, lambda lib, ps: getattr(lib.optim, name)(ps), np.float32,
                         SHAPES, steps=3)
        theirs, topt = _run(torch, lambda lib, ps: getattr(lib.optim, name)(ps), np.float32,
                            SHAPES, steps=3)
        _check_state(opt.state_dict(), topt.state_dict(), np.float32)
    finally:
        for lib in (ndgrad, torch):
            lib.set_default_dtype(getattr(lib, str(old).split(".")[1]))


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the error is the result compared)
        return type(e).__name__, str(e).replace("ndgrad.", "torch.")
    return None


BAD = [
    ("ASGD", dict(lr=-1.0)), ("ASGD", dict(weight_decay=-1.0)),
    ("RAdam", dict(betas=(1.0, 0.9))), ("RAdam", dict(eps=-1.0)),
    ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(lr=-0.1)),
    ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1.0, 1e-3))),
    ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1.0)),
    ("Muon", dict(adjust_lr_fn="other")), ("Muon", dict(momentum=-1.0)),
    ("SparseAdam", dict(lr=0.0)), ("SparseAdam", dict(eps=0.0)),
    ("SparseAdam", dict(betas=(0.9, 1.0))), ("SparseAdam", dict(foreach=True)),
    ("Muon", dict(foreach=True)), ("ASGD", dict(differentiable=False, capturable=False)),
]


@pytest.mark.parametrize("name,kw", BAD, ids=[f"{n}-{k}" for n, k in BAD])
def test_constructor_errors_match_torch(name, kw):
    errs = []
    for lib in (ndgrad, torch):
        errs.append(_error(lambda: getattr(lib.optim, name)(
            [lib.nn.Parameter(lib.ones(2, 2))], **kw)))
    assert errs[0] == errs[1]


STEP_ERRORS = [
    ("SparseAdam", {}, (3,), False),  # dense gradients
    ("Muon", {}, (3,), False),  # not 2-D
    ("Adafactor", {}, (3,), True),  # complex
    ("Muon", {}, (2, 2), True),
    ("ASGD", dict(capturable=True), (3,), False),  # capturable on the CPU
    ("RAdam", dict(capturable=True), (3,), False),
    ("Rprop", dict(capturable=True), (3,), False),
]


@pytest.mark.parametrize("name,kw,shape,cplx", STEP_ERRORS,
                         ids=[f"{s[0]}-{s[1]}-{s[2]}-{s[3]}" for s in STEP_ERRORS])
def test_step_errors_match_torch(name, kw, shape, cplx):
    errs = []
    for lib in (ndgrad, torch):
        def go():
            dt = lib.complex128 if cplx else lib.float64
            p = lib.nn.Parameter(lib.ones(*shape, dtype=dt))
            opt = getattr(lib.optim, name)([p], **kw)
            p.grad = lib.ones(*shape, dtype=dt)
            opt.step()

        errs.append(_error(go))
    assert errs[0] == errs[1] and errs[0] is not None


def test_muon_newton_schulz_is_bfloat16_like_torch():
    """The orthogonalised update itself, for tall, wide and square matrices: bit for bit while
    the float32 sums of the products are short; longer ones are summed in another order, and
    an element one bfloat16 step off spreads through the iteration."""
    from torch.optim._muon import _zeropower_via_newtonschulz

    from ndgrad.optim.muon import _newton_schulz

    rng = np.random.default_rng(0)
    for shape in [(4, 3), (3, 5), (8, 8), (16, 6), (64, 32)]:
        for dtype in (np.float32, np.float64):
            g = rng.standard_normal(shape).astype(dtype)
            theirs = _zeropower_via_newtonschulz(torch.from_numpy(g), (3.4445, -4.7750, 2.0315),
                                                 5, 1e-7).float().numpy()
            ours = _newton_schulz(np, g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
            if max(shape) <= 16:
                np.testing.assert_array_equal(ours, theirs)
            else:
                np.testing.assert_allclose(ours, theirs, atol=2e-2)


def test_closure_and_lr_tensor():
    out = []
    for lib in (ndgrad, torch):
        w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64))
        opt = lib.optim.RAdam([w], lr=lib.tensor(0.01))

        def closure():
            opt.zero_grad()
            loss = (w ** 2).sum()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(8)]
        out.append((losses, _np(w)))
    assert out[0][0] == out[1][0]
    np.testing.assert_array_equal(out[0][1], out[1][1])


# --- swa_utils ------------------------------------------------------------------------------------
def _model(lib, seed=0):
    lib.manual_seed(seed)
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                          lib.nn.Linear(4, 2))
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    return m.double()


def _train(lib, model, step):
    rng = np.random.default_rng(50 + step)
    x = lib.tensor(rng.standard_normal((8, 3)))
    with lib.no_grad():
        for p in model.parameters():
            p.add_(lib.tensor(rng.standard_normal(tuple(p.shape))) * 0.1)
    model(x)  # moves the batch-norm statistics


AVG = {"swa": lambda lib: {}, "ema": lambda lib: dict(
    multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    "ema_single": lambda lib: dict(avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8)),
    "swa_multi": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
    "swa_single": lambda lib: dict(avg_fn=lib.optim.swa_utils.get_swa_avg_fn())}


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("avg", list(AVG))
def test_averaged_model_matches_torch(avg, use_buffers):
    if avg == "swa_multi" and use_buffers:  # torch raises on num_batches_tracked (addcdiv_ ints)
        use_buffers = False
    out = []
    for lib in (ndgrad, torch):
        model = _model(lib)
        swa = lib.optim.swa_utils.AveragedModel(model, use_buffers=use_buffers, **AVG[avg](lib))
        for step in range(5):
            _train(lib, model, step)
            swa.update_parameters(model)
        x = lib.tensor(np.random.default_rng(9).standard_normal((5, 3)))
        swa.eval()
        out.append((swa.state_dict(), swa(x)))
    assert list(out[0][0]) == list(out[1][0])
    for k, v in out[1][0].items():
        assert str(out[0][0][k].dtype).split(".")[1] == str(v.dtype).split(".")[1], k
        np.testing.assert_allclose(_np(out[0][0][k]), _np(v), rtol=1e-14, atol=1e-15,
                                   err_msg=k)
    np.testing.assert_allclose(_np(out[0][1]), _np(out[1][1]), rtol=1e-12, atol=1e-14)


def test_update_bn_matches_torch():
    out = []
    for lib in (ndgrad, torch):
        model = _model(lib)
        rng = np.random.default_rng(4)
        data = [(lib.tensor(rng.standard_normal((6, 3))), lib.zeros(6)) for _ in range(4)]
        model.eval()
        lib.optim.swa_utils.update_bn(data, model)
        bn = model[1]
        out.append((model.training, bn.momentum, _np(bn.running_mean), _np(bn.running_var),
                    int(bn.num_batches_tracked)))
    assert out[0][:2] == out[1][:2] and out[0][4] == out[1][4]
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-13)
    np.testing.assert_allclose(out[0][3], out[1][3], rtol=1e-13)


@pytest.mark.parametrize("kw", [dict(swa_lr=0.05), dict(swa_lr=0.05, anneal_epochs=3,
                                                          anneal_strategy="linear"),
                                dict(swa_lr=[0.05, 0.01], anneal_epochs=0)])
def test_swalr_matches_torch(kw):
    lrs = []
    for lib in (ndgrad, torch):
        ps = _params(lib, _arrays(np.float64, [(2,), (3,)]))
        opt = lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=0.5)
        sched = lib.optim.swa_utils.SWALR(opt, **kw)
        seq = []
        for i in range(14):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
            if i == 6:
                opt.param_groups[0]["lr"] = 0.2  # a hand-set lr is picked up, as in torch
        state = sched.state_dict()
        lrs.append((seq, sorted(state)))
        sched.load_state_dict(state)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sched.get_lr()
        assert "get_last_lr" in str(w[0].message)
    assert lrs[0][1] == lrs[1][1]
    for a, b in zip(lrs[0][0], lrs[1][0]):
        assert all(math.isclose(x, y, rel_tol=1e-15) for x, y in zip(a, b)), (a, b)


@pytest.mark.parametrize("call", [
    lambda lib: lib.optim.swa_utils.SWALR(lib.optim.SGD([lib.nn.Parameter(lib.ones(1))]),
                                          swa_lr=0.1, anneal_strategy="exp"),
    lambda lib: lib.optim.swa_utils.SWALR(lib.optim.SGD([lib.nn.Parameter(lib.ones(1))]),
                                          swa_lr=0.1, anneal_epochs=-1),
    lambda lib: lib.optim.swa_utils.SWALR(lib.optim.SGD([lib.nn.Parameter(lib.ones(1))]),
                                          swa_lr=[0.1, 0.2]),
    lambda lib: lib.optim.swa_utils.get_ema_avg_fn(1.5),
    lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(-0.1),
    lambda lib: lib.optim.swa_utils.AveragedModel(lib.nn.Linear(1, 1), avg_fn=abs,
                                                  multi_avg_fn=abs),
])
def test_swa_errors_match_torch(call):
    assert _error(lambda: call(ndgrad)) == _error(lambda: call(torch))
