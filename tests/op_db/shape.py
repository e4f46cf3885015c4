"""Op-table entries for views and shape ops: reshape family, permutations, expand/squeeze, pieces
(narrow, select, split, chunk, unbind, unfold), joins (cat, stack and variants), repeats,
flips/rolls, triangles, meshgrid and the copy/cast ops."""

import numpy as np

from op_db import OpInfo, arr, register

ALL = ("float32", "float64", "float16", "bfloat16", "int64", "bool")
FLOATS = ("float32", "float64", "float16", "bfloat16")
F = ("float32", "float64")


def samples(*cases):
    """cases: (shapes, kwargs); each shape list gives one input array per shape."""
    def gen(rng, dtype):
        for shapes, kw in cases:
            yield [np.asarray(arr(rng, s, dtype)) for s in shapes], kw

    return gen


def op(name, fn, cases, dtypes=ALL, **kw):
    return OpInfo(name, fn, samples(*cases), dtypes=dtypes, **kw)


def nc(x):
    """A non-contiguous version of a >= 2-D input (every other column)."""
    return x[:, ::2] if x.ndim >= 2 else x


def chain(T, out):
    """Multiply a view so gradients flowing back through it are not all ones."""
    return out * 2 if out.is_floating_point() else out


register(
    # --- reshape family
    op("reshape", lambda T, x, shape: T.reshape(x, shape),
       [([(2, 3, 4)], {"shape": (6, 4)}), ([(2, 3, 4)], {"shape": (-1,)}),
        ([()], {"shape": (1, 1)}), ([(0, 3)], {"shape": (3, 0)}), ([(5,)], {"shape": (5, 1)})]),
    op("reshape_noncontiguous", lambda T, x, shape: nc(x).reshape(shape),
       [([(3, 6)], {"shape": (9,)}), ([(4, 6, 2)], {"shape": (2, 2, 6)})]),
    op("view", lambda T, x, shape: x.view(shape),
       [([(2, 3, 4)], {"shape": (4, -1)}), ([(6,)], {"shape": (2, 3)}), ([()], {"shape": ()})]),
    op("view_transposed", lambda T, x: chain(T, x.t().view(3, 2, 2)), [([(4, 3)], {})]),
    op("view_as_reshape_as", lambda T, x, y: (x.view_as(y), x.reshape_as(y)),
       [([(2, 3), (3, 2)], {})]),
    op("flatten", lambda T, x, **k: T.flatten(x, **k),
       [([(2, 3, 4)], {}), ([(2, 3, 4)], {"start_dim": 1}), ([(2, 3, 4)], {"end_dim": -2}),
        ([()], {}), ([(5,)], {}), ([()], {"start_dim": -1, "end_dim": 0})]),
    op("unflatten", lambda T, x, dim, sizes: x.unflatten(dim, sizes),
       [([(2, 6)], {"dim": 1, "sizes": (2, 3)}), ([(6, 2)], {"dim": 0, "sizes": (-1, 2)})]),
    # --- permutations
    op("transpose", lambda T, x, d0, d1: T.transpose(x, d0, d1),
       [([(2, 3, 4)], {"d0": 0, "d1": 2}), ([(2, 3)], {"d0": -1, "d1": 0}),
        ([(5,)], {"d0": 0, "d1": -1}), ([()], {"d0": -1, "d1": 0})]),
    op("swapaxes_swapdims", lambda T, x: (T.swapaxes(x, 0, 1), x.swapdims(1, 2)),
       [([(2, 3, 4)], {})]),
    op("t", lambda T, x: chain(T, T.t(x)), [([(2, 3)], {}), ([(4,)], {}), ([()], {})]),
    op("T_mT", lambda T, x: (x.T, x.mT), [([(2, 3)], {}), ([(3, 0)], {})]),
    op("mT_batched", lambda T, x: chain(T, x.mT), [([(2, 3, 4)], {})]),
    op("permute", lambda T, x, dims: T.permute(nc(x), dims),
       [([(2, 6, 4)], {"dims": (2, 0, 1)}), ([(2, 3)], {"dims": (-1, -2)}), ([()], {"dims": ()})]),
    op("movedim", lambda T, x, s, d: T.movedim(x, s, d),
       [([(2, 3, 4)], {"s": 0, "d": -1}), ([(2, 3, 4)], {"s": (0, 1), "d": (2, 0)}),
        ([()], {"s": 0, "d": -1})]),
    op("moveaxis", lambda T, x: T.moveaxis(x, -1, 0), [([(2, 3, 4)], {})]),
    # --- broadcasting views and squeezes
    op("expand", lambda T, x, sizes: x.expand(*sizes),
       [([(3, 1)], {"sizes": (2, 3, 4)}), ([(1,)], {"sizes": (5,)}), ([()], {"sizes": (2, 2)}),
        ([(3, 1)], {"sizes": (-1, 2)})]),
    op("expand_as", lambda T, x, y: x.expand_as(y), [([(1, 4), (3, 4)], {})]),
    op("broadcast_to", lambda T, x: T.broadcast_to(nc(x), (2, 3, 2)), [([(3, 4)], {})]),
    op("broadcast_tensors", lambda T, x, y: T.broadcast_tensors(x, y),
       [([(3, 1), (1, 4)], {}), ([(2, 3), (3,)], {}), ([(), (2,)], {})]),
    op("squeeze", lambda T, x, **k: T.squeeze(x, **k),
       [([(1, 3, 1)], {}), ([(1, 3, 1)], {"dim": 0}), ([(1, 3, 1)], {"dim": (0, 2)}),
        ([(2, 3)], {"dim": 1}), ([()], {})]),
    op("unsqueeze", lambda T, x, dim: T.unsqueeze(x, dim),
       [([(2, 3)], {"dim": 0}), ([(2, 3)], {"dim": -1}), ([()], {"dim": 0})]),
    op("atleast", lambda T, x: (T.atleast_1d(x), T.atleast_2d(x), T.atleast_3d(x)),
       [([()], {}), ([(3,)], {}), ([(2, 3)], {}), ([(2, 3, 4)], {})]),
    # --- pieces
    op("narrow", lambda T, x, **k: T.narrow(nc(x), **k),
       [([(4, 6)], {"dim": 0, "start": 1, "length": 2}),
        ([(4, 6)], {"dim": -1, "start": -2, "length": 2}),
        ([(4, 6)], {"dim": 1, "start": 3, "length": 0})]),
    op("select", lambda T, x, dim, index: chain(T, T.select(x, dim, index)),
       [([(3, 4)], {"dim": 1, "index": -1}), ([(5,)], {"dim": 0, "index": 2})]),
    op("split", lambda T, x, s, dim: T.split(x, s, dim),
       [([(5, 3)], {"s": 2, "dim": 0}), ([(5, 3)], {"s": [1, 2], "dim": 1}),
        ([(0, 3)], {"s": 0, "dim": 0}), ([(4,)], {"s": 4, "dim": 0})]),
    op("split_partially_used", lambda T, x: x.split(2)[1] * 3, [([(5, 2)], {})]),
    op("chunk", lambda T, x, n, dim: T.chunk(nc(x), n, dim),
       [([(5, 6)], {"n": 3, "dim": 0}), ([(6, 8)], {"n": 4, "dim": 1}),
        ([(0,)], {"n": 2, "dim": 0})]),
    op("tensor_split", lambda T, x, s, dim: T.tensor_split(x, s, dim),
       [([(7, 2)], {"s": 3, "dim": 0}), ([(7, 2)], {"s": [1, 5], "dim": 0}),
        ([(7, 2)], {"s": [6, 2, 9], "dim": 0})]),
    op("hsplit_vsplit_dsplit", lambda T, x: (*T.hsplit(x, 2), *T.vsplit(x, [1]), *T.dsplit(x, 2)),
       [([(2, 4, 2)], {})]),
    op("unbind", lambda T, x, dim: T.unbind(x, dim), [([(3, 2)], {"dim": 1}), ([(3,)], {"dim": 0}),
                                                      ([(0, 2)], {"dim": 0})]),
    op("unbind_partially_used", lambda T, x: x.unbind(1)[0] * 5, [([(3, 2)], {})]),
    op("unfold", lambda T, x, **k: x.unfold(**k),
       [([(2, 7)], {"dimension": 1, "size": 3, "step": 2}),
        ([(5,)], {"dimension": 0, "size": 2, "step": 1}),
        ([()], {"dimension": 0, "size": 1, "step": 1}),
        ([(4, 3)], {"dimension": 0, "size": 4, "step": 3})]),
    op("unfold_noncontiguous", lambda T, x: nc(x).t().unfold(0, 2, 1), [([(3, 8)], {})]),
    op("getitem_basic_view", lambda T, x: chain(T, x[1:, None, ::2, 1]), [([(3, 4, 5)], {})]),
    # --- joins
    op("cat", lambda T, x, y, dim: T.cat([x, y], dim),
       [([(2, 3), (4, 3)], {"dim": 0}), ([(2, 3), (2, 1)], {"dim": -1}),
        ([(2, 3), (0,)], {"dim": 0}), ([(0, 3), (2, 3)], {"dim": 0})]),
    op("cat_noncontiguous", lambda T, x, y: T.concat((nc(x), y.t()), dim=1),
       [([(3, 4), (1, 3)], {})]),
    op("cat_promotes", lambda T, x, y: T.cat([x, y.to(T.float64)]), [([(2,), (3,)], {})],
       dtypes=F),
    op("stack", lambda T, x, y, dim: T.stack((x, y), dim),
       [([(2, 3), (2, 3)], {"dim": 0}), ([(2, 3), (2, 3)], {"dim": -1}),
        ([(), ()], {"dim": 0})]),
    op("hstack_vstack_dstack", lambda T, x, y: (T.hstack([x, y]), T.vstack([x, y]),
                                                T.dstack([x, y]), T.row_stack([x, y])),
       [([(3,), (3,)], {}), ([(2, 3), (2, 3)], {}), ([(), ()], {})]),
    op("column_stack", lambda T, x, y: T.column_stack([x, y]), [([(3,), (3, 2)], {})]),
    # --- repeats
    op("repeat", lambda T, x, sizes: x.repeat(*sizes),
       [([(2, 3)], {"sizes": (2, 1)}), ([(2, 3)], {"sizes": (2, 1, 3)}),
        ([()], {"sizes": (3,)}), ([(3,)], {"sizes": (0,)}), ([(0, 3)], {"sizes": (2, 1)}),
        ([(2, 3)], {"sizes": (0, 2)})]),
    op("tile", lambda T, x, dims: T.tile(nc(x), dims),
       [([(2, 6)], {"dims": (2,)}), ([(2, 6)], {"dims": (2, 2, 1)}), ([(0, 6)], {"dims": (2,)})]),
    op("repeat_interleave", lambda T, x, **k: T.repeat_interleave(x, **k),
       [([(2, 3)], {"repeats": 2}), ([(2, 3)], {"repeats": 3, "dim": 1}),
        ([(3,)], {"repeats": 0, "dim": 0})]),
    op("repeat_interleave_tensor", lambda T, x: x.repeat_interleave(T.tensor([1, 0, 2]), dim=0),
       [([(3, 2)], {})]),
    # --- reorderings
    op("flip", lambda T, x, dims: T.flip(nc(x), dims),
       [([(3, 4)], {"dims": (0,)}), ([(3, 4)], {"dims": [0, 1]}), ([()], {"dims": ()}),
        ([()], {"dims": (-1,)})]),
    op("fliplr_flipud", lambda T, x: (T.fliplr(x), T.flipud(x)), [([(3, 4)], {})]),
    op("roll", lambda T, x, **k: T.roll(x, **k),
       [([(3, 4)], {"shifts": 1}), ([(3, 4)], {"shifts": -2, "dims": 1}),
        ([(3, 4)], {"shifts": (1, 5), "dims": (0, 1)}), ([(0,)], {"shifts": 2}),
        ([()], {"shifts": 1, "dims": ()})]),
    op("rot90", lambda T, x, **k: T.rot90(nc(x), **k),
       [([(3, 4)], {}), ([(3, 4)], {"k": 2}), ([(3, 4)], {"k": -1, "dims": (1, 0)}),
        ([(2, 3, 4)], {"k": 3, "dims": [0, 2]})]),
    op("tril_triu", lambda T, x, d: (T.tril(x, d), T.triu(x, d)),
       [([(4, 4)], {"d": 0}), ([(3, 5)], {"d": 1}), ([(2, 3, 3)], {"d": -1}),
        ([(0, 2)], {"d": 0})]),
    op("meshgrid_ij", lambda T, x, y: T.meshgrid(x, y, indexing="ij"), [([(3,), (4,)], {}),
                                                                       ([(), (2,)], {})]),
    op("meshgrid_xy", lambda T, x, y, z: T.meshgrid([x, y, z], indexing="xy"),
       [([(3,), (4,), (2,)], {})]),
    # --- copies and casts
    op("clone_contiguous", lambda T, x: (T.clone(x), nc(x).contiguous(), x.t().clone()),
       [([(3, 4)], {})]),
    op("to_dtype", lambda T, x: (x.to(T.float64), x.double().float(), x.to(T.float32)),
       [([(3, 2)], {}), ([()], {})], dtypes=F, gradcheck=False),  # float32 outputs
    op("to_half", lambda T, x: (x.half(), x.bfloat16().float()), [([(3, 2)], {})], dtypes=F,
       gradcheck=False),
    op("to_int_is_not_differentiable", lambda T, x: (x.long(), x.bool(), x.int() * 2),
       [([(3,)], {})], dtypes=F, grad=False),
    op("to_complex_and_back", lambda T, x: (x.to(T.complex64) * (1 + 2j)).real,
       [([(3,)], {})], dtypes=("float32",)),
    op("type_as", lambda T, x, y: x.type_as(y), [([(2,), (1,)], {})], dtypes=F),
)

# --- added for tests/test_op_coverage.py: adjoint, ravel and the shape queries
register(
    op("adjoint", lambda T, x: chain(T, T.adjoint(x)), [([(3, 4)], {}), ([(2, 3, 4)], {})],
       F + ("complex64", "complex128")),
    op("ravel", lambda T, x: chain(T, T.ravel(nc(x))), [([(3, 4)], {}), ([()], {}),
                                                       ([(2, 3, 4)], {})]),
    op("numel_broadcast_shapes", lambda T, x: (T.numel(x), tuple(T.broadcast_shapes(
        x.shape, (1,) * x.ndim, (2,) + (1,) * x.ndim))), [([(3, 4)], {}), ([()], {}),
                                                           ([(0, 2)], {})], ("float32",),
       grad=False, tags=("numel", "broadcast_shapes")),
)
