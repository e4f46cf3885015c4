"""Stop a training run, resume it from a checkpoint in a new process, and end bit for bit where
the uninterrupted run ends; plain PyTorch code (``import torch`` in place of the import below).

    python -m ndgrad.examples.resume --final a.safetensors                      # straight through
    python -m ndgrad.examples.resume --stop-at 40 --checkpoint ck.safetensors   # stops at step 40
    python -m ndgrad.examples.resume --checkpoint ck.safetensors --final b.safetensors  # resumes

The checkpoint holds everything the next step depends on: the model's and the optimizer's
state_dict, the LR scheduler's, the step count and the random generator's state (the batches
and the dropout masks are drawn from it)."""

from __future__ import annotations

import argparse
import os

import ndgrad as torch
from ndgrad import nn


def make_data(n: int = 512, dim: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed synthetic regression (its own generator, so it is the same in every process)."""
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(n, dim, generator=g)
    w = torch.randn(dim, 1, generator=g)
    return x, torch.tanh(x @ w) + 0.1 * torch.randn(n, 1, generator=g)


def make_training(dim: int = 16):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(dim, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=25, gamma=0.5)
    return model, opt, sched


def save_checkpoint(path, step: int, model, opt, sched) -> None:
    torch.save({"step": step, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "rng": torch.get_rng_state()}, path)


def load_checkpoint(path, model, opt, sched) -> int:
    ck = torch.load(path)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    torch.set_rng_state(ck["rng"])
    return ck["step"]


def train(steps: int, stop_at: int | None = None, checkpoint: str | None = None,
          batch: int = 32) -> tuple[nn.Module, list[float]]:
    """Train for ``steps`` steps; resume from ``checkpoint`` when the file exists, and stop
    after step ``stop_at`` writing it. Returns the model and the losses of the steps run here."""
    x, y = make_data()
    model, opt, sched = make_training(x.shape[1])
    start = 0
    if checkpoint and stop_at is None and os.path.exists(checkpoint):
        start = load_checkpoint(checkpoint, model, opt, sched)
    model.train()
    losses = []
    for step in range(start, steps):
        idx = torch.randint(0, len(x), (batch,))  # from the global generator, saved with the rest
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if stop_at is not None and step + 1 == stop_at:
            save_checkpoint(checkpoint, step + 1, model, opt, sched)
            break
    return model, losses


def main(argv: list[str] | None = None) -> nn.Module:
    p = argparse.ArgumentParser(prog="python -m ndgrad.examples.resume",
                                description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=100, help="total training steps (default 100)")
    p.add_argument("--stop-at", type=int, default=None, help="stop after this step, writing "
                   "--checkpoint")
    p.add_argument("--checkpoint", default=None, help="checkpoint file: written with "
                   "--stop-at, else resumed from when it exists")
    p.add_argument("--final", default=None, help="save the final model's state_dict here")
    args = p.parse_args(argv)
    if args.stop_at is not None and not args.checkpoint:
        p.error("--stop-at needs --checkpoint")
    model, losses = train(args.steps, args.stop_at, args.checkpoint)
    if losses:
        print(f"{len(losses)} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    if args.stop_at is not None:
        print(f"stopped after step {args.stop_at}: {args.checkpoint}")
    if args.final:
        torch.save(model.state_dict(), args.final)
        print(f"final parameters: {args.final}")
    return model


if __name__ == "__main__":
    main()
