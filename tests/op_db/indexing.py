"""Op-table entries for indexing: getitem/setitem (basic, advanced, masks, mixed), index_put,
gather/scatter, index_select/add/copy/fill, masked_select/scatter, take, nonzero, searchsorted."""

import numpy as np

from op_db import OpInfo, arr, register

ALL = ("float32", "float64", "float16", "bfloat16", "int64", "bool")
F = ("float32", "float64")
FH = ("float32", "float64", "float16", "bfloat16")


def idx(*values):
    return np.asarray(values, dtype=np.int64)


def samples(*cases):
    """cases: (shapes, extra arrays, kwargs): random inputs of the dtype, then fixed arrays."""
    def gen(rng, dtype):
        for shapes, extra, kw in cases:
            yield [np.asarray(arr(rng, s, dtype)) for s in shapes] + list(extra), kw

    return gen


def op(name, fn, cases, dtypes=F, **kw):
    return OpInfo(name, fn, samples(*cases), dtypes=dtypes, **kw)


def weighted(T, y):
    """Weight an output by position so each gradient element is distinct."""
    if not y.is_floating_point():
        return y
    return y * T.arange(1, y.numel() + 1, dtype=y.dtype).reshape(y.shape)


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, True, False]])

register(
    # --- reading
    op("getitem_basic", lambda T, x: (x[1], x[:, 1:3], x[..., ::2], x[None, -1, None], x[1, 2]),
       [([(3, 4)], [], {})], ALL),
    op("getitem_index_tensor", lambda T, x, i: weighted(T, x[i]),
       [([(5, 2)], [idx(0, 3, 3, -1)], {}), ([(4,)], [idx(2, 2, 2)], {}),
        ([(3, 2)], [np.zeros(0, np.int64)], {})], ALL),
    op("getitem_two_tensors", lambda T, x, i, j: weighted(T, x[i, j]),
       [([(3, 4)], [idx(0, 2, 2), idx(1, 1, 3)], {}),
        ([(3, 4)], [idx(0, 1)[:, None], idx(3, 0, 3)], {})], ALL),
    op("getitem_separated_tensors", lambda T, x, i, j: weighted(T, x[i, :, j]),
       [([(3, 2, 4)], [idx(0, 2), idx(3, 3)], {})], FH),
    op("getitem_mixed", lambda T, x, i: weighted(T, x[1:, None, i, 0]),
       [([(3, 4, 2)], [idx(3, 0, 0)], {})], FH),
    op("getitem_int_then_tensor", lambda T, x, i: weighted(T, x[0, :, i]),
       [([(2, 3, 4)], [idx(1, 3)], {})], FH),
    op("getitem_mask", lambda T, x, m: weighted(T, x[m]), [([(3, 4)], [MASK], {})], ALL),
    op("getitem_mask_rows", lambda T, x, m: weighted(T, x[m, 1:]),
       [([(3, 4)], [np.array([True, False, True])], {})], FH),
    op("getitem_value_mask", lambda T, x: weighted(T, x[x > 0]), [([(4, 5)], [], {})], F),
    op("getitem_noncontiguous", lambda T, x, i: weighted(T, x.t()[i]),
       [([(3, 4)], [idx(1, 0, 1)], {})], FH),
    op("getitem_bool_scalars", lambda T, x: (x[True], x[False], x[None, True]),
       [([(2, 3)], [], {})], FH),
    # --- writing (functional: on a clone)
    op("setitem_basic", lambda T, x, v: _set(T, x, (slice(None), 1), v),
       [([(3, 4), (3,)], [], {}), ([(3, 4), ()], [], {})], ALL),
    op("setitem_advanced", lambda T, x, v, i: _set(T, x, i, v),
       [([(4, 3), (2, 3)], [idx(3, 0)], {}), ([(4, 3), (3,)], [idx(1, 2)], {})], ALL),
    op("setitem_repeated_index", lambda T, x, v, i: _set(T, x, i, v),
       [([(4, 3), (3,)], [idx(1, 1)], {})], F, gradcheck=False),  # last write wins
    op("setitem_mask", lambda T, x, v: _set(T, x, x > 0, v), [([(3, 4), ()], [], {})], F),
    op("setitem_mixed", lambda T, x, v, i: _set(T, x, (0, slice(None), i), v),
       [([(2, 3, 4), (3, 2)], [idx(2, 0)], {})], F),
    op("index_put", lambda T, x, v, i, **k: T.index_put(x, (i,), v, **k),
       [([(5, 2), (3, 2)], [idx(4, 0, 4)], {"accumulate": True}),
        ([(5, 2), (2,)], [idx(1, 3)], {})], FH),
    op("index_put_two_indices", lambda T, x, v, i, j: x.index_put((i, j), v, accumulate=True),
       [([(3, 4), (3,)], [idx(0, 0, 2), idx(1, 1, 3)], {})], F),
    # --- gather / scatter
    op("gather", lambda T, x, i, dim: weighted(T, T.gather(x, dim, i)),
       [([(3, 4)], [idx(0, 3, 3, 1, 2, 0).reshape(3, 2)], {"dim": 1}),
        ([(3, 4)], [idx(2, 0, 2, 1).reshape(1, 4)], {"dim": 0}),
        ([(3, 4)], [idx(1, 0).reshape(2, 1)], {"dim": -1}),
        ([(2, 3, 2)], [idx(0, 0, 1, 1).reshape(2, 1, 2)], {"dim": 1}),
        # torch reads a 0-d input or index as one element along dim 0
        ([()], [idx(0).reshape(())], {"dim": 0}), ([()], [idx(0, 0, 0)], {"dim": -1}),
        ([(3,)], [idx(2).reshape(())], {"dim": 0}), ([()], [idx()], {"dim": 0})], ALL),
    op("gather_noncontiguous", lambda T, x, i: T.gather(x.t(), 0, i),
       [([(3, 4)], [idx(0, 3, 3, 1, 2, 0).reshape(3, 2)], {})], F),
    op("scatter_src", lambda T, x, s, i, dim: T.scatter(x, dim, i, s),
       [([(3, 4), (2, 2)], [idx(0, 3, 1, 2).reshape(2, 2)], {"dim": 1}),
        ([(3, 4), (1, 4)], [idx(2, 0, 1, 1).reshape(1, 4)], {"dim": 0}),
        ([(), ()], [idx(0).reshape(())], {"dim": 0}), ([(), (1,)], [idx(0)], {"dim": -1}),
        ([(3,), ()], [idx(1)], {"dim": 0})], ALL),
    # torch's own backward fails when src is larger than index: values only
    op("scatter_larger_src", lambda T, x, s, i: T.scatter(x, 1, i, s),
       [([(3, 4), (2, 3)], [idx(0, 3, 1, 2).reshape(2, 2)], {})], ALL, grad=False),
    op("scatter_value", lambda T, x, i: x.scatter(1, i, 2.5),
       [([(3, 4)], [idx(0, 3, 1, 2).reshape(2, 2)], {})], FH),
    op("scatter_add", lambda T, x, s, i: T.scatter_add(x, 1, i, s),
       [([(3, 4), (3, 3)], [idx(0, 0, 0, 3, 1, 3, 2, 2, 2).reshape(3, 3)], {})], FH + ("int64",)),
    op("scatter_reduce_add", lambda T, x, s, i: x.scatter(0, i, s, reduce="add"),
       [([(3, 2), (2, 2)], [idx(1, 1, 1, 2).reshape(2, 2)], {})], F, grad=False),
    op("scatter_inplace", lambda T, x, s, i: (x * 1).scatter_(0, i, s).scatter_add_(0, i, s),
       [([(3, 2), (2, 2)], [idx(1, 0, 2, 2).reshape(2, 2)], {})], F),
    op("take_along_dim", lambda T, x, i, **k: T.take_along_dim(x, i, **k),
       [([(3, 4)], [idx(0, 3, 1).reshape(3, 1)], {"dim": 1}),
        ([(3, 4)], [idx(2, 0, 1, 1).reshape(1, 4)], {"dim": 0}),
        ([(3, 4)], [idx(11, 0, 5)], {}), ([(2, 3, 4)], [idx(1, 0).reshape(1, 2, 1)], {"dim": 1}),
        ([()], [idx(0).reshape(())], {}), ([()], [idx(0, 0)], {}), ([(0, 4)], [idx()], {}),
        ([(0, 4)], [idx().reshape(0, 1)], {"dim": 1})],
       ALL),
    op("put", lambda T, x, s, i, **k: T.put(x, i, s, **k),
       [([(3, 4), (3,)], [idx(0, 11, -2)], {}),
        ([(3, 4), (2, 2)], [idx(5, 5, 0, 2).reshape(2, 2)], {"accumulate": True})], ALL),
    op("take", lambda T, x, i: weighted(T, T.take(x, i)),
       [([(3, 4)], [idx(0, 11, -1, 5, 5).reshape(5, 1)], {}), ([()], [idx(0, 0)], {})], ALL),
    # --- one index per slice
    op("index_select", lambda T, x, i, dim: weighted(T, T.index_select(x, dim, i)),
       [([(3, 4)], [idx(3, 0, 3)], {"dim": 1}), ([(3, 4)], [idx(2)], {"dim": 0}),
        ([(3, 4)], [np.array(1)], {"dim": -1})], ALL),
    op("index_add", lambda T, x, s, i: x.index_add(0, i, s, alpha=2),
       [([(4, 3), (3, 3)], [idx(3, 0, 3)], {})], FH + ("int64",)),
    op("index_copy", lambda T, x, s, i: x.index_copy(1, i, s),
       [([(2, 4), (2, 2)], [idx(3, 1)], {})], ALL),
    op("index_fill", lambda T, x, i: (x.index_fill(1, i, -1.5), x.index_fill(0, i[1:], 2)),
       [([(2, 4)], [idx(3, 1)], {})], FH),
    op("index_fill_tensor_value", lambda T, x, v, i: x.index_fill(0, i, v),
       [([(3, 2), ()], [idx(2, 0)], {})], F),
    op("index_inplace", lambda T, x, s, i: (x * 1).index_add_(1, i, s).index_copy_(1, i[:1],
                                                                             s[:, :1]),
       [([(2, 3), (2, 2)], [idx(2, 2)], {})], F),
    # --- masks
    op("masked_select", lambda T, x, m: weighted(T, T.masked_select(x, m)),
       [([(3, 4)], [MASK], {}), ([(3, 4)], [MASK[0]], {}), ([(4,)], [MASK[:, :1]], {})], ALL),
    op("masked_scatter", lambda T, x, s, m: x.masked_scatter(m, s),
       [([(3, 4), (9,)], [MASK], {}), ([(3, 4), (2, 5)], [MASK[1]], {})], ALL),
    op("masked_scatter_inplace", lambda T, x, s, m: (x * 1).masked_scatter_(m, s),
       [([(3, 4), (7,)], [MASK], {})], F),
    # --- positions (not differentiable)
    op("nonzero_argwhere", lambda T, x: (T.nonzero(x), T.argwhere(x), T.nonzero(x, as_tuple=True)),
       [([(3, 4)], [], {}), ([()], [], {}), ([(0, 2)], [], {})], ("float32", "int64", "bool"),
       grad=False),
    op("searchsorted", lambda T, s, v, **k: T.searchsorted(s.sort(-1).values, v, **k),
       [([(6,), (3, 2)], [], {}), ([(6,), (4,)], [], {"right": True}),
        ([(2, 5), (2, 3)], [], {"side": "right"}), ([(3, 4), (3, 2)], [], {"out_int32": True}),
        ([(5,), ()], [], {})], ("float32", "float64", "int64"), grad=False),
    op("searchsorted_sorter", lambda T, s, v: T.searchsorted(s, v, sorter=s.argsort()),
       [([(6,), (4,)], [], {})], F, grad=False),
    op("bucketize", lambda T, x, b, **k: T.bucketize(x, b.sort().values, **k),
       [([(3, 4), (5,)], [], {}), ([(6,), (3,)], [], {"right": True, "out_int32": True})],
       ("float32", "float64", "int64"), grad=False),
)


def _set(T, x, key, v):
    y = x.clone()
    y[key] = v
    return y


def _reduce_samples(ties: bool, zero_d: bool = False):
    def gen(rng, dtype):
        index = idx(0, 1, 0, 1, 2, 2, 0, 3).reshape(2, 4)
        for reduce in ("sum", "prod", "mean", "amax", "amin"):
            for include_self in (True, False):
                x = np.asarray(arr(rng, (4, 4), dtype))
                src = np.asarray(arr(rng, (2, 4), dtype))
                if ties and reduce in ("amax", "amin") and dtype.startswith("float"):
                    src[0, 0] = x[0, 0]  # a tie between self and src shares the gradient
                if ties and reduce == "prod" and dtype.startswith("float"):
                    src[1, 1], x[2, 2] = 0, 0  # zeros take torch's exclusive-product path
                yield [x, src, index], {"reduce": reduce, "include_self": include_self}
                if zero_d:  # a 0-d input: one element along dim 0 (as torch reads it)
                        yield [np.asarray(x[0, 0]), src[:, 0], index[:, 0] * 0], {
                        "reduce": reduce, "include_self": include_self}

    return gen


register(
    # ties and zeros: torch's conventions, not finite differences
    OpInfo("scatter_reduce", lambda T, x, s, i, **k: T.scatter_reduce(x, 0, i, s, **k),
           _reduce_samples(True, True), dtypes=("float32", "float64", "int64"), gradcheck=False),
    OpInfo("scatter_reduce_smooth", lambda T, x, s, i, **k: T.scatter_reduce(x, 0, i, s, **k),
           _reduce_samples(False, True), dtypes=("float64",)),
    OpInfo("scatter_reduce_inplace", lambda T, x, s, i, **k: (x * 1).scatter_reduce_(
        1, i.t()[:, :2] % 4, s.t()[:, :2], **k), _reduce_samples(False), dtypes=F),
)

# --- added for tests/test_op_coverage.py: torch.masked_fill (scalar and 0-d tensor values)
register(
    op("masked_fill", lambda T, x, v, m: (T.masked_fill(x, m, -1.5), T.masked_fill(x, m, v)),
       [([(3, 4), ()], [MASK], {}), ([(2, 3, 4), ()], [MASK[1]], {}),
        ([(), ()], [np.array(True)], {})], ALL),
)
