"""Benchmark (not a test): `mpiexec -n N python tests/distributed/bench.py`.

All-reduce time of ndgrad vs a plain mpi4py call on NumPy arrays, and the time of one DDP training
step of an MLP on digits-sized data (1797 x 64, 10 classes), the global batch split over ranks."""

import time

import numpy as np
from mpi4py import MPI

import ndgrad as torch
import ndgrad.distributed as dist
from ndgrad import nn

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
comm = MPI.COMM_WORLD


def best(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        comm.Barrier()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


if world > 1:
    for mb in (1, 100):
        a = np.ones(mb * 2**20 // 4, np.float32)
        t = torch.from_numpy(a.copy())
        raw = best(lambda a=a: comm.Allreduce(MPI.IN_PLACE, a, MPI.SUM), 10)
        ours = best(lambda t=t: dist.all_reduce(t), 10)
        avg = best(lambda t=t: dist.all_reduce(t, op=dist.ReduceOp.AVG), 10)
        if rank == 0:
            print(f"all_reduce {mb:>3} MB float32: mpi4py {raw * 1e3:7.2f} ms   ndgrad SUM "
                  f"{ours * 1e3:7.2f} ms   ndgrad AVG {avg * 1e3:7.2f} ms")

rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((1792, 64)).astype(np.float32))
Y = torch.from_numpy(rng.integers(0, 10, 1792))
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                    nn.Linear(256, 10))
model = nn.parallel.DistributedDataParallel(net) if world > 1 else net
opt = torch.optim.SGD(model.parameters(), lr=0.01)
xs, ys = X[rank::world], Y[rank::world]


def step():
    opt.zero_grad()
    nn.functional.cross_entropy(model(xs), ys).backward()
    opt.step()


step()
t = best(step, 30)
if rank == 0:
    print(f"train step, global batch 1792, {world} rank(s): {t * 1e3:.2f} ms")
