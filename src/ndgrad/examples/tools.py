"""Profiling and TensorBoard logging on the course notebook's MLP, as with torch.

    python -m ndgrad.examples.tools --out runs/mlp   # then: tensorboard --logdir runs

Trains the MLP (ndgrad.examples.graph_pictures) on a synthetic regression, logging the loss,
the weights' histograms and the model graph with ``SummaryWriter`` (needs ``pip install
'ndgrad[tensorboard]'``; skipped without it), then profiles a few steps and prints torch's
``key_averages().table()``; ``--out`` also gets the profile as a Chrome trace (open it in
ui.perfetto.dev or chrome://tracing)."""

from __future__ import annotations

import argparse
import pathlib

import ndgrad as torch
import ndgrad.nn.functional as F
from ndgrad.examples.graph_pictures import MLP
from ndgrad.profiler import ProfilerActivity, profile, record_function, schedule


def train_step(model, opt, x, y):
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    return loss


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=None, help="log folder")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    dim = 20
    model = MLP(dim_in=dim, dim_out=1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x = torch.randn(256, dim)
    y = x[:, :1] * 2 - x[:, 1:2]  # a target the MLP can learn
    try:
        from ndgrad.utils.tensorboard import SummaryWriter
    except ImportError as e:
        print(f"# no TensorBoard logs: {e}")
        SummaryWriter = None
    writer = SummaryWriter(args.out and str(args.out)) if SummaryWriter else None
    if writer is not None:
        writer.add_graph(model, x[:4])
    for step in range(args.steps):
        loss = train_step(model, opt, x, y)
        if writer is not None:
            writer.add_scalar("loss/train", loss, step)
            if step % 50 == 0:
                for name, p in model.named_parameters():
                    writer.add_histogram(name, p, step)
    if writer is not None:
        writer.close()
        print(f"# TensorBoard logs in {writer.get_logdir()}: tensorboard --logdir "
              f"{pathlib.Path(writer.get_logdir()).parent}")
    # wait one step, warm up one, record three; step() marks each as ProfilerStep#N
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 schedule=schedule(wait=1, warmup=1, active=3, repeat=1)) as prof:
        for _ in range(5):
            with record_function("train_step"):
                train_step(model, opt, x, y)
            prof.step()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)
    print(table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        prof.export_chrome_trace(str(args.out / "trace.json"))
    return table


if __name__ == "__main__":
    main()
