"""Collectives over MPI, in place on tensors of any dtype, checked for agreement across ranks.

Reductions run in a dtype MPI can reduce: float16/bfloat16 in float32 (a SUM on their 16-bit
pattern would be wrong), bool as uint8 with OR/AND. Broadcast and gather move raw bytes."""

from __future__ import annotations

import enum

import numpy as np

from .._tensor import Tensor
from ._group import ProcessGroup, _default_group, _mpi
from ._staging import Staged

__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast", "reduce"]


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9


class ReduceOp:
    """Same as torch.distributed.ReduceOp; PREMUL_SUM is not supported."""

    RedOpType = RedOpType
    SUM, AVG, PRODUCT, MIN, MAX = (RedOpType.SUM, RedOpType.AVG, RedOpType.PRODUCT,
                                   RedOpType.MIN, RedOpType.MAX)
    BAND, BOR, BXOR, PREMUL_SUM, UNUSED = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR,
                                           RedOpType.PREMUL_SUM, RedOpType.UNUSED)


_BITWISE = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)
_BOOL_OPS = {RedOpType.SUM: "MAX", RedOpType.PRODUCT: "MIN", RedOpType.MAX: "MAX",
             RedOpType.MIN: "MIN", RedOpType.BAND: "BAND", RedOpType.BOR: "BOR",
             RedOpType.BXOR: "BXOR"}  # torch's bool semantics: SUM is OR, PRODUCT is AND


def _mpi_op(MPI, op: RedOpType, t: Tensor, what: str):
    """The MPI op that computes ``op`` on ``t``'s compute buffer, or a torch-like error."""
    if not isinstance(op, RedOpType):
        raise TypeError(f"{what}: op must be a ReduceOp, got {type(op).__name__}")
    if op in (RedOpType.PREMUL_SUM, RedOpType.UNUSED):
        raise ValueError(f"{what} does not support {op} in ndgrad")
    kind = t._data.dtype.kind
    if kind == "c" and op not in (RedOpType.SUM, RedOpType.AVG, RedOpType.PRODUCT):
        raise ValueError(f"{what} does not support {op} on complex tensors")
    if op in _BITWISE and kind not in "biu":
        raise RuntimeError(f"Cannot use {op} with non-integral dtype {t.dtype}")
    if kind == "b":
        if op is RedOpType.AVG:
            raise RuntimeError(f"Cannot use {op} with bool tensors")
        return getattr(MPI, _BOOL_OPS[op])
    name = {RedOpType.AVG: "SUM", RedOpType.PRODUCT: "PROD"}.get(op, op.name)
    return getattr(MPI, name)


def _average(arr, n: int) -> None:
    if arr.dtype.kind in "iu":  # integer AVG truncates toward zero, as C division (NCCL) does
        arr[...] = (abs(arr) // n) * (1 - 2 * (arr < 0))
    else:
        arr /= n


class Work:
    """Same as torch.distributed.Work: the handle ``async_op=True`` returns."""

    def __init__(self, pg: ProcessGroup, req, what: str, finish) -> None:
        self._pg, self._req, self._what, self._finish = pg, req, what, finish
        self._done = False

    def is_completed(self) -> bool:
        if not self._done and self._req.Test():
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._pg.wait(self._req, self._what)
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()


def _run(pg: ProcessGroup, req, what: str, finish, async_op: bool):
    work = Work(pg, req, what, finish)
    if async_op:
        return work
    work.wait()
    return None


# --- agreement check: every rank states what it is about to do; any difference raises on all ----
_KINDS = ("all_reduce", "broadcast", "reduce", "all_gather", "barrier")


def _describe(kind: str, t: Tensor | None, root: int, op) -> tuple:
    if t is None:
        return (kind, None, None, root, op)
    return (kind, list(t._data.shape), str(t.dtype).replace("ndgrad.", ""), root, op)


def _agree(pg: ProcessGroup, kind: str, t: Tensor | None, root: int = -1, op=None) -> None:
    """A shape, dtype or call mismatch across ranks is an error on every rank, not garbage."""
    descs = pg.disagreement(_describe(kind, t, root, op.name if op is not None else None), kind)
    if descs is not None:
        lines = "; ".join(f"rank {r}: {_fmt(d)}" for r, d in enumerate(descs))
        raise RuntimeError(f"{kind}: ranks called mismatched collectives ({lines})")


def _fmt(d: tuple) -> str:
    kind, shape, dtype, root, op = d
    args = [] if shape is None else [f"shape={shape}", f"dtype={dtype}"]
    if kind in ("broadcast", "reduce"):
        args.append(f"{'src' if kind == 'broadcast' else 'dst'}={root}")
    if op is not None:
        args.append(f"op={op}")
    return f"{kind}({', '.join(args)})"


def _check_tensor(t, name: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor\n             but got {type(t)} instead.")


def _check_root(pg: ProcessGroup, root: int, what: str) -> None:
    if not 0 <= root < pg.size():
        raise RuntimeError(f"{what}: invalid root rank: {root}")


# --- the collectives ------------------------------------------------------------------------------
def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Same as torch.distributed.all_reduce; AVG works for every dtype but bool."""
    _check_tensor(tensor)
    pg = _default_group()
    MPI = _mpi()
    mpi_op = _mpi_op(MPI, op, tensor, "all_reduce")
    _agree(pg, "all_reduce", tensor, op=op)
    buf = Staged(tensor, reduce=True)
    req = pg.comm.Iallreduce(MPI.IN_PLACE, buf.mpi(), mpi_op)

    def finish():
        if op is RedOpType.AVG:
            _average(buf.work, pg.size())
        buf.write_back()

    return _run(pg, req, "all_reduce", finish, async_op)


def reduce(tensor: Tensor, dst: int | None = None, op=ReduceOp.SUM, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """Same as torch.distributed.reduce; other ranks' tensors are left unchanged."""
    _check_tensor(tensor)
    pg = _default_group()
    dst = group_dst if dst is None else dst
    dst = 0 if dst is None else dst
    _check_root(pg, dst, "reduce")
    MPI = _mpi()
    mpi_op = _mpi_op(MPI, op, tensor, "reduce")
    _agree(pg, "reduce", tensor, dst, op)
    buf = Staged(tensor, reduce=True)
    root = pg.rank() == dst
    send = MPI.IN_PLACE if root else buf.mpi()
    req = pg.comm.Ireduce(send, buf.mpi() if root else None, mpi_op, root=dst)

    def finish():
        if root:
            if op is RedOpType.AVG:
                _average(buf.work, pg.size())
            buf.write_back()

    return _run(pg, req, "reduce", finish, async_op)


def broadcast(tensor: Tensor, src: int | None = None, group=None, async_op: bool = False,
              group_src: int | None = None):
    """Same as torch.distributed.broadcast."""
    _check_tensor(tensor)
    pg = _default_group()
    src = group_src if src is None else src
    src = 0 if src is None else src
    _check_root(pg, src, "broadcast")
    _agree(pg, "broadcast", tensor, src)
    buf = Staged(tensor, reduce=False)
    req = pg.comm.Ibcast(buf.mpi(), root=src)
    finish = buf.write_back if pg.rank() != src else None
    return _run(pg, req, "broadcast", finish, async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Same as torch.distributed.all_gather: every rank's ``tensor`` into ``tensor_list``."""
    _check_tensor(tensor)
    pg = _default_group()
    n = pg.size()
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != n:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list)
        raise RuntimeError(f"all_gather: invalid output tensor list (expected length {n}, "
                           f"got {got})")
    for i, out in enumerate(tensor_list):
        _check_tensor(out, "tensor_list")
        if out.shape != tensor.shape or out.dtype != tensor.dtype:
            raise RuntimeError(f"all_gather: invalid tensor at index {i} (expected "
                               f"{tuple(tensor.shape)} {tensor.dtype}, got {tuple(out.shape)} "
                               f"{out.dtype})")
    _agree(pg, "all_gather", tensor)
    mine = Staged(tensor, reduce=False)
    every = np.empty((n, mine.nbytes), np.uint8)
    req = pg.comm.Iallgather(mine.mpi(), [every, _mpi().BYTE])

    def finish():
        for out, row in zip(tensor_list, every):
            Staged.fill_from_bytes(out, row)

    return _run(pg, req, "all_gather", finish, async_op)


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    """Same as torch.distributed.barrier."""
    pg = _default_group()
    _agree(pg, "barrier", None)
    return _run(pg, pg.comm.Ibarrier(), "barrier", None, async_op)
