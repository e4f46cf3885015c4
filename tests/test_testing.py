"""ndgrad.testing vs torch.testing: same verdicts, exception types and messages; same tensors."""

import collections

import numpy as np
import pytest
import torch

import ndgrad


def _outcome(lib, a, e, **kw):
    try:
        lib.testing.assert_close(a, e, **kw)
        return None
    except Exception as ex:  # noqa: BLE001
        return type(ex), str(ex)


def T(lib, x, **kw):
    return lib.tensor(x, **kw)


PAIRS = [
    lambda L: (T(L, [1., 2., 3.]), T(L, [1., 2.5, 3.])),
    lambda L: (T(L, [1., 2., 3.]), T(L, [1., 2., 3.], dtype=L.float64)),
    lambda L: (T(L, [1, 2, 3]), T(L, [1, 2, 4])),
    lambda L: (T(L, [1, 5, 3]), T(L, [1, 2, 4])),
    lambda L: (T(L, [[1., 2.], [3., 4.]]), T(L, [[1., 2.], [3., 5.]])),
    lambda L: (T(L, [1., 2.]), T(L, [1., 2., 3.])),
    lambda L: (1.0, 1.1), lambda L: (1, 2), lambda L: (1.0, 1), lambda L: (True, False),
    lambda L: (None, 1), lambda L: (None, None), lambda L: ("a", "b"),
    lambda L: (np.float32(1.), np.float32(1.5)),
    lambda L: (T(L, [1., float("nan")]), T(L, [1., float("nan")])),
    lambda L: (T(L, [1., float("inf")]), T(L, [1., float("inf")])),
    lambda L: (T(L, [float("inf")]), T(L, [-float("inf")])),
    lambda L: (T(L, [0., 1.]), T(L, [1e-3, 1.])),
    lambda L: (T(L, [0., 2.]), T(L, [0., 0.])),
    lambda L: (T(L, [True, False]), T(L, [True, True])),
    lambda L: ([T(L, [1.]), T(L, [2.])], [T(L, [1.]), T(L, [3.])]),
    lambda L: ({"a": T(L, [1.])}, {"a": T(L, [2.])}),
    lambda L: ({"a": T(L, [1.])}, {"b": T(L, [1.])}),
    lambda L: ({"x": [T(L, [1.]), T(L, [2.])]}, {"x": [T(L, [1.]), T(L, [2.5])]}),
    lambda L: ([T(L, [1.])], [T(L, [1.]), T(L, [1.])]),
    lambda L: (np.array([1., 2.]), np.array([1., 2.1])),
    lambda L: (T(L, 1.5), T(L, 2.5)), lambda L: (T(L, 3), T(L, 4)),
    lambda L: (T(L, [1., 2.], dtype=L.float16), T(L, [1., 2.01], dtype=L.float16)),
    lambda L: (T(L, [1., 2.], dtype=L.bfloat16), T(L, [1., 2.2], dtype=L.bfloat16)),
    lambda L: (T(L, [1 + 1j, 2.]), T(L, [1 + 1j, 2.5])),
    lambda L: (T(L, [1.] * 1000), T(L, [1.] * 999 + [2.])),
    lambda L: (T(L, [1.] * 7), T(L, [1.] * 5 + [2., 2.])),
    lambda L: (T(L, []), T(L, [])),
    lambda L: (T(L, [1., 2.]), L.nn.Parameter(T(L, [1., 2.1]))),
    lambda L: (T(L, [1., 2.]), T(L, [1, 2])),
    lambda L: (T(L, [[1., 2.], [3., 4.]]).T.contiguous(), T(L, [[1., 2.], [3., 4.]]).T),
    lambda L: (T(L, [1., 2.]), T(L, [1., 2.]).reshape(2, 1)),
]
OPTIONS = [{}, dict(rtol=0, atol=0), dict(msg="custom"), dict(msg=lambda m: "X " + m),
           dict(check_dtype=False), dict(equal_nan=True), dict(check_stride=True),
           dict(rtol=0.5, atol=0.1), dict(rtol=1e-3)]


@pytest.mark.parametrize("kw", OPTIONS, ids=range(len(OPTIONS)))
@pytest.mark.parametrize("pair", PAIRS, ids=range(len(PAIRS)))
def test_assert_close_matches_torch(pair, kw):
    ours, theirs = _outcome(ndgrad, *pair(ndgrad), **kw), _outcome(torch, *pair(torch), **kw)
    if theirs is None:
        assert ours is None
        return
    assert ours is not None and ours[0] is theirs[0]
    # ndgrad's names print as ndgrad.X where torch's print as torch.X
    expected = theirs[1].replace("torch.", "ndgrad.").replace(
        "<class 'ndgrad.Tensor'>", f"{ndgrad.Tensor}")
    assert ours[1] == expected


def test_tensor_vs_list_is_a_type_error():
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs"):
        ndgrad.testing.assert_close(ndgrad.ones(1), [1.0])


MAKE = [{}, dict(low=-2, high=3), dict(noncontiguous=True), dict(exclude_zero=True),
        dict(low=0.5), dict(requires_grad=True), dict(low=3, high=3), dict(high=-20)]


@pytest.mark.filterwarnings("ignore:Passing `low==high`")
@pytest.mark.parametrize("kw", MAKE, ids=range(len(MAKE)))
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "complex64",
                                   "int64", "int8", "uint8", "bool"])
def test_make_tensor_matches_torch(dtype, kw):
    out = []
    for lib in (ndgrad, torch):
        lib.manual_seed(1)
        try:
            t = lib.testing.make_tensor(3, 4, dtype=getattr(lib, dtype), device="cpu", **kw)
            vals = t.detach().float() if dtype == "bfloat16" and lib is torch else t.detach()
            if lib is ndgrad and dtype == "bfloat16":
                vals = vals.to(ndgrad.float32)
            out.append((vals.tolist(), tuple(t.shape), t.stride(), t.requires_grad,
                        t.is_contiguous()))
        except Exception as e:  # noqa: BLE001
            out.append((type(e), str(e).replace("torch.", "ndgrad.")))
    assert out[0] == out[1]


def test_make_tensor_low_equals_high_warns_like_torch():
    with pytest.warns(FutureWarning, match="Use `torch.full"):
        ndgrad.testing.make_tensor(2, dtype=ndgrad.float32, device="cpu", low=1, high=1)


def test_make_tensor_huge_range_and_shapes():
    for lib in (ndgrad, torch):
        lib.manual_seed(0)
    a = ndgrad.testing.make_tensor((2, 3), dtype=ndgrad.float32, device="cpu", low=-3e38,
                                   high=3e38)
    b = torch.testing.make_tensor((2, 3), dtype=torch.float32, device="cpu", low=-3e38, high=3e38)
    assert a.tolist() == b.tolist()
    assert ndgrad.testing.make_tensor([], dtype=ndgrad.float32, device="cpu").shape == ()


def test_nested_containers_report_the_failing_item():
    a = collections.OrderedDict(w=[ndgrad.ones(2), {"k": ndgrad.zeros(1)}])
    b = collections.OrderedDict(w=[ndgrad.ones(2), {"k": ndgrad.ones(1)}])
    with pytest.raises(AssertionError, match=r"The failure occurred for item \['w'\]\[1\]\['k'\]"):
        ndgrad.testing.assert_close(a, b)
