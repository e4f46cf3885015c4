"""The main demo: a 1-epoch smoke run of both models, the CNN's accuracy, and the CLI."""

import re
import subprocess
import sys

import safetensors.torch as st

import ndgrad
from ndgrad import demo


def test_one_epoch_smoke(tmp_path, capsys):
    hist = demo.main(["--epochs", "1", "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert re.search(r"MLP: \d+\.\d+ ms per training step", out)
    for kind in ("MLP", "CNN"):
        assert re.search(rf"{kind}: \d+ parameters, 1 epoch in .* held-out accuracy \d+\.\d+%",
                         out)
        assert f"{kind}: saved to" in out and "DIFFERENT" not in out
    assert set(hist) == {"mlp", "cnn"} and all(h["reload_ok"] for h in hist.values())
    assert all(len(h["loss"]) == 1 and 0 < h["acc"][0] <= 1 for h in hist.values())
    png = (tmp_path / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    # the saved models are plain safetensors files PyTorch can read
    weights = st.load_file(tmp_path / "mlp.safetensors")
    assert set(weights) == set(hist["mlp"]["model"].state_dict())
    assert ndgrad.load(tmp_path / "cnn.safetensors").keys() == hist["cnn"]["model"].state_dict(
    ).keys()


def test_cnn_reaches_97_percent(tmp_path, capsys):
    hist = demo.main(["--model", "cnn", "--out", str(tmp_path), "--no-progress"])
    assert hist["cnn"]["acc"][-1] >= 0.97
    assert "MLP" not in capsys.readouterr().out


def test_cli_help():
    r = subprocess.run([sys.executable, "-m", "ndgrad.demo", "--help"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0
    for flag in ("--epochs", "--model", "--seed", "--out"):
        assert flag in r.stdout
