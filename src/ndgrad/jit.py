"""Same as torch.jit, for programs that script or trace and then call the result: ndgrad has no
TorchScript compiler, so ``script`` returns the function or module itself and ``trace`` runs it
on the example inputs as often as torch's tracer does (a BatchNorm's running statistics move as
in torch) and returns it. Calls, parameters and state_dicts then behave as
the scripted object's do; TorchScript-only features (``.graph``, ``.code``, archives) raise."""

from __future__ import annotations

import typing
import warnings

from .nn import Module

__all__ = ["Attribute", "Final", "Future", "ScriptFunction", "ScriptModule", "annotate",
           "export", "fork", "freeze", "ignore", "interface", "is_scripting", "is_tracing",
           "isinstance", "load", "optimize_for_inference", "save", "script", "script_if_tracing",
           "trace", "trace_module", "unused", "wait"]

Final = typing.Final
_builtin_isinstance = isinstance


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """Same as torch.jit.script for calling the result: the object itself (see module doc)."""
    _deprecated("script")
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True, check_inputs=None,
          check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs: bool = True):
    """Same as torch.jit.trace: runs ``func`` on the example inputs as often as torch's tracer
    does (once, five times with check_trace: its trace, re-trace and comparison runs) and returns
    ``func``."""
    _deprecated("trace")
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs should be a dict")
    if example_kwarg_inputs is not None and not _builtin_isinstance(example_kwarg_inputs, dict):
        raise RuntimeError("example_kwarg_inputs should be a dict")
    args = () if example_inputs is None else example_inputs
    if not _builtin_isinstance(args, tuple):
        args = (args,)
    for _ in range(5 if check_trace else 1):
        func(*args, **(example_kwarg_inputs or {}))
    return func


def trace_module(mod, inputs: dict, optimize=None, check_trace: bool = True, check_inputs=None,
                 check_tolerance: float = 1e-5, strict: bool = True, _force_outplace=False,
                 _module_class=None, _compilation_unit=None, example_inputs_is_kwarg=False,
                 _store_inputs: bool = True):
    """Same as torch.jit.trace_module: each named method run on its example inputs."""
    for name, args in inputs.items():
        trace(getattr(mod, name), args, check_trace=check_trace)
    return mod


def _deprecated(name: str) -> None:
    warnings.warn(f"`torch.jit.{name}` is deprecated. Please switch to `torch.compile` or "
                  "`torch.export`.", DeprecationWarning, stacklevel=3)


def _passthrough(fn=None, **kwargs):
    """A decorator usable bare or called with options (torch.jit.ignore(drop=True))."""
    return fn if callable(fn) else (lambda f: f)


ignore = unused = export = script_if_tracing = interface = _passthrough
ignore.__doc__ = "Same as torch.jit.ignore/unused/export: the function itself (nothing compiles)."


def is_scripting() -> bool:
    """Same as torch.jit.is_scripting: False, always (nothing is compiled)."""
    return False


def is_tracing() -> bool:
    """Same as torch.jit.is_tracing: False (trace runs the function eagerly)."""
    return False


def annotate(the_type, the_value):
    return the_value


def Attribute(value, type=None):  # noqa: N802  (torch's name)
    return value


def isinstance(obj, target_type) -> bool:  # noqa: A001
    """Same as torch.jit.isinstance: checks the container types' element types too."""
    origin = typing.get_origin(target_type)
    if origin is None:
        return _builtin_isinstance(obj, target_type)
    if origin is typing.Union:
        return any(isinstance(obj, t) for t in typing.get_args(target_type))
    if not _builtin_isinstance(obj, origin):
        return False
    args = typing.get_args(target_type)
    if origin in (list, set) or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        return all(isinstance(v, args[0]) for v in obj)
    if origin is tuple:
        return len(obj) == len(args) and all(isinstance(v, t) for v, t in zip(obj, args))
    if origin is dict:
        return all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    return True


class Future:
    """Same as torch.jit.Future for an already computed value."""

    def __init__(self, value=None) -> None:
        self._value = value

    def wait(self):
        return self._value

    value = wait

    def done(self) -> bool:
        return True

    def then(self, callback):
        return Future(callback(self))


def fork(func, *args, **kwargs) -> Future:
    """Same as torch.jit.fork outside TorchScript: runs ``func`` now."""
    warnings.warn("`torch.jit.fork` is deprecated. Please use `torch.compile` instead.",
                  DeprecationWarning, stacklevel=2)
    return Future(func(*args, **kwargs))


def wait(future: Future):
    return future.wait()


def freeze(mod, preserved_attrs=None, optimize_numerics: bool = True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


def save(m, f, _extra_files=None) -> None:
    raise NotImplementedError("ndgrad.jit.save: TorchScript archives need torch's compiler; save "
                              "the model's state_dict() with ndgrad.save instead")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    raise NotImplementedError("ndgrad.jit.load: ndgrad cannot run TorchScript archives; load a "
                              "state_dict (ndgrad.load) into the model's Python class instead")


ScriptModule = Module  # script returns the module itself
ScriptFunction = type(script)
