"""Matrix products: matmul and its named forms, the fused add-products, dot/vdot/outer."""

from __future__ import annotations

import functools
import math
import operator

import numpy as np

from ..._errors import dtype_mismatch, not_implemented, not_tensor, size_mismatch
from ... import _dtype as D
from ..._tensor import Tensor, wrap_dim
from ..._threads import split_matmul
from ...amp._state import lower as _autocast
from ...amp._state import state as _autocast_state
from ...autograd.op import Op
from ..._dtype import meta_name, torch_type_name
from .._out import CAST as _CAST
from .._out import out_arg, write_out
from ._common import HALF

__all__ = ["addbmm", "addmm", "addmv", "baddbmm", "bmm", "dot", "ger", "matmul", "mm", "mv",
           "outer", "vdot"]

def _mm(xp, a, b):
    """np.matmul, with half precision through float32 (NumPy's float16 GEMM is ~180x slower)
    and stacks of small matrices split over the BLAS threads (``_threads.split_matmul``)."""
    if a.dtype in HALF:
        return xp.matmul(a.astype(xp.float32), b.astype(xp.float32)).astype(a.dtype)
    if a.ndim == 3 and b.ndim == 3 and xp is np and a.shape[0] == b.shape[0]:
        out = split_matmul(a, b)
        if out is not None:
            return out
    return xp.matmul(a, b)


def _matmul_grads(ctx, g, a, b, na, nb, alpha=1, mm=operator.matmul):
    """Gradients of ``alpha * (a @ b)`` for operands of ``na`` and ``nb`` dims (1-D allowed);
    a and b are the node's last two inputs. The same code runs on tensors (backward) and on
    arrays (backward_raw, with ``mm`` the array product)."""
    ga = gb = None
    if ctx.needs_input_grad[-2]:
        bh = _conj(b)
        if nb == 1:  # (..., n, k) @ (k,)
            ga = g[..., None] * bh if na > 1 else g * bh
        elif na == 1:
            ga = mm(bh, g[..., None])[..., 0]
        else:
            ga = mm(g, bh.swapaxes(-1, -2))
        ga = ga * alpha if alpha != 1 else ga
    if ctx.needs_input_grad[-1]:
        ah = _conj(a)
        if na == 1:  # (k,) @ (..., k, m)
            gb = ah[..., None] * g[..., None, :] if nb > 1 else g * ah
        elif nb == 1:
            gb = mm(ah.swapaxes(-1, -2), g[..., None])[..., 0]
        else:
            gb = mm(ah.swapaxes(-1, -2), g)
        gb = gb * alpha if alpha != 1 else gb
    return ga, gb


def _conj(x):
    complex_ = x.is_complex() if isinstance(x, Tensor) else x.dtype.kind == "c"
    return x.conj() if complex_ else x


class MatMul(Op):
    """The one product primitive (mm, mv, dot, bmm and broadcast matmul)."""

    __slots__ = ()

    def forward(ctx, a, b):
        ctx.save(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.nd = (a.ndim, b.ndim)
        return _mm(ctx.xp, a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _matmul_grads(ctx, g, a, b, *ctx.nd)

    def backward_raw(ctx, g):
        a, b = ctx.saved_arrays
        return _matmul_grads(ctx, g, a, b, *ctx.nd, mm=functools.partial(_mm, ctx.xp))


class AddMatMul(Op):
    """beta * input + alpha * (a @ b) as one node (addmm, addmv, baddbmm)."""

    __slots__ = ()

    def forward(ctx, inp, a, b, beta=1, alpha=1):
        if a.dtype.kind in "iub":  # torch truncates the scalars for integer tensors
            beta, alpha = int(beta), int(alpha)
        ctx.save(a if ctx.needs_input_grad[2] else None, b if ctx.needs_input_grad[1] else None)
        ctx.nd, ctx.beta, ctx.alpha = (a.ndim, b.ndim), beta, alpha
        out = _mm(ctx.xp, a, b)
        if alpha != 1:
            out *= alpha
        if beta != 0:  # beta == 0 ignores input entirely, NaNs included
            out += inp * beta if beta != 1 else inp
        return out

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gi = None
        if ctx.needs_input_grad[0]:
            gi = g * ctx.beta if ctx.beta != 1 else g
        return (gi,) + _matmul_grads(ctx, g, a, b, *ctx.nd, alpha=ctx.alpha)


def _dtype_check(a, b, m1="m1", m2="m2"):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected {m1} and {m2} to have the same dtype, but got: "
                           f"{meta_name(a.dtype)} != {meta_name(b.dtype)}")


def _no_bool(t, kernel):
    if t.dtype is D.bool_:
        raise not_implemented(kernel, D.bool_)


def _shape_str(t):
    return "x".join(map(str, t.shape))


def _check_matmul(input, other):
    """torch's dtype and shape errors for a product of operands of at least 1 (not both 1) dims."""
    na, nb = input.ndim, other.ndim
    if nb == 1 and input.dtype is not other.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{torch_type_name(other.dtype)}, {torch_type_name(input.dtype)}, and "
                           f"{torch_type_name(other.dtype)}")
    if na >= 3 and nb >= 3 and input.dtype is not other.dtype:
        raise dtype_mismatch(input.dtype, other.dtype)
    _dtype_check(input, other)
    _no_bool(input, "addmv_impl_cpu" if nb == 1 else "bmm" if na >= 3 and nb >= 3 else
             "addmm_impl_cpu_")
    ka = input.shape[-1]
    kb = other.shape[0] if nb == 1 else other.shape[-2]
    if ka == kb:
        return
    rows = math.prod(input.shape[:-1])
    if nb == 1:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{ka}), vec ({kb})")
    if nb == 2:
        a2 = f"1x{ka}" if na == 1 else f"{rows}x{ka}"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a2} and "
                           f"{_shape_str(other)})")
    batch = other.shape[0] if nb > 2 else 1
    raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                       f"[{batch}, {ka}] but got: [{batch}, {kb}].")


_MATMUL_NAMES = {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4"}


def matmul(input, other, *, out=None) -> Tensor:
    """Same as torch.matmul."""
    if _autocast_state.on:  # torch.autocast: in the region's lower precision
        input, other = _autocast(input, other)
    if out is not None:  # (not a decorator: the hottest op pays no extra call)
        return write_out(_matmul(input, other), out, "matmul")
    return _matmul(input, other)


def _matmul(input, other) -> Tensor:
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise not_tensor("matmul", other, "other", 2)
    a, b = input._data, other._data
    na, nb = a.ndim, b.ndim
    # the checks below run on raw arrays: for small matrices they cost more than the product
    if not (na > 1 and nb and a.dtype == b.dtype and a.dtype.kind in "fc"
            and a.shape[-1] == b.shape[-2 if nb > 1 else 0]):
        if na == 0 or nb == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{na}D and {nb}D")
        if na == 1 and nb == 1:
            return dot(input, other)
        _check_matmul(input, other)
    try:
        res = MatMul.apply(input, other)
    except ValueError:
        raise size_mismatch(input.shape[-3], other.shape[-3], 0) from None
    if res._grad_fn is not None:
        res._grad_fn._name = _MATMUL_NAMES.get((na, nb), "CloneBackward0" if na == 2 else
                                               "UnsafeViewBackward0")
    return res


@out_arg()
def mm(input, mat2, *, out=None) -> Tensor:
    """Same as torch.mm."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"{'self' if input.ndim != 2 else 'mat2'} must be a matrix")
    if _autocast_state.on:
        input, mat2 = _autocast(input, mat2)
    return _matmul(input, mat2)


@out_arg()
def mv(input, vec, *, out=None) -> Tensor:
    """Same as torch.mv."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    return _matmul(input, vec)  # not autocast, as in torch


@out_arg()
def bmm(input, mat2, *, out=None) -> Tensor:
    """Same as torch.bmm."""
    if _autocast_state.on:
        input, mat2 = _autocast(input, mat2)
    x, y = input._data, mat2._data
    if x.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if y.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, _, k = x.shape
    if y.shape[0] != b or y.shape[1] != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k}] but got: [{y.shape[0]}, {y.shape[1]}].")
    if x.dtype != y.dtype or x.dtype.kind not in "fc":
        _check_matmul(input, mat2)
    return _Bmm.apply(input, mat2)


@out_arg(dtype_error="result dtype {Got} does not match input dtype {Want}")
def dot(input, other, *, out=None) -> Tensor:
    """Same as torch.dot."""
    return _dot(input, other, _Dot)


def _dot(input, other, op) -> Tensor:
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{torch_type_name(input.dtype)} and {torch_type_name(other.dtype)}")
    n, m = input.shape[0], other.shape[0]
    if n != m:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have "
                           f"the same number of elements, but got {n} and {m} elements "
                           "respectively")
    _no_bool(input, "dot")
    return op.apply(input, other)


# torch's nodes for the products that run as MatMul
_Bmm, _Dot, _Vdot = (MatMul.named(n) for n in ("BmmBackward0", "DotBackward0", "VdotBackward0"))


@out_arg(dtype_error="result dtype {Got} does not match input dtype {Want}")
def vdot(input, other, *, out=None) -> Tensor:
    """Same as torch.vdot: the first argument is conjugated."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return _dot(input.conj(), other, _Vdot)


@out_arg(cast=True, dtype_error=_CAST)
def outer(input, vec2, *, out=None) -> Tensor:
    """Same as torch.outer."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return input.unsqueeze(-1) * vec2


ger = outer


def _expand_check(inp, shape):
    """torch broadcasts ``input`` to the product's shape, with expand's error."""
    if inp.ndim > len(shape):
        raise RuntimeError(f"expand(torch.{D.legacy_type_name(inp.dtype)}{{{list(inp.shape)}}}, "
                           f"size={list(shape)}): the number of sizes provided ({len(shape)}) "
                           "must be greater or equal to the number of dimensions in the tensor "
                           f"({inp.ndim})")
    for i in range(1, inp.ndim + 1):
        s, t = inp.shape[-i], shape[-i] if i <= len(shape) else None
        if s not in (1, t):
            raise RuntimeError(f"The expanded size of the tensor ({t}) must match the existing "
                               f"size ({s}) at non-singleton dimension {len(shape) - i}.  Target "
                               f"sizes: {list(shape)}.  Tensor sizes: {list(inp.shape)}")


def _add_product(inp, a, b, beta, alpha, name):
    _expand_check(inp, tuple(a.shape[:-1]) + tuple(b.shape[-1:] if b.ndim > 1 else ()))
    res = AddMatMul.apply(inp, a, b, beta=beta, alpha=alpha)
    if res._grad_fn is not None:
        res._grad_fn._name = name
    return res


def _same_dtype(inp, other):
    if inp.dtype is not other.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{torch_type_name(inp.dtype)} and {torch_type_name(other.dtype)}")


@out_arg()
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None) -> Tensor:
    """Same as torch.addmm."""
    if _autocast_state.on:
        input, mat1, mat2 = _autocast(input, mat1, mat2)
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    _same_dtype(input, mat2)
    _same_dtype(mat1, mat2)
    _check_matmul(mat1, mat2)
    return _add_product(input, mat1, mat2, beta, alpha, "AddmmBackward0")


@out_arg()
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None) -> Tensor:
    """Same as torch.addmv."""
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, "
                           f"{vec.ndim}")
    if not input.dtype is mat.dtype is vec.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{torch_type_name(input.dtype)}, {torch_type_name(mat.dtype)}, and "
                           f"{torch_type_name(vec.dtype)}")
    n = input.shape[0] if input.ndim else 1
    if mat.shape[1] != vec.shape[0] or input.ndim > 1 or n not in (1, mat.shape[0]):
        raise RuntimeError(f"size mismatch, got input ({n}), mat ({_shape_str(mat)}), vec "
                           f"({vec.shape[0]})")
    _no_bool(mat, "addmv_impl_cpu")
    return _add_product(input, mat, vec, beta, alpha, "AddmvBackward0")


def _batch_check(batch1, batch2):
    for t in (batch1, batch2):
        if t.ndim != 3:
            wrap_dim(2, t.ndim)
            raise RuntimeError(f"{'batch1' if t is batch1 else 'batch2'} must be a 3D tensor")


@out_arg()
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:
    """Same as torch.baddbmm."""
    if _autocast_state.on:
        input, batch1, batch2 = _autocast(input, batch1, batch2)
    _batch_check(batch1, batch2)
    _no_bool(batch1, "baddbmm")
    if not input.dtype is batch1.dtype is batch2.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {meta_name(input.dtype)}"
                           f", batch1: {meta_name(batch1.dtype)}, batch2: "
                           f"{meta_name(batch2.dtype)}")
    b, _, k = batch1.shape
    if batch2.shape[:2] != (b, k):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k}] but got: [{batch2.shape[0]}, {batch2.shape[1]}].")
    return _add_product(input, batch1, batch2, beta, alpha, "BaddbmmBackward0")


@out_arg()
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None) -> Tensor:
    """Same as torch.addbmm: the batch is contracted in one GEMM (n, b*k) @ (b*k, m)."""
    if _autocast_state.on:
        input, batch1, batch2 = _autocast(input, batch1, batch2)
    _batch_check(batch1, batch2)
    _same_dtype(input, batch2)
    _no_bool(batch1, "addmm_impl_cpu_")
    b, n, k = batch1.shape
    if batch2.shape[:2] != (b, k):
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{k} and "
                           f"{batch2.shape[1]}x{batch2.shape[2]})")
    a2 = batch1.permute(1, 0, 2).reshape(n, b * k)
    return _add_product(input, a2, batch2.reshape(b * k, -1), beta, alpha, "AddbmmBackward0")


