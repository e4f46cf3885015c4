"""The shared vocabulary (_dtype's names, _errors' message families) against torch: every dtype's
name in the messages that print one, where copies of partial name tables had drifted."""

import pytest
import torch

import ndgrad

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


def _error(lib, fn):
    try:
        fn(lib)
    except Exception as e:  # noqa: BLE001  (the type and text are what is compared)
        return type(e).__name__, str(e)
    return None


def _same(fn):
    want = _error(torch, fn)
    assert want is not None
    assert _error(ndgrad, fn) == want


@pytest.mark.parametrize("a,b", [("int16", "int8"), ("bool", "uint8"), ("complex64", "float32")])
def test_mm_dtype_names(a, b):
    _same(lambda L: L.mm(L.ones(2, 2, dtype=getattr(L, a)), L.ones(2, 2, dtype=getattr(L, b))))


def test_multi_dot_dtype_names():
    _same(lambda L: L.linalg.multi_dot([L.ones(2, 2, dtype=L.int16),
                                        L.ones(2, 2, dtype=L.uint8), L.ones(2, 2)]))


@pytest.mark.parametrize("name", DTYPES)
def test_scalar_tensor_of_complex(name):
    def make(L):
        return L.scalar_tensor(1j, dtype=getattr(L, name))

    want = _error(torch, make)
    assert _error(ndgrad, make) == want
    if want is None:
        assert make(ndgrad).item() == make(torch).item()


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_mismatch_names(name):
    other = "float64" if name != "float64" else "float32"
    _same(lambda L: L.cdist(L.ones(2, 2, dtype=getattr(L, other)),
                            L.ones(2, 2, dtype=getattr(L, name))))


@pytest.mark.parametrize("name", DTYPES)
def test_legacy_type_names(name):
    t = ndgrad.ones(1, dtype=getattr(ndgrad, name))
    assert t.type() == torch.ones(1, dtype=getattr(torch, name)).type()


@pytest.mark.parametrize("case", [
    lambda L: L.cdist(L.ones(2, 3, 4, 5), L.ones(3, 2, 6, 5)),
    lambda L: L.linalg.solve(L.ones(2, 3, 4, 4), L.ones(3, 2, 4, 1)),
    lambda L: L.ones(2, 3) + L.ones(3, 2),
    lambda L: L.broadcast_tensors(L.ones(2, 3), L.ones(3, 2)),
    lambda L: L.ones(2, 3).copy_(L.ones(3, 2)),
])
def test_size_mismatch_names_the_rightmost_dim(case):
    _same(case)  # ATen's infer_size walks the dims from the last


@pytest.mark.parametrize("case", [
    lambda L: L.add(L.ones(2), L.ones(2), out=L.zeros(2, dtype=L.int64)),
    lambda L: L.ones(2, dtype=L.int64).add_(L.ones(2)),
    lambda L: L.ones(2, requires_grad=True).add_(1),
    lambda L: L.ones(2, requires_grad=True)[:1].add_(1),
    lambda L: L.ones(2).sum(dim=2),
    lambda L: L.ones(2).index_put((L.tensor([0]),), L.ones(1)).index_put([0], 1),
    lambda L: L.cat(L.ones(2)),
    lambda L: L.mul(L.ones(2), "a"),
    lambda L: L.add(L.ones(2, requires_grad=True), 1, out=L.zeros(2)),
])
def test_message_families(case):
    _same(case)


@pytest.mark.parametrize("case", [
    lambda L: L.tensor(1.0).sort(dim=2),
    lambda L: L.ones(0, 3).max(dim=0),
    lambda L: L.ones(0, 3).kthvalue(1, dim=0),
    lambda L: L.ones(2, 3).sum(dim=(0, 0)),
    lambda L: L.ones(2, 3).flip(0, 0),
    lambda L: L.ones(2).repeat(-1),
    lambda L: L.ones(3)[L.tensor([5])],
    lambda L: L.ones(2, 3).add_(L.ones(4, 2, 3)),
    lambda L: L.cat([L.ones(2), 1]),
    lambda L: L.nn.functional.embedding(L.tensor([5]), L.ones(3, 2)),
    lambda L: L.ones(3).index_select(0, L.tensor([7])),
])
def test_more_message_families(case):
    _same(case)


def test_no_derivative():
    x = ndgrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        ndgrad.floor_divide(x, 2).sum().backward()
