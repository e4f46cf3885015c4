"""The nn breadth (issue 12) against torch: layers built under the same seed get torch's initial
weights; outputs, input and parameter gradients, running statistics, state_dict keys and reprs
match; the seeded random layers draw torch's noise."""

import warnings

import numpy as np
import pytest
import torch
from nn_compare import assert_close, run_pair, same_repr

import ndgrad

R = np.random.default_rng(0)


def x(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


def seeded_pair(make, dtype="float64", seed=0):
    """Both modules built after the same manual_seed: their initial weights must agree."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        tm = make(torch)
        ndgrad.manual_seed(seed)
        nm = make(ndgrad)
    ts, ns = tm.state_dict(), nm.state_dict()
    assert list(ts) == list(ns)
    for k in ts:
        np.testing.assert_array_equal(np.asarray(ns[k]), ts[k].numpy(), err_msg=k)
    return tm.to(getattr(torch, dtype)), nm.to(getattr(ndgrad, dtype))


def _pool_unpool(T, nd):
    class M(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = getattr(T.nn, f"MaxPool{nd}d")(2, return_indices=True)
            self.unpool = getattr(T.nn, f"MaxUnpool{nd}d")(2)

        def forward(self, a):
            out, i = self.pool(a)
            return self.unpool(out, i)
    return M()


LAYERS = {
    "Conv3d": (lambda T: T.nn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=1),
               [x(2, 2, 4, 5, 4)]),
    "Conv3d_groups_same": (lambda T: T.nn.Conv3d(4, 2, 3, padding="same", groups=2,
                                                 bias=False), [x(1, 4, 3, 4, 3)]),
    "Conv3d_replicate": (lambda T: T.nn.Conv3d(2, 2, 2, padding=1, padding_mode="replicate"),
                         [x(2, 3, 3, 3)]),
    "ConvTranspose3d": (lambda T: T.nn.ConvTranspose3d(3, 2, 2, stride=2, output_padding=1),
                        [x(1, 3, 2, 3, 2)]),
    "MaxPool3d": (lambda T: T.nn.MaxPool3d(2, 1, 1, return_indices=True), [x(2, 2, 3, 4, 3)]),
    "AvgPool3d": (lambda T: T.nn.AvgPool3d(3, 2, 1, ceil_mode=True), [x(1, 2, 5, 4, 5)]),
    "AdaptiveAvgPool3d": (lambda T: T.nn.AdaptiveAvgPool3d((2, None, 3)), [x(2, 2, 5, 3, 4)]),
    "AdaptiveMaxPool1d": (lambda T: T.nn.AdaptiveMaxPool1d(3, True), [x(2, 3, 8)]),
    "AdaptiveMaxPool2d": (lambda T: T.nn.AdaptiveMaxPool2d((2, 3)), [x(2, 3, 5, 7)]),
    "AdaptiveMaxPool3d": (lambda T: T.nn.AdaptiveMaxPool3d(2, return_indices=True),
                          [x(1, 2, 3, 5, 4)]),
    "MaxUnpool1d": (lambda T: _pool_unpool(T, 1), [x(2, 3, 8)]),
    "MaxUnpool2d": (lambda T: _pool_unpool(T, 2), [x(2, 3, 4, 6)]),
    "MaxUnpool3d": (lambda T: _pool_unpool(T, 3), [x(1, 2, 4, 2, 4)]),
    "LPPool1d": (lambda T: T.nn.LPPool1d(2, 3, 2), [x(2, 3, 9, low=0.1)]),
    "LPPool2d": (lambda T: T.nn.LPPool2d(1.5, (2, 3)), [x(2, 3, 4, 6, low=0.1)]),
    "LPPool3d": (lambda T: T.nn.LPPool3d(3, 2), [x(1, 2, 4, 4, 2, low=0.1)]),
    "FractionalMaxPool2d": (lambda T: T.nn.FractionalMaxPool2d(
        2, output_size=(3, 4), _random_samples=T.full((2, 3, 2), 0.4, dtype=T.float64)),
        [x(2, 3, 6, 7)]),
    "BatchNorm3d": (lambda T: T.nn.BatchNorm3d(3), [x(2, 3, 2, 3, 2)]),
    "BatchNorm3d_eval": (lambda T: T.nn.BatchNorm3d(3).eval(), [x(2, 3, 2, 3, 2)]),
    "InstanceNorm3d": (lambda T: T.nn.InstanceNorm3d(2, affine=True, track_running_stats=True),
                       [x(2, 2, 3, 2, 3)]),
    "InstanceNorm3d_unbatched": (lambda T: T.nn.InstanceNorm3d(2), [x(2, 3, 2, 3)]),
    "SyncBatchNorm": (lambda T: T.nn.SyncBatchNorm(3, momentum=None), [x(4, 3, 2)]),
    "RMSNorm": (lambda T: T.nn.RMSNorm([3, 4]), [x(2, 3, 4)]),
    "RMSNorm_eps_noaffine": (lambda T: T.nn.RMSNorm(4, eps=1e-2, elementwise_affine=False),
                             [x(3, 4)]),
    "LocalResponseNorm": (lambda T: T.nn.LocalResponseNorm(3, 0.1, 0.6, 1.5),
                          [x(2, 5, 3, 4)]),
    "CrossMapLRN2d": (lambda T: T.nn.CrossMapLRN2d(5, 0.1, 0.6, 1.5), [x(2, 7, 3, 2)]),
    "CrossMapLRN2d_3": (lambda T: T.nn.CrossMapLRN2d(3), [x(1, 4, 2, 3)]),
    "ConstantPad3d": (lambda T: T.nn.ConstantPad3d((1, 0, 2, 1, 0, 1), 0.5), [x(1, 2, 2, 3, 2)]),
    "ZeroPad3d": (lambda T: T.nn.ZeroPad3d(1), [x(2, 2, 3, 2)]),
    "ReflectionPad3d": (lambda T: T.nn.ReflectionPad3d((1, 2, 0, 1, 1, 0)), [x(1, 2, 3, 3, 4)]),
    "ReplicationPad3d": (lambda T: T.nn.ReplicationPad3d(2), [x(1, 2, 2, 3, 2)]),
    "CircularPad3d": (lambda T: T.nn.CircularPad3d((1, 1, 2, 0, 0, 1)), [x(1, 2, 2, 3, 3)]),
    "Fold": (lambda T: T.nn.Fold((4, 5), 2, padding=(1, 0)), [x(2, 12, 20)]),
    "Unfold": (lambda T: T.nn.Unfold((2, 3), dilation=(1, 2), stride=2), [x(2, 3, 6, 7)]),
    "ChannelShuffle": (lambda T: T.nn.ChannelShuffle(2), [x(2, 4, 3, 2)]),
    "Softmax2d": (lambda T: T.nn.Softmax2d(), [x(2, 3, 4, 2)]),
    "UpsamplingNearest2d": (lambda T: T.nn.UpsamplingNearest2d(scale_factor=2), [x(1, 2, 3, 2)]),
    "UpsamplingBilinear2d": (lambda T: T.nn.UpsamplingBilinear2d((4, 5)), [x(1, 2, 3, 2)]),
    "EmbeddingBag": (lambda T: T.nn.EmbeddingBag(7, 3, mode="sum", padding_idx=2),
                     [R.integers(0, 7, (4, 3))]),
    "EmbeddingBag_max": (lambda T: T.nn.EmbeddingBag(7, 3, mode="max", max_norm=1.5),
                         [np.array([1, 3, 3, 0, 6, 2]), np.array([0, 2, 2])]),
    "TransformerDecoderLayer": (lambda T: T.nn.TransformerDecoderLayer(
        8, 2, 16, dropout=0.0), [x(3, 2, 8), x(4, 2, 8)]),
    "TransformerDecoderLayer_norm_first_gelu": (lambda T: T.nn.TransformerDecoderLayer(
        8, 2, 12, dropout=0.0, activation="gelu", batch_first=True, norm_first=True),
        [x(2, 3, 8), x(2, 5, 8)]),
    "TransformerDecoder": (lambda T: T.nn.TransformerDecoder(T.nn.TransformerDecoderLayer(
        6, 3, 10, dropout=0.0), 2, T.nn.LayerNorm(6)), [x(3, 2, 6), x(4, 2, 6)]),
    "Transformer": (lambda T: T.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0),
                    [x(5, 2, 8), x(3, 2, 8)]),
    "Transformer_batch_first": (lambda T: T.nn.Transformer(
        4, 2, 1, 1, 8, dropout=0.0, batch_first=True, norm_first=True),
        [x(2, 4, 4), x(2, 3, 4)]),
    "DataParallel": (lambda T: T.nn.DataParallel(T.nn.Sequential(T.nn.Linear(3, 4),
                                                                 T.nn.ReLU())), [x(5, 3)]),
}
CASES = [(n, d) for n in LAYERS for d in ("float32", "float64")]


@pytest.mark.parametrize("name,dtype", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_layer_matches_torch(name, dtype):
    make, inputs = LAYERS[name]
    tm, nm = seeded_pair(make, dtype)
    ins = [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs]
    run_pair(tm, nm, ins, dtype, scale=10 if "Transformer" in name else 1)
    same_repr(nm, tm)
    for (k, a), (k2, b) in zip(nm.state_dict().items(), tm.state_dict().items()):
        assert k == k2
        assert_close(a, b, dtype, k)


def test_transformer_with_masks_and_dropout_streams():
    """Training-mode dropout draws torch's masks; masks and key padding as torch."""
    def make(T):
        return T.nn.Transformer(8, 2, 1, 2, 16, dropout=0.2)

    tm, nm = seeded_pair(make, "float32", seed=4)
    src, tgt = x(5, 2, 8).astype("float32"), x(4, 2, 8).astype("float32")
    pad = np.array([[False, False, False, True, True], [False] * 5])
    outs = []
    for T, m in ((torch, tm), (ndgrad, nm)):
        T.manual_seed(9)
        mask = m.generate_square_subsequent_mask(4)
        out = m(T.from_numpy(src), T.from_numpy(tgt), tgt_mask=mask,
                src_key_padding_mask=T.from_numpy(pad), memory_key_padding_mask=T.from_numpy(pad))
        outs.append(out)
    assert_close(outs[0], outs[1], "float32", scale=10)
    np.testing.assert_array_equal(np.asarray(nm.generate_square_subsequent_mask(3)),
                                  torch.nn.Transformer.generate_square_subsequent_mask(3).numpy())


@pytest.mark.parametrize("name", ["Dropout3d", "FeatureAlphaDropout", "FractionalMaxPool3d",
                                  "RReLU"])
def test_random_layers_draw_torchs_noise(name):
    make = {"Dropout3d": lambda T: T.nn.Dropout3d(0.4),
            "FeatureAlphaDropout": lambda T: T.nn.FeatureAlphaDropout(0.3),
            "FractionalMaxPool3d": lambda T: T.nn.FractionalMaxPool3d(2, output_ratio=0.5,
                                                                      return_indices=True),
            "RReLU": lambda T: T.nn.RReLU(0.1, 0.3)}[name]
    a = x(2, 3, 4, 4, 4).astype("float32")
    res = []
    for T in (torch, ndgrad):
        T.manual_seed(2)
        m = make(T)
        inp = T.from_numpy(a.copy()).requires_grad_()
        out = m(inp)
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()
        res.append((out, inp.grad, repr(m)))
    assert_close(res[1][0], res[0][0], "float32")
    assert_close(res[1][1], res[0][1], "float32")
    assert res[0][2] == res[1][2]


def test_adaptive_log_softmax_matches_torch():
    def make(T):
        return T.nn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7], div_value=2.0, head_bias=True)

    tm, nm = seeded_pair(make, "float64")
    inp, tgt = x(6, 8), np.array([0, 4, 11, 2, 8, 5])
    run_pair(tm, nm, [inp, tgt], "float64")
    run_pair(tm, nm, [inp[0], np.array(tgt[3])], "float64")
    for meth in ("log_prob", "predict"):
        a = getattr(nm, meth)(ndgrad.from_numpy(inp))
        b = getattr(tm, meth)(torch.from_numpy(inp))
        np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=1e-10)
    same_repr(nm, tm)
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 11\]"):
        nm(ndgrad.from_numpy(inp), ndgrad.tensor([0, 1, 2, 3, 4, 12]))


LOSSES = {
    "CTCLoss": (lambda T: T.nn.CTCLoss(blank=4, zero_infinity=True),
                lambda T, lp: (lp.log_softmax(2), T.tensor([[1, 2, 2], [3, 1, 0]]),
                               T.tensor([6, 2]), T.tensor([3, 2]))),
    "MultiMarginLoss": (lambda T: T.nn.MultiMarginLoss(p=2, margin=0.5,
                                                       weight=T.tensor([1.0, 2.0, 0.5, 1.0])),
                        lambda T, a: (a[0], T.tensor([0, 3, 1]))),
    "MultiLabelMarginLoss": (lambda T: T.nn.MultiLabelMarginLoss(),
                             lambda T, a: (a[0], T.tensor([[3, 0, -1, 1], [1, 2, 3, -1],
                                                           [-1, 0, 0, 0]]))),
    "MultiLabelSoftMarginLoss": (lambda T: T.nn.MultiLabelSoftMarginLoss(reduction="sum"),
                                 lambda T, a: (a[0], (a[1].detach() > 0).double())),
    "SoftMarginLoss": (lambda T: T.nn.SoftMarginLoss(), lambda T, a: (a[0], a[1].detach().sign())),
    "TripletMarginWithDistanceLoss": (lambda T: T.nn.TripletMarginWithDistanceLoss(swap=True),
                                      lambda T, a: (a[0], a[1], a[2])),
    "NLLLoss2d": (lambda T: T.nn.NLLLoss2d(), lambda T, a: (a[:2].permute(1, 2, 0).log_softmax(1),
                                                            T.tensor([[0, 1], [1, 1], [0, 0]]))),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_modules_match_torch(name):
    make, args = LOSSES[name]
    a = x(6, 2, 5) if name == "CTCLoss" else x(3, 3, 4)
    res = []
    for T in (torch, ndgrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m = make(T).double()
        inp = T.from_numpy(a.copy()).requires_grad_()
        out = m(*args(T, inp))
        out.backward()
        res.append((out, inp.grad, repr(m), [str(i.message) for i in w]))
    assert_close(res[1][0], res[0][0], "float64")
    assert_close(res[1][1], res[0][1], "float64")
    assert res[0][2] == res[1][2] and res[0][3] == res[1][3]


def test_linear_cross_entropy_loss_matches_torch():
    def make(T):
        return T.nn.LinearCrossEntropyLoss(4, 5, out_features=(2,), bias=True,
                                           label_smoothing=0.1)

    tm, nm = seeded_pair(make, "float64")
    run_pair(tm, nm, [x(3, 4), R.integers(0, 5, (3, 2))], "float64")
    same_repr(nm, tm)


def test_embedding_bag_from_pretrained_and_offsets():
    w = x(6, 3)
    res = []
    for T in (torch, ndgrad):
        m = T.nn.EmbeddingBag.from_pretrained(T.from_numpy(w.copy()), freeze=False,
                                              include_last_offset=True)
        out = m(T.tensor([1, 2, 4, 5, 4]), T.tensor([0, 2, 2, 5]),)
        out.sum().backward()
        res.append((out, m.weight.grad, repr(m)))
    assert_close(res[1][0], res[0][0], "float64")
    assert_close(res[1][1], res[0][1], "float64")
    assert res[0][2] == res[1][2]


def test_sync_batch_norm_conversion_and_data_parallel_state():
    for T in (torch, ndgrad):
        T.manual_seed(0)
        net = T.nn.Sequential(T.nn.Conv2d(2, 3, 1), T.nn.BatchNorm2d(3))
        conv = T.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        assert type(conv[1]).__name__ == "SyncBatchNorm" and conv[1].weight is net[1].weight
        dp = T.nn.DataParallel(net)
        assert list(dp.state_dict()) == ["module.0.weight", "module.0.bias", "module.1.weight",
                                         "module.1.bias", "module.1.running_mean",
                                         "module.1.running_var", "module.1.num_batches_tracked"]
        assert dp.device_ids == []


def _errors(fn):
    msgs = []
    for T in (torch, ndgrad):
        try:
            fn(T)
            msgs.append(None)
        except Exception as e:  # noqa: BLE001  (the type and message are compared)
            msgs.append((type(e).__name__, str(e).replace("ndgrad._tensor.", "torch.")
                         .replace("ndgrad.", "torch.")))
    return msgs


@pytest.mark.parametrize("fn", [
    lambda T: T.nn.FractionalMaxPool2d(2),
    lambda T: T.nn.FractionalMaxPool2d(2, output_ratio=1.5),
    lambda T: T.nn.FractionalMaxPool3d(0, output_size=2),
    lambda T: T.nn.MultiMarginLoss(p=3),
    lambda T: T.nn.TripletMarginWithDistanceLoss(margin=0),
    lambda T: T.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [5, 3]),
    lambda T: T.nn.EmbeddingBag(4, 2, padding_idx=5),
    lambda T: T.nn.BatchNorm3d(2)(T.ones(2, 2, 3)),
    lambda T: T.nn.InstanceNorm3d(2)(T.ones(2, 3)),
    lambda T: T.nn.SyncBatchNorm(2)(T.ones(3)),
    lambda T: T.nn.Softmax2d()(T.ones(2, 3)),
    lambda T: T.nn.Transformer(4, 2, 1, 1, 8)(T.ones(3, 2, 4), T.ones(3, 1, 4)),
    lambda T: T.nn.Transformer(4, 2, 1, 1, 8)(T.ones(3, 2, 4), T.ones(3, 2, 5)),
    lambda T: T.nn.CrossMapLRN2d(3)(T.ones(2, 3, 4)),
    lambda T: T.nn.functional.max_pool3d(T.ones(2, 3, 4), 2),
    lambda T: T.nn.functional.avg_pool3d(T.ones(2, 0, 4, 4), 2),
    lambda T: T.nn.functional.adaptive_max_pool2d(T.ones(3, 4), 2),
    lambda T: T.nn.functional.adaptive_avg_pool3d(T.ones(2, 3, 4), 2),
    lambda T: T.nn.functional.conv3d(T.ones(2, 3, 4), T.ones(2, 3, 1, 1, 1)),
    lambda T: T.nn.functional.max_unpool2d(T.ones(1, 1, 2, 2), T.tensor([[[[20, 1], [2, 3]]]]),
                                           2),
    lambda T: T.nn.functional.max_unpool2d(T.ones(1, 1, 2, 2), T.zeros(1, 1, 2, 2).int(), 2),
    lambda T: T.nn.functional.fractional_max_pool2d(T.ones(1, 2, 5, 5), 3, output_size=4),
    lambda T: T.nn.functional.fractional_max_pool3d(T.ones(1, 1, 5, 5, 5), 2, output_size=4),
    lambda T: T.nn.functional.ctc_loss(T.ones(5, 2, 4), T.tensor([[1, 2], [3, 3]]), [5, 4],
                                       [2, 2], blank=4),
    lambda T: T.nn.functional.ctc_loss(T.ones(5, 2, 4), T.tensor([[1, 2], [3, 3]]), [6, 4],
                                       [2, 2]),
    lambda T: T.nn.functional.ctc_loss(T.ones(5, 2, 4), T.tensor([1, 2, 3]), [5, 4], [2, 2]),
    lambda T: T.nn.functional.multi_margin_loss(T.ones(3, 4), T.tensor([1, 2, 5])),
    lambda T: T.nn.functional.multi_margin_loss(T.ones(3, 4), T.tensor([1, 2])),
    lambda T: T.nn.functional.multilabel_margin_loss(T.ones(3, 4), T.ones(2, 4).long()),
    lambda T: T.nn.functional.embedding_bag(T.tensor([1, 2, 7]), T.ones(5, 3), T.tensor([0, 1])),
    lambda T: T.nn.functional.embedding_bag(T.tensor([1, 2, 3]), T.ones(5, 3), T.tensor([1, 2])),
    lambda T: T.nn.functional.embedding_bag(T.tensor([[1, 2]]), T.ones(5, 3), T.tensor([0])),
    lambda T: T.nn.functional.grid_sample(T.ones(2, 3, 4, 5), T.ones(1, 3, 3, 2),
                                          align_corners=True),
    lambda T: T.nn.functional.grid_sample(T.ones(2, 3, 4, 5), T.ones(2, 3, 3, 2).double(),
                                          align_corners=True),
    lambda T: T.nn.functional.grid_sample(T.ones(1, 2, 1, 4, 5), T.ones(1, 1, 3, 3, 3),
                                          mode="bicubic", align_corners=True),
    lambda T: T.nn.functional.affine_grid(T.ones(2, 2, 3), (2, 3, 4, 5, 6), align_corners=False),
    lambda T: T.nn.functional.local_response_norm(T.ones(2, 4), 2),
], ids=lambda f: "")
def test_errors_match_torch(fn):
    t, n = _errors(fn)
    assert t == n


def _t(*shape, low=-2.0, high=2.0):
    return ndgrad.from_numpy(x(*shape, low=low, high=high)).requires_grad_()


F = ndgrad.nn.functional
SECOND_ORDER = {
    "conv3d": (lambda a, w: F.conv3d(a, w, padding=1), [(1, 2, 3, 2, 3), (2, 2, 2, 2, 2)]),
    "max_pool3d": (lambda a: F.max_pool3d(a, 2, 1), [(1, 2, 3, 3, 3)]),
    "avg_pool3d": (lambda a: F.avg_pool3d(a, 2, 1, 1), [(1, 2, 3, 3, 3)]),
    "adaptive_avg_pool3d": (lambda a: F.adaptive_avg_pool3d(a, (2, 3, 2)), [(1, 2, 3, 4, 3)]),
    "adaptive_max_pool2d": (lambda a: F.adaptive_max_pool2d(a, 2), [(2, 3, 5)]),
    "fractional_max_pool2d": (lambda a: F.fractional_max_pool2d(
        a, 2, output_size=2, _random_samples=ndgrad.full((1, 2, 2), 0.3, dtype=ndgrad.float64)),
        [(1, 2, 4, 4)]),
    "max_unpool2d": (lambda a: F.max_unpool2d(a, ndgrad.tensor([[[[0, 3], [9, 15]]]]), 2),
                     [(1, 1, 2, 2)]),
    "lp_pool2d": (lambda a: F.lp_pool2d(a, 3, 2), [(1, 2, 4, 4)]),
    "grid_sample": (lambda a, g: F.grid_sample(a, g, align_corners=False), [(1, 2, 3, 4),
                                                                           (1, 2, 3, 2)]),
    "grid_sample_bicubic": (lambda a, g: F.grid_sample(a, g, mode="bicubic",
                                                       padding_mode="reflection",
                                                       align_corners=True),
                            [(1, 1, 3, 4), (1, 2, 2, 2)]),
    "affine_grid": (lambda t: F.affine_grid(t, (1, 1, 2, 3), align_corners=False), [(1, 2, 3)]),
    "embedding_bag": (lambda w, p: F.embedding_bag(ndgrad.tensor([1, 2, 2, 0]), w,
                                                   ndgrad.tensor([0, 1]), mode="sum",
                                                   per_sample_weights=p), [(3, 2), (4,)]),
    "embedding_bag_max": (lambda w: F.embedding_bag(ndgrad.tensor([[1, 2], [0, 2]]), w,
                                                    mode="max"), [(3, 2)]),
    "multi_margin_loss": (lambda a: F.multi_margin_loss(a, ndgrad.tensor([0, 2]), p=2),
                          [(2, 3)]),
    "multilabel_margin_loss": (lambda a: F.multilabel_margin_loss(
        a, ndgrad.tensor([[2, 0, -1], [1, -1, 0]])), [(2, 3)]),
    "soft_margin_loss": (lambda a: F.soft_margin_loss(a, ndgrad.tensor([1.0, -1.0, 1.0],
                                                                       dtype=a.dtype)), [(3,)]),
    "multilabel_soft_margin_loss": (lambda a: F.multilabel_soft_margin_loss(
        a, ndgrad.tensor([[1.0, 0.0, 1.0]], dtype=a.dtype)), [(1, 3)]),
    "rms_norm": (lambda a, w: F.rms_norm(a, [3], w), [(2, 3), (3,)]),
    "local_response_norm": (lambda a: F.local_response_norm(a, 3, 0.5), [(1, 4, 2)]),
    "gumbel_softmax": (lambda a: F.gumbel_softmax(a) if ndgrad.manual_seed(0) else None,
                       [(2, 3)]),
}


# torch's backward kernels for these have no derivative: ndgrad raises as torch
# (test_second_order_refused.py compares the errors)
REFUSED = {"embedding_bag", "embedding_bag_max", "multi_margin_loss", "multilabel_margin_loss"}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_second_order_against_finite_differences(name):
    fn, shapes = SECOND_ORDER[name]
    ins = tuple(_t(*s, low=0.2 if "lp_pool" in name else -2.0) for s in shapes)
    assert ndgrad.autograd.gradcheck(fn, ins)
    if name in REFUSED:
        with pytest.raises((RuntimeError, NotImplementedError), match="is not implemented"):
            ndgrad.autograd.gradgradcheck(fn, ins)
    else:
        assert ndgrad.autograd.gradgradcheck(fn, ins)


# --- nn.utils.rnn -------------------------------------------------------------------------------
def _rnn_run(T, make, x, lengths, batch_first, hx=None, seed=0):
    R = T.nn.utils.rnn
    T.manual_seed(seed)
    m = make(T).double()
    xi = T.from_numpy(x.copy()).requires_grad_()
    p = R.pack_padded_sequence(xi, T.tensor(lengths), batch_first=batch_first,
                               enforce_sorted=False)
    T.manual_seed(seed + 1)
    h0 = None if hx is None else (tuple(T.from_numpy(h.copy()) for h in hx) if len(hx) == 2
                                  else T.from_numpy(hx[0].copy()))
    out, h = m(p, h0)
    o, lens = R.pad_packed_sequence(out, batch_first=batch_first)
    hs = h if isinstance(h, tuple) else (h,)
    ((o ** 2).sum() + sum((t ** 3).sum() for t in hs)).backward()
    return [o, *hs, xi.grad, lens, out.batch_sizes, *[q.grad for q in m.parameters()]]


PACKED = {
    "RNN_bi_2layer": (lambda T: T.nn.RNN(3, 4, 2, bidirectional=True), False, None),
    "RNN_relu_hx": (lambda T: T.nn.RNN(3, 4, nonlinearity="relu"), False, [x(1, 3, 4)]),
    "GRU_batch_first": (lambda T: T.nn.GRU(3, 4, batch_first=True), True, None),
    "LSTM_bi_proj": (lambda T: T.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2), False,
                     [x(4, 3, 2), x(4, 3, 5)]),
    "LSTM_dropout": (lambda T: T.nn.LSTM(3, 4, 3, dropout=0.3), False, None),
}


@pytest.mark.parametrize("name", list(PACKED))
def test_recurrent_layers_on_packed_sequences_match_torch(name):
    make, bf, hx = PACKED[name]
    a = x(3, 5, 3) if bf else x(5, 3, 3)
    got = _rnn_run(ndgrad, make, a, [2, 5, 3], bf, hx)
    want = _rnn_run(torch, make, a, [2, 5, 3], bf, hx)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, "float64", f"item {i}")


def test_packing_helpers_match_torch():
    a = x(4, 3, 2)
    res = []
    for T in (torch, ndgrad):
        R = T.nn.utils.rnn
        xi = T.from_numpy(a.copy()).requires_grad_()
        p = R.pack_padded_sequence(xi, [1, 4, 2], enforce_sorted=False)
        o, lens = R.pad_packed_sequence(p, batch_first=True, padding_value=-1.0, total_length=5)
        (o * T.arange(30.0, dtype=T.float64).reshape(3, 5, 2)).sum().backward()
        seqs = [T.from_numpy(np.arange(n * 2.0).reshape(n, 2)) for n in (3, 1, 2)]
        packed = R.pack_sequence(seqs, enforce_sorted=False)
        padded = R.pad_sequence(seqs)
        res.append([p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices, o, lens, xi.grad,
                    *R.unpack_sequence(packed), *R.unpad_sequence(padded, T.tensor([3, 1, 2])),
                    R.invert_permutation(T.tensor([2, 0, 1])), p.data.grad_fn.name(),
                    repr(R.pack_sequence([T.ones(2), T.ones(1)]))])
    for i, (w, g) in enumerate(zip(*res)):
        if isinstance(w, str):
            assert g.replace("ndgrad.", "torch.") == w, i
        else:
            assert_close(g, w, "float64", f"item {i}")
            assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]


@pytest.mark.parametrize("fn", [
    lambda T: T.nn.utils.rnn.pack_padded_sequence(T.ones(4, 3, 2), [4, 2]),
    lambda T: T.nn.utils.rnn.pack_padded_sequence(T.ones(4, 3, 2), [2, 4, 1]),
    lambda T: T.nn.utils.rnn.pack_padded_sequence(T.ones(4, 3, 2), [4, 2, 0]),
    lambda T: T.nn.utils.rnn.pack_padded_sequence(T.ones(0, 3, 2), [0, 0, 0]),
    lambda T: T.nn.utils.rnn.pad_packed_sequence(T.nn.utils.rnn.pack_sequence(
        [T.ones(3), T.ones(2)]), total_length=2),
    lambda T: T.nn.GRU(3, 3)(T.nn.utils.rnn.pack_sequence([T.ones(3, 2), T.ones(2, 2)])),
], ids=lambda f: "")
def test_packing_errors_match_torch(fn):
    t, n = _errors(fn)
    assert t == n


# --- nn.utils: weight/spectral norm, parametrizations, pruning ----------------------------------
def _both(fn):
    out = []
    for T in (torch, ndgrad):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            T.manual_seed(0)
            out.append(fn(T))
    return out


def _same(got, want):
    for i, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, str):
            assert g.replace("ndgrad.", "torch.") == w, i
        else:
            assert_close(g, w, "float64" if w.dtype == torch.float64 else "float32", f"item {i}")


def _old_weight_norm(T):
    m = T.nn.utils.weight_norm(T.nn.Linear(3, 4), dim=0)
    out = m(T.ones(2, 3))
    out.sum().backward()
    keys = str(list(m.state_dict()))
    grads = [m.weight_g.grad, m.weight_v.grad]
    T.nn.utils.remove_weight_norm(m)
    return [out, *grads, keys, m.weight, str(list(m.state_dict()))]


def _old_spectral_norm(T):
    m = T.nn.utils.spectral_norm(T.nn.ConvTranspose2d(2, 3, 2))
    x = T.ones(1, 2, 3, 3)
    o1, o2 = m(x), m(x)
    m.eval()
    o3 = m(x)
    o3.sum().backward()
    keys = str(list(m.state_dict()))
    meta = str(m.state_dict()._metadata[""].get("spectral_norm"))
    g = m.weight_orig.grad
    T.nn.utils.remove_spectral_norm(m)
    return [o1, o2, o3, g, keys, meta, m.weight, str(list(m.state_dict()))]


def _new_weight_norm(T):
    m = T.nn.utils.parametrizations.weight_norm(T.nn.Linear(3, 4), dim=1)
    o = m(T.ones(2, 3))
    o.sum().backward()
    p = m.parametrizations.weight
    return [o, p.original0.grad, p.original1.grad, str(list(m.state_dict())), repr(m)]


def _new_spectral_norm(T):
    m = T.nn.utils.parametrizations.spectral_norm(T.nn.Linear(5, 4))
    o = m(T.ones(2, 5))
    o.sum().backward()
    m.eval()
    return [o, m(T.ones(2, 5)), m.parametrizations.weight.original.grad,
            m.parametrizations.weight[0]._u, str(list(m.state_dict()))]


def _orthogonal(orth_map, shape):
    def fn(T):
        m = T.nn.Linear(shape[1], shape[0]).double()
        T.nn.utils.parametrizations.orthogonal(m, orthogonal_map=orth_map)
        w = m.weight
        o = m(T.ones(2, shape[1], dtype=T.float64))
        o.sum().backward()
        g = m.parametrizations.weight.original.grad
        m.weight = T.eye(*shape, dtype=T.float64)
        gram = w.mT @ w if shape[0] >= shape[1] else w @ w.mT
        return [w, g, m.weight, gram]
    return fn


def _custom_parametrization(T):
    class Sym(T.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    m = T.nn.Linear(3, 3)
    P = T.nn.utils.parametrize
    P.register_parametrization(m, "weight", Sym())
    with P.cached():
        same = str(m.weight is m.weight)
    m.weight = T.arange(9.0).reshape(3, 3)
    w1, name = m.weight, type(m).__name__
    before = P.type_before_parametrizations(m).__name__
    P.remove_parametrizations(m, "weight")
    return [w1, same, name, before, type(m).__name__, m.weight, str(P.is_parametrized(m)),
            str(list(m.state_dict()))]


def _prune(T):
    import importlib

    pr = importlib.import_module(T.__name__ + ".nn.utils.prune")
    m = T.nn.Linear(4, 5)
    pr.l1_unstructured(m, "weight", amount=0.3)
    pr.random_unstructured(m, "bias", amount=2)
    pr.ln_structured(m, "weight", amount=1, n=2, dim=0)
    pr.random_structured(m, "weight", amount=0.25, dim=1)
    o = m(T.ones(2, 4))
    o.sum().backward()
    keys, pruned = str(list(m.state_dict())), str(pr.is_pruned(m))
    mask, g = m.weight_mask.clone(), m.weight_orig.grad
    pr.remove(m, "weight")
    m2 = T.nn.Sequential(T.nn.Linear(3, 3), T.nn.Linear(3, 2))
    pr.global_unstructured([(m2[0], "weight"), (m2[1], "weight")],
                           pruning_method=pr.L1Unstructured, amount=5)
    return [o, mask, m.bias_mask, g, keys, pruned, m.weight, str(list(m.state_dict())),
            m2[0].weight_mask, m2[1].weight_mask]


UTILS = {"weight_norm": _old_weight_norm, "spectral_norm": _old_spectral_norm,
         "parametrizations.weight_norm": _new_weight_norm,
         "parametrizations.spectral_norm": _new_spectral_norm,
         "register_parametrization": _custom_parametrization, "prune": _prune,
         **{f"orthogonal_{m}_{s[0]}x{s[1]}": _orthogonal(m, s)
            for m in ("matrix_exp", "cayley", "householder") for s in ((4, 4), (5, 3), (3, 5))}}


@pytest.mark.parametrize("name", list(UTILS))
def test_nn_utils_match_torch(name):
    want, got = _both(UTILS[name])
    _same(got, want)


@pytest.mark.parametrize("fn", [
    lambda T: T.nn.utils.weight_norm(T.nn.utils.weight_norm(T.nn.Linear(2, 2))),
    lambda T: T.nn.utils.remove_weight_norm(T.nn.Linear(2, 2)),
    lambda T: T.nn.utils.spectral_norm(T.nn.Linear(2, 2), n_power_iterations=0),
    lambda T: T.nn.utils.remove_spectral_norm(T.nn.Linear(2, 2)),
    lambda T: T.nn.utils.parametrizations.orthogonal(T.nn.Linear(2, 2), "bias"),
    lambda T: T.nn.utils.parametrizations.orthogonal(T.nn.Linear(2, 2), orthogonal_map="qr"),
    lambda T: T.nn.utils.parametrizations.spectral_norm(T.nn.Linear(2, 2), dim=3),
    lambda T: T.nn.utils.parametrize.register_parametrization(T.nn.Linear(2, 2), "w",
                                                               T.nn.Identity()),
    lambda T: T.nn.utils.parametrize.register_parametrization(T.nn.Linear(2, 2), "weight",
                                                               T.nn.Flatten(0)),
    lambda T: T.nn.utils.parametrize.remove_parametrizations(T.nn.Linear(2, 2), "weight"),
], ids=lambda f: "")
def test_nn_utils_errors_match_torch(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, n = _errors(fn)
    assert (t[0], t[1].split("\n")[0].split("Linear(")[0]) == \
        (n[0], n[1].split("\n")[0].split("Linear(")[0])


def test_ctc_loss_is_differentiable_once_as_torch():
    a = x(5, 2, 4)
    msgs = []
    for T in (torch, ndgrad):
        lp = T.from_numpy(a.copy()).requires_grad_()
        loss = T.nn.functional.ctc_loss(lp.log_softmax(2), T.tensor([[1, 2], [3, 3]]),
                                        [5, 4], [2, 2])
        (g,) = T.autograd.grad(loss, lp, create_graph=True)
        with pytest.raises(RuntimeError) as e:
            T.autograd.grad(g.sum(), lp)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
