"""DataLoader worker processes, as torch runs them.

Each worker is a process with its own index queue; all send to one result queue. A worker seeds
``random``, ndgrad and NumPy from the epoch's base seed and its id (torch's rule and its NumPy
seed hash), sets ``get_worker_info()``, calls ``worker_init_fn``, then turns index batches into
collated batches. An exception in a worker comes back with its traceback and is raised again in
the main process, naming the worker. The main process keeps ``prefetch_factor`` tasks in flight
per worker, reorders results by task number, honours ``timeout`` and notices a dead worker."""

from __future__ import annotations

import multiprocessing as mp
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

_POLL = 1.0  # seconds between checks that the workers are still alive while waiting
_worker_info = None


@dataclass
class WorkerInfo:
    """Same as torch.utils.data.WorkerInfo."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str = "multiprocessing"


def get_worker_info():
    """Same as torch.utils.data.get_worker_info: this worker's WorkerInfo, None in the main
    process."""
    return _worker_info


class _ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, exc: BaseException, where: str) -> None:
        self.exc_type = type(exc)
        self.msg = f"Caught {type(exc).__name__} {where}.\nOriginal " + "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self):
        try:
            exc = self.exc_type(self.msg)
        except Exception:  # an exception type whose constructor wants other arguments
            exc = RuntimeError(self.msg)
        raise exc


class _IterableStop:
    """A worker's iterable dataset replica is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


def _numpy_seed(base_seed: int, worker_id: int) -> list[int]:
    """torch's _generate_state: NumPy's SeedSequence hash of (worker_id, base_seed)."""
    init_a, mult_a, init_b, mult_b = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    mix_l, mix_r, xshift, mask = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    pool = [0] * 4
    const_a = init_a

    def hash_(value):
        nonlocal const_a
        value = (value ^ const_a) & mask
        const_a = (const_a * mult_a) & mask
        value = (value * const_a) & mask
        return value ^ (value >> xshift)

    def mix(x, y):
        r = ((mix_l * x) & mask) - ((mix_r * y) & mask)
        r &= mask
        return r ^ (r >> xshift)

    for i in range(4):
        pool[i] = hash_(entropy[i])
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hash_(pool[src]))
    const_b = init_b
    state = []
    for i in range(4):
        data = pool[i]
        data = (data ^ const_b) & mask
        const_b = (const_b * mult_b) & mask
        data = (data * const_b) & mask
        state.append(data ^ (data >> xshift))
    return state


def _loop(dataset, iterable: bool, auto_collation: bool, collate_fn, drop_last: bool,
          index_queue, result_queue, done_event, worker_id: int, num_workers: int,
          base_seed: int, init_fn) -> None:
    """A worker process: fetch what the index queue asks for until it sends None."""
    global _worker_info
    from ... import manual_seed

    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(_numpy_seed(base_seed, worker_id))
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        it = iter(dataset) if iterable else None
    except Exception as e:
        init_error = _ExceptionWrapper(e, f"in DataLoader worker process {worker_id}")
    exhausted = False
    while not done_event.is_set():
        try:
            task = index_queue.get(timeout=_POLL)
        except queue.Empty:
            continue
        if task is None:
            break
        idx, index = task
        if init_error is not None:
            data, init_error = init_error, None
        elif exhausted:
            data = _IterableStop(worker_id)
        else:
            try:
                data = _fetch(dataset, it, index, auto_collation, collate_fn, drop_last)
            except StopIteration:
                exhausted, data = True, _IterableStop(worker_id)
            except Exception as e:
                data = _ExceptionWrapper(e, f"in DataLoader worker process {worker_id}")
        result_queue.put((idx, data))
        del data
    result_queue.cancel_join_thread()


def _fetch(dataset, it, index, auto_collation, collate_fn, drop_last):
    if it is None:  # map-style
        if not auto_collation:
            return collate_fn(dataset[index])
        if callable(getattr(dataset, "__getitems__", None)):
            return collate_fn(dataset.__getitems__(index))
        return collate_fn([dataset[i] for i in index])
    if not auto_collation:
        return collate_fn(next(it))
    data = []
    for _ in index:
        try:
            data.append(next(it))
        except StopIteration:
            break
    if not data or (drop_last and len(data) < len(index)):
        raise StopIteration
    return collate_fn(data)


class WorkerPool:
    """The worker processes of one DataLoader (kept across epochs with persistent_workers)."""

    def __init__(self, loader, base_seed: int) -> None:
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = mp.get_context()
        elif isinstance(ctx, str):
            ctx = mp.get_context(ctx)
        self.loader = loader
        self.n = loader.num_workers
        self.result_queue = ctx.Queue()
        self.done = ctx.Event()
        self.index_queues, self.workers = [], []
        for wid in range(self.n):
            q = ctx.Queue()
            q.cancel_join_thread()
            w = ctx.Process(target=_loop, daemon=True, args=(
                loader.dataset, loader._iterable, loader._auto_collation, loader.collate_fn,
                loader.drop_last, q, self.result_queue, self.done, wid, self.n, base_seed,
                loader.worker_init_fn))
            w.start()
            self.index_queues.append(q)
            self.workers.append(w)

    def batches(self, indices):
        """Collated batches for the index iterator, in order, ``prefetch_factor`` per worker
        ahead."""
        active = list(range(self.n))
        next_worker, sent, received = 0, 0, 0
        pending: dict = {}  # task number -> data that came early
        owner: dict = {}  # task number -> worker id
        exhausted = False

        def send():
            nonlocal next_worker, sent, exhausted
            if exhausted or not active:
                return False
            try:
                index = next(indices)
            except StopIteration:
                exhausted = True
                return False
            wid = active[next_worker % len(active)]
            next_worker += 1
            self.index_queues[wid].put((sent, index))
            owner[sent] = wid
            sent += 1
            return True

        for _ in range(self.n * (self.loader.prefetch_factor or 2)):
            if not send():
                break
        while received < sent:
            while received not in pending:
                idx, data = self._get()
                pending[idx] = data
            data = pending.pop(received)
            received += 1
            if isinstance(data, _IterableStop):
                if data.worker_id in active:
                    active.remove(data.worker_id)
                send()  # to a worker that still has data
                continue
            send()
            if isinstance(data, _ExceptionWrapper):
                data.reraise()
            yield data

    def _get(self):
        timeout = self.loader.timeout
        waited = 0.0
        while True:
            step = _POLL if timeout <= 0 else min(_POLL, timeout - waited)
            try:
                return self.result_queue.get(timeout=step)
            except queue.Empty:
                waited += step
                dead = [w.pid for w in self.workers if not w.is_alive()]
                if dead:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) "
                                       "exited unexpectedly") from None
                if 0 < timeout <= waited:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None

    def shutdown(self) -> None:
        if not self.workers:
            return
        self.done.set()
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for w in self.workers:
            w.join(timeout=5)
            if w.is_alive():
                w.terminate()
                w.join(timeout=1)
        for q in self.index_queues + [self.result_queue]:
            q.close()
        self.workers = []

    def __del__(self):
        if sys.is_finalizing():
            return
        try:
            self.shutdown()
        except Exception:
            pass
