"""Run every workload for ndgrad and torch (and HIPS autograd, MyGrad, JAX when installed) in this
process, print a table of medians and ndgrad/torch ratios, write JSON, draw docs/bench.png.

    python -m bench.run                  # full run (a few minutes)
    python -m bench.run --quick          # small sizes, few repeats: a smoke test
    python -m bench.run --profile mlp_tiny   # pyinstrument profile of ndgrad on one workload
"""

from __future__ import annotations

import os

# Every library gets two threads (torch and ndgrad through set_num_threads); this also covers
# NumPy-based libraries without it. It must be set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from . import memory  # noqa: E402
from .workloads import WORKLOADS, Missing, Workload, matmul_numpy  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OPTIONAL = ("autograd", "mygrad", "jax")
COMPILED = "compiled"  # ndgrad with each step captured once and replayed (ndgrad.compile)
TORCH_COMPILED = "torch_compiled"  # torch.compile's step (inductor; needs a C++ compiler)
_BASE = {COMPILED: "ndgrad", TORCH_COMPILED: "torch"}
MEM_TARGET = 1.2
# BLAS/OpenMP worker threads spin for up to ~0.1 s after a call; a pause before each sample lets
# them sleep, so one library's spinning threads never take the cores from the next one's sample
# (torch's 1024x1024 matmul measured 3x slower right after NumPy's without it).
COOL_DOWN = 0.15
PEER_COOL_DOWN = 2.0
THREADS = 2
# What a sample measures: wall time, or (--cpu) the calling thread's CPU time with one thread per
# library, which other work on a busy machine hardly moves (it is not wall time: no BLAS pool)
CLOCK = time.perf_counter


def import_lib(name: str):
    """The library under its usual name, configured for a fair comparison ("compiled": ndgrad,
    its workloads' steps run through ndgrad.compile)."""
    lib = importlib.import_module(_BASE.get(name, name))
    if hasattr(lib, "set_num_threads"):  # torch's intra-op pool; ndgrad's BLAS pool
        lib.set_num_threads(THREADS)
    return lib


def _calls_per_sample(fn, min_time: float) -> int:
    """Warm up (at least three calls and ``min_time``) and return how many calls fill a sample."""
    t0 = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - t0 < min_time:
        fn()
        warm += 1
    return max(1, int(min_time / ((time.perf_counter() - t0) / warm)))


def _sample(fn, n: int) -> float:
    t0 = CLOCK()
    for _ in range(n):
        fn()
    return (CLOCK() - t0) / n


def time_calls(fns: dict, min_time: float, repeats: int) -> dict:
    """(median, min) seconds per call of each callable. Samples of the libraries alternate, so a
    change in machine load during the run hits all of them alike."""
    counts = {k: _calls_per_sample(fn, min_time) for k, fn in fns.items()}
    samples: dict = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            time.sleep(COOL_DOWN)
            samples[k].append(_sample(fn, counts[k]))
    return {k: (statistics.median(v), min(v)) for k, v in samples.items()}


def traced_peak_mb(fn) -> float:
    """Peak bytes allocated through Python/NumPy during one call (tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return round(tracemalloc.get_traced_memory()[1] / 2**20, 3)
    finally:
        tracemalloc.stop()


def _build(build, lib, quick, compiled: bool = False):
    """(callable, None), or (None, "n/a: why") when the library lacks something or it fails."""
    try:
        fn = build(lib, quick)
        if compiled:  # captured by its first two calls, replayed afterwards
            fn = lib.compile(fn)
            fn()
        fn()
        return fn, None
    except Missing as e:
        return None, f"n/a: {e}"
    except Exception as e:  # an op that exists but fails: report it, do not stop the run
        return None, f"n/a: {type(e).__name__}: {e}".splitlines()[0][:200]


def run_workload(w: Workload, libs: dict, quick: bool, min_time: float, repeats: int) -> dict:
    res: dict = {"name": w.name, "label": w.label, "target": w.target,
                 "torch_ref_ms": w.torch_ref_ms, "times_s": {}, "errors": {}}
    fns = {}
    for name, lib in libs.items():
        build = w.build if name in ("ndgrad", "torch", *_BASE) else w.others.get(name)
        if build is None:
            continue
        fns[name], err = _build(build, lib, quick, compiled=name in _BASE)
        if err:
            res["errors"][name] = err
    if w.name == "matmul_1024":
        fns["numpy"] = matmul_numpy(quick)
    # ndgrad and torch alternate on their own; the peers after them, then a long pause: JAX's
    # runtime threads stay busy long after a call and slowed ndgrad's two-thread samples 3x
    main = {k: f for k, f in fns.items() if f and k not in OPTIONAL}
    peers = {k: f for k, f in fns.items() if f and k in OPTIONAL}
    timed = time_calls(main, min_time, repeats)
    if peers:
        timed.update(time_calls(peers, min_time, repeats))
        time.sleep(PEER_COOL_DOWN)
    res["times_s"] = {k: timed[k][0] if f else None for k, f in fns.items()}
    res["min_times_s"] = {k: v[1] for k, v in timed.items()}  # less sensitive to a busy machine
    if fns.get("ndgrad"):
        res["ndgrad_peak_mb"] = traced_peak_mb(fns["ndgrad"])
    nd, tt = res["times_s"].get("ndgrad"), res["times_s"].get("torch")
    res["ratio"] = round(nd / tt, 3) if nd and tt else None
    cp = res["times_s"].get(COMPILED)
    if cp and tt:
        res["compiled_ratio"] = round(cp / tt, 3)
        entry = next(iter(fns[COMPILED].cache.values()), None)
        res["compiled_replayed"] = type(entry).__name__ == "Captured"
    tc = res["times_s"].get(TORCH_COMPILED)
    if tc and tt:
        res["torch_compiled_ratio"] = round(tc / tt, 3)
    if res["ratio"] is not None:
        res["ratio_of_mins"] = round(res["min_times_s"]["ndgrad"] / res["min_times_s"]["torch"], 3)
    res["met"] = None if res["ratio"] is None or w.target is None else res["ratio"] <= w.target
    if w.flops and res["ratio"] is not None:
        fl = w.flops(quick)
        res["gflops"] = {k: round(fl / v / 1e9, 1) for k, v in res["times_s"].items() if v}
        if "numpy" in res["gflops"]:
            frac = res["times_s"]["numpy"] / res["times_s"]["ndgrad"]  # (rounded GFLOP/s: 0.0)
            res["ndgrad_vs_numpy_gflops"] = round(frac, 3)
            res["met"] = res["met"] and frac >= 0.8
    return res


def run_memory(quick: bool, steps: int | None) -> dict:
    steps = steps or (20 if quick else 10_000)
    batch = 32 if quick else 256
    res: dict = {"name": "mem_mlp", "label": f"MLP 784-512-512-10 peak RSS, {steps} steps",
                 "target": MEM_TARGET, "torch_ref_ms": None, "times_s": {}, "errors": {},
                 "memory": {}}
    for name in ("ndgrad", "torch"):
        m = memory.run_in_subprocess(name, steps, batch)
        if "error" in m:
            res["errors"][name] = "n/a: " + m["error"]
        res["memory"][name] = m
    nd, tt = res["memory"]["ndgrad"], res["memory"]["torch"]
    ok = "peak_mb" in nd and "peak_mb" in tt
    res["ratio"] = round(nd["peak_mb"] / max(tt["peak_mb"], 1e-3), 3) if ok else None
    # flat: the resident set grows by under 5% of the peak between step N/10 and step N
    res["flat"] = ok and nd["growth_mb"] <= 0.05 * max(nd["peak_mb"], 1.0)
    res["met"] = None if not ok else bool(res["ratio"] <= MEM_TARGET and res["flat"])
    return res


def _fmt_time(s):
    if s is None:
        return "n/a"
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def table(results: list[dict], libs: list[str]) -> str:
    extra = [n for n in libs if n not in ("ndgrad", "torch")]
    head = ["workload", "torch (issue)", "ndgrad", "torch", "ndgrad/torch", "target", "met",
            "ratio of mins"]
    lines = ["| " + " | ".join(head + extra) + " |", "|" + "---|" * (len(head) + len(extra))]
    for r in results:
        ref = _fmt_time(r["torch_ref_ms"] / 1e3) if r["torch_ref_ms"] else ""
        if r["name"] == "mem_mlp":
            m = r["memory"]
            cells = [f"{m[k]['peak_mb']:.0f} MB (+{m[k]['growth_mb']:.0f})" if "peak_mb" in m[k]
                     else "n/a" for k in ("ndgrad", "torch")]
        else:
            cells = [_fmt_time(r["times_s"].get(k)) for k in ("ndgrad", "torch")]
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "n/a"
        if "ndgrad_vs_numpy_gflops" in r:
            g = r["gflops"]
            ratio += f" ({g['ndgrad']:.0f} vs NumPy {g['numpy']:.0f} GFLOP/s)"
        target = f"<= {r['target']}" if r["target"] else ""
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        mins = f"{r['ratio_of_mins']:.2f}" if r.get("ratio_of_mins") else ""
        others = [_fmt_time(r["times_s"].get(k)) if k in r["times_s"] else "" for k in extra]
        if COMPILED in extra and r.get("compiled_ratio") is not None:  # the ratio beside its time
            i = extra.index(COMPILED)
            eager = "" if r.get("compiled_replayed") else ", eager"
            others[i] += f" ({r['compiled_ratio']:.2f}{eager})"
        if TORCH_COMPILED in extra and r.get("torch_compiled_ratio") is not None:
            others[extra.index(TORCH_COMPILED)] += f" ({r['torch_compiled_ratio']:.2f})"
        lines.append("| " + " | ".join([r["label"], ref] + cells + [ratio, target, met, mins]
                                       + others) + " |")
    return "\n".join(lines)


def _versions(libs: dict) -> dict:
    v = {"python": platform.python_version(), "numpy": np.__version__}
    v.update({k: getattr(m, "__version__", "?") for k, m in libs.items()})
    return v


def profile(name: str, seconds: float) -> None:
    """Print a pyinstrument call tree of ndgrad running one workload for ``seconds``."""
    from pyinstrument import Profiler

    w = next(w for w in WORKLOADS if w.name == name)
    fn = w.build(import_lib("ndgrad"), False)
    fn()
    with Profiler(interval=0.0002) as p:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            fn()
    print(p.output_text(unicode=True, show_all=False))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    ap.add_argument("--libs", default="ndgrad,torch,compiled," + ",".join(OPTIONAL),
                    help="comma-separated; optional libraries that are not installed are skipped")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--mem-steps", type=int, help="steps of the memory loop (default 10000)")
    ap.add_argument("--out", help="JSON path (default bench/results/<date>.json)")
    ap.add_argument("--plot", help="PNG path (default docs/bench.png; not drawn with --quick)")
    ap.add_argument("--profile", metavar="WORKLOAD", help="profile ndgrad on one workload")
    ap.add_argument("--no-scipy", action="store_true",
                    help="hide SciPy before the libraries load: ndgrad's default install")
    ap.add_argument("--cpu", action="store_true",
                    help="one thread per library, samples in thread CPU time (a busy machine)")
    a = ap.parse_args(argv)
    if a.no_scipy:
        sys.modules["scipy"] = None  # type: ignore[assignment]  (imports of it then fail)
    if a.cpu:
        global THREADS, CLOCK
        THREADS, CLOCK = 1, time.thread_time
        os.environ["OPENBLAS_NUM_THREADS"] = "1"  # (NumPy is loaded: ndgrad's call sets it)
    if a.profile:
        profile(a.profile, 3.0)
        return {}
    libs = {}
    for name in a.libs.split(","):
        try:
            libs[name] = import_lib(name)
        except ImportError:
            if name in ("ndgrad", "torch"):
                raise
    load0 = os.getloadavg()
    min_time, repeats = (0.002, 3) if a.quick else (0.1, 15)  # many short samples: robust medians
    global COOL_DOWN
    COOL_DOWN = 0.0 if a.quick else COOL_DOWN
    only = set(a.only.split(",")) if a.only else None
    results = []
    for w in WORKLOADS:
        if only is None or w.name in only:
            results.append(run_workload(w, libs, a.quick, min_time, repeats))
            print(f"  {w.name}: ratio {results[-1]['ratio']}", flush=True)
    if only is None or "mem_mlp" in only:
        results.append(run_memory(a.quick, a.mem_steps))
    print(table(results, list(libs)))
    out = {"meta": {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                    "quick": a.quick, "machine": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "threads": THREADS, "versions": _versions(libs),
                    "clock": "thread CPU time" if a.cpu else "wall",
                    "scipy": not a.no_scipy,
                    "loadavg_before_after": [load0, os.getloadavg()]},  # other work skews times
           "workloads": results}
    path = a.out or os.path.join(HERE, "results", datetime.datetime.now().strftime(
        "%Y%m%d-%H%M%S") + (("-quick" if a.quick else "") + ".json"))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {path}")
    if a.plot or not a.quick:
        from .plot import plot

        png = a.plot or os.path.join(os.path.dirname(HERE), "docs", "bench.png")
        plot(out, png)
        print(f"wrote {png}")
    return out


if __name__ == "__main__":
    main()
