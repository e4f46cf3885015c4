"""The safetensors file format, read and written with NumPy (no pickle, no extra package).

Layout: 8-byte little-endian header length N, N bytes of JSON (space-padded so data starts on an
8-byte boundary) mapping each tensor name to its dtype, shape and [begin, end) byte range in the
data that follows, plus an optional ``__metadata__`` object of strings. Tensors are laid out
largest dtype first, then by name, exactly as the reference writer does, so the same tensors and
metadata give byte-identical files. The reader checks everything it is given: a truncated,
corrupted or hostile file raises ``SafetensorsError`` (a RuntimeError), never anything worse."""

from __future__ import annotations

import json
import math

import ml_dtypes
import numpy as np

MAX_HEADER = 100_000_000  # the reference reader's limit
MAX_DIMS = 64

# The reference writer's dtype order (its enum order); files sort by it, largest first.
_ORDER = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64",
          "U64"]
_NP = {"BOOL": np.dtype(np.bool_), "U8": np.dtype("<u1"), "I8": np.dtype("<i1"),
       "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "F16": np.dtype("<f2"),
       "BF16": np.dtype(ml_dtypes.bfloat16), "I32": np.dtype("<i4"), "U32": np.dtype("<u4"),
       "F32": np.dtype("<f4"), "C64": np.dtype("<c8"), "F64": np.dtype("<f8"),
       "I64": np.dtype("<i8"), "U64": np.dtype("<u8")}
_CODE = {v: k for k, v in _NP.items()}


class SafetensorsError(RuntimeError):
    """A file that is not a valid safetensors file."""


def dtype_code(a: np.ndarray) -> str:
    try:
        return _CODE[a.dtype]
    except KeyError:
        raise TypeError(f"safetensors can't store dtype {a.dtype}") from None


def dumps(arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding ``arrays`` (little-endian, C order)."""
    names = sorted(arrays, key=lambda k: (-_ORDER.index(dtype_code(arrays[k])), k))
    header: dict = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for k in names:
        a = arrays[k]
        header[k] = {"dtype": dtype_code(a), "shape": list(a.shape),
                     "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    parts = [len(text).to_bytes(8, "little"), text]
    parts += [arrays[k].tobytes() for k in names]  # C order, whatever the strides
    return b"".join(parts)


_NOT = (": this is not a safetensors file (ndgrad.load reads files written by ndgrad.save or any "
        "safetensors writer)")


def _bad(msg: str) -> SafetensorsError:
    return SafetensorsError(f"invalid safetensors file: {msg}")


def loads(buf: bytearray) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays, metadata) of a safetensors file's bytes; arrays are views into ``buf`` (copies
    when unaligned), in header order."""
    if len(buf) < 8:
        raise _bad(f"it has {len(buf)} bytes, fewer than the 8 of the header length")
    n = int.from_bytes(buf[:8], "little")
    if n > MAX_HEADER:
        raise _bad(f"header length {n} is larger than the {MAX_HEADER} bytes allowed{_NOT}")
    if 8 + n > len(buf):
        raise _bad(f"header length {n} runs past the end of the file ({len(buf)} bytes){_NOT}")
    if n and buf[8:9] != b"{":
        raise _bad(f"the header does not start with '{{'{_NOT}")
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _bad(f"the header is not valid JSON ({type(e).__name__}: {e})") from None
    if not isinstance(header, dict):
        raise _bad("the header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise _bad("__metadata__ must map strings to strings")
    data = memoryview(buf)[8 + n:]
    spans = [_entry(name, info, len(data)) for name, info in header.items()]
    end = 0
    for name, _, begin, stop, _ in sorted(spans, key=lambda s: (s[2], s[3])):
        if begin != end:
            raise _bad(f"tensor {name!r} starts at byte {begin}, expected {end} (tensors must "
                       "cover the data without gaps or overlaps)")
        end = stop
    if end != len(data):
        raise _bad(f"the tensors cover {end} bytes of data but the file has {len(data)}")
    arrays = {}
    for name, dt, begin, stop, shape in spans:
        a = np.frombuffer(data, dtype=dt, count=(stop - begin) // dt.itemsize, offset=begin)
        if not a.flags.aligned:
            a = a.copy()
        arrays[name] = a.reshape(shape)
    return arrays, meta


def _entry(name: str, info, size: int):
    """(name, dtype, begin, end, shape) of one header entry, validated against the data size."""
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise _bad(f"entry {name!r} must have exactly dtype, shape and data_offsets")
    dt = _NP.get(info["dtype"]) if isinstance(info["dtype"], str) else None
    if dt is None:
        raise _bad(f"entry {name!r} has unsupported dtype {info['dtype']!r}")
    shape, offs = info["shape"], info["data_offsets"]
    if not (isinstance(shape, list) and len(shape) <= MAX_DIMS and all(
            type(d) is int and d >= 0 for d in shape)):
        raise _bad(f"entry {name!r} has an invalid shape {shape!r}")
    if not (isinstance(offs, list) and len(offs) == 2 and all(
            type(o) is int for o in offs) and 0 <= offs[0] <= offs[1] <= size):
        raise _bad(f"entry {name!r} has invalid data_offsets {offs!r} for {size} bytes of data")
    if math.prod([d for d in shape if d]) * dt.itemsize >= 2 ** 63:  # NumPy can't shape it
        raise _bad(f"entry {name!r} has a shape {shape} too large to address")
    if math.prod(shape) * dt.itemsize != offs[1] - offs[0]:
        raise _bad(f"entry {name!r}: shape {shape} of {info['dtype']} needs "
                   f"{math.prod(shape) * dt.itemsize} bytes but data_offsets span "
                   f"{offs[1] - offs[0]}")
    return name, dt, offs[0], offs[1], tuple(shape)
