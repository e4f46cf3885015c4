"""In-place ops composed with views, random fills and dtypes, against torch: a view made before an
in-place write into its base takes its gradient from the base's new history (and the reverse),
random fills cut the gradient, and torch's errors for overlapping memory, result types that do
not fit, leaves and views that may not be rebased."""

import ml_dtypes
import numpy as np
import pytest
import torch
from autograd_compare import same

import ndgrad
from ndgrad._ops._inplace import fill_random
from ndgrad._random import Engine


def _w(lib, n=3):
    return lib.arange(1.0, n + 1).requires_grad_()


# --- views made before the in-place write ---------------------------------------------------
def _base_then_view(write):
    """base has no history when the view is made; ``write(lib, base, w)`` gives it one."""

    def f(lib):
        base = lib.zeros(3)
        view = base[:2]
        w = _w(lib)
        write(lib, base, w)
        (view.sum() * 10 + base.sum()).backward()
        return w.grad, view.requires_grad, view.is_leaf, view.grad_fn.name()

    return f


STALE_VIEW_WRITES = {
    "copy_": lambda L, b, w: b.copy_(w * 3),
    "setitem": lambda L, b, w: b.__setitem__(0, (w * 2)[0]),
    "setitem_slice": lambda L, b, w: b.__setitem__(slice(1, None), w[1:] ** 2),
    "add_": lambda L, b, w: b.add_(w * 2),
    "index_add_": lambda L, b, w: b.index_add_(0, L.tensor([0, 2]), w[:2] * 2),
    "masked_scatter_": lambda L, b, w: b.masked_scatter_(L.tensor([True, False, True]), w * 5),
    "scatter_": lambda L, b, w: b.scatter_(0, L.tensor([2, 0]), w[:2] * 4),
    "mul_after_add_": lambda L, b, w: b.add_(w).mul_(w * 2),
    "three_writes": lambda L, b, w: (b.add_(w), b.mul_(w * 2), b.__setitem__(2, w[0] * 5)),
    "through_a_sibling_view": lambda L, b, w: b[1:].copy_(w[1:] * 7),
    "no_grad_then_grad": lambda L, b, w: (_add_in_no_grad(L, b), b.mul_(w)),
}


def _add_in_no_grad(lib, t):
    with lib.no_grad():
        t.add_(1)


@pytest.mark.parametrize("name", list(STALE_VIEW_WRITES))
def test_view_made_before_inplace_write_gets_its_gradient(name):
    same(_base_then_view(STALE_VIEW_WRITES[name]))


VIEW_KINDS = {
    "slice": lambda b: b[1:, :2],
    "select": lambda b: b[1],
    "view": lambda b: b.view(6),
    "transpose": lambda b: b.t(),
    "diagonal": lambda b: b.diagonal(),
    "expand": lambda b: b[:1].expand(4, 3),
    "unfold": lambda b: b.unfold(1, 2, 1),
    "view_of_view": lambda b: b[1:].t()[1:],
    "reshape": lambda b: b.reshape(3, 2),
    "squeeze": lambda b: b[:1].squeeze(0),
}


@pytest.mark.parametrize("kind", list(VIEW_KINDS))
def test_every_kind_of_view_made_before_inplace_write_gets_its_gradient(kind):
    def f(lib):
        base = lib.zeros(2, 3)
        v = VIEW_KINDS[kind](base)
        w = lib.arange(1.0, 7.0).view(2, 3).requires_grad_()
        base.copy_(w * w)
        weights = lib.arange(float(v.numel())).view(v.shape)
        (v * weights).sum().backward()
        return w.grad, v.grad_fn.name(), v._version

    same(f)


def test_inplace_on_view_rebases_base_and_views_made_before():
    def f(lib):
        base = lib.zeros(4)
        before = base[1:3]
        w = lib.ones(2, requires_grad=True)
        base[:2].mul_(0).add_(w * 3)
        y = base * lib.arange(4.0)
        y.sum().backward(inputs=[w], retain_graph=True)
        g1 = w.grad.clone()
        w.grad = None
        (before * lib.tensor([1.0, 10.0])).sum().backward()
        return g1, w.grad, base.grad_fn.name(), before.requires_grad

    same(f)


def test_stale_view_as_input_of_another_inplace_op():
    def f(lib):
        base = lib.zeros(3)
        v = base[:2]
        w = _w(lib)
        base.copy_(w * 3)
        out = lib.ones(2)
        out.mul_(v)
        out.sum().backward()
        return w.grad, out.grad_fn.name()

    same(f)


def test_stale_view_double_backward_and_autograd_grad():
    def f(lib):
        base = lib.zeros(3)
        v = base[:2]
        w = _w(lib)
        base.copy_(w * w * w)
        (g,) = lib.autograd.grad(v.sum(), w, create_graph=True)
        g.sum().backward()
        return g, w.grad

    same(f)


def test_stale_view_backward_from_the_view_itself():
    def f(lib):
        base = lib.zeros(3)
        v = base[:2]
        w = _w(lib)
        base.copy_(w * 3)
        v.backward(lib.ones(2))
        return w.grad, lib.cat([v, v]).requires_grad, lib.nn.functional.relu(v).requires_grad

    same(f)


# --- a view asks its base for requires_grad -------------------------------------------------
def test_view_without_history_follows_base_requires_grad():
    def f(lib):
        x = lib.ones(4)
        v = x[:2]
        x.requires_grad_()
        flags = [v.requires_grad, v.is_leaf, v.grad_fn]
        with lib.no_grad():
            x.add_(1)
        flags += [v.grad_fn.name(), v.is_leaf]
        (v * 2).sum().backward()
        return flags, x.grad

    same(f)


def test_view_made_in_no_grad_of_tensor_requiring_grad_requires_grad():
    def f(lib):
        p = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            v = p[:2]
            r = p.view(3)
        return v.requires_grad, r.requires_grad, v.grad_fn, v.is_leaf, (v * 2).requires_grad

    same(f)


def test_views_follow_detach_of_their_base():
    def f(lib):
        x = lib.ones(3)
        v = x[:2]
        w = _w(lib)
        x.mul_(w)
        before = v.requires_grad
        x.detach_()
        return before, v.requires_grad, x.requires_grad

    same(f)


def test_integer_tensor_written_from_tensor_requiring_grad_stays_without_grad():
    def f(lib):
        a = lib.zeros(3, dtype=lib.long)
        a.copy_(lib.ones(3, requires_grad=True))
        b = lib.zeros(3, dtype=lib.long)
        v = b[:2]
        v.copy_(lib.ones(2, requires_grad=True))
        return a.requires_grad, a.grad_fn, v.requires_grad, b.requires_grad, a, b

    same(f)


# --- views that may not be rebased: torch's errors ------------------------------------------
def _no_grad_view(lib, base):
    with lib.no_grad():
        return base[:2]


def _stale_view_is_a_leaf(lib):
    """torch regenerates a view's node only when it is read: before that the view is a leaf."""
    base = lib.zeros(3)
    v = base[:2]
    base.copy_(_w(lib) * 3)
    v.mul_(2)


def _sibling_view_is_a_leaf(lib):
    base = lib.zeros(3)
    v1, v2 = base[:2], base[1:]
    w = _w(lib, 2)
    v1.copy_(w)
    v2.mul_(w)


def _no_grad_view_base_written(lib):
    base = lib.zeros(3)
    v = _no_grad_view(lib, base)
    base.copy_(_w(lib))
    return v * 2


def _no_grad_view_of_grad_base_used(lib):
    base = _w(lib) * 1
    v = _no_grad_view(lib, base)
    base.mul_(2)
    return v.grad_fn


def _multi_view_before_base_had_grad(split):
    def f(lib):
        base = lib.zeros(4)
        a = base.split(2)[0] if split else base.unbind()[1]
        base.copy_(_w(lib, 4) * 3)
        return a.sum()

    return f


REBASE_ERRORS = {
    "stale_view_is_a_leaf": _stale_view_is_a_leaf,
    "sibling_view_is_a_leaf": _sibling_view_is_a_leaf,
    "no_grad_view_base_written": _no_grad_view_base_written,
    "no_grad_view_written": lambda L: _no_grad_view(L, L.zeros(3)).add_(_w(L, 2)),
    "no_grad_view_of_grad_base_used": _no_grad_view_of_grad_base_used,
    "view_of_no_grad_view": lambda L: _no_grad_view(L, _w(L) * 1)[:1].mul_(2),
    "split_before_base_had_grad": _multi_view_before_base_had_grad(True),
    "unbind_before_base_had_grad": _multi_view_before_base_had_grad(False),
    "view_of_split_output": lambda L: (_w(L, 4) * 1).split(2)[0][:1].mul_(2),
    "split_in_no_grad": lambda L: _split_no_grad(L, _w(L, 4) * 1)[0].mul_(2),
    "inference_mode_view": lambda L: _inference_view(L).add_(_w(L, 2)),
    "detach_view": lambda L: L.ones(3)[1:].detach_(),
}


def _split_no_grad(lib, y):
    with lib.no_grad():
        return y.split(2)


def _inference_view(lib):
    y = lib.ones(3)
    with lib.inference_mode():
        return y[:2]


@pytest.mark.parametrize("name", list(REBASE_ERRORS))
def test_views_that_may_not_be_rebased_raise_torch_errors(name):
    same(REBASE_ERRORS[name])


def test_no_grad_view_written_without_grad_is_fine():
    def f(lib):
        x = lib.zeros(4)
        v = _no_grad_view(lib, x)
        v.add_(1)
        w = _w(lib, 2)
        with lib.no_grad():
            v.mul_(w)
        return x, v.requires_grad

    same(f)


# --- in-place random fills cut the gradient -------------------------------------------------
FILLS = {  # torch's call, the engine's draw, the node's name
    "normal_": ("normal_(0.5, 2.0)", lambda e, s, d: e.normal(s, 0.5, 2.0, d), "NormalBackward0"),
    "uniform_": ("uniform_(-1, 3)", lambda e, s, d: e.uniform(s, -1, 3, d), "UniformBackward0"),
    "bernoulli_": ("bernoulli_(0.3)", lambda e, s, d: e.bernoulli(0.3, s, d),
                   "BernoulliBackward2"),
    "exponential_": ("exponential_(2.0)", lambda e, s, d: e.exponential(s, 2.0, d),
                     "ExponentialBackward0"),
    "random_": ("random_(1, 7)", lambda e, s, d: e.randint(1, 7, s, d), "RandomBackward0"),
    "geometric_": ("geometric_(0.4)", lambda e, s, d: e.geometric(s, 0.4, d),
                   "GeometricBackward0"),
    "cauchy_": ("cauchy_(1.0, 0.5)", lambda e, s, d: e.cauchy(s, 1.0, 0.5, d), "CauchyBackward0"),
    "log_normal_": ("log_normal_(0.1, 0.5)", lambda e, s, d: e.log_normal(s, 0.1, 0.5, d),
                    "LogNormalBackward0"),
}


def _fill(lib, t, name):
    """torch's in-place fill, or ndgrad's through fill_random with the engine's draw."""
    call, draw, node = FILLS[name]
    if lib is torch:
        torch.manual_seed(0)
        return eval("t." + call)
    engine = Engine(0)
    return fill_random(t, lambda s, d: draw(engine, s, d), node)


def _fill_programs(fill):
    def nonleaf(lib):
        x = _w(lib)
        y = x * 2
        fill(lib, y)
        (y * lib.arange(3.0)).sum().backward()
        return y, x.grad, y._version

    def on_view(lib):
        x = _w(lib)
        y = x * 2
        fill(lib, y[1:])
        (y * lib.arange(3.0)).sum().backward()
        return y, x.grad, y.grad_fn.name()

    def view_made_before(lib):
        x = _w(lib)
        y = x * 2
        v = y[:2]
        fill(lib, y)
        (v * lib.arange(2.0)).sum().backward()
        return v, x.grad, v.grad_fn.name()

    def leaf(lib):
        fill(lib, _w(lib))

    def view_of_leaf(lib):
        fill(lib, _w(lib)[1:])

    def leaf_in_no_grad(lib):
        x = _w(lib)
        with lib.no_grad():
            fill(lib, x)
        return x, x.grad_fn

    def expanded(lib):
        fill(lib, lib.ones(1).expand(3))

    return {f.__name__: f for f in (nonleaf, on_view, view_made_before, leaf, view_of_leaf,
                                     leaf_in_no_grad, expanded)}


@pytest.mark.parametrize("case", list(_fill_programs(None)))
@pytest.mark.parametrize("name", list(FILLS))
def test_inplace_random_fill_cuts_gradient(name, case):
    same(_fill_programs(lambda lib, t: _fill(lib, t, name))[case])


def test_inplace_bernoulli_with_tensor_p_gives_zero_gradient_to_p():
    def f(lib):
        p = lib.full((3,), 0.25, requires_grad=True)
        x = lib.zeros(3)
        if lib is torch:
            torch.manual_seed(0)
            x.bernoulli_(p)
        else:
            e = Engine(0)
            fill_random(x, lambda s, d: e.bernoulli(p._data, s, d), "BernoulliBackward1", p)
        x.sum().backward()
        return x, p.grad, x.grad_fn.name()

    same(f)


def _fills_wired() -> bool:
    y = ndgrad.ones(1, requires_grad=True) * 1
    y.normal_()
    return y.grad_fn.name() == "NormalBackward0"


# Tensor.normal_ and the other methods live in ndgrad/random.py, which must call fill_random
@pytest.mark.xfail(not _fills_wired(), reason="random.py's _fill_random bypasses fill_random",
                   strict=True)
@pytest.mark.parametrize("call", ["normal_()", "uniform_()", "bernoulli_()", "exponential_()",
                                  "random_(0, 4)"])
def test_inplace_random_fill_methods_cut_gradient(call):
    same(_fill_method(call))


@pytest.mark.parametrize("call", ["fill_(2.0)", "zero_()", "fill_(ndgrad.tensor(3.0))"])
def test_inplace_fill_methods_cut_gradient(call):
    same(_fill_method(call.replace("ndgrad.", "lib.")))


def _fill_method(call):
    def f(lib):
        x = _w(lib)
        y = x * 2
        lib.manual_seed(0)
        eval("y." + call)
        y.sum().backward()
        return y, x.grad

    return f


FLOATS = ["float32", "float64", "float16", "bfloat16"]


@pytest.mark.parametrize("n", [1, 5, 17, 40])
@pytest.mark.parametrize("name, dtype", [(name, dt) for name in ("cauchy_", "log_normal_")
                                         for dt in FLOATS] +
                         [("geometric_", dt) for dt in FLOATS + ["int64", "uint8"]])
def test_random_engine_cauchy_log_normal_geometric_match_torch_streams(name, dtype, n):
    npdt = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
    call, draw, _ = FILLS[name]
    for seed in (0, 7):
        torch.manual_seed(seed)
        want = eval("torch.empty(n, dtype=getattr(torch, dtype))." + call)
        got = draw(Engine(seed), (n,), npdt)
        got = torch.from_numpy(got.astype(np.float32) if dtype == "bfloat16" else got)
        assert torch.equal(got.to(want.dtype), want), (seed, got, want)


ENGINE_ERRORS = {
    "geometric_p": (lambda e: e.geometric((3,), 1.0), "geometric_(1.0)"),
    "geometric_bool": (lambda e: e.geometric((3,), 0.5, np.bool_), "geometric_(0.5)"),
    "cauchy_sigma": (lambda e: e.cauchy((3,), 0, -1), "cauchy_(0, -1)"),
    "cauchy_long": (lambda e: e.cauchy((3,), 0, 1, np.int64), "cauchy_()"),
    "log_normal_std": (lambda e: e.log_normal((3,), 0, -0.5), "log_normal_(0, -0.5)"),
    "log_normal_int": (lambda e: e.log_normal((3,), 0, 1, np.int32), "log_normal_()"),
    "exponential_lambda": (lambda e: e.exponential((3,), 0), "exponential_(0)"),
    "uniform_range": (lambda e: e.uniform((3,), 2, 1), "uniform_(2, 1)"),
    "normal_std": (lambda e: e.normal((3,), 0, -1), "normal_(0, -1)"),
}


@pytest.mark.parametrize("name", list(ENGINE_ERRORS))
def test_random_engine_parameter_errors_match_torch(name):
    draw, call = ENGINE_ERRORS[name]
    dtypes = {"geometric_bool": torch.bool, "cauchy_long": torch.long, "log_normal_int": torch.int}  # noqa: F841  (read by the eval)
    with pytest.raises(Exception) as want:
        eval("torch.zeros(3, dtype=dtypes.get(name, torch.float32))." + call)
    with pytest.raises(type(want.value), match=None) as got:
        draw(Engine(0))
    assert str(got.value) == str(want.value)


# --- writes through overlapping memory -------------------------------------------------------
OVERLAP = {
    "add_": lambda x, L: x.add_(1),
    "mul_tensor": lambda x, L: x.mul_(L.ones(x.shape)),
    "sqrt_": lambda x, L: x.sqrt_(),
    "copy_": lambda x, L: x.copy_(L.ones(x.shape)),
    "clamp_": lambda x, L: x.clamp_(min=0),
    "relu_": lambda x, L: x.relu_(),
    "F.relu_inplace": lambda x, L: L.nn.functional.relu(x, inplace=True),
    "addcmul_": lambda x, L: x.addcmul_(x, x),
    "lerp_": lambda x, L: x.lerp_(L.ones(x.shape), 0.5),
    "scatter_": lambda x, L: x.scatter_(1, L.zeros(2, 1, dtype=L.long), L.ones(2, 1)),
    "index_copy_": lambda x, L: x.index_copy_(1, L.tensor([0]), L.ones(2, 1)),
    "setitem_recorded": lambda x, L: x.__setitem__(..., _w(L, 3) * 1),
    "int_sqrt_": lambda x, L: L.tensor([[4], [9]]).expand(2, 3).sqrt_(),
    "float_bitwise_not_": lambda x, L: x.bitwise_not_(),
}


@pytest.mark.parametrize("name", list(OVERLAP))
def test_inplace_on_expanded_tensor_raises_overlap_error(name):
    same(lambda L: OVERLAP[name](L.tensor([[1.0], [2.0]]).expand(2, 3), L))


@pytest.mark.parametrize("case", ["element", "row", "size_one", "empty", "detached"])
def test_inplace_on_non_overlapping_part_of_expanded_tensor(case):
    def f(lib):
        x = lib.tensor([[1.0], [2.0]])
        e = x.expand(2, 3)
        if case == "element":
            e[1, 2].add_(5)
        elif case == "row":
            e[:, :1].mul_(3)
        elif case == "size_one":
            lib.tensor([2.0]).expand(1).add_(1)
        elif case == "empty":
            lib.ones(1, 0).expand(3, 0).add_(1)
        else:
            return e.detach().add_(1)
        return x, e

    same(f)


EXPANDED_FILLS = ["fill_(3.0)", "zero_()", "masked_fill_(L.ones(2, 3, dtype=L.bool), 4.0)"]


def _writes_expanded(call) -> bool:
    try:
        _expanded_fill(call)(ndgrad)
    except RuntimeError:
        return False
    return True


def _expanded_fill(call):
    def f(L):
        x = L.tensor([[1.0], [2.0]])
        e = x.expand(2, 3)
        eval("e." + call)
        return x, e

    return f


# fill_/zero_ (_creation.py) and masked_fill_ (elementwise.py) must go through inplace_fill
@pytest.mark.parametrize("call", [pytest.param(c, marks=pytest.mark.xfail(
    not _writes_expanded(c), strict=True, reason="goes through inplace, not inplace_fill"))
    for c in EXPANDED_FILLS])
def test_fills_write_through_expanded_tensor(call):
    same(_expanded_fill(call))


# --- result types that do not fit the written tensor ----------------------------------------
CAST = {
    "sqrt_": lambda x, L: x.sqrt_(),
    "exp_": lambda x, L: x.exp_(),
    "sigmoid_": lambda x, L: x.sigmoid_(),
    "add_float": lambda x, L: x.add_(1.5),
    "add_int": lambda x, L: x.add_(1),
    "add_complex": lambda x, L: x.add_(1j),
    "add_0d_float_tensor": lambda x, L: x.add_(L.tensor(1.5)),
    "add_0d_complex_tensor": lambda x, L: x.add_(L.tensor(1j)),
    "mul_float_tensor": lambda x, L: x.mul_(L.tensor([0.5])),
    "div_": lambda x, L: x.div_(2),
    "div_floor": lambda x, L: x.div_(2, rounding_mode="floor"),
    "pow_float": lambda x, L: x.pow_(0.5),
    "square_": lambda x, L: x.square_(),
    "atan2_": lambda x, L: x.atan2_(L.ones(x.shape)),
    "remainder_float": lambda x, L: x.remainder_(1.5),
    "sub_complex": lambda x, L: x.sub_(2j),
    "copy_casts": lambda x, L: x.copy_(L.full(x.shape, 7.5)),
    "fill_casts": lambda x, L: x.fill_(2.5),
}
CAST_TENSORS = {
    "long_0d": lambda L: L.tensor(4),
    "long_1d": lambda L: L.tensor([4, 9]),
    "bool_0d": lambda L: L.tensor(True),
    "float_0d": lambda L: L.tensor(4.0),
    "float_1d": lambda L: L.tensor([4.0, 9.0]),
    "double_0d": lambda L: L.tensor(4.0, dtype=L.float64),
}


@pytest.mark.parametrize("op", list(CAST))
@pytest.mark.parametrize("kind", list(CAST_TENSORS))
def test_inplace_result_type_that_cannot_be_cast_raises(kind, op):
    same(lambda L: CAST[op](CAST_TENSORS[kind](L), L))


# --- leaves and in-place view ops ------------------------------------------------------------
LEAVES = {
    "leaf": lambda L: L.ones(2, 3, requires_grad=True),
    "leaf_view": lambda L: L.ones(2, 3, requires_grad=True)[:1],
    "transposed_leaf": lambda L: L.ones(3, 2, requires_grad=True).t(),
}
LEAF_OPS = {
    "add_": lambda x, L: x.add_(1),
    "setitem": lambda x, L: x.__setitem__(0, 5.0),
    "index_add_": lambda x, L: x.index_add_(0, L.tensor([0]), L.ones(1, 3)),
    "fill_": lambda x, L: x.fill_(2),
    "copy_": lambda x, L: x.copy_(L.ones(x.shape)),
    "squeeze_": lambda x, L: x.squeeze_(),
    "t_": lambda x, L: x.t_(),
    "F.relu_inplace": lambda x, L: L.nn.functional.relu(x, inplace=True),
}


@pytest.mark.parametrize("op", list(LEAF_OPS))
@pytest.mark.parametrize("kind", list(LEAVES))
def test_inplace_on_leaf_requiring_grad_raises(kind, op):
    same(lambda L: LEAF_OPS[op](LEAVES[kind](L), L))


@pytest.mark.parametrize("op", ["squeeze_", "unsqueeze_(0)", "t_", "transpose_(0, 1)"])
def test_inplace_view_op_on_view_keeps_its_node(op):
    def f(lib):
        x = lib.ones(2, 1, requires_grad=True)
        v = (x * 1)[1:]
        eval("v." + op)
        (v * 3).sum().backward()
        return v, x.grad

    same(f)


# --- copies that must not alias --------------------------------------------------------------
@pytest.mark.parametrize("call", ["to(copy=True)", "to('cpu', copy=True)",
                                  "to(L.float32, copy=True)", "to(L.float64)", "clone()", "float()",
                                  "contiguous()"])
def test_inplace_write_into_a_copy_leaves_the_source(call):
    def f(L):
        x = L.ones(3)
        y = eval("x." + call)
        y.add_(1)
        return x, y, x._version

    same(f)
