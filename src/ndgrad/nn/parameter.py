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


# --- lazy modules' parameters (nn/modules/lazy.py) ----------------------------------------------
def _materialize(t: Tensor, shape, device, dtype, cls) -> None:
    from .._creation import empty

    made = empty(shape, device=device or t._device, dtype=dtype or t.dtype)
    requires_grad = t._requires_grad
    _init(t, made._data, made._device)
    t._requires_grad = requires_grad
    t.__class__ = cls


class UninitializedParameter(Parameter):
    """Same as torch.nn.parameter.UninitializedParameter: ``materialize(shape)`` gives it a shape
    (uninitialised values) and makes it a ``Parameter``."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        from .._creation import empty

        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, *args, **kwargs) -> None:
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        _materialize(self, shape, device, dtype, self.cls_to_become)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"

    __str__ = __repr__


class UninitializedBuffer(Tensor):
    """Same as torch.nn.parameter.UninitializedBuffer: a buffer without a shape yet."""

    __slots__ = ()  # Tensor's layout, so that materialize can make it a Tensor
    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None):
        from .._creation import empty

        b = object.__new__(cls)
        made = empty(0, device=device, dtype=dtype)
        _init(b, made._data, made._device)
        return b

    def __init__(self, *args, **kwargs) -> None:
        pass

    def materialize(self, shape, device=None, dtype=None) -> None:
        _materialize(self, shape, device, dtype, self.cls_to_become)

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"

    __str__ = __repr__
