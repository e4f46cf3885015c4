"""torch's control-flow operators, run eagerly (torch.compile would capture them): cond,
while_loop, fork/wait; and torch.vmap (ndgrad.func.vmap)."""

from __future__ import annotations

from ._tensor import Tensor
from .func import vmap  # noqa: F401  (torch.vmap is torch.func.vmap)

__all__ = ["cond", "fork", "vmap", "wait", "while_loop"]


def _truth(pred) -> bool:
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got "
                               f"{pred}.")
        return bool(pred.item())
    return bool(pred)


def cond(pred, true_fn, false_fn, operands=()):
    """Same as torch.cond, evaluated eagerly: the chosen branch applied to operands."""
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"Expect operands to be a tuple of possibly nested dict/list/tuple that "
                           f"only consists of tensor leaves, but got {operands}.")
    return (true_fn if _truth(pred) else false_fn)(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Same as torch.while_loop, evaluated eagerly: body_fn while cond_fn holds."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError("carried_inputs must be a tuple or list but got "
                           f"{type(carried_inputs)}")
    carried = tuple(carried_inputs)
    while _truth(cond_fn(*carried)):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return carried



class Future:
    """Same as torch.Future for fork's result: here the call has already run."""

    __slots__ = ("_value",)

    def __init__(self, value) -> None:
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self) -> bool:
        return True


def fork(func, *args, **kwargs) -> Future:
    """Same as torch.fork (torch.jit.fork) in eager mode: func runs now, synchronously."""
    return Future(func(*args, **kwargs))


def wait(future: Future):
    """Same as torch.wait."""
    return future.wait()
