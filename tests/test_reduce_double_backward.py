"""First and second derivatives of reductions, scans and stats against torch (float64,
create_graph=True, then grad again), on leaf and non-leaf inputs, 0-d inputs, zeros, ties and nan;
and torch's rule for saved outputs (an in-place change of an output that backward does not need
breaks nothing)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ndgrad

_rng = np.random.default_rng(1)
_A = _rng.standard_normal((3, 4))


def _with(a, idx, vals):
    a = a.copy()
    for i, v in zip(idx, vals):
        a[i] = v
    return a


INPUTS = {
    "A": _A,
    "zero": _with(_A, [(1, 2)], [0.0]),
    "zeros": _with(_A, [(1, 2), (1, 0), (0, 3)], [0.0, 0.0, 0.0]),
    "ties": _with(np.round(_A), [(0, 0), (0, 1), (2, 1), (2, 3)], [2.0, 2.0, -3.0, -3.0]),
    "nan": _with(_A, [(1, 1)], [np.nan]),
    "vec": np.array([1.0, 2.0, 3.0]),
    "vec0": np.array([1.0, 0.0, 3.0]),
    "vec00": np.array([0.0, 2.0, 0.0, 3.0]),
    "0d": np.array(1.7),
}


def _d(x, dim):  # a dim that exists (0-d tensors take 0 and -1)
    return dim if x.ndim else 0


OPS = {
    "sum": lambda L, x: x.sum(),
    "sum_dim": lambda L, x: x.sum(-1),
    "sum_keepdim": lambda L, x: x.sum(_d(x, 0), keepdim=True),
    "mean": lambda L, x: x.mean(),
    "mean_dim": lambda L, x: x.mean(-1),
    "nansum": lambda L, x: x.nansum(-1),
    "nanmean": lambda L, x: x.nanmean(),
    "prod": lambda L, x: x.prod(),
    "prod_dim": lambda L, x: x.prod(-1),
    "prod_keepdim": lambda L, x: x.prod(_d(x, 0), keepdim=True),
    "prod_f32_to_f64": lambda L, x: x.float().prod(-1, dtype=L.float64),
    "square_prod": lambda L, x: (x * x).prod(),
    "amax": lambda L, x: x.amax(),
    "amax_dim": lambda L, x: x.amax(-1),
    "amin_keepdim": lambda L, x: x.amin(_d(x, 0), keepdim=True),
    "max": lambda L, x: x.max(),
    "min": lambda L, x: x.min(),
    "max_dim": lambda L, x: x.max(-1)[0],
    "min_keepdim": lambda L, x: x.min(_d(x, 0), keepdim=True)[0],
    "aminmax": lambda L, x: L.aminmax(x, dim=_d(x, -1)),
    "logsumexp": lambda L, x: x.logsumexp(-1),
    "logsumexp_all": lambda L, x: L.logsumexp(x, tuple(range(x.ndim))),
    "var": lambda L, x: x.var(),
    "var_dim": lambda L, x: x.var(-1),
    "var_c0": lambda L, x: x.var(-1, correction=0),
    "var_c2": lambda L, x: x.var(correction=2),
    "var_dof_le_0": lambda L, x: x.var(correction=99),
    "var_dim_dof_le_0": lambda L, x: x.var(-1, correction=9),
    "var_empty_dims": lambda L, x: x.var(dim=[]),
    "std": lambda L, x: x.std(),
    "std_keepdim": lambda L, x: x.std(-1, keepdim=True),
    "std_c0": lambda L, x: x.std(correction=0),
    "std_dof_le_0": lambda L, x: x.std(correction=99),
    "var_mean": lambda L, x: L.var_mean(x, _d(x, -1)),
    "std_mean": lambda L, x: L.std_mean(x, _d(x, -1)),
    "std_mean_c0": lambda L, x: L.std_mean(x, correction=0),
    "mean_of_var_mean": lambda L, x: L.var_mean(x, correction=99)[1],
    "norm": lambda L, x: x.norm(),
    "norm_dim": lambda L, x: x.norm(dim=-1),
    "norm3": lambda L, x: x.norm(p=3, dim=-1),
    "dist": lambda L, x: L.dist(x, x.detach() * 0.5 + 0.1),
    "cumsum": lambda L, x: x.cumsum(-1),
    "cumsum0": lambda L, x: x.cumsum(0),
    "cumprod": lambda L, x: x.cumprod(-1),
    "cumprod0": lambda L, x: x.cumprod(0),
    "cummax": lambda L, x: x.cummax(-1)[0],
    "cummin": lambda L, x: x.cummin(0)[0],
    "logcumsumexp": lambda L, x: x.logcumsumexp(-1),
    "logcumsumexp0": lambda L, x: L.logcumsumexp(x, 0),
    "median": lambda L, x: x.median(),
    "median_dim": lambda L, x: x.median(-1)[0],
    "trace": lambda L, x: x.trace() if x.ndim == 2 else x.sum(),
    "diff": lambda L, x: x.diff() if x.ndim else x * 1,
}


def _derivatives(lib, fn, x, nonleaf):
    """(first grad, second-order grads w.r.t. the input and the cotangents)."""
    rng = np.random.default_rng(0)
    t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
    ys = fn(lib, t * 1 if nonleaf else t)
    ys = [y for y in (ys if isinstance(ys, (tuple, list)) else (ys,))]
    vs = [lib.tensor(rng.standard_normal(y.shape), dtype=lib.float64, requires_grad=True)
          for y in ys]
    (g,) = lib.autograd.grad(ys, t, vs, create_graph=True)
    w = lib.tensor(rng.standard_normal(g.shape), dtype=lib.float64)
    out = [g.detach()]
    if g.requires_grad:
        out += lib.autograd.grad((g * w).sum(), [t] + vs, allow_unused=True)
    return [None if r is None else
            (r.numpy(force=True) if lib is torch else r.detach().numpy()) for r in out]


@pytest.mark.parametrize("nonleaf", [False, True], ids=["leaf", "nonleaf"])
@pytest.mark.parametrize("inp", list(INPUTS))
@pytest.mark.parametrize("name", list(OPS))
def test_first_and_second_derivatives_match_torch(name, inp, nonleaf):
    fn, x = OPS[name], INPUTS[inp]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            want = _derivatives(torch, fn, x, nonleaf)
            got = _derivatives(ndgrad, fn, x, nonleaf)
    tol = 1e-6 if "f32" in name else 1e-9
    for i, (w, g) in enumerate(zip(want, got)):
        if w is None and g is None:
            continue
        w = np.zeros_like(g) if w is None else w  # unused in one library: zero in the other
        g = np.zeros_like(w) if g is None else g
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * 1e-2, equal_nan=True,
                                   err_msg=f"{name}[{inp}] derivative {i}")
    assert len(got) == len(want), f"{name}[{inp}]: second order differs in being defined"


def test_prod_double_backward_matches_torch():
    for lib in (torch, ndgrad):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(x.prod(), x, create_graph=True)
        assert lib.autograd.grad(g[0], x)[0].tolist() == [0.0, 3.0, 2.0]


def test_logcumsumexp_double_backward_matches_torch():
    res = []
    for lib in (torch, ndgrad):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(lib.logcumsumexp(x, 0).sum(), x, create_graph=True)
        res.append(lib.autograd.grad((g * g).sum(), x)[0].numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-12)
    np.testing.assert_allclose(res[0], [0.2507, -0.0664, -0.1842], atol=1e-4)


@pytest.mark.parametrize("name", ["prod", "prod_dim", "cumprod", "cumprod0", "logcumsumexp",
                                  "std", "var"])
@pytest.mark.parametrize("cplx", [False, True], ids=["real", "complex"])
def test_third_order_through_zeros(name, cplx):
    if cplx and name == "logcumsumexp":
        pytest.skip("logcumsumexp takes real inputs here")
    fn = {"prod": lambda x: x.prod(), "prod_dim": lambda x: x.prod(1),
          "cumprod": lambda x: x.cumprod(1), "cumprod0": lambda x: x.cumprod(0),
          "logcumsumexp": lambda x: x.logcumsumexp(1), "std": lambda x: x.std(1),
          "var": lambda x: x.var()}[name]
    x = np.array([[0.5, 0.0, 2.0, -1.5, 0.0], [1.2, -0.7, 0.0, 0.3, 2.0]])
    if cplx:
        x = x + 1j * np.array([[0.1, 0, -0.4, 0.2, 0], [0.3, 0.5, 0, -1, 0.2]])
    res = []
    for lib in (torch, ndgrad):
        t = lib.tensor(x, requires_grad=True)
        y = fn(t)
        v = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)), dtype=y.dtype)
        (g,) = lib.autograd.grad(y, t, v, create_graph=True)
        (h,) = lib.autograd.grad((g * g.conj()).real.sum(), t, create_graph=True)
        (k,) = lib.autograd.grad((h * h.conj()).real.sum(), t)
        res.append([r.detach().resolve_conj().numpy() if lib is torch else r.detach().numpy()
                    for r in (g, h, k)])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_cumprod_gradient_through_zeros_random():
    rng = np.random.default_rng(0)
    for trial in range(60):
        shape = tuple(rng.integers(1, 6, size=rng.integers(1, 4)))
        x = rng.standard_normal(shape)
        x[rng.random(shape) < 0.3] = 0
        if trial % 3 == 0:
            x = x + 1j * rng.standard_normal(shape) * (x != 0)
        d = int(rng.integers(0, len(shape)))
        v = rng.standard_normal(shape)
        for create_graph in (False, True):
            res = []
            for lib in (torch, ndgrad):
                t = lib.tensor(x, requires_grad=True)
                (g,) = lib.autograd.grad(t.cumprod(d), t, lib.tensor(v, dtype=t.dtype),
                                         create_graph=create_graph)
                res.append(g.detach().numpy())
            np.testing.assert_allclose(res[1], res[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cot", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("name,x", [
    ("cumprod", [2.0, 0.0, -3.0, 0.0, 0.5]), ("max", [1.0, 3.0, 3.0, -1.0]),
    ("prod", [0.0, 2.0, -3.0, 0.5]), ("min", [1.0, -3.0, -3.0, 2.0])])
def test_first_order_with_non_finite_cotangents(name, x, cot):
    """torch's first-order formulas leave the positions a non-finite gradient cannot reach at 0."""
    res = []
    for lib in (torch, ndgrad):
        t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        y = getattr(t, name)(0) if name == "cumprod" else getattr(t, name)()
        v = np.resize(np.array([cot, 1.0, -2.0]), y.numel()).reshape(tuple(y.shape))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res.append(lib.autograd.grad(y, t, lib.tensor(v, dtype=lib.float64))[0].numpy())
    np.testing.assert_array_equal(res[1], res[0])


_INPLACE = {
    "var": lambda L, x: x.var(), "var_dim": lambda L, x: x.var(0), "std": lambda L, x: x.std(),
    "var_mean[0]": lambda L, x: L.var_mean(x)[0], "var_mean[1]": lambda L, x: L.var_mean(x)[1],
    "std_mean[0]": lambda L, x: L.std_mean(x)[0], "std_mean[1]": lambda L, x: L.std_mean(x)[1],
    "prod": lambda L, x: x.prod(), "amax": lambda L, x: x.amax(), "max": lambda L, x: x.max(),
    "logsumexp": lambda L, x: x.logsumexp(0), "cumsum": lambda L, x: x.cumsum(0),
    "cumprod": lambda L, x: x.cumprod(0), "logcumsumexp": lambda L, x: x.logcumsumexp(0),
    "cummax": lambda L, x: x.cummax(0)[0], "sum": lambda L, x: x.sum(),
    "mean": lambda L, x: x.mean(), "nansum": lambda L, x: x.nansum(),
    "max_dim": lambda L, x: x.max(0)[0], "amin_dim": lambda L, x: x.amin(0),
}


@pytest.mark.parametrize("name", list(_INPLACE))
def test_inplace_change_of_an_output_breaks_backward_only_if_saved(name):
    """torch saves an op's output only if its backward needs it (var: no; std: yes)."""
    res = []
    for lib in (torch, ndgrad):
        x = lib.tensor([1.0, 2.0, 4.0], requires_grad=True)
        try:
            y = _INPLACE[name](lib, x)
            y += 1
            y.sum().backward()
            res.append(x.grad.tolist())
        except RuntimeError as e:
            res.append(str(e).split(", which is output")[0].replace("ndgrad", "torch"))
    assert res[1] == res[0]


def test_var_mean_uses_only_the_gradients_that_exist():
    """torch skips the var term when only the mean is used (no 0 * inf where dof <= 0)."""
    for lib in (torch, ndgrad):
        x = lib.tensor([1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.var_mean(x)[1].backward()
        assert x.grad.tolist() == [1.0]
