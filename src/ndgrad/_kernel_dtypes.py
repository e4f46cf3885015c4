"""torch's NotImplementedError for an nn kernel given a dtype it has no implementation for.

torch's activation, normalization, pooling and loss kernels are compiled for floating dtypes
(some also for integers): ``F.gelu(int_tensor)`` raises '"GeluKernelImpl" not implemented for
'Long''. ndgrad's array code would compute something for any dtype, so the public functions are
wrapped once (``install``) with the table below: kernel name (or the error torch raises instead)
and the dtypes torch refuses, read off torch 2.13 on CPU. The check reads the first argument's
dtype only; other arguments keep the functions' own checks."""

from __future__ import annotations

import functools

from ._dtype import torch_type_name
from ._errors import not_implemented
from ._tensor import Tensor

_INTS = frozenset(("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                   "bool"))
_COMPLEX = frozenset(("complex64", "complex128"))
_HALF = frozenset(("float16", "bfloat16"))
_FLOAT_ONLY = _INTS | _COMPLEX
_BOOL_COMPLEX = _COMPLEX | {"bool"}
_AVG_POOL = _FLOAT_ONLY - {"int64"}  # torch's avg_pool kernels take int64

def _by_rank(names: dict, default: str):
    """torch's kernel named by the input's rank (its 2-d and 3-d kernels)."""
    return lambda x: not_implemented(names.get(x.ndim, default), x.dtype)


# function name (in nn.functional, and at the top level where torch has it) -> (kernel, dtypes):
# the kernel's name or a function of the input giving the exception; the refused dtype names or a
# function of the input giving them
KERNELS = {
    **dict.fromkeys(("elu", "selu", "celu"), ("elu_cpu", _FLOAT_ONLY)),
    "gelu": ("GeluKernelImpl", _FLOAT_ONLY),
    "silu": ("silu_cpu", _INTS),
    "mish": ("mish_cpu", _FLOAT_ONLY),
    "softplus": ("softplus_cpu", _FLOAT_ONLY),
    "hardswish": ("hardswish_cpu", _FLOAT_ONLY),
    "hardsigmoid": ("hardsigmoid_cpu", _FLOAT_ONLY),
    "logsigmoid": ("log_sigmoid_cpu", _FLOAT_ONLY),
    "hardshrink": ("hardshrink_cpu", _FLOAT_ONLY),
    "softshrink": ("softshrink_check", _FLOAT_ONLY),
    "leaky_relu": ("leaky_relu_cpu", _FLOAT_ONLY),
    "rrelu": ("leaky_relu_cpu", _FLOAT_ONLY),
    "glu": ("glu_cpu", _FLOAT_ONLY),
    "prelu": ("prelu_cpu", _FLOAT_ONLY),
    "threshold": ("threshold_cpu", _BOOL_COMPLEX),
    "layer_norm": ("LayerNormKernelImpl", _FLOAT_ONLY),
    "group_norm": ("GroupNormKernelImpl", _FLOAT_ONLY),
    "batch_norm": ("batch_norm", _FLOAT_ONLY),
    "instance_norm": ("batch_norm", _FLOAT_ONLY),
    "rms_norm": ("rms_norm", _INTS),
    "max_pool1d": ("max_pool1d_impl", _BOOL_COMPLEX),
    **dict.fromkeys(("max_pool2d", "max_pool2d_with_indices"), ("max_pool2d", _BOOL_COMPLEX)),
    **dict.fromkeys(("max_pool3d", "max_pool3d_with_indices"), ("max_pool3d", _BOOL_COMPLEX)),
    **dict.fromkeys(("avg_pool1d", "avg_pool2d"), ("avg_pool2d", _AVG_POOL)),
    "avg_pool3d": ("avg_pool3d_out_frame", _AVG_POOL | _HALF),
    **dict.fromkeys(("adaptive_avg_pool1d", "adaptive_avg_pool2d"),
                    ("adaptive_avg_pool2d", _FLOAT_ONLY)),
    **dict.fromkeys(("adaptive_max_pool1d", "adaptive_max_pool2d",
                     "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices"),
                    ("adaptive_max_pool2d", _FLOAT_ONLY)),
    **dict.fromkeys(("adaptive_max_pool3d", "adaptive_max_pool3d_with_indices"),
                    ("adaptive_max_pool3d_cpu", _FLOAT_ONLY)),
    "mse_loss": ("mse_cpu", _FLOAT_ONLY),
    "smooth_l1_loss": ("smooth_l1_cpu", _FLOAT_ONLY),
    "huber_loss": ("huber_cpu", _FLOAT_ONLY),
    "binary_cross_entropy": ("binary_cross_entropy", _FLOAT_ONLY),
    "binary_cross_entropy_with_logits": ("log_sigmoid_cpu", _FLOAT_ONLY),
    "nll_loss": ("nll_loss_out_frame", _FLOAT_ONLY),
    "pdist": ("pdist", _HALF),
    "multilabel_soft_margin_loss": ("log_sigmoid_cpu", _FLOAT_ONLY),
    "gumbel_softmax": (lambda x: RuntimeError(  # its exponential draw's check
        "Exponential distribution is a continuous probability distribution. dtype must be a "
        f"floating point but you specified {torch_type_name(x.dtype)}"), _FLOAT_ONLY),
    # the in-place spellings meet the same kernels
    **dict.fromkeys(("elu_", "selu_", "celu_"), ("elu_cpu", _FLOAT_ONLY)),
    **dict.fromkeys(("leaky_relu_", "rrelu_"), ("leaky_relu_cpu", _FLOAT_ONLY)),
    "threshold_": ("threshold_cpu", _BOOL_COMPLEX),
    **dict.fromkeys(("hardtanh", "relu6", "hardtanh_"), (lambda x: RuntimeError(
        "Bool inputs not supported for hardtanh") if x.dtype.name == "bool" else
        NotImplementedError("clamp is not supported for complex types"), _BOOL_COMPLEX)),
    "unfold": ("im2col_out_cpu", _INTS - {"bool"}),
    "fold": ("col2im_out_cpu", _INTS - {"bool"}),
    "grid_sample": (_by_rank({5: "grid_sampler3d_cpu"}, "grid_sampler_2d_cpu_kernel_impl"),
                    _FLOAT_ONLY),
    "kl_div": (lambda x: RuntimeError("kl_div: Complex inputs not supported." if x.is_complex()
                                      else "kl_div: Integral inputs not supported."),
               _FLOAT_ONLY),
    "multi_margin_loss": ("multi_margin_loss_cpu_kernel", _FLOAT_ONLY | _HALF),
    "multilabel_margin_loss": ("multilabel_margin_loss_forward_out_frame", _FLOAT_ONLY | _HALF),
    "ctc_loss": ("ctc_loss_cpu", _FLOAT_ONLY | _HALF),
    # avg_pool2d for a 3-d input, avg_pool3d (no half kernel either) from 4-d up
    "local_response_norm": (_by_rank({3: "avg_pool2d"}, "avg_pool3d_out_frame"),
                            lambda x: _AVG_POOL if x.ndim <= 3 else _AVG_POOL | _HALF),
    **dict.fromkeys(("lp_pool1d", "lp_pool2d"), ("avg_pool2d", _AVG_POOL - {"bool"})),
    "lp_pool3d": ("avg_pool3d_out_frame", (_AVG_POOL - {"bool"}) | _HALF),
    "fractional_max_pool2d": ("fractional_max_pool2d_out_frame", _COMPLEX),
    "fractional_max_pool3d": ("fractional_max_pool3d_out_frame", _COMPLEX),
    **dict.fromkeys(("max_unpool1d", "max_unpool2d"), ("max_unpool2d", _FLOAT_ONLY)),
    "max_unpool3d": ("max_unpool3d", _FLOAT_ONLY),
}


def _gate(fn, kernel, refused):
    error = kernel if callable(kernel) else lambda x: not_implemented(kernel, x.dtype)
    by_input = callable(refused)

    @functools.wraps(fn)
    def gated(*args, **kwargs):
        x = args[0] if args else kwargs.get("input")
        if isinstance(x, Tensor) and x._data.dtype.name in (refused(x) if by_input else refused):
            raise error(x)
        return fn(*args, **kwargs)
    return gated


def install(*namespaces) -> None:
    """Wrap the table's functions in each namespace (a module) where it has them."""
    for ns in namespaces:
        for name, (kernel, refused) in KERNELS.items():
            fn = getattr(ns, name, None)
            if callable(fn):
                setattr(ns, name, _gate(fn, kernel, refused))
