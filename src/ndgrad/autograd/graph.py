"""Same as torch.autograd.graph: the Node type and saved-tensor hooks."""

from __future__ import annotations

from .._grad_mode import state as _state
from .node import Node

__all__ = ["Node", "save_on_cpu", "saved_tensors_hooks"]


class saved_tensors_hooks:
    """Same as torch.autograd.graph.saved_tensors_hooks: ``pack_hook(tensor)`` runs when an op
    saves a tensor for backward, ``unpack_hook(packed)`` when backward reads it back. As in torch,
    a hooked tensor is not version-checked. The hooks are thread-local."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> None:
        _state.saved_hooks = _state.saved_hooks + ((self.pack_hook, self.unpack_hook),)

    def __exit__(self, *exc) -> None:
        _state.saved_hooks = _state.saved_hooks[:-1]


class save_on_cpu(saved_tensors_hooks):
    """Same as torch.autograd.graph.save_on_cpu: tensors saved for backward wait on the CPU."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: (t.device, t.cpu()), lambda p: p[1].to(p[0]))
