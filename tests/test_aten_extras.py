"""ATen-level names (issue 12's last ones) against torch: grid_sampler*, embedding_bag's 4-tuple,
ctc_loss's integer reduction, the dtypes NumPy cannot store, parse_schema and the IR helpers."""

import pickle
import warnings

import numpy as np
import pytest
import torch

import ndgrad

R = np.random.default_rng(0)


def nd(a, **kw):
    return ndgrad.tensor(np.asarray(a), **kw)


def th(a, **kw):
    return torch.tensor(np.asarray(a), **kw)


def close(a, b, tol=1e-6):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# --- grid_sampler ----------------------------------------------------------------------------
@pytest.mark.parametrize("nd_", [2, 3])
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sampler_matches_torch(nd_, mode, pad, align):
    if nd_ == 3 and mode == 2:
        pytest.skip("bicubic is 2-d only (error tested below)")
    shape = (2, 2, 4, 5) if nd_ == 2 else (1, 2, 3, 4, 3)
    gshape = (shape[0], 3, 2, nd_) if nd_ == 2 else (1, 2, 2, 3, 3)
    x, g = R.standard_normal(shape), R.uniform(-1.2, 1.2, gshape)
    fn = {2: "grid_sampler_2d", 3: "grid_sampler_3d"}[nd_]
    for name in ("grid_sampler", fn):
        xt, gt = th(x, requires_grad=True), th(g, requires_grad=True)
        xn, gn = nd(x, requires_grad=True), nd(g, requires_grad=True)
        a = getattr(torch, name)(xt, gt, mode, pad, align)
        b = getattr(ndgrad, name)(xn, gn, mode, pad, align)
        close(a, b)
        assert type(b.grad_fn).__name__ == type(a.grad_fn).__name__ or \
            b.grad_fn.name() == a.grad_fn.name()
        w = R.standard_normal(a.shape)
        a.backward(th(w))
        b.backward(nd(w))
        close(xt.grad, xn.grad)
        if mode != 1:
            close(gt.grad, gn.grad, 1e-5)


def test_grid_sampler_gradcheck():
    x = nd(R.standard_normal((1, 2, 3, 4)), requires_grad=True)
    g = nd(R.uniform(-0.9, 0.9, (1, 2, 2, 2)), requires_grad=True)
    for mode in (0, 2):
        f = lambda x, g: ndgrad.grid_sampler_2d(x, g, mode, 1, False)  # noqa: E731
        assert ndgrad.autograd.gradcheck(f, (x, g))
        assert ndgrad.autograd.gradgradcheck(f, (x, g))


def test_grid_sampler_errors_match_torch():
    x4, g4 = R.standard_normal((1, 1, 3, 3)), R.uniform(-1, 1, (1, 2, 2, 2))
    x5, g5 = R.standard_normal((1, 1, 2, 2, 2)), R.uniform(-1, 1, (1, 1, 1, 1, 3))
    cases = [("grid_sampler_3d", x4, g4, 0, 0), ("grid_sampler_2d", x5, g5, 0, 0),
             ("grid_sampler_3d", x5, g5, 2, 0), ("grid_sampler", x4, g4, "bilinear", 0)]
    for name, x, g, m, p in cases:
        with pytest.raises(Exception) as et:
            getattr(torch, name)(th(x), th(g), m, p, False)
        with pytest.raises(type(et.value)) as en:
            getattr(ndgrad, name)(nd(x), nd(g), m, p, False)
        assert str(et.value)[:40] == str(en.value)[:40]
    with pytest.raises(RuntimeError, match="interpolation_mode"):  # torch: undefined values
        ndgrad.grid_sampler(nd(x4), nd(g4), 3, 0, False)


# --- embedding_bag -----------------------------------------------------------------------------
EB_ARGS = [(False, 0), (False, 1), (False, 2), (True, 0), (True, 1),
           (False, 0, False, None, True), (False, 1, False, None, True),
           (False, 2, False, None, True), (False, 0, False, None, False, 1),
           (False, 1, False, None, False, -1), (False, 2, False, None, False, 0),
           (False, 0, False, "psw")]


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("args", EB_ARGS)
@pytest.mark.parametrize("itype", ["int64", "int32"])
def test_embedding_bag_tuple_matches_torch(dt, args, itype):
    w = R.standard_normal((6, 3)).astype(dt)
    i, o = np.array([0, 1, 2, 4, 4, 5, 1], itype), np.array([0, 2, 2, 5], itype)
    if args[-1] is True:
        o = np.array([0, 2, 2, 5, 7], itype)
    psw = R.random(7).astype(dt)
    ta = [th(psw) if a == "psw" else a for a in args]
    na = [nd(psw) if a == "psw" else a for a in args]
    wt, wn = th(w, requires_grad=True), nd(w, requires_grad=True)
    a = torch.embedding_bag(wt, th(i), th(o), *ta)
    b = ndgrad.embedding_bag(wn, nd(i), nd(o), *na)
    assert len(b) == 4
    close(a[0], b[0], 1e-5)
    assert b[0].grad_fn.name() == "EmbeddingBagBackward0"
    for x, y in zip(a[1:], b[1:]):
        assert str(x.dtype)[6:] == str(y.dtype)[7:]
        assert x.tolist() == y.tolist()
    if args[0]:  # torch's CPU scale_grad_by_freq backward divides some rows by another row's
        return   # count; ndgrad divides each row by its own (values and indices checked above)
    g = R.standard_normal(a[0].shape).astype(dt)
    a[0].backward(th(g))
    b[0].backward(nd(g))
    close(wt.grad, wn.grad, 1e-5)


def test_embedding_bag_gradcheck_and_errors():
    w = nd(R.standard_normal((5, 3)), requires_grad=True)
    i, o = nd(np.array([0, 1, 2, 4, 4])), nd(np.array([0, 2]))
    for mode in (0, 1, 2):
        f = lambda w: ndgrad.embedding_bag(w, i, o, False, mode)[0]  # noqa: E731
        assert ndgrad.autograd.gradcheck(f, (w,))
        with pytest.raises(NotImplementedError, match="_embedding_bag_backward"):  # as torch
            ndgrad.autograd.gradgradcheck(f, (w,))
    wt, it, ot = th(w.detach().numpy()), th(i.numpy()), th(o.numpy())
    for args in [(False, 3), (False, 1, False, "psw")]:
        with pytest.raises(RuntimeError) as et:
            torch.embedding_bag(wt, it, ot, *[torch.ones(5, dtype=torch.float64) if a == "psw"
                                              else a for a in args])
        with pytest.raises(RuntimeError) as en:
            ndgrad.embedding_bag(w, i, o, *[ndgrad.ones(5, dtype=ndgrad.float64) if a == "psw"
                                            else a for a in args])
        assert str(et.value) == str(en.value)


# --- ctc_loss ------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", [None, 0, 1, 2, 7])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_ctc_loss_aten_matches_torch(reduction, as_tensor):
    lp = np.log(R.dirichlet(np.ones(5), (6, 2)))
    tg, il, tl = np.array([[1, 2, 2], [3, 4, 0]]), [6, 5], [3, 2]
    lt, ln = th(lp, requires_grad=True), nd(lp, requires_grad=True)
    ilt, tlt = (th(il), th(tl)) if as_tensor else (il, tl)
    iln, tln = (nd(il), nd(tl)) if as_tensor else (il, tl)
    extra = () if reduction is None else (0, reduction)
    a = torch.ctc_loss(lt, th(tg), ilt, tlt, *extra)
    b = ndgrad.ctc_loss(ln, nd(tg), iln, tln, *extra)
    close(a, b)
    assert b.grad_fn.name() == a.grad_fn.name()
    a.sum().backward()
    b.sum().backward()
    close(lt.grad, ln.grad)
    with pytest.raises(TypeError):
        ndgrad.ctc_loss(ln, nd(tg), il, tl, 0, "mean")


def test_ctc_loss_aten_gradcheck():
    # torch's (and ndgrad's) CTC gradient is the one of the logits under log_softmax
    x = nd(R.standard_normal((5, 1, 4)), requires_grad=True)
    f = lambda x: ndgrad.ctc_loss(x.log_softmax(2), nd([[1, 2]]), [5], [2], 0, 2)  # noqa: E731
    assert ndgrad.autograd.gradcheck(f, (x,))


# --- dtypes NumPy cannot store -------------------------------------------------------------------
NOSTORAGE = [f"int{b}" for b in range(1, 8)] + [f"uint{b}" for b in range(1, 8)] + [
    "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "float4_e2m1fn_x2", "complex32", "chalf"]


@pytest.mark.parametrize("name", NOSTORAGE)
def test_nostorage_dtype_objects_match_torch(name):
    a, b = getattr(torch, name), getattr(ndgrad, name)
    assert repr(b) == repr(a).replace("torch", "ndgrad")
    assert (b.itemsize, b.is_floating_point, b.is_complex) == (a.itemsize, a.is_floating_point,
                                                                a.is_complex)
    try:
        signed = a.is_signed
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e)):
            _ = b.is_signed
    else:
        assert b.is_signed == signed
    assert pickle.loads(pickle.dumps(b)) is b
    assert isinstance(b, ndgrad.dtype)
    # torch.tensor(..., dtype=...) and .to(...) of these fail in torch but complex32's;
    # ndgrad refuses every one (no NumPy storage): a TypeError that is a NotImplementedError too
    for make in (lambda: ndgrad.zeros(2, dtype=b), lambda: ndgrad.tensor([1.0], dtype=b),
                 lambda: ndgrad.ones(2).to(b)):
        with pytest.raises(TypeError, match="cannot create tensors of dtype"):
            make()
        with pytest.raises(NotImplementedError):
            make()


def test_nostorage_promotions_match_torch():
    names = ("bool uint8 int8 int16 int32 int64 float16 bfloat16 float32 float64 complex64 "
             "complex128 uint16 float8_e4m3fn").split() + NOSTORAGE
    for a in names:
        for b in names:
            try:
                want = str(torch.promote_types(getattr(torch, a), getattr(torch, b)))
            except RuntimeError:
                want = "RuntimeError"
            try:
                got = repr(ndgrad.promote_types(getattr(ndgrad, a), getattr(ndgrad, b)))
            except RuntimeError:
                got = "RuntimeError"
            assert got.replace("ndgrad", "torch") == want, (a, b)


def test_chalf_method():
    assert ndgrad.chalf is ndgrad.complex32 and torch.chalf is torch.complex32
    assert hasattr(torch.Tensor, "chalf")
    with pytest.raises(TypeError, match="complex32"):
        ndgrad.ones(2).chalf()


# --- parse_schema and the IR helpers -------------------------------------------------------------
SCHEMAS = [
    "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor",
    "aten::max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)",
    "aten::add_.Tensor(Tensor(a!) self, Tensor other, *, Scalar alpha=1) -> Tensor(a!)",
    'foo(int[2] x, float? y=None, str s="hi", int[] z=[1,2]) -> ()',
    "aten::sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, "
    "ScalarType? dtype=None) -> Tensor",
    "aten::add.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out) -> Tensor(a!)",
    "aten::empty.memory_format(SymInt[] size, *, ScalarType? dtype=None, Layout? layout=None, "
    "Device? device=None, bool? pin_memory=None, MemoryFormat? memory_format=None) -> Tensor",
    "aten::split.Tensor(Tensor(a -> *) self, SymInt split_size, int dim=0) -> Tensor(a)[]",
    "aten::foo(Tensor[] x, float eps=1e-05, int[2] k=1, float p=2.0) -> Tensor[]"]


def _schema_fields(s):
    return (str(s), s.name, s.overload_name, s.is_mutable,
            [(a.name, str(a.type), a.default_value, a.kwarg_only, a.N, a.is_out)
             for a in s.arguments], [(r.name, str(r.type)) for r in s.returns])


@pytest.mark.parametrize("text", SCHEMAS)
def test_parse_schema_matches_torch(text):
    assert _schema_fields(ndgrad.parse_schema(text)) == _schema_fields(torch.parse_schema(text))


def test_parse_schema_errors_and_ir_names():
    for bad in ("foo(", "no arrow(Tensor x)"):
        with pytest.raises(RuntimeError):
            torch.parse_schema(bad)
        with pytest.raises(RuntimeError):
            ndgrad.parse_schema(bad)
    t = ndgrad.parse_schema("f(int x) -> int").arguments[0].type
    for name, args in (("parse_ir", ("graph():",)), ("parse_type_comment", ("# type: ()",)),
                       ("import_ir_module", (None, "m", None, {}, False)),
                       ("import_ir_module_from_buffer", (None, "m", b"", {}, False)),
                       ("merge_type_from_type_comment", (None, None, False)),
                       ("unify_type_list", ([t, t],))):
        with pytest.raises(RuntimeError, match="TorchScript"):
            getattr(ndgrad, name)(*args)
        with pytest.raises(TypeError):  # what torch's bindings refuse, as torch
            getattr(torch, name)(None)
        with pytest.raises(TypeError):
            getattr(ndgrad, name)(None)
    with pytest.raises(NotImplementedError, match="quantized"):
        ndgrad.empty_quantized([2], ndgrad.zeros(2))
    with pytest.raises(TypeError):
        ndgrad.empty_quantized("a")
    assert ndgrad.profiler_allow_cudagraph_cupti_lazy_reinit_cuda12() is \
        torch.profiler_allow_cudagraph_cupti_lazy_reinit_cuda12()
    assert ndgrad.prepare_multiprocessing_environment("x") is None
    assert ndgrad.thread_safe_generator() is torch.thread_safe_generator() is None
    assert ndgrad.get_file_path("ndgrad", "x.py").endswith(
        torch.get_file_path("ndgrad", "x.py")[len(torch.get_file_path()):])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ndgrad.get_file_path("ndgrad") == ndgrad.get_file_path() + "/ndgrad"
