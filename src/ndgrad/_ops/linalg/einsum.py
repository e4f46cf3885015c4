"""einsum: one node over xp.einsum with NumPy's optimised contraction path (cached per equation
and shapes). Its backward is einsum again, so higher derivatives come for free."""

from __future__ import annotations

import functools
import string

from ..._errors import dtype_mismatch
from ..._tensor import Tensor
from ...autograd.op import Op
from ._common import HALF

__all__ = ["einsum"]

# torch's sublist labels: 0-25 are 'A'-'Z', 26-51 'a'-'z' (also the implicit output's order)
_LABELS = string.ascii_uppercase + string.ascii_lowercase


@functools.lru_cache(maxsize=512)
def _contraction_path(eq: str, shapes: tuple) -> list:
    """NumPy's optimised pairwise order; it depends only on shapes, so NumPy plans for any xp."""
    import numpy as np

    dummies = [np.broadcast_to(np.zeros((), np.float32), s) for s in shapes]
    return np.einsum_path(eq, *dummies, optimize="optimal" if len(shapes) <= 4 else "greedy")[0]


class Einsum(Op):
    """``eq`` has explicit output and no ellipsis; operands already share every label's size."""

    __slots__ = ()

    def forward(ctx, *arrays, eq):
        ctx.eq = eq
        ctx.save(*arrays)
        xp = ctx.xp
        half = arrays[0].dtype if arrays[0].dtype in HALF else None
        if half is not None:
            arrays = [a.astype(xp.float32) for a in arrays]
        opt = False
        if len(arrays) > 1:
            path = _contraction_path(eq, tuple(a.shape for a in arrays))
            opt = path if xp.__name__ == "numpy" else True
        out = xp.einsum(eq, *arrays, optimize=opt)
        return out.astype(half) if half is not None else out

    def backward(ctx, g):
        lhs, out = ctx.eq.split("->")
        terms = lhs.split(",")
        ops = ctx.saved_tensors
        return tuple(_operand_grad(g, out, terms, ops, i) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


def _operand_grad(g, out, terms, ops, i):
    """d/d(operand i): contract g with the other operands (conjugated) onto operand i's labels.
    A label only operand i has is restored with a ones vector; a repeated label (a diagonal)
    gets a fresh label tied to the first by an identity matrix."""
    own = terms[i]
    others = [j for j in range(len(terms)) if j != i]
    shared = set(out).union(*(terms[j] for j in others))
    fresh = iter(sorted(set(_LABELS) - set(out).union(*terms)))
    subs, operands, target, seen = [out], [g], [], set()
    for j in others:
        subs.append(terms[j])
        operands.append(ops[j].conj())
    xp, dev, dt = g._device.xp, g._device, g._data.dtype
    for c, n in zip(own, ops[i].shape):
        if c in seen:
            f = next(fresh)
            subs.append(c + f)
            operands.append(Tensor._make(xp.eye(n, dtype=dt), dev))
            target.append(f)
            continue
        seen.add(c)
        target.append(c)
        if c not in shared:
            subs.append(c)
            operands.append(Tensor._make(xp.ones(n, dtype=dt), dev))
    return einsum(",".join(subs) + "->" + "".join(target), *operands)


def _sublist_equation(args):
    """einsum(op0, sub0, op1, sub1, ..., [out]) -> (equation, operands)."""
    def term(sub):
        parts = []
        for s in sub:
            if s is Ellipsis:
                parts.append("...")
            elif not 0 <= s < 52:
                raise ValueError("einsum(): subscript in subscript list is not within the valid "
                                 "range [0, 52)")
            else:
                parts.append(_LABELS[s])
        return "".join(parts)

    pairs = args[:len(args) - len(args) % 2]
    eq = ",".join(term(s) for s in pairs[1::2])
    if len(args) % 2:
        eq += "->" + term(args[-1])
    return eq, list(pairs[0::2])


def _parse_term(t, k, base, ndim):
    """Labels of one operand's term; ``None`` marks where its ellipsis goes."""
    labels, i = [], 0
    while i < len(t):
        c = t[i]
        if c == ".":
            if None in labels:
                raise RuntimeError(f"einsum(): found '.' for operand {k} for which an ellipsis "
                                   "was already found")
            if t[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand {k} that is not part of any "
                                   "ellipsis")
            labels.append(None)
            i += 3
            continue
        if c not in _LABELS:
            raise RuntimeError(f"einsum(): invalid subscript given at index {base + i} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
        labels.append(c)
        i += 1
    if ndim is not None:
        named = len(labels) - (None in labels)
        if None not in labels and named != ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does "
                               f"not match the number of dimensions ({ndim}) for operand {k} and "
                               "no ellipsis was given")
        if named > ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is "
                               f"more than the number of dimensions ({ndim}) for operand {k}")
    return labels


@functools.lru_cache(maxsize=512)
def _plan(eq: str, shapes: tuple) -> tuple:
    """Everything einsum derives from the equation and the shapes, computed once: the explicit
    equation and, per operand, the shape to broadcast it to (None when it already has it)."""
    labels, out = _explicit(eq, shapes)
    sizes = _sizes(labels, shapes)
    targets = tuple(tuple(sizes[c] for c in t) if any(n != sizes[c] for c, n in zip(t, s))
                    else None for t, s in zip(labels, shapes))
    return ",".join(labels) + "->" + out, targets, len(set(labels[0])) > len(out)


def _explicit(eq, shapes):
    """Resolve ellipses into spare labels: (per-operand labels, output labels)."""
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    parsed, base = [], 0
    for k, (t, s) in enumerate(zip(terms, shapes)):
        parsed.append(_parse_term(t, k, base, len(s)))
        base += len(t) + 1
    out = _parse_term(rhs, -1, len(lhs) + 2, None) if arrow else None
    used = {c for p in parsed for c in p if c}
    spare = [c for c in _LABELS if c not in used and (out is None or c not in out)]
    n_ell = max(len(s) - (len(p) - 1) for p, s in zip(parsed, shapes) if None in p) \
        if any(None in p for p in parsed) else 0
    ell = spare[:n_ell]
    labels = []
    for p, s in zip(parsed, shapes):
        if None in p:
            k = p.index(None)
            n = len(s) - (len(p) - 1)
            p = p[:k] + ell[n_ell - n:] + p[k + 1:]
        labels.append("".join(p))
    if out is None:
        counts = {c: sum(t.count(c) for t in labels) for c in used}
        out_s = "".join(ell) + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        out_s = "".join("".join(ell) if c is None else c for c in out)
        for c in out_s:
            if c not in used and c not in ell:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
            if out_s.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the "
                                   "output")
    return labels, out_s


def _sizes(labels, shapes):
    sizes = {}
    for k, (t, shape) in enumerate(zip(labels, shapes)):
        mine = {}
        for c, n in zip(t, shape):
            if c in mine and mine[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the "
                                   f"sizes don't match, {n} != {mine[c]}")
            mine[c] = n
            seen = sizes.get(c, 1)
            if n != seen and 1 not in (n, seen):
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {seen}")
            sizes[c] = n if seen == 1 else seen
    return sizes


def _mixed_dtype(eq, shapes, dtypes):
    """The dtype of torch's result for two operands of two dtypes, or torch's error: it multiplies
    (promoting) unless a label summed away has a size other than 1 in both, which takes bmm (one
    dtype only). Three or more operands: torch's pairwise order is its own, so ndgrad refuses."""
    from ..._dtype import promote_types

    dt = promote_types(*dtypes[:2]) if len(dtypes) == 2 else dtypes[0]
    other = next(d for d in dtypes if d is not dt)
    if len(dtypes) > 2:
        raise dtype_mismatch(dt, other)
    terms, out = eq.split("->")
    a, b = (dict(zip(t, s)) for t, s in zip(terms.split(","), shapes))
    if any(c not in out and a[c] != 1 and b[c] != 1 for c in a if c in b):
        # labels of one operand alone are summed first; an empty bmm is not checked (b's dtype)
        if any(x[c] == 0 for x, y in ((a, b), (b, a)) for c in x if c in out or c in y):
            return dtypes[1]
        # bmm's message: where both keep labels of their own (not of size 1), the one holding
        # the first such label of the output goes first
        mine = [[c for c in out if x.get(c, 1) != 1 and y.get(c, 1) == 1] for x, y in
                ((a, b), (b, a))]
        swap = all(mine) and out.index(mine[1][0]) < out.index(mine[0][0])
        raise dtype_mismatch(*(dtypes[::-1] if swap else dtypes))
    return dt


def einsum(*args) -> Tensor:
    """Same as torch.einsum (equation or sublist form)."""
    if not args or (isinstance(args[0], str) and len(args) == 1):
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        eq, ops = args[0], args[1:]
        if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
            ops = tuple(ops[0])
    else:
        eq, ops = _sublist_equation(args)
    shapes = tuple(op._data.shape for op in ops)
    explicit, targets, summed = _plan(eq, shapes)
    if any(op.dtype is not ops[0].dtype for op in ops[1:]):
        dt = _mixed_dtype(explicit, shapes, [op.dtype for op in ops])
        ops = [op.to(dt) for op in ops]
    ops = [op if t is None else op.expand(*t) for op, t in zip(ops, targets)]
    res = Einsum.apply(*ops, eq=explicit)
    if res._grad_fn is not None:
        res._grad_fn._name = ("ViewBackward0" if len(ops) > 1 else
                              "SumBackward1" if summed else "PermuteBackward0")
    return res
