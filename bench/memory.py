"""Peak and steady-state memory of the medium MLP training loop, measured the same way for every
library: resident set size of a fresh process (so earlier workloads cannot inflate the peak).

    python -m bench.memory --lib ndgrad --steps 10000    # prints one JSON object
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:  # "5" resets the peak RSS (Linux >= 4.0)
        f.write("5")


def _peak_mb() -> float:
    with open("/proc/self/status") as f:
        kib = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    return int(kib) / 1024


def measure(lib_name: str, steps: int, batch: int) -> dict:
    """Run ``steps`` training steps; return the peak RSS above the pre-loop baseline and the RSS
    at ten checkpoints (growth between the first and last one means a leak)."""
    from .run import import_lib
    from .workloads import _mlp_medium_step

    lib = import_lib(lib_name)
    step = _mlp_medium_step(lib, batch)
    gc.collect()
    base = _rss_mb()
    _reset_peak()
    every = max(steps // 10, 1)
    curve = []
    for i in range(1, steps + 1):
        step()
        if i % every == 0:
            curve.append(round(_rss_mb() - base, 2))
    half = len(curve) // 2  # noise-tolerant leak check: compare the halves' maxima
    return {"peak_mb": round(_peak_mb() - base, 2), "curve_mb": curve,
            "growth_mb": round(max(curve[half:]) - max(curve[:half] or curve), 2), "steps": steps}


def run_in_subprocess(lib_name: str, steps: int, batch: int) -> dict:
    """``measure`` in a fresh interpreter; ``{"error": ...}`` when it fails."""
    cmd = [sys.executable, "-m", "bench.memory", "--lib", lib_name, "--steps", str(steps),
           "--batch", str(batch)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=256)
    a = ap.parse_args()
    print(json.dumps(measure(a.lib, a.steps, a.batch)))


if __name__ == "__main__":
    main()
