"""set_num_threads / get_num_threads: the size of the BLAS thread pool NumPy's matmul and linalg use
(through threadpoolctl, which finds OpenBLAS, MKL or BLIS in the process); ``split_matmul``, the
batched product that runs a batch of small matrices on that many threads."""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["get_num_threads", "set_num_threads"]


def set_num_threads(n: int) -> None:
    """Same as torch.set_num_threads: sets the BLAS pool size (elementwise NumPy code is
    single-threaded either way)."""
    if type(n) is not int:
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    from threadpoolctl import threadpool_limits

    threadpool_limits(n, user_api="blas")  # process-wide, like torch's setting
    _count.cache_clear()


def get_num_threads() -> int:
    """Same as torch.get_num_threads: the BLAS pool size."""
    from threadpoolctl import threadpool_info

    sizes = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(sizes) if sizes else os.cpu_count() or 1


@functools.cache
def _count() -> int:
    return get_num_threads()


@functools.cache
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@functools.cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(workers, thread_name_prefix="ndgrad-matmul")


# a forked child (a DataLoader worker) has none of the parent's pool threads: it makes its own
os.register_at_fork(after_in_child=_pool.cache_clear)


def split_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """np.matmul of two (batch, m, k) @ (batch, k, n) NumPy stacks, split over the BLAS threads
    with each GEMM on one thread; None where that does not pay.

    OpenBLAS runs a 100x100 GEMM on two threads and waits on them once per matrix, so a stack of
    small matrices (the notebook's bmm) keeps one core idle; torch splits the batch instead."""
    threads = _count()
    batch, m, k = a.shape
    n = b.shape[2]
    if threads < 2 or batch < 4 * threads or m * k * n > 256 ** 3 or batch * m * k * n < 1e7:
        return None
    out = np.empty((batch, m, n), np.result_type(a, b))
    edges = [batch * i // threads for i in range(threads + 1)]
    parts = [slice(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]
    with _controller().limit(limits=1, user_api="blas"):
        futures = [_pool(threads - 1).submit(np.matmul, a[s], b[s], out=out[s])
                   for s in parts[1:]]
        np.matmul(a[parts[0]], b[parts[0]], out=out[parts[0]])
        for f in futures:
            f.result()
    return out
