"""Whole objects in checkpoints, as torch pickles them: torch.save(model) and torch.load with
torch's weights_only rules (pytorch/examples word_language_model saves its model so and loads it
inside serialization.safe_globals). Each behaviour is checked against torch's."""

import argparse
import io
import pickle
import sys
import types

import numpy as np
import pytest
import torch

import ndgrad


class Net:  # built for either library: (lib.nn.Module subclass, instance)
    @staticmethod
    def make(lib):
        class TinyLM(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = lib.nn.Embedding(7, 4)
                self.rnn = lib.nn.LSTM(4, 5, 2)
                self.decoder = lib.nn.Linear(5, 7)
                self.act = lib.nn.functional.relu
                self.kind = "LSTM"

            def forward(self, x):
                out, _ = self.rnn(self.encoder(x))
                return self.decoder(self.act(out))

        TinyLM.__qualname__ = TinyLM.__name__ = f"TinyLM_{lib.__name__}"
        TinyLM.__module__ = __name__
        globals()[TinyLM.__name__] = TinyLM  # found by name, as pickle needs
        lib.manual_seed(0)
        return TinyLM, TinyLM()


def _roundtrip(lib, obj, **load_kwargs):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return lib.load(buf, **load_kwargs)


def _safe(lib, cls):
    return [cls, lib.nn.Embedding, lib.nn.LSTM, lib.nn.Linear, lib.nn.functional.relu]


@pytest.mark.parametrize("how", ["default", "safe_globals", "weights_only=False"])
def test_whole_module_round_trip_follows_torch_weights_only_rules(how):
    results = {}
    for lib in (torch, ndgrad):
        cls, model = Net.make(lib)
        x = lib.tensor([[1, 2], [3, 4], [5, 6]])
        try:
            if how == "default":
                loaded = _roundtrip(lib, model)
            elif how == "safe_globals":
                with lib.serialization.safe_globals(_safe(lib, cls)):
                    loaded = _roundtrip(lib, model)
            else:
                loaded = _roundtrip(lib, model, weights_only=False)
        except pickle.UnpicklingError as e:
            results[lib.__name__] = type(e)
            assert "Weights only load failed" in str(e)
            continue
        assert type(loaded) is cls and loaded.kind == "LSTM"
        assert loaded.act is lib.nn.functional.relu
        assert loaded.rnn.weight_hh_l1.requires_grad and isinstance(loaded.rnn.weight_hh_l1,
                                                                    lib.nn.Parameter)
        results[lib.__name__] = loaded(x).detach().numpy()
        np.testing.assert_array_equal(results[lib.__name__], model(x).detach().numpy())
    if how == "default":
        assert results["torch"] is results["ndgrad"] is pickle.UnpicklingError
    else:
        np.testing.assert_allclose(results["ndgrad"], results["torch"], rtol=1e-5, atol=1e-6)


def test_shared_submodules_and_tied_weights_load_as_one_object():
    for lib in (torch, ndgrad):
        lin = lib.nn.Linear(3, 3)
        seq = lib.nn.Sequential(lin, lib.nn.ReLU(), lin)
        out = _roundtrip(lib, {"m": seq, "w": lin.weight}, weights_only=False)
        assert out["m"][0] is out["m"][2] and out["w"] is out["m"][0].weight


def test_plain_objects_such_as_argparse_namespace():
    args = argparse.Namespace(lr=0.1, model="LSTM", layers=[2, 3])
    for lib in (torch, ndgrad):
        got = _roundtrip(lib, {"args": args}, weights_only=False)["args"]
        assert got == args and type(got) is argparse.Namespace
        with lib.serialization.safe_globals([argparse.Namespace]):
            assert _roundtrip(lib, {"args": args})["args"] == args


def test_a_file_never_makes_ndgrad_import_a_module():
    mod = types.ModuleType("ndgrad_test_not_imported")
    exec("class Thing:\n    pass\n", mod.__dict__)
    mod.Thing.__module__ = mod.__name__
    sys.modules[mod.__name__] = mod
    buf = io.BytesIO()
    try:
        ndgrad.save(mod.Thing(), buf)
    finally:
        del sys.modules[mod.__name__]
    with pytest.raises(pickle.UnpicklingError, match="never imports a module"):
        ndgrad.load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert mod.__name__ not in sys.modules


def test_torch_module_paths_of_nn_classes():
    # programs name classes by torch's module path (word_language_model's safe_globals list)
    import importlib
    import inspect
    import pkgutil

    for info in pkgutil.iter_modules(torch.nn.modules.__path__):
        theirs = importlib.import_module(f"torch.nn.modules.{info.name}")
        for name, cls in vars(theirs).items():
            if (inspect.isclass(cls) and cls.__module__ == theirs.__name__
                    and not info.name.startswith("_") and hasattr(ndgrad.nn, name)
                    and hasattr(torch.nn, name)):
                ours = importlib.import_module(f"ndgrad.nn.modules.{info.name}")
                assert getattr(ours, name, None) is getattr(ndgrad.nn, name), (info.name, name)


def test_a_layer_storing_the_function_behind_a_public_wrapper_loads_with_it_allowed():
    # ndgrad's TransformerEncoderLayer keeps nn.functional.relu's implementation, the public
    # F.relu wraps it (argument checks): allowing F.relu, as word_language_model does, allows it
    for lib in (torch, ndgrad):
        layer = lib.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)
        safe = [lib.nn.TransformerEncoderLayer, lib.nn.MultiheadAttention, lib.nn.Linear,
                lib.nn.modules.linear.NonDynamicallyQuantizableLinear, lib.nn.LayerNorm,
                lib.nn.Dropout, lib.nn.functional.relu]
        with lib.serialization.safe_globals(safe):
            again = _roundtrip(lib, layer)
        x = lib.ones(3, 1, 4)
        np.testing.assert_array_equal(again.eval()(x).detach().numpy(),
                                      layer.eval()(x).detach().numpy())
