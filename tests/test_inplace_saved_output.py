"""A node that saved its output (exp, sigmoid, tanh, relu, sqrt...) raises torch's error when that
output is modified later, also when the op itself ran in place (exp_ writes into y, whose value
the node saved): same exception, same message as torch, and the same gradients when nothing is
modified."""

import numpy as np
import pytest
import torch

import ndgrad

# (name, program): each program builds a graph, may write into a saved output, then backward
PROGRAMS = {
    "exp_then_mul_": lambda T, y: (y.exp_(), y.mul_(2), y),
    "exp_saved_by_mul": lambda T, y: (y.exp_(), (w := y * 1), y.mul_(2), w),
    "sigmoid_then_add_": lambda T, y: (y.sigmoid_(), y.add_(1), y),
    "tanh_then_add_": lambda T, y: (y.tanh_(), y.add_(1), y),
    "relu_then_add_": lambda T, y: (y.relu_(), y.add_(1), y),
    "sqrt_then_add_": lambda T, y: (y.sqrt_(), y.add_(1), y),
    "rsqrt_then_add_": lambda T, y: (y.rsqrt_(), y.add_(1), y),
    "reciprocal_then_add_": lambda T, y: (y.reciprocal_(), y.add_(1), y),
    "exp_twice_in_place": lambda T, y: (y.exp_(), y.exp_(), y),
    "functional_relu_inplace": lambda T, y: (T.nn.functional.relu(y, inplace=True), y.add_(1), y),
    "exp_then_view_written": lambda T, y: (y.exp_(), y[0:2].mul_(2), y),
    "out_of_place_exp_then_exp_": lambda T, y: ((z := y.exp()), z.exp_(), z),
    "out_of_place_sigmoid_then_iadd": lambda T, y: ((z := y.sigmoid()), z.add_(1), z),
    # nothing saved is modified: no error, torch's gradients
    "exp_alone": lambda T, y: (y.exp_(), y),
    "sigmoid_then_mul": lambda T, y: (y.sigmoid_(), y * 2),
    "pow_then_add_": lambda T, y: (y.pow_(2), y.add_(1), y),  # pow saves its input, not output
    "exp_then_clone_written": lambda T, y: (y.exp_(), (c := y.clone()), c.mul_(2), c * y),
    # in place, torch's elu/celu/leaky_relu/rrelu nodes (...Backward1) keep their result
    "elu_then_add_": lambda T, y: (T.nn.functional.elu(y, inplace=True), y.add_(1), y),
    "selu_then_mul_": lambda T, y: (T.nn.functional.selu_(y), y.mul_(2), y),
    "celu_then_row_written": lambda T, y: (T.nn.functional.celu_(y, 0.5), y[1:].zero_(), y),
    "leaky_relu_then_add_": lambda T, y: (T.nn.functional.leaky_relu_(y, 0.2), y.add_(1), y),
    "rrelu_then_add_": lambda T, y: (T.nn.functional.rrelu_(y), y.add_(1), y),
    "elu_alone": lambda T, y: (T.nn.functional.elu_(y.sub_(1)), y * y),
    "elu_then_threshold_": lambda T, y: (T.nn.functional.elu_(y), T.nn.functional.threshold_(
        y * 1, 0.7, 0.0)),
}


def _run(lib, program):
    x = lib.tensor(np.array([0.5, 1.0, 2.0], dtype=np.float32), requires_grad=True)
    out = program(lib, x * 1)[-1]
    try:
        out.sum().backward()
    except RuntimeError as e:
        return "error", str(e)
    return "grad", x.grad.numpy().copy()


def _message(text: str) -> str:
    return text.replace("torch.autograd.set_detect_anomaly", "ndgrad.autograd.set_detect_anomaly")


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_saved_output_modified_in_place(name):
    theirs, ours = _run(torch, PROGRAMS[name]), _run(ndgrad, PROGRAMS[name])
    assert ours[0] == theirs[0], (ours, theirs)
    if theirs[0] == "error":
        assert ours[1] == _message(theirs[1])
    else:
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


def _view_program(lib, keep_view: bool):
    x = lib.tensor(np.array([[0.5, 1.0, 2.0]], dtype=np.float32), requires_grad=True)
    y = x * 1
    v = y[0]
    v.exp_()  # in place through a view: torch names the view's node while the view lives
    if not keep_view:
        del v
    y.add_(1)
    y.sum().backward()


@pytest.mark.parametrize("keep_view", [True, False])
def test_written_through_a_view_names_the_view_node(keep_view):
    with pytest.raises(RuntimeError) as theirs:
        _view_program(torch, keep_view)
    with pytest.raises(RuntimeError) as ours:
        _view_program(ndgrad, keep_view)
    assert ("output 0 of AsStrided," if keep_view else "output 0 of Exp,") in str(theirs.value)
    assert str(ours.value) == _message(str(theirs.value))


def _double_backward(lib):
    x = lib.tensor(np.array([0.5, 1.0, 2.0], dtype=np.float64), requires_grad=True)
    y = x * 1
    y.sigmoid_()
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    return g.detach().numpy(), gg.numpy()


def test_second_order_through_an_in_place_saved_output():
    for a, b in zip(_double_backward(ndgrad), _double_backward(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
