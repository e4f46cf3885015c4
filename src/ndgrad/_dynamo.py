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
    """A short report of how ``fn(*args, **kwargs)`` is captured: the graphs and the graph
    breaks between them, with their reasons (it runs ``fn`` three times: two captures, and the
    pieces' own when a graph break cut it)."""
    from ._compile import CompiledFunction, Eager
    from ._compile.islands import Split

    def count(entry) -> tuple:
        """(captured graphs, break reasons) of one signature's entry."""
        if isinstance(entry, Eager):
            return 0, [str(entry)]
        if not isinstance(entry, Split):
            return 1, []
        graphs, reasons = 0, [entry.reason]
        for _, call in entry.pieces:
            if isinstance(call, CompiledFunction):
                g, r = count(next(iter(call.cache.values()), None))
                graphs, reasons = graphs + g, reasons + r
        return graphs, reasons

    def report(*a, **k):
        cf = CompiledFunction(fn)
        for _ in range(3):  # two captures, and the pieces' own two if it was cut
            cf(*a, **k)
        graphs, reasons = count(next(iter(cf.cache.values()), None))
        return types.SimpleNamespace(graph_count=graphs, graph_break_count=len(reasons),
                                     break_reasons=reasons)

    return report(*args, **kwargs) if args or kwargs else report
