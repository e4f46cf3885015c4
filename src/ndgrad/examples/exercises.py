"""The course notebook's three exercises, solved with ndgrad standing in for torch.

    python -m ndgrad.examples.exercises [--out ndgrad-exercises] [--no-progress]

Plots each exercise's curve into ``--out`` (needs matplotlib: ``pip install 'ndgrad[demo]'``) and
shows a tqdm bar on the training loop (a plain one without tqdm). The code is plain PyTorch:
replacing the import below by ``import torch`` runs it unchanged.
(The notebook's text has slips that are fixed here: v is a vector in R^d, the power method returns
the Rayleigh quotient vᵀAv rather than ‖v‖ = 1, torch returns Vh rather than V, the sigmoid is
1/(1+exp(-x)), and the network's output is W2 σ(W1 x + b1) + b2 as a whole.)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import ndgrad as torch


def power_method(A: torch.Tensor, k: int) -> torch.Tensor:
    """Largest eigenvalue of a positive semi-definite ``A`` after ``k`` power iterations."""
    v = torch.randn(A.shape[0], dtype=A.dtype)
    for _ in range(k):
        v = A @ v
        v = v / torch.linalg.norm(v)
    return v @ A @ v  # the Rayleigh quotient of the (unit) top eigenvector estimate


def best_rank_approximation(A: torch.Tensor, r: int) -> torch.Tensor:
    """The rank-``r`` matrix closest to ``A`` in Frobenius norm (Eckart–Young): truncated SVD."""
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :r] @ torch.diag(S[:r]) @ Vh[:r, :]


def sigmoid_net_loss(params: list, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of (y - (W2 σ(W1 x + b1) + b2))² over the rows of ``x``."""
    W1, b1, W2, b2 = params
    pred = torch.sigmoid(x @ W1.T + b1) @ W2 + b2
    return ((y - pred) ** 2).mean()


def progress(iterable, total: int, desc: str, enabled: bool = True):
    """``iterable`` with a tqdm bar, or a line every tenth of the way when tqdm is missing."""
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return _plain_progress(iterable, total, desc)
    return tqdm(iterable, total=total, desc=desc, leave=False)


def _plain_progress(iterable, total: int, desc: str):
    every = max(total // 10, 1)
    for i, item in enumerate(iterable, 1):
        yield item
        if i % every == 0 or i == total:
            print(f"{desc}: {i}/{total}", file=sys.stderr, flush=True)


def train_sigmoid_net(x: torch.Tensor, y: torch.Tensor, hidden: int = 16, lr: float = 0.5,
                      steps: int = 200, show_progress: bool = False) -> tuple[list, list]:
    """Plain gradient descent θ ← θ - lr ∇f(θ) on the one-hidden-layer sigmoid network.

    Returns the parameters [W1, b1, W2, b2] and the loss before each step."""
    d = x.shape[1]
    W1 = (torch.randn(hidden, d) / d ** 0.5).requires_grad_()
    b1 = torch.zeros(hidden, requires_grad=True)
    W2 = (torch.randn(hidden) / hidden ** 0.5).requires_grad_()
    b2 = torch.zeros((), requires_grad=True)
    params = [W1, b1, W2, b2]
    losses = []
    for _ in progress(range(steps), steps, "sigmoid net", show_progress):
        loss = sigmoid_net_loss(params, x, y)
        loss.backward()
        with torch.no_grad():  # the update itself must not be recorded
            for p in params:
                p -= lr * p.grad
                p.grad.zero_()  # .grad accumulates across backward calls
        losses.append(loss.item())
    return params, losses


def main(out: Path | None = None, show_progress: bool = False) -> None:
    """Print each exercise's result; with ``out``, also plot its curve there as a PNG."""
    torch.manual_seed(0)
    X = torch.randn(10, 10)
    A = torch.matmul(X, X.T)
    print("power method:", power_method(A, k=100))
    print("eigvals:     ", max(torch.linalg.eigvals(A).real))

    M = torch.randn(8, 6)
    Mr = best_rank_approximation(M, 2)
    S = torch.linalg.svdvals(M)
    print("rank:", torch.linalg.matrix_rank(Mr).item(),
          "error²:", torch.linalg.norm(M - Mr, "fro").item() ** 2,
          "Σ_{i>r} s_i²:", S[2:].pow(2).sum().item())

    x = torch.randn(64, 3)
    y = torch.sin(x.sum(1))
    _, losses = train_sigmoid_net(x, y, show_progress=show_progress)
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} after {len(losses)} steps")
    if out is not None:
        plot(out, A, M, losses)


def plot(out: Path, A: torch.Tensor, M: torch.Tensor, losses: list) -> None:
    """power_method.png (estimate per iteration), low_rank.png (error against the rank) and
    sigmoid_net.png (loss per step) in ``out``."""
    try:
        import matplotlib
    except ImportError:
        print("# no plots: they need matplotlib (pip install 'ndgrad[demo]')")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    top = max(torch.linalg.eigvals(A).real).item()
    estimates = []
    for k in range(1, 31):
        torch.manual_seed(1)  # the same start vector for every k: one trajectory
        estimates.append(power_method(A, k).item())
    ranks = range(0, min(M.shape) + 1)
    errors = [torch.linalg.norm(M - best_rank_approximation(M, r), "fro").item() ** 2
              if r else torch.linalg.norm(M, "fro").item() ** 2 for r in ranks]
    tails = torch.linalg.svdvals(M).pow(2).flip(0).cumsum(0).flip(0).tolist() + [0.0]
    figures = {
        "power_method": (range(1, 31), [estimates], ["vᵀAv after k iterations"], "iteration k",
                         "eigenvalue estimate", top),
        "low_rank": (ranks, [errors, tails], ["‖M - M_r‖²_F", "Σ_{i>r} s_i²"], "rank r",
                     "squared error", None),
        "sigmoid_net": (range(len(losses)), [losses], ["training loss"], "gradient step",
                        "mean squared error", None),
    }
    for name, (xs, curves, labels, xlabel, ylabel, line) in figures.items():
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for ys, label, style in zip(curves, labels, ["-", "--"]):
            ax.plot(list(xs), ys, style, marker="." if len(ys) < 50 else None, label=label)
        if line is not None:
            ax.axhline(line, color="gray", linestyle=":", label="largest eigenvalue")
        ax.set(title=name.replace("_", " "), xlabel=xlabel, ylabel=ylabel)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=100)
        plt.close(fig)
    print(f"plots: {out}/{{{','.join(figures)}}}.png")


def cli(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m ndgrad.examples.exercises",
                                description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("ndgrad-exercises"),
                   help="folder for the plots (default ./ndgrad-exercises)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    main(args.out, not args.no_progress)


if __name__ == "__main__":
    cli()
