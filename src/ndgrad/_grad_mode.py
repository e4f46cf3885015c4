"""Grad mode: a thread-local flag behind no_grad, enable_grad, set_grad_enabled, inference_mode.

The same thread-local ``state`` also holds the saved-tensor hooks stack
(``autograd.graph.saved_tensors_hooks``); anomaly detection is process-wide, as in torch."""

from __future__ import annotations

import functools
import inspect
import threading


class _State(threading.local):
    grad_enabled = True
    inference = False
    saved_hooks: tuple = ()  # (pack, unpack) pairs, innermost last


state = _State()


class _Anomaly:
    enabled = False
    check_nan = True


anomaly = _Anomaly()


def is_grad_enabled() -> bool:
    """Same as torch.is_grad_enabled."""
    return state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """Same as torch.is_inference_mode_enabled."""
    return state.inference


class _Mode:
    """A context manager that is also a decorator (of functions and generators), like torch's."""

    def __call__(self, fn):
        mode = self.clone

        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                gen = fn(*args, **kwargs)
                value = None
                while True:  # re-enter the mode around every step, as torch does
                    try:
                        with mode():
                            value = gen.send(value)
                    except StopIteration as stop:
                        return stop.value
                    value = yield value

            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with mode():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class _FlagMode(_Mode):
    """Sets the grad flag to ``_enable`` inside; usable bare as a decorator (``@no_grad``)."""

    _enable = False

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self) -> None:
        self._prev = state.grad_enabled
        # inside inference_mode nothing is recorded, whatever the grad mode says
        state.grad_enabled = self._enable and not state.inference

    def __exit__(self, *exc) -> None:
        state.grad_enabled = self._prev


class no_grad(_FlagMode):
    """Same as torch.no_grad (thread-local)."""


class enable_grad(_FlagMode):
    """Same as torch.enable_grad (thread-local)."""

    _enable = True


class set_grad_enabled(_Mode):
    """Same as torch.set_grad_enabled: a function, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self._prev = state.grad_enabled
        self.mode = bool(mode)
        state.grad_enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        state.grad_enabled = self._prev

    def __call__(self, fn):
        state.grad_enabled = self._prev  # used as a decorator: the call above must not stick
        return super().__call__(fn)

    def __repr__(self) -> str:
        return f"ndgrad.autograd.grad_mode.set_grad_enabled(mode={self.mode})"

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_Mode):
    """Same as torch.inference_mode, except that tensors made inside are ordinary tensors
    (torch marks them as inference tensors that autograd later refuses), and that inside it
    ``enable_grad`` leaves is_grad_enabled() False (torch reports True but records nothing)."""

    def __new__(cls, mode=True):
        if callable(mode):  # bare decorator: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        self._prev = state.grad_enabled, state.inference
        state.grad_enabled, state.inference = not self.mode, bool(self.mode)

    def __exit__(self, *exc) -> None:
        state.grad_enabled, state.inference = self._prev

    def clone(self):
        return inference_mode(self.mode)
