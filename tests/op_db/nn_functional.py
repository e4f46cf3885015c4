"""Op-table entries for torch.nn.functional: values and gradients vs torch, float64 gradcheck."""


from op_db import OpInfo, arr, register

F32_64 = ("float32", "float64")
HALF = ("float16", "bfloat16")


def F(T):
    return T.nn.functional


def shapes(*shape_sets, low=-2.0, high=2.0, kwargs=None, ints=()):
    """Samples: each entry of ``shape_sets`` is a tuple of shapes for the float inputs;
    ``ints`` adds integer arrays (high, shape) after them."""

    def samples(rng, dtype):
        for ss in shape_sets:
            arrays = [arr(rng, s, dtype, low, high) for s in ss]
            arrays += [rng.integers(0, h, s) for h, s in ints]
            yield arrays, dict(kwargs or {})

    return samples


def act(name, low=-3.0, high=3.0, dtypes=F32_64 + HALF, strided=True, **kw):
    """A pointwise activation on 0-d, empty, 1-d, 2-d, 3-d and a non-contiguous input."""

    def fn(T, x, **k):
        if strided and x.ndim == 2 and x.shape[1] == 6:
            x = x[:, ::2]
        return getattr(F(T), name)(x, **k)

    def samples(rng, dtype):
        for s in [(), (0,), (7,), (4, 6), (2, 3, 4)]:
            yield [arr(rng, s, dtype, low, high)], dict(kw)

    return OpInfo(f"F.{name}" + (f"{kw}" if kw else ""), fn, samples, dtypes=dtypes)


register(
    act("relu"), act("relu6", -8, 8), act("leaky_relu"), act("leaky_relu", negative_slope=0.2),
    act("elu"), act("elu", alpha=0.5), act("selu"), act("celu", alpha=1.5), act("gelu"),
    act("gelu", approximate="tanh"), act("silu"), act("mish"), act("sigmoid"), act("tanh"),
    act("hardtanh", -2, 2), act("hardtanh", min_val=-0.5, max_val=1.5),
    act("hardsigmoid", -5, 5), act("hardswish", -5, 5), act("softplus"),
    act("softplus", beta=2.0, threshold=3.0), act("softsign"), act("logsigmoid"),
    act("threshold", threshold=0.3, value=-1.0),
)


def _softmax_samples(rng, dtype):
    for s, d in [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((0, 3), 1), ((), 0)]:
        yield [arr(rng, s, dtype)], {"dim": d}


register(
    OpInfo("F.softmax", lambda T, x, dim: F(T).softmax(x, dim), _softmax_samples,
           dtypes=F32_64 + HALF),
    OpInfo("F.log_softmax", lambda T, x, dim: F(T).log_softmax(x, dim), _softmax_samples,
           dtypes=F32_64 + HALF),
    OpInfo("F.softmin", lambda T, x, dim: F(T).softmin(x, dim), _softmax_samples),
    OpInfo("F.log_softmax_dtype", lambda T, x, dim: F(T).log_softmax(x, dim,
                                                                     dtype=T.float64),
           _softmax_samples, dtypes=("float32",)),
    OpInfo("Tensor.softmax", lambda T, x, dim: x.softmax(dim), _softmax_samples),
    OpInfo("F.log_softmax_large", lambda T, x: F(T).log_softmax(x * 1000, 1),
           shapes([(3, 5)])),
    OpInfo("F.glu", lambda T, x: F(T).glu(x, 1), shapes([(3, 4)], [(2, 6, 2)])),
    OpInfo("F.prelu", lambda T, x, w: F(T).prelu(x, w), shapes([(2, 3, 4), (3,)], [(5,), (1,)],
                                                              [(4, 3), (1,)])),
    OpInfo("F.linear", lambda T, x, w, b: F(T).linear(x, w, b),
           shapes([(5, 3), (4, 3), (4,)], [(2, 5, 3), (4, 3), (4,)], [(3,), (4, 3), (4,)],
                  [(3,), (4, 3), ()], [(2, 5, 3), (4, 3), ()], [(3,), (3,), ()],
                  [(4, 2, 3), (3,), ()])),
    OpInfo("F.linear_nobias", lambda T, x, w: F(T).linear(x, w),
           shapes([(5, 3), (4, 3)], [(3,), (2, 3)], [(0, 3), (2, 3)], [(3,), (3,)],
                  [(2, 3), (3,)], [(4, 2, 3), (3,)])),
    OpInfo("F.linear_noncontiguous", lambda T, x, w, b: F(T).linear(x.transpose(0, 1), w, b),
           shapes([(5, 2, 3), (4, 3), (4,)], [(5, 2, 3), (4, 3), ()], [(5, 2, 3), (3,), (1,)])),
    OpInfo("F.bilinear", lambda T, a, b, w, c: F(T).bilinear(a, b, w, c),
           shapes([(4, 3), (4, 2), (5, 3, 2), (5,)], [(2, 3, 3), (2, 3, 2), (4, 3, 2), (4,)])),
)

# --- convolution and pooling ---------------------------------------------------------------------
register(
    OpInfo("F.conv2d", lambda T, x, w, b, **k: F(T).conv2d(x, w, b, **k),
           shapes([(2, 3, 6, 5), (4, 3, 3, 2), (4,)], kwargs={"stride": (2, 1), "padding": 1,
                                                             "dilation": (1, 2)})),
    OpInfo("F.conv2d_groups", lambda T, x, w: F(T).conv2d(x, w, groups=2, padding="same"),
           shapes([(2, 4, 5, 5), (6, 2, 3, 3)])),
    OpInfo("F.conv2d_unbatched_strided", lambda T, x, w: F(T).conv2d(x[:, ::2], w),
           shapes([(3, 8, 5), (2, 3, 2, 2)])),
    OpInfo("F.conv1d", lambda T, x, w, b: F(T).conv1d(x, w, b, stride=2, padding=2),
           shapes([(2, 3, 9), (4, 3, 3), (4,)])),
    OpInfo("F.conv_transpose2d", lambda T, x, w, b, **k: F(T).conv_transpose2d(x, w, b, **k),
           shapes([(2, 3, 4, 3), (3, 2, 3, 3), (2,)], kwargs={"stride": 2, "padding": 1,
                                                             "output_padding": 1})),
    OpInfo("F.conv_transpose2d_groups",
           lambda T, x, w: F(T).conv_transpose2d(x, w, stride=(1, 2), groups=2, dilation=2),
           shapes([(1, 4, 3, 3), (4, 1, 2, 3)])),
    OpInfo("F.max_pool2d", lambda T, x, **k: F(T).max_pool2d(x, **k),
           shapes([(2, 3, 7, 6)], kwargs={"kernel_size": 3, "stride": 2, "padding": 1,
                                           "ceil_mode": True})),
    OpInfo("F.max_pool2d_overlap", lambda T, x: F(T).max_pool2d(x, 2, 1, dilation=(2, 1)),
           shapes([(1, 2, 5, 6)], [(2, 5, 5)], [(0, 2, 5, 6)])),
    OpInfo("F.max_pool2d_indices", lambda T, x: F(T).max_pool2d(x, 2, return_indices=True),
           shapes([(2, 3, 4, 6)])),
    OpInfo("F.max_pool1d", lambda T, x: F(T).max_pool1d(x, 3, 2, 1),
           shapes([(2, 3, 10)], [(3, 7)], [(0, 3, 10)])),
    OpInfo("F.avg_pool2d", lambda T, x, **k: F(T).avg_pool2d(x, **k),
           shapes([(2, 3, 7, 6)], kwargs={"kernel_size": 3, "stride": 2, "padding": 1,
                                           "ceil_mode": True, "count_include_pad": False})),
    OpInfo("F.avg_pool2d_default", lambda T, x: F(T).avg_pool2d(x, (2, 3)),
           shapes([(2, 3, 4, 6)], [(3, 5, 7)], [(0, 3, 4, 6)])),
    OpInfo("F.avg_pool2d_divisor", lambda T, x: F(T).avg_pool2d(x, 2, 1, divisor_override=3),
           shapes([(1, 2, 4, 4)])),
    OpInfo("F.adaptive_avg_pool2d", lambda T, x, **k: F(T).adaptive_avg_pool2d(x, **k),
           shapes([(2, 3, 7, 5)], [(3, 4, 4)], kwargs={"output_size": (3, 2)})),
    OpInfo("F.adaptive_avg_pool2d_none", lambda T, x: F(T).adaptive_avg_pool2d(x, (None, 2)),
           shapes([(2, 3, 5, 6)])),
    OpInfo("F.unfold", lambda T, x: F(T).unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2),
           shapes([(2, 3, 6, 7)])),
    OpInfo("F.fold", lambda T, x: F(T).fold(x, (4, 5), 2, padding=(1, 0)),
           shapes([(2, 12, 20)], [(8, 20)])),
)

# --- normalisation, dropout, embedding, shape -----------------------------------------------------
register(
    OpInfo("F.batch_norm_train", lambda T, x, w, b: F(T).batch_norm(x, None, None, w, b, True),
           shapes([(4, 3), (3,), (3,)], [(2, 3, 4, 5), (3,), (3,)])),
    OpInfo("F.batch_norm_eval",
           lambda T, x, m, v: F(T).batch_norm(x, m.detach(), v.detach().abs() + 0.5),
           shapes([(4, 3, 2), (3,), (3,)]), gradcheck=False),  # running stats: detached
    OpInfo("F.layer_norm", lambda T, x, w, b: F(T).layer_norm(x, (4, 5), w, b),
           shapes([(2, 3, 4, 5), (4, 5), (4, 5)], [(4, 5), (4, 5), (4, 5)])),
    OpInfo("F.layer_norm_plain", lambda T, x: F(T).layer_norm(x, [3], eps=1e-3),
           shapes([(5, 3)])),
    OpInfo("F.group_norm", lambda T, x, w, b: F(T).group_norm(x, 2, w, b),
           shapes([(3, 6, 4), (6,), (6,)], [(2, 4, 2, 3), (4,), (4,)])),
    OpInfo("F.instance_norm", lambda T, x: F(T).instance_norm(x), shapes([(2, 3, 4, 5)])),
    OpInfo("F.dropout_eval", lambda T, x: F(T).dropout(x, 0.5, training=False),
           shapes([(3, 4)])),
    # padding_idx and scale_grad_by_freq change the gradient on purpose: no gradcheck
    OpInfo("F.embedding", lambda T, w, i: F(T).embedding(i, w, padding_idx=1),
           shapes([(6, 3)], ints=[(6, (4, 5))]), gradcheck=False),
    OpInfo("F.embedding_plain", lambda T, w, i: F(T).embedding(i, w),
           shapes([(6, 3)], ints=[(6, (4, 5))])),
    OpInfo("F.embedding_freq", lambda T, w, i: F(T).embedding(i, w, scale_grad_by_freq=True),
           shapes([(5, 2)], ints=[(5, (9,))]), gradcheck=False),
    OpInfo("F.one_hot", lambda T, i: F(T).one_hot(i, 6), shapes([], ints=[(6, (3, 4))]),
           dtypes=("int64",), grad=False),
    OpInfo("F.pad_constant", lambda T, x: F(T).pad(x, (1, 2, -1, 3), value=0.5),
           shapes([(2, 3, 4, 5)], [(3, 4)])),
    OpInfo("F.pad_reflect", lambda T, x: F(T).pad(x, (2, 1, 1, 2), mode="reflect"),
           shapes([(2, 3, 4, 5)], [(3, 4, 5)])),
    OpInfo("F.pad_replicate", lambda T, x: F(T).pad(x, (2, 3), mode="replicate"),
           shapes([(2, 3, 4)])),
    OpInfo("F.pad_reflect_3d", lambda T, x: F(T).pad(x, (1, 2, 2, 1, 1, 1), mode="reflect"),
           shapes([(1, 2, 3, 4, 5)])),
    OpInfo("F.pad_replicate_2d", lambda T, x: F(T).pad(x, (2, 1, 1, 3), mode="replicate"),
           shapes([(2, 3, 4, 5)])),
    OpInfo("F.pad_replicate_3d", lambda T, x: F(T).pad(x, (1, 2, 2, 1, 1, 1), mode="replicate"),
           shapes([(1, 2, 3, 4, 5)])),
    OpInfo("F.pad_circular", lambda T, x: F(T).pad(x, (1, 2, 2, 1), mode="circular"),
           shapes([(1, 2, 4, 5)])),
    OpInfo("F.pixel_shuffle", lambda T, x: F(T).pixel_shuffle(x, 2), shapes([(2, 8, 3, 2)])),
    OpInfo("F.normalize", lambda T, x: F(T).normalize(x, p=3, dim=0), shapes([(4, 3)])),
    OpInfo("F.cosine_similarity", lambda T, a, b: F(T).cosine_similarity(a, b),
           shapes([(4, 5), (4, 5)], [(3, 2, 4), (1, 2, 4)])),
    OpInfo("F.pairwise_distance", lambda T, a, b: F(T).pairwise_distance(a, b, p=1.5),
           shapes([(4, 5), (4, 5)], [(3,), (3,)])),
    OpInfo("F.pairwise_distance_keepdim",
           lambda T, a, b: F(T).pairwise_distance(a, b, keepdim=True), shapes([(4, 5), (5,)])),
)


def _interp(mode, **kw):
    def fn(T, x):
        return F(T).interpolate(x, mode=mode, **kw)

    return fn


register(*[
    OpInfo(f"F.interpolate_{mode}_{i}", _interp(mode, **kw), shapes([shape]))
    for mode, shape in [("nearest", (1, 2, 3, 4)), ("nearest-exact", (1, 2, 3, 4)),
                        ("bilinear", (1, 2, 3, 4)), ("bicubic", (1, 2, 4, 3)),
                        ("area", (1, 2, 6, 5)), ("linear", (2, 3, 5)), ("nearest", (2, 3, 5))]
    for i, kw in enumerate([{"scale_factor": 2}, {"size": 7 if len(shape) == 3 else (5, 7)},
                            {"scale_factor": 1.7}])
    if not (mode == "area" and "scale_factor" in kw and kw["scale_factor"] == 1.7)
], OpInfo("F.interpolate_bilinear_align", _interp("bilinear", size=(5, 6), align_corners=True),
          shapes([(1, 2, 3, 4)])),
    OpInfo("F.interpolate_bicubic_align", _interp("bicubic", scale_factor=2, align_corners=True),
           shapes([(1, 1, 3, 3)])),
    # 5-d input: nearest, trilinear and area over three spatial dims
    OpInfo("F.interpolate_nearest_3d", _interp("nearest", scale_factor=2),
           shapes([(1, 2, 3, 2, 2)])),
    OpInfo("F.interpolate_trilinear", _interp("trilinear", size=(4, 3, 5)),
           shapes([(1, 2, 3, 2, 2)])),
    OpInfo("F.interpolate_trilinear_align", _interp("trilinear", scale_factor=2,
                                                    align_corners=True),
           shapes([(1, 1, 2, 3, 2)])),
    OpInfo("F.interpolate_area_3d", _interp("area", size=(2, 2, 1)), shapes([(1, 2, 4, 4, 2)])),
    # antialias=True: the separable antialiased filters (downsampling widens them)
    *[OpInfo(f"F.interpolate_{mode}_aa", _interp(mode, size=(3, 2), antialias=True),
             shapes([(1, 2, 7, 5)])) for mode in ("bilinear", "bicubic", "lanczos")])


# --- losses ---------------------------------------------------------------------------------------
def targets(shape_x, n_classes, t_shape):
    def samples(rng, dtype):
        yield [arr(rng, shape_x, dtype), rng.integers(0, n_classes, t_shape)], {}

    return samples


def prob_pair(*shape_pairs, low2=0.05, high2=0.95):
    def samples(rng, dtype):
        for sa, sb in shape_pairs:
            yield [arr(rng, sa, dtype), arr(rng, sb, dtype, low2, high2)], {}

    return samples


def _ce(T, x, t, **k):
    return F(T).cross_entropy(x, t, **k)


register(
    OpInfo("F.cross_entropy", _ce, targets((5, 4), 4, (5,))),
    OpInfo("F.cross_entropy_1d", _ce, targets((4,), 4, ())),
    OpInfo("F.cross_entropy_spatial", _ce, targets((2, 4, 3, 2), 4, (2, 3, 2))),
    OpInfo("F.cross_entropy_opts", lambda T, x, t: _ce(
        T, x, t, weight=T.tensor([0.5, 2.0, 1.0, 1.5], dtype=x.dtype), ignore_index=1,
        label_smoothing=0.2), targets((6, 4), 4, (6,))),
    OpInfo("F.cross_entropy_sum_ls", lambda T, x, t: _ce(T, x, t, reduction="sum",
                                                         label_smoothing=0.1),
           targets((6, 4), 4, (6,))),
    OpInfo("F.cross_entropy_none", lambda T, x, t: _ce(T, x, t, reduction="none", ignore_index=0),
           targets((6, 4), 4, (6,))),
    OpInfo("F.cross_entropy_probs", lambda T, x, p: _ce(T, x, p.softmax(1), label_smoothing=0.1),
           prob_pair(((4, 5), (4, 5)))),
    OpInfo("F.cross_entropy_probs_weight", lambda T, x, p: _ce(
        T, x, p, weight=T.tensor([1.0, 2.0, 0.5], dtype=x.dtype), reduction="none"),
        prob_pair(((2, 3, 4), (2, 3, 4)))),
    OpInfo("F.nll_loss", lambda T, x, t: F(T).nll_loss(x, t), targets((5, 4), 4, (5,))),
    OpInfo("F.nll_loss_weight", lambda T, x, t: F(T).nll_loss(
        x, t, weight=T.tensor([0.2, 1.0, 3.0], dtype=x.dtype), reduction="mean"),
        targets((2, 3, 4), 3, (2, 4))),
    OpInfo("F.mse_loss", lambda T, a, b: F(T).mse_loss(a, b), prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.mse_loss_none", lambda T, a, b: F(T).mse_loss(a, b, reduction="none"),
           prob_pair(((3, 4), (3, 4)), ((), ()))),
    OpInfo("F.l1_loss", lambda T, a, b: F(T).l1_loss(a, b, reduction="sum"),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.smooth_l1_loss", lambda T, a, b: F(T).smooth_l1_loss(a, b, beta=0.5),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.huber_loss", lambda T, a, b: F(T).huber_loss(a, b, delta=0.7, reduction="none"),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.binary_cross_entropy", lambda T, a, b: F(T).binary_cross_entropy(a.sigmoid(), b),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.binary_cross_entropy_weight", lambda T, a, b: F(T).binary_cross_entropy(
        b, a.sigmoid(), weight=T.tensor([1.0, 2.0, 0.5, 1.0], dtype=a.dtype), reduction="sum"),
        prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.binary_cross_entropy_with_logits",
           lambda T, a, b: F(T).binary_cross_entropy_with_logits(a * 10, b),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.binary_cross_entropy_with_logits_pos",
           lambda T, a, b: F(T).binary_cross_entropy_with_logits(
               a, b, pos_weight=T.tensor([2.0, 0.5, 1.0, 3.0], dtype=a.dtype),
               weight=T.tensor([1.0, 0.0, 2.0, 1.0], dtype=a.dtype), reduction="none"),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.kl_div", lambda T, a, b: F(T).kl_div(a.log_softmax(1), b, reduction="batchmean"),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.kl_div_log_target", lambda T, a, b: F(T).kl_div(a, b.log(), reduction="sum",
                                                              log_target=True),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.cosine_embedding_loss", lambda T, a, b: F(T).cosine_embedding_loss(
        a, b, T.tensor([1.0, -1.0, 1.0], dtype=a.dtype), margin=0.1), prob_pair(((3, 4),
                                                                                 (3, 4)))),
    OpInfo("F.margin_ranking_loss", lambda T, a, b: F(T).margin_ranking_loss(
        a, b, T.tensor([1.0, -1.0, 1.0, -1.0], dtype=a.dtype), margin=0.3),
        prob_pair(((4,), (4,)))),
    OpInfo("F.hinge_embedding_loss", lambda T, a, b: F(T).hinge_embedding_loss(
        a, (b > 0.5).to(a.dtype) * 2 - 1), prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.triplet_margin_loss", lambda T, a, b, c: F(T).triplet_margin_loss(a, b, c,
                                                                                swap=True),
           shapes([(3, 4), (3, 4), (3, 4)])),
    OpInfo("F.poisson_nll_loss", lambda T, a, b: F(T).poisson_nll_loss(a, b * 4, full=True),
           prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.poisson_nll_loss_linear", lambda T, a, b: F(T).poisson_nll_loss(
        b, a.abs(), log_input=False), prob_pair(((3, 4), (3, 4)))),
    OpInfo("F.gaussian_nll_loss", lambda T, a, b, v: F(T).gaussian_nll_loss(a, b, v.abs(),
                                                                            full=True),
           shapes([(3, 4), (3, 4), (3, 4)], [(3, 4), (3, 4), (3,)])),
)


# --- attention ------------------------------------------------------------------------------------
def _sdpa(T, q, k, v, **kw):
    return F(T).scaled_dot_product_attention(q, k, v, **kw)


register(
    OpInfo("F.scaled_dot_product_attention", _sdpa,
           shapes([(2, 3, 4), (2, 5, 4), (2, 5, 3)], [(2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4)]),
           grad_rtol=1e-4, grad_atol=1e-4),
    OpInfo("F.scaled_dot_product_attention_causal", lambda T, q, k, v: _sdpa(
        T, q, k, v, is_causal=True, scale=0.3), shapes([(2, 4, 3), (2, 4, 3), (2, 4, 3)]),
        grad_rtol=1e-4, grad_atol=1e-4),
    OpInfo("F.scaled_dot_product_attention_mask", lambda T, q, k, v, m: _sdpa(
        T, q, k, v, attn_mask=m), shapes([(2, 3, 4), (2, 5, 4), (2, 5, 4), (3, 5)]),
        grad_rtol=1e-4, grad_atol=1e-4),
    OpInfo("F.scaled_dot_product_attention_bool_mask", lambda T, q, k, v: _sdpa(
        T, q, k, v, attn_mask=T.tensor([[True, False, True], [False, True, True]])),
        shapes([(2, 2, 4), (2, 3, 4), (2, 3, 4)]), grad_rtol=1e-4, grad_atol=1e-4),
)


# --- the rest of the public API (added for tests/test_op_coverage.py) ----------------------------
def _inplace_act(name, *args, **kw):
    """``F.<name>(y, ...)`` on a copy ``y`` of the input (in place on a leaf raises); returns y."""

    def fn(T, x):
        y = x.clone()
        getattr(F(T), name)(y, *args, **kw)
        return y

    return OpInfo(f"F.{name}", fn, shapes([()], [(0,)], [(7,)], [(2, 3, 4)], low=-3, high=3),
                  dtypes=F32_64)


def _mha(T, q, k, v, w_in, b_in, w_out, b_out):
    return F(T).multi_head_attention_forward(q, k, v, 4, 2, w_in, b_in, None, None, False, 0.0,
                                             w_out, b_out, training=False)


register(
    _inplace_act("relu_"), _inplace_act("elu_", 0.5), _inplace_act("selu_"),
    _inplace_act("celu_", 1.5), _inplace_act("leaky_relu_", 0.2),
    _inplace_act("hardtanh_", -0.5, 1.5), _inplace_act("threshold_", 0.3, -1.0),
    OpInfo("F.avg_pool1d", lambda T, x: F(T).avg_pool1d(x, 3, 2, 1, count_include_pad=False),
           shapes([(2, 3, 10)], [(3, 7)])),
    OpInfo("F.adaptive_avg_pool1d", lambda T, x: F(T).adaptive_avg_pool1d(x, 3),
           shapes([(2, 3, 7)], [(3, 5)])),
    OpInfo("F.conv_transpose1d", lambda T, x, w, b: F(T).conv_transpose1d(
        x, w, b, stride=2, padding=1, output_padding=1), shapes([(2, 3, 5), (3, 2, 3), (2,)])),
    OpInfo("F.pixel_unshuffle", lambda T, x: F(T).pixel_unshuffle(x, 2), shapes([(2, 2, 4, 6)])),
    OpInfo("F.upsample", lambda T, x: F(T).upsample(x, scale_factor=2, mode="nearest"),
           shapes([(1, 2, 3, 2)])),
    # the random masks differ from torch's by design; outside training they are the identity
    OpInfo("F.dropout_family_eval", lambda T, x: (F(T).dropout1d(x, 0.5, training=False),
                                                  F(T).dropout2d(x, 0.5, training=False),
                                                  F(T).alpha_dropout(x, 0.5, training=False)),
           shapes([(2, 3, 4)])),
    OpInfo("F.multi_head_attention_forward", _mha,
           shapes([(3, 2, 4), (5, 2, 4), (5, 2, 4), (12, 4), (12,), (4, 4), (4,)]),
           grad_rtol=1e-4, grad_atol=1e-4),
    # torch.<name>: the top-level twins of nn.functional, with torch's own signatures
    OpInfo("softmax", lambda T, x, dim: T.softmax(x, dim), _softmax_samples),
    OpInfo("log_softmax", lambda T, x, dim: T.log_softmax(x, dim), _softmax_samples),
    OpInfo("dropout", lambda T, x: T.dropout(x, 0.5, False), shapes([(3, 4)])),
    OpInfo("conv1d", lambda T, x, w, b: T.conv1d(x, w, b, 2, 1), shapes([(2, 3, 9), (4, 3, 3),
                                                                         (4,)])),
    OpInfo("conv2d", lambda T, x, w, b: T.conv2d(x, w, b, 1, 1), shapes([(2, 3, 5, 4),
                                                                         (4, 3, 3, 2), (4,)])),
    OpInfo("layer_norm", lambda T, x, w, b: T.layer_norm(x, [4], w, b, 1e-3),
           shapes([(3, 4), (4,), (4,)])),
    OpInfo("batch_norm", lambda T, x, w, b: T.batch_norm(x, w, b, None, None, True, 0.1, 1e-5,
                                                         False), shapes([(4, 3, 2), (3,), (3,)])),
    OpInfo("embedding", lambda T, w, i: T.embedding(w, i), shapes([(6, 3)], ints=[(6, (4, 5))])),
    OpInfo("cosine_similarity", lambda T, a, b: T.cosine_similarity(a, b, 0),
           shapes([(4, 5), (4, 5)])),
    OpInfo("pairwise_distance", lambda T, a, b: T.pairwise_distance(a, b, 3.0),
           shapes([(4, 5), (4, 5)])),
    OpInfo("threshold", lambda T, x: T.threshold(x, 0.3, -1.0), shapes([(3, 4)])),
)
