"""out= on the random functions against torch: the draw lands in ``out`` (its dtype, resized
when needed, filled in its memory order), ``out`` is returned, and bad ``out``s raise torch's
errors."""

import warnings

import numpy as np
import pytest
import torch

import ndgrad

CALLS = [
    ("rand", lambda lib, o: lib.rand(2, 3, out=o), "float64"),
    ("rand", lambda lib, o: lib.rand(5, out=o), "bfloat16"),
    ("randn", lambda lib, o: lib.randn(17, out=o), "float32"),
    ("randn", lambda lib, o: lib.randn(4, out=o), "complex64"),
    ("randint", lambda lib, o: lib.randint(3, 9, (6,), out=o), "int32"),
    ("randint", lambda lib, o: lib.randint(5, (4,), out=o), "float32"),
    ("randperm", lambda lib, o: lib.randperm(7, out=o), "int64"),
    ("randperm", lambda lib, o: lib.randperm(7, out=o), "float64"),
    ("normal", lambda lib, o: lib.normal(2.0, 3.0, (20,), out=o), "float64"),
    ("normal", lambda lib, o: lib.normal(lib.arange(5.0), 2.0, out=o), "float32"),
    ("normal", lambda lib, o: lib.normal(lib.arange(5.0, dtype=lib.float64), 2.0, out=o),
     "float32"),
    ("normal", lambda lib, o: lib.normal(1.0, lib.ones(18), out=o), "float64"),
    ("bernoulli", lambda lib, o: lib.bernoulli(lib.full((9,), 0.3), out=o), "float64"),
    ("bernoulli", lambda lib, o: lib.bernoulli(lib.full((9,), 0.5), out=o), "bool"),
    ("multinomial", lambda lib, o: lib.multinomial(lib.tensor([0.1, 0.5, 0.4]), 6, True, out=o),
     "int64"),
]


def _run(lib, call, dtype, shape):
    lib.manual_seed(7)
    out = lib.empty(shape, dtype=getattr(lib, dtype))
    res = call(lib, out)
    assert res is out
    return out, lib.rand(3)  # the stream after the call stays in step


@pytest.mark.parametrize("name,call,dtype", CALLS)
@pytest.mark.parametrize("shape", ["same", (0,), (2,)])
def test_values(name, call, dtype, shape):
    ref_shape = tuple(call(torch, None).shape) if shape == "same" else shape
    if name == "normal" and shape != "same" and "(20,)" not in repr(call):
        pytest.skip("normal(Tensor, ...) does not resize out (tested in test_errors)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch resizes these outs without a warning
        ours, ours_next = _run(ndgrad, call, dtype, ref_shape)
        ref, ref_next = _run(torch, call, dtype, ref_shape)
    assert str(ours.dtype).rpartition(".")[2] == str(ref.dtype).rpartition(".")[2]
    assert tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(ours.float().numpy() if dtype == "bfloat16" else ours.numpy(),
                                  ref.float().numpy() if dtype == "bfloat16" else ref.numpy())
    np.testing.assert_array_equal(ours_next.numpy(), ref_next.numpy())


def test_memory_order():
    """A transposed out is filled along its memory, as torch's kernels walk it."""
    got = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        out = lib.empty(3, 2).t()
        lib.rand(2, 3, out=out)
        lib.randn(2, 3, out=lib.empty(3, 2).t())
        got.append(out.numpy())
    np.testing.assert_array_equal(*got)


@pytest.mark.parametrize("call", [
    lambda lib: lib.rand(3, out=lib.empty(3, dtype=lib.int64)),
    lambda lib: lib.rand(3, out=lib.empty(3), dtype=lib.float64),
    lambda lib: lib.rand(3, out=lib.empty(3, requires_grad=True)),
    lambda lib: lib.randn(3, out=lib.empty(3, requires_grad=True)),
    lambda lib: lib.randn(3, out=lib.empty(3, dtype=lib.int32)),
    lambda lib: lib.randint(3, (3,), out=lib.empty(3, requires_grad=True)),
    lambda lib: lib.randint(3, (3,), out=lib.empty(3), dtype=lib.int64),
    lambda lib: lib.randperm(3, out=lib.empty(3, requires_grad=True)),
    lambda lib: lib.randperm(3, out=lib.empty(3, dtype=lib.bool)),
    lambda lib: lib.normal(0.0, 1.0, (3,), out=lib.empty(3, requires_grad=True)),
    lambda lib: lib.normal(0.0, 1.0, (3,), dtype=lib.float64, out=lib.empty(3)),
    lambda lib: lib.normal(lib.zeros(3), 1.0, out=lib.empty(3, requires_grad=True)),
    lambda lib: lib.normal(lib.zeros(3, requires_grad=True), 1.0, out=lib.empty(3)),
    lambda lib: lib.normal(lib.zeros(3), 1.0, out=lib.empty(2)),
    lambda lib: lib.normal(lib.zeros(3), 1.0, out=lib.empty(3, dtype=lib.int64)),
    lambda lib: lib.bernoulli(lib.zeros(3), out=lib.empty(3, requires_grad=True)),
    lambda lib: lib.bernoulli(lib.zeros(3, requires_grad=True), out=lib.empty(3)),
    lambda lib: lib.multinomial(lib.ones(3), 2, out=lib.empty(2)),
    lambda lib: lib.rand(3, dtype=lib.int64),
    lambda lib: lib.randn(3, dtype=lib.int32),
    lambda lib: lib.normal(0.0, 1.0, (3,), dtype=lib.int64),
])
def test_errors(call):
    with pytest.raises(Exception) as ref:
        call(torch)
    with pytest.raises(type(ref.value)) as ours:
        call(ndgrad)
    assert str(ours.value) == str(ref.value)


def test_no_grad_allows_an_out_that_requires_grad():
    for lib in (ndgrad, torch):
        out = lib.empty(3, requires_grad=True)
        with lib.no_grad():
            assert lib.rand(3, out=out) is out


@pytest.mark.parametrize("call", [
    lambda lib: lib.randn(size=()),
    lambda lib: lib.randn(size=(2, 3), dtype=lib.float64),
    lambda lib: lib.rand(size=[4]),
])
def test_size_keyword(call):
    """torch.randn(size=...) (d2l's autograd chapter): the same draws as the positional form."""
    lib_values = []
    for lib in (ndgrad, torch):
        lib.manual_seed(3)
        lib_values.append(call(lib).numpy())
    np.testing.assert_array_equal(*lib_values)
    for lib in (ndgrad, torch):
        with pytest.raises(TypeError):
            lib.rand(2, size=(3,))
