"""Same as torch.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap,
functional_call, stack_module_state.

Built on the tape-based engine rather than function transforms: ``grad`` differentiates a fresh
copy of its inputs with ``autograd.grad`` (keeping the graph when the inputs themselves require
grad, so transforms nest), ``jvp`` and ``jacfwd`` are computed in reverse mode (``jvp`` by the
double-vjp trick), and ``vmap`` runs ``func`` once per batch element and stacks the results (same
values, no vectorisation)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from ._grad_mode import enable_grad, is_grad_enabled
from ._tensor import Tensor
from .autograd.engine import grad as _autograd_grad
from .autograd.forward_ad import jvp_by_double_vjp

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "stack_module_state", "vjp", "vmap"]


# --- pytrees: tensors inside nested tuples, lists and dicts ---------------------------------------
def _flatten(tree) -> tuple[list, Callable]:
    """The leaves of ``tree`` and a function building the same structure from new leaves."""
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(x) for x in tree]
        kind = type(tree)
        return [v for p in parts for v in p[0]], lambda vs: _rebuild(kind, parts, vs)
    if isinstance(tree, dict):
        keys = list(tree)
        parts = [_flatten(tree[k]) for k in keys]
        return [v for p in parts for v in p[0]], \
            lambda vs: dict(zip(keys, _rebuild(list, parts, vs)))
    return [tree], lambda vs: vs[0]


def _rebuild(kind, parts, values):
    out, i = [], 0
    for leaves, unflatten in parts:
        out.append(unflatten(values[i:i + len(leaves)]))
        i += len(leaves)
    return kind(out) if kind in (tuple, list) else kind(*out)


def _spec(tree, depth: int = 0) -> str:
    """torch's TreeSpec text for the structure of ``tree`` (equal text: same structure)."""
    if isinstance(tree, (tuple, list, dict)):
        kids = [_spec(v, depth + 1) for v in (tree.values() if isinstance(tree, dict) else tree)]
        keys = list(tree) if isinstance(tree, dict) else None
        sep = ",\n" + "  " * (depth + 1)
        return f"TreeSpec({type(tree).__name__}, {keys}, [{sep.join(kids)}])"
    return "*"


def _pprint(tree) -> str:
    """torch's treespec_pprint: the structure written like the tree, leaves as ``*``."""
    if isinstance(tree, tuple):
        return "(" + ", ".join(map(_pprint, tree)) + (",)" if len(tree) == 1 else ")")
    if isinstance(tree, list):
        return "[" + ", ".join(map(_pprint, tree)) + "]"
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k!r}: {_pprint(v)}" for k, v in tree.items()) + "}"
    return "*"


def _argnums(argnums, n: int) -> tuple:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
    return tuple(a % n for a in nums)


class _Levels(threading.local):
    depth = 0  # how many grad/jacrev transforms are running in this thread


_levels = _Levels()


@contextlib.contextmanager
def _transform():
    """Run a transform's function one level deeper; say whether an outer transform is active,
    in which case the results keep their graph so the outer one can differentiate them."""
    _levels.depth += 1
    try:
        yield _levels.depth > 1
    finally:
        _levels.depth -= 1


def _track(t, nested: bool):
    """A new tensor to differentiate with respect to; inside another transform it stays linked
    to the outer graph. Plain autograd history outside any transform is cut, as torch does."""
    if not isinstance(t, Tensor):
        raise RuntimeError(f"Expected a Tensor among the differentiated inputs, got {type(t)}")
    return t.view_as(t) if nested and t.requires_grad else t.detach().requires_grad_()


def _detach_tree(tree):
    flat, unflatten = _flatten(tree)
    return unflatten([t.detach() if isinstance(t, Tensor) else t for t in flat])


def _vjp_rows(outputs: list, inputs: list, create: bool) -> list:
    """rows[o][i]: the Jacobian of flat output o w.r.t. flat input i, one backward per element."""
    from ._ops.movement import stack

    rows = []
    for out in outputs:
        n = out.numel()
        per_input: list = [[] for _ in inputs]
        for j in range(n):
            onehot = out.new_zeros(n)
            onehot[j] = 1
            gs = _autograd_grad(out, inputs, onehot.view(out.shape), retain_graph=True,
                                create_graph=create, allow_unused=True)
            for k, (g, x) in enumerate(zip(gs, inputs)):
                per_input[k].append(x.new_zeros(x.shape) if g is None else g)
        rows.append([stack(r).view(out.shape + x.shape) if r else
                     x.new_zeros(out.shape + x.shape) for r, x in zip(per_input, inputs)])
    return rows


def grad_and_value(func: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """Same as torch.func.grad_and_value."""

    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        args = list(args)
        with enable_grad(), _transform() as nested:
            leaves, unflattens = [], []
            for a in nums:
                flat, unflatten = _flatten(args[a])
                tracked = [_track(t, nested) for t in flat]
                args[a] = unflatten(tracked)
                leaves += tracked
                unflattens.append((len(tracked), unflatten))
            out = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be "
                                       "a tuple: (output, aux) if has_aux is True")
                out, aux = out
            if not isinstance(out, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {out.dim()} dims. Maybe you "
                                   "wanted to use the vjp or jacrev APIs instead?")
            gs = _autograd_grad(out, leaves, create_graph=nested, allow_unused=True) \
                if out.requires_grad else (None,) * len(leaves)
        gs = [x.new_zeros(x.shape) if g is None else g for g, x in zip(gs, leaves)]
        grads, i = [], 0
        for n, unflatten in unflattens:
            grads.append(unflatten(gs[i:i + n]))
            i += n
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        if not nested:
            out, aux = out.detach(), _detach_tree(aux)
        return (g, (out, aux)) if has_aux else (g, out)

    return wrapper


def grad(func: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """Same as torch.func.grad: the gradient of a scalar-valued ``func`` w.r.t. ``argnums``."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def jacrev(func: Callable, argnums=0, *, has_aux: bool = False, chunk_size=None) -> Callable:
    """Same as torch.func.jacrev: the Jacobian as a pytree shaped like the output, each leaf a
    pytree shaped like the differentiated inputs."""

    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        args = list(args)
        with enable_grad(), _transform() as nested:
            leaves, structure = [], []
            for a in nums:
                flat, unflatten = _flatten(args[a])
                tracked = [_track(t, nested) for t in flat]
                args[a] = unflatten(tracked)
                structure.append((len(tracked), unflatten))
                leaves += tracked
            out = func(*args, **kwargs)
            aux = None
            if has_aux:
                out, aux = out
            flat_out, unflatten_out = _flatten(out)
            for o in flat_out:
                if not isinstance(o, Tensor):
                    raise RuntimeError(f"jacrev(f): Expected f to return Tensors, got {type(o)}")
            rows = _vjp_rows(flat_out, leaves, nested)
        per_output = []
        for row in rows:
            parts, i = [], 0
            for n, unflatten in structure:
                parts.append(unflatten(row[i:i + n]))
                i += n
            per_output.append(parts[0] if isinstance(argnums, int) else tuple(parts))
        jac = unflatten_out(per_output)
        if not nested:
            aux = _detach_tree(aux)
        return (jac, aux) if has_aux else jac

    return wrapper


def _outputs_only_tensors(flat: list, api: str) -> None:
    if (len(flat) == 1 and flat[0] is None) or not flat:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got "
                           f"output = {flat})")
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")


def _split_aux(out, has_aux: bool, api: str):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if "
                           "has_aux is True")
    return out


def vjp(func: Callable, *primals, has_aux: bool = False):
    """Same as torch.func.vjp: ``(func(*primals), vjp_fn[, aux])``; ``vjp_fn(cotangents)`` gives
    the gradients shaped like ``primals`` and may be called again."""
    flat_in, unflatten_in = _flatten(primals)
    for p in flat_in:
        if not isinstance(p, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(p)}")
    with enable_grad(), _transform() as nested:
        tracked = [_track(p, True) for p in flat_in]  # linked: plain autograd sees through vjp
        out, aux = _split_aux(func(*unflatten_in(tracked)), has_aux, "vjp(f, *primals)")
        flat_out, unflatten_out = _flatten(out)
        _outputs_only_tensors(flat_out, "vjp(f, *primals)")
        for o in flat_out:
            if not (o.is_floating_point() or o.is_complex()):
                raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or "
                                   f"complex Tensors, got Tensor with dtype {o.dtype}")
    linked = nested or any(p.requires_grad for p in flat_in)
    spec = _spec(out)

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        flat_cot = _flatten(cotangents)[0]
        if _spec(cotangents) != spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree "
                               "structure of outputs to the function. cotangents: "
                               f"{_pprint(cotangents)}, primal output: {_pprint(out)}")
        if create_graph is None:
            create_graph = is_grad_enabled()
        create = create_graph and (linked or any(isinstance(c, Tensor) and c.requires_grad
                                                 for c in flat_cot))
        pairs = [(o, c) for o, c in zip(flat_out, flat_cot) if o.requires_grad]
        gs: tuple = (None,) * len(tracked)
        if pairs:
            with enable_grad():
                gs = _autograd_grad([o for o, _ in pairs], tracked, [c for _, c in pairs],
                                    retain_graph=retain_graph, create_graph=create,
                                    allow_unused=True)
        return unflatten_in([t.new_zeros(t.shape) if g is None else g if create else g.detach()
                             for g, t in zip(gs, tracked)])

    results = out if linked else _detach_tree(out)
    if not nested:
        aux = _detach_tree(aux)
    return (results, vjp_fn, aux) if has_aux else (results, vjp_fn)


def jvp(func: Callable, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """Same as torch.func.jvp: ``(func(*primals), J·tangents[, aux])``, by the double-vjp trick
    (see autograd.forward_ad)."""
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to "
                           "call f(*primals).")
    flat_in, unflatten_in = _flatten(primals)
    flat_tan = _flatten(tangents)[0]
    if _spec(primals) != _spec(tangents):
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, tangents "
                           f"also must be. Got primals with structure {_spec(primals)} and "
                           f"tangents with structure {_spec(tangents)}")
    for name, flat in (("primals", flat_in), ("tangents", flat_tan)):
        if not flat:
            raise RuntimeError(f"{api}: Expected {name} to contain at least one Tensor.")
        for t in flat:
            if not isinstance(t, Tensor):
                raise RuntimeError(f"{api}: Expected {name} to only contain Tensors, got "
                                   f"{type(t)}")
    for p, t in zip(flat_in, flat_tan):
        if t.shape != p.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size than "
                               "that of the original Tensor, this is not supported. Tensor is of "
                               f"size {list(p.shape)} while the given forward gradient is of "
                               f"size {list(t.shape)}.")
    with enable_grad(), _transform() as nested:
        tracked = [_track(p, True) for p in flat_in]
        out, aux = _split_aux(func(*unflatten_in(tracked)), has_aux, api)
        flat_out, unflatten_out = _flatten(out)
        _outputs_only_tensors(flat_out, api)
        linked = nested or any(p.requires_grad for p in flat_in)
        create = linked or any(t.requires_grad for t in flat_tan)
        tans = jvp_by_double_vjp(flat_out, tracked, flat_tan, create)
    if strict and any(t is None for t in tans):
        raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is "
                           "independent of the inputs. This is not allowed with strict=True.")
    tans = [o.new_zeros(o.shape) if t is None else t for o, t in zip(flat_out, tans)]
    if not linked:
        flat_out = [o.detach() for o in flat_out]
    if not nested:
        aux = _detach_tree(aux)
    res = (unflatten_out(flat_out), unflatten_out(tans))
    return (*res, aux) if has_aux else res


def jacfwd(func: Callable, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """Same as torch.func.jacfwd (the same Jacobian, computed in reverse mode)."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func: Callable, argnums=0) -> Callable:
    """Same as torch.func.hessian: the Jacobian of the Jacobian."""
    return jacrev(jacrev(func, argnums), argnums)


# --- vmap -----------------------------------------------------------------------------------------
def vmap(func: Callable, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """Same as torch.func.vmap, by a loop: ``func`` runs on each batch element and the results
    are stacked along ``out_dims``."""

    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                             f"compatible with the structure of `inputs`. in_dims has structure "
                             f"of length {len(dims)} but inputs has {len(args)} elements.")
        mapped = []  # (flat tensors, their dims, unflatten) per argument
        sizes = set()
        for a, d in zip(args, dims):
            flat, unflatten = _flatten(a)
            fdims = _flatten(d)[0] if isinstance(d, (tuple, list, dict)) else [d] * len(flat)
            for t, fd in zip(flat, fdims):
                if fd is not None:
                    if not isinstance(t, Tensor):
                        raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim="
                                         f"{fd} for an input but the input is of type {type(t)}. "
                                         "We cannot vmap over non-Tensor arguments")
                    sizes.add(t.shape[fd])
            mapped.append((flat, fdims, unflatten))
        if len(sizes) != 1:
            raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sorted(sizes)} for the mapped dimension"
                             if sizes else "vmap(f)(<inputs>): at least one input must be mapped")
        results = []
        for b in range(sizes.pop()):
            call_args = [unflatten([t if fd is None else t.select(fd, b)
                                    for t, fd in zip(flat, fdims)])
                         for flat, fdims, unflatten in mapped]
            results.append(func(*call_args, **kwargs))
        return _stack_outputs(results, out_dims)

    return wrapper


def _stack_outputs(results: list, out_dims):
    from ._ops.movement import stack

    flat0, unflatten = _flatten(results[0])
    flats = [_flatten(r)[0] for r in results]
    odims = _flatten(out_dims)[0] if isinstance(out_dims, (tuple, list)) else \
        [out_dims] * len(flat0)
    out = []
    for k, od in enumerate(odims):
        column = [f[k] for f in flats]
        if not isinstance(column[0], Tensor):
            raise ValueError(f"vmap: `func` must only return Tensors, got type {type(column[0])}")
        out.append(column[0] if od is None else stack(column, od))
    return unflatten(out)


# --- functional_call ------------------------------------------------------------------------------
def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Same as torch.func.functional_call: call ``module`` with some parameters and buffers
    replaced by the given tensors, restoring the originals afterwards."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    values: dict = {}
    for d in dicts:
        for k, v in d.items():
            if k in values:
                raise ValueError(f"{k} appeared in multiple dictionaries; behavior of "
                                 "functional call is ambiguous")
            values[k] = v
    if tie_weights:  # a tensor registered under several names is replaced under all of them
        aliases: dict = {}
        for n, t in [*module.named_parameters(remove_duplicate=False),
                     *module.named_buffers(remove_duplicate=False)]:
            aliases.setdefault(id(t), []).append(n)
        for names in aliases.values():
            given = [n for n in names if n in values]
            for n in names if given else ():
                values.setdefault(n, values[given[0]])
    if strict:
        names = {n for n, _ in module.named_parameters()} | {n for n, _ in module.named_buffers()}
        missing, unexpected = sorted(names - set(values)), sorted(set(values) - names)
        errors = ([f"Unexpected key(s): {', '.join(map(repr, unexpected))}."] if unexpected
                  else []) + ([f"Missing key(s): {', '.join(map(repr, missing))}."] if missing
                              else [])
        if errors:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(errors))
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    saved = [_swap(module, name, v) for name, v in values.items()]
    try:
        return module(*args, **(kwargs or {}))
    finally:
        for owner, store, name, old in reversed(saved):
            if store is None:
                delattr(owner, name) if old is _MISSING else object.__setattr__(owner, name, old)
            else:
                store[name] = old


_MISSING = object()


def _swap(module, name: str, value):
    """Put ``value`` where ``module``'s dotted ``name`` lives; return how to put it back."""
    *path, leaf = name.split(".")
    owner = module
    for p in path:
        owner = getattr(owner, p)
    for store_name in ("_parameters", "_buffers"):
        store = owner.__dict__.get(store_name)
        if store is not None and leaf in store:
            old = store[leaf]
            store[leaf] = value
            return owner, store, leaf, old
    old = owner.__dict__.get(leaf, _MISSING)
    object.__setattr__(owner, leaf, value)
    return owner, None, leaf, old


# --- stack_module_state ---------------------------------------------------------------------------
def stack_module_state(models) -> tuple[dict, dict]:
    """Same as torch.func.stack_module_state: each parameter and buffer stacked over ``models``
    (parameters as new leaves that require grad)."""
    from ._ops.movement import stack

    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(tensors: list, name: str) -> Tensor:
        flags = {t.requires_grad for t in tensors}
        if len(flags) > 1:
            raise RuntimeError(f"Expected {name} from each model to have the same "
                               ".requires_grad")
        out = stack(tensors)
        return out.detach().requires_grad_() if True in flags else out

    result = []
    for named in ("named_parameters", "named_buffers"):
        per_model = [dict(getattr(m, named)()) for m in models]
        result.append({k: stacked([d[k] for d in per_model], k) for k in per_model[0]})
    return result[0], result[1]
