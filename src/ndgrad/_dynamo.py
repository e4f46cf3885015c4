"""Same as torch._dynamo, the names programs touch: ``config`` (``cache_size_limit``: how many
signatures a compiled function records before it runs eagerly), ``reset``, ``exc.Unsupported``,
``graph_break``, ``explain``, ``mark_dynamic``/``mark_static`` and the decorators. See
ndgrad._compile for what a capture records."""

from __future__ import annotations

import types

from . import _trace
from ._compile import OptimizedModule, Unsupported, config, reset  # noqa: F401  (torch's)
from .compiler import (allow_in_graph, assume_constant_result, disable,  # noqa: F401
                       is_compiling, list_backends)


class TorchDynamoException(RuntimeError):
    pass


exc = types.SimpleNamespace(Unsupported=Unsupported, TorchDynamoException=TorchDynamoException)


def graph_break() -> None:
    """Same as torch._dynamo.graph_break: the step being captured runs eagerly from here."""
    tracer = _trace.tracer
    if tracer is not None and tracer.failed is None:
        tracer.fail("torch._dynamo.graph_break()")


def mark_dynamic(t, index, *, min=None, max=None) -> None:  # noqa: A002  (torch's names)
    """Accepted: a new shape is recorded again (up to config.cache_size_limit signatures)."""


def mark_static(t, index=None) -> None:
    """Accepted: every shape is static in ndgrad.compile."""


def explain(fn, *args, **kwargs):
    """A short report of whether ``fn(*args, **kwargs)`` can be captured, and why not (it runs
    ``fn`` twice, as two captures do)."""
    from ._compile import CompiledFunction, Eager

    def report(*a, **k):
        cf = CompiledFunction(fn)
        cf(*a, **k)
        cf(*a, **k)
        entry = next(iter(cf.cache.values()), None)
        reasons = [str(entry)] if isinstance(entry, Eager) else []
        return types.SimpleNamespace(graph_count=0 if reasons else 1,
                                     graph_break_count=len(reasons), break_reasons=reasons)

    return report(*args, **kwargs) if args or kwargs else report
