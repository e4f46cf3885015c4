"""Composition probes, second area (linalg, fft, special, distributions, reductions, creation),
against torch: each case is a bug a probe found (values, dtypes, shapes, first and second
derivatives, or torch's error for bad input)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ndgrad


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [y for x in o for y in _flat(x)]
    return [o]


def _same(a, b, tol=1e-6):
    """ndgrad value ``a`` equals torch value ``b`` through nests; None only where torch has it."""
    fa, fb = _flat(a), _flat(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        if not isinstance(y, torch.Tensor):
            assert x == y or (x != x and y != y), (x, y)
            continue
        assert isinstance(x, ndgrad.Tensor), f"ndgrad gave {x!r}, torch {y}"
        assert str(x.dtype).split(".")[-1] == str(y.dtype).split(".")[-1]
        assert tuple(x.shape) == tuple(y.shape)
        np.testing.assert_allclose(np.asarray(x.detach()), y.detach().resolve_conj().numpy(),
                                   rtol=tol, atol=tol)


def _both(f, tol=1e-6):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(f(ndgrad), f(torch), tol)


def _raises_like_torch(f):
    with pytest.raises(Exception) as expected:
        f(torch)
    with pytest.raises(Exception) as got:
        f(ndgrad)
    assert type(expected.value).__name__ in [c.__name__ for c in type(got.value).__mro__]


def _sq(t):
    return (t.abs() ** 2).sum() if t.is_complex() else (t * t).sum()


def _second_order(T, fn, *xs):
    """fn's outputs, d|out|^2/dxs (None where unused) and the gradient of |that|^2."""
    y = fn(T, *xs)
    outs = [o for o in _flat(y) if isinstance(o, T.Tensor) and o.requires_grad]
    gs = T.autograd.grad(sum(_sq(o) for o in outs), xs, create_graph=True, allow_unused=True)
    live = [g for g in gs if g is not None and g.requires_grad]
    g2 = T.autograd.grad(sum(_sq(g) for g in live), xs, allow_unused=True) if live else None
    return y, gs, g2


def _x(T, shape, seed=0, complex=False):
    r = np.random.default_rng(seed)
    a = r.standard_normal(shape) + (1j * r.standard_normal(shape) if complex else 0)
    return T.tensor(a, requires_grad=True)


# vector_norm(ord=0): torch's backward gives an undefined gradient (None), not zeros that
# carry a graph
@pytest.mark.parametrize("fn", [lambda T, a: T.linalg.vector_norm(a, 0),
                                lambda T, a: T.linalg.vector_norm(a, 0, dim=-1),
                                lambda T, a: T.norm(a, 0) + a.sum()])
@pytest.mark.parametrize("complex", [False, True])
def test_vector_norm_ord0_gradient_is_undefined(fn, complex):
    _both(lambda T: _second_order(T, fn, _x(T, (2, 3, 4), complex=complex)))


# fftn/ifftn of a 0-d tensor (no axes to transform) failed with an IndexError
@pytest.mark.parametrize("fn", ["fftn", "ifftn"])
@pytest.mark.parametrize("kw", [{}, dict(norm="forward"), dict(s=()), dict(dim=())])
def test_fftn_of_0d_tensor_transforms_nothing(fn, kw):
    _both(lambda T: _second_order(T, lambda T, a: getattr(T.fft, fn)(a, **kw) * 3,
                                  _x(T, ())))


# out= was accepted and ignored by every transform
@pytest.mark.parametrize("call", [
    lambda T, o: T.fft.fft(T.arange(4.0), out=o), lambda T, o: T.fft.rfft(T.arange(5.0), out=o),
    lambda T, o: T.fft.ifftn(T.ones(2, 3), out=o), lambda T, o: T.fft.irfft(T.ones(3) + 0j, out=o),
    lambda T, o: T.fft.hfft(T.ones(3) + 1j, n=5, out=o), lambda T, o: T.fft.fftfreq(5, out=o)])
@pytest.mark.parametrize("dtype", ["complex128", "float32", "float64"])
def test_fft_writes_out(call, dtype):
    def run(T):
        o = T.zeros(0, dtype=getattr(T, dtype))
        return call(T, o) is o, o
    try:
        expected = run(torch)
    except RuntimeError:
        _raises_like_torch(lambda T: run(T))
        return
    _same(run(ndgrad), expected)


# fftfreq/rfftfreq took integer and complex dtypes torch refuses
@pytest.mark.parametrize("fn", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("dtype", ["int64", "complex64", "bool"])
def test_fftfreq_refuses_non_float_dtype(fn, dtype):
    _raises_like_torch(lambda T: getattr(T.fft, fn)(5, dtype=getattr(T, dtype)))


_INT_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64"]


def _ints(T, dtype):
    return T.tensor([[1, 0, 3], [2, 5, 0]]).to(getattr(T, dtype))


# sum/prod/nansum(dtype=int32 or bool) of integer input gave int64 (NumPy's integer sums)
@pytest.mark.parametrize("fn", ["sum", "prod", "nansum", "cumsum", "cumprod"])
@pytest.mark.parametrize("src", _INT_DTYPES + ["float32"])
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int16", "int32", "float16", "float64"])
@pytest.mark.parametrize("dim", [None, 1])
def test_reduction_keeps_requested_dtype(fn, src, dtype, dim):
    def run(T):
        f, x, dt = getattr(T, fn), _ints(T, src), getattr(T, dtype)
        if fn.startswith("cum"):
            return f(x, 0 if dim is None else dim, dtype=dt)
        return f(x, dtype=dt) if dim is None else f(x, dim, dtype=dt)
    try:
        expected = run(torch)
    except Exception:  # cumsum/cumprod have no bool kernel
        _raises_like_torch(run)
        return
    _same(run(ndgrad), expected)


# nansum(dtype=complex) and nanmean(dtype=integer) are refused by torch
@pytest.mark.parametrize("fn,dtype", [("nansum", "complex64"), ("nanmean", "complex128"),
                                      ("nanmean", "int64"), ("nanmean", "bool")])
def test_nan_reductions_refuse_dtype(fn, dtype):
    _raises_like_torch(lambda T: getattr(T, fn)(T.ones(2, 3), 1, dtype=getattr(T, dtype)))


# logsumexp of complex input was refused; torch shifts by the real part's max, and its
# gradient is g * conj(exp(x - out))
@pytest.mark.parametrize("dim,keepdim", [(1, False), ((0, 1), True), (-1, True), (0, False)])
@pytest.mark.parametrize("scale", [1.0, 300.0])
def test_logsumexp_complex(dim, keepdim, scale):
    _both(lambda T: _second_order(T, lambda T, a: T.logsumexp(a * scale, dim, keepdim),
                                  _x(T, (3, 4), complex=True)))


# complex input to max/min reductions: torch's error types (NotImplementedError from the
# kernels without complex, RuntimeError from argmax/argmin and max(x, dim))
@pytest.mark.parametrize("call", [
    lambda T, x: T.amax(x), lambda T, x: T.amin(x, 1), lambda T, x: T.max(x), lambda T, x: x.min(),
    lambda T, x: T.max(x, 1), lambda T, x: T.argmax(x), lambda T, x: T.argmin(x, 1, True),
    lambda T, x: T.aminmax(x), lambda T, x: T.aminmax(x, dim=0)])
def test_complex_max_min_errors(call):
    _raises_like_torch(lambda T: call(T, T.ones(2, 3, dtype=T.complex64)))


# factories accepted out= and ignored it; out's dtype is the one made, another dtype= is refused
@pytest.mark.parametrize("call", [
    lambda T, o: T.zeros(2, 3, out=o), lambda T, o: T.ones(2, out=o),
    lambda T, o: T.full((2,), 3, out=o), lambda T, o: T.full((2,), 3, dtype=T.int64, out=o),
    lambda T, o: T.eye(3, out=o), lambda T, o: T.arange(5, out=o),
    lambda T, o: T.arange(0, 1, 0.25, out=o), lambda T, o: T.linspace(0, 1, 5, out=o),
    lambda T, o: T.logspace(0, 1, 5, out=o), lambda T, o: T.range(0, 3, out=o),
    lambda T, o: T.zeros(2, dtype=T.float32, out=o)])
@pytest.mark.parametrize("dtype", ["float64", "int32", "float32"])
def test_factory_writes_out(call, dtype):
    def run(T):
        o = T.zeros(0, dtype=getattr(T, dtype))
        return call(T, o) is o, o
    try:
        expected = run(torch)
    except RuntimeError:
        _raises_like_torch(run)
        return
    _same(run(ndgrad), expected)


# full's dtype from a NumPy scalar: an integer makes int64 (was the default float), the others
# the default float
@pytest.mark.parametrize("v", [np.int64(2), np.int32(2), np.uint8(3), np.float32(2.5),
                               np.bool_(True), np.float64(1.5)])
def test_full_dtype_from_numpy_scalar(v):
    _both(lambda T: (T.full((2,), v), T.full_like(T.ones(2, dtype=T.int16), v)))


# linspace/logspace with a complex end made a real tensor; only a complex dtype takes it
@pytest.mark.parametrize("fn", ["linspace", "logspace"])
@pytest.mark.parametrize("dtype", [None, "complex128", "float64", "int64"])
@pytest.mark.parametrize("ends", [(0, 1j), (1 + 1j, -2), (0, 1)])
def test_space_complex_ends(fn, dtype, ends):
    def run(T):
        return getattr(T, fn)(*ends, 5, **({} if dtype is None else {"dtype": getattr(T, dtype)}))
    try:
        expected = run(torch)
    except RuntimeError:
        _raises_like_torch(run)
        return
    _same(run(ndgrad), expected, 1e-5)


# tensor(floats, dtype=integer): torch checks each value in [min, max] as a double (nan and inf
# included) with a RuntimeError; a str first leaf is a ValueError ('too many dimensions')
@pytest.mark.parametrize("data,dtype", [
    ([float("inf")], "int64"), (float("nan"), "int32"), ([1.5e20, 1.0], "int64"),
    ([-1.0], "uint8"), ([-0.5], "uint8"), ([255.9], "uint8"), ([127.9, 1], "int8"),
    ([-128.9], "int8"), ([-128.0, 2.5], "int8"), ([255.0], "uint8"), ([-0.5, 3.7], "int32"),
    ([2.0 ** 63], "int64"), ([9.2e18], "int64"), ([[1, 2.5], [True, 3]], "int16"),
    ([-1, 3], "uint8"), (["a"], None), ([["a"]], None), ([1, "a"], None), ("a", None)])
def test_tensor_from_floats_into_integers(data, dtype):
    def run(T):
        return T.tensor(data, **({} if dtype is None else {"dtype": getattr(T, dtype)}))
    try:
        expected = run(torch)
    except Exception:
        _raises_like_torch(run)
        return
    _same(run(ndgrad), expected)


# lgamma(-inf) is inf in torch; SciPy's gammaln (used where installed) gave -inf
@pytest.mark.parametrize("fn", ["lgamma", "special.gammaln"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_lgamma_of_minus_inf(fn, dtype):
    def run(T):
        f = T.special.gammaln if fn == "special.gammaln" else T.lgamma
        return f(T.tensor([-float("inf"), -1.0, -2.5, -0.0, float("inf"), float("nan")],
                          dtype=getattr(T, dtype)))
    _both(run, 1e-3)


# torch.special.xlogy takes a Number first (as torch.xlogy); special.round refuses integers
@pytest.mark.parametrize("call", [
    lambda T: T.special.xlogy(2, T.tensor([1.0, 0.0, 3.0])),
    lambda T: T.special.xlogy(0, T.zeros(2)),
    lambda T: T.special.xlogy(T.tensor([2.0, 0.0]), 0), lambda T: T.special.xlogy(2, 3),
    lambda T: T.special.round(T.tensor([1, 2])), lambda T: T.special.round(T.tensor([True])),
    lambda T: T.special.round(T.tensor([1.25, 2.5]), decimals=1), lambda T: T.round(T.tensor([3]))])
def test_special_alias_arguments(call):
    try:
        expected = call(torch)
    except Exception:
        _raises_like_torch(call)
        return
    _same(call(ndgrad), expected)


# angle of real input: the gradient is plain zeros (torch's zeros_like), no graph, no nan from g
@pytest.mark.parametrize("scale", [1.0, float("inf")])
def test_angle_of_real_gradient(scale):
    _both(lambda T: _second_order(T, lambda T, a: T.angle(a) * scale + a,
                                  _x(T, (5,))))


# the norms of empty matrices: torch's max-based norms and cond give 0 (min-based ones raise);
# svd's driver= is refused on CPU
@pytest.mark.parametrize("call", [
    lambda T: T.linalg.matrix_norm(T.zeros(0, 3), 2),
    lambda T: T.linalg.matrix_norm(T.zeros(3, 0), 1),
    lambda T: T.linalg.matrix_norm(T.zeros(0, 3), float("inf")),
    lambda T: T.linalg.matrix_norm(T.zeros(2, 0, 0), 2, keepdim=True),
    lambda T: T.linalg.matrix_norm(T.zeros(0, 3), -2),
    lambda T: T.linalg.matrix_norm(T.zeros(3, 0), -1),
    lambda T: T.linalg.norm(T.zeros(0, 3), 2), lambda T: T.linalg.cond(T.zeros(0, 0)),
    lambda T: T.linalg.cond(T.zeros(2, 0, 0, dtype=T.complex64), "nuc"),
    lambda T: T.linalg.cond(T.zeros(0, 3)), lambda T: T.linalg.cond(T.zeros(0, 3), 1),
    lambda T: T.linalg.cond(T.zeros(0, 3), "fro"), lambda T: T.linalg.cond(T.zeros(0, 2, 3), -1),
    lambda T: T.linalg.cond(T.zeros(3), 1),
    lambda T: T.linalg.svd(T.ones(3, 3), driver="gesvd"),
    lambda T: T.linalg.svdvals(T.ones(2, 2), driver="gesvdj")])
def test_empty_matrix_norms_and_svd_driver(call):
    try:
        expected = call(torch)
    except Exception:
        _raises_like_torch(call)
        return
    _same(call(ndgrad), expected)


# linalg.solve_triangular casts B to A's dtype in torch 2.13 (it refused mixed dtypes), so
# kl_divergence of a float64 and a float32 MultivariateNormal works
@pytest.mark.parametrize("a,b", [("float32", "float64"), ("float64", "float32"),
                                 ("complex128", "float64"), ("float32", "int64"),
                                 ("int64", "float32"), ("float16", "float32")])
def test_solve_triangular_casts_b_to_a_dtype(a, b):
    def run(T):
        A = T.tensor([[2.0, 0.0], [1.0, 3.0]], dtype=getattr(T, a))
        B = T.tensor([[1.0, 2.0], [3.0, 4.0]]).to(getattr(T, b))
        if A.is_floating_point() or A.is_complex():
            A.requires_grad_()
        if B.is_floating_point() and not A.is_complex():  # (torch's backward then fails)
            B.requires_grad_()
        x = T.linalg.solve_triangular(A, B, upper=False)
        leaves = [t for t in (A, B) if t.requires_grad]
        return x, T.autograd.grad(_sq(x), leaves)
    try:
        expected = run(torch)
    except Exception:
        _raises_like_torch(run)
        return
    _same(run(ndgrad), expected, 1e-5)


def test_kl_mvn_mixed_dtypes_second_order():
    def fn(T, loc, d):
        D = T.distributions
        p = D.MultivariateNormal(loc, scale_tril=T.diag_embed(d.exp()))
        return D.kl_divergence(p, D.MultivariateNormal(T.zeros(2), T.eye(2)))
    _both(lambda T: _second_order(T, fn, _x(T, (3, 2)), _x(T, (3, 2), 1)), 1e-5)


# cdist(p=0) keeps torch's zero gradients (its own backward) now that vector_norm(ord=0) has
# none; nan coordinates give nan
def test_cdist_p0_gradient_is_zeros():
    def run(T):
        a = T.tensor([[1.0, float("nan")], [0.0, 0.0], [float("inf"), 1.0]], requires_grad=True)
        b = T.tensor([[1.0, 0.0], [0.0, 0.0]], requires_grad=True)
        r = T.cdist(a, b, p=0)
        return r, T.autograd.grad(r.sum(), (a, b)), T.cdist(a.detach()[None], b.detach(), p=0)
    _both(run)


# polygamma's order must be an int (torch's TypeError for a float or bool; a 0-d int tensor works)
@pytest.mark.parametrize("call", [
    lambda T: T.polygamma(1.5, T.ones(2)), lambda T: T.ones(2).polygamma(1.5),
    lambda T: T.polygamma(True, T.ones(2)), lambda T: T.special.polygamma(1.0, T.ones(2)),
    lambda T: T.polygamma(T.tensor(1), T.ones(2)), lambda T: T.special.polygamma(2, T.ones(2))])
def test_polygamma_order_type(call):
    try:
        expected = call(torch)
    except TypeError:
        _raises_like_torch(call)
        return
    _same(call(ndgrad), expected)


# asarray(copy=False) refuses what cannot be aliased: another dtype, a NumPy scalar, a sequence
@pytest.mark.parametrize("call", [
    lambda T: T.asarray(np.ones(2), dtype=T.float32, copy=False),
    lambda T: T.asarray(T.ones(2), dtype=T.float64, copy=False),
    lambda T: T.asarray([1.0, 2.0], copy=False), lambda T: T.asarray(3.0, copy=False),
    lambda T: T.asarray(np.float64(2.0), copy=False),
    lambda T: T.asarray(np.ones(2), dtype=T.float64, copy=False),
    lambda T: T.asarray(T.ones(2), dtype=T.float32, copy=False)])
def test_asarray_copy_false_refusals(call):
    try:
        expected = call(torch)
    except Exception:
        _raises_like_torch(call)
        return
    _same(call(ndgrad), expected)


# cholesky(upper=True) reads A's upper triangle as torch (LAPACK's 'U'); it read the lower one
@pytest.mark.parametrize("fn", [
    lambda T, a: T.linalg.cholesky(a, upper=True), lambda T, a: T.linalg.cholesky_ex(a, upper=True),
    lambda T, a: T.cholesky(a, upper=True),
    lambda T, a: T.cholesky_inverse(T.linalg.cholesky(a, upper=True), upper=True)])
@pytest.mark.parametrize("complex", [False, True])
def test_cholesky_upper_reads_upper_triangle(fn, complex):
    def run(T):
        a = _x(T, (2, 3, 3), complex=complex)
        return _second_order(T, lambda T, a: fn(T, a + 5 * T.eye(3, dtype=a.dtype)), a)
    _both(run, 1e-6)


# lstsq with B one dim short and not a stack of vectors: torch broadcasts A's batch with all of
# B's leading dims (a (4, 5) B gives a (4, 3, 5) solution for a (1, 4, 3) A), else refuses
@pytest.mark.parametrize("a,b", [((2, 4, 3), (4, 2)), ((2, 4, 3), (2, 4)), ((2, 4, 3), (1, 4)),
                                 ((1, 4, 3), (4, 5)), ((4, 4, 3), (4, 5)), ((2, 4, 3), (4, 4)),
                                 ((2, 4, 3), (1, 4, 2)), ((4, 3), (4,))])
def test_lstsq_batch_rules(a, b):
    def run(T):
        r = np.random.default_rng(0)
        A = T.tensor(r.standard_normal(a), requires_grad=True)
        B = T.tensor(r.standard_normal(b), requires_grad=True)
        return _second_order(T, lambda T, A, B: T.linalg.lstsq(A, B).solution, A, B)
    try:
        expected = run(torch)
    except RuntimeError:
        _raises_like_torch(run)
        return
    _same(run(ndgrad), expected, 1e-6)


# bad input to linalg: torch's error types (eigh/lu have no integer kernel: NotImplementedError;
# a non-tensor is the argument parser's TypeError; matrix_power of a vector a RuntimeError)
@pytest.mark.parametrize("call", [
    lambda T: T.linalg.eigh(T.ones(2, 2, dtype=T.int64)),
    lambda T: T.linalg.eigvalsh(T.ones(2, 2, dtype=T.bool)),
    lambda T: T.linalg.lu_factor(T.ones(2, 2, dtype=T.int64)),
    lambda T: T.linalg.lu(T.ones(2, 2, dtype=T.bool)), lambda T: T.linalg.eigh(T.ones(3)),
    lambda T: T.linalg.lu_factor(T.ones(3, dtype=T.int64)),
    lambda T: T.linalg.vector_norm(3), lambda T: T.linalg.vecdot(3, T.ones(2)),
    lambda T: T.linalg.multi_dot([[[1.0]], T.ones(1, 1)]),
    lambda T: T.linalg.multi_dot([T.ones(2, 2, dtype=T.bool), T.ones(2, 2)]),
    lambda T: T.linalg.matrix_power(T.ones(3), 2),
    lambda T: T.linalg.matrix_power(T.tensor(1.0), 2),
    lambda T: T.linalg.matrix_power(T.ones(2, 3), 2)])
def test_linalg_bad_input_errors(call):
    _raises_like_torch(call)


# torch.norm of a non-tensor is an AttributeError (a Python function reading .layout); trace of
# a bool tensor is NotImplementedError before the dim check
@pytest.mark.parametrize("call", [
    lambda T: T.norm([1.0, 2.0]), lambda T: T.norm(3), lambda T: T.norm(None, 2),
    lambda T: T.trace(T.ones(3, dtype=T.bool)), lambda T: T.trace(T.ones(3))])
def test_norm_and_trace_bad_input(call):
    _raises_like_torch(call)


# fft: torch checks the dims before the dtype (a 1-d half tensor through fft2 is an IndexError)
@pytest.mark.parametrize("fn", ["fft2", "rfft2", "ihfft2", "irfft2", "hfft2"])
@pytest.mark.parametrize("dtype", ["float16", "complex64", "float32"])
def test_fft_dims_checked_before_dtype(fn, dtype):
    _raises_like_torch(lambda T: getattr(T.fft, fn)(T.ones(3, dtype=getattr(T, dtype))))


@pytest.mark.parametrize("call", [
    lambda T: int(T.ones(2)), lambda T: float(T.ones(2)), lambda T: float(T.tensor([])),
    lambda T: float(T.tensor(1 + 1j)), lambda T: int(T.tensor(1 + 1j)),
    lambda T: int(T.tensor([3.7])), lambda T: complex(T.tensor(1 + 2j)),
])
def test_python_number_conversions_raise_as_torch(call):
    """float()/int() of several elements: torch's ValueError; of a complex: its RuntimeError."""
    results = []
    for lib in (ndgrad, torch):
        try:
            results.append(call(lib))
        except Exception as e:  # noqa: BLE001  (the error type is what is compared)
            results.append((type(e), str(e)))
    assert results[0] == results[1]


@pytest.mark.parametrize("part", ["real", "imag"])
def test_real_and_imag_are_views_a_write_reaches_the_gradient(part):
    """``c.real``/``c.imag`` are views (SelectBackward0 of view_as_real): writing through one
    changes ``c`` and its gradient, as in torch."""
    data = np.array([1.0 - 2.0j, 0.5 + 0.25j, -3.0 + 1.0j], dtype=np.complex64)
    outs = []
    for lib in (ndgrad, torch):
        c = lib.tensor(data, requires_grad=True)
        d = c * 1
        view = getattr(d, part)
        name = type(view.grad_fn).__name__
        view.mul_(2)
        (d.abs() ** 2).sum().backward()
        outs.append((name, type(d.grad_fn).__name__, d.detach().numpy(), c.grad.numpy()))
    (n1, m1, d1, g1), (n2, m2, d2, g2) = outs
    assert (n1, m1) == (n2, m2) == ("SelectBackward0", "CopySlices")
    np.testing.assert_allclose(d1, d2, rtol=1e-6)
    np.testing.assert_allclose(g1, g2, rtol=1e-6)
