"""utils.checkpoint saves memory: the arrays a deep MLP's graph keeps alive between forward and
backward, counted with tracemalloc (NumPy reports its buffers to it), shrink with checkpointing
while the gradients stay identical."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import ndgrad
from ndgrad import nn
from ndgrad.utils.checkpoint import checkpoint, checkpoint_sequential

DEPTH, WIDTH, BATCH = 16, 256, 512  # each activation is 512 KiB of float32


def deep_mlp() -> nn.Sequential:
    ndgrad.manual_seed(0)
    return nn.Sequential(*[m for _ in range(DEPTH) for m in (nn.Linear(WIDTH, WIDTH), nn.ReLU())])


def measure(model, x, forward) -> tuple[int, int, list[np.ndarray]]:
    """(bytes held by the graph after forward, peak bytes over forward+backward, gradients)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loss = forward(model, x).pow(2).mean()
        held = tracemalloc.get_traced_memory()[0] - base
        loss.backward()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    grads = [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]
    model.zero_grad(set_to_none=True)
    x.grad = None
    return held, peak, grads


def plain(model, x):
    return model(x)


@pytest.mark.parametrize("segments", [2, 4, 8])
def test_checkpoint_sequential_keeps_fewer_activations(segments):
    model = deep_mlp()
    x = ndgrad.randn(BATCH, WIDTH, requires_grad=True)
    held, peak, grads = measure(model, x, plain)
    held_c, peak_c, grads_c = measure(
        model, x, lambda m, v: checkpoint_sequential(m, segments, v, use_reentrant=True))
    act = BATCH * WIDTH * 4
    # without checkpointing every layer's input stays alive; with it, the segments' inputs and
    # the last (not checkpointed) segment's activations: for 4 segments 3 + 4 of the 16
    assert held >= DEPTH * act
    segment = DEPTH // segments
    assert held_c <= (segments - 1 + DEPTH - segment * (segments - 1) + 1) * act
    assert held_c < 0.6 * held and peak_c < peak
    for g, g_c in zip(grads, grads_c):
        np.testing.assert_array_equal(g, g_c)


def test_checkpointed_block_keeps_only_its_input():
    model = deep_mlp()
    x = ndgrad.randn(BATCH, WIDTH, requires_grad=True)
    held, _, grads = measure(model, x, plain)
    held_c, _, grads_c = measure(model, x,
                                 lambda m, v: checkpoint(m, v, use_reentrant=True))
    assert held_c < 2 * BATCH * WIDTH * 4 < held / 8  # the input and the output, nothing else
    for g, g_c in zip(grads, grads_c):
        np.testing.assert_array_equal(g, g_c)


@pytest.mark.parametrize("reentrant", [True, False])
def test_both_variants_save_memory_and_match_torch_with_dropout(reentrant):
    import torch

    model = deep_mlp()
    x = ndgrad.randn(BATCH, WIDTH, requires_grad=True)
    held, _, grads = measure(model, x, plain)
    held_c, _, grads_c = measure(
        model, x, lambda m, v: checkpoint_sequential(m, 4, v, use_reentrant=reentrant))
    assert held_c < 0.6 * held
    for g, g_c in zip(grads, grads_c):
        np.testing.assert_array_equal(g, g_c)

    def run(lib):  # dropout inside the checkpoint: the rerun must draw the same mask
        lib.manual_seed(0)
        w = lib.ones(6, 6, dtype=lib.float64, requires_grad=True)
        v = lib.arange(12.0, dtype=lib.float64).reshape(2, 6).requires_grad_()
        f = lambda a: lib.nn.functional.dropout(a @ w, 0.5).tanh() * a  # noqa: E731
        lib.utils.checkpoint.checkpoint(f, v, use_reentrant=reentrant).sum().backward()
        return w.grad.numpy(), v.grad.numpy()

    for a, b in zip(run(ndgrad), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
