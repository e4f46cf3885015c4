"""Inputs to kernels whose refusal depends on more than the dtype: convolutions (the plain
kernels refuse bool only, the dilated and transposed ones every integer type but int64; after
the shape checks, as torch's), local_response_norm by rank (avg_pool2d or avg_pool3d
underneath), softmax and what calls it (its kernel's name says whether the dim is the last; no
complex kernel: complex softmax, cross_entropy and sdpa refuse), bernoulli and the dropouts
(no complex kernel; integer probabilities refused), pad's reflect/replicate (no bool kernel;
after the shape checks), embedding/embedding_bag's index and weight types (c10's names). Each
case against torch: the same result dtype, or the same exception type and message."""

from __future__ import annotations

import warnings

import pytest
import torch

import ndgrad

DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool", "complex64", "complex128",
          "float16", "bfloat16", "float32"]


def F(T):
    return T.nn.functional


CASES = {
    "conv1d": (lambda T, a, b: F(T).conv1d(a, b), (1, 2, 4), (3, 2, 2)),
    "conv2d": (lambda T, a, b: F(T).conv2d(a, b, stride=2, padding=1), (1, 2, 4, 4), (3, 2, 2, 2)),
    "conv3d": (lambda T, a, b: F(T).conv3d(a, b), (1, 2, 2, 2, 2), (3, 2, 1, 1, 1)),
    "conv2d dilated": (lambda T, a, b: F(T).conv2d(a, b, dilation=2), (1, 2, 4, 4), (3, 2, 2, 2)),
    "conv3d dilated": (lambda T, a, b: F(T).conv3d(a, b, dilation=2), (1, 2, 3, 3, 3),
                       (3, 2, 2, 2, 2)),
    "conv_transpose1d": (lambda T, a, b: F(T).conv_transpose1d(a, b), (1, 2, 4), (2, 3, 2)),
    "conv_transpose2d": (lambda T, a, b: F(T).conv_transpose2d(a, b, dilation=2), (1, 2, 4, 4),
                         (2, 3, 2, 2)),
    "conv_transpose3d": (lambda T, a, b: F(T).conv_transpose3d(a, b), (1, 2, 2, 2, 2),
                         (2, 3, 1, 1, 1)),
    "torch.conv_transpose1d": (lambda T, a, b: T.conv_transpose1d(a, b), (1, 2, 4), (2, 3, 2)),
    # a shape error comes before the dtype's
    "conv_transpose1d channels": (lambda T, a, b: F(T).conv_transpose1d(a, b), (1, 3, 4),
                                  (2, 3, 2)),
    "local_response_norm 3-d": (lambda T, a, b: F(T).local_response_norm(a, 2), (2, 3, 4), ()),
    "local_response_norm 5-d": (lambda T, a, b: F(T).local_response_norm(a, 2), (1, 2, 2, 2, 2),
                                ()),
    **{f"{f} dim {d}": (lambda T, a, b, f=f, d=d: getattr(F(T), f)(a, d), (2, 3), ())
       for f in ("softmax", "log_softmax", "softmin") for d in (0, 1, -1)},
    "softmax 0-d": (lambda T, a, b: T.softmax(a, 0), (), ()),
    "Tensor.log_softmax": (lambda T, a, b: a.log_softmax(0), (3,), ()),
    "cross_entropy": (lambda T, a, b: F(T).cross_entropy(a, T.tensor([0, 1])), (2, 3), ()),
    "cross_entropy 3-d": (lambda T, a, b: F(T).cross_entropy(a, T.zeros(2, 4, dtype=T.long)),
                          (2, 3, 4), ()),
    "bernoulli": (lambda T, a, b: T.bernoulli(a), (2, 3), ()),
    "bernoulli p": (lambda T, a, b: T.bernoulli(a, 0.5), (2, 3), ()),
    "Tensor.bernoulli_": (lambda T, a, b: a.bernoulli_(0.5), (2, 3), ()),
    "Tensor.bernoulli_ tensor p": (lambda T, a, b: T.ones(2, 3).bernoulli_(a), (2, 3), ()),
    "dropout": (lambda T, a, b: F(T).dropout(a, 0.5), (2, 3), ()),
    "dropout p=0": (lambda T, a, b: F(T).dropout(a, 0.0), (2, 3), ()),
    "dropout2d": (lambda T, a, b: F(T).dropout2d(a, 0.5), (1, 2, 2, 2), ()),
    "alpha_dropout": (lambda T, a, b: F(T).alpha_dropout(a, 0.5, True), (2, 3), ()),
    "feature_alpha_dropout": (lambda T, a, b: F(T).feature_alpha_dropout(a, 0.5, True),
                              (1, 2, 2, 2), ()),
    **{f"pad {m} {n}-d": (lambda T, a, b, m=m, n=n: F(T).pad(a, (1, 1) * n, mode=m),
                          (1, 2, 3, 3, 3)[:n + 2], ())
       for m in ("reflect", "replicate", "circular") for n in (1, 2, 3)},
    "pad reflect too wide": (lambda T, a, b: F(T).pad(a, (3, 3), mode="reflect"), (1, 2, 3), ()),
    "embedding_bag weight": (lambda T, a, b: F(T).embedding_bag(T.tensor([[0, 1]]), a), (3, 4),
                             ()),
    "embedding_bag indices": (lambda T, a, b: F(T).embedding_bag(a, T.ones(3, 4), T.tensor([0])),
                              (2,), ()),
    "embedding indices": (lambda T, a, b: F(T).embedding(a, T.ones(3, 4)), (2,), ()),
    "scaled_dot_product_attention": (
        lambda T, a, b: F(T).scaled_dot_product_attention(a, a, a), (1, 2, 3, 4), ()),
}


def _outcome(T, fn, xs, ws, dt):
    d = getattr(T, dt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(T, T.ones(xs, dtype=d), T.ones(ws, dtype=d))
    except Exception as e:  # noqa: BLE001  (compared with torch's)
        return type(e).__name__, str(e)
    return "ok", str(out.dtype).split(".")[-1]


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_dtypes_as_torch(name):
    fn, xs, ws = CASES[name]
    wrong = [f"{dt}: torch {a}, ndgrad {b}" for dt in DTYPES
             for a, b in [(_outcome(torch, fn, xs, ws, dt), _outcome(ndgrad, fn, xs, ws, dt))]
             if a != b]
    assert not wrong, "\n".join(wrong)
