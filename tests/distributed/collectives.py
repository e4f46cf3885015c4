"""Run under `mpiexec -n 2`: every collective, every dtype, against a NumPy reference."""

import numpy as np

import ndgrad as torch
import ndgrad.distributed as dist

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
Op = dist.ReduceOp
DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
          torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
          torch.complex128]


def data(r: int, dt, shape=(3, 4)) -> np.ndarray:
    """Rank r's input, known to every rank so each can compute the reference."""
    rng = np.random.default_rng(100 + r)
    np_dt = torch.empty(0, dtype=dt).numpy().dtype
    if dt == torch.bool:
        return rng.random(shape) < 0.5
    if dt.is_complex:
        return (rng.integers(-4, 5, shape) + 1j * rng.integers(-4, 5, shape)).astype(np_dt)
    lo = 0 if dt == torch.uint8 else -5
    return rng.integers(lo, 6, shape).astype(np_dt)


def reference(op, dt) -> np.ndarray:
    xs = np.stack([data(r, dt) for r in range(world)])
    if dt == torch.bool:
        fn = {Op.SUM: np.any, Op.MAX: np.any, Op.PRODUCT: np.all, Op.MIN: np.all,
              Op.BOR: np.any, Op.BAND: np.all, Op.BXOR: lambda a, axis: a.sum(axis) % 2 == 1}
        return fn[op](xs, axis=0)
    wide = xs.astype(np.float32) if dt in (torch.float16, torch.bfloat16) else xs
    if op is Op.AVG:
        s = wide.sum(0)
        out = (np.abs(s) // world) * np.sign(s) if s.dtype.kind in "iu" else s / world
    else:
        fn = {Op.SUM: np.sum, Op.PRODUCT: np.prod, Op.MAX: np.max, Op.MIN: np.min,
              Op.BAND: np.bitwise_and.reduce, Op.BOR: np.bitwise_or.reduce,
              Op.BXOR: np.bitwise_xor.reduce}[op]
        out = fn(wide, axis=0)
    return out.astype(xs.dtype)


def same(got, want, what) -> None:
    got = got.numpy() if hasattr(got, "numpy") else got
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    np.testing.assert_array_equal(got.astype(np.complex128) if got.dtype.kind == "c" else
                                  got.astype(np.float64), want.astype(got.dtype).astype(
                                      np.complex128 if got.dtype.kind == "c" else np.float64),
                                  err_msg=what)


checked = 0
for dt in DTYPES:
    ops = [Op.SUM, Op.AVG, Op.PRODUCT, Op.MIN, Op.MAX]
    if dt == torch.bool or not (dt.is_floating_point or dt.is_complex):
        ops += [Op.BAND, Op.BOR, Op.BXOR]
    for op in ops:
        t = torch.from_numpy(data(rank, dt).copy())
        invalid = ((dt.is_complex and op in (Op.MIN, Op.MAX, Op.BAND, Op.BOR, Op.BXOR))
                   or (dt == torch.bool and op is Op.AVG))
        if invalid:
            try:
                dist.all_reduce(t, op=op)
            except (ValueError, RuntimeError):
                checked += 1
                continue
            raise AssertionError(f"all_reduce {op} on {dt} should raise")
        ptr = t.data_ptr() if hasattr(t, "data_ptr") else None
        assert dist.all_reduce(t, op=op) is None
        same(t, reference(op, dt), f"all_reduce {op} {dt}")
        if ptr is not None:
            assert t.data_ptr() == ptr, "all_reduce must work in place"
        # reduce to rank 1: only the destination changes
        t = torch.from_numpy(data(rank, dt).copy())
        dist.reduce(t, dst=1, op=op)
        same(t, reference(op, dt) if rank == 1 else data(rank, dt), f"reduce {op} {dt}")
        checked += 2
    # broadcast from rank 1, all_gather, async variants
    t = torch.from_numpy(data(rank, dt).copy())
    dist.broadcast(t, src=1)
    same(t, data(1, dt), f"broadcast {dt}")
    outs = [torch.zeros(3, 4, dtype=dt) for _ in range(world)]
    dist.all_gather(outs, torch.from_numpy(data(rank, dt).copy()))
    for r, o in enumerate(outs):
        same(o, data(r, dt), f"all_gather {dt}")
    checked += 2

# non-contiguous tensors are reduced in place through their base
base = torch.arange(12.0).reshape(3, 4) * (rank + 1)
view = base.t()[1]
dist.all_reduce(view)
want = np.arange(12.0).reshape(3, 4) * (rank + 1)
want[:, 1] = np.arange(12.0).reshape(3, 4)[:, 1] * sum(r + 1 for r in range(world))
np.testing.assert_array_equal(base.numpy(), want.astype(np.float32))
# 0-d and empty tensors
s = torch.tensor(float(rank + 1))
dist.all_reduce(s, op=dist.ReduceOp.MAX)
assert s.item() == world
e = torch.zeros(0, 3)
dist.all_reduce(e)
assert e.shape == (0, 3)
# async_op returns a Work
t = torch.ones(5) * (rank + 1)
w = dist.all_reduce(t, async_op=True)
assert w.wait() is True and w.is_completed()
np.testing.assert_array_equal(t.numpy(), np.full(5, 3.0, np.float32))
w = dist.broadcast(t, src=0, async_op=True)
w.wait()
assert dist.barrier() is None

# mismatched shapes are reported on every rank with every rank's shape
try:
    dist.all_reduce(torch.ones(3 + rank))
except RuntimeError as e:
    msg = str(e)
    assert "rank 0: all_reduce(shape=[3]" in msg and "rank 1: all_reduce(shape=[4]" in msg, msg
else:
    raise AssertionError("mismatched shapes must raise")
# so are mismatched calls
try:
    if rank == 0:
        dist.broadcast(torch.ones(2), src=0)
    else:
        dist.all_reduce(torch.ones(2))
except RuntimeError as e:
    assert "broadcast" in str(e) and "all_reduce" in str(e), str(e)
else:
    raise AssertionError("mismatched collectives must raise")
# bad arguments fail locally with torch's errors
for bad, err in ((lambda: dist.broadcast(torch.ones(2), src=world), RuntimeError),
                 (lambda: dist.all_reduce([1.0]), TypeError),
                 (lambda: dist.all_gather([torch.ones(2)], torch.ones(2)), RuntimeError),
                 (lambda: dist.all_gather([torch.ones(3)] * world, torch.ones(2)), RuntimeError),
                 (lambda: dist.init_process_group("mpi"), ValueError)):
    try:
        bad()
    except err:
        checked += 1
    else:
        raise AssertionError("should raise")

dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {rank}: {checked} checks OK", flush=True)
