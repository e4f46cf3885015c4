"""The hook through which ``ndgrad.compile`` watches a step being captured.

``tracer`` is None except while a compiled function runs for the first time with a new signature;
the few places that make arrays outside a recorded op (creation functions, random fills, in-place
writes, the engine) check it once per call and report what they did, so the step can be replayed
without running its Python again (see ``ndgrad._compile``)."""

from __future__ import annotations

import functools

tracer = None
# True while ``ndgrad.compile`` records the NumPy calls of op bodies (``_compile.lower``): work
# arrays kept from call to call (a pool) must not be handed out then, the recording would
# freeze them
lowering = False


def produced(make, *args, **kwargs):
    """``make(*args, **kwargs)``: a new tensor from non-tensor arguments (a creation function, a
    random draw). While a step is captured, the call is recorded so a replay makes it again (a
    random one draws again, from the same generator, at the same point of the stream)."""
    if tracer is None:
        return make(*args, **kwargs)
    return tracer.produce(make, args, kwargs)


def replayable(fn):
    """``fn``, a function of tensors that records no graph (comparisons, masks): while a step is
    captured, a call is recorded as itself, made again at each replay on that replay's arrays."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if tracer is None or kwargs.get("out") is not None:
            return fn(*args, **kwargs)
        return tracer.replayable(fn, args, kwargs)
    return call


def derived(fn, *args):
    """``fn(*args)``: arrays computed from tensors' arrays outside an op (max pooling's indices,
    a target's int64 copy). While a step is captured, the call is recorded, so a replay computes
    it again from that replay's arrays."""
    out = fn(*args)
    if tracer is not None:
        tracer.derived(fn, args, out)
    return out


def array_of(t):
    """``t._data`` for a function that passes a tensor's array to an op as a plain argument
    (embedding's indices): while a step is captured, the tensor is made known, so a replay
    passes that replay's array."""
    if tracer is not None:
        tracer.read(t)
    return t._data
