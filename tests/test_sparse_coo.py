"""Sparse COO tensors against torch: construction, coalesce, indices/values, repr, to_sparse/
to_dense, sparse.mm and its relatives (values, sparsity, gradients of the dense operand, of
the values and of a leaf sparse operand; gradcheck/gradgradcheck in float64)."""

import re

import numpy as np
import pytest
import torch

import ndgrad

IDX = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]
VAL = [3.0, 4.0, 5.0, 1.0, -2.0]
R = np.random.default_rng(0)


def pair(dtype="float32", requires_grad=False, size=(3, 3)):
    a = torch.sparse_coo_tensor(IDX, np.array(VAL, dtype), size, requires_grad=requires_grad,
                                check_invariants=True)
    b = ndgrad.sparse_coo_tensor(IDX, np.array(VAL, dtype), size, requires_grad=requires_grad)
    return a, b


def same_sparse(a, b, tol=1e-6):
    assert b.is_sparse and a.is_sparse
    assert tuple(a.shape) == tuple(b.shape)
    assert a._nnz() == b._nnz() and a.is_coalesced() == b.is_coalesced()
    assert a._indices().tolist() == b._indices().tolist()
    np.testing.assert_allclose(a._values().detach().numpy(), b._values().detach().numpy(),
                               rtol=tol, atol=tol)


def test_construction_coalesce_and_accessors():
    a, b = pair()
    same_sparse(a, b)
    same_sparse(a.coalesce(), b.coalesce())
    assert b.layout == ndgrad.sparse_coo and repr(b.layout) == repr(a.layout)
    assert (b.sparse_dim(), b.dense_dim()) == (a.sparse_dim(), a.dense_dim())
    assert b.coalesce().indices().tolist() == a.coalesce().indices().tolist()
    assert b.coalesce().values().tolist() == a.coalesce().values().tolist()
    np.testing.assert_array_equal(b.to_dense().numpy(), a.to_dense().numpy())
    np.testing.assert_array_equal(b.t().to_dense().numpy(), a.t().to_dense().numpy())
    for name in ("indices", "values"):
        with pytest.raises(RuntimeError) as et:
            getattr(a, name)()
        with pytest.raises(RuntimeError, match=re.escape(str(et.value))):
            getattr(b, name)()
    # size inferred from the indices; dtype of a list of ints is int64
    a2 = torch.sparse_coo_tensor(IDX, [1, 2, 3, 4, 5])
    b2 = ndgrad.sparse_coo_tensor(IDX, [1, 2, 3, 4, 5])
    assert tuple(a2.shape) == tuple(b2.shape) and str(a2.dtype)[6:] == str(b2.dtype)[7:]
    with pytest.raises(RuntimeError) as et:
        torch.sparse_coo_tensor(IDX, VAL[:2])
    with pytest.raises(RuntimeError, match=re.escape(str(et.value))):
        ndgrad.sparse_coo_tensor(IDX, VAL[:2])


def test_repr_matches_torch():
    for dtype, rg in (("float32", False), ("float64", True)):
        a, b = pair(dtype, rg)
        assert repr(b).replace("ndgrad.", "torch.") == repr(a)
    big = np.round(R.standard_normal((20, 3)), 3)
    assert repr(ndgrad.tensor(big).to_sparse(1)).replace("ndgrad.", "torch.") == \
        repr(torch.tensor(big).to_sparse(1))
    assert repr(ndgrad.sparse_coo_tensor(IDX, VAL, (3, 3)).coalesce()).replace(
        "ndgrad.", "torch.") == repr(torch.sparse_coo_tensor(IDX, VAL, (3, 3)).coalesce())


def test_dense_methods_refuse_as_torch():
    x, y = torch.ones(2, 2), ndgrad.ones(2, 2)
    assert not y.is_sparse
    for name in ("coalesce", "is_coalesced", "indices", "values", "_nnz"):
        with pytest.raises(Exception) as et:
            getattr(x, name)()
        with pytest.raises(type(et.value)) as en:
            getattr(y, name)()
        assert str(en.value).split()[0] == str(et.value).split()[0]
    assert y.to_dense() is y


@pytest.mark.parametrize("sparse_dim", [None, 1, 2])
def test_to_sparse_matches_torch(sparse_dim):
    x = R.standard_normal((3, 4)) * (R.random((3, 4)) > 0.5)
    x[1] = 0
    args = () if sparse_dim is None else (sparse_dim,)
    a, b = torch.tensor(x).to_sparse(*args), ndgrad.tensor(x).to_sparse(*args)
    same_sparse(a, b)
    np.testing.assert_array_equal(b.to_dense().numpy(), x)


def test_sparse_mm_values_and_gradients():
    d = R.standard_normal((3, 2))
    # a leaf sparse operand: a sparse gradient on its coalesced pattern, as torch's
    a, b = pair("float64", True)
    dt, dn = torch.tensor(d, requires_grad=True), ndgrad.tensor(d, requires_grad=True)
    ot, on = torch.sparse.mm(a, dt), ndgrad.sparse.mm(b, dn)
    np.testing.assert_allclose(on.detach().numpy(), ot.detach().numpy())
    assert on.grad_fn.name() == ot.grad_fn.name() == "SparseAddmmBackward0"
    w = R.standard_normal((3, 2))
    ot.backward(torch.tensor(w))
    on.backward(ndgrad.tensor(w))
    np.testing.assert_allclose(dn.grad.numpy(), dt.grad.numpy())
    same_sparse(a.grad, b.grad)
    # values that require grad: their gradient, through the construction node
    vt = torch.tensor(VAL, dtype=torch.float64, requires_grad=True)
    vn = ndgrad.tensor(VAL, dtype=ndgrad.float64, requires_grad=True)
    st, sn = torch.sparse_coo_tensor(IDX, vt, (3, 3)), ndgrad.sparse_coo_tensor(IDX, vn, (3, 3))
    assert sn.grad_fn.name() == st.grad_fn.name()
    torch.sparse.mm(st, dt.detach()).backward(torch.tensor(w))
    ndgrad.sparse.mm(sn, dn.detach()).backward(ndgrad.tensor(w))
    np.testing.assert_allclose(vn.grad.numpy(), vt.grad.numpy())
    # a dense op on a leaf sparse tensor: torch.mm's gradient is dense
    a, b = pair("float64", True)
    torch.mm(a, dt.detach()).sum().backward()
    ndgrad.mm(b, dn.detach()).sum().backward()
    assert not b.grad.is_sparse
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy())


def test_sparse_mm_gradcheck():
    v = ndgrad.tensor(VAL, dtype=ndgrad.float64, requires_grad=True)
    d = ndgrad.tensor(R.standard_normal((3, 2)), requires_grad=True)
    f = lambda v, d: ndgrad.sparse.mm(ndgrad.sparse_coo_tensor(IDX, v, (3, 3)), d)  # noqa: E731
    assert ndgrad.autograd.gradcheck(f, (v, d))
    assert ndgrad.autograd.gradgradcheck(f, (v, d))


def test_sparse_mm_errors():
    a, b = pair()
    with pytest.raises(RuntimeError) as et:
        torch.sparse.mm(a, torch.zeros(4, 2))
    with pytest.raises(RuntimeError, match=re.escape(str(et.value))):
        ndgrad.sparse.mm(b, ndgrad.zeros(4, 2))
    with pytest.raises(RuntimeError) as et:
        torch.sparse.mm(a, torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=re.escape(str(et.value))):
        ndgrad.sparse.mm(b, ndgrad.zeros(3, 2, dtype=ndgrad.float64))


def test_products_match_torch():
    d = R.standard_normal((3, 2)).astype("float32")
    a, b = pair()
    dt, dn = torch.tensor(d), ndgrad.tensor(d)
    np.testing.assert_allclose(ndgrad.spmm(b, dn).numpy(), torch.spmm(a, dt).numpy(), 1e-6)
    for name in ("smm", "hspmm", "hsmm"):
        same_sparse(getattr(torch, name)(a, dt), getattr(ndgrad, name)(b, dn))
    it = torch.sparse_coo_tensor([[0], [1]], [10.0], (3, 2))
    i_n = ndgrad.sparse_coo_tensor([[0], [1]], [10.0], (3, 2))
    for name in ("sspaddmm", "saddmm"):
        same_sparse(getattr(torch, name)(it, a, dt, beta=2, alpha=3),
                    getattr(ndgrad, name)(i_n, b, dn, beta=2, alpha=3), 1e-5)
    np.testing.assert_allclose(ndgrad.sparse.addmm(dn[:, :1].expand(3, 2) * 0 + 1, b, dn).numpy(),
                               torch.sparse.addmm(torch.ones(3, 2), a, dt).numpy(), 1e-6)


def test_resize_as_sparse_():
    a, b = pair()
    ta = torch.sparse_coo_tensor([[0], [1]], [1.0], (4, 5))
    tb = ndgrad.sparse_coo_tensor([[0], [1]], [1.0], (4, 5))
    assert torch.resize_as_sparse_(a, ta) is a and ndgrad.resize_as_sparse_(b, tb) is b
    same_sparse(a, b)
    t3 = ndgrad.sparse_coo_tensor([[0], [1], [0]], [1.0], (4, 5, 4))
    with pytest.raises(RuntimeError, match="changing the number of sparse dimensions"):
        ndgrad.resize_as_sparse_(b, t3)
