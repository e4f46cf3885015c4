"""Matrix products: matmul and its named forms, the fused add-products, dot/vdot/inner/outer,
tensordot, kron, cross, vecdot and multi_dot."""

from __future__ import annotations

import math

from ... import _dtype as D
from ..._tensor import Tensor, tensor_method, wrap_dim, wrap_dims
from ...autograd.function import Op
from .._inplace import inplace, torch_type_name
from ..elementwise import mul
from ..reduce import sum as _sum
from ._common import HALF, check_float, warn_once

__all__ = ["addbmm", "addmm", "addmv", "baddbmm", "bmm", "cross", "dot", "ger", "inner", "kron",
           "matmul", "mm", "mv", "outer", "tensordot", "vdot"]

_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _mm(xp, a, b):
    """np.matmul, with half precision through float32 (NumPy's float16 GEMM is ~180x slower).

    np.matmul already runs stacked operands as one BLAS GEMM per matrix; for the notebook's
    5000 x (100x100 @ 100x100) float32 it measured as fast as a Python loop of 2-D GEMMs into a
    preallocated buffer and faster than np.einsum(optimize=True)."""
    if a.dtype in HALF:
        return xp.matmul(a.astype(xp.float32), b.astype(xp.float32)).astype(a.dtype)
    return xp.matmul(a, b)


def _matmul_grads(ctx, g, a, b, na, nb, alpha=1):
    """Gradients of ``alpha * (a @ b)`` for operands of ``na`` and ``nb`` dims (1-D allowed);
    a and b are the node's last two inputs."""
    ga = gb = None
    if ctx.needs_input_grad[-2]:
        bh = b.conj()
        if nb == 1:  # (..., n, k) @ (k,)
            ga = g.unsqueeze(-1) * bh if na > 1 else g * bh
        elif na == 1:
            ga = (bh @ g.unsqueeze(-1)).squeeze(-1)
        else:
            ga = g @ bh.mT
        ga = ga * alpha if alpha != 1 else ga
    if ctx.needs_input_grad[-1]:
        ah = a.conj()
        if na == 1:  # (k,) @ (..., k, m)
            gb = ah.unsqueeze(-1) * g.unsqueeze(-2) if nb > 1 else g * ah
        elif nb == 1:
            gb = (ah.mT @ g.unsqueeze(-1)).squeeze(-1)
        else:
            gb = ah.mT @ g
        gb = gb * alpha if alpha != 1 else gb
    return ga, gb


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
                           f"{_C_NAMES.get(a.dtype.name, a.dtype.name)} != "
                           f"{_C_NAMES.get(b.dtype.name, b.dtype.name)}")


def _no_bool(t, kernel):
    if t.dtype is D.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


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
        raise RuntimeError(f"expected scalar type {torch_type_name(input.dtype)} but found "
                           f"{torch_type_name(other.dtype)}")
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


@tensor_method
def matmul(input, other, *, out=None):
    """Same as torch.matmul; `out` is not supported."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    na, nb = input.ndim, other.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D "
                           f"and {nb}D")
    if na == 1 and nb == 1:
        return dot(input, other)
    _check_matmul(input, other)
    try:
        res = MatMul.apply(input, other)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({input.shape[-3]}) must match the size of "
                           f"tensor b ({other.shape[-3]}) at non-singleton dimension 0") from None
    if res._grad_fn is not None:
        res._grad_fn._name = _MATMUL_NAMES.get((na, nb), "CloneBackward0" if na == 2 else
                                               "UnsafeViewBackward0")
    return res


Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)


@tensor_method
def mm(input, mat2, *, out=None):
    """Same as torch.mm."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"{'self' if input.ndim != 2 else 'mat2'} must be a matrix")
    return matmul(input, mat2)


@tensor_method
def mv(input, vec, *, out=None):
    """Same as torch.mv."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    return matmul(input, vec)


@tensor_method
def bmm(input, mat2, *, out=None):
    """Same as torch.bmm."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, _, k = input.shape
    if mat2.shape[0] != b or mat2.shape[1] != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _check_matmul(input, mat2)
    res = MatMul.apply(input, mat2)
    if res._grad_fn is not None:
        res._grad_fn._name = "BmmBackward0"
    return res


@tensor_method
def dot(input, other, *, out=None):
    """Same as torch.dot."""
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
    res = MatMul.apply(input, other)
    if res._grad_fn is not None:
        res._grad_fn._name = "DotBackward0"
    return res


@tensor_method
def vdot(input, other, *, out=None):
    """Same as torch.vdot: the first argument is conjugated."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    res = dot(input.conj(), other)
    if res._grad_fn is not None:
        res._grad_fn._name = "VdotBackward0"
    return res


@tensor_method
def inner(input, other, *, out=None):
    """Same as torch.inner."""
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


@tensor_method
def outer(input, vec2, *, out=None):
    """Same as torch.outer."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return input.unsqueeze(-1) * vec2


ger = outer
Tensor.ger = outer


def _expand_check(inp, shape):
    """torch broadcasts ``input`` to the product's shape, with expand's error."""
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


@tensor_method
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """Same as torch.addmm."""
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    _same_dtype(input, mat2)
    _same_dtype(mat1, mat2)
    _check_matmul(mat1, mat2)
    return _add_product(input, mat1, mat2, beta, alpha, "AddmmBackward0")


@tensor_method
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
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


@tensor_method
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """Same as torch.baddbmm."""
    _batch_check(batch1, batch2)
    if not input.dtype is batch1.dtype is batch2.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {_C_NAMES[input.dtype.name]}"
                           f", batch1: {_C_NAMES[batch1.dtype.name]}, batch2: "
                           f"{_C_NAMES[batch2.dtype.name]}")
    b, _, k = batch1.shape
    if batch2.shape[:2] != (b, k):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k}] but got: [{batch2.shape[0]}, {batch2.shape[1]}].")
    return _add_product(input, batch1, batch2, beta, alpha, "BaddbmmBackward0")


@tensor_method
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """Same as torch.addbmm: the batch is contracted in one GEMM (n, b*k) @ (b*k, m)."""
    _batch_check(batch1, batch2)
    _same_dtype(input, batch2)
    b, n, k = batch1.shape
    if batch2.shape[:2] != (b, k):
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{k} and "
                           f"{batch2.shape[1]}x{batch2.shape[2]})")
    a2 = batch1.permute(1, 0, 2).reshape(n, b * k)
    return _add_product(input, a2, batch2.reshape(b * k, -1), beta, alpha, "AddbmmBackward0")


def _inplace_method(fn):
    def method(self, *args, **kw):
        return inplace(self, fn, *args, **kw)

    method.__name__ = fn.__name__ + "_"
    return method


for _fn in (addmm, addmv, baddbmm, addbmm):
    setattr(Tensor, _fn.__name__ + "_", _inplace_method(_fn))


# --- contractions ---------------------------------------------------------------------------------
def _dims_arg(dims, na, nb):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims)), True
    da, db = dims
    da = [da] if isinstance(da, int) else list(da)
    db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    return da, db, False


def tensordot(a, b, dims=2, out=None):
    """Same as torch.tensordot: permute, reshape, one matmul."""
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    da, db, _ = _dims_arg(dims, a.ndim, b.ndim)
    for x, y in zip(da, db):
        sa, sb = a.shape[x], b.shape[y]
        if sa != sb:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa} in "
                               f"dim {x} and second has size {sb} in dim {y}")
    ca, cb = wrap_dims(da, a.ndim) if da else (), wrap_dims(db, b.ndim) if db else ()
    fa = [i for i in range(a.ndim) if i not in ca]
    fb = [i for i in range(b.ndim) if i not in cb]
    k = math.prod(a.shape[i] for i in ca)
    a2 = a.permute(*fa, *ca).reshape(-1, k)
    b2 = b.permute(*cb, *fb).reshape(k, -1)
    return (a2 @ b2).reshape(*(a.shape[i] for i in fa), *(b.shape[i] for i in fb))


@tensor_method
def kron(input, other, *, out=None):
    """Same as torch.kron: one broadcast product of interleaved views."""
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = input.reshape(*[d for s in sa for d in (s, 1)])
    b = other.reshape(*[d for s in sb for d in (1, s)])
    return (a * b).reshape(*[x * y for x, y in zip(sa, sb)])


class Cross(Op):
    """a x b along one axis of size 3; d(a x b) = da x b + a x db."""

    __slots__ = ()

    def forward(ctx, a, b, dim):
        ctx.dim = dim
        ctx.save(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        return ctx.xp.cross(a, b, axis=dim)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = ctx.dim
        ga = _cross(b.conj(), g, d) if ctx.needs_input_grad[0] else None
        gb = _cross(g, a.conj(), d) if ctx.needs_input_grad[1] else None
        return ga, gb


def _cross(a, b, dim):
    out = Cross.apply(a, b, dim)
    if out._grad_fn is not None:
        out._grad_fn._name = "LinalgCrossBackward0"
    return out


def linalg_cross(input, other, *, dim=-1, out=None):
    """Same as torch.linalg.cross."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, input.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected scalar type {torch_type_name(input.dtype)} but found "
                           f"{torch_type_name(other.dtype)}")
    for x, y in zip(input.shape, other.shape):
        if x != y and 1 not in (x, y):
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {list(input.shape).index(x)}")
    return _cross(input, other, d - input.ndim)


@tensor_method
def cross(input, other, dim=None, *, out=None):
    """Same as torch.cross: without `dim`, the first dimension of size 3 (deprecated in torch)."""
    if dim is None:
        warn_once("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                  "either pass the dim explicitly or simply use torch.linalg.cross.\nThe default "
                  "value of dim will change to agree with that of linalg.cross in a future "
                  "release.")
        dim = next((i for i, s in enumerate(input.shape) if s == 3), -1)
    return linalg_cross(input, other, dim=dim)


def vecdot(x, y, *, dim=-1, out=None):
    """Same as torch.linalg.vecdot: sum(conj(x) * y, dim)."""
    check_float("linalg.vecdot", x)
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x "
                           f"of type {torch_type_name(x.dtype)} and y of type "
                           f"{torch_type_name(y.dtype)} instead")
    return _sum(x.conj() * y, dim)


def multi_dot(tensors, *, out=None):
    """Same as torch.linalg.multi_dot: the cheapest parenthesisation (chain-order DP)."""
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    first, last = tensors[0], tensors[-1]
    if first.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.ndim}D")
    for i, t in enumerate(tensors[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for i, t in enumerate(tensors[1:], 1):
        if t.dtype is not first.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 "
                               f"is {_C_NAMES[first.dtype.name]} and tensor {i} "
                               f"{_C_NAMES[t.dtype.name]}")
    mats = [first.unsqueeze(0) if first.ndim == 1 else first, *tensors[1:-1],
            last.unsqueeze(-1) if last.ndim == 1 else last]
    for i in range(n - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} cannot "
                               "be multiplied")
    out = _chain(mats, _chain_order([m.shape[0] for m in mats] + [mats[-1].shape[1]]), 0, n - 1)
    if first.ndim == 1:
        out = out.squeeze(0)
    return out.squeeze(-1) if last.ndim == 1 else out


def _chain_order(p):
    """split[i][j]: where the optimal product of matrices i..j splits (CLRS matrix-chain)."""
    n = len(p) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min((cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1],
                                           k) for k in range(i, j))
    return split


def _chain(mats, split, i, j):
    if i == j:
        return mats[i]
    k = split[i][j]
    return _chain(mats, split, i, k) @ _chain(mats, split, k + 1, j)
