"""Sparse COO tensors, minimal but honest: a ``SparseTensor`` stores ``indices`` (sparse_dim, nnz)
and ``values`` (nnz, *dense_dims), as torch's, and implements what torch's COO API names
(coalesce, indices/values, _nnz, to_dense, t, sparse.mm and its relatives spmm/smm/hspmm/hsmm/
sspaddmm/saddmm). Every other op densifies it: a SparseTensor *is* an ndgrad Tensor whose array
(``_data``) is its dense form, built on first use and cached. So ops torch refuses on sparse
input (view, add(sparse, dense)...) run here on the dense form instead of raising, and their
results are dense.

Gradients: a SparseTensor built from values that require grad carries torch's
SparseCooTensorWithDimsAndTensorsBackward0 node (the values' gradient is the dense gradient at
the indices); sparse.mm gives the dense operand's gradient and, for a leaf sparse operand, a
sparse gradient on the operand's (coalesced) pattern, as torch's."""

from __future__ import annotations

import numpy as np

from .._backend import ufunc_at
from .._layouts import layout
from .._tensor import Tensor
from ..autograd.op import Op

sparse_coo = layout("sparse_coo")


def _scatter(xp, idx, vals, shape):
    """The dense array of COO (idx, vals): duplicates add up."""
    out = xp.zeros(shape, vals.dtype)
    if vals.shape[0]:
        ufunc_at(xp, "add", out, tuple(idx), vals)
    return out


class SparseCooTensorWithDimsAndTensors(Op):
    """values (nnz, *dense) -> the dense array; the values' gradient is the dense one at idx."""

    __slots__ = ()

    def forward(ctx, vals, *, idx, shape):
        ctx.idx = idx
        return _scatter(ctx.xp, idx, vals, shape)

    def backward(ctx, g):
        return (g[tuple(Tensor._make(i, g._device) for i in ctx.idx)],)


class ToDense(Op):
    """A leaf sparse tensor's dense form, as a node so its gradient reaches the leaf."""

    __slots__ = ()

    def forward(ctx, x):
        return x.copy()

    def backward(ctx, g):
        return (g,)


class SparseTensor(Tensor):
    """A sparse COO tensor (torch.sparse_coo layout); see the module docstring for what runs
    sparse and what densifies."""

    __slots__ = ("_sp_idx", "_sp_vals", "_sp_size", "_sp_coalesced", "_sp_dense")
    is_sparse = True
    layout = sparse_coo

    @staticmethod
    def _build(idx, vals: Tensor, size, coalesced: bool, requires_grad=False) -> "SparseTensor":
        t = object.__new__(SparseTensor)
        t._sp_idx, t._sp_vals, t._sp_size, t._sp_coalesced = idx, vals, tuple(size), coalesced
        t._sp_dense = None
        t._device = vals._device
        t._requires_grad, t._grad, t._grad_fn, t._output_nr = requires_grad, None, None, 0
        t._vc, t._base, t._view_fn, t._retains_grad, t._hooks = [0], None, None, False, None
        if vals._grad_fn is not None or vals._requires_grad:
            from .._grad_mode import is_grad_enabled

            if is_grad_enabled():
                d = SparseCooTensorWithDimsAndTensors.apply(vals, idx=idx, shape=t._sp_size)
                t._sp_dense = d._data
                t._grad_fn, t._requires_grad = d._grad_fn, True
        return t

    # the dense form, for every op that does not know sparse tensors
    @property
    def _data(self):
        if self._sp_dense is None:
            v = self._sp_vals._data
            self._sp_dense = _scatter(self._device.xp, self._sp_idx, v, self._sp_size)
        return self._sp_dense

    @_data.setter
    def _data(self, value):
        raise RuntimeError("ndgrad's sparse COO tensors are read-only: in-place ops on them are "
                           "not supported (use to_dense())")

    @property
    def dtype(self):
        return self._sp_vals.dtype

    @property
    def shape(self):
        from .._tensor import Size

        return Size(self._sp_size)

    @property
    def grad(self):
        """The accumulated gradient: sparse on this tensor's coalesced pattern when it is zero
        elsewhere (sparse.mm's, as torch's), else dense (a dense op's, as torch's torch.mm)."""
        g = self._grad
        if g is None or isinstance(g, SparseTensor):
            return g
        c = self.coalesce()
        xp = self._device.xp
        mask = xp.zeros(self._sp_size[:c.sparse_dim()], bool)
        mask[tuple(c._sp_idx)] = True
        gd = g._data
        if (gd[~mask] != 0).any():
            return g
        return SparseTensor._build(c._sp_idx, Tensor._make(gd[tuple(c._sp_idx)], g._device),
                                   self._sp_size, False)  # (torch flags it uncoalesced too)

    @grad.setter
    def grad(self, value):
        self._grad = value

    def sparse_dim(self) -> int:
        return int(self._sp_idx.shape[0])

    def dense_dim(self) -> int:
        return len(self._sp_size) - self.sparse_dim()

    def _nnz(self) -> int:
        return int(self._sp_idx.shape[1])

    def is_coalesced(self) -> bool:
        return self._sp_coalesced

    def _indices(self) -> Tensor:
        return Tensor._make(self._sp_idx, self._device)

    def _values(self) -> Tensor:
        return self._sp_vals

    def indices(self) -> Tensor:
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self) -> Tensor:
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._sp_vals

    def coalesce(self) -> "SparseTensor":
        """Same as torch.Tensor.coalesce: indices sorted (row-major), duplicates summed."""
        if self._sp_coalesced:
            return self
        xp = self._device.xp
        idx = self._sp_idx
        dims = self._sp_size[:idx.shape[0]]
        if idx.shape[1]:
            flat = xp.ravel_multi_index(tuple(idx), dims) if dims else xp.zeros(idx.shape[1], int)
            uniq, inv = xp.unique(flat, return_inverse=True)
            new_idx = xp.stack(xp.unravel_index(uniq, dims)) if dims else idx[:, :len(uniq)]
        else:
            uniq, inv, new_idx = idx[0][:0], idx[0], idx
        from .. import zeros

        v = self._sp_vals
        vals = zeros((len(uniq), *v.shape[1:]), dtype=v.dtype, device=v.device).index_add(
            0, Tensor._make(inv.reshape(-1).astype(xp.int64), v._device), v)
        out = SparseTensor._build(new_idx.astype(xp.int64), vals, self._sp_size, True)
        if self._grad_fn is None and self._requires_grad:  # a leaf: coalesce is differentiable
            out._grad_fn, out._sp_dense = _to_dense_node(self)
            out._requires_grad = True
        return out

    def to_dense(self, dtype=None, *, masked_grad=None) -> Tensor:
        """Same as torch.Tensor.to_dense: the dense tensor (gradient flows back to the values or
        to this leaf)."""
        if self._grad_fn is None and self._requires_grad:
            out = ToDense.apply(self)
        elif self._grad_fn is not None:
            out = SparseCooTensorWithDimsAndTensors.apply(self._sp_vals, idx=self._sp_idx,
                                                          shape=self._sp_size)
        else:
            out = Tensor._make(self._data.copy(), self._device)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, *args, **kwargs) -> "SparseTensor":
        return self

    def t(self) -> "SparseTensor":
        if len(self._sp_size) > 2 or self.dense_dim():
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                               f"but got {self.sparse_dim()} sparse and {self.dense_dim()} dense "
                               "dimensions")
        return SparseTensor._build(self._sp_idx[::-1].copy(), self._sp_vals,
                                   self._sp_size[::-1], False)

    def __repr__(self, *, tensor_contents=None) -> str:
        """torch's sparse repr: indices and values, then size, nnz, dtype, layout, grad."""
        from .. import _print
        from .._backend import to_numpy

        def body(prefix, t):
            a, kind = to_numpy(t._data), _print._dtype_kind(t.dtype.name)
            a = a.astype(np.complex128 if kind == "c" else np.float64) if kind in "cf" else a
            text = _print._tensor_str(a, 7 + len(prefix), kind) if a.size else "[]"
            return prefix + text + (f", size={tuple(a.shape)}" if not a.size else "") + ")"

        suffixes = [f"size={self._sp_size}", f"nnz={self._nnz()}"]
        name = self.dtype.name
        if name not in (_print.get_default_dtype_name(), "int64", "bool"):
            suffixes.append(f"dtype=ndgrad.{name}")
        suffixes.append("layout=torch.sparse_coo")
        if self._grad_fn is not None:
            suffixes.append(f"grad_fn=<{self._grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        text = (f"tensor({body('indices=tensor(', self._indices())},\n       "
                f"{body('values=tensor(', self._sp_vals)},\n       {suffixes[0]}")
        return _print._add_suffixes(text, suffixes[1:], 7)

    __str__ = __repr__


def _to_dense_node(leaf):
    d = ToDense.apply(leaf)
    return d._grad_fn, d._data
