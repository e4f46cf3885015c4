"""ndgrad._random must reproduce torch's CPU random streams bit for bit (PyTorch 2.13)."""

import math
import os
import platform
import sys

import ml_dtypes
import numpy as np
import pytest
import torch  # deliberately not importorskip: these tests are meaningless without the reference

try:
    from ndgrad import _random
except ImportError:  # package not installed: use the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "src"))
    from ndgrad import _random

Engine = _random.Engine

BF16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = {
    np.dtype(np.float32): torch.float32,
    np.dtype(np.float64): torch.float64,
    np.dtype(np.float16): torch.float16,
    BF16: torch.bfloat16,
}
FLOATS = list(DTYPES)
SEEDS = [0, 1, 42, 123456789, 2**32 + 17, 2**63 + 5]
# 16 is where normal_ switches from the scalar to the blocked kernel; 17/33 exercise its tail
SIZES = [0, 1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 100, 1000]
BIG = 100003


def to_np(t: torch.Tensor) -> np.ndarray:
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.numpy()


def assert_same(ours: np.ndarray, ref) -> None:
    """Same shape, dtype and bits (so -0.0 vs 0.0 or NaN payloads would count)."""
    ref = to_np(ref) if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert isinstance(ours, np.ndarray)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype, \
        (ours.shape, ours.dtype, ref.shape, ref.dtype)
    if ours.dtype.kind == "f" or ours.dtype == BF16:
        ours, ref = ours.view(f"u{ours.dtype.itemsize}"), ref.view(f"u{ref.dtype.itemsize}")
    np.testing.assert_array_equal(ours, ref)


def assert_state(e: Engine) -> None:
    assert_same(e.get_state(), torch.get_rng_state())


def seeded(seed: int) -> Engine:
    torch.manual_seed(seed)
    e = Engine()
    e.manual_seed(seed)
    return e


# -- continuous distributions -------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_randn(dtype):
    for seed in SEEDS:
        e = seeded(seed)
        for n in SIZES:
            assert_same(e.randn((n,), dtype), torch.randn(n, dtype=DTYPES[dtype]))
        assert_same(e.randn((4, 5), dtype), torch.randn(4, 5, dtype=DTYPES[dtype]))
        assert_same(e.randn((), dtype), torch.randn((), dtype=DTYPES[dtype]))
        assert_state(e)
    for seed in SEEDS[:2]:
        e = seeded(seed)
        assert_same(e.randn((BIG,), dtype), torch.randn(BIG, dtype=DTYPES[dtype]))
        assert_same(e.randn((64, 129), dtype), torch.randn(64, 129, dtype=DTYPES[dtype]))
        assert_state(e)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_rand(dtype):
    for seed in SEEDS:
        e = seeded(seed)
        for n in SIZES + [BIG]:
            assert_same(e.rand((n,), dtype), torch.rand(n, dtype=DTYPES[dtype]))
        assert_same(e.rand((3, 4, 5), dtype), torch.rand(3, 4, 5, dtype=DTYPES[dtype]))
        assert_state(e)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_normal_(dtype):
    for seed in SEEDS[:4]:
        e = seeded(seed)
        for n in SIZES + [BIG]:
            for mean, std in [(0.0, 1.0), (0.3, 2.5), (-4.0, 0.02), (1.0, 0.0)]:
                ref = torch.empty(n, dtype=DTYPES[dtype]).normal_(mean, std)
                assert_same(e.normal((n,), mean, std, dtype), ref)
        ref = torch.normal(2.0, 3.0, (10, 10), dtype=DTYPES[dtype])
        assert_same(e.normal((10, 10), 2.0, 3.0, dtype), ref)
        assert_state(e)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_uniform_(dtype):
    for seed in SEEDS[:4]:
        e = seeded(seed)
        for n in SIZES + [BIG]:
            for low, high in [(0.0, 1.0), (-1.5, 0.7), (-0.01, 0.01), (3.0, 3.0), (-1e3, 1e4)]:
                ref = torch.empty(n, dtype=DTYPES[dtype]).uniform_(low, high)
                assert_same(e.uniform((n,), low, high, dtype), ref)
        assert_state(e)


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_exponential_(dtype):
    for seed in SEEDS[:4]:
        e = seeded(seed)
        for n in SIZES + [BIG]:
            for lambd in (1.0, 0.5, 7.25):
                ref = torch.empty(n, dtype=DTYPES[dtype]).exponential_(lambd)
                assert_same(e.exponential((n,), lambd, dtype), ref)
        assert_state(e)


def test_scalar_normal_cache_carries_across_calls():
    # below 16 elements torch caches the second Box-Muller value in the generator
    for seed in SEEDS:
        e = seeded(seed)
        for n, dtype in [(3, np.float32), (1, np.float64), (5, np.float32), (2, np.float16),
                         (20, np.float32), (1, np.float32), (7, np.float64), (0, np.float32),
                         (9, BF16), (1, np.float32)]:
            assert_same(e.randn((n,), dtype), torch.randn(n, dtype=DTYPES[np.dtype(dtype)]))
            assert_state(e)


# -- integers ----------------------------------------------------------------------------

RANGES = [(0, 10), (-5, 3), (0, 2), (0, 2**28 - 1), (0, 2**28), (3, 2**28 + 3), (-(2**40), 2**41),
          (0, 2**62), (-(2**63), 2**63 - 1), (100, 101)]


def test_randint():
    for seed in SEEDS:
        e = seeded(seed)
        for n in [0, 1, 5, 16, 1000]:
            for low, high in RANGES:
                assert_same(e.randint(low, high, (n,)), torch.randint(low, high, (n,)))
        assert_same(e.randint(0, 7, (BIG,)), torch.randint(0, 7, (BIG,)))
        assert_same(e.randint(-3, 9, (2, 3, 4)), torch.randint(-3, 9, (2, 3, 4)))
        assert_state(e)


INT_CASTS = [(np.int32, torch.int32), (np.int16, torch.int16), (np.int8, torch.int8),
             (np.uint8, torch.uint8), (np.bool_, torch.bool), (np.float32, torch.float32),
             (np.float64, torch.float64), (np.float16, torch.float16),
             (ml_dtypes.bfloat16, torch.bfloat16)]


@pytest.mark.parametrize("dtype,tdtype", INT_CASTS, ids=str)
def test_randint_dtypes(dtype, tdtype):
    e = seeded(11)
    high = 2 if dtype is np.bool_ else 100
    assert_same(e.randint(0, high, (500,), dtype), torch.randint(0, high, (500,), dtype=tdtype))
    if dtype is not np.bool_:
        assert_same(e.randperm(100, dtype), torch.randperm(100, dtype=tdtype))
    assert_state(e)


def test_randperm():
    for seed in SEEDS:
        e = seeded(seed)
        for n in [0, 1, 2, 3, 4, 10, 17, 1000, BIG]:
            assert_same(e.randperm(n), torch.randperm(n))
        assert_state(e)


def _swap_reference(n, z):
    a = list(range(n))
    for i in range(n - 1):
        j = i + int(z[i])
        a[i], a[j] = a[j], a[i]
    return a


def _inside_out_reference(n, z):
    r = [0] * n
    for i in range(n):
        r[i] = r[int(z[i])]
        r[int(z[i])] = i
    return r


def test_shuffle_resolution_matches_serial_loops():
    # randperm's serial algorithms, resolved without a loop; the inside-out one is torch's
    # path for n >= 214748364, too big to compare against torch here
    rng = np.random.default_rng(0)
    for trial in range(400):
        n = int(rng.integers(2, 80))
        z = (rng.integers(0, 2**31, n - 1) % np.arange(n, 1, -1)).astype(np.int64)
        if trial % 2:  # many self-swaps and short hops
            z = np.minimum(z, rng.integers(0, 3, n - 1))
        assert _random._swap_shuffle(n, z).tolist() == _swap_reference(n, z)
        z = (rng.integers(0, 2**31, n) % np.arange(1, n + 1)).astype(np.int64)
        if trial % 3 == 1:
            z = np.maximum(np.arange(n) - rng.integers(0, 3, n), 0)
        if trial % 3 == 2:
            z = np.where(rng.random(n) < 0.5, np.arange(n), 0)
        assert _random._inside_out_shuffle(n, z).tolist() == _inside_out_reference(n, z)


# -- bernoulli / multinomial -------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=str)
def test_bernoulli(dtype):
    tdt = DTYPES[dtype]
    for seed in SEEDS[:3]:
        e = seeded(seed)
        for n in [0, 1, 5, 16, 1000]:
            p = np.linspace(0, 1, n).astype(dtype)
            ref = torch.bernoulli(torch.from_numpy(p.astype(np.float32)).to(tdt))
            assert_same(e.bernoulli(p, (n,), dtype), ref)
            assert_same(e.bernoulli(0.3, (n,), dtype), torch.empty(n, dtype=tdt).bernoulli_(0.3))
        p = np.array([0.1, 0.5, 0.9], dtype)
        ref = torch.empty(4, 3, dtype=tdt).bernoulli_(
            torch.from_numpy(p.astype(np.float32)).to(tdt))
        assert_same(e.bernoulli(p, (4, 3), dtype), ref)
        assert_same(e.bernoulli(0.7, (50,), np.bool_),
                    torch.empty(50, dtype=torch.bool).bernoulli_(0.7))
        assert_state(e)


@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.float64), BF16], ids=str)
def test_multinomial(dtype):
    tdt = DTYPES[dtype]
    rng = np.random.default_rng(5)
    for seed in SEEDS[:3]:
        e = seeded(seed)
        for n_cat in [1, 2, 5, 64, 300]:
            p1 = rng.random(n_cat).astype(dtype)
            p2 = rng.random((3, n_cat)).astype(dtype)
            p2[1, : n_cat // 2] = 0  # zero weights tie, exercising torch's topk tie order
            for k in sorted({1, 2, n_cat // 2 or 1, n_cat}):
                for rep in (True, False) if k <= n_cat else (True,):
                    for p in (p1, p2):
                        tp = torch.from_numpy(p.astype(np.float32)).to(tdt)
                        ref = torch.multinomial(tp, k, rep)
                        assert_same(e.multinomial(p, k, rep), ref)
            tp = torch.from_numpy(p1.astype(np.float32)).to(tdt)
            ref = torch.multinomial(tp, 3 * n_cat, True)
            assert_same(e.multinomial(p1, 3 * n_cat, True), ref)
        assert_state(e)


def test_topk_tie_order():
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.choice([2, 5, 16, 17, 40, 64, 65, 200]))
        k = int(rng.integers(1, n + 1)) if rng.random() < 0.7 else max(1, n // 64)
        v = rng.integers(0, int(rng.choice([2, 4, 30])), n).astype(np.float32)
        assert _random._topk_stl(v, k) == torch.topk(torch.from_numpy(v), k).indices.tolist()


# -- sequences and state -----------------------------------------------------------------


def _random_step(e: Engine, rng: np.random.Generator) -> None:
    op = int(rng.integers(10))
    n = int(rng.choice([0, 1, 2, 3, 5, 15, 16, 17, 40, 257]))
    dtype = FLOATS[int(rng.integers(len(FLOATS)))]
    tdt = DTYPES[dtype]
    shape = (n,) if rng.random() < 0.5 else (1, n)
    if op == 0:
        assert_same(e.randn(shape, dtype), torch.randn(shape, dtype=tdt))
    elif op == 1:
        assert_same(e.rand(shape, dtype), torch.rand(shape, dtype=tdt))
    elif op == 2:
        assert_same(e.normal(shape, -2.0, 0.5, dtype),
                    torch.empty(shape, dtype=tdt).normal_(-2.0, 0.5))
    elif op == 3:
        assert_same(e.uniform(shape, -3.0, 3.0, dtype),
                    torch.empty(shape, dtype=tdt).uniform_(-3.0, 3.0))
    elif op == 4:
        low, high = RANGES[int(rng.integers(len(RANGES)))]
        assert_same(e.randint(low, high, shape), torch.randint(low, high, shape))
    elif op == 5:
        assert_same(e.randperm(n), torch.randperm(n))
    elif op == 6:
        p = rng.random(shape).astype(dtype)
        ref = torch.bernoulli(torch.from_numpy(p.astype(np.float32)).to(tdt))
        assert_same(e.bernoulli(p, shape, dtype), ref)
    elif op == 7:
        assert_same(e.exponential(shape, 0.5, dtype),
                    torch.empty(shape, dtype=tdt).exponential_(0.5))
    elif op == 8:
        p = rng.random((2, n + 1)).astype(np.float32)
        k, rep = int(rng.integers(1, n + 2)), bool(rng.random() < 0.5)
        assert_same(e.multinomial(p, k, rep), torch.multinomial(torch.from_numpy(p), k, rep))
    elif rng.random() < 0.5:  # hand the stream over in either direction
        e.set_state(torch.get_rng_state().numpy())
    else:
        torch.set_rng_state(torch.from_numpy(e.get_state()))
    assert_state(e)


def test_mixed_sequences():
    rng = np.random.default_rng(2024)
    for _ in range(60):
        e = seeded(int(rng.integers(0, 2**63)))
        for _ in range(10):
            _random_step(e, rng)


def test_documented_sequence():
    e = seeded(1234)
    assert_same(e.randn((3,), np.float32), torch.randn(3))
    assert_same(e.rand((5,), np.float32), torch.rand(5))
    assert_same(e.randn((20,), np.float32), torch.randn(20))
    assert_same(e.randint(0, 10, (4,)), torch.randint(0, 10, (4,)))
    assert_same(e.randperm(12), torch.randperm(12))
    assert_same(e.normal((7, 9), 0.0, 0.02, np.float32), torch.empty(7, 9).normal_(0.0, 0.02))
    assert_same(e.uniform((30, 4), -0.5, 0.5, np.float32), torch.empty(30, 4).uniform_(-0.5, 0.5))
    assert_same(e.bernoulli(0.5, (9,), np.float32), torch.empty(9).bernoulli_(0.5))
    assert_state(e)


def test_state_round_trip_and_interchange():
    e = seeded(77)
    assert_state(e)  # freshly seeded: next == 0, left == 1
    e.randn((5,), np.float64)  # leaves a cached normal in the state
    torch.randn(5, dtype=torch.float64)
    state = e.get_state()
    assert state.dtype == np.uint8 and state.shape == (5056,)
    assert_same(state, torch.get_rng_state())
    after = [e.randn((3,), np.float32), e.rand((700,), np.float32)]
    e.set_state(state)
    assert_same(e.get_state(), state)
    assert_same(e.randn((3,), np.float32), after[0])
    assert_same(e.rand((700,), np.float32), after[1])
    torch.set_rng_state(torch.from_numpy(state))  # ours -> torch
    assert_same(after[0], torch.randn(3))
    other = Engine()  # torch -> ours
    other.set_state(torch.get_rng_state().numpy())
    assert_same(other.rand((700,), np.float32), torch.rand(700))
    with pytest.raises(RuntimeError):
        other.set_state(np.zeros(5056, np.uint8))  # not seeded
    with pytest.raises(RuntimeError):
        other.set_state(np.zeros(100, np.uint8))


def test_seeding():
    e, g = Engine(), torch.Generator()
    assert e.initial_seed() == g.initial_seed() == _random.DEFAULT_SEED
    assert_same(e.get_state(), g.get_state())
    assert_same(e.randn((40,), np.float32), torch.randn(40, generator=g))
    for seed in [-1, -(2**63), 2**64 - 1, 2**32, 5]:
        torch.manual_seed(seed)
        e.manual_seed(seed)
        assert e.initial_seed() == torch.initial_seed()
        assert_same(e.randn((17,), np.float32), torch.randn(17))
    for bad in [2**64, -(2**63) - 1]:
        with pytest.raises(ValueError):
            e.manual_seed(bad)
    s = e.seed()
    assert e.initial_seed() == s and 0 <= s < 2**64
    torch.manual_seed(s)
    assert_same(e.rand((8,), np.float32), torch.rand(8))
    assert isinstance(_random.default_engine, Engine)


def test_errors():
    e = Engine()
    with pytest.raises(RuntimeError):
        e.randint(5, 5, (3,))
    with pytest.raises(RuntimeError):
        e.normal((3,), 0.0, -1.0, np.float32)
    with pytest.raises(TypeError):
        e.rand((3,), np.int32)
    with pytest.raises(RuntimeError):
        e.multinomial(np.array([0.5, 0.5], np.float16), 1, False)
    with pytest.raises(RuntimeError):
        e.multinomial(np.array([0.5, 0.5], np.float32), 3, False)
    for n, dtype in [(129, np.int8), (257, np.uint8), (2050, np.float16)]:
        with pytest.raises(RuntimeError):
            e.randperm(n, dtype)


# -- libm kernels --------------------------------------------------------------------------


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="reference is glibc's libm")
def test_glibc_kernels_match_libm():
    rng = np.random.default_rng(3)
    x = 1.0 - rng.integers(0, 2**53, 200_000) * 2.0**-53  # the samplers' inputs
    x = np.concatenate([x, 1.0 - rng.random(50_000) * 0.07, [1.0, 2.0**-53, 0.5, 1 - 2.0**-53]])
    assert_same(_random._glibc_log(x), np.array([math.log(v) for v in x]))
    y = np.concatenate([-(1.0 - x), -rng.random(20_000) * 2.0**-25,
                        -rng.uniform(0.28, 0.31, 20_000),
                        [-0.0, -(2.0**-30), -(2.0**-54), -(2.0**-55)]])
    assert_same(_random._glibc_log1p(y), np.array([math.log1p(v) for v in y]))


@pytest.mark.parametrize("dt", ["int64", "int32", "int16", "uint8", "bool", "float32", "float64"])
def test_random_full_range_matches_torch(dt):
    import ndgrad

    ndgrad.manual_seed(3)
    torch.manual_seed(3)
    a = ndgrad.empty(50, dtype=getattr(ndgrad, dt)).random_()
    b = torch.empty(50, dtype=getattr(torch, dt)).random_()
    assert a.tolist() == b.tolist()
