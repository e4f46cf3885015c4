"""Wrong dtypes to nn kernels: every dtype torch refuses (integers, bool, complex, half) gets
torch's NotImplementedError with its kernel's name (or the error torch raises first), and every
dtype it takes gives the same result type (the _kernel_dtypes table against torch); integer max
pooling with padding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad._kernel_dtypes import KERNELS

DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool", "complex64", "complex128",
          "float16", "bfloat16", "float32"]
SHAPE_1D, SHAPE_2D, SHAPE_3D = (2, 3, 4), (1, 2, 4, 4), (1, 2, 2, 2, 2)


def _call(name):
    """(fn(lib, x), input shape) for a KERNELS name."""
    F = lambda T: T.nn.functional  # noqa: E731
    extra = {
        "prelu": lambda T, x: F(T).prelu(x, T.ones(1, dtype=x.dtype)),
        "threshold": lambda T, x: F(T).threshold(x, 0.5, 0.0),
        "layer_norm": lambda T, x: F(T).layer_norm(x, (4,)),
        "rms_norm": lambda T, x: F(T).rms_norm(x, (4,)),
        "group_norm": lambda T, x: F(T).group_norm(x, 1),
        "batch_norm": lambda T, x: F(T).batch_norm(x, None, None, training=True),
        "mse_loss": lambda T, x: F(T).mse_loss(x, x),
        "smooth_l1_loss": lambda T, x: F(T).smooth_l1_loss(x, x),
        "huber_loss": lambda T, x: F(T).huber_loss(x, x),
        "binary_cross_entropy": lambda T, x: F(T).binary_cross_entropy(x, x),
        "binary_cross_entropy_with_logits":
            lambda T, x: F(T).binary_cross_entropy_with_logits(x, x),
        "nll_loss": lambda T, x: F(T).nll_loss(x[0], T.zeros(3, dtype=T.long)),
        "pdist": lambda T, x: F(T).pdist(x[0]),
        "multilabel_soft_margin_loss": lambda T, x: F(T).multilabel_soft_margin_loss(x, x),
        "gumbel_softmax": lambda T, x: F(T).gumbel_softmax(x),
        "ctc_loss": lambda T, x: F(T).ctc_loss(x, T.tensor([[1, 1]] * 3), [2] * 3, [2] * 3),
        "kl_div": lambda T, x: F(T).kl_div(x, x, reduction="batchmean"),
        "multi_margin_loss": lambda T, x: F(T).multi_margin_loss(x[0], T.tensor([0, 1, 2])),
        "multilabel_margin_loss": lambda T, x: F(T).multilabel_margin_loss(
            x[0], T.tensor([[0, 1, -1, 0]] * 3)),
        "threshold_": lambda T, x: F(T).threshold_(x, 0.5, 0.0),
        "hardtanh": lambda T, x: F(T).hardtanh(x),
        "relu6": lambda T, x: F(T).relu6(x),
    }
    shaped = {
        "local_response_norm": (lambda T, x: F(T).local_response_norm(x, 2), SHAPE_2D),
        "unfold": (lambda T, x: F(T).unfold(x, 2), SHAPE_2D),
        "fold": (lambda T, x: F(T).fold(x, (3, 3), 2), (1, 8, 4)),
        "grid_sample": (lambda T, x: (F(T).grid_sample(x, T.zeros(1, 2, 2, 2), align_corners=False),
                                      F(T).grid_sample(x[None], T.zeros(1, 1, 2, 2, 3),
                                                       align_corners=False)), SHAPE_2D),
        "fractional_max_pool2d": (lambda T, x: F(T).fractional_max_pool2d(x, 2, output_size=2),
                                  SHAPE_2D),
        "fractional_max_pool3d": (lambda T, x: F(T).fractional_max_pool3d(x, 1, output_size=1),
                                  SHAPE_3D),
        "max_unpool1d": (lambda T, x: F(T).max_unpool1d(x, T.zeros(x.shape, dtype=T.long), 2),
                         SHAPE_1D),
        "max_unpool2d": (lambda T, x: F(T).max_unpool2d(x, T.zeros(x.shape, dtype=T.long), 2),
                         SHAPE_2D),
        "max_unpool3d": (lambda T, x: F(T).max_unpool3d(x, T.zeros(x.shape, dtype=T.long), 2),
                         SHAPE_3D),
        "lp_pool1d": (lambda T, x: F(T).lp_pool1d(x, 2, 2), SHAPE_1D),
        "lp_pool2d": (lambda T, x: F(T).lp_pool2d(x, 2, 2), SHAPE_2D),
        "lp_pool3d": (lambda T, x: F(T).lp_pool3d(x, 2, 2), SHAPE_3D),
    }
    if name in shaped:
        return shaped[name]
    if name in extra:
        return extra[name], SHAPE_1D
    if "pool" in name:
        shape = SHAPE_3D if "3d" in name else SHAPE_2D if "2d" in name else SHAPE_1D
        arg = 2 if "adaptive" in name or "3d" not in name else 1
        return lambda T, x: getattr(F(T), name)(x, arg), shape
    return lambda T, x: getattr(F(T), name)(x), SHAPE_1D


def _make(lib, shape, dt):
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 5 - 2).astype("float32")
    if dt == "bool":
        return lib.from_numpy(a > 0)
    if dt == "bfloat16":
        return lib.from_numpy(a).to(lib.bfloat16)
    return lib.from_numpy(a.astype(dt))


def _outcome(lib, fn, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(lib, x)
        except Exception as e:  # noqa: BLE001  (compared with torch's)
            return type(e).__name__, str(e)
    out = out[0] if isinstance(out, tuple) else out
    return "ok", str(out.dtype).split(".")[-1]


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_nn_kernels_refuse_the_dtypes_torch_refuses(name):
    fn, shape = _call(name)
    wrong = []
    for dt in DTYPES:
        want = _outcome(torch, fn, _make(torch, shape, dt))
        got = _outcome(ndgrad, fn, _make(ndgrad, shape, dt))
        refused = KERNELS[name][1]
        refused = dt in (refused(_make(ndgrad, shape, dt)) if callable(refused) else refused)
        if refused and (want[0] == "ok" or got != want):
            wrong.append(f"{dt}: torch {want}, ndgrad {got}")
        elif not refused and want[0] == "ok" and got != want:
            wrong.append(f"{dt}: torch {want}, ndgrad {got}")
    assert not wrong, "\n".join(wrong)


def test_the_gate_covers_the_top_level_spellings():
    x = ndgrad.ones(2, 3, 4, dtype=ndgrad.int64)
    for name in ("selu", "celu", "layer_norm", "group_norm", "batch_norm", "rrelu"):
        if hasattr(ndgrad, name):
            with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
                args = {"layer_norm": ((4,),), "group_norm": (1,),
                        "batch_norm": (None, None, None, None, True, 0.1, 1e-5, False)}
                getattr(ndgrad, name)(x, *args.get(name, ()))


@pytest.mark.parametrize("dt", ["int64", "int32", "int16", "int8", "uint8"])
def test_integer_max_pooling_with_padding_matches_torch(dt):
    """Padding is below every value (it was -inf: OverflowError for integers), and never wins
    a tie with an input's minimum (uint8 zeros)."""
    for lib_pair in [(torch, ndgrad)]:
        outs = []
        for lib in lib_pair:
            x = lib.from_numpy((np.arange(32).reshape(1, 2, 4, 4) % 7).astype(dt))
            a = lib.nn.functional.max_pool2d(x, 2, padding=1)
            b, i = lib.nn.functional.max_pool2d(x, 3, 1, padding=1, return_indices=True)
            c, j = lib.nn.functional.max_pool1d(x[0], 2, padding=1, return_indices=True)
            d = lib.nn.functional.max_pool3d(x, 2, padding=1)
            outs.append([np.asarray(t) for t in (a, b, i, c, j, d)] + [str(a.dtype)[-5:]])
        for u, v in zip(*outs):
            np.testing.assert_array_equal(u, v)
