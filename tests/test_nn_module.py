"""nn.Module's contract against torch: registration, traversal order, state_dict, load_state_dict
reports, modes, dtype/device moves, zero_grad, apply, hooks, printing, containers."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch
from nn_compare import copy_weights

import ndgrad


def build(T):
    """A small model with a shared submodule, a shared parameter, buffers and a None child."""

    class Block(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = T.nn.Linear(3, 3)
            self.bn = T.nn.BatchNorm1d(3)
            self.register_buffer("scale", T.ones(3))
            self.register_buffer("tmp", T.zeros(1), persistent=False)

        def forward(self, x):
            return self.bn(self.fc(x)) * self.scale

    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Block()
            self.b = self.a  # shared module: visited once
            self.seq = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.ReLU(), T.nn.Linear(4, 2))
            self.none_child = None
            self.register_module("missing", None)
            self.w = T.nn.Parameter(T.ones(2))
            self.tied = self.seq[0].weight  # shared parameter: listed once

        def forward(self, x):
            return self.seq(self.b(self.a(x))) * self.w

    return Net()


def names(it):
    return [n for n, _ in it]


def test_traversal_orders_match_torch():
    n, t = build(ndgrad), build(torch)
    assert names(n.named_parameters()) == names(t.named_parameters())
    assert names(n.named_parameters(remove_duplicate=False)) == names(
        t.named_parameters(remove_duplicate=False))
    assert names(n.named_buffers()) == names(t.named_buffers())
    assert names(n.named_children()) == names(t.named_children())
    assert names(n.named_modules()) == names(t.named_modules())
    assert names(n.named_modules(remove_duplicate=False)) == names(
        t.named_modules(remove_duplicate=False))
    assert names(n.named_parameters(prefix="m", recurse=False)) == names(
        t.named_parameters(prefix="m", recurse=False))
    assert len(list(n.parameters())) == len(list(t.parameters()))
    assert len(list(n.modules())) == len(list(t.modules()))
    assert len(list(n.children())) == len(list(t.children()))


def test_state_dict_keys_metadata_and_roundtrip():
    n, t = build(ndgrad), build(torch)
    assert list(n.state_dict()) == list(t.state_dict())
    assert dict(n.state_dict()._metadata) == dict(t.state_dict()._metadata)
    copy_weights(t, n)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    n.eval(), t.eval()
    np.testing.assert_allclose(np.asarray(n(ndgrad.from_numpy(x)).detach()),
                               t(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    sd = n.state_dict()
    assert not sd["seq.0.weight"].requires_grad and sd["seq.0.weight"].grad_fn is None
    assert n.state_dict(keep_vars=True)["seq.0.weight"] is n.seq[0].weight
    assert list(n.state_dict(prefix="p.")) == list(t.state_dict(prefix="p."))


def _error(fn):
    with pytest.raises(Exception) as e:
        fn()
    return type(e.value), str(e.value).replace("ndgrad.", "torch.")


@pytest.mark.parametrize("edit", [
    lambda sd: sd.pop("seq.2.bias"),
    lambda sd: sd.__setitem__("extra.weight", sd["w"]),
    lambda sd: sd.__setitem__("a.fc.nope", sd["w"]),
    lambda sd: (sd.pop("w"), sd.__setitem__("zzz", sd["seq.2.bias"])),
    lambda sd: sd.__setitem__("w", sd["seq.2.weight"]),
    lambda sd: sd.__setitem__("w", 3.0),
])
def test_load_state_dict_errors_match_torch(edit):
    results = []
    for T in (ndgrad, torch):
        m = build(T)
        sd = m.state_dict()
        edit(sd)
        results.append(_error(lambda: m.load_state_dict(sd)))
    assert results[0] == results[1]


def test_load_state_dict_non_strict_reports_like_torch():
    reports = []
    for T in (ndgrad, torch):
        m = build(T)
        sd = m.state_dict()
        sd.pop("a.bn.running_var")
        sd["surplus"] = sd["w"]
        r = m.load_state_dict(sd, strict=False)
        reports.append((r.missing_keys, r.unexpected_keys, repr(r)))
        assert repr(m.load_state_dict(m.state_dict())) == "<All keys matched successfully>"
    assert reports[0] == reports[1]


def test_load_state_dict_assign_keeps_parameters_and_requires_grad():
    m = ndgrad.nn.Linear(2, 3)
    w = ndgrad.randn(3, 2)
    m.load_state_dict({"weight": w, "bias": ndgrad.zeros(3)}, assign=True)
    assert isinstance(m.weight, ndgrad.nn.Parameter) and m.weight.requires_grad
    np.testing.assert_array_equal(np.asarray(m.weight.detach()), np.asarray(w))
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1, 2])


def test_load_state_dict_copies_and_casts_in_place():
    m = ndgrad.nn.Linear(2, 3).double()
    w_obj = m.weight
    m.load_state_dict({"weight": ndgrad.ones(3, 2), "bias": ndgrad.zeros(3)})
    assert m.weight is w_obj and m.weight.dtype == ndgrad.float64
    assert float(m.weight.sum()) == 6.0


def test_registration_rules_and_errors_match_torch():
    cases = [
        lambda T: T.nn.Module().register_buffer("a.b", T.ones(1)),
        lambda T: T.nn.Module().register_parameter("", None),
        lambda T: T.nn.Module().register_parameter("w", T.ones(1)),
        lambda T: T.nn.Module().register_buffer("b", 3),
        lambda T: T.nn.Module().add_module("x", 3),
        lambda T: T.nn.Module().add_module("a.b", T.nn.ReLU()),
        lambda T: setattr(T.nn.Linear(2, 2), "weight", T.ones(2, 2)),
        lambda T: setattr(T.nn.Sequential(T.nn.ReLU()), "0", 3),
        lambda T: T.nn.Linear(2, 2).nothing,
        lambda T: T.nn.Module().register_parameter("p", T.nn.Parameter(T.ones(1)) * 2),
        lambda T: T.nn.Module()(1),
    ]
    for case in cases:
        got, want = _error(lambda: case(ndgrad)), _error(lambda: case(torch))
        assert got[0] is not None and got[0].__name__ == want[0].__name__, (got, want)
        assert got[1].replace("ndgrad", "torch") == want[1], (got, want)


def test_assigning_parameters_buffers_and_modules_registers_them():
    for T in (ndgrad, torch):
        m = T.nn.Module()
        m.p = T.nn.Parameter(T.zeros(2))
        m.register_buffer("b", T.ones(2))
        m.b = T.zeros(2)  # stays a buffer
        m.sub = T.nn.Linear(1, 1)
        m.p = None
        m.plain = T.ones(1)  # a plain tensor attribute is not registered
        m.fn = T.nn.functional.relu
        assert list(m._parameters) == ["p"] and m.p is None
        assert list(m._buffers) == ["b"] and list(m._modules) == ["sub"]
        del m.sub
        assert "sub" not in m._modules
        m.p = T.nn.Parameter(T.ones(1))
        m.q = T.nn.Buffer(T.ones(1), persistent=False)
        assert "q" in m._buffers and "q" not in m.state_dict()


def test_train_eval_requires_grad_zero_grad_apply():
    m = build(ndgrad)
    assert m.training and all(c.training for c in m.modules())
    assert m.eval() is m and not any(c.training for c in m.modules())
    m.train()
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")
    m(ndgrad.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    tseen = []
    build(torch).apply(lambda mod: tseen.append(type(mod).__name__))
    assert seen == tseen


def test_to_and_dtype_casts():
    m = build(ndgrad)
    p = m.seq[0].weight
    m(ndgrad.randn(4, 3)).sum().backward()
    assert m.to(ndgrad.float64) is m
    assert p is m.seq[0].weight and p.dtype == ndgrad.float64 and p.grad.dtype == ndgrad.float64
    assert m.a.bn.num_batches_tracked.dtype == ndgrad.int64
    m.float()
    assert m.w.dtype == ndgrad.float32
    m.to("cpu", dtype=ndgrad.float16)
    assert m.w.dtype == ndgrad.float16
    m.to(ndgrad.zeros(1, dtype=ndgrad.float64))
    assert m.w.dtype == ndgrad.float64
    m.cpu()
    assert m.w.device.type == "cpu"
    got, want = _error(lambda: ndgrad.nn.Linear(1, 1).to(ndgrad.int64)), \
        _error(lambda: torch.nn.Linear(1, 1).to(torch.int64))
    assert got == want


def test_get_submodule_parameter_buffer():
    for T in (ndgrad, torch):
        m = build(T)
        assert m.get_submodule("a.fc") is m.a.fc
        assert m.get_submodule("") is m
        assert m.get_parameter("seq.2.bias") is m.seq[2].bias
        assert m.get_buffer("a.bn.running_mean") is m.a.bn.running_mean
    for target in ("a.nope", "a.fc.weight", "seq.9"):
        assert _error(lambda: build(ndgrad).get_submodule(target)) == \
            _error(lambda: build(torch).get_submodule(target))
    assert _error(lambda: build(ndgrad).get_parameter("a.scale")) == \
        _error(lambda: build(torch).get_parameter("a.scale"))


def test_repr_identical_to_torch():
    assert repr(build(ndgrad)) == repr(build(torch))

    class Custom(ndgrad.nn.Module):
        def extra_repr(self):
            return "line one\nline two"

    class TCustom(torch.nn.Module):
        def extra_repr(self):
            return "line one\nline two"

    Custom.__name__ = TCustom.__name__ = "C"
    n, t = ndgrad.nn.Sequential(Custom(), ndgrad.nn.Linear(1, 1)), \
        torch.nn.Sequential(TCustom(), torch.nn.Linear(1, 1))
    assert repr(n) == repr(t)


def test_module_list_repr_compresses_repeats_like_torch():
    def make(T):
        return T.nn.ModuleList([T.nn.Linear(2, 2) for _ in range(3)] + [T.nn.ReLU()] +
                               [T.nn.Linear(2, 2)])

    assert repr(make(ndgrad)) == repr(make(torch))
    assert repr(ndgrad.nn.ModuleList()) == repr(torch.nn.ModuleList())


def test_forward_hooks_match_torch():
    logs = []
    for T in (ndgrad, torch):
        log = []
        m = T.nn.Linear(2, 2)
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
        m.register_forward_pre_hook(lambda mod, args, kw: log.append(sorted(kw)) or None,
                                    with_kwargs=True)
        with T.no_grad():
            m.weight.copy_(T.tensor([[0.5, -1.0], [2.0, 0.25]]))
            m.bias.zero_()
        out = m(T.ones(1, 2))
        log.append(np.asarray(out.detach()).round(5).tolist())
        h1.remove()
        with h2:
            pass  # the context manager removes the hook
        log.append(np.asarray(m(T.ones(1, 2)).detach()).round(5).tolist())
        logs.append(log)
    assert logs[0] == logs[1]


def _backward_hook_log(T):
    log = []
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    m = T.nn.Sequential(T.nn.Linear(3, 2), T.nn.Tanh())
    if T is ndgrad:
        copy_weights(tm, m)
    else:
        m = tm

    def hook(mod, gin, gout):
        log.append(("full", type(mod).__name__, [None if g is None else
                                                  np.asarray(g.detach()).round(5).tolist()
                                                  for g in gin + gout]))
        return (gin[0] * 2,) if gin[0] is not None else None

    def pre(mod, gout):
        log.append(("pre", type(mod).__name__, len(gout)))

    m[0].register_full_backward_hook(hook)
    m[1].register_full_backward_hook(hook)
    m[1].register_full_backward_pre_hook(pre)
    x = T.tensor([[1.0, -2.0, 0.5]], requires_grad=True)
    m(x).sum().backward()
    log.append(np.asarray(x.grad).round(5).tolist())
    log.append(np.asarray(m[0].weight.grad).round(5).tolist())
    return log


def test_full_backward_hooks_see_and_replace_grad_input_like_torch():
    assert _backward_hook_log(ndgrad) == _backward_hook_log(torch)


def test_full_backward_hook_when_no_input_requires_grad():
    logs = []
    for T in (ndgrad, torch):
        m = T.nn.Linear(2, 1)
        got = []
        m.register_full_backward_hook(lambda mod, gin, gout: got.append((gin, len(gout))))
        with pytest.warns(UserWarning, match="Full backward hook is firing"):
            m(T.ones(1, 2)).sum().backward()
        logs.append(got)
    assert logs[0][0][0] == (None,) and logs[0][0][1] == logs[1][0][1]


def test_deepcopy_and_pickle_keep_structure():
    m = build(ndgrad)
    c = copy.deepcopy(m)
    assert names(c.named_parameters()) == names(m.named_parameters())
    assert c.a is c.b and c.seq[0].weight is c.tied and c.a is not m.a
    p = pickle.loads(pickle.dumps(ndgrad.nn.Sequential(ndgrad.nn.Linear(2, 2))))
    assert isinstance(p[0].weight, ndgrad.nn.Parameter)


def test_sequential_container_api_matches_torch():
    def ops(T):
        named = T.nn.Sequential(OrderedDict([("x", T.nn.ReLU()), ("y", T.nn.Tanh())]))
        s = T.nn.Sequential(*named, T.nn.Sigmoid())
        s.insert(1, T.nn.ELU())
        s2 = s[1:]
        del s[0]
        popped = s.pop(0)
        t = s + T.nn.Sequential(T.nn.ReLU())
        t *= 2
        return [repr(s), repr(s2), repr(popped), repr(t), len(t), type(s2).__name__,
                repr(s[-1]), repr(named)]

    assert ops(ndgrad) == ops(torch)
    for T in (ndgrad, torch):
        with pytest.raises(IndexError, match="index 5 is out of range"):
            T.nn.Sequential(T.nn.ReLU())[5]


def test_module_dict_parameter_list_and_dict_match_torch():
    def ops(T):
        d = T.nn.ModuleDict({"b": T.nn.ReLU(), "a": T.nn.Tanh()})
        d.update([("c", T.nn.ELU())])
        d.pop("b")
        pl = T.nn.ParameterList([T.nn.Parameter(T.ones(2, 3)), T.zeros(4)])
        pl.append(T.ones(1))
        pd = T.nn.ParameterDict({"z": T.nn.Parameter(T.ones(2)), "y": T.zeros(3)})
        pd["x"] = T.ones(1, 1)
        holder = T.nn.Module()
        holder.pl, holder.pd = pl, pd
        return [list(d.keys()), repr(d), len(pl), repr(pl).replace("ndgrad", "torch"),
                list(pd.keys()), repr(pd).replace("ndgrad", "torch"),
                names(holder.named_parameters()), type(pl[1]).__name__, "x" in pd]

    assert ops(ndgrad) == ops(torch)
    for T in (ndgrad, torch):
        with pytest.raises(RuntimeError, match="ParameterList should not be called"):
            T.nn.ParameterList()()


def test_notebook_style_model_registers_through_super_init():
    class MLP(ndgrad.nn.Module):
        def __init__(self, dim_in, dim_out):
            super(MLP, self).__init__()  # noqa: UP008  (the notebook's form)
            self.linear1 = ndgrad.nn.Linear(dim_in, dim_in)
            self.linear2 = ndgrad.nn.Linear(dim_in, dim_out)
            self.activation_func = ndgrad.nn.functional.relu

        def forward(self, x):
            return self.linear2(self.activation_func(self.linear1(x)))

    m = MLP(dim_in=4, dim_out=1)
    assert names(m.named_parameters()) == ["linear1.weight", "linear1.bias", "linear2.weight",
                                           "linear2.bias"]
    assert m(ndgrad.randn(4)).shape == (1,)
    with pytest.raises(AttributeError, match="cannot assign module before"):
        class Broken(ndgrad.nn.Module):
            def __init__(self):
                self.l = ndgrad.nn.Linear(1, 1)

        Broken()


def test_always_call_forward_hook_runs_when_forward_raises():
    logs = []
    for T in (ndgrad, torch):
        log = []
        m = T.nn.Linear(2, 2)
        m.register_forward_hook(lambda mod, args, out: log.append(out), always_call=True)
        m.register_forward_hook(lambda mod, args, out: log.append("plain"))
        with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
            m(T.ones(1, 3))
        logs.append(log)
    assert logs[0] == logs[1] == [None]
