"""The autograd core under composition, against torch: saved outputs keep their graph under
create_graph (0-d results, ops inside bigger graphs), mixed-dtype operands' casts are
differentiated, ops save only what their backward needs, and nodes carry torch's names."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndgrad


def _same(a, b):
    """ndgrad value ``a`` equals torch value ``b``, through tuples; None only where torch has it."""
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if b is None:
        assert a is None
        return
    assert a is not None, f"ndgrad gave None, torch {b}"
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    tol = 1e-5  # float32 values reach float64 results in the mixed-dtype programs
    np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=tol, atol=tol)


def _both(f):
    _same(f(ndgrad), f(torch))


def _hessian_rows(T, fn, x):
    (g,) = T.autograd.grad(fn(T, x), x, create_graph=True)
    return tuple(T.autograd.grad(g[i], x, retain_graph=True, allow_unused=True)[0]
                 for i in range(g.numel()))


UNARY_SAVED_OUTPUT = ["exp", "exp2", "expm1", "tanh", "tan", "sqrt", "rsqrt", "reciprocal",
                      "sigmoid", "erfinv"]


@pytest.mark.parametrize("name", UNARY_SAVED_OUTPUT)
def test_saved_output_of_0d_result_keeps_graph(name):
    """A 0-d result is a NumPy scalar: it must still be known as the output when saved."""
    def f(T):
        x = T.tensor([0.3, 0.4], dtype=T.float64, requires_grad=True)
        return _hessian_rows(T, lambda T, x: getattr(T, name)(x[0] * x[1]), x)
    _both(f)


@pytest.mark.parametrize("name", UNARY_SAVED_OUTPUT)
def test_saved_output_on_0d_leaf(name):
    def f(T):
        x = T.tensor(0.4, dtype=T.float64, requires_grad=True)
        (g,) = T.autograd.grad(getattr(T, name)(x), x, create_graph=True)
        return T.autograd.grad(g, x)
    _both(f)


def test_saved_output_sqrt_of_sum():
    def f(T):
        x = T.tensor([3.0, 4.0], dtype=T.float64, requires_grad=True)
        (g,) = T.autograd.grad((x * x).sum().sqrt(), x, create_graph=True)
        return T.autograd.grad(g[0], x)
    _both(f)


@pytest.mark.parametrize("op", ["mul", "div", "pow", "atan2", "hypot", "logaddexp", "xlogy",
                                "copysign"])
def test_mixed_dtype_operands_second_derivative(op):
    """float32 with a float64 0-d tensor: the casts are recorded, so every order sees them."""
    def f(T):
        a = T.tensor([0.7, 0.9], requires_grad=True)
        b = T.tensor(1.5, dtype=T.float64, requires_grad=True)
        ga, gb = T.autograd.grad(getattr(T, op)(a, b).sum(), [a, b], create_graph=True)
        return T.autograd.grad((ga * ga).sum() + gb * gb, [a, b], allow_unused=True)
    _both(f)


def test_mixed_dtype_issue_reproducer():
    def f(T):
        a = T.tensor([.7, .7], requires_grad=True)
        b = T.tensor(-.5, dtype=T.float64, requires_grad=True)
        ga, gb = T.autograd.grad((a * b).sum(), [a, b], create_graph=True)
        return T.autograd.grad((ga * ga).sum() + gb * gb, [a, b], allow_unused=True)
    _both(f)


@pytest.mark.parametrize("make", [lambda x: x ** 2, lambda x: x.square(), lambda x: x ** 3])
def test_inplace_after_pow_is_not_a_false_version_error(make):
    """pow saves its result only for the exponent's gradient (torch's rule)."""
    def f(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = make(x)
        y += 1
        y.sum().backward()
        return x.grad
    _both(f)


def test_inplace_after_pow_with_tensor_exponent_still_raises():
    for T in (ndgrad, torch):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        e = T.tensor([2.0, 3.0], requires_grad=True)
        y = x ** e
        y += 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


@pytest.mark.parametrize("create_graph", [False, True])
def test_relu_at_nan_keeps_incoming_gradient(create_graph):
    def f(T):
        x = T.tensor([float("nan"), -1.0, 0.0, 2.0], requires_grad=True)
        return T.autograd.grad(T.relu(x).sum(), x, create_graph=create_graph)
    _both(f)


@pytest.mark.parametrize("expr", ["a + a", "a * 2", "a.sum()", "a.exp()", "a[0]", "a.t()",
                                  "a ** 2", "a ** a", "a.sum(0)", "a @ a", "a.relu()"])
def test_node_type_name_is_torch_name(expr):
    names = []
    for T in (ndgrad, torch):
        a = T.ones(2, 2, requires_grad=True)
        fn = eval(expr, {"a": a})
        names.append((type(fn.grad_fn).__name__, fn.grad_fn.name()))
    assert names[0] == names[1]


def test_polar_with_negative_magnitude_first_and_second_order():
    """torch's polar_backward works from the result: a negative magnitude flips the sign."""
    def f(T):
        a = T.tensor([-1.0, 2.0, 0.0], dtype=T.float64, requires_grad=True)
        b = T.tensor([0.5, 1.0, 2.0], dtype=T.float64, requires_grad=True)
        v = T.tensor([1 + 2j, 0.5 - 1j, 2 + 1j], dtype=T.complex128)
        ga, gb = T.autograd.grad(T.polar(a, b), [a, b], v, create_graph=True)
        return (ga, gb) + T.autograd.grad((ga * ga).sum() + (gb ** 3).sum(), [a, b])
    _both(f)


def test_complex_keeps_negative_zero_and_inf():
    for T in (ndgrad, torch):
        z = T.complex(T.tensor([-0.0, float("inf")]), T.tensor([1.0, float("inf")]))
        assert str(z).startswith("tensor([-0.+1.j, inf+infj])")


def test_engine_edges_as_torch_materialized_zeros_retained_graph_and_leaf_nodes():
    """Materialized zeros require grad under create_graph (and have no batch dim when batched),
    a retained gradient keeps its graph under create_graph, AccumulateGrad has no next nodes."""
    import warnings

    import torch

    for lib in (ndgrad, torch):
        x, z = lib.randn(3, requires_grad=True), lib.randn(3, requires_grad=True)
        g = lib.autograd.grad((x ** 2).sum(), [x, z], create_graph=True, materialize_grads=True)
        assert g[1].requires_grad and g[1].grad_fn is None
        x2 = lib.randn(2, 3, requires_grad=True)
        gb = lib.autograd.grad((x2 ** 2).sum(1), [x2, z], lib.eye(2), is_grads_batched=True,
                               materialize_grads=True)
        assert tuple(gb[0].shape) == (2, 2, 3) and tuple(gb[1].shape) == (3,)
        assert (x * 2).grad_fn.next_functions[0][0].next_functions == ()
    # (torch's create_graph warning is once per process: its nodes, CloneBackward0 then
    # AddBackward0, are written out here rather than run, not to consume it)
    x = ndgrad.randn(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (y ** 2).sum().backward(create_graph=True)
        assert y.grad.requires_grad and type(y.grad.grad_fn).__name__ == "CloneBackward0"
        (y ** 2).sum().backward(create_graph=True)
    assert type(y.grad.grad_fn).__name__ == "AddBackward0"
