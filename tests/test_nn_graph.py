"""The autograd graph a user sees from nn code is torch's: grad_fn names and next_functions
edges (which inputs each node links to, in order, None where torch has None, and which leaf an
AccumulateGrad holds), walked a few levels down."""

import math
import warnings

import numpy as np
import pytest
import torch

import ndgrad


def describe(fn, depth: int, names: dict) -> str:
    """``fn`` and its next_functions, ``depth`` levels down; leaves by name."""
    if fn is None:
        return "None"
    name = fn.name()
    if "AccumulateGrad" in name:
        return f"Acc({names.get(id(fn.variable), '?')})"
    if depth == 0:
        return name
    parts = []
    for f, nr in fn.next_functions:
        parts.append(describe(f, depth - 1, names) + (f"#{nr}" if nr else ""))
    return f"{name}({', '.join(parts)})"


def graph(T, make, depth: int):
    torch.manual_seed(0)
    ndgrad.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, leaves = make(T)
    ids = {id(v): k for k, v in leaves.items()}
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [describe(o.grad_fn, depth, ids) for o in outs]


def same_graph(make, depth: int = 4):
    want = graph(torch, make, depth)
    got = graph(ndgrad, make, depth)
    assert got == want


def F(T):
    return T.nn.functional


R = np.random.default_rng(0)
X = R.uniform(-1, 1, (4, 3))


def on_x(body, shape=(4, 3), grad=True):
    def make(T):
        x = T.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape), requires_grad=grad)
        return body(T, x), {"x": x}

    return make


def _idx(T):
    return T.tensor([0, 1, 2, 1])


LOSSES = {
    "mse": lambda T, x: F(T).mse_loss(x, x.detach() * 2),
    "mse_none": lambda T, x: F(T).mse_loss(x, x.detach() * 2, reduction="none"),
    "mse_sum": lambda T, x: F(T).mse_loss(x, x.detach() * 2, reduction="sum"),
    "mse_target_grad": lambda T, x: F(T).mse_loss(x, x * 2),
    "mse_broadcast": lambda T, x: F(T).mse_loss(x, x[0].detach()),
    "mse_broadcast_target_grad": lambda T, x: F(T).mse_loss(x, x[0] * 2),
    "l1": lambda T, x: F(T).l1_loss(x, x.detach() * 2),
    "smooth_l1": lambda T, x: F(T).smooth_l1_loss(x, x.detach() * 2),
    "smooth_l1_beta0": lambda T, x: F(T).smooth_l1_loss(x, x.detach() * 2, beta=0.0),
    "huber": lambda T, x: F(T).huber_loss(x, x.detach() * 2),
    "huber_none": lambda T, x: F(T).huber_loss(x, x.detach() * 2, reduction="none"),
    "bce": lambda T, x: F(T).binary_cross_entropy(x.sigmoid(), x.detach().sigmoid()),
    "bce_weight": lambda T, x: F(T).binary_cross_entropy(x.sigmoid(), x.detach().sigmoid(),
                                                         weight=x.detach()),
    "bce_target_grad": lambda T, x: F(T).binary_cross_entropy(x.sigmoid(), x.sigmoid() / 2),
    "bce_logits": lambda T, x: F(T).binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
    "bce_logits_pos_weight": lambda T, x: F(T).binary_cross_entropy_with_logits(
        x, x.detach().sigmoid(), pos_weight=T.tensor([1.0, 2.0, 3.0], dtype=T.float64)),
    "bce_logits_none": lambda T, x: F(T).binary_cross_entropy_with_logits(
        x, x.detach().sigmoid(), reduction="none"),
    "cross_entropy": lambda T, x: F(T).cross_entropy(x, _idx(T)),
    "cross_entropy_none": lambda T, x: F(T).cross_entropy(x, _idx(T), reduction="none"),
    "cross_entropy_weight": lambda T, x: F(T).cross_entropy(
        x, _idx(T), weight=T.tensor([1.0, 2.0, 3.0], dtype=T.float64)),
    "label_smoothing": lambda T, x: F(T).cross_entropy(x, _idx(T), label_smoothing=0.1),
    "probabilities": lambda T, x: F(T).cross_entropy(x, x.detach().softmax(1)),
    "cross_entropy_1d": lambda T, x: F(T).cross_entropy(x[0], T.tensor(1)),
    "cross_entropy_4d": lambda T, x: F(T).cross_entropy(x.reshape(1, 3, 2, 2),
                                                        T.tensor([[[0, 1], [2, 1]]])),
    "cross_entropy_3d_none": lambda T, x: F(T).cross_entropy(
        x.reshape(1, 3, 4), T.tensor([[0, 1, 2, 1]]), reduction="none"),
    "nll": lambda T, x: F(T).nll_loss(x, _idx(T)),
    "nll_none": lambda T, x: F(T).nll_loss(x, _idx(T), reduction="none"),
    "nll_4d": lambda T, x: F(T).nll_loss(x.reshape(1, 3, 2, 2), T.tensor([[[0, 1], [2, 1]]])),
    "kl_div": lambda T, x: F(T).kl_div(x, x.detach().softmax(1), reduction="batchmean"),
    "poisson_nll": lambda T, x: F(T).poisson_nll_loss(x, x.detach().abs()),
    "gaussian_nll": lambda T, x: F(T).gaussian_nll_loss(x, x.detach(), x.detach().abs() + 1),
    "margin_ranking": lambda T, x: F(T).margin_ranking_loss(x, x.detach(), x.detach().sign()),
    "cosine_similarity": lambda T, x: F(T).cosine_similarity(x, x.detach() + 1),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_graphs_match_torch(name):
    same_graph(on_x(LOSSES[name]))


ACTIVATIONS = {
    "relu": lambda T, x: F(T).relu(x),
    "relu6": lambda T, x: F(T).relu6(x),
    "leaky_relu": lambda T, x: F(T).leaky_relu(x),
    "elu": lambda T, x: F(T).elu(x),
    "selu": lambda T, x: F(T).selu(x),
    "celu": lambda T, x: F(T).celu(x),
    "gelu": lambda T, x: F(T).gelu(x),
    "silu": lambda T, x: F(T).silu(x),
    "mish": lambda T, x: F(T).mish(x),
    "hardsigmoid": lambda T, x: F(T).hardsigmoid(x),
    "hardswish": lambda T, x: F(T).hardswish(x),
    "softplus": lambda T, x: F(T).softplus(x),
    "threshold": lambda T, x: F(T).threshold(x, 0.1, 2.0),
    "logsigmoid": lambda T, x: F(T).logsigmoid(x),
    "prelu": lambda T, x: F(T).prelu(x, T.tensor([0.25], dtype=T.float64)),
    "glu": lambda T, x: F(T).glu(x, 0),
    "hardshrink": lambda T, x: F(T).hardshrink(x),
    "softshrink": lambda T, x: F(T).softshrink(x),
    "tanhshrink": lambda T, x: F(T).tanhshrink(x),
    "rrelu": lambda T, x: F(T).rrelu(x),
    "softmax": lambda T, x: F(T).softmax(x, 1),
    "log_softmax": lambda T, x: F(T).log_softmax(x, 1),
    "softmin": lambda T, x: F(T).softmin(x, 1),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_graphs_match_torch(name):
    same_graph(on_x(ACTIVATIONS[name]))


@pytest.mark.parametrize("channels,shape", [(1, (2, 3)), (3, (2, 3)), (3, (2, 3, 4)), (1, ()),
                                            (1, (3,))])
def test_prelu_module_graph_matches_torch(channels, shape):
    def make(T):
        m = T.nn.PReLU(channels).double()
        x = T.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape), requires_grad=True)
        return m(x), {"w": m.weight, "x": x}

    same_graph(make)


@pytest.mark.parametrize("name", ["clamp(s,s)", "clamp_min(s)", "clamp_max(s)", "clamp(t,t)",
                                  "clamp(min=t)", "clamp_min(t)", "clamp_max(t)"])
def test_clamp_edges_match_torch(name):
    def make(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        lo = T.tensor([1.5, 0.0, 0.0], requires_grad=True)
        hi = T.tensor([2.5, 2.5, 2.5], requires_grad=True)
        out = {"clamp(s,s)": lambda: x.clamp(0, 1), "clamp_min(s)": lambda: x.clamp_min(0),
               "clamp_max(s)": lambda: x.clamp_max(0), "clamp(t,t)": lambda: x.clamp(lo, hi),
               "clamp(min=t)": lambda: x.clamp(min=lo), "clamp_min(t)": lambda: x.clamp_min(lo),
               "clamp_max(t)": lambda: x.clamp_max(hi)}[name]()
        return out, {"x": x, "lo": lo, "hi": hi}

    same_graph(make)


@pytest.mark.parametrize("x_grad", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4,), (2, 4), (2, 3, 4), (2, 1, 3, 4), (0, 4), (2, 0, 4)])
def test_linear_module_graph_matches_torch(shape, bias, x_grad):
    def make(T):
        m = T.nn.Linear(4, 3, bias=bias).double()
        x = T.tensor(np.arange(math.prod(shape), dtype=np.float64).reshape(shape) / 7,
                     requires_grad=x_grad)
        return m(x), {"w": m.weight, "b": m.bias, "x": x}

    same_graph(make)


@pytest.mark.parametrize("case", ["3d-noncontiguous", "3d-noncontiguous-nobias",
                                  "2d-noncontiguous", "3d-bias2d", "2d-bias2d", "1d-bias0d",
                                  "2d-frozen-weight", "2d-frozen-bias"])
def test_functional_linear_graph_matches_torch(case):
    shape, perm, bshape = {
        "3d-noncontiguous": ((3, 2, 4), (1, 0, 2), (3,)),
        "3d-noncontiguous-nobias": ((3, 2, 4), (1, 0, 2), None),
        "2d-noncontiguous": ((4, 2), (1, 0), (3,)), "3d-bias2d": ((2, 2, 4), None, (2, 3)),
        "2d-bias2d": ((2, 4), None, (2, 3)), "1d-bias0d": ((4,), None, ()),
        "2d-frozen-weight": ((2, 4), None, (3,)), "2d-frozen-bias": ((2, 4), None, (3,))}[case]

    def make(T):
        x = T.tensor(np.arange(math.prod(shape), dtype=np.float64).reshape(shape) / 7,
                     requires_grad=True)
        w = T.tensor(np.ones((3, 4)), requires_grad=case != "2d-frozen-weight")
        b = None if bshape is None else T.tensor(np.ones(bshape),
                                                 requires_grad=case != "2d-frozen-bias")
        return F(T).linear(x.permute(*perm) if perm else x, w, b), {"x": x, "w": w, "b": b}

    same_graph(make)


def test_tutorial_graphs_match_torch():
    """What PyTorch's beginner tutorials print: loss.grad_fn and its next_functions."""
    def mse(T):
        m = T.nn.Linear(3, 2).double()
        x = T.tensor(np.linspace(-1, 1, 6).reshape(2, 3))
        loss = T.nn.MSELoss()(m(x), T.zeros(2, 2, dtype=T.float64))
        return loss, {"w": m.weight, "b": m.bias}

    def mlp(T):
        m = T.nn.Sequential(T.nn.Flatten(), T.nn.Linear(6, 4), T.nn.ReLU(),
                            T.nn.Linear(4, 3)).double()
        x = T.tensor(np.linspace(-1, 1, 12).reshape(2, 2, 3))
        loss = T.nn.CrossEntropyLoss()(m(x), T.tensor([0, 2]))
        return loss, {"w1": m[1].weight, "b1": m[1].bias, "w2": m[3].weight, "b2": m[3].bias}

    same_graph(mse, 6)
    same_graph(mlp, 8)
    loss, _ = mse(ndgrad)
    assert loss.grad_fn.next_functions[0][0].name() == "AddmmBackward0"


NORMS = {
    "layer_norm": lambda T, x: F(T).layer_norm(x, (3,)),
    "layer_norm_affine": lambda T, x: F(T).layer_norm(x, (3,), x.detach()[0], x.detach()[1]),
    "batch_norm": lambda T, x: F(T).batch_norm(x, None, None, training=True),
    "batch_norm_running": lambda T, x: F(T).batch_norm(
        x, T.zeros(3, dtype=T.float64), T.ones(3, dtype=T.float64), training=True),
    "batch_norm_eval": lambda T, x: F(T).batch_norm(
        x, T.zeros(3, dtype=T.float64), T.ones(3, dtype=T.float64), training=False),
    "group_norm": lambda T, x: F(T).group_norm(x.reshape(2, 2, 3), 2),
    "instance_norm": lambda T, x: F(T).instance_norm(x.reshape(2, 2, 3)),
}


@pytest.mark.parametrize("name", list(NORMS))
def test_norm_graphs_match_torch(name):
    same_graph(on_x(NORMS[name]))


@pytest.mark.parametrize("make", [
    lambda T: T.nn.LayerNorm(3), lambda T: T.nn.BatchNorm1d(3), lambda T: T.nn.GroupNorm(1, 3),
    lambda T: T.nn.BatchNorm1d(3).eval(), lambda T: T.nn.InstanceNorm1d(3, affine=True)],
    ids=["LayerNorm", "BatchNorm1d", "GroupNorm", "BatchNorm1d-eval", "InstanceNorm1d"])
def test_norm_module_graphs_match_torch(make):
    def build(T):
        m = make(T).double()
        x = T.tensor(np.linspace(-1, 1, 12).reshape(2, 3, 2), requires_grad=True)
        if isinstance(m, T.nn.LayerNorm):
            x = T.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        return m(x), {"w": m.weight, "b": m.bias, "x": x}

    same_graph(build, 2)  # (RepeatBackward0's own edges are the repeat op's business)


LAYERS = {
    "embedding": (lambda T, x: F(T).embedding(T.tensor([0, 2]), x), (4, 3)),
    "embedding_padding": (lambda T, x: F(T).embedding(T.tensor([0, 2]), x, padding_idx=0),
                          (4, 3)),
    "max_pool2d": (lambda T, x: F(T).max_pool2d(x, 2), (1, 1, 4, 4)),
    "max_pool2d_unbatched": (lambda T, x: F(T).max_pool2d(x, 2), (1, 4, 4)),
    "max_pool2d_indices": (lambda T, x: F(T).max_pool2d(x, 2, return_indices=True),
                           (1, 1, 4, 4)),
    "max_pool1d": (lambda T, x: F(T).max_pool1d(x, 2), (1, 3, 4)),
    "max_pool1d_unbatched": (lambda T, x: F(T).max_pool1d(x, 2), (3, 4)),
    "avg_pool2d": (lambda T, x: F(T).avg_pool2d(x, 2), (1, 1, 4, 4)),
    "avg_pool2d_unbatched": (lambda T, x: F(T).avg_pool2d(x, 2), (1, 4, 4)),
    "avg_pool1d": (lambda T, x: F(T).avg_pool1d(x, 2), (1, 3, 4)),
    "adaptive_avg_pool2d": (lambda T, x: F(T).adaptive_avg_pool2d(x, 2), (1, 1, 4, 4)),
    "adaptive_avg_pool2d_1": (lambda T, x: F(T).adaptive_avg_pool2d(x, 1), (1, 1, 4, 4)),
    "adaptive_avg_pool2d_none": (lambda T, x: F(T).adaptive_avg_pool2d(x, (None, 1)),
                                 (1, 1, 4, 4)),
    "adaptive_avg_pool1d": (lambda T, x: F(T).adaptive_avg_pool1d(x, 2), (3, 4)),
    "pad": (lambda T, x: F(T).pad(x, (1, 1)), (4, 3)),
    "pad_reflect": (lambda T, x: F(T).pad(x, (1, 1, 1, 1), mode="reflect"), (1, 2, 4, 4)),
    "pad_replicate": (lambda T, x: F(T).pad(x, (1, 1), mode="replicate"), (1, 4, 3)),
    "interpolate_nearest": (lambda T, x: F(T).interpolate(x, scale_factor=2), (1, 1, 4, 3)),
    "interpolate_nearest_exact": (lambda T, x: F(T).interpolate(x, size=(7, 3),
                                                                mode="nearest-exact"),
                                  (1, 1, 4, 3)),
    "interpolate_bilinear": (lambda T, x: F(T).interpolate(x, scale_factor=2, mode="bilinear"),
                             (1, 1, 4, 3)),
    "interpolate_bicubic": (lambda T, x: F(T).interpolate(x, size=(5, 5), mode="bicubic"),
                            (1, 1, 4, 3)),
    "interpolate_linear": (lambda T, x: F(T).interpolate(x, scale_factor=2, mode="linear"),
                           (1, 4, 3)),
    "interpolate_area": (lambda T, x: F(T).interpolate(x, size=(2, 3), mode="area"),
                         (1, 1, 4, 4)),
    "pixel_shuffle": (lambda T, x: F(T).pixel_shuffle(x, 2), (1, 4, 3, 1)),
    "pixel_unshuffle": (lambda T, x: F(T).pixel_unshuffle(x, 2), (1, 1, 4, 4)),
    "unfold": (lambda T, x: F(T).unfold(x, 2), (1, 1, 4, 4)),
    "fold": (lambda T, x: F(T).fold(x, (3, 3), 2), (1, 4, 4)),
    "fold_unbatched": (lambda T, x: F(T).fold(x, (3, 3), 2), (4, 4)),
    "flatten": (lambda T, x: T.nn.Flatten()(x), (2, 2, 3)),
    "dropout": (lambda T, x: F(T).dropout(x, 0.5), (4, 3)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_graphs_match_torch(name):
    body, shape = LAYERS[name]
    same_graph(on_x(body, shape))


@pytest.mark.parametrize("case", ["conv2d", "conv2d_unbatched", "conv1d", "conv2d_same_even",
                                  "conv_transpose2d", "conv_transpose2d_no_bias",
                                  "conv_transpose2d_unbatched", "conv_transpose1d"])
def test_conv_graphs_match_torch(case):
    xshape, wshape, bias, fn = {
        "conv2d": ((1, 1, 4, 4), (2, 1, 2, 2), 2, lambda T, x, w, b: F(T).conv2d(x, w, b)),
        "conv2d_unbatched": ((1, 4, 4), (2, 1, 2, 2), 2,
                             lambda T, x, w, b: F(T).conv2d(x, w, b)),
        "conv1d": ((1, 1, 4), (2, 1, 2), 2, lambda T, x, w, b: F(T).conv1d(x, w, b)),
        "conv2d_same_even": ((1, 1, 4, 4), (2, 1, 2, 2), 2,
                             lambda T, x, w, b: F(T).conv2d(x, w, b, padding="same")),
        "conv_transpose2d": ((1, 2, 3, 3), (2, 1, 2, 2), 1,
                             lambda T, x, w, b: F(T).conv_transpose2d(x, w, b)),
        "conv_transpose2d_no_bias": ((1, 2, 3, 3), (2, 1, 2, 2), 0,
                                     lambda T, x, w, b: F(T).conv_transpose2d(x, w, stride=2)),
        "conv_transpose2d_unbatched": ((2, 3, 3), (2, 1, 2, 2), 1,
                                       lambda T, x, w, b: F(T).conv_transpose2d(x, w, b)),
        "conv_transpose1d": ((1, 2, 3), (2, 1, 2), 1,
                             lambda T, x, w, b: F(T).conv_transpose1d(x, w, b)),
    }[case]

    def make(T):
        x = T.tensor(np.linspace(-1, 1, math.prod(xshape)).reshape(xshape), requires_grad=True)
        w = T.tensor(np.linspace(-1, 1, math.prod(wshape)).reshape(wshape), requires_grad=True)
        b = T.tensor(np.ones(bias), requires_grad=True) if bias else None
        return fn(T, x, w, b), {"x": x, "w": w, "b": b}

    same_graph(make)


@pytest.mark.parametrize("make", [
    lambda T: (T.nn.Conv2d(1, 2, 2), (1, 1, 3, 4)), lambda T: (T.nn.Embedding(5, 3), None),
    lambda T: (T.nn.MaxPool2d(2), (1, 1, 4, 4)), lambda T: (T.nn.AdaptiveAvgPool2d((1, 1)),
                                                            (1, 1, 4, 4))],
    ids=["Conv2d", "Embedding", "MaxPool2d", "AdaptiveAvgPool2d"])
def test_layer_module_graphs_match_torch(make):
    def build(T):
        m, shape = make(T)
        m = m.double()
        if shape is None:
            return m(T.tensor([1, 2])), dict(m.named_parameters())
        x = T.tensor(np.linspace(-1, 1, math.prod(shape)).reshape(shape), requires_grad=True)
        return m(x), {**dict(m.named_parameters()), "x": x}

    same_graph(build)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("opts", [{}, {"num_layers": 2}, {"bidirectional": True},
                                  {"batch_first": True}], ids=["plain", "2-layer", "bidir",
                                                               "batch_first"])
def test_rnn_graphs_match_torch(kind, opts):
    def make(T):
        m = getattr(T.nn, kind)(3, 2, **opts).double()
        shape = (2, 4, 3) if opts.get("batch_first") else (4, 2, 3)
        x = T.tensor(np.linspace(-1, 1, 24).reshape(shape), requires_grad=True)
        out, h = m(x)
        return [out] + (list(h) if isinstance(h, tuple) else [h]), {"x": x}

    same_graph(make, 3)


@pytest.mark.parametrize("kind", ["RNNCell", "GRUCell", "LSTMCell"])
def test_rnn_cell_graphs_match_torch(kind):
    def make(T):
        m = getattr(T.nn, kind)(3, 2).double()
        x = T.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        out = m(x)
        return list(out) if isinstance(out, tuple) else [out], {**dict(m.named_parameters()),
                                                                  "x": x}

    # (UnsafeSplitBackward0's own edges are the split op's business: not walked into)
    same_graph(make, 2 if kind == "LSTMCell" else 3)


DOUBLE_BACKWARD_NODES = {
    "hardtanh": lambda T, x: F(T).hardtanh(x), "relu6": lambda T, x: F(T).relu6(x),
    "leaky_relu": lambda T, x: F(T).leaky_relu(x), "elu": lambda T, x: F(T).elu(x),
    "celu": lambda T, x: F(T).celu(x), "gelu": lambda T, x: F(T).gelu(x),
    "silu": lambda T, x: F(T).silu(x), "mish": lambda T, x: F(T).mish(x),
    "softplus": lambda T, x: F(T).softplus(x), "hardswish": lambda T, x: F(T).hardswish(x),
    "hardsigmoid": lambda T, x: F(T).hardsigmoid(x), "logsigmoid": lambda T, x: F(T).logsigmoid(x),
    "threshold": lambda T, x: F(T).threshold(x, 0.5, 0.0),
    "hardshrink": lambda T, x: F(T).hardshrink(x), "rrelu": lambda T, x: F(T).rrelu(x),
    "glu": lambda T, x: F(T).glu(x, 0), "prelu": lambda T, x: F(T).prelu(x, T.tensor([0.2])),
    "embedding": lambda T, x: F(T).embedding(T.tensor([0, 2]), x),
    "nll": lambda T, x: F(T).nll_loss(x, T.tensor([0, 1, 2, 0])),
    "bce": lambda T, x: F(T).binary_cross_entropy(x, x.detach().clamp(0, 1)),
    "mse": lambda T, x: F(T).mse_loss(x, x.detach() * 2),
    "huber": lambda T, x: F(T).huber_loss(x, x.detach() * 2),
    "max_pool2d": lambda T, x: F(T).max_pool2d(x.reshape(1, 1, 4, 3), 2),
    "avg_pool2d": lambda T, x: F(T).avg_pool2d(x.reshape(1, 1, 4, 3), 2),
    "adaptive_avg_pool2d": lambda T, x: F(T).adaptive_avg_pool2d(x.reshape(1, 1, 4, 3), 2),
    "pad": lambda T, x: F(T).pad(x, (1, 1)),
    "reflection_pad": lambda T, x: F(T).pad(x.reshape(1, 4, 3), (1, 1), mode="reflect"),
    "upsample_nearest": lambda T, x: F(T).interpolate(x.reshape(1, 1, 4, 3), scale_factor=2),
    "unfold": lambda T, x: F(T).unfold(x.reshape(1, 1, 4, 3), 2),
    "softmax": lambda T, x: F(T).softmax(x, 1),
    "log_softmax": lambda T, x: F(T).log_softmax(x, 1),
    "cross_entropy": lambda T, x: F(T).cross_entropy(x, T.tensor([0, 1, 2, 0])),
}


@pytest.mark.parametrize("name", list(DOUBLE_BACKWARD_NODES))
def test_double_backward_node_names_match_torch(name):
    """The gradient's own grad_fn under create_graph (EluBackwardBackward0...)."""
    names = []
    for T in (ndgrad, torch):
        x = T.tensor(np.linspace(0.05, 0.95, 12).reshape(4, 3).astype(np.float32),
                     requires_grad=True)
        y = DOUBLE_BACKWARD_NODES[name](T, x)
        (g,) = T.autograd.grad(y, x, T.ones_like(y).requires_grad_(), create_graph=True)
        names.append(describe(g.grad_fn, 1, {}))
    assert names[0] == names[1]


def _qkv(T, shape):
    return [T.tensor(np.linspace(lo, hi, math.prod(shape)).reshape(shape), requires_grad=True)
            for lo, hi in ((-1, 1), (-2, 1), (-1, 3))]


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}],
                         ids=["plain", "causal", "scale"])
def test_sdpa_fused_node_matches_torch(kw):
    def make(T):
        q, k, v = _qkv(T, (2, 2, 3, 4))
        return F(T).scaled_dot_product_attention(q, k, v, **kw), {"q": q, "k": k, "v": v}

    same_graph(make)


@pytest.mark.parametrize("kind", ["mha", "mha_key_padding", "encoder_layer",
                                  "encoder_layer_seq_first", "bilinear", "bilinear_module"])
def test_attention_and_bilinear_graphs_match_torch(kind):
    def make(T):
        x = T.tensor(np.linspace(-1, 1, 24).reshape(2, 3, 4), requires_grad=True)
        if kind.startswith("mha"):
            m = T.nn.MultiheadAttention(4, 2, batch_first=True).double()
            kpm = T.tensor([[False, False, True], [False] * 3]) if kind != "mha" else None
            return m(x, x, x, need_weights=False, key_padding_mask=kpm)[0], {"x": x}
        if kind.startswith("encoder"):
            first = kind == "encoder_layer"
            m = T.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=first).double()
            return m(x if first else x.transpose(0, 1).contiguous()), {}
        w = T.tensor(np.linspace(0, 1, 40).reshape(2, 4, 5), requires_grad=True)
        y = T.tensor(np.linspace(-1, 2, 30).reshape(2, 3, 5), requires_grad=True)
        if kind == "bilinear":
            return F(T).bilinear(x, y, w, T.ones(2, dtype=T.float64)), {"x": x, "y": y, "w": w}
        m = T.nn.Bilinear(4, 5, 2).double()
        return m(x, y), {"x": x, "y": y, **dict(m.named_parameters())}

    same_graph(make, 8)
