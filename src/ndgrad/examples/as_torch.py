"""Run a PyTorch script unchanged, with ndgrad as ``torch``.

    python -m ndgrad.examples.as_torch train.py --device=cpu --compile=False
    python -m ndgrad.examples.as_torch -m some.module args...

``import ndgrad as torch`` covers one file; a real program also imports ``torch.nn.functional``,
``from torch.utils.data import DataLoader``, ``import torch.backends.cudnn as cudnn`` in other
files. An import hook (a ``sys.meta_path`` finder) answers every ``torch`` / ``torch.x.y`` import
with ``ndgrad`` / ``ndgrad.x.y``: the same module objects, so ``torch.nn.Linear is
ndgrad.nn.Linear`` and isinstance checks hold across the program. A name ndgrad lacks fails as a
missing ``torch`` module would. The script runs as ``__main__`` with its own ``sys.argv``, and its
folder first on ``sys.path``, as ``python script.py`` would run it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys


class TorchIsNdgrad(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``torch`` and ``torch.x.y`` import as ``ndgrad`` and ``ndgrad.x.y`` (the same objects)."""

    @staticmethod
    def _target(name: str):
        real = "ndgrad" + name[len("torch"):]
        if real in sys.modules:
            return real
        parent, _, last = real.rpartition(".")
        if isinstance(getattr(sys.modules.get(parent), last, None), type(sys)):
            return real  # a module kept as an attribute (torch.backends.cudnn)
        try:
            return real if importlib.util.find_spec(real) is not None else None
        except (ImportError, ValueError):
            return None

    def find_spec(self, name, path=None, target=None):
        if name != "torch" and not name.startswith("torch."):
            return None
        real = self._target(name)
        return None if real is None else importlib.machinery.ModuleSpec(name, self, origin=real)

    def create_module(self, spec):
        real = spec.origin
        if real in sys.modules:
            return sys.modules[real]
        parent, _, last = real.rpartition(".")
        attr = getattr(sys.modules.get(parent), last, None)
        return attr if isinstance(attr, type(sys)) else importlib.import_module(real)

    def exec_module(self, module):
        pass  # ndgrad's module is already executed


def install() -> None:
    """From now on ``import torch`` (and its submodules) gives ndgrad in this process."""
    if "torch" in sys.modules and sys.modules["torch"].__name__ == "torch":
        raise RuntimeError("real torch is already imported in this process")
    if not any(isinstance(f, TorchIsNdgrad) for f in sys.meta_path):
        sys.meta_path.insert(0, TorchIsNdgrad())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    install()
    if args[0] == "-m":
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(args)
        sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))
        runpy.run_path(args[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
