"""ndgrad.autograd.graph.to_dot: the DOT text of torch's graph (torchviz's make_dot, built in),
checked by parsing it against torch's own grad_fn graph; rendering when graphviz is there."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter

import pytest
import torch

import ndgrad
from ndgrad.autograd.graph import DotGraph, to_dot

NODE = re.compile(r'^\t(n\d+) \[label="((?:[^"\\]|\\.)*)"(?: fillcolor=(\w+))?\]$')
EDGE = re.compile(r"^\t(n\d+) -> (n\d+)( \[dir=none\])?$")


def parse(dot: str) -> tuple[dict, list]:
    """{id: (label, color)} and [(from, to, dashed)] of to_dot's output; every line must parse."""
    lines = dot.splitlines()
    assert lines[:3] == ["digraph {", '\tgraph [size="12,12"]', "\tnode [align=left "
                         "fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box "
                         "style=filled]"] and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[3:-1]:
        if m := NODE.match(line):
            nodes[m[1]] = (m[2].replace("\\n", "\n"), m[3])
        else:
            m = EDGE.match(line)
            assert m, line
            edges.append((m[1], m[2], bool(m[3])))
    return nodes, edges


def torch_graph(t) -> tuple[Counter, int]:
    """Names of the grad_fn nodes behind a torch tensor (AccumulateGrad included), and the edge
    count, walking next_functions as torchviz does."""
    names, edges, seen, stack = Counter(), 0, set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        key = id(fn.variable) if hasattr(fn, "variable") else fn
        if key in seen:
            continue
        seen.add(key)
        names[type(fn).__name__] += 1
        for f, _ in fn.next_functions:
            if f is not None:
                edges += 1
                stack.append(f)
    return names, edges


def quadratic(lib):
    lib.manual_seed(0)
    x = lib.randn(20, requires_grad=True)
    A = lib.randn(20, 20)
    return 0.5 * lib.dot(x, lib.matmul(A, x)), {"x": x}


def mlp(lib):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(20, 20), lib.nn.ReLU(), lib.nn.Linear(20, 20),
                            lib.nn.ReLU(), lib.nn.Linear(20, 1))
    loss = lib.nn.functional.mse_loss(net(lib.randn(20)), lib.randn(1))
    return loss, dict(net.named_parameters())


@pytest.mark.parametrize("build", [quadratic, mlp])
def test_nodes_and_edges_are_torchs(build):
    out, params = build(ndgrad)
    nodes, edges = parse(to_dot(out, params=params))
    ops = Counter(label for label, color in nodes.values() if color is None)
    names, n_edges = torch_graph(build(torch)[0])
    assert ops == names
    # torch's edges, plus one from each leaf to its AccumulateGrad and one to the output
    assert len(edges) == n_edges + names["AccumulateGrad"] + 1
    leaves = {label for label, color in nodes.values() if color == "lightblue"}
    assert leaves == {f"{n}\n ({', '.join(map(str, p.shape))})" for n, p in params.items()}
    (out_label,) = [label for label, color in nodes.values() if color == "darkolivegreen1"]
    assert out_label == "output\n ()"


def test_edges_run_from_inputs_to_users():
    x = ndgrad.ones(3, requires_grad=True)
    nodes, edges = parse(to_dot((x.exp() * 2).sum(), params={"x": x}))
    label = {k: v[0] for k, v in nodes.items()}
    chain = [(label[a], label[b]) for a, b, _ in edges]
    for pair in [("x\n (3)", "AccumulateGrad"), ("AccumulateGrad", "ExpBackward0"),
                 ("ExpBackward0", "MulBackward0"), ("MulBackward0", "SumBackward0"),
                 ("SumBackward0", "output\n ()")]:
        assert pair in chain


def test_saved_tensors_optional():
    w = ndgrad.randn(4, 3, requires_grad=True)
    y = (ndgrad.randn(2, 4) @ w).tanh().sum()
    plain, _ = parse(to_dot(y, params={"w": w}))
    nodes, edges = parse(to_dot(y, params={"w": w}, show_saved=True))
    saved = [k for k, (label, color) in nodes.items() if color == "orange"]
    assert saved and not any(c == "orange" for _, c in plain.values())
    assert all(any(a == k and dashed for a, _, dashed in edges) for k in saved)
    # w, saved by the matmul, stays one blue node
    assert [label for label, c in nodes.values() if c == "lightblue"] == ["w\n (4, 3)"]
    y.backward()  # saved tensors are freed now: they are left out, without an error
    after, _ = parse(to_dot(y, show_saved=True))
    assert not any(c == "orange" for _, c in after.values())


def test_several_outputs_and_a_deep_chain():
    a = ndgrad.ones(2, requires_grad=True)
    nodes, _ = parse(to_dot([a * 2, a + 1]))
    assert sum(c == "darkolivegreen1" for _, c in nodes.values()) == 2
    t = a
    for _ in range(3000):  # iterative: no recursion limit
        t = t * 1.0
    nodes, edges = parse(to_dot(t))
    assert len(nodes) == 3000 + 3 and len(edges) == 3000 + 2


def test_dotgraph_is_text_and_renders(tmp_path, monkeypatch):
    dot = to_dot(quadratic(ndgrad)[0])
    assert isinstance(dot, str) and isinstance(dot, DotGraph) and dot.source == str(dot)
    if shutil.which("dot"):
        svg = dot._repr_svg_()
        assert svg.lstrip().startswith("<?xml") and "DotBackward0" in svg
        assert dot._repr_mimebundle_()["image/svg+xml"] == svg
        out = dot.render(str(tmp_path / "quad"), format="png")
        assert out == str(tmp_path / "quad.png")
        assert (tmp_path / "quad.png").read_bytes()[:4] == b"\x89PNG"
        assert (tmp_path / "quad.dot").read_text() == dot
        assert dot.render(str(tmp_path / "g.svg")) == str(tmp_path / "g.svg")
        plain = subprocess.run(["dot", "-Tplain"], input=dot.encode(), capture_output=True,
                               check=True).stdout.decode()
        assert plain.count("\nnode ") == len(parse(dot)[0])
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no graphviz: DOT text only
    assert dot._repr_svg_() is None and set(dot._repr_mimebundle_()) == {"text/plain"}
    with pytest.warns(UserWarning, match="install graphviz"):
        assert dot.render(str(tmp_path / "none"), format="svg") is None
    assert (tmp_path / "none.dot").read_text() == dot and not (tmp_path / "none.svg").exists()
    with pytest.raises(RuntimeError, match="install graphviz"):
        dot.pipe()


def test_example_draws_the_notebooks_graphs(tmp_path, capsys):
    from ndgrad.examples import graph_pictures

    graph_pictures.main(["--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert "# quadratic_form" in text and "# mlp" in text and "linear3.weight" in text
    assert (tmp_path / "mlp.dot").exists()
    assert (tmp_path / "mlp.svg").exists() == bool(shutil.which("dot"))
