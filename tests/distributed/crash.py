"""Run under `mpiexec -n 2 python crash.py MODE`: the job must end, never hang.

raise: rank 1 raises while rank 0 waits in all_reduce. skip: rank 1 never calls the
collective and exits; rank 0 gives up after the group's timeout. exit3: rank 1 calls sys.exit(3)
under the default 30-minute timeout; the job must end at once with status 3."""

import datetime
import sys
import time

import ndgrad as torch
import ndgrad.distributed as dist

mode = sys.argv[1]
dist.init_process_group("mpi", timeout=None if mode == "exit3" else datetime.timedelta(seconds=1))
if dist.get_rank() == 1:
    if mode == "raise":
        time.sleep(0.2)
        raise ValueError("rank 1 failed on purpose")
    time.sleep(0.2)
    sys.exit(3 if mode == "exit3" else 0)
dist.all_reduce(torch.ones(3))
print("rank 0 returned from all_reduce: the test must not reach this", flush=True)
