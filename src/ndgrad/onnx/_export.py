"""torch.onnx.export for ndgrad: trace the module once (see _trace) and write each recorded op
as ONNX nodes through the ``onnx`` package (an optional extra: ``pip install onnx``).

Mapped: Linear (Gemm, or MatMul + Add for batched input), MatMul/mm, Add/Sub/Mul/Div/Pow/Neg,
Relu, Sigmoid, Tanh, Exp, Log, Sqrt, Abs, Softmax, LogSoftmax, Conv (1-d/2-d/3-d), Reshape (view,
flatten, squeeze/unsqueeze), Transpose (permute), Concat, ReduceMean/ReduceSum, and the whole-module
Flatten, MaxPool, AveragePool, BatchNormalization (eval), Dropout/Identity, GlobalAveragePool,
Embedding (Gather), LayerNorm (LayerNormalization); GELU as its Erf/Tanh formula.
Any other op raises an error naming it. The graph is traced for the example input's shapes
(``dynamic_axes`` marks the named dimensions symbolic in the graph's inputs and outputs, but the
Reshape targets stay the traced sizes)."""

from __future__ import annotations

import numpy as np

from .._backend import to_numpy
from .._tensor import Tensor
from ._trace import Recorder

_UNARY = {"ReluBackward0": "Relu", "SigmoidBackward0": "Sigmoid", "TanhBackward0": "Tanh",
          "ExpBackward0": "Exp", "LogBackward0": "Log", "SqrtBackward0": "Sqrt",
          "AbsBackward0": "Abs", "NegBackward0": "Neg"}
_BINARY = {"AddBackward0": "Add", "SubBackward0": "Sub", "MulBackward0": "Mul",
           "DivBackward0": "Div", "PowBackward0": "Pow", "PowScalarBackward0": "Pow",
           "MatMulBackward0": "MatMul"}
_RESHAPE = ("ViewBackward0", "UnsafeViewBackward0", "ReshapeAliasBackward0", "CloneBackward0",
            "UnsqueezeBackward0", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward4",
            "ExpandBackward0")


def require_onnx():
    try:
        import onnx
    except ImportError:
        raise ModuleNotFoundError(
            "ndgrad.onnx.export writes ONNX files through the 'onnx' package, which is not "
            "installed: pip install onnx (or: pip install ndgrad[onnx])", name="onnx") from None
    return onnx


class _Graph:
    """Names for the traced tensors, the nodes and the initializers, as ONNX protos."""

    def __init__(self, onnx, params: dict):
        self.onnx, self.h = onnx, onnx.helper
        self.names: dict = {}  # id(tensor) -> name
        self.keep: list = []  # the named tensors stay alive, so ids are not reused
        self.params = params  # id(parameter or buffer) -> its state_dict name
        self.nodes, self.inits, self.count = [], [], 0

    def fresh(self, stem: str) -> str:
        self.count += 1
        return f"/{stem}_{self.count}"

    def const(self, value, stem="const") -> str:
        name = self.fresh(stem)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(value), name))
        return name

    def name_of(self, x, like=None) -> str:
        """The value's graph name: traced tensors by identity; parameters and other tensors
        or arrays become initializers (Python numbers in ``like``'s dtype)."""
        if isinstance(x, Tensor):
            key = id(x)
            if key not in self.names:
                name = self.params.get(key) or self.fresh("const")
                self.inits.append(self.onnx.numpy_helper.from_array(
                    np.ascontiguousarray(to_numpy(x._data)), name))
                self.bind(x, name)
            return self.names[key]
        dt = to_numpy(like._data).dtype if isinstance(like, Tensor) else None
        return self.const(np.asarray(to_numpy(x) if not isinstance(x, (int, float)) else x,
                                     dtype=dt))

    def bind(self, t: Tensor, name: str) -> None:
        self.names[id(t)] = name
        self.keep.append(t)

    def node(self, op: str, inputs, out: Tensor | None = None, **attrs) -> str:
        name = self.fresh(op)
        self.nodes.append(self.h.make_node(op, list(inputs), [name], name=name + "_node",
                                           **attrs))
        if out is not None:
            self.bind(out, name)
        return name


def _emit_op(g: _Graph, name: str, args, kw, out):
    if name in _UNARY:
        return g.node(_UNARY[name], [g.name_of(args[0])], out)
    if name in _BINARY:
        a, b = args[0], args[1]
        like = a if isinstance(a, Tensor) else b
        inputs = [g.name_of(a, like), g.name_of(b, like)]
        alpha = kw.get("alpha", args[3] if len(args) > 3 else 1)
        if name in ("AddBackward0", "SubBackward0") and alpha != 1:
            inputs[1] = g.node("Mul", [inputs[1], g.name_of(alpha, like)])
        return g.node(_BINARY[name], inputs, out)
    if name in ("AddmmBackward0", "MmBackward0"):  # (b,) x W^T (+ b): nn.Linear, F.linear
        b, x, w = args if len(args) == 3 else (None, *args)
        ins = [g.name_of(x), g.name_of(w)] + ([g.name_of(b)] if b is not None else [])
        if x.ndim == 2 and (b is None or b.ndim <= 1):
            return g.node("Gemm", ins, out, transB=1)
        y = g.node("MatMul", [ins[0], g.node("Transpose", [ins[1]], perm=[1, 0])])
        return g.node("Add", [y, ins[2]], out) if b is not None else g.node("Identity", [y], out)
    if name == "ConvBackward0":
        x, w = args[0], args[1]
        ins = [g.name_of(x), g.name_of(w)] + ([g.name_of(args[2])] if len(args) > 2 and
                                               args[2] is not None else [])
        pads = [p[0] for p in kw["pads"]] + [p[1] for p in kw["pads"]]
        return g.node("Conv", ins, out, kernel_shape=list(w.shape[2:]), strides=list(kw["stride"]),
                      pads=pads, dilations=list(kw["dilation"]), group=int(kw["groups"]))
    if name in _RESHAPE:
        shape = g.const(np.asarray(out.shape, np.int64), "shape")
        return g.node("Reshape", [g.name_of(args[0]), shape], out)
    if name == "PermuteBackward0":
        return g.node("Transpose", [g.name_of(args[0])], out, perm=list(args[1]))
    if name in ("SoftmaxBackward0", "LogSoftmaxBackward0"):
        op = "Softmax" if name[0] == "S" else "LogSoftmax"
        return g.node(op, [g.name_of(args[0])], out, axis=int(args[1]))
    if name == "CatBackward0":
        return g.node("Concat", [g.name_of(a) for a in args], out, axis=int(kw.get("dim", 0)))
    if name in ("MeanBackward0", "SumBackward0"):
        x = args[0]
        dims = args[1] if len(args) > 1 and args[1] is not None else tuple(range(x.ndim))
        keep = int(bool(args[2])) if len(args) > 2 else 0
        axes = g.const(np.asarray([d % x.ndim for d in dims], np.int64), "axes")
        op = "ReduceMean" if name[0] == "M" else "ReduceSum"
        return g.node(op, [g.name_of(x), axes], out, keepdims=keep)
    if name == "GeluBackward0":  # Erf (or tanh) form: Gelu itself is opset 20
        x = g.name_of(args[0])
        def c(v):
            return g.name_of(v, args[0])

        if kw.get("approximate", "none") == "tanh":  # x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))
            x3 = g.node("Mul", [c(0.044715), g.node("Mul", [x, g.node("Mul", [x, x])])])
            inner = g.node("Mul", [c(0.7978845608028654), g.node("Add", [x, x3])])
            t = g.node("Tanh", [inner])
        else:  # 0.5 x (1 + erf(x / sqrt(2)))
            t = g.node("Erf", [g.node("Div", [x, c(1.4142135623730951)])])
        return g.node("Mul", [g.node("Mul", [x, c(0.5)]), g.node("Add", [t, c(1.0)])], out)
    raise RuntimeError(f"ndgrad.onnx.export: no ONNX mapping for the op {name} (ndgrad exports "
                       "Linear/Gemm, MatMul, Conv, pooling, BatchNorm, Flatten/Reshape, "
                       "Transpose, Concat, reductions, softmax and elementwise activations)")


def _pair(v, n):
    return list(v) if isinstance(v, (tuple, list)) else [v] * n


def _emit_module(g: _Graph, mod, args, out):
    kind, x = type(mod).__name__, args[0]
    xin = g.name_of(x)
    if kind in ("Dropout", "Identity"):
        return g.node("Identity", [xin], out)
    if kind == "Flatten":
        if mod.end_dim in (-1, x.ndim - 1):
            return g.node("Flatten", [xin], out, axis=mod.start_dim % x.ndim)
        shape = g.const(np.asarray(out.shape, np.int64), "shape")
        return g.node("Reshape", [xin, shape], out)
    if kind.startswith(("MaxPool", "AvgPool")):
        n = x.ndim - 2
        k = _pair(mod.kernel_size, n)
        s = _pair(mod.stride if mod.stride is not None else mod.kernel_size, n)
        p = _pair(mod.padding, n)
        attrs = dict(kernel_shape=k, strides=s, pads=p + p, ceil_mode=int(mod.ceil_mode))
        if kind.startswith("Max"):
            if getattr(mod, "return_indices", False):
                raise RuntimeError("ndgrad.onnx.export: MaxPool with return_indices is not "
                                   "mapped")
            attrs["dilations"] = _pair(mod.dilation, n)
            return g.node("MaxPool", [xin], out, **attrs)
        return g.node("AveragePool", [xin], out, count_include_pad=int(mod.count_include_pad),
                      **attrs)
    if kind == "AdaptiveAvgPool2d":
        if _pair(mod.output_size, 2) != [1, 1]:
            raise RuntimeError("ndgrad.onnx.export: AdaptiveAvgPool2d maps only with output "
                               "size 1 (GlobalAveragePool)")
        return g.node("GlobalAveragePool", [xin], out)
    if kind.startswith("BatchNorm"):
        if mod.running_mean is None:  # (export traces in eval mode: running statistics)
            raise RuntimeError("ndgrad.onnx.export: BatchNorm without running statistics is not "
                               "mapped")
        c = x.shape[1]
        w = mod.weight if mod.weight is not None else np.ones(c, to_numpy(x._data).dtype)
        b = mod.bias if mod.bias is not None else np.zeros(c, to_numpy(x._data).dtype)
        ins = [xin, g.name_of(w, x), g.name_of(b, x), g.name_of(mod.running_mean),
               g.name_of(mod.running_var)]
        return g.node("BatchNormalization", ins, out, epsilon=float(mod.eps))
    if kind == "Embedding":
        if mod.max_norm is not None:
            raise RuntimeError("ndgrad.onnx.export: Embedding with max_norm is not mapped")
        return g.node("Gather", [g.name_of(mod.weight), xin], out)
    if kind == "LayerNorm":
        ins = [xin] + ([g.name_of(mod.weight)] if mod.weight is not None else
                       [g.const(np.ones(mod.normalized_shape, to_numpy(x._data).dtype))])
        ins += [g.name_of(mod.bias)] if getattr(mod, "bias", None) is not None else []
        return g.node("LayerNormalization", ins, out, axis=-len(mod.normalized_shape),
                      epsilon=float(mod.eps))
    raise RuntimeError(f"ndgrad.onnx.export: no ONNX mapping for the module {kind}")


def _traced(x):
    if isinstance(x, Tensor) and (x.dtype.is_floating_point or x.dtype.is_complex):
        return x.detach().requires_grad_()
    if isinstance(x, (tuple, list)):
        return type(x)(_traced(v) for v in x)
    return x


def _flat(x):
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _flat(v)]
    if isinstance(x, dict):
        return [t for v in x.values() for t in _flat(v)]
    return []


_ELEM = {"float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7, "bool": 9,
         "float16": 10, "float64": 11, "bfloat16": 16}


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=True, export_params=True,
           keep_initializers_as_inputs=False, dynamic_axes=None, training=None,
           do_constant_folding=True, **unused):
    """Same as torch.onnx.export for what ndgrad maps (see the module docstring): runs
    ``model(*args, **kwargs)`` once in eval mode, writes the ONNX model to ``f`` (a path or a
    binary file) and returns None; needs the ``onnx`` package (pip install onnx)."""
    onnx = require_onnx()
    h = onnx.helper
    args = (args,) if isinstance(args, Tensor) else tuple(args)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict) and not kwargs:  # torch's trailing-dict convention
        args, kwargs = args[:-1], dict(args[-1])
    params = {}
    if hasattr(model, "state_dict"):
        for n, t in model.state_dict(keep_vars=True).items():
            params.setdefault(id(t), n)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    from .._grad_mode import enable_grad

    # the inputs require grad so that every op on them is recorded (ops on constants alone
    # take a fast path that skips the hook: their results become constants of the graph)
    args, kwargs = _traced(args), {k: _traced(v) for k, v in kwargs.items()}
    rec = Recorder()
    global _IN_EXPORT
    _IN_EXPORT = True
    try:
        with enable_grad():
            result = rec.run(model, args, kwargs)
    finally:
        _IN_EXPORT = False
        if was_training:
            model.train()
    g = _Graph(onnx, params)
    ins = _flat(list(args) + list(kwargs.values()))
    in_names = list(input_names or [])
    in_names += [f"input_{i}" for i in range(len(in_names), len(ins))]
    for t, n in zip(ins, in_names):
        g.bind(t, n)
    for kind, what, a, kw, out in rec.calls:
        if not isinstance(out, Tensor):
            raise RuntimeError(f"ndgrad.onnx.export: {kind} {getattr(what, '__name__', what)} "
                               "returned several tensors; only single-output ops are mapped")
        if kind == "op":
            _emit_op(g, what, a, kw, out)
        else:
            _emit_module(g, what, a, out)
    outs = _flat(result)
    out_names = list(output_names or [])
    out_names += [f"output_{i}" for i in range(len(out_names), len(outs))]
    for t, n in zip(outs, out_names):
        g.nodes.append(h.make_node("Identity", [g.name_of(t)], [n], name=n + "_identity"))
    dyn = dynamic_axes or {}

    def value_info(name, t):
        shape = list(t.shape)
        axes = dyn.get(name, {})
        axes = axes if isinstance(axes, dict) else {a: f"{name}_dim_{a}" for a in axes}
        for a, sym in axes.items():
            shape[a] = sym
        return h.make_tensor_value_info(name, _ELEM[t.dtype.name], shape)

    graph = h.make_graph(g.nodes, getattr(type(model), "__name__", "main_graph"),
                         [value_info(n, t) for t, n in zip(ins, in_names)],
                         [value_info(n, t) for t, n in zip(outs, out_names)], g.inits)
    opset = opset_version or 18
    proto = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)],
                         producer_name="ndgrad", ir_version=min(onnx.IR_VERSION, 10))
    onnx.checker.check_model(proto)
    if verbose:
        print(h.printable_graph(graph))
    if f is not None:
        if hasattr(f, "write"):
            f.write(proto.SerializeToString())
        else:
            onnx.save_model(proto, str(f))
    return None


_IN_EXPORT = False


def is_in_onnx_export() -> bool:
    """Same as torch.onnx.is_in_onnx_export: True while export runs the model."""
    return _IN_EXPORT
