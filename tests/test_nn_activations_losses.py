"""Activation and loss modules against torch (values, gradients, reprs, buffers), grad_fn names,
and the error messages of common mistakes."""

import warnings

import numpy as np
import pytest
import torch
from nn_compare import make_pair, run_pair, same_repr

import ndgrad

R = np.random.default_rng(2)
X = R.uniform(-3, 3, (4, 5))
P = R.uniform(0.05, 0.95, (4, 5))
T_IDX = R.integers(0, 5, 4)

ACTIVATIONS = [
    lambda T: T.nn.ReLU(), lambda T: T.nn.ReLU6(), lambda T: T.nn.LeakyReLU(0.2),
    lambda T: T.nn.PReLU(), lambda T: T.nn.PReLU(5, init=0.1), lambda T: T.nn.ELU(alpha=0.7),
    lambda T: T.nn.SELU(), lambda T: T.nn.CELU(1.3), lambda T: T.nn.GELU(),
    lambda T: T.nn.GELU("tanh"), lambda T: T.nn.SiLU(), lambda T: T.nn.Mish(),
    lambda T: T.nn.Sigmoid(), lambda T: T.nn.Tanh(), lambda T: T.nn.Hardtanh(-2, 1.5),
    lambda T: T.nn.Hardsigmoid(), lambda T: T.nn.Hardswish(), lambda T: T.nn.Softplus(2, 5),
    lambda T: T.nn.Softsign(), lambda T: T.nn.Softmax(dim=1), lambda T: T.nn.LogSoftmax(1),
    lambda T: T.nn.Softmin(0), lambda T: T.nn.Threshold(0.5, -2.0),
    lambda T: T.nn.LogSigmoid(), lambda T: T.nn.GLU(0),
]


@pytest.mark.parametrize("make", ACTIVATIONS, ids=lambda m: repr(m(torch)))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_modules_match_torch(make, dtype):
    tm, nm = make_pair(make, dtype)
    run_pair(tm, nm, [X.astype(dtype)], dtype)
    same_repr(nm, tm)
    same_repr(make(ndgrad), make(torch))


@pytest.mark.parametrize("make", [lambda T: T.nn.ReLU(True), lambda T: T.nn.LeakyReLU(0.1, True),
                                  lambda T: T.nn.ELU(inplace=True), lambda T: T.nn.SiLU(True),
                                  lambda T: T.nn.Hardtanh(inplace=True),
                                  lambda T: T.nn.Threshold(0.1, 20, True)])
def test_inplace_activations_modify_input_and_keep_gradients(make):
    outs = []
    for T in (ndgrad, torch):
        w = T.tensor(X.copy(), requires_grad=True)
        y = w * 1.0
        out = make(T)(y)
        assert out is y
        out.sum().backward()
        outs.append((np.asarray(y.detach()), np.asarray(w.grad)))
        assert repr(make(T)).replace("ndgrad", "torch") == repr(make(torch))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12)


LOSSES = {
    "MSELoss": (lambda T: T.nn.MSELoss(), [X, P]),
    "L1Loss_sum": (lambda T: T.nn.L1Loss(reduction="sum"), [X, P]),
    "SmoothL1Loss": (lambda T: T.nn.SmoothL1Loss(beta=0.5), [X, P]),
    "HuberLoss": (lambda T: T.nn.HuberLoss(delta=2.0), [X, P]),
    "CrossEntropyLoss": (lambda T: T.nn.CrossEntropyLoss(), [X, T_IDX]),
    "CrossEntropyLoss_opts": (lambda T: T.nn.CrossEntropyLoss(
        weight=T.tensor([1.0, 2.0, 0.5, 1.0, 3.0]), ignore_index=int(T_IDX[0]),
        label_smoothing=0.1), [X, T_IDX]),
    "NLLLoss": (lambda T: T.nn.NLLLoss(reduction="none"), [X, T_IDX]),
    "BCELoss": (lambda T: T.nn.BCELoss(weight=T.tensor([1.0, 2.0, 1.0, 0.5, 1.0])), [P, P[::-1]]),
    "BCEWithLogitsLoss": (lambda T: T.nn.BCEWithLogitsLoss(
        pos_weight=T.tensor([1.0, 2.0, 1.0, 0.5, 1.0])), [X, P]),
    "KLDivLoss": (lambda T: T.nn.KLDivLoss(reduction="batchmean", log_target=True), [X, X[::-1]]),
    "CosineEmbeddingLoss": (lambda T: T.nn.CosineEmbeddingLoss(0.2),
                            [X, P, np.array([1.0, -1.0, -1.0, 1.0])]),
    "MarginRankingLoss": (lambda T: T.nn.MarginRankingLoss(0.5),
                          [X[:, 0], P[:, 0], np.array([1.0, -1.0, -1.0, 1.0])]),
    "HingeEmbeddingLoss": (lambda T: T.nn.HingeEmbeddingLoss(2.0), [X, np.sign(P - 0.5)]),
    "TripletMarginLoss": (lambda T: T.nn.TripletMarginLoss(p=1.0, swap=True), [X, P, X[::-1]]),
    "PoissonNLLLoss": (lambda T: T.nn.PoissonNLLLoss(full=True), [X, P * 5]),
    "GaussianNLLLoss": (lambda T: T.nn.GaussianNLLLoss(full=True), [X, P, P[::-1]]),
}


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_modules_match_torch(name, dtype):
    make, inputs = LOSSES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm, nm = make_pair(make, dtype)
    ins = [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs]
    run_pair(tm, nm, ins, dtype)
    same_repr(nm, tm)
    assert list(nm.state_dict()) == list(tm.state_dict())  # weight / pos_weight buffers


def test_legacy_size_average_reduce_arguments():
    for T in (ndgrad, torch):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            m = T.nn.MSELoss(size_average=False)
        assert m.reduction == "sum"


GRAD_FN = [
    lambda T, x: T.nn.functional.cross_entropy(x, T.tensor(T_IDX)),
    lambda T, x: T.nn.functional.nll_loss(x, T.tensor(T_IDX)),
    lambda T, x: T.nn.functional.mse_loss(x, x.detach() * 2),
    lambda T, x: T.nn.functional.l1_loss(x, x.detach() * 2),
    lambda T, x: T.nn.functional.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
    lambda T, x: T.nn.functional.binary_cross_entropy(x.sigmoid(), x.detach().sigmoid()),
    lambda T, x: T.nn.functional.smooth_l1_loss(x, x.detach() * 2),
    lambda T, x: T.nn.functional.log_softmax(x, 1),
    lambda T, x: T.nn.functional.softmax(x, 1),
    lambda T, x: T.nn.functional.gelu(x),
    lambda T, x: T.nn.functional.leaky_relu(x),
    lambda T, x: T.nn.functional.relu6(x),
    lambda T, x: T.nn.functional.linear(x, x),
    lambda T, x: T.nn.functional.conv2d(x.reshape(1, 1, 4, 5), x[:2, :2].reshape(1, 1, 2, 2)),
    lambda T, x: T.nn.functional.max_pool2d(x.reshape(1, 1, 4, 5), 2),
    lambda T, x: T.nn.functional.avg_pool2d(x.reshape(1, 1, 4, 5), 2),
    lambda T, x: T.nn.functional.layer_norm(x, (5,)),
    lambda T, x: T.nn.functional.batch_norm(x, None, None, training=True),
    lambda T, x: T.nn.functional.embedding(T.tensor([0, 2]), x),
    lambda T, x: T.nn.functional.pad(x, (1, 1)),
    lambda T, x: T.nn.functional.interpolate(x.reshape(1, 1, 4, 5), scale_factor=2),
]


@pytest.mark.parametrize("fn", GRAD_FN)
def test_grad_fn_names_match_torch(fn):
    names = [fn(T, T.tensor(X, requires_grad=True)).grad_fn.name() for T in (ndgrad, torch)]
    assert names[0] == names[1]


ERRORS = [
    lambda T: T.nn.Linear(4, 5)(T.zeros(2, 3)),
    lambda T: T.nn.functional.linear(T.zeros(3), T.zeros(5, 4)),
    lambda T: T.nn.Conv2d(4, 2, 3)(T.zeros(1, 3, 5, 5)),
    lambda T: T.nn.Conv2d(3, 2, 3)(T.zeros(5, 5)),
    lambda T: T.nn.Conv2d(3, 2, 3)(T.zeros(1, 3, 2, 2)),
    lambda T: T.nn.Conv2d(3, 2, 3, groups=2),
    lambda T: T.nn.Conv2d(3, 3, 3, stride=2, padding="same"),
    lambda T: T.nn.functional.conv2d(T.zeros(1, 4, 5, 5), T.zeros(3, 2, 3, 3), groups=2),
    lambda T: T.nn.functional.conv2d(T.zeros(1, 3, 5, 5), T.zeros(2, 3, 3, 3, dtype=T.float64)),
    lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.tensor([1.0, 2.0, 3.0])),
    lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.tensor([1, 2, 7])),
    lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.tensor([1, 2])),
    lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.tensor([1, 2, 3], dtype=T.int32)),
    lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.zeros(3, 5), ignore_index=1),
    lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.tensor([1, 2, 3]),
                                            weight=T.ones(4)),
    lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.tensor([1, 2, 3]),
                                            label_smoothing=1.5),
    lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.tensor([1, 2, 3]), reduction="x"),
    lambda T: T.nn.functional.nll_loss(T.zeros(3, 5, 2), T.zeros(3, 3, dtype=T.int64)),
    lambda T: T.nn.functional.binary_cross_entropy(T.tensor([1.5]), T.tensor([1.0])),
    lambda T: T.nn.functional.binary_cross_entropy(T.tensor([0.5, 0.2]), T.tensor([1.0])),
    lambda T: T.nn.functional.binary_cross_entropy_with_logits(T.zeros(2), T.zeros(3)),
    lambda T: T.nn.functional.mse_loss(T.zeros(2), T.zeros(3)),
    lambda T: T.nn.BatchNorm1d(3)(T.zeros(2, 3, 4, 5)),
    lambda T: T.nn.BatchNorm2d(3)(T.zeros(2, 3, 4)),
    lambda T: T.nn.functional.batch_norm(T.zeros(1, 3), T.zeros(3), T.ones(3), training=True),
    lambda T: T.nn.functional.batch_norm(T.zeros(2, 3), T.zeros(4), T.ones(4)),
    lambda T: T.nn.functional.layer_norm(T.zeros(2, 3), (4,)),
    lambda T: T.nn.functional.group_norm(T.zeros(2, 3, 4), 2),
    lambda T: T.nn.GroupNorm(2, 3),
    lambda T: T.nn.Dropout(1.5),
    lambda T: T.nn.functional.dropout(T.zeros(2), -0.1),
    lambda T: T.nn.Embedding(3, 2)(T.tensor([5])),
    lambda T: T.nn.Embedding(3, 2)(T.tensor([1.0])),
    lambda T: T.nn.functional.one_hot(T.tensor([1, 5]), 3),
    lambda T: T.nn.functional.one_hot(T.tensor([1, -1]), 3),
    lambda T: T.nn.functional.one_hot(T.tensor([1.0]), 3),
    lambda T: T.nn.functional.one_hot(T.tensor([], dtype=T.int64)),
    lambda T: T.nn.functional.pad(T.zeros(2, 3), (1, 2, 3)),
    lambda T: T.nn.functional.pad(T.zeros(2, 3), (1, 1, 1, 1, 1, 1)),
    lambda T: T.nn.functional.pad(T.zeros(1, 2, 3), (3, 3), mode="reflect"),
    lambda T: T.nn.functional.pad(T.zeros(1, 2, 3, 4), (1, 1), mode="replicate"),
    lambda T: T.nn.functional.max_pool2d(T.zeros(1, 1, 4, 4), 2, padding=2),
    lambda T: T.nn.functional.max_pool2d(T.zeros(1, 1, 1, 1), 2),
    lambda T: T.nn.functional.max_pool2d(T.zeros(4, 4), 2),
    lambda T: T.nn.functional.max_pool1d(T.zeros(4), 2),
    lambda T: T.nn.functional.adaptive_avg_pool2d(T.zeros(4), 2),
    lambda T: T.nn.functional.interpolate(T.zeros(1, 1, 2, 2), scale_factor=2, align_corners=True),
    lambda T: T.nn.functional.interpolate(T.zeros(1, 1, 2), scale_factor=2, mode="bilinear"),
    lambda T: T.nn.functional.interpolate(T.zeros(1, 1, 2, 2)),
    lambda T: T.nn.functional.pixel_shuffle(T.zeros(1, 3, 2, 2), 2),
    lambda T: T.nn.functional.softmax(T.tensor([1, 2]), 0),
    lambda T: T.nn.functional.softmax(T.zeros(2, 3), 2),
    lambda T: T.nn.functional.fold(T.zeros(1, 12, 20), (4, 5), 2),
    lambda T: T.nn.functional.hardtanh(T.zeros(2), 1.0, 0.0),
    lambda T: T.nn.functional.prelu(T.zeros(2, 3), T.ones(4)),
    lambda T: T.nn.functional.cosine_embedding_loss(T.zeros(2, 3, 4), T.zeros(2, 3, 4),
                                                    T.ones(2)),
    lambda T: T.nn.functional.triplet_margin_loss(T.zeros(2), T.zeros(2), T.zeros(2), margin=0),
]


def _norm(msg: str) -> str:
    return msg.replace("ndgrad", "torch")


@pytest.mark.parametrize("case", ERRORS)
def test_common_mistakes_raise_like_torch(case):
    errs = []
    for T in (ndgrad, torch):
        with pytest.raises(Exception) as e, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            case(T)
        errs.append((type(e.value).__name__, _norm(str(e.value))))
    assert errs[0] == errs[1]


def test_softmax_implicit_dim_warns_like_torch():
    for T in (ndgrad, torch):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            out = T.nn.functional.softmax(T.zeros(2, 3))
        assert np.allclose(np.asarray(out), 1 / 3)


def test_cross_entropy_is_stable_for_huge_logits():
    x = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 1.0]], dtype="float32")
    t = np.array([0, 2])
    got = ndgrad.nn.functional.cross_entropy(ndgrad.from_numpy(x), ndgrad.from_numpy(t),
                                             reduction="none")
    want = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t),
                                             reduction="none")
    np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-6)
    assert np.isfinite(np.asarray(got)).all()


def test_all_ignored_targets_give_nan_mean_like_torch():
    x = ndgrad.zeros(2, 3, requires_grad=True)
    out = ndgrad.nn.functional.cross_entropy(x, ndgrad.tensor([-100, -100]))
    assert np.isnan(float(out))
    out.backward()
    ref = torch.zeros(2, 3, requires_grad=True)
    torch.nn.functional.cross_entropy(ref, torch.tensor([-100, -100])).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), ref.grad.numpy())


def test_double_backward_through_losses_and_conv():
    def gp(T):
        torch.manual_seed(0)
        x = T.tensor(X.reshape(1, 1, 4, 5), requires_grad=True)
        w = T.tensor(np.linspace(-1, 1, 9).reshape(1, 1, 3, 3), requires_grad=True)
        y = T.nn.functional.conv2d(x, w, padding=1)
        loss = T.nn.functional.cross_entropy(y.reshape(4, 5), T.tensor(T_IDX))
        (g,) = T.autograd.grad(loss, x, create_graph=True)
        (g * g).sum().backward()
        return np.asarray(w.grad)

    np.testing.assert_allclose(gp(ndgrad), gp(torch), rtol=1e-9, atol=1e-12)


SECOND_ORDER = [
    lambda T, x: T.nn.functional.gelu(x), lambda T, x: T.nn.functional.gelu(x, approximate="tanh"),
    lambda T, x: T.nn.functional.elu(x), lambda T, x: T.nn.functional.selu(x),
    lambda T, x: T.nn.functional.celu(x, 0.7), lambda T, x: T.nn.functional.silu(x),
    lambda T, x: T.nn.functional.mish(x), lambda T, x: T.nn.functional.softplus(x, 2.0),
    lambda T, x: T.nn.functional.leaky_relu(x, 0.1) * x,
    lambda T, x: T.nn.functional.softmax(x, 1), lambda T, x: T.nn.functional.log_softmax(x, 0),
    lambda T, x: T.nn.functional.layer_norm(x, (5,)),
    lambda T, x: T.nn.functional.batch_norm(x, None, None, training=True),
    lambda T, x: T.nn.functional.linear(x, x.tanh(), x[:, 0]),
    lambda T, x: T.nn.functional.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
    lambda T, x: T.nn.functional.max_pool2d(x.reshape(1, 1, 4, 5), 2) ** 2,
    lambda T, x: T.nn.functional.avg_pool2d(x.reshape(1, 1, 4, 5), 2, 1) ** 2,
    lambda T, x: T.nn.functional.pad(x, (1, 2), mode="reflect") ** 2,
    lambda T, x: T.nn.functional.embedding(T.tensor([1, 3]), x) ** 2,
]


@pytest.mark.parametrize("fn", SECOND_ORDER)
def test_second_derivatives_match_torch(fn):
    res = []
    for T in (ndgrad, torch):
        x = T.tensor(X, requires_grad=True)
        out = fn(T, x)
        (g,) = T.autograd.grad((out * T.tensor(np.cos(np.arange(out.numel())).reshape(
            tuple(out.shape)))).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad((g * g).sum(), x)
        res.append(np.asarray(gg))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["mse_loss", "smooth_l1_loss"])  # (torch's huber backward
@pytest.mark.parametrize("target_dtype", ["int64", "bool", "float64"])  # refuses such targets)
def test_pair_losses_promote_an_integer_or_bool_target_as_torch(name, target_dtype):
    """float32 input with an int64/bool target gives a float32 loss (NumPy would give float64)."""
    x = np.random.default_rng(0).standard_normal((2, 5)).astype("float32")
    t = np.arange(10).reshape(2, 5) % 2
    outs = []
    for lib in (ndgrad, torch):
        inp = lib.tensor(x, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(inp, lib.tensor(t.astype(target_dtype)))
        loss.backward()
        outs.append((loss, inp.grad))
    (a, ga), (b, gb) = outs
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ga.numpy(), gb.numpy(), rtol=1e-6)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_mean_pair_losses_of_empty_inputs_are_nan_with_empty_gradients_as_torch(loss):
    for T in (torch, ndgrad):
        x = T.zeros(0, requires_grad=True)
        out = getattr(T.nn.functional, loss)(x, T.zeros(0))
        out.backward()
        assert out.item() != out.item() and tuple(x.grad.shape) == (0,)
