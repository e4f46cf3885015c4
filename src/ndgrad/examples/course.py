"""Run the course notebook's code cells with ndgrad standing in for torch.

    python -m ndgrad.examples.course            # ndgrad as torch; prints each cell's output
    python -m ndgrad.examples.course --json     # {cell label: output}, for comparing with torch
    python -m ndgrad.examples.course --torch    # the same with real PyTorch (if installed)

``--seed N`` seeds the generator first; ndgrad's CPU random streams equal torch's, so seeded runs
print the same random tensors. ``--quick`` runs the bmm-versus-loop timing cell on 500 matrices
instead of 5000: that cell prints only sizes and timings, so its output keeps its shape.
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import sys
import traceback
from collections.abc import Iterator

NOTEBOOK = pathlib.Path(__file__).with_name("course_notebook.py")
ALIASES = ["", ".nn", ".nn.functional", ".nn.init", ".nn.utils", ".nn.utils.rnn", ".nn.attention",
           ".linalg", ".testing", ".autograd", ".autograd.functional", ".autograd.graph",
           ".autograd.forward_ad", ".optim", ".optim.lr_scheduler", ".optim.swa_utils", ".utils",
           ".utils.data", ".utils.checkpoint", ".utils.tensorboard", ".fft", ".func", ".random",
           ".distributed", ".cuda", ".distributions", ".special", ".profiler", ".amp", ".backends"]


def use_ndgrad_as_torch() -> None:
    """Make ``import torch`` (and its submodules) resolve to ndgrad in this process."""
    import importlib

    for suffix in ALIASES:
        try:
            sys.modules["torch" + suffix] = importlib.import_module("ndgrad" + suffix)
        except ImportError:
            pass


def cells(path: pathlib.Path = NOTEBOOK) -> list[tuple[str, str]]:
    """The notebook's cells as (label, source), split on its ``# %% In [N]`` markers."""
    out, label, lines = [], None, []
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("# %%"):
            if label is not None:
                out.append((label, "".join(lines)))
            label, lines = line[5:].strip(), []
        elif label is not None:
            lines.append(line)
    if label is not None:
        out.append((label, "".join(lines)))
    return out


TIMING_CELL, FULL_BATCH, QUICK_BATCH = "In [34]", "batch_size = 5000", "batch_size = 500"


def run_cells(quick: bool = False) -> Iterator[tuple[str, str]]:
    """Execute the cells in one namespace, yielding (label, printed output) for each.

    An exception ends its cell with the last traceback line (``!! TypeError: ...``) as output, so
    a comparison names the cell and later cells still run."""
    namespace: dict = {"__name__": "__course__"}
    for label, source in cells():
        if quick and label == TIMING_CELL:
            if FULL_BATCH not in source:
                raise RuntimeError(f"--quick: {FULL_BATCH!r} not found in cell {label}")
            source = source.replace(FULL_BATCH, QUICK_BATCH)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                exec(compile(source, f"<cell {label}>", "exec"), namespace)
            except Exception as e:
                print(f"!! {traceback.format_exception_only(type(e), e)[-1].strip()}")
        yield label, buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--torch" not in args:
        use_ndgrad_as_torch()
    if "--seed" in args:
        import torch  # ndgrad itself unless --torch

        torch.manual_seed(int(args[args.index("--seed") + 1]))
    outputs = dict(run_cells(quick="--quick" in args))
    if "--json" in args:
        json.dump(outputs, sys.stdout)
        return 0
    for label, out in outputs.items():
        print(f"===== {label} =====\n{out}")
    failed = [label for label, out in outputs.items() if "\n!! " in "\n" + out]
    print(f"Cells that raised: {failed}" if failed else "All cells ran.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
