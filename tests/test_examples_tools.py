"""Checkpoints as users need them: a training run stopped and resumed in a new process ends bit
for bit where the uninterrupted run ends (ndgrad.examples.resume); optimizer and scheduler
state_dicts written by ndgrad.save load into torch through safetensors + the JSON description, and
torch's, written the same way, load into ndgrad, and training goes on identically; the exercise
scripts plot their curves."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import safetensors.torch
import torch
from safetensors import safe_open

import ndgrad


# --- resumable training -----------------------------------------------------------------------
def run_resume(*args: str, cwd) -> str:
    r = subprocess.run([sys.executable, "-m", "ndgrad.examples.resume", "--steps", "60", *args],
                       cwd=cwd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_stopped_and_resumed_run_ends_bit_for_bit_like_the_straight_one(tmp_path):
    run_resume("--final", "straight.safetensors", cwd=tmp_path)
    out = run_resume("--stop-at", "23", "--checkpoint", "ck.safetensors", cwd=tmp_path)
    assert "stopped after step 23" in out
    out = run_resume("--checkpoint", "ck.safetensors", "--final", "resumed.safetensors",
                     cwd=tmp_path)
    assert out.startswith("37 steps")
    a = ndgrad.load(tmp_path / "straight.safetensors")
    b = ndgrad.load(tmp_path / "resumed.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)
    ck = ndgrad.load(tmp_path / "ck.safetensors")
    assert ck["step"] == 23 and ck["scheduler"]["last_epoch"] == 23
    # stopping without resuming ends elsewhere: the check above is not vacuous
    from ndgrad.examples import resume

    short, _ = resume.train(59)
    assert not ndgrad.equal(short.state_dict()["0.weight"], a["0.weight"])


# --- optimizer and scheduler state interchangeable with torch ----------------------------------
def tree_to_torch(node, tensors: dict):
    """torch objects from ndgrad.save's JSON description (serialization.py's node types that
    optimizer and scheduler state use), its tensors read by safetensors.torch.load_file."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [tree_to_torch(v, tensors) for v in node]
    tag, val = next(iter(node.items()))
    if tag == "tensor":
        return tensors[val]
    if tag in ("dict", "odict"):
        return {tree_to_torch(k, tensors): tree_to_torch(v, tensors) for k, v in val}
    if tag == "tuple":
        return tuple(tree_to_torch(v, tensors) for v in val)
    if tag == "float":
        return float(val)
    raise ValueError(f"unexpected node {node}")


def torch_to_tree(obj, path: str, tensors: dict):
    """The reverse: torch's state as the JSON description, its tensors collected by name."""
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj.detach().contiguous()
        return {"tensor": path}
    if isinstance(obj, float) and not np.isfinite(obj):
        return {"float": repr(obj)}
    if isinstance(obj, dict):
        sub = [[torch_to_tree(k, "", tensors), torch_to_tree(v, f"{path}.{k}".lstrip("."),
                                                             tensors)] for k, v in obj.items()]
        return {"dict": sub}
    if isinstance(obj, (list, tuple)):
        items = [torch_to_tree(v, f"{path}.{i}".lstrip("."), tensors) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"tuple": items}
    return obj


def torch_load(path) -> dict:
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    return tree_to_torch(json.loads(meta["ndgrad"]), safetensors.torch.load_file(str(path)))


def torch_save(obj, path) -> None:
    tensors: dict = {}
    tree = torch_to_tree(obj, "", tensors)
    safetensors.torch.save_file(tensors, str(path), metadata={"format": "pt",
                                                              "ndgrad": json.dumps(tree)})


CASES = {
    "adam_steplr": (lambda lib, ps: lib.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99)),
                    lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    "adamw_amsgrad_cosine": (lambda lib, ps: lib.optim.AdamW(ps, lr=0.02, amsgrad=True),
                             lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8)),
    "sgd_momentum_exponential": (
        lambda lib, ps: lib.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
        lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
}


def setup(lib, case: str, weights: list[np.ndarray]):
    model = lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.from_numpy(w))
    make_opt, make_sched = CASES[case]
    opt = make_opt(lib, model.parameters())
    return model, opt, make_sched(lib, opt)


def steps(lib, model, opt, sched, batches) -> None:
    for x, y in batches:
        opt.zero_grad()
        lib.nn.functional.mse_loss(model(lib.from_numpy(x)), lib.from_numpy(y)).backward()
        opt.step()
        sched.step()


def params(model) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("direction", ["ndgrad_to_torch", "torch_to_ndgrad"])
def test_optimizer_and_scheduler_state_move_between_ndgrad_and_torch(case, direction, tmp_path):
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((16, 5), dtype=np.float32),
                rng.standard_normal((16, 2), dtype=np.float32)) for _ in range(10)]
    weights = [rng.standard_normal(s, dtype=np.float32) * 0.3 for s in [(8, 5), (8,), (2, 8),
                                                                        (2,)]]
    src, dst = (ndgrad, torch) if direction == "ndgrad_to_torch" else (torch, ndgrad)
    model, opt, sched = setup(src, case, weights)
    steps(src, model, opt, sched, batches[:5])
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict()}
    path = tmp_path / "ck.safetensors"
    ndgrad.save(state, path) if src is ndgrad else torch_save(state, path)
    loaded = torch_load(path) if dst is torch else ndgrad.load(path)

    model2, opt2, sched2 = setup(dst, case, [np.zeros_like(w) for w in weights])
    model2.load_state_dict(loaded["model"])
    opt2.load_state_dict(loaded["optimizer"])
    sched2.load_state_dict(loaded["scheduler"])
    assert sched2.state_dict() == sched.state_dict()
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    for s, s2 in zip(opt.state_dict()["state"].values(), opt2.state_dict()["state"].values()):
        assert s.keys() == s2.keys()
        for k in s:
            assert s2[k].dtype == getattr(dst, str(s[k].dtype).split(".")[1])
            np.testing.assert_array_equal(s2[k].numpy(), s[k].numpy())
    steps(src, model, opt, sched, batches[5:])
    steps(dst, model2, opt2, sched2, batches[5:])
    for p, p2 in zip(params(model), params(model2)):
        np.testing.assert_allclose(p2, p, rtol=1e-5, atol=1e-6)
    assert sched2.get_last_lr() == sched.get_last_lr()


# --- exercise plots and progress ---------------------------------------------------------------
def test_exercises_plot_their_curves(tmp_path, capsys):
    from ndgrad.examples import exercises

    exercises.cli(["--out", str(tmp_path / "plots")])
    out = capsys.readouterr().out
    assert "power method: tensor(" in out and "plots: " in out
    for name in ["power_method", "low_rank", "sigmoid_net"]:
        assert (tmp_path / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_exercises_without_matplotlib_and_tqdm_say_which_extra(tmp_path, capsys, monkeypatch):
    from ndgrad.examples import exercises

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm", None)
    exercises.cli(["--out", str(tmp_path / "plots")])
    out, err = capsys.readouterr()
    assert "pip install 'ndgrad[demo]'" in out and not (tmp_path / "plots").exists()
    assert "sigmoid net: 20/200" in err and "sigmoid net: 200/200" in err
    assert "loss " in out and " after 200 steps" in out
