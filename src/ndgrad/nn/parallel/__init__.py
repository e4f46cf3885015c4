"""Same as torch.nn.parallel: DistributedDataParallel over MPI."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
