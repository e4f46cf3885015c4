"""Names and behaviours public programs needed (pytorch/examples, minGPT, tutorials...), each a
short snippet of its own checked against torch."""

from collections import deque

import numpy as np
import pytest
import torch

import ndgrad


def _same(fn):
    ours, ref = fn(ndgrad), fn(torch)
    assert str(ours.dtype).rpartition(".")[2] == str(ref.dtype).rpartition(".")[2]
    assert tuple(ours.shape) == tuple(ref.shape)
    # (to the last bits: NumPy 1.x's float64 exp differs from 2.x's in the last one)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(deque([1.0, 2.5, -3.0])),  # reinforce.py: torch.tensor(returns)
    lambda lib: lib.tensor(deque([1, 2])),
    lambda lib: lib.tensor([deque([1, 2]), deque([3, 4])]),
    lambda lib: lib.tensor(deque([lib.tensor(1.0), lib.tensor(2.0)])),
])
def test_tensor_from_a_deque(make):
    _same(make)


# torch's argument parser takes NumPy's spellings: dim=axis, keepdim=keepdims, input=x/a/x1,
# other=x2 (labml_nn's capsule networks: (s ** 2).sum(dim=-1, keepdims=True))
@pytest.mark.parametrize("call", [
    lambda lib, t: lib.sum(t, axis=0, keepdims=True),
    lambda lib, t: lib.mean(t, 1, keepdims=True),
    lambda lib, t: lib.cat([t, t], axis=1),
    lambda lib, t: lib.stack([t, t], axis=1),
    lambda lib, t: lib.amax(t, axis=-1, keepdims=True),
    lambda lib, t: lib.max(t, axis=0).values,
    lambda lib, t: lib.argmax(t, axis=1, keepdims=True),
    lambda lib, t: lib.all(t > 0, axis=0),
    lambda lib, t: lib.count_nonzero(t, axis=0),
    lambda lib, t: lib.gather(t, axis=0, index=lib.tensor([[0, 1, 1]])),
    lambda lib, t: lib.linalg.norm(t, axis=0),
    lambda lib, t: lib.abs(a=t),
    lambda lib, t: lib.add(x=t, other=t),
    lambda lib, t: lib.sub(t, x2=t * 2),
    lambda lib, t: lib.softmax(t, axis=0),
])
def test_numpy_spellings(call):
    arr = np.arange(6.0).reshape(2, 3) - 2
    _same(lambda lib: call(lib, lib.tensor(arr)))


@pytest.mark.parametrize("call", [
    lambda lib, t: lib.sum(t, axis=0, dim=1),  # both spellings: torch's error, not a retry
    lambda lib, t: lib.sum(t, axes=0),
    lambda lib, t: lib.nn.functional.softmax(t, axis=0),  # Python in torch: no aliases
])
def test_numpy_spellings_errors(call):
    for lib in (torch, ndgrad):
        with pytest.raises(TypeError):
            call(lib, lib.ones(2, 2))


def test_pinned_memory_and_cuda_index_without_an_accelerator_as_torch():
    import ndgrad._backend as B

    if B.cuda_available():
        pytest.skip("an accelerator is present")
    for lib in (torch, ndgrad):
        t = lib.ones(2)
        assert t.is_pinned() is False
        for call in (t.pin_memory, lambda: t.cuda(1)):
            with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
                call()


# Tensor methods too (torch's native ones; its Python ones, split/norm/unique..., do not)
@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=0),
    lambda t: t.mean(axis=1, keepdims=True),
    lambda t: t.sum(1, keepdims=True),
    lambda t: t.max(axis=0).values,
    lambda t: t.min(axis=1, keepdims=True).indices,
    lambda t: t.argmax(axis=1),
    lambda t: t.std(axis=0, keepdims=True),
    lambda t: t.var(axis=1),
    lambda t: t.softmax(axis=0),
    lambda t: t.log_softmax(axis=1),
    lambda t: t.cumsum(axis=0),
    lambda t: t.logsumexp(axis=1, keepdims=True),
    lambda t: t.unsqueeze(axis=0),
    lambda t: t.squeeze(axis=0),
    lambda t: t.amax(axis=(0, 1), keepdims=True),
    lambda t: t.gather(axis=1, index=t.new_tensor([[0], [2]]).long()),
    lambda t: t.index_select(axis=1, index=t.new_tensor([2, 0]).long()),
    lambda t: t.sort(axis=0, descending=True).values,
])
def test_numpy_spellings_on_methods(call):
    arr = np.arange(6.0).reshape(2, 3) - 2
    _same(lambda lib: call(lib.tensor(arr)))


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=0, dim=1),
    lambda t: t.split(1, axis=0),
    lambda t: t.norm(axis=0),
    lambda t: t.sum(axes=0),
])
def test_numpy_spellings_on_methods_errors(call):
    for lib in (torch, ndgrad):
        with pytest.raises(TypeError):
            call(lib.ones(2, 2))


@pytest.mark.parametrize("create_graph", [False, True])
def test_tanh_backward_rounds_once_in_float32_as_torch(create_graph):
    # torch's tanh_backward is g * (1 - y * y) with the product fused (an FMA): makemore's
    # backprop lecture prints whether manual gradients equal autograd's bit for bit
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20000, generator=g) * 2
    gy = torch.randn(20000, generator=g)
    keep = torch.from_numpy(ndgrad.tensor(x.numpy()).tanh().numpy()) == x.tanh()  # same forward
    x, gy = x[keep], gy[keep]
    xt = x.clone().requires_grad_()
    (want,) = torch.autograd.grad(xt.tanh(), xt, gy, create_graph=create_graph)
    xn = ndgrad.tensor(x.numpy(), requires_grad=True)
    (got,) = ndgrad.autograd.grad(xn.tanh(), xn, ndgrad.tensor(gy.numpy()),
                                  create_graph=create_graph)
    assert np.array_equal(got.detach().numpy(), want.detach().numpy())
    plain = gy.numpy() * (1 - xt.tanh().detach().numpy() ** 2)
    assert not np.array_equal(plain, want.detach().numpy())  # (what two roundings give)
    if create_graph:  # the second derivative is still d(g * (1 - y * y))
        (h_want,) = torch.autograd.grad(want.sum(), xt)
        (h_got,) = ndgrad.autograd.grad(got.sum(), xn)
        np.testing.assert_allclose(h_got.numpy(), h_want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("draw", [
    lambda lib: lib.poisson(lib.tensor([0.5, 3.0, 9.9, 10.0, 25.0, 100.0, 0.0, 1e4])),
    lambda lib: lib.poisson(lib.rand(500, dtype=lib.float64) * 30),
    lambda lib: lib.binomial(lib.full((3, 6), 10.0), lib.full((3, 6), 0.2)),  # inversion
    lambda lib: lib.binomial(lib.randint(0, 200, (800,)).float(), lib.rand(800)),  # and BTRS
    lambda lib: lib.binomial(lib.randint(0, 20000, (500,)).double(),
                             lib.rand(500, dtype=lib.float64)),
    lambda lib: lib.distributions.Binomial(10, 0.2).sample((10, 10)),  # d2l's distributions
    lambda lib: lib.distributions.Poisson(lib.tensor([4.0, 40.0])).sample((10,)),
    lambda lib: lib.poisson(lib.rand(5) * 20, generator=lib.Generator().manual_seed(5)),
    # gamma: uniforms and Box-Muller normals (whose second value the generator keeps)
    lambda lib: lib.distributions.Gamma(lib.tensor([0.5, 1.0, 2.0, 9.9, 0.01, 100.0]),
                                        lib.tensor(2.0)).sample((30,)),
    lambda lib: lib.distributions.Gamma(lib.rand(300, dtype=lib.float64) * 5, 1.0).sample(),
    lambda lib: lib.distributions.Beta(lib.tensor([0.5]), lib.tensor([2.0])).sample((50,)),
    lambda lib: lib.distributions.Dirichlet(lib.tensor([0.5, 1.0, 3.0])).sample((50,)),
    lambda lib: lib.distributions.StudentT(lib.tensor([3.0])).sample((20,)),
    lambda lib: lib.distributions.NegativeBinomial(5, 0.3).sample((20,)),
])
@pytest.mark.parametrize("cached_normal", [False, True])
def test_samplers_draw_torchs_stream(draw, cached_normal):
    def run(lib):
        lib.manual_seed(3)
        if cached_normal:
            lib.randn(1, dtype=lib.float64)  # leaves the second Box-Muller value for the next
        # and the generator is left where torch's is, cached normal included
        return draw(lib), lib.cat([lib.rand(3, dtype=lib.float64), lib.randn(3, dtype=lib.float64)])

    (ours, after), (ref, ref_after) = run(ndgrad), run(torch)
    _same(lambda lib: ours if lib is ndgrad else ref)
    assert after.tolist() == ref_after.tolist()


def test_poisson_errors_as_torch():
    for lib in (torch, ndgrad):
        with pytest.raises(RuntimeError, match="expected rate to be non-negative"):
            lib.poisson(lib.tensor([-1.0]))
        with pytest.raises(NotImplementedError, match="poisson_cpu"):
            lib.poisson(lib.tensor([1]))


@pytest.mark.parametrize("make", [  # pytorch/examples' gat: nn.Parameter(torch.empty(size=(a, b)))
    lambda lib: lib.empty(size=(2, 3)).fill_(1.5),
    lambda lib: lib.zeros(size=[2], dtype=lib.float64),
    lambda lib: lib.ones(size=(1, 2)),
    lambda lib: lib.ones(2).new_zeros(size=(2, 3)),
    lambda lib: lib.ones(2, dtype=lib.int64).new_ones(size=(3,)),
    lambda lib: lib.ones(2).new_empty(size=(2,)).fill_(2),
])
def test_factories_take_size_as_a_keyword(make):
    _same(make)


def test_factories_size_keyword_errors():
    for lib in (torch, ndgrad):
        for call in (lambda: lib.zeros(2, size=(2,)), lambda: lib.zeros(sizes=(2,))):
            with pytest.raises(TypeError):
                call()


@pytest.mark.parametrize("shape", [(16, 1000, 2, 2), (3, 5, 4, 4), (128, 832, 2, 2)])
def test_max_pool_with_padding_on_many_windows(shape):
    # d2l's GoogLeNet at 28x28: MaxPool2d(3, 2, 1) on (128, 832, 2, 2) took wrong maxima (NumPy
    # 2.4's unravel_index on an index array of over 8192 elements that is not 1-D)
    x = np.random.RandomState(0).rand(*shape).astype(np.float32)

    def pool(lib):
        t = lib.tensor(x, requires_grad=True)
        out, idx = lib.nn.functional.max_pool2d(t, 3, 2, 1, return_indices=True)
        (g,) = lib.autograd.grad(out.sum(), t)
        return lib.cat([out.reshape(-1), idx.reshape(-1).float(), g.reshape(-1)])

    _same(pool)
