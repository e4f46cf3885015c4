"""Run public PyTorch programs unchanged, with real torch or with ndgrad standing in for torch.

    python tests/public_programs/runner.py --lib ndgrad nanogpt mnist     # print each one's output
    python tests/public_programs/runner.py --lib torch --json out.json    # all of them, as JSON

Each program runs from a fresh temporary folder holding a copy of its sources and the small data
its setup writes there (in the format the program's own download/prepare step writes), with its
command-line arguments, seeded first (Python, NumPy and torch, at 0) so that unseeded programs
compare too. With ``--lib ndgrad`` ndgrad.examples.as_torch's import hook makes ``import torch`` and every ``torch.x``
resolve to ``ndgrad`` / ``ndgrad.x``; the program's text is not changed. torchvision is the
stand-in under stubs/ for both libraries (it is not installed for ndgrad, and real downloads are
not possible offline).

The programs' sources are not part of this repository: copy them (see PROGRAMS: repository and
paths) into ``sources/`` next to this file, or point ``NDGRAD_PUBLIC_PROGRAMS`` at such a folder.
A program whose sources are missing is reported as ``missing``.

What a run gives, per program: its stdout with run-to-run noise masked (timings), the error if it
raised (the last traceback line), and a summary (shape, sum, sum of |x|, first values) of every
tensor in the modules it leaves in the globals it names and in the checkpoints (*.pt, *.pth) it
wrote, loaded back with the same library. ``compare`` holds two runs side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import io
import json
import math
import os
import pathlib
import pickle
import random
import re
import runpy
import shutil
import sys
import tempfile
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
SOURCES = pathlib.Path(os.environ.get("NDGRAD_PUBLIC_PROGRAMS", HERE / "sources"))
STUBS = HERE / "stubs"
DEFAULT_DTYPE = [None]  # set by use_library: float32, or float64 with --float64 (to tell a
# discrepancy that grows from float32 rounding, as in a GAN, from a wrong result)


def use_library(lib: str) -> None:
    """Make ``import torch`` give ``lib`` ("torch" or "ndgrad") and torchvision the stand-in."""
    if lib == "ndgrad":
        from ndgrad.examples.as_torch import install  # the import hook users run scripts with

        install()
    elif lib != "torch":
        raise ValueError(f"lib must be 'torch' or 'ndgrad', got {lib!r}")
    sys.path.insert(0, str(STUBS))
    os.environ.setdefault("MPLBACKEND", "Agg")


# ---------------------------------------------------------------- the data programs download


def _words(rng, n, alphabet="abcdefghijklmnopqrstuvwxyz", lo=2, hi=8):
    return ["".join(rng.choice(list(alphabet), size=rng.randint(lo, hi + 1))) for _ in range(n)]


def make_char_dataset(root: pathlib.Path, name="tiny") -> None:
    """nanoGPT's data/<name>/{train,val}.bin and meta.pkl, as data/shakespeare_char/prepare.py."""
    import numpy as np

    rng = np.random.RandomState(0)
    data = "\n".join(" ".join(_words(rng, 8, "abcdefghij .,")) for _ in range(300))
    chars = sorted(set(data))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    ids = [stoi[c] for c in data]
    n = int(len(ids) * 0.9)
    out = root / "data" / name
    out.mkdir(parents=True, exist_ok=True)
    np.array(ids[:n], dtype=np.uint16).tofile(out / "train.bin")
    np.array(ids[n:], dtype=np.uint16).tofile(out / "val.bin")
    with open(out / "meta.pkl", "wb") as f:
        pickle.dump({"vocab_size": len(chars), "itos": itos, "stoi": stoi}, f)


def make_text_corpus(root: pathlib.Path) -> None:
    """word_language_model's data/wikitext-2/{train,valid,test}.txt: lines of words."""
    import numpy as np

    rng = np.random.RandomState(1)
    vocab = _words(rng, 50)
    out = root / "data" / "wikitext-2"
    out.mkdir(parents=True, exist_ok=True)
    for split, lines in (("train", 60), ("valid", 12), ("test", 12)):
        text = "".join(" " + " ".join(rng.choice(vocab, size=rng.randint(5, 15))) + " \n"
                       for _ in range(lines))
        (out / f"{split}.txt").write_text(text)


def make_input_txt(root: pathlib.Path) -> None:
    """The "Let's build GPT" lecture's input.txt (tiny Shakespeare): a few KB of text."""
    import numpy as np

    rng = np.random.RandomState(4)
    words = _words(rng, 60, "abcdefghijklmnopqrstuvwxyzABCDE")
    (root / "input.txt").write_text("\n".join(" ".join(rng.choice(words, size=8))
                                              for _ in range(200)) + "\n")


def make_names(root: pathlib.Path) -> None:
    """makemore's names.txt: one lowercase name a line."""
    import numpy as np

    rng = np.random.RandomState(2)
    (root / "names.txt").write_text("\n".join(_words(rng, 400, lo=3, hi=9)) + "\n")


def make_mnist_pickle(root: pathlib.Path) -> None:
    """nn_tutorial's data/mnist/mnist.pkl.gz: ((x_train, y_train), (x_valid, y_valid), test)."""
    import numpy as np

    rng = np.random.RandomState(3)

    def split(n):  # about MNIST's share of dark pixels (80%), so lr=0.5 stays stable
        x = rng.rand(n, 784).astype(np.float32) * (rng.rand(n, 784) < 0.2)
        return x.astype(np.float32), rng.randint(0, 10, size=n).astype(np.int64)

    out = root / "data" / "mnist"
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(out / "mnist.pkl.gz", "wb") as f:
        pickle.dump((split(512), split(128), split(128)), f)


def make_cora(root: pathlib.Path) -> None:
    """gat's cora/cora.{content,cites}: id, binary features, class; citing and cited ids."""
    import numpy as np

    rng = np.random.RandomState(5)
    ids = rng.choice(100000, 200, replace=False)
    classes = ["Case_Based", "Genetic_Algorithms", "Neural_Networks", "Probabilistic_Methods",
               "Reinforcement_Learning", "Rule_Learning", "Theory"]
    out = root / "cora"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cora.content").write_text("".join(
        f"{i}\t" + "\t".join(map(str, (rng.rand(60) < 0.1).astype(int)))
        + f"\t{classes[rng.randint(7)]}\n" for i in ids))
    (out / "cora.cites").write_text("".join(
        "{}\t{}\n".format(*rng.choice(ids, 2, replace=False)) for _ in range(500)))


# ---------------------------------------------------------------- the programs


@dataclasses.dataclass
class Program:
    src: str  # folder under SOURCES holding the program's files
    main: str  # the file to run as __main__
    argv: tuple = ()
    setup: object = None  # callable(workdir) writing the data the program reads
    mask: tuple = ()  # regexes of stdout text that varies from run to run (timings)
    keep: tuple = ()  # globals to summarise after the run (modules, tensors)
    origin: str = ""  # where the sources come from
    reference: str = ""  # the program whose torch run this one is compared with (default: itself)
    float64: bool = False  # run with float64 as the default dtype (see DEFAULT_DTYPE)
    patch: tuple = ()  # (file, old, new) text replacements: fewer iterations or samples only
    before: tuple = ()  # (file, argv) runs first in the same folder (train before sampling)
    drop: tuple = ()  # regexes of whole lines to leave out (lines its reference does not print)
    sizes: tuple = ()  # (train, test) items of the stand-in torchvision datasets, if not 256/128
    slow: bool = False  # minutes in ndgrad: the test runs it only with NDGRAD_SLOW_PROGRAMS=1


NANOGPT_ARGS = ("--dataset=tiny", "--device=cpu", "--dtype=float32", "--eval_interval=2",
                "--eval_iters=2", "--log_interval=1", "--block_size=16", "--batch_size=4",
                "--n_layer=2", "--n_head=2", "--n_embd=32", "--dropout=0.0", "--max_iters=4",
                "--lr_decay_iters=4", "--warmup_iters=1", "--wandb_log=False",
                "--always_save_checkpoint=True", "--out_dir=out")
NANOGPT = dict(src="nanoGPT", main="train.py", setup=make_char_dataset, keep=("model",),
               mask=(r"time [\d.]+ms", r"mfu -?[\d.]+%"),
               # the lines only compile=True prints, so that it compares with compile=False
               drop=(r"Overriding: compile = \w+", r"compiling the model.*"),
               origin="github.com/karpathy/nanoGPT: train.py model.py configurator.py sample.py (MIT)")
EXAMPLES = "github.com/pytorch/examples: {} (BSD-3-Clause)"
WLM_ARGS = ("--epochs", "1", "--emsize", "16", "--nhid", "16", "--nlayers", "2", "--bptt", "8",
            "--batch_size", "4", "--log-interval", "5", "--lr", "5")
WLM = dict(src="word_language_model", main="main.py", setup=make_text_corpus, keep=("model",),
           mask=(r"ms/batch +[\d.]+", r"time: +[\d.]+s"),
           origin=EXAMPLES.format("word_language_model/main.py model.py data.py"))
MAKEMORE_ARGS = ("-i", "names.txt", "-o", "out", "--max-steps", "21", "-n", "0", "--n-layer", "2",
                 "--n-head", "2", "--n-embd", "16", "--n-embd2", "16", "--batch-size", "8")
MAKEMORE = dict(src="makemore", main="makemore.py", setup=make_names, keep=("model",),
                mask=(r"step time [\d.]+ms",),
                origin="github.com/karpathy/makemore: makemore.py (MIT)")
TUTORIALS = "github.com/pytorch/tutorials: beginner_source/{} (BSD-3-Clause)"
MINGPT_ARGS = ("--trainer.max_iters=11", "--trainer.num_workers=0", "--trainer.batch_size=4",
               "--model.model_type=gpt-nano", "--trainer.device=cpu")
MINGPT = dict(keep=("model",), mask=(r"iter_dt [\d.]+ms",),
              origin="github.com/karpathy/minGPT: mingpt/ projects/chargpt projects/adder (MIT)")


def _tutorial(path, **kw):
    return Program(src="tutorials", main=path.rsplit("/", 1)[-1], origin=TUTORIALS.format(path),
                   **kw)


PROGRAMS = {
    "nanogpt": Program(argv=NANOGPT_ARGS + ("--compile=False",), **NANOGPT),
    # dropout's random streams; resuming from the checkpoint (model, AdamW state, iter_num)
    "nanogpt_dropout": Program(argv=tuple(a for a in NANOGPT_ARGS if a != "--dropout=0.0") + (
        "--dropout=0.1", "--compile=False"), **NANOGPT),
    "nanogpt_resume": Program(argv=tuple(a for a in NANOGPT_ARGS if a != "--max_iters=4") + (
        "--compile=False", "--init_from=resume", "--max_iters=6"), before=(
        ("train.py", NANOGPT_ARGS + ("--compile=False",)),), **NANOGPT),
    # sample.py from the checkpoint train.py writes: multinomial sampling with top-k
    "nanogpt_sample": Program(**{**NANOGPT, "main": "sample.py"}, before=(
        ("train.py", NANOGPT_ARGS + ("--compile=False",)),), argv=(
        "--out_dir=out", "--device=cpu", "--dtype=float32", "--num_samples=2",
        "--max_new_tokens=40", "--compile=False")),
    # torch.compile on CPU takes ~40 s in torch and computes the same: compared with "nanogpt"
    "nanogpt_compile": Program(argv=NANOGPT_ARGS + ("--compile=True",), reference="nanogpt",
                               **NANOGPT),
    "mnist": Program(src="mnist", main="main.py", keep=(),
                     argv=("--epochs", "1", "--batch-size", "32", "--test-batch-size", "64",
                           "--log-interval", "2", "--no-accel", "--save-model"),
                     origin=EXAMPLES.format("mnist/main.py")),
    "vae": Program(src="vae", main="main.py", keep=("model",),
                   argv=("--epochs", "1", "--batch-size", "32", "--log-interval", "2",
                         "--no-accel"), origin=EXAMPLES.format("vae/main.py")),
    "dcgan": Program(src="dcgan", main="main.py", keep=("netG", "netD"),
                     argv=("--dataset", "fake", "--workers", "0", "--batchSize", "8", "--ngf", "4",
                           "--ndf", "4", "--nz", "8", "--niter", "1", "--manualSeed", "1",
                           "--outf", "out"),
                     mask=(r"Random Seed: *\d+",), origin=EXAMPLES.format("dcgan/main.py"),
                     # float32 rounding, amplified by Adam on a GAN, moves the 4th digit by
                     # step 6 of 32 (in torch too, from conv summation order): compared in float64
                     float64=True),
    "mnist_rnn": Program(src="mnist_rnn", main="main.py", origin=EXAMPLES.format("mnist_rnn/main.py"),
                         argv=("--epochs", "1", "--batch-size", "32", "--test-batch-size", "64",
                               "--log-interval", "2", "--save-model")),
    "mnist_forward_forward": Program(
        src="mnist_forward_forward", main="main.py", keep=("net",),
        argv=("--epochs", "3", "--train_size", "256", "--test_size", "128", "--no_accel"),
        origin=EXAMPLES.format("mnist_forward_forward/main.py")),
    # float32 x ** 4 differs from torch's in the last bit for 11% of inputs (NumPy's correctly
    # rounded powf, torch's 1-ulp SLEEF pow): it stops after 834 batches instead of 830
    # resnet18 on pairs of MNIST images, Adadelta at lr=1 on unnormalised pixels
    "siamese_network": Program(
        src="siamese_network", main="main.py", origin=EXAMPLES.format("siamese_network/main.py"),
        argv=("--epochs", "1", "--batch-size", "16", "--test-batch-size", "32",
              "--log-interval", "1", "--no-accel", "--save-model"), sizes=(48, 32), slow=True),
    "regression": Program(src="regression", main="main.py", keep=("fc",), float64=True,
                          origin=EXAMPLES.format("regression/main.py")),
    # L-BFGS on LSTMCells; 100 time steps instead of the data script's 1000
    "time_sequence_prediction": Program(
        src="time_sequence_prediction", main="train.py", argv=("--steps", "1"), keep=("seq",),
        before=(("generate_sine_wave.py", ()),),
        # torch 2.6 refuses the NumPy array it saved under the new weights_only default
        patch=(("generate_sine_wave.py", "L = 1000", "L = 100"),
               ("train.py", "torch.load('traindata.pt')",
                "torch.load('traindata.pt', weights_only=False)")),
        origin=EXAMPLES.format("time_sequence_prediction/train.py generate_sine_wave.py")),
    "wlm_lstm": Program(argv=WLM_ARGS + ("--model", "LSTM"), **WLM),
    "wlm_transformer": Program(argv=WLM_ARGS + ("--model", "Transformer", "--nhead", "2"), **WLM),
    **{f"makemore_{t}": Program(argv=MAKEMORE_ARGS + ("--type", t), **MAKEMORE)
       for t in ("bigram", "mlp", "rnn", "gru", "bow", "transformer")},
    # 201 steps: the samples it prints at step 200 (multinomial through the generator)
    "makemore_samples": Program(argv=MAKEMORE_ARGS[:5] + ("201",) + MAKEMORE_ARGS[6:] + (
        "--type", "bigram"), **MAKEMORE),
    # Let's build GPT (github.com/karpathy/ng-video-lecture), its sizes made small
    "lecture_gpt": Program(
        src="ng-video-lecture", main="gpt.py", setup=make_input_txt, keep=("model",),
        origin="github.com/karpathy/ng-video-lecture: gpt.py (MIT)", patch=tuple(
            ("gpt.py", a, b) for a, b in (
                ("batch_size = 64", "batch_size = 4"), ("block_size = 256", "block_size = 16"),
                ("max_iters = 5000", "max_iters = 6"), ("eval_interval = 500", "eval_interval = 3"),
                ("eval_iters = 200", "eval_iters = 2"), ("n_embd = 384", "n_embd = 32"),
                ("n_head = 6", "n_head = 2"), ("n_layer = 6", "n_layer = 2"),
                ("max_new_tokens=500", "max_new_tokens=40")))),
    "lecture_bigram": Program(
        src="ng-video-lecture", main="bigram.py", setup=make_input_txt, keep=("model",),
        origin="github.com/karpathy/ng-video-lecture: bigram.py (MIT)", patch=tuple(
            ("bigram.py", a, b) for a, b in (
                ("max_iters = 3000", "max_iters = 301"), ("eval_iters = 200", "eval_iters = 10"),
                ("max_new_tokens=500", "max_new_tokens=60")))),
    # minGPT's two projects, made small (github.com/karpathy/minGPT, MIT)
    "mingpt_chargpt": Program(src="minGPT", main="projects/chargpt/chargpt.py",
                              setup=make_input_txt, argv=MINGPT_ARGS + ("--data.block_size=16",),
                              **MINGPT),
    "mingpt_adder": Program(src="minGPT", main="projects/adder/adder.py",
                            argv=MINGPT_ARGS + ("--data.ndigit=2",), **MINGPT),
    # policy gradients on the CartPole stand-in (stubs/gymnasium): Categorical, deque returns
    "reinforce": Program(src="reinforcement_learning", main="reinforce.py", keep=("policy",),
                         origin=EXAMPLES.format("reinforcement_learning/reinforce.py")),
    # its printed rewards match torch's episode for episode; after ~3000 Adam steps on float32
    # the weights drift in the 4th digit (3e-4), so only the printed output is compared
    "actor_critic": Program(src="reinforcement_learning", main="actor_critic.py", keep=(),
                            origin=EXAMPLES.format("reinforcement_learning/actor_critic.py")),
    "blitz_autograd": _tutorial("blitz/autograd_tutorial.py", keep=("x",)),
    "neural_networks": _tutorial("blitz/neural_networks_tutorial.py", keep=("net",)),
    "quickstart": _tutorial("basics/quickstart_tutorial.py", keep=("model",)),
    "tensors": _tutorial("basics/tensorqs_tutorial.py"),
    "autograd": _tutorial("basics/autogradqs_tutorial.py", keep=("w", "b")),
    "buildmodel": _tutorial("basics/buildmodel_tutorial.py", keep=("model",)),
    "optimization": _tutorial("basics/optimization_tutorial.py", keep=("model",)),
    "saveload": _tutorial("basics/saveloadrun_tutorial.py", keep=("model",)),
    "polynomial_tensor": _tutorial("examples_tensor/polynomial_tensor.py", keep=("a", "b", "c", "d")),
    "polynomial_autograd": _tutorial("examples_autograd/polynomial_autograd.py",
                                     keep=("a", "b", "c", "d")),
    "polynomial_custom_function": _tutorial("examples_autograd/polynomial_custom_function.py",
                                            keep=("a", "b", "c", "d")),
    "polynomial_nn": _tutorial("examples_nn/polynomial_nn.py", keep=("model",)),
    "polynomial_optim": _tutorial("examples_nn/polynomial_optim.py", keep=("model",)),
    "polynomial_module": _tutorial("examples_nn/polynomial_module.py", keep=("model",)),
    "dynamic_net": _tutorial("examples_nn/dynamic_net.py", keep=("model",),
                             patch=(("dynamic_net.py", "range(30000)", "range(4000)"),)),
    # the Bi-LSTM CRF (nlp/advanced_tutorial.py): per-tag Python loops, log-sum-exp, Viterbi
    "bilstm_crf": _tutorial("nlp/advanced_tutorial.py", keep=("model",),
                            patch=(("advanced_tutorial.py", "300):", "20):"),)),
    # nn.utils.parametrize: register/cached/right_inverse/remove, Cayley map, matrix_exp
    "parametrizations": Program(src="tutorials", main="parametrizations.py", keep=("layer",),
                                origin="github.com/pytorch/tutorials: intermediate_source/"
                                "parametrizations.py (BSD-3-Clause)"),
    # nn.utils.prune: random/l1/ln_structured/global pruning, containers, remove, a custom method
    "pruning": Program(src="tutorials", main="pruning_tutorial.py", keep=("model", "new_model"),
                       origin="github.com/pytorch/tutorials: intermediate_source/"
                       "pruning_tutorial.py (BSD-3-Clause)"),
    # a spatial transformer on the MNIST stand-in: affine_grid, grid_sample, Dropout2d, one epoch
    "spatial_transformer": Program(
        src="tutorials", main="spatial_transformer_tutorial.py", keep=("model",),
        origin="github.com/pytorch/tutorials: intermediate_source/spatial_transformer_tutorial.py"
        " (BSD-3-Clause)", patch=(("spatial_transformer_tutorial.py", "range(1, 20 + 1)",
                                   "range(1, 1 + 1)"),)),
    "nn_tutorial": _tutorial("nn_tutorial.py", setup=make_mnist_pickle, keep=("model",)),
    # graph attention on a 200-node fake Cora (sparse adjacency, dropout 0.6, Adam); the splits
    # are Cora's 2708 nodes' sizes
    "gat": Program(src="gat", main="main.py", setup=make_cora, keep=("gat_net",),
                   argv=("--epochs", "6", "--val-every", "2", "--no-accel"),
                   mask=(r"\([\d.]+s\)",), origin=EXAMPLES.format("gat/main.py"),
                   patch=(("main.py", "idx[:1200], idx[1200:1600], idx[1600:]",
                           "idx[:60], idx[60:100], idx[100:]"),)),
    # graph convolutions on the same fake Cora: sparse COO adjacency, spmm, sparse @ dense
    "gcn": Program(src="gcn", main="main.py", setup=make_cora, keep=("gcn",),
                   argv=("--epochs", "6", "--val-every", "2", "--no-accel", "--include-bias"),
                   mask=(r"\([\d.]+s\)",), origin=EXAMPLES.format("gcn/main.py"), patch=(
                       ("main.py", "idx[:1000], idx[1000:1500], idx[1500:]",
                        "idx[:60], idx[60:100], idx[100:]"),
                       # the download (the setup wrote cora/ already)
                       ("main.py", "with requests.get(cora_url, stream=True) as tgz_file:",
                        "if False:"))),
}


# ---------------------------------------------------------------- running and summarising


def summarise(obj, depth=0):
    """Tensors (also inside modules, optimizers' state, dicts, lists) as [shape, sum, |sum|, x0..]."""
    import torch

    if depth > 6:
        return None
    if isinstance(obj, torch.Tensor):
        t = obj.detach().to("cpu").double() if obj.is_floating_point() or obj.dtype == torch.bool \
            or not obj.is_complex() else obj.detach().abs().double()
        flat = t.reshape(-1)
        return [list(t.shape), float(flat.sum()), float(flat.abs().sum()),
                [float(v) for v in flat[:4]]]
    if isinstance(obj, torch.nn.Module):
        return summarise(obj.state_dict(), depth + 1)
    if isinstance(obj, dict):
        out = {str(k): summarise(v, depth + 1) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v is not None} or None
    if isinstance(obj, (list, tuple)):
        out = [summarise(v, depth + 1) for v in obj]
        return out if any(v is not None for v in out) else None
    return None


def _mask(text: str, patterns) -> str:
    for p in patterns:
        text = re.sub(p, "<masked>", text)
    return text


def run_program(name: str) -> dict:
    prog = PROGRAMS[name]
    src = SOURCES / prog.src
    if not (src / prog.main).exists():
        return {"missing": f"{src / prog.main} not found ({prog.origin})"}
    import numpy as np
    import torch

    work = pathlib.Path(tempfile.mkdtemp(prefix=f"pp_{name}_"))
    old_cwd, old_argv, old_path = os.getcwd(), sys.argv, list(sys.path)
    before = set(sys.modules)
    out, result = io.StringIO(), {}
    try:
        shutil.copytree(src, work, dirs_exist_ok=True)
        sys.path.insert(0, str(STUBS))
        import torchvision.datasets

        torchvision.datasets.SIZES = dict(zip((True, False), prog.sizes or (256, 128)))
        if prog.setup:
            prog.setup(work)
        for file, old, new in prog.patch:
            text = (work / file).read_text()
            if old not in text:
                raise RuntimeError(f"{name}: {old!r} not found in {file}")
            (work / file).write_text(text.replace(old, new))
        os.chdir(work)
        sys.argv = [prog.main, *prog.argv]
        sys.path.insert(0, str(work))
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(0)
        torch.set_default_dtype(torch.float64 if prog.float64 else DEFAULT_DTYPE[0])
        g, start, cpu = {}, time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(out):
            try:
                for file, argv in prog.before:
                    sys.argv = [file, *argv]
                    runpy.run_path(file, run_name="__main__")
                sys.argv = [prog.main, *prog.argv]
                g = runpy.run_path(prog.main, run_name="__main__")
            except SystemExit as e:
                if e.code not in (None, 0):
                    result["error"] = f"SystemExit: {e.code}"
            except BaseException as e:  # noqa: BLE001 - a program's failure is the result
                result["error"] = traceback.format_exception_only(type(e), e)[-1].strip()
                result["traceback"] = traceback.format_exc(limit=-8)
        result["seconds"] = round(time.perf_counter() - start, 2)
        result["cpu_seconds"] = round(time.process_time() - cpu, 2)
        summary = {k: summarise(g[k]) for k in prog.keep if k in g}
        for f in sorted(work.rglob("*.pt*")):
            if f.suffix in (".pt", ".pth"):
                try:
                    summary[f.relative_to(work).as_posix()] = summarise(
                        torch.load(f, weights_only=False))
                except Exception as e:  # noqa: BLE001
                    summary[f.name] = f"!! cannot load: {type(e).__name__}: {e}"
        result["summary"] = summary
    finally:
        os.chdir(old_cwd)
        sys.argv, sys.path[:] = old_argv, old_path
        for mod in set(sys.modules) - before:  # the program's own modules (model, data...)
            if str(work) in str(getattr(sys.modules[mod], "__file__", "") or ""):
                del sys.modules[mod]
        shutil.rmtree(work, ignore_errors=True)
    text = out.getvalue()
    for p in prog.drop:
        text = re.sub(f"(?m)^{p}\n", "", text)
    # object addresses, and the library's name in reprs (dtype=ndgrad.float32)
    result["stdout"] = re.sub(r"\bndgrad\.", "torch.", _mask(text, prog.mask + (
        r"0x[0-9a-f]+",)))
    return result


# ---------------------------------------------------------------- comparing two runs

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")


def _close(a: str, b: str, rtol: float) -> bool:
    """Printed numbers agree to rtol, or to one unit in their last printed digit."""
    if a == b:
        return True
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return False
    digits = len(a.split(".")[1].rstrip("eE0123456789+-")) if "." in a else 0
    decimals = len(re.split(r"[eE]", a)[0].split(".")[1]) if "." in a else 0
    del digits
    unit = 10.0 ** -decimals if "e" not in a.lower() else 0.0
    return abs(fa - fb) <= max(rtol * max(abs(fa), abs(fb)), 1.01 * unit, 1e-6)


def compare_text(a: str, b: str, rtol: float = 1e-4) -> list[str]:
    """Lines that differ in their words or, beyond rtol, in their numbers."""
    la, lb = a.splitlines(), b.splitlines()
    diffs = [] if len(la) == len(lb) else [f"{len(la)} lines vs {len(lb)} lines"]
    for i, (x, y) in enumerate(zip(la, lb)):
        na, nb = _NUMBER.findall(x), _NUMBER.findall(y)
        if _NUMBER.sub("#", x) != _NUMBER.sub("#", y) or len(na) != len(nb) or not all(
                _close(p, q, rtol) for p, q in zip(na, nb)):
            diffs.append(f"line {i}: {x!r} vs {y!r}")
    return diffs


def compare_summary(a, b, rtol: float = 1e-4, atol: float = 1e-5, where="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{where}: keys {sorted(set(a) ^ set(b))} in one run only"]
        return [d for k in a for d in compare_summary(a[k], b[k], rtol, atol, f"{where}.{k}")]
    if isinstance(a, list) and len(a) == 4 and isinstance(a[0], list) and isinstance(b, list):
        if a[0] != b[0]:
            return [f"{where}: shape {a[0]} vs {b[0]}"]
        n = max(1, math.prod(a[0]))
        pairs = [(a[1], b[1], n), (a[2], b[2], n)] + [(x, y, 1) for x, y in zip(a[3], b[3])]
        bad = [(x, y) for x, y, m in pairs
               if not (abs(x - y) <= atol * m + rtol * max(abs(x), abs(y)) or x == y)]
        return [f"{where}: {bad[0][0]!r} vs {bad[0][1]!r}"] if bad else []
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in compare_summary(x, y, rtol, atol, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lib", choices=("torch", "ndgrad"), default="ndgrad")
    parser.add_argument("--float64", action="store_true", help="run with float64 as default dtype")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1:"
                        " the test's two runs share the machine; results agree to ~1e-7)")
    parser.add_argument("--json", help="write {name: result} here instead of printing")
    parser.add_argument("names", nargs="*", help=f"programs (default all: {', '.join(PROGRAMS)})")
    args = parser.parse_args(argv)
    use_library(args.lib)
    import torch

    DEFAULT_DTYPE[0] = torch.float64 if args.float64 else torch.float32
    torch.set_num_threads(args.threads)
    results = {}
    for name in args.names or PROGRAMS:
        results[name] = run_program(name)
        if not args.json:
            r = results[name]
            print(f"===== {name} =====\n{r.get('stdout', '')}{r.get('traceback', '')}"
                  f"{r.get('error') or r.get('missing') or 'ran'} ({r.get('seconds')} s)\n",
                  flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
