"""Bar chart of ndgrad/torch time ratios (log scale) with each workload's target."""

from __future__ import annotations

import json
import os
import sys


def plot(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    rows = [r for r in results["workloads"] if r["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(rows) + 1.4))
    y = range(len(rows))
    colors = ["#999999" if r["met"] is None else "#4c72b0" if r["met"] else "#dd8452"
              for r in rows]
    ax.barh(y, [r["ratio"] for r in rows], color=colors)
    for i, r in enumerate(rows):
        if r["target"]:
            ax.plot([r["target"]] * 2, [i - 0.4, i + 0.4], color="black", lw=1.5)
        ax.text(r["ratio"] * 1.05, i, f"{r['ratio']:.2f}", va="center", fontsize=8)
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xticks([0.25, 0.5, 1, 2, 4])
    ax.set_yticks(list(y), [r["label"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ndgrad / torch: time (memory for the last row); lower is better. Black tick: "
                  "target; orange: missed; grey: no target", fontsize=8)
    v = results["meta"]["versions"]
    m = results["meta"]
    how = f"{m.get('threads', 2)} thread{'s' if m.get('threads', 2) > 1 else ''}"
    how += ", thread CPU time" if m.get("clock", "wall") != "wall" else ""
    how += ", no SciPy" if m.get("scipy") is False else ""
    ax.set_title(f"ndgrad vs torch {v.get('torch', '?')}, float32 ({m['date'][:10]})\n{how}",
                 fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":  # python -m bench.plot results.json out.png
    with open(sys.argv[1]) as f:
        plot(json.load(f), sys.argv[2])
