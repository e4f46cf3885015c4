"""Every optimizer under torch's option flags, 20 steps side by side with torch: foreach/fused,
capturable (refused on the CPU), tensor lr, param groups with different options, complex
params, missing gradients, a scheduler changing lr, and a state_dict reload half way."""

import warnings

import numpy as np
import pytest
import torch

import ndgrad

SHAPES = [(4, 3), (3,), (), (2, 3, 4)]
MATRICES = [(4, 3), (3, 5)]  # Muon takes 2-D parameters only
STEPS = 20
# name: (options for both groups, options only the second group overrides)
OPTIONS = {
    "SGD": (dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
            dict(momentum=0.5, nesterov=False, dampening=0.2, maximize=True)),
    "Adam": (dict(lr=0.01, amsgrad=True, weight_decay=0.1),
             dict(amsgrad=False, maximize=True, betas=(0.8, 0.9))),
    "AdamW": (dict(lr=0.01, weight_decay=0.2), dict(amsgrad=True, maximize=True, eps=1e-6)),
    "RMSprop": (dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
                dict(centered=False, momentum=0.0, maximize=True)),
    "Adagrad": (dict(lr=0.1, lr_decay=0.05, weight_decay=0.1), dict(maximize=True, eps=1e-6)),
    "Adadelta": (dict(lr=0.5, rho=0.8, weight_decay=0.1), dict(maximize=True, rho=0.95)),
    "Adamax": (dict(lr=0.01, weight_decay=0.1), dict(maximize=True, betas=(0.8, 0.99))),
    "NAdam": (dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
              dict(decoupled_weight_decay=False, maximize=True, momentum_decay=0.01)),
    "RAdam": (dict(lr=0.01, weight_decay=0.1), dict(decoupled_weight_decay=True, maximize=True)),
    "ASGD": (dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1), dict(maximize=True)),
    "Rprop": (dict(lr=0.05, etas=(0.3, 1.5)), dict(maximize=True, step_sizes=(1e-3, 0.1))),
    "Adafactor": (dict(lr=0.05, weight_decay=0.1), dict(maximize=True, d=2.0)),
    "Muon": (dict(lr=0.02, momentum=0.9), dict(nesterov=False, weight_decay=0.0)),
}
FLAGS = {  # the flags each constructor takes (torch refuses the others with a TypeError)
    "SGD": ("foreach", "fused"), "Adam": ("foreach", "fused", "capturable"),
    "AdamW": ("foreach", "fused", "capturable"), "Adagrad": ("foreach", "fused"),
    "RMSprop": ("foreach", "capturable"), "Adadelta": ("foreach", "capturable"),
    "Adamax": ("foreach", "capturable"), "NAdam": ("foreach", "capturable"),
    "RAdam": ("foreach", "capturable"), "ASGD": ("foreach", "capturable"),
    "Rprop": ("foreach", "capturable"), "Adafactor": ("foreach",), "Muon": (),
}
NO_COMPLEX = {"Adafactor", "Muon"}
CASES = [(n, v) for n in OPTIONS for v in ("plain", "groups", "complex", "tensor_lr", "sched",
                                           "reload") + tuple(f for f in FLAGS[n]
                                                             if f != "capturable")]
TOL = {np.float64: dict(rtol=1e-6, atol=1e-9), np.float32: dict(rtol=1e-5, atol=1e-6)}
# torch does the scalar arithmetic of a tensor lr (1 - lr * wd, ASGD's eta) in the tensor's
# float32, and foreach ASGD its eta/mu in float32 tensors; ndgrad in Python floats: a few 1e-6
# relative apart on elements near zero
LOOSE = {("AdamW", "tensor_lr"), ("ASGD", "tensor_lr"), ("ASGD", "foreach"),
         ("Adafactor", "tensor_lr")}


def _values(seed, shapes, dtype):
    rng = np.random.default_rng(seed)
    cplx = np.dtype(dtype).kind == "c"
    return [(rng.standard_normal(s) + (1j * rng.standard_normal(s) if cplx else 0)).astype(dtype)
            for s in shapes]


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def _run(lib, name, variant, dtype):
    """20 steps of ``name`` under ``variant``; the last parameter misses every third gradient."""
    shapes = MATRICES if name == "Muon" else SHAPES
    ps = [lib.nn.Parameter(lib.tensor(a)) for a in _values(0, shapes, dtype)]
    both, second = OPTIONS[name]
    kw = dict(both)
    if variant in FLAGS[name]:
        kw[variant] = True
    if variant == "tensor_lr":
        kw["lr"] = lib.tensor(kw["lr"])

    def make():
        cls = getattr(lib.optim, name)
        if variant == "groups":
            return cls([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.003, **second}], **kw)
        return cls(ps, **kw)

    opt = make()
    sched = lib.optim.lr_scheduler.StepLR(opt, 4, 0.5) if variant == "sched" else None
    for i in range(STEPS):
        for j, (p, g) in enumerate(zip(ps, _values(1000 + i, shapes, dtype))):
            p.grad = None if j == len(ps) - 1 and i % 3 == 1 else lib.tensor(g)
        opt.step()
        if sched is not None:
            sched.step()
        if variant == "reload" and i == STEPS // 2:
            saved = opt.state_dict()
            opt = make()
            opt.load_state_dict(saved)
    return ps, opt.state_dict()


@pytest.mark.parametrize("name,variant", CASES, ids=[f"{n}-{v}" for n, v in CASES])
def test_options_match_torch(name, variant):
    if variant == "complex" and name in NO_COMPLEX:
        pytest.skip("torch refuses complex parameters here (tested in test_optim_breadth)")
    dtype = np.complex128 if variant == "complex" else np.float64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about foreach/fused on the CPU
        ours, state = _run(ndgrad, name, variant, dtype)
        theirs, tstate = _run(torch, name, variant, dtype)
    tol = dict(rtol=5e-6, atol=1e-8) if (name, variant) in LOOSE else TOL[np.float64]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), _np(b), **tol)
    assert state["state"].keys() == tstate["state"].keys()
    for k, st in tstate["state"].items():
        assert state["state"][k].keys() == st.keys()
        for key, v in st.items():
            mine = state["state"][k][key]
            if isinstance(v, torch.Tensor):
                assert mine.shape == tuple(v.shape) and str(mine.dtype) == str(v.dtype).replace(
                    "torch", "ndgrad")
                np.testing.assert_allclose(_np(mine), _np(v), **tol)
            else:
                assert mine == v
    strip = lambda g: {k: (v.item() if hasattr(v, "item") else v)  # noqa: E731
                       for k, v in g.items()}
    assert [strip(g) for g in state["param_groups"]] == [strip(g) for g in
                                                          tstate["param_groups"]]


def test_float32_twenty_steps_match_torch():
    for name in OPTIONS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours, _ = _run(ndgrad, name, "groups", np.float32)
            theirs, _ = _run(torch, name, "groups", np.float32)
        for a, b in zip(ours, theirs):
            # Muon's Newton-Schulz runs in bfloat16: one rounding step apart spreads
            tol = dict(atol=2e-2) if name == "Muon" else TOL[np.float32]
            np.testing.assert_allclose(_np(a), _np(b), **tol, err_msg=name)


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the error is the result compared)
        return type(e).__name__, str(e).replace("ndgrad", "torch")
    return None


@pytest.mark.parametrize("name", [n for n in OPTIONS if "capturable" in FLAGS[n]])
def test_capturable_on_the_cpu_is_refused_like_torch(name):
    errs, states = [], []
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.ones(3))
        opt = getattr(lib.optim, name)([p], capturable=True)
        p.grad = lib.ones(3)
        errs.append(_error(opt.step))
        states.append(sorted(opt.state[p]))
    assert errs[0] == errs[1] and errs[0] is not None
    assert states[0] == states[1]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_and_foreach_are_exclusive_like_torch(name):
    errs = [_error(lambda: getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(2))],
                                                     foreach=True, fused=True))
            for lib in (ndgrad, torch)]
    assert errs[0] == errs[1] and errs[0] is not None


def test_state_dict_without_newer_options_loads_like_torch():
    """A state_dict saved before an option existed: its groups take the option's default."""
    out = []
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.ones(3, dtype=lib.float64))
        opt = lib.optim.Adam([p], lr=0.1)
        p.grad = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64)
        opt.step()
        saved = opt.state_dict()
        for g in saved["param_groups"]:
            for key in ("maximize", "foreach", "decoupled_weight_decay", "amsgrad"):
                del g[key]
        opt = lib.optim.Adam([p], lr=0.1)
        opt.load_state_dict(saved)
        opt.step()
        out.append((_np(p), sorted(opt.param_groups[0])))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    assert out[0][1] == out[1][1]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "ASGD"])
def test_differentiable_is_refused_with_a_clear_error(name):
    """ndgrad's formulas run on arrays without a graph: the flag is refused up front (torch
    records the update; plain leaf params then fail there on the in-place update)."""
    with pytest.raises(NotImplementedError, match="differentiable=True is not supported"):
        getattr(ndgrad.optim, name)([ndgrad.nn.Parameter(ndgrad.ones(2))], differentiable=True)


SPARSE = ["SGD", "Adagrad", "SparseAdam", "Adam", "AdamW", "RMSprop", "Adamax", "NAdam", "RAdam",
          "ASGD", "Rprop", "Adadelta", "Adafactor"]


@pytest.mark.parametrize("name,wd", [(n, 0.0) for n in SPARSE] + [("SGD", 0.1), ("Adagrad", 0.1)])
def test_sparse_gradients_like_torch(name, wd):
    """SGD, Adagrad and SparseAdam take sparse COO gradients; the rest refuse them with torch's
    error before updating anything."""
    out = []
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.ones(3, 2, dtype=lib.float64))
        q = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
        kw = {"momentum": 0.9} if name == "SGD" else {}
        if wd:
            kw["weight_decay"] = wd
        opt = getattr(lib.optim, name)([q, p], lr=0.1, **kw)

        def go():
            for i in range(3):
                q.grad = lib.ones(2, dtype=lib.float64) if name != "SparseAdam" else None
                p.grad = lib.sparse_coo_tensor([[0, 2]], [[1.0 + i, -2.0], [0.5, 3.0 - i]],
                                               (3, 2), dtype=lib.float64)
                opt.step()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note on sparse invariant checks
            out.append((_error(go), _np(p), _np(q)))
    assert out[0][0] == out[1][0]
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12)
    np.testing.assert_allclose(out[0][2], out[1][2], rtol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_refuses_complex_params_like_torch(name):
    errs = []
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.ones(2, dtype=lib.complex64))
        opt = getattr(lib.optim, name)([p], fused=True)
        p.grad = lib.ones(2, dtype=lib.complex64)
        errs.append(_error(opt.step))
    assert errs[0] == errs[1] and errs[0] is not None


@pytest.mark.parametrize("kw", [dict(lr="t"), dict(betas=("t", "t"))])
def test_adam_tensor_lr_or_betas_with_foreach_like_torch(kw):
    errs = []
    for lib in (ndgrad, torch):
        args = {k: (lib.tensor(0.01) if v == "t" else tuple(lib.tensor(0.9) for _ in v))
                for k, v in kw.items()}
        errs.append(_error(lambda: lib.optim.Adam([lib.nn.Parameter(lib.ones(2))], foreach=True,
                                                  **args)))
    assert errs[0] == errs[1] and errs[0] is not None
