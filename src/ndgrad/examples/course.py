"""Run the course notebook's code cells with ndgrad standing in for torch.

    python -m ndgrad.examples.course
"""

from __future__ import annotations

import pathlib
import sys

NOTEBOOK = pathlib.Path(__file__).with_name("course_notebook.py")
ALIASES = ["", ".nn", ".nn.functional", ".nn.init", ".linalg", ".testing", ".autograd", ".optim",
           ".utils", ".utils.data", ".fft", ".func", ".random", ".distributed", ".cuda"]


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


def main() -> int:
    use_ndgrad_as_torch()
    namespace: dict = {"__name__": "__course__"}
    for label, source in cells():
        print(f"\n===== {label} =====")
        exec(compile(source, f"<cell {label}>", "exec"), namespace)
    print("\nAll cells ran with ndgrad.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
