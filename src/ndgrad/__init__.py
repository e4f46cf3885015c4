"""ndgrad: PyTorch's core API on NumPy. ``import ndgrad as torch``."""

from . import _dtype
from ._backend import device
from ._dtype import (bfloat16, complex64, complex128, dtype, float16, float32, float64,
                     get_default_dtype, int8, int16, int32, int64, promote_types, result_type,
                     set_default_dtype, uint8)
from ._dtype import bool_ as bool  # noqa: A001 (torch.bool)
from ._tensor import Size, Tensor
from ._print import get_printoptions, set_printoptions
from ._creation import (arange, as_tensor, asarray, empty, empty_like, eye, from_dlpack,
                        from_numpy, full, full_like, linspace, logspace, ones, ones_like, tensor,
                        zeros, zeros_like)
from ._ops.elementwise import *  # noqa: F401,F403
from ._ops.elementwise import (add, atan2, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, div,
                               divide, eq, floor_divide, ge, greater, greater_equal, gt, le, less,
                               less_equal, logical_and, logical_not, logical_or, logical_xor, lt,
                               maximum, minimum, mul, multiply, ne, not_equal, pow, round, rsub,
                               sub, subtract, true_divide)
from ._ops.reduce import all, amax, amin, any, argmax, argmin, max, mean, min, sum
from ._ops.movement import (broadcast_to, cat, clone, concat, concatenate, flatten, narrow,
                            permute, reshape, select, squeeze, stack, swapaxes, swapdims, t,
                            transpose, unbind, unsqueeze)
from ._ops.linalg import bmm, det, diag, dot, inverse, matmul, mm, mv
from .random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,
                     manual_seed, multinomial, normal, rand, rand_like, randint, randint_like,
                     randn, randn_like, randperm, seed, set_rng_state)
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from . import autograd, linalg, nn, optim, testing  # noqa: E402
from .nn.functional import relu  # noqa: E402  (torch.relu is the functional form)

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128
__version__ = "0.1.0"


def is_tensor(obj) :
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor):
    return input.is_floating_point()


def is_complex(input: Tensor):
    return input.is_complex()


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Same as torch.norm (deprecated in torch in favour of torch.linalg.norm)."""
    if p == "fro" or p is None:
        return linalg.vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if p == "nuc":
        return linalg.matrix_norm(input, "nuc", dim or (-2, -1), keepdim)
    return linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)


Tensor.norm = lambda self, p="fro", dim=None, keepdim=False, dtype=None: norm(
    self, p, dim, keepdim, dtype)
