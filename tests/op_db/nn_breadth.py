"""Op-table entries for the nn breadth (issue 12): 3-d layers, adaptive/fractional/lp pooling,
unpooling, shrink activations, the extra losses, grid sampling, embedding_bag, rms_norm..."""

import numpy as np

from op_db import OpInfo, arr, register
from op_db.nn_functional import F, F32_64, shapes

# --- 3-d convolution and pooling --------------------------------------------------------------
register(
    OpInfo("F.conv3d", lambda T, x, w, b: F(T).conv3d(x, w, b, stride=(2, 1, 1), padding=1,
                                                      dilation=(1, 1, 2)),
           shapes([(2, 3, 5, 4, 5), (4, 3, 2, 3, 2), (4,)], [(3, 4, 3, 4), (2, 3, 2, 2, 2),
                                                             (2,)])),
    OpInfo("F.conv3d_groups", lambda T, x, w: F(T).conv3d(x, w, groups=2, padding="same"),
           shapes([(1, 4, 3, 4, 3), (4, 2, 2, 3, 1)])),
    OpInfo("F.conv_transpose3d", lambda T, x, w, b: F(T).conv_transpose3d(
        x, w, b, stride=2, padding=1, output_padding=(1, 0, 1)),
        shapes([(2, 3, 3, 2, 3), (3, 2, 3, 2, 3), (2,)])),
    OpInfo("F.max_pool3d", lambda T, x: F(T).max_pool3d(x, (2, 3, 2), (1, 2, 2), 1,
                                                         ceil_mode=True),
           shapes([(2, 2, 4, 5, 5)], [(2, 3, 4, 3)])),
    OpInfo("F.max_pool3d_with_indices", lambda T, x: F(T).max_pool3d_with_indices(
        x, 2, dilation=(1, 2, 1), return_indices=True), shapes([(1, 2, 4, 5, 4)])),
    OpInfo("F.max_pool1d_with_indices", lambda T, x: F(T).max_pool1d_with_indices(x, 3, 2),
           shapes([(2, 3, 9)])),
    OpInfo("F.max_pool2d_with_indices", lambda T, x: F(T).max_pool2d_with_indices(x, 2, 1, 1),
           shapes([(2, 3, 4, 5)], [(3, 4, 4)])),
    OpInfo("F.avg_pool3d", lambda T, x: F(T).avg_pool3d(x, 3, 2, 1, ceil_mode=True,
                                                         count_include_pad=False),
           shapes([(2, 2, 5, 6, 4)], [(2, 5, 4, 4)])),
    OpInfo("F.avg_pool3d_divisor", lambda T, x: F(T).avg_pool3d(x, 2, divisor_override=3),
           shapes([(1, 2, 4, 4, 4)])),
    OpInfo("F.adaptive_avg_pool3d", lambda T, x: F(T).adaptive_avg_pool3d(x, (3, None, 2)),
           shapes([(2, 2, 5, 4, 5)], [(2, 4, 3, 5)])),
    OpInfo("F.adaptive_avg_pool3d_one", lambda T, x: F(T).adaptive_avg_pool3d(x, 1),
           shapes([(2, 2, 3, 4, 2)])),
)


# --- adaptive max, fractional, unpooling, lp pooling ------------------------------------------
def _fmp(nd):
    def fn(T, x, **k):
        n, c = (1, x.shape[0]) if x.ndim == nd + 1 else x.shape[:2]
        samples = T.linspace(0.05, 0.95, n * c * nd, dtype=x.dtype).reshape(n, c, nd)
        return getattr(F(T), f"fractional_max_pool{nd}d")(x, _random_samples=samples, **k)
    return fn


def _unpool(nd, **kw):
    def fn(T, x, v):
        _, idx = getattr(F(T), f"max_pool{nd}d")(x.detach(), 2, return_indices=True, **kw)
        size = x.shape[-nd:] if kw else None
        return getattr(F(T), f"max_unpool{nd}d")(v, idx, 2, output_size=size, **kw)
    return fn


register(
    OpInfo("F.adaptive_max_pool1d", lambda T, x: F(T).adaptive_max_pool1d(x, 3),
           shapes([(2, 3, 7)], [(3, 5)])),
    OpInfo("F.adaptive_max_pool1d_with_indices",
           lambda T, x: F(T).adaptive_max_pool1d_with_indices(x, 4), shapes([(2, 3, 9)])),
    OpInfo("F.adaptive_max_pool2d", lambda T, x: F(T).adaptive_max_pool2d(x, (3, None)),
           shapes([(2, 3, 7, 5)], [(3, 4, 6)])),
    OpInfo("F.adaptive_max_pool2d_with_indices",
           lambda T, x: F(T).adaptive_max_pool2d_with_indices(x, (4, 2)), shapes([(2, 2, 5, 7)])),
    OpInfo("F.adaptive_max_pool3d", lambda T, x: F(T).adaptive_max_pool3d(x, (2, 3, 1)),
           shapes([(2, 2, 5, 7, 3)], [(2, 3, 4, 3)])),
    OpInfo("F.adaptive_max_pool3d_with_indices",
           lambda T, x: F(T).adaptive_max_pool3d_with_indices(x, 2), shapes([(1, 2, 3, 4, 5)])),
    OpInfo("F.adaptive_max_pool2d_ties", lambda T, x: F(T).adaptive_max_pool2d(
        x.round(), 3, return_indices=True), shapes([(2, 2, 6, 5)]), gradcheck=False),
    OpInfo("F.fractional_max_pool2d", lambda T, x: _fmp(2)(T, x, kernel_size=2, output_size=3),
           shapes([(2, 3, 6, 5)], [(3, 7, 7)])),
    OpInfo("F.fractional_max_pool2d_with_indices", lambda T, x: _fmp(2)(
        T, x, kernel_size=(2, 3), output_ratio=(0.5, 0.6), return_indices=True),
        shapes([(2, 2, 8, 9)]), tags=("F.fractional_max_pool2d_with_indices",)),
    OpInfo("F.fractional_max_pool3d", lambda T, x: _fmp(3)(T, x, kernel_size=2,
                                                           output_size=(2, 2, 2)),
           shapes([(2, 2, 5, 4, 6)], [(2, 4, 4, 4)])),
    OpInfo("F.fractional_max_pool3d_with_indices",
           lambda T, x: F(T).fractional_max_pool3d_with_indices(
               x, 2, output_ratio=0.5, _random_samples=T.full((1, 2, 3), 0.3, dtype=x.dtype)),
        shapes([(1, 2, 6, 5, 6)])),
    OpInfo("F.max_unpool1d", _unpool(1), shapes([(2, 3, 8), (2, 3, 4)], [(3, 6), (3, 3)])),
    OpInfo("F.max_unpool2d", _unpool(2, padding=1), shapes([(2, 2, 5, 6), (2, 2, 3, 4)],
                                                           [(2, 4, 4), (2, 3, 3)])),
    OpInfo("F.max_unpool3d", _unpool(3), shapes([(1, 2, 4, 6, 4), (1, 2, 2, 3, 2)])),
    OpInfo("F.max_unpool2d_size", lambda T, x: F(T).max_unpool2d(
        *F(T).max_pool2d(x, 2, return_indices=True), 2, output_size=(1, 2, 5, 5)),
        shapes([(1, 2, 5, 5)])),
    OpInfo("F.lp_pool1d", lambda T, x: F(T).lp_pool1d(x, 2, 3, 2), shapes([(2, 3, 9)],
                                                                         [(3, 7)], low=0.1)),
    OpInfo("F.lp_pool2d", lambda T, x: F(T).lp_pool2d(x, 3, (2, 3), ceil_mode=True),
           shapes([(2, 3, 5, 7)], low=0.1)),
    OpInfo("F.lp_pool3d", lambda T, x: F(T).lp_pool3d(x, 1.5, 2, stride=(1, 2, 1)),
           shapes([(1, 2, 4, 5, 3)], low=0.1)),
    OpInfo("F.lp_pool2d_inf", lambda T, x: F(T).lp_pool2d(x, float("inf"), 2),
           shapes([(1, 2, 4, 4)])),
)


# --- activations, noise (seeded: torch's streams), shape, distances, norms ---------------------
def _seeded(fn):
    def run(T, *xs, **k):
        T.manual_seed(5)
        return fn(T, *xs, **k)
    return run


def _rrelu_inplace(T, x):
    y = x.clone()
    F(T).rrelu_(y, 0.1, 0.4, training=True)
    return y


register(
    OpInfo("F.hardshrink", lambda T, x: F(T).hardshrink(x, 0.7),
           shapes([()], [(0,)], [(4, 6)], [(2, 3, 4)], low=-2, high=2),
           dtypes=F32_64 + ("bfloat16",)),
    OpInfo("F.softshrink", lambda T, x: F(T).softshrink(x, 0.4),
           shapes([()], [(0,)], [(4, 6)], [(2, 3, 4)], low=-2, high=2),
           dtypes=F32_64 + ("bfloat16", "float16")),
    OpInfo("F.tanhshrink", lambda T, x: F(T).tanhshrink(x), shapes([(3, 4)], [()])),
    OpInfo("F.rrelu", _seeded(lambda T, x: F(T).rrelu(x, training=True)),
           shapes([(3, 4)], [(2, 3, 5)], [()])),
    OpInfo("F.rrelu_eval", lambda T, x: F(T).rrelu(x, 0.2, 0.4), shapes([(3, 4)])),
    OpInfo("F.rrelu_", _seeded(_rrelu_inplace), shapes([(3, 4)])),
    OpInfo("F.gumbel_softmax", _seeded(lambda T, x: F(T).gumbel_softmax(x, tau=0.7)),
           shapes([(3, 4)], [(2, 3, 5)])),
    OpInfo("F.gumbel_softmax_hard", _seeded(lambda T, x: F(T).gumbel_softmax(x, hard=True,
                                                                              dim=0)),
           shapes([(3, 4)]), gradcheck=False),  # straight through: not the function's gradient
    OpInfo("F.dropout3d", _seeded(lambda T, x: F(T).dropout3d(x, 0.4)),
           shapes([(2, 3, 2, 3, 2)], [(3, 2, 2, 3)])),
    OpInfo("F.feature_alpha_dropout", _seeded(lambda T, x: F(T).feature_alpha_dropout(
        x, 0.3, training=True)), shapes([(2, 3, 2, 3)], [(4, 3)])),
    OpInfo("F.channel_shuffle", lambda T, x: F(T).channel_shuffle(x, 3),
           shapes([(2, 6, 3, 2)], [(2, 6, 4)])),
    OpInfo("F.upsample_nearest", lambda T, x: F(T).upsample_nearest(x, scale_factor=2),
           shapes([(1, 2, 3, 2)])),
    OpInfo("F.upsample_bilinear", lambda T, x: F(T).upsample_bilinear(x, size=(4, 5)),
           shapes([(1, 2, 3, 2)])),
    OpInfo("F.pdist", lambda T, x: F(T).pdist(x), shapes([(5, 3)], [(1, 3)], [(2, 4)])),
    OpInfo("F.pdist_p", lambda T, x: F(T).pdist(x, 1.5), shapes([(4, 3)])),
    OpInfo("F.pdist_inf", lambda T, x: F(T).pdist(x, float("inf")), shapes([(4, 3)])),
    OpInfo("F.rms_norm", lambda T, x, w: F(T).rms_norm(x, (3, 4), w),
           shapes([(2, 3, 4), (3, 4)], [(3, 4), (3, 4)]), dtypes=F32_64 + ("bfloat16",)),
    OpInfo("F.rms_norm_eps", lambda T, x: F(T).rms_norm(x, [4], eps=1e-3), shapes([(5, 4)])),
    OpInfo("F.local_response_norm", lambda T, x: F(T).local_response_norm(x, 3, 0.1, 0.6, 1.5),
           shapes([(2, 5, 4)], [(2, 4, 3, 3)], [(1, 3, 2, 2, 2)])),
)


# --- losses -------------------------------------------------------------------------------------
def _labels(x_shape, n_classes, t_shape, lo=0):
    def samples(rng, dtype):
        yield [arr(rng, x_shape, dtype), rng.integers(lo, n_classes, t_shape)], {}
    return samples


def _multilabel(rng, dtype):
    t = np.array([[1, 3, -1, 0, 2], [0, 0, 4, -1, 3], [2, -1, 1, 1, 1], [-1, 2, 3, 4, 0]])
    yield [arr(rng, (4, 5), dtype), t], {}
    yield [arr(rng, (5,), dtype), t[0]], {}


def _ctc(T, x, reduction="mean", zero_infinity=False, lists=False):
    tg = T.tensor([[1, 2, 2], [3, 1, 0], [4, 4, 4]])
    il, tl = [6, 5, 2 if zero_infinity else 5], [3, 2, 3]  # 2 steps cannot emit 3 labels: inf
    if not lists:
        il, tl = T.tensor(il), T.tensor(tl)
    return F(T).ctc_loss(x.log_softmax(2), tg, il, tl, reduction=reduction,
                         zero_infinity=zero_infinity)


def _ctc_flat(T, x):
    return F(T).ctc_loss(x.log_softmax(-1), T.tensor([1, 2, 1, 3]), (5, 4), (3, 1), blank=4,
                         reduction="sum")


register(
    OpInfo("F.soft_margin_loss", lambda T, x, y: F(T).soft_margin_loss(x, y.detach().sign()),
           shapes([(3, 4), (3, 4)], [(5,), (5,)])),
    OpInfo("F.soft_margin_loss_none", lambda T, x, y: F(T).soft_margin_loss(
        x, y.detach().sign(), reduction="none"), shapes([(3, 4), (4,)])),
    OpInfo("F.multilabel_soft_margin_loss", lambda T, x, y: F(T).multilabel_soft_margin_loss(
        x, (y > 0).to(x.dtype), weight=T.linspace(0.5, 2, 4, dtype=x.dtype)),
        shapes([(3, 4), (3, 4)])),
    OpInfo("F.multilabel_soft_margin_loss_none",
           lambda T, x, y: F(T).multilabel_soft_margin_loss(x, y.sigmoid(), reduction="none"),
           shapes([(3, 4), (3, 4)], [(4,), (4,)])),
    OpInfo("F.multi_margin_loss", lambda T, x, t: F(T).multi_margin_loss(x, t),
           _labels((5, 4), 4, (5,))),
    OpInfo("F.multi_margin_loss_p2", lambda T, x, t: F(T).multi_margin_loss(
        x, t, p=2, margin=0.7, weight=T.linspace(0.5, 2, 4, dtype=x.dtype), reduction="none"),
        _labels((5, 4), 4, (5,))),
    OpInfo("F.multi_margin_loss_vector", lambda T, x, t: F(T).multi_margin_loss(
        x, t, reduction="sum"), _labels((4,), 4, ())),
    OpInfo("F.multilabel_margin_loss", lambda T, x, t: F(T).multilabel_margin_loss(x, t),
           _multilabel),
    OpInfo("F.multilabel_margin_loss_none", lambda T, x, t: F(T).multilabel_margin_loss(
        x, t, reduction="none"), _multilabel),
    OpInfo("F.triplet_margin_with_distance_loss", lambda T, a, p, n:
           F(T).triplet_margin_with_distance_loss(a, p, n, margin=0.5, swap=True),
           shapes([(4, 3), (4, 3), (4, 3)])),
    OpInfo("F.triplet_margin_with_distance_loss_fn", lambda T, a, p, n:
           F(T).triplet_margin_with_distance_loss(
               a, p, n, distance_function=lambda u, v: 1 - F(T).cosine_similarity(u, v),
               reduction="none"), shapes([(4, 3), (4, 3), (4, 3)])),
    OpInfo("F.ctc_loss", _ctc, shapes([(6, 3, 5)])),
    OpInfo("F.ctc_loss_none", lambda T, x: _ctc(T, x, "none", True, True), shapes([(6, 3, 5)])),
    OpInfo("F.ctc_loss_concat", _ctc_flat, shapes([(5, 2, 5)])),
    OpInfo("F.ctc_loss_unbatched", lambda T, x: F(T).ctc_loss(
        x.log_softmax(-1), T.tensor([1, 1, 2]), T.tensor(5), T.tensor(3)), shapes([(5, 3)])),
    OpInfo("F.linear_cross_entropy", lambda T, x, w, b, t: F(T).linear_cross_entropy(
        x, w, t, linear_bias=b, label_smoothing=0.1),
        lambda rng, dt: iter([([arr(rng, (4, 3), dt), arr(rng, (5, 3), dt), arr(rng, (5,), dt),
                                rng.integers(0, 5, (4,))], {})])),
    OpInfo("F.linear_cross_entropy_kdim", lambda T, x, w, t: F(T).linear_cross_entropy(
        x, w, t, reduction="none", ignore_index=1),
        lambda rng, dt: iter([([arr(rng, (4, 3), dt), arr(rng, (5, 2, 3), dt),
                                rng.integers(0, 5, (4, 2))], {})])),
)


# --- embedding_bag --------------------------------------------------------------------------------
def _bag(mode, **kw):
    def fn(T, w, idx, off=None, psw=None):
        return F(T).embedding_bag(idx, w, off, mode=mode, per_sample_weights=psw, **kw)
    return fn


def _bag_samples(two_d=False, psw=False, last=False):
    def samples(rng, dtype):
        w = arr(rng, (7, 3), dtype)
        if two_d:
            yield [w, rng.integers(0, 7, (4, 3))], {}
            return
        idx = np.array([1, 3, 3, 0, 6, 2, 5, 1, 4])
        off = np.array([0, 2, 2, 6] + ([9] if last else []))
        ins = [w, idx, off] + ([arr(rng, (9,), dtype)] if psw else [])
        yield ins, {}
    return samples


register(
    OpInfo("F.embedding_bag", _bag("mean"), _bag_samples()),
    OpInfo("F.embedding_bag_sum_psw", _bag("sum", padding_idx=3), _bag_samples(psw=True)),
    OpInfo("F.embedding_bag_max", _bag("max", include_last_offset=True), _bag_samples(last=True)),
    OpInfo("F.embedding_bag_2d", _bag("sum"), _bag_samples(True)),
    # torch's CPU backward scales by a miscounted frequency: only the forward is compared
    OpInfo("F.embedding_bag_freq", _bag("mean", scale_grad_by_freq=True), _bag_samples(),
           grad=False),
    OpInfo("F.embedding_bag_2d_mean_pad", _bag("mean", padding_idx=1), _bag_samples(True)),
)


# --- grid sampling --------------------------------------------------------------------------------
def _grid(shape, grid_shape):
    def samples(rng, dtype):
        yield [arr(rng, shape, dtype), arr(rng, grid_shape, dtype, -1.3, 1.3)], {}
    return samples


def _gs(mode, pad, ac, detach_grid=False):
    def fn(T, x, g):
        return F(T).grid_sample(x, g.detach() if detach_grid else g, mode=mode, padding_mode=pad,
                                align_corners=ac)
    return fn


register(
    OpInfo("F.grid_sample", _gs("bilinear", "zeros", False), _grid((2, 3, 4, 5), (2, 3, 2, 2))),
    OpInfo("F.grid_sample_border_align", _gs("bilinear", "border", True),
           _grid((1, 2, 4, 3), (1, 4, 3, 2))),
    OpInfo("F.grid_sample_reflection", _gs("bilinear", "reflection", False),
           _grid((1, 2, 4, 3), (1, 4, 3, 2))),
    OpInfo("F.grid_sample_nearest", _gs("nearest", "reflection", True, True),
           _grid((2, 2, 4, 3), (2, 3, 3, 2))),
    OpInfo("F.grid_sample_bicubic", _gs("bicubic", "zeros", True),
           _grid((1, 2, 5, 4), (1, 3, 2, 2))),
    OpInfo("F.grid_sample_bicubic_border", _gs("bicubic", "border", False),
           _grid((1, 2, 3, 4), (1, 3, 2, 2))),
    OpInfo("F.grid_sample_3d", _gs("bilinear", "zeros", False),
           _grid((1, 2, 3, 4, 3), (1, 2, 3, 2, 3))),
    OpInfo("F.grid_sample_3d_reflection", _gs("bilinear", "reflection", True),
           _grid((1, 2, 3, 2, 3), (1, 2, 2, 2, 3))),
    OpInfo("F.affine_grid", lambda T, t: F(T).affine_grid(t, (2, 3, 4, 5), align_corners=False),
           shapes([(2, 2, 3)])),
    OpInfo("F.affine_grid_3d", lambda T, t: F(T).affine_grid(t, (1, 2, 3, 1, 4),
                                                             align_corners=True),
           shapes([(1, 3, 4)])),
)
