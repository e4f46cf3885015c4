"""Crafted and foreign files: ndgrad.load ends every malformed one in its own SafetensorsError
(a RuntimeError), quickly and within memory proportional to the file, never imports a module
because of a file's contents, and says what a PyTorch pickle is and what to do with it."""

from __future__ import annotations

import io
import json
import pickle
import struct
import subprocess
import sys
import time

import pytest
import torch

import ndgrad
from ndgrad._safetensors import SafetensorsError


def _file(header: dict, data: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def _with_meta(tree) -> bytes:
    text = tree if isinstance(tree, str) else json.dumps(tree)
    return _file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                  "__metadata__": {"format": "pt", "ndgrad": text}}, b"\0" * 4)


SHAPES = [[0, 2 ** 62], [2 ** 62, 0], [0, 2 ** 63 - 1], [0, 2 ** 64], [0, -1],
          [2 ** 31, 2 ** 31, 0], [0] * 65, [1e3], ["1"], [True]]
NODES = [{"tensor": "zz"}, {"npscalar": "V99999999999", "value": 1},
         {"npscalar": "U999999999", "value": 1}, {"npscalar": "m8", "value": 1},
         {"npscalar": "O", "value": 1}, {"size": ["x"]}, {"device": "cuda:99999999999999999999"},
         {"dtype": "__class__"}, {"bytes": "!!!"}, {"complex": ["a", 1]}, {"dict": [[[1], 2]]},
         {"set": [[1]]}, {"tuple": 5}, {"odict": [[1]]}, {"": 1}, {"tensor": 1},
         {"ndarray": "a", "complex128": True}, {"counter": [["a"]]}, "[" * 100_000]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_crafted_shapes_end_in_the_loaders_error(shape):
    with pytest.raises(SafetensorsError):
        ndgrad.load(io.BytesIO(_file({"a": {"dtype": "F32", "shape": shape,
                                            "data_offsets": [0, 0]}})))


@pytest.mark.parametrize("node", NODES, ids=lambda n: json.dumps(n)[:30])
def test_crafted_descriptions_end_in_the_loaders_error(node):
    with pytest.raises(SafetensorsError):
        ndgrad.load(io.BytesIO(_with_meta(node)))


def test_a_wide_description_fails_fast_without_building_it():
    buf = _with_meta("[" + ",".join(["[]"] * 3_000_000) + "]")
    t0 = time.perf_counter()
    with pytest.raises(SafetensorsError, match="nested lists and objects"):
        ndgrad.load(io.BytesIO(buf))
    assert time.perf_counter() - t0 < 2


@pytest.mark.parametrize("make", [
    lambda: pickle.dumps({"a": 1}, protocol=0), lambda: pickle.dumps({"a": 1}, protocol=2),
    lambda: pickle.dumps({"a": 1}, protocol=4), lambda: pickle.dumps({"a": 1}, protocol=5)],
    ids=["p0", "p2", "p4", "p5"])
def test_bare_pickles_are_refused_as_torch(make):
    """A pickle that is not torch.save's legacy stream: torch's RuntimeError (bad magic number) or
    UnpicklingError (an opcode its weights_only unpickler lacks)."""
    with pytest.raises((RuntimeError, pickle.UnpicklingError)):
        torch.load(io.BytesIO(make()))
    with pytest.raises((RuntimeError, pickle.UnpicklingError)):
        ndgrad.load(io.BytesIO(make()))


def test_other_bytes_say_it_is_not_a_safetensors_file():
    with pytest.raises(SafetensorsError, match="not a safetensors file"):
        ndgrad.load(io.BytesIO(b"hello world, not a checkpoint"))


def _torch_save(zipfile: bool) -> bytes:
    b = io.BytesIO()
    torch.save({"a": torch.ones(2)}, b, _use_new_zipfile_serialization=zipfile)
    return b.getvalue()


def test_a_cuda_tensor_in_a_file_does_not_import_cupy(tmp_path):
    """A cupy.py in the working directory must not run: without CUDA started by the user or a
    map_location, torch's error that says to pass map_location."""
    (tmp_path / "cupy.py").write_text("raise SystemExit('cupy.py was imported')\n")
    path = tmp_path / "f.safetensors"
    path.write_bytes(_with_meta({"tensor": "a", "device": "cuda"}))
    code = ("import ndgrad, sys\n"
            "try:\n    ndgrad.load(sys.argv[1])\n"
            "except RuntimeError as e:\n    assert 'map_location' in str(e), e\n"
            "assert 'cupy' not in sys.modules\n"
            "print(ndgrad.load(sys.argv[1], map_location='cpu'))\n")
    r = subprocess.run([sys.executable, "-c", code, str(path)], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "tensor([0.])" in r.stdout
