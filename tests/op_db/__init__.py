"""The op table: one entry per public op, run on the same inputs in ndgrad and torch.

An entry's ``fn(lib, *tensors, **kwargs)`` is written once against the torch API and called with
``lib = ndgrad`` and ``lib = torch``. ``samples(rng, dtype)`` yields (arrays, kwargs); float
arrays become leaves that require grad. Families live in sibling modules and register here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

OPS: list["OpInfo"] = []

SHAPES_UNARY = [(), (0,), (5,), (3, 4), (2, 3, 4)]
BROADCAST_PAIRS = [((), ()), ((5,), ()), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
                   ((0, 3), (3,))]


@dataclass
class OpInfo:
    name: str
    fn: Callable
    samples: Callable  # (rng, dtype) -> iterable of (list of np arrays / scalars, kwargs)
    dtypes: tuple = ("float32", "float64")
    grad: bool = True  # compare gradients and run gradcheck
    gradcheck: bool = True
    rtol: float | None = None
    atol: float | None = None
    grad_rtol: float | None = None
    grad_atol: float | None = None
    skip_reason: str = ""  # documented gaps only; an empty string means "runs"
    tags: tuple = field(default_factory=tuple)

    def __repr__(self):
        return self.name


def register(*infos: OpInfo) -> None:
    OPS.extend(infos)


def arr(rng, shape, dtype, low=-2.0, high=2.0):
    """Random values of a numpy dtype name in [low, high)."""
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith(("int", "uint")):
        return rng.integers(int(low) if low > -100 else -100, max(int(high), int(low) + 1) + 1,
                            size=shape).astype(dtype)
    if dtype.startswith("complex"):
        return (rng.uniform(low, high, shape) + 1j * rng.uniform(low, high, shape)).astype(dtype)
    if dtype == "bfloat16":
        import ml_dtypes

        return rng.uniform(low, high, shape).astype(ml_dtypes.bfloat16)
    return rng.uniform(low, high, shape).astype(dtype)


def unary_samples(low=-2.0, high=2.0, shapes=SHAPES_UNARY):
    def samples(rng, dtype):
        for s in shapes:
            yield [arr(rng, s, dtype, low, high)], {}

    return samples


def binary_samples(low=-2.0, high=2.0, pairs=BROADCAST_PAIRS, low2=None, high2=None):
    def samples(rng, dtype):
        for sa, sb in pairs:
            yield [arr(rng, sa, dtype, low, high),
                   arr(rng, sb, dtype, low if low2 is None else low2,
                       high if high2 is None else high2)], {}

    return samples
