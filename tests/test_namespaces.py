"""The tooling namespaces against torch: amp (autocast, GradScaler), backends, jit, compiler,
accelerator, random.fork_rng, serialization's safe globals, utils.benchmark, hub, and the
top-level switches and predicates that go with them."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest
import torch

import ndgrad

HAS_CUDA = ndgrad.cuda.is_available()
rng = np.random.default_rng(0)


def _np(t):
    return t.detach().float().numpy()


# --- autocast ------------------------------------------------------------------------------------
X = rng.standard_normal((3, 4)).astype(np.float32)
W = rng.standard_normal((5, 4)).astype(np.float32)
B = rng.standard_normal(5).astype(np.float32)


def F(lib):
    return lib.nn.functional


def _ops_under_autocast(lib, ctx):
    x, w = lib.tensor(X), lib.tensor(W, requires_grad=True)
    b = lib.tensor(B, requires_grad=True)
    with ctx:
        out = {"linear": lib.nn.functional.linear(x, w, b), "matmul": x @ w.T,
               "mm": lib.mm(x, w.T), "bmm": lib.bmm(x[None], w.T[None]),
               "addmm": lib.addmm(b, x, w.T), "baddbmm": lib.baddbmm(b[None, None], x[None],
                                                                        w.T[None]),
               "mv": lib.mv(x, w[0]), "float64": x.double() @ w.T.double(),
               "add": x + 1, "sum": (x @ w.T).sum(),
               "conv2d": F(lib).conv2d(x[None, None], w[None, None, :2, :2]),
               "conv_transpose1d": F(lib).conv_transpose1d(x[None], w[:3, None, :2]),
               "prelu": F(lib).prelu(x, lib.tensor([0.25]))}
        y = out["linear"]
        out.update({"mse_loss": F(lib).mse_loss(y, lib.zeros(3, 5)),
                    "cross_entropy": F(lib).cross_entropy(y, lib.tensor([0, 1, 2])),
                    "bce_logits": F(lib).binary_cross_entropy_with_logits(y, lib.ones(3, 5)),
                    "softmax": F(lib).softmax(y, 1)})
        loss = (out["mm"].float() ** 2).sum()
    loss.backward()
    out["w.grad"] = w.grad
    return out


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_autocast_cpu_matches_torch(dtype):
    ours = _ops_under_autocast(ndgrad, ndgrad.autocast("cpu", dtype=getattr(ndgrad, dtype)))
    theirs = _ops_under_autocast(torch, torch.autocast("cpu", dtype=getattr(torch, dtype)))
    for k in theirs:
        assert str(ours[k].dtype).split(".")[-1] == str(theirs[k].dtype).split(".")[-1], k
        np.testing.assert_allclose(_np(ours[k]), _np(theirs[k]), rtol=1e-2, atol=1e-2,
                                   err_msg=k)


def test_autocast_state_and_nesting():
    assert not ndgrad.is_autocast_enabled("cpu")
    assert ndgrad.get_autocast_dtype("cpu") is ndgrad.bfloat16
    assert ndgrad.get_autocast_dtype("cuda") is ndgrad.float16
    with ndgrad.autocast("cpu"):
        assert ndgrad.is_autocast_enabled("cpu") and not ndgrad.is_autocast_enabled()
        with ndgrad.autocast("cpu", enabled=False):
            assert (ndgrad.ones(2, 2) @ ndgrad.ones(2, 2)).dtype is ndgrad.float32
        assert (ndgrad.ones(2, 2) @ ndgrad.ones(2, 2)).dtype is ndgrad.bfloat16
    assert not ndgrad.is_autocast_enabled("cpu")

    @ndgrad.autocast("cpu")
    def f(a):
        return a @ a

    assert f(ndgrad.ones(2, 2)).dtype is ndgrad.bfloat16
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        ndgrad.autocast(ndgrad.device("cpu"))
    with pytest.raises(TypeError, match="requires a callable"):
        ndgrad.autocast("cpu")(3)
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
        ctx = ndgrad.autocast("cpu", dtype=ndgrad.float32)
    with ctx:
        assert not ndgrad.is_autocast_enabled("cpu")
    with pytest.warns(DeprecationWarning):
        assert ndgrad.get_autocast_cpu_dtype() is ndgrad.bfloat16
    ndgrad.set_autocast_enabled("cpu", True)
    assert ndgrad.is_autocast_enabled("cpu") == (torch.set_autocast_enabled("cpu", True) or True)
    ndgrad.set_autocast_enabled("cpu", False)
    torch.set_autocast_enabled("cpu", False)
    assert ndgrad.amp.is_autocast_available("cpu")
    assert ndgrad.autocast is ndgrad.amp.autocast and ndgrad.GradScaler is ndgrad.amp.GradScaler


@pytest.mark.skipif(HAS_CUDA, reason="the warning is for machines without CUDA")
def test_autocast_cuda_without_cuda_warns_and_disables():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        with ndgrad.autocast("cuda"):
            assert not ndgrad.is_autocast_enabled("cuda")
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.autocast\(args...\)` is deprecated"), \
            pytest.warns(UserWarning, match="CUDA is not available"):
        ndgrad.cuda.amp.autocast()
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available"):
        assert not ndgrad.amp.GradScaler().is_enabled()


def test_cpu_amp_namespace():
    from ndgrad.cpu.amp import autocast

    with pytest.warns(FutureWarning, match=r"Please use `torch.amp.autocast\('cpu', args...\)`"):
        ctx = autocast()
    with ctx:
        assert (ndgrad.ones(2, 2) @ ndgrad.ones(2, 2)).dtype is ndgrad.bfloat16
    with pytest.warns(FutureWarning):
        assert ndgrad.cpu.amp.GradScaler().get_scale() == 65536.0
    assert ndgrad.cpu.is_available() and ndgrad.cpu.device_count() == 1


class _Fn:
    """A custom Function with custom_fwd(cast_inputs=float32) / custom_bwd, in both libraries."""

    @staticmethod
    def make(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float32)
            def forward(ctx, a):
                ctx.dt = a.dtype
                return a @ a

            @staticmethod
            @lib.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                return g * 2

        return Double


def test_custom_fwd_bwd():
    for lib in (ndgrad, torch):
        a = lib.ones(2, 2, dtype=lib.bfloat16, requires_grad=True)
        with lib.autocast("cpu"):
            y = _Fn.make(lib).apply(a)
        assert y.dtype is lib.float32  # inputs cast to float32, autocast off inside
        y.sum().backward()
        assert a.grad.dtype is lib.bfloat16


# --- GradScaler ----------------------------------------------------------------------------------
def _scaler_run(lib, steps=6, inf_at=(2,)):
    lib.manual_seed(0)
    w = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    opt = lib.optim.SGD([w], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
    scales, found = [], []
    for i in range(steps):
        opt.zero_grad()
        loss = (w ** 2).sum() * (math.inf if i in inf_at else 1.0)
        scaler.scale(loss).backward()
        if i == 1:
            scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        found.append(scaler._get_growth_tracker())
    return w.detach().numpy(), scales, found, scaler.state_dict()


def test_grad_scaler_matches_torch():
    ours, theirs = _scaler_run(ndgrad), _scaler_run(torch)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    assert ours[1:] == theirs[1:]


def test_grad_scaler_errors_and_state():
    w = ndgrad.ones(2, requires_grad=True)
    opt = ndgrad.optim.SGD([w], lr=0.1)
    s = ndgrad.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match="Attempted unscale_ but _scale is None"):
        s.unscale_(opt)
    s.scale(w.sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    s.update(128.0)
    assert s.get_scale() == 128.0
    t = ndgrad.amp.GradScaler("cpu")
    t.load_state_dict(s.state_dict())
    assert t.get_scale() == 128.0 and t.state_dict() == s.state_dict()
    assert ndgrad.amp.GradScaler("cpu", enabled=False).scale(w) is w
    out = s.scale([w, (w, w)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    with pytest.raises(AssertionError, match="growth factor"):
        ndgrad.amp.GradScaler("cpu", growth_factor=1.0)


# --- backends, accelerator, compiler, jit --------------------------------------------------------
def test_backends_flags():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(ndgrad.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    if not HAS_CUDA:
        assert ndgrad.backends.cudnn.is_available() == torch.backends.cudnn.is_available()
    assert ndgrad.backends.mps.is_available() is False and ndgrad.backends.mps.is_built() is False
    assert ndgrad.backends.opt_einsum.is_available() == torch.backends.opt_einsum.is_available()
    with ndgrad.backends.cudnn.flags(enabled=False, deterministic=True):
        assert not ndgrad.backends.cudnn.enabled and ndgrad.backends.cudnn.deterministic
    assert ndgrad.backends.cudnn.enabled and not ndgrad.backends.cudnn.deterministic
    ndgrad.backends.cudnn.benchmark = True  # programs set these
    ndgrad.backends.cudnn.benchmark = False
    assert ndgrad.backends.cuda.matmul.allow_tf32 is False
    ndgrad.set_float32_matmul_precision("high")
    assert ndgrad.backends.cuda.matmul.allow_tf32 is True
    ndgrad.backends.cuda.matmul.allow_tf32 = False
    assert ndgrad.get_float32_matmul_precision() == "highest"
    assert ndgrad.backends.cuda.flash_sdp_enabled() == torch.backends.cuda.flash_sdp_enabled()


@pytest.mark.skipif(HAS_CUDA, reason="answers for a machine without an accelerator")
def test_accelerator_without_one():
    A, TA = ndgrad.accelerator, torch.accelerator
    assert A.is_available() == TA.is_available() is False
    assert A.current_accelerator() is None and A.device_count() == 0
    for f in ("current_device_index", "synchronize", "empty_cache"):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
            getattr(A, f)()


def test_compiler_and_jit():
    def f(x):
        return x * 2

    assert ndgrad.compiler.disable(f)(2) == f(2) and ndgrad.compiler.disable()(f)(2) == f(2)
    assert ndgrad.compiler.is_compiling() is False
    assert ndgrad.compiler.is_dynamo_compiling() is False
    assert ndgrad.jit.is_scripting() is False and ndgrad.jit.is_tracing() is False
    with pytest.warns(DeprecationWarning):
        scripted = ndgrad.jit.script(f)
    assert ndgrad.equal(scripted(ndgrad.ones(2)), ndgrad.full((2,), 2.0))
    assert ndgrad.jit.ignore(f) is f and ndgrad.jit.ignore(drop=True)(f) is f
    assert ndgrad.jit.unused(f) is f and ndgrad.jit.export(f) is f
    with pytest.warns(DeprecationWarning, match="`torch.jit.fork` is deprecated"):
        fut = ndgrad.jit.fork(f, ndgrad.ones(2))
    assert ndgrad.equal(ndgrad.jit.wait(fut), ndgrad.full((2,), 2.0))
    assert ndgrad.jit.isinstance([1, 2], list[int]) and not ndgrad.jit.isinstance([1.0], list[int])
    assert ndgrad.jit.isinstance({"a": ndgrad.ones(1)}, dict[str, ndgrad.Tensor])
    with pytest.raises(RuntimeError, match="example_kwarg_inputs should be a dict"), \
            pytest.warns(DeprecationWarning):
        ndgrad.jit.trace(f)
    with pytest.raises(NotImplementedError, match="state_dict"):
        ndgrad.jit.save(f, "x.pt")


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.filterwarnings("ignore:`torch.jit.trace_method` is deprecated")
def test_jit_trace_runs_like_torch():
    """torch's tracer and its check run the module five times: BatchNorm's running statistics
    move as often."""
    x = rng.standard_normal((4, 3)).astype(np.float32)
    stats = []
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
        bn = lib.nn.BatchNorm1d(3)
        with pytest.warns(DeprecationWarning, match="`torch.jit.trace` is deprecated"):
            traced = lib.jit.trace(bn, lib.tensor(x))
        stats.append((bn.running_mean.numpy().copy(), int(bn.num_batches_tracked)))
        assert isinstance(traced, lib.nn.Module)
        np.testing.assert_allclose(_np(traced(lib.tensor(x))), _np(bn(lib.tensor(x))))
    np.testing.assert_allclose(stats[0][0], stats[1][0], rtol=1e-6)
    assert stats[0][1] == stats[1][1]
    m = ndgrad.nn.Linear(2, 2)
    with pytest.warns(DeprecationWarning, match="`torch.jit.script` is deprecated"):
        assert ndgrad.jit.script(m) is m


# --- fork_rng, safe globals, default device, switches --------------------------------------------
def test_fork_rng_like_torch():
    draws = []
    for lib in (ndgrad, torch):
        lib.manual_seed(3)
        with lib.random.fork_rng():
            inside = lib.rand(3)
        after = lib.rand(3)
        with lib.random.fork_rng(enabled=False):
            lib.rand(1)
        draws.append((inside.numpy(), after.numpy(), lib.rand(2).numpy()))
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(draws[0][0], draws[0][1])  # the fork left the stream alone


def test_safe_globals():
    S = ndgrad.serialization
    S.clear_safe_globals()
    S.add_safe_globals([int])
    with S.safe_globals([float]):
        assert set(S.get_safe_globals()) == {int, float}
    assert S.get_safe_globals() == [int]
    S.clear_safe_globals()
    assert S.get_safe_globals() == []


def test_default_device_and_switches():
    assert ndgrad.get_default_device() == ndgrad.device("cpu")
    ndgrad.set_default_device("cpu:0")
    assert ndgrad.get_default_device() == ndgrad.device("cpu", 0)
    ndgrad.set_default_device(None)
    assert repr(ndgrad.get_default_device()) == repr(torch.get_default_device())
    ndgrad.set_default_device("cuda")  # resolved when a factory uses it, as torch does
    try:
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            ndgrad.zeros(1)
        assert ndgrad.from_numpy(np.zeros(1)).device.type == "cpu"
    finally:
        ndgrad.set_default_device(None)
    assert ndgrad.zeros(1).device.type == "cpu"
    assert (ndgrad.pi, ndgrad.e, ndgrad.inf) == (torch.pi, torch.e, torch.inf)
    assert math.isnan(ndgrad.nan)
    assert ndgrad.is_warn_always_enabled() is torch.is_warn_always_enabled()
    for mode in ("warn", 2, "default"):
        ndgrad.set_deterministic_debug_mode(mode)
        torch.set_deterministic_debug_mode(mode)
        assert ndgrad.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
        assert ndgrad.is_deterministic_algorithms_warn_only_enabled() == \
            torch.is_deterministic_algorithms_warn_only_enabled()
        assert ndgrad.are_deterministic_algorithms_enabled() == \
            torch.are_deterministic_algorithms_enabled()
    with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
        ndgrad.set_deterministic_debug_mode("x")
    assert not ndgrad.is_anomaly_enabled()
    ndgrad.set_anomaly_enabled(True)
    assert ndgrad.is_anomaly_enabled() and ndgrad.is_anomaly_check_nan_enabled()
    ndgrad.set_anomaly_enabled(False)
    assert not ndgrad.is_anomaly_enabled()
    assert issubclass(ndgrad.AcceleratorError, RuntimeError)
    assert ndgrad.get_num_interop_threads() >= 1
    with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
        ndgrad.set_default_tensor_type("torch.DoubleTensor")
    assert ndgrad.get_default_dtype() is ndgrad.float64
    with pytest.warns(UserWarning):
        ndgrad.set_default_tensor_type(ndgrad.FloatTensor if hasattr(ndgrad, "FloatTensor")
                                       else "torch.FloatTensor")
    assert ndgrad.get_default_dtype() is ndgrad.float32


def test_predicates():
    for dt in ("uint8", "int8", "int64", "bool", "float16", "float32", "complex64"):
        t, n = torch.zeros(2, dtype=getattr(torch, dt)), ndgrad.zeros(2, dtype=getattr(ndgrad, dt))
        assert ndgrad.is_signed(n) == torch.is_signed(t) == n.is_signed(), dt
    a = ndgrad.ones(2, 3)
    assert ndgrad.is_same_size(a, ndgrad.zeros(2, 3)) and not a.is_same_size(ndgrad.ones(3, 2))
    assert ndgrad.resolve_conj(a) is a and a.resolve_neg() is a
    assert not ndgrad.is_conj(a) and not a.is_neg()


# --- utils.benchmark, hub ------------------------------------------------------------------------
def test_benchmark_timer():
    import torch.utils.benchmark  # noqa: F401  (not imported by import torch)

    from ndgrad.utils import benchmark

    t = benchmark.Timer(stmt="x + y", setup="x = torch.ones(10); y = torch.ones(10)",
                        label="add", sub_label="ones", description="10")
    m = t.timeit(50)
    assert m.number_per_run == 50 and len(m.raw_times) == 1 and m.median == m.times[0] > 0
    lines = repr(m).splitlines()
    assert lines[0].startswith("<ndgrad.utils.benchmark._common.Measurement object at 0x")
    assert lines[1:4] == ["add: ones", "10", "setup: x = torch.ones(10); y = torch.ones(10)"]
    assert lines[5] == "  1 measurement, 50 runs , 1 thread"
    m = benchmark.Timer("sum(range(50))").blocked_autorange(min_run_time=0.02)
    assert m.number_per_run >= 1 and m.raw_times and m.title == "sum(range(50))"
    many = benchmark.Measurement(10, [1e-3, 2e-3, 1.5e-3, 1.2e-3, 1.1e-3], m.task_spec)
    theirs = torch.utils.benchmark.Measurement(10, [1e-3, 2e-3, 1.5e-3, 1.2e-3, 1.1e-3],
                                               torch.utils.benchmark.utils.common.TaskSpec(
                                                   "sum(range(50))", "pass"))
    assert repr(many).splitlines()[1:] == repr(theirs).splitlines()[1:]
    assert many.significant_figures == theirs.significant_figures
    assert (many.mean, many.iqr) == pytest.approx((theirs.mean, theirs.iqr))
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        t.repeat()


def test_hub_load_state_dict_from_url(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    assert ndgrad.hub.get_dir() == str(tmp_path / "home" / "hub")
    src = tmp_path / "weights-abc.safetensors"
    ndgrad.save({"w": ndgrad.arange(3.0)}, src)
    sd = ndgrad.hub.load_state_dict_from_url(src.as_uri(), progress=False)
    assert ndgrad.equal(sd["w"], ndgrad.arange(3.0))
    assert os.path.exists(tmp_path / "home" / "hub" / "checkpoints" / src.name)
    with pytest.raises(RuntimeError, match="invalid hash value"):
        ndgrad.hub.load_state_dict_from_url(src.as_uri(), model_dir=str(tmp_path / "m"),
                                            check_hash=True)
    assert not os.listdir(tmp_path / "m")  # no partial file left behind
    with pytest.raises(NotImplementedError, match="hubconf"):
        ndgrad.hub.load("pytorch/vision", "resnet18")
    ndgrad.hub.set_dir(str(tmp_path / "custom"))
    try:
        assert ndgrad.hub.get_dir() == str(tmp_path / "custom")
    finally:
        ndgrad.hub._hub_dir = None


def test_no_warnings_on_import():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import ndgrad.backends  # noqa: F401
        import ndgrad.utils.benchmark  # noqa: F401


# --- utils.checkpoint ----------------------------------------------------------------------------
def _default_dtype(dt, fn):
    """``fn()`` with ndgrad's and torch's default dtype set to ``dt`` (None: float32)."""
    if dt is None:
        return fn()
    for lib in (ndgrad, torch):
        lib.set_default_dtype(getattr(lib, dt))
    try:
        return fn()
    finally:
        for lib in (ndgrad, torch):
            lib.set_default_dtype(lib.float32)


def _checkpointed(lib, reentrant: bool, input_grad: bool, dt: str | None = None):
    import torch.utils.checkpoint  # noqa: F401

    lib.manual_seed(0)
    m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Dropout(0.5), lib.nn.Tanh(),
                          lib.nn.Linear(4, 2))
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(p.shape).astype(dt or
                                                                                    np.float32)))
    x = lib.tensor(np.linspace(0, 1, 6).reshape(2, 3).astype(dt or np.float32),
                   requires_grad=input_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "None of the inputs have requires_grad=True"
        y = lib.utils.checkpoint.checkpoint(m, x, use_reentrant=reentrant)
        z = lib.utils.checkpoint.checkpoint_sequential(m, 2, x, use_reentrant=reentrant)
    loss = (y ** 2).sum() + z.sum()
    if loss.requires_grad:
        loss.backward()
    return [y, z, lib.rand(2)] + [p.grad for p in m.parameters()] + [x.grad]


@pytest.mark.parametrize("reentrant", [True, False])
@pytest.mark.parametrize("input_grad", [True, False])
def test_checkpoint_like_torch(reentrant, input_grad):
    """Dropout replays its mask in the rerun; with no input requiring grad the reentrant
    variant gives the parameters no gradient, as torch's does. float32 within its rounding (a
    gradient summed over both segments: torch's kernels fuse and order sums their own way),
    float64 to the bit."""
    for dt, tol in ((None, dict(rtol=1e-5, atol=1e-6)), ("float64", dict(rtol=0, atol=0))):
        got = _default_dtype(dt, lambda: _checkpointed(ndgrad, reentrant, input_grad, dt))
        want = _default_dtype(dt, lambda: _checkpointed(torch, reentrant, input_grad, dt))
        for a, b in zip(got, want):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(_np(a), _np(b), **tol)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        ndgrad.utils.checkpoint.checkpoint(lambda t: t * 2, ndgrad.ones(1, requires_grad=True))
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        ndgrad.utils.checkpoint.checkpoint(lambda t: t, ndgrad.ones(1), use_reentrant=True, foo=1)


def test_sdpa_kernel_selects_a_backend_without_changing_results():
    from ndgrad.nn.attention import SDPBackend, sdpa_kernel
    import torch.nn.attention as tna

    assert [b.name for b in SDPBackend] == list(tna.SDPBackend.__members__)
    q = ndgrad.randn(2, 2, 3, 4)
    want = ndgrad.nn.functional.scaled_dot_product_attention(q, q, q)
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.FLASH_ATTENTION]):
        with sdpa_kernel(SDPBackend.MATH):
            got = ndgrad.nn.functional.scaled_dot_product_attention(q, q, q)
    assert ndgrad.equal(got, want)
    for lib in (ndgrad, torch):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
            with lib.nn.attention.sdpa_kernel("math"):
                pass
