"""DistributedDataParallel: one model replica per rank, gradients averaged during backward."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..._backend import to_numpy
from ..._grad_mode import state as _grad_state
from ..._tensor import Tensor
from ...distributed._group import ProcessGroup, _default_group, _mpi
from ...distributed._staging import Staged
from ..modules.module import Module
from ._reducer import Reducer


class DistributedDataParallel(Module):
    """Same as torch.nn.parallel.DistributedDataParallel over MPI. ``device_ids``,
    ``output_device``, ``gradient_as_bucket_view`` and ``static_graph`` are accepted and ignored."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool | None = True, init_sync: bool = True,
                 process_group=None, bucket_cap_mb: float | None = None,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 **unsupported) -> None:
        super().__init__()
        pg = _default_group()
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        self.module = module
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers is not False
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        _verify_same_model(pg, module)
        if init_sync:
            _broadcast_coalesced(pg, [*module.parameters(), *module.buffers()])
        self._pg = pg
        self.reducer = Reducer(params, pg, bucket_cap_mb, find_unused_parameters)

    def forward(self, *inputs, **kwargs):
        buffers = list(self.module.buffers())
        if self.broadcast_buffers and buffers and self._pg.size() > 1:
            _broadcast_coalesced(self._pg, buffers)
        out = self.module(*inputs, **kwargs)
        if _grad_state.grad_enabled and self.require_backward_grad_sync:
            self.reducer.prepare(out)
        return out

    @contextmanager
    def no_sync(self):
        """Same as torch's: backward passes inside accumulate local gradients without syncing."""
        before = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = before


def _verify_same_model(pg: ProcessGroup, module: Module) -> None:
    """Every rank must wrap the same architecture; report the first difference by rank."""
    desc = [(name, tuple(p.shape), str(p.dtype)) for name, p in module.named_parameters()]
    every = pg.disagreement(desc, "DistributedDataParallel")
    if every is None:
        return
    for r, other in enumerate(every):
        if len(other) != len(desc):
            raise RuntimeError(f"DDP expects same model across all ranks, but Rank {pg.rank()} has "
                               f"{len(desc)} params, while rank {r} has inconsistent "
                               f"{len(other)} params.")
        for mine, theirs in zip(desc, other):
            if mine != theirs:
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but Rank {pg.rank()} has "
                    f"{mine[0]} of shape {list(mine[1])} ({mine[2]}), while rank {r} has "
                    f"{theirs[0]} of shape {list(theirs[1])} ({theirs[2]}).")


def _broadcast_coalesced(pg: ProcessGroup, tensors: list[Tensor], src: int = 0) -> None:
    """Rank ``src``'s values into every rank's tensors with one broadcast of their bytes."""
    if pg.size() == 1 or not tensors:
        return
    staged = [Staged(t, reduce=False) for t in tensors]
    flat = np.concatenate([to_numpy(s.work).reshape(-1).view(np.uint8) for s in staged])
    pg.wait(pg.comm.Ibcast([flat, _mpi().BYTE], root=src), "DistributedDataParallel broadcast")
    if pg.rank() == src:
        return
    off = 0
    for s in staged:
        Staged.fill_from_bytes(s.t, flat[off:off + s.nbytes])
        off += s.nbytes
