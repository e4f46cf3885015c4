"""Saved-tensor hooks keep the saved tensor's place in the graph, as torch's: the unpack hook
gives only the data, so a double backward through hooked values (a non-reentrant checkpoint's
recomputed, detached values; offloading hooks) reaches the forward's graph. Against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndgrad


def _grads(lib, fn, hooks):
    g = np.random.default_rng(0)
    x = lib.tensor(g.standard_normal((3, 4)), requires_grad=True)
    w = lib.tensor(g.standard_normal((4, 4)), requires_grad=True)
    with hooks(lib):
        y = fn(lib, x, w)
    gx, gw = lib.autograd.grad(y.sum(), (x, w), create_graph=True)
    h = lib.autograd.grad((gx.sin().sum() + (gw * gw).sum()), (x, w))
    return [t.detach().numpy() if lib is torch else t._data for t in (y, gx, gw, *h)]


def _net(lib, x, w):
    h = (x @ w).tanh() * x.exp()
    return (h.softmax(-1) * h).sigmoid() @ w.t()


def _no_hooks(lib):
    import contextlib
    return contextlib.nullcontext()


def _cloning_hooks(lib):
    return lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t)


def _index_hooks(lib):
    store = []

    def pack(t):
        store.append(t.detach())
        return len(store) - 1
    return lib.autograd.graph.saved_tensors_hooks(pack, lambda i: store[i])


@pytest.mark.parametrize("hooks", [_cloning_hooks, _index_hooks])
def test_double_backward_through_hooked_saved_values_equals_torch_and_no_hooks(hooks):
    want = _grads(torch, _net, hooks)
    got = _grads(ndgrad, _net, hooks)
    plain = _grads(ndgrad, _net, _no_hooks)
    for a, b, c in zip(want, got, plain):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(b, c)


def test_double_backward_through_a_non_reentrant_checkpoint_equals_torch():
    def fn(lib, x, w):
        cp = lib.utils.checkpoint.checkpoint
        return cp(lambda a, b: _net(lib, a, b), x, w, use_reentrant=False)

    for a, b in zip(_grads(torch, fn, _no_hooks), _grads(ndgrad, fn, _no_hooks)):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_a_custom_functions_hooked_saved_output_keeps_its_node():
    def run(lib):
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                r = x.exp()
                ctx.save_for_backward(r)
                return r

            @staticmethod
            def backward(ctx, g):
                r, = ctx.saved_tensors
                return g * r

        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        with _cloning_hooks(lib):
            y = Exp.apply(x)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), x)
        return [t.detach().numpy() if lib is torch else t._data for t in (g, gg)]

    for a, b in zip(run(torch), run(ndgrad)):
        np.testing.assert_allclose(b, a, rtol=1e-12)
