"""Creation functions against torch: dtype inference, values, shapes, and error messages."""

import numpy as np
import pytest
from autograd_compare import same

CASES = {
    # torch.tensor's inference and copies
    "tensor_ints": lambda L: L.tensor([[1, 2], [3, 4]]),
    "tensor_floats": lambda L: L.tensor([1.5, 2]),
    "tensor_bools": lambda L: L.tensor([True, False]),
    "tensor_mixed": lambda L: L.tensor([1, 2.5, True]),
    "tensor_complex": lambda L: L.tensor([1 + 2j, 2]),
    "tensor_empty": lambda L: L.tensor([]),
    "tensor_empty_2d": lambda L: L.tensor([[], []]),
    "tensor_scalar": lambda L: L.tensor(3.0),
    "tensor_range": lambda L: L.tensor(range(3)),
    "tensor_tuple": lambda L: L.tensor((1, 2)),
    "tensor_np_int32_scalars": lambda L: L.tensor([np.int32(1), np.int16(2)]),
    "tensor_np_float64_scalar_wins": lambda L: L.tensor([np.float64(1.0), 2.0]),
    "tensor_np_float32_scalar": lambda L: L.tensor([np.float32(1.5), 2]),
    "tensor_np_int_with_python_int": lambda L: L.tensor([np.int32(1), 2]),
    "tensor_np_array": lambda L: L.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor_np_float16": lambda L: L.tensor(np.array([1, 2], dtype=np.float16)),
    "tensor_0d_tensors": lambda L: L.tensor([L.tensor(1.0), L.tensor(2.0)]),
    "tensor_tensors_promote": lambda L: L.tensor([L.tensor(1, dtype=L.int32), 2]),
    "tensor_dtype": lambda L: L.tensor([1.5, -2.7], dtype=L.int32),
    "tensor_python_type_dtype": lambda L: L.tensor([[1, 2]], dtype=float),
    "tensor_bfloat16": lambda L: L.tensor([1.0, 2.5], dtype=L.bfloat16),
    "tensor_requires_grad": lambda L: L.tensor([1.0], requires_grad=True),
    "tensor_from_tensor_warns": lambda L: L.tensor(L.tensor([1, 2])),
    "tensor_default_float64": lambda L: (L.set_default_dtype(L.float64), L.tensor([1.0, 2j]),
                                         L.tensor(1.0))[1:],
    # errors of torch.tensor
    "ragged": lambda L: L.tensor([[1, 2], [3]]),
    "ragged_deep": lambda L: L.tensor([[[1, 2], [3, 4]], [[1, 2], [3]]]),
    "not_a_sequence": lambda L: L.tensor([[1, 2], 3]),
    "string": lambda L: L.tensor("a"),
    "none": lambda L: L.tensor(None),
    "none_inside": lambda L: L.tensor([1, None]),
    "object": lambda L: L.tensor(object()),
    "dict": lambda L: L.tensor({1: 2}),
    "generator": lambda L: L.tensor(x for x in [1]),
    "overflow": lambda L: L.tensor(2 ** 63),
    "vector_tensors_inside": lambda L: L.tensor([L.tensor([1.0, 2.0]), L.tensor([2.0, 3.0])]),
    "int_requires_grad": lambda L: L.tensor([1], requires_grad=True),
    "byte_order": lambda L: L.tensor(np.zeros(2, dtype=">f4")),
    # filled
    "zeros_forms": lambda L: [L.zeros(2, 3), L.zeros((2, 3)), L.zeros([2]), L.zeros(()),
                              L.zeros(L.Size([1, 2])), L.zeros(2, dtype=L.int64)],
    "zeros_tensor_sizes": lambda L: L.zeros(L.tensor(2), 3),
    "ones_empty_full": lambda L: [L.ones(2, dtype=L.int32), L.empty(2, 3).shape,
                                  L.full((2,), 1.5), L.full((2,), 1), L.full((2,), True),
                                  L.full((2,), L.tensor(2.0)), L.full((1,), 7, dtype=L.float64)],
    "eye": lambda L: [L.eye(2, 3), L.eye(2, dtype=L.int64), L.eye(0)],
    "likes": lambda L: [L.zeros_like(L.ones(2), dtype=L.int64), L.ones_like(L.zeros(2, 2)),
                        L.full_like(L.zeros(2, dtype=L.int64), 2.7), L.empty_like(L.ones(3)).shape,
                        L.ones_like(L.ones(1, requires_grad=True)).requires_grad],
    "zeros_float_size": lambda L: L.zeros(2, 3.0),
    "zeros_negative": lambda L: L.zeros(-1),
    "ones_negative": lambda L: L.ones(2, -3),
    "zeros_two_tuples": lambda L: L.zeros((2,), (3,)),
    "zeros_float": lambda L: L.zeros(2.0),
    "zeros_none": lambda L: L.zeros(None),
    "full_int_size": lambda L: L.full(2, 1.0),
    "full_float_size": lambda L: L.full((2, 3.0), 1),
    "eye_negative": lambda L: L.eye(-1),
    "eye_float": lambda L: L.eye(2.0),
    "like_not_tensor": lambda L: L.zeros_like([1]),
    "empty_negative": lambda L: L.empty(2, -3),
    # ranges
    "arange_forms": lambda L: [L.arange(5), L.arange(1, 4), L.arange(0, 1, 0.25), L.arange(2.5),
                               L.arange(10, 0, -3), L.arange(0, 0), L.arange(L.tensor(3)),
                               L.arange(np.int64(3)), L.arange(start=1, end=3),
                               L.arange(5, dtype=L.float32)],
    "arange_float_accuracy": lambda L: [L.arange(0, 1, 0.1), L.arange(0, 1, 0.1,
                                                                      dtype=L.float64)],
    "arange_int_dtype_truncates": lambda L: [L.arange(0, 5.5, 1, dtype=L.int64),
                                             L.arange(0.5, 3.7, 1, dtype=L.int64),
                                             L.arange(0.5, 3.7, 1, dtype=L.int32),
                                             L.arange(0, 5, 1.5, dtype=L.int64)],
    "arange_half": lambda L: [L.arange(0, 1, 0.1, dtype=L.float16),
                              L.arange(0, 10, 3, dtype=L.bfloat16)],
    "arange_zero_step": lambda L: L.arange(0, 5, 0),
    "arange_bad_sign": lambda L: L.arange(0, 10, -1),
    "arange_bool": lambda L: L.arange(5, dtype=L.bool),
    "arange_inf": lambda L: L.arange(float("inf")),
    "linspace": lambda L: [L.linspace(0, 1, 5), L.linspace(0, 1, 1), L.linspace(0, 1, 0),
                           L.linspace(0, 10, 5, dtype=L.int64), L.linspace(-1, 1, 4, dtype=L.int32),
                           L.linspace(0.1, 0.9, 7), L.linspace(L.tensor(0.0), 1, 3),
                           L.linspace(0, 1, 5, requires_grad=True),
                           L.linspace(-10, 10, 101, dtype=L.float64)],
    "linspace_negative": lambda L: L.linspace(0, 1, -1),
    "logspace": lambda L: [L.logspace(0, 2, 3), L.logspace(0, 2, 3, base=2),
                           L.logspace(0, 1, 3, dtype=L.int64), L.logspace(-2, 2, 9)],
    # complex from parts
    "complex": lambda L: [L.complex(L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0])),
                          L.complex(L.tensor([1.0], dtype=L.float64),
                                    L.tensor([2.0], dtype=L.float64))],
    "complex_mismatch": lambda L: L.complex(L.tensor([1.0]), L.tensor([1.0], dtype=L.float64)),
    "complex_ints": lambda L: L.complex(L.tensor([1]), L.tensor([2])),
    "polar": lambda L: L.polar(L.tensor([1.0, 2.0]), L.tensor([0.0, 3.0])),
    # new_* methods
    "new_methods": lambda L: [L.zeros(3, dtype=L.int32).new_zeros(2, 3), L.ones(2).new_ones((1,)),
                              L.zeros(3).new_full((2,), 3), L.zeros(3).new_empty(2).shape,
                              L.zeros(3).new_tensor([1, 2]),
                              L.zeros(2, dtype=L.float64).new_tensor([1, 2], dtype=L.int64),
                              L.zeros(1).new_tensor(L.tensor([1.0, 2.0]))],
}


@pytest.mark.parametrize("name", list(CASES))
def test_creation_matches_torch(name):
    same(CASES[name], rtol=1e-6, atol=1e-7)


def test_complex_gradients():
    def f(lib):
        re = lib.tensor([1.0, 2.0], requires_grad=True)
        im = lib.tensor([0.5, -1.0], requires_grad=True)
        z = lib.complex(re, im)
        (z * z.conj()).real.sum().backward()
        return z, re.grad, im.grad

    same(f)


def test_fill_zero_copy_inplace_records_graph():
    def f(lib):
        x = lib.tensor([1.0, float("inf"), 3.0], requires_grad=True)
        y = x * 2
        y[0:2].fill_(5.0)
        z = x * 3
        z.zero_()
        w = x * 4
        w.copy_(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True))
        (y.sum() + z.sum() + w.sum()).backward()
        return y, z, w.grad_fn.name(), x.grad

    same(f)


COPY_ERRORS = {
    "copy_shape": lambda L: L.zeros(3).copy_(L.ones(2)),
    "copy_more_dims": lambda L: L.zeros(3).copy_(L.ones(2, 3)),
    "copy_list": lambda L: L.zeros(3).copy_([1, 2, 3]),
    "fill_vector": lambda L: L.zeros(3).fill_(L.tensor([1.0])),
}


@pytest.mark.parametrize("name", list(COPY_ERRORS))
def test_copy_and_fill_errors(name):
    same(COPY_ERRORS[name])


def test_copy_broadcasts_and_casts():
    same(lambda L: [L.zeros(2, 3).copy_(L.tensor([1, 2, 3])), L.zeros(3).copy_(L.tensor(2)),
                    L.zeros(2, dtype=L.int64).copy_(L.tensor([1.7, -2.2]))])


def test_as_tensor_and_asarray_share_memory():
    def f(lib):
        a = np.arange(3.0)
        t = lib.as_tensor(a)
        u = lib.asarray(a)
        c = lib.asarray(a, copy=True)
        d = lib.as_tensor(a, dtype=lib.float32)
        a[0] = 9
        return t, u, c, d, lib.as_tensor([1, 2]), lib.asarray([1.0], requires_grad=True)

    same(f)
