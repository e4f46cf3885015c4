"""torch.sparse_coo_tensor, Tensor.to_sparse, and the sparse-times-dense products: sparse.mm
(= spmm; a dense result), smm/hspmm/hsmm (sparse results), sspaddmm/saddmm, resize_as_sparse_.
The product runs on the nonzeros (nnz x columns work, no dense copy of the sparse operand)."""

from __future__ import annotations

import numpy as np

from .._errors import dtype_mismatch
from .._tensor import Tensor
from ..autograd.op import Op
from ._coo import SparseTensor, _scatter

__all__ = ["hsmm", "hspmm", "resize_as_sparse_", "saddmm", "smm", "sparse_coo_tensor", "spmm",
           "sspaddmm"]


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """Same as torch.sparse_coo_tensor: ``indices`` (sparse_dim, nnz), ``values`` (nnz, ...);
    ``size`` defaults to the smallest that holds the indices. Duplicates are kept until
    coalesce(), as in torch."""
    from .. import as_tensor, tensor

    if not isinstance(values, Tensor):
        values = tensor(values, dtype=dtype, device=device)
    elif dtype is not None or device is not None:
        values = values.to(device=device, dtype=dtype)
    idx_t = indices if isinstance(indices, Tensor) else as_tensor(indices, device=values.device)
    xp = values._device.xp
    idx = xp.asarray(idx_t._data).astype(xp.int64)
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    if idx.shape[1] != values.shape[0] if values.ndim else True:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{idx.shape[1]}, nnz from values: "
                           f"{values.shape[0] if values.ndim else 1}")
    sd = idx.shape[0]
    if size is None:
        size = tuple(int(m) + 1 for m in idx.max(axis=1)) if idx.shape[1] else (0,) * sd
        size += tuple(values.shape[1:])
    size = tuple(int(s) for s in size)
    if len(size) != sd + values.ndim - 1:
        raise RuntimeError(f"number of dimensions must be sparse_dim ({sd}) + dense_dim "
                           f"({values.ndim - 1}), but got {len(size)}")
    if check_invariants and idx.shape[1] and ((idx < 0).any() or (
            idx >= xp.asarray(size[:sd])[:, None]).any()):
        raise RuntimeError("found an index out of bounds of the sparse tensor's size")
    out = SparseTensor._build(idx, values, size, bool(is_coalesced) or idx.shape[1] <= 1)
    if requires_grad:
        out.requires_grad_()
    return out


def to_sparse(self: Tensor, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """Same as torch.Tensor.to_sparse: the nonzeros (row-major) of the first ``sparse_dim``
    dimensions (all by default); the rest stay dense in the values."""
    if isinstance(self, SparseTensor):
        return self
    if layout is not None and str(layout) not in ("torch.sparse_coo", "sparse_coo"):
        raise NotImplementedError(f"ndgrad has only the sparse_coo layout, not {layout}")
    sd = self.ndim if sparse_dim is None else int(sparse_dim)
    if sd == 0 and self.ndim:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when self.dim()>0")
    if not 0 <= sd <= self.ndim:
        raise RuntimeError(f"sparse_dim argument must be in [0,{self.ndim}] range, but {sd} is "
                           "given")
    xp = self._device.xp
    d = self._data
    flat = d.reshape(*d.shape[:sd], -1) if sd < d.ndim else d[..., None]
    nz = xp.nonzero((flat != 0).any(axis=-1)) if sd else (xp.zeros(1, xp.int64)[:0],)
    idx = xp.stack(nz).astype(xp.int64) if sd else xp.zeros((0, 1), xp.int64)
    vals = self[tuple(Tensor._make(i, self._device) for i in nz)] if sd else self.unsqueeze(0)
    return SparseTensor._build(idx, vals, tuple(self.shape), True)


class SparseAddmm(Op):
    """out = S @ D from S's COO (rows, cols, values) and a dense D: the first input is S's
    values (their gradient is sum_p g[row, p] D[col, p]) or, for a leaf S, S itself (its
    gradient is g @ D^T on S's pattern, as torch's sparse gradient)."""

    __slots__ = ()

    def forward(ctx, first, d, *, idx, vals, shape, mask):
        ctx.idx, ctx.mask = idx, mask
        v = first if mask is None else vals
        ctx.save(v, d)
        rows, cols = idx
        return _row_sums(ctx.xp, rows, v[:, None] * d[cols], shape[0])

    def backward(ctx, g):
        v, d = ctx.saved_tensors
        rows, cols = (Tensor._make(i, g._device) for i in ctx.idx)
        gd = None
        if ctx.needs_input_grad[1]:  # S^T @ g, by the same product
            gd = SparseAddmm.apply(v, g, idx=ctx.idx[::-1], vals=None,
                                   shape=(d.shape[0], g.shape[0]), mask=None)
        if not ctx.needs_input_grad[0]:
            return None, gd
        if ctx.mask is None:
            return (g[rows] * d[cols]).sum(-1), gd
        return g.mm(d.t()) * Tensor._make(ctx.mask, g._device), gd


def _row_sums(xp, rows, prod, n: int):
    """out[r] = sum of prod's rows whose row index is r: on NumPy by sorting the rows and one
    add.reduceat (half np.add.at's time: 2000 x 2000 with 20000 nonzeros times 64 columns,
    7.5 vs 14.7 ms), CuPy's scatter_add elsewhere."""
    if xp is not np or not rows.size:
        return _scatter(xp, (rows,), prod, (n, prod.shape[1]))
    order = np.argsort(rows, kind="stable")
    rs = rows[order]
    starts = np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]])
    out = np.zeros((n, prod.shape[1]), prod.dtype)
    out[rs[starts]] = np.add.reduceat(prod[order], starts, axis=0)
    return out


def _mm(s: SparseTensor, d: Tensor) -> Tensor:
    if s.sparse_dim() != 2 or s.dense_dim() or d.ndim != 2:
        raise RuntimeError(f"sparse.mm: expected a 2-D sparse and a 2-D dense matrix, got "
                           f"sparse {list(s.shape)} and {list(d.shape)}")
    if s.shape[1] != d.shape[0]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {s.shape[1]}, got "
                           f"{d.shape[0]}")
    if s.dtype is not d.dtype:
        raise dtype_mismatch(s.dtype, d.dtype)
    v = s._sp_vals
    if v._requires_grad or not s._requires_grad:
        return SparseAddmm.apply(v, d, idx=s._sp_idx, vals=None, shape=s._sp_size, mask=None)
    xp = s._device.xp
    mask = xp.zeros(s._sp_size, s._data.dtype)  # a leaf's gradient lives on its pattern
    mask[tuple(s._sp_idx)] = 1
    return SparseAddmm.apply(s, d, idx=s._sp_idx, vals=v._data, shape=s._sp_size, mask=mask)


def mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """Same as torch.sparse.mm: sparse @ dense is dense (gradients for both, see SparseAddmm);
    sparse @ sparse is sparse (densified here); dense @ dense is mm."""
    if isinstance(mat1, SparseTensor) and not isinstance(mat2, SparseTensor):
        return _mm(mat1, mat2)
    if isinstance(mat1, SparseTensor) and isinstance(mat2, SparseTensor):
        return to_sparse(mat1.to_dense().mm(mat2.to_dense()))
    return mat1.to_dense().mm(mat2.to_dense())


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1.0, alpha=1.0) -> Tensor:
    """Same as torch.sparse.addmm: beta * mat + alpha * (mat1 @ mat2), mat1 sparse."""
    return mat * beta + mm(mat1, mat2) * alpha


def spmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Same as torch.spmm: sparse.mm."""
    return mm(input, mat2)


def _sparse_rows(s: SparseTensor, d: Tensor):
    """(rows, their dense product rows): the coalesced nonzero rows of s and (s @ d)[rows]."""
    c = s.coalesce()
    xp = s._device.xp
    rows = xp.unique(c._sp_idx[0])
    out = _mm(s, d)
    return rows, out[Tensor._make(rows, s._device)]


def hspmm(mat1: Tensor, mat2: Tensor) -> SparseTensor:
    """Same as torch.hspmm: sparse @ dense as a hybrid sparse tensor (one sparse dimension: the
    rows of mat1 that hold a nonzero; the rows' products dense in the values)."""
    rows, vals = _sparse_rows(_need_sparse(mat1, "hspmm"), mat2)
    return SparseTensor._build(rows[None], vals, (mat1.shape[0], mat2.shape[1]), False)


def hsmm(*args, **kwargs) -> SparseTensor:
    """Same as torch.hsmm(mat1, mat2): hspmm, whose name torch's argument errors give too (so
    this calls the argument-checked top-level hspmm)."""
    from .. import hspmm as checked

    return checked(*args, **kwargs)


hsmm.__wrapped_by_argcheck__ = True
hsmm.__signature__ = __import__("inspect").signature(hspmm)


def smm(input: Tensor, mat: Tensor) -> SparseTensor:
    """Same as torch.smm: sparse @ dense as a sparse tensor holding every column of the rows
    of ``input`` that have a nonzero (zeros of the product included, as torch's)."""
    s = _need_sparse(input, "smm")
    rows, vals = _sparse_rows(s, mat)
    return _rows_to_coo(rows, vals, (s.shape[0], mat.shape[1]))


def _rows_to_coo(rows, vals: Tensor, size):
    xp = vals._device.xp
    p = size[1]
    idx = xp.stack([xp.repeat(rows, p), xp.tile(xp.arange(p), len(rows))]).astype(xp.int64)
    return SparseTensor._build(idx, vals.reshape(-1), size, False)  # torch's flag, though sorted


def sspaddmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None):
    """Same as torch.sspaddmm: beta * input + alpha * (mat1 @ mat2), input and mat1 sparse; the
    result is sparse and uncoalesced (input's entries, then the product's), as torch's."""
    from .. import cat

    s = _need_sparse(input, "sspaddmm")
    rows, vals = _sparse_rows(_need_sparse(mat1, "sspaddmm"), mat2)
    prod = _rows_to_coo(rows, vals, (mat1.shape[0], mat2.shape[1]))
    xp = s._device.xp
    idx = xp.concatenate([s._sp_idx, prod._sp_idx], axis=1)
    res = SparseTensor._build(idx, cat([s._sp_vals * beta, prod._sp_vals * alpha]),
                              s._sp_size, False)
    if out is not None:
        return resize_as_sparse_(out, res, _copy=True)
    return res


def saddmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None):
    """Same as torch.saddmm: sspaddmm."""
    return sspaddmm(input, mat1, mat2, beta=beta, alpha=alpha, out=out)


def _need_sparse(t, name):
    if not isinstance(t, SparseTensor):
        raise RuntimeError(f"{name}: expected a sparse COO tensor, but got a "
                           f"{type(t).__name__} with layout torch.strided")
    return t


def resize_as_sparse_(input: Tensor, the_template: Tensor, _copy=False):
    """Same as torch.resize_as_sparse_: ``input`` (sparse) takes the template's size; a
    non-empty tensor keeps its number of sparse and dense dimensions and may only grow."""
    s = _need_sparse(input, "resize_as_sparse_")
    t = _need_sparse(the_template, "resize_as_sparse_")
    if _copy:
        s._sp_idx, s._sp_vals, s._sp_coalesced = t._sp_idx, t._sp_vals, t._sp_coalesced
    elif s._nnz():
        if t.sparse_dim() != s.sparse_dim():
            raise RuntimeError(f"changing the number of sparse dimensions (from "
                               f"{s.sparse_dim()} to {t.sparse_dim()}) on a non-empty sparse "
                               "tensor is not supported.")
        if t.dense_dim() != s.dense_dim():
            raise RuntimeError(f"changing the number of dense dimensions (from {s.dense_dim()} "
                               f"to {t.dense_dim()}) on a non-empty sparse tensor is not "
                               "supported.")
        if any(a < b for a, b in zip(t._sp_size, s._sp_size)):
            raise RuntimeError("shrinking the size of dimensions on a non-empty sparse tensor "
                               "is not supported.")
    else:
        xp = s._device.xp
        s._sp_idx = xp.zeros((t.sparse_dim(), 0), xp.int64)
        s._sp_vals = s._sp_vals.new_zeros((0, *t._sp_size[t.sparse_dim():]))
    s._sp_size, s._sp_dense = tuple(t._sp_size), None
    return s


def _dense_refusal(name):
    def method(self, *args, **kwargs):
        raise RuntimeError(f"{name.lstrip('_')} expected sparse coordinate tensor layout but got "
                           "Strided")

    method.__name__ = name
    method.__doc__ = f"torch.Tensor.{name}: for sparse COO tensors; a strided one raises."
    return method


def _nnz_refusal(self):
    """torch.Tensor._nnz: for sparse tensors; a strided one raises."""
    raise NotImplementedError("Could not run 'aten::_nnz' with arguments from the 'CPU' "
                              "backend. This could be because the operator doesn't exist for "
                              "this backend.")

