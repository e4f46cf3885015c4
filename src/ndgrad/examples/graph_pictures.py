"""Pictures of the autograd graph, for the course notebook's quadratic form and MLP.

    python -m ndgrad.examples.graph_pictures            # prints the DOT text
    python -m ndgrad.examples.graph_pictures --out DIR  # also renders DIR/*.svg (needs graphviz)

``to_dot`` draws what ``backward()`` will walk: one box per recorded operation, named as torch
names its ``grad_fn`` (DotBackward0, AddmmBackward0, ...); blue boxes are the leaves whose
``.grad`` gets filled, green the output. In Jupyter the returned object shows as a picture."""

from __future__ import annotations

import argparse
import pathlib

import ndgrad as torch
import ndgrad.nn as nn
import ndgrad.nn.functional as F
from ndgrad.autograd.graph import to_dot


def quadratic_form(dim: int = 20):
    """f(x) = 1/2 x^T A x (notebook cell 2): x is the only leaf that requires grad, so A shows
    up only among the saved tensors (``show_saved``), which MvBackward0 needs for A^T g."""
    x = torch.randn(dim, requires_grad=True)
    A = torch.randn((dim, dim))
    y = 0.5 * torch.dot(x, torch.matmul(A, x))
    return y, x, A


class MLP(nn.Module):
    """The notebook's MLP (cell 133)."""

    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(dim_in, dim_in)
        self.linear2 = nn.Linear(dim_in, dim_in)
        self.linear3 = nn.Linear(dim_in, dim_out)
        self.activation_func = F.relu

    def forward(self, x):
        x = self.activation_func(self.linear1(x))
        x = self.activation_func(self.linear2(x))
        return self.linear3(x)


def mlp_loss(dim: int = 20):
    """The notebook's training sample (cell 141): one input, an MSE loss. Each Linear on a
    vector is a matmul plus bias (TBackward0 transposes the weight); ReLU adds ReluBackward0."""
    model = MLP(dim_in=dim, dim_out=1)
    loss = F.mse_loss(model(torch.randn(dim)), torch.randn(1))
    return loss, dict(model.named_parameters())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, help="render SVG pictures into this folder")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    y, x, A = quadratic_form()
    graphs = {"quadratic_form": to_dot(y, {"x": x, "A": A}, show_saved=True)}
    y.backward()  # walks exactly the boxes drawn above, from the output to x
    torch.testing.assert_close(0.5 * torch.matmul(A + A.T, x), x.grad)
    loss, params = mlp_loss()
    graphs["mlp"] = to_dot(loss, params)
    for name, dot in graphs.items():
        print(f"# {name}\n{dot}")
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            path = dot.render(str(args.out / name), format="svg")
            print(f"# rendered: {path}" if path else "# graphviz not installed: DOT text only")


if __name__ == "__main__":
    main()
