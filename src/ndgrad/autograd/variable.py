"""Same as torch.autograd.Variable, the pre-0.4 wrapper old tutorials still import."""

from __future__ import annotations

import warnings

from .._tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, Tensor)  # every tensor is a Variable, as in torch


class Variable(metaclass=_VariableMeta):
    """``Variable(t, requires_grad)``: a new leaf sharing ``t``'s data (no history)."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        return data.detach().requires_grad_(requires_grad)
