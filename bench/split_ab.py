"""A/B of ndgrad's split elementwise passes (``ndgrad._parallel``) on a model step, wall time:
the same step with the passes split across the BLAS threads and with one piece each, alternating
in one process, torch's step beside them (the split is off by default: see ``_parallel``). Needs
an idle machine (the split only pays where the second core is free).

    python -m bench.split_ab [--only gpt,char_lstm] [--samples 40] [--threads 2] [--no-scipy]
"""

from __future__ import annotations

import argparse
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="gpt")
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-scipy", action="store_true")
    a = ap.parse_args()
    if a.no_scipy:
        sys.modules["scipy"] = None
    import torch

    import ndgrad
    from ndgrad import _parallel

    from . import models

    for lib in (ndgrad, torch):
        lib.set_num_threads(a.threads)
    enabled = _parallel.ENABLED
    for name in a.only.split(","):
        build = getattr(models, name)
        steps = {"split": build(ndgrad, False), "torch": build(torch, False)}
        steps["one piece"] = steps["split"]
        for s in steps.values():
            for _ in range(3):
                s()
        times: dict = {k: [] for k in steps}
        for _ in range(a.samples):
            for k, s in steps.items():
                _parallel.ENABLED = k != "one piece"
                time.sleep(0.15)  # BLAS/OpenMP threads stop spinning (as bench.run)
                t0 = time.perf_counter()
                s()
                times[k].append(time.perf_counter() - t0)
        _parallel.ENABLED = enabled
        best = {k: min(v) for k, v in times.items()}
        print(f"{name}: " + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in best.items())
              + f"; ndgrad/torch: split {best['split'] / best['torch']:.3f}, one piece "
              f"{best['one piece'] / best['torch']:.3f}")


if __name__ == "__main__":
    main()
