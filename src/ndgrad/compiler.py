"""Same as torch.compiler: ``compile`` is ndgrad.compile (capture and replay, see
ndgrad._compile); ``is_compiling`` says whether a step is being captured; ``disable`` keeps a
function out of captures (a step that calls it runs eagerly)."""

from __future__ import annotations

import contextlib
import functools

from . import _trace

__all__ = ["allow_in_graph", "assume_constant_result", "compile", "cudagraph_mark_step_begin",
           "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "list_backends",
           "reset", "set_stance", "substitute_in_graph"]


def compile(*args, **kwargs):  # noqa: A001  (torch's name)
    from . import compile as _compile

    return _compile(*args, **kwargs)


def disable(fn=None, recursive: bool = True, *, reason: str | None = None):
    """Same as torch.compiler.disable: ``fn`` never captured: a compiled step that calls it runs
    eagerly (usable bare or called)."""
    if fn is None:
        return lambda f: disable(f, recursive, reason=reason)

    @functools.wraps(fn)
    def eager(*args, **kwargs):
        tracer = _trace.tracer
        if tracer is not None and tracer.failed is None:
            tracer.fail(f"torch.compiler.disable'd function {getattr(fn, '__name__', fn)}"
                        + (f": {reason}" if reason else ""))
        return fn(*args, **kwargs)
    return eager


def is_compiling() -> bool:
    """True while ndgrad.compile captures a step (its first calls per signature)."""
    return _trace.tracer is not None


def is_dynamo_compiling() -> bool:
    return _trace.tracer is not None


def is_exporting() -> bool:
    return False


def reset() -> None:
    """Same as torch.compiler.reset: compiled functions capture again at their next call."""
    from ._compile import reset as _reset

    _reset()


def allow_in_graph(fn):
    return fn


def assume_constant_result(fn):
    return fn


def substitute_in_graph(original_fn, *, can_constant_fold_through: bool = False,
                        skip_signature_check: bool = False):
    return lambda fn: fn


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """ndgrad.compile has one backend (capture and replay); torch's names are accepted."""
    return ["inductor"]


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
