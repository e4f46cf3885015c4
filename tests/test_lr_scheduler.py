"""lr schedulers: the lr (and momentum) sequences equal torch's, step by step."""

import math
import warnings

import pytest
import torch

import ndgrad

S = lambda lib: lib.optim.lr_scheduler  # noqa: E731
SCHEDULERS = {
    "StepLR": lambda L, o: S(L).StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda L, o: S(L).MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda L, o: S(L).ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda L, o: S(L).CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "LinearLR": lambda L, o: S(L).LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=6),
    "LambdaLR": lambda L, o: S(L).LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-list": lambda L, o: S(L).LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda L, o: S(L).MultiplicativeLR(o, lambda e: 0.97),
    "ConstantLR": lambda L, o: S(L).ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda L, o: S(L).PolynomialLR(o, total_iters=10, power=2.0),
    "OneCycleLR": lambda L, o: S(L).OneCycleLR(o, max_lr=1.0, total_steps=31),
    "OneCycleLR-3phase-linear": lambda L, o: S(L).OneCycleLR(
        o, max_lr=[0.5, 1.0], epochs=3, steps_per_epoch=11, three_phase=True,
        anneal_strategy="linear"),
    "CyclicLR": lambda L, o: S(L).CyclicLR(o, 0.01, 0.1, step_size_up=4, mode="triangular2"),
    "CyclicLR-exp": lambda L, o: S(L).CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=5,
                                               mode="exp_range", gamma=0.95),
    "CosineAnnealingWarmRestarts": lambda L, o: S(L).CosineAnnealingWarmRestarts(o, 3, T_mult=2,
                                                                                 eta_min=0.01),
    "SequentialLR": lambda L, o: S(L).SequentialLR(
        o, [S(L).LinearLR(o, 0.1, total_iters=4), S(L).ExponentialLR(o, 0.9)], milestones=[4]),
    "ChainedScheduler": lambda L, o: S(L).ChainedScheduler(
        [S(L).ConstantLR(o, 0.5, total_iters=3), S(L).ExponentialLR(o, 0.9)]),
}


def _optimizer(lib, kind="SGD"):
    a, b = lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2))
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _sequence(lib, make, n=30, kind="SGD", metric=None):
    opt = _optimizer(lib, kind)
    sched = make(lib, opt)
    out = []
    for i in range(n):
        opt.step()
        sched.step(*([metric(i)] if metric else []))
        group = opt.param_groups[0]
        out.append((sched.get_last_lr(), group.get("momentum"), group.get("betas")))
    return out, sched


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_sequence_matches_torch(name, kind):
    ours, _ = _sequence(ndgrad, SCHEDULERS[name], kind=kind)
    theirs, _ = _sequence(torch, SCHEDULERS[name], kind=kind)
    assert ours == theirs  # the same float operations: bit-identical


@pytest.mark.parametrize("kw", [dict(patience=2), dict(mode="max", factor=0.5, patience=1,
                                                            cooldown=2, threshold_mode="abs"),
                                dict(min_lr=[0.01, 0.02], patience=0, eps=1e-3)])
def test_reduce_on_plateau_matches_torch(kw):
    make = lambda L, o: S(L).ReduceLROnPlateau(o, **kw)  # noqa: E731
    metric = lambda i: [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8][i % 9]  # noqa: E731
    ours, s1 = _sequence(ndgrad, make, metric=metric)
    theirs, s2 = _sequence(torch, make, metric=metric)
    assert ours == theirs
    assert (s1.best, s1.num_bad_epochs, s1.cooldown_counter) == (
        s2.best, s2.num_bad_epochs, s2.cooldown_counter)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "CyclicLR",
                                  "LambdaLR", "CosineAnnealingWarmRestarts", "SequentialLR"])
def test_state_dict_resume(name):
    """Stop after 10 steps, save state, build a fresh scheduler, load, go on: same sequence."""
    make = SCHEDULERS[name]
    full, _ = _sequence(ndgrad, make, n=20)
    opt = _optimizer(ndgrad)
    sched = make(ndgrad, opt)
    for _ in range(10):
        opt.step()
        sched.step()
    opt_sd, sd = opt.state_dict(), sched.state_dict()
    tsd = _sequence(torch, make, n=10)[1].state_dict()
    assert set(sd) == set(tsd)
    opt2 = _optimizer(ndgrad)
    sched2 = make(ndgrad, opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sd)
    rest = []
    for _ in range(10):
        opt2.step()
        sched2.step()
        rest.append(sched2.get_last_lr())
    assert rest == [lrs for lrs, _, _ in full[10:]]


def test_epoch_argument_uses_closed_form():
    out = []
    for lib in (ndgrad, torch):
        opt = _optimizer(lib)
        sched = S(lib).StepLR(opt, 3, 0.5)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            opt.step()
            sched.step(7)
        out.append((sched.get_last_lr(), [str(x.message)[:40] for x in w]))
    assert out[0] == out[1]


def test_warnings_match_torch():
    msgs = []
    for lib in (ndgrad, torch):
        opt = _optimizer(lib)
        sched = S(lib).StepLR(opt, 3)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sched.step()  # before optimizer.step()
            sched.get_lr()  # outside step()
        msgs.append([str(x.message) for x in w])
    assert len(msgs[0]) == 2 and msgs[0] == msgs[1]


def test_no_warning_in_correct_order():
    opt = _optimizer(ndgrad)
    sched = S(ndgrad).OneCycleLR(opt, 1.0, total_steps=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(5):
            opt.step()
            sched.step()


def test_errors_match_torch():
    cases = [lambda L, o: S(L).LinearLR(o, start_factor=0), lambda L, o: S(L).ConstantLR(o, 2),
             lambda L, o: S(L).ReduceLROnPlateau(o, factor=1.5),
             lambda L, o: S(L).ReduceLROnPlateau(o, mode="avg"),
             lambda L, o: S(L).OneCycleLR(o, 1.0),
             lambda L, o: S(L).LambdaLR(o, [lambda e: 1]),
             lambda L, o: S(L).StepLR(o, 3, last_epoch=4),
             lambda L, o: S(L).CosineAnnealingWarmRestarts(o, 0),
             lambda L, o: S(L).StepLR(None, 3)]
    for make in cases:
        errs = []
        for lib in (ndgrad, torch):
            try:
                make(lib, _optimizer(lib))
                errs.append(None)
            except Exception as e:  # noqa: BLE001
                errs.append((type(e), str(e)))
        assert errs[1] is not None and errs[0] == errs[1]


def test_one_cycle_past_total_steps_raises():
    opt = _optimizer(ndgrad)
    sched = S(ndgrad).OneCycleLR(opt, 1.0, total_steps=2)
    opt.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        opt.step()
        sched.step()
        sched.step()


def test_cosine_reaches_eta_min():
    opt = _optimizer(ndgrad)
    sched = S(ndgrad).CosineAnnealingLR(opt, T_max=10, eta_min=0.0)
    for _ in range(10):
        opt.step()
        sched.step()
    assert math.isclose(sched.get_last_lr()[0], 0.0, abs_tol=1e-12)
