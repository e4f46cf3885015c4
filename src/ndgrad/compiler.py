"""Same as torch.compiler: ndgrad runs eagerly, so nothing is ever compiling and the decorators
return what they are given (torch.compile is the identity too, see ndgrad.compile)."""

from __future__ import annotations

import contextlib

__all__ = ["allow_in_graph", "assume_constant_result", "compile", "cudagraph_mark_step_begin",
           "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "list_backends",
           "reset", "set_stance", "substitute_in_graph"]


def compile(*args, **kwargs):  # noqa: A001  (torch's name)
    from . import compile as _compile

    return _compile(*args, **kwargs)


def disable(fn=None, recursive: bool = True, *, reason: str | None = None):
    """Same as torch.compiler.disable: ``fn`` itself (usable bare or called)."""
    return fn if fn is not None else (lambda f: f)


def is_compiling() -> bool:
    return False


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False


def reset() -> None:
    """Same as torch.compiler.reset: there are no compiled caches to drop."""


def allow_in_graph(fn):
    return fn


def assume_constant_result(fn):
    return fn


def substitute_in_graph(original_fn, *, can_constant_fold_through: bool = False,
                        skip_signature_check: bool = False):
    return lambda fn: fn


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """No compiler backends: ndgrad.compile returns the model unchanged."""
    return []


def cudagraph_mark_step_begin() -> None:
    pass


def set_stance(stance: str = "default", *, skippable_frames=None, force_backend=None):
    """Same as torch.compiler.set_stance: accepted (there is nothing compiled to steer); usable
    as a call, a context manager or a decorator."""
    return _Stance()


class _Stance(contextlib.ContextDecorator):
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False
