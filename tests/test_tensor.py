"""The Tensor object against torch: legacy constructor, metadata, conversions, printing, the
requires_grad rules, Size, device and dtype objects, finfo/iinfo, DLPack and NumPy interop."""

import pickle

import numpy as np
import pytest
import torch
from autograd_compare import same

import ndgrad

NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"

CASES = {
    # legacy constructor
    "Tensor_sizes": lambda L: L.Tensor(2, 3).shape,
    "Tensor_size_object": lambda L: L.Tensor(L.Size([2, 3])).shape,
    "Tensor_data": lambda L: L.Tensor([1, 2]),
    "Tensor_tuple_is_data": lambda L: L.Tensor((2, 3)),
    "Tensor_empty": lambda L: L.Tensor(),
    "Tensor_zero": lambda L: L.Tensor(0).shape,
    "Tensor_numpy": lambda L: L.Tensor(np.array([1, 2])),
    "Tensor_numpy_0d": lambda L: L.Tensor(np.array(3.0)).shape,
    "Tensor_of_tensor_aliases": lambda L: _alias(L),
    "Tensor_float": lambda L: L.Tensor(2.5),
    "Tensor_string": lambda L: L.Tensor("a"),
    "Tensor_ragged": lambda L: L.Tensor([[1, 2], [3]]),
    "Tensor_negative": lambda L: L.Tensor(-1),
    "Tensor_float_size": lambda L: L.Tensor(2, 3.0),
    "legacy_types": lambda L: (L.FloatTensor([1, 2]), L.LongTensor(3).shape, L.LongTensor([1.7, 2]),
                               L.ByteTensor([1]), L.BoolTensor([1, 0]), L.DoubleTensor(np.ones(2)),
                               L.FloatTensor(2, 3).shape, L.FloatTensor().shape,
                               L.HalfTensor([1.5]), L.IntTensor([2]), L.ShortTensor([3]),
                               L.CharTensor([-1]), L.BFloat16Tensor([0.5]),
                               L.FloatTensor(L.tensor([1.0, 2.0])), L.FloatTensor.dtype,
                               L.zeros(2).type(L.LongTensor)),
    "legacy_isinstance": lambda L: (isinstance(L.zeros(2), L.FloatTensor),
                                    isinstance(L.zeros(2, dtype=L.int64), L.FloatTensor),
                                    isinstance(L.zeros(2, dtype=L.int64), L.LongTensor),
                                    issubclass(L.FloatTensor, L.Tensor)),
    "legacy_type_mismatch": lambda L: L.FloatTensor(L.tensor([1, 2])),
    "legacy_new": lambda L: (L.zeros(2).new(2, 3).shape, L.zeros(2).new([1, 2]),
                             L.zeros(2).new().shape, L.zeros(2).new(L.Size([2])).shape,
                             L.zeros(2, dtype=L.int64).new([1.5])),
    # metadata
    "sizes": lambda L: (L.zeros(2, 3).size(), L.zeros(2, 3).size(-1), L.zeros(2, 3).size(dim=1),
                        L.zeros(2, 3).shape, L.zeros(2, 3).ndim, L.zeros(2, 3).dim(),
                        L.zeros(2, 3).numel(), L.zeros(2, 3).nelement(), len(L.zeros(3, 2))),
    "size_out_of_range": lambda L: L.zeros(2, 3).size(5),
    "stride_out_of_range": lambda L: L.zeros(2, 3).stride(5),
    "strides": lambda L: (L.zeros(2, 3).stride(), L.zeros(2, 3).t().stride(), L.tensor(5).stride(),
                          L.zeros(2, 3).stride(1), L.zeros(2, 3).expand(4, 2, 3).stride(),
                          L.zeros(3, 1).t().stride()),
    "contiguity": lambda L: (L.zeros(0, 3).is_contiguous(), L.zeros(3, 1).t().is_contiguous(),
                             L.zeros(1, 3)[:, ::2].is_contiguous(),
                             L.zeros(2, 3).t().is_contiguous(),
                             L.zeros(2, 3).expand(2, 2, 3).is_contiguous()),
    "offsets": lambda L: (L.zeros(4, 3)[1:].storage_offset(), L.zeros(2, 3)[:, 1:].storage_offset(),
                          L.zeros(2, 3).t()[1:].storage_offset(), L.zeros(3).storage_offset()),
    "sizes_in_bytes": lambda L: (L.zeros(2, 3).element_size(), L.zeros(2, 3).nbytes,
                                 L.zeros(2, dtype=L.int16).itemsize,
                                 L.zeros(3, dtype=L.bfloat16).nbytes),
    "kinds": lambda L: (L.zeros(1).is_floating_point(),
                        L.zeros(1, dtype=L.bfloat16).is_floating_point(),
                        L.zeros(1, dtype=L.int64).is_floating_point(),
                        L.zeros(1, dtype=L.complex64).is_complex(), L.zeros(1).is_cuda,
                        L.is_tensor(L.zeros(1)), L.is_tensor([1]),
                        L.is_floating_point(L.zeros(1)), L.is_complex(L.zeros(1)),
                        L.numel(L.zeros(2, 2))),
    "device_of_tensor": lambda L: (str(L.zeros(1).device), repr(L.zeros(1).device),
                                   L.zeros(1, device="cpu:0").device == L.device("cpu")),
    "transposes": lambda L: (L.zeros(2, 3).T.shape, L.zeros(2, 3, 4).mT.shape,
                             L.zeros(2, 3).H.shape, L.zeros(2, 3).mH.shape,
                             L.zeros(2, 3).adjoint().shape),
    "mT_1d": lambda L: L.zeros(2).mT,
    "H_1d": lambda L: L.tensor([1, 2]).H,
    "H_3d": lambda L: L.zeros(2, 3, 4).H,
    "complex_H": lambda L: L.tensor([[1 + 2j, 3j]]).H.tolist(),
    # conversion
    "item": lambda L: (L.tensor(3).item(), L.tensor([1.5]).item(), L.tensor([[1.0]]).item(),
                       L.tensor([True]).item(), L.tensor([1 + 2j]).item(),
                       L.tensor([1.5], dtype=L.bfloat16).item(),
                       L.tensor([1.0], dtype=L.float16).item(), type(L.tensor(2).item())),
    "item_many": lambda L: L.tensor([1, 2]).item(),
    "item_empty": lambda L: L.zeros(0).item(),
    "tolist": lambda L: (L.tensor([[1, 2], [3, 4]]).tolist(), L.tensor(2.5).tolist(),
                         L.zeros(2, dtype=L.bfloat16).tolist(), L.tensor([1 + 2j]).tolist(),
                         L.zeros(2, 0).tolist(), L.tensor([True]).tolist()),
    "numpy_requires_grad": lambda L: L.tensor([1.0], requires_grad=True).numpy(),
    "numpy_force": lambda L: L.tensor([1.0], requires_grad=True).numpy(force=True).tolist(),
    "numpy_dtype": lambda L: str(L.zeros(2, dtype=L.int16).numpy().dtype),
    "scalars": lambda L: (float(L.tensor([2.0])), int(L.tensor([2.7])), int(L.tensor(-2.7)),
                          L.tensor(3).__index__(), complex(L.tensor(1 + 1j)),
                          bool(L.tensor([0.0])), [1, 2, 3][L.tensor(1)]),
    "bool_many": lambda L: bool(L.zeros(2)),
    "len_0d": lambda L: len(L.tensor(1.0)),
    "iter_0d": lambda L: iter(L.tensor(1.0)),
    "index_float": lambda L: [1, 2][L.tensor(1.0)],
    "iterate_rows": lambda L: [r for r in L.arange(6).reshape(3, 2)],
    "contains": lambda L: (2 in L.tensor([1, 2]), 5 in L.tensor([1, 2])),
    "format": lambda L: (f"{L.tensor(2.5):.2f}", f"{L.tensor([1.0])}"),
    "format_spec_on_vector": lambda L: f"{L.tensor([1.0]):.2f}",
    # .to() and friends
    "to_identity": lambda L: _to_identities(L),
    "to_forms": lambda L: [L.tensor([1.5, 2.5]).to(L.float64), L.tensor([1.5]).to("cpu", L.int32),
                           L.tensor([1.5]).to(device="cpu", dtype=L.int64),
                           L.tensor([1.5]).to(L.tensor([1], dtype=L.int16)),
                           L.tensor([1.5]).to(L.device("cpu"), L.int32),
                           L.tensor([1.5]).to("cpu", L.int64, False, True),
                           L.tensor([1.5]).to(L.float32, copy=True),
                           L.tensor([2.0]).to(L.complex64), L.tensor([-1.7]).to(L.int64),
                           L.zeros(2, dtype=L.bfloat16).to(L.float16)],
    "to_bad_device": lambda L: L.zeros(1).to("foo"),
    "to_two_dtypes": lambda L: L.zeros(1).to(L.float64, L.float32),
    "to_other_kw": lambda L: L.zeros(1).to(other=L.zeros(1)),
    "complex_to_real_warns": lambda L: L.tensor([1.5 + 2j]).float(),
    "to_grad_fn": lambda L: L.ones(2, requires_grad=True).to(L.float64).grad_fn.name(),
    "casters": lambda L: [getattr(L.arange(3.0), n)().dtype for n in (
        "float", "double", "half", "bfloat16", "int", "long", "short", "char", "byte", "bool",
        "cfloat", "cdouble")],
    "type_names": lambda L: [L.zeros(1, dtype=d).type() for d in (
        L.float32, L.float64, L.float16, L.bfloat16, L.int64, L.int32, L.int16, L.int8, L.uint8,
        L.bool, L.complex64, L.complex128)],
    "type_casts": lambda L: [L.arange(3.0).type(L.int32), L.arange(3.0).type("torch.IntTensor"),
                             L.arange(3).type("torch.DoubleTensor"),
                             L.arange(3).type_as(L.zeros(1, dtype=L.int8))],
    "type_bad_name": lambda L: L.zeros(1).type("foo"),
    "clone_contiguous": lambda L: (L.arange(6.0).reshape(2, 3).t().contiguous().is_contiguous(),
                                   L.arange(6.0).reshape(2, 3).t().contiguous().stride(),
                                   L.ones(2, requires_grad=True).clone().grad_fn.name(),
                                   L.arange(3.0).clone(memory_format=L.contiguous_format)),
    # requires_grad rules
    "requires_grad_int_attribute": lambda L: setattr(L.zeros(2, dtype=L.int64), "requires_grad",
                                                     True),
    "requires_grad_int_method": lambda L: L.zeros(2, dtype=L.int64).requires_grad_(),
    "requires_grad_int_creation": lambda L: L.zeros(2, dtype=L.int64, requires_grad=True),
    "requires_grad_complex": lambda L: L.zeros(2, dtype=L.complex64).requires_grad_(),
    "non_leaf_set_true": lambda L: setattr(L.ones(1, requires_grad=True) * 2, "requires_grad",
                                           True),
    "non_leaf_set_false": lambda L: setattr(L.ones(1, requires_grad=True) * 2, "requires_grad",
                                            False),
    "non_leaf_method_true": lambda L: (L.ones(1, requires_grad=True) * 2).requires_grad_(),
    "non_leaf_method_false": lambda L: (L.ones(1, requires_grad=True) * 2).requires_grad_(False),
    "leaf_toggle": lambda L: L.ones(1, requires_grad=True).requires_grad_(False).requires_grad,
    "data_and_detach": lambda L: _data_detach(L),
    # Size
    "size_ops": lambda L: (L.Size([2, 3]), L.Size([2, 3])[1:], L.Size([2, 3]) + (4,),
                           (4,) + L.Size([2, 3]), L.Size([2, 3]) * 2, L.Size([2, 3]) == (2, 3),
                           L.Size([2, 3]).numel(), L.Size(), L.Size([np.int64(2)]),
                           L.Size([L.tensor(2)]), type(L.Size([2])[0]).__name__,
                           hash(L.Size([2, 3])) == hash((2, 3)), L.Size([True])),
    "size_float": lambda L: L.Size((2.0,)),
    "size_pickle": lambda L: pickle.loads(pickle.dumps(L.Size([2, 3]))),
    # dtype objects
    "dtype_attrs": lambda L: [(d.is_floating_point, d.is_complex, d.is_signed, d.itemsize)
                              for d in (L.float32, L.bfloat16, L.int8, L.uint8, L.bool,
                                        L.complex128, L.int64, L.float16)],
    "dtype_aliases": lambda L: (L.half, L.float, L.double, L.short, L.int, L.long, L.cfloat,
                                L.cdouble),
    "dtype_complex_real": lambda L: (L.float32.to_complex(), L.complex128.to_real(),
                                     L.float64.to_complex()),
    "dtype_repr": lambda L: (repr(L.float32), str(L.int64), L.get_default_dtype()),
    "dtype_pickle": lambda L: pickle.loads(pickle.dumps(L.float16)),
    "default_dtype": lambda L: (L.set_default_dtype(L.float64), L.get_default_dtype(),
                                L.tensor([1.0]).dtype, L.zeros(1).dtype, L.arange(1.0).dtype,
                                L.tensor([1j]).dtype)[1:],
    "default_dtype_int": lambda L: L.set_default_dtype(L.int64),
    "can_cast": lambda L: [[L.can_cast(a, b) for b in _dts(L)] for a in _dts(L)],
    "can_cast_bad": lambda L: L.can_cast(1, L.float32),
    "finfo": lambda L: [(repr(L.finfo(d)), L.finfo(d).bits, L.finfo(d).eps, L.finfo(d).max,
                         L.finfo(d).min, L.finfo(d).tiny, L.finfo(d).smallest_normal,
                         L.finfo(d).resolution, L.finfo(d).dtype)
                        for d in (L.float32, L.float64, L.float16, L.bfloat16, L.complex64)],
    "finfo_default": lambda L: (str(L.finfo()), L.finfo(float).dtype,
                                L.finfo() == L.finfo(L.float32)),
    "finfo_int": lambda L: L.finfo(L.int32),
    "iinfo": lambda L: [(repr(L.iinfo(d)), L.iinfo(d).bits, L.iinfo(d).max, L.iinfo(d).min,
                         L.iinfo(d).dtype) for d in (L.uint8, L.int8, L.int16, L.int32, L.int64)],
    "iinfo_float": lambda L: L.iinfo(L.float32),
    "iinfo_bool": lambda L: L.iinfo(L.bool),
    # devices
    "device_objects": lambda L: [repr(L.device(s)) for s in (
        "cpu", "cuda", "cuda:1", "mps", "meta", "cpu:0")] + [
        repr(L.device("cuda", 1)), repr(L.device(type="cuda", index=2)),
        L.device("cuda").index, L.device("cuda:3").index, L.device("cpu").type,
        str(L.device("cuda", 0)), L.device("cuda") == L.device("cuda:0"),
        L.device("cpu") == "cpu", L.device("cpu") == L.device("cpu", 0),
        L.device(L.device("cuda", 1)) == L.device("cuda:1"),
        hash(L.device("cpu")) == hash(L.device("cpu")), str(pickle.loads(pickle.dumps(
            L.device("cuda"))))],
    "device_bad_type": lambda L: L.device("xyz"),
    "device_upper": lambda L: L.device("CPU"),
    "device_bad_index": lambda L: L.device("cuda:x"),
    "device_negative": lambda L: L.device("cuda:-1"),
    "device_negative_kw": lambda L: L.device("cuda", -1),
    "device_two_indices": lambda L: L.device("cuda:0", 1),
    "device_two_colons": lambda L: L.device("cuda:1:2"),
    "cuda_queries": lambda L: (L.cuda.is_available(), L.cuda.device_count()),
    "promote_result_type": lambda L: (L.promote_types(L.int32, L.float16),
                                      L.result_type(L.tensor([1]), 1.0)),
}


def _alias(lib):
    t = lib.tensor([1, 2])
    u = lib.Tensor(t)
    u[0] = 5
    return t, u, u.dtype


def _to_identities(lib):
    x = lib.arange(6.0)
    return (x.to("cpu") is x, x.to(lib.float32) is x, x.to(x) is x, x.float() is x, x.cpu() is x,
            x.to(lib.float32, copy=True) is x, x.type(lib.float32) is x,
            x.type("torch.FloatTensor") is x, x.double().float() is x, x.contiguous() is x)


def _data_detach(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    d, dd = y.detach(), y.data
    d[0] = 5
    return (y, d.requires_grad, dd.requires_grad, dd.is_leaf, y._version, x.data.requires_grad,
            x.detach()._version)


def _dts(lib):
    return (lib.bool, lib.uint8, lib.int8, lib.int64, lib.float16, lib.float32, lib.complex64)


@pytest.mark.parametrize("name", list(CASES))
def test_tensor_matches_torch(name):
    same(CASES[name])


def test_T_of_other_ranks_warns():
    # torch warns once per process, so compare the values here and the messages by hand
    same(lambda L: (L.tensor(1.0).T, L.zeros(2, 3, 4).T.shape, L.zeros(3).T), check_warnings=False)
    with pytest.warns(UserWarning, match="Tensor.T is deprecated on 0-D tensors"):
        _ = ndgrad.tensor(1.0).T
    with pytest.warns(UserWarning, match="dimension other than 2 to reverse their shape"):
        _ = ndgrad.zeros(2, 3, 4).T


def test_printing_matches_torch():
    def f(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        y[0] = 3.0
        return [repr(x), repr(x * 2), repr(y), str(y[0]), repr(lib.zeros(2, dtype=lib.int32)),
                repr(lib.zeros(2, 0)), repr(lib.tensor([True])), repr(lib.zeros(1).view(-1)),
                repr(y.grad_fn).split(" ")[0], repr(x.unsqueeze(1).T), repr(y.view(2, 1)[0]),
                repr(lib.zeros(2, dtype=lib.bfloat16)), repr(lib.tensor(5))]

    same(f)


def test_deepcopy_and_pickle_roundtrip():
    import copy

    def f(lib):
        x = lib.arange(6.0).reshape(2, 3)
        v = x[1]
        c = copy.deepcopy(v)
        c[0] = -1
        p = pickle.loads(pickle.dumps(lib.ones(2, requires_grad=True)))
        return x, c, c._base is None, p, p.requires_grad

    same(f)


def test_array_protocol():
    def f(lib):
        x = lib.arange(4.0)
        a = np.asarray(x)
        a[0] = 9
        return (x, np.asarray(x, dtype=np.float64).dtype.name, np.array(x).shape,
                np.add(np.ones(2), lib.ones(2)).tolist() if lib is torch else
                (np.ones(2) + lib.ones(2)).tolist())

    same(f, check_warnings=False)  # torch's __array__ lacks NumPy 2's copy keyword and warns
    same(lambda L: np.asarray(L.ones(2, requires_grad=True)))


@pytest.mark.parametrize("direction", ["ndgrad_to_numpy", "numpy_to_ndgrad", "ndgrad_to_torch",
                                       "torch_to_ndgrad"])
def test_dlpack_is_zero_copy(direction):
    x = ndgrad.arange(6.0).reshape(2, 3)
    if direction == "ndgrad_to_numpy":
        other = np.from_dlpack(x)
        assert np.shares_memory(other, x.numpy()) and other.shape == (2, 3)
        if NUMPY2:  # NumPy 1.x imports every DLPack array read-only
            other[0, 0] = -1
            assert x[0, 0].item() == -1
    elif direction == "numpy_to_ndgrad":
        a = np.arange(6.0).reshape(2, 3)
        t = ndgrad.from_dlpack(a)
        t[1, 2] = -5
        assert a[1, 2] == -5 and t.dtype is ndgrad.float64
    elif direction == "ndgrad_to_torch":
        t = torch.from_dlpack(x)
        t[1, 1] = 7
        assert x[1, 1].item() == 7 and t.dtype == torch.float32
        assert t.data_ptr() == x.data_ptr()
        s = torch.from_dlpack(x.t())  # strided views travel too
        assert s.stride() == x.t().stride()
    else:
        t = torch.arange(6, dtype=torch.int64).reshape(2, 3)
        y = ndgrad.from_dlpack(t)
        y[0, 1] = 42
        assert t[0, 1].item() == 42 and y.dtype is ndgrad.int64 and y.data_ptr() == t.data_ptr()
        s = ndgrad.from_dlpack(t.t())  # strided views travel too
        assert s.stride() == t.t().stride() and s.data_ptr() == t.data_ptr()
        b = ndgrad.from_dlpack(torch.tensor([True, False]))
        assert b.dtype is ndgrad.bool and b.tolist() == [True, False]


def test_from_dlpack_is_writable_as_in_torch():
    # torch writes through even to a read-only NumPy array; NumPy 1.x marks every import read-only
    def f(lib):
        a = np.arange(3.0)
        a.flags.writeable = False
        t = lib.from_dlpack(a)
        t[0] = 5
        return t, a.tolist()

    same(f)


def test_dlpack_refuses_tensors_requiring_grad():
    same(lambda L: L.ones(2, requires_grad=True).__dlpack__())
    assert ndgrad.ones(2).__dlpack_device__() == torch.ones(2).__dlpack_device__()


def test_from_numpy_rules():
    same(lambda L: L.from_numpy(np.arange(6)[::-1]))
    same(lambda L: L.from_numpy([1]))
    same(lambda L: L.from_numpy(np.zeros(2, dtype=">f4")))
    same(lambda L: L.from_numpy(np.arange(6).reshape(2, 3)[:, ::2]).stride())
    same(lambda L: L.from_numpy(np.array([1, 2], dtype=np.int32)))
