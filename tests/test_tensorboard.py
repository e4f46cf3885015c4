"""ndgrad.utils.tensorboard.SummaryWriter writes the event files torch's does: read back with
TensorBoard's own EventAccumulator and compared with what torch's SummaryWriter wrote."""

from __future__ import annotations

import io
import os
import socket
import sys

import matplotlib
import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import ndgrad
from ndgrad.utils.tensorboard import SummaryWriter

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

ALL = {"images": 0, "histograms": 0, "tensors": 0, "scalars": 0}


def read(path) -> EventAccumulator:
    acc = EventAccumulator(str(path), size_guidance=ALL)
    acc.Reload()
    return acc


def log(lib, writer_cls, path):
    """The same calls through either library's SummaryWriter."""
    rng = np.random.default_rng(0)
    with writer_cls(str(path)) as w:
        for step in range(3):
            w.add_scalar("loss", lib.tensor(1.0 / (step + 1)), step)
            w.add_scalar("lr", 0.1 * step, step, new_style=True)
        w.add_scalars("curves", {"train": 1.0, "test": 2.0}, 0)
        w.add_histogram("weights", lib.from_numpy(rng.standard_normal(1000)), 0)
        w.add_histogram("coarse", lib.from_numpy(rng.standard_normal(1000)), 0, bins="auto",
                        max_bins=7)
        w.add_image("chw", lib.from_numpy(rng.random((3, 5, 7)).astype(np.float32)), 0)
        w.add_image("hw", lib.from_numpy(rng.integers(0, 256, (5, 7), dtype=np.uint8)), 0,
                    dataformats="HW")
        w.add_images("batch", lib.from_numpy(rng.random((5, 1, 4, 6)).astype(np.float32)), 0)
        w.add_text("note", "hello *world*", 0)
        w.add_hparams({"lr": 0.1, "opt": "sgd", "flag": True}, {"hp/loss": 0.25},
                      run_name="hp")
        fig = plt.figure(figsize=(2, 1), dpi=50)
        plt.plot([0, 1], [1, 0])
        w.add_figure("figure", fig, 0)
    return path


def pixels(image_event) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(image_event.encoded_image_string), format="png")


def test_event_files_match_torchs(tmp_path):
    ours, theirs = (read(log(lib, cls, tmp_path / name)) for lib, cls, name in
                    [(ndgrad, SummaryWriter, "ours"), (torch, TorchWriter, "theirs")])
    assert ours.Tags()["scalars"] == theirs.Tags()["scalars"] == ["loss"]
    for key in ("images", "histograms", "tensors"):
        assert sorted(ours.Tags()[key]) == sorted(theirs.Tags()[key])
    loss = [(e.step, e.value) for e in ours.Scalars("loss")]
    assert loss == [(e.step, e.value) for e in theirs.Scalars("loss")]
    np.testing.assert_allclose([v for _, v in loss], [1.0, 0.5, 1 / 3], rtol=1e-6)
    assert [e.tensor_proto.float_val for e in ours.Tensors("lr")] == \
        [e.tensor_proto.float_val for e in theirs.Tensors("lr")]
    assert ours.Tensors("note/text_summary")[0].tensor_proto.string_val == [b"hello *world*"]
    for tag in ("weights", "coarse"):
        a, b = ours.Histograms(tag)[0].histogram_value, theirs.Histograms(tag)[0].histogram_value
        assert a == b  # the same buckets, limits and moments
    for tag in ("chw", "hw", "batch", "figure"):
        a, b = ours.Images(tag)[0], theirs.Images(tag)[0]
        assert (a.width, a.height) == (b.width, b.height)
        np.testing.assert_array_equal(pixels(a), pixels(b))
    for sub in ("curves_train", "curves_test", "hp"):
        assert read(tmp_path / "ours" / sub).Tags() == read(tmp_path / "theirs" / sub).Tags()
    hp_ours = read(tmp_path / "ours" / "hp")
    assert hp_ours.Scalars("hp/loss")[0].value == 0.25
    assert set(hp_ours.summary_metadata) >= {"_hparams_/experiment",
                                             "_hparams_/session_start_info"}
    assert hp_ours.SummaryMetadata("_hparams_/session_start_info") == \
        read(tmp_path / "theirs" / "hp").SummaryMetadata("_hparams_/session_start_info")


class Net(ndgrad.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = ndgrad.nn.Linear(4, 3)
        self.body = ndgrad.nn.Sequential(ndgrad.nn.ReLU(), ndgrad.nn.Linear(3, 2))

    def forward(self, x):
        return self.body(self.fc1(x)) * 2


def test_add_graph_groups_the_autograd_graph_by_module(tmp_path):
    net = Net().train()
    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(net, ndgrad.randn(5, 4))
    acc = read(tmp_path)
    assert acc.Tags()["graph"] and acc.Tags()["run_metadata"] == ["step1"]
    nodes = {n.name: n for n in acc.Graph().node}
    assert nodes["input/input.0"].op == "IO Node"
    assert nodes["Net/Linear[fc1]/weight"].op == "prim::GetAttr"
    addmm = nodes["Net/Linear[fc1]/AddmmBackward0"]
    assert addmm.op == "aten::addmm"
    assert set(addmm.input) == {"Net/Linear[fc1]/bias", "input/input.0",
                                "Net/Linear[fc1]/TBackward0"}
    assert [d.size for d in addmm.attr["_output_shapes"].list.shape[0].dim] == [5, 3]
    relu = nodes["Net/Sequential[body]/ReLU[0]/ReluBackward0"]
    assert relu.input == ["Net/Linear[fc1]/AddmmBackward0"]
    assert "Net/Sequential[body]/Linear[1]/AddmmBackward0" in nodes
    assert nodes["Net/MulBackward0"].input == ["Net/Sequential[body]/Linear[1]/AddmmBackward0"]
    assert nodes["output/output.0"].input == ["Net/MulBackward0"]
    assert net.training and not any(m._forward_hooks for m in net.modules())


def test_default_log_dir_close_and_purge(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_exp")
    d = w.get_logdir()
    assert d.startswith("runs" + os.sep) and d.endswith("_" + socket.gethostname() + "_exp")
    w.add_scalar("a", 1.0, 0)
    w.flush()
    w.close()
    w.close()  # twice is fine
    w.add_scalar("a", 2.0, 1)  # opens a new event file, as torch does
    w.close()
    assert sorted((e.step, e.value) for e in read(tmp_path / d).Scalars("a")) == [(0, 1.0),
                                                                                (1, 2.0)]
    with SummaryWriter(str(tmp_path / "p"), purge_step=5) as p:
        p.add_scalar("b", 1.0, 5)
    assert [e.step for e in read(tmp_path / "p").Scalars("b")] == [5]
    with pytest.raises(AssertionError, match="one element"):
        SummaryWriter(str(tmp_path / "q")).add_scalar("c", ndgrad.ones(2))


def test_missing_tensorboard_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m.startswith("ndgrad.utils.tensorboard")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install 'ndgrad\[tensorboard\]'"):
        import ndgrad.utils.tensorboard  # noqa: F401


def test_tools_example_logs_and_profiles(tmp_path, capsys):
    import json

    from ndgrad.examples import tools

    table = tools.main(["--out", str(tmp_path), "--steps", "4"])
    acc = read(tmp_path)
    assert [e.step for e in acc.Scalars("loss/train")] == [0, 1, 2, 3]
    assert "linear1.weight" in acc.Tags()["histograms"] and acc.Tags()["graph"]
    assert "AddmmBackward0" in table and "train_step" in table
    names = {e["name"] for e in json.loads((tmp_path / "trace.json").read_text())["traceEvents"]}
    assert {"ProfilerStep#2", "ProfilerStep#3", "ProfilerStep#4", "aten::addmm"} <= names
