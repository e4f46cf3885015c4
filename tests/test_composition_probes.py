"""Programs that compose ops, against torch: each case is a bug a composition probe found (values,
dtypes, first and second derivatives, or torch's error for bad input)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ndgrad


def _same(a, b, tol=1e-6):
    """ndgrad value ``a`` equals torch value ``b``, through tuples; None only where torch has it."""
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, tol)
        return
    if b is None or not isinstance(b, torch.Tensor):
        assert a == b
        return
    assert a is not None, f"ndgrad gave None, torch {b}"
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=tol, atol=tol)


def _both(f, tol=1e-6):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(f(ndgrad), f(torch), tol)


def _raises_like_torch(f):
    with pytest.raises(Exception) as expected:
        f(torch)
    with pytest.raises(Exception) as got:
        f(ndgrad)
    # by name: torch's own classes (GradcheckError) have ndgrad twins
    assert type(expected.value).__name__ in [c.__name__ for c in type(got.value).__mro__]
    return str(expected.value), str(got.value)


def _second_order(T, out_fn, x):
    """out, d(out^2)/dx and the gradient of |that|^2: every order of a program through out_fn."""
    y = out_fn(T, x)
    (g,) = T.autograd.grad((y * y).sum(), x, create_graph=True)
    return y, g, T.autograd.grad((g * g).sum(), x)[0]


def _x(T, shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return T.tensor(a, dtype=T.float64, requires_grad=True)


# interpolate on 5-d input: trilinear was refused, area pooled over two dims only
@pytest.mark.parametrize("mode,kw", [
    ("trilinear", dict(size=(3, 4, 5))), ("trilinear", dict(scale_factor=(1.5, 0.5, 2.0))),
    ("trilinear", dict(size=(2, 5, 3), align_corners=True)), ("area", dict(size=(2, 3, 2))),
    ("nearest", dict(scale_factor=2))])
def test_interpolate_5d(mode, kw):
    _both(lambda T: _second_order(
        T, lambda T, x: T.nn.functional.interpolate(x, mode=mode, **kw), _x(T, (2, 2, 3, 4, 3))))


@pytest.mark.parametrize("mode,shape", [("trilinear", (1, 1, 3, 3)), ("bilinear", (1, 1, 3, 3, 3)),
                                        ("linear", (1, 1, 3, 3, 3))])
def test_interpolate_mode_needs_its_rank(mode, shape):
    _raises_like_torch(lambda T: T.nn.functional.interpolate(T.ones(shape), scale_factor=2,
                                                             mode=mode))


def _add_in_place(T):
    class AddInPlace(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            x.add_(y)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2, g * 3  # not the true derivative: shows which node ran

    return AddInPlace.apply


def _dirty_view(T):
    x = _x(T, (4,))
    y = x * 1
    v = y[1:]
    u = y[:2]  # made before the write: takes its new history from the base
    out = _add_in_place(T)(v, x[:3].exp())
    (g,) = T.autograd.grad((y ** 3).sum() + (u * u).sum(), x, create_graph=True)
    return out, g, T.autograd.grad((g * g).sum(), x), out.grad_fn.name(), y.grad_fn.name()


def _dirty_view_of_constant(T):
    w = _x(T, (3,))
    y = T.zeros(4, dtype=T.float64)
    v = y[1:]
    _add_in_place(T)(v, w * w)
    return y, T.autograd.grad((y ** 2).sum(), w), y.grad_fn.name()


def _dirty_view_of_leaf(T):
    return _add_in_place(T)(_x(T, (4,))[1:], T.ones(3, dtype=T.float64))


def _dirty_split_output(T):
    return _add_in_place(T)((_x(T, (4,)) * 1).split(2)[0], T.ones(2, dtype=T.float64))


# a custom Function's mark_dirty on a view: the base's history went on without the Function
@pytest.mark.parametrize("case", [_dirty_view, _dirty_view_of_constant])
def test_function_mark_dirty_on_a_view_rebases_its_base(case):
    _both(case)


@pytest.mark.parametrize("case", [_dirty_view_of_leaf, _dirty_split_output])
def test_function_mark_dirty_on_a_view_that_may_not_be_rebased(case):
    want, got = _raises_like_torch(case)
    assert got == want


def _vec(T, values=(0.5, 1.0), requires_grad=True):
    return T.tensor(values, dtype=T.float64, requires_grad=requires_grad)


# gradcheck checks the outputs that require grad only (a detached output's finite differences
# failed a right gradient); with none, every numerical gradient must be zero
@pytest.mark.parametrize("fn", [
    lambda T, x: (x * 2, x.detach() * 3), lambda T, x: (x * 2, x.argmax()),
    lambda T, x: [x.detach() * 3, x.sin()], lambda T, x: (x * 2, x.detach() * 3 + x)])
def test_gradcheck_outputs_that_do_not_require_grad(fn):
    _both(lambda T: (T.autograd.gradcheck(lambda x: fn(T, x), (_vec(T),), raise_exception=False),
                     T.autograd.gradgradcheck(lambda x: fn(T, x ** 3), (_vec(T),)),
                     T.autograd.gradcheck(lambda x: x.detach() * 0, (_vec(T),))))


@pytest.mark.parametrize("fn,raise_exception", [
    (lambda T, x: x.detach() * 3, True), (lambda T, x: x.detach() * 3, False)])
def test_gradcheck_errors_as_torch(fn, raise_exception):
    def run(T):
        return T.autograd.gradcheck(lambda x: fn(T, x), (_vec(T),),
                                    raise_exception=raise_exception)
    if raise_exception:
        want, got = _raises_like_torch(run)
        assert got == want
    else:
        _both(run)


_FORWARD = dict(strategy="forward-mode", vectorize=True)


# autograd.functional.jacobian's forward-mode strategy (was refused): the same Jacobian, in the
# output's dtype; torch's checks of its options
@pytest.mark.parametrize("kw", [_FORWARD, dict(strategy="forward-mode"), dict(
    _FORWARD, create_graph=True), dict(_FORWARD, strict=True), dict(strategy="fwd")])
def test_jacobian_forward_mode(kw):
    def jacobians(T):
        x = _x(T, (2, 3)).detach()
        y = _x(T, (2, 3), seed=1).detach().float()
        F = T.autograd.functional
        return (F.jacobian(lambda x: x.sin() * x.sum(), x, **kw),
                F.jacobian(lambda x, y: (x.sin() * y, y.double().sum()), (x, y), **kw),
                F.hessian(lambda x: (x.sin() * x.exp()).sum(), x, vectorize=kw.get(
                    "vectorize", False), outer_jacobian_strategy=kw["strategy"]))
    if kw in (_FORWARD,):
        _both(jacobians, tol=1e-5)
    else:
        want, got = _raises_like_torch(jacobians)
        assert got == want


# a Python bool scalar in a subtraction: torch checks its own dtype (bool), not the promoted one
@pytest.mark.parametrize("fn", [
    lambda T: T.tensor([1, 2]) - True, lambda T: True - T.tensor([1.5]),
    lambda T: T.tensor([1.0]).sub(False), lambda T: T.rsub(T.tensor([1]), True),
    lambda T: T.tensor([1]).sub_(True), lambda T: T.tensor([True]) - True,
    lambda T: T.sub(T.tensor([2.0], requires_grad=True), True)])
def test_subtracting_a_bool_scalar_raises(fn):
    want, got = _raises_like_torch(fn)
    assert got == want


def _m(T):
    return T.tensor([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])


def _spd(T):
    return T.tensor([[2.0, 1.0], [1.0, 3.0]])


def _longs(T):
    return T.empty(0, dtype=T.int64)


# out= was accepted and left unwritten by these (a fresh result came back, out kept its garbage);
# sum/prod/cumsum compute in out's dtype, argmax and sort want the result's own dtype
OUT_CALLS = {
    "matmul": lambda T, o: T.matmul(_m(T), _m(T).t(), out=o),
    "mm": lambda T, o: T.mm(_m(T), _m(T).t(), out=o),
    "addmm": lambda T, o: T.addmm(T.zeros(2, 2), _m(T), _m(T).t(), out=o),
    "bmm": lambda T, o: T.bmm(_m(T)[None], _m(T).t()[None], out=o),
    "dot": lambda T, o: T.dot(_m(T)[0], _m(T)[1], out=o),
    "outer": lambda T, o: T.outer(_m(T)[0], _m(T)[1], out=o),
    "cat": lambda T, o: T.cat([_m(T), _m(T)], out=o),
    "stack": lambda T, o: T.stack([_m(T)[0], _m(T)[1]], out=o),
    "hstack": lambda T, o: T.hstack([_m(T), _m(T)], out=o),
    "gather": lambda T, o: T.gather(_m(T), 1, T.tensor([[0, 0, 1], [1, 2, 0]]), out=o),
    "index_select": lambda T, o: T.index_select(_m(T), 0, T.tensor([1, 0]), out=o),
    "masked_select": lambda T, o: T.masked_select(_m(T), _m(T) > 0, out=o),
    "nonzero": lambda T, o: T.nonzero(_m(T) > 0, out=o),
    "tril": lambda T, o: T.tril(_m(T), out=o),
    "max_dim": lambda T, o: T.max(_m(T), 1, out=(o, _longs(T))),
    "sort": lambda T, o: T.sort(_m(T), out=(o, _longs(T))),
    "argmax": lambda T, o: T.argmax(_m(T), 1, out=o),
    "sum": lambda T, o: T.sum(_m(T) * 0.9, 1, out=o),
    "prod": lambda T, o: T.prod(_m(T), 1, out=o),
    "cumsum": lambda T, o: T.cumsum(_m(T) * 0.9, 1, out=o),
    "linalg.inv": lambda T, o: T.linalg.inv(_spd(T), out=o),
    "linalg.solve": lambda T, o: T.linalg.solve(_spd(T), _spd(T)[:, :1], out=o),
    "linalg.eigh": lambda T, o: T.linalg.eigh(_spd(T), out=(o, T.empty(0))),
    "linalg.vector_norm": lambda T, o: T.linalg.vector_norm(_m(T), dim=1, out=o),
    "linalg.pinv": lambda T, o: T.linalg.pinv(_spd(T), out=o),
    "kron": lambda T, o: T.kron(_spd(T), _spd(T), out=o),
    "tensordot": lambda T, o: T.tensordot(_m(T), _m(T).t(), 1, out=o),
    "searchsorted": lambda T, o: T.searchsorted(T.tensor([0.0, 1, 2]), _m(T), out=o),
    "histogram": lambda T, o: T.histogram(_m(T), 3, out=(o, T.empty(0))),
}
OUTS = {
    "float32": lambda T: T.empty(0), "float64": lambda T: T.empty(0, dtype=T.float64),
    "int64": lambda T: T.empty(0, dtype=T.int64), "float16": lambda T: T.empty(0, dtype=T.half),
    "resized": lambda T: T.zeros(5, 5), "transposed": lambda T: T.zeros(3, 2).t(),
    "requires_grad": lambda T: T.zeros(2, 2, requires_grad=True)}


@pytest.mark.parametrize("out", OUTS)
@pytest.mark.parametrize("call", OUT_CALLS)
def test_out_argument_is_written_as_torch(call, out):
    def run(T):
        o = OUTS[out](T)
        res = OUT_CALLS[call](T, o)
        return res, o, (res[0] if isinstance(res, tuple) else res) is o
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the resize deprecation warning
        try:
            want = run(torch)
        except Exception:
            want = None
        if want is None:
            _raises_like_torch(run)
        else:
            _same(run(ndgrad), want)


def _identity_function(T):
    class Ident(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    return Ident.apply


def _returned_input_written(T):
    x = _x(T, (3,))
    y = x * 1
    _identity_function(T)(y).mul_(2)  # ndgrad's y kept its old history: a wrong gradient


def _returned_input_base_written(T):
    x = _x(T, (3,))
    y = x * 1
    z = _identity_function(T)(y)
    y.mul_(2)
    return T.autograd.grad((z * z).sum(), x)


def _view_of_returned_input_written(T):
    _identity_function(T)(_x(T, (3,)))[1:].mul_(2)


# an input a custom Function returns as is is a view of it, which torch forbids writing in place
# (the write would bypass the custom backward)
@pytest.mark.parametrize("case", [_returned_input_written, _returned_input_base_written,
                                  _view_of_returned_input_written])
def test_function_output_that_is_an_input_may_not_be_written(case):
    want, got = _raises_like_torch(case)
    assert got == want


def test_function_output_that_is_an_input_written_without_grad():
    def f(T):
        x = _x(T, (3,))
        y = x * 1
        z = _identity_function(T)(y)
        with T.no_grad():
            z.mul_(2)
        return y, z._base is y, z.requires_grad, repr(z).split("grad_fn=")[1]
    _both(f)


# .grad assigned another dtype: torch's error (ndgrad kept it, and mixed dtypes in the next step);
# a gradient expanded to its own shape is a plain tensor, accumulated in place
@pytest.mark.parametrize("dtype", ["float32", "int64", "float16"])
def test_assigning_a_gradient_of_another_dtype_raises(dtype):
    def f(T):
        x = _x(T, (2,))
        x.grad = T.ones(3 if dtype == "float16" else 2, dtype=getattr(T, dtype))
    want, got = _raises_like_torch(f)
    assert got == want


def test_gradient_expanded_to_its_own_shape_accumulates():
    def f(T):
        x = _x(T, (2,))
        x.grad = T.ones(2, dtype=T.float64).expand(2)
        (x * x).sum().backward()
        a = T.zeros(2, 3)
        a.expand(2, 3)[0, 1] = 5
        return x.grad, a
    _both(f)


def _square_function(T, setup: bool):
    if setup:
        class Sq(T.autograd.Function):
            @staticmethod
            def forward(x):
                return x * x

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(inputs[0])

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g
    else:
        class Sq(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g
    return Sq.apply


# a custom Function inside torch.func transforms needs setup_context (torch's error)
@pytest.mark.parametrize("transform", ["grad", "jacrev", "vjp"])
def test_function_in_func_transform_needs_setup_context(transform):
    def run(T, setup):
        sq = _square_function(T, setup)
        x = _x(T, (3,)).detach()
        if transform == "grad":
            return T.func.grad(lambda x: sq(x).sum())(x)
        if transform == "jacrev":
            return T.func.jacrev(sq)(x)
        out, fn = T.func.vjp(sq, x)
        return out, fn(T.ones_like(out))
    _both(lambda T: run(T, True))
    want, got = _raises_like_torch(lambda T: run(T, False))
    assert got == want


def _retained_view_of_modified_base(T):
    x = _x(T, (2,))
    y = x * 2
    z = y.view(2, 1)
    z.retain_grad()
    y.add_(1)  # z takes its new history from y when used: its retained gradient follows it
    (z * z).sum().backward()
    return z.grad, x.grad


def test_retain_grad_follows_a_view_to_its_new_history():
    _both(_retained_view_of_modified_base)


def test_data_of_another_kind_on_a_tensor_requiring_grad_raises():
    def f(T):
        x = _x(T, (2,))
        x.data = T.tensor([1, 2])
    want, got = _raises_like_torch(f)
    assert got == want
