"""Layouts under composition, against torch: the strides a result gets (clone's preserve_format,
the *_like factories, channels_last, a reverse scan's gradient), and the values that follow from
them (a random draw fills memory in order, so rand_like or dropout of a transposed tensor draws
another stream than of a contiguous one). Each case is a bug a probe found."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from harness import to_numpy

import ndgrad

LIBS = (torch, ndgrad)


def _layout(t):
    """Strides of the dims longer than 1 (torch's and NumPy's differ on 1-sized ones)."""
    return tuple(s for s, n in zip(t.stride(), t.shape) if n > 1)


def _same(want, got, layout=True):
    for w, g in zip(want, got, strict=True):
        if not isinstance(w, torch.Tensor):
            assert w == g
            continue
        assert str(g.dtype)[7:] == str(w.dtype)[6:] and tuple(g.shape) == tuple(w.shape)
        if layout:
            assert _layout(g) == _layout(w), (g.stride(), w.stride())
            assert g.is_contiguous() == w.is_contiguous()
        np.testing.assert_allclose(to_numpy(g), to_numpy(w), rtol=1e-6, atol=1e-7)


def _both(f, layout=True):
    want, got = f(torch), f(ndgrad)
    _same(want, got, layout)


BASES = {  # 4-d inputs in the layouts programs make
    "transposed": lambda T: T.zeros(2, 3, 4, 5).transpose(1, 3),
    "permuted": lambda T: T.zeros(2, 3, 4, 5).permute(0, 2, 3, 1),
    "channels_last": lambda T: T.zeros(2, 3, 4, 5).contiguous(memory_format=T.channels_last),
    "sliced": lambda T: T.zeros(2, 3, 4, 6).transpose(1, 2)[..., ::2],
    "expanded": lambda T: T.zeros(2, 1, 4, 5).expand(2, 3, 4, 5).transpose(0, 2),
    "contiguous": lambda T: T.zeros(2, 3, 4, 5),
}


# --- a right-to-left scan (cumsum's gradient) had negative strides: view() refused it ------------
@pytest.mark.parametrize("op", ["cumsum", "logcumsumexp", "cumprod"])
@pytest.mark.parametrize("dim", [0, 1])
def test_scan_gradients_are_laid_out_as_torch(op, dim):
    def run(T):
        x = T.tensor(np.linspace(0.5, 1.5, 12).reshape(3, 4), requires_grad=True)
        y = getattr(x, op)(dim)
        g, = T.autograd.grad((y * y).sum(), x, create_graph=True)
        h, = T.autograd.grad((g * g).sum(), x)
        return [y, g, h, g.view(-1), h.view(-1)]
    _both(run)


# --- clone keeps the layout (preserve_format), contiguous/clone make the format asked for ------
@pytest.mark.parametrize("fmt", [None, "preserve_format", "contiguous_format", "channels_last"])
def test_clone_layout(fmt):
    def run(T):
        out = []
        for base in BASES.values():
            x = base(T)
            c = x.clone() if fmt is None else x.clone(memory_format=getattr(T, fmt))
            T.manual_seed(0)
            c.uniform_()  # fills memory in order: the values show the layout too
            out += [c, c.is_contiguous()]
            if fmt not in (None, "preserve_format"):
                out += [x.contiguous(memory_format=getattr(T, fmt))]
        return out
    _both(run)


def test_clone_keeps_a_transpose_a_transpose():
    """x.t().clone().t() is contiguous again, and a view of the clone is refused as in torch."""
    for T in LIBS:
        y = T.ones(3, 4).t().clone()
        assert y.t().is_contiguous() and not y.is_contiguous()
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            y.view(-1)


def test_clone_of_a_transpose_is_differentiable_twice():
    def run(T):
        x = T.tensor(np.linspace(0.5, 1.5, 12).reshape(3, 4), requires_grad=True)
        y = x.t().clone().t()
        y.mul_(2).add_(1).sqrt_()
        g, = T.autograd.grad(y.sum(), x, create_graph=True)
        return [y, g, T.autograd.grad((g * g).sum(), x)[0]]
    _both(run)


# --- the *_like factories lay out their result like the input (preserve_format) -----------------
LIKES = {
    "empty_like": lambda T, x, **kw: T.empty_like(x, **kw).fill_(2.0),
    "zeros_like": lambda T, x, **kw: T.zeros_like(x, **kw),
    "ones_like": lambda T, x, **kw: T.ones_like(x, dtype=T.float64, **kw),
    "full_like": lambda T, x, **kw: T.full_like(x, 3.0, **kw),
    "rand_like": lambda T, x, **kw: T.rand_like(x, **kw),
    "randn_like": lambda T, x, **kw: T.randn_like(x, **kw),
    "randn_like64": lambda T, x, **kw: T.randn_like(x, dtype=T.float64, **kw),
    "randint_like": lambda T, x, **kw: T.randint_like(x, 7, **kw),
}


@pytest.mark.parametrize("like", sorted(LIKES))
@pytest.mark.parametrize("fmt", [None, "contiguous_format", "channels_last"])
def test_like_factories_keep_the_layout(like, fmt):
    def run(T):
        T.manual_seed(0)
        kw = {} if fmt is None else {"memory_format": getattr(T, fmt)}
        out = []
        for base in BASES.values():
            y = LIKES[like](T, base(T), **kw)
            out += [y, y._version, y.requires_grad]
        return out + [T.rand(3)]  # and the stream goes on alike
    _both(run)


def test_like_factories_require_grad():
    for T in LIBS:
        y = T.randn_like(T.zeros(3, 4).t(), requires_grad=True)
        assert y.requires_grad and y.is_leaf and y.grad_fn is None and y._version == 0
        z = T.zeros_like(T.zeros(3, 4).t(), requires_grad=True)
        assert z.requires_grad and z.is_leaf and z.stride() == (1, 4)


# --- dropout draws its mask in the input's memory order (empty_like(input).bernoulli_) ----------
@pytest.mark.parametrize("base", ["transposed", "permuted", "channels_last", "contiguous"])
@pytest.mark.parametrize("fn", ["dropout", "alpha_dropout", "dropout2d"])
def test_dropout_of_a_strided_input(base, fn):
    def run(T):
        x = BASES[base](T)
        x.copy_(T.linspace(0.5, 1.5, x.numel()).reshape(x.shape)).requires_grad_()
        T.manual_seed(0)
        y = getattr(T.nn.functional, fn)(x, 0.4, training=True)
        g, = T.autograd.grad((y * y).sum(), x)
        return [y, g]
    _both(run)


# --- a cast keeps the layout as empty_like does: an expanded dim stays where it is --------------
CASTS = {
    "float": lambda T, x: x.float(), "double": lambda T, x: x.double(),
    "to(float64)": lambda T, x: x.to(T.float64), "type_as": lambda T, x: x.type_as(T.ones(1)),
    "to(copy=True)": lambda T, x: x.to(copy=True), "int": lambda T, x: x.int(),
}


@pytest.mark.parametrize("cast", sorted(CASTS))
def test_casts_keep_the_layout(cast):
    def run(T):
        out = []
        for base in BASES.values():
            y = CASTS[cast](T, base(T))
            out += [y, y.reshape(-1).is_contiguous()]
        x = T.zeros(2, 1, 4, 5).expand(2, 3, 4, 5).double()
        return out + [x.view(-1)]  # contiguous, as torch's: view() works
    _both(run)


# --- results torch makes contiguous whatever the input's layout (clone(contiguous_format)) -------
CONTIGUOUS = {
    "permute_copy": lambda T, x: T.permute_copy(x, (1, 0)),
    "transpose_copy": lambda T, x: T.transpose_copy(x, 0, 1),
    "slice_copy": lambda T, x: T.slice_copy(x.t(), 0, 1, 3),
    "t_copy": lambda T, x: T.t_copy(x.t()),
    "matrix_power(1)": lambda T, x: T.linalg.matrix_power(x[:, :3].t(), 1),
    "repeat_interleave": lambda T, x: x.t().repeat_interleave(2, 0),
    "fill": lambda T, x: T.fill(x.t(), 2.0),
    "detach().clone()": lambda T, x: x.t().detach().clone(),
    "new_tensor": lambda T, x: x.new_tensor(x.t()),
    "grad (create_graph)": lambda T, x: (
        (x.t().exp() * T.arange(3.0)).sum().backward(create_graph=True), x.grad)[1],
    "grad": lambda T, x: ((x.t() * T.arange(3.0)).sum().backward(), x.grad)[1],
    "masked_fill": lambda T, x: x.t().masked_fill(x.t() > 1, 0.0),
    "masked_fill(row mask)": lambda T, x: x.t().masked_fill(T.tensor([True, False, True]), 0.0),
    "masked_fill(tensor value)": lambda T, x: x.t().masked_fill(x.t() > 1, T.tensor(2.0)),
    "masked_fill(0-d)": lambda T, x: x[0, 0].masked_fill(x[0, 0] > 0, 1.0),
}


@pytest.mark.parametrize("name", sorted(CONTIGUOUS))
def test_layout_of_copies(name):
    def run(T):
        x = T.tensor(np.linspace(0.5, 1.5, 12).reshape(3, 4), requires_grad=True)
        y = CONTIGUOUS[name](T, x)
        return [y, y.is_contiguous()]
    _both(run)


@pytest.mark.parametrize("fmt", ["channels_last", "contiguous_format", "preserve_format"])
def test_to_memory_format(fmt):
    def run(T):
        out = []
        for base in BASES.values():
            x = base(T)
            for args in [(), (T.float64,)]:
                y = x.to(*args, memory_format=getattr(T, fmt))
                out += [y, y.is_contiguous(), y is x]
        return out
    _both(run)
    for T in LIBS:
        with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
            T.zeros(2, 3).to(memory_format=T.channels_last)
