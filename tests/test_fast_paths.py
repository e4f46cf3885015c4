"""The measured fast paths (see bench/) give exactly what the general paths give, and torch's."""

import numpy as np
import pytest
import torch

import ndgrad


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "uint8", "bool", "complex64"])
@pytest.mark.parametrize("shapes", [((3, 1), (4,)), ((), ()), ((0, 2), (2,))])
def test_same_dtype_binary_matches_torch(op, dtype, shapes):
    rng = np.random.default_rng(0)
    a, b = (np.asarray(rng.standard_normal(s) * 5).astype(dtype) for s in shapes)
    try:
        want = getattr(torch, op)(torch.from_numpy(a), torch.from_numpy(b))
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as got:
            getattr(ndgrad, op)(ndgrad.from_numpy(a), ndgrad.from_numpy(b))
        assert str(got.value) == str(e)
        return
    got = getattr(ndgrad, op)(ndgrad.from_numpy(a), ndgrad.from_numpy(b))
    assert type(got._data) is np.ndarray and got.shape == tuple(want.shape)
    assert str(got.dtype)[7:] == str(want.dtype)[6:]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_same_dtype_broadcast_error_is_torchs():
    with pytest.raises(RuntimeError) as want:
        torch.ones(3) + torch.ones(4)
    with pytest.raises(RuntimeError) as got:
        ndgrad.ones(3) + ndgrad.ones(4)
    assert str(got.value) == str(want.value)


CASES = {  # reductions and linears: their first-order backward runs on raw arrays
    "linear_2d": ((4, 5), lambda T, x, w, b: (T.nn.functional.linear(x, w, b) ** 2).sum()),
    "linear_1d": ((5,), lambda T, x, w, b: (T.nn.functional.linear(x, w, b) ** 2).sum()),
    "linear_3d": ((2, 3, 5), lambda T, x, w, b: (T.nn.functional.linear(x, w) ** 2).sum()),
    "sum_dims": ((4, 5), lambda T, x, w, b: (x.sum(1) ** 2).sum() + (w * b[:, None]).sum((0, 1))),
    "sum_keepdim": ((4, 5), lambda T, x, w, b: (x.sum(0, keepdim=True) ** 2).sum() + w.sum()),
    "mean_nansum": ((4, 5), lambda T, x, w, b: (x.mean(1) ** 2).sum() + T.nansum(w * b[:, None])),
}


@pytest.mark.parametrize("case", CASES)
def test_array_backward_equals_tensor_backward_and_torch(case):
    shape, f = CASES[case]
    rng = np.random.default_rng(1)
    vals = (rng.standard_normal(shape), rng.standard_normal((3, 5)), rng.standard_normal(3))
    xs = [ndgrad.from_numpy(v).requires_grad_() for v in vals]
    fast = ndgrad.autograd.grad(f(ndgrad, *xs), xs, allow_unused=True)
    slow = ndgrad.autograd.grad(f(ndgrad, *xs), xs, create_graph=True, allow_unused=True)
    ts = [torch.from_numpy(v).requires_grad_() for v in vals]
    want = torch.autograd.grad(f(torch, *ts), ts, allow_unused=True)
    for a, s, t in zip(fast, slow, want):
        assert (a is None) == (s is None) == (t is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), s.detach().numpy())
            np.testing.assert_allclose(a.numpy(), t.numpy(), rtol=1e-12)


def test_tensor_hash_is_identity():
    t, u = ndgrad.zeros(2), ndgrad.zeros(2)
    assert hash(t) == object.__hash__(t) and hash(t) != hash(u)
    assert {t: 1, u: 2}[u] == 2
