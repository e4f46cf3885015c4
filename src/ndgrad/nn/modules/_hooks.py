"""Hook handles and the machinery behind Module's full backward hooks (as in torch.utils.hooks)."""

from __future__ import annotations

import warnings
import weakref

from ..._grad_mode import state as _grad_state
from ..._tensor import Tensor
from ...autograd.function import Function


class RemovableHandle:
    """Same as torch.utils.hooks.RemovableHandle."""

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extras = extra_dict if isinstance(extra_dict, list) else [extra_dict] if extra_dict else []
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(store: dict, hook, prepend: bool = False, extra=None) -> RemovableHandle:
    h = RemovableHandle(store, extra_dict=extra)
    store[h.id] = hook
    if prepend:
        store.move_to_end(h.id, last=False)
    return h


class BackwardHookFunction(Function):
    """Identity on several tensors; its node is where module backward hooks observe gradients."""

    @staticmethod
    def forward(ctx, *args):
        return args

    @staticmethod
    def backward(ctx, *grads):
        return ctx.hook(grads) if getattr(ctx, "hook", None) else grads


class BackwardHook:
    """Wraps a module's tensor inputs and outputs in identity nodes: the output node records
    grad_output (and runs backward pre-hooks), the input node calls the full backward hooks with
    grad_input and may replace it. Mirrors torch.utils.hooks.BackwardHook."""

    def __init__(self, module, user_hooks, user_pre_hooks) -> None:
        self.module, self.user_hooks, self.user_pre_hooks = module, user_hooks, user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_index = self.output_index = None

    @staticmethod
    def _pack(indices, values, size):
        res = [None] * size
        for i, v in zip(indices, values):
            res[i] = v
        return tuple(res)

    def _wrap(self, args, hook):
        # only tensors that require grad get a gradient; the others read None, as in torch
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not (idx and _grad_state.grad_enabled):
            return args, None
        tensors = [args[i] for i in idx]
        new = BackwardHookFunction.apply(*tensors)
        node = next(t.grad_fn for t in new if t.grad_fn is not None)
        node.ctx.set_materialize_grads(False)
        node.ctx.hook = hook
        out = list(args)
        for i, t in zip(idx, new):
            out[i] = t
        return tuple(out), idx

    def setup_input_hook(self, args):
        def hook(grad_input):
            if self.grad_outputs is None:  # grads reached the inputs without the outputs
                return grad_input
            res = self._pack(self.input_index, grad_input, self.n_inputs)
            for user_hook in self.user_hooks:
                out = user_hook(self.module, res, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(res):
                    raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                       f"got {len(out)}, but expected {len(res)}")
                res = out
            self.grad_outputs = None
            return tuple(res[i] for i in self.input_index)

        res, self.input_index = self._wrap(args, hook)
        self.n_inputs = len(args)
        return res

    def setup_output_hook(self, result):
        def hook(grad_output):
            self.grad_outputs = self._pack(self.output_index, grad_output, self.n_outputs)
            for pre in self.user_pre_hooks:
                new = pre(self.module, self.grad_outputs)
                if new is None:
                    continue
                if len(new) != len(self.grad_outputs):
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(new)}, but expected "
                                       f"{len(self.grad_outputs)}")
                self.grad_outputs = new
            local = self.grad_outputs
            if self.input_index is None:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients.",
                              stacklevel=5)
                none_in = (None,) * self.n_inputs
                for user_hook in self.user_hooks:
                    r = user_hook(self.module, none_in, self.grad_outputs)
                    if r is not None and not (isinstance(r, tuple) and all(x is None for x in r)):
                        raise RuntimeError("Backward hook for Modules where no input requires "
                                           "gradient should always return None or None for all "
                                           "gradients.")
                self.grad_outputs = None
            return tuple(local[i] for i in self.output_index)

        single = not isinstance(result, tuple)
        args = (result,) if single else result
        res, self.output_index = self._wrap(args, hook)
        self.n_outputs = len(args)
        return res[0] if single else res
