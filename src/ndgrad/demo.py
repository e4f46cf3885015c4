"""Train an MLP and a small CNN on scikit-learn's 8x8 handwritten digits, written as a PyTorch
script with ``import ndgrad as torch``: ``python -m ndgrad.demo`` (needs ``ndgrad[demo]``).

Prints held-out accuracy and the MLP's time per training step, writes a PNG of the loss and
accuracy curves, saves each model with ``torch.save`` and reloads it to check its predictions."""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from pathlib import Path

import numpy as np

import ndgrad as torch
from ndgrad import nn
from ndgrad.utils.data import DataLoader, TensorDataset


def digits(seed: int, test_fraction: float = 0.2):
    """The 1797 bundled 8x8 digit images as (train, test) TensorDatasets, standardised with the
    training set's mean and std; images are (1, 8, 8), labels int64."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = data.images.astype(np.float32)[:, None] / 16.0
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(), x[train].std()
    x = (x - mean) / std
    return (TensorDataset(torch.from_numpy(x[train]), torch.from_numpy(y[train])),
            TensorDataset(torch.from_numpy(x[test]), torch.from_numpy(y[test])))


def make_model(kind: str) -> nn.Module:
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64),
                             nn.ReLU(), nn.Linear(64, 10))
    return nn.Sequential(  # 1x8x8 -> 16x4x4 -> 32x2x2 -> 10
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))


@torch.no_grad()
def evaluate(model: nn.Module, data: TensorDataset) -> tuple[float, torch.Tensor]:
    """(accuracy, logits) on the whole of ``data``."""
    model.eval()
    x, y = data.tensors
    logits = model(x)
    return (logits.argmax(1) == y).float().mean().item(), logits


def train(kind: str, train_set, test_set, epochs: int, seed: int, progress: bool) -> dict:
    """Train one model with AdamW and a one-cycle schedule; per-epoch loss and accuracy."""
    from tqdm import tqdm

    torch.manual_seed(seed)
    model = make_model(kind)
    loader = DataLoader(train_set, batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    sampler = None
    if torch.distributed.is_initialized():  # --distributed: a shard per rank, grads averaged
        from .distributed import launch_helpers

        model = launch_helpers.wrap(model)
        loader, sampler = launch_helpers.loader(train_set, batch_size=64, seed=seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, epochs=epochs,
                                                steps_per_epoch=len(loader))
    loss_fn = nn.CrossEntropyLoss()
    hist: dict = {"model": getattr(model, "module", model), "loss": [], "acc": [],
                  "step_s": 0.0, "steps": 0}
    bar = tqdm(total=epochs * len(loader), desc=f"{kind:>3}", unit="step", leave=False,
               disable=not progress)
    for epoch in range(epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        total = 0.0
        for x, y in loader:
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            hist["step_s"] += time.perf_counter() - t0
            hist["steps"] += 1
            sched.step()
            total += loss.item() * len(y)
            bar.update()
        hist["loss"].append(total / len(loader.sampler))
        hist["acc"].append(evaluate(model, test_set)[0])
        bar.set_postfix(loss=f"{hist['loss'][-1]:.3f}", test_acc=f"{hist['acc'][-1]:.3f}")
    bar.close()
    return hist


def plot(histories: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for kind, h in histories.items():
        epochs = range(1, len(h["loss"]) + 1)
        ax_loss.plot(epochs, h["loss"], marker=".", label=kind.upper())
        ax_acc.plot(epochs, [100 * a for a in h["acc"]], marker=".", label=kind.upper())
    ax_loss.set(title="training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
    ax_acc.set(title="held-out accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("ndgrad on scikit-learn digits (8x8)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def check_reload(kind: str, model: nn.Module, test_set, path: Path) -> bool:
    """Save the weights, load them into a fresh model, and compare test-set logits."""
    torch.save(model.state_dict(), path)
    fresh = make_model(kind)
    fresh.load_state_dict(torch.load(path))
    _, before = evaluate(model, test_set)
    _, after = evaluate(fresh, test_set)
    return torch.equal(before, after)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m ndgrad.demo", description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    p.add_argument("--model", choices=["mlp", "cnn", "both"], default="both")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("ndgrad-demo"),
                   help="folder for the plot and the saved models (default ./ndgrad-demo)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.add_argument("--distributed", action="store_true", help="data-parallel over MPI: "
                   "mpiexec -n 2 python -m mpi4py -m ndgrad.demo --distributed")
    args = p.parse_args(argv)
    quiet = contextlib.nullcontext()
    if args.distributed:
        from .distributed import launch_helpers

        rank, world = launch_helpers.setup()
        if rank:  # rank 0 reports; the others stay quiet and keep their files apart
            args.out, args.no_progress = args.out / f"rank{rank}", True
            quiet = contextlib.redirect_stdout(io.StringIO())
        else:
            print(f"distributed: {world} ranks over MPI, batch 64 per rank")
    from threadpoolctl import threadpool_limits

    # These matrices are tiny: a multi-threaded BLAS spends more time waking threads than
    # multiplying (10x slower per step on a busy 2-core machine), so use one thread; unlike
    # torch.set_num_threads(1), the context manager restores the pool size afterwards.
    with threadpool_limits(1, user_api="blas"), quiet:
        return _run(args)


def _run(args: argparse.Namespace) -> dict:
    args.out.mkdir(parents=True, exist_ok=True)
    train_set, test_set = digits(args.seed)
    print(f"digits: {len(train_set)} training and {len(test_set)} held-out 8x8 images")
    kinds = ["mlp", "cnn"] if args.model == "both" else [args.model]
    histories = {}
    for kind in kinds:
        t0 = time.perf_counter()
        h = histories[kind] = train(kind, train_set, test_set, args.epochs, args.seed,
                                    not args.no_progress)
        n_params = sum(q.numel() for q in h["model"].parameters())
        print(f"{kind.upper()}: {n_params} parameters, {args.epochs} "
              f"epoch{'s' if args.epochs != 1 else ''} in "
              f"{time.perf_counter() - t0:.1f} s, held-out accuracy {100 * h['acc'][-1]:.2f}%")
        if kind == "mlp":
            print(f"MLP: {1e3 * h['step_s'] / h['steps']:.3f} ms per training step "
                  "(batch 64: forward, backward, AdamW)")
        path = args.out / f"{kind}.safetensors"
        same = check_reload(kind, h["model"], test_set, path)
        print(f"{kind.upper()}: saved to {path}, reloaded: "
              f"{'same predictions' if same else 'DIFFERENT predictions'}")
        h["reload_ok"] = same
    plot(histories, args.out / "curves.png")
    print(f"curves: {args.out / 'curves.png'}")
    return histories


if __name__ == "__main__":
    main()
