"""torch.onnx.export: the written file passes onnx.checker and, evaluated by ONNX's reference
evaluator, gives what torch's module with the same weights gives; without the onnx package the
export says to pip install it. (Skips, but for that last test, when onnx is not installed.)"""

import io
import sys

import numpy as np
import pytest
import torch

import ndgrad

R = np.random.default_rng(0)


def twin(build):
    """The same module in torch and ndgrad, with torch's weights copied over."""
    t, n = build(torch), build(ndgrad)
    n.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t.eval(), n


def run_onnx(path_or_bytes, feeds):
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(path_or_bytes) if isinstance(path_or_bytes, str) else \
        onnx.load_from_string(path_or_bytes)
    onnx.checker.check_model(model, full_check=True)
    return model, ReferenceEvaluator(model).run(None, feeds)


def cnn(L):
    nn = L.nn
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=2),
                         nn.Sigmoid(), nn.AvgPool2d(2, ceil_mode=True), nn.Flatten(),
                         nn.Dropout(0.3), nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3),
                         nn.Softmax(dim=1))


class Functional:
    """Module-like: F.linear on batched input, matmul, scalar arithmetic, views, cat, mean."""

    def __init__(self, L):
        self.L = L
        self.lin = L.nn.Linear(6, 4)
        self.proj = L.nn.Linear(4, 4, bias=False)

    def __call__(self, x):
        L = self.L
        h = L.relu(self.lin(x))  # (B, T, 4): MatMul + Add
        h = self.proj(h) * 2.0 - h / 3 + 1
        h = L.cat([h, h.exp()], dim=2).permute(0, 2, 1)  # (B, 8, T)
        s = h.mean(2) + h.sum(2, keepdim=True).view(h.shape[0], 8).abs().sqrt()
        return L.nn.functional.log_softmax(s @ L.ones(8, 3) - s.neg().pow(2).mean(1, keepdim=True),
                                         dim=1)


def _functional_twin():
    t, n = Functional(torch), Functional(ndgrad)
    for a, b in ((t.lin, n.lin), (t.proj, n.proj)):
        for k, v in a.state_dict().items():
            getattr(b, k).data = ndgrad.tensor(v.detach().numpy())
    n.modules = lambda: iter(())
    return t, n


def test_cnn_export_matches_torch(tmp_path):
    pytest.importorskip("onnx")
    t, n = twin(cnn)
    with torch.no_grad():  # give BatchNorm running statistics that are not 0 and 1
        t[1].running_mean.uniform_(-1, 1)
        t[1].running_var.uniform_(0.5, 2)
    n.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    n.train()
    x = R.standard_normal((3, 2, 8, 8)).astype(np.float32)
    path = str(tmp_path / "cnn.onnx")
    assert ndgrad.onnx.export(n, (ndgrad.tensor(x),), path, input_names=["x"],
                              output_names=["probs"]) is None
    assert n.training  # the module's mode is given back
    model, (y,) = run_onnx(path, {"x": x})
    assert [o.name for o in model.graph.output] == ["probs"]
    ops = [node.op_type for node in model.graph.node]
    for op in ("Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "Flatten",
               "Gemm", "Tanh", "Softmax"):
        assert op in ops
    np.testing.assert_allclose(y, t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_functional_export_matches_torch():
    pytest.importorskip("onnx")
    t, n = _functional_twin()
    x = R.standard_normal((2, 5, 6)).astype(np.float32)
    buf = io.BytesIO()
    ndgrad.onnx.export(n, ndgrad.tensor(x), buf, dynamic_axes={"input_0": {0: "batch"}})
    model, (y,) = run_onnx(buf.getvalue(), {"input_0": x})
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 5
    ops = {node.op_type for node in model.graph.node}
    assert {"MatMul", "Add", "Sub", "Mul", "Div", "Concat", "Transpose", "ReduceMean",
            "ReduceSum", "Reshape", "LogSoftmax", "Exp", "Sqrt", "Abs", "Neg", "Pow"} <= ops
    np.testing.assert_allclose(y, t(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_token_model_export_matches_torch(approximate):
    pytest.importorskip("onnx")

    def build(L):
        nn = L.nn
        return nn.Sequential(nn.Embedding(7, 6), nn.LayerNorm(6), nn.Linear(6, 8),
                             nn.GELU(approximate=approximate), nn.Linear(8, 7))

    t, n = twin(build)
    tokens = np.array([[1, 2, 6], [0, 5, 5]], np.int64)
    buf = io.BytesIO()
    ndgrad.onnx.export(n, (ndgrad.tensor(tokens),), buf, input_names=["tokens"])
    model, (y,) = run_onnx(buf.getvalue(), {"tokens": tokens})
    assert {"Gather", "LayerNormalization", "Erf" if approximate == "none" else "Tanh"} <= {
        node.op_type for node in model.graph.node}
    np.testing.assert_allclose(y, t(torch.tensor(tokens)).detach().numpy(), rtol=1e-4,
                               atol=1e-5)


def test_unmapped_op_is_named():
    pytest.importorskip("onnx")
    m = ndgrad.nn.Sequential(ndgrad.nn.Linear(3, 3), ndgrad.nn.Hardswish())
    with pytest.raises(RuntimeError, match="no ONNX mapping for the op Hardswish"):
        ndgrad.onnx.export(m, ndgrad.randn(2, 3), io.BytesIO())
    assert not ndgrad.onnx.is_in_onnx_export()


def test_export_without_onnx_says_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match="pip install onnx"):
        ndgrad.onnx.export(ndgrad.nn.Linear(2, 2), ndgrad.randn(1, 2), io.BytesIO())
