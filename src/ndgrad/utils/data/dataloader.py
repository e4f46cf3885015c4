"""Same as torch.utils.data.DataLoader.

``num_workers=0`` loads in the calling process; ``num_workers > 0`` runs worker processes as
torch does (``_worker.py``: per-worker seeds, ``worker_init_fn``, ``get_worker_info``,
``prefetch_factor``, ``persistent_workers``, ``timeout``, worker errors raised again here).
Shuffling draws from the generators exactly as torch does (one 64-bit seed draw per epoch, then
``randperm``), so the same seed gives the same batches as PyTorch."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator

import numpy as np

from ..._tensor import Tensor
from ._collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from ._worker import WorkerPool, get_worker_info
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


class _InfiniteConstantSampler(Sampler):
    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Same as torch.utils.data.DataLoader (single-process; see the module docstring)."""

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset, self.num_workers, self.prefetch_factor = dataset, num_workers, prefetch_factor
        self.pin_memory, self.pin_memory_device, self.timeout = pin_memory, pin_memory_device, \
            timeout
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, multiprocessing_context
        self.in_order, self.persistent_workers = in_order, persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = RandomSampler(dataset, generator=generator) if shuffle \
                    else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.__initialized = True

    def __setattr__(self, attr: str, val) -> None:
        if self.__dict__.get("_DataLoader__initialized") and attr in (
                "batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
            return n
        return len(self._index_sampler)

    def __iter__(self) -> Iterator:
        from ..._creation import empty
        from ..._dtype import int64

        # torch draws the workers' base seed on every epoch, workers or not (streams stay in step)
        base_seed = int(empty((), dtype=int64).random_(generator=self.generator).item())
        indices = iter(self._index_sampler)
        if self.num_workers > 0:
            return self._worker_batches(indices, base_seed)
        return self._iterable_batches(indices) if self._iterable else self._map_batches(indices)

    def _worker_batches(self, indices, base_seed: int) -> Iterator:
        pool = self.__dict__.get("_pool")
        if pool is None or not pool.workers:
            pool = WorkerPool(self, base_seed)
            if self.persistent_workers:
                self.__dict__["_pool"] = pool
        try:
            yield from pool.batches(indices)
        finally:
            if not self.persistent_workers:
                pool.shutdown()

    def _map_batches(self, indices) -> Iterator:
        fast = self._fast_source()
        for index in indices:
            if not self._auto_collation:
                yield self.collate_fn(self.dataset[index])
            elif fast is not None:
                yield _gather(fast, index)
            elif callable(getattr(self.dataset, "__getitems__", None)):
                yield self.collate_fn(self.dataset.__getitems__(index))
            else:
                yield self.collate_fn([self.dataset[i] for i in index])

    def _iterable_batches(self, indices) -> Iterator:
        it = iter(self.dataset)
        for index in indices:
            if not self._auto_collation:
                try:
                    yield self.collate_fn(next(it))
                except StopIteration:
                    return
                continue
            data = list(_take(it, len(index)))
            if not data or (self.drop_last and len(data) < len(index)):
                return
            yield self.collate_fn(data)
            if len(data) < len(index):
                return

    def _fast_source(self) -> tuple[list[Tensor], Any] | None:
        """(tensors, index map) when batches can be gathered with one fancy index per tensor:
        a TensorDataset (or a Subset of one) with the default collate. Same result as stacking."""
        if self.collate_fn is not default_collate:
            return None
        ds, remap = self.dataset, None
        if type(ds) is Subset and type(ds.dataset) is TensorDataset:
            ds, remap = ds.dataset, np.asarray(ds.indices, dtype=np.int64)
        if type(ds) is not TensorDataset or any(t.requires_grad for t in ds.tensors):
            return None
        return list(ds.tensors), remap


def _gather(source, index) -> list[Tensor]:
    tensors, remap = source
    idx = np.asarray(index, dtype=np.int64)
    if remap is not None:
        idx = remap[idx]
    out = []
    for t in tensors:
        i = idx if t.device.type == "cpu" else t.device.xp.asarray(idx)
        out.append(Tensor._make(t._data[i], t.device))
    return out


def _take(it, n: int):
    for _ in range(n):
        try:
            yield next(it)
        except StopIteration:
            return
