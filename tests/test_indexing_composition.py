"""Indexing ops composed with the rest of the library, against torch: values broadcast into
setitem/index_put/masked_scatter/put, the strides of the tensors these ops return, and second
derivatives of the index-driven ops (including through their source/values argument)."""

import numpy as np
import pytest
import torch
from autograd_compare import same

import ndgrad


def _data(L, *shape, seed=0, requires_grad=False, dtype="float64"):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return L.tensor(a, requires_grad=requires_grad)


# --- setitem with broadcastable values -----------------------------------------------------------
# torch drops the value's leading 1-sized dims, then broadcasts it to the region written.
BROADCAST_SETITEM = {
    "int_key_vec1": ((3,), lambda L: 0, (1,)),
    "int_key_11": ((3,), lambda L: 0, (1, 1)),
    "int_key_row": ((4, 3), lambda L: 1, (1, 1, 3)),
    "slice_113": ((4, 3), lambda L: slice(0, 2), (1, 1, 3)),
    "slice_same_shape": ((4, 3), lambda L: slice(0, 1), (1, 3)),
    "slice_1123": ((4, 3), lambda L: slice(0, 2), (1, 1, 2, 3)),
    "ellipsis_0d_dest": ((), lambda L: Ellipsis, (1, 1)),
    "none_int": ((4, 3), lambda L: (None, 0), (1, 1, 3)),
    "index_113": ((4, 3), lambda L: L.tensor([0, 2]), (1, 1, 3)),
    "index_1123": ((4, 3), lambda L: L.tensor([0, 2]), (1, 1, 2, 3)),
    "list_113": ((4, 3), lambda L: [0, 2], (1, 1, 3)),
    "two_index_11": ((4, 3), lambda L: (L.tensor([0, 1]), L.tensor([2, 2])), (1, 1)),
    "index_int_0d_region": ((3, 3), lambda L: (L.tensor([0, 1]), 0), (1, 1, 1)),
    "mask_11": ((3,), lambda L: L.tensor([True, False, True]), (1, 1)),
    "mask_112": ((3,), lambda L: L.tensor([True, False, True]), (1, 1, 2)),
    "mask_2d_112": ((2, 2), lambda L: L.tensor([[True, False], [False, True]]), (1, 1, 2)),
    "mask_rows_113": ((3, 3), lambda L: L.tensor([True, False, True]), (1, 1, 3)),
    "bool_key": ((3,), lambda L: True, (1, 1, 3)),
}


@pytest.mark.parametrize("name", list(BROADCAST_SETITEM))
@pytest.mark.parametrize("grad", ["none", "value", "dest", "both"])
def test_setitem_broadcast_leading_ones(name, grad):
    dshape, key, vshape = BROADCAST_SETITEM[name]

    def fn(L):
        x = _data(L, *dshape, requires_grad=grad in ("dest", "both"))
        v = _data(L, *vshape, seed=1, requires_grad=grad in ("value", "both"))
        a = x.clone() if x.requires_grad else x
        a[key(L)] = v
        out = [a]
        if a.requires_grad:
            (a * _data(L, *dshape, seed=2)).sum().backward()
            out += [t.grad for t in (x, v) if t.requires_grad]
        return out

    same(fn)


def test_setitem_broadcast_leading_ones_double_backward():
    def fn(L):
        x = _data(L, 4, 3, requires_grad=True)
        w = _data(L, 1, 1, 3, seed=1, requires_grad=True)
        a = x * 1
        a[L.tensor([0, 2])] = w * w
        g = L.autograd.grad((a ** 2).sum(), [x, w], create_graph=True)
        return L.autograd.grad(sum((t * t).sum() for t in g), [x, w])

    same(fn)


SETITEM_VALUES = {
    "other_dtype_basic": ((3,), lambda L: 0, lambda L: L.tensor([7])),
    "other_dtype_slice": ((3,), lambda L: slice(0, 2), lambda L: L.tensor([7, 8])),
    "other_dtype_index": ((3,), lambda L: L.tensor([0, 1]), lambda L: L.tensor([7, 8])),
    "other_dtype_mask": ((3,), lambda L: L.tensor([True, False, True]), lambda L: L.tensor([7])),
    "python_int_index": ((3,), lambda L: L.tensor([0, 1]), lambda L: 5),
    "python_float_into_long": ((3,), lambda L: L.tensor([0]), lambda L: 2.7),
    "numpy_scalar": ((3,), lambda L: slice(0, 2), lambda L: np.float64(3)),
    "list": ((3,), lambda L: slice(0, 2), lambda L: [7.0, 8.0]),
    "list_index": ((3,), lambda L: L.tensor([0, 1]), lambda L: [7.0, 8.0]),
    "numpy_array": ((3,), lambda L: slice(0, 2), lambda L: np.array([7.0, 8.0])),
    "numpy_0d": ((3,), lambda L: slice(0, 2), lambda L: np.array(3.0)),
    "too_many_dims_basic": ((3,), lambda L: 0, lambda L: L.ones(2)),
    "leading_non_one_basic": ((4, 3), lambda L: slice(0, 2), lambda L: L.ones(2, 1, 3)),
    "too_many_dims_index": ((4, 3), lambda L: L.tensor([0, 1]), lambda L: L.ones(1, 3, 3)),
    "leading_non_one_index": ((4, 3), lambda L: L.tensor([0, 1]), lambda L: L.ones(2, 1, 3)),
}


@pytest.mark.parametrize("name", list(SETITEM_VALUES))
def test_setitem_broadcast_value_kinds(name):
    dshape, key, value = SETITEM_VALUES[name]

    def fn(L):
        a = L.zeros(dshape, dtype=L.int64 if "long" in name else L.float32)
        a[key(L)] = value(L)
        return a

    same(fn)


INDEX_PUT = {
    "leading_ones_rejected": ((3,), lambda L: (L.tensor([0]),), (1, 1), False),
    "leading_ones_rejected_acc": ((3,), lambda L: (L.tensor([0, 1]),), (1, 1, 2), True),
    "broadcast": ((4, 3), lambda L: (L.tensor([0, 0, 2]),), (1, 3), True),
    "two_indices": ((4, 3), lambda L: (L.tensor([0, 1]), L.tensor([2, 2])), (1,), False),
    "mask": ((4, 3), lambda L: (L.tensor([True, False, True, True]),), (3,), False),
}


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", list(INDEX_PUT))
def test_index_put_broadcast_values(name, inplace):
    dshape, indices, vshape, acc = INDEX_PUT[name]

    def fn(L):
        x = _data(L, *dshape, requires_grad=True)
        v = _data(L, *vshape, seed=1, requires_grad=True)
        if inplace:
            out = x.clone().index_put_(indices(L), v * 1, accumulate=acc)
        else:
            out = L.index_put(x, indices(L), v, accumulate=acc)
        (out * _data(L, *dshape, seed=2)).sum().backward()
        return out, x.grad, v.grad

    same(fn)


MASKED_SCATTER = {
    "flat_source": ((3,), lambda L: L.tensor([True, False, True]), lambda L: _data(L, 2, 2)),
    "broadcast_mask": ((2, 3), lambda L: L.tensor([True, False, True]), lambda L: _data(L, 6)),
    "broadcast_self": ((1, 3), lambda L: L.tensor([[True], [False]]), lambda L: _data(L, 6)),
    "0d": ((), lambda L: L.tensor(True), lambda L: _data(L, 2, 2)),
    "source_dtype": ((3,), lambda L: L.tensor([True, False, True]), lambda L: L.ones(3).long()),
    "mask_dtype": ((3,), lambda L: L.tensor([1, 0, 1]), lambda L: _data(L, 3)),
    "source_scalar": ((3,), lambda L: L.tensor([True, False, True]), lambda L: 1.0),
    "too_few": ((3,), lambda L: L.tensor([True, False, True]), lambda L: _data(L, 1)),
    "mask_shape": ((3,), lambda L: L.tensor([True, False]), lambda L: _data(L, 3)),
    "mask_ndim": ((3,), lambda L: L.tensor([[True, False, True]]), lambda L: _data(L, 3)),
}


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", list(MASKED_SCATTER))
def test_masked_scatter_broadcast_and_checks(name, inplace):
    dshape, mask, source = MASKED_SCATTER[name]

    def fn(L):
        x = _data(L, *dshape, requires_grad=True)
        s = source(L)
        if isinstance(s, L.Tensor) and s.is_floating_point():
            s.requires_grad_(True)
        out = x.clone().masked_scatter_(mask(L), s) if inplace else \
            x.masked_scatter(mask(L), s)
        (out * out).sum().backward()
        return out, x.grad, s.grad

    same(fn)


PUT = {
    "flat": ((2, 3), lambda L: L.tensor([0, 4]), (2,)),
    "repeated": ((2, 3), lambda L: L.tensor([0, 0, -1]), (3,)),
    "index_2d": ((2, 3), lambda L: L.tensor([[0, 4]]), (2,)),
    "source_2d": ((2, 3), lambda L: L.tensor([1, 5, 2, 0]), (2, 2)),
    "0d_self": ((), lambda L: L.tensor([0]), (1,)),
    "empty": ((0,), lambda L: L.tensor([], dtype=L.int64), (0,)),
    "empty_self": ((0,), lambda L: L.tensor([0]), (1,)),
    "out_of_range": ((2, 3), lambda L: L.tensor([0, 6]), (2,)),
    "negative_out_of_range": ((2, 3), lambda L: L.tensor([0, -7]), (2,)),
    "numel_mismatch": ((2, 3), lambda L: L.tensor([0, 4]), (3,)),
    "int32_index": ((2, 3), lambda L: L.tensor([0, 4], dtype=L.int32), (2,)),
    "list_index": ((2, 3), lambda L: [0, 4], (2,)),
}


@pytest.mark.parametrize("acc", [False, True])
@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", list(PUT))
def test_put_values_and_grads(name, inplace, acc):
    dshape, index, sshape = PUT[name]

    def fn(L):
        x = _data(L, *dshape, requires_grad=True)
        s = _data(L, *sshape, seed=1, requires_grad=True)
        out = x.clone().put_(index(L), s * 1, accumulate=acc) if inplace else \
            L.put(x, index(L), s, accumulate=acc)
        (out * out).sum().backward()
        return out, x.grad, s.grad

    same(fn)


def test_put_checks():
    same(lambda L: L.zeros(3).put_(L.tensor([0]), L.tensor([1])))
    same(lambda L: L.zeros(3).put_(L.tensor([0]), 1.0))


# torch's index_put_ (so setitem too) writes a one-element value through a lone mask with
# masked_fill_: any dtype and any shape of one element are accepted there, not elsewhere
MASK_FILL = {
    "mask_long_1": (lambda L: L.tensor([True, False, True]), lambda L: L.tensor([7])),
    "mask_long_0d": (lambda L: L.tensor([True, False, True]), lambda L: L.tensor(7)),
    "mask_long_11": (lambda L: L.tensor([True, False, True]), lambda L: L.tensor([[7]])),
    "mask_long_2": (lambda L: L.tensor([True, False, True]), lambda L: L.tensor([7, 8])),
    "int_then_mask": (lambda L: (0, L.tensor([True, False, True])), lambda L: L.tensor([7])),
    "rows_mask": (lambda L: L.tensor([True, False]), lambda L: L.tensor([7])),
    "bad_mask": (lambda L: L.tensor([True, False, True, False]), lambda L: L.tensor([7])),
    "index_long_1": (lambda L: L.tensor([0, 1]), lambda L: L.tensor([7])),
    "index_long_0d": (lambda L: L.tensor([0, 1]), lambda L: L.tensor(7)),
    "mask_and_index": (lambda L: (L.tensor([True, False]), L.tensor([1])), lambda L: L.tensor([7])),
    "mask_float32_grad": (lambda L: L.tensor([True, False, True]),
                          lambda L: L.ones(1, 1, requires_grad=True)),
}


@pytest.mark.parametrize("name", list(MASK_FILL))
def test_setitem_mask_with_one_element_value_fills(name):
    key, value = MASK_FILL[name]

    def fn(L):
        x = _data(L, 2, 3, requires_grad=True)
        a = x * 1
        v = value(L)
        a[key(L)] = v * 1 if v.requires_grad else v
        (a * a).sum().backward()
        return a, x.grad, v.grad

    same(fn)


@pytest.mark.parametrize("name", ["mask_long_1", "mask_long_11", "mask_long_2", "index_long_1",
                                  "mask_float32_grad"])
@pytest.mark.parametrize("acc", [False, True])
def test_index_put_mask_with_one_element_value_fills(name, acc):
    key, value = MASK_FILL[name]

    def fn(L):
        x = _data(L, 3, requires_grad=True)
        v = value(L)
        out = L.index_put(x, (key(L),), v, accumulate=acc)
        (out * out).sum().backward()
        return out, x.grad, v.grad

    same(fn)


def test_put_method_messages():
    same(lambda L: L.zeros(3).put([0], L.tensor([1.0])))
    same(lambda L: L.zeros(3).put(L.tensor([0]), 1.0))


# torch checks an index put in this order: mask shapes, index broadcasting, the value's shape,
# its dtype, and only then (in the kernel) the index bounds
PUT_ERRORS = {
    "broadcast_before_bounds": (lambda L: (L.tensor([5, 0]), L.tensor([0, 1, 2])), (), "float32"),
    "dtype_before_bounds": (lambda L: (L.tensor([5, 0]),), (3,), "int64"),
    "shape_before_dtype": (lambda L: (L.tensor([1, 0]),), (2, 2), "int64"),
    "mask_before_dtype": (lambda L: (L.tensor([True, False]),), (2,), "int64"),
    "indices_before_dtype": (lambda L: (L.tensor([1, 0]), L.tensor([0, 1, 2])), (2,), "int64"),
    "shape_before_bounds": (lambda L: (L.tensor([5, 0]),), (2, 2), "float32"),
    "leading_ones": (lambda L: (L.tensor([1, 0]),), (1, 2, 3), "int64"),
}


@pytest.mark.parametrize("how", ["setitem", "index_put_", "index_put"])
@pytest.mark.parametrize("name", list(PUT_ERRORS))
def test_index_put_error_order(name, how):
    key, vshape, dtype = PUT_ERRORS[name]

    def fn(L):
        x = L.zeros(3, 3)
        v = L.ones(vshape, dtype=getattr(L, dtype))
        if how == "setitem":
            x[key(L)] = v
        elif how == "index_put_":
            x.index_put_(key(L), v)
        else:
            x = L.index_put(x, key(L), v)
        return x

    same(fn)


# --- strides and contiguity of the tensors these ops create ---------------------------------------
# Advanced indexing, gather, take, index_select, masked_select, cat/stack... give fresh C ordered
# tensors (NumPy's fancy indexing and joins may not); sort, flip and the clone-based
# index_put/index_fill/put keep the input's order of dims; advanced indexing lays its result out
# as TensorIterator does.
def _layouts(L):
    x = L.tensor(np.random.default_rng(0).standard_normal((4, 6, 5)))
    return {"c2": x[0], "t2": x[0].t(), "step2": x[0][:, ::2], "step_t2": x[0][::2].t(), "c3": x,
            "perm3": x.permute(2, 0, 1), "perm3b": x.permute(1, 2, 0)}


def _zeros_index(L, shape, n=None):
    return L.zeros(shape, dtype=L.int64)[:n] if n else L.zeros(shape, dtype=L.int64)


LAYOUT_OPS = {
    "index_last": lambda L, x: x[..., [1, 2]],
    "index_mid": lambda L, x: x[:, [0, 1, 0]],
    "index_first": lambda L, x: x[[1, 0]],
    "index_two": lambda L, x: x[[1, 0], [2, 1]],
    "index_apart": lambda L, x: x[[1, 0], ..., [0, 1]],
    "index_2d": lambda L, x: x[:, L.tensor([[0, 1], [1, 0]])],
    "index_2d_transposed": lambda L, x: x[:, L.tensor([[0, 1], [1, 0]]).t()],
    "index_int32": lambda L, x: x[:, L.tensor([1, 0], dtype=L.int32)],
    "index_after_int": lambda L, x: x[1, [0, 1]],
    "mask_rows": lambda L, x: x[x[..., 0, 0] > 0] if x.ndim == 3 else x[x[:, 0] > 0],
    "mask_cols": lambda L, x: x[:, x[0] > 0],
    "mask_full": lambda L, x: x[x > 0],
    "gather": lambda L, x: L.gather(x, 0, _zeros_index(L, x.shape, 2)),
    "gather_transposed_index": lambda L, x: L.gather(
        x, 0, _zeros_index(L, tuple(x.shape)[::-1]).permute(*range(x.ndim - 1, -1, -1))),
    "take": lambda L, x: L.take(x, L.tensor([[0, 1, 2], [3, 4, 5]]).t()),
    "take_along_dim": lambda L, x: L.take_along_dim(x, _zeros_index(L, x.shape)[..., :2], -1),
    "index_select_0": lambda L, x: L.index_select(x, 0, L.tensor([1, 0])),
    "index_select_last": lambda L, x: L.index_select(x, -1, L.tensor([1, 0])),
    "masked_select": lambda L, x: L.masked_select(x, x > 0),
    "nonzero_tuple": lambda L, x: L.nonzero(x > 0, as_tuple=True)[0],
    "scatter": lambda L, x: L.scatter(x, 0, _zeros_index(L, x.shape, 1), x[:1]),
    "scatter_add": lambda L, x: L.scatter_add(x, 0, _zeros_index(L, x.shape, 1), x[:1]),
    "index_add": lambda L, x: L.index_add(x, 0, L.tensor([0]), x[:1]),
    "index_copy": lambda L, x: L.index_copy(x, 0, L.tensor([0]), x[:1]),
    "index_fill": lambda L, x: L.index_fill(x, 0, L.tensor([0]), 2.0),
    "index_put": lambda L, x: L.index_put(x, (L.tensor([0]),), L.tensor(1.0, dtype=L.float64)),
    "put": lambda L, x: L.put(x, L.tensor([0]), L.tensor([1.0], dtype=L.float64)),
    "masked_scatter": lambda L, x: L.masked_scatter(x, x > 0, x.reshape(-1) * 2),
    "cat_0": lambda L, x: L.cat([x, x], 0),
    "cat_last": lambda L, x: L.cat([x, x], -1),
    "cat_one": lambda L, x: L.cat([x]),
    "stack_0": lambda L, x: L.stack([x, x]),
    "stack_last": lambda L, x: L.stack([x, x], -1),
    "hstack": lambda L, x: L.hstack([x, x]),
    "vstack": lambda L, x: L.vstack([x, x]),
    "dstack": lambda L, x: L.dstack([x, x]),
    "column_stack": lambda L, x: L.column_stack([x, x]),
    "repeat_interleave": lambda L, x: L.repeat_interleave(x, 2, 0),
    "repeat_interleave_tensor": lambda L, x: L.repeat_interleave(x, L.tensor([2]), -1),
    "flip": lambda L, x: L.flip(x, (0,)),
    "roll": lambda L, x: L.roll(x, 1, 0),
    "rot90": lambda L, x: L.rot90(x, 1, (0, 1)),
    "rot90_2": lambda L, x: L.rot90(x, 2, (0, 1)),
    "rot90_3": lambda L, x: L.rot90(x, 3, (1, 0)),
    "rot90_0": lambda L, x: L.rot90(x, 0, (0, 1)),
    "tril": lambda L, x: L.tril(x),
    "triu": lambda L, x: L.triu(x, 1),
    "sort": lambda L, x: L.sort(x, 0),
    "sort_last": lambda L, x: L.sort(x, -1, descending=True),
    "argsort": lambda L, x: L.argsort(x, 1),
    "msort": lambda L, x: L.msort(x),
    "topk": lambda L, x: L.topk(x, 2, 0),
    "kthvalue": lambda L, x: L.kthvalue(x, 2, 0, True),
    "median": lambda L, x: L.median(x, 0),
    "mode": lambda L, x: L.mode(x, 1, True),
    "quantile": lambda L, x: L.quantile(x, 0.3, 0),
    "quantile_q": lambda L, x: L.quantile(x, L.tensor([0.3, 0.5], dtype=L.float64), 1),
    "quantile_q_keepdim": lambda L, x: L.nanquantile(x, L.tensor([0.3, 0.5], dtype=L.float64), 0,
                                                     True),
    "unique_dim": lambda L, x: L.unique((x > 0).long(), dim=1),
    "unique_consecutive_dim": lambda L, x: L.unique_consecutive((x > 0).long(), dim=1),
}


def _strides(res):
    if isinstance(res, (tuple, list)):
        return [_strides(r) for r in res]
    return tuple(res.shape), res.stride(), res.is_contiguous()


@pytest.mark.parametrize("layout", ["c2", "t2", "step2", "step_t2", "c3", "perm3", "perm3b"])
@pytest.mark.parametrize("name", list(LAYOUT_OPS))
def test_strides_and_contiguity_of_results(name, layout):
    fn = LAYOUT_OPS[name]
    want = fn(torch, _layouts(torch)[layout])
    got = fn(ndgrad, _layouts(ndgrad)[layout])
    assert _strides(got) == _strides(want)
    np.testing.assert_allclose(np.asarray(got[0] if isinstance(got, tuple) else got),
                               (want[0] if isinstance(want, tuple) else want).numpy())


def test_strides_advanced_index_view_and_flatten():
    def fn(L):
        y = L.arange(6.0).reshape(2, 3)[:, [1, 2]]
        v = y.view(-1)
        f = y.flatten()
        f[0] = 100.0  # a contiguous tensor's flatten is itself, so the write shows in y
        return y.stride(), y.is_contiguous(), v, y, f._base is None

    same(fn)


@pytest.mark.parametrize("seed", range(6))
def test_strides_advanced_index_random_layouts(seed):
    """Random shapes, dim orders, steps and index keys: torch's TensorIterator layout."""
    rng = np.random.default_rng(seed)
    for _ in range(60):
        nd = int(rng.integers(1, 5))
        shape = tuple(int(n) for n in rng.integers(2, 5, nd))
        perm = [int(p) for p in rng.permutation(nd)]
        step = tuple(slice(None, None, int(s)) for s in rng.integers(1, 3, nd))
        base = rng.standard_normal(shape)
        sizes = [len(range(n)[s]) for n, s in zip(shape, step)]
        key = []
        for d in range(nd):
            if rng.random() < 0.5:
                key.append(None)
            else:
                n = sizes[perm[d]]
                key.append(rng.integers(0, n, tuple(int(k) for k in rng.integers(1, 4, 2))[
                    :int(rng.integers(1, 3))]))
        if all(k is None for k in key):
            continue
        try:
            np.broadcast_shapes(*(k.shape for k in key if k is not None))
        except ValueError:
            continue

        def run(L):
            x = L.tensor(base)[step].permute(*perm)
            return x[tuple(slice(None) if k is None else L.tensor(k) for k in key)]

        want, got = run(torch), run(ndgrad)
        assert _strides(got) == _strides(want), (shape, perm, step, key)


# --- second derivatives ---------------------------------------------------------------------------
# grad(outputs, inputs, v, create_graph=True) with a cotangent v that requires grad, then the grad
# of a function of those grads with respect to the inputs and v: every backward here must be built
# of differentiable ops of its inputs (the source/values tensors included) and of the incoming grad.
def _i(L, v):
    return L.tensor(np.asarray(v, dtype=np.int64))


def _ties(L, x):
    """x rounded (ties everywhere) but with x's gradient."""
    return x - x.detach() + L.round(x.detach())


def _setitem(x, key, v):
    y = x * 1
    y[key] = v
    return y


def _iadd(x, key, v):
    y = x * 1
    y[key] += v * v
    return y


_IDX3 = [[0, 0, 1], [3, 1, 3]]
DOUBLE_BACKWARD = {
    "gather": ([(3, 4)], lambda L, x: L.gather(x, 1, _i(L, [[0, 0], [3, 1], [2, 2]]))),
    "gather_transposed": ([(3, 4)], lambda L, x: L.gather(x.t(), 0, _i(L, [[0, 1, 2], [2, 2, 2]]))),
    "scatter_src": ([(3, 4), (2, 2)], lambda L, x, s: L.scatter(x, 1, _i(L, [[0, 1], [3, 1]]), s)),
    "scatter_value": ([(3, 4)], lambda L, x: L.scatter(x, 1, _i(L, [[0, 1], [3, 1]]), 2.0)),
    "scatter_0d": ([(), ()], lambda L, x, s: L.scatter(x, 0, _i(L, 0), s)),
    "scatter_add": ([(3, 4), (2, 2)],
                    lambda L, x, s: L.scatter_add(x, 1, _i(L, [[0, 0], [3, 1]]), s)),
    "scatter_reduce_sum": ([(3, 4), (2, 3)],
                           lambda L, x, s: L.scatter_reduce(x, 1, _i(L, _IDX3), s, "sum")),
    "scatter_reduce_mean": ([(3, 4), (2, 3)],
                            lambda L, x, s: L.scatter_reduce(x, 1, _i(L, _IDX3), s, "mean")),
    "scatter_reduce_mean_exclude": ([(3, 4), (2, 3)], lambda L, x, s: L.scatter_reduce(
        x, 1, _i(L, _IDX3), s, "mean", include_self=False)),
    "scatter_reduce_prod": ([(3, 4), (2, 3)],
                            lambda L, x, s: L.scatter_reduce(x, 1, _i(L, _IDX3), s, "prod")),
    "scatter_reduce_prod_zeros": ([(3, 4), (2, 3)], lambda L, x, s: L.scatter_reduce(
        x * (x > 0), 1, _i(L, _IDX3), s * (s > 0), "prod")),
    "scatter_reduce_prod_zeros_exclude": ([(3, 4), (2, 3)], lambda L, x, s: L.scatter_reduce(
        x * (x > 0), 1, _i(L, _IDX3), s * (s > 0), "prod", include_self=False)),
    "scatter_reduce_amax_ties": ([(3, 4), (2, 3)], lambda L, x, s: L.scatter_reduce(
        _ties(L, x), 1, _i(L, _IDX3), _ties(L, s), "amax")),
    "scatter_reduce_amin_ties_exclude": ([(3, 4), (2, 3)], lambda L, x, s: L.scatter_reduce(
        _ties(L, x), 1, _i(L, _IDX3), _ties(L, s), "amin", include_self=False)),
    "scatter_reduce_mean_0d": ([(), ()],
                               lambda L, x, s: L.scatter_reduce(x, 0, _i(L, 0), s, "mean")),
    "index_select": ([(3, 4)], lambda L, x: L.index_select(x, 1, _i(L, [3, 0, 3]))),
    "index_select_0d": ([()], lambda L, x: L.index_select(x, 0, _i(L, [0]))),
    "index_add": ([(3, 4), (3, 2)], lambda L, x, s: L.index_add(x, 1, _i(L, [3, 3]), s, alpha=2.0)),
    "index_copy": ([(3, 4), (3, 2)], lambda L, x, s: L.index_copy(x, 1, _i(L, [3, 0]), s)),
    "index_fill": ([(3, 4)], lambda L, x: L.index_fill(x, 1, _i(L, [3, 0]), 2.0)),
    "index_fill_tensor": ([(3, 4), ()],
                          lambda L, x, v: L.index_fill(x * x, 0, _i(L, [1]), v * v)),
    "index_put": ([(3, 4), (2, 4)], lambda L, x, v: L.index_put(x, (_i(L, [2, 0]),), v)),
    "index_put_accumulate": ([(3, 4), (3, 4)], lambda L, x, v: L.index_put(
        x, (_i(L, [2, 0, 2]),), v, accumulate=True)),
    "index_put_accumulate_broadcast": ([(3, 4), (1, 4)], lambda L, x, v: L.index_put(
        x, (_i(L, [2, 2, 0]),), v, accumulate=True)),
    "index_put_broadcast": ([(3, 4), (4,)], lambda L, x, v: L.index_put(x, (_i(L, [2, 0]),), v)),
    "index_put_two": ([(3, 4), (3,)], lambda L, x, v: L.index_put(
        x, (_i(L, [2, 0, 1]), _i(L, [1, 1, 3])), v)),
    "index_put_mask_fill": ([(3, 4), (1,)], lambda L, x, v: L.index_put(x, (x > 0,), v)),
    "take": ([(3, 4)], lambda L, x: L.take(x, _i(L, [[0, 5], [11, -1]]))),
    "take_along_dim": ([(3, 4)], lambda L, x: L.take_along_dim(x, _i(L, [[0], [3], [1]]), 1)),
    "masked_select": ([(3, 4)], lambda L, x: L.masked_select(x, x > 0)),
    "masked_scatter": ([(3, 4), (12,)], lambda L, x, s: x.masked_scatter(x > 0, s)),
    "masked_scatter_long_source": ([(3, 4), (20,)], lambda L, x, s: x.masked_scatter(x > 0, s)),
    "masked_scatter_broadcast": ([(1, 4), (12,)], lambda L, x, s: L.masked_scatter(
        x, _i(L, [[1], [0], [1]]) > 0, s)),
    "put_accumulate": ([(3, 4), (3,)], lambda L, x, s: L.put(x, _i(L, [0, 5, 5]), s, True)),
    "put": ([(3, 4), (2, 2)], lambda L, x, s: L.put(x, _i(L, [[0, 5], [6, 11]]), s)),
    "getitem_basic": ([(3, 4)], lambda L, x: x[1:, ::2]),
    "getitem_index": ([(3, 4)], lambda L, x: x[[0, 2, 2], 1:]),
    "getitem_apart": ([(3, 4, 2)], lambda L, x: x[[0, 2], :, [1, 1]]),
    "getitem_transposed": ([(3, 4)], lambda L, x: x.t()[[1, 3]]),
    "getitem_mask": ([(3, 4)], lambda L, x: x[x > 0]),
    "setitem_index": ([(3, 4), (2, 4)], lambda L, x, v: _setitem(x, _i(L, [2, 0]), v)),
    "setitem_leading_ones": ([(3, 4), (1, 1, 4)], lambda L, x, v: _setitem(x, slice(0, 2), v)),
    "setitem_int_vec1": ([(3,), (1,)], lambda L, x, v: _setitem(x, 0, v * v)),
    "setitem_mask": ([(3, 4), ()], lambda L, x, v: _setitem(x, x > 0, v)),
    "setitem_mask_leading_ones": ([(3, 4), (1, 1, 4)],
                                  lambda L, x, v: _setitem(x, x[:, 0] > 0, v)),
    "setitem_view": ([(3, 4), (2,)], lambda L, x, v: _setitem(x.t(), (_i(L, [1, 3]), 0), v)),
    "setitem_iadd": ([(3, 4), (2, 4)], lambda L, x, v: _iadd(x, _i(L, [2, 0]), v)),
    "cat": ([(3, 4), (2, 4)], lambda L, x, v: L.cat([x, v * v])),
    "cat_skips_empty": ([(3, 4), (0,)], lambda L, x, v: L.cat([x, v, x], 0)),
    "stack": ([(3, 4), (3, 4)], lambda L, x, v: L.stack([x, v], 1)),
    "hstack": ([(3, 4), (3, 2)], lambda L, x, v: L.hstack([x, v])),
    "column_stack": ([(3,), (3, 2)], lambda L, x, v: L.column_stack([x, v])),
    "split": ([(5, 4)], lambda L, x: L.split(x, 2)),
    "split_sizes": ([(5, 4)], lambda L, x: x.split([1, 3], 1)),
    "split_cat": ([(5, 4)], lambda L, x: L.cat(L.split(x, 2)[::-1], 0)),
    "chunk": ([(5, 4)], lambda L, x: L.chunk(x, 3, 1)),
    "unbind_stack": ([(3, 4)], lambda L, x: L.stack(L.unbind(x, 1), 0)),
    "tensor_split": ([(5, 4)], lambda L, x: L.tensor_split(x, [1, 3])),
    "unfold_overlapping": ([(6, 3)], lambda L, x: x.unfold(0, 3, 1)),
    "unfold_step": ([(7,)], lambda L, x: x.unfold(0, 2, 3)),
    "repeat": ([(3, 4)], lambda L, x: x.repeat(2, 1, 2)),
    "repeat_interleave": ([(3, 4)], lambda L, x: L.repeat_interleave(x, 2, 1)),
    "repeat_interleave_tensor": ([(3, 4)],
                                 lambda L, x: L.repeat_interleave(x, _i(L, [1, 0, 3]), 0)),
    "flip": ([(3, 4)], lambda L, x: L.flip(x, (0, 1))),
    "roll": ([(3, 4)], lambda L, x: L.roll(x, (1, -1), (0, 1))),
    "roll_flat": ([(3, 4)], lambda L, x: L.roll(x, 5)),
    "rot90": ([(3, 4)], lambda L, x: L.rot90(x, 1)),
    "rot90_negative": ([(3, 4)], lambda L, x: L.rot90(x, -1, (1, 0))),
    "tril": ([(3, 4)], lambda L, x: L.tril(x, 1)),
    "triu": ([(3, 4)], lambda L, x: L.triu(x, -1)),
    "broadcast_tensors": ([(3, 1), (4,)], lambda L, x, v: L.broadcast_tensors(x, v)),
    "meshgrid": ([(3,), (4,)], lambda L, x, v: L.meshgrid(x, v, indexing="xy")),
    "sort": ([(3, 4)], lambda L, x: L.sort(x, 1)[0]),
    "topk_ties": ([(3, 4)], lambda L, x: L.topk(_ties(L, x) * 0, 2, 1)[0]),
    "kthvalue": ([(3, 4)], lambda L, x: L.kthvalue(x, 3, 0, True)[0]),
    "median": ([(3, 4)], lambda L, x: L.median(_ties(L, x))),
    "median_dim": ([(3, 4)], lambda L, x: L.median(_ties(L, x), 0, True)[0]),
    "nanmedian": ([(3, 4)], lambda L, x: L.nanmedian(x)),
    "mode": ([(3, 4)], lambda L, x: L.mode(_ties(L, x), 0)[0]),
    "msort": ([(3, 4)], lambda L, x: L.msort(x)),
    "quantile": ([(3, 4)], lambda L, x: L.quantile(x, 0.3, 1)),
    "quantile_q": ([(3, 4)], lambda L, x: L.nanquantile(
        x, L.tensor([0.2, 0.9], dtype=L.float64), 0, True)),
    "quantile_all_nearest": ([(3, 4)], lambda L, x: L.quantile(
        x, L.tensor([0.1, 0.5], dtype=L.float64), interpolation="nearest")),
}


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "nonleaf"])
@pytest.mark.parametrize("name", list(DOUBLE_BACKWARD))
def test_double_backward(name, leaf):
    shapes, fn = DOUBLE_BACKWARD[name]

    def run(L):
        ins = [_data(L, *s, seed=i, requires_grad=True) for i, s in enumerate(shapes)]
        out = fn(L, *(ins if leaf else [t * 1 for t in ins]))
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        vs = [_data(L, *o.shape, seed=10 + i, requires_grad=True) for i, o in enumerate(outs)]
        g = L.autograd.grad(outs, ins, vs, create_graph=True, allow_unused=True)
        us = [_data(L, *t.shape, seed=20 + i) for i, t in enumerate(ins)]
        s2 = sum((gi * u * gi).sum() for gi, u in zip(g, us) if gi is not None)
        h = L.autograd.grad(s2, ins + vs, allow_unused=True)
        # values and None-ness; the backward graph's node names are ndgrad's own
        return [t if t is None else (t.detach(), t.requires_grad) for t in g + h]

    same(run, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("call", ["unique", "unique_dim", "unique_inverse", "consecutive",
                                  "consecutive_dim"])
def test_unique_records_a_node_without_derivative(call):
    fns = {"unique": lambda L, x: L.unique(x),
           "unique_dim": lambda L, x: L.unique(x, dim=0),
           "unique_inverse": lambda L, x: L.unique(x, return_inverse=True)[0],
           "consecutive": lambda L, x: L.unique_consecutive(x),
           "consecutive_dim": lambda L, x: L.unique_consecutive(x, dim=1)}

    def fn(L):
        x = _data(L, 3, 4, requires_grad=True)
        u = fns[call](L, x)
        u.sum().backward()

    same(lambda L: fns[call](L, _data(L, 3, 4, requires_grad=True)))
    same(fn)


# --- writes into an expanded tensor ---------------------------------------------------------------
# torch's copy_/fill_ refuse a region whose elements share memory; index_put_ and index_fill_ warn
# (and a one-element value through a lone mask warns for masked_fill_ too), then write only the
# positions named, so the shared memory holds what was written there.
EXPANDED_WRITES = {
    "setitem_row": lambda L, x: x.__setitem__(0, L.ones(3)),
    "setitem_row_scalar": lambda L, x: x.__setitem__(0, 1.0),
    "setitem_column": lambda L, x: x.__setitem__((slice(None), 0), 5.0),
    "setitem_all": lambda L, x: x.__setitem__(slice(None), L.arange(6.0).reshape(2, 3)),
    "setitem_ellipsis": lambda L, x: x.__setitem__(Ellipsis, 1.0),
    "setitem_none": lambda L, x: x.__setitem__(None, 1.0),
    "setitem_index": lambda L, x: x.__setitem__(L.tensor([1]), L.arange(3.0)),
    "setitem_mask_scalar": lambda L, x: x.__setitem__(L.tensor([True, False]), 2.0),
    "setitem_mask_tensor": lambda L, x: x.__setitem__(L.tensor([True, False]), L.tensor([2.0])),
    "setitem_mask_row": lambda L, x: x.__setitem__(L.tensor([True, False]), L.arange(3.0)),
    "setitem_int_then_index": lambda L, x: x.__setitem__((0, L.tensor([1])), 2.0),
    "index_put_": lambda L, x: x.index_put_((L.tensor([0]),), L.tensor(1.0)),
    "index_put_accumulate": lambda L, x: x.index_put_((L.tensor([0]),), L.tensor(1.0), True),
    "index_put_mask": lambda L, x: x.index_put_((L.tensor([True, False]),), L.tensor(1.0)),
    "index_fill_": lambda L, x: x.index_fill_(1, L.tensor([0]), 2.0),
    "index_fill_rows": lambda L, x: x.index_fill_(0, L.tensor([0]), 2.0),
    "put_": lambda L, x: x.put_(L.tensor([0]), L.tensor([1.0])),
    "scatter_": lambda L, x: x.scatter_(0, L.zeros(1, 3, dtype=L.int64), 1.0),
    "index_add_": lambda L, x: x.index_add_(0, L.tensor([0]), L.ones(1, 3)),
    "masked_scatter_": lambda L, x: x.masked_scatter_(L.ones(2, 3).bool(), L.ones(6)),
}


@pytest.mark.parametrize("name", list(EXPANDED_WRITES))
def test_writes_into_expanded_tensor(name):
    def fn(L):
        base = L.zeros(3)
        EXPANDED_WRITES[name](L, base.expand(2, 3))
        return base

    same(fn)
