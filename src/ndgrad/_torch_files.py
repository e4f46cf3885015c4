"""Reading files written by torch.save: the zip archive (``archive/data.pkl`` + one record per
storage) and the legacy stream (``_use_new_zipfile_serialization=False``: magic number, protocol,
system info, the object's pickle, storage keys, then each storage's raw bytes).

Pickles are read under torch's ``weights_only`` rules: a GLOBAL may name only what torch allows by
default (tensor rebuild functions, storage types, dtypes, Size, device, OrderedDict, set...), each
mapped to ndgrad's own, or a class the program allowed through ``serialization.add_safe_globals``;
anything else is torch's UnpicklingError before it is called. With ``weights_only=False`` a
global may also be any attribute of a module the program has already imported (``torch.x`` read as
``ndgrad.x``), as torch's full unpickler would allow, but for os/sys and builtins that run code
(eval, exec, getattr, open...); a file's contents never import a module.
Tensors that shared a storage in torch are NumPy views of one array here (same strides, offsets
and memory)."""

from __future__ import annotations

import _compat_pickle
import codecs
import io
import pickle
import re
import struct
import sys
import zipfile
import zlib
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from . import _dtype as D
from ._tensor import Size, Tensor

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_BLOCKED = ("sys", "os", "posix", "nt")  # torch's blocklisted modules (their own message)
_RUNS_CODE = {("builtins", n) for n in ("eval", "exec", "compile", "__import__", "getattr",
                                          "setattr", "open", "breakpoint", "input")}
_STORAGES = {"Double": "float64", "Float": "float32", "Half": "float16", "BFloat16": "bfloat16",
             "Long": "int64", "Int": "int32", "Short": "int16", "Char": "int8", "Byte": "uint8",
             "Bool": "bool", "ComplexFloat": "complex64", "ComplexDouble": "complex128"}
_TORCH_DOC = ("\n\nCheck the documentation of torch.load to learn more about types accepted by "
              "default with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
_RERUN = ("In PyTorch 2.6, we changed the default value of the `weights_only` argument in "
          "`torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set to "
          "`False` will likely succeed, but it can result in arbitrary code execution. Do it only "
          "if you got the file from a trusted source.")


def is_torch_file(buf) -> bool:
    """A zip archive or a pickle (torch's legacy format, or a bare pickle torch would refuse)."""
    return bytes(buf[:4]) == b"PK\x03\x04" or bytes(buf[:1]) in (b"\x80", b"c", b"(", b"}", b"]")


def load(buf, place, weights_only: bool):
    """The object in a torch.save file; ``place(array, location)`` makes a tensor on its device."""
    try:
        if bytes(buf[:4]) == b"PK\x03\x04":
            return _load_zip(bytes(buf), place, weights_only)
        return _load_legacy(bytes(buf), place, weights_only)
    except (pickle.UnpicklingError, RuntimeError):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, EOFError, OSError,
            ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            MemoryError, RecursionError) as e:  # a damaged file: torch's RuntimeError
        raise RuntimeError(f"invalid torch file: {type(e).__name__}: {e}") from None


class _StorageType:
    """torch.FloatStorage & co in a pickle: only its dtype matters."""

    def __init__(self, dtype: np.dtype | None) -> None:
        self.dtype = dtype  # None: UntypedStorage (bytes)


class _Storage:
    __slots__ = ("array", "location")

    def __init__(self, array: np.ndarray, location: str) -> None:
        self.array, self.location = array, location


def _refused(module: str, name: str) -> pickle.UnpicklingError:
    if module in _BLOCKED:
        return pickle.UnpicklingError(
            f"Weights only load failed. {_RERUN}\n\n\nTrying to load unsupported GLOBAL "
            f"{module}.{name} whose module {module} is blocked.{_TORCH_DOC}")
    full = name if module == "builtins" else f"{module}.{name}"
    short = name.rsplit(".", 1)[-1]
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, "
        "\x1b[1mdo those steps only if you trust the source of the checkpoint\x1b[0m. \n\t(1) "
        f"{_RERUN}\n\t(2) Alternatively, to load with `weights_only=True` please check the "
        "recommended steps in the following error message.\n\tWeightsUnpickler error: "
        f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
        f"`torch.serialization.add_safe_globals([{short}])` or the "
        f"`torch.serialization.safe_globals([{short}])` context manager to allowlist this global "
        f"if you trust this class/function.{_TORCH_DOC}")


class _Reader:
    """Turns torch's pickled objects into ndgrad's: the allowlist, storages and tensor rebuilds."""

    def __init__(self, place, weights_only: bool, storage) -> None:
        self.place, self.weights_only, self.storage = place, weights_only, storage

    # --- the globals a pickle may name --------------------------------------------------------
    def find_class(self, module: str, name: str):
        # Python 2's names as pickle's own find_class reads them (__builtin__.xrange is range)
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[module, name]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = self._allowed(module, name)
        if found is not None:
            return found
        if self.weights_only or module in _BLOCKED or (module, name) in _RUNS_CODE:
            raise _refused(module, name)  # the last two even when not weights_only: no exec
        return self._imported(module, name)

    def _allowed(self, module: str, name: str):
        from . import _safe_globals
        from ._layouts import strided
        from .nn.parameter import Parameter

        fixed = {("collections", "OrderedDict"): OrderedDict, ("collections", "Counter"): Counter,
                 ("torch.nn.parameter", "Parameter"): Parameter, ("torch", "Size"): Size,
                 ("torch", "Tensor"): Tensor, ("torch", "device"): _device,
                 ("torch.serialization", "_get_layout"): lambda n: strided,
                 ("_codecs", "encode"): _encode, ("builtins", "bytearray"): bytearray,
                 ("builtins", "set"): set, ("builtins", "complex"): complex,
                 ("torch._tensor", "_rebuild_from_type_v2"): self._from_type}
        if (module, name) in fixed:
            return fixed[module, name]
        if module == "torch._utils" and name.startswith("_rebuild_"):
            return getattr(self, name, None) or _unsupported(name)
        if module in ("torch", "torch.storage") and name.endswith("Storage"):
            kind = name[:-len("Storage")]
            if kind in _STORAGES or kind in ("Untyped", "Typed"):
                return _StorageType(np.dtype(D._BY_NAME[_STORAGES[kind]].np)
                                    if kind in _STORAGES else None)
        if module == "torch" and name in D._BY_NAME:
            return D._BY_NAME[name]
        for g in _safe_globals._SAFE:  # torch's key: "module.qualname", or (obj, "name")
            obj, key = g if isinstance(g, tuple) else (g, None)
            if key is None:
                key = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
            if key == f"{module}.{name}":
                return obj
        return None

    def _imported(self, module: str, name: str):
        """weights_only=False: an attribute of an imported module (torch.* read as ndgrad.*)."""
        if module == "torch" or module.startswith("torch."):
            module = "ndgrad" + module[len("torch"):]
        found = sys.modules.get(module)
        if found is None:
            raise pickle.UnpicklingError(
                f"ndgrad.load never imports a module because of a file's contents: the file "
                f"names {module}.{name}; import {module} first")
        for part in name.split("."):
            found = getattr(found, part, None)
        if found is None:
            raise pickle.UnpicklingError(f"Can't get attribute '{name}' on module {module}")
        return found

    # --- tensors ------------------------------------------------------------------------------
    def _rebuild_tensor(self, storage, offset, size, stride):
        return self._rebuild_tensor_v2(storage, offset, size, stride, False, None)

    def _rebuild_tensor_v2(self, storage, offset, size, stride, requires_grad, backward_hooks,
                           metadata=None):
        if not isinstance(storage, _Storage):
            raise RuntimeError(f"invalid torch file: a tensor's storage is {type(storage)!r:.80}")
        return self._view(storage, storage.array, offset, size, stride, requires_grad)

    def _rebuild_tensor_v3(self, storage, offset, size, stride, requires_grad, backward_hooks,
                           dtype, metadata=None):
        if not isinstance(storage, _Storage) or not isinstance(dtype, D.dtype):
            raise RuntimeError("invalid torch file: a tensor's storage or dtype")
        raw = storage.array
        n = raw.nbytes // dtype.itemsize * dtype.itemsize
        return self._view(storage, raw.view(np.uint8)[:n].view(dtype.np), offset, size, stride,
                          requires_grad)

    def _view(self, storage, arr, offset, size, stride, requires_grad):
        if not (_ints(size) and _ints(stride) and len(size) == len(stride) and _ints([offset])):
            raise RuntimeError("invalid torch file: a tensor's size, stride or offset")
        size, stride = tuple(size), tuple(stride)
        if any(n < 0 for n in size) or offset < 0:
            raise RuntimeError(f"invalid torch file: size {list(size)}, offset {offset}")
        if any(s < 0 for s in stride):
            raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                               f"got strides: {list(stride)}")
        numel = int(np.prod(size, dtype=object))
        need = 0 if numel == 0 else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if need > arr.size:
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                f"{offset}, and itemsize {arr.itemsize} requiring a storage size of "
                f"{need * arr.itemsize} are out of bounds for storage of size {arr.nbytes}")
        if numel == 0:
            view = np.empty(size, arr.dtype)
        else:
            view = np.ndarray(size, arr.dtype, buffer=arr, offset=offset * arr.itemsize,
                              strides=tuple(s * arr.itemsize for s in stride))  # base: arr
        t = self.place(view, storage.location)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def _rebuild_parameter(self, data, requires_grad, backward_hooks):
        from .nn.parameter import Parameter

        return Parameter(data, requires_grad)

    def _rebuild_parameter_with_state(self, data, requires_grad, backward_hooks, state):
        return _set_state(self._rebuild_parameter(data, requires_grad, backward_hooks), state)

    def _from_type(self, func, new_type, args, state):
        t = func(*args)
        if isinstance(new_type, type) and not isinstance(t, new_type):
            raise pickle.UnpicklingError(f"ndgrad.load can't make a {new_type.__name__} tensor")
        return _set_state(t, state)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple):
            raise pickle.UnpicklingError(f"Weights only load failed: persistent_load id must be "
                                         f"tuple or int, but got {type(pid)}")
        if not pid or pid[0] not in ("storage", b"storage"):
            raise pickle.UnpicklingError(f"Weights only load failed: only persistent_load of "
                                         f"storage is allowed, but got {pid[:1]!r:.80}")
        return self.storage(*pid[1:])


def _unsupported(name: str):
    def refuse(*args, **kwargs):
        raise RuntimeError(f"ndgrad.load can't rebuild the tensors torch._utils.{name} makes "
                           "(quantized, sparse, nested, meta or subclass tensors)")
    return refuse


def _device(*args):
    from ._backend import device

    return device(*args)


def _encode(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("invalid torch file: _codecs.encode of a non-latin1 string")
    return codecs.encode(text, encoding)


def _ints(xs) -> bool:
    return isinstance(xs, (tuple, list, Size)) and all(type(x) is int for x in xs)


def _set_state(obj, state):
    if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
        state = {**(state[0] or {}), **(state[1] or {})}
    for k, v in (state or {}).items():
        if not isinstance(k, str) or k.startswith("__"):  # no __class__ or __dict__ from a file
            raise RuntimeError(f"invalid torch file: a tensor attribute's name {k!r:.40}")
        setattr(obj, k, v)
    return obj


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, reader: _Reader) -> None:
        super().__init__(f, encoding="utf-8")
        self.reader = reader

    def find_class(self, module, name):
        return self.reader.find_class(module, name)

    def persistent_load(self, pid):
        return self.reader.persistent_load(pid)


def _unpickle(f, reader: _Reader):
    try:
        return _Unpickler(f, reader).load()
    except (pickle.UnpicklingError, RuntimeError, EOFError):
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            MemoryError, RecursionError) as e:
        raise pickle.UnpicklingError(f"invalid torch file: {type(e).__name__}: {e}") from None


def _dtype_of(storage_type) -> np.dtype:
    if not isinstance(storage_type, _StorageType):
        raise RuntimeError(f"invalid torch file: storage type {storage_type!r:.80}")
    return storage_type.dtype if storage_type.dtype is not None else np.dtype(np.uint8)


def _location(loc) -> str:
    loc = loc.decode("ascii") if isinstance(loc, bytes) else loc
    if not isinstance(loc, str):
        raise RuntimeError(f"invalid torch file: storage location {loc!r:.80}")
    return loc


def unsafe_globals(buf: bytes) -> list:
    """torch.serialization.get_unsafe_globals_in_checkpoint: the GLOBALs a torch.save archive's
    pickle names (read statically) that weights_only would refuse, as 'module.name'."""
    import pickletools

    if bytes(buf[:4]) != b"PK\x03\x04":
        raise ValueError("Expected input to be a checkpoint returned by torch.save")
    zf = zipfile.ZipFile(io.BytesIO(buf))
    pkl = next((n for n in zf.namelist() if n.rsplit("/", 1)[-1] == "data.pkl"), None)
    if pkl is None:
        raise RuntimeError(f"PytorchStreamReader failed locating file data.pkl: file not found"
                           f"{_MINIZ}")
    reader, found = _Reader(None, True, None), set()
    for op, arg, _ in pickletools.genops(zf.read(pkl)):
        if op.name == "GLOBAL":
            module, name = arg.split(" ", 1)
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[module, name]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            if reader._allowed(module, name) is None:
                found.add(f"{module}.{name}")
    return sorted(found)


# --- the zip archive ---------------------------------------------------------------------------
def _load_zip(buf: bytes, place, weights_only: bool):
    try:
        zf = zipfile.ZipFile(io.BytesIO(buf))
        names = zf.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        # miniz: shorter than an end-of-central-directory record is not an archive at all
        why = "not a ZIP archive" if len(buf) < 22 else "failed finding central directory"
        raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {why}{_MINIZ}") \
            from None
    prefix = names[0].split("/", 1)[0] + "/" if names and "/" in names[0] else ""

    def record(rec):
        return next((n for n in (prefix + rec, prefix + "." + rec) if n in names), None)

    if record("version") is None:
        raise RuntimeError('Expected hasRecord("version") to be true, but got false.  (Could '
                           'this error message be improved?  If so, please report an '
                           'enhancement request to PyTorch.)')
    _check_version(_read_record(zf, record("version"),  # (a few digits: not a huge record)
                                min(zf.getinfo(record("version")).file_size, 4096)))
    if record("data.pkl") is None:
        raise RuntimeError(f"PytorchStreamReader failed locating file data.pkl: file not found"
                           f"{_MINIZ}")
    big = _read_record(zf, prefix + "byteorder", 16) == b"big" if prefix + "byteorder" in names \
        else False
    storages: dict[str, _Storage] = {}

    def storage(storage_type, key, location, numel, *rest):
        key = key.decode("ascii") if isinstance(key, bytes) else key
        if not isinstance(key, str) or type(numel) is not int or numel < 0:
            raise RuntimeError("invalid torch file: a storage's key or size")
        if key not in storages:
            dt = _dtype_of(storage_type)
            name = f"{prefix}data/{key}"
            size = zf.getinfo(name).file_size if name in names else None
            if size is None:
                raise RuntimeError(f"PytorchStreamReader failed locating file data/{key}: "
                                   "file not found")
            want = numel * dt.itemsize
            if size != want:
                raise RuntimeError(  # torch reads the record as bytes
                    f"record size ({size} bytes) does not match expected size ({want} bytes = "
                    f"{want} elements * 1 bytes/element) for dtype Byte")
            arr = np.frombuffer(bytearray(_read_record(zf, name, want)),
                                dt.newbyteorder(">") if big else dt)
            storages[key] = _Storage(arr.astype(dt) if big else arr, _location(location))
        return storages[key]

    reader = _Reader(place, weights_only, storage)
    try:
        with zf.open(record("data.pkl")) as f:
            return _unpickle(f, reader)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as e:
        raise RuntimeError(f"PytorchStreamReader failed reading file data.pkl: {e}") from None


_MINIZ = (". This is an internal miniz error. If you are seeing this error, there is a high "
          "likelihood that your checkpoint file is corrupted. This can happen if the checkpoint "
          "was not saved properly, was transferred incorrectly, or the file was modified after "
          "saving.")


def _check_version(raw: bytes) -> None:
    """torch's reader: the archive's format version, parsed as C's stoll does, from 1 to 10."""
    text = raw.decode("latin1")
    m = re.match(r"\s*[+-]?\d+", text)
    if m is None:
        raise RuntimeError(f"[enforce fail at inline_container.cc:215] . Couldn't parse the "
                           f"version {text} as Long Long.")
    v = int(m.group())
    if v < 1:
        raise RuntimeError(f"[enforce fail at inline_container.cc:219] . Attempted to read a "
                           f"PyTorch file with version {v}, but the minimum supported version "
                           "for reading is 1. Your PyTorch script module file is too old. Please "
                           "regenerate it with latest version of PyTorch to mitigate this issue.")
    if v > 10:
        raise RuntimeError(f"[enforce fail at inline_container.cc:230] . Attempted to read a "
                           f"PyTorch file with version {v}, but the maximum supported version "
                           "for reading is 10. The version of your PyTorch installation may be "
                           "too old, please upgrade PyTorch to latest version to mitigate this "
                           "issue.")


def _read_record(zf: zipfile.ZipFile, name: str, size: int) -> bytes:
    with zf.open(name) as f:
        data = f.read(size + 1)
    if len(data) != size and name.rsplit("/", 1)[-1] != "byteorder":
        raise RuntimeError(f"PytorchStreamReader failed reading record {name}")
    return data.strip() if name.endswith("byteorder") else data


# --- the legacy stream -------------------------------------------------------------------------
def _load_legacy(buf: bytes, place, weights_only: bool):
    f = io.BytesIO(buf)
    plain = _Reader(place, weights_only, lambda *a: _no_storage())  # (as torch's unpickler)
    if _unpickle(f, plain) != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = _unpickle(f, plain)
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    _unpickle(f, plain)  # sys_info
    storages: dict[str, _Storage] = {}

    def storage(storage_type, key, location, numel, view_metadata=None, *rest):
        dt = _dtype_of(storage_type)
        if not isinstance(key, str) or type(numel) is not int or numel < 0:
            raise RuntimeError("invalid torch file: a storage's key or size")
        if key not in storages:
            if numel * dt.itemsize > len(buf):  # its bytes follow in this file
                raise RuntimeError(f"unexpected EOF: a storage of {numel} elements in a file of "
                                   f"{len(buf)} bytes. The file might be corrupted.")
            storages[key] = _Storage(np.zeros(numel, dt), _location(location))
        if view_metadata is None:
            return storages[key]
        view_key, offset, size = view_metadata
        if not (type(offset) is int and type(size) is int and 0 <= offset
                and offset + size <= numel):
            raise RuntimeError("invalid torch file: a storage view")
        if view_key not in storages:
            base = storages[key]
            storages[view_key] = _Storage(base.array[offset:offset + size], base.location)
        return storages[view_key]

    result = _unpickle(f, _Reader(place, weights_only, storage))
    keys = _unpickle(f, plain)
    if not isinstance(keys, list):
        raise RuntimeError("invalid torch file: the storage keys")
    for key in keys:
        if key not in storages:
            raise RuntimeError(f"invalid torch file: storage key {key!r:.80} not found")
        arr = storages[key].array
        head = f.read(8)
        if len(head) < 8:
            raise RuntimeError(f"unexpected EOF, expected {8 - len(head)} more bytes. The file "
                               "might be corrupted.")
        (numel,) = struct.unpack("<q", head)
        if numel != arr.size:
            raise RuntimeError(f"invalid torch file: storage {key!r} holds {numel} elements, "
                               f"expected {arr.size}")
        data = f.read(arr.nbytes)
        if len(data) < arr.nbytes:
            raise RuntimeError(f"unexpected EOF, expected {arr.nbytes - len(data)} more bytes. "
                               "The file might be corrupted.")
        arr[...] = np.frombuffer(data, arr.dtype)
    return result


def _no_storage() -> Any:
    raise RuntimeError("invalid torch file: a storage outside the object's pickle")
