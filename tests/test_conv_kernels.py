"""The im2col/col2im kernels behind conv, conv_transpose, unfold and fold, over random strides,
dilations, paddings and groups: values and first- and second-order gradients vs torch."""

import numpy as np
import pytest
import torch

import ndgrad

F, TF = ndgrad.nn.functional, torch.nn.functional


def _pair(a, requires_grad=True):
    return (ndgrad.from_numpy(a.copy()).requires_grad_(requires_grad),
            torch.from_numpy(a.copy()).requires_grad_(requires_grad))


def _configs(nd, count, seed):
    rng = np.random.default_rng(seed)
    while count:
        k = tuple(int(v) for v in rng.integers(1, 4, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        p = tuple(int(v) for v in rng.integers(0, 3, nd))
        size = tuple(int(v) for v in rng.integers(1, 9, nd))
        g = int(rng.choice([1, 2]))
        if all(n + 2 * pi >= di * (ki - 1) + 1 for n, pi, di, ki in zip(size, p, d, k)):
            count -= 1
            yield rng, size, k, s, d, p, g


def _check(outs, tensors, cot):
    n_out, t_out = outs
    np.testing.assert_allclose(n_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-10,
                               atol=1e-10)
    n_in, t_in = tensors
    n_g = ndgrad.autograd.grad(n_out, n_in, ndgrad.from_numpy(cot))
    t_g = torch.autograd.grad(t_out, t_in, torch.from_numpy(cot))
    for a, b in zip(n_g, t_g):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nd", [1, 2])
def test_conv_random_configs_match_torch(nd):
    conv = (F.conv1d, F.conv2d)[nd - 1], (TF.conv1d, TF.conv2d)[nd - 1]
    for rng, size, k, s, d, p, g in _configs(nd, 20, nd):
        x = rng.standard_normal((2, 2 * g) + size)
        w = rng.standard_normal((3 * g, 2) + k)
        b = rng.standard_normal(3 * g)
        (nx, tx), (nw, tw), (nb, tb) = _pair(x), _pair(w), _pair(b)
        outs = [f(xx, ww, bb, stride=s, padding=p, dilation=d, groups=g)
                for f, xx, ww, bb in zip(conv, (nx, tx), (nw, tw), (nb, tb))]
        cot = rng.standard_normal(tuple(outs[1].shape))
        _check(outs, ([nx, nw, nb], [tx, tw, tb]), cot)


@pytest.mark.parametrize("nd", [1, 2])
def test_conv_transpose_random_configs_match_torch(nd):
    conv = ((F.conv_transpose1d, F.conv_transpose2d)[nd - 1],
            (TF.conv_transpose1d, TF.conv_transpose2d)[nd - 1])
    for rng, size, k, s, d, p, g in _configs(nd, 16, 10 + nd):
        out = [(n - 1) * si - 2 * pi + di * (ki - 1) + 1
               for n, si, pi, di, ki in zip(size, s, p, d, k)]
        if min(out) == 0:  # torch: an error or an empty result, depending on its backend
            continue
        if min(out) < 0:  # torch's oneDNN path may raise "could not construct ..." instead
            for f, lib in zip(conv, (ndgrad, torch)):
                with pytest.raises(RuntimeError, match="too small" if lib is ndgrad else None):
                    f(lib.ones((1, 2 * g) + size), lib.ones((2 * g, 3) + k), stride=s, padding=p,
                      dilation=d, groups=g)
            continue
        x = rng.standard_normal((2, 2 * g) + size)
        w = rng.standard_normal((2 * g, 3) + k)
        (nx, tx), (nw, tw) = _pair(x), _pair(w)
        outs = [f(xx, ww, stride=s, padding=p, dilation=d, groups=g)
                for f, xx, ww in zip(conv, (nx, tx), (nw, tw))]
        cot = rng.standard_normal(tuple(outs[1].shape))
        _check(outs, ([nx, nw], [tx, tw]), cot)


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_conv_same_padding_even_kernel_and_strided_input():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 12))
    w = rng.standard_normal((4, 3, 4, 2))
    (nx, tx), (nw, tw) = _pair(x), _pair(w)
    outs = [f(xx[..., ::2], ww, padding="same", dilation=(1, 2))
            for f, xx, ww in ((F.conv2d, nx, nw), (TF.conv2d, tx, tw))]
    _check(outs, ([nx, nw], [tx, tw]), rng.standard_normal(tuple(outs[1].shape)))


def test_conv_double_backward_matches_torch():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 3, 2))
    res = []
    for lib, f in ((ndgrad, F.conv2d), (torch, TF.conv2d)):
        xx = lib.from_numpy(x.copy()).requires_grad_()
        ww = lib.from_numpy(w.copy()).requires_grad_()
        out = f(xx, ww, stride=(2, 1), padding=1, groups=2)
        gx, gw = lib.autograd.grad((out ** 2).sum(), (xx, ww), create_graph=True)
        res.append([t.detach().numpy() for t in lib.autograd.grad((gx * gx).sum() + gw.sum(),
                                                                  (xx, ww))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_unfold_fold_random_configs_match_torch():
    for rng, size, k, s, d, p, _ in _configs(2, 20, 7):
        x = rng.standard_normal((2, 3) + size)
        (nx, tx) = _pair(x)
        outs = [f(xx, k, dilation=d, padding=p, stride=s)
                for f, xx in ((F.unfold, nx), (TF.unfold, tx))]
        _check(outs, ([nx], [tx]), rng.standard_normal(tuple(outs[1].shape)))
        cols = rng.standard_normal(tuple(outs[1].shape))
        (nc, tc) = _pair(cols)
        outs = [f(cc, size, k, dilation=d, padding=p, stride=s)
                for f, cc in ((F.fold, nc), (TF.fold, tc))]
        _check(outs, ([nc], [tc]), rng.standard_normal(tuple(outs[1].shape)))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "complex64", "int64"])
def test_conv_dtypes_match_torch(dtype):
    rng = np.random.default_rng(5)
    x = rng.integers(-3, 4, (2, 3, 6, 6)).astype("float64")
    w = rng.integers(-2, 3, (4, 3, 3, 3)).astype("float64")
    res = []
    for lib, f in ((ndgrad, F.conv2d), (torch, TF.conv2d)):
        dt = getattr(lib, dtype)
        xx, ww = lib.from_numpy(x).to(dt), lib.from_numpy(w).to(dt)
        diff = dtype != "int64"
        if diff:
            xx.requires_grad_(), ww.requires_grad_()
        out = f(xx, ww, stride=2, padding=1)
        grads = lib.autograd.grad(out.abs().sum() if "complex" in dtype else out.sum(),
                                  (xx, ww)) if diff else ()
        res.append([t.detach().to(lib.complex128 if "complex" in dtype else lib.float64).numpy()
                    for t in (out, *grads)] + [str(out.dtype).split(".")[-1]])
    assert res[0][-1] == res[1][-1]
    for a, b in zip(res[0][:-1], res[1][:-1]):
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-2)


def test_conv_empty_batch_and_empty_weight_as_torch():
    for lib, f, ft in ((ndgrad, F.conv2d, F.conv_transpose2d),
                       (torch, TF.conv2d, TF.conv_transpose2d)):
        x = lib.zeros(0, 2, 5, 5, requires_grad=True)
        w = lib.ones(3, 2, 3, 3, requires_grad=True)
        out = f(x, w, lib.ones(3), stride=2)
        out.sum().backward()
        assert tuple(out.shape) == (0, 3, 2, 2) and tuple(x.grad.shape) == (0, 2, 5, 5)
        assert float(w.grad.abs().sum()) == 0
        assert tuple(ft(x, lib.ones(2, 3, 3, 3), stride=2).shape) == (0, 3, 11, 11)
        for fn, xs, ws, g in ((f, (2, 2, 5, 5), (0, 2, 3, 3), 1),
                              (f, (2, 2, 5, 5), (0, 1, 3, 3), 2),
                              (ft, (2, 0, 5, 5), (0, 3, 3, 3), 1)):
            with pytest.raises(RuntimeError, match=r"expected weight to be at least \d at "
                               r"dimension 0, but got weight of size \[0, \d, 3, 3\] instead"):
                fn(lib.zeros(xs), lib.ones(ws), groups=g)
