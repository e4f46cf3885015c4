"""Op-table entries for creation: factories (no tensor inputs), *_like and new_* from an input,
complex/polar from parts, and the in-place fills and copies with their gradients."""

import numpy as np

from op_db import OpInfo, arr, register

ALL = ("float32", "float64", "float16", "bfloat16", "int64", "bool")
F = ("float32", "float64")


def samples(*cases):
    def gen(rng, dtype):
        for shapes, kw in cases:
            yield [np.asarray(arr(rng, s, dtype)) for s in shapes], kw

    return gen


def op(name, fn, cases=(((), {}),), dtypes=("float32",), **kw):
    return OpInfo(name, fn, samples(*cases), dtypes=dtypes, **kw)


def _dt(T, x):
    return getattr(T, str(x.dtype).split(".")[-1])


register(
    # --- factories: one run per entry, dtypes come from the kwargs
    op("zeros_ones_full", lambda T: (T.zeros(2, 3), T.ones((2,), dtype=T.int64), T.zeros(()),
                                     T.full((2, 2), 1.5), T.full((3,), 7), T.full((1,), True),
                                     T.full((2,), -1, dtype=T.float16), T.ones(0, 3),
                                     T.empty(3, 2).shape, str(T.empty((0,)).dtype).split(".")[-1])),
    op("eye", lambda T: (T.eye(3), T.eye(2, 4), T.eye(3, 1, dtype=T.int64), T.eye(0),
                         T.eye(2, dtype=T.bool))),
    op("arange", lambda T: (T.arange(7), T.arange(-3, 3), T.arange(1.5, 4), T.arange(0, 2, 0.3),
                            T.arange(10, 0, -1.5), T.arange(5, dtype=T.float64),
                            T.arange(0, 1, 0.1, dtype=T.bfloat16), T.arange(2, 9, 3, dtype=T.int32),
                            T.arange(-1.0, 1.0, 0.25, dtype=T.float16))),
    op("linspace_logspace", lambda T: (T.linspace(-1, 1, 9), T.linspace(3, 3, 4),
                                       T.linspace(0, 1, 1), T.linspace(0, 7, 5, dtype=T.int64),
                                       T.linspace(5, -5, 6, dtype=T.float64),
                                       T.logspace(-1, 2, 4), T.logspace(0, 3, 4, base=2.0),
                                       T.logspace(0, 1, 3, dtype=T.float64))),
    op("tensor_inference", lambda T: (T.tensor([1, 2]), T.tensor([[1.0, 2], [3, 4]]),
                                      T.tensor(True), T.tensor([1, 2.5j]), T.tensor([]),
                                      T.tensor([[0.5]], dtype=T.float16),
                                      T.as_tensor([1, 2], dtype=T.float64),
                                      T.tensor(np.array([3, 4], dtype=np.int16)),
                                      T.Tensor([1, 2]), T.Tensor(2, 0))),
    # --- from an input tensor
    op("like", lambda T, x: (T.zeros_like(x), T.ones_like(x), T.full_like(x, 1),
                             T.empty_like(x).shape, T.zeros_like(x, dtype=T.float64),
                             T.ones_like(x, dtype=T.int64)),
       (([(2, 3)], {}), ([()], {})), ALL, grad=False),
    op("new_methods", lambda T, x: (x.new_zeros(2), x.new_ones((1, 2)), x.new_full((2,), 1),
                                    x.new_empty(3).shape, x.new_tensor([1, 0]),
                                    x.new_zeros(2, dtype=T.float64)),
       (([(2, 3)], {}),), ALL, grad=False),
    op("tensor_of_tensor_values", lambda T, x: T.tensor(x.detach().tolist(), dtype=_dt(T, x)),
       (([(2, 3)], {}), ([()], {})), ALL, grad=False),
    op("as_tensor_identity", lambda T, x: T.as_tensor(x) * 2, (([(3,)], {}),), F),
    # --- complex numbers from parts (differentiable)
    op("complex", lambda T, re, im: T.complex(re, im) * (0.5 - 1j),
       (([(3,), (3,)], {}), ([(2, 2), (2, 2)], {}), ([(), ()], {})), F),
    # (torch differentiates polar through |result|, so keep abs positive)
    op("polar", lambda T, r, t: T.polar(r.abs() + 0.1, t), (([(4,), (4,)], {}),), F),
    # --- in-place fills and copies on non-leaves
    op("fill_zero", lambda T, x, v: ((x * 1).fill_(2.5), (x * 1).zero_(), (x * 2).fill_(v.sum())),
       (([(2, 3), (2,)], {}),), F),
    op("copy_", lambda T, x, s: (x * 1).copy_(s), (([(2, 3), (3,)], {}), ([(2, 3), ()], {})), F),
    op("copy_casts", lambda T, x, s: (x * 1).copy_(s.to(T.float64)), (([(2, 3), (2, 3)], {}),),
       ("float32",)),
)

# --- added for tests/test_op_coverage.py: asarray (copies, dtypes, nested lists), from_dlpack
register(
    op("asarray", lambda T, x: (T.asarray(x) * 2, T.asarray(x, dtype=T.float64) * 1,
                                T.asarray(x, copy=True) * 3, T.asarray([[1, 2], [3, 4]]),
                                T.asarray(2.5), T.asarray(x, requires_grad=False).requires_grad),
       (([(2, 3)], {}), ([()], {})), F),
    op("from_dlpack", lambda T, x: T.from_dlpack(x.detach()) * 2, (([(2, 3)], {}),),
       F + ("int64", "bool"), grad=False),
)


def _seeded(fn):
    """Run ``fn`` from seed 0 and restore the global generator: ndgrad reproduces torch's CPU
    random streams bit for bit, so random factories compare like any other op."""

    def run(T, *args):
        state = T.get_rng_state()
        T.manual_seed(0)
        try:
            return fn(T, *args)
        finally:
            T.set_rng_state(state)

    return run


# --- added for tests/test_op_coverage.py: the random factories, from a fixed seed
register(
    op("rand_randn", _seeded(lambda T: (T.rand(2, 3), T.randn(4), T.rand(3, dtype=T.float64),
                                        T.randn((2, 2), dtype=T.float64))), tags=("rand", "randn")),
    op("randint_randperm", _seeded(lambda T: (T.randint(10, (2, 3)), T.randint(-5, 5, (4,)),
                                              T.randperm(7), T.randperm(3, dtype=T.float32))),
       tags=("randint", "randperm")),
    op("random_like", _seeded(lambda T, x: (T.rand_like(x), T.randn_like(x),
                                            T.randint_like(x, 7), T.randint_like(x, 2, 9))),
       (([(2, 3)], {}),), F, grad=False, tags=("rand_like", "randn_like", "randint_like")),
    # torch defines normal's gradients as zeros, so finite differences disagree by design
    op("normal", _seeded(lambda T, m, s: (T.normal(m, s.abs() + 0.1), T.normal(m, 2.0),
                                          T.normal(1.0, s.abs() + 0.1), T.normal(0.5, 2.0, (3,)))),
       (([(2, 3), (2, 3)], {}), ([(4,), (4,)], {})), F, gradcheck=False),
    op("bernoulli_multinomial", _seeded(lambda T, p: (
        T.bernoulli(p.sigmoid()), T.bernoulli(p.sigmoid(), 0.3),
        T.multinomial(p.exp(), 3), T.multinomial(p.exp(), 5, replacement=True))),
       (([(2, 4)], {}), ([(6,)], {})), F, grad=False, tags=("bernoulli", "multinomial")),
)
