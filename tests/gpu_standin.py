"""ndgrad's device="cuda" path on the CuPy stand-in (tests/fakecupy): scripted workloads, the op
table, and host-read budgets per training step, each compared with the CPU.

Run by tests/test_gpu_standin.py in a subprocess whose sys.path starts with tests/fakecupy, so
``import cupy`` finds the stand-in there and nowhere else:

    FAKECUPY_VERSION=14 PYTHONPATH=tests/fakecupy:tests python tests/gpu_standin.py OUT.json

Importing this module needs no CuPy (the test module reads the workload names from it); with a
real CuPy, bench/gpu_check.py runs the same workloads and op table on a GPU (the stand-in's
counters are then skipped).
A workload ``fn(dev)`` runs once on "cpu" and once on "cuda" from the same seed; the tensors it
returns must agree (values, dtype, shape) and live on CUDA in the second run (``OnCPU(x)``: on
the CPU in both). A workload that checks CUDA-only behaviour returns None on "cpu"."""

from __future__ import annotations

import io
import json
import os
import pickle
import sys
import time
import traceback

import numpy as np

import ndgrad as t
import ndgrad.nn as nn
import ndgrad.nn.functional as F

C = "cuda"
WORKLOADS: dict = {}
cupy = None  # the stand-in, imported by main()


def w(fn):
    WORKLOADS[fn.__name__] = fn
    return fn


def raises(exc, match, fn):
    try:
        fn()
    except exc as e:
        assert match in str(e), f"{type(e).__name__}: {e}"
        return
    raise AssertionError(f"no {exc.__name__} ({match!r})")


class OnCPU:
    """A workload's output that lives on the CPU in both runs."""

    def __init__(self, x):
        self.x = x


_NO_BF16 = "this CuPy has no bfloat16"


def cupy_major() -> str:
    return getattr(cupy, "VERSION", None) or cupy.__version__.split(".")[0]


def counters() -> bool:
    """The stand-in's sync/copy counters (a real CuPy has none)."""
    return hasattr(cupy, "reset_counters")


def no_bf16(d) -> bool:
    """On CUDA under CuPy 13: bfloat16 is refused with a clear TypeError (checked here)."""
    if d != C or cupy_major() != "13":
        return False
    raises(TypeError, _NO_BF16, lambda: t.zeros(2, device=C, dtype=t.bfloat16))
    raises(TypeError, _NO_BF16, lambda: t.randn(2).to(t.bfloat16).cuda())
    raises(TypeError, _NO_BF16, lambda: t.randn(2, device=C).to(t.bfloat16))
    return True


def cuda_only(fn):
    """A workload with nothing to compare on the CPU."""

    def run(dev):
        return fn() if dev == C else None

    run.__name__ = fn.__name__
    return w(run)


# --- creation, moves, copies ----------------------------------------------------------------------
@w
def create_basic(d):
    return [t.zeros(2, 3, device=d), t.ones(2, device=d), t.full((2,), 3.5, device=d),
            t.eye(3, device=d), t.arange(5, device=d), t.linspace(0, 1, 5, device=d),
            t.tensor([[1, 2]], device=d), t.empty(4, device=d).zero_()]


@w
def create_random(d):
    return [t.randn(3, device=d), t.rand(3, device=d), t.randint(0, 5, (3,), device=d),
            t.randperm(5, device=d), t.randn(3, device=d, dtype=t.float16)]


@w
def move_to_cuda_and_back(d):
    x = t.randn(3, 4)
    y = x.to(d)
    assert y.device.type == d and y.to("cpu").device.type == "cpu"
    assert type(y.cpu()._data) is np.ndarray
    return [y, x.cuda().to(d) if d == C else x, OnCPU(y.cpu()), y.to(d, t.float64), y.double(),
            y.type("torch.cuda.DoubleTensor" if d == C else "torch.DoubleTensor")]


@w
def move_grad_flows_back(d):
    a = t.randn(3, requires_grad=True)
    b = a.to(d) * 2  # a move is an op: its backward moves the gradient back
    (b.sin() * b).sum().backward()
    assert a.grad.device.type == "cpu" and type(a.grad._data) is np.ndarray
    return [OnCPU(a.grad), b]


@w
def move_grad_cuda_to_cpu(d):
    a = t.randn(3, device=d, requires_grad=True)
    (a.cpu() ** 2).sum().backward()
    assert a.grad.device.type == d
    return [a.grad]


@w
def move_second_order(d):
    a = t.randn(3, requires_grad=True, dtype=t.float64)
    y = (a.to(d) ** 3).sum()
    (g,) = t.autograd.grad(y, a, create_graph=True)
    (h,) = t.autograd.grad(g.sum(), a)
    return [OnCPU(g), OnCPU(h)]


@w
def module_cuda(d):
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    m = m.cuda() if d == C else m.to(d)
    assert m[0].weight.device.type == d and m[1].running_mean.device.type == d
    assert type(m[0].weight).__name__ == "Parameter" and m[0].weight.is_leaf
    return [p for p in m.state_dict().values()] + [m(t.randn(5, 3).to(d))]


@w
def module_to_and_back(d):
    m = nn.Linear(3, 2).to(d).cpu().to(d, t.float64)
    return [m.weight, m.bias, m(t.randn(2, 3, dtype=t.float64, device=d))]


@w
def load_state_dict_into_cuda_model(d):
    src = nn.Linear(3, 2)
    m = nn.Linear(3, 2).to(d)
    m.load_state_dict(src.state_dict())  # CPU weights copied into the model's device
    assert m.weight.device.type == d
    return [m.weight, m.bias]


@w
def copy_across_devices(d):
    x = t.zeros(2, 3, device=d)
    x.copy_(t.randn(2, 3))  # CPU into CUDA
    y = t.zeros(2, 3)
    y.copy_(x)  # CUDA into CPU
    assert type(y._data) is np.ndarray
    z = t.zeros(3, device=d, requires_grad=True).clone()
    src = t.randn(3, requires_grad=True)
    z.copy_(src)
    z.sum().backward()
    assert src.grad.device.type == "cpu"
    return [x, OnCPU(y), OnCPU(src.grad), x[0].copy_(t.tensor(5.0))]


@cuda_only
def dtype_casts_keep_device():
    x = t.randn(4, device=C)
    for y in (x.half(), x.double(), x.long(), x.bool(), x.to(t.complex64), x.type_as(x.double())):
        assert y.device.type == C and type(y._data) is cupy.ndarray


@cuda_only
def item_tolist_print():
    x = t.randn(3, device=C)
    x.sum().item(), x.tolist(), repr(x), float(x[0]), f"{x[0]:.3f}"
    assert "device='cuda:0'" in repr(x)


@cuda_only
def numpy_of_cuda_raises():
    raises(TypeError, "Use Tensor.cpu()", lambda: t.randn(2, device=C).numpy())


@w
def tensor_from_cuda_tensor(d):
    x = t.randn(2, device=d)
    return [t.as_tensor(x), t.tensor(x.tolist(), device=d)]


@cuda_only
def bool_int_index():
    x = t.arange(5, device=C)
    bool(x[1]), int(x[2]), range(x[3]), [0, 1, 2][x[1]]


@cuda_only
def dlpack_roundtrip():
    x = t.randn(3, device=C)
    y = t.from_dlpack(x)
    assert y.device.type == C


# --- device checks --------------------------------------------------------------------------------
_SAME = "Expected all tensors to be on the same device, but found at least two devices"


@cuda_only
def mixed_device_binary():
    raises(RuntimeError, _SAME, lambda: t.randn(2) + t.randn(2, device=C))
    raises(RuntimeError, _SAME, lambda: t.randn(2, 2, device=C) @ t.randn(2, 2))
    raises(RuntimeError, _SAME, lambda: t.cat([t.randn(2), t.randn(2, device=C)]))
    raises(RuntimeError, _SAME, lambda: t.where(t.randn(2) > 0, t.randn(2, device=C), 0.0))


@cuda_only
def mixed_device_module():
    m = nn.Linear(3, 2).cuda()
    raises(RuntimeError, _SAME, lambda: m(t.randn(4, 3)))
    raises(RuntimeError, _SAME, lambda: F.cross_entropy(t.randn(4, 3, device=C),
                                                       t.tensor([0, 1, 2, 0])))
    raises(RuntimeError, _SAME, lambda: F.nll_loss(t.randn(4, 3, device=C),
                                                  t.tensor([0, 1, 2, 0], device=C),
                                                  weight=t.ones(3)))
    raises(RuntimeError, _SAME, lambda: F.embedding(t.tensor([0, 1]), t.randn(3, 2, device=C)))


@cuda_only
def cpu_scalar_tensor_with_cuda():
    # torch lets a 0-d CPU tensor meet CUDA tensors as a scalar
    x = t.randn(3, device=C)
    y = x * t.tensor(2.0)
    assert y.device.type == C


@cuda_only
def gradient_on_wrong_device():
    y = t.randn(3, device=C, requires_grad=True) * 2
    raises(RuntimeError, "invalid gradient at index 0 - expected device cuda:0 but got cpu",
           lambda: y.backward(t.ones(3)))
    x = t.randn(3, device=C, requires_grad=True)
    raises(RuntimeError, "expected device cuda:0 but got cpu",
           lambda: t.autograd.grad(x * 2, x, t.ones(3)))
    (g,) = t.autograd.grad((x * 2).sum(), x, t.tensor(1.0))  # a 0-d gradient is moved, as torch
    assert g.device.type == C


@cuda_only
def function_returns_wrong_device():
    class Bad(t.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g.cpu()

    x = t.randn(3, device=C, requires_grad=True)
    raises(RuntimeError, "Function BadBackward returned an invalid gradient at index 0 - expected "
           "device cuda:0 but got cpu", lambda: Bad.apply(x).sum().backward())


@cuda_only
def hook_changes_device():
    x = t.randn(3, device=C, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g.cpu())
    raises(RuntimeError, "has changed the type of value", lambda: y.sum().backward())


@cuda_only
def cuda_index_one():
    """cuda:1 allocates on GPU 1; ops run on the current device, so a process that computes
    on GPU 1 calls set_device(1) first (as torch's one-process-per-GPU scripts do)."""
    if t.cuda.device_count() < 2:
        return
    x, z = t.zeros(3, device="cuda:1"), t.randn(3, device="cuda:1")
    assert x.device == t.device("cuda", 1) and x._data.device.id == z._data.device.id == 1
    m = nn.Linear(3, 2).to("cuda:1")
    assert m.weight._data.device.id == 1 and m.weight.device == t.device("cuda", 1)
    assert x.to("cuda:0")._data.device.id == 0 and x.to("cuda:0").device.index == 0
    raises(RuntimeError, _SAME, lambda: x + t.randn(3, device="cuda:0"))
    t.cuda.set_device(1)
    try:
        assert t.zeros(1, device="cuda").device == t.device("cuda", 1)  # "cuda": the current
        if counters():
            cupy.reset_counters()
        opt = t.optim.SGD(m.parameters(), 0.1)
        m(t.randn(4, 3).to("cuda:1")).pow(2).sum().backward()
        opt.step()
        assert not counters() or not cupy.PEER, dict(cupy.PEER)  # nothing read across devices
        assert m.weight.grad._data.device.id == 1
    finally:
        t.cuda.set_device(0)


@cuda_only
def optimizer_step_stays_on_cpu():
    m = nn.Linear(3, 2).cuda()
    opt = t.optim.Adam(m.parameters())
    m(t.randn(4, 3, device=C)).sum().backward()
    opt.step()
    opt2 = t.optim.Adam(m.parameters())
    opt2.load_state_dict(opt.state_dict())
    st = opt2.state[m.weight]
    assert st["step"].device.type == "cpu", st["step"].device
    assert st["exp_avg"].device.type == C
    if counters():
        cupy.reset_counters()
        m(t.randn(4, 3, device=C)).sum().backward()
        opt2.step()
        assert sum(cupy.SYNCS.values()) == 0, dict(cupy.SYNCS)


@cuda_only
def errstate_absent_median_empty():
    assert not hasattr(cupy, "errstate")
    x = t.empty(0, device=C)
    assert x.median().isnan().item() and x.nanmedian().isnan().item()


# --- elementwise, reductions, sorting -------------------------------------------------------------
@w
def arith(d):
    x, y = t.randn(4, device=d), t.randn(4, device=d)
    return [x + y, x - 1, 2 * x, x / y, x // 2, x % 3, t.fmod(x, 2), x ** 2, x ** y.abs(),
            t.div(x, y, rounding_mode="trunc"), t.where(x > 0, x, y), x.masked_fill(x > 0, 0.0),
            x.clamp(-0.5, 0.5), t.maximum(x, y), x.sign(), x * np.float32(2)]


@w
def int_arith(d):
    a = t.randint(1, 9, (5,), device=d)
    b = t.randint(1, 3, (5,), device=d)
    return [a + 1, a * 3, a // 2, a % 3, a / 2, -a, a.abs(), a ** 2, a << 1, a.sum(),
            t.bitwise_and(a, a), a & 3, a | 1, a ^ 2, a // b,
            a ** t.tensor([1, 1, 2, 2, 0], device=d)]


@w
def special_fns(d):
    x = t.rand(5, device=d) * 0.9 + 0.05
    return [x.erf(), x.erfc(), x.erfinv(), x.lgamma(), x.digamma(), t.special.ndtr(x),
            x.sigmoid(), F.gelu(x), F.softplus(x), x.logit()]


@w
def unary_all(d):
    x = t.rand(5, device=d) + 0.5
    return [f(x) for f in (t.exp, t.log, t.sqrt, t.rsqrt, t.sin, t.tanh, t.asinh, t.exp2,
                           t.log1p, t.expm1, t.sinc, t.frac, t.round, t.trunc, t.reciprocal)]


@w
def compare_logic(d):
    x = t.randn(5, device=d)
    return [x == 0, x != x, t.isclose(x, x), t.isnan(x), t.isinf(x),
            t.logical_and(x > 0, x < 1), t.isin(x, x[:2]), t.allclose(x, x), t.equal(x, x)]


@w
def nan_to_num_clamp(d):
    x = t.tensor([float("nan"), 1e40, -1.0], device=d)
    return [x.nan_to_num(), x.clamp(min=0)]


@w
def half_and_complex(d):
    x = t.randn(8, 8, device=d, dtype=t.float16)
    z = t.complex(t.randn(4, device=d), t.randn(4, device=d))
    return [(x @ x).sum(), x.softmax(-1), x.sum(), (z * z.conj()).abs().sum()]


@w
def bfloat16(d):
    if no_bf16(d):
        return None
    x = t.randn(4, 4).to(t.bfloat16).to(d)
    return [x + 1, x @ x, x.sum(), t.zeros(2, device=d, dtype=t.bfloat16) + 1,
            x.float().to(t.bfloat16)]


@w
def reductions(d):
    x = t.randn(4, 5, device=d)
    return [x.sum(), x.sum(1), x.mean(0), x.prod(1), x.max(), *x.max(1), x.min(0).values,
            x.argmax(), x.argmin(1), x.var(1), x.std(), x.logsumexp(1), x.amax((0, 1)),
            *x.aminmax(), (x > 0).all(), (x > 0).any(1), x.count_nonzero(), x.norm(),
            t.nansum(x), t.nanmean(x), x.median(), x.median(1).values, x.nanmedian()]


@w
def scans(d):
    x = t.randn(4, 5, device=d)
    return [x.cumsum(1), x.cumprod(0), *x.cummax(1), x.cummin(0).values, x.logcumsumexp(1),
            t.diff(x)]


@w
def sorting(d):
    x = t.randn(4, 6, device=d)
    return [*x.sort(1), x.sort(1, descending=True).values, x.argsort(0), *x.topk(3),
            x.kthvalue(2).values, x.mode(1).values, t.quantile(x, 0.3),
            t.quantile(x, t.tensor([0.1, 0.9], device=d), dim=1), t.nanquantile(x, 0.5),
            t.msort(x)]


@w
def unique_family(d):
    a = t.randint(0, 4, (10,), device=d)
    return [t.unique(a), *t.unique(a, return_inverse=True, return_counts=True),
            t.unique_consecutive(a), t.unique(a.reshape(2, 5), dim=1)]


@w
def searchsorted_bucketize(d):
    s = t.sort(t.randn(3, 7, device=d), 1).values
    return [t.searchsorted(s, t.randn(3, 4, device=d)), t.bucketize(t.randn(5, device=d), s[0]),
            t.histc(t.randn(100, device=d), 10), t.bincount(t.randint(0, 5, (20,), device=d))]


# --- indexing -------------------------------------------------------------------------------------
@w
def getitem_setitem(d):
    x = t.randn(5, 6, device=d)
    i = t.tensor([0, 2, 2], device=d)
    out = [x[1], x[1:3], x[i], x[x > 0], x[[0, 1]], x[:, i], x[i, i], x[None, ..., 0],
           x[t.tensor(1, device=d)], x[t.tensor([0, 1])]]
    x[0] = 1.0
    x[i] = 2.0
    x[x > 1] = 0.0
    x[:, 1] = t.ones(5, device=d)
    return out + [x]


@w
def index_grads(d):
    out = []
    for dt in (t.float32, t.float64, t.complex64):
        x = t.randn(5, 6, device=d, dtype=dt, requires_grad=True)
        i = t.tensor([0, 2, 2], device=d)
        (x[i] * 2).abs().sum().backward()
        out.append(x.grad)
    return out


@w
def index_put_accumulate(d):
    out = []
    for dt in (t.int64, t.float32, t.complex64, t.int8, t.float16) + (
            () if no_bf16(C) else (t.bfloat16,)):
        x = t.zeros(5, dtype=dt, device=d)
        x.index_put_((t.tensor([1, 1], device=d),), t.tensor([3, 4], device=d).to(dt),
                     accumulate=True)
        out.append(x)
    return out


@w
def gather_scatter(d):
    x = t.randn(3, 4, device=d, requires_grad=True)
    idx = t.randint(0, 4, (3, 2), device=d)
    y = x.gather(1, idx).sum() + x.scatter(1, idx, 0.0).sum() + x.scatter_add(
        1, idx, t.ones(3, 2, device=d)).sum()
    y.backward()
    return [y, x.grad]


@w
def scatter_reduce(d):
    i = t.tensor([0, 0, 2], device=d)
    out = []
    for dt in (t.float32, t.float16, t.int64):
        for how in ("sum", "mean", "prod", "amax", "amin"):
            out.append(t.ones(3, device=d, dtype=dt).scatter_reduce(
                0, i, t.arange(3, device=d).to(dt) + 2, how))
    return out


@w
def index_add_family(d):
    x = t.zeros(4, 3, device=d)
    i = t.tensor([0, 0, 3], device=d)
    return [x.index_add(0, i, t.ones(3, 3, device=d)),
            x.index_copy(0, t.tensor([1, 2, 3], device=d), t.ones(3, 3, device=d)),
            x.index_fill(1, t.tensor([0], device=d), 5.0), x.index_select(0, i),
            x.take(t.tensor([0, 5], device=d)), x.masked_select(x == 0),
            x.masked_scatter(x == 0, t.ones(12, device=d)), x.nonzero(), t.argwhere(x),
            t.zeros(4, dtype=t.int64, device=d).index_add(0, t.tensor([0, 0], device=d),
                                                          t.tensor([1, 2], device=d))]


@w
def shape_ops(d):
    x = t.randn(2, 3, 4, device=d)
    return [x.view(6, 4), x.reshape(-1), x.permute(2, 0, 1).reshape(4, 6),
            x.transpose(0, 1).contiguous(), x.flatten(1), x.unsqueeze(0).squeeze(),
            x.expand(5, 2, 3, 4), x.repeat(2, 1, 1), x.flip(0), x.roll(1, 2), t.cat([x, x]),
            t.stack([x, x]), *x.split(2, 2), x.tril(), x.narrow(2, 1, 2), x.unfold(2, 2, 1),
            x.diagonal(0, 1, 2), t.diag_embed(x), x.movedim(0, 2), t.rot90(x, 1, (1, 2)),
            t.repeat_interleave(x, 2, 0), t.repeat_interleave(x, t.tensor([1, 2], device=d), 0),
            x.t().reshape(-1) if x.ndim == 2 else x[0].t().reshape(12)]


@cuda_only
def storage_offset_view():
    x = t.arange(10, device=C)
    assert x[3:].storage_offset() == 3, x[3:].storage_offset()


# --- autograd -------------------------------------------------------------------------------------
@w
def grad_create_graph(d):
    x = t.randn(3, device=d, requires_grad=True)
    (g,) = t.autograd.grad((x ** 3).sum(), x, create_graph=True)
    g.sum().backward()
    return [g, x.grad]


@w
def hooks_retain(d):
    x = t.randn(3, device=d, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    y.sum().backward()
    return [x.grad, y.grad]


@w
def anomaly_and_gradcheck(d):
    with t.autograd.detect_anomaly():
        x = t.randn(3, device=d, requires_grad=True)
        (x * 2).sum().backward()
    x = t.randn(3, device=d, dtype=t.float64, requires_grad=True)
    assert t.autograd.gradcheck(lambda a: (a.sin() * a).sum(), (x,))
    return [x]


@w
def custom_function(d):
    class Sq(t.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    x = t.randn(3, device=d, requires_grad=True)
    Sq.apply(x).sum().backward()
    return [x.grad]


@w
def func_api(d):
    x = t.randn(3, device=d)
    return [t.func.grad(lambda a: (a ** 2).sum())(x), t.func.vmap(lambda a: a * 2)(
        t.randn(4, 3, device=d)), t.func.jacrev(lambda a: a.sin())(x),
        t.autograd.functional.jacobian(lambda a: a.sin(), x),
        t.autograd.functional.hessian(lambda a: (a ** 3).sum(), x)]


# --- nn -------------------------------------------------------------------------------------------
@w
def mlp_step(d):
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)).to(d)
    opt = t.optim.Adam(m.parameters(), 1e-2)
    x, y = t.randn(5, 8).to(d), t.randint(0, 3, (5,)).to(d)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(m(x), y).backward()
        opt.step()
    assert m[0].weight.grad.device.type == d
    return list(m.parameters())


@w
def compiled_step(d):
    """ndgrad.compile replays the same array calls on CuPy: a captured, replayed training step."""
    from ndgrad._compile import Captured

    m = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(36, 3)).to(d)
    opt = t.optim.AdamW(m.parameters(), 1e-2)

    @t.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        return loss

    losses = [step(t.randn(5, 1, 8, 8).to(d), t.randint(0, 3, (5,)).to(d)) for _ in range(4)]
    entry, = step.cache.values()
    assert type(entry) is Captured, entry
    return losses + list(m.parameters())


@w
def cnn_step(d):
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, stride=2, groups=2), nn.AvgPool2d(2),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2)).to(d)
    opt = t.optim.SGD(m.parameters(), 0.1, momentum=0.9)
    x = t.randn(2, 3, 16, 16).to(d)
    for _ in range(2):
        opt.zero_grad()
        m(x).pow(2).sum().backward()
        opt.step()
    return list(m.parameters()) + list(m.buffers())


@w
def conv_transpose_norms(d):
    x = t.randn(4, 6, 8).to(d)
    return [nn.ConvTranspose2d(3, 2, 3, stride=2).to(d)(t.randn(1, 3, 5, 5).to(d)),
            nn.LayerNorm(8).to(d)(x), nn.GroupNorm(2, 6).to(d)(x),
            nn.InstanceNorm1d(6).to(d)(x), F.normalize(x)]


@w
def embedding_backward(d):
    out = []
    for kw in ({}, dict(padding_idx=0, scale_grad_by_freq=True, max_norm=1.0)):
        e = nn.Embedding(10, 4, **kw).to(d)
        e(t.tensor([[0, 2, 2]], device=d)).sum().backward()
        out.append(e.weight.grad)
    return out


@w
def rnn_family(d):
    out = []
    for cls in (nn.RNN, nn.LSTM, nn.GRU):
        m = cls(4, 5, num_layers=2, batch_first=True).to(d)
        o, _ = m(t.randn(3, 7, 4).to(d))
        o.sum().backward()
        out += [o, m.weight_hh_l0.grad]
    return out


@w
def attention_transformer(d):
    mha = nn.MultiheadAttention(8, 2, batch_first=True).to(d)
    enc = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0).to(d)
    q = t.randn(2, 5, 8).to(d)
    out, wts = mha(q, q, q, need_weights=True)
    (enc(q).sum() + out.sum()).backward()
    return [out, wts, enc.linear1.weight.grad,
            F.scaled_dot_product_attention(q, q, q, is_causal=True)]


@w
def interpolate_pad(d):
    x = t.randn(1, 2, 4, 4, device=d, requires_grad=True)
    y = (F.interpolate(x, scale_factor=2, mode="nearest").sum()
         + F.interpolate(x, size=(7, 7), mode="bilinear", align_corners=False).sum()
         + F.pad(x, (1, 1, 2, 0)).sum() + F.pad(x, (1, 1, 1, 1), mode="reflect").sum()
         + F.pad(x, (1, 1, 1, 1), mode="replicate").sum())
    y.backward()
    return [y, x.grad]


@w
def losses(d):
    x = t.randn(4, 5, device=d, requires_grad=True)
    y, p = t.randint(0, 5, (4,), device=d), t.rand(4, 5, device=d)
    total = (F.cross_entropy(x, y) + F.nll_loss(x.log_softmax(1), y) + F.mse_loss(x, p)
             + F.l1_loss(x, p) + F.smooth_l1_loss(x, p)
             + F.binary_cross_entropy(x.sigmoid(), p) + F.binary_cross_entropy_with_logits(x, p)
             + F.kl_div(x.log_softmax(1), p, reduction="batchmean") + F.huber_loss(x, p)
             + F.cross_entropy(x, p) + F.cross_entropy(x, y, label_smoothing=0.1)
             + F.nll_loss(x.log_softmax(1), y, weight=t.rand(5, device=d))
             + F.gaussian_nll_loss(x, p, t.ones(4, 5, device=d))
             + F.cosine_embedding_loss(x, p, t.ones(4, device=d))
             + F.margin_ranking_loss(x[:, 0], x[:, 1], t.ones(4, device=d)))
    total.backward()
    return [total, x.grad]


@w
def misc_nn(d):
    w_ = t.empty(4, 6, device=d)
    for f in (nn.init.kaiming_uniform_, nn.init.xavier_normal_, nn.init.orthogonal_,
              nn.init.trunc_normal_):
        f(w_)
    m = nn.Linear(3, 3).to(d)
    m(t.randn(2, 3, device=d)).sum().backward()
    nn.utils.clip_grad_norm_(m.parameters(), 0.1)
    nn.utils.clip_grad_value_(m.parameters(), 0.1)
    return [w_, F.one_hot(t.tensor([0, 2], device=d)), t.cdist(t.randn(2, 3, device=d),
            t.randn(4, 3, device=d)), m.weight.grad, nn.utils.parameters_to_vector(
            m.parameters())]


# --- optim ----------------------------------------------------------------------------------------
_OPTIMS = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(amsgrad=True)),
           ("AdamW", {}), ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", {}),
           ("NAdam", {}), ("Adamax", {}), ("Adadelta", {})]


@w
def optimizers(d):
    out = []
    for name, kw in _OPTIMS:
        m = nn.Linear(3, 2).to(d)
        opt = getattr(t.optim, name)(m.parameters(), **kw)
        x = t.randn(4, 3).to(d)
        for _ in range(2):
            opt.zero_grad()
            m(x).pow(2).sum().backward()
            opt.step()
        opt2 = getattr(t.optim, name)(m.parameters(), **kw)
        opt2.load_state_dict(opt.state_dict())
        opt2.zero_grad()
        m(x).pow(2).sum().backward()
        opt2.step()
        out += list(m.parameters())
    return out


@w
def lbfgs_and_schedulers(d):
    m = nn.Linear(3, 1).to(d)
    opt = t.optim.LBFGS(m.parameters(), max_iter=5)
    x = t.randn(8, 3).to(d)

    def closure():
        opt.zero_grad()
        loss = m(x).pow(2).mean()
        loss.backward()
        return loss

    opt.step(closure)
    opt = t.optim.SGD(m.parameters(), lr=0.1)
    s = t.optim.lr_scheduler.OneCycleLR(opt, 1.0, total_steps=10)
    p = t.optim.lr_scheduler.ReduceLROnPlateau(opt)
    opt.step()
    s.step()
    p.step(t.tensor(1.0, device=d))
    return list(m.parameters())


@cuda_only
def optimizer_state_from_cpu_checkpoint():
    m = nn.Linear(3, 2)
    opt = t.optim.Adam(m.parameters())
    m(t.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    m.cuda()
    opt2 = t.optim.Adam(m.parameters())
    opt2.load_state_dict(sd)  # moments follow the parameters' device, step stays on the CPU
    st = opt2.state[m.weight]
    assert st["exp_avg"].device.type == C and st["step"].device.type == "cpu"
    m(t.randn(4, 3, device=C)).sum().backward()
    opt2.step()


# --- linalg, fft ----------------------------------------------------------------------------------
@w
def linalg_basic(d):
    a = t.randn(4, 4, device=d, dtype=t.float64) + 4 * t.eye(4, device=d, dtype=t.float64)
    b = t.randn(4, 2, device=d, dtype=t.float64)
    L = t.linalg
    return [L.inv(a), L.solve(a, b), L.det(a), *L.slogdet(a), L.cholesky(a @ a.mT), *L.qr(a),
            L.svdvals(a), L.eigvalsh(a + a.mT), L.lstsq(a, b).solution, L.pinv(a),
            L.matrix_norm(a), L.vector_norm(a), L.norm(a), L.cond(a), L.matrix_rank(a),
            *L.lu_factor(a), L.solve_triangular(a.triu(), b, upper=True),
            L.matrix_exp(a * 0.1), L.matrix_power(a, 3), t.einsum("ij,jk->ik", a, b),
            t.einsum("ij,jk,kl->il", a, a, b), t.bmm(a[None], a[None]), t.addmm(b, a, b),
            t.outer(b[:, 0], b[:, 0])]


@w
def linalg_batched_grad(d):
    a = t.randn(3, 5, 5, device=d, requires_grad=True)
    (t.linalg.inv(a + 5 * t.eye(5, device=d)).sum() + t.linalg.det(a).sum()
     + t.linalg.svdvals(a).sum() + t.linalg.eigvalsh(a + a.mT).sum()).backward()
    return [a.grad]


@w
def linalg_eig(d):
    a = t.randn(4, 4, device=d, dtype=t.float64) + 4 * t.eye(4, device=d, dtype=t.float64)
    ev = t.linalg.eigvals(a)
    return [ev.abs().sort().values, t.linalg.eig(a)[0].abs().sort().values]


@cuda_only
def linalg_singular_raises():
    raises(RuntimeError, "singular", lambda: t.linalg.inv(t.zeros(3, 3, device=C)))
    raises(RuntimeError, "singular", lambda: t.linalg.solve(t.zeros(3, 3, device=C),
                                                          t.ones(3, device=C)))
    raises(RuntimeError, "positive-definite", lambda: t.linalg.cholesky(-t.eye(3, device=C)))
    _, info = t.linalg.cholesky_ex(-t.eye(3, device=C))
    assert info.item() == 1, info
    _, info = t.linalg.inv_ex(t.zeros(2, 3, 3, device=C))
    assert info.tolist() == [1, 1], info


@w
def fft_family(d):
    x = t.randn(8, device=d)
    return [t.fft.fft(x), t.fft.rfft(x), t.fft.irfft(t.fft.rfft(x)), t.fft.fftn(x.reshape(2, 4)),
            t.fft.fftfreq(8, device=d)]


# --- random ---------------------------------------------------------------------------------------
@w
def random_fills(d):
    x = t.empty(10, device=d)
    return [x.uniform_().clone(), x.normal_().clone(), x.exponential_().clone(),
            x.random_(0, 5).clone(), x.bernoulli_(0.5).clone(), t.bernoulli(t.rand(5, device=d)),
            t.empty(5, device=d).bernoulli_(t.rand(5, device=d)),
            t.multinomial(t.rand(3, 5, device=d), 2), t.normal(t.zeros(3, device=d), 1.0),
            t.randn_like(t.zeros(3, device=d)), F.dropout(t.ones(10, device=d), 0.3)]


# --- save, load, data -----------------------------------------------------------------------------
@w
def save_load(d):
    m = nn.Linear(3, 2).to(d)
    buf = io.BytesIO()
    t.save({"sd": m.state_dict(), "x": t.randn(2, device=d)}, buf)
    buf.seek(0)
    back = t.load(buf)
    assert back["x"].device.type == d
    buf.seek(0)
    cpu = t.load(buf, map_location="cpu")
    assert cpu["x"].device.type == "cpu"
    buf.seek(0)
    m2 = nn.Linear(3, 2).to(d)
    m2.load_state_dict(t.load(buf, map_location=d)["sd"])
    return [back["x"], OnCPU(cpu["x"]), m2.weight]


@w
def save_load_bf16(d):
    if no_bf16(d):
        return None
    buf = io.BytesIO()
    t.save(t.randn(2).to(t.bfloat16), buf)
    buf.seek(0)
    return [t.load(buf, map_location=d)]


@w
def pickle_deepcopy(d):
    import copy

    x = t.randn(3, device=d)
    return [pickle.loads(pickle.dumps(x)), copy.deepcopy(x), copy.deepcopy(nn.Linear(2, 2).to(d))
            .weight]


@w
def dataloader(d):
    ds = t.utils.data.TensorDataset(t.randn(10, 3, device=d), t.arange(10, device=d))
    return [b for xb, yb in t.utils.data.DataLoader(ds, batch_size=4, shuffle=True)
            for b in (xb, yb)]


@w
def testing_helpers(d):
    x = t.randn(3, device=d)
    t.testing.assert_close(x, x.clone())
    return [t.testing.make_tensor(3, dtype=t.float32, device=d, low=0, high=1)]


# --- host reads per training step -----------------------------------------------------------------
def _mlp():
    m = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).cuda()
    opt = t.optim.Adam(m.parameters(), 1e-3)
    x, y = t.randn(32, 64, device=C), t.randint(0, 10, (32,), device=C)
    return lambda: (opt.zero_grad(), F.cross_entropy(m(x), y).backward(), opt.step())


def _cnn():
    m = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Dropout(0.25), nn.Linear(16 * 2 * 2, 10)).cuda()
    opt = t.optim.SGD(m.parameters(), 0.1, momentum=0.9)
    x, y = t.randn(32, 1, 8, 8, device=C), t.randint(0, 10, (32,), device=C)
    return lambda: (opt.zero_grad(), F.cross_entropy(m(x), y).backward(), opt.step())


def _lstm():
    m, head = nn.LSTM(16, 32, batch_first=True).cuda(), nn.Linear(32, 4).cuda()
    opt = t.optim.AdamW(list(m.parameters()) + list(head.parameters()))
    x, y = t.randn(8, 12, 16, device=C), t.randint(0, 4, (8,), device=C)
    return lambda: (opt.zero_grad(), F.cross_entropy(head(m(x)[0][:, -1]), y).backward(),
                    opt.step())


def _transformer():
    enc = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True).cuda()
    opt = t.optim.Adam(enc.parameters())
    x = t.randn(4, 10, 32, device=C)
    return lambda: (opt.zero_grad(), enc(x).pow(2).mean().backward(), opt.step())


STEPS = {"mlp_adam": _mlp, "cnn_sgd": _cnn, "lstm_adamw": _lstm, "transformer_adam": _transformer}


def step_traffic() -> dict:
    """Implicit device->host reads and host->device copies in one training step (after one
    warm-up step), with the ndgrad lines that made them."""
    out = {}
    for name, make in STEPS.items():
        try:
            step = make()
            step()
            cupy.reset_counters()
            step()
            out[name] = {"syncs": sum(cupy.SYNCS.values()), "h2d": sum(cupy.H2D.values()),
                         "where": [f"{k} {n}" for k, n in cupy.SYNCS.most_common(5)]}
        except Exception as e:  # noqa: BLE001
            out[name] = {"error": _describe(e)}
    return out


# --- the runner -----------------------------------------------------------------------------------
def _describe(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = next((f"{f.filename.split('src/ndgrad/')[-1]}:{f.lineno}" for f in reversed(tb)
                  if "src/ndgrad/" in f.filename), "")
    where = where or next((f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(tb)),
                          "?")
    msg = str(e).splitlines()[0][:200] if str(e) else ""
    return f"{type(e).__name__}: {msg} @ {where}"


def _host(x):
    if x.device.type == "cuda":
        assert type(x._data) is cupy.ndarray, f"a cuda tensor holds {type(x._data)}"
        x = x.cpu()
    assert type(x._data) is np.ndarray, f"a cpu tensor holds {type(x._data)}"
    a = x.detach().numpy()
    return a.astype(np.float32) if a.dtype.name == "bfloat16" else a


def compare(cpu, dev) -> None:
    if cpu is None or dev is None:  # CUDA-only, or checked on CUDA only (no_bf16)
        return
    assert len(cpu) == len(dev), "output count"
    for i, (a, b) in enumerate(zip(cpu, dev)):
        if isinstance(a, OnCPU):
            a, b = a.x, b.x
            assert b.device.type == "cpu", f"output {i} is on {b.device}"
        elif isinstance(a, t.Tensor):
            assert b.device.type == C, f"output {i} is on {b.device}"
        if not isinstance(a, t.Tensor):
            assert a == b, f"output {i}: {a!r} != {b!r}"
            continue
        assert a.dtype == b.dtype and a.shape == b.shape, f"output {i}: {b.dtype}{tuple(b.shape)}"
        tol = 5e-2 if a.dtype in (t.float16, t.bfloat16) else 1e-5
        np.testing.assert_allclose(_host(b), _host(a), rtol=tol, atol=tol, equal_nan=True,
                                   err_msg=f"output {i}")


def run_workloads(names=None) -> dict:
    res = {}
    for name, fn in WORKLOADS.items():
        if names and name not in names:
            continue
        try:
            t.manual_seed(0)
            cpu = fn("cpu")
            t.manual_seed(0)
            compare(cpu, fn(C))
            res[name] = None
        except Exception as e:  # noqa: BLE001
            res[name] = _describe(e)
    return res


# entries whose outputs name the device (get_device is 0 on CUDA, -1 on the CPU) or live on the
# CPU whatever the default device (frombuffer wraps host memory)
_DEVICE_DEPENDENT = {"tensor_predicates", "frombuffer"}


def op_cases():
    """The op table's (entry, dtype) cases, in the order of tests/test_ops.py."""
    import op_db.all  # noqa: F401
    from op_db import OPS

    return [(op, dt) for op in OPS for dt in op.dtypes]


def op_case_ids() -> list:
    """Ids of the op table's cases, less those whose outputs name the device."""
    return [f"{o.name}-{d}" for o, d in op_cases() if o.name not in _DEVICE_DEPENDENT]


def select_cases(version: str) -> list:
    """The op-table cases one CuPy version runs: half the table each, complementary, plus every
    bfloat16 and small-integer case under CuPy 13 (its own dtype gaps)."""
    ids = op_case_ids()
    half = 0 if version == "14" else 1
    return [i for k, i in enumerate(ids) if k % 2 == half
            or (version == "13" and i.rsplit("-", 1)[1] in ("bfloat16", "int64", "int8"))]


def run_op_table(ids) -> dict:
    """Each chosen op-table case with ndgrad's inputs moved to CUDA and factories defaulting to
    CUDA, against torch on the CPU (tests/harness.check_op). A case that fails is run again on
    the CPU: failing there too, it is no device failure ("cpu_too"). Dtypes CuPy lacks (float8;
    bfloat16 under CuPy 13) must be refused with the clear TypeError ("refused")."""
    import harness

    cases = {f"{o.name}-{d}": (o, d) for o, d in op_cases()}
    failed, cpu_too, refused = {}, {}, {}
    for cid, err in _run_cases(harness, cases, ids, cuda=True).items():
        if _NO_BF16 in err and cupy_major() == "13" or "this CuPy has no float8" in err:
            refused[cid] = err
        elif _run_cases(harness, cases, [cid], cuda=False):
            cpu_too[cid] = err
        else:
            failed[cid] = err
    skipped = sum(bool(cases[i][0].skip_reason) for i in ids)
    return {"ran": len(ids) - skipped, "failed": failed, "cpu_too": cpu_too, "refused": refused}


def _run_cases(harness, cases, ids, cuda: bool) -> dict:
    if not cuda:
        return {cid: _describe(e) for cid in ids for e in _errors(harness, *cases[cid])}
    orig_to_lib = harness.to_lib

    def to_lib(lib, x, requires_grad):
        if lib is t and isinstance(x, np.ndarray):
            y = orig_to_lib(lib, x, False).cuda()
            return y.requires_grad_(True) if requires_grad and x.dtype.kind in "fcV" else y
        return orig_to_lib(lib, x, requires_grad)

    orig_to_numpy = harness.to_numpy

    def to_numpy(x):
        if isinstance(x, t.Tensor):
            assert x.device.type == C, f"an output on {x.device}"
            return _host(x)
        return orig_to_numpy(x)

    harness.to_lib, harness.to_numpy = to_lib, to_numpy
    t.set_default_device(C)
    try:
        return {cid: _describe(e) for cid in ids for e in _errors(harness, *cases[cid])}
    finally:
        t.set_default_device(None)
        harness.to_lib, harness.to_numpy = orig_to_lib, orig_to_numpy


def _errors(harness, op, dt) -> list:
    if op.skip_reason:
        return []
    try:
        harness.check_op(op, dt, np.random.default_rng(0))
    except Exception as e:  # noqa: BLE001
        return [e]
    return []


def main(argv) -> None:
    global cupy
    import cupy as _cupy

    cupy = _cupy
    assert "fakecupy" in cupy.__file__, cupy.__file__
    version = os.environ.get("FAKECUPY_VERSION", "14")
    only = set(argv[1:])
    start = time.perf_counter()
    res = {"version": version, "workloads": run_workloads(only)}
    res["workload_s"] = round(time.perf_counter() - start, 1)
    if not only:
        res["steps"] = step_traffic()
        start = time.perf_counter()
        res["ops"] = run_op_table(select_cases(version))
        res["ops_s"] = round(time.perf_counter() - start, 1)
    with open(argv[0], "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
