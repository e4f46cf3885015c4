"""View semantics against torch: memory shared both ways, strides and offsets, version counters,
in-place ops through views updating the base with the right gradients, and torch's errors."""

import numpy as np
import pytest
import torch
from autograd_compare import same
from hypothesis import given, settings
from hypothesis import strategies as st

import ndgrad


def grid(lib, requires_grad=False):
    return lib.arange(24.0).reshape(2, 3, 4).requires_grad_(requires_grad)


VIEWS = {
    "view": lambda x: x.view(6, 4),
    "view_infer": lambda x: x.view(-1),
    "reshape_viewable": lambda x: x.reshape(3, 8),
    "flatten": lambda x: x.flatten(1),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "transpose": lambda x: x.transpose(0, 2),
    "swapaxes": lambda x: x.swapaxes(1, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "movedim": lambda x: x.movedim(0, -1),
    "mT": lambda x: x.mT,
    "t": lambda x: x[0].t(),
    "squeeze": lambda x: x[:1].squeeze(0),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "select": lambda x: x.select(1, 2),
    "slice": lambda x: x[:, 1:, ::2],
    "index_int": lambda x: x[1, 2],
    "unfold": lambda x: x.unfold(2, 2, 1),
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "unbind": lambda x: x.unbind(1)[2],
    "split": lambda x: x.split(2, 2)[1],
    "split_sizes": lambda x: x.split([1, 3], 2)[1],
    "chunk": lambda x: x.chunk(3, 1)[1],
    "tensor_split": lambda x: x.tensor_split(3, 2)[2],
    "view_chain": lambda x: x.transpose(0, 1)[1:].unsqueeze(0)[0, :, 1],
    "detach": lambda x: x.detach(),
    "view_dtype": lambda x: x.view(x.dtype),
    "broadcast_to": lambda x: x[0, 0].broadcast_to(3, 4),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_shares_memory_both_ways(name):
    def f(lib):
        x = grid(lib)
        v = VIEWS[name](x)
        layout = (tuple(v.shape), v.stride(), v.storage_offset(), v.is_contiguous(),
                  (v.data_ptr() - x.data_ptr()) // 4)
        x.add_(100)  # write through the base
        seen = v.clone()
        if name not in ("expand", "broadcast_to", "unfold"):  # overlapping views: undefined
            v.mul_(-1)  # write through the view
        return layout, seen, x, v._base is x if name != "detach" else v._base is None, x._version

    same(f)


def test_reshape_copies_when_strides_forbid_a_view():
    def f(lib):
        x = grid(lib)
        y = x.transpose(0, 1).reshape(-1)
        y.zero_()
        return x, y._base is None, x.transpose(0, 1).is_contiguous()

    same(f)
    same(lambda lib: grid(lib).transpose(0, 1).view(-1))


def test_version_counter_is_shared_by_base_and_views():
    def f(lib):
        x = lib.zeros(4)
        a, b = x[1:], x.view(2, 2)
        versions = []
        for op in (lambda: a.add_(1), lambda: b[0].fill_(2), lambda: x.mul_(3),
                   lambda: a.__setitem__(0, 5.0), lambda: x.detach().zero_()):
            op()
            versions.append((x._version, a._version, b._version))
        return versions, x

    same(f)


# --- in-place through views: values and gradients ------------------------------------------------
INPLACE = {
    "row_mul": lambda y, w: y[0].mul_(w[0]),
    "column_add_through_t": lambda y, w: y.t()[1].add_(w[:2]),
    "view_exp": lambda y, w: y.view(-1)[2:4].exp_(),
    "setitem_view_then_use": lambda y, w: y.narrow(1, 0, 2).copy_(w[:2].unsqueeze(0) * 2),
    "diagonal_fill": lambda y, w: y.diagonal().fill_(3.0),
    "unsqueeze_chain": lambda y, w: y.unsqueeze(0)[0, 1, 1:].sub_(w[1:]),
    "nested_views": lambda y, w: y[1:].t()[2].pow_(2),
    "unfold_window": lambda y, w: y.unfold(1, 2, 2)[0, 0].mul_(w[:2]),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_on_view_updates_base_with_gradients(name):
    def f(lib):
        x = lib.tensor([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1.5
        INPLACE[name](y, w)
        loss = (y * lib.arange(8.0).reshape(2, 4)).sum()
        loss.backward()
        return y, x.grad, w.grad, y.grad_fn.name()

    same(f)


def test_view_taken_before_base_was_modified_sees_the_new_history():
    def f(lib):
        x = lib.ones(4, requires_grad=True)
        b = x * 1
        c = b[1:3]
        b.mul_(2)  # c's recorded history is stale now; torch regenerates it
        c.sum().backward()
        return c.grad_fn.name(), x.grad

    same(f)

    def through_other_view(lib):
        x = lib.ones(2, 3, requires_grad=True)
        b = x * 1
        row, col = b[0], b[:, 1]
        row.mul_(lib.tensor([1.0, 5.0, 1.0]))
        (col * lib.tensor([1.0, 10.0])).sum().backward()
        return col, x.grad

    same(through_other_view)


def test_double_backward_through_copy_slices():
    def f(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.clone()
        y[1:].mul_(x[:2])
        (g,) = lib.autograd.grad((y ** 2).sum(), x, create_graph=True)
        g.sum().backward()
        return g, x.grad

    same(f)


ERRORS = {
    "leaf_view": lambda L: L.ones(3, requires_grad=True)[0].mul_(2),
    "leaf": lambda L: L.ones(3, requires_grad=True).mul_(2),
    "unbind_output": lambda L: (L.ones(3, requires_grad=True) * 1).unbind()[0].mul_(2),
    "split_output": lambda L: (L.ones(4, requires_grad=True) * 1).split(2)[1].add_(1),
    "split_sizes_output": lambda L: (L.ones(4, requires_grad=True) * 1).split([1, 3])[1].add_(1),
    "chunk_output": lambda L: (L.ones(4, requires_grad=True) * 1).chunk(2)[0].add_(1),
    "iterating_rows": lambda L: [r.add_(1) for r in L.ones(2, 2, requires_grad=True) * 1],
    "view_made_in_no_grad": lambda L: _no_grad_view(L).mul_(2),
}


def _no_grad_view(lib):
    b = lib.ones(3, requires_grad=True) * 1
    with lib.no_grad():
        return b[1:]


@pytest.mark.parametrize("name", list(ERRORS))
def test_inplace_view_errors_match_torch(name):
    same(ERRORS[name])


def test_multi_output_view_stale_after_base_changes():
    def f(lib):
        b = lib.ones(4, requires_grad=True) * 1
        c = b.split(2)[0]
        b.mul_(2)
        return c.sum()

    same(f)


def test_multi_output_views_are_writable_without_grad():
    def f(lib):
        x = lib.zeros(4)
        x.split(2)[1].fill_(1)
        x.unbind()[0].add_(5)
        with lib.no_grad():
            y = lib.ones(3, requires_grad=True) * 1
            y.unbind()[0].mul_(3)
        return x, y

    same(f)


def test_numpy_interop_shares_memory():
    def f(lib):
        a = np.zeros(4, dtype=np.float32)
        t = lib.from_numpy(a)
        a[0] = 1
        t[1] = 2
        u = lib.as_tensor(a)
        u[2] = 3
        n = t.numpy()
        n[3] = 4
        v = t.view(2, 2).numpy()
        v[0, 0] = -1
        return t, a.tolist(), np.shares_memory(n, a)

    same(f)


# --- shape-op errors ------------------------------------------------------------------------------
SHAPE_ERRORS = {
    "reshape_size": lambda L: L.arange(3.0).reshape(2, 2),
    "view_size": lambda L: L.arange(6.0).view(4),
    "reshape_two_infers": lambda L: L.zeros(6).reshape(-1, -1),
    "reshape_bad_dim": lambda L: L.zeros(6).reshape(2, -2),
    "reshape_empty_infer": lambda L: L.zeros(0, 3).reshape(0, -1),
    "reshape_zero_into": lambda L: L.zeros(6).reshape(0, -1),
    "reshape_mixed_args": lambda L: L.zeros(6).reshape((2, 3), 1),
    "view_noncontiguous": lambda L: L.zeros(2, 3).t().view(6),
    "view_dtype_size": lambda L: L.zeros(2, 3).view(L.float64),
    "view_dtype_0d": lambda L: L.tensor(1.0).view(L.int16),
    "permute_count": lambda L: L.zeros(2, 3).permute(0),
    "permute_duplicate": lambda L: L.zeros(2, 3).permute(0, 0),
    "permute_range": lambda L: L.zeros(2, 3).permute(0, 2),
    "transpose_range": lambda L: L.zeros(2, 3).transpose(0, 2),
    "t_3d": lambda L: L.zeros(2, 3, 4).t(),
    "expand_fewer": lambda L: L.zeros(2, 3).expand(3),
    "expand_mismatch": lambda L: L.zeros(2, 3).expand(3, 3),
    "expand_leading_minus_one": lambda L: L.zeros(2, 3).expand(-1, 2, 3),
    "squeeze_range": lambda L: L.zeros(2, 3).squeeze(2),
    "unsqueeze_range": lambda L: L.zeros(2, 3).unsqueeze(3),
    "unsqueeze_range_negative": lambda L: L.zeros(2, 3).unsqueeze(-4),
    "flatten_order": lambda L: L.zeros(2, 3).flatten(1, 0),
    "unflatten_sizes": lambda L: L.zeros(2, 3).unflatten(1, (2, 2)),
    "movedim_repeat": lambda L: L.zeros(2, 3, 4).movedim((0, 0), (2, 1)),
    "movedim_lengths": lambda L: L.zeros(2, 3, 4).movedim((0, 1), (2,)),
    "narrow_length": lambda L: L.zeros(2, 3).narrow(0, 1, 5),
    "narrow_start": lambda L: L.zeros(2, 3).narrow(0, 3, 0),
    "select_range": lambda L: L.zeros(2, 3).select(0, 3),
    "unfold_size": lambda L: L.zeros(2, 3).unfold(1, 4, 1),
    "unfold_step": lambda L: L.zeros(2, 3).unfold(1, 2, 0),
    "chunk_zero": lambda L: L.zeros(2, 3).chunk(0),
    "split_zero": lambda L: L.zeros(2, 3).split(0),
    "split_negative": lambda L: L.zeros(2, 3).split(-1),
    "split_sizes_sum": lambda L: L.zeros(2, 3).split([1, 1], 1),
    "unbind_range": lambda L: L.zeros(2, 3).unbind(2),
    "cat_sizes": lambda L: L.cat([L.zeros(2, 3), L.zeros(2, 2)]),
    "cat_ranks": lambda L: L.cat([L.zeros(2, 3), L.zeros(3)]),
    "cat_empty_list": lambda L: L.cat([]),
    "cat_scalar": lambda L: L.cat([L.tensor(1.0)]),
    "cat_dim": lambda L: L.cat([L.zeros(2, 3)], 2),
    "cat_tensor_arg": lambda L: L.cat(L.zeros(2, 3)),
    "cat_non_tensor": lambda L: L.cat([L.zeros(2), 1]),
    "stack_sizes": lambda L: L.stack([L.zeros(2, 3), L.zeros(3, 2)]),
    "stack_empty": lambda L: L.stack([]),
    "stack_dim": lambda L: L.stack([L.zeros(2)], 2),
    "broadcast_shapes": lambda L: L.broadcast_shapes((2, 1), (3, 4)),
    "broadcast_tensors": lambda L: L.broadcast_tensors(L.zeros(2, 3), L.zeros(4)),
    "repeat_fewer": lambda L: L.zeros(2, 3).repeat(2),
    "repeat_negative": lambda L: L.zeros(2, 3).repeat(-1, 1),
    "repeat_interleave_sizes": lambda L: L.zeros(2, 3).repeat_interleave(L.tensor([1, 2, 3]), 0),
    "repeat_interleave_negative": lambda L: L.zeros(2).repeat_interleave(L.tensor([-1, 2])),
    "flip_int": lambda L: L.flip(L.zeros(2, 3), 0),
    "flip_repeat": lambda L: L.flip(L.zeros(2, 3), [0, 0]),
    "fliplr_1d": lambda L: L.fliplr(L.zeros(3)),
    "roll_align": lambda L: L.roll(L.zeros(2, 3), (1, 2), 0),
    "rot90_same_dims": lambda L: L.rot90(L.zeros(2, 3), 1, [0, 0]),
    "rot90_1d": lambda L: L.rot90(L.zeros(3)),
    "tril_1d": lambda L: L.tril(L.zeros(3)),
    "meshgrid_empty": lambda L: L.meshgrid(indexing="ij"),
    "meshgrid_indexing": lambda L: L.meshgrid(L.zeros(2), indexing="foo"),
    "meshgrid_dtypes": lambda L: L.meshgrid(L.zeros(2), L.arange(3), indexing="ij"),
    "meshgrid_warns": lambda L: [t.shape for t in L.meshgrid(L.zeros(2), L.zeros(3))],
    "hsplit_divisible": lambda L: L.hsplit(L.zeros(2, 3), 2),
}


@pytest.mark.parametrize("name", list(SHAPE_ERRORS))
def test_shape_errors_match_torch(name):
    same(SHAPE_ERRORS[name])


def test_meshgrid_rank_error():
    # torch prints the tensor in its C++ format; ndgrad prints its repr
    same(lambda L: L.meshgrid(L.zeros(2, 2), indexing="ij"),
         message="torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got:")


# --- properties: reshape and permute round trips keep values and views ----------------------------
@st.composite
def shape_and_perm(draw):
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    perm = tuple(draw(st.permutations(range(len(shape)))))
    return shape, perm


@settings(max_examples=50, deadline=None)
@given(shape_and_perm())
def test_permute_reshape_round_trips(case):
    shape, perm = case
    x = ndgrad.arange(float(np.prod(shape))).reshape(shape).clone()
    y = x.permute(perm)
    inv = tuple(int(i) for i in np.argsort(perm))
    back = y.permute(inv)
    assert back.shape == x.shape and back._base is x
    assert back.stride() == x.stride() or x.numel() == 0
    flat = y.reshape(-1)
    np.testing.assert_array_equal(flat.numpy(), np.transpose(x.numpy(), perm).reshape(-1))
    assert (flat._base is x) == np.shares_memory(flat.numpy(), x.numpy()) or x.numel() == 0
    t = torch.arange(float(np.prod(shape))).reshape(shape).permute(perm)
    assert y.is_contiguous() == t.is_contiguous()
    assert y.stride() == t.stride() or x.numel() == 0  # empty: NumPy keeps no layout


def test_inplace_view_ops_and_resize():
    def f(lib):
        x = lib.ones(1, 2, 1, requires_grad=True)
        names = [(x * 1).squeeze_().grad_fn.name(), (x * 1).squeeze_(0).grad_fn.name(),
                 (x * 1).squeeze_((0, 2)).grad_fn.name(), (x * 1).unsqueeze_(0).grad_fn.name(),
                 (x * 1).transpose_(0, 1).grad_fn.name(), (x * 1).swapaxes_(0, 1).grad_fn.name(),
                 (x[0] * 1).t_().grad_fn.name()]
        y = x * lib.tensor([[[2.0], [3.0]]])
        y.t_() if y.ndim == 2 else y.squeeze_(2).t_()
        (y * lib.tensor([[1.0, 10.0]])).sum().backward()
        z = lib.zeros(2, 3)
        w = z.view(6)
        z.t_()
        w[1] = 5
        r = lib.arange(6.0)
        r.resize_(2, 2)
        g = lib.arange(3.0).resize_(5)[:3]
        return names, y.shape, x.grad, z, z._version, r, g, z.stride(), x.output_nr

    same(f)
    same(lambda L: L.ones(2, requires_grad=True).unsqueeze_(0))
    same(lambda L: L.ones(2, requires_grad=True).resize_(3))


def test_split_with_sizes_and_fill_diagonal():
    def f(lib):
        x = lib.arange(6.0, requires_grad=True)
        parts = (x * 1).split_with_sizes([2, 4])
        y = lib.zeros(5, 3)
        y.fill_diagonal_(5, wrap=True)
        z = (lib.ones(3, 3, requires_grad=True) * 2).fill_diagonal_(0)
        c = lib.zeros(2, 2, 2).fill_diagonal_(1)
        return parts, parts[0].grad_fn.name(), y, lib.zeros(5, 3).fill_diagonal_(5), z, c

    same(f)
    same(lambda L: L.zeros(2, 3, 2).fill_diagonal_(1))
    same(lambda L: L.zeros(1).fill_diagonal_(1))
