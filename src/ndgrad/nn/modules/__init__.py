"""Layer classes of torch.nn, one family per file."""

from .activation import (CELU, ELU, GELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                         LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, RReLU,
                         Sigmoid, SiLU, Softmax, Softmin, Softplus, Softshrink, Softsign, Tanh,
                         Tanhshrink, Threshold)
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d
from .linear import Bilinear, Flatten, Identity, Linear, Unflatten
from .loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,
                   GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                   MarginRankingLoss, MSELoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss,
                   TripletMarginLoss)
from .module import Module
from .padding import (CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d,
                      ReflectionPad1d, ReflectionPad2d, ReplicationPad1d, ReplicationPad2d,
                      ZeroPad1d, ZeroPad2d)
from .normalization import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d,
                            LayerNorm)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
                      MaxPool2d)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding
from .transformer import MultiheadAttention, TransformerEncoder, TransformerEncoderLayer
from .upsampling import PixelShuffle, PixelUnshuffle, Upsample

__all__ = ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AlphaDropout", "AvgPool1d", "AvgPool2d",
           "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Bilinear", "CELU",
           "CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "Conv1d", "Conv2d",
           "ConvTranspose1d", "ConvTranspose2d", "CosineEmbeddingLoss", "CosineSimilarity",
           "CrossEntropyLoss", "Dropout", "Dropout1d", "Dropout2d", "ELU", "Embedding", "Flatten",
           "GELU", "GLU", "GRU", "GRUCell", "GaussianNLLLoss", "GroupNorm", "Hardshrink",
           "Hardsigmoid", "Hardswish", "Hardtanh", "HingeEmbeddingLoss", "HuberLoss", "Identity",
           "InstanceNorm1d", "InstanceNorm2d", "KLDivLoss", "L1Loss", "LSTM", "LSTMCell",
           "LayerNorm", "LeakyReLU", "Linear", "LogSigmoid", "LogSoftmax", "MSELoss",
           "MarginRankingLoss", "MaxPool1d", "MaxPool2d", "Mish", "Module", "ModuleDict",
           "ModuleList", "MultiheadAttention", "NLLLoss", "PReLU", "PairwiseDistance",
           "ParameterDict", "ParameterList", "PixelShuffle", "PixelUnshuffle", "PoissonNLLLoss",
           "RNN", "RNNBase", "RNNCell", "RNNCellBase", "RReLU", "ReLU", "ReLU6", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "SELU", "Sequential", "SiLU",
           "Sigmoid", "SmoothL1Loss", "Softmax", "Softmin", "Softplus", "Softshrink", "Softsign",
           "Tanh", "Tanhshrink", "Threshold", "TransformerEncoder", "TransformerEncoderLayer",
           "TripletMarginLoss", "Unflatten", "Upsample", "ZeroPad1d", "ZeroPad2d"]

# the nn breadth (3-d layers, more pooling, losses, transformer decoder), one family per file
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402
from .conv3d import Conv3d, ConvTranspose3d  # noqa: E402
from .dropout_extra import Dropout3d, FeatureAlphaDropout  # noqa: E402
from .embedding_bag import EmbeddingBag  # noqa: E402
from .fold import Fold, Unfold  # noqa: E402
from .loss_extra import (CTCLoss, LinearCrossEntropyLoss, MultiLabelMarginLoss,  # noqa: E402
                         MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss2d, SoftMarginLoss,
                         TripletMarginWithDistanceLoss)
from .norm_extra import (BatchNorm3d, CrossMapLRN2d, InstanceNorm3d,  # noqa: E402
                         LocalResponseNorm, RMSNorm, SyncBatchNorm)
from .padding3d import (CircularPad3d, ConstantPad3d, ReflectionPad3d,  # noqa: E402
                        ReplicationPad3d, ZeroPad3d)
from .pooling_extra import (AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,  # noqa: E402
                            AdaptiveMaxPool3d, AvgPool3d, FractionalMaxPool2d,
                            FractionalMaxPool3d, LPPool1d, LPPool2d, LPPool3d, MaxPool3d,
                            MaxUnpool1d, MaxUnpool2d, MaxUnpool3d)
from .shape_extra import (ChannelShuffle, Softmax2d, UpsamplingBilinear2d,  # noqa: E402
                          UpsamplingNearest2d)
from .transformer_decoder import (Transformer, TransformerDecoder,  # noqa: E402
                                  TransformerDecoderLayer)

__all__ += ["AdaptiveAvgPool3d", "AdaptiveLogSoftmaxWithLoss", "AdaptiveMaxPool1d",
            "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AvgPool3d", "BatchNorm3d", "CTCLoss",
            "ChannelShuffle", "CircularPad3d", "ConstantPad3d", "Conv3d", "ConvTranspose3d",
            "CrossMapLRN2d", "Dropout3d", "EmbeddingBag", "FeatureAlphaDropout", "Fold",
            "FractionalMaxPool2d", "FractionalMaxPool3d", "InstanceNorm3d", "LPPool1d",
            "LPPool2d", "LPPool3d", "LinearCrossEntropyLoss", "LocalResponseNorm", "MaxPool3d",
            "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "MultiLabelMarginLoss",
            "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss2d", "RMSNorm",
            "ReflectionPad3d", "ReplicationPad3d", "SoftMarginLoss", "Softmax2d", "SyncBatchNorm",
            "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
            "TripletMarginWithDistanceLoss", "Unfold", "UpsamplingBilinear2d",
            "UpsamplingNearest2d", "ZeroPad3d"]

# Each class also under torch's module path (torch.nn.modules.activation.MultiheadAttention...):
# programs name them there, in safe_globals lists for torch.load and in isinstance checks.
# torch's batchnorm/instancenorm/flatten/pixelshuffle/channelshuffle are modules of their own.
_TORCH_HOMES = {
    "activation": "MultiheadAttention Softmax2d",
    "batchnorm": "BatchNorm1d BatchNorm2d BatchNorm3d SyncBatchNorm LazyBatchNorm1d "
                 "LazyBatchNorm2d LazyBatchNorm3d",
    "channelshuffle": "ChannelShuffle",
    "conv": "Conv3d ConvTranspose3d LazyConv1d LazyConv2d LazyConv3d LazyConvTranspose1d "
            "LazyConvTranspose2d LazyConvTranspose3d",
    "dropout": "Dropout3d FeatureAlphaDropout", "flatten": "Flatten Unflatten",
    "instancenorm": "InstanceNorm1d InstanceNorm2d InstanceNorm3d LazyInstanceNorm1d "
                    "LazyInstanceNorm2d LazyInstanceNorm3d",
    "linear": "LazyLinear",
    "loss": "NLLLoss2d MultiLabelMarginLoss SoftMarginLoss LinearCrossEntropyLoss "
            "MultiLabelSoftMarginLoss MultiMarginLoss TripletMarginWithDistanceLoss CTCLoss",
    "normalization": "LocalResponseNorm CrossMapLRN2d RMSNorm",
    "padding": "CircularPad3d ConstantPad3d ReflectionPad3d ReplicationPad3d ZeroPad3d",
    "pixelshuffle": "PixelShuffle PixelUnshuffle",
    "pooling": "MaxPool3d MaxUnpool1d MaxUnpool2d MaxUnpool3d AvgPool3d FractionalMaxPool2d "
               "FractionalMaxPool3d LPPool1d LPPool2d LPPool3d AdaptiveMaxPool1d "
               "AdaptiveMaxPool2d AdaptiveMaxPool3d AdaptiveAvgPool3d",
    "sparse": "EmbeddingBag",
    "transformer": "Transformer TransformerDecoder TransformerDecoderLayer",
    "upsampling": "UpsamplingNearest2d UpsamplingBilinear2d",
}


def _place_in_torch_homes() -> None:
    import sys
    import types

    for home, names in _TORCH_HOMES.items():
        name = f"{__name__}.{home}"
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name, f"torch.nn.modules.{home}'s classes")
            globals()[home] = sys.modules[name]
        for cls in names.split():
            if cls in globals():
                setattr(sys.modules[name], cls, globals()[cls])


from .lazy import *  # noqa: F403,E402  (LazyLinear, LazyConv2d, LazyBatchNorm2d...)
from .lazy import __all__ as _lazy_all  # noqa: E402

__all__ += _lazy_all
_place_in_torch_homes()
