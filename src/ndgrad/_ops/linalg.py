"""Matrix products and the linear algebra the course needs, with torch's checks and node names."""

from __future__ import annotations

from collections import namedtuple

from .. import _dtype as D
from .._tensor import Tensor, tensor_method
from ..autograd.function import Op
from ._inplace import torch_type_name

__all__ = ["bmm", "det", "diag", "dot", "inverse", "matmul", "mm", "mv"]

_HALF = (D.float16.np, D.bfloat16.np)
_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _mm(xp, a, b):
    """Half precision through float32: NumPy's float16 matmul is ~180x slower."""
    if a.dtype in _HALF:
        return xp.matmul(a.astype(xp.float32), b.astype(xp.float32)).astype(a.dtype)
    return xp.matmul(a, b)


class MatMul(Op):
    """The one product primitive (mm, mv, dot, bmm and broadcast matmul)."""

    __slots__ = ()

    def forward(ctx, a, b):
        ctx.save(b if ctx.needs_input_grad[0] else None, a if ctx.needs_input_grad[1] else None)
        return _mm(ctx.xp, a, b)

    def backward(ctx, g):
        b, a = ctx.saved_tensors
        ga = gb = None
        na, nb = len(ctx.in_meta[0][0]) if ctx.in_meta[0] else a.ndim, \
            len(ctx.in_meta[1][0]) if ctx.in_meta[1] else b.ndim
        if ctx.needs_input_grad[0]:
            if nb == 1:  # (..., n, k) @ (k,)
                ga = g.unsqueeze(-1) * b if na > 1 else g * b
            elif na == 1:
                ga = (b @ g.unsqueeze(-1)).squeeze(-1)
            else:
                ga = g @ b.mT.conj()
        if ctx.needs_input_grad[1]:
            if na == 1:  # (k,) @ (..., k, m)
                gb = a.unsqueeze(-1) * g.unsqueeze(-2) if nb > 1 else g * a
            elif nb == 1:
                gb = a.mT.conj() @ g.unsqueeze(-1)
                gb = gb.squeeze(-1)
            else:
                gb = a.mT.conj() @ g
        return ga, gb


def _dtype_check(a, b, m1="m1", m2="m2"):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected {m1} and {m2} to have the same dtype, but got: "
                           f"{_C_NAMES.get(a.dtype.name, a.dtype.name)} != "
                           f"{_C_NAMES.get(b.dtype.name, b.dtype.name)}")


def _shape_str(t):
    return "x".join(map(str, t.shape))


@tensor_method
def matmul(input, other, *, out=None):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    na, nb = input.ndim, other.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D "
                           f"and {nb}D")
    _dtype_check(input, other)
    ka = input.shape[-1]
    kb = other.shape[0] if nb == 1 else other.shape[-2]
    if ka != kb:
        if na == 1 and nb == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{ka}] and src [{kb}] "
                               f"to have the same number of elements, but got {ka} and {kb} "
                               "elements respectively")
        if na <= 2 and nb <= 2:
            a2 = f"1x{ka}" if na == 1 else _shape_str(input)
            b2 = f"{kb}x1" if nb == 1 else _shape_str(other)
            if nb == 1:
                raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                                   f"({_shape_str(input)}), vec ({kb})")
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a2} and {b2})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{other.shape[0] if nb > 2 else 1}, {ka}] but got: "
                           f"[{other.shape[0] if nb > 2 else 1}, {kb}].")
    try:
        res = MatMul.apply(input, other)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({input.shape[-3]}) must match the size of "
                           f"tensor b ({other.shape[-3]}) at non-singleton dimension 0") from None
    if res._grad_fn is not None:
        res._grad_fn._name = _matmul_name(na, nb)
    return res


def _matmul_name(na, nb):
    if na == 2 and nb == 2:
        return "MmBackward0"
    if na == 2 and nb == 1:
        return "MvBackward0"
    if na == 1 and nb == 1:
        return "DotBackward0"
    if na == 1 and nb == 2:
        return "SqueezeBackward4"
    if na == 3 and nb == 3:
        return "BmmBackward0"
    return "UnsafeViewBackward0"


Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)


@tensor_method
def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        bad = input if input.ndim != 2 else mat2
        raise RuntimeError(f"{'self' if bad is input else 'mat2'} must be a matrix")
    return matmul(input, mat2)


@tensor_method
def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    return matmul(input, vec)


@tensor_method
def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{torch_type_name(input.dtype)} and {torch_type_name(other.dtype)}")
    return matmul(input, other)


@tensor_method
def bmm(input, mat2):
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    _dtype_check(input, mat2, "batch1", "batch2")
    b, n, k = input.shape
    if mat2.shape[0] != b or mat2.shape[1] != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    return matmul(input, mat2)


# --- decompositions -------------------------------------------------------------------------------
class LinAlgError(RuntimeError):
    """Same as torch.linalg.LinAlgError (torch._C._LinAlgError)."""


def _float_input(name, A):
    if not (A.is_floating_point() or A.is_complex()):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{torch_type_name(A.dtype)}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")


def _square(name, A):
    _float_input(name, A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _la(xp, fn, a):
    """Run a LAPACK routine in float32 for half inputs, then round back."""
    if a.dtype in _HALF:
        raise RuntimeError(f"\"linalg_{fn.__name__}\" not implemented for "
                           f"'{torch_type_name(D.from_numpy(a.dtype))}'")
    return fn(a)


class Inv(Op):
    __slots__ = ()

    def forward(ctx, a):
        xp = ctx.xp
        try:
            out = xp.linalg.inv(a)
        except xp.linalg.LinAlgError:
            raise LinAlgError(_singular_msg(xp, a)) from None
        ctx.save(out)
        return out

    def backward(ctx, g):
        (inv,) = ctx.saved_tensors
        ih = inv.mT.conj()
        return -(ih @ g @ ih)


def _singular_msg(xp, a):
    import numpy as np

    lu_diag = _lu_pivots_zero(np.asarray(a if isinstance(a, np.ndarray) else a.get()))
    return (f"linalg.inv: The diagonal element {lu_diag} is zero, the inversion could not be "
            "completed because the input matrix is singular.")


def _lu_pivots_zero(a):
    """1-based index of the first zero pivot of partial-pivoting LU (what LAPACK's getrf reports)."""
    import numpy as np

    m = np.array(a.reshape(-1, *a.shape[-2:])[0], dtype=np.float64)
    n = m.shape[0]
    for k in range(n):
        p = k + int(np.argmax(np.abs(m[k:, k])))
        if m[p, k] == 0:
            return k + 1
        m[[k, p]] = m[[p, k]]
        m[k + 1:] -= np.outer(m[k + 1:, k] / m[k, k], m[k])
    return n


def inv(A, *, out=None):
    _square("linalg.inv", A)
    res = Inv.apply(A)
    if res._grad_fn is not None:
        res._grad_fn._name = "LinalgInvExBackward0"
    return res


inverse = inv
Tensor.inverse = inv

SVD = namedtuple("linalg_svd", ["U", "S", "Vh"])


class Svd(Op):
    __slots__ = ()

    def forward(ctx, a, full_matrices=True):
        u, s, vh = ctx.xp.linalg.svd(a, full_matrices=full_matrices)
        ctx.full = full_matrices
        ctx.save(u, s, vh)
        return u, s.astype(a.dtype.type(0).real.dtype), vh

    def backward(ctx, gu, gs, gvh):
        # The real-valued SVD derivative (as in torch's svd_backward), for the reduced factors.
        u, s, vh = ctx.saved_tensors
        m, n = u.shape[-2], vh.shape[-1]
        k = s.shape[-1]
        if ctx.full and m != n:
            raise RuntimeError("linalg_svd_backward: The derivative of linalg.svd is not "
                               "implemented when full_matrices=True. Use full_matrices=False.")
        u, vh = u[..., :, :k], vh[..., :k, :]
        gu, gvh = gu[..., :, :k], gvh[..., :k, :]
        v, gv = vh.mT, gvh.mT
        s2 = s * s
        f = s2.unsqueeze(-2) - s2.unsqueeze(-1)
        eye = _eye_like(f)
        f = (f + eye).reciprocal() * (1 - eye)
        ut_gu = u.mT @ gu
        vt_gv = v.mT @ gv
        j = f * (ut_gu - ut_gu.mT)
        kk = f * (vt_gv - vt_gv.mT)
        sm = s.unsqueeze(-2)
        inner = (j * sm + sm.mT * kk) if True else None
        ga = u @ (inner + _diag_embed(gs)) @ vh
        if m > k:
            ga = ga + (gu - u @ ut_gu) @ (vh / s.unsqueeze(-1))
        if n > k:
            ga = ga + (u / s.unsqueeze(-2)) @ (gv - v @ vt_gv).mT
        return ga


def _eye_like(t):
    from .. import _creation

    return _creation.eye(t.shape[-1], dtype=t.dtype, device=t.device)


def _diag_embed(s):
    return s.unsqueeze(-1) * _eye_like(s.unsqueeze(-1).expand(*s.shape, s.shape[-1]))


def svd(A, full_matrices=True, *, driver=None, out=None):
    _float_input("linalg.svd", A)
    u, s, vh = Svd.apply(A, full_matrices)
    if u._grad_fn is not None:
        u._grad_fn._name = "LinalgSvdBackward0"
    return SVD(u, s, vh)


class Eigvals(Op):
    __slots__ = ()

    def forward(ctx, a):
        xp = ctx.xp
        w = xp.linalg.eigvals(a)
        return w.astype(xp.complex64 if a.dtype == xp.float32 else xp.complex128)

    def backward(ctx, g):
        raise NotImplementedError("the gradient of linalg.eigvals is not implemented yet")


def eigvals(A, *, out=None):
    _square("linalg.eigvals", A)
    out = Eigvals.apply(A)
    if out._grad_fn is not None:
        out._grad_fn._name = "LinalgEigBackward0"
    return out


class Eigh(Op):
    __slots__ = ()

    def forward(ctx, a, uplo="L"):
        w, v = ctx.xp.linalg.eigh(a, UPLO=uplo)
        ctx.save(w, v)
        return w, v

    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        f = w.unsqueeze(-2) - w.unsqueeze(-1)
        eye = _eye_like(f)
        f = (f + eye).reciprocal() * (1 - eye)
        vt_gv = v.mT @ gv
        inner = _diag_embed(gw) + f * (vt_gv - vt_gv.mT) / 2 * 2 * 0.5
        return v @ inner @ v.mT


EIGH = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])


def eigh(A, UPLO="L", *, out=None):
    _square("linalg.eigh", A)
    return EIGH(*Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO="L", *, out=None):
    return eigh(A, UPLO).eigenvalues


# --- norms ----------------------------------------------------------------------------------------
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    from .reduce import amax, amin, sum

    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {torch_type_name(x.dtype)}")
    if dtype is not None:
        x = x.to(dtype)
    if ord == 2:  # one fused node, the common case
        return _Norm2.apply(x, dim if dim is None else _dims(dim, x.ndim), keepdim)
    a = x.abs()
    if ord == float("inf"):
        out = amax(a, dim if dim is not None else (), keepdim)
    elif ord == -float("inf"):
        out = amin(a, dim if dim is not None else (), keepdim)
    elif ord == 0:
        out = sum((a != 0).to(a.dtype), dim, keepdim)
    elif ord == 1:
        out = sum(a, dim, keepdim)
    else:
        out = sum(a ** ord, dim, keepdim) ** (1.0 / ord)
    return out


def _dims(dim, ndim):
    from .._tensor import wrap_dims

    return wrap_dims(dim, ndim)


class _Norm2(Op):
    """The 2-norm as one node: sqrt(sum |x|^2), gradient x / norm (zero where the norm is 0)."""

    __slots__ = ()

    def forward(ctx, a, axes, keepdim):
        xp = ctx.xp
        ac = a.astype(xp.float32) if a.dtype in _HALF else a
        m = xp.abs(ac) if ac.dtype.kind == "c" else ac
        out = xp.sqrt((m * m).sum(axis=axes, keepdims=keepdim))
        out = out.astype(a.real.dtype if a.dtype.kind == "c" else a.dtype)
        ctx.axes, ctx.keepdim, ctx.shape = axes, keepdim, a.shape
        ctx.save(a, out)
        ctx._name = "LinalgVectorNormBackward0"
        return out

    def backward(ctx, g):
        from .reduce import _expand_back

        a, n = ctx.saved_tensors
        n = _expand_back(n, ctx.shape, ctx.axes, ctx.keepdim)
        g = _expand_back(g, ctx.shape, ctx.axes, ctx.keepdim)
        return (g / n).masked_fill(n == 0, 0) * a


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    from .reduce import amax, amin, sum

    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    d0, d1 = _dims(dim, A.ndim)
    if ord == "nuc" or ord in (2, -2):
        perm = [i for i in range(A.ndim) if i not in (d0, d1)] + [d0, d1]
        s = svdvals(A.permute(perm))
        if ord == "nuc":
            out = sum(s, -1)
        elif ord == 2:
            out = amax(s, -1)
        else:
            out = amin(s, -1)
        if keepdim:
            out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return out
    if ord in (1, -1, float("inf"), -float("inf")):
        red, keep = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = sum(A.abs(), red, keepdim=True)
        out = (amax if ord > 0 else amin)(s, keep, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def svdvals(A, *, driver=None, out=None):
    return svd(A, full_matrices=False).S


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """Same as torch.linalg.norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if (dim is not None and len(dim) == 2) or (dim is None and A.ndim == 2):
        return matrix_norm(A, ord, dim or (-2, -1), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D.")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


@tensor_method
def diag(input, diagonal=0):
    from .. import _creation

    if input.ndim == 1:
        n = input.shape[0] + abs(diagonal)
        eye = _creation.eye(n, dtype=input.dtype, device=input.device)
        if diagonal == 0:
            out = input * eye
        else:
            z = _creation.zeros(n, n, dtype=input.dtype, device=input.device)
            rows = range(max(0, -diagonal), max(0, -diagonal) + input.shape[0])
            cols = range(max(0, diagonal), max(0, diagonal) + input.shape[0])
            z[list(rows), list(cols)] = input
            out = z
        if out._grad_fn is not None:
            out._grad_fn._name = "DiagEmbedBackward0"
        return out
    if input.ndim == 2:
        return diagonal_(input, diagonal)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input.ndim}D")


class Diagonal(Op):
    __slots__ = ()

    def forward(ctx, a, offset, d1, d2):
        ctx.args, ctx.shape = (offset, d1, d2), a.shape
        return ctx.xp.diagonal(a, offset, d1, d2).copy()

    def backward(ctx, g):
        return DiagonalBackward.apply(g, ctx.shape, *ctx.args)


class DiagonalBackward(Op):
    __slots__ = ()

    def forward(ctx, g, shape, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        out = ctx.xp.zeros(shape, g.dtype)
        view = ctx.xp.diagonal(out, offset, d1, d2)
        view.flags.writeable = True if hasattr(view.flags, "writeable") else None
        idx = ctx.xp.arange(view.shape[-1])
        sl = [slice(None)] * len(shape)
        r = idx + max(0, -offset)
        c = idx + max(0, offset)
        sl[d1], sl[d2] = r, c
        moved = ctx.xp.moveaxis(out, (d1, d2), (-2, -1)) if False else out
        out[tuple(sl)] = ctx.xp.moveaxis(g, -1, min(d1, d2)) if g.ndim > 1 else g
        return moved

    def backward(ctx, gg):
        return Diagonal.apply(gg, *ctx.args)


def diagonal_(input, offset=0, dim1=0, dim2=1):
    from .._tensor import wrap_dim

    d1, d2 = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    return Diagonal.apply(input, offset, d1, d2)


def det(A, *, out=None):
    _square("linalg.det", A)
    return Det.apply(A)


class Det(Op):
    __slots__ = ()

    def forward(ctx, a):
        out = ctx.xp.linalg.det(a)
        ctx.save(a, out)
        return out

    def backward(ctx, g):
        a, d = ctx.saved_tensors
        return (g * d).unsqueeze(-1).unsqueeze(-1) * inv(a).mT
