"""The GPU check: one command for a machine with a GPU, CuPy and torch (CUDA build), no network.

    python -m bench.gpu_check                    # about 6 minutes on an H100
    python -m bench.gpu_check --quick            # small sizes (what the CPU dry run uses)
    PYTHONPATH=tests/fakecupy python -m bench.gpu_check --quick   # dry run on the CuPy stand-in

Prints and writes (--out, JSON): versions; the scripted device workloads and the op table on
CUDA against the CPU and torch (tests/gpu_standin.py, the op table time-boxed by --op-seconds);
training steps (MLP, CNN, LSTM, a GPT block) and matmul in float32/float16/bfloat16, ndgrad on
CUDA against torch.cuda in the same process, with ratios; bandwidth-bound ops; peak memory of a
step; DLPack both ways. On the stand-in torch runs on the CPU: the timings then only prove the
script runs."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch

import ndgrad

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import gpu_standin  # noqa: E402  (tests/: the workloads and the op-table runner)


def _cupy():
    import cupy

    return cupy


def _sync(lib) -> None:
    if lib is torch:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
    else:
        ndgrad.cuda.synchronize()


def _time(lib, fn, reps: int, warmup: int = 2) -> float:
    """Median seconds of ``fn()`` over ``reps`` calls, each fenced by a device synchronize."""
    for _ in range(warmup):
        fn()
    _sync(lib)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        _sync(lib)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _devices():
    """(ndgrad's device, torch's device): cuda for both on a GPU; torch on the CPU on the
    stand-in."""
    return "cuda", ("cuda" if torch.cuda.is_available() else "cpu")


# --- versions -------------------------------------------------------------------------------------
def versions() -> dict:
    cp = _cupy()
    props = cp.cuda.runtime.getDeviceProperties(0)
    return {"python": platform.python_version(), "numpy": np.__version__,
            "cupy": getattr(cp, "__version__", "stand-in"), "torch": torch.__version__,
            "torch_cuda": torch.version.cuda, "gpu": props["name"].decode(),
            "gpus": cp.cuda.runtime.getDeviceCount(), "ndgrad": ndgrad.__version__
            if hasattr(ndgrad, "__version__") else "?"}


# --- correctness ----------------------------------------------------------------------------------
def correctness(op_seconds: float) -> dict:
    """The stand-in suite's workloads (all) and op table (float32 cases first, then the rest,
    until ``op_seconds``: CuPy compiles each new kernel on first use)."""
    gpu_standin.cupy = _cupy()
    start = time.perf_counter()
    work = gpu_standin.run_workloads()
    ids = gpu_standin.op_case_ids()
    ids = sorted(ids, key=lambda i: not i.endswith("-float32"))
    done, failed, cpu_too, refused = 0, {}, {}, {}
    deadline = time.perf_counter() + op_seconds
    for k in range(0, len(ids), 50):
        if time.perf_counter() > deadline:
            break
        res = gpu_standin.run_op_table(ids[k:k + 50])
        done += min(50, len(ids) - k)
        failed.update(res["failed"])
        cpu_too.update(res["cpu_too"])
        refused.update(res["refused"])
    return {"workloads_failed": {k: v for k, v in work.items() if v},
            "workloads": len(work), "op_cases_run": done, "op_cases": len(ids),
            "op_failed": failed, "op_cpu_too": len(cpu_too), "op_refused": refused,
            "seconds": round(time.perf_counter() - start, 1)}


# --- training steps -----------------------------------------------------------------------------
def _mlp(lib, dev, q):
    nn, F = lib.nn, lib.nn.functional
    m = nn.Sequential(nn.Linear(784, 64 if q else 1024), nn.ReLU(),
                      nn.Linear(64 if q else 1024, 10)).to(dev)
    x, y = lib.randn(32 if q else 512, 784, device=dev), lib.randint(0, 10, (32 if q else 512,),
                                                                       device=dev)
    return m, lambda: F.cross_entropy(m(x), y)


def _cnn(lib, dev, q):
    nn, F = lib.nn, lib.nn.functional
    m = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 10)).to(dev)
    n = 8 if q else 256
    x, y = lib.randn(n, 1, 28, 28, device=dev), lib.randint(0, 10, (n,), device=dev)
    return m, lambda: F.cross_entropy(m(x), y)


def _lstm(lib, dev, q):
    nn, F = lib.nn, lib.nn.functional
    h = 32 if q else 512
    m, head = nn.LSTM(h, h, batch_first=True).to(dev), nn.Linear(h, 10).to(dev)
    x = lib.randn(8 if q else 64, 16 if q else 64, h, device=dev)
    y = lib.randint(0, 10, (x.shape[0],), device=dev)

    class Both(nn.Module):
        def __init__(self):
            super().__init__()
            self.m, self.head = m, head

    return Both(), lambda: F.cross_entropy(head(m(x)[0][:, -1]), y)


def _gpt(lib, dev, q):
    nn = lib.nn
    d, s, b = (64, 16, 2) if q else (768, 512, 16)
    m = nn.TransformerEncoderLayer(d, 12 if not q else 4, 4 * d, dropout=0.1, batch_first=True,
                                   norm_first=True, activation="gelu").to(dev)
    x = lib.randn(b, s, d, device=dev)
    mask = nn.Transformer.generate_square_subsequent_mask(s, device=dev)
    return m, lambda: m(x, src_mask=mask, is_causal=True).pow(2).mean()


STEPS = {"MLP 784-1024-10 b512 Adam": _mlp, "CNN (demo) b256 Adam": _cnn,
         "LSTM 512 seq64 b64 Adam": _lstm, "GPT block d768 s512 b16 Adam": _gpt}


def training(q: bool) -> list:
    nd_dev, th_dev = _devices()
    rows = []
    for name, make in STEPS.items():
        row = {"step": name}
        for lib, dev in ((ndgrad, nd_dev), (torch, th_dev)):
            lib.manual_seed(0)
            model, loss = make(lib, dev, q)
            opt = lib.optim.Adam(model.parameters(), 1e-4)

            def step():
                opt.zero_grad()
                loss().backward()
                opt.step()

            row["ndgrad_ms" if lib is ndgrad else "torch_ms"] = round(
                1e3 * _time(lib, step, 3 if q else 10), 2)
        row["ratio"] = round(row["ndgrad_ms"] / row["torch_ms"], 2)
        rows.append(row)
    return rows


# --- matmul, bandwidth, memory, dlpack ------------------------------------------------------------
def matmul(q: bool) -> list:
    nd_dev, th_dev = _devices()
    n = 256 if q else 8192
    rows = []
    for name in ("float32", "float16", "bfloat16"):
        row = {"dtype": name, "n": n}
        for lib, dev in ((ndgrad, nd_dev), (torch, th_dev)):
            dt = getattr(lib, name)
            try:
                a, b = lib.randn(n, n, device=dev).to(dt), lib.randn(n, n, device=dev).to(dt)
                sec = _time(lib, lambda: a @ b, 3 if q else 10)
                row["ndgrad_tflops" if lib is ndgrad else "torch_tflops"] = round(
                    2 * n ** 3 / sec / 1e12, 2)
            except Exception as e:  # noqa: BLE001  (bfloat16 on CuPy 13)
                row["ndgrad_error" if lib is ndgrad else "torch_error"] = str(e)[:120]
        if "ndgrad_tflops" in row and "torch_tflops" in row:
            row["ratio"] = round(row["torch_tflops"] / row["ndgrad_tflops"], 2)
        rows.append(row)
    return rows


def bandwidth(q: bool) -> list:
    nd_dev, th_dev = _devices()
    n = 1 << (16 if q else 26)
    ops = {"add": (lambda lib, x: x + x, 3), "mul_scalar": (lambda lib, x: x * 2.0, 2),
           "exp": (lambda lib, x: x.exp(), 2), "sum": (lambda lib, x: x.sum(), 1),
           "softmax": (lambda lib, x: x.view(-1, 1024).softmax(-1), 2)}
    rows = []
    for name, (fn, passes) in ops.items():
        row = {"op": name, "elements": n}
        for lib, dev in ((ndgrad, nd_dev), (torch, th_dev)):
            x = lib.randn(n, device=dev)
            sec = _time(lib, lambda: fn(lib, x), 5 if q else 20)
            row["ndgrad_GBs" if lib is ndgrad else "torch_GBs"] = round(4 * n * passes / sec / 1e9)
        row["ratio"] = round(row["torch_GBs"] / max(row["ndgrad_GBs"], 1), 2)
        rows.append(row)
    return rows


def memory(q: bool) -> dict:
    """Peak device memory of one GPT-block step: CuPy's pool high-water mark against torch's."""
    nd_dev, th_dev = _devices()
    out = {}
    pool = _cupy().get_default_memory_pool()
    ndgrad.cuda.empty_cache()
    model, loss = _gpt(ndgrad, nd_dev, q)
    loss().backward()
    ndgrad.cuda.synchronize()
    out["ndgrad_pool_MB"] = round(pool.total_bytes() / 2 ** 20) if hasattr(pool, "total_bytes") \
        else None
    if th_dev == "cuda":
        torch.cuda.reset_peak_memory_stats()
        model, loss = _gpt(torch, th_dev, q)
        loss().backward()
        out["torch_peak_MB"] = round(torch.cuda.max_memory_allocated() / 2 ** 20)
    return out


def dlpack() -> dict:
    nd_dev, th_dev = _devices()
    out = {}
    x = ndgrad.randn(4, 3, device=nd_dev)
    if th_dev == "cuda":
        y = torch.from_dlpack(x)
        out["ndgrad_to_torch_shares"] = y.data_ptr() == x.data_ptr() and y.is_cuda
        z = ndgrad.from_dlpack(torch.randn(4, 3, device="cuda"))
        out["torch_to_ndgrad_on_cuda"] = z.device.type == "cuda"
        try:
            b = ndgrad.from_dlpack(torch.randn(4, device="cuda", dtype=torch.bfloat16))
            out["bfloat16"] = str(b.dtype)
        except Exception as e:  # noqa: BLE001
            out["bfloat16"] = f"{type(e).__name__}: {str(e)[:100]}"
    else:
        out["skipped"] = "torch has no CUDA here"
    return out


def _table(rows: list) -> str:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["  ".join(f"{k:>14s}" for k in keys)]
    for r in rows:
        lines.append("  ".join(f"{str(r.get(k, '')):>14s}"[:max(14, len(str(r.get(k, ''))))]
                               for k in keys))
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    p.add_argument("--op-seconds", type=float, default=150.0)
    p.add_argument("--out", default="gpu_check.json")
    args = p.parse_args(argv)
    res = {"versions": versions()}
    print(json.dumps(res["versions"]))
    for name, fn in (("correctness", lambda: correctness(args.op_seconds)),
                     ("training", lambda: training(args.quick)),
                     ("matmul", lambda: matmul(args.quick)),
                     ("bandwidth", lambda: bandwidth(args.quick)),
                     ("memory", lambda: memory(args.quick)), ("dlpack", dlpack)):
        start = time.perf_counter()
        try:
            res[name] = fn()
        except Exception as e:  # noqa: BLE001  (one section's failure must not hide the rest)
            res[name] = {"error": gpu_standin._describe(e)}
        print(f"\n== {name} ({time.perf_counter() - start:.0f} s)")
        out = res[name]
        print(_table(out) if isinstance(out, list) else json.dumps(out, indent=1)[:4000])
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
