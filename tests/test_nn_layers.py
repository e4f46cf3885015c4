"""Every layer side by side with torch: torch's weights copied in, same outputs and gradients
(inputs and parameters) in float32 and float64, identical state_dict keys/shapes and repr."""

import numpy as np
import pytest
import torch
from nn_compare import make_pair, run_pair, same_repr

import ndgrad

R = np.random.default_rng(0)


def x(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


def idx(high, *shape):
    return R.integers(0, high, shape)


# name: (make(lib), inputs as numpy, options)
LAYERS = {
    "Linear": (lambda T: T.nn.Linear(4, 3), [x(5, 4)], {}),
    "Linear_nobias_3d": (lambda T: T.nn.Linear(4, 3, bias=False), [x(2, 5, 4)], {}),
    "Linear_1d": (lambda T: T.nn.Linear(4, 3), [x(4)], {}),
    "Bilinear": (lambda T: T.nn.Bilinear(3, 4, 2), [x(5, 3), x(5, 4)], {}),
    "Identity": (lambda T: T.nn.Identity(3, k=1), [x(2, 3)], {}),
    "Flatten": (lambda T: T.nn.Flatten(), [x(2, 3, 4)], {}),
    "Unflatten": (lambda T: T.nn.Unflatten(1, (2, 3)), [x(2, 6)], {}),
    "Conv1d": (lambda T: T.nn.Conv1d(3, 4, 3, stride=2, padding=1), [x(2, 3, 9)], {}),
    "Conv2d": (lambda T: T.nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2)),
               [x(2, 3, 8, 7)], {}),
    "Conv2d_groups_same": (lambda T: T.nn.Conv2d(4, 6, 3, padding="same", groups=2, bias=False),
                           [x(2, 4, 5, 5)], {}),
    "Conv2d_reflect": (lambda T: T.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                       [x(1, 2, 5, 6)], {}),
    "Conv2d_circular": (lambda T: T.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular"),
                        [x(1, 2, 5, 6)], {}),
    "Conv2d_unbatched": (lambda T: T.nn.Conv2d(2, 3, 2), [x(2, 4, 4)], {}),
    "ConvTranspose2d": (lambda T: T.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1,
                                                       output_padding=1), [x(2, 3, 4, 5)], {}),
    "ConvTranspose2d_groups": (lambda T: T.nn.ConvTranspose2d(4, 6, (2, 3), stride=(1, 2),
                                                              groups=2, dilation=2),
                               [x(1, 4, 3, 4)], {}),
    "ConvTranspose1d": (lambda T: T.nn.ConvTranspose1d(3, 2, 4, stride=3), [x(2, 3, 5)], {}),
    "MaxPool1d": (lambda T: T.nn.MaxPool1d(3, 2, 1, ceil_mode=True), [x(2, 3, 10)], {}),
    "MaxPool2d": (lambda T: T.nn.MaxPool2d(2), [x(2, 3, 6, 7)], {}),
    "MaxPool2d_pad_dil": (lambda T: T.nn.MaxPool2d(3, (2, 1), 1, dilation=(1, 2), ceil_mode=True),
                          [x(2, 3, 7, 8)], {}),
    "AvgPool1d": (lambda T: T.nn.AvgPool1d(3, 2, 1), [x(2, 3, 9)], {}),
    "AvgPool2d": (lambda T: T.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
                  [x(2, 3, 8, 7)], {}),
    "AvgPool2d_div": (lambda T: T.nn.AvgPool2d(2, divisor_override=3), [x(2, 3, 4, 6)], {}),
    "AdaptiveAvgPool2d": (lambda T: T.nn.AdaptiveAvgPool2d((3, 4)), [x(2, 3, 7, 9)], {}),
    "AdaptiveAvgPool2d_1": (lambda T: T.nn.AdaptiveAvgPool2d(1), [x(2, 3, 5, 5)], {}),
    "BatchNorm1d": (lambda T: T.nn.BatchNorm1d(3), [x(4, 3)], {}),
    "BatchNorm1d_3d": (lambda T: T.nn.BatchNorm1d(3, momentum=None), [x(4, 3, 5)], {}),
    "BatchNorm2d": (lambda T: T.nn.BatchNorm2d(3), [x(2, 3, 4, 5)], {}),
    "BatchNorm2d_eval": (lambda T: T.nn.BatchNorm2d(3).eval(), [x(2, 3, 4, 5)], {}),
    "BatchNorm2d_noaffine": (lambda T: T.nn.BatchNorm2d(3, affine=False,
                                                        track_running_stats=False),
                             [x(2, 3, 4, 5)], {}),
    "LayerNorm": (lambda T: T.nn.LayerNorm((4, 5)), [x(2, 3, 4, 5)], {}),
    "LayerNorm_nobias": (lambda T: T.nn.LayerNorm(5, bias=False, eps=1e-3), [x(3, 5)], {}),
    "GroupNorm": (lambda T: T.nn.GroupNorm(2, 6), [x(3, 6, 4)], {}),
    "InstanceNorm2d": (lambda T: T.nn.InstanceNorm2d(3, affine=True), [x(2, 3, 4, 5)], {}),
    "Dropout_eval": (lambda T: T.nn.Dropout(0.3).eval(), [x(4, 5)], {}),
    "Dropout2d_eval": (lambda T: T.nn.Dropout2d().eval(), [x(2, 3, 4, 5)], {}),
    "Embedding": (lambda T: T.nn.Embedding(7, 3, padding_idx=2), [idx(7, 4, 5)], {}),
    "Embedding_maxnorm": (lambda T: T.nn.Embedding(7, 3, max_norm=1.0, norm_type=1.5,
                                                   scale_grad_by_freq=True), [idx(7, 9)], {}),
    "Upsample_nearest": (lambda T: T.nn.Upsample(scale_factor=2), [x(1, 2, 3, 4)], {}),
    "Upsample_bilinear": (lambda T: T.nn.Upsample(size=(5, 7), mode="bilinear",
                                                  align_corners=True), [x(1, 2, 3, 4)], {}),
    "Upsample_bicubic": (lambda T: T.nn.Upsample(scale_factor=(1.5, 2.5), mode="bicubic"),
                         [x(1, 2, 4, 3)], {}),
    "PixelShuffle": (lambda T: T.nn.PixelShuffle(2), [x(2, 8, 3, 4)], {}),
    "PixelUnshuffle": (lambda T: T.nn.PixelUnshuffle(2), [x(2, 2, 4, 6)], {}),
    "ZeroPad2d": (lambda T: T.nn.ZeroPad2d((1, 0, 2, 1)), [x(2, 3, 4, 5)], {}),
    "ConstantPad1d": (lambda T: T.nn.ConstantPad1d(2, 1.5), [x(2, 3, 4)], {}),
    "ReflectionPad2d": (lambda T: T.nn.ReflectionPad2d(2), [x(1, 2, 4, 5)], {}),
    "ReplicationPad1d": (lambda T: T.nn.ReplicationPad1d((3, 1)), [x(2, 3, 4)], {}),
    "CircularPad2d": (lambda T: T.nn.CircularPad2d(1), [x(1, 2, 3, 4)], {}),
    "CosineSimilarity": (lambda T: T.nn.CosineSimilarity(dim=0), [x(4, 3), x(4, 3)], {}),
    "PairwiseDistance": (lambda T: T.nn.PairwiseDistance(p=1.0, keepdim=True),
                         [x(4, 3), x(4, 3)], {}),
    "Sequential": (lambda T: T.nn.Sequential(T.nn.Conv2d(1, 2, 3), T.nn.ReLU(), T.nn.MaxPool2d(2),
                                             T.nn.Flatten(), T.nn.Linear(8, 3)),
                   [x(2, 1, 6, 6)], {}),
}
CASES = [(n, dt) for n in LAYERS for dt in ("float32", "float64")]


@pytest.mark.parametrize("name,dtype", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_layer_matches_torch(name, dtype):
    make, inputs, _ = LAYERS[name]
    tm, nm = make_pair(make, dtype)
    inputs = [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs]
    run_pair(tm, nm, inputs, dtype)
    # running statistics and counters are updated the same way
    for (kn, bn), (kt, bt) in zip(nm.named_buffers(), tm.named_buffers()):
        assert kn == kt
        np.testing.assert_allclose(np.asarray(bn), bt.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_state_dict_and_repr_match_torch(name):
    make = LAYERS[name][0]
    torch.manual_seed(0)
    tm = make(torch)
    nm = make(ndgrad)
    tsd, nsd = tm.state_dict(), nm.state_dict()
    assert list(nsd) == list(tsd)
    for k in tsd:
        assert tuple(nsd[k].shape) == tuple(tsd[k].shape), k
        assert str(nsd[k].dtype).split(".")[-1] == str(tsd[k].dtype).split(".")[-1], k
    assert [n for n, _ in nm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    same_repr(nm, tm)


def test_conv_is_im2col_without_materialising_per_pixel_loops():
    # a 64-image batch through Conv2d: the result must match torch (one batched matmul)
    tm, nm = make_pair(lambda T: T.nn.Conv2d(3, 8, 3, padding=1), "float32")
    a = x(16, 3, 12, 12).astype("float32")
    run_pair(tm, nm, [a], "float32", scale=5)


def test_conv_transpose_output_size_argument():
    tm, nm = make_pair(lambda T: T.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), "float64")
    a = x(1, 2, 4, 4)
    run_pair(tm, nm, [a], call=lambda m, t: m(t, output_size=[8, 8]))
    with pytest.raises(ValueError, match="requested an output size"):
        nm(ndgrad.from_numpy(a), output_size=[20, 20])


def test_max_pool_return_indices_match_torch():
    a = x(2, 3, 7, 6)
    out, ind = ndgrad.nn.MaxPool2d(3, 2, 1, return_indices=True)(ndgrad.from_numpy(a))
    tout, tind = torch.nn.MaxPool2d(3, 2, 1, return_indices=True)(torch.from_numpy(a))
    np.testing.assert_array_equal(np.asarray(ind), tind.numpy())
    assert ind.dtype == ndgrad.int64
    np.testing.assert_array_equal(np.asarray(out), tout.numpy())


def test_batchnorm_training_updates_running_stats_and_counts():
    tm, nm = make_pair(lambda T: T.nn.BatchNorm1d(3, momentum=0.3), "float32")
    for _ in range(3):
        a = x(6, 3).astype("float32")
        run_pair(tm, nm, [a], "float32", grad=False)
    assert int(nm.num_batches_tracked) == 3
    np.testing.assert_allclose(np.asarray(nm.running_var), tm.running_var.numpy(), rtol=1e-6)
    nm.eval(), tm.eval()
    run_pair(tm, nm, [x(2, 3).astype("float32")], "float32")


def test_batchnorm_state_dict_without_num_batches_tracked_loads():
    bn = ndgrad.nn.BatchNorm2d(3)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(sd).missing_keys == []


def test_dropout_training_mask_scaling_and_streams_match_torch():
    for lib in (ndgrad, torch):
        lib.manual_seed(3)
    a = np.ones((200, 50), dtype="float32")
    outs = []
    for lib in (ndgrad, torch):
        t = (ndgrad.from_numpy if lib is ndgrad else torch.from_numpy)(a.copy())
        outs.append(np.asarray(lib.nn.Dropout(0.25)(t).detach()))
    kept = outs[0][outs[0] != 0]
    np.testing.assert_allclose(kept, 1 / 0.75, rtol=1e-6)
    assert abs((outs[0] == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(outs[0], outs[1])  # same seed, same mask as torch


def test_dropout2d_zeroes_whole_channels():
    ndgrad.manual_seed(0)
    out = ndgrad.nn.Dropout2d(0.5)(ndgrad.ones(4, 6, 3, 3))
    per_channel = np.asarray(out).reshape(4, 6, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()


def test_embedding_from_pretrained_and_padding_gradient():
    w = ndgrad.randn(5, 3)
    emb = ndgrad.nn.Embedding.from_pretrained(w, freeze=False, padding_idx=1)
    out = emb(ndgrad.tensor([[1, 2], [1, 4]]))
    out.sum().backward()
    g = np.asarray(emb.weight.grad)
    assert (g[1] == 0).all() and (g[2] == 1).all() and (g[0] == 0).all()
    assert ndgrad.nn.Embedding.from_pretrained(w).weight.requires_grad is False


def test_seeded_default_init_equals_torch():
    for make in (lambda T: T.nn.Linear(7, 5), lambda T: T.nn.Conv2d(3, 4, 3),
                 lambda T: T.nn.Embedding(6, 4), lambda T: T.nn.LSTM(3, 4, 2),
                 lambda T: T.nn.MultiheadAttention(8, 2, add_bias_kv=True),
                 lambda T: T.nn.Bilinear(2, 3, 4)):
        ndgrad.manual_seed(11)
        torch.manual_seed(11)
        nm, tm = make(ndgrad), make(torch)
        for (k, a), (_, b) in zip(nm.state_dict().items(), tm.state_dict().items()):
            np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-6, atol=1e-7,
                                       err_msg=k)


@pytest.mark.parametrize("make,fan_in", [
    (lambda: ndgrad.nn.Linear(300, 200), 300),
    (lambda: ndgrad.nn.Conv2d(16, 32, 3), 16 * 9),
    (lambda: ndgrad.nn.Conv1d(8, 64, 5, groups=4), 2 * 5),
    (lambda: ndgrad.nn.ConvTranspose2d(16, 8, 3), 8 * 9),
])
def test_default_init_follows_torchs_bounds(make, fan_in):
    m = make()
    w, b = np.asarray(m.weight.detach()), np.asarray(m.bias.detach())
    bound = 1 / np.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias share this bound
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound


def test_layers_move_to_double_and_half():
    m = ndgrad.nn.Sequential(ndgrad.nn.Linear(3, 4), ndgrad.nn.BatchNorm1d(4))
    m.double()
    assert m[0].weight.dtype == ndgrad.float64 and m[1].running_mean.dtype == ndgrad.float64
    assert m[1].num_batches_tracked.dtype == ndgrad.int64
    out = m(ndgrad.randn(5, 3, dtype=ndgrad.float64))
    assert out.dtype == ndgrad.float64
    m.half()
    assert m[0].bias.dtype == ndgrad.float16


def test_flatten_unflatten_reprs_and_errors():
    assert repr(ndgrad.nn.Unflatten(1, (2, 3))) == repr(torch.nn.Unflatten(1, (2, 3)))
    for lib in (ndgrad, torch):
        with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
            lib.nn.Unflatten(1, 5)


def test_linear_1d_input_weight_grad_keeps_signed_zeros_like_torch():
    # a zero upstream gradient times a negative input is -0.0 in torch (printed as -0.0000)
    grads = []
    for T in (ndgrad, torch):
        lin = T.nn.Linear(3, 2)
        x = T.tensor([-1.0, 2.0, -3.0])
        lin(x).backward(T.tensor([0.0, 1.0]))
        grads.append(np.signbit(np.asarray(lin.weight.grad)))
    np.testing.assert_array_equal(grads[0], grads[1])
