"""Gradient buckets for DistributedDataParallel: all-reduce gradients while backward still runs.

Each parameter's post-accumulate hook copies its gradient (pre-divided by the world size) into its
bucket's flat buffer; a full bucket starts a non-blocking all-reduce, in bucket order so every rank
issues the same MPI calls in the same order. When the last bucket is out, the reducer waits and
copies the averaged gradients back into ``.grad``."""

from __future__ import annotations

from ..._tensor import Tensor
from ...distributed._group import ProcessGroup, _mpi
from ...distributed._staging import _assign, compute_dtype, to_mpi_array

_FIRST_BUCKET_BYTES = 1 << 20  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES


class _HookDict(dict):
    """Post-accumulate hooks live on the Parameter; a deep copy of the model must not take them."""

    def __deepcopy__(self, memo):
        return _HookDict()


class _Bucket:
    __slots__ = ("buf", "host", "offsets", "params", "pending", "req")

    def __init__(self, params: list, xp) -> None:
        self.params = params
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p._data.size
        self.buf = xp.empty(n, compute_dtype(params[0]._data.dtype))
        self.pending = len(params)
        self.req = self.host = None


def assign_buckets(params: list, cap_bytes: int, first_cap: int) -> list:
    """Group parameters, last first (backward's order), into buckets of one dtype and device."""
    buckets: list = []
    open_: dict = {}
    cap = first_cap
    for p in reversed(params):
        key = (p._data.dtype, p._device)
        cur = open_.setdefault(key, [[], 0])
        cur[0].append(p)
        cur[1] += p._data.nbytes
        if cur[1] >= cap:
            buckets.append(cur[0])
            del open_[key]
            cap = cap_bytes
    buckets.extend(c[0] for c in open_.values())
    return buckets


class Reducer:
    """Averages gradients across ranks once per synchronised backward."""

    def __init__(self, params: list, pg: ProcessGroup, cap_mb: float | None,
                 find_unused: bool) -> None:
        self.params, self.pg, self.find_unused = params, pg, find_unused
        # torch's caps: 25 MiB, and a 1 MiB first bucket (the first grads out) unless cap_mb is set
        cap = int((25 if cap_mb is None else cap_mb) * 1024 * 1024)
        first = min(cap, _FIRST_BUCKET_BYTES) if cap_mb is None else cap
        groups = assign_buckets(params, cap, first)
        self.buckets = [_Bucket(b, b[0]._device.xp) for b in groups]
        self.where = {}
        for bi, b in enumerate(self.buckets):
            for i, p in enumerate(b.params):
                self.where[id(p)] = (bi, i)
        self.index = {id(p): i for i, p in enumerate(params)}
        self.armed = False
        self.unused: list = []
        self.used = bytearray(len(params))
        from ...autograd.engine import POST_ACCUMULATE_HOOKS

        POST_ACCUMULATE_HOOKS[0] = True
        for p in params:
            hooks = p.__dict__.setdefault("_post_accumulate_grad_hooks", _HookDict())
            hooks[id(self)] = self._hook
        self._reset()

    def remove_hooks(self) -> None:
        for p in self.params:
            p.__dict__["_post_accumulate_grad_hooks"].pop(id(self), None)

    def _reset(self) -> None:
        for b in self.buckets:
            b.pending, b.req, b.host = len(b.params), None, None
        self.ready: set = set()
        self.next_bucket = 0
        self.marked_unused = False
        self.used[:] = bytes(len(self.params))

    # --- forward side --------------------------------------------------------------------------
    def prepare(self, outputs) -> None:
        """Arm for the coming backward; with find_unused, note the parameters it cannot reach."""
        if self.armed and self.ready:
            raise RuntimeError(_UNFINISHED)
        self._reset()
        self.armed = True
        if self.find_unused:
            reached = _reachable_leaves(outputs)
            self.unused = [p for p in self.params if id(p) not in reached]

    # --- backward side -------------------------------------------------------------------------
    def _hook(self, p: Tensor) -> None:
        if not self.armed:
            return
        if not self.marked_unused:
            self.marked_unused = True
            for q in self.unused:
                self._mark_ready(q, used=False)
        self._mark_ready(p, used=True)

    def _mark_ready(self, p: Tensor, used: bool) -> None:
        if id(p) in self.ready:
            raise RuntimeError(_TWICE)
        self.ready.add(id(p))
        self.used[self.index[id(p)]] = used
        bi, i = self.where[id(p)]
        b = self.buckets[bi]
        slot = b.buf[b.offsets[i]:b.offsets[i] + p._data.size]
        if p._grad is None:
            slot[...] = 0
        elif slot.dtype == p._grad._data.dtype:  # pre-divide, as torch does: SUM then averages
            p._device.xp.divide(p._grad._data.reshape(-1), self.pg.size(), out=slot)
        else:  # a half-precision grad: widen first, then divide
            slot[...] = p._grad._data.reshape(-1)
            slot /= self.pg.size()
        b.pending -= 1
        while self.next_bucket < len(self.buckets) and not self.buckets[self.next_bucket].pending:
            self._launch(self.buckets[self.next_bucket])
            self.next_bucket += 1
        for launched in self.buckets[:self.next_bucket]:  # MPI progresses only inside MPI calls
            if launched.req is not None:
                launched.req.Test()
        if self.next_bucket == len(self.buckets):
            self._finish()

    def _launch(self, b: _Bucket) -> None:
        MPI = _mpi()
        b.host = to_mpi_array(b.buf)
        b.req = self.pg.comm.Iallreduce(MPI.IN_PLACE, b.host, MPI.SUM)

    def _finish(self) -> None:
        self.armed = False
        globally_used = None
        if self.find_unused:  # a parameter no rank used keeps grad None, as in torch
            MPI = _mpi()
            import numpy as np

            flags = np.frombuffer(self.used, np.uint8).copy()
            self.pg.wait(self.pg.comm.Iallreduce(MPI.IN_PLACE, flags, MPI.MAX),
                         "DistributedDataParallel")
            globally_used = flags
        for b in self.buckets:
            self.pg.wait(b.req, "DistributedDataParallel gradient all-reduce")
            for p, off in zip(b.params, b.offsets):
                if globally_used is not None and not globally_used[self.index[id(p)]]:
                    continue
                g = b.host[off:off + p._data.size].reshape(p._data.shape)
                if p._grad is None:
                    p._grad = Tensor._make(p._device.xp.empty(p._data.shape, p._data.dtype),
                                           p._device)
                _assign(p._grad, g)
        self.ready = set()


def _reachable_leaves(outputs) -> set:
    """ids of the leaf tensors the autograd graph of ``outputs`` reaches."""
    stack, seen, leaves = [], set(), set()
    _collect_tensors(outputs, stack)
    stack = [t._grad_fn if t._grad_fn is not None else t for t in stack]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Tensor):
            leaves.add(id(node))
            continue
        for e in node.next_edges:
            if e is not None:
                stack.append(e[0])
    return leaves


def _collect_tensors(obj, out: list) -> None:
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _collect_tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _collect_tensors(o, out)


_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This "
    "error indicates that your module has parameters that were not used in producing loss. You "
    "can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by making "
    "sure all `forward` function outputs participate in calculating loss.")
_TWICE = ("Expected to mark a variable ready only once. This error is caused by a parameter "
          "receiving a gradient twice in one iteration (e.g. used in several reentrant backward "
          "passes, or after find_unused_parameters marked it unused).")
