"""Finite-difference checks of gradients, as torch.autograd.gradcheck/gradgradcheck.

Differences from torch: the outputs are checked through one random projection (vᵀJ, like torch's
fast mode on the output side) while every input element is perturbed (like its slow mode), and
forward-mode options are accepted and ignored."""

from __future__ import annotations

import warnings

import numpy as np

from .._backend import to_numpy
from .._tensor import Tensor
from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Same as torch.autograd.gradcheck.GradcheckError."""


def _float_outputs(fn, inputs) -> list:
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and (o.is_floating_point() or o.is_complex())]


def _project(projections, outs) -> float:
    """<v, f(x)> over the differentiable outputs (``projections`` maps an output's index to v)."""
    return sum(float(np.real(np.vdot(p, to_numpy(outs[k]._data))))
               for k, p in projections.items())


def _numerical(fn, inputs, x: Tensor, eps: float, projections) -> np.ndarray:
    """d Re<v, f(x)>/dx by central differences, one element of ``x`` at a time; for a complex
    ``x``, d/d(re) + 1j d/d(im) (torch's convention for the gradient of a real function)."""
    original = x._data
    flat = x._device.xp.array(original, copy=True).reshape(-1)  # contiguous, perturbed in place
    x._data = flat.reshape(original.shape)
    steps = (1, 1j) if flat.dtype.kind == "c" else (1,)
    out = np.zeros(flat.size, dtype=np.float64 if flat.dtype.kind != "c" else flat.dtype)
    try:
        for k in range(flat.size):
            orig = flat[k].copy()
            for unit in steps:
                vals = []
                for delta in (eps * unit, -eps * unit):
                    flat[k] = orig + delta
                    with no_grad():
                        vals.append(_project(projections, _float_outputs(fn, inputs)))
                flat[k] = orig
                out[k] += unit * (vals[0] - vals[1]) / (2 * eps)
    finally:
        x._data = original
    return out.reshape(original.shape)


def _projection(rng, o: Tensor) -> np.ndarray:
    """A random direction in the output's space (complex outputs get an imaginary part too)."""
    p = rng.standard_normal(o._data.shape)
    if o._data.dtype.kind == "c":
        p = p + 1j * rng.standard_normal(o._data.shape)
    return p.astype(o._data.dtype)


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked=None) -> bool:
    """Same as torch.autograd.gradcheck (see the module docstring)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    for i, t in diff:
        if t._data.dtype.name not in ("float64", "complex128"):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are not "
                          "of double precision floating point or complex. ", stacklevel=2)
    outs = _float_outputs(func, inputs)
    rng = np.random.default_rng(0)
    # as torch, only the outputs that require grad are checked (a detached one has a Jacobian
    # the finite differences see but the gradient cannot)
    projections = {k: _projection(rng, o) for k, o in enumerate(outs) if o.requires_grad}
    if not projections:  # then every output's numerical gradient must be zero
        projections = {k: _projection(rng, o) for k, o in enumerate(outs)}
        for _, x in diff:
            if np.any(_numerical(func, inputs, x, eps, projections) != 0):
                if not raise_exception:
                    return False
                raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    wired = [(outs[k], Tensor._make(outs[k]._device.xp.asarray(p), outs[k]._device))
             for k, p in projections.items()]
    analytical = _grad([o for o, _ in wired], [t for _, t in diff], [p for _, p in wired],
                       allow_unused=True)
    for (i, x), a in zip(diff, analytical):
        num = _numerical(func, inputs, x, eps, projections)
        ana = np.zeros_like(num) if a is None else to_numpy(a.detach()._data)
        if not np.allclose(ana, num, rtol=rtol, atol=atol):
            if not raise_exception:
                return False
            raise GradcheckError(f"Jacobian mismatch for output 0 with respect to input {i},\n"
                                 f"numerical:{num}\nanalytical:{ana}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, **kwargs) -> bool:
    """Same as torch.autograd.gradgradcheck: gradcheck of the first derivative (built with
    create_graph=True) with respect to the inputs and the output gradients."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    outs = [o for o in _float_outputs(func, inputs) if o.requires_grad]
    rng = np.random.default_rng(1)
    if grad_outputs is None:
        grad_outputs = [Tensor._make(o._device.xp.asarray(_projection(rng, o)), o._device)
                        .requires_grad_() for o in outs]
    n = len(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def first_derivative(*args):
        xs, gos = args[:n], args[n:]
        with enable_grad():  # also while gradcheck perturbs the inputs under no_grad
            outs = [o for o in _float_outputs(func, xs) if o.requires_grad]
            grads = _grad(outs, [xs[i] for i in diff_idx], list(gos), create_graph=True,
                          allow_unused=True)
            return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
