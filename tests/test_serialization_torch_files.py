"""torch.save's files in ndgrad and ndgrad.save's files in torch: values, dtypes, strides, offsets,
shared storage, Parameters; hostile pickles and damaged archives get torch's errors and never run
anything (a marker file the payload would write stays absent)."""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import ndgrad


def _objects(T):
    base = T.arange(24, dtype=T.float64).reshape(4, 6)
    return {"a": base, "t": base.t(), "row": base[1], "col": base[:, 2], "step": base[::2, 1::3],
            "i": T.tensor([1, 2, 3]), "b": T.tensor([True, False]),
            "h": T.ones(3, dtype=T.float16), "bf": T.full((2,), 1.5, dtype=T.bfloat16),
            "c": T.tensor([1 + 2j]), "e": T.empty(0, 3), "s": T.tensor(3.5),
            "u16": T.tensor([1, 2], dtype=T.uint16), "p": T.nn.Parameter(T.ones(2)),
            "frozen": T.nn.Parameter(T.ones(2), requires_grad=False),
            "rg": T.ones(2, requires_grad=True), "exp": T.ones(3).expand(4, 3),
            "size": T.Size([2, 3]), "dt": T.float32, "dev": T.device("cpu"), "set": {1, 2},
            "cx": 1 + 2j, "by": b"abc", "tup": (1, "x", None, float("inf")),
            "od": collections.OrderedDict(x=[1, 2])}


def _same(got, want, lib):
    """``got`` (of ``lib``) has ``want``'s dtype, shape, strides, offset, values and flags."""
    for k, w in want.items():
        g = got[k]
        if isinstance(w, (torch.Tensor, ndgrad.Tensor)):
            assert type(g).__name__ == type(w).__name__, k
            assert str(g.dtype).split(".")[1] == str(w.dtype).split(".")[1], k
            assert tuple(g.shape) == tuple(w.shape) and g.stride() == w.stride(), k
            assert g.storage_offset() == w.storage_offset(), k
            assert g.requires_grad == w.requires_grad, k
            x, y = (np.asarray(v.detach().to(v.dtype if v.dtype != lib.bfloat16 else lib.float32))
                    if isinstance(v, lib.Tensor) else
                    v.detach().float().numpy() if v.dtype == torch.bfloat16 else
                    np.asarray(v.detach()) for v in (g, w))
            np.testing.assert_array_equal(x, y, err_msg=k)
        else:
            assert repr(g).replace("ndgrad", "torch") == repr(w).replace("ndgrad", "torch"), k


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torch_files_load_with_strides_and_shared_storage(legacy):
    buf = io.BytesIO()
    torch.save(_objects(torch), buf, _use_new_zipfile_serialization=not legacy)
    got = ndgrad.load(io.BytesIO(buf.getvalue()))
    _same(got, _objects(torch), ndgrad)
    got["a"][1, 2] = -7.0  # one storage: the views see the write
    assert got["t"][2, 1].item() == got["row"][2].item() == got["col"][1].item() == -7.0


def test_ndgrad_files_load_in_torch(tmp_path):
    ndgrad.save(_objects(ndgrad), tmp_path / "objects.pt")
    got = torch.load(tmp_path / "objects.pt")  # torch's default: weights_only=True
    _same(got, _objects(ndgrad), torch)
    got["a"][1, 2] = -7.0
    assert got["t"][2, 1].item() == got["col"][1].item() == -7.0
    again = ndgrad.load(tmp_path / "objects.pt")
    _same(again, _objects(ndgrad), ndgrad)


def test_model_and_optimizer_checkpoints_cross_both_ways(tmp_path):
    def model(T):
        T.manual_seed(0)
        return T.nn.Sequential(T.nn.Linear(3, 4), T.nn.BatchNorm1d(4), T.nn.Linear(4, 2))

    theirs, ours = model(torch), model(ndgrad)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    opt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    theirs(torch.tensor(x)).sum().backward()
    opt.step()
    torch.save({"model": theirs.state_dict(), "opt": opt.state_dict(), "epoch": 3},
               tmp_path / "ck.pt")
    ck = ndgrad.load(tmp_path / "ck.pt")
    ours.load_state_dict(ck["model"])
    ours_opt = ndgrad.optim.Adam(ours.parameters(), lr=0.5)
    ours_opt.load_state_dict(ck["opt"])
    assert ck["epoch"] == 3 and ours_opt.param_groups[0]["lr"] == 0.01
    assert isinstance(ck["model"], collections.OrderedDict) and ck["model"]._metadata
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(ndgrad.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    ndgrad.save(ours.state_dict(), tmp_path / "back.pt")
    again = model(torch)
    again.load_state_dict(torch.load(tmp_path / "back.pt"))
    again.eval()
    np.testing.assert_array_equal(again(torch.tensor(x)).detach().numpy(),
                                  theirs(torch.tensor(x)).detach().numpy())


def test_whole_torch_module_needs_weights_only_false():
    m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    buf = io.BytesIO()
    torch.save(m, buf)
    for lib in (torch, ndgrad):
        with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
            lib.load(io.BytesIO(buf.getvalue()))
    ours = ndgrad.load(io.BytesIO(buf.getvalue()), weights_only=False)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(ours(ndgrad.tensor(x)).detach().numpy(),
                               m(torch.tensor(x)).detach().numpy(), rtol=1e-6)


# --- hostile files ------------------------------------------------------------------------------
class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Eval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return eval, (f"open({self.marker!r}, 'w')",)


class _Print:
    def __reduce__(self):
        return print, ("PWNED",)


def _zip(pkl: bytes, name="archive/data.pkl", extra=()) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(name, pkl)
        z.writestr("archive/version", "3\n")
        for n, d in extra:
            z.writestr(n, d)
    return b.getvalue()


def _payloads(marker):
    legacy = io.BytesIO()
    torch.save({"x": _System(marker)}, legacy, _use_new_zipfile_serialization=False)
    return {"zip-os.system": _zip(pickle.dumps({"x": _System(marker)}, protocol=2)),
            "zip-eval": _zip(pickle.dumps(_Eval(marker), protocol=2)),
            "zip-print": _zip(pickle.dumps([_Print()], protocol=2)),
            "raw-GLOBAL": f"cos\nsystem\n(S'touch {marker}'\ntR.".encode(),
            "legacy-os.system": legacy.getvalue()}


@pytest.mark.parametrize("case", list(_payloads("m")))
def test_hostile_pickles_are_refused_as_torch_and_run_nothing(case, tmp_path):
    marker = tmp_path / "ran"
    data = _payloads(str(marker))[case]
    errors = []
    for lib in (torch, ndgrad):
        with pytest.raises(pickle.UnpicklingError) as e:
            lib.load(io.BytesIO(data))
        errors.append(str(e.value))
    assert "Weights only load failed" in errors[1]
    for phrase in ("is blocked", "Unsupported global: GLOBAL"):  # torch's kind of refusal
        assert (phrase in errors[0]) == (phrase in errors[1]), (errors[0], errors[1])
    assert not marker.exists()


class _Pid:
    pass


class _Tensor:
    def __init__(self, offset, size, stride):
        self.args = (_Pid(), offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


def _crafted(tensor: _Tensor, numel: int, record: bytes) -> bytes:
    """An archive whose one float storage declares ``numel`` elements over ``record``."""
    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", numel) if isinstance(obj, _Pid) \
                else None

    b = io.BytesIO()
    P(b, protocol=2).dump({"t": tensor})
    return _zip(b.getvalue(), extra=[("archive/data/0", record)])


@pytest.mark.parametrize("case", ["traversal", "truncated", "huge", "past-end", "negative-stride"])
def test_damaged_archives_raise_torchs_runtime_error(case):
    ok = io.BytesIO()
    torch.save({"a": torch.ones(2)}, ok)
    good = ok.getvalue()
    data = {
        "traversal": _zip(pickle.dumps({"a": 1}, protocol=2), name="../../data.pkl"),
        "truncated": good[:len(good) // 2],
        # 2**60 floats declared over an 8-byte record: refused before allocating
        "huge": _crafted(_Tensor(0, (2,), (1,)), 2 ** 60, b"\0" * 8),
        "past-end": _crafted(_Tensor(1, (5,), (1,)), 2, b"\0" * 8),
        "negative-stride": _crafted(_Tensor(1, (2,), (-1,)), 2, b"\0" * 8),
    }[case]
    for lib in (torch, ndgrad):
        with pytest.raises(RuntimeError):
            lib.load(io.BytesIO(data))


@pytest.mark.parametrize("pid", [b"X\x01\x00\x00\x00x", b"(X\x03\x00\x00\x00xyzt"],
                         ids=["str", "other-kind"])
def test_a_persistent_id_other_than_a_storage_is_torchs_unpickling_error(pid):
    data = _zip(b"\x80\x02" + pid + b"Q.")
    for lib in (torch, ndgrad):
        with pytest.raises(pickle.UnpicklingError):
            lib.load(io.BytesIO(data))


def test_damaged_files_end_in_runtime_or_unpickling_errors():
    """Truncations and byte flips of torch-format files (zip and legacy) never leak another
    exception type."""
    rng = np.random.default_rng(0)
    for legacy in (False, True):
        buf = io.BytesIO()
        ndgrad.save({"w": ndgrad.ones(3), "p": ndgrad.nn.Parameter(ndgrad.zeros(2, 2))}, buf)
        if legacy:
            buf = io.BytesIO()
            torch.save({"w": torch.ones(3)}, buf, _use_new_zipfile_serialization=False)
        raw = buf.getvalue()
        cuts = list(range(0, len(raw), 7))
        flips = []
        for _ in range(300):
            b = bytearray(raw)
            i = int(rng.integers(0, len(b)))
            b[i] = int(rng.integers(0, 256))
            flips.append(bytes(b))
        for data in [raw[:n] for n in cuts] + flips:
            try:
                ndgrad.load(io.BytesIO(data))
            except (RuntimeError, pickle.UnpicklingError):
                pass


def test_safetensors_suffix_and_whole_objects_keep_ndgrads_format(tmp_path):
    ndgrad.save({"w": ndgrad.ones(2)}, tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").read_bytes().startswith(b"PK")
    buf = io.BytesIO()
    ndgrad.save(ndgrad.nn.Linear(2, 3), buf)  # torch could load it only by importing ndgrad
    assert not buf.getvalue().startswith(b"PK")
    with ndgrad.serialization.safe_globals([ndgrad.nn.Linear]):
        assert isinstance(ndgrad.load(io.BytesIO(buf.getvalue())), ndgrad.nn.Linear)
