"""Run an op table entry through ndgrad and torch and compare values, dtypes, shapes, gradients."""

from __future__ import annotations

import numpy as np
import torch

import ndgrad

_TOL = {"float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2), "float32": (1e-5, 1e-5),
        "float64": (1e-10, 1e-10), "complex64": (1e-5, 1e-5), "complex128": (1e-10, 1e-10)}


def to_lib(lib, x, requires_grad):
    """A numpy array (or scalar) as a tensor of ``lib``; floats become leaves that require grad."""
    if not isinstance(x, np.ndarray):
        return x
    if lib is torch:
        if x.dtype.name == "bfloat16":
            t = torch.from_numpy(x.astype(np.float32)).to(torch.bfloat16)
        else:
            t = torch.from_numpy(x.copy())
    else:
        t = ndgrad.from_numpy(x.copy())
    if requires_grad and x.dtype.kind in "fcV":
        t.requires_grad_(True)
    return t


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x._is_zerotensor():  # some backward formulas return torch's lazy ZeroTensor
            x = torch.zeros(x.shape, dtype=x.dtype)
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().resolve_conj().numpy()  # a lazily conjugated view (e.g. from .mH)
    if isinstance(x, ndgrad.Tensor):
        a = np.asarray(x.detach())
        return a.astype(np.float32) if a.dtype.name == "bfloat16" else a
    return np.asarray(x)


def dtype_name(x):
    return str(x.dtype).split(".")[-1] if hasattr(x, "dtype") else type(x).__name__


def flat_outputs(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(flat_outputs(o))
        return res
    return [out]


def assert_same(a, b, rtol, atol, what=""):
    """ndgrad result ``a`` equals torch result ``b`` in dtype, shape and values."""
    if isinstance(b, torch.Tensor):
        assert isinstance(a, ndgrad.Tensor), f"{what}: expected a Tensor, got {type(a)}"
        assert dtype_name(a) == dtype_name(b), f"{what}: dtype {a.dtype} != {b.dtype}"
        assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {a.shape} != {tuple(b.shape)}"
        x, y = to_numpy(a), to_numpy(b)
        if x.dtype.kind in "fc":
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(x, y, err_msg=what)
    else:
        assert not isinstance(a, ndgrad.Tensor), f"{what}: got a Tensor, torch gave {type(b)}"
        if isinstance(b, float):
            assert np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True), f"{what}: {a} != {b}"
        else:
            assert a == b, f"{what}: {a!r} != {b!r}"


def run_both(op, arrays, kwargs, grad=True):
    """Outputs and input gradients of ``op`` in ndgrad and torch for the same inputs."""
    results = []
    for lib in (ndgrad, torch):
        ins = [to_lib(lib, a, grad) for a in arrays]
        out = op.fn(lib, *ins, **kwargs)
        outs = flat_outputs(out)
        grads = None
        diff = [o for o in outs if isinstance(o, lib.Tensor) and o.requires_grad]
        leaves = [t for t in ins if isinstance(t, lib.Tensor) and t.requires_grad]
        if grad and diff and leaves:
            rng = np.random.default_rng(1)
            cots = []
            for o in diff:
                c = rng.standard_normal(tuple(o.shape))
                if o.is_complex():
                    c = c + 1j * rng.standard_normal(tuple(o.shape))
                cots.append(np.asarray(c))
            cot_t = [to_lib(lib, c.astype(to_numpy(o).dtype), False).to(o.dtype)
                     for c, o in zip(cots, diff)]
            grads = lib.autograd.grad(diff, leaves, cot_t, allow_unused=True)
        results.append((out, outs, grads))
    return results


def check_op(op, dtype, rng):
    rtol, atol = _TOL.get(dtype, (0, 0))
    rtol, atol = op.rtol or rtol, op.atol or atol
    for i, (arrays, kwargs) in enumerate(op.samples(rng, dtype)):
        grad = op.grad and dtype in ("float32", "float64", "complex64", "complex128")
        (_, nd_outs, nd_g), (_, th_outs, th_g) = run_both(op, arrays, kwargs, grad)
        shapes = [getattr(a, "shape", a) for a in arrays]
        assert len(nd_outs) == len(th_outs), f"{op.name}: output count"
        for k, (a, b) in enumerate(zip(nd_outs, th_outs)):
            assert_same(a, b, rtol, atol, f"{op.name}[{dtype}] sample {i} {shapes} output {k}")
        if th_g is not None:
            assert nd_g is not None, f"{op.name}: ndgrad recorded no graph"
            for k, (a, b) in enumerate(zip(nd_g, th_g)):
                if b is None:
                    assert a is None or not np.any(to_numpy(a)), f"{op.name}: grad {k}"
                    continue
                assert a is not None, f"{op.name}[{dtype}] sample {i}: grad {k} is None"
                assert_same(a, b, op.grad_rtol or rtol * 10, op.grad_atol or atol * 10,
                            f"{op.name}[{dtype}] sample {i} {shapes} grad {k}")


def gradcheck_op(op, rng):
    """Finite differences in float64 through ndgrad.autograd.gradcheck."""
    for arrays, kwargs in op.samples(rng, "float64"):
        ins = [to_lib(ndgrad, a, True) for a in arrays]
        if not any(isinstance(t, ndgrad.Tensor) and t.requires_grad and t.numel() for t in ins):
            continue

        def f(*xs):
            return op.fn(ndgrad, *xs, **kwargs)

        assert ndgrad.autograd.gradcheck(f, tuple(ins), eps=1e-6, atol=1e-5, rtol=1e-3)
