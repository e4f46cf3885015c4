"""tensor[key] and tensor[key] = value against torch: values, views, grad_fn names, gradients
(repeated indices accumulate), warnings and error messages."""

import numpy as np
import pytest
from autograd_compare import same
from hypothesis import given, settings
from hypothesis import strategies as st


def base(lib, requires_grad=True):
    return lib.arange(24.0).reshape(2, 3, 4).requires_grad_(requires_grad)


# Keys are built per library so tensors in them belong to it.
KEYS = {
    "int": lambda L: 1,
    "neg_int": lambda L: -1,
    "slice": lambda L: slice(1, None),
    "full_slice": lambda L: slice(None),
    "tuple_full_slices": lambda L: (slice(None), slice(None)),
    "step": lambda L: (slice(None), slice(None, None, 2)),
    "int_int": lambda L: (1, 2),
    "int_int_int": lambda L: (1, 2, 3),
    "slice_int": lambda L: (slice(1, 2), 1),
    "ellipsis": lambda L: (Ellipsis, 1),
    "ellipsis_only": lambda L: Ellipsis,
    "none": lambda L: None,
    "none_mid": lambda L: (slice(None), None, 1),
    "none_ellipsis_none": lambda L: (None, Ellipsis, None),
    "true": lambda L: True,
    "false": lambda L: False,
    "empty_tuple": lambda L: (),
    "list": lambda L: [1, 0, 1],
    "list_as_tuple": lambda L: [[0, 1], [1, 2]],
    "tensor": lambda L: L.tensor([1, 0, 1]),
    "tensor_int32": lambda L: L.tensor([1, 0], dtype=L.int32),
    "tensor_0d": lambda L: L.tensor(1),
    "tensor_2d": lambda L: L.tensor([[0, 1], [1, 1]]),
    "two_tensors": lambda L: (L.tensor([0, 1]), L.tensor([2, 0])),
    "broadcast_tensors": lambda L: (L.tensor([[0], [1]]), L.tensor([0, 2, 1])),
    "tensors_split_by_slice": lambda L: (L.tensor([0, 1]), slice(None), L.tensor([3, 0])),
    "int_then_tensor": lambda L: (0, slice(None), L.tensor([1, 2])),
    "slice_then_tensor": lambda L: (slice(None), L.tensor([2, 2, 0])),
    "mask_full": lambda L: base(L, False) > 10,
    "mask_dim0": lambda L: L.tensor([True, False]),
    "mask_2d": lambda L: L.tensor([[True, False, True], [False, False, True]]),
    "mask_then_int": lambda L: (slice(None), L.tensor([True, False, True]), 2),
    "mask_and_index": lambda L: (L.tensor([True, True]), L.tensor([0, 2])),
    "bool_0d_tensor": lambda L: L.tensor(True),
    "empty_list": lambda L: [],
    "empty_tensor": lambda L: L.tensor([], dtype=L.int64),
    "numpy_index": lambda L: np.array([1, 0]),
    "numpy_int": lambda L: np.int64(1),
    "negative_tensor": lambda L: L.tensor([-1, -2]),
    "tensor_slice_bounds": lambda L: slice(L.tensor(1), L.tensor(2)),
}


@pytest.mark.parametrize("name", list(KEYS))
def test_getitem_value_grad_fn_and_grad(name):
    def f(lib):
        x = base(lib)
        y = x[KEYS[name](lib)]
        (y * lib.arange(float(y.numel())).reshape(y.shape)).sum().backward()
        return y, x.grad

    same(f)


@pytest.mark.parametrize("name", ["int", "slice", "step", "none_mid", "ellipsis", "slice_int",
                                  "tensor_slice_bounds"])
def test_basic_indexing_returns_views(name):
    def f(lib):
        x = base(lib, False)
        y = x[KEYS[name](lib)]
        y.fill_(-1)
        return x, y._base is x, y._version, x._version

    same(f)


@pytest.mark.parametrize("name", ["list", "tensor", "mask_full", "two_tensors", "true"])
def test_advanced_indexing_copies(name):
    def f(lib):
        x = base(lib, False)
        y = x[KEYS[name](lib)]
        y.fill_(-1)
        return x, y._base is None

    same(f)


def test_repeated_indices_accumulate_in_backward():
    def f(lib):
        x = lib.arange(4.0, requires_grad=True)
        i = lib.tensor([0, 0, 3, 0, 3])
        x[i].sum().backward()
        y = lib.arange(6.0).reshape(2, 3).requires_grad_()
        (y[[0, 0, 1], [2, 2, 2]] * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return x.grad, y.grad

    same(f)


def test_double_backward_through_indexing():
    def f(lib):
        x = lib.arange(1.0, 5.0, requires_grad=True)
        y = (x[lib.tensor([0, 0, 2])] ** 3).sum() + (x[1:] ** 2).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        g.sum().backward()
        return g, x.grad

    same(f)


ERRORS = {
    "int_out_of_range": lambda L: base(L)[5],
    "int_out_of_range_dim1": lambda L: base(L)[0, 7],
    "int_after_none": lambda L: base(L)[None, 5],
    "too_many": lambda L: base(L)[0, 0, 0, 0],
    "too_many_with_mask": lambda L: base(L)[L.ones(3, 4, dtype=L.bool), 0, 0],
    "zero_dim": lambda L: L.tensor(5.0)[0],
    "tensor_out_of_range": lambda L: base(L)[L.tensor([0, 5])],
    "tensor_out_of_range_second": lambda L: base(L)[:, [0, 5]],
    "tensor_out_of_range_ordinal": lambda L: base(L)[[0, 1], :, [1, 5]],
    "empty_dim": lambda L: L.zeros(2, 0)[:, [0]],
    "mask_shape": lambda L: base(L)[L.tensor([True, False, True])],
    "mask_shape_after_slice": lambda L: base(L)[0:1, L.tensor([True, False])],
    "mask_shape_second_dim": lambda L: base(L)[:, L.ones(3, 6, dtype=L.bool)],
    "broadcast": lambda L: base(L)[L.tensor([0, 1]), L.tensor([0, 1, 2])],
    "float_tensor": lambda L: base(L)[L.tensor([1.0])],
    "int8_tensor": lambda L: base(L)[L.tensor([1], dtype=L.int8)],
    "float_scalar": lambda L: base(L)[1.5],
    "numpy_bool": lambda L: base(L)[np.True_],
    "string": lambda L: base(L)["a"],
    "negative_step": lambda L: base(L)[::-1],
    "zero_step": lambda L: base(L)[::0],
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_getitem_errors_match_torch(name):
    same(ERRORS[name])


def test_uint8_mask_warns_and_list_as_tuple_warns():
    same(lambda L: base(L, False)[L.tensor([1, 0], dtype=L.uint8)])
    same(lambda L: base(L, False)[[[0, 1], [1, 2]]])


# --- __setitem__ ---------------------------------------------------------------------------------
SETS = {
    "int_scalar": lambda L: (1, 5.0),
    "slice_broadcast_row": lambda L: (slice(None), L.tensor([1.0, 2.0, 3.0, 4.0])),
    "leading_ones": lambda L: ((0, 1), L.ones(1, 1, 4)),
    "index_list": lambda L: ([1, 0], L.tensor(7.0)),
    "mask": lambda L: (base(L, False) > 12, -1.0),
    "mask_tensor_values": lambda L: (L.tensor([[True, False, True]] * 2), L.arange(4.0)),
    "mixed": lambda L: ((0, slice(None), L.tensor([1, 3])), L.tensor([[9.0, 8.0]])),
    "ellipsis_none": lambda L: ((Ellipsis, None, 2), 0.5),
    "repeated_last_wins": lambda L: ((0, 0, L.tensor([1, 1])), L.tensor([10.0, 20.0])),
    "bool_value": lambda L: (0, True),
    "int_value_into_float": lambda L: (0, 3),
    "double_tensor_basic": lambda L: (0, L.ones(3, 4, dtype=L.float64)),
}


@pytest.mark.parametrize("name", list(SETS))
def test_setitem_values(name):
    def f(lib):
        x = base(lib, False)
        key, value = SETS[name](lib)
        x[key] = value
        return x, x._version

    same(f)


@pytest.mark.parametrize("name", ["int_scalar", "slice_broadcast_row", "leading_ones",
                                  "index_list", "mask", "mixed", "ellipsis_none"])
def test_setitem_gradients(name):
    def f(lib):
        x = base(lib)
        y = x * 2
        key, value = SETS[name](lib)
        if isinstance(value, lib.Tensor) and value.is_floating_point():
            value = value.clone().requires_grad_()
        y[key] = value * 3 if isinstance(value, lib.Tensor) and value.requires_grad else value
        (y * y).sum().backward()
        return y, x.grad, value.grad if isinstance(value, lib.Tensor) else None

    same(f)


def test_setitem_into_tensor_not_requiring_grad_records_graph():
    def f(lib):
        x = lib.zeros(3)
        w = lib.tensor(2.0, requires_grad=True)
        x[1] = w
        x[lib.tensor([0, 0])] = w * 3
        (x * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return x, w.grad

    same(f)


SET_ERRORS = {
    "shape_basic": lambda L: L.zeros(3, 4).__setitem__(slice(0, 2), L.ones(3)),
    "shape_advanced": lambda L: L.zeros(3, 4).__setitem__([0, 1], L.ones(3)),
    "too_many_dims": lambda L: L.zeros(3, 4).__setitem__(0, L.ones(2, 4)),
    "list_value": lambda L: L.zeros(3).__setitem__(0, [1, 2]),
    "numpy_value": lambda L: L.zeros(3).__setitem__(0, np.ones(1)),
    "none_value": lambda L: L.zeros(3).__setitem__(0, None),
    "dtype_advanced": lambda L: L.zeros(3, dtype=L.int64).__setitem__([0], L.tensor([2.5])),
    "leaf_basic": lambda L: L.zeros(3, requires_grad=True).__setitem__(0, 1.0),
    "leaf_advanced": lambda L: L.zeros(3, requires_grad=True).__setitem__([0], 1.0),
    "out_of_range": lambda L: L.zeros(3).__setitem__(3, 1.0),
    "advanced_out_of_range": lambda L: L.zeros(3).__setitem__(L.tensor([0, 4]), 1.0),
}


@pytest.mark.parametrize("name", list(SET_ERRORS))
def test_setitem_errors_match_torch(name):
    same(SET_ERRORS[name])


def test_setitem_under_no_grad_on_leaf_and_version_counter():
    def f(lib):
        a = lib.zeros(3, requires_grad=True)
        with lib.no_grad():
            a[0] = 1.0
            a[[1, 2]] = lib.tensor([2.0, 3.0])
        return a, a._version

    same(f)


def test_setitem_int_tensor_truncates_python_float():
    def f(lib):
        x = lib.arange(4)
        x[0] = 2.7
        x[[1]] = 3.7
        x[2] = lib.tensor(9.9)
        return x

    same(f)


def test_index_put_accumulate_and_errors():
    def f(lib):
        y = lib.zeros(3)
        y.index_put_((lib.tensor([0, 0, 1]),), lib.tensor([1.0, 2.0, 3.0]), accumulate=True)
        z = lib.index_put(lib.zeros(2, 2), (lib.tensor([0, 1]), lib.tensor([1, 1])),
                          lib.tensor(5.0))
        return y, z

    same(f)
    same(lambda L: L.zeros(3).index_put_([0], L.tensor(1.0)))

    def grads(lib):
        x = lib.ones(4, requires_grad=True)
        v = lib.tensor([1.0, 2.0], requires_grad=True)
        out = x.index_put((lib.tensor([1, 1]),), v * 2, accumulate=True)
        (out * lib.arange(4.0)).sum().backward()
        return out, x.grad, v.grad

    same(grads)


# --- property: random basic keys agree with torch and NumPy's view semantics ----------------------
@st.composite
def basic_keys(draw, shape):
    key = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "none", "skip"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            a = draw(st.none() | st.integers(-n - 1, n + 1))
            b = draw(st.none() | st.integers(-n - 1, n + 1))
            key.append(slice(a, b, draw(st.none() | st.integers(1, 3))))
        elif kind == "none":
            key.extend([None, slice(None)])
        else:
            key.append(Ellipsis) if Ellipsis not in key else key.append(slice(None))
    return tuple(key)


@settings(max_examples=60, deadline=None)
@given(basic_keys((3, 4, 2)))
def test_random_basic_keys_match_torch(key):
    def f(lib):
        x = lib.arange(24.0).reshape(3, 4, 2).requires_grad_()
        y = x[key]
        (y * 2).sum().backward()
        return y, x.grad

    same(f)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 2), min_size=1, max_size=6),
       st.lists(st.integers(0, 3), min_size=1, max_size=1))
def test_random_advanced_keys_match_torch(rows, cols):
    def f(lib):
        x = lib.arange(12.0).reshape(3, 4).requires_grad_()
        y = x[lib.tensor(rows)[:, None], lib.tensor(cols)]
        (y * y).sum().backward()
        return y, x.grad

    same(f)


# --- index-driven ops: errors and in-place forms --------------------------------------------------
def _x(lib):
    return lib.arange(6.0).reshape(2, 3)


GATHER_ERRORS = {
    "gather_rank": lambda L: L.gather(_x(L), 1, L.tensor([0, 1])),
    "gather_size": lambda L: L.gather(_x(L), 0, L.tensor([[0, 1, 2, 0]])),
    "gather_range": lambda L: L.gather(_x(L), 1, L.tensor([[5]])),
    "gather_negative": lambda L: L.gather(_x(L), 1, L.tensor([[-1]])),
    "gather_dim": lambda L: L.gather(_x(L), 2, L.tensor([[0]])),
    "gather_float_index": lambda L: L.gather(_x(L), 1, L.tensor([[0.0]])),
    "scatter_src_small": lambda L: _x(L).scatter(1, L.tensor([[0, 1], [1, 0]]), L.ones(1, 1)),
    "scatter_dtype": lambda L: _x(L).scatter(1, L.tensor([[0]]), L.ones(1, 1, dtype=L.float64)),
    "scatter_range": lambda L: _x(L).scatter_(1, L.tensor([[7]]), 1.0),
    "scatter_float_index": lambda L: _x(L).scatter(1, L.tensor([[0.0]]), 1.0),
    "index_select_range": lambda L: L.index_select(_x(L), 1, L.tensor([5])),
    "index_select_2d": lambda L: L.index_select(_x(L), 1, L.tensor([[0]])),
    "index_select_float": lambda L: L.index_select(_x(L), 1, L.tensor([1.0])),
    "index_add_count": lambda L: _x(L).index_add_(1, L.tensor([0, 0]), L.ones(2, 3)),
    "index_fill_vector": lambda L: _x(L).index_fill_(1, L.tensor([0]), L.tensor([1.0])),
    "masked_select_int_mask": lambda L: L.masked_select(_x(L), L.tensor([1, 0, 1])),
    "masked_scatter_short": lambda L: _x(L).masked_scatter_(L.tensor([True, False, True]),
                                                            L.arange(2.0)),
    "take_range": lambda L: L.take(_x(L), L.tensor([6])),
    "take_along_dim_shapes": lambda L: L.take_along_dim(_x(L), L.tensor([[0, 1]]), 0),
    "searchsorted_shapes": lambda L: L.searchsorted(L.tensor([[1, 3], [2, 4]]), L.tensor([2, 3])),
    "searchsorted_side": lambda L: L.searchsorted(L.tensor([1, 3]), L.tensor([2]), side="left",
                                                  right=True),
    "bucketize_2d": lambda L: L.bucketize(L.tensor([1]), L.tensor([[1, 3]])),
}


@pytest.mark.parametrize("name", list(GATHER_ERRORS))
def test_index_op_errors_match_torch(name):
    same(GATHER_ERRORS[name])


def test_index_ops_in_place_and_grad_fn_names():
    def f(lib):
        x = _x(lib).requires_grad_()
        i = lib.tensor([[0, 1], [1, 0]])
        outs = [lib.gather(x, 1, i), x.scatter(1, i, lib.ones(2, 2)), x.scatter(1, i, 5.0),
                x.scatter_add(1, i, lib.ones(2, 2)), lib.index_select(x, 1, lib.tensor([2, 0])),
                x.index_add(1, lib.tensor([0]), lib.ones(2, 1)),
                x.index_copy(1, lib.tensor([0]), lib.ones(2, 1)),
                x.index_fill(1, lib.tensor([0]), 2.0), lib.masked_select(x, x > 2),
                x.masked_scatter(lib.tensor([True, False, True]), lib.arange(10.0)),
                lib.take(x, lib.tensor([1])), lib.take_along_dim(x, lib.tensor([5, 0]))]
        names = [o.grad_fn.name() for o in outs]
        y = _x(lib)
        y.scatter_(1, i, -1.0).scatter_add_(0, lib.tensor([[1, 1, 1]]), lib.ones(1, 3))
        y.index_add_(0, lib.tensor([0, 0]), lib.ones(2, 3), alpha=2).index_fill_(1, lib.tensor(1),
                                                                                  9.0)
        y.index_copy_(0, lib.tensor([1]), lib.zeros(1, 3)).masked_scatter_(y > 5, lib.arange(9.0))
        return names, y, y._version

    same(f)


def test_nonzero_forms_and_searchsorted_batches():
    def f(lib):
        a = lib.tensor([[0, 1], [2, 0]])
        s = lib.tensor([[1.0, 3.0, 5.0], [-2.0, 0.0, 2.0]])
        v = lib.tensor([[3.0, 6.0], [-3.0, 0.5]])
        return (lib.nonzero(a), lib.nonzero(a, as_tuple=True), lib.nonzero(lib.tensor(3)),
                lib.nonzero(lib.tensor(0), as_tuple=True), lib.argwhere(lib.tensor([0.0, 1.0])),
                lib.searchsorted(s, v), lib.searchsorted(s, v, right=True),
                lib.searchsorted(lib.tensor([1, 3, 5, 7]), 3),
                lib.searchsorted(lib.tensor([3, 1]), lib.tensor([2]), sorter=lib.tensor([1, 0])),
                lib.bucketize(4, lib.tensor([1, 3, 5, 7])),
                lib.bucketize(lib.tensor([1, 5, 9]), lib.tensor([1, 3, 5, 7]), right=True),
                lib.bucketize(lib.tensor([1.0, 6.0]), lib.tensor([0.0, 5.0]), out_int32=True))

    same(f)


@pytest.mark.parametrize("name", ["shape_basic", "shape_advanced", "too_many_dims",
                                  "advanced_out_of_range"])
def test_setitem_errors_while_recording(name):
    def f(lib):
        x = lib.zeros(3, 4) if name != "advanced_out_of_range" else lib.zeros(3)
        x.requires_grad_()
        y = x * 1
        key, value = {"shape_basic": (slice(0, 2), lib.ones(3)),
                      "shape_advanced": ([0, 1], lib.ones(3)),
                      "too_many_dims": (0, lib.ones(2, 4)),
                      "advanced_out_of_range": (lib.tensor([0, 4]), lib.tensor(1.0))}[name]
        y[key] = value.requires_grad_()
        return y

    same(f)
