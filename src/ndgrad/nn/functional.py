"""Same as torch.nn.functional. Families live in nn/_functional/; this module re-exports them."""

from ._functional.activation import (celu, celu_, elu, elu_, gelu, glu, hardshrink, hardsigmoid,
                                     hardswish, hardtanh, hardtanh_, leaky_relu, leaky_relu_,
                                     log_softmax, logsigmoid, mish, prelu, relu, relu6, relu_,
                                     rrelu, rrelu_, selu, selu_, sigmoid, silu, softmax, softmin,
                                     softplus, softshrink, softsign, tanh, tanhshrink, threshold,
                                     threshold_)
from ._functional.attention import multi_head_attention_forward, scaled_dot_product_attention
from ._functional.conv import (conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold,
                               unfold)
from ._functional.distance import cosine_similarity, normalize, pairwise_distance
from ._functional.dropout import alpha_dropout, dropout, dropout1d, dropout2d
from ._functional.linear import bilinear, linear
from ._functional.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,
                               cosine_embedding_loss, cross_entropy, gaussian_nll_loss,
                               hinge_embedding_loss, huber_loss, kl_div, l1_loss,
                               margin_ranking_loss, mse_loss, nll_loss, poisson_nll_loss,
                               smooth_l1_loss, triplet_margin_loss)
from ._functional.norm import batch_norm, group_norm, instance_norm, layer_norm
from ._functional.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d,
                                  avg_pool2d, max_pool1d, max_pool1d_with_indices, max_pool2d,
                                  max_pool2d_with_indices)
from ._functional.shape import (interpolate, pad, pixel_shuffle, pixel_unshuffle, upsample)
from ._functional.sparse import embedding, one_hot

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "alpha_dropout", "avg_pool1d",
           "avg_pool2d", "batch_norm", "bilinear", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "celu", "celu_", "conv1d", "conv2d",
           "conv_transpose1d", "conv_transpose2d", "cosine_embedding_loss", "cosine_similarity",
           "cross_entropy", "dropout", "dropout1d", "dropout2d", "elu", "elu_", "embedding",
           "fold", "gaussian_nll_loss", "gelu", "glu", "group_norm", "hardshrink", "hardsigmoid",
           "hardswish",
           "hardtanh", "hardtanh_", "hinge_embedding_loss", "huber_loss", "instance_norm",
           "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "leaky_relu_", "linear",
           "log_softmax", "logsigmoid", "margin_ranking_loss", "max_pool1d",
           "max_pool1d_with_indices", "max_pool2d", "max_pool2d_with_indices", "mish", "mse_loss",
           "multi_head_attention_forward", "nll_loss", "normalize", "one_hot", "pad",
           "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu",
           "relu", "relu6", "relu_", "rrelu", "rrelu_", "scaled_dot_product_attention", "selu",
           "selu_", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softmin", "softplus",
           "softshrink", "softsign", "tanh", "tanhshrink",
           "threshold", "threshold_", "triplet_margin_loss", "unfold", "upsample"]

# the nn breadth (3-d layers, more pooling, losses, sampling), one family per file
from .._nn_top import channel_shuffle  # noqa: E402  (torch's F names torch's own)
from .._ops.linalg import pdist  # noqa: E402
from ._functional.adaptive_max import (adaptive_max_pool1d,  # noqa: E402
                                       adaptive_max_pool1d_with_indices, adaptive_max_pool2d,
                                       adaptive_max_pool2d_with_indices, adaptive_max_pool3d,
                                       adaptive_max_pool3d_with_indices)
from ._functional.conv3d import conv3d, conv_transpose3d  # noqa: E402
from ._functional.ctc import ctc_loss  # noqa: E402
from ._functional.embedding_bag import embedding_bag  # noqa: E402
from ._functional.fractional import (fractional_max_pool2d,  # noqa: E402
                                     fractional_max_pool2d_with_indices, fractional_max_pool3d,
                                     fractional_max_pool3d_with_indices)
from ._functional.grid import affine_grid, grid_sample  # noqa: E402
from ._functional.loss_extra import (linear_cross_entropy, multi_margin_loss,  # noqa: E402
                                     multilabel_margin_loss, multilabel_soft_margin_loss,
                                     soft_margin_loss, triplet_margin_with_distance_loss)
from ._functional.lp_pool import lp_pool1d, lp_pool2d, lp_pool3d  # noqa: E402
from ._functional.norm_extra import local_response_norm, rms_norm  # noqa: E402
from ._functional.pooling3d import (adaptive_avg_pool3d, avg_pool3d, max_pool3d,  # noqa: E402
                                    max_pool3d_with_indices)
from ._functional.stochastic import (dropout3d, feature_alpha_dropout,  # noqa: E402
                                     gumbel_softmax)
from ._functional.unpool import max_unpool1d, max_unpool2d, max_unpool3d  # noqa: E402
from ._functional.upsampling import upsample_bilinear, upsample_nearest  # noqa: E402

__all__ += ["adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices",
            "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d",
            "adaptive_max_pool3d_with_indices", "affine_grid", "avg_pool3d", "channel_shuffle",
            "conv3d", "conv_transpose3d", "ctc_loss", "dropout3d", "embedding_bag",
            "feature_alpha_dropout", "fractional_max_pool2d", "fractional_max_pool2d_with_indices",
            "fractional_max_pool3d", "fractional_max_pool3d_with_indices", "grid_sample",
            "gumbel_softmax", "linear_cross_entropy", "local_response_norm", "lp_pool1d",
            "lp_pool2d", "lp_pool3d", "max_pool3d", "max_pool3d_with_indices", "max_unpool1d",
            "max_unpool2d", "max_unpool3d", "multi_margin_loss", "multilabel_margin_loss",
            "multilabel_soft_margin_loss", "pdist", "rms_norm", "soft_margin_loss",
            "triplet_margin_with_distance_loss", "upsample_bilinear", "upsample_nearest"]
