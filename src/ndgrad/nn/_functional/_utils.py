"""Small helpers shared by the functional families."""

from __future__ import annotations

import collections.abc
import warnings
from itertools import repeat

from ..._backend import ufunc_at
from ..._dtype import meta_name, torch_type_name
from ..._tensor import Tensor
from ..._ops._operands import _compute as compute  # noqa: F401  (half in float32: nn's too)
from ...autograd.node import named  # noqa: F401  (the nn functions import it from here)


def where(condition, input, other):
    """torch.where, looked up when called: the op families are imported after nn is defined."""
    from ... import where as _where

    return _where(condition, input, other)


def reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_reduction(size_average, reduce_, reduction: str) -> str:
    """torch's handling of the deprecated size_average/reduce arguments."""
    if size_average is None and reduce_ is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce_ = True if reduce_ is None else reduce_
    out = "mean" if size_average and reduce_ else "sum" if reduce_ else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{out}' "
                  "instead.", stacklevel=3)
    return out


def ntuple(n: int, name: str = "parse"):
    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


single = ntuple(1, "_single")
pair = ntuple(2, "_pair")


def is_half(dt) -> bool:
    return dt.itemsize == 2 and dt.kind in "fV"  # float16 or bfloat16 (cheaper than .name)


def scatter_add(xp, out, index, values) -> None:
    """out[index] += values with repeated indices summed (add.at)."""
    ufunc_at(xp, "add", out, index, values)


def mm(xp, a, b):
    dt = a.dtype
    if dt.itemsize == 2 and dt.kind in "fV":  # half: NumPy's float16 matmul is very slow
        return xp.matmul(a.astype(xp.float32), b.astype(xp.float32)).astype(a.dtype)
    return xp.matmul(a, b)


def c_name(t: Tensor) -> str:
    return meta_name(t.dtype)


def torch_name(t: Tensor) -> str:
    return torch_type_name(t.dtype)


def scalar_node(out: Tensor, name: str) -> Tensor:
    """``out`` = tensor (op) Python number, recorded as torch's C++ records it (MulBackward1,
    AddBackward1, DivBackward1): one edge, to the tensor; Python's operators give the number an
    edge of its own (None), as torch's Python operators do."""
    node = out._grad_fn
    if node is not None:
        node.next_edges = node.next_edges[:1]
        node.in_meta = node.in_meta[:1]
        node._name = name
    return out


def broadcast_pair(a: Tensor, b: Tensor) -> tuple:
    """torch.broadcast_tensors for two: only a tensor whose shape changes gets an expand."""
    if a.shape == b.shape:
        return a, b
    from ... import broadcast_tensors

    shape = broadcast_tensors(a.detach(), b.detach())[0].shape  # torch's error for a mismatch
    return tuple(t if t.shape == shape else t.expand(shape) for t in (a, b))
