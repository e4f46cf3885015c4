"""ndgrad.save / ndgrad.load: torch.save's files, and safetensors files.

``save`` writes torch.save's zip archive (``_torch_writer.py``) when everything in the object is
something torch's default ``weights_only`` load accepts (tensors, Parameters, containers, numbers,
strings, bytes, dtypes, Size, device): torch.load reads it. ``load`` reads torch.save's zip and
legacy files under the same weights_only rules (``_torch_files.py``): a hostile pickle gets torch's
UnpicklingError before anything it names is called.

A path ending in ``.safetensors``, or an object holding more (a whole nn.Module, a class, a NumPy
array), is written as a safetensors file: tensors in the safetensors data (a flat
``{name: tensor}`` dict, such as a state_dict, is stored under its own keys, so
``safetensors.torch.load_file`` reads it and ``ndgrad.load`` reads any safetensors file), and
everything around them (nested containers, numbers, strings, dtypes, optimizer and scheduler
state) as a JSON tree in the header's ``__metadata__["ndgrad"]``, built from a fixed set of tagged
node types: loading one only ever builds those, so a hostile file can't run code; a malformed one
raises RuntimeError.

In that format whole objects (an nn.Module, a plain class instance such as argparse.Namespace) and
references to classes and functions are stored as torch pickles them, by name ("module:qualname")
with the object's ``__dict__``, and load as torch's ``weights_only`` rules say: by default only the
globals allowed through ``serialization.add_safe_globals``/``safe_globals`` (else torch's
UnpicklingError); with ``weights_only=False`` any class or function of a module the program has
already imported. A file's contents never make ndgrad import a module. Differs from torch: objects
with their own ``__reduce__`` (other than tensors, containers, numbers...) can't be saved; in the
safetensors format views of one storage load as separate tensors."""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import math
import os
import pickle
import sys
import types
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from . import _dtype as D
from . import _safetensors as S
from . import _torch_files, _torch_writer
from ._backend import CPU, cuda_available, device, tensor_device, to_device, to_numpy
from ._tensor import Size, Tensor

__all__ = ["load", "save"]

_MAX_DEPTH = 200
# Containers in a description: a state_dict or optimizer state needs a few per tensor. The bound
# keeps a hostile file's memory and time proportional to its size (~100 bytes per container).
_MAX_NODES = 1_000_000
_SCALAR_KINDS = "biuf"


def save(obj: Any, f, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Same as torch.save; whole objects and ``*.safetensors`` paths get the safetensors format
    (see the module docstring)."""
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else ""
    data = None if str(name).endswith(".safetensors") else _torch_writer.dumps(obj, _archive(name))
    if data is None:
        data = _dumps(obj)
    if hasattr(f, "write"):
        f.write(data)
    else:
        path = os.fspath(f)
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):  # torch's check before it opens the file
            raise RuntimeError(f"Parent directory {parent} does not exist.")
        try:
            with open(path, "wb") as fh:
                fh.write(data)
        except OSError as e:  # torch's writer reports a file it cannot open as RuntimeError
            raise RuntimeError(f"open file failed with strerror: {e.strerror}") from e


def _archive(path: str) -> str:
    """torch's name for the archive's top folder: the file's stem, else "archive"."""
    stem = os.path.splitext(os.path.basename(str(path)))[0]
    return stem if stem.isidentifier() else "archive"


def _dumps(obj) -> bytes:
    enc = _Encoder()
    tree = enc.encode(obj, "", 0)
    meta = {"format": "pt", "ndgrad": json.dumps(tree, separators=(",", ":"), allow_nan=False)}
    return S.dumps(enc.arrays, meta)


def load(f, map_location=None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args) -> Any:
    """Same as torch.load for files written by torch.save, ndgrad.save or any safetensors writer.

    ``weights_only`` (default True, as torch's; False where a ``pickle_module`` is given)
    decides which classes and functions a file may name: the safe globals only, or (False) any
    of a module already imported."""
    if pickle_module is not None:  # torch: an explicit pickle module is not weights-only
        if weights_only:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                               "specified")
        weights_only = False
    if not (map_location is None or callable(map_location) or
            isinstance(map_location, (str, device, dict))):
        raise TypeError(f"map_location should be a str, device, dict or callable, got "
                        f"{type(map_location).__name__}")
    buf = bytearray(f.read() if hasattr(f, "read") else _read(f))
    if not buf:
        raise _EmptyFile("Ran out of input: an empty file is an invalid torch or safetensors file")
    try:
        arrays, meta = S.loads(buf)
    except S.SafetensorsError:
        if not _torch_files.is_torch_file(buf):
            raise
        def place(arr, location):  # noqa: E306
            return _place(_supported(arr), location, map_location)
        return _torch_files.load(buf, place, weights_only is not False)
    try:
        if "ndgrad" not in meta:  # a plain safetensors file: its tensors, by name
            return {k: _place(_supported(a), "cpu", map_location) for k, a in arrays.items()}
        text = meta["ndgrad"]
        nodes = text.count("[") + text.count("{")  # an upper bound on the containers JSON makes
        if nodes > _MAX_NODES:
            raise S.SafetensorsError(f"invalid ndgrad metadata: more than {_MAX_NODES} nested "
                                     "lists and objects")
        tree = json.loads(text)
        return _Decoder(arrays, map_location, weights_only is False).decode(tree, 0)
    except (S.SafetensorsError, pickle.UnpicklingError):
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, OverflowError,
            binascii.Error) as e:
        raise S.SafetensorsError(f"invalid ndgrad metadata: {type(e).__name__}: {e}") from None


class _EmptyFile(RuntimeError, EOFError):
    """An empty file: torch's unpickler raises EOFError; a damaged file is a RuntimeError here."""


def get_unsafe_globals_in_checkpoint(f) -> list:
    """Same as torch.serialization.get_unsafe_globals_in_checkpoint (the pickle read statically:
    nothing is unpickled)."""
    return _torch_files.unsafe_globals(f.read() if hasattr(f, "read") else _read(f))


def _read(path) -> bytes:
    with open(os.fspath(path), "rb") as fh:
        return fh.read()


# --- writing ----------------------------------------------------------------------------------
class _Encoder:
    """Turns an object into a JSON tree, collecting its tensors (each object stored once)."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}
        self.keep: list = []  # keeps encoded objects alive so their ids stay unique
        self.active: set[int] = set()
        self.objects: dict[int, int] = {}  # id -> index: an object met twice loads as one

    def encode(self, obj, path: str, depth: int):
        if depth > _MAX_DEPTH:
            raise ValueError(f"ndgrad.save: object nesting is deeper than {_MAX_DEPTH} levels")
        if obj is None or type(obj) in (bool, int, str):
            return obj
        if type(obj) is float:
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            return self._tensor(obj, path)
        if isinstance(obj, D.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, device):
            return {"device": str(obj)}
        if isinstance(obj, Size):
            return {"size": list(obj)}
        if isinstance(obj, np.ndarray):
            return self._ref("ndarray", obj, obj, path)
        if isinstance(obj, np.generic) and obj.dtype.kind in _SCALAR_KINDS:
            return {"npscalar": obj.dtype.str, "value": obj.item()}
        if isinstance(obj, complex):
            return {"complex": [obj.real, obj.imag]}
        if isinstance(obj, bytes):
            return {"bytes": base64.b64encode(obj).decode()}
        if isinstance(obj, (list, tuple, set, frozenset, dict)):
            return self._container(obj, path, depth)
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"global": _global_name(obj)}
        if _plain_object(obj):
            return self._object(obj, path, depth)
        raise TypeError(f"ndgrad.save can't store {type(obj).__module__}.{type(obj).__qualname__}"
                        " objects: it stores tensors, numbers, strings, bytes, None, dtypes, "
                        "devices, lists/tuples/sets/dicts, classes, functions and objects "
                        "pickled through their __dict__ (nn.Modules), not objects with their own "
                        "__reduce__")

    def _object(self, obj, path: str, depth: int):
        """{"object": class name, "state": its __dict__} as pickle's default reduce; "objref"
        for an object met before (a module shared by two parents)."""
        if id(obj) in self.objects:
            return {"objref": self.objects[id(obj)]}
        if id(obj) in self.active:
            raise ValueError("ndgrad.save: the object contains a reference cycle")
        self.active.add(id(obj))
        name = _global_name(type(obj))
        state = self.encode(obj.__dict__, path, depth + 1)
        self.active.discard(id(obj))
        self.objects[id(obj)] = index = len(self.objects)
        self.keep.append(obj)
        return {"object": name, "state": state, "index": index}

    def _container(self, obj, path: str, depth: int):
        if id(obj) in self.active:
            raise ValueError("ndgrad.save: the object contains a reference cycle")
        self.active.add(id(obj))
        sub = lambda v, k: self.encode(v, f"{path}.{k}" if path else str(k), depth + 1)  # noqa
        if isinstance(obj, dict):
            items = [[self.encode(k, "", depth + 1), sub(v, k)] for k, v in obj.items()]
            tag = ("counter" if isinstance(obj, Counter) else
                   "odict" if isinstance(obj, OrderedDict) else "dict")
            out: Any = {tag: items}
        elif isinstance(obj, list):
            out = [sub(v, i) for i, v in enumerate(obj)]
        else:
            tag = "tuple" if isinstance(obj, tuple) else "set"
            if tag == "tuple" and hasattr(obj, "_fields"):
                raise TypeError("ndgrad.save can't store namedtuples; convert to a tuple or dict")
            out = {tag: [sub(v, i) for i, v in enumerate(obj)]}
        self.active.discard(id(obj))
        return out

    def _tensor(self, t: Tensor, path: str) -> dict:
        node = self._ref("tensor", t, to_numpy(t.detach()._data), path)
        if t.device != CPU:
            node["device"] = str(t.device)
        if t.requires_grad:
            node["requires_grad"] = True
        from .nn.parameter import Parameter

        if isinstance(t, Parameter):
            node["parameter"] = True
        return node

    def _ref(self, tag: str, owner, arr: np.ndarray, path: str) -> dict:
        """{tag: name} for ``arr``'s data, stored once per object (aliases load as one)."""
        c128 = arr.dtype == np.complex128
        name = self.names.get(id(owner))
        if name is None:
            name = path or tag
            while name in self.arrays or name == "__metadata__":
                name += "_"
            if c128:  # as float64 pairs: safetensors has no complex128
                arr = arr[..., None].view(np.float64)
            self.arrays[name] = np.asarray(arr, order="C")
            self.names[id(owner)] = name
            self.keep.append(owner)
        return {tag: name, "complex128": True} if c128 else {tag: name}


def _global_name(g) -> str:
    """'module:qualname' of a class or function, found again under that name (pickle's rule)."""
    module, qualname = getattr(g, "__module__", None), getattr(g, "__qualname__", "")
    # an argument-check wrapper keeps its function's names (ndgrad.nn._functional.activation.relu
    # for F.relu): it is found in the public namespace it is exported from
    for home in (module, "ndgrad.nn.functional", "ndgrad", "ndgrad.linalg", "ndgrad.special",
                 "ndgrad.fft"):
        found = sys.modules.get(home) if home else None
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if found is g:
            return f"{home}:{qualname}"
    raise TypeError(f"ndgrad.save can't store {g!r}: it is not found as {module}.{qualname} "
                    "(a local or lambda function or class)")


def _plain_object(obj) -> bool:
    """An object pickle stores through object.__reduce_ex__ and its __dict__ (an nn.Module, an
    argparse.Namespace), not one with a reduce of its own or __slots__ state."""
    cls = type(obj)
    return (cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__
            and isinstance(getattr(obj, "__dict__", None), dict)
            and cls.__getstate__ is object.__getstate__ and not hasattr(cls, "_fields")
            and "__slots__" not in cls.__dict__)


# --- reading ----------------------------------------------------------------------------------
def _place(arr: np.ndarray, saved_device: str, map_location) -> Tensor:
    """A tensor of ``arr`` on the device ``map_location`` picks for ``saved_device``."""
    dev = saved_device
    if isinstance(map_location, dict):
        dev = map_location.get(saved_device, saved_device)
    elif isinstance(map_location, (str, device)):
        dev = map_location
    t = Tensor._make(arr, CPU)
    if callable(map_location):
        out = map_location(t, saved_device)
        return out if isinstance(out, Tensor) else t
    d = device(dev)
    if d == CPU:
        return t
    # A device named only by the file must not import CuPy (a file's contents never make ndgrad
    # import a module): it needs CUDA the user has already started, or a map_location.
    asked = dev is not saved_device or "cupy" in sys.modules
    if not asked or not cuda_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
            "False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU.")
    d = tensor_device(d)  # "cuda" is cuda:N
    return Tensor._make(to_device(arr, d), d)


class _Decoder:
    """Rebuilds an object from the JSON tree; accepts only the node types _Encoder writes."""

    def __init__(self, arrays: dict[str, np.ndarray], map_location,
                 any_global: bool = False) -> None:
        self.arrays, self.map_location, self.any_global = arrays, map_location, any_global
        self.tensors: dict[str, Tensor] = {}
        self.objects: dict[int, Any] = {}

    def decode(self, node, depth: int):
        if depth > _MAX_DEPTH:
            raise S.SafetensorsError(f"invalid ndgrad metadata: nested deeper than {_MAX_DEPTH}")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict) or not node:
            raise S.SafetensorsError(f"invalid ndgrad metadata node {node!r:.80}")
        tag = next(iter(node))
        val = node[tag]
        if tag == "tensor":
            return self._tensor(node)
        if tag == "ndarray":
            return self._array(node)
        if tag in ("dict", "odict", "counter"):
            pairs = [(self._key(k, depth), self.decode(v, depth + 1)) for k, v in _pairs(val)]
            return {"dict": dict, "odict": OrderedDict, "counter": Counter}[tag](dict(pairs))
        if tag in ("tuple", "set"):
            items = [self.decode(v, depth + 1) for v in _list(val)]
            return tuple(items) if tag == "tuple" else set(items)
        if tag == "global" and isinstance(val, str):
            return self._global(val)
        if tag == "object" and isinstance(val, str) and type(node.get("index")) is int:
            return self._object(val, node, depth)
        if tag == "objref" and type(val) is int and val in self.objects:
            return self.objects[val]
        return self._leaf(tag, val, node)

    def _global(self, name: str):
        """The class or function ``name`` names: a safe global, or with weights_only=False one
        of an imported module; never imports (torch's weights_only message otherwise)."""
        from ._safe_globals import _SAFE

        for g in _SAFE:  # a wrapper (F.relu) allows the function it wraps, stored as itself
            for candidate in (g, inspect.unwrap(g) if callable(g) else g):
                try:
                    if _global_name(candidate) == name:
                        return candidate
                except TypeError:
                    pass
        module, _, qualname = name.partition(":")
        if not self.any_global:
            raise pickle.UnpicklingError(
                "Weights only load failed. In PyTorch 2.6, we changed the default value of the "
                "`weights_only` argument in `torch.load` from `False` to `True`. Re-running "
                "`torch.load` with `weights_only` set to `False` will likely succeed, but it can "
                "result in arbitrary code execution. Do it only if you got the file from a "
                f"trusted source.\nWeightsUnpickler error: Unsupported global: GLOBAL "
                f"{module}.{qualname} was not an allowed global by default. Please use "
                f"`torch.serialization.add_safe_globals([{qualname.rsplit('.', 1)[-1]}])` or the "
                "`torch.serialization.safe_globals` context manager to allowlist this global if "
                "you trust this class/function.")
        found = sys.modules.get(module)
        if found is None:
            raise pickle.UnpicklingError(
                f"ndgrad.load never imports a module because of a file's contents: the file names "
                f"{module}.{qualname}; import {module} first")
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if found is None:
            raise pickle.UnpicklingError(f"Can't get attribute '{qualname}' on module {module}")
        return found

    def _object(self, name: str, node: dict, depth: int):
        cls = self._global(name)
        if not isinstance(cls, type):
            raise S.SafetensorsError(f"invalid ndgrad metadata: {name!r:.80} is not a class")
        obj = cls.__new__(cls)
        self.objects[node["index"]] = obj
        state = self.decode(node.get("state"), depth + 1)
        if not isinstance(state, dict):
            raise S.SafetensorsError("invalid ndgrad metadata: an object's state is a dict")
        setstate = getattr(obj, "__setstate__", None)
        if setstate is not None and type(obj).__setstate__ is not getattr(object, "__setstate__",
                                                                          None):
            setstate(state)
        else:
            obj.__dict__.update(state)
        return obj

    def _key(self, node, depth: int):
        key = self.decode(node, depth + 1)
        hash(key)  # an unhashable key (a list) is a malformed file: TypeError, reported above
        return key

    def _leaf(self, tag: str, val, node: dict):
        if tag == "float" and val in ("inf", "-inf", "nan"):
            return float(val)
        if tag == "dtype" and val in D._BY_NAME:
            return D._BY_NAME[val]
        if tag == "device" and isinstance(val, str):
            return _device(val)
        if tag == "size" and isinstance(val, list) and all(type(v) is int for v in val):
            return Size(val)
        if tag == "npscalar" and isinstance(val, str) and np.dtype(val).kind in _SCALAR_KINDS \
                and type(node.get("value")) in (bool, int, float):
            return np.dtype(val).type(node["value"])
        if tag == "complex" and isinstance(val, list) and len(val) == 2:
            return complex(*val)
        if tag == "bytes" and isinstance(val, str):
            return base64.b64decode(val, validate=True)
        raise S.SafetensorsError(f"invalid ndgrad metadata node {node!r:.80}")

    def _array(self, node: dict) -> np.ndarray:
        name = next(iter(node.values()))
        if not isinstance(name, str) or name not in self.arrays:
            raise S.SafetensorsError(f"invalid ndgrad metadata: no tensor named {name!r:.80}")
        arr = self.arrays[name]
        if node.get("complex128"):
            if arr.dtype != np.float64 or arr.shape[-1:] != (2,):
                raise S.SafetensorsError(f"invalid ndgrad metadata: {name!r} is not complex128")
            arr = arr.view(np.complex128)[..., 0]
        return arr

    def _tensor(self, node: dict) -> Tensor:
        name = node["tensor"]
        if isinstance(name, str) and name in self.tensors:
            return self.tensors[name]
        arr = self._array(node)
        dev = str(_device(node.get("device", "cpu")))
        t = _place(_supported(arr), dev, self.map_location)
        if node.get("parameter"):
            from .nn.parameter import Parameter

            t = Parameter(t, requires_grad=bool(node.get("requires_grad")))
        elif node.get("requires_grad"):
            t.requires_grad_(True)
        self.tensors[name] = t
        return t


def _device(name) -> device:
    try:
        if isinstance(name, str):
            return device(name)
    except (RuntimeError, ValueError):
        pass
    raise S.SafetensorsError(f"invalid ndgrad metadata: device {name!r:.80}")


def _supported(arr: np.ndarray) -> np.ndarray:
    """``arr`` if ndgrad has its dtype (not U16/U32/U64); else TypeError, reported as invalid."""
    D.from_numpy(arr.dtype)
    return arr


def _list(val) -> list:
    if not isinstance(val, list):
        raise S.SafetensorsError(f"invalid ndgrad metadata: expected a list, got {val!r:.80}")
    return val


def _pairs(val) -> list:
    if not all(isinstance(p, list) and len(p) == 2 for p in _list(val)):
        raise S.SafetensorsError("invalid ndgrad metadata: a mapping must be [key, value] pairs")
    return val


from ._safe_globals import (add_safe_globals, clear_safe_globals,  # noqa: E402,F401
                            get_safe_globals, safe_globals)
