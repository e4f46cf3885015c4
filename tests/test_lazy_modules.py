"""Lazy modules against torch: shapes read from the first input, torch's random initialisation
(the same draws, in the same order), the class they become, state_dict keys, gradients."""

import numpy as np
import pytest
import torch

import ndgrad


def _run(lib, build, shape):
    lib.manual_seed(0)
    m = build(lib.nn)
    before = (type(m).__name__, [repr(p) for p in m.parameters()][:1],
              getattr(m, "has_uninitialized_params", lambda: None)())
    x = lib.tensor(np.random.default_rng(0).normal(size=shape).astype(np.float32))
    y = m(x)
    if y.requires_grad:
        y.pow(2).sum().backward()
    state = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
    grads = [p.grad.numpy().copy() for p in m.parameters()]
    return before, type(m).__name__, y.detach().numpy(), state, grads, lib.rand(2).numpy()


@pytest.mark.parametrize("build,shape", [
    (lambda nn: nn.LazyLinear(5), (3, 7)),
    (lambda nn: nn.LazyLinear(4, bias=False), (2, 3, 6)),
    (lambda nn: nn.LazyConv1d(4, 3, padding=1), (2, 3, 9)),
    (lambda nn: nn.LazyConv2d(6, kernel_size=5, padding=2, groups=2), (2, 4, 8, 8)),
    (lambda nn: nn.LazyConv2d(3, 3), (4, 8, 8)),  # unbatched
    (lambda nn: nn.LazyConv3d(2, 2), (1, 2, 4, 4, 4)),
    (lambda nn: nn.LazyConvTranspose2d(3, 2, stride=2), (1, 4, 3, 3)),
    (lambda nn: nn.LazyConvTranspose1d(2, 3), (2, 5, 4)),
    (lambda nn: nn.LazyBatchNorm1d(), (4, 6)),
    (lambda nn: nn.LazyBatchNorm2d(momentum=0.3), (4, 3, 5, 5)),
    (lambda nn: nn.LazyInstanceNorm1d(), (3, 5, 7)),
    (lambda nn: nn.LazyInstanceNorm2d(affine=False, track_running_stats=False), (2, 3, 4, 4)),
    (lambda nn: nn.Sequential(nn.LazyConv2d(6, 5, padding=2), nn.LazyBatchNorm2d(), nn.Sigmoid(),
                              nn.AvgPool2d(2), nn.Flatten(), nn.LazyLinear(10), nn.ReLU(),
                              nn.LazyLinear(3)), (4, 1, 8, 8)),
])
def test_lazy_module(build, shape):
    ours, ref = _run(ndgrad, build, shape), _run(torch, build, shape)
    assert ours[0] == ref[0] and ours[1] == ref[1]
    np.testing.assert_allclose(ours[2], ref[2], rtol=1e-5, atol=1e-5)
    assert ours[3].keys() == ref[3].keys()
    for k in ref[3]:
        np.testing.assert_allclose(ours[3][k], ref[3][k], rtol=1e-5, atol=1e-6, err_msg=k)
    for a, b in zip(ours[4], ref[4]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ours[5], ref[5])  # the random stream stays in step


def test_uninitialized_parameter():
    for lib in (ndgrad, torch):
        p = lib.nn.parameter.UninitializedParameter()
        assert isinstance(p, lib.nn.Parameter) and repr(p) == "<UninitializedParameter>"
        p.materialize((2, 3))
        assert type(p) is lib.nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad
        b = lib.nn.parameter.UninitializedBuffer()
        b.materialize((4,), dtype=lib.float64)
        assert type(b) is lib.Tensor and b.dtype is lib.float64
        m = lib.nn.LazyLinear(3)
        assert isinstance(m, lib.nn.modules.lazy.LazyModuleMixin) and m.has_uninitialized_params()


def test_wrong_input_rank():
    for lib in (ndgrad, torch):
        with pytest.raises(RuntimeError, match="Expected 3D .unbatched. or 4D .batched. input"):
            lib.nn.LazyConv2d(3, 3)(lib.ones(2, 2))


def test_load_state_dict_into_a_lazy_module(tmp_path):
    """d2l's read-write chapter: a checkpoint loads into a fresh lazy model before any forward."""
    outs = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.LazyLinear(4), lib.nn.ReLU(), lib.nn.LazyBatchNorm1d())
        x = lib.tensor(np.arange(15.0, dtype=np.float32).reshape(3, 5) % 4)
        y = net(x)
        clone = lib.nn.Sequential(lib.nn.LazyLinear(4), lib.nn.ReLU(), lib.nn.LazyBatchNorm1d())
        clone.load_state_dict(net.state_dict())
        assert type(clone[0]).__name__ == "LazyLinear"  # as torch: it changes on first forward
        outs.append((y.detach().numpy(), clone(x).detach().numpy(), type(clone[0]).__name__))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5, atol=1e-6)
    assert outs[0][2] == outs[1][2] == "Linear"
