"""max_unpool1d/2d/3d: the values written into zeros at the pooling indices (a linear map, one
node as torch's MaxUnpool2DBackward0/MaxUnpool3DBackward0; its adjoint gathers at the indices);
1-d unpools as 2-d over an unsqueezed input, as torch."""

from __future__ import annotations

import math

from ..._tensor import Tensor
from ...autograd.torch_saves import saves
from .shape import _linear_map
from ._utils import ntuple

_UNPOOL = {2: _linear_map("MaxUnpool2D"), 3: _linear_map("MaxUnpool3D")}


def _output_size(input, k, s, p, output_size) -> list:
    nd = len(k)
    default = [(input.shape[-nd + d] - 1) * s[d] + k[d] - 2 * p[d] for d in range(nd)]
    if output_size is None:
        ret = default
    else:
        output_size = list(output_size)
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        if len(output_size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for d in range(nd):
            lo, hi = default[d] - s[d], default[d] + s[d]
            if not lo < output_size[d] < hi:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                                 f"{lo} and {hi})")
        ret = output_size
    for d in range(nd):
        if ret[d] < 0:
            raise ValueError("max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={ret[d]}")
    return ret


def _maps(idx, size):
    """Scatter into (..., *size) at the flat spatial indices ``idx``, and its adjoint (gather)."""
    nd = len(size)

    def fwd(xp, a):
        lead = a.shape[:a.ndim - nd]
        rows = math.prod(lead)
        out = xp.zeros((rows, math.prod(size)), a.dtype)
        # as torch's kernel, a repeated index keeps the last value written
        k = math.prod(a.shape[a.ndim - nd:])  # (not -1: rows may be 0)
        out[xp.arange(rows)[:, None], idx.reshape(rows, k)] = a.reshape(rows, k)
        return out.reshape(lead + tuple(size))

    def adj(xp, g):
        lead = g.shape[:g.ndim - nd]
        flat = g.reshape(lead + (math.prod(size),))
        k = math.prod(idx.shape[idx.ndim - nd:])
        return xp.take_along_axis(flat, idx.reshape(lead + (k,)), axis=-1).reshape(idx.shape)

    return fwd, adj


def _unpool(nd: int, input: Tensor, indices: Tensor, size) -> Tensor:
    name = f"max_unpooling{nd}d"
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to {name} should be a {nd + 1}d or {nd + 2}d Tensor, but got "
                           f"a tensor with {input.ndim} dimensions.")
    if indices.dtype.name != "int64":
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{indices.type().split('.')[-1].replace('Tensor', '')}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError("Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    xp = input._device.xp
    idx = indices._data
    bad = (idx < 0) | (idx >= math.prod(size))
    if bad.any():  # torch reports the first plane with one, and that plane's last
        planes = bad.reshape(-1, math.prod(idx.shape[-nd:]))
        row = int(xp.argmax(planes.any(1)))
        col = planes.shape[1] - 1 - int(xp.argmax(planes[row, ::-1]))
        value = int(idx.reshape(planes.shape)[row, col])
        raise RuntimeError(f"Found an invalid max index: {value} (output volumes are of size "
                           f"{'x'.join(map(str, size))})")
    fwd, adj = _maps(idx, tuple(size))
    # torch's node saves the indices (adj reads them): a later write into them raises
    return saves(_UNPOOL[nd].apply(input, fwd=fwd, adj=adj), indices)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    k = ntuple(1)(kernel_size)
    s = ntuple(1)(stride) if stride is not None else k
    size = _output_size(input, k, s, ntuple(1)(padding), output_size) + [1]
    return _unpool(2, input.unsqueeze(-1), indices.unsqueeze(-1), size).squeeze(-1)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    k = ntuple(2)(kernel_size)
    s = ntuple(2)(stride) if stride is not None else k
    return _unpool(2, input, indices, _output_size(input, k, s, ntuple(2)(padding), output_size))


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    k = ntuple(3)(kernel_size)
    s = ntuple(3)(stride) if stride is not None else k
    return _unpool(3, input, indices, _output_size(input, k, s, ntuple(3)(padding), output_size))
