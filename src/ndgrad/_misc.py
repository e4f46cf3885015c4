"""Small top-level functions of torch that belong to no op family."""

from __future__ import annotations

from ._tensor import Tensor
from . import linalg as _linalg


__all__ = ["is_tensor", "numel", "is_floating_point", "is_complex", "norm", "softmax",
           "log_softmax", "dropout", "conv1d", "conv2d", "layer_norm", "batch_norm", "embedding",
           "cosine_similarity", "pairwise_distance", "threshold", "ravel", "is_nonzero",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "set_float32_matmul_precision", "get_float32_matmul_precision", "compile"]


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Same as torch.norm (deprecated in torch in favour of torch.linalg.norm)."""
    if not isinstance(input, Tensor):  # torch.norm is Python: it reads input.layout first
        raise AttributeError(f"'{type(input).__name__}' object has no attribute 'layout'")
    if p == "fro" or p is None:
        return _linalg.vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if p == "nuc":
        return _linalg.matrix_norm(input, "nuc", dim or (-2, -1), keepdim)
    return _linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)


def _functional(name: str):
    """torch.<name> is torch.nn.functional.<name> (looked up late: nn imports this package)."""

    def fn(*args, **kwargs):
        from .nn import functional as F

        return getattr(F, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Same as torch.{name} (torch.nn.functional.{name})."
    return fn


def _needs_dim(name: str):
    """torch.softmax / torch.log_softmax: native functions whose dim is required (F.softmax's
    is optional, with a warning)."""
    forward = _functional(name)

    def fn(*args, **kwargs):
        pos = len(args) + ("input" in kwargs)
        dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis"))
        if pos < 2 and "dim" not in kwargs and "axis" not in kwargs:
            raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
        if dim is None:
            where = " (position 2)" * (len(args) > 1)
            raise TypeError(f"{name}(): argument 'dim'{where} must be int, not NoneType")
        if len(args) > 2:  # (input, dim, dtype): F's third is _stacklevel
            kwargs["dtype"] = args[2]
            args = args[:2]
        return forward(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = forward.__doc__
    return fn


softmax = _needs_dim("softmax")
log_softmax = _needs_dim("log_softmax")
dropout = _functional("dropout")
conv1d = _functional("conv1d")
conv2d = _functional("conv2d")
layer_norm = _functional("layer_norm")
cosine_similarity = _functional("cosine_similarity")
pairwise_distance = _functional("pairwise_distance")
threshold = _functional("threshold")


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled) -> Tensor:
    """Same as torch.batch_norm: aten's argument order, unlike F.batch_norm's."""
    from .nn import functional as F

    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False) -> Tensor:
    """Same as torch.embedding: weight first, and a negative padding_idx means none."""
    from .nn import functional as F

    return F.embedding(indices, weight, padding_idx if padding_idx >= 0 else None,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def ravel(input: Tensor) -> Tensor:
    return input.reshape(-1)


def is_nonzero(input: Tensor) -> bool:
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input)


_settings = {"deterministic": False, "matmul_precision": "highest"}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted for compatibility: ndgrad's CPU ops are deterministic already."""
    _settings["deterministic"] = bool(mode)
    _settings["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _settings["deterministic"]


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted for compatibility; float32 matmuls always run in full precision."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision}")
    _settings["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _settings["matmul_precision"]


def compile(model=None, **kwargs):
    """Same as torch.compile: see ndgrad._compile (capture once per signature, then replay)."""
    from ._compile import compile as _compile

    return _compile(model, **kwargs)
