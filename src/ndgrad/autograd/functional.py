"""Same as torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp, all by reverse mode.

jvp uses the double-backward trick, as torch does. ``vectorize=True`` is accepted and computes the
same row-by-row loop; ``strategy="forward-mode"`` gives the same Jacobian. ``hvp`` returns vᵀH,
which is Hv for the symmetric Hessian of a twice-differentiable function."""

from __future__ import annotations

from .._grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .._tensor import Tensor
from .engine import grad as _autograd_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(x, what: str, fn: str) -> tuple[bool, tuple]:
    is_tuple = isinstance(x, tuple)
    xs = x if is_tuple else (x,)
    for i, el in enumerate(xs):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {what}"
            raise TypeError(f"The {what} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but the {where} has type {type(el)}.")
    return is_tuple, xs


def _unpack(res, is_tuple):
    """Undo _as_tuple (``is_tuple`` may be a pair for a nested (outputs, inputs) result)."""
    if isinstance(is_tuple, tuple):
        if not is_tuple[1]:
            res = tuple(r[0] for r in res)
        is_tuple = is_tuple[0]
    return res if is_tuple else res[0]


def _prepare(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    # Always new tensor objects, so the function's own captures of the inputs are told apart.
    return tuple(t.view_as(t) if create_graph and t.requires_grad else
                 t.detach().requires_grad_(need_graph) for t in inputs)


def _finish(xs, create_graph: bool):
    if isinstance(xs[0], tuple):
        return tuple(_finish(x, create_graph) for x in xs)
    return xs if create_graph else tuple(x.detach() for x in xs)


def _validate_v(v: tuple, other: tuple, other_is_tuple: bool) -> None:
    if len(v) != len(other):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                           f"{len(v)}." if other_is_tuple else
                           "The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.shape != b.shape:
            prefix = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.size()} but got "
                               f"{a.size()}.")


def _check_requires_grad(xs: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, x in enumerate(xs):
        if x is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not x.requires_grad:
            raise RuntimeError({
                "hessian": f"The hessian of the user-provided function with respect to input {i} "
                           "is independent of the input. This is not allowed in strict mode. You "
                           "should ensure that your function is thrice differentiable and that "
                           "the hessian depends on the inputs.",
                "jacobian": "While computing the hessian, found that the jacobian of the "
                            f"user-provided function with respect to input {i} is independent of "
                            "the input. This is not allowed in strict mode. You should ensure "
                            "that your function is twice differentiable and that the jacobian "
                            "depends on the inputs (this would be violated by a linear function "
                            "for example).",
                "grad_inputs": f"The gradient with respect to input {i} is independent of the "
                               "inputs of the user-provided function. This is not allowed in "
                               "strict mode.",
                "outputs": f"Output {i} of the user-provided function does not require "
                           "gradients. The outputs must be computed in a differentiable manner "
                           "from the input when running in strict mode."}[kind])


def _grad(outputs: tuple, inputs: tuple, grad_outputs=None, create_graph: bool = False,
          retain_graph=None) -> tuple:
    """autograd.grad over the outputs that require grad; None for inputs they do not reach."""
    grad_outputs = grad_outputs or (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _autograd_grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                          create_graph=create_graph, retain_graph=retain_graph, allow_unused=True)


_ZERO_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
                   "is not allowed in strict mode."}


def _fill_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_MSG[stage].format(i=i))
            g = ref.new_zeros(ref.shape)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        out.append(g)
    return tuple(out)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Same as torch.autograd.functional.vjp: (func(inputs), vᵀJ)."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", "vjp")[1], create_graph, False)
            _validate_v(v, outputs, outputs_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _fill_zeros(_grad(outputs, inputs, v, create_graph), inputs, strict, create_graph,
                          "back")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(res, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Same as torch.autograd.functional.jvp: (func(inputs), Jv), by the double-backward trick:
    u ↦ uᵀJ is linear in u, so differentiating it w.r.t. u in direction v gives Jv."""
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, True)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", "jvp")[1], create_graph, False)
            _validate_v(v, inputs, inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        us = tuple(o.new_zeros(o.shape).requires_grad_() for o in outputs)
        u_j = _grad(outputs, inputs, us, create_graph=True)
        _check_requires_grad(u_j, "grad_inputs", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _fill_zeros(_grad(u_j, us, v, create_graph), outputs, strict, create_graph,
                          "back_trick")
    return (_unpack(_finish(outputs, create_graph), outputs_tuple),
            _unpack(_finish(res, create_graph), outputs_tuple))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """Same as torch.autograd.functional.jacobian (reverse mode, one backward per output
    element; ``vectorize`` is accepted and ignored; ``strategy="forward-mode"`` gives the same
    Jacobian, in the output's dtype as torch's)."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, "forward-mode" '
                             'tends to be more performant. Otherwise, prefer to use '
                             '"reverse-mode".')
    forward = strategy == "forward-mode"
    if forward:
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` '
                                      'and `strategy="forward-mode"` are not supported together '
                                      '(yet). Please either set `create_graph=False` or '
                                      '`strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and '
                               '`strategy="forward-mode"` are not supported together (yet). '
                               'Please either set `strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                      "Hessian isonly implemented for `vectorize=True`.")
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        jac = tuple(_jacobian_of(i, out, inputs, create_graph, strict)
                    for i, out in enumerate(outputs))
    if forward:
        jac = tuple(tuple(j.to(out.dtype) for j in row) for row, out in zip(jac, outputs))
    return _unpack(_finish(jac, create_graph), (outputs_tuple, inputs_tuple))


def _jacobian_of(i: int, out: Tensor, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """d out / d inputs: rows from one backward per element of ``out`` (a one-hot cotangent)."""
    from .._ops.movement import stack

    rows: list = [[] for _ in inputs]
    n = out.numel()
    for j in range(n):
        onehot = out.new_zeros(n)
        onehot[j] = 1
        grads = _grad((out,), inputs, (onehot.view(out.shape),), create_graph, retain_graph=True)
        for k, (g, x) in enumerate(zip(grads, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent "
                                       f"of input {k}. This is not allowed in strict mode.")
                g = x.new_zeros(x.shape)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            rows[k].append(g)
    return tuple(stack(r).view(out.shape + x.shape) if r else
                 x.new_zeros(out.shape + x.shape) for r, x in zip(rows, inputs))


def _single_output(func, fn_name: str, strict: bool):
    def checked(*inputs):
        out = func(*inputs)
        _check_requires_grad(_as_tuple(out, "outputs of the user-provided function", fn_name)[1],
                             "outputs", strict)
        if not isinstance(out, Tensor):
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                               "contain a single element")
        return out

    return checked


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """Same as torch.autograd.functional.hessian: the Jacobian of the gradient."""
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    scalar = _single_output(func, "hessian", strict)

    def gradient(*xs):
        g = jacobian(lambda *a: scalar(*a).squeeze(), xs, create_graph=True)
        _check_requires_grad(g, "jacobian", strict)
        return g

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (inputs_tuple, inputs_tuple))


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Same as torch.autograd.functional.vhp: (func(inputs), vᵀH)."""
    return _second_order(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """Same as torch.autograd.functional.hvp: (func(inputs), Hv), computed as vᵀH."""
    return _second_order(func, inputs, v, create_graph, strict, "hvp")


def _second_order(func, inputs, v, create_graph: bool, strict: bool, name: str):
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
        inputs = _prepare(inputs, create_graph, True)
        if v is not None:
            v = _prepare(_as_tuple(v, "v", name)[1], create_graph, False)
            _validate_v(v, inputs, inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        out = _single_output(func, name, strict)(*inputs)
        jac = _grad((out,), inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _fill_zeros(_grad(jac, inputs, v, create_graph), inputs, strict, create_graph,
                          "double_back")
    return (_finish((out,), create_graph)[0], _unpack(_finish(res, create_graph), inputs_tuple))
