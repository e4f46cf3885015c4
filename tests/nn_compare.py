"""Helpers for the nn tests: build a module in ndgrad and torch, copy torch's weights across, run
both on the same inputs and compare outputs, input gradients and parameter gradients."""

from __future__ import annotations

import numpy as np
import torch

import ndgrad

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-10)}


def nd(t: torch.Tensor) -> ndgrad.Tensor:
    """A torch tensor's values as an ndgrad tensor (same dtype)."""
    return ndgrad.from_numpy(t.detach().cpu().numpy().copy())


def arr(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x.detach())


def copy_weights(tm, nm) -> None:
    """Load torch's state_dict into the ndgrad module (strict: the keys must be identical)."""
    res = nm.load_state_dict({k: nd(v) for k, v in tm.state_dict().items()})
    assert not res.missing_keys and not res.unexpected_keys


def assert_close(a, b, dtype: str, what: str = "", scale: float = 1.0) -> None:
    tol = {k: v * scale for k, v in TOL[dtype].items()}
    x, y = arr(a), arr(b)
    assert x.shape == y.shape, f"{what}: shape {x.shape} != {y.shape}"
    np.testing.assert_allclose(x, y, err_msg=what, equal_nan=True, **tol)


def _flat(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flat(o))
        return res
    return [out] if out is not None else []


def make_pair(make, dtype: str = "float64"):
    """make(lib) -> module; torch's module is built first, then its weights copied into ndgrad's."""
    tm = make(torch).to(getattr(torch, dtype))
    nm = make(ndgrad).to(getattr(ndgrad, dtype))
    copy_weights(tm, nm)
    return tm, nm


def run_pair(tm, nm, inputs, dtype: str = "float64", grad: bool = True, scale: float = 1.0,
             call=None):
    """Forward both modules on the same numpy inputs (float arrays require grad); compare outputs,
    then backward a random cotangent and compare input and parameter gradients."""
    call = call or (lambda m, *xs: m(*xs))
    ins = {}
    for lib, m in ((ndgrad, nm), (torch, tm)):
        xs = []
        for a in inputs:
            if isinstance(a, np.ndarray):
                t = (ndgrad.from_numpy if lib is ndgrad else torch.from_numpy)(a.copy())
                if grad and a.dtype.kind == "f":
                    t.requires_grad_(True)
                xs.append(t)
            else:
                xs.append(a)
        ins[lib] = (xs, _flat(call(m, *xs)))
    (nx, nout), (tx, tout) = ins[ndgrad], ins[torch]
    assert len(nout) == len(tout)
    for i, (a, b) in enumerate(zip(nout, tout)):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"output {i} dtype"
        assert_close(a, b, dtype, f"output {i}", scale)
    if not grad:
        return nout, tout
    rng = np.random.default_rng(7)
    diff = [(a, b) for a, b in zip(nout, tout) if b.requires_grad]
    cots = [rng.standard_normal(tuple(b.shape)).astype(dtype) for _, b in diff]
    nleaves = [x for x in nx if isinstance(x, ndgrad.Tensor) and x.requires_grad]
    tleaves = [x for x in tx if isinstance(x, torch.Tensor) and x.requires_grad]
    nparams = dict(nm.named_parameters())
    tparams = dict(tm.named_parameters())
    ng = ndgrad.autograd.grad([a for a, _ in diff], nleaves + list(nparams.values()),
                              [ndgrad.from_numpy(c) for c in cots], allow_unused=True)
    tg = torch.autograd.grad([b for _, b in diff], tleaves + list(tparams.values()),
                             [torch.from_numpy(c) for c in cots], allow_unused=True)
    names = [f"input {i}" for i in range(len(nleaves))] + list(tparams)
    for name, a, b in zip(names, ng, tg):
        if b is None:
            assert a is None or not np.any(arr(a)), f"grad of {name}"
            continue
        assert a is not None, f"no grad for {name}"
        assert_close(a, b, dtype, f"grad of {name}", scale * 10)
    return nout, tout


def same_repr(nm, tm) -> None:
    assert repr(nm).replace("ndgrad.", "torch.") == repr(tm)
