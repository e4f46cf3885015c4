"""Same as torch.distributed, over MPI: launch with ``mpiexec -n N python -m mpi4py script.py``."""

from ._collectives import ReduceOp, Work, all_gather, all_reduce, barrier, broadcast, reduce
from ._group import (
                     ProcessGroup,
                     destroy_process_group,
                     get_backend,
                     get_rank,
                     get_world_size,
                     init_process_group,
                     is_available,
                     is_initialized,
                     is_mpi_available,
)

__all__ = ["ProcessGroup", "ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available", "reduce"]
