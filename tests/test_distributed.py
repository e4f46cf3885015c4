"""ndgrad.distributed: 2-rank jobs under mpiexec (collectives, DDP, failures) and the sampler."""

import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ndgrad
import ndgrad.distributed as dist
from ndgrad.utils.data.distributed import DistributedSampler

HERE = Path(__file__).parent / "distributed"
MPIEXEC = str(Path(sys.executable).with_name("mpiexec")) if Path(sys.executable).with_name(
    "mpiexec").exists() else shutil.which("mpiexec")


def mpirun(script: str, *args: str, n: int = 2, timeout: float = 60) -> subprocess.CompletedProcess:
    """``script`` (a file in tests/distributed, or ``-m module``) on n ranks."""
    assert MPIEXEC, "mpiexec not found: pip install 'ndgrad[mpi]'"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    target = [script] if script == "-m" else [str(HERE / script)]
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *target, *args],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          check=False)


def test_collectives_every_dtype_two_ranks():
    r = mpirun("collectives.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("checks OK") == 2


def test_ddp_matches_single_process_training():
    r = mpirun("ddp.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("DDP OK") == 2


def test_a_rank_that_raises_ends_the_job():
    r = mpirun("crash.py", "raise", timeout=20)
    assert r.returncode != 0
    assert "ValueError: rank 1 failed on purpose" in r.stderr
    assert "rank 1 raised ValueError; aborting all ranks" in r.stderr
    assert "must not reach" not in r.stdout


def test_a_rank_that_exits_with_an_error_status_ends_the_job():
    r = mpirun("crash.py", "exit3", timeout=30)
    assert r.returncode != 0
    assert "rank 1 exited with status 3; aborting all ranks" in r.stderr, r.stderr
    assert "must not reach" not in r.stdout


def test_a_skipped_collective_times_out_instead_of_hanging():
    r = mpirun("crash.py", "skip", timeout=20)
    assert r.returncode != 0
    assert "rank 0: all_reduce timed out after 0:00:01" in r.stderr, r.stderr
    assert "must not reach" not in r.stdout


def test_demo_distributed_flag(tmp_path):
    r = mpirun("-m", "ndgrad.demo", "--distributed", "--epochs", "1", "--model", "mlp",
               "--no-progress", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("distributed: 2 ranks over MPI")
    assert r.stdout.count("MLP: 17226 parameters") == 1  # only rank 0 reports
    assert "reloaded: same predictions" in r.stdout
    assert (tmp_path / "mlp.safetensors").exists() and (tmp_path / "rank1").is_dir()


def test_single_process_group_and_env_checks():
    code = ("import ndgrad as t, ndgrad.distributed as d; d.init_process_group('gloo');"
            "x = t.arange(3.0); d.all_reduce(x, op=d.ReduceOp.AVG); d.broadcast(x, 0);"
            "print(d.get_rank(), d.get_world_size(), d.get_backend(), x.tolist())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                       check=False)
    assert r.stdout.strip() == "0 1 mpi [0.0, 1.0, 2.0]", r.stderr
    env = dict(os.environ, WORLD_SIZE="2")
    code = "import ndgrad.distributed as d; d.init_process_group('mpi')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                       env=env, check=False)
    assert "ValueError: environment variable WORLD_SIZE=2 disagrees with MPI" in r.stderr


@pytest.mark.parametrize("call", [
    lambda d, t: d.get_rank(), lambda d, t: d.get_world_size(), lambda d, t: d.barrier(),
    lambda d, t: d.all_reduce(t.ones(2)), lambda d, t: d.broadcast(t.ones(2), 0),
    lambda d, t: d.reduce(t.ones(2), 0), lambda d, t: d.all_gather([t.ones(2)], t.ones(2)),
    lambda d, t: d.destroy_process_group(),
    # torch's DDP raises get_rank's error; building one takes 3 s of imports, so compare to that
    lambda d, t: t.nn.parallel.DistributedDataParallel(t.nn.Linear(2, 2)) if d is dist else
    d.get_rank(),
    lambda d, t: t.utils.data.distributed.DistributedSampler(range(4))])
def test_uninitialised_group_raises_torchs_error(call):
    errors = []
    for d, lib in ((dist, ndgrad), (torch.distributed, torch)):
        with pytest.raises(Exception) as e:
            call(d, lib)
        errors.append((type(e.value), str(e.value)))
    assert errors[0] == errors[1]
    assert not dist.is_initialized()


def test_reduce_op_names_match_torch():
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert str(getattr(dist.ReduceOp, name)) == str(getattr(torch.distributed.ReduceOp, name))


@pytest.mark.parametrize("n,replicas", [(10, 2), (11, 3), (4, 4), (3, 5), (0, 2), (17, 4)])
def test_sampler_matches_torch_and_partitions(n, replicas):
    data = list(range(n))
    for shuffle, drop_last, seed, epoch in itertools.product((True, False), (True, False),
                                                             (0, 7), (0, 3)):
        ours, theirs = [], []
        for rank in range(replicas):
            a = DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            b = torch.utils.data.distributed.DistributedSampler(data, replicas, rank, shuffle,
                                                                seed, drop_last)
            a.set_epoch(epoch)
            b.set_epoch(epoch)
            ours.append(list(a))
            theirs.append(list(b))
            assert len(a) == len(b) == len(ours[-1])
        assert ours == theirs, (shuffle, drop_last, seed, epoch)
        flat = [i for shard in ours for i in shard]
        if drop_last:  # disjoint, nothing repeated
            assert len(set(flat)) == len(flat)
        elif n:  # every sample covered; padding only repeats
            assert set(flat) == set(data)


def test_sampler_rejects_a_bad_rank():
    for kw in ({"num_replicas": 2, "rank": 2}, {"num_replicas": 2, "rank": -1}):
        with pytest.raises(ValueError) as ours:
            DistributedSampler(range(4), **kw)
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.distributed.DistributedSampler(range(4), **kw)
        assert str(ours.value) == str(theirs.value)


def test_engine_runs_post_accumulate_hooks_after_accumulation():
    """DDP's hook point in the engine: called once per backward, with .grad already summed."""
    p = ndgrad.nn.Parameter(ndgrad.ones(3))
    seen = []
    p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (p * 2 + p).sum().backward()
    (p * 2).sum().backward()
    assert seen == [[3.0, 3.0, 3.0], [5.0, 5.0, 5.0]]
