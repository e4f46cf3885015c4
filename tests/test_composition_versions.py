"""Writes after an op, against torch: into its index tensor, its mask, an index it returned, or an
input or output that torch's node saves though ndgrad's formula does not read it. Torch raises its
version error for each (or, where it copies, computes the gradient of the values as they were);
ndgrad read the index arrays by reference, so a write into them after the op gave a silently wrong
gradient, and it computed where torch refuses. Each program runs in both libraries: both raise the
version error, or both give the same gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndgrad


def _outcome(T, program):
    try:
        grads = program(T)
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e), str(e)
        return "version error"
    return [np.asarray(g.detach().numpy()) for g in grads]


def _same(program):
    want, got = _outcome(torch, program), _outcome(ndgrad, program)
    assert isinstance(want, str) == isinstance(got, str), (want, got)
    if isinstance(want, str):
        return
    assert len(want) == len(got)
    for w, g in zip(want, got):
        assert w.shape == g.shape and w.dtype == g.dtype
        np.testing.assert_allclose(g, w, rtol=1e-6 if w.dtype == np.float32 else 1e-12)


# --- a write into an index tensor after the op ----------------------------------------------------
INDEXED = {
    "gather": lambda T, x, i: x.gather(0, i),
    "take": lambda T, x, i: x.take(i),
    "index_select": lambda T, x, i: x.index_select(0, i[0]),
    "getitem tensor": lambda T, x, i: x[i],
    "getitem two tensors": lambda T, x, i: x[i[0], i[1]],
    "getitem mixed": lambda T, x, i: x[1:, i[0]],
    "take_along_dim": lambda T, x, i: T.take_along_dim(x, i, 0),
    "take_along_dim flat": lambda T, x, i: T.take_along_dim(x, i),
    "scatter": lambda T, x, i: T.zeros(3, 3, dtype=x.dtype).scatter(0, i, x),
    "scatter value": lambda T, x, i: x.scatter(0, i, 2.0),
    "scatter_add": lambda T, x, i: T.zeros(3, 3, dtype=x.dtype).scatter_add(0, i, x),
    "scatter_reduce": lambda T, x, i: T.ones(3, 3, dtype=x.dtype).scatter_reduce(0, i, x, "prod"),
    "scatter_ in place": lambda T, x, i: x.scatter_(1, i, x * 2),
    "index_add": lambda T, x, i: T.zeros(3, 3, dtype=x.dtype).index_add(0, i[0], x),
    "index_copy": lambda T, x, i: x.index_copy(1, i[1, :2], x[:, :2] * 3),
    "index_fill": lambda T, x, i: x.index_fill(0, i[0, :1], 0),
    "index_fill_ in place": lambda T, x, i: x.index_fill_(1, i[0, :1], 0),
    "index_put": lambda T, x, i: x.index_put((i[0],), x[0] * 2, accumulate=True),
    "index_put_": lambda T, x, i: x.index_put_((i[2, :1], i[1, 1:2]), x[0, :1] * 2),
    "setitem": lambda T, x, i: x.__setitem__((i[0], 1), x[0] * 5) or x,
    "put": lambda T, x, i: x.put(i[0], x[1] * 2),
    "embedding": lambda T, x, i: T.nn.functional.embedding(i, x),
    "nll_loss": lambda T, x, i: T.nn.functional.nll_loss(x, i[0], reduction="none"),
    "cross_entropy": lambda T, x, i: T.nn.functional.cross_entropy(x, i[0], reduction="none"),
}


def _indexed(op):
    def program(T):
        x0 = T.tensor(np.arange(1.0, 10.0).reshape(3, 3), requires_grad=True)
        x = x0 * 1
        i = T.tensor([[0, 1, 2], [2, 2, 0], [1, 0, 0]])
        y = op(T, x, i)
        s = (y * T.arange(1.0, y.numel() + 1, dtype=y.dtype).reshape(y.shape)).sum()
        i.copy_(T.tensor([[1, 0, 0], [0, 0, 1], [2, 2, 2]]))
        return T.autograd.grad(s, x0)
    return program


@pytest.mark.parametrize("op", sorted(INDEXED))
def test_write_into_the_index_after_the_op(op):
    _same(_indexed(INDEXED[op]))


# --- a write into a mask --------------------------------------------------------------------------
MASKED = {
    "masked_fill": lambda T, x, m: x.masked_fill(m, 0),
    "masked_select": lambda T, x, m: x.masked_select(m),
    "masked_scatter": lambda T, x, m: x.masked_scatter(m, x * 2),
    "where": lambda T, x, m: T.where(m, x, 0.0),
    "getitem mask": lambda T, x, m: x[m],
    "index_put mask": lambda T, x, m: x.index_put((m,), T.tensor(5.0, dtype=x.dtype)),
}


def _masked(op):
    def program(T):
        x0 = T.tensor(np.arange(1.0, 10.0).reshape(3, 3), requires_grad=True)
        x = x0 * 1
        m = T.tensor([[True, False, True], [False, False, True], [True, True, False]])
        y = op(T, x, m)
        s = (y * T.arange(1.0, y.numel() + 1, dtype=y.dtype).reshape(y.shape)).sum()
        m.logical_not_()
        return T.autograd.grad(s, x0)
    return program


@pytest.mark.parametrize("op", sorted(MASKED))
def test_write_into_the_mask_after_the_op(op):
    _same(_masked(MASKED[op]))


# --- a write into the indices (or other results) an op returned -----------------------------------
RETURNED = {
    "sort": lambda T, x: x.sort(1),
    "sort 0-d": lambda T, x: x[0, 0].sort(),
    "topk": lambda T, x: x.topk(2, 1),
    "max dim": lambda T, x: x.max(1),
    "min dim": lambda T, x: x.min(0, keepdim=True),
    "kthvalue": lambda T, x: x.kthvalue(2, 1),
    "median dim": lambda T, x: x.median(1),
    "nanmedian dim": lambda T, x: x.nanmedian(0),
    "mode": lambda T, x: x.mode(1),
    "cummax": lambda T, x: x.cummax(1),
    "cummin": lambda T, x: x.cummin(0),
    "max_pool1d indices": lambda T, x: T.nn.functional.max_pool1d(x[None], 2, return_indices=True),
    "adaptive_max_pool1d indices": lambda T, x: T.nn.functional.adaptive_max_pool1d(
        x[None], 2, return_indices=True),
    "aminmax: max written": lambda T, x: T.aminmax(x, dim=1),
}


def _returned(op):
    def program(T):
        x0 = T.tensor([[3.0, 1, 2], [5, 9, 4], [7, 8, 6]], dtype=T.float64, requires_grad=True)
        v, i = op(T, x0 * 1)
        s = (v * T.arange(1.0, v.numel() + 1, dtype=v.dtype).reshape(v.shape)).sum()
        i.fill_(0) if i.dtype == T.int64 else i.mul_(2)
        return T.autograd.grad(s, x0)
    return program


@pytest.mark.parametrize("op", sorted(RETURNED))
def test_write_into_a_returned_index_after_the_op(op):
    _same(_returned(RETURNED[op]))


# --- a write into an input (or a result) torch's node saves though ndgrad's formula may not read it
F4 = {  # on a (2, 3, 4, 4) input
    "max_pool2d": lambda T, x: T.nn.functional.max_pool2d(x, 2),
    "max_pool2d overlapping": lambda T, x: T.nn.functional.max_pool2d(x, 3, 1, 1),
    "max_pool1d": lambda T, x: T.nn.functional.max_pool1d(x[0], 2),
    "max_pool3d": lambda T, x: T.nn.functional.max_pool3d(x, 2),
    "avg_pool2d": lambda T, x: T.nn.functional.avg_pool2d(x, 2),
    "avg_pool1d": lambda T, x: T.nn.functional.avg_pool1d(x[0], 2),
    "avg_pool3d": lambda T, x: T.nn.functional.avg_pool3d(x, 2),
    "adaptive_avg_pool2d": lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, 3),
    "adaptive_avg_pool2d to 1": lambda T, x: T.nn.functional.adaptive_avg_pool2d(x, 1),
    "adaptive_avg_pool3d": lambda T, x: T.nn.functional.adaptive_avg_pool3d(x, 3),
    "adaptive_max_pool2d": lambda T, x: T.nn.functional.adaptive_max_pool2d(x, 3),
    "fractional_max_pool2d": lambda T, x: T.nn.functional.fractional_max_pool2d(
        x, 2, output_size=2, _random_samples=T.full((2, 3, 2), 0.5, dtype=x.dtype)),
    "interpolate area": lambda T, x: T.nn.functional.interpolate(x, size=3, mode="area"),
    "interpolate bilinear": lambda T, x: T.nn.functional.interpolate(x, size=3, mode="bilinear"),
    "pad reflect": lambda T, x: T.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"),
    "pad replicate": lambda T, x: T.nn.functional.pad(x[0], (1, 2), mode="replicate"),
    "pad constant": lambda T, x: T.nn.functional.pad(x, (1, 2)),
    "max_unpool2d": lambda T, x: T.nn.functional.max_unpool2d(
        *T.nn.functional.max_pool2d(x.detach(), 2, return_indices=True), 2) + x,
    "gather": lambda T, x: x.gather(3, T.zeros(2, 3, 4, 2, dtype=T.int64)),
    "take": lambda T, x: x.take(T.tensor([0, 5])),
    "masked_select": lambda T, x: x.masked_select(x.detach() > 0),
    "embedding": lambda T, x: T.nn.functional.embedding(T.tensor([0, 2]), x[0, 0]),
    "nll_loss": lambda T, x: T.nn.functional.nll_loss(x[0, 0], T.tensor([0, 1, 2, 3])),
    "bce_with_logits weight": lambda T, x: T.nn.functional.binary_cross_entropy_with_logits(
        x[0, 0].detach() + 1, x[0, 1].detach().sigmoid(), weight=x[1, 1].detach()) + x.sum(),
}


def _written_input(op):
    def program(T):
        x0 = T.tensor(np.random.default_rng(0).standard_normal((2, 3, 4, 4)), requires_grad=True)
        x = x0 * 1
        y = op(T, x)
        y = y[0] if isinstance(y, tuple) else y
        s = (y * T.arange(1.0, y.numel() + 1, dtype=y.dtype).reshape(y.shape)).sum()
        x.mul_(2)
        return T.autograd.grad(s, x0)
    return program


@pytest.mark.parametrize("op", sorted(F4))
def test_write_into_a_saved_input_after_the_op(op):
    _same(_written_input(F4[op]))


# --- a write into the result, where the gradient reads it -----------------------------------------
RESULT = {
    "cdist": lambda T, x: T.cdist(x[0, 0], x[0, 1]),
    "cdist p=1": lambda T, x: T.cdist(x[0, 0], x[0, 1], p=1),
    "ctc_loss": lambda T, x: T.nn.functional.ctc_loss(
        x[0].log_softmax(2), T.tensor([[1, 2], [1, 1], [3, 0], [2, 2]]), [3] * 4, [2, 2, 1, 2],
        reduction="none"),
    "multi_margin_loss": lambda T, x: T.nn.functional.multi_margin_loss(
        x[0, 0], T.tensor([0, 1, 2, 3]), reduction="none"),
    "exp": lambda T, x: x.exp(),
    "median": lambda T, x: x.median(),
    "pdist": lambda T, x: T.nn.functional.pdist(x[0, 0]),
}


def _written_result(op):
    def program(T):
        x0 = T.tensor(np.random.default_rng(1).standard_normal((2, 3, 4, 4)), requires_grad=True)
        y = op(T, x0 * 1)
        s = (y * T.arange(1.0, y.numel() + 1, dtype=y.dtype).reshape(y.shape)).sum()
        y.mul_(2)
        return T.autograd.grad(s, x0)
    return program


@pytest.mark.parametrize("op", sorted(RESULT))
def test_write_into_the_result_after_the_op(op):
    _same(_written_result(RESULT[op]))


# --- out= that partially overlaps an input: torch refuses (its kernels would read what they wrote)
OUT_OVERLAP = [
    "T.add(x[:4], 1, out=x[1:5])", "T.mul(x[:4], x[2:6], out=x[1:5])", "T.exp(x[:4], out=x[2:6])",
    "T.sub(x[:4], x[4:], alpha=2, out=x[1:5])", "T.div(x[:4], 2, out=x[1:5])",
    "T.div(x[:4], 2, rounding_mode='floor', out=x[1:5])",
    "T.neg(x[:4].view(2, 2), out=x[:4].view(2, 2).t())",
    "T.cumsum(x[:4], 0, out=x[1:5])", "T.clamp(x[:4], 1, 2, out=x[1:5])",
    "T.where(x[:4] > 1, x[:4], x[4:], out=x[1:5])",
    "T.gather(x[:4], 0, T.tensor([0, 1, 2, 3]), out=x[1:5])",
    "T.index_select(x[:4], 0, T.tensor([0, 1, 2, 3]), out=x[1:5])",
    "T.masked_select(x[:4], x[:4] > -1, out=x[1:5])",
    "T.take_along_dim(x[:4], T.tensor([0, 1, 2, 3]), out=x[1:5])",
    "T.scatter(x[:4], 0, T.tensor([0, 1]), x[4:6], out=x[1:5])",
    "T.cat([x[:2], x[2:4]], out=x[1:5])", "T.stack([x[:2], x[2:4]], out=x[1:5].view(2, 2))",
    "T.gather(x, 0, T.tensor([1, 0]), out=x[6:])", "T.add(x, 1, out=x[6:])",
]
OUT_ALLOWED = [  # the same elements, apart, or an op torch does not check (mm: any order gives
    # torch's value when the operands are apart)
    "T.add(x[:4], 1, out=x[:4])", "T.sin(x[:4], out=x[4:])", "T.add(x[::2], 1, out=x[1::2])",
    "T.mm(x[:4].view(2, 2), x[4:].view(2, 2), out=x[4:].view(2, 2).clone())",
    ]


def _out_program(T, code):
    x = T.arange(8.0)
    eval(code, {"T": T, "x": x})
    return x


@pytest.mark.parametrize("code", OUT_OVERLAP)
def test_out_partially_overlapping_an_input_is_refused(code):
    for T in (torch, ndgrad):
        with pytest.raises(RuntimeError, match="some elements of the input tensor and the "
                                               "written-to tensor refer to a single memory"):
            _out_program(T, code)


@pytest.mark.parametrize("code", OUT_ALLOWED)
def test_out_overlap_torch_allows(code):
    np.testing.assert_allclose(_out_program(ndgrad, code).numpy(),
                               _out_program(torch, code).numpy(), rtol=1e-6)


# --- a hook on a view, then the view written in place: torch's CopySlices sends the view's gradient
# straight to its base, so the hook (on the view's old node) does not run; ndgrad ran it, and a
# hook returning a new gradient changed the base's gradient
HOOKED_VIEW = {
    "view written": "v = y[1:3]; v.register_hook(rec('v')); v.mul_(2); loss = y.sum()",
    "view written, loss of the view": "v = y[1:3]; v.register_hook(rec('v')); v.mul_(2); "
                                      "loss = (v * T.tensor([1.0, 5.0])).sum()",
    "written twice": "v = y[1:3]; v.register_hook(rec('v')); v.mul_(2); v.add_(1); "
                     "loss = (y * w).sum()",
    "hook scales": "v = y[1:3]; v.register_hook(lambda g: g * 10); v.exp_(); loss = (y * w).sum()",
    "view of a view": "v = y[1:][:2]; v.register_hook(rec('v')); v.sin_(); loss = (y * w).sum()",
    "read before the write": "v = y[1:3]; v.register_hook(rec('v')); z = v * 3; v.mul_(2); "
                             "loss = (y * w).sum() + z.sum()",
    "base hooked too": "y.register_hook(rec('y')); v = y[:2]; v.register_hook(rec('v')); "
                       "v.mul_(2); loss = (y * w).sum()",
    "base written": "v = y[1:3]; v.register_hook(rec('v')); y.mul_(2); loss = (v.sum() * 3)",
    "node prehook": "v = y.t()[1]; v.grad_fn.register_prehook(lambda g: rec('pre')(g[0])); "
                    "v.mul_(2); loss = (y * w.reshape(2, 2)).sum()",
    "retain_grad and hook": "v = y[1:3]; v.retain_grad(); v.register_hook(rec('v')); v.mul_(2); "
                            "loss = (y * w).sum(); got.append(v)",
}


def _hooked_view(code):
    def program(T):
        got = []

        def rec(name):
            return lambda g: got.append((name, g.detach().clone()))
        x = T.tensor([1.0, 2, 3, 4], dtype=T.float64, requires_grad=True)
        y = x * 1
        if "reshape(2, 2)" in code:
            y = y.reshape(2, 2)
        env = {"T": T, "x": x, "y": y, "w": T.arange(4.0, dtype=T.float64), "rec": rec, "got": got}
        exec(code, env)
        (gx,) = T.autograd.grad(env["loss"] ** 2, x, create_graph=True)  # (second order too)
        first = list(got)  # (torch's double backward runs a view's hook: not compared)
        (gg,) = T.autograd.grad((gx * gx).sum(), x, allow_unused=True, materialize_grads=True)
        out = [gx, gg]
        for item in first:
            out += [item[1].grad] if not isinstance(item, tuple) else [item[1]]
        return [o if o is not None else T.zeros(()) for o in out]
    return program


@pytest.mark.parametrize("code", sorted(HOOKED_VIEW))
def test_hook_on_a_view_written_in_place(code):
    _same(_hooked_view(HOOKED_VIEW[code]))


# --- random draws into views and laid-out buffers: torch's stream, in torch's memory order --------
DRAWS = [
    "r = T.zeros(3, 4); r[:, 1].uniform_()", "r = T.zeros(3, 4); r.t()[1:3].uniform_()",
    "r = T.zeros(3, 4); r[:, ::2].normal_()", "r = T.zeros(20, 20).t(); r.normal_()",
    "r = T.zeros(3, 4); r.t().bernoulli_(T.full((4, 3), 0.3))",
    "r = T.zeros(3, 4); r[:, 1:3].exponential_()",
    "r = T.zeros(3, 4, dtype=T.int64); r.t().random_()",
    "r = T.zeros(2, 3, 4).permute(2, 0, 1)[:, 1]; r.normal_()",
    "x = T.zeros(3, 4, requires_grad=True); y = x * 1; y.t()[1].normal_(); y.sum().backward(); "
    "r = x.grad",
    "r = T.zeros(5, 4).t(); T.nn.init.trunc_normal_(r)",
    "r = T.zeros(5, 4).t(); T.nn.init.trunc_normal_(r, a=0.5, b=0.7)",
    "p = T.rand(6, 5); r = T.multinomial(p.t(), 3)",
    "p = T.rand(6, 5); r = T.multinomial(p.t(), 1)",
    "p = T.rand(6, 5); r = T.multinomial(p[:, ::2].t(), 2)",
]


@pytest.mark.parametrize("code", DRAWS)
def test_random_draws_into_views_follow_torchs_stream(code):
    def program(T):
        T.manual_seed(0)
        env = {"T": T}
        exec(code, env)
        r = env["r"]  # values, strides, and the generator left where torch's is
        return [r.double() * 1, T.tensor(list(r.stride())), T.rand(3, dtype=T.float64)]
    _same(program)


# --- layouts: a transposed leaf's first .grad is laid out as the leaf; view scatters as clone --
LAYOUTS = [
    "w = T.randn(3, 4).t().requires_grad_(); (w * 2).sum().backward(); r = w.grad",
    "w = T.randn(3, 4).t().requires_grad_(); (w @ T.randn(3, 2)).sum().backward(); r = w.grad",
    "w = T.randn(3, 4).t().requires_grad_(); w.sum().backward(); r = w.grad",
    "w = T.randn(3, 4).t().requires_grad_(); (w[1:] * 2).sum().backward(); r = w.grad",
    "w = T.randn(3, 4).t().requires_grad_(); (w * 2).sum().backward(); (w * 3).sum().backward(); "
    "r = w.grad",
    "w = T.randn(2, 3, 4).permute(2, 0, 1).requires_grad_(); (w * 2).sum().backward(); r = w.grad",
    "w = T.randn(3, 4)[:, ::2].requires_grad_(); (w.t() * 2).sum().backward(); r = w.grad",
    "w = T.randn(4, 3).requires_grad_(); (w.t() * 2).sum().backward(); r = w.grad",
    "w = T.randn(3, 4).t().requires_grad_(); r = T.autograd.grad((w * 2).sum(), w)[0]",
    "x = T.arange(12.).reshape(3, 4).t(); r = x.diagonal_scatter(T.zeros(3))",
    "x = T.arange(12.).reshape(3, 4).t(); r = x.diagonal_scatter(T.zeros(2), 1)",
    "x = T.arange(12.).reshape(3, 4).t(); r = x.diagonal_scatter(T.zeros(3), -1)",
    "x = T.arange(12.).reshape(3, 4).t(); r = x.select_scatter(T.zeros(3), 0, 1)",
    "x = T.arange(12.).reshape(3, 4).t(); r = x.slice_scatter(T.zeros(2, 3), 0, 0, 2)",
    "x = T.arange(12.).reshape(3, 4).t(); i = T.tensor([[0, 1, 2], [2, 0, 1]]); "
    "r = x.scatter(0, i, 5.)",
    "x = T.arange(12.).reshape(3, 4).t(); r = x.index_add(0, T.tensor([0, 2]), x[:2])",
]


@pytest.mark.parametrize("code", LAYOUTS)
def test_layouts_of_grads_and_scatters(code):
    def program(T):
        T.manual_seed(0)
        env = {"T": T}
        exec(code, env)
        r = env["r"]
        return [r.detach() * 1, T.tensor(list(r.stride()))]
    _same(program)
