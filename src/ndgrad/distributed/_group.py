"""The default process group: an MPI communicator, its rank and size, and the collective timeout.

mpi4py is imported only by ``init_process_group`` (importing ``mpi4py.MPI`` initialises MPI)."""

from __future__ import annotations

import datetime
import os
import sys
import time
import zlib

# torch's backend names; all of them run over MPI here, so tutorial code that asks for gloo or
# nccl works unchanged under mpiexec.
_BACKENDS = ("mpi", "gloo", "nccl", "ucc", "cpu:gloo,cuda:nccl")
_DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # torch's default_pg_timeout
_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


class ProcessGroup:
    """The world: a private duplicate of MPI_COMM_WORLD, so user MPI traffic cannot interleave."""

    def __init__(self, comm, timeout: datetime.timedelta) -> None:
        self.comm = comm
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()
        self.timeout = timeout

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def wait(self, req, what: str) -> None:
        """Wait for an MPI request, raising instead of hanging when the other ranks never come."""
        if req.Test():
            return
        deadline = time.monotonic() + self.timeout.total_seconds()
        while not req.Test():
            os.sched_yield()  # a peer sharing this core must run for us to finish
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"rank {self._rank}: {what} timed out after {self.timeout} waiting for the "
                    "other ranks; one of them crashed, is stuck, or skipped this collective")


    def disagreement(self, desc, what: str) -> list | None:
        """None when every rank passed an equal ``desc``, else everyone's; one tiny all-gather of
        checksums in the common case."""
        if self._size == 1:
            return None
        import numpy as np

        mine = np.array([zlib.crc32(repr(desc).encode())], np.int64)
        every = np.empty(self._size, np.int64)
        self.wait(self.comm.Iallgather(mine, every), what)
        if (every == mine[0]).all():
            return None
        return self.comm.allgather(desc)


_state: dict = {"pg": None}


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError("ndgrad.distributed needs mpi4py and an MPI library: "
                           "pip install 'ndgrad[mpi]'") from None
    return MPI


def is_available() -> bool:
    """Same as torch.distributed.is_available: True when mpi4py can be imported."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    """Same as torch.distributed.is_mpi_available."""
    return is_available()


def _env_int(name: str, given: int, mpi_value: int) -> None:
    for source, value in ((f"argument {name.lower()}", given),
                          (f"environment variable {name}", int(os.environ.get(name, "-1")))):
        if value >= 0 and value != mpi_value:
            raise ValueError(
                f"{source}={value} disagrees with MPI, which reports {name.lower()} {mpi_value}; "
                "launch one process per rank with `mpiexec -n N python -m mpi4py script.py`")


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Same as torch.distributed.init_process_group, always over MPI: rank and world size come
    from mpiexec (``rank``/``world_size`` and RANK/WORLD_SIZE are checked against it)."""
    if _state["pg"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is not None and str(backend).lower() not in _BACKENDS:
        raise ValueError(f"Invalid backend: '{backend}'; ndgrad supports {', '.join(_BACKENDS)} "
                         "(all run over MPI)")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    _env_int("WORLD_SIZE", world_size, world.Get_size())
    _env_int("RANK", rank, world.Get_rank())
    pg = ProcessGroup(world.Dup(), timeout or _DEFAULT_TIMEOUT)
    _state["pg"] = pg
    if pg.size() > 1 and not _state.get("hooked"):
        _abort_on_uncaught_exception(world, pg.rank())


def _abort_on_uncaught_exception(world, rank: int) -> None:
    """A rank that dies must take the job down: its peers would otherwise wait in a collective
    until the group's timeout (30 minutes by default). An uncaught exception aborts at once; a
    ``sys.exit`` with a non-zero status aborts the job with that status when the rank exits
    (mpi4py's own rule for ``python -m mpi4py``, also without it)."""
    previous, previous_exit = sys.excepthook, sys.exit
    _state["hooked"] = True

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.write(f"ndgrad.distributed: rank {rank} raised {kind.__name__}; "
                         "aborting all ranks\n")
        sys.stderr.flush()
        world.Abort(1)

    def exit(status=None):
        code = status if isinstance(status, int) else 0 if status is None else 1
        if code and _state["pg"] is not None:
            sys.stderr.write(f"ndgrad.distributed: rank {rank} exited with status {code}; "
                             "aborting all ranks\n")
            sys.stderr.flush()
            mpi = sys.modules.get("mpi4py.MPI")
            set_status = getattr(mpi, "_set_abort_status", None)
            if set_status is None:
                world.Abort(code)
            set_status(code)  # mpi4py's exit handler calls MPI_Abort(code) instead of Finalize
        previous_exit(status)

    sys.excepthook = hook
    sys.exit = exit


def destroy_process_group(group=None) -> None:
    """Same as torch.distributed.destroy_process_group; MPI itself stays up so init may follow."""
    pg = _state["pg"]
    if pg is None:
        raise AssertionError("Process group cannot be None")  # torch's error, type included
    pg.comm.Free()
    _state["pg"] = None


def is_initialized() -> bool:
    """Same as torch.distributed.is_initialized."""
    return _state["pg"] is not None


def _default_group() -> ProcessGroup:
    pg = _state["pg"]
    if pg is None:
        raise ValueError(_NOT_INIT)
    return pg


def get_rank(group=None) -> int:
    """Same as torch.distributed.get_rank."""
    return _default_group().rank()


def get_world_size(group=None) -> int:
    """Same as torch.distributed.get_world_size."""
    return _default_group().size()


def get_backend(group=None) -> str:
    """Same as torch.distributed.get_backend; always ``'mpi'``."""
    _default_group()
    return "mpi"
