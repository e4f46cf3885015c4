"""Convolutions, unfold and fold check their parameters as ATen does: the same error (type and
message) for a non-positive stride, groups or dilation, a negative padding, a parameter of the
wrong length, a padding string torch refuses, a window larger than the input."""

import pytest
import torch

import ndgrad

SHAPES = {"conv1d": ((1, 2, 5), (3, 2, 3)), "conv2d": ((1, 2, 4, 4), (3, 2, 3, 3)),
          "conv3d": ((1, 2, 4, 4, 4), (3, 2, 3, 3, 3)), "conv_transpose1d": ((1, 2, 5), (2, 3, 3)),
          "conv_transpose2d": ((1, 2, 4, 4), (2, 3, 3, 3)),
          "conv_transpose3d": ((1, 2, 4, 4, 4), (2, 3, 3, 3, 3))}
PARAMS = [dict(stride=0), dict(stride=-1), dict(padding=-1), dict(dilation=0), dict(groups=0),
          dict(groups=-1), dict(stride=(1, 1, 1, 1)), dict(padding=[1] * 4),
          dict(stride=0, padding=-1), dict(groups=0, stride=0), dict(stride=[2]),
          dict(padding="same", stride=2), dict(padding="full"), dict(padding="same"),
          dict(padding="valid")]


def _outcome(fn):
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - the error is the outcome compared
        return type(e).__name__, str(e)
    return "ok", tuple(out.shape), float(out.sum())


@pytest.mark.parametrize("kw", PARAMS, ids=str)
@pytest.mark.parametrize("fn", SHAPES)
def test_convolution_parameters_as_torch(fn, kw):
    if fn.startswith("conv_transpose") and isinstance(kw.get("padding"), str):
        pytest.skip("the transposed convolutions take no padding string (a TypeError)")
    x, w = SHAPES[fn]
    want = _outcome(lambda: getattr(torch.nn.functional, fn)(torch.ones(*x), torch.ones(*w), **kw))
    got = _outcome(lambda: getattr(ndgrad.nn.functional, fn)(ndgrad.ones(*x), ndgrad.ones(*w),
                                                              **kw))
    assert got == want


@pytest.mark.parametrize("shape,kw", [
    ((1, 2, 2, 2), dict(kernel_size=3)),
    ((1, 2, 4, 4), dict(kernel_size=0, stride=0, padding=-1, dilation=0)),
    ((1, 2, 4, 4), dict(kernel_size=2, stride=0, padding=-1, dilation=0)),
    ((1, 2, 4, 4), dict(kernel_size=2, stride=0, padding=-1)),
    ((1, 2, 4, 4), dict(kernel_size=2, stride=0)),
    ((1, 2, 4, 4), dict(kernel_size=(2, 2, 2))),
    ((2, 4, 4), dict(kernel_size=2, padding=1)),  # unbatched (C, H, W)
], ids=str)
def test_unfold_parameters_as_torch(shape, kw):
    x = torch.arange(float(torch.Size(shape).numel())).reshape(shape)
    want = _outcome(lambda: torch.nn.functional.unfold(x, **kw))
    got = _outcome(lambda: ndgrad.nn.functional.unfold(ndgrad.tensor(x.numpy()), **kw))
    assert got == want


@pytest.mark.parametrize("shape,kw", [
    ((1, 8, 4), dict(output_size=(3, 3), kernel_size=2, stride=0)),
    ((1, 8, 4), dict(output_size=(3, 3), kernel_size=0)),
    ((1, 8, 4), dict(output_size=(3, 3), kernel_size=2, padding=-1)),
    ((1, 8, 4), dict(output_size=(3, 3), kernel_size=2, dilation=0)),
    ((8, 4), dict(output_size=(3, 3), kernel_size=2)),
    ((1, 8, 4), dict(output_size=(1, 1), kernel_size=2)),
], ids=str)
def test_fold_parameters_as_torch(shape, kw):
    want = _outcome(lambda: torch.nn.functional.fold(torch.ones(*shape), **kw))
    got = _outcome(lambda: ndgrad.nn.functional.fold(ndgrad.ones(*shape), **kw))
    assert got == want


def test_unbatched_unfold_gradient_as_torch():
    x = torch.randn(2, 4, 4, dtype=torch.float64, requires_grad=True)
    n = ndgrad.tensor(x.detach().numpy(), requires_grad=True)
    torch.nn.functional.unfold(x, 3, padding=1).pow(2).sum().backward()
    ndgrad.nn.functional.unfold(n, 3, padding=1).pow(2).sum().backward()
    assert ndgrad.allclose(n.grad, ndgrad.tensor(x.grad.numpy()), rtol=1e-12, atol=0)


def _pool_cases():
    for fn, shapes in [("avg_pool1d", [(1, 2, 1), (2, 1)]),
                       ("avg_pool2d", [(1, 2, 1, 1), (2, 1, 1), (1, 2, 1, 3)]),
                       ("avg_pool3d", [(1, 2, 1, 1, 1), (2, 1, 1, 1), (1, 2, 1, 3, 3)]),
                       ("max_pool1d", [(1, 2, 1)]), ("max_pool2d", [(1, 2, 1, 1), (2, 1, 1)]),
                       ("max_pool3d", [(1, 2, 1, 1, 1)]), ("lp_pool1d", [(1, 2, 1)]),
                       ("lp_pool2d", [(1, 2, 1, 1)])]:
        for shape in shapes:
            for kw in [dict(kernel_size=2), dict(kernel_size=2, padding=1),
                       dict(kernel_size=2, ceil_mode=True),
                       dict(kernel_size=3, stride=2, padding=1)]:
                if fn.startswith("lp"):
                    if "padding" in kw:
                        continue
                    kw = dict(kw, norm_type=2)
                yield fn, shape, kw


@pytest.mark.parametrize("fn,shape,kw", list(_pool_cases()), ids=str)
def test_pooling_window_larger_than_input_as_torch(fn, shape, kw):
    # DenseNet's transitions on too small images: torch's RuntimeError, not NumPy's ValueError
    want = _outcome(lambda: getattr(torch.nn.functional, fn)(torch.ones(*shape), **kw))
    got = _outcome(lambda: getattr(ndgrad.nn.functional, fn)(ndgrad.ones(*shape), **kw))
    assert got == want


@pytest.mark.parametrize("shape,size", [((2, 2), 1), ((1, 2, 0, 3), 1), ((2, 2), (1, 1)),
                                        ((5, 1, 2, 2, 3), 1), ((2, 3, 4), (None, 1))], ids=str)
def test_adaptive_avg_pool2d_mean_shortcut_as_torch(shape, size):
    # output 1: torch takes the mean before its rank and size checks
    want = _outcome(lambda: torch.nn.functional.adaptive_avg_pool2d(torch.ones(*shape), size))
    got = _outcome(lambda: ndgrad.nn.functional.adaptive_avg_pool2d(ndgrad.ones(*shape), size))
    assert str(got) == str(want)
