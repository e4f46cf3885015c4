"""Run under `mpiexec -n 2`: DDP training equals full-batch training on one process."""

import copy

import numpy as np

import ndgrad as torch
import ndgrad.distributed as dist
from ndgrad import nn
from ndgrad.nn.parallel import DistributedDataParallel as DDP
from ndgrad.utils.data import DataLoader, TensorDataset
from ndgrad.utils.data.distributed import DistributedSampler

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(0)
X = torch.from_numpy(rng.standard_normal((32, 8)).astype(np.float32))
Y = torch.from_numpy(rng.integers(0, 3, 32))


def make_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 3))


def gather_equal(t) -> None:
    """Every rank holds bit-identical values."""
    outs = [torch.empty_like(t) for _ in range(world)]
    dist.all_gather(outs, t.detach().contiguous())
    for o in outs[1:]:
        np.testing.assert_array_equal(o.numpy(), outs[0].numpy())


def close(a, b, what) -> None:
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6,
                               err_msg=what)


loss_fn = nn.functional.cross_entropy
for cap in (None, 0.0001):  # one bucket, and one per parameter or so
    ref = make_model(0)
    model = DDP(make_model(rank), bucket_cap_mb=cap)  # rank 1's init is replaced by rank 0's
    assert len(model.reducer.buckets) == (1 if cap is None else 3)
    for p, q in zip(model.module.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    sampler = DistributedSampler(TensorDataset(X, Y), shuffle=True, seed=3)
    loader = DataLoader(TensorDataset(X, Y), batch_size=8, sampler=sampler)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        shards = []
        for r in range(world):
            s = DistributedSampler(TensorDataset(X, Y), world, r, seed=3)
            s.set_epoch(epoch)
            shards.append(list(s))
        for step, (xb, yb) in enumerate(loader):
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
            # the same step on one process: the mean loss over every rank's batch
            idx = [i for s in shards for i in s[step * 8:(step + 1) * 8]]
            ref_opt.zero_grad()
            loss_fn(ref(X[idx]), Y[idx]).backward()
            ref_opt.step()
    for p, q in zip(model.module.parameters(), ref.parameters()):
        gather_equal(p)
        close(p, q, f"DDP vs single process (bucket_cap_mb={cap})")
    model.reducer.remove_hooks()

# no_sync: accumulate two micro-batches locally, sync on the second
ref = make_model(0)
model = DDP(make_model(0))
halves = [slice(0, 8), slice(8, 16)]
with model.no_sync():
    loss_fn(model(X[rank * 16:][halves[0]]), Y[rank * 16:][halves[0]]).backward()
g_local = model.module[0].weight.grad.clone()
loss_fn(model(X[rank * 16:][halves[1]]), Y[rank * 16:][halves[1]]).backward()
for r in range(world):
    for h in halves:
        (loss_fn(ref(X[r * 16:][h]), Y[r * 16:][h]) / world).backward()
for p, q in zip(model.module.parameters(), ref.parameters()):
    gather_equal(p.grad)
    close(p.grad, q.grad, "no_sync accumulation")
outs = [torch.empty_like(g_local) for _ in range(world)]
dist.all_gather(outs, g_local)
assert not np.array_equal(outs[0].numpy(), outs[1].numpy()), "no_sync must not sync"
model.reducer.remove_hooks()


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 4)
        self.extra = nn.Linear(4, 4)   # used on rank 0 only
        self.never = nn.Linear(4, 4)   # used on no rank
        self.register_buffer("steps", torch.zeros(()))

    def forward(self, x, use_extra):
        self.steps += 1
        h = self.trunk(x)
        return self.extra(h) if use_extra else h


torch.manual_seed(0)
m = Branchy()
ref = copy.deepcopy(m)
model = DDP(m, find_unused_parameters=True)
x = torch.from_numpy(rng.standard_normal((2, 6, 4)).astype(np.float32))

def sq(y):
    return (y * y).sum()


sq(model(x[rank], rank == 0)).backward()
sq(ref(x[0], True)).backward()
sq(ref(x[1], False)).backward()
for name, p in model.module.named_parameters():
    q = dict(ref.named_parameters())[name]
    if name.startswith("never"):
        assert p.grad is None, "a parameter no rank used keeps grad None"
        continue
    gather_equal(p.grad)
    close(p.grad, q.grad / world, f"find_unused_parameters: {name}")
# buffers follow rank 0 at each forward
model.module.steps.fill_(10.0 * rank)
model(x[rank], True)
assert model.module.steps.item() == 1.0, model.module.steps
assert list(model.state_dict())[:2] == ["module.steps", "module.trunk.weight"]
model.reducer.remove_hooks()

# without find_unused_parameters an unused parameter is reported at the next forward
model = DDP(Branchy())
model(x[rank], False).sum().backward()
try:
    model(x[rank], False)
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e)
else:
    raise AssertionError("unfinished reduction must raise")

# a different model on one rank is caught at construction
try:
    DDP(nn.Linear(3 + rank, 2))
except RuntimeError as e:
    assert "DDP expects same model across all ranks" in str(e), str(e)
else:
    raise AssertionError("mismatched models must raise")

# the demo's helpers
from ndgrad.distributed import launch_helpers  # noqa: E402  (a script: checked in order)

assert launch_helpers.setup() == (rank, world) and launch_helpers.is_main() == (rank == 0)
assert isinstance(launch_helpers.wrap(nn.Linear(2, 2)), DDP)
dl, sampler = launch_helpers.loader(TensorDataset(X, Y), batch_size=4, seed=1)
assert len(sampler) == 32 // world and sum(len(b[0]) for b in dl) == 32 // world

dist.barrier()
print(f"rank {rank}: DDP OK", flush=True)
