"""ndgrad.save / ndgrad.load: round trips, safetensors interchange with PyTorch, hostile files."""

import io
import pickle
import json
import math
from collections import Counter, OrderedDict, namedtuple

import numpy as np
import pytest
import safetensors.torch as st
import torch
from hypothesis import given, settings
from hypothesis import strategies as hs

import ndgrad


def _rt(obj, **load_kw):
    buf = io.BytesIO()
    ndgrad.save(obj, buf)
    buf.seek(0)
    return ndgrad.load(buf, **load_kw)


def _eq(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, ndgrad.Tensor):
        assert a.dtype is b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        assert np.array_equal(a.detach().to(ndgrad.float64).numpy() if a.dtype is ndgrad.bfloat16
                              else a.detach().numpy(),
                              b.detach().to(ndgrad.float64).numpy() if b.dtype is ndgrad.bfloat16
                              else b.detach().numpy(), equal_nan=True)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _eq(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _eq(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_round_trip_every_dtype(dtype):
    dt = getattr(ndgrad, dtype)
    base = ndgrad.arange(24).reshape(2, 3, 4) - 11
    t = (base != 0) if dtype == "bool" else base.to(dt) / (1 if dt._kind < 2 else 3)
    for x in (t, t[0, 0, 0], t[:, :0], t.transpose(0, 2), t[:, ::2]):  # 0-d, empty, strided
        _eq(_rt(x), x.contiguous() if x.ndim else x)


def test_containers_and_scalars_round_trip():
    t = ndgrad.randn(3)
    obj = {
        "int": 3, "float": 2.5, "inf": math.inf, "ninf": -math.inf, "nan": math.nan,
        "none": None, "bool": True, "str": "héllo", "bytes": b"\x00\xff", "complex": 1 + 2j,
        "tuple": (1, (2.0, "x")), "list": [1, [t, None]], "set": {1, 2},
        "int_keys": {0: "a", 1: {2: t}}, "tuple_keys": {(1, "a"): 1, None: 2, 3.5: 3},
        "odict": OrderedDict(b=1, a=2), "counter": Counter([3, 3, 5]),
        "np": np.arange(6, dtype=np.int16).reshape(2, 3), "np_c128": np.array([1 + 1j]),
        "npf32": np.float32(0.1), "npi64": np.int64(-7), "npbool": np.bool_(True),
        "dtype": ndgrad.bfloat16, "device": ndgrad.device("cpu"), "size": ndgrad.Size([2, 3]),
    }
    back = _rt(obj)
    _eq(back, obj)
    assert back["set"] == {1, 2} and back["tuple_keys"][(1, "a")] == 1
    assert type(back["npf32"]) is np.float32 and back["npf32"] == np.float32(0.1)


def test_parameters_requires_grad_and_aliasing():
    p = ndgrad.nn.Parameter(ndgrad.randn(2, 2))
    frozen = ndgrad.nn.Parameter(ndgrad.randn(2), requires_grad=False)
    leaf = ndgrad.ones(2, requires_grad=True)
    nonleaf = leaf * 2
    back = _rt({"p": p, "again": p, "frozen": frozen, "leaf": leaf, "nonleaf": nonleaf})
    assert isinstance(back["p"], ndgrad.nn.Parameter) and back["p"].requires_grad
    assert back["again"] is back["p"]  # the same object stays one object
    assert isinstance(back["frozen"], ndgrad.nn.Parameter) and not back["frozen"].requires_grad
    assert back["leaf"].requires_grad and back["nonleaf"].requires_grad
    assert back["nonleaf"].is_leaf and back["nonleaf"].tolist() == [2.0, 2.0]
    back["p"].data.zero_()  # loaded tensors are writable and own their memory
    assert p.abs().sum().item() > 0


def test_paths_file_objects_and_pathlib(tmp_path):
    obj = {"w": ndgrad.arange(5.0)}
    for target in (str(tmp_path / "a.pt"), tmp_path / "b.safetensors"):
        ndgrad.save(obj, target)
        _eq(ndgrad.load(target), obj)
    with open(tmp_path / "c.pt", "wb") as f:
        ndgrad.save(obj, f)
    with open(tmp_path / "c.pt", "rb") as f:
        _eq(ndgrad.load(f, weights_only=True), obj)


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))


def test_model_and_optimizer_checkpoint_resume():
    """Save model + optimizer + scheduler mid-training, reload into fresh objects, continue:
    the same weights as training straight through."""
    def train(model, opt, sched, steps, start):
        for i in range(start, start + steps):
            x = ndgrad.tensor(np.random.default_rng(i).standard_normal((5, 4)),
                              dtype=ndgrad.float32)
            opt.zero_grad()
            (model(x) ** 2).sum().backward()
            opt.step()
            sched.step()

    def fresh():
        m = _model(ndgrad)
        o = ndgrad.optim.AdamW(m.parameters(), lr=0.01, amsgrad=True)
        return m, o, ndgrad.optim.lr_scheduler.MultiStepLR(o, [2, 4], 0.5)

    ref = fresh()
    train(*ref, 6, 0)
    m, o, s = fresh()
    train(m, o, s, 3, 0)
    ckpt = _rt({"model": m.state_dict(), "opt": o.state_dict(), "sched": s.state_dict(),
                "epoch": 3})
    assert isinstance(ckpt["model"], OrderedDict) and isinstance(ckpt["sched"]["milestones"],
                                                                   Counter)
    m2, o2, s2 = fresh()
    m2.load_state_dict(ckpt["model"])
    o2.load_state_dict(ckpt["opt"])
    s2.load_state_dict(ckpt["sched"])
    train(m2, o2, s2, 3, 3)
    for a, b in zip(m2.parameters(), ref[0].parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_plateau_scheduler_state_with_infinity():
    p = ndgrad.nn.Parameter(ndgrad.ones(1))
    sched = ndgrad.optim.lr_scheduler.ReduceLROnPlateau(ndgrad.optim.SGD([p], lr=0.1))
    back = _rt(sched.state_dict())
    assert back["best"] == math.inf and back["mode"] == "min"


# --- interchange with PyTorch's safetensors ---------------------------------------------------
def _tensors(lib):
    g = np.random.default_rng(0)
    arrays = {"weight": g.standard_normal((3, 4)).astype(np.float32),
              "bias": g.standard_normal(4), "ids": np.arange(5, dtype=np.int32),
              "mask": np.array([True, False]), "half": np.ones((2, 2), np.float16),
              "scalar": np.array(3.5, np.float32), "empty": np.zeros((0, 3), np.float32),
              "c": np.array([1 + 2j], np.complex64), "byte": np.array([7], np.uint8)}
    out = {k: lib.tensor(v) for k, v in arrays.items()}
    out["bf16"] = lib.tensor([1.5, -2.25]).to(lib.bfloat16)
    return out


def test_pytorch_reads_ndgrad_files(tmp_path):
    ndgrad.save(_tensors(ndgrad), tmp_path / "m.safetensors")
    theirs = st.load_file(tmp_path / "m.safetensors")
    ref = _tensors(torch)
    assert set(theirs) == set(ref)
    for k, v in ref.items():
        assert theirs[k].dtype == v.dtype and torch.equal(theirs[k], v)


def test_ndgrad_reads_pytorch_files(tmp_path):
    st.save_file(_tensors(torch), tmp_path / "t.safetensors", metadata={"format": "pt"})
    ours = ndgrad.load(tmp_path / "t.safetensors")
    ref = _tensors(ndgrad)
    assert set(ours) == set(ref)
    for k, v in ref.items():
        _eq(ours[k], v)


def test_files_are_byte_identical_to_the_reference_writer(tmp_path):
    state = _model(ndgrad).state_dict()
    ndgrad.save(state, tmp_path / "m.safetensors")  # the suffix picks the safetensors format
    data = (tmp_path / "m.safetensors").read_bytes()
    n = int.from_bytes(data[:8], "little")
    meta = json.loads(data[8:8 + n])["__metadata__"]
    tstate = {k: torch.tensor(v.detach().numpy()) for k, v in state.items()}
    ref = st.save(tstate, metadata=meta)
    # the reference writer orders __metadata__ keys at random (a hash map); all else is equal
    assert len(ref) == len(data) and ref[:8] == data[:8] and ref[8 + n:] == data[8 + n:]
    ours, theirs = json.loads(data[8:8 + n]), json.loads(ref[8:8 + n])
    assert ours == theirs and list(ours) == list(theirs)
    single = st.save(tstate, metadata={"format": "pt"})  # one key: byte for byte
    mine = ndgrad._safetensors.dumps({k: v.numpy() for k, v in state.items()}, {"format": "pt"})
    assert single == mine


def test_model_weights_move_between_libraries(tmp_path):
    """ndgrad model -> file -> torch model gives the same outputs, and back."""
    ours = _model(ndgrad)
    ndgrad.save(ours.state_dict(), tmp_path / "w.safetensors")
    theirs = _model(torch)
    theirs.load_state_dict(st.load_file(tmp_path / "w.safetensors"))
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(ndgrad.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    st.save_file(theirs.state_dict(), tmp_path / "t.safetensors")
    again = _model(ndgrad)
    again.load_state_dict(ndgrad.load(tmp_path / "t.safetensors"))
    np.testing.assert_array_equal(again(ndgrad.tensor(x)).detach().numpy(),
                                  ours(ndgrad.tensor(x)).detach().numpy())


def test_map_location():
    obj = {"a": ndgrad.ones(2)}
    for loc in ("cpu", ndgrad.device("cpu"), {"cpu": "cpu"}, lambda storage, where: storage):
        assert _rt(obj, map_location=loc)["a"].device == ndgrad.device("cpu")
    with pytest.raises(TypeError, match="map_location"):
        _rt(obj, map_location=3)


def test_cuda_tensors_need_map_location_without_a_gpu():
    if ndgrad._backend.cuda_available():
        pytest.skip("a GPU is present: the tensor would load on it")
    meta = {"format": "pt", "ndgrad": json.dumps({"tensor": "a", "device": "cuda:0"})}
    data = ndgrad._safetensors.dumps({"a": np.ones(2, np.float32)}, meta)
    with pytest.raises(RuntimeError, match="map_location=torch.device\\('cpu'\\)"):
        ndgrad.load(io.BytesIO(data))
    assert ndgrad.load(io.BytesIO(data), map_location="cpu").tolist() == [1.0, 1.0]


# --- refusals and hostile files ---------------------------------------------------------------
Pt = namedtuple("Pt", "x")


def _local_object():
    class Local:
        pass

    return Local()


# whole modules and plain objects are stored as torch pickles them (test_serialization_objects.py)
@pytest.mark.parametrize("make", [_local_object, lambda: {"f": lambda: 1},
                                  lambda: {1: [_local_object()]}, lambda: Pt(1)])
def test_unsupported_objects_are_refused(make):
    with pytest.raises(TypeError, match="ndgrad.save can't store"):
        ndgrad.save(make(), io.BytesIO())


def test_cycles_and_unsigned_foreign_dtypes():
    a: list = []
    a.append(a)
    with pytest.raises(ValueError, match="cycle"):  # the safetensors format has no references
        ndgrad.serialization._dumps(a)
    buf = io.BytesIO()
    ndgrad.save(a, buf)  # torch's format (a pickle) keeps the cycle, as torch.save
    b = ndgrad.load(io.BytesIO(buf.getvalue()))
    assert b[0] is b and torch.load(io.BytesIO(buf.getvalue()))[0][0] is not None
    data = st.save({"u": torch.tensor([0, 1, 2], dtype=torch.uint32)})  # unsigned dtypes load
    u = ndgrad.load(io.BytesIO(data))["u"]
    assert u.dtype == ndgrad.uint32 and u.tolist() == [0, 1, 2]


def test_pytorch_checkpoints_load(tmp_path):
    """torch.save's zip and legacy files load (tests/test_serialization_torch_files.py has more)."""
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    assert ndgrad.load(path)["w"].tolist() == [1.0, 1.0]
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf, _use_new_zipfile_serialization=False)
    assert ndgrad.load(io.BytesIO(buf.getvalue()))["w"].tolist() == [1.0, 1.0]


def _file(header: dict, data: bytes = b"") -> io.BytesIO:
    text = json.dumps(header).encode()
    return io.BytesIO(len(text).to_bytes(8, "little") + text + data)


def _tree(tree, arrays=None) -> io.BytesIO:
    meta = {"format": "pt", "ndgrad": tree if isinstance(tree, str) else json.dumps(tree)}
    return io.BytesIO(ndgrad._safetensors.dumps(arrays or {"a": np.ones(2, np.float32)}, meta))


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
HOSTILE = [
    b"", b"\x01\x02", (10 ** 12).to_bytes(8, "little") + b"{}", (20).to_bytes(8, "little") + b"{}",
    (2).to_bytes(8, "little") + b"\xff\xfe", (2).to_bytes(8, "little") + b"[]",
    (2 ** 64 - 1).to_bytes(8, "little"),
    _file({"a": {**F32, "dtype": "F99"}}, bytes(8)), _file({"a": {**F32, "shape": [-2]}}, bytes(8)),
    _file({"a": {**F32, "shape": [2 ** 62, 4]}}, bytes(8)), _file({"a": {**F32, "shape": "2"}}),
    _file({"a": {**F32, "data_offsets": [0, 2 ** 70]}}, bytes(8)),
    _file({"a": {**F32, "data_offsets": [4, 12]}}, bytes(12)), _file({"a": F32}, bytes(4)),
    _file({"a": F32, "b": F32}, bytes(8)), _file({"a": F32}, bytes(16)),
    _file({"a": {**F32, "extra": 1}}, bytes(8)), _file({"a": 5}, bytes(8)),
    _file({"__metadata__": {"x": 1}, "a": F32}, bytes(8)), _file({"a": {**F32, "shape": [True, 1]}},
                                                                 bytes(8)),
    (30000).to_bytes(8, "little") + b"[" * 15000 + b"]" * 15000,
    _tree({"tensor": "missing"}), _tree({"nope": 1}), _tree({"dict": [[[1], 2]]}),
    _tree({"dict": 5}), _tree({"dict": [[1, 2, 3]]}), _tree({"float": "1e999x"}),
    _tree({"dtype": "float128"}), _tree({"device": "tpu"}), _tree({"device": "cuda:x"}),
    _tree({"npscalar": "O", "value": 1}), _tree({"npscalar": "<f4", "value": [1, 2]}),
    _tree({"npscalar": "(", "value": 1}), _tree({"bytes": "!!"}), _tree({"complex": ["a", 1]}),
    _tree({"size": [1.5]}), _tree({"tuple": 3}), _tree("[" * 100000 + "]" * 100000),
    _tree(json.dumps(json.loads("[" * 300 + "]" * 300))), _tree({"tensor": ["a"]}),
    _tree({"tensor": "a", "complex128": True}), _tree({"tensor": "a", "device": 3}), _tree("{"),
    _tree({"set": [[1]]}), _tree({"ndarray": "zz"}),
]


@pytest.mark.parametrize("data", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_files_raise_clear_errors(data):
    raw = data.getvalue() if isinstance(data, io.BytesIO) else data
    with pytest.raises(RuntimeError) as e:
        ndgrad.load(io.BytesIO(raw))
    assert "invalid" in str(e.value)


def _sample_file() -> bytes:
    p = ndgrad.nn.Parameter(ndgrad.randn(3, 2))
    return ndgrad.serialization._dumps({"model": _model(ndgrad).state_dict(), "p": p,  # safetensors
                                        "meta": {"k": [1, 2.5, None]}, "t": (p, "s", math.inf)})


def _load_or_runtime_error(raw: bytes) -> None:
    try:
        ndgrad.load(io.BytesIO(raw))
    except (RuntimeError, pickle.UnpicklingError):
        pass  # (torch's type for bytes that read as a damaged pickle) every other exception
        # type, or a crash, fails the test


def test_fuzz_truncated_files():
    raw = _sample_file()
    for n in range(len(raw)):
        _load_or_runtime_error(raw[:n])
    assert ndgrad.load(io.BytesIO(raw))["meta"] == {"k": [1, 2.5, None]}


def test_fuzz_mutated_files():
    raw = _sample_file()
    rng = np.random.default_rng(0)
    for _ in range(1500):
        b = bytearray(raw)
        for _ in range(rng.integers(1, 4)):
            i = int(rng.integers(0, len(b)))
            if rng.random() < 0.7:
                b[i] = int(rng.integers(0, 256))
            else:
                b[i:i + 1] = b""
        _load_or_runtime_error(bytes(b))


@settings(max_examples=200, deadline=None)
@given(hs.binary(max_size=64), hs.integers(0, 300))
def test_fuzz_header_bytes(junk, cut):
    raw = _sample_file()
    n = int.from_bytes(raw[:8], "little")
    _load_or_runtime_error(raw[:8 + cut] + junk + raw[8 + cut + len(junk):])
    _load_or_runtime_error(len(junk).to_bytes(8, "little") + junk + raw[8 + n:])
