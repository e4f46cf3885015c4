"""add_graph's GraphDef: the autograd graph of one forward call, its nodes grouped by module."""

from __future__ import annotations

import re

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ..._grad_mode import enable_grad
from ..._tensor import Tensor
from ...autograd.graph import _walk
from ...autograd.node import AccumulateGrad


def _tensors(x) -> list:
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, dict):
        x = list(x.values())
    return [t for v in x for t in _tensors(v)] if isinstance(x, (list, tuple)) else []


def _node(name: str, op: str, inputs=(), shape=None) -> NodeDef:
    attr = {}
    if shape is not None:
        dims = [TensorShapeProto.Dim(size=d) for d in shape]
        attr["_output_shapes"] = AttrValue(list=AttrValue.ListValue(
            shape=[TensorShapeProto(dim=dims)]))
    return NodeDef(name=name, op=op, input=list(inputs), attr=attr)


def graph(model, args, verbose: bool = False) -> tuple:
    """(GraphDef, RunMetadata) of ``model(*args)``, run once in eval mode with the inputs as leaves
    that require grad, so the whole computation is recorded."""
    args = () if args is None else (args,) if isinstance(args, Tensor) else tuple(args)
    inputs = [a.detach().requires_grad_(a.is_floating_point()) if isinstance(a, Tensor) else a
              for a in args]
    root = type(model).__name__
    scopes = {id(model): root}
    for path, m in model.named_modules():
        if path:
            parent = scopes[id(model.get_submodule(path.rpartition(".")[0]))]
            scopes[id(m)] = f"{parent}/{type(m).__name__}[{path.rpartition('.')[2]}]"
    owner = {}  # node id -> scope of the innermost module whose forward made it
    bounds: list = []

    def pre(m, inp) -> None:
        bounds.append({id(t.grad_fn) for t in _tensors(inp) if t.grad_fn is not None})

    def post(m, inp, out) -> None:
        stop, stack = bounds.pop(), [t.grad_fn for t in _tensors(out) if t.grad_fn is not None]
        while stack:
            fn = stack.pop()
            if isinstance(fn, AccumulateGrad) or id(fn) in owner or id(fn) in stop:
                continue
            owner[id(fn)] = scopes[id(m)]
            stack += [f for f, _ in fn.next_functions if f is not None]

    handles = [h for m in model.modules() for h in (m.register_forward_pre_hook(pre),
                                                     m.register_forward_hook(post))]
    training = model.training
    try:
        model.train(False)
        with enable_grad():
            outputs = _tensors(model(*inputs))
    finally:
        model.train(training)
        for h in handles:
            h.remove()
    items, edges = _walk(outputs)
    params = {id(p): f"{scopes[id(model.get_submodule(n.rpartition('.')[0]))]}/"
                     f"{n.rpartition('.')[2]}" for n, p in model.named_parameters()}
    ins = {id(t): f"input/input.{i}" for i, t in enumerate(inputs) if isinstance(t, Tensor)}
    names, taken = [], set()
    for fn in items:
        if isinstance(fn, AccumulateGrad):
            v = fn.variable
            name = params.get(id(v)) or ins.get(id(v)) or f"{root}/constant"
        else:
            name = f"{owner.get(id(fn), root)}/{fn.name().rpartition('::')[2]}"
        base, n = name, 0
        while name in taken:  # unique names; TensorBoard groups them by their "/" scopes
            n += 1
            name = f"{base}.{n}"
        taken.add(name)
        names.append(name)
    sources: list = [[] for _ in items]
    shapes: list = [None] * len(items)
    for a, b, k in edges:
        sources[b].append(names[a])
        meta = getattr(items[b], "in_meta", None)
        if meta is not None and len(meta) == len(items[b].next_functions) and meta[k]:
            shapes[a] = meta[k][0]
    index = {id(fn): i for i, fn in enumerate(items) if not isinstance(fn, AccumulateGrad)}
    for t in outputs:
        if t.grad_fn is not None:
            shapes[index[id(t.grad_fn)]] = t.shape
    nodes = [_node(ins[id(t)], "IO Node", shape=t.shape) for t in inputs if isinstance(t, Tensor)]
    for i, fn in enumerate(items):
        if isinstance(fn, AccumulateGrad):
            if id(fn.variable) not in ins:
                nodes.append(_node(names[i], "prim::GetAttr", shape=fn.variable.shape))
            continue
        op = "aten::" + re.sub(r"Backward\d*$", "", fn.name().rpartition("::")[2]).lower()
        nodes.append(_node(names[i], op, sources[i], shapes[i]))
    for j, t in enumerate(outputs):
        src = [names[index[id(t.grad_fn)]]] if t.grad_fn is not None else []
        nodes.append(_node(f"output/output.{j}", "IO Node", src, t.shape))
    graph_def = GraphDef(node=nodes, versions=VersionDef(producer=22))
    if verbose:
        print(graph_def)
    return graph_def, RunMetadata(step_stats=StepStats(dev_stats=[
        DeviceStepStats(device="/device:CPU:0")]))
