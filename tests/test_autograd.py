"""Autograd engine semantics against torch: accumulation, retain/create graph, errors, hooks,
version counters, grad modes, graph shapes (chains, diamonds, multi-output nodes)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from autograd_compare import outcome, same

import ndgrad


def leaf(lib, values=(1.0, 2.0, 3.0), dtype=None):
    return lib.tensor(list(values), dtype=dtype, requires_grad=True)


def randn(lib, *shape, seed=0, requires_grad=True):
    arr = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return lib.tensor(arr, requires_grad=requires_grad)


# --- accumulation, autograd.grad, retain_graph ----------------------------------------------------
def test_grad_accumulates_over_backward_calls():
    def f(lib):
        x = leaf(lib)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        return first, x.grad

    same(f)


def test_autograd_grad_returns_tuple_and_leaves_grad_alone():
    def f(lib):
        x, y = leaf(lib), leaf(lib, (4.0, 5.0, 6.0))
        x.grad = lib.ones(3)
        g = lib.autograd.grad((x * y).sum(), [x, y])
        return type(g).__name__, g, x.grad, y.grad

    same(f)


def test_grad_buffer_is_updated_in_place():
    x = leaf(ndgrad)
    (x * 2).sum().backward()
    buf = x.grad
    (x * 2).sum().backward()
    assert x.grad is buf and buf.tolist() == [4.0, 4.0, 4.0]


@pytest.mark.parametrize("op", ["mul", "exp", "sigmoid", "matmul", "pow"])
def test_second_backward_through_freed_graph_raises(op):
    def f(lib):
        x = leaf(lib)
        y = {"mul": lambda: x * x, "exp": x.exp, "sigmoid": x.sigmoid, "pow": lambda: x ** 3,
             "matmul": lambda: x @ x}[op]().sum()
        y.backward()
        y.backward()

    same(f)


def test_retain_graph_allows_a_second_backward():
    def f(lib):
        x = leaf(lib)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        return x.grad, lib.autograd.grad(y, x)

    same(f)


def test_nodes_without_saved_tensors_backward_twice():
    def f(lib):
        x = leaf(lib)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        return x.grad

    same(f)


def test_saved_tensors_are_freed_after_backward():
    def f(lib):
        x = leaf(lib)
        y = x.exp()
        y.sum().backward()
        return y.grad_fn.next_functions[0][0] is None, len(y.grad_fn.next_functions)

    same(f)


# --- create_graph and higher derivatives ----------------------------------------------------------
def test_third_derivative_of_sin():
    def f(lib):
        x = leaf(lib, (0.3, 1.2, -2.0))
        g1, = lib.autograd.grad(x.sin().sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = lib.autograd.grad(g2.sum(), x)
        return g1, g2, g3

    res = same(f)
    np.testing.assert_allclose(res[2].numpy(), -np.cos([0.3, 1.2, -2.0]), rtol=1e-6)


def test_hessian_vector_product_by_double_backward():
    def f(lib):
        x = leaf(lib)
        v = lib.tensor([1.0, 0.0, -1.0])
        y = (x ** 3).sum() + x[0] * x[1] + (x * x * x[2]).sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        hv, = lib.autograd.grad(g, x, grad_outputs=v)
        return g, hv

    same(f, rtol=1e-5)


def test_gradient_penalty():
    def f(lib):
        w, inp = randn(lib, 3, 4), randn(lib, 5, 3, seed=1)
        out = (inp @ w).tanh().sum()
        g, = lib.autograd.grad(out, inp, create_graph=True)
        penalty = ((g * g).sum(1).sqrt() - 1).pow(2).mean()
        penalty.backward()
        return g, penalty, w.grad, inp.grad

    same(f, rtol=1e-5, atol=1e-6)


def test_backward_with_create_graph_warns_and_keeps_history():
    def f(lib):
        x = leaf(lib, (1.0, 2.0))
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        g.sum().backward()
        return g, x.grad, x.grad is g

    same(f)


def test_gradgradcheck_of_composites():
    x = ndgrad.tensor([[0.3, -1.2], [0.7, 2.0]], dtype=ndgrad.float64, requires_grad=True)
    assert ndgrad.autograd.gradgradcheck(lambda t: (t.sin() * t.exp() @ t).tanh(), (x,))


# --- gradient arguments and error messages --------------------------------------------------------
@pytest.mark.parametrize("case", ["tensor", "float64", "bad_shape", "list", "scalar_for_vector",
                                  "count"])
def test_backward_gradient_argument(case):
    def f(lib):
        x = leaf(lib)
        y = x * x
        if case == "tensor":
            y.backward(lib.tensor([1.0, 10.0, 100.0]))
        elif case == "float64":
            y.backward(lib.tensor([1.0, 10.0, 100.0], dtype=lib.float64))
        elif case == "bad_shape":
            y.backward(lib.ones(2))
        elif case == "list":
            y.backward([1.0, 2.0, 3.0])
        elif case == "scalar_for_vector":
            y.sum().backward(lib.tensor([2.0]))
        else:
            lib.autograd.backward([y, x * 3], [lib.ones(3)])
        return x.grad, x.grad.dtype

    same(f)


@pytest.mark.parametrize("case", ["non_scalar", "no_grad", "no_grad_grad", "unused",
                                  "input_no_grad", "empty_inputs", "materialize_conflict"])
def test_error_messages(case):
    def f(lib):
        x, c = leaf(lib), lib.tensor([1.0, 2.0, 3.0])
        y = lib.tensor(1.0, requires_grad=True)
        if case == "non_scalar":
            (x * 2).backward()
        elif case == "no_grad":
            (c * 2).sum().backward()
        elif case == "no_grad_grad":
            lib.autograd.grad((c * 2).sum(), x)
        elif case == "unused":
            lib.autograd.grad((x * 2).sum(), [x, y])
        elif case == "input_no_grad":
            lib.autograd.grad((x * 2).sum(), [x, c])
        elif case == "empty_inputs":
            lib.autograd.grad((x * 2).sum(), [])
        else:
            lib.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True, allow_unused=False)

    same(f)


def test_allow_unused_and_materialize_grads():
    def f(lib):
        x, y = leaf(lib), lib.tensor(1.0, requires_grad=True)
        a = lib.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
        b = lib.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)
        return a, b

    same(f)


def test_grad_with_respect_to_non_leaf_and_several_outputs():
    def f(lib):
        x = leaf(lib)
        m = x * 2
        out = [m.sum(), (m * m).sum(), x.exp()]
        g1 = lib.autograd.grad((m * m).sum(), m, retain_graph=True)
        g2 = lib.autograd.grad(out, [x, m], grad_outputs=[None, lib.tensor(2.0), lib.ones(3)])
        return g1, g2

    same(f, rtol=1e-6)


def test_is_grads_batched():
    def f(lib):
        x = leaf(lib)
        y = x * x
        return lib.autograd.grad(y, x, lib.eye(3), is_grads_batched=True)

    same(f)


def test_backward_inputs_restricts_accumulation():
    def f(lib):
        x, y = leaf(lib), leaf(lib, (4.0, 5.0, 6.0))
        m = x * y
        (m * m).sum().backward(inputs=[x, m])
        return x.grad, y.grad, m.grad

    same(f)


def test_only_branches_leading_to_inputs_run():
    ran = []

    class Spy(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            ran.append(True)
            return g

    x, y = leaf(ndgrad), leaf(ndgrad)
    out = (x * 2).sum() + Spy.apply(y).sum()
    ndgrad.autograd.grad(out, x)
    assert ran == []
    ndgrad.autograd.grad(out * 1, y)
    assert ran == [True]


# --- hooks ---------------------------------------------------------------------------------------
def test_leaf_hook_modifies_grad_and_can_be_removed():
    def f(lib):
        x = leaf(lib)
        h = x.register_hook(lambda g: g * 10)
        (x * x).sum().backward()
        first = x.grad.clone()
        h.remove()
        x.grad = None
        (x * x).sum().backward()
        return first, x.grad

    same(f)


def test_non_leaf_hook_sees_and_replaces_grad():
    def f(lib):
        x = leaf(lib)
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.register_hook(lambda g: g * 3)
        (y * y).sum().backward()
        return x.grad, seen

    same(f)


def test_retain_grad_sees_hooked_grad_whatever_the_order():
    def f(lib):
        x = leaf(lib)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)
        (y * y).sum().backward()
        (y * y).sum().backward()
        return x.grad, y.grad, y.retains_grad, x.retains_grad, y.is_leaf

    same(f)


def test_hooks_run_in_autograd_grad():
    def f(lib):
        x = leaf(lib)
        x.register_hook(lambda g: g * 10)
        y = x * 2
        y.register_hook(lambda g: g + 1)
        y.retain_grad()
        return lib.autograd.grad((y * y).sum(), x), y.grad

    same(f)


@pytest.mark.parametrize("bad", ["shape", "dtype", "type", "no_grad"])
def test_hook_errors(bad):
    def f(lib):
        x = leaf(lib) if bad != "no_grad" else lib.ones(3)
        x.register_hook({"shape": lambda g: g[:1], "dtype": lambda g: g.double(),
                         "type": lambda g: 5, "no_grad": lambda g: g}[bad])
        (x * x).sum().backward()

    same(f, message=bad != "shape" or "has changed the size of value")


def test_node_prehook_and_hook():
    def f(lib):
        x = leaf(lib)
        y = x * 2
        seen = []
        y.grad_fn.register_prehook(lambda go: (go[0] * 5,))
        y.grad_fn.register_hook(lambda gi, go: seen.append((gi[0].clone(), go[0].clone())))
        y.sum().backward()
        return x.grad, seen

    same(f)


# --- version counter and in-place ---------------------------------------------------------------
@pytest.mark.parametrize("case", ["saved_input", "saved_output", "via_detach", "leaf_no_grad",
                                  "constant", "unsaved_is_fine"])
def test_modified_saved_tensor_raises(case):
    def f(lib):
        x = leaf(lib)
        if case == "saved_input":
            y = x * 1
            z = y * y
            y.mul_(2)
        elif case == "saved_output":
            y = x.sigmoid()
            z = y
            y.mul_(2)
        elif case == "via_detach":
            z = x.exp()
            z.detach().zero_()
        elif case == "leaf_no_grad":
            z = x * x
            with lib.no_grad():
                x.add_(1)
        elif case == "constant":
            c = lib.tensor([1.0, 2.0, 3.0])
            z = x * c
            c.add_(1)
        else:
            y = x * 1
            z = y + y
            y.mul_(2)
        z.sum().backward()
        return x.grad, x._version

    same(f)


def test_version_counter_bumps():
    def f(lib):
        x = lib.ones(3)
        v0 = x._version
        x.add_(1)
        x[0] = 5
        x.mul_(2)
        d = x.detach()
        d.zero_()
        return v0, x._version, d._version

    same(f)


@pytest.mark.parametrize("case", ["add_", "isub", "view", "zero_", "no_grad_ok"])
def test_in_place_on_leaf(case):
    def f(lib):
        x = leaf(lib)
        if case == "add_":
            x.add_(1)
        elif case == "isub":
            x -= 1
        elif case == "view":
            x[0:2].mul_(2)
        elif case == "zero_":
            x.zero_()
        else:
            with lib.no_grad():
                x -= 0.5 * x
            return x, x.requires_grad, x.is_leaf, x._version

    same(f)


def test_in_place_on_non_leaf_is_differentiated():
    def f(lib):
        x = leaf(lib)
        y = x * 2
        y.mul_(y)
        y.add_(1)
        y[1] = x[0] * 7
        y.sum().backward()
        return y, x.grad

    same(f)


# --- grad modes -----------------------------------------------------------------------------------
def test_grad_mode_context_managers_and_decorators():
    def f(lib):
        x = leaf(lib)
        out = []
        with lib.no_grad():
            out.append((x * 2).requires_grad)
            with lib.enable_grad():
                out.append((x * 2).requires_grad)
            out.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        lib.set_grad_enabled(False)
        out.append(lib.is_grad_enabled())
        lib.set_grad_enabled(True)
        out.append(lib.no_grad()(lambda: (x * 2).requires_grad)())
        out.append(lib.no_grad(lambda: lib.is_grad_enabled())())
        out.append(lib.enable_grad(lambda: lib.is_grad_enabled())())
        out.append(lib.set_grad_enabled(False)(lambda: lib.is_grad_enabled())())
        with lib.inference_mode():
            y = x * 2
            out.append((y.requires_grad, lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
        with lib.inference_mode(False):
            out.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
        out.append(lib.inference_mode(lambda: lib.is_inference_mode_enabled())())

        @lib.no_grad()
        def gen():
            yield lib.is_grad_enabled()
            yield (x * 2).requires_grad

        out.append(list(gen()))
        out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        return out

    same(f)


def test_tensors_made_under_no_grad_are_leaves():
    def f(lib):
        x = leaf(lib)
        with lib.no_grad():
            y = x * 2
        return y.is_leaf, y.requires_grad, y.grad_fn

    same(f)


def test_grad_mode_is_thread_local():
    seen = {}

    def worker(name):
        seen[name] = ndgrad.is_grad_enabled()
        with ndgrad.no_grad():
            seen[name + "_inside"] = ndgrad.is_grad_enabled()
            time.sleep(0.05)

    with ndgrad.no_grad():
        t = threading.Thread(target=worker, args=("a",))
        t.start()
        t.join()
    t = threading.Thread(target=worker, args=("b",))
    t.start()
    time.sleep(0.01)
    main_during = ndgrad.is_grad_enabled()
    t.join()
    assert seen == {"a": True, "a_inside": False, "b": True, "b_inside": False}
    assert main_during and ndgrad.is_grad_enabled()


# --- detach, requires_grad ----------------------------------------------------------------------
def test_detach_shares_memory_and_version():
    def f(lib):
        x = leaf(lib)
        d = x.detach()
        with lib.no_grad():
            x[0] = 10
        return d, d.requires_grad, d.is_leaf, d._version == x._version

    same(f)


@pytest.mark.parametrize("case", ["nonleaf_true", "nonleaf_false", "int_attr", "int_method",
                                  "detach_", "detach_view"])
def test_requires_grad_and_detach_(case):
    def f(lib):
        x = leaf(lib)
        y = x * 2
        if case == "nonleaf_true":
            return y.requires_grad_(True)
        if case == "nonleaf_false":
            y.requires_grad = False
        if case == "int_attr":
            lib.tensor([1, 2]).requires_grad = True
        if case == "int_method":
            lib.tensor([1, 2]).requires_grad_()
        if case == "detach_":
            y.detach_()
            return y, y.is_leaf, y.grad_fn
        if case == "detach_view":
            x[1:].detach_()

    same(f, message=case != "detach_view" or "Can't detach views in-place. Use detach() instead.")


def test_non_leaf_grad_warns_once_per_access_and_retain_grad_silences():
    def f(lib):
        x = leaf(lib)
        y = x * 2
        y.sum().backward(retain_graph=True)
        a = y.grad
        y.retain_grad()
        y.sum().backward()
        return a, y.grad, x.grad

    same(f)


# --- graph shapes ---------------------------------------------------------------------------------
def test_long_chain_has_no_recursion_limit_and_is_fast():
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    start = time.perf_counter()
    y.sum().backward()
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"backward through 100,000 nodes took {elapsed:.1f}s"
    np.testing.assert_allclose(x.grad.numpy(), [float(np.float32(1.0000001)) ** 100_000] * 2,
                               rtol=1e-3)


def test_diamond_sums_gradients():
    def f(lib):
        x = leaf(lib)
        a = x * 2
        b, c = a.sin(), a.cos()
        d = a * 3
        (b * c + d + a).sum().backward()
        return x.grad

    same(f)


def test_reused_tensor_and_module_sum_gradients():
    def f(lib):
        x = leaf(lib)
        lin = lib.nn.Linear(3, 3)
        with lib.no_grad():
            lin.weight.copy_(lib.arange(9.0).reshape(3, 3) / 10)
            lin.bias.fill_(0.5)
        lin(lin(x).relu()).sum().backward()
        return x.grad, lin.weight.grad, lin.bias.grad

    same(f, rtol=1e-5)


@pytest.mark.parametrize("op", ["unbind", "split", "chunk", "max_dim", "sort", "topk"])
def test_multi_output_node_with_unused_outputs(op):
    def f(lib):
        x = lib.tensor([[1.0, 5.0, 2.0], [3.0, 2.0, 9.0]], requires_grad=True)
        outs = {"unbind": lambda: x.unbind(1), "split": lambda: x.split([1, 2], dim=1),
                "chunk": lambda: x.chunk(2, dim=0), "max_dim": lambda: x.max(dim=1),
                "sort": lambda: x.sort(dim=1), "topk": lambda: x.topk(2, dim=1)}[op]()
        (outs[1] * 2).sum().backward() if op in ("unbind", "split", "chunk") else \
            (outs[0] * 2).sum().backward()
        return x.grad

    same(f)


# --- anomaly mode and saved-tensor hooks ----------------------------------------------------------
def test_anomaly_mode_reports_nan_and_changes_the_hint():
    def nan(lib):
        with lib.autograd.detect_anomaly():
            x = lib.tensor([1.0, 0.0], requires_grad=True)
            (x.sqrt() * 0).sum().backward()

    def modified(lib):
        with lib.autograd.detect_anomaly(check_nan=False):
            x = leaf(lib)
            y = x * 1
            z = y * y
            y.add_(1)
            z.sum().backward()

    for fn in (nan, modified):
        warned = same(fn, check_warnings=False) and outcome(ndgrad, fn)[1]
        assert warned[0].startswith("Anomaly Detection has been enabled.")
        assert warned[-1].startswith("Error detected in ") and "in nan\n" in warned[-1] or \
            fn is modified
    assert not ndgrad.autograd.anomaly_mode.is_anomaly_enabled()


def test_anomaly_mode_warns_with_the_forward_trace():
    class Boom(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    ndgrad.autograd.set_detect_anomaly(True)
    try:
        x = leaf(ndgrad)
        y = Boom.apply(x).sum()
        with pytest.warns(UserWarning, match="Error detected in BoomBackward") as w, \
                pytest.raises(ValueError, match="boom"):
            y.backward()
        assert "test_anomaly_mode_warns_with_the_forward_trace" in str(w[0].message)
    finally:
        ndgrad.autograd.set_detect_anomaly(False)


def test_saved_tensors_hooks():
    def f(lib):
        log = []

        def pack(t):
            log.append(("pack", tuple(t.shape)))
            return t * 1

        def unpack(t):
            log.append("unpack")
            return t

        x = leaf(lib)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = (x.exp() * x).sum()
        y.backward()
        with lib.autograd.graph.saved_tensors_hooks(lambda t: None, lambda p: lib.ones(3)):
            z = (x * x).sum()
        z.backward()
        return log, x.grad

    same(f)


def test_saved_tensors_hooks_skip_the_version_check():
    def f(lib):
        x = leaf(lib)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            y = x * 1
            z = (y * y).sum()
        y.add_(1)
        z.backward()
        return x.grad

    same(f)


def test_retain_grad_follows_in_place_but_hooks_stay():
    def f(lib):
        x = leaf(lib)
        y = x * 1
        y.retain_grad()
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.mul_(3)
        (y * y).sum().backward()
        return y.grad, x.grad, seen

    same(f)


def test_gradcheck_like_torch():
    def f(lib):
        x = lib.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=lib.float64, requires_grad=True)
        gc = lib.autograd.gradcheck
        return (gc(lambda t: t.T.exp() * t, x), gc(lambda t: lib.zeros_like(t), x),
                gc(lambda t: (t.sin(), lib.zeros_like(t)), x.T),
                gc(lambda t: t.detach() * 2, x, raise_exception=False))

    same(f)
    with pytest.raises(ndgrad.autograd.GradcheckError, match="expected to be zero"):
        ndgrad.autograd.gradcheck(lambda t: t.detach() * 2,
                                  ndgrad.ones(2, dtype=ndgrad.float64, requires_grad=True))


@pytest.mark.parametrize("case", ["plain_gets_history", "view_of_non_leaf", "data_is_untracked",
                                  "base_sees_view_write", "chain_of_in_place"])
def test_in_place_graph_rewiring(case):
    def f(lib):
        w = leaf(lib)
        if case == "plain_gets_history":
            x = lib.zeros(3)
            x.add_(w * 2)
            x.mul_(w)
            x.sum().backward()
            return x, x.is_leaf, w.grad
        if case == "view_of_non_leaf":
            y = w * 1
            y[1:].mul_(y[:2].detach() + 1)
            (y * y).sum().backward()
            return y, w.grad
        if case == "data_is_untracked":
            z = w * w
            w.data.mul_(2)
            z.sum().backward()
            return w.grad, w._version
        if case == "base_sees_view_write":
            y = w.exp()
            v = y[0:2]
            v.zero_()
            y.sum().backward()
        y = w * 1
        for _ in range(3):
            y.mul_(w).add_(1)
        y.sum().backward()
        return y, w.grad

    same(f)


def test_legacy_variable():
    def f(lib):
        x = lib.ones(2)
        v = lib.autograd.Variable(x, requires_grad=True)
        (v * 3).sum().backward()
        w = lib.autograd.Variable(v * 2)
        return (v is x, v, v.grad, v.is_leaf, isinstance(x, lib.autograd.Variable), w, w.is_leaf,
                lib.autograd.Variable(x, volatile=True))

    same(f)
    same(lambda lib: lib.autograd.Variable([1.0, 2.0]))


def test_fresh_leaf_gradients_are_kept_without_a_copy_and_shared_ones_are_copied(monkeypatch):
    import sys

    from ndgrad.autograd import engine

    seen = []
    original = engine._sole_owner

    def spy(a):  # one more reference to ``a`` than the engine's own call
        seen.append(original(a))
        return seen[-1]

    monkeypatch.setattr(engine, "_ENGINE_REFS", engine._ENGINE_REFS + 1)
    monkeypatch.setattr(engine, "_sole_owner", spy)
    ndgrad.manual_seed(0)
    lin = ndgrad.nn.Linear(4, 3)
    lin(ndgrad.randn(2, 4)).sum().backward()
    stealing = sys.version_info < (3, 14)
    assert seen == [stealing, stealing]  # the weight's and bias's fresh GEMM/sum results
    seen.clear()
    a, b = ndgrad.randn(3, requires_grad=True), ndgrad.randn(3, requires_grad=True)
    ((a + b) * 1).sum().backward()  # add hands one fresh array to both inputs: the first leaf
    assert seen == [False, stealing]  # gets a copy, the second (then its sole owner) keeps it
    a.grad.add_(1)
    np.testing.assert_array_equal(a.grad.numpy(), np.full(3, 2.0, np.float32))
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3, np.float32))
