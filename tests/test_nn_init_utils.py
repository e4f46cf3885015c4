"""nn.init against torch (same seeded draws, bounds and spread) and nn.utils helpers."""

import math
import warnings

import numpy as np
import pytest
import torch

import ndgrad

INITS = [
    ("uniform_", dict(a=-0.5, b=2.0)), ("normal_", dict(mean=1.0, std=0.5)),
    ("constant_", dict(val=0.3)), ("ones_", {}), ("zeros_", {}), ("eye_", {}),
    ("xavier_uniform_", dict(gain=2.0)), ("xavier_normal_", {}),
    ("kaiming_uniform_", dict(a=0.1, mode="fan_out", nonlinearity="leaky_relu")),
    ("kaiming_normal_", dict(nonlinearity="relu")), ("orthogonal_", dict(gain=1.5)),
    ("trunc_normal_", dict(std=0.5, a=-0.6, b=0.8)), ("trunc_normal_", dict(mean=0.0, std=2.0)),
    ("trunc_normal_", dict(mean=0.5, std=3.0, a=0.0, b=0.2)),
]


@pytest.mark.parametrize("name,kw", INITS, ids=[f"{n}{k}" for n, k in INITS])
@pytest.mark.parametrize("shape", [(6, 4), (3, 8)])
def test_seeded_initialisers_equal_torch(name, kw, shape):
    vals = []
    for T in (ndgrad, torch):
        T.manual_seed(42)
        t = T.empty(shape)
        out = getattr(T.nn.init, name)(t, **kw)
        assert out is t
        vals.append(np.asarray(t))
    np.testing.assert_allclose(vals[0], vals[1], rtol=1e-5, atol=1e-6)


def test_initialisers_work_on_parameters_without_recording():
    p = ndgrad.nn.Parameter(ndgrad.empty(5, 5))
    ndgrad.nn.init.kaiming_uniform_(p)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("conv2d", None),
                                                ("sigmoid", None), ("tanh", None),
                                                ("relu", None), ("leaky_relu", None),
                                                ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert ndgrad.nn.init.calculate_gain(nonlinearity, param) == \
        torch.nn.init.calculate_gain(nonlinearity, param)


def test_init_errors_match_torch():
    cases = [lambda T: T.nn.init.calculate_gain("swish"),
             lambda T: T.nn.init.xavier_uniform_(T.empty(3)),
             lambda T: T.nn.init.kaiming_normal_(T.empty(3, 4), mode="fan_x"),
             lambda T: T.nn.init.eye_(T.empty(2, 3, 4)),
             lambda T: T.nn.init.orthogonal_(T.empty(3)),
             lambda T: T.nn.init.calculate_gain("leaky_relu", "x")]
    for case in cases:
        errs = []
        for T in (ndgrad, torch):
            with pytest.raises(Exception) as e:
                case(T)
            errs.append((type(e.value).__name__, str(e.value)))
        assert errs[0] == errs[1]


def test_distribution_bounds_and_spread():
    t = ndgrad.empty(400, 300)
    ndgrad.nn.init.kaiming_uniform_(t, nonlinearity="relu")
    bound = math.sqrt(6 / 300)
    a = np.asarray(t)
    assert np.abs(a).max() <= bound and abs(a.std() - bound / math.sqrt(3)) < 0.02 * bound
    ndgrad.nn.init.xavier_normal_(t)
    assert abs(np.asarray(t).std() - math.sqrt(2 / 700)) < 0.02 * math.sqrt(2 / 700)
    ndgrad.nn.init.trunc_normal_(t, std=1.0, a=-1.0, b=1.5)
    a = np.asarray(t)
    assert a.min() >= -1.0 and a.max() <= 1.5
    ndgrad.nn.init.orthogonal_(t)
    q = np.asarray(t)
    np.testing.assert_allclose(q.T @ q, np.eye(300), atol=1e-4)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        ndgrad.nn.init.kaiming_uniform_(ndgrad.empty(0, 3))


def test_dirac_matches_torch():
    for shape, groups in [((4, 2, 3, 3), 1), ((6, 2, 3), 2)]:
        a, b = ndgrad.empty(shape), torch.empty(shape)
        ndgrad.nn.init.dirac_(a, groups), torch.nn.init.dirac_(b, groups)
        np.testing.assert_array_equal(np.asarray(a), b.numpy())


# --- nn.utils -------------------------------------------------------------------------------------
def _model_with_grads(T):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    m = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.Tanh(), T.nn.Linear(4, 2))
    if T is ndgrad:
        m.load_state_dict({k: ndgrad.from_numpy(v.numpy().copy())
                           for k, v in tm.state_dict().items()})
    else:
        m = tm
    x = T.tensor(np.linspace(-2, 2, 15).reshape(5, 3), dtype=T.float32)
    (m(x) ** 2).sum().backward()
    return m


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.5])
@pytest.mark.parametrize("max_norm", [0.1, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    res = []
    for T in (ndgrad, torch):
        m = _model_with_grads(T)
        total = T.nn.utils.clip_grad_norm_(m.parameters(), max_norm, norm_type)
        res.append((float(total), [np.asarray(p.grad).copy() for p in m.parameters()]))
    assert res[0][0] == pytest.approx(res[1][0], rel=1e-6)
    for a, b in zip(res[0][1], res[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_clip_grad_value_and_single_tensor():
    res = []
    for T in (ndgrad, torch):
        m = _model_with_grads(T)
        assert T.nn.utils.clip_grad_value_(m.parameters(), 0.5) is None
        T.nn.utils.clip_grad_norm_(m[0].weight, 0.3)
        res.append([np.asarray(p.grad).copy() for p in m.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_nonfinite_and_empty():
    p = ndgrad.nn.Parameter(ndgrad.ones(2))
    p.grad = ndgrad.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        ndgrad.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert float(ndgrad.nn.utils.clip_grad_norm_([], 1.0)) == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        ndgrad.nn.utils.clip_grad_norm_((q for q in []), 1.0)


def test_parameters_to_vector_roundtrip_matches_torch():
    vecs = []
    for T in (ndgrad, torch):
        m = _model_with_grads(T)
        v = T.nn.utils.parameters_to_vector(m.parameters())
        vecs.append(np.asarray(v.detach()))
        T.nn.utils.vector_to_parameters(v * 2, m.parameters())
        assert np.allclose(np.asarray(m[0].weight.detach()).ravel(), vecs[-1][:12] * 2)
        assert isinstance(m[0].weight, T.nn.Parameter)
    np.testing.assert_allclose(vecs[0], vecs[1], rtol=1e-6)
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        ndgrad.nn.utils.vector_to_parameters([1.0], [])


def test_pad_sequence_matches_torch():
    seqs = [np.arange(6.0).reshape(3, 2), np.ones((1, 2)), np.zeros((2, 2))]
    for kw in ({}, {"batch_first": True, "padding_value": -1.0},
               {"batch_first": True, "padding_side": "left"}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = ndgrad.nn.utils.rnn.pad_sequence([ndgrad.from_numpy(s) for s in seqs], **kw)
            b = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in seqs], **kw)
        np.testing.assert_array_equal(np.asarray(a), b.numpy())
