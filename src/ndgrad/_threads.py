"""set_num_threads / get_num_threads: the size of the BLAS thread pool NumPy's matmul and linalg use
(through threadpoolctl, which finds OpenBLAS, MKL or BLIS in the process)."""

from __future__ import annotations

import os

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


def get_num_threads() -> int:
    """Same as torch.get_num_threads: the BLAS pool size."""
    from threadpoolctl import threadpool_info

    sizes = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(sizes) if sizes else os.cpu_count() or 1
