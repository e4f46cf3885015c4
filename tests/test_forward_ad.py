"""Forward-mode AD: autograd.forward_ad (dual tensors) and torch.func.jvp / vjp against torch,
over the op table and on torch's forward-AD tutorial patterns; func.stack_module_state;
autograd.NestedIOFunction."""

import warnings

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ndgrad
import ndgrad.autograd.forward_ad as nfw
from harness import flat_outputs, to_lib, to_numpy
from op_db import OPS
import op_db.all  # noqa: F401  (registers every family)

OPS64 = [op for op in OPS if op.grad and "float64" in op.dtypes]
SAMPLES = 3  # per entry

# Where torch's forward formulas disagree with its own reverse mode (torch.autograd.functional.jvp,
# the double-vjp trick, gives ours): a triangle-only or symmetrised input, a duplicated write, the
# rows of padding_idx; or where the double-vjp meets 0/0 (nan) that a forward formula avoids.
TORCH_JVP_DIFFERS = {"setitem_repeated_index", "cholesky_inverse", "cholesky_inverse_method",
                     "triangular_solve", "triangular_solve_method", "F.embedding",
                     "std_constant", "logcumsumexp_wide", "median_all_nan"}
# Where torch differentiates to zero in both modes (torch.cond's branches): central differences.
TORCH_ZERO = {("breadth", "cond")}
# A dual is not a leaf here (it records its uses), so a leaf-only hook cannot go on it.
NOT_FOR_DUALS = {"post_accumulate_grad_hook"}
# Backward not differentiable in ndgrad, as in torch (hardsigmoid's double backward raises).
NO_DOUBLE_BACKWARD = {"F.hardsigmoid"}


def _case(lib, op, arrays, kwargs):
    """(f, primals): ``op`` as a function of its floating inputs; the rest held fixed."""
    idx = [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    base = [to_lib(lib, a, False) for a in arrays]

    def f(*xs):
        args = list(base)
        for i, x in zip(idx, xs):
            args[i] = x
        return tuple(o for o in flat_outputs(op.fn(lib, *args, **kwargs))
                     if isinstance(o, lib.Tensor))

    return f, tuple(base[i] for i in idx)


def _tangents(primals, seed=7):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(p.shape)) for p in primals]


def _torch_reference(op, arrays, kwargs, tans):
    """torch.func.jvp, or torch's double-vjp jvp where that has no forward formula."""
    f, primals = _case(torch, op, arrays, kwargs)
    ts = tuple(torch.tensor(t) for t in tans)
    torch.manual_seed(0)
    try:
        return list(torch.func.jvp(f, primals, ts)[1]), "func"
    except Exception:  # noqa: BLE001  (no forward formula in torch: use its reverse mode)
        pass
    torch.manual_seed(0)
    try:
        return list(torch.autograd.functional.jvp(f, primals, ts)[1]), "double-vjp"
    except Exception:  # noqa: BLE001
        return None, None


def _torch_double_vjp(op, arrays, kwargs, tans):
    """torch's reverse mode, differentiated once more: d/du [uᵀJ]·t at u = 1 (torch's own
    functional.jvp takes u = 0, where some backward formulas divide by zero)."""
    f, primals = _case(torch, op, arrays, kwargs)
    ps = [p.detach().requires_grad_() for p in primals]
    torch.manual_seed(0)
    outs = f(*ps)
    res = [torch.zeros_like(o) for o in outs]
    diff = [i for i, o in enumerate(outs) if o.requires_grad]
    us = [torch.ones_like(outs[i], requires_grad=True) for i in diff]
    gs = torch.autograd.grad([outs[i] for i in diff], ps, us, create_graph=True,
                             allow_unused=True)
    pairs = [(g, torch.tensor(t)) for g, t in zip(gs, tans) if g is not None and g.requires_grad]
    jv = torch.autograd.grad([g for g, _ in pairs], us, [t for _, t in pairs], allow_unused=True)
    for i, t in zip(diff, jv):
        if t is not None:
            res[i] = t
    return res


def _fd_jvp(op, arrays, kwargs, tans, eps=1e-6):
    f, primals = _case(ndgrad, op, arrays, kwargs)
    ends = [f(*[p + s * eps * ndgrad.tensor(t) for p, t in zip(primals, tans)]) for s in (1, -1)]
    return [(a - b) / (2 * eps) for a, b in zip(*ends)]


def _same(ours, theirs, rtol=1e-7):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        x, y = to_numpy(a), to_numpy(b)
        assert x.shape == y.shape
        np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol * 1e-2, equal_nan=True)


def _sweep(op, ours_fn, samples=SAMPLES):
    compared = 0
    for k, (arrays, kwargs) in enumerate(op.samples(np.random.default_rng(0), "float64")):
        if k >= samples:
            break
        f, primals = _case(ndgrad, op, arrays, kwargs)
        if not primals:
            continue
        tans = _tangents(primals)
        theirs, how = _torch_reference(op, arrays, kwargs, tans)
        if theirs is None:
            continue
        ndgrad.manual_seed(0)
        if op.name in NO_DOUBLE_BACKWARD:
            with pytest.raises(RuntimeError, match="is not implemented"):
                ours_fn(f, primals, [ndgrad.tensor(t) for t in tans])
            continue
        ours = ours_fn(f, primals, [ndgrad.tensor(t) for t in tans])
        if (op.fn.__module__.rsplit(".", 1)[-1], op.name) in TORCH_ZERO:
            _same(ours, _fd_jvp(op, arrays, kwargs, tans), rtol=1e-6)
            continue
        if op.name in TORCH_JVP_DIFFERS and how == "func":
            theirs = _torch_double_vjp(op, arrays, kwargs, tans)
        _same(ours, theirs)
        compared += 1
    return compared


@pytest.mark.parametrize("op", OPS64, ids=[o.name for o in OPS64])
def test_func_jvp_matches_torch_over_the_op_table(op):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _sweep(op, lambda f, primals, tans: list(ndgrad.func.jvp(f, primals, tuple(tans))[1]))


def _dual_jvp(f, primals, tans):
    with nfw.dual_level():
        outs = f(*[nfw.make_dual(p, t) for p, t in zip(primals, tans)])
        res = []
        for o in outs:
            t = nfw.unpack_dual(o).tangent
            res.append(o.new_zeros(o.shape) if t is None else t)
        return res


@pytest.mark.parametrize("op", OPS64, ids=[o.name for o in OPS64])
def test_dual_tensors_match_torch_over_the_op_table(op):
    if op.name in NOT_FOR_DUALS:
        pytest.skip("a dual is not a leaf here")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _sweep(op, _dual_jvp, samples=1)


def test_the_sweep_covers_the_table():
    """Most entries compare against torch.func.jvp itself, not only against its reverse mode."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n = sum(_sweep(op, lambda f, p, t: list(ndgrad.func.jvp(f, p, tuple(t))[1]), 1)
                for op in OPS64[::10])
    assert n >= 0.9 * len(OPS64[::10])


# --- forward_ad semantics -------------------------------------------------------------------------
def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the error is the result compared)
        return type(e).__name__, str(e).replace("ndgrad.", "torch.")
    return None


def _both(fn):
    """fn(lib, fwAD) run for ndgrad and torch."""
    return fn(ndgrad, nfw), fn(torch, tfw)


def test_levels_and_errors_match_torch():
    def run(lib, fw):
        x, t = lib.ones(3, 4), lib.ones(3, 4)
        out = [_err(lambda: fw.make_dual(x, t)), _err(lambda: fw.exit_dual_level()),
               fw.unpack_dual(x).tangent]
        with fw.dual_level() as level:
            out += [level, _err(fw.enter_dual_level),
                    _err(lambda: fw.make_dual(x, lib.ones(4, 3))),
                    _err(lambda: fw.make_dual(x, t, level=3)),
                    _err(lambda: fw.make_dual(lib.ones(3, dtype=lib.int64), lib.ones(3))),
                    _err(lambda: fw.make_dual(lib.ones(3), lib.ones(3, dtype=lib.int64))),
                    _err(lambda: fw.unpack_dual(3)),
                    _err(lambda: fw.unpack_dual(fw.make_dual(x, t), level=3)),
                    fw.unpack_dual(x, level=3).tangent]
            d = fw.make_dual(x, t)
            out += [_err(lambda: fw.make_dual(d, t)), _err(lambda: fw.make_dual(d * 2, t)),
                    _err(lambda: fw.exit_dual_level(level=1))]
        out.append(fw.enter_dual_level())
        fw.exit_dual_level()
        return out

    ours, theirs = _both(run)
    assert ours == theirs


def test_tangent_identity_layout_and_lifetime():
    def run(lib, fw):
        x = lib.tensor(np.arange(12.0).reshape(3, 4))
        t = lib.tensor(np.ones((3, 4)))
        with fw.dual_level():
            d = fw.make_dual(x, t)
            same = fw.unpack_dual(d).tangent is t
            t2 = lib.tensor(np.ones((4, 3))).T  # another layout: torch copies it
            d2 = fw.make_dual(x, t2)
            copied = fw.unpack_dual(d2).tangent
            y = d * 3
            inside = fw.unpack_dual(y).tangent
            unpacked = fw.unpack_dual(d)
        after = fw.unpack_dual(y).tangent
        return (same, copied is t2, copied.stride(), type(unpacked).__name__, unpacked._fields,
                unpacked.primal.requires_grad, after, to_numpy(inside).tolist())

    ours, theirs = _both(run)
    assert ours == theirs


def test_duals_through_in_place_ops_views_and_detach():
    def run(lib, fw):
        rng = np.random.default_rng(0)
        x, t = (lib.tensor(rng.standard_normal((3, 4))) for _ in range(2))
        res = []
        with fw.dual_level():
            d = fw.make_dual(x.clone(), t.clone())
            d.mul_(2)
            res.append(fw.unpack_dual(d).tangent)
            z = lib.zeros(3, 4, dtype=lib.float64)
            z[1:] = d[1:] ** 2
            res.append(fw.unpack_dual(z).tangent)
            v = d.view(12)[2:7]
            res.append(fw.unpack_dual(v.exp()).tangent)
            w = lib.zeros(3, 4, dtype=lib.float64)
            w.copy_(d.sin())
            res.append(fw.unpack_dual(w).tangent)
            res.append(fw.unpack_dual(d.detach()).tangent)
            p = fw.unpack_dual(d.tanh()).primal
            res.append(fw.unpack_dual(p).tangent)
            res.append(fw.unpack_dual((d > 0).double()).tangent)
        return [None if r is None else to_numpy(r) for r in res]

    ours, theirs = _both(run)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_dual_parameters_in_a_module_and_backward_through_duals():
    """torch's forward-AD tutorial: a model's parameters replaced by duals; and a primal that
    requires grad keeps its backward graph (and the tangent its own)."""

    def run(lib, fw):
        lib.manual_seed(0)
        model = lib.nn.Linear(5, 3).double()
        rng = np.random.default_rng(1)
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
        x = lib.tensor(rng.standard_normal((4, 5)))
        params = dict(model.named_parameters())
        tangents = {k: lib.tensor(rng.standard_normal(tuple(p.shape))) for k, p in params.items()}
        with fw.dual_level():
            for name, p in params.items():
                delattr(model, name)
                setattr(model, name, fw.make_dual(p, tangents[name]))
            out = lib.tanh(model(x))
            primal, tangent = fw.unpack_dual(out)
            # the tangent's graph reaches the parameters; ours runs through the primal's graph
            # (the double-vjp), so that graph is kept for the backward below
            (tangent ** 2).sum().backward(retain_graph=True)
            g_tan = [to_numpy(p.grad) for p in params.values()]
            for p in params.values():
                p.grad = None
            primal.sum().backward()
            g_primal = [to_numpy(p.grad) for p in params.values()]
        return to_numpy(tangent), g_tan, g_primal

    ours, theirs = _both(run)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for a, b in zip(ours[1] + ours[2], theirs[1] + theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_custom_function_with_backward_and_jvp():
    def run(lib, fw):
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                ctx.y = y
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                return g * y

            @staticmethod
            def jvp(ctx, t):
                return t * ctx.y

        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
        with fw.dual_level():
            out = Exp.apply(fw.make_dual(x, lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)))
            return to_numpy(fw.unpack_dual(out * 2).tangent)

    ours, theirs = _both(run)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_dual_level_as_decorator():
    for fw, lib in ((nfw, ndgrad), (tfw, torch)):
        @fw.dual_level()
        def f():
            return fw.unpack_dual(fw.make_dual(lib.ones(2), lib.ones(2)) * 3).tangent.tolist()

        assert f() == [3.0, 3.0]


# --- func.jvp / func.vjp --------------------------------------------------------------------------
def _data(seed=0, n=4):
    return np.random.default_rng(seed).standard_normal(n)


def test_func_jvp_structures_aux_and_strict():
    def run(lib):
        a, b, v, w = (lib.tensor(_data(s)) for s in range(4))
        res = [lib.func.jvp(lambda p: {"s": p["x"] * p["y"][0], "t": (p["x"].sin(),)},
                            ({"x": a, "y": [b]},), ({"x": v, "y": [w]},)),
               lib.func.jvp(lambda x, y: (x * y, x.sum()), (a, b), (v, w), has_aux=False),
               lib.func.jvp(lambda x: (x.exp(), {"aux": x * 2}), (a,), (v,), has_aux=True),
               lib.func.jvp(lambda x: lib.ones(3), (a,), (v,)),
               lib.func.jvp(lambda x: (x > 0).long(), (a,), (v,))]
        errs = [_err(lambda: lib.func.jvp(lambda x: lib.ones(3), (a,), (v,), strict=True)),
                _err(lambda: lib.func.jvp(lib.sin, [a], [v])),
                _err(lambda: lib.func.jvp(lib.sin, (a,), [v])),
                _err(lambda: lib.func.jvp(lib.sin, (a,), (lib.ones(5),))),
                _err(lambda: lib.func.jvp(lambda x: 3, (a,), (v,))),
                _err(lambda: lib.func.jvp(lib.sin, (a, 1.0), (v, 1.0))),
                _err(lambda: lib.func.jvp(lib.sin, (), ())),
                _err(lambda: lib.func.jvp(lambda x: x, (a,), (v,), has_aux=True))]
        return res, errs

    (ours, oerr), (theirs, terr) = run(ndgrad), run(torch)
    assert oerr == terr
    flat_o = [x for o in ours for x in ndgrad.func._flatten(o)[0]]
    flat_t = [x for o in theirs for x in ndgrad.func._flatten(o)[0]]
    assert len(flat_o) == len(flat_t)
    for a, b in zip(flat_o, flat_t):
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12, atol=1e-14)
        assert a.requires_grad == b.requires_grad


def test_func_jvp_and_vjp_keep_plain_autograd_and_nest():
    def run(lib):
        x = lib.tensor(_data(0), requires_grad=True)
        v = lib.tensor(_data(1))
        f = lambda u: (u.sin() * u).sum()  # noqa: E731
        out, tan = lib.func.jvp(lib.sin, (x,), (v,))
        flags = [out.requires_grad, tan.requires_grad]
        g1 = lib.autograd.grad(tan.sum(), x)[0]
        hvp = lib.func.jvp(lib.func.grad(f), (x.detach(),), (v,))[1]  # forward-over-reverse
        rof = lib.func.grad(lambda a: lib.func.jvp(f, (a,), (v,))[1])(x.detach())
        vt = lib.tensor(_data(2), requires_grad=True)
        _, tan2 = lib.func.jvp(lib.exp, (x.detach(),), (vt,))
        flags.append(tan2.requires_grad)
        o, vjp_fn = lib.func.vjp(lambda a: a.tanh() * 2, x)
        gx = vjp_fn(lib.ones(4))
        gx2 = vjp_fn(v)  # may be called again
        flags += [o.requires_grad, gx[0].requires_grad, type(gx).__name__]
        g2 = lib.autograd.grad(gx[0].sum(), x)[0]
        o3, vjp3 = lib.func.vjp(lambda a: a.tanh(), x.detach())
        g3 = vjp3(v)[0]
        flags += [o3.requires_grad, g3.requires_grad]
        return [g1, hvp, rof, gx[0], gx2[0], g2, g3], flags

    (ours, of), (theirs, tf) = run(ndgrad), run(torch)
    assert of == tf
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12, atol=1e-14)


def test_func_vjp_structures_aux_and_errors():
    def run(lib):
        a, b = lib.tensor(_data(0)), lib.tensor(_data(1))
        o, fn = lib.func.vjp(lambda x, y: (x * y["k"], x.sum()), a, {"k": b})
        res = [o, fn((lib.ones(4), lib.tensor(2.0)))]
        o2, fn2, aux = lib.func.vjp(lambda x: (x * 2, {"z": x}), a, has_aux=True)
        res += [o2, fn2(b), aux]
        errs = [_err(lambda: fn([lib.ones(4), lib.tensor(2.0)])),
                _err(lambda: lib.func.vjp(lib.sin, 1.0)),
                _err(lambda: lib.func.vjp(lambda x: x > 0, a)),
                _err(lambda: lib.func.vjp(lambda x: 3, a)),
                _err(lambda: lib.func.vjp(lambda x: x * 2, a, has_aux=True))]
        return res, errs

    (ours, oerr), (theirs, terr) = run(ndgrad), run(torch)
    assert oerr == terr
    flat_o = ndgrad.func._flatten(ours)[0]
    flat_t = ndgrad.func._flatten(theirs)[0]
    assert len(flat_o) == len(flat_t)
    for a, b in zip(flat_o, flat_t):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-12, atol=1e-14)
        assert a.requires_grad == b.requires_grad


def test_stack_module_state_ensembles_with_vmap():
    def run(lib):
        lib.manual_seed(0)
        rng = np.random.default_rng(0)
        models = [lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4)).double()
                  for _ in range(3)]
        for m in models:
            with lib.no_grad():
                for p in m.parameters():
                    p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
            m.eval()
        params, buffers = lib.func.stack_module_state(models)
        x = lib.tensor(rng.standard_normal((5, 3)))

        def one(p, b, data):
            return lib.func.functional_call(models[0], (p, b), (data,))

        out = lib.func.vmap(one, (0, 0, None))(params, buffers, x)
        meta = {k: (tuple(v.shape), v.requires_grad, v.is_leaf) for k, v in
                {**params, **buffers}.items()}
        models[1].train()
        errs = [_err(lambda: lib.func.stack_module_state([])),
                _err(lambda: lib.func.stack_module_state(models)),
                _err(lambda: lib.func.stack_module_state([lib.nn.Linear(1, 1),
                                                          lib.nn.Linear(1, 1).requires_grad_(
                                                              False)])),
                _err(lambda: lib.func.stack_module_state([lib.nn.Linear(1, 1),
                                                          lib.nn.Bilinear(1, 1, 1)]))]
        return out, meta, errs

    (o, om, oe), (t, tm, te) = run(ndgrad), run(torch)
    assert om == tm and oe == te
    np.testing.assert_allclose(to_numpy(o), to_numpy(t), rtol=1e-12)


def test_nested_io_function_fails_like_torch():
    def run(lib):
        class F(lib.autograd.NestedIOFunction):
            def forward_extended(self, a, b):
                return a * b, a + b

        x = lib.ones(3, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (_err(lambda: F.apply(x, x)), _err(lambda: F()(x, x)),
                    issubclass(F, lib.autograd.Function))

    assert run(ndgrad) == run(torch)
