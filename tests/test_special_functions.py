"""ndgrad's own special functions (``_special``: what an install without SciPy computes with)
against torch, on dense grids and edge values in float32 and float64, through the backend's
fallback; their derivatives; and a meta test that no per-element Python is reachable."""

from __future__ import annotations

import ast
import inspect
import math
import warnings

import numpy as np
import pytest
import torch

import ndgrad
from ndgrad import _backend, _special


@pytest.fixture
def no_scipy(monkeypatch):
    """The install without SciPy: ``_backend.special`` falls back to ndgrad's own code."""
    monkeypatch.setattr(_backend, "_SCIPY", False)


EDGE = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, -3.0, -50.0, 0.5, -0.5, 0.7, -0.7, 8.0, 9.5,
                 10.0, 13.0, 26.5, 27.0, 27.3, 30.0, 1e-300, -1e-300, 5e-324, 1e-45, 1e-30,
                 -1e-30, 1e30, -1e30, 1e300, -1e300, np.inf, -np.inf, np.nan,
                 1.4616321449683622, -2.4570247382208006, 1 - 2.0**-53, -1 + 2.0**-53])


def _grid(name):
    rng = np.random.default_rng(0)
    if name in ("erf", "erfc"):
        g = np.concatenate([np.linspace(-8, 8, 20001), np.geomspace(1e-300, 30, 2000),
                            rng.uniform(-6, 6, 5000)])
        g = np.concatenate([g, -g])
    elif name == "erfinv":
        g = np.concatenate([np.linspace(-1, 1, 20001), 1 - np.geomspace(1e-16, 1, 2000),
                            np.geomspace(1e-300, 1, 1000), rng.uniform(-1, 1, 5000)])
        g = np.concatenate([g, -g])
    else:
        g = np.concatenate([np.linspace(-40, 40, 16001), np.geomspace(1e-300, 1e300, 2000),
                            -np.geomspace(1e-5, 30, 1000), rng.uniform(-30, 30, 5000)])
    return np.concatenate([g, EDGE])


def _torch(name, n, x):
    t = torch.from_numpy(x)
    return (torch.polygamma(n, t) if n is not None else getattr(torch, name)(t)).numpy()


def _ndgrad(name, n, x):
    fn = _backend.special(np, name)
    return fn(n, x) if n is not None else fn(x)


NUMPY1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"


def _ulps(got, want):
    """|got - want| in units of want's last place (0 where both agree, nan and inf included)."""
    g, w = got.astype(np.float64), want.astype(np.float64)
    with np.errstate(all="ignore"):
        d = np.abs(g - w) / np.spacing(np.abs(want)).astype(np.float64)
    d[(g == w) | (np.isnan(g) & np.isnan(w))] = 0
    return np.nan_to_num(d, nan=np.inf)


# (function, n, dtype) -> (ulps allowed, extra allowance: a function of (x, want) giving the
# absolute error also accepted). The allowances are where torch's own result is that far from
# the exact one: its float32 lgamma next to its negative zeros, its float32 polygamma (it sums
# the zeta series in float32), cancellation near the zeros of digamma and polygamma for x < 0
# (where 1-ulp differences in pow, log or sin are amplified).
def _none(x, w):
    return 0.0


def _below(a):
    return lambda x, w: np.where(x < 0, a, 0.0)


CASES = {
    ("erf", None, "float32"): (1, _none), ("erf", None, "float64"): (2, _none),
    ("erfc", None, "float32"): (1, _none), ("erfc", None, "float64"): (7, _none),
    ("erfinv", None, "float32"): (1, _none), ("erfinv", None, "float64"): (3, _none),
    ("lgamma", None, "float32"): (1, _below(1e-9)), ("lgamma", None, "float64"): (4, _below(2e-15)),
    ("digamma", None, "float32"): (4, _none), ("digamma", None, "float64"): (4, lambda x, w: 1e-15),
    ("polygamma", 1, "float32"): (4, _none), ("polygamma", 1, "float64"): (2, _none),
    ("polygamma", 2, "float32"): (4, lambda x, w: np.where(x < 0, 1e-5 * np.abs(w), 0)),
    ("polygamma", 2, "float64"): (4, lambda x, w: np.where(x < 0, 1e-14 * np.abs(w), 0)),
    ("polygamma", 3, "float32"): (4, lambda x, w: np.where(x < 0, 1e-5 * np.abs(w), 0)),
    ("polygamma", 3, "float64"): (4, lambda x, w: np.where(x < 0, 1e-14 * np.abs(w), 0)),
    ("polygamma", 5, "float64"): (4, lambda x, w: np.where(x < 0, 1e-14 * np.abs(w), 0)),
}


@pytest.mark.parametrize("name,n,dtype", list(CASES), ids=[f"{a}{'' if b is None else b}-{c}"
                                                          for a, b, c in CASES])
def test_matches_torch_on_grids_and_edges(no_scipy, name, n, dtype):
    x = _grid(name).astype(dtype)
    if n is not None and n >= 2:
        x = x[~(x < -40)]  # torch's zeta sums one term per unit below 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _torch(name, n, x)
        got = _ndgrad(name, n, x)
    assert got.dtype == want.dtype and got.shape == want.shape
    fin = np.isfinite(want)
    # infinities, nan and signed zeros exactly as torch
    np.testing.assert_array_equal(got[~fin], want[~fin], err_msg=f"{name} at {x[~fin]}")
    zero = want == 0
    assert (np.signbit(got[zero]) == np.signbit(want[zero])).all(), f"{name}: sign of zero"
    ulps, extra = CASES[(name, n, dtype)]
    if NUMPY1:  # NumPy 1.x's exp/log/sin round differently from 2.x's SIMD loops
        ulps, extra = 16 * ulps, (lambda f: lambda x, w: 64 * np.maximum(f(x, w), 1e-16 * np.abs(
            w)))(extra)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    ok = (_ulps(got, want) <= ulps) | (err <= extra(x.astype(np.float64), want))
    bad = np.flatnonzero(~ok)[:5]
    assert ok.all(), f"{name}: {x[bad]} gives {got[bad]}, torch {want[bad]}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_public_functions_without_scipy(no_scipy, dtype):
    x = np.array([-2.5, -0.3, 0.0, 0.2, 0.9, 1.0, 3.7, 12.0], dtype=dtype)
    y = np.array([-0.999, -0.5, 0.0, 0.1, 0.7, 0.9999, -1.0, 1.0], dtype=dtype)
    for name, arg in [("erf", x), ("erfc", x), ("erfinv", y), ("lgamma", x), ("digamma", x)]:
        got = getattr(ndgrad, name)(ndgrad.from_numpy(arg)).numpy()
        want = getattr(torch, name)(torch.from_numpy(arg)).numpy()
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(dtype).eps, err_msg=name,
                                   atol=1e-9 if dtype == "float32" else 2e-15)  # lgamma's zeros
    for n in (1, 2, 4):
        got = ndgrad.polygamma(n, ndgrad.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, torch.polygamma(n, torch.from_numpy(x)).numpy(),
                                   rtol=1e-5 if dtype == "float32" else 1e-13)


_GRAD_FNS = {
    "lgamma": lambda L, x: L.lgamma(x), "digamma": lambda L, x: L.digamma(x),
    "polygamma1": lambda L, x: L.polygamma(1, x), "polygamma3": lambda L, x: L.polygamma(3, x),
    "erf": lambda L, x: L.erf(x), "erfc": lambda L, x: L.erfc(x),
    "erfinv": lambda L, x: L.erfinv(x * 0.3),
}


@pytest.mark.parametrize("name", list(_GRAD_FNS))
def test_first_and_second_derivatives_without_scipy(no_scipy, name):
    """lgamma's double backward needs digamma's and polygamma's backward (once a KeyError)."""
    res = []
    for lib in (torch, ndgrad):
        x = lib.tensor([0.3, 1.7, 2.5, -0.5, 3.2], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(_GRAD_FNS[name](lib, x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x)
        res.append((g.detach().numpy(), h.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_exact_gelu_without_scipy(no_scipy):
    x = np.random.default_rng(0).standard_normal((64, 33)).astype(np.float32) * 3
    res = []
    for lib in (torch, ndgrad):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.gelu(t)
        y.backward(lib.ones_like(y))
        res.append((y.detach().numpy(), t.grad.numpy()))
    for a, b in zip(*res):  # float32 cancellation in x (1 + erf) for x < 0: a few ulp of x
        np.testing.assert_allclose(b, a, rtol=2e-6, atol=1e-6)


# --- meta: no per-element Python ------------------------------------------------------------
def _sources():
    return {"_special": inspect.getsource(_special), "special": inspect.getsource(_backend.special)}


@pytest.mark.parametrize("part", ["_special", "special"])
def test_no_per_element_python_in_the_source(part):
    """No np.vectorize / frompyfunc, and no math module (its functions take one number)."""
    tree = ast.parse(_sources()[part])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("vectorize", "frompyfunc"), f"{part}: {node.attr}"
        if isinstance(node, ast.Name):
            assert node.id != "math", f"{part} uses the math module (line {node.lineno})"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            assert "math" not in names, f"{part} imports math"


def test_no_per_element_python_is_reachable(no_scipy, monkeypatch):
    """Every special function runs with np.vectorize, np.frompyfunc and every function of the
    math module made to raise."""
    def boom(*a, **k):
        raise AssertionError("per-element Python reached")

    monkeypatch.setattr(np, "vectorize", boom)
    monkeypatch.setattr(np, "frompyfunc", boom)
    for attr in dir(math):
        if callable(getattr(math, attr)) and not attr.startswith("_"):
            monkeypatch.setattr(math, attr, boom)
    x = np.array([-2.5, -1.0, -0.3, 0.0, 0.2, 0.9, 1.0, 3.7, 30.0, np.inf, np.nan])
    for dt in (np.float32, np.float64):
        xs = x.astype(dt)
        for name in ("erf", "erfc", "erfinv", "lgamma", "digamma"):
            _backend.special(np, name)(xs)
        for n in (1, 2, 5):
            _backend.special(np, "polygamma")(n, xs)
