"""BatchNorm3d, InstanceNorm3d, SyncBatchNorm (batch norm of this one process), RMSNorm,
LocalResponseNorm and CrossMapLRN2d (torch's legacy autograd Function, forward and backward as
torch computes them)."""

from __future__ import annotations

import numbers

from ... import empty
from ..._tensor import Tensor
from ...autograd.function import Function
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .normalization import _BatchNorm, _InstanceNorm


class BatchNorm3d(_BatchNorm):
    def _check_input_dim(self, input) -> None:
        if input.ndim != 5:
            raise ValueError(f"expected 5D input (got {input.ndim}D input)")


class InstanceNorm3d(_InstanceNorm):
    _batched = 5


class SyncBatchNorm(_BatchNorm):
    """Same as torch.nn.SyncBatchNorm without a process group to synchronise with: the statistics
    are this process's batch, as torch's when torch.distributed is not initialised."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input) -> None:
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        from ..._grad_mode import no_grad

        out = module
        if isinstance(module, _BatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


class RMSNorm(Module):
    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _window_sums(xp, a, lo, hi):
    """sum over channels j in [lo[c], hi[c]] of a[:, j], for every channel c (prefix sums)."""
    cs = xp.concatenate([xp.zeros_like(a[:, :1]), xp.cumsum(a, axis=1)], axis=1)
    return cs[:, hi + 1] - cs[:, lo]


class _CrossMapLRN2d(Function):
    """torch.nn._functions.CrossMapLRN2d: the running window sums of its loops (including their
    quirk: the first channel's square is never dropped from later windows) and its backward."""

    @staticmethod
    def forward(ctx, input, size, alpha, beta, k):
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
        xp = input._device.xp
        x = input._data
        c = x.shape[1]
        sq = x * x
        pre = int((size - 1) / 2 + 1)
        ch = xp.arange(c)
        hi = xp.minimum(ch + pre - 1, c - 1)
        lo = xp.where(ch > pre, ch - pre + 1, 0)
        scale = _window_sums(xp, sq, lo, hi) + xp.where(ch > pre, 1, 0)[:, None, None] * sq[:, :1]
        scale = scale * (alpha / size) + k
        out = scale ** -beta * x
        ctx.args = (size, alpha, beta, scale)
        res = Tensor._make(out.astype(x.dtype, copy=False), input._device)
        ctx.save_for_backward(input, res)
        return res

    @staticmethod
    def backward(ctx, grad_output):
        input, output = ctx.saved_tensors
        size, alpha, beta, scale = ctx.args
        xp = input._device.xp
        g, x, out = grad_output._data, input._data, output._data
        n, c = x.shape[:2]
        inv = int(size - (size - 1) / 2)
        padded = xp.zeros((n, c + size - 1) + x.shape[2:], x.dtype)
        padded[:, inv:inv + c] = g * out / scale
        ch = xp.arange(c)
        accum = _window_sums(xp, padded, ch, ch + size - 1)
        gi = scale ** -beta * g - (2 * alpha * beta / size) * x * accum
        return Tensor._make(gi.astype(x.dtype, copy=False), input._device), None, None, None, None


class CrossMapLRN2d(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return _CrossMapLRN2d.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
