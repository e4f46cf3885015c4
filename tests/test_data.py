"""utils.data vs torch: the same batches (values, dtypes, shapes, container types) and order."""

import collections
import warnings

import numpy as np
import pytest
import torch
from torch.utils import data as t_data

import ndgrad
from ndgrad.utils import data as nd_data

LIBS = [(ndgrad, nd_data), (torch, t_data)]


def _plain(x):
    """A batch as plain Python: tensors become (dtype, shape, values) for comparison."""
    if isinstance(x, (ndgrad.Tensor, torch.Tensor)):
        dt = str(x.dtype).split(".")[1]
        vals = x.float().tolist() if dt == "bfloat16" else x.tolist()
        return ("tensor", dt, tuple(x.shape), vals)
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _plain(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_plain(v) for v in x])
    return (type(x).__name__, x)


def _both(fn):
    return [fn(lib, d) for lib, d in LIBS]


def _same(fn):
    ours, theirs = _both(fn)
    assert ours == theirs
    return ours


Point = collections.namedtuple("Point", "x y")

SAMPLES = {
    "tensors": lambda L: [(L.tensor([i, i + 1.0]), L.tensor(i)) for i in range(5)],
    "numpy": lambda L: [(np.arange(3, dtype=np.float32) + i, np.int64(i)) for i in range(5)],
    "numbers": lambda L: [(float(i) / 2, i, bool(i % 2)) for i in range(5)],
    "dicts": lambda L: [{"a": L.tensor([i]), "b": float(i), "s": f"s{i}"} for i in range(5)],
    "nested": lambda L: [[{"x": (np.float64(i), L.ones(2) * i)}, "t"] for i in range(5)],
    "namedtuple": lambda L: [Point(L.tensor(i), i * 1.5) for i in range(5)],
    "ordered": lambda L: [collections.OrderedDict(z=i, a=L.zeros(1, dtype=L.int32) + i)
                          for i in range(5)],
    "half": lambda L: [L.tensor([i * 0.5], dtype=L.bfloat16) for i in range(5)],
    "np-scalars": lambda L: [np.float32(i) / 3 for i in range(5)],
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_default_collate_matches_torch(name):
    _same(lambda L, D: _plain(D.default_collate(SAMPLES[name](L))))


@pytest.mark.parametrize("name", ["numpy", "dicts", "nested", "namedtuple"])
def test_default_convert_matches_torch(name):
    _same(lambda L, D: _plain(D.default_convert(SAMPLES[name](L))))


def test_collate_errors_match_torch():
    for bad in ([object(), object()], [[1, 2], [3]], [np.array(["a"]), np.array(["b"])]):
        errs = []
        for _, D in LIBS:
            with pytest.raises((TypeError, RuntimeError)) as e:
                D.default_collate(bad)
            errs.append((e.type, str(e.value)))
        assert errs[0] == errs[1]


def _dataset(lib, n=10):
    x = lib.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    return lib.utils.data.TensorDataset(x, lib.arange(n))


LOADERS = [dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=3,
                                                                            shuffle=True),
           dict(batch_size=1), dict(batch_size=None), dict(batch_size=10, shuffle=True),
           dict(batch_size=4, shuffle=True, drop_last=True)]


@pytest.mark.parametrize("kw", LOADERS)
@pytest.mark.parametrize("seeded", ["global", "generator"])
def test_dataloader_matches_torch(kw, seeded):
    """Same batches in the same order for two epochs, shuffled with the same seed."""
    def run(lib, D):
        lib.manual_seed(7)
        gen = lib.Generator().manual_seed(3) if seeded == "generator" else None
        dl = D.DataLoader(_dataset(lib), generator=gen, **kw)
        return len(dl), [[_plain(b) for b in dl] for _ in range(2)], lib.rand(2).tolist()

    ours = _same(run)
    assert ours[1][0] != ours[1][1] or not kw.get("shuffle")  # reshuffled each epoch


@pytest.mark.parametrize("source", ["list", "subset", "tensor-grad"])
def test_dataloader_generic_paths_match_torch(source):
    def run(lib, D):
        lib.manual_seed(1)
        if source == "list":
            ds = [(np.float32(i), {"k": [i, i]}) for i in range(9)]
        elif source == "subset":
            ds = D.Subset(_dataset(lib), [9, 2, 4, 6, 8, 1])
        else:
            ds = D.TensorDataset(lib.ones(6, 2, requires_grad=True), lib.arange(6))
        dl = D.DataLoader(ds, batch_size=4, shuffle=True)
        return [_plain([t.detach() if hasattr(t, "detach") else t for t in b])
                if source == "tensor-grad" else _plain(b) for b in dl]

    _same(run)


def test_custom_collate_and_samplers():
    def run(lib, D):
        lib.manual_seed(0)
        ds = _dataset(lib, 12)
        out = [len(D.DataLoader(ds, batch_size=5)), len(D.DataLoader(ds, batch_size=5,
                                                                    drop_last=True))]
        out.append([b for b in D.DataLoader(ds, batch_size=3, collate_fn=lambda b: len(b))])
        out.append(list(D.SequentialSampler(ds)))
        out.append(list(D.RandomSampler(ds)))
        out.append(list(D.RandomSampler(ds, replacement=True, num_samples=40)))
        out.append(list(D.RandomSampler(ds, num_samples=30)))
        out.append(list(D.SubsetRandomSampler([10, 20, 30, 40])))
        out.append(list(D.BatchSampler(D.SequentialSampler(range(10)), 3, False)))
        out.append(list(D.BatchSampler(range(10), 3, True)))
        bs = D.BatchSampler(D.RandomSampler(ds), 4, False)
        out.append([_plain(b) for b in D.DataLoader(ds, batch_sampler=bs)])
        out.append([_plain(b) for b in D.DataLoader(ds, sampler=[3, 1, 2], batch_size=2)])
        return out

    _same(run)


def test_weighted_random_sampler_matches_torch():
    def run(lib, D):
        g = lib.Generator().manual_seed(5)
        s = D.WeightedRandomSampler([0.1, 0.5, 2.0, 0.0, 1.0], 12, generator=g)
        s2 = D.WeightedRandomSampler([0.1, 0.5, 2.0, 0.0, 1.0], 3, replacement=False,
                                     generator=g)
        return len(s), list(s), list(s2)

    _same(run)


def test_random_split_matches_torch():
    def run(lib, D):
        g = lib.Generator().manual_seed(42)
        a, b, c = D.random_split(range(20), [0.5, 0.3, 0.2], generator=g)
        d, e = D.random_split(_dataset(lib, 7), [3, 4])
        return list(a), list(b), list(c), d.indices, e.indices, _plain(e[0])

    ndgrad.manual_seed(0)
    torch.manual_seed(0)
    _same(run)


def test_random_split_rounding_and_errors():
    def run(lib, D):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sizes = [len(s) for s in D.random_split(range(3), [0.5, 0.5, 0.0])]
        out = [sizes, [str(x.message) for x in w]]
        for lengths in ([3, 3], [1.5, -0.5]):
            try:
                D.random_split(range(5), lengths)
            except ValueError as e:
                out.append(str(e))
        return out

    _same(run)


def test_datasets_match_torch():
    def run(lib, D):
        a, b = _dataset(lib, 3), _dataset(lib, 4)
        cat = a + b
        st = D.StackDataset(a, range(3))
        st2 = D.StackDataset(x=a, y=range(3))
        sub = D.Subset(cat, [6, 0, 3])
        return (len(cat), _plain(cat[4]), _plain(cat[-1]), cat.cumulative_sizes, len(sub),
                _plain(sub[0]), _plain(sub.__getitems__([1, 2])), _plain(st[1]), _plain(st2[2]),
                len(D.ConcatDataset([range(2), range(5)])))

    _same(run)


class Count(nd_data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class TCount(t_data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                dict(batch_size=None), dict(batch_size=5)])
def test_iterable_dataset_matches_torch(kw):
    def run(lib, D):
        ds = Count(10) if lib is ndgrad else TCount(10)
        dl = D.DataLoader(ds, **kw)
        chain = D.ChainDataset([ds, ds])
        return len(dl), [_plain(b) for b in dl], len(chain), list(ds + ds)[8:12]

    _same(run)


@pytest.mark.parametrize("make", [
    lambda D, ds: D.DataLoader(ds, shuffle=True, sampler=[0, 1]),
    lambda D, ds: D.DataLoader(ds, batch_sampler=[[0]], batch_size=2),
    lambda D, ds: D.DataLoader(ds, batch_size=None, drop_last=True),
    lambda D, ds: D.DataLoader(ds, num_workers=-1),
    lambda D, ds: D.DataLoader(ds, prefetch_factor=2),
    lambda D, ds: D.DataLoader(ds, persistent_workers=True),
    lambda D, ds: D.DataLoader(ds, batch_size=0),
    lambda D, ds: D.DataLoader(ds, drop_last=1),
    lambda D, ds: D.RandomSampler(ds, num_samples=0),
    lambda D, ds: D.RandomSampler(ds, replacement=1),
    lambda D, ds: D.WeightedRandomSampler([[1.0]], 2),
    lambda D, ds: D.TensorDataset(ds.tensors[0], ds.tensors[1][:3]),
    lambda D, ds: D.ConcatDataset([]),
    lambda D, ds: D.StackDataset(),
    lambda D, ds: setattr(D.DataLoader(ds), "batch_size", 3),
    lambda D, ds: D.Dataset()[0],
])
def test_errors_match_torch(make):
    errs = []
    for lib, D in LIBS:
        try:
            make(D, _dataset(lib))
            errs.append(None)
        except Exception as e:  # noqa: BLE001
            errs.append((type(e), str(e)))
    assert errs[1] is not None and errs[0] == errs[1]


def test_iterable_dataset_rejects_shuffle_like_torch():
    msgs = []
    for ds, D in ((Count(3), nd_data), (TCount(3), t_data)):
        with pytest.raises(ValueError) as e:
            D.DataLoader(ds, shuffle=True)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_workers_load_in_process_in_order():
    dl = nd_data.DataLoader(_dataset(ndgrad), batch_size=4, num_workers=2)
    assert [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert nd_data.get_worker_info() is None


def test_fast_path_batches_are_independent_copies():
    ds = _dataset(ndgrad, 6)
    x, y = next(iter(nd_data.DataLoader(ds, batch_size=3)))
    x += 100
    assert ds.tensors[0][0].tolist() == [0.0, 1.0]
    assert x.is_contiguous() and x.dtype is ndgrad.float32 and y.dtype is ndgrad.int64
