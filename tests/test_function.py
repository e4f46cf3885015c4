"""torch.autograd.Function against torch: the ctx contract, gradient validation, error texts,
double backward and once_differentiable. Each Function is defined once per library."""

from __future__ import annotations

import pytest
from autograd_compare import same

import ndgrad


def leaf(lib, values=(1.0, 2.0)):
    return lib.tensor(list(values), requires_grad=True)


def define(lib, name, forward, backward=None, **extra):
    """A Function subclass of ``lib`` (staticmethods from plain functions)."""
    ns = {"forward": staticmethod(forward), **{k: staticmethod(v) for k, v in extra.items()}}
    if backward is not None:
        ns["backward"] = staticmethod(backward)
    return type(name, (lib.autograd.Function,), ns)


def square(lib):
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x * x * k

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * g * x * ctx.k, None

    return define(lib, "Sq", forward, backward)


def cube(lib, once=False):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3 * x ** 2 * g

    if once:
        backward = lib.autograd.function.once_differentiable(backward)
    return define(lib, "Cube", forward, backward)


def test_forward_backward_and_ctx():
    def f(lib):
        x = leaf(lib)
        y = square(lib).apply(x, 3.0)
        fn = y.grad_fn
        info = (fn.name(), type(fn).__name__, fn.k, fn.needs_input_grad, len(fn.next_functions),
                fn.saved_tensors, y.is_leaf, y.requires_grad)
        y.sum().backward()
        return y, x.grad, info

    same(f)


def test_needs_input_grad_and_non_tensor_args():
    def f(lib):
        seen = []

        def forward(ctx, a, b, n):
            seen.append(ctx.needs_input_grad)
            return a * b * n

        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g if ctx.needs_input_grad[0] else None, None, None

        fn = define(lib, "Three", forward, backward)
        a, b = leaf(lib), lib.tensor([3.0, 4.0])
        fn.apply(a, b, 2).sum().backward()
        return seen, a.grad

    same(f)


@pytest.mark.parametrize("case", ["too_few", "too_many", "extra_none", "non_tensor_input",
                                  "bad_shape", "broadcast_shape", "dtype_cast", "not_a_tensor"])
def test_gradients_are_validated(case):
    def f(lib):
        x = leaf(lib)
        backward = {
            "too_few": lambda ctx, g: g,
            "too_many": lambda ctx, g: (g, g, g),
            "extra_none": lambda ctx, g: (g, None, None),
            "non_tensor_input": lambda ctx, g: (g, g),
            "bad_shape": lambda ctx, g: (lib.ones(3), None),
            "broadcast_shape": lambda ctx, g: (lib.ones(3, 2), None),
            "dtype_cast": lambda ctx, g: (lib.ones(2, dtype=lib.float64), None),
            "not_a_tensor": lambda ctx, g: (3, None),
        }[case]
        fn = define(lib, "Check", lambda ctx, t, k: t * k, backward)
        fn.apply(x, 2.0).sum().backward()
        return x.grad, x.grad.dtype

    same(f)


@pytest.mark.parametrize("materialize", [True, False])
def test_materialize_grads(materialize):
    def f(lib):
        seen = []

        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        def backward(ctx, g1, g2):
            seen.append((g1, g2))
            return g2 if g1 is None else g1 + g2

        x = leaf(lib)
        define(lib, "Two", forward, backward).apply(x)[1].sum().backward()
        return seen, x.grad

    same(f)


def test_mark_non_differentiable():
    def f(lib):
        def forward(ctx, x):
            v, i = x.max(), x.argmax()
            ctx.mark_non_differentiable(i)
            return v, i

        def backward(ctx, gv, gi):
            return lib.ones(2) * gv + (gi * 0 if gi is not None else 0)

        x = leaf(lib)
        v, i = define(lib, "ArgMax", forward, backward).apply(x)
        v.backward()

        def flt(ctx, t):
            y = t * 2
            ctx.mark_non_differentiable(y)
            return y

        z = define(lib, "Float", flt, lambda ctx, g: g).apply(x)
        return (v.requires_grad, i.requires_grad, i.grad_fn, x.grad, z.requires_grad,
                z.grad_fn)

    same(f)


def test_returned_input_and_mark_dirty():
    def f(lib):
        x = leaf(lib)
        ident = define(lib, "Ident", lambda ctx, t: t, lambda ctx, g: g)
        y = ident.apply(x)

        def dirty_forward(ctx, t):
            t.mul_(2)
            ctx.mark_dirty(t)
            return t

        dirty = define(lib, "Dirty", dirty_forward, lambda ctx, g: g * 2)
        m = x * 1
        z = dirty.apply(m)
        z.sum().backward()
        return y is x, y, z is m, z, m._version, x.grad

    same(f)


def test_mark_dirty_on_a_leaf_raises():
    def f(lib):
        def forward(ctx, t):
            t.mul_(2)
            ctx.mark_dirty(t)
            return t

        define(lib, "Dirty", forward, lambda ctx, g: g).apply(leaf(lib))

    same(f)


def test_inputs_without_grad_or_grad_mode_off_record_nothing():
    def f(lib):
        fn = square(lib)
        a = fn.apply(lib.ones(2), 2.0)
        with lib.no_grad():
            b = fn.apply(leaf(lib), 2.0)
        return a, b, a.grad_fn, b.grad_fn

    same(f)


def test_grad_mode_inside_forward_and_backward():
    def f(lib):
        seen = []

        def forward(ctx, x):
            seen.append(("forward", lib.is_grad_enabled()))
            return x * 2

        def backward(ctx, g):
            seen.append(("backward", lib.is_grad_enabled()))
            return g * 2

        fn = define(lib, "Mode", forward, backward)
        x = leaf(lib)
        fn.apply(x).sum().backward()
        lib.autograd.grad(fn.apply(x).sum(), x, create_graph=True)
        return seen

    same(f)


def test_double_backward_through_a_function():
    def f(lib):
        x = leaf(lib)
        g, = lib.autograd.grad(cube(lib).apply(x).sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), x)
        return g, g2

    same(f)


def test_once_differentiable():
    def first(lib):
        x = leaf(lib)
        g, = lib.autograd.grad(cube(lib, once=True).apply(x).sum(), x, create_graph=True)
        return g, g.requires_grad

    def twice(lib, wrt_v):
        x = leaf(lib)
        y = cube(lib, once=True).apply(x)
        v = lib.ones(2, requires_grad=True)
        g, = lib.autograd.grad(y, x, v, create_graph=True)
        if wrt_v:  # the error node hangs off a detached copy, not off v
            lib.autograd.grad(g.sum(), v)
        g.sum().backward()

    same(first)
    same(lambda lib: twice(lib, True))
    same(lambda lib: twice(lib, False))


@pytest.mark.parametrize("case", ["freed", "modified", "no_backward", "no_forward", "legacy_call",
                                  "both_backward_and_vjp"])
def test_errors(case):
    def f(lib):
        x = leaf(lib)
        if case == "freed":
            y = cube(lib).apply(x).sum()
            y.backward()
            y.backward()
        elif case == "modified":
            m = x * 1
            y = cube(lib).apply(m).sum()
            m.add_(1)
            y.backward()
        elif case == "no_backward":
            define(lib, "NoBw", lambda ctx, t: t * 2).apply(x).sum().backward()
        elif case == "no_forward":
            type("NoFw", (lib.autograd.Function,), {}).apply(x)
        elif case == "legacy_call":
            square(lib)()(x, 2.0)
        else:
            fn = define(lib, "Both", lambda ctx, t: t * 2, lambda ctx, g: g, vjp=lambda ctx, g: g)
            fn.apply(x).sum().backward()

    same(f)


def test_setup_context_and_vjp_styles():
    def f(lib):
        def forward(x, k):
            return x * k

        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        a = define(lib, "Setup", forward, lambda ctx, g: (g * ctx.k, None),
                   setup_context=setup_context)
        b = type("Vjp", (lib.autograd.Function,), {
            "forward": staticmethod(lambda ctx, t: t * 2),
            "vjp": staticmethod(lambda ctx, g: g * 2)})
        x = leaf(lib)
        a.apply(x, 5.0).sum().backward()
        first = x.grad.clone()
        b.apply(x).sum().backward()
        return first, x.grad, a.apply(x, k=2.0)

    same(f)


def test_non_tensor_and_integer_outputs():
    def f(lib):
        x = leaf(lib)
        pair = define(lib, "Pair", lambda ctx, t: (t * 2, 5), lambda ctx, g, g2: g)
        ints = define(lib, "Ints", lambda ctx, t: (t * 2).long(), lambda ctx, g: g)
        y, five = pair.apply(x)
        y.sum().backward()
        return y, five, ints.apply(x), x.grad

    same(f)


def test_function_as_module_building_block_with_gradcheck():
    class Softplus(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (1 + x.exp()).log()

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x.sigmoid()

    x = ndgrad.tensor([[-1.5, 0.2], [0.7, 3.0]], dtype=ndgrad.float64, requires_grad=True)
    assert ndgrad.autograd.gradcheck(Softplus.apply, (x,))
    assert ndgrad.autograd.gradgradcheck(Softplus.apply, (x,))
