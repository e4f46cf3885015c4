"""Large elementwise passes split across the BLAS threads, as torch runs its elementwise kernels
on its intra-op threads (NumPy's ufuncs release the GIL, but each runs on one core).

``pieces(n, per)`` cuts range(n) for the current thread count (one piece when the work is too
small to pay for the handoff); ``run(fn, bounds)`` calls fn(lo, hi) for every piece, the first on
the calling thread. Each element gets the same operations whatever the cut, so the results are
those of one pass, bit for bit.

Off unless NDGRAD_SPLIT_PASSES=1: on the 2-core VM this was built on it lost (nanoGPT's step 18.9
vs 18.0 ms, GELU's forward and backward 854 vs 748 us, wall, 2 threads): waking a sleeping pool
thread costs more than half of a ~500 us pass there (torch's OpenMP threads spin instead)."""

from __future__ import annotations

import contextvars
import os

import numpy as np

from ._threads import _count, _pool

# element-passes per piece: ~50 us of one core's work (~0.1 ns per float32 element-pass here:
# GELU's forward 530 us for 262K elements, 21 passes), where the handoff costs ~15 us
MIN_WORK = 1 << 19
ENABLED = os.environ.get("NDGRAD_SPLIT_PASSES", "0") == "1"


def pieces(n: int, per: int = 1, align: int = 64, like=None) -> list:
    """[(lo, hi)] covering range(n), one per thread as long as each piece holds ``MIN_WORK``
    of work (``per``: element-passes per unit of n); inner edges at multiples of ``align``
    (64 float32 elements: whole cache lines and SIMD blocks). One piece unless ``like`` (an
    array of the pass) is a NumPy array: ndgrad.compile's traced twins record only the calling
    thread's calls."""
    if not ENABLED or type(like) is not np.ndarray:
        return [(0, n)]
    k = min(_count(), n * per // MIN_WORK)
    if k < 2:
        return [(0, n)]
    edges = [0] + [n * i // k // align * align for i in range(1, k)] + [n]
    return [(lo, hi) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]


def worth(n: int, per: int = 1) -> bool:
    """Whether ``pieces`` would cut n units of ``per`` element-passes (a cheap test before
    making a pass's pieces)."""
    return ENABLED and n * per >= 2 * MIN_WORK and _count() > 1


def run(fn, bounds) -> None:
    """fn(lo, hi) for each piece of ``bounds``: the first here, the others on the pool (in the
    caller's context: NumPy's errstate is a context variable)."""
    if len(bounds) == 1:
        fn(*bounds[0])
        return
    pool = _pool(max(_count(), len(bounds)) - 1)  # (the count may change after ``pieces``)
    futures = [pool.submit(contextvars.copy_context().run, fn, lo, hi) for lo, hi in bounds[1:]]
    try:
        fn(*bounds[0])
    finally:
        for f in futures:
            f.result()
