"""Tracing for torch.onnx.export: run the module once with a recorder installed at the op
machinery's hook (the one ndgrad.profiler uses), so every primitive call is seen with its
arguments and result; a few modules whose ONNX form is one node (pooling, Flatten, eval-mode
BatchNorm and Dropout, Embedding, LayerNorm) are recorded whole, their inner ops hidden."""

from __future__ import annotations

from ..autograd import op as _op

_WHOLE = ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "Flatten", "BatchNorm1d",
          "BatchNorm2d", "Dropout", "Identity", "AdaptiveAvgPool2d", "Embedding", "LayerNorm")


class Recorder:
    """Installed as ``autograd.op._profiler`` while the module runs."""

    def __init__(self):
        self.calls: list = []  # (kind "op"|"module", op class name|module, args, kw, out)
        self.hidden = 0

    def op(self, apply, cls, args: tuple, kw: dict):
        _op._profiler = None  # the op's own inner calls are not recorded
        try:
            out = apply(*args, **kw)
        finally:
            _op._profiler = self
        if not self.hidden:  # a node named as torch names this call (Op.named): by its op
            op = cls.__bases__[0] if cls.__dict__.get("_renamed") else cls
            self.calls.append(("op", op.__name__, args, kw, out))
        return out

    def run(self, model, args: tuple, kwargs: dict):
        hooks = []
        for mod in model.modules() if hasattr(model, "modules") else ():
            if type(mod).__name__ in _WHOLE:
                hooks.append(mod.register_forward_pre_hook(self._enter))
                hooks.append(mod.register_forward_hook(self._leave))
        if _op._profiler is not None:
            raise RuntimeError("ndgrad.onnx.export cannot run while ndgrad.profiler records")
        _op._profiler = self
        try:
            return model(*args, **kwargs)
        finally:
            _op._profiler = None
            for h in hooks:
                h.remove()

    def _enter(self, module, args):
        self.hidden += 1

    def _leave(self, module, args, out):
        self.hidden -= 1
        if not self.hidden:
            self.calls.append(("module", module, args, {}, out))
