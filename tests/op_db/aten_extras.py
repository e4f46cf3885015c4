"""Op-table entries for ATen's spellings (grid_sampler*, embedding_bag's 4-tuple, ctc_loss with an
integer reduction), lobpcg, and the sparse COO products (sparse.mm/spmm through the values of a
sparse operand, smm/hspmm/hsmm/sspaddmm/saddmm densified for the comparison)."""

import numpy as np

from op_db import OpInfo, arr, register

IDX = [[0, 1, 1, 2, 0], [2, 0, 2, 1, 2]]  # (0, 2) twice: an uncoalesced operand


def _grid(shape, grid_shape):
    def samples(rng, dtype):
        yield [arr(rng, shape, dtype), arr(rng, grid_shape, dtype, -1.3, 1.3)], {}
    return samples


def _sampler(name, mode, pad, align):
    return lambda T, x, g: getattr(T, name)(x, g, mode, pad, align)


def _bag(mode, *rest):
    def fn(T, w):
        out = T.embedding_bag(w, T.tensor([0, 2, 4, 4, 1, 3]), T.tensor([0, 2, 2, 5]), False,
                              mode, False, None, *rest)
        return out[0]
    return fn


def _ctc(reduction):
    def fn(T, x):
        tg, il, tl = T.tensor([[1, 2, 2], [3, 1, 0]]), [6, 5], [3, 2]
        return T.ctc_loss(x.log_softmax(2), tg, il, tl, 0, reduction)
    return fn


def _values(rng, dtype):
    yield [arr(rng, (5,), dtype), arr(rng, (3, 2), dtype)], {}


def _sp(T, v):
    return T.sparse_coo_tensor(IDX, v, (3, 3))


def _lobpcg(T, a):
    x0 = T.tensor(np.linspace(-1.0, 1.0, 16).reshape(8, 2), dtype=a.dtype)
    sym = a @ a.mT + 8 * T.eye(8, dtype=a.dtype)
    return T.lobpcg(sym, X=x0, tol=1e-12, niter=60)[0]


def _leaf_to_dense(T, v, d):
    """A leaf sparse tensor's to_dense (ToDense) and coalesce, next to a product of v."""
    s = T.sparse_coo_tensor(IDX, v.detach(), (3, 3), requires_grad=True)
    return s.coalesce().to_dense() + T.sparse.mm(_sp(T, v), d).sum()


register(
    OpInfo("grid_sampler", _sampler("grid_sampler", 0, 0, False),
           _grid((2, 3, 4, 5), (2, 3, 2, 2)), tags=("grid_sampler_2d",)),
    OpInfo("grid_sampler_2d_bicubic", _sampler("grid_sampler_2d", 2, 1, True),
           _grid((1, 2, 5, 4), (1, 3, 2, 2)), tags=("grid_sampler_2d",)),
    OpInfo("grid_sampler_3d", _sampler("grid_sampler_3d", 0, 2, True),
           _grid((1, 2, 3, 4, 3), (1, 2, 3, 2, 3))),
    OpInfo("embedding_bag", _bag(1), lambda rng, dt: iter([([arr(rng, (5, 3), dt)], {})])),
    OpInfo("embedding_bag_max_pad", _bag(2, False, 4),
           lambda rng, dt: iter([([arr(rng, (5, 3), dt)], {})]), tags=("embedding_bag",)),
    OpInfo("ctc_loss", _ctc(1), lambda rng, dt: iter([([arr(rng, (6, 2, 5), dt)], {})])),
    OpInfo("ctc_loss_none", _ctc(0), lambda rng, dt: iter([([arr(rng, (6, 2, 5), dt)], {})]),
           tags=("ctc_loss",)),
    OpInfo("lobpcg", _lobpcg, lambda rng, dt: iter([([arr(rng, (8, 8), dt)], {})]),
           dtypes=("float64",), grad_atol=1e-7),
    # float32 only: torch has no forward AD through a sparse tensor's values and its double
    # backward of sparse.mm drops terms (ndgrad's match finite differences: test_sparse_coo's
    # gradgradcheck), so the float64 forward-AD and second-order sweeps would compare against
    # a wrong reference; the first-order gradients are compared with torch's here
    OpInfo("sparse.mm", lambda T, v, d: T.sparse.mm(_sp(T, v), d), _values, dtypes=("float32",),
           tags=("sparse_coo_tensor", "spmm")),
    OpInfo("spmm", lambda T, v, d: T.spmm(_sp(T, v), d), _values, dtypes=("float32",)),
    OpInfo("sparse_coo_tensor_leaf", _leaf_to_dense, _values, tags=("sparse_coo_tensor",),
           dtypes=("float32",)),
    # sparse results: compared densified; torch has no derivative for these products
    OpInfo("smm", lambda T, v, d: T.smm(_sp(T, v), d).to_dense(), _values, grad=False),
    OpInfo("hspmm", lambda T, v, d: T.hspmm(_sp(T, v), d).to_dense(), _values, grad=False,
           tags=("hsmm",)),
    OpInfo("hsmm", lambda T, v, d: T.hsmm(_sp(T, v), d).to_dense(), _values, grad=False),
    OpInfo("sspaddmm", lambda T, v, d: T.sspaddmm(
        T.sparse_coo_tensor([[0], [1]], v[:1], (3, 2)), _sp(T, v), d, beta=2,
        alpha=3).to_dense(), _values, grad=False, tags=("saddmm",)),
    OpInfo("saddmm", lambda T, v, d: T.saddmm(
        T.sparse_coo_tensor([[0], [1]], v[:1], (3, 2)), _sp(T, v), d).to_dense(), _values,
        grad=False),
    OpInfo("resize_as_sparse_", lambda T, v, d: T.resize_as_sparse_(
        _sp(T, v.detach()), T.sparse_coo_tensor([[0], [1]], v[:1].detach(), (4, 5))).to_dense(),
        _values, grad=False),
)
