"""Meta-tests on the op table: every public op has an entry, and every ``Op`` primitive runs in one.

An op is covered when it is called while the entries run their first float64 sample forward and
backward in ndgrad (``T.name``, ``T.linalg.name``, ``T.fft.name``, ``T.nn.functional.name`` are
wrapped with a recorder, as is ``Op.apply`` for the primitive check), when an entry's name
or one of its ``tags`` is the op's name (``"x"``, ``"linalg.x"``, ``"fft.x"``, ``"F.x"``), when it
is the very same object as a covered name (an alias such as ``concat``/``cat``), or when an
allow-list below gives the reason it is tested elsewhere."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import op_db.all  # noqa: F401  (registers every family)
import torch
from harness import flat_outputs, to_lib
from op_db import OPS

import ndgrad
import ndgrad.nn.functional as F
from ndgrad.autograd.op import Op

NAMESPACES = {"": ndgrad, "linalg.": ndgrad.linalg, "fft.": ndgrad.fft, "F.": F}

# Public functions the op table does not cover, each with the reason and where it is tested.
NOT_OPS = {
    **dict.fromkeys(["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
                     "set_default_dtype", "get_default_dtype", "set_printoptions",
                     "get_printoptions", "set_num_threads", "get_num_threads",
                     "set_float32_matmul_precision", "get_float32_matmul_precision",
                     "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
                     "is_grad_enabled", "is_inference_mode_enabled", "compile"],
                    "global state or a switch, not a tensor op (test_random, test_print, "
                    "test_threads, test_misc, test_autograd)"),
    **dict.fromkeys(["can_cast", "promote_types", "result_type"],
                    "dtype arithmetic: every dtype pair vs torch in test_promotion/test_tensor"),
    **dict.fromkeys(["save", "load"], "files: round trips vs torch in test_serialization"),
    **dict.fromkeys(["parse_schema", "parse_ir", "parse_type_comment", "import_ir_module",
                     "import_ir_module_from_buffer", "merge_type_from_type_comment",
                     "unify_type_list", "empty_quantized", "get_file_path",
                     "prepare_multiprocessing_environment", "thread_safe_generator",
                     "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12"],
                    "TorchScript/IR, quantized and process helpers, not tensor ops "
                    "(test_aten_extras)"),
    **dict.fromkeys(["is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
                     "set_autocast_dtype", "is_autocast_cpu_enabled", "set_autocast_cpu_enabled",
                     "get_autocast_cpu_dtype", "set_autocast_cpu_dtype", "get_autocast_gpu_dtype",
                     "set_autocast_gpu_dtype", "is_autocast_ipu_enabled",
                     "set_autocast_ipu_enabled", "get_autocast_ipu_dtype",
                     "set_autocast_ipu_dtype", "is_autocast_xla_enabled",
                     "set_autocast_xla_enabled", "get_autocast_xla_dtype",
                     "set_autocast_xla_dtype", "is_autocast_cache_enabled",
                     "set_autocast_cache_enabled", "clear_autocast_cache",
                     "autocast_increment_nesting", "autocast_decrement_nesting",
                     "set_default_device", "get_default_device", "set_warn_always",
                     "is_warn_always_enabled", "set_deterministic_debug_mode",
                     "get_deterministic_debug_mode",
                     "is_deterministic_algorithms_warn_only_enabled", "get_num_interop_threads",
                     "set_num_interop_threads", "init_num_threads", "set_flush_denormal",
                     "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "set_anomaly_enabled",
                     "set_default_tensor_type"],
                    "autocast state and global switches, not tensor ops (test_namespaces)"),
}
# ndgrad-only names: torch has neither torch.<name> nor Tensor.<name>, so there is nothing to
# compare with (checked below, so the list goes stale loudly if torch adds them).
# public names ndgrad has and torch 2.13 does not (an extra name is an API torch code never meets)
NOT_IN_TORCH = {"get_printoptions": "the read side of set_printoptions (torch keeps PRINT_OPTS)"}


def _public(mod) -> list[str]:
    names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
    return sorted(n for n in names if inspect.isfunction(getattr(mod, n))
                  or inspect.isbuiltin(getattr(mod, n)))


PUBLIC = [(prefix, name) for prefix, mod in NAMESPACES.items() for name in _public(mod)]


def _subclasses(cls):
    for s in cls.__subclasses__():
        yield s
        yield from _subclasses(s)


@functools.cache
def _primitives() -> set[str]:
    """Every Op subclass defined in ndgrad, by qualified name, after importing every module."""
    for m in pkgutil.walk_packages(ndgrad.__path__, "ndgrad."):
        if not m.name.startswith(("ndgrad.examples", "ndgrad.demo")):  # scripts that print
            importlib.import_module(m.name)
    return {_qualname(c) for c in _subclasses(Op) if c.__module__.startswith("ndgrad.")
            and not c.__dict__.get("_renamed")}  # a node renamed as torch names it (SumBackward1)


def _qualname(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# Op subclasses no entry applies, with the reason.
UNUSED_OK = {
    "ndgrad.nn._functional.activation._Act": "base class of the activations; never applied itself",
    "ndgrad.nn._functional.activation._ActGrad": "base class of the activations' backward nodes",
    "ndgrad.nn._functional.linear._MmT": "base class of Addmm and Mm",
    "ndgrad.nn._functional.loss._PairLoss": "base class of the pairwise losses",
    "ndgrad.nn._functional.loss._PairLossGrad": "base class of the pairwise losses' backward nodes",
    "ndgrad.nn._functional.norm._Norm": "base class of the norm layers' nodes",
    "ndgrad.nn._functional.shape._Adjoint": "base class of the padding backward nodes",
    "ndgrad.nn._functional.shape._LinearMap": "base class of the padding nodes",
    "ndgrad.nn._functional.attention.ScaledDotProductFlashAttentionForCpu": "torch's fused node "
    "for float32 4-d inputs (the coverage run takes float64 first samples; test_ops and "
    "test_nn_graph run it)",
    "ndgrad.nn._functional.linear.T": "linear's TBackward0 link to the weight: built as a graph "
    "edge, never applied (its backward runs in every linear test)",
    "ndgrad.nn._functional.linear.View": "linear's View/Unsqueeze/Squeeze links: built as graph "
    "edges, never applied (their backward runs in every N-d linear test)",
    "ndgrad.autograd.function._DelayedError": "autograd.Function's once_differentiable, "
    "tested in test_function.py::test_once_differentiable",
    "ndgrad._ops.indexing.IndexBackward": "backward of indexing: first-order runs call its "
    "forward on arrays; applied under create_graph in test_raw_backward.py and gradgradchecks",
    "ndgrad._ops.movement.SliceBackward": "backward of basic indexing: first-order runs call its "
    "forward on arrays; applied under create_graph in test_raw_backward.py and gradgradchecks",
}


def _first_sample(op):
    dtype = "float64" if "float64" in op.dtypes else op.dtypes[0]
    arrays, kwargs = next(iter(op.samples(np.random.default_rng(0), dtype)))
    return arrays, kwargs


def _run(op):
    """Forward and backward (ones as cotangents) of an entry's first sample in ndgrad."""
    arrays, kwargs = _first_sample(op)
    ins = [to_lib(ndgrad, a, op.grad) for a in arrays]
    outs = [o for o in flat_outputs(op.fn(ndgrad, *ins, **kwargs))
            if isinstance(o, ndgrad.Tensor) and o.requires_grad]
    leaves = [t for t in ins if isinstance(t, ndgrad.Tensor) and t.requires_grad]
    if outs and leaves:  # with create_graph, so the ops of double-backward nodes are applied
        ndgrad.autograd.grad(outs, leaves, [ndgrad.ones_like(o) for o in outs],
                             allow_unused=True, create_graph=True)


@functools.cache
def _trace():
    """(qualified public names called by entries, Op classes applied) over all entries."""
    called, applied = set(), set()
    saved = [(mod, n, getattr(mod, n)) for p, mod in NAMESPACES.items() for n in _public(mod)]
    qual = {(id(mod), n): p + n for p, mod in NAMESPACES.items() for n in _public(mod)}

    def spy(mod, name, f):
        @functools.wraps(f)
        def wrapper(*a, **k):
            called.add(qual[id(mod), name])
            return f(*a, **k)
        return wrapper

    entries = ("apply", "apply_pair", "apply_one")  # every way an Op is called
    originals = {n: Op.__dict__[n] for n in entries}

    def spy_on(original):
        def apply(cls, *a, **k):  # a node named as torch names this call (Op.named): its op
            applied.add(cls.__bases__[0] if cls.__dict__.get("_renamed") else cls)
            return original.__func__(cls, *a, **k)
        return classmethod(apply)

    try:
        for mod, name, f in saved:
            setattr(mod, name, spy(mod, name, f))
        for n, original in originals.items():
            setattr(Op, n, spy_on(original))
        with warnings.catch_warnings():  # deprecations and nan/inf warnings: test_ops reports them
            warnings.simplefilter("ignore")
            for op in OPS:
                if not op.skip_reason:
                    _run(op)
    finally:
        for n, original in originals.items():
            setattr(Op, n, original)
        for mod, name, f in saved:
            setattr(mod, name, f)
    return called, applied


def test_every_public_op_has_an_entry():
    called, _ = _trace()
    named = {op.name for op in OPS} | {t for op in OPS for t in op.tags} | called
    def obj(p, n):  # the function behind the argument-type check's per-name wrapper
        return id(inspect.unwrap(getattr(NAMESPACES[p], n)))

    covered_objs = {obj(p, n) for p, n in PUBLIC if p + n in named}
    missing = [p + n for p, n in PUBLIC
               if p + n not in named and p + n not in NOT_OPS and obj(p, n) not in covered_objs]
    assert not missing, f"public ops without an op-table entry: {missing}"


def test_allow_lists_are_current():
    public = {p + n for p, n in PUBLIC}
    assert not set(NOT_OPS) - public, "allow-listed names that are gone"
    assert not set(UNUSED_OK) - _primitives(), "allow-listed Op classes that are gone"


def test_no_public_names_torch_lacks():
    top = [n for n in dir(ndgrad) if not n.startswith("_")
           and not inspect.ismodule(getattr(ndgrad, n)) and not hasattr(torch, n)]
    assert sorted(top) == sorted(NOT_IN_TORCH), "ndgrad-only top-level names"
    methods = [n for n in dir(ndgrad.Tensor) if not n.startswith("_")
               and not hasattr(torch.Tensor, n)]
    assert not methods, f"ndgrad-only Tensor methods: {methods}"


def test_every_primitive_runs_in_an_entry():
    _, applied = _trace()
    missing = sorted(_primitives() - {_qualname(c) for c in applied} - set(UNUSED_OK))
    assert not missing, f"Op subclasses no op-table entry applies: {missing}"
