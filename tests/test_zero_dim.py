"""0-d and empty inputs where ndgrad differed from torch: take_along_dim/gather/scatter on 0-d
tensors, F.linear with a vector weight or a misfit bias, var/std warnings and gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from harness import to_numpy

import ndgrad


def _run(lib, expr: str):
    """Value, grad_fn name and input gradient of ``expr``, or the exception; plus warnings."""
    leaves = []

    def x(*shape):
        leaves.append(lib.arange(1.0, 1 + int(np.prod(shape))).reshape(shape).requires_grad_())
        return leaves[-1]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            y = eval(expr, {"L": lib, "F": lib.nn.functional, "x": x})
            name = y.grad_fn and y.grad_fn.name()
            if y.requires_grad:
                y.sum().backward()
            res = (to_numpy(y), tuple(y.shape), name, [t.grad is not None and to_numpy(t.grad)
                                                       for t in leaves])
        except Exception as e:  # noqa: BLE001  (compared with torch's)
            res = e
    return res, sorted({str(w.message).split(" (Triggered")[0] for w in caught})


def check(expr: str) -> None:
    (got, gw), (want, ww) = _run(ndgrad, expr), _run(torch, expr)
    assert gw == ww, f"{expr}: warnings {gw} != torch's {ww}"
    if isinstance(want, Exception):
        assert type(got).__name__ == type(want).__name__ and str(got) == str(want), \
            f"{expr}: {got!r} != torch's {want!r}"
        return
    assert not isinstance(got, Exception), f"{expr}: ndgrad raised {got!r}"
    assert got[1:3] == want[1:3], f"{expr}: {got[1:3]} != torch's {want[1:3]}"
    assert got[0].dtype == want[0].dtype, f"{expr}: {got[0].dtype} != torch's {want[0].dtype}"
    for a, b in zip([got[0]] + got[3], [want[0]] + want[3]):
        np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True, err_msg=expr)


@pytest.mark.parametrize("expr", [
    "L.take_along_dim(x(), L.tensor(0))", "L.take_along_dim(x(), L.tensor(0), 0)",
    "L.take_along_dim(x(), L.tensor(0), -1)", "L.take_along_dim(x(3), L.tensor(1), 0)",
    "L.take_along_dim(x(), L.tensor([0, 0]), 0)",
    "L.take_along_dim(x(2, 3), L.tensor([[1]]).int(), 1)",
    "L.take_along_dim(x(2, 3), L.tensor([[1.0]]), 1)",
    "L.gather(x(), 0, L.tensor(0))", "L.gather(x(), -1, L.tensor([0, 0]))",
    "L.gather(x(), 0, L.tensor([1]))", "L.gather(x(3), 0, L.tensor(2))",
    "L.gather(x(), 0, L.zeros(1, 1, dtype=L.long))",
    "L.gather(x(0, 4), 1, L.zeros(0, 1, dtype=L.long))",
    "x().scatter(0, L.tensor(0), 7.5)", "x().scatter(0, L.tensor([0]), x(1) * 10)",
    "x(3).scatter(0, L.tensor([1]), x() * 10)", "x().scatter(0, L.zeros(1, 1, dtype=L.long), 7.5)",
    "x(2, 2).scatter(0, L.zeros(1, dtype=L.long), 7.5)",
    "x().scatter(0, L.tensor([0, 0]), x() * 10)",
    "x().scatter_reduce(0, L.tensor([0, 0]), x(2) * 10, 'sum')",
    "x().scatter_reduce(0, L.tensor([0, 0]), x(2) * 10, 'amax', include_self=False)",
    "(x() * 1).scatter_(0, L.tensor(0), x() * 10)",
    # an empty index is not size-checked
    "x(2, 4).gather(0, L.zeros(5, 0, dtype=L.long))",
    "x(2, 4).scatter(0, L.zeros(5, 0, dtype=L.long), x(1, 1))",
    "x(0, 4).index_copy(1, L.zeros(0, dtype=L.long), x(0, 2))",
    "x(3, 4).index_copy(1, L.tensor([0]), x(3, 2))",
    "L.logsumexp(x(), 1)", "L.logsumexp(x(), (0, -1))", "L.logsumexp(x(), -1)",
])
def test_gather_scatter_family_on_0d_and_empty_inputs(expr):
    # torch reads a 0-d input or index as one element along dim 0
    check(expr)


@pytest.mark.parametrize("expr", [
    "L.searchsorted(L.tensor(1.0), L.tensor(2.0))",
    "L.searchsorted(L.tensor(1.0), L.tensor([2.0]))",
    "L.searchsorted(L.tensor(1.0), L.tensor(2.0), sorter=L.tensor(0))",
    "L.searchsorted(L.tensor([[1.0, 2]]), L.tensor(2.0))",
    "L.searchsorted(L.tensor([[1.0, 2]]), 1.5)",
    "L.searchsorted(L.tensor([1.0, 2]), L.tensor(2.0))",
])
def test_searchsorted_0d(expr):
    got, want = _run(ndgrad, expr)[0], _run(torch, expr)[0]
    if isinstance(want, Exception):
        assert type(got) is type(want) and str(got) == str(want), f"{got!r} != {want!r}"
    else:
        assert got[0] == want[0] and got[1] == want[1]


@pytest.mark.parametrize("expr", [
    "F.linear(x(3), x(3))", "F.linear(x(2, 3), x(3))", "F.linear(x(4, 2, 3), x(3))",
    "F.linear(x(3), x(3), x())", "F.linear(x(2, 3), x(3), x())", "F.linear(x(4, 2, 3), x(3), x())",
    "F.linear(x(3), x(3), x(1))", "F.linear(x(4, 2, 3).transpose(0, 1), x(3), x(1))",
    "F.linear(x(2, 3), x(4))", "F.linear(x(2, 3), x(2, 4, 3))", "F.linear(x(), x())",
    "F.linear(x(3), x(4, 3), x(3))", "F.linear(x(2, 3), x(4, 3), x(3))",
    "F.linear(x(5, 2, 3), x(4, 3), x(3))", "F.linear(x(5, 2, 3).transpose(0, 1), x(4, 3), x(3))",
    "F.linear(x(3), x(4, 3), x())", "F.linear(x(5, 2, 3), x(4, 3), x())",
    "F.linear(x(5, 2, 3).transpose(0, 1), x(4, 3), x(4))", "F.linear(x(2, 3), x(4, 3), x(4))",
])
def test_linear_vector_weights_and_bias_shapes(expr):
    # a 1-D weight is matmul's dot/mv (0-d output for a 1-D input); torch's node names and its
    # addmm/broadcast errors for a bias that does not fit
    check(expr)


@pytest.mark.parametrize("expr", [
    "L.std(x(), correction=0)", "L.std(x(), 0, unbiased=False, keepdim=True)",
    "L.std_mean(x(), correction=0)[0]", "L.var(x(), correction=0)", "L.var(x())",
    "L.var(x(0, 4), -1)", "L.std(x(0, 4), 0)", "L.var_mean(x(3, 0), 0)[0]",
])
def test_var_std_on_0d_and_empty_inputs(expr):
    # a zero std has a zero gradient without a divide-by-zero warning; an empty input warns about
    # its degrees of freedom as torch does
    check(expr)


_IDX = ["L.tensor([-1])", "L.tensor([5])", "L.tensor([-4])", "L.tensor([0, 0])", "L.tensor(0)",
        "L.zeros(0, dtype=L.long)", "L.tensor([1])"]


@pytest.mark.parametrize("i", _IDX)
@pytest.mark.parametrize("op", [
    "x(2, 3).index_fill(0, {i}, 1.0)", "x(2, 3).index_fill(1, {i}, 1.0)",
    "x(2, 3).index_add(0, {i}, x(1, 3))", "x(2, 3).index_add(1, {i}, x(2, 1))",
    "x(2, 3).index_copy(0, {i}, x(1, 3))", "x(2, 3).index_copy(-1, {i}, x(2, 1))",
    "L.index_select(x(2, 3), 0, {i})", "L.index_select(x(2, 3), 1, {i})",
    "x().index_fill(0, {i}, 1.0)", "x().index_add(0, {i}, x())", "x().index_add(0, {i}, x(1))",
    "x().index_copy(0, {i}, x())", "x().index_copy(0, {i}, x(1))", "L.index_select(x(), 0, {i})",
    "x().index_add(0, {i}, x(), alpha=2)", "(x() * 1).index_fill_(0, {i}, L.tensor(2.0))",
    "x(2, 3).index_add(0, {i}, x(1, 4))", "x(2, 3).index_add(0, {i}, x(3))",
    "x(2, 3).index_copy(0, {i}, x(1, 4))",
])
def test_index_ops_bounds_and_source_checks(op, i):
    # torch's checks in its order: only index_fill takes negative indices; 0-d tensors are one
    # element along dim 0
    check(op.format(i=i))


@pytest.mark.parametrize("expr", [
    "x(3, 2).index_put((L.tensor([0, 1]),), x(3))",
    "x(3, 2).index_put((L.tensor([0, 1]),), x(3), accumulate=True)",
    "(x(3, 2) * 1).index_put_((L.tensor([0, 1]),), x(3))",
    "x(0, 2).index_put((L.zeros(0, dtype=L.long),), x(0))",
    "L.aminmax(x(0, 4), dim=0)[0]", "L.aminmax(x(0, 4))[0]", "L.aminmax(x(4, 0), dim=-1)[0]",
    "L.aminmax(x(4, 0), dim=0)[0]",
])
def test_index_put_and_aminmax_errors(expr):
    check(expr)


@pytest.mark.parametrize("expr", [
    "L.split(x(), 2)", "L.split(x(), [1])", "L.chunk(x(), 3)", "x().chunk(1, 0)",
    "L.tensor_split(x(), 3)", "L.tensor_split(x(), [1])", "L.narrow(x(), 0, 0, 1)",
    "L.narrow(x(), 1, 0, 0)", "L.select(x(), 0, 0)", "L.unbind(x())", "L.unbind(x(), 1)",
    "L.flip(x(), (0,))", "x().flip(-1)", "L.flip(x(), (1,))", "L.flip(x(), (0, 0))",
    "L.transpose(x(), -1, 0)", "L.swapaxes(x(), 0, 0)", "L.transpose(x(), 0, 1)", "x().t()",
    "L.t(x(3))", "L.flatten(x(), 1)", "L.flatten(x(), 0, 1)", "L.flatten(x(), -1, 0)",
    "L.unflatten(x(), 0, ())", "L.unflatten(x(), 1, (1,))", "L.movedim(x(), 0, 0)",
    "L.movedim(x(), 1, 0)", "L.roll(x(), 1, 0)", "L.roll(x(), 1, -1)", "L.roll(x(), 1, ())",
    "L.roll(x(2), 1, ())", "L.roll(x(2), (), ())", "x(0, 3).repeat(2, 1)", "L.tile(x(0, 6), (2,))",
    "x(2, 0).repeat(2, 3)", "x(3).repeat(0, 2)", "L.split(x(0, 3), 2)", "L.chunk(x(0, 3), 2, 1)",
    "L.tensor_split(x(0, 3), [1, 2], 1)", "L.unflatten(x(3, 0), 1, (-1, 2))",
])
def test_shape_ops_on_0d_and_empty_inputs(expr):
    # torch's "at least 1-dimensional" errors; a 0-d tensor takes dims -1 and 0 where torch wraps
    # scalars (flip, transpose, flatten); repeat's backward on an empty input
    check(expr)


def test_unflatten_0d_error_is_torchs_without_its_stack_trace():
    for lib in (ndgrad, torch):
        with pytest.raises(RuntimeError, match="^unflatten got an unexpected error:\nDimension "
                           "specified as 0 but tensor has no dimensions"):
            lib.unflatten(lib.tensor(1.0), 0, (1,))


@pytest.mark.parametrize("attr", ["mT", "H", "mH", "adjoint()"])
@pytest.mark.parametrize("value", [2.0, 1 + 2j])
def test_matrix_transposes_of_0d_tensors_are_deprecated_identities(attr, value):
    # torch warns once per process, so its warning cannot be compared here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = eval(f"t.{attr}", {"t": torch.tensor(value)})
    with pytest.warns(UserWarning, match="deprecated on 0-D tensors"):
        got = eval(f"t.{attr}", {"t": ndgrad.tensor(value)})
    assert got.shape == () and got.item() == want.item()
    for lib in (ndgrad, torch):
        with pytest.raises(RuntimeError, match=f"tensor.{attr.rstrip('()')}"):
            eval(f"t.{attr}", {"t": lib.ones(3)})


@pytest.mark.parametrize("expr", [
    "L.sort(x(), 1)[0]", "L.sort(x(), -1, descending=True)[0]", "L.argsort(x(), 1)",
    "L.argsort(x(), 0)", "L.topk(x(), 1, 1)[0]", "L.topk(x(), 2)[0]", "L.topk(x(0, 3), 2, 1)[0]",
    "L.kthvalue(x(), 1, 1)[0]", "L.kthvalue(x(), 2)[0]", "L.kthvalue(x(0), 2)[0]",
    "L.kthvalue(x(0, 4), 1, 0)[0]", "L.kthvalue(x(0, 4), 1, 1)[0]", "L.median(x(), 1)[0]",
    "L.median(x())", "L.median(x(3))", "L.median(x(0))", "L.nanmedian(x(0))",
    "L.median(L.zeros(0, dtype=L.long))", "L.nanmedian(L.zeros(0, dtype=L.int32))",
    "L.median(L.zeros(0, 2, dtype=L.uint8))", "L.median(x(0, 4), 0)[0]", "L.nanmedian(x(), 1)[0]",
    "L.mode(x(), 1)[0]", "L.mode(x(4, 0), 0)[0]", "L.quantile(x(), 0.5, 1)",
    "L.quantile(x(), 0.5, 0, keepdim=True)", "L.quantile(x(3), 0.5)",
    "L.quantile(x(2, 3), L.tensor([0.2, 0.5]), 1)", "L.nanquantile(x(), 0.5, 1)",
    "L.unique(x().detach(), dim=0)", "L.unique(x().detach(), dim=1)",
    "L.unique(x(0, 3).detach(), dim=1)", "L.unique(x(0, 0).detach(), dim=0)",
    "L.unique(x(0, 0, 2).detach(), dim=2)",
    "L.unique(x(3, 0).detach(), dim=1, return_counts=True)[1]",
    "L.unique_consecutive(x().detach(), dim=-1)", "L.unique_consecutive(x(0, 3).detach(), dim=1)",
    "L.unique_consecutive(x(0, 3).detach(), dim=0, return_inverse=True)[0]",
])
def test_sorting_ops_on_0d_and_empty_inputs(expr):
    # a 0-d tensor takes dims -1 and 0 only; torch's checks on empty dims; an empty integer
    # median is nan cast to the dtype; median/quantile node names
    check(expr)


@pytest.mark.parametrize("expr", [
    "L.isin(L.tensor([1, 2], dtype=L.int8), True)", "L.isin(L.tensor([1, 2]), 1+0j)",
    "L.isin(True, L.tensor([1, 2]))", "L.isin(L.tensor([0, 2], dtype=L.int8), 2**40)",
    "L.isin(257, L.tensor([1, 2], dtype=L.uint8))", "L.isin(L.tensor([1, 2], dtype=L.uint8), 257)",
    "L.isin(L.tensor([1, 2], dtype=L.uint8), L.tensor(257))",
    "L.isin(L.tensor([1, 2], dtype=L.uint8), L.tensor([257]))",
    "L.isin(258, L.arange(12, dtype=L.uint8))", "L.isin(L.tensor([1, 2], dtype=L.int8), 1.5)",
    "L.isin(L.tensor([1, 2], dtype=L.int8), 2.0, invert=True)",
])
def test_isin_scalar_types_and_promotion(expr):
    # bool and complex scalars are rejected; the comparison dtype follows torch's two code paths
    check(expr)


@pytest.mark.parametrize("expr", [
    "L.cumsum(x(), 1)", "L.cumsum(x(), -2)", "L.cumsum(x(), -1, dtype=L.float64)",
    "L.cumprod(x(), 1)", "L.cummax(x(), 1)[0]", "L.cummin(x(), -2)[0]", "L.cummax(x(), -1)[1]",
    "L.cummin(x(0, 3), 1)[1]", "L.logcumsumexp(x(), 1)", "L.logcumsumexp(x(0, 2), 0)",
    "x().detach().cumsum_(1)", "x().detach().cumprod_(-1)", "L.trapezoid(x())",
    "L.trapezoid(x(), dim=3)", "L.trapezoid(x(), x(), dim=3)", "L.trapezoid(x(), x(3))",
    "L.trapezoid(x(0, 3), dim=0)",
])
def test_scans_on_0d_and_empty_inputs(expr):
    # a 0-d tensor takes dims -1 and 0 only (cummax/cummin with their own message)
    check(expr)


@pytest.mark.parametrize("expr", [
    "F.max_pool2d(x(0, 3, 7, 6), 3, 2, 1, ceil_mode=True)", "F.max_pool1d(x(0, 3, 10), 2)",
    "F.max_pool2d(x(0, 3, 4, 6), 2, return_indices=True)[1]", "F.max_pool1d(x(0, 7), 2)",
    "F.max_pool1d(x(3, 0), 2)", "F.max_pool1d(x(2, 0, 7), 2)", "F.max_pool2d(x(0, 5, 5), 2)",
    "F.max_pool2d(x(2, 0, 5, 5), 2)", "F.max_pool2d(x(2, 3, 0, 5), 2)", "F.max_pool2d(x(), 2)",
    "F.avg_pool2d(x(0, 3, 5, 7), 2)", "F.avg_pool2d(x(0, 5, 7), 2)", "F.avg_pool2d(x(), 2)",
    "F.avg_pool2d(x(5), 2)", "F.avg_pool2d(x(0, 7), 2)", "F.avg_pool2d(x(2, 3, 4, 6, 2), 2)",
    "F.avg_pool2d(x(2, 3, 0, 6), 2)", "F.avg_pool1d(x(0, 7), 2)", "F.avg_pool1d(x(), 2)",
    "F.avg_pool1d(x(2, 3, 0), 2)", "F.avg_pool1d(x(2, 3, 4, 6), 2)",
    "F.adaptive_avg_pool2d(x(), 2)", "F.adaptive_avg_pool2d(x(0, 3, 4, 4), 2)",
    "F.adaptive_avg_pool2d(x(2, 3, 0, 6), 2)", "F.adaptive_avg_pool2d(x(3, 0, 7), 2)",
    "F.adaptive_avg_pool1d(x(), 2)", "F.adaptive_avg_pool1d(x(2, 3, 0), 2)",
    "F.adaptive_avg_pool1d(x(2, 3, 4, 6), 2)",
    "F.interpolate(x(), scale_factor=2)", "F.interpolate(x(5), scale_factor=2)",
    "F.interpolate(x(), size=2, mode='area')", "F.interpolate(x(2, 3), size=2, mode='linear')",
    "F.interpolate(x(2, 3, 4), scale_factor=2, mode='bilinear')",
    "F.interpolate(x(2, 0, 4), scale_factor=2, mode='linear')",
    "F.interpolate(x(2, 3, 0), size=3, mode='linear')",
    "F.interpolate(x(2, 3, 0, 4), size=3, mode='bilinear')", "F.interpolate(x(2, 3, 4), size=0)",
    "F.interpolate(x(0, 3, 4, 4), size=5, mode='bicubic')",
    "F.interpolate(x(1, 1, 0, 2, 2), size=2)",
])
def test_pooling_and_interpolate_on_0d_and_empty_inputs(expr):
    # only the batch dim may be empty; torch's dimension errors (avg_pool1d reports the
    # unsqueezed 2-D shape it pools)
    check(expr)


@pytest.mark.parametrize("expr", [l.strip() for l in """
F.threshold(L.tensor([1, 2], dtype=L.int8), 1.5, 3)
F.threshold(L.tensor([1, 2], dtype=L.uint8), -1, 3)
F.threshold(L.tensor([1, 2], dtype=L.uint8), -300, 3)
F.threshold(L.tensor([1, 2], dtype=L.int8), 1, 300)
F.hardtanh(L.tensor([1, 2], dtype=L.uint8), 0, 300)
F.hardtanh(L.tensor([1, 2], dtype=L.uint8), -1, 2)
F.hardtanh(L.tensor([1, 2], dtype=L.int8), -1.5, 1)
F.hardtanh(L.tensor([1, 2], dtype=L.int8), -300, 1)
F.leaky_relu(L.tensor([1, 2]), 0.5)
F.leaky_relu(L.tensor([1, 2], dtype=L.uint8), -1)
F.leaky_relu(L.tensor([True]))
F.hardtanh(L.tensor([1.0, 2], dtype=L.float16), -1e6, 1)
F.threshold(L.tensor([1.0, 2], dtype=L.float16), 1, 1e6)
F.leaky_relu(L.tensor([1.0, 2], dtype=L.float16), 1e6)
F.relu6(L.tensor([1, 2], dtype=L.uint8))
""".strip().splitlines()])
def test_activation_scalars_on_integer_and_half_inputs(expr):
    # threshold/hardtanh take their scalars through c10's checked conversion (a negative int
    # wraps into uint8); leaky_relu has no integer kernel
    check(expr)


def test_norm_layers_pass_an_empty_batch_through_as_torch():
    import warnings

    out = {}
    for lib in (ndgrad, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the mean of an empty batch
            lib.manual_seed(0)
            bn = lib.nn.BatchNorm1d(3)
            x = lib.randn(0, 3, requires_grad=True)
            y = bn(x)
            y.sum().backward()
            inorm = lib.nn.InstanceNorm1d(3, track_running_stats=True)
            z = inorm(lib.randn(0, 3, 5))
            gn = lib.nn.GroupNorm(1, 3)
            w = gn(lib.randn(0, 3, 5, requires_grad=True))
            w.sum().backward()
        out[lib] = (tuple(y.shape), y.grad_fn.name(), bn.running_mean.tolist(),
                    bn.running_var.tolist(), tuple(x.grad.shape), bn.weight.grad.tolist(),
                    tuple(z.shape), str(inorm.running_mean.tolist()), tuple(w.shape),
                    w.grad_fn.name(), gn.weight.grad.tolist())
    assert out[ndgrad] == out[torch]
