"""Grad mode: a thread-local flag behind no_grad, enable_grad, set_grad_enabled, inference_mode."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    grad_enabled = True
    inference = False


state = _State()


def is_grad_enabled() -> bool:
    return state.grad_enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _Mode:
    """A context manager that is also a decorator, like torch's grad-mode classes."""

    _enable = False

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = self._enable

    def __exit__(self, *exc):
        state.grad_enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_Mode):
    """Disable gradient recording (thread-local)."""


class enable_grad(_Mode):
    """Enable gradient recording (thread-local)."""

    _enable = True


class set_grad_enabled(_Mode):
    """Set grad mode; works as a function, a context manager or a decorator."""

    def __init__(self, mode: bool):
        self._prev = state.grad_enabled
        self._enable = bool(mode)
        state.grad_enabled = self._enable

    def __enter__(self):
        pass

    def __call__(self, fn):
        state.grad_enabled = self._prev
        mode = self._enable

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return set_grad_enabled(self._enable)


class inference_mode(_Mode):
    """Like no_grad; tensors made inside are marked as inference tensors only by the flag."""

    def __init__(self, mode: bool = True):
        self._mode = mode

    def __enter__(self):
        self._prev = state.grad_enabled, state.inference
        if self._mode:
            state.grad_enabled, state.inference = False, True

    def __exit__(self, *exc):
        state.grad_enabled, state.inference = self._prev

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper
