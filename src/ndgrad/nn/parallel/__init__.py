"""Same as torch.nn.parallel: DistributedDataParallel over MPI, DataParallel on one device."""

from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
