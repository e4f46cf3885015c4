"""Bad inputs to torch.* functions that ndgrad computed or failed on with NumPy's errors: each
call against torch, the same result (dtype and shape) or the same exception type and message.
Complex/bool where torch's kernels have no code (unique, unique_consecutive, searchsorted and
bucketize by the promoted dtype), tensor_split's index tensor (long, at most 1-d), bernoulli's
probabilities outside [0, 1] or nan, normal's complex std, the in-place activations' kernels,
arange of a complex dtype, the batched matrix products, mvlgamma, topk/kthvalue and round as
functions and Tensor methods."""

from __future__ import annotations

import warnings

import pytest
import torch

import ndgrad


def F(T):
    return T.nn.functional


def _t(T, dt, shape=(2, 3)):
    return T.ones(shape, dtype=getattr(T, dt))


CASES = {
    "unique complex": lambda T: T.unique(_t(T, "complex64")),
    "unique dim complex": lambda T: T.unique(_t(T, "complex64"), dim=0),
    "unique_consecutive complex": lambda T: T.unique_consecutive(_t(T, "complex128")),
    "unique bfloat16": lambda T: T.unique(_t(T, "bfloat16")),
    "searchsorted bool": lambda T: T.searchsorted(_t(T, "bool", (3,)), True),
    "searchsorted bool and float": lambda T: T.searchsorted(_t(T, "bool", (3,)), T.ones(2)),
    "searchsorted long and bool": lambda T: T.searchsorted(_t(T, "int64", (3,)),
                                                           _t(T, "bool", (2,))),
    "searchsorted complex": lambda T: T.searchsorted(_t(T, "complex64", (3,)),
                                                     _t(T, "complex64", (2,))),
    "bucketize bool": lambda T: T.bucketize(True, _t(T, "bool", (3,))),
    "tensor_split 2-d indices": lambda T: T.tensor_split(T.arange(6.0), T.ones(2, 2).long()),
    "tensor_split int32 indices": lambda T: T.tensor_split(T.arange(6.0),
                                                           T.tensor([1, 2], dtype=T.int32)),
    "tensor_split float sections": lambda T: T.tensor_split(T.arange(6.0), T.tensor(2.0)),
    "tensor_split long indices": lambda T: T.tensor_split(T.arange(6.0), T.tensor([1, 4])),
    **{f"{name} {dt}": (lambda T, name=name, dt=dt: {
        "cross": lambda a: T.cross(a, a, dim=0), "linalg.cross": lambda a: T.linalg.cross(a, a),
        "Tensor.cross": lambda a: a.cross(a, dim=0),
        "cross bool-float": lambda a: T.linalg.cross(a, T.ones(3))}[name](_t(T, dt, (3,))))
       for name in ("cross", "linalg.cross", "Tensor.cross", "cross bool-float")
       for dt in ("bool", "int64", "complex64")},
    **{f"{name} {dt}": (lambda T, name=name, dt=dt: {
        "addbmm": lambda x: T.addbmm(x[0, :, :3], x, x.mT),
        "Tensor.addbmm_": lambda x: x[0, :, :3].clone().addbmm_(x, x.mT),
        "baddbmm": lambda x: T.baddbmm(x[:, :, :3], x, x.mT),
        "Tensor.baddbmm_": lambda x: x[:, :, :3].clone().baddbmm_(x, x.mT),
        "mvlgamma": lambda x: T.mvlgamma(x + 3, 2),
        "Tensor.mvlgamma": lambda x: (x + 3).mvlgamma(2),
        "special.multigammaln": lambda x: T.special.multigammaln(x + 3, 2),
        "Tensor.topk": lambda x: x.topk(1)[0],
        "Tensor.kthvalue": lambda x: x.kthvalue(1)[0],
        "round decimals": lambda x: T.round(x, decimals=1),
        "round": lambda x: T.round(x)}[name](_t(T, dt, (2, 3, 4))))
       for name in ("addbmm", "Tensor.addbmm_", "baddbmm", "Tensor.baddbmm_", "mvlgamma",
                    "Tensor.mvlgamma", "special.multigammaln", "Tensor.topk", "Tensor.kthvalue",
                    "round decimals", "round")
       for dt in ("bool", "int64", "complex64", "float16", "float32")},
    "arange complex": lambda T: T.arange(0, 3, dtype=T.complex64),
    "arange complex128 end only": lambda T: T.arange(3, dtype=T.complex128),
    "bernoulli p > 1": lambda T: T.bernoulli(T.tensor([0.5, 2.0])),
    "bernoulli p nan": lambda T: T.bernoulli(T.tensor([0.5, float("nan")])),
    "bernoulli_ p < 0": lambda T: T.ones(2).bernoulli_(T.tensor([0.5, -1.0])),
    "bernoulli p in [0, 1]": lambda T: T.bernoulli(T.tensor([0.0, 1.0])),
    "normal complex std": lambda T: T.normal(T.ones(2), _t(T, "complex64", (2,))),
    "normal scalar mean complex std": lambda T: T.normal(0.0, _t(T, "complex64", (2,))),
    **{f"{ns} {name} {dt}": (lambda T, ns=ns, name=name, dt=dt: getattr(
        T if ns == "torch" else F(T), name)(_t(T, dt)))
       for ns, name in [("torch", "selu_"), ("torch", "celu_"), ("torch", "rrelu_"),
                        ("F", "elu_"), ("F", "leaky_relu_"), ("F", "hardtanh_"),
                        ("F", "rrelu_"), ("torch", "abs_")]
       for dt in ("int64", "bool", "complex64", "float32")},
    **{f"Tensor.{m} {dt}": (lambda T, m=m, dt=dt: getattr(_t(T, dt), m)())
       for m in ("abs_", "absolute_") for dt in ("int64", "bool", "complex64", "float32")},
    **{f"threshold_ {dt}": (lambda T, dt=dt: F(T).threshold_(_t(T, dt), 0.5, 0.0))
       for dt in ("int64", "bool", "complex64")},
}


def _outcome(T, fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(T)
    except Exception as e:  # noqa: BLE001  (compared with torch's)
        return type(e).__name__, str(e)
    out = out if isinstance(out, (tuple, list)) else (out,)
    return "ok", [(str(o.dtype).split(".")[-1], tuple(o.shape)) for o in out]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_as_torch(name):
    assert _outcome(ndgrad, CASES[name]) == _outcome(torch, CASES[name])
