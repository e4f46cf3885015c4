"""Parameter: a leaf tensor that modules register automatically."""

from __future__ import annotations

from .._tensor import Tensor, _init


class Parameter(Tensor):
    """Same as torch.nn.Parameter: shares ``data``'s memory and requires grad by default."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            from .._creation import empty

            data = empty(0)
        p = object.__new__(cls)
        _init(p, data._data, data._device)
        p._vc = data._vc
        p.requires_grad = requires_grad
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (Parameter, (Tensor._make(self._data, self._device), self._requires_grad))


class Buffer(Tensor):
    """Same as torch.nn.Buffer: marks a tensor to be registered as a module buffer."""

    def __new__(cls, data: Tensor, *, persistent: bool = True):
        b = object.__new__(cls)
        _init(b, data._data, data._device)
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass
