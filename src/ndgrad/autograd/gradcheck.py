"""Finite-difference checks of gradients (float64), as torch.autograd.gradcheck/gradgradcheck."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients differ."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o.requires_grad]


def _numerical(fn, inputs, i, eps, projections):
    """d<proj, f(x)>/dx_i by central differences, one element at a time."""
    x = inputs[i]
    flat = x._data.reshape(-1)
    out = np.zeros(x._data.shape, dtype=x._data.dtype).reshape(-1)
    for k in range(flat.size):
        orig = flat[k].copy()
        vals = []
        for delta in (eps, -eps):
            flat[k] = orig + delta
            with no_grad():
                outs = _outputs_nograd(fn, inputs)
            vals.append(sum(float(np.real(np.vdot(p, o._data)).sum()) if o._data.dtype.kind == "c"
                            else float((p * o._data).sum()) for p, o in zip(projections, outs)))
        flat[k] = orig
        out[k] = (vals[0] - vals[1]) / (2 * eps)
    return out.reshape(x._data.shape)


def _outputs_nograd(fn, inputs):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and (o.is_floating_point() or o.is_complex())]


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad=True,
              check_grad_dtypes=False, check_batched_grad=False, fast_mode=False,
              masked=None) -> bool:
    """Compare autograd's gradients of ``func`` with central finite differences."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outs = _outputs(func, inputs)
    if not outs:
        raise ValueError("gradcheck expects at least one output that requires grad")
    rng = np.random.default_rng(0)
    projections = [rng.standard_normal(o._data.shape).astype(o._data.dtype) for o in outs]
    cot = [Tensor._make(p.copy()) for p in projections]
    analytical = _grad(outs, [inputs[i] for i in diff_idx], cot, allow_unused=True)
    for i, a in zip(diff_idx, analytical):
        num = _numerical(func, inputs, i, eps, projections)
        ana = np.zeros_like(num) if a is None else np.asarray(a.detach()._data)
        if not np.allclose(ana, num, rtol=rtol, atol=atol):
            if not raise_exception:
                return False
            raise GradcheckError(f"Jacobian mismatch for output 0 with respect to input {i},\n"
                                 f"numerical:{num}\nanalytical:{ana}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception: bool = True, **kwargs) -> bool:
    """gradcheck of the first derivative (built with create_graph=True)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    outs = _outputs(func, inputs)
    rng = np.random.default_rng(1)
    if grad_outputs is None:
        grad_outputs = [Tensor._make(rng.standard_normal(o._data.shape).astype(o._data.dtype),
                                     o.device).requires_grad_() for o in outs]
    n = len(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def first_derivative(*args):
        xs, gos = args[:n], args[n:]
        with enable_grad():  # also while gradcheck perturbs the inputs under no_grad
            outs = _outputs(func, xs)
            return _grad(outs, [xs[i] for i in diff_idx], list(gos), create_graph=True,
                         allow_unused=True)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
