"""Fractional max pooling (2-d, 3-d): per (sample, channel) pseudo-random window starts from
torch's interval formula (in the input's dtype, as its kernel computes them), the windows'
maxima by adaptive_max's gather and argmax; samples are drawn with torch.rand as torch's."""

from __future__ import annotations

from ... import rand
from ..._tensor import Tensor
from .adaptive_max import window_argmax
from ...autograd.torch_saves import saves
from .pooling import MaxPool2DWithIndices
from ._utils import ntuple


def _intervals(xp, sample, n, o, k):
    """Window starts (N, C, o) for samples (N, C) of the input's float dtype."""
    dt = sample.dtype
    starts = xp.empty(sample.shape + (o,), xp.int64)
    if o > 1:
        alpha = dt.type(n - k) / dt.type(o - 1)
        i = xp.arange(o - 1, dtype=dt)
        starts[..., :-1] = ((i + sample[..., None]) * alpha).astype(xp.int64) - \
            (sample * alpha).astype(xp.int64)[..., None]
    if o > 0:
        starts[..., -1] = n - k
    return starts


def _fractional(nd, input, kernel_size, output_size, output_ratio, return_indices, samples):
    name = f"fractional_max_pool{nd}d"
    tup = ntuple(nd)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if nd == 2 and len(output_ratio) > 2:
            raise ValueError("fractional_max_pool2d requires output_ratio to either be a single "
                             "Int or tuple of Ints.")
        ratio = tup(output_ratio)
        output_size = [int(input.shape[-nd + j] * ratio[j]) for j in range(nd)]
    k, outs = tup(kernel_size), tup(output_size)
    if samples is None:
        n_batch = 1 if input.ndim == nd + 1 else input.shape[0]
        samples = rand(n_batch, input.shape[-nd - 1], nd, dtype=input.dtype, device=input.device)
    if input.ndim not in (nd + 1, nd + 2) or not all(input.shape[-nd - 1:]):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    sizes = input.shape[-nd:]
    where = "fractional_max_pool2d()" if nd == 2 else "fractional_max_pool3d_out()"
    for j, dim in enumerate(("time", "height", "width")[3 - nd:]):
        if outs[j] + k[j] - 1 > sizes[j] - (nd == 3):  # torch's 3-d check is strict
            raise RuntimeError(f"{where}: pool {dim} {k[j]} too large relative to input {dim} "
                               f"{sizes[j]}")
    xp = input._device.xp
    s = samples._data
    data = input._data if input.ndim == nd + 2 else input._data[None]
    # 2-d samples are (width, height); 3-d ones (time, height, width)
    order = (1, 0) if nd == 2 else (0, 1, 2)
    pos = [(_intervals(xp, s[..., order[j]], sizes[j], outs[j], k[j])[..., None] +
            xp.arange(k[j])) for j in range(nd)]
    idx = window_argmax(xp, data, pos)
    out = MaxPool2DWithIndices.named(f"FractionalMaxPool{nd}DBackward0").apply(input, idx=idx)
    ind = Tensor._make(idx if input.ndim == nd + 2 else idx[0], input._device)
    saves(out, input, ind)  # as torch's node: a later write into either raises
    return (out, ind) if return_indices else out


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    return _fractional(2, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    return _fractional(3, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples=None):
    return _fractional(2, input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size, output_size=None,
                                       output_ratio=None, return_indices: bool = False,
                                       _random_samples=None):
    return _fractional(3, input, kernel_size, output_size, output_ratio, True, _random_samples)
