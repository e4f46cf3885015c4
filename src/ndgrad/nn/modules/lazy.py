"""Lazy modules (torch.nn.LazyLinear, LazyConv*d, LazyConvTranspose*d, LazyBatchNorm*d,
LazyInstanceNorm*d): the input size is read from the first input. As torch: parameters start as
``UninitializedParameter``; the first forward gives them their shapes, initialises them with the
layer's own ``reset_parameters`` (so the random stream is torch's) and turns the module into its
eager class (LazyLinear becomes Linear)."""

from __future__ import annotations

from ..._grad_mode import no_grad
from ..parameter import UninitializedBuffer, UninitializedParameter
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .conv3d import Conv3d, ConvTranspose3d
from .linear import Linear
from .norm_extra import BatchNorm3d, InstanceNorm3d
from .normalization import BatchNorm1d, BatchNorm2d, InstanceNorm1d, InstanceNorm2d

__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
           "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear",
           "LazyModuleMixin"]


_UNINITIALIZED = (UninitializedParameter, UninitializedBuffer)


class LazyModuleMixin:
    """Same as torch.nn.modules.lazy.LazyModuleMixin: a forward pre-hook runs
    ``initialize_parameters(*input)`` once, then the module becomes ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return any(isinstance(t, _UNINITIALIZED) for t in (
            *self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def _load_from_state_dict(self, state_dict, prefix, *args) -> None:
        # torch's _lazy_load_hook: a lazy tensor takes the checkpoint's shape, then loads
        for name, t in (*self._parameters.items(), *self._buffers.items()):
            if isinstance(t, _UNINITIALIZED) and prefix + name in state_dict:
                with no_grad():
                    t.materialize(tuple(state_dict[prefix + name].shape))
        super()._load_from_state_dict(state_dict, prefix, *args)


def _infer_parameters(module, args) -> None:
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {type(module).__name__} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyLinear(LazyModuleMixin, Linear):
    """Same as torch.nn.LazyLinear: ``in_features`` is the first input's last dimension."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, 0, False)  # no bias tensor that would be replaced at once
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    def _lazy_init(self, out_channels: int, bias: bool, device, dtype) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if not self.has_uninitialized_params():
            return
        nd = len(self.kernel_size)
        if input.dim() not in (nd + 1, nd + 2):
            raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: "
                               f"{list(input.shape)}")
        self.in_channels = input.shape[1] if input.dim() == nd + 2 else input.shape[0]
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            g = self.groups
            shape = (self.in_channels, self.out_channels // g) if self.transposed else \
                (self.out_channels, self.in_channels // g)
            self.weight.materialize(shape + tuple(self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


def _lazy_conv(base, name: str):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                      padding_mode)
        self._lazy_init(out_channels, bias, device, dtype)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    return type(name, (_LazyConvMixin, base), {"cls_to_become": base, "__init__": __init__,
                                              "__doc__": f"Same as torch.nn.{name}."})


def _lazy_conv_transpose(base, name: str):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups, False,
                      dilation, padding_mode)
        self._lazy_init(out_channels, bias, device, dtype)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    return type(name, (_LazyConvMixin, base), {"cls_to_become": base, "__init__": __init__,
                                              "__doc__": f"Same as torch.nn.{name}."})


LazyConv1d, LazyConv2d, LazyConv3d = (_lazy_conv(b, "Lazy" + b.__name__)
                                      for b in (Conv1d, Conv2d, Conv3d))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_conv_transpose(b, "Lazy" + b.__name__)
    for b in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))


class _LazyNormMixin(LazyModuleMixin):
    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args) -> None:
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[1]
        with no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(self, name, None)
                if isinstance(t, _UNINITIALIZED):
                    t.materialize((self.num_features,))
            self.reset_parameters()


def _lazy_norm(base, name: str):
    # the lazy instance norms too default to affine=True, track_running_stats=True (as torch)
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:
        base.__init__(self, 0, eps, momentum, False, False)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            from ..._creation import tensor
            from ... import _dtype as D

            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=D.int64, device=device)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    return type(name, (_LazyNormMixin, base), {"cls_to_become": base, "__init__": __init__,
                                               "__doc__": f"Same as torch.nn.{name}."})


LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d, \
    LazyInstanceNorm3d = (_lazy_norm(b, "Lazy" + b.__name__) for b in (
        BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d))
