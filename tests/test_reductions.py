"""Reductions, scans, statistics and sorting beyond the op table: errors vs torch (type and
message), named-tuple results, warnings, out=, and property tests over random dims."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ndgrad


def same_error(fn, exact=True):
    """fn(lib) raises in both libraries: the same exception type and (if exact) message."""
    with pytest.raises(Exception) as want:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(ndgrad)
    assert type(got.value) is type(want.value), (got.value, want.value)
    if exact:
        assert str(got.value) == str(want.value)


def ones(L, *shape, dtype=None):
    return L.ones(*shape, dtype=None if dtype is None else getattr(L, dtype))


ERRORS = {
    "mean_int": lambda L: L.arange(3).mean(),
    "mean_bool": lambda L: ones(L, 2, dtype="bool").mean(0),
    "nanmean_int": lambda L: L.arange(3).nanmean(),
    "sum_dim_range": lambda L: ones(L, 2, 3).sum(2),
    "sum_dim_negative_range": lambda L: ones(L, 2, 3).sum(-3),
    "sum_dims_repeat": lambda L: ones(L, 2, 3).sum((0, -2)),
    "mean_dims_repeat": lambda L: ones(L, 2, 3).mean([1, 1]),
    "nansum_complex": lambda L: ones(L, 2, dtype="complex64").nansum(),
    "var_int": lambda L: L.arange(3).var(),
    "std_bool": lambda L: ones(L, 3, dtype="bool").std(),
    "var_dim_range": lambda L: ones(L, 3).var(1),
    "max_empty_dim": lambda L: ones(L, 2, 0).max(1),
    "min_empty_all": lambda L: ones(L, 0).min(),
    "amax_empty": lambda L: ones(L, 2, 0).amax(),
    "amin_empty_dim": lambda L: ones(L, 2, 0).amin(1),
    "argmax_empty": lambda L: ones(L, 0).argmax(),
    "argmin_empty_dim": lambda L: ones(L, 2, 0).argmin(1),
    "argmax_bool": lambda L: ones(L, 2, dtype="bool").argmax(),
    "argmin_bool_dim": lambda L: ones(L, 2, dtype="bool").argmin(0),
    "max_dim_range": lambda L: ones(L, 2).max(1),
    "aminmax_empty": lambda L: L.aminmax(ones(L, 0)),
    "logsumexp_dim_range": lambda L: ones(L, 2).logsumexp(1),
    "prod_dim_range": lambda L: ones(L, 2).prod(1),
    "cumsum_dim_range": lambda L: ones(L, 2).cumsum(1),
    "cummax_dim_range": lambda L: ones(L, 2, 2).cummax(-3),
    "logcumsumexp_int": lambda L: L.arange(3).logcumsumexp(0),
    "diff_0d": lambda L: L.tensor(1.0).diff(),
    "diff_negative_n": lambda L: ones(L, 3).diff(n=-1),
    "trace_3d": lambda L: ones(L, 2, 2, 2).trace(),
    "trace_bool": lambda L: ones(L, 2, 2, dtype="bool").trace(),
    "histc_int": lambda L: L.histc(L.arange(3)),
    "histc_range": lambda L: L.histc(ones(L, 3), 4, 3, 1),
    "bincount_negative": lambda L: L.bincount(L.tensor([-1, 2])),
    "bincount_2d": lambda L: L.bincount(L.tensor([[1]])),
    "bincount_float": lambda L: L.bincount(ones(L, 2)),
    "cov_3d": lambda L: L.cov(ones(L, 2, 2, 2)),
    "cov_bool": lambda L: L.cov(ones(L, 2, 2, dtype="bool")),
    "cov_weights_numel": lambda L: L.cov(ones(L, 2, 3), fweights=L.tensor([1, 1])),
    "cdist_1d": lambda L: L.cdist(ones(L, 3), ones(L, 3)),
    "cdist_columns": lambda L: L.cdist(ones(L, 2, 3), ones(L, 2, 4)),
    "cdist_int": lambda L: L.cdist(L.ones(2, 3, dtype=L.int64), L.ones(2, 3, dtype=L.int64)),
    "cdist_negative_p": lambda L: L.cdist(ones(L, 2, 3), ones(L, 2, 3), p=-1),
    "sort_dim_range": lambda L: ones(L, 2, 3).sort(dim=2),
    "sort_complex": lambda L: ones(L, 3, dtype="complex64").sort(),
    "argsort_dim_range": lambda L: ones(L, 3).argsort(dim=-2),
    "topk_k_large": lambda L: ones(L, 2, 3).topk(4),
    "topk_k_negative": lambda L: ones(L, 3).topk(-1),
    "kthvalue_k_large": lambda L: ones(L, 2, 3).kthvalue(4),
    "kthvalue_k_zero_dim0": lambda L: ones(L, 2, 3).kthvalue(0, dim=0),
    "median_bool": lambda L: ones(L, 3, dtype="bool").median(),
    "median_empty_dim": lambda L: ones(L, 2, 0).median(1),
    "nanmedian_bool_dim": lambda L: ones(L, 3, dtype="bool").nanmedian(0),
    "mode_empty": lambda L: ones(L, 0).mode(),
    "quantile_q_range": lambda L: ones(L, 3).quantile(1.5),
    "quantile_q_tensor_range": lambda L: ones(L, 3).quantile(L.tensor([0.5, -0.1])),
    "quantile_q_dtype": lambda L: ones(L, 3).quantile(L.tensor([0.5], dtype=L.float64)),
    "quantile_q_2d": lambda L: ones(L, 3).quantile(L.tensor([[0.5]])),
    "quantile_empty": lambda L: ones(L, 0).quantile(0.5),
    "quantile_int": lambda L: L.arange(3).quantile(0.5),
    "quantile_half": lambda L: ones(L, 3, dtype="float16").quantile(0.5),
    "quantile_interpolation": lambda L: ones(L, 3).quantile(0.5, interpolation="foo"),
    "nanquantile_q_range": lambda L: ones(L, 3).nanquantile(2.0),
    "unique_dim_range": lambda L: L.unique(L.tensor([[1, 2]]), dim=2),
    "isin_two_scalars": lambda L: L.isin(1, 2),
    "isin_bool": lambda L: L.isin(L.tensor([True]), L.tensor([1])),
    "isin_complex": lambda L: L.isin(ones(L, 1, dtype="complex64"), ones(L, 1,
                                                                         dtype="complex64")),
    "count_nonzero_dim_range": lambda L: ones(L, 2).count_nonzero(1),
    "out_requires_grad": lambda L: L.sum(ones(L, 2).requires_grad_(), 0, out=L.empty(())),
}

# the argument-parser messages of torch list every overload: only the type is compared
LOOSE = {
    "prod_dim_tuple": lambda L: ones(L, 2, 3).prod((0, 1)),
    "cumsum_no_dim": lambda L: L.cumsum(ones(L, 3)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    same_error(ERRORS[name])


@pytest.mark.parametrize("name", LOOSE)
def test_errors_match_torch_type(name):
    same_error(LOOSE[name], exact=False)


def _warning(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [str(x.message).split(" (Triggered")[0] for x in w if x.category is UserWarning]


@pytest.mark.parametrize("make", [lambda L: L.ones(1).var(),
                                  lambda L: L.ones(3, 2).std(0, correction=3),
                                  lambda L: L.cov(L.ones(2, 1))])
def test_degrees_of_freedom_warning(make):
    got, want = _warning(lambda: make(ndgrad)), _warning(lambda: make(torch))
    assert got == want and got
    assert np.isnan(np.asarray(make(ndgrad).tolist())).all()


@pytest.mark.parametrize("fn,fields", [
    (lambda L, x: L.max(x, 1), ("values", "indices")),
    (lambda L, x: x.min(0, keepdim=True), ("values", "indices")),
    (lambda L, x: L.sort(x), ("values", "indices")),
    (lambda L, x: x.topk(2), ("values", "indices")),
    (lambda L, x: L.kthvalue(x, 2), ("values", "indices")),
    (lambda L, x: x.median(1), ("values", "indices")),
    (lambda L, x: L.nanmedian(x, 0), ("values", "indices")),
    (lambda L, x: x.mode(1), ("values", "indices")),
    (lambda L, x: L.cummax(x, 1), ("values", "indices")),
    (lambda L, x: x.cummin(0), ("values", "indices")),
    (lambda L, x: L.aminmax(x, dim=1), ("min", "max")),
])
def test_named_tuples(fn, fields):
    data = [[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]]
    got, want = fn(ndgrad, ndgrad.tensor(data)), fn(torch, torch.tensor(data))
    assert type(got).__name__ == type(want).__name__ and got._fields == fields
    assert all(hasattr(want, f) for f in fields)
    for f in fields:
        assert getattr(got, f).tolist() == getattr(want, f).tolist()
    values, indices = got  # unpacks like a tuple
    assert repr(got).replace("ndgrad.", "torch.") == repr(want)


def test_return_types_namespace():
    assert isinstance(ndgrad.max(ndgrad.ones(2, 2), 0), ndgrad.return_types.max)
    assert ndgrad.return_types.sort._fields == ("values", "indices")
    assert ndgrad.return_types.aminmax._fields == ("min", "max")


def test_var_mean_returns_plain_tuple():
    for lib in (ndgrad, torch):
        r = lib.var_mean(lib.ones(3, 2), 0)
        assert type(r) is tuple and len(r) == 2


def test_out_variants():
    for name, args in [("sum", (1,)), ("mean", (0,)), ("prod", (1,)), ("cumsum", (1,)),
                       ("logsumexp", (1,)), ("amax", (0,)), ("std", (1,))]:
        res = []
        for lib in (ndgrad, torch):
            o = lib.empty(0)
            r = getattr(lib, name)(lib.tensor([[1.0, 2.0], [3.0, 5.0]]), *args, out=o)
            assert r is o
            res.append(np.asarray(o.tolist()))
        np.testing.assert_allclose(res[0], res[1], rtol=1e-6)
    for lib in (ndgrad, torch):
        v, i = lib.empty(0), lib.empty(0, dtype=lib.int64)
        r = lib.sort(lib.tensor([3.0, 1.0, 2.0]), out=(v, i))
        assert r.values is v and i.tolist() == [1, 2, 0]


def test_median_without_dim_spreads_the_gradient_over_ties():
    grads = []
    for lib in (ndgrad, torch):
        x = lib.tensor([1.0, 2.0, 2.0, 3.0, 2.0], requires_grad=True)
        x.median().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_max_without_dim_spreads_the_gradient_over_ties():
    grads = []
    for lib in (ndgrad, torch):
        x = lib.tensor([[1.0, 3.0], [3.0, 2.0]], requires_grad=True)
        (x.max() + x.amin(1).sum()).backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_cummax_gradient_accumulates_on_repeated_indices():
    grads = []
    for lib in (ndgrad, torch):
        x = lib.tensor([3.0, 1.0, 2.0, 5.0, 4.0], requires_grad=True)
        lib.cummax(x, 0).values.backward(lib.arange(1.0, 6.0))
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_prod_double_backward_with_zero():
    out = []
    for lib in (ndgrad, torch):
        x = lib.tensor([2.0, 0.0, 3.0, 4.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(x.prod(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        out.append((g.tolist(), h.tolist()))
    assert out[0] == out[1]


def test_reductions_of_half_accumulate_in_float32():
    x = np.full(4096, 0.1, dtype=np.float16)
    for fn in (lambda L, t: t.sum(), lambda L, t: t.mean(), lambda L, t: t.cumsum(0)[-1]):
        got = fn(ndgrad, ndgrad.from_numpy(x)).item()
        want = fn(torch, torch.from_numpy(x)).item()
        assert got == want


def test_all_any_keep_uint8():
    for lib in (ndgrad, torch):
        x = lib.tensor([[0, 3], [1, 1]], dtype=lib.uint8)
        assert x.all().dtype == lib.uint8 and x.any(1).dtype == lib.uint8
        assert x.all(1).tolist() == [0, 1]


def test_unique_variants_match_torch():
    data = [[1, 3, 1], [2, 3, 1], [1, 3, 1]]
    for kw in ({}, {"return_inverse": True, "return_counts": True}, {"dim": 0},
               {"dim": 1, "return_inverse": True}, {"sorted": False}):
        got = ndgrad.unique(ndgrad.tensor(data), **kw)
        want = torch.unique(torch.tensor(data), **kw)
        got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
        assert [g.tolist() for g in got] == [w.tolist() for w in want]


def test_sort_is_stable_and_nan_last():
    data = [2.0, float("nan"), 1.0, 2.0, float("nan"), 1.0]
    for desc in (False, True):
        got = ndgrad.sort(ndgrad.tensor(data), descending=desc, stable=True)
        want = torch.sort(torch.tensor(data), descending=desc, stable=True)
        assert got.indices.tolist() == want.indices.tolist()


dims = st.lists(st.integers(-3, 2), min_size=0, max_size=3, unique=True)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=3, max_size=3), dims, st.booleans(),
       st.sampled_from(["sum", "mean", "amax", "amin", "var", "std", "logsumexp", "nansum",
                        "all", "any"]))
def test_reductions_over_random_dims(shape, dim, keepdim, name):
    rng = np.random.default_rng(sum(shape) + len(dim))
    x = rng.standard_normal(shape)
    res = []
    for lib in (ndgrad, torch):
        t = lib.tensor(x, requires_grad=name not in ("all", "any"))
        # (torch's var/std backward treats dim=[] as no dims while its forward reduces all)
        kw = {"dim": dim, "keepdim": keepdim} if dim or name not in (
            "logsumexp", "var", "std") else {"dim": 0, "keepdim": keepdim}
        try:
            out = getattr(lib, name)(t, **kw)
        except (RuntimeError, IndexError) as e:
            res.append((type(e), str(e)))
            continue
        grad = None
        if t.requires_grad:
            (grad,) = lib.autograd.grad(out.sum(), t)
            grad = np.asarray(grad.tolist())
        res.append((tuple(out.shape), np.asarray(out.tolist()), grad))
    if isinstance(res[1][0], type):
        assert res[0] == res[1]
        return
    assert res[0][0] == res[1][0]
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-10, atol=1e-12)
    if res[1][2] is not None:
        np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-10, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(-3, 2), st.booleans(),
       st.sampled_from(["sort", "argsort", "cumsum", "cumprod", "cummax", "logcumsumexp",
                        "median", "kthvalue", "topk"]))
def test_dim_ops_over_random_dims(shape, dim, flag, name):
    rng = np.random.default_rng(len(shape) * 10 + dim)
    x = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.25  # no ties
    res = []
    for lib in (ndgrad, torch):
        t = lib.tensor(x)
        fn = getattr(lib, name)
        try:
            if name in ("sort", "argsort"):
                out = fn(t, dim=dim, descending=flag)
            elif name == "median":
                out = fn(t, dim, keepdim=flag)
            elif name in ("kthvalue", "topk"):
                out = fn(t, 1, dim)
            else:
                out = fn(t, dim)
        except (RuntimeError, IndexError) as e:
            res.append((type(e).__name__, str(e)))
            continue
        res.append([o.tolist() for o in (out if isinstance(out, tuple) else (out,))])
    assert res[0] == res[1] if isinstance(res[1], tuple) else np.allclose(
        np.asarray(res[0], dtype=float), np.asarray(res[1], dtype=float), rtol=1e-12)


def test_sum_and_mean_of_all_elements_keep_dims_as_torch():
    for T in (torch, ndgrad):
        x = T.ones(2, 3)
        assert tuple(x.sum(None, True).shape) == (1, 1)
        assert tuple(x.mean(dim=None, keepdim=True).shape) == (1, 1)
