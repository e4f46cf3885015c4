"""Three calls that make a single-process training script data-parallel (used by the demo's
``--distributed``): ``setup()``, ``wrap(model)``, ``loader(dataset, ...)``. Not part of torch."""

from __future__ import annotations

from ._group import get_rank, get_world_size, init_process_group, is_initialized


def setup() -> tuple[int, int]:
    """Join the MPI job (mpiexec -n N python -m mpi4py ...) once; return (rank, world size)."""
    if not is_initialized():
        init_process_group("mpi")
    return get_rank(), get_world_size()


def is_main() -> bool:
    """True on the rank that should print and save (rank 0, or when not distributed)."""
    return not is_initialized() or get_rank() == 0


def wrap(model, **ddp_kwargs):
    """``model`` in DistributedDataParallel when more than one rank runs, else as it is."""
    from ..nn.parallel import DistributedDataParallel

    if is_initialized() and get_world_size() > 1:
        return DistributedDataParallel(model, **ddp_kwargs)
    return model


def loader(dataset, batch_size: int, shuffle: bool = True, seed: int = 0, **loader_kwargs):
    """A DataLoader over this rank's shard, and its sampler (call ``sampler.set_epoch(e)`` each
    epoch); ``batch_size`` is per rank, as in torch."""
    from ..utils.data import DataLoader
    from ..utils.data.distributed import DistributedSampler

    sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, **loader_kwargs), sampler
