"""DataLoader worker processes against torch's: the same batches in the same order, the same
per-worker seeds and worker info, worker errors raised in the main process with their traceback,
timeout, a dead worker noticed, persistent workers kept across epochs."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ndgrad
import ndgrad.utils.data as ndata


class Squares:
    """A map-style dataset written against either library (``lib``)."""

    def __init__(self, lib, n=10):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.lib.tensor([float(i), float(i * i)]), i


class Seeds:
    """Each item reports the worker that made it: (worker id, its seed, a random draw)."""

    def __init__(self, lib, data):
        self.lib, self.data = lib, data

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = self.data.get_worker_info()
        return (info.id, info.num_workers, info.seed, float(self.lib.rand(())),
                float(np.random.rand()))


class Range:
    """An IterableDataset that splits its range over the workers."""

    def __init__(self, data, n):
        self.data, self.n = data, n

    def __iter__(self):
        info = self.data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def _iterable(data, n):
    return type("RangeDS", (Range, data.IterableDataset), {})(data, n)


def _run(lib, data, make, **kw):
    lib.manual_seed(0)
    return [_plain(b) for b in data.DataLoader(make(lib, data), **kw)]


def _plain(x):
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x.tolist() if hasattr(x, "tolist") else x


@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=3, shuffle=True),
                                dict(batch_size=None), dict(batch_size=4, drop_last=True),
                                dict(batch_size=2, prefetch_factor=1)])
def test_map_dataset_batches_match_torch(kw):
    make = lambda lib, data: Squares(lib)  # noqa: E731
    got = _run(ndgrad, ndata, make, num_workers=2, **kw)
    assert got == _run(torch, tdata, make, num_workers=2, **kw)
    kw.pop("prefetch_factor", None)
    assert got == _run(ndgrad, ndata, make, num_workers=0, **kw)


def test_worker_seeds_and_info_match_torch():
    make = lambda lib, data: Seeds(lib, data)  # noqa: E731
    got = _run(ndgrad, ndata, make, num_workers=2, batch_size=None)
    want = _run(torch, tdata, make, num_workers=2, batch_size=None)
    assert [g[:3] for g in got] == [w[:3] for w in want]  # ids, counts, seeds
    assert [g[4] for g in got] == [w[4] for w in want]  # NumPy seeded by torch's hash
    assert np.allclose([g[3] for g in got], [w[3] for w in want])  # the library's own stream


@pytest.mark.parametrize("batch_size", [None, 2, 3])
def test_iterable_dataset_split_by_worker_info_matches_torch(batch_size):
    make = lambda lib, data: _iterable(data, 9)  # noqa: E731
    got = _run(ndgrad, ndata, make, num_workers=3, batch_size=batch_size)
    assert got == _run(torch, tdata, make, num_workers=3, batch_size=batch_size)


def test_worker_init_fn_runs_in_each_worker():
    seen = []
    for _lib, data in ((ndgrad, ndata), (torch, tdata)):
        class WhoAmI(data.Dataset):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return os.environ.get("WORKER_TAG", "none")

        def init(wid):
            os.environ["WORKER_TAG"] = f"w{wid}"
        seen.append(list(data.DataLoader(WhoAmI(), batch_size=None, num_workers=2,
                                         worker_init_fn=init)))
    assert seen[0] == seen[1] == ["w0", "w1", "w0", "w1"]


class Faulty:
    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise ValueError("bad item 3")
        return i


def test_worker_error_is_raised_with_its_traceback():
    messages = []
    for lib, data in ((ndgrad, ndata), (torch, tdata)):
        with pytest.raises(ValueError) as e:
            list(data.DataLoader(Faulty(lib), batch_size=2, num_workers=2))
        messages.append(str(e.value))
    for m in messages:
        assert m.startswith("Caught ValueError in DataLoader worker process 1.\nOriginal "
                            "Traceback (most recent call last):"), m
        assert 'raise ValueError("bad item 3")' in m and m.rstrip().endswith("bad item 3")


class Stuck:
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(30)
        return i


def test_timeout_ends_a_stuck_worker():
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 1 seconds"):
        list(ndata.DataLoader(Stuck(), batch_size=None, num_workers=1, timeout=1))
    assert time.perf_counter() - t0 < 10


class Dies:
    def __len__(self):
        return 2

    def __getitem__(self, i):
        os._exit(3)


def test_a_dead_worker_is_noticed():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           "unexpectedly"):
        list(ndata.DataLoader(Dies(), batch_size=None, num_workers=1))


class Pid:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return os.getpid()


def test_persistent_workers_are_kept_across_epochs():
    loader = ndata.DataLoader(Pid(), batch_size=None, num_workers=2, persistent_workers=True)
    first, second = set(loader), set(loader)
    assert first == second and os.getpid() not in first and len(first) == 2
    fresh = ndata.DataLoader(Pid(), batch_size=None, num_workers=2)
    assert set(fresh).isdisjoint(set(fresh))
