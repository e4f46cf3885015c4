"""What the workload files share: the Workload record, ``need``/``Missing`` and small builders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

Builder = Callable[[Any, bool], Callable[[], Any]]


class Missing(Exception):
    """The library does not have what this workload needs (yet)."""


def need(obj: Any, path: str) -> Any:
    """``obj.a.b.c`` for path "a.b.c", or raise Missing naming it."""
    for part in path.split("."):
        if not hasattr(obj, part):
            raise Missing(f"{getattr(obj, '__name__', type(obj).__name__)}.{part} is missing")
        obj = getattr(obj, part)
    return obj


@dataclass
class Workload:
    name: str
    label: str
    build: Builder                      # for ndgrad and torch (same API)
    target: float | None = None         # max ratio ndgrad/torch
    torch_ref_ms: float | None = None   # torch's time quoted in the Speed issue
    flops: Callable[[bool], float] | None = None
    others: dict[str, Builder] = field(default_factory=dict)  # autograd, mygrad, jax


def _rng():
    return np.random.default_rng(0)


def _t(lib, arr, requires_grad=False):
    t = lib.from_numpy(np.ascontiguousarray(arr))
    return t.requires_grad_() if requires_grad else t


def _f32(rng, *shape):
    return rng.standard_normal(shape, dtype=np.float32)


def _seed(lib):
    need(lib, "manual_seed")(0)
