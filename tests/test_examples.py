"""The course exercises (ndgrad.examples.exercises) are right, and the same code gives the same
numbers when it imports real torch instead of ndgrad."""

from __future__ import annotations

import pathlib
import types

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad.examples import exercises

SOURCE = pathlib.Path(exercises.__file__).read_text()


def load(lib) -> types.ModuleType:
    """The exercises module with ``torch`` bound to ``lib``."""
    if lib is ndgrad:
        return exercises
    assert "import ndgrad as torch\n" in SOURCE
    mod = types.ModuleType("exercises_torch")
    exec(compile(SOURCE.replace("import ndgrad as torch\n", "import torch\n"), "exercises_torch",
                 "exec"), mod.__dict__)
    return mod


def both(fn):
    """fn(lib, module) for ndgrad and torch, each after manual_seed(0): (ndgrad's, torch's)."""
    out = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        out.append(fn(lib, load(lib)))
    return out


def test_power_method_finds_the_top_eigenvalue():
    def run(lib, ex):
        X = lib.randn(10, 10)
        A = lib.matmul(X, X.T)
        return ex.power_method(A, k=100), max(lib.linalg.eigvals(A).real), ex.power_method(A, 20)

    (ours, top, short), (theirs, top_t, short_t) = both(run)
    assert isinstance(ours, ndgrad.Tensor) and ours.dim() == 0 and ours.dtype == ndgrad.float32
    np.testing.assert_allclose(ours.item(), top.item(), rtol=1e-5)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    np.testing.assert_allclose(short.item(), short_t.item(), rtol=1e-5)
    assert repr(top) == repr(top_t) and repr(ours) == repr(theirs)  # e.g. tensor(31.8309)


@pytest.mark.parametrize("shape,r", [((8, 6), 2), ((5, 9), 1), ((6, 6), 6), ((4, 7), 3)])
def test_best_rank_approximation_is_eckart_young(shape, r):
    def run(lib, ex):
        A = lib.randn(*shape, dtype=lib.float64)
        Ar = ex.best_rank_approximation(A, r)
        S = lib.linalg.svdvals(A)
        return (Ar, lib.linalg.matrix_rank(Ar).item(), lib.linalg.norm(A - Ar, "fro") ** 2,
                S[r:].pow(2).sum())

    (Ar, rank, err, tail), (Ar_t, rank_t, _, _) = both(run)
    assert rank == rank_t == min(r, *shape)
    np.testing.assert_allclose(err.item(), tail.item(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(Ar.numpy(), Ar_t.numpy(), rtol=1e-9, atol=1e-12)


def test_gradient_descent_on_the_sigmoid_net_matches_torch_step_by_step():
    def run(lib, ex):
        x = lib.randn(64, 3)
        y = lib.sin(x.sum(1))
        params, losses = ex.train_sigmoid_net(x, y, steps=60)
        return [p.detach().numpy().copy() for p in params], losses, params

    (params, losses, raw), (params_t, losses_t, _) = both(run)
    np.testing.assert_allclose(losses, losses_t, rtol=1e-4)
    for p, q in zip(params, params_t):
        np.testing.assert_allclose(p, q, rtol=1e-3, atol=1e-5)
    assert losses[-1] < 0.8 * losses[0]
    assert all(p.is_leaf and p.requires_grad and not p.grad.abs().sum() for p in raw)


def test_sigmoid_net_gradient_is_right():
    x = ndgrad.randn(5, 3, dtype=ndgrad.float64)
    y = ndgrad.randn(5, dtype=ndgrad.float64)
    params = [ndgrad.randn(4, 3, dtype=ndgrad.float64, requires_grad=True),
              ndgrad.randn(4, dtype=ndgrad.float64, requires_grad=True),
              ndgrad.randn(4, dtype=ndgrad.float64, requires_grad=True),
              ndgrad.randn((), dtype=ndgrad.float64, requires_grad=True)]
    assert ndgrad.autograd.gradcheck(lambda *p: exercises.sigmoid_net_loss(list(p), x, y), params)


def test_main_runs(capsys):
    exercises.main()
    out = capsys.readouterr().out
    assert "power method: tensor(" in out and "rank: 2" in out and " -> " in out


@pytest.mark.parametrize("mistake", ["update_outside_no_grad", "rebinding_makes_non_leaf",
                                     "zero_before_backward", "forgot_zero_accumulates"])
def test_typical_gradient_descent_mistakes_fail_like_torch(mistake):
    from autograd_compare import same

    def f(lib):
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        x = lib.tensor([0.5, 1.5])

        def loss():
            return (lib.sigmoid(w @ x) - 1) ** 2

        if mistake == "update_outside_no_grad":
            loss().backward()
            w -= 0.1 * w.grad
        elif mistake == "rebinding_makes_non_leaf":
            loss().backward()
            w = w - 0.1 * w.grad
            loss().backward()
            w.grad.zero_()
        elif mistake == "zero_before_backward":
            w.grad.zero_()
        else:
            for _ in range(2):
                loss().backward()
                with lib.no_grad():
                    w -= 0.1 * w.grad
            return w, w.grad

    same(f)
