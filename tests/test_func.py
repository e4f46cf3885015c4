"""torch.autograd.functional and torch.func against torch on several functions."""

from __future__ import annotations

import numpy as np
import pytest
from autograd_compare import same

import ndgrad


def data(lib, *shape, seed=0, dtype="float64"):
    arr = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return lib.tensor(arr)


FUNCS = {
    "poly": lambda x: x ** 3 * x.sum(),
    "trig": lambda x: x.sin() * x.cos().sum() + x.exp(),
    "softmax": lambda x: (x - x.logsumexp(0)).exp(),
    "quadratic": lambda x: x @ (x.reshape(-1, 1) * x),
}
SCALAR = {
    "cubic": lambda x: (x ** 3).sum(),
    "logsumexp": lambda x: x.logsumexp(0) * x[0],
    "rosenbrock": lambda x: ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum(),
}


def F(lib):
    return lib.autograd.functional


@pytest.mark.parametrize("name", FUNCS)
def test_jacobian_vjp_jvp(name):
    fn = FUNCS[name]
    same(lambda lib: F(lib).jacobian(fn, data(lib, 4)), rtol=1e-10)
    same(lambda lib: F(lib).vjp(fn, data(lib, 4), data(lib, 4, seed=1)), rtol=1e-10)
    same(lambda lib: F(lib).jvp(fn, data(lib, 4), data(lib, 4, seed=1)), rtol=1e-10)
    same(lambda lib: F(lib).jacobian(fn, data(lib, 4), vectorize=True), rtol=1e-10)


@pytest.mark.parametrize("name", SCALAR)
def test_hessian_hvp_vhp(name):
    fn = SCALAR[name]
    same(lambda lib: F(lib).hessian(fn, data(lib, 4)), rtol=1e-9)
    same(lambda lib: F(lib).hvp(fn, data(lib, 4), data(lib, 4, seed=1)), rtol=1e-9)
    same(lambda lib: F(lib).vhp(fn, data(lib, 4), data(lib, 4, seed=1)), rtol=1e-9)


def test_several_inputs_and_outputs():
    same(lambda lib: F(lib).jacobian(lambda a, b: (a * b, (a + b).sum()),
                                     (data(lib, 3), data(lib, 3, seed=1))), rtol=1e-10)
    same(lambda lib: F(lib).hessian(lambda a, b: (a * a * b).sum(),
                                    (data(lib, 3), data(lib, 3, seed=1))), rtol=1e-10)
    same(lambda lib: F(lib).hvp(lambda a, b: (a * a * b).sum(),
                                (data(lib, 3), data(lib, 3, seed=1)),
                                (data(lib, 3, seed=2), data(lib, 3, seed=3))), rtol=1e-10)
    same(lambda lib: F(lib).jvp(lambda a: (a * a, a.sum()), data(lib, 3), data(lib, 3, seed=1)),
         rtol=1e-10)
    same(lambda lib: F(lib).jacobian(lambda x: x @ x.T, data(lib, 2, 3)).shape)


def test_create_graph_and_input_requiring_grad():
    def f(lib):
        x = data(lib, 3).requires_grad_()
        jac = F(lib).jacobian(FUNCS["poly"], x, create_graph=True)
        plain = F(lib).jacobian(FUNCS["poly"], x)
        hess = F(lib).hessian(SCALAR["cubic"], x, create_graph=True)
        jac.sum().backward()
        out, v = F(lib).vjp(FUNCS["poly"], x, lib.ones(3, dtype=lib.float64), create_graph=True)
        return jac.requires_grad, plain.requires_grad, hess, x.grad, out, v

    same(f, rtol=1e-10)


@pytest.mark.parametrize("case", ["strict_const", "strict_detached", "strict_unused_input",
                                  "strict_linear_hessian", "v_missing", "v_shape", "v_count",
                                  "hessian_vector", "not_tensor", "forward_mode", "jvp_strict"])
def test_checks_and_messages(case):
    def f(lib):
        x = data(lib, 2)
        ones = lib.ones(2, dtype=lib.float64)
        return {
            "strict_const": lambda: F(lib).jacobian(lambda t: lib.ones(2), x, strict=True),
            "strict_detached": lambda: F(lib).vjp(lambda t: t.detach(), x, ones, strict=True),
            "strict_unused_input": lambda: F(lib).jacobian(lambda a, b: a * 2, (x, x),
                                                           strict=True),
            "strict_linear_hessian": lambda: F(lib).hessian(lambda t: t.sum(), x, strict=True),
            "v_missing": lambda: F(lib).vjp(FUNCS["poly"], x),
            "v_shape": lambda: F(lib).jvp(FUNCS["poly"], x, lib.ones(3, dtype=lib.float64)),
            "v_count": lambda: F(lib).vjp(lambda a, b: a * b, (x, x), (ones, ones, ones)),
            "hessian_vector": lambda: F(lib).hessian(lambda t: t, x),
            "not_tensor": lambda: F(lib).jacobian(lambda t: 3, x),
            "forward_mode": lambda: F(lib).jacobian(FUNCS["poly"], x, strict=True,
                                                    strategy="forward-mode"),
            "jvp_strict": lambda: F(lib).jvp(lambda t: t * 2, x, ones, strict=True),
        }[case]()

    same(f, rtol=1e-10)


def test_non_strict_zero_fill():
    same(lambda lib: F(lib).jacobian(lambda a, b: a * 2, (data(lib, 2), data(lib, 2))))
    same(lambda lib: F(lib).vjp(lambda t: t * 0 + 1, data(lib, 2), lib.ones(2, dtype=lib.float64)))
    same(lambda lib: F(lib).hessian(lambda t: t.sum(), data(lib, 2)))


# --- torch.func ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCALAR)
def test_func_grad_and_nesting(name):
    fn = SCALAR[name]
    same(lambda lib: lib.func.grad(fn)(data(lib, 4)), rtol=1e-10)
    same(lambda lib: lib.func.grad_and_value(fn)(data(lib, 4)), rtol=1e-10)
    same(lambda lib: lib.func.grad(lambda x: lib.func.grad(fn)(x).sum())(data(lib, 4)),
         rtol=1e-9)
    same(lambda lib: lib.func.hessian(fn)(data(lib, 4)), rtol=1e-9)


def test_func_grad_options():
    def loss(w, b, x):
        return ((x @ w + b).tanh() ** 2).mean(), w.sum()

    def f(lib):
        w, b, x = data(lib, 3, 2), data(lib, 2, seed=1), data(lib, 5, 3, seed=2)
        g = lib.func.grad(lambda *a: loss(*a)[0], argnums=(0, 1))(w, b, x)
        ga, aux = lib.func.grad(loss, has_aux=True)(w, b, x)
        gneg = lib.func.grad(lambda *a: loss(*a)[0], argnums=-1)(w, b, x)
        tree = lib.func.grad(lambda p: loss(p["w"], p["b"][0], x)[0])({"w": w, "b": [b]})
        return g, ga, aux, gneg, tree

    same(f, rtol=1e-10)


@pytest.mark.parametrize("case", ["vector_output", "not_tensor", "bad_argnum"])
def test_func_grad_errors(case):
    def f(lib):
        x = data(lib, 3)
        if case == "vector_output":
            lib.func.grad(lambda t: t * 2)(x)
        elif case == "not_tensor":
            lib.func.grad(lambda t: 3.0)(x)
        else:
            lib.func.grad(lambda t: t.sum(), argnums=2)(x)

    same(f)


@pytest.mark.parametrize("name", FUNCS)
def test_func_jacrev(name):
    fn = FUNCS[name]
    same(lambda lib: lib.func.jacrev(fn)(data(lib, 4)), rtol=1e-10)
    same(lambda lib: lib.func.jacfwd(fn)(data(lib, 4)), rtol=1e-10)


def test_func_jacrev_structures():
    def f(lib):
        a, b = data(lib, 3), data(lib, 2, seed=1)
        pair = lib.func.jacrev(lambda u, v: (u * v.sum(), (u ** 2).sum()), argnums=(0, 1))(a, b)
        aux = lib.func.jacrev(lambda u: (u.sin(), u.sum()), has_aux=True)(a)
        tree = lib.func.jacrev(lambda p: p["u"] * p["v"][0])({"u": a, "v": [b[:1]]})
        return pair, aux, tree

    same(f, rtol=1e-10)


def test_func_functional_call():
    def f(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1))
        x = lib.randn(5, 3)
        params = {k: v.detach() * 2 for k, v in model.named_parameters()}
        out = lib.func.functional_call(model, params, (x,))
        same_as_before = model(x)
        g = lib.func.grad(lambda p: lib.func.functional_call(model, p, x).sum())(params)
        partial = lib.func.functional_call(model, {"0.bias": lib.zeros(4)}, x)
        return out, same_as_before, g, partial

    same(f, rtol=1e-5, atol=1e-6)


def test_func_functional_call_strict_and_buffers():
    def f(lib):
        bn = lib.nn.BatchNorm1d(2)
        x = lib.tensor([[1.0, 2.0], [3.0, 5.0]])
        bufs = {"running_mean": lib.ones(2), "running_var": lib.ones(2) * 4}
        bn.eval()
        out = lib.func.functional_call(bn, ({"weight": lib.ones(2) * 3}, bufs), (x,))
        return out, bn.running_mean, bn.weight

    same(f, rtol=1e-6)
    same(lambda lib: lib.func.functional_call(lib.nn.Linear(2, 2), {"weight": lib.ones(2, 2)},
                                              (lib.ones(2),), strict=True))


def test_func_vmap():
    def f(lib):
        x, y = data(lib, 4, 3), data(lib, 3, seed=1)
        a = lib.func.vmap(lambda u, v: u @ v)(x, y.expand(4, 3))
        b = lib.func.vmap(lambda u, v: u * v, in_dims=(0, None))(x, y)
        c = lib.func.vmap(lambda u: (u.sum(), u * 2), out_dims=(0, 1))(x)
        d = lib.func.vmap(lambda u: u.sum(), in_dims=1)(x)
        e = lib.func.vmap(lib.func.vmap(lambda s: s * s))(x)
        return a, b, c, d, e

    same(f, rtol=1e-10)


def test_func_vmap_of_grad_gives_per_sample_gradients():
    def f(lib):
        w, xs, ys = data(lib, 3), data(lib, 6, 3, seed=1), data(lib, 6, seed=2)

        def loss(w, x, y):
            return ((x @ w).tanh() - y) ** 2

        return lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(w, xs, ys)

    same(f, rtol=1e-10)


def test_func_vmap_errors():
    same(lambda lib: lib.func.vmap(lambda u, v: u + v)(data(lib, 2, 3), data(lib, 3, 3)),
         message="Expected all tensors to have the same size in the mapped dimension")
    same(lambda lib: lib.func.vmap(lambda u: 3)(data(lib, 2, 3)), message=False)
    same(lambda lib: lib.func.vmap(lambda u, v: u, in_dims=(0,))(data(lib, 2), data(lib, 2)),
         message=False)


def test_func_grad_matches_autograd_on_an_ndgrad_model():
    model = ndgrad.nn.Linear(3, 2)
    x = ndgrad.randn(4, 3)
    params = dict(model.named_parameters())
    g = ndgrad.func.grad(lambda p: ndgrad.func.functional_call(model, p, x).pow(2).sum())(params)
    model(x).pow(2).sum().backward()
    for k, p in model.named_parameters():
        assert not g[k].requires_grad  # as torch: plain autograd history is not kept
        np.testing.assert_allclose(g[k].numpy(), p.grad.numpy(), rtol=1e-6)
