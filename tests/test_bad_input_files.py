"""Damaged and odd files for torch.load: ndgrad raises torch's exception type with torch's message
(the archive's version record out of range or unparsable, a missing data.pkl or version, a
truncated archive, an empty file, a bare pickle that is not the legacy format), and reads Python
2's names in a protocol-2 pickle as pickle does (__builtin__.xrange is range); an explicit
pickle_module means weights_only=False (True with it is torch's error); the unsafe globals of a
checkpoint, read statically."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest
import torch

import ndgrad


def _zip(pkl: bytes, version: str | None = "3\n", name: str = "archive/data.pkl") -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(name, pkl)
        if version is not None:
            z.writestr("archive/version", version)
    return b.getvalue()


def _good() -> bytes:
    b = io.BytesIO()
    torch.save({"a": torch.ones(2)}, b)
    return b.getvalue()


DICT = pickle.dumps({"a": 1}, protocol=2)
FILES = {
    **{f"version {v!r}": _zip(DICT, version=v) for v in ("99\n", "11", "0\n", "abc\n", "")},
    "no data.pkl": _zip(DICT, name="archive/other"),
    "no version": _zip(DICT, version=None),
    "neither": _zip(DICT, version=None, name="archive/other"),
    "truncated to 10 bytes": _good()[:10],
    "truncated to half": _good()[:len(_good()) // 2],
    "truncated by 5 bytes": _good()[:-5],
}


def _outcome(lib, data, **kw):
    try:
        lib.load(io.BytesIO(data), **kw)
    except Exception as e:  # noqa: BLE001  (compared with torch's)
        return type(e).__name__, str(e)
    return "ok", None


@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("name", list(FILES))
def test_damaged_archive_errors_as_torch(name, weights_only):
    want = _outcome(torch, FILES[name], weights_only=weights_only)
    assert want[0] == "RuntimeError"
    assert _outcome(ndgrad, FILES[name], weights_only=weights_only) == want


@pytest.mark.parametrize("version", ["1", "10\n", " 3\n"])
def test_supported_versions_load(version):
    for lib in (torch, ndgrad):
        assert lib.load(io.BytesIO(_zip(DICT, version=version))) == {"a": 1}


def test_empty_file_is_torchs_eof_error():
    for lib in (torch, ndgrad):
        with pytest.raises(EOFError):
            lib.load(io.BytesIO(b""))


def test_bare_pickle_that_is_not_the_legacy_format():
    """torch reads the first pickle as the legacy magic number with the unpickler asked for:
    a bare NumPy pickle is a bad magic number when weights_only=False."""
    data = pickle.dumps({"a": np.ones(2)}, protocol=2)
    for lib in (torch, ndgrad):
        with pytest.raises(RuntimeError, match="Invalid magic number; corrupt file"):
            lib.load(io.BytesIO(data), weights_only=False)


def test_python2_names_in_a_protocol_2_pickle():
    data = _zip(pickle.dumps({"r": range(1, 7, 2)}, protocol=2))
    assert b"xrange" in data
    for lib in (torch, ndgrad):
        assert lib.load(io.BytesIO(data), weights_only=False) == {"r": range(1, 7, 2)}


def test_explicit_pickle_module_is_not_weights_only():
    data = _zip(pickle.dumps({"r": range(3)}, protocol=2))
    for lib in (torch, ndgrad):
        assert lib.load(io.BytesIO(data), pickle_module=pickle)["r"] == range(3)
        with pytest.raises(RuntimeError, match="Can not safely load weights when explicit "
                                               "pickle_module is specified"):
            lib.load(io.BytesIO(data), weights_only=True, pickle_module=pickle)


def test_unsafe_globals_in_checkpoint_as_torch():
    b = io.BytesIO()
    torch.save({"a": torch.ones(2), "m": torch.nn.Linear(2, 2), "s": {1}, "c": 1j}, b)
    legacy = io.BytesIO()
    torch.save({"a": 1}, legacy, _use_new_zipfile_serialization=False)
    got = [sorted(lib.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(b.getvalue())))
           for lib in (torch, ndgrad)]
    assert got[0] == got[1] == ["torch.nn.modules.linear.Linear"]
    for lib in (torch, ndgrad):
        with pytest.raises(ValueError, match="Expected input to be a checkpoint returned by "):
            lib.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(legacy.getvalue()))
