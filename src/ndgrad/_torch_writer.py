"""Writing torch.save's zip archive: ``archive/data.pkl`` (protocol 2, tensors as
``torch._utils._rebuild_tensor_v2`` over persistent storage ids) and one record per storage, so
that torch.load (with its default ``weights_only=True``) reads ndgrad's checkpoints.

Only what torch's weights_only unpickler accepts is written this way: tensors, Parameters,
containers, numbers, strings, bytes, dtypes, Size and device. ``dumps`` returns None for anything
else (a whole nn.Module, a class, a NumPy array): serialization.py stores those in its own format.
Tensors viewing one NumPy array share one storage record (strides and offsets kept)."""

from __future__ import annotations

import codecs
import io
import os
import pickle
import zipfile
from collections import Counter, OrderedDict

import numpy as np

from . import _dtype as D
from ._backend import device, to_numpy
from ._tensor import Size, Tensor

_STORAGE_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half",
                  "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                  "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                  "complex128": "ComplexDouble"}
# what pickle's own reduce of an OrderedDict, Counter, set, complex or bytes names
_REDUCE_GLOBALS = (OrderedDict, Counter, set, complex, codecs.encode)
_PLAIN = (type(None), bool, int, float, complex, str, bytes, list, tuple, set, dict, OrderedDict,
          Counter)


class _NotWeights(Exception):
    """The object holds something torch's weights_only unpickler would refuse."""


class _Global:
    """A global written by name (torch need not be importable where ndgrad saves)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce wants a callable; never called
        raise TypeError(f"{self.module}.{self.name} is only a name in a pickle")


class _StorageRef:
    __slots__ = ("key", "dtype", "numel", "location")

    def __init__(self, key: str, dtype: D.dtype, numel: int, location: str) -> None:
        self.key, self.dtype, self.numel, self.location = key, dtype, numel, location


class _Plain:
    """A Parameter's data, pickled as a plain tensor."""

    __slots__ = ("t",)

    def __init__(self, t: Tensor) -> None:
        self.t = t


class _Pickler(pickle._Pickler):  # the Python pickler: its save() can write a GLOBAL by name
    def __init__(self, f, records: dict) -> None:
        super().__init__(f, protocol=2)
        self.records = records  # key -> bytes
        self.keys: dict[int, tuple] = {}  # id(root array) -> (key, root)
        self.globals: dict[tuple, _Global] = {}

    def g(self, module: str, name: str) -> _Global:
        return self.globals.setdefault((module, name), _Global(module, name))

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, D.dtype):
            obj = self.g("torch", obj.name)
        if type(obj) is _Global:
            hit = self.memo.get(id(obj))
            if hit is not None:
                self.write(self.get(hit[0]))
                return
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            self.memoize(obj)
            return
        if not isinstance(obj, (Tensor, Size, device, _Plain, _StorageRef, *_PLAIN)) and not any(
                obj is a for a in _REDUCE_GLOBALS):
            raise _NotWeights
        if isinstance(obj, dict) and type(obj) not in (dict, OrderedDict, Counter):
            raise _NotWeights
        if isinstance(obj, tuple) and type(obj) not in (tuple, Size):
            raise _NotWeights  # a namedtuple
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if type(obj) is not _StorageRef:
            return None
        if obj.dtype.name in _STORAGE_NAMES:
            kind = self.g("torch", _STORAGE_NAMES[obj.dtype.name] + "Storage")
            return ("storage", kind, obj.key, obj.location, obj.numel)
        return ("storage", self.g("torch.storage", "UntypedStorage"), obj.key, obj.location,
                obj.numel * obj.dtype.itemsize)

    def reducer_override(self, obj):
        from .nn.parameter import Parameter

        if isinstance(obj, Parameter):
            return (self.g("torch._utils", "_rebuild_parameter"),
                    (_Plain(obj), obj.requires_grad, OrderedDict()))
        if isinstance(obj, (Tensor, _Plain)):
            return self._tensor(obj.t if isinstance(obj, _Plain) else obj)
        if isinstance(obj, Size):
            return (self.g("torch", "Size"), (tuple(obj),))
        if isinstance(obj, device):
            args = (obj.type,) if obj.index is None else (obj.type, obj.index)
            return (self.g("torch", "device"), args)
        return NotImplemented

    def _tensor(self, t: Tensor):
        arr = to_numpy(t.detach()._data)
        dt = D.from_numpy(arr.dtype)
        root, offset, strides = _root(arr)
        key, _ = self.keys.setdefault(id(root), (str(len(self.keys)), root))  # keeps root alive
        self.records[key] = root
        ref = _StorageRef(key, dt, root.size, str(t.device))
        hooks = OrderedDict()
        if dt.name in _STORAGE_NAMES:
            return (self.g("torch._utils", "_rebuild_tensor_v2"),
                    (ref, offset, tuple(arr.shape), strides, t.requires_grad, hooks))
        return (self.g("torch._utils", "_rebuild_tensor_v3"),
                (ref, offset, tuple(arr.shape), strides, t.requires_grad, hooks, dt))


def _root(arr: np.ndarray):
    """(storage array, offset, strides in elements) of ``arr``: the contiguous array it views when
    there is one of its dtype, else a contiguous copy of its own."""
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    if arr.size and root.dtype == arr.dtype and root.flags.c_contiguous and all(
            s >= 0 and s % arr.itemsize == 0 for s in arr.strides):
        off = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        if off >= 0 and off % arr.itemsize == 0:
            return root, off // arr.itemsize, tuple(s // arr.itemsize for s in arr.strides)
    flat = np.ascontiguousarray(arr)
    strides, acc = [], 1
    for n in reversed(arr.shape):
        strides.insert(0, acc)
        acc *= max(n, 1)
    return flat, 0, tuple(strides)


def dumps(obj, archive: str = "archive") -> bytes | None:
    """torch.save's zip archive of ``obj``, or None where torch's weights_only load would refuse
    something in it."""
    records: dict[str, np.ndarray] = {}
    pkl = io.BytesIO()
    try:
        _Pickler(pkl, records).dump(obj)
    except _NotWeights:
        return None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{archive}/data.pkl", pkl.getvalue())
        z.writestr(f"{archive}/.format_version", "1")
        z.writestr(f"{archive}/.storage_alignment", "64")
        z.writestr(f"{archive}/byteorder", "little")
        for key, arr in records.items():
            z.writestr(f"{archive}/data/{key}", np.ascontiguousarray(arr).tobytes())
        z.writestr(f"{archive}/version", "3\n")
        z.writestr(f"{archive}/.data/serialization_id", os.urandom(20).hex())
    return out.getvalue()
