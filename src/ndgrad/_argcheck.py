"""torch's TypeError for a public function called with something that is not a Tensor.

Torch checks its arguments' types before anything runs: ``torch.abs("a")`` is "abs(): argument
'input' (position 1) must be Tensor, not str". ndgrad's functions read their input's attributes
first, so a str or a dict fails deep inside with an AttributeError. Rather than a check in every
function (a cost on every call), each public function of the namespaces is wrapped once: a
failure whose first argument is not a Tensor becomes torch's TypeError. Successful calls only pay
the wrapper's call."""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np

from ._errors import not_tensor
from ._tensor import Tensor

# what a function may raise on its own for a bad first argument: left as it is
_TORCH_LIKE = (TypeError, RuntimeError, ValueError, NotImplementedError)


def _wrap(fn, name: str, params: list):
    """``fn`` raising torch's TypeError, naming the first tensor parameter (of ``params``, the
    positional ones) that got something else, when it fails with a TypeError (torch checks types
    before arity) or another way than torch's."""
    @functools.wraps(fn)
    def checked(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (RuntimeError, ValueError, NotImplementedError, IndexError):
            raise  # torch raises these too (IndexError: dims out of range)
        except Exception as e:
            renamed = torch_names(e, kwargs)
            if renamed is not None:
                return checked(*args, **renamed)
            leak = not isinstance(e, TypeError)
            for pos, param in enumerate(params, 1):
                x = args[pos - 1] if pos <= len(args) else kwargs.get(param, _MISSING)
                if param in _TENSOR_PARAMS and x is not _MISSING and _wrong(x, param, pos, leak):
                    what = "tuple of Tensors" if param in ("tensors", "indices") else "Tensor"
                    fn_name, param = _MESSAGE_NAMES.get(name, (name, param)) if pos == 1 else \
                        (name, param)
                    raise not_tensor(fn_name, x, param, pos, what) from None
            raise
    checked.__wrapped_by_argcheck__ = True
    return checked


# torch's argument parser also takes NumPy's spellings of four names (python_arg_parser.cpp's
# numpy_compatibility_arg_names): t.sum(axis=0, keepdims=True)
_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim", "x": "input", "a": "input", "x1": "input",
                "x2": "other"}


def torch_names(error: Exception, kwargs: dict) -> dict | None:
    """``kwargs`` with the NumPy spelling ``error`` (a call's TypeError) rejected renamed to
    torch's, or None when that is not why the call failed. Only failed calls pay for this."""
    if not isinstance(error, TypeError) or not kwargs:
        return None
    msg = str(error)
    for alias, name in _NUMPY_NAMES.items():
        if alias in kwargs and name not in kwargs and \
                f"unexpected keyword argument '{alias}'" in msg:
            renamed = dict(kwargs)
            renamed[name] = renamed.pop(alias)
            return renamed
    return None


def numpy_names(fn):
    """``fn`` taking NumPy's spellings as torch's native functions and methods do; a call with
    torch's own names pays only the wrapper's call (~0.3 us)."""
    @functools.wraps(fn)
    def method(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TypeError as e:
            renamed = torch_names(e, kwargs)
            if renamed is None:
                raise
            return method(*args, **renamed)
    return method


def _wrap_varargs(fn, name: str):
    """``fn(*tensors)`` (atleast_1d, broadcast_tensors, block_diag...) raising torch's TypeError
    for an element that is not a Tensor when it fails another way than torch's."""
    @functools.wraps(fn)
    def checked(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (RuntimeError, ValueError, NotImplementedError, IndexError):
            raise
        except Exception:
            items = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
            for i, x in enumerate(items, 1):
                if not isinstance(x, Tensor):
                    raise not_tensor(name, x, "input", i) from None
            raise
    checked.__wrapped_by_argcheck__ = True
    return checked


def _wrong(x, param: str, pos: int, leak: bool) -> bool:
    """Whether ``x`` can't be what torch takes for ``param``: None in first place or for a
    parameter that is never optional (weight, index... often are), numbers only for a failure
    torch would not raise (a leak) in a parameter that is never a number."""
    if isinstance(x, Tensor):
        return False
    if x is None:
        return pos == 1 or param in _NEVER_A_NUMBER
    if isinstance(x, (list, tuple)):
        return param not in ("tensors", "indices")
    if isinstance(x, (numbers.Number, np.generic, np.ndarray)):
        return leak and param in _NEVER_A_NUMBER
    return True


# torch implements these in Python (nn.functional's and three top-level ones): a non-tensor fails
# there with an AttributeError ('softmax', 'dim'...), as in ndgrad's own code, so they stay as
# they are
PYTHON_IN_TORCH = {
    "nn.functional": frozenset((
        "dropout1d", "dropout2d", "dropout3d", "glu", "instance_norm", "interpolate",
        "log_softmax", "normalize", "sigmoid", "softmax", "softmin", "softsign", "tanh",
        "tanhshrink", "upsample", "upsample_bilinear", "upsample_nearest")),
    "": frozenset(("norm", "pca_lowrank", "svd_lowrank"))}


def check_first_argument(namespace, names, prefix: str = "", skip=frozenset()) -> None:
    """Wrap the functions ``names`` of ``namespace`` (a module), but ``skip``, whose first
    parameter takes a tensor (named input, self, A, x, tensor(s)...); torch names them
    ``prefix + name`` in its messages (linalg_det, fft_fft)."""
    for name in names:
        fn = getattr(namespace, name, None)
        if not inspect.isfunction(fn) or getattr(fn, "__wrapped_by_argcheck__", False) or \
                name in skip:
            continue
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            continue
        if params and params[0].kind is inspect.Parameter.VAR_POSITIONAL:
            if params[0].name in ("tensors", "matrices"):  # not *size, *args
                setattr(namespace, name, _wrap_varargs(fn, prefix + name))
            elif params[0].name == "args":  # a forwarder (torch.softmax): NumPy's names too
                setattr(namespace, name, numpy_names(fn))
            continue
        positional = [p.name for p in params if p.kind in (
            inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        if positional and positional[0] in _TENSOR_PARAMS:  # one per name, as torch's messages
            setattr(namespace, name, _wrap(fn, prefix + name, positional))  # (unwrap: __wrapped__)


_MISSING = object()
# where torch's message names the function or its first argument otherwise than ndgrad's
# signature does (its ATen name; "input" where ndgrad follows the documented "A")
_MESSAGE_NAMES = {
    "det": ("det", "input"), "inverse": ("inverse", "input"), "lu": ("_lu_with_info", "input"),
    "unique": ("_unique2", "input"), "logsigmoid": ("log_sigmoid", "input"),
    "one_hot": ("one_hot", "input"), "triangular_solve": ("triangular_solve", "input"),
    "lu_solve": ("lu_solve", "input"),
    **{f"linalg_{n}": (f"linalg_{n}", "input") for n in (
        "cholesky", "cholesky_ex", "eig", "eigh", "eigvals", "eigvalsh", "householder_product",
        "ldl_factor", "ldl_factor_ex", "lstsq", "matrix_norm", "norm", "solve_triangular",
        "tensorinv", "tensorsolve", "vector_norm")}}
# parameter names that take a tensor in torch's signatures
_TENSOR_PARAMS = frozenset(("count", "prob", "LU_data", "LU_pivots", "anchor", "positive",
                            "negative", "query", "key", "value", "mean", "std", "b",
    "input", "self", "other", "A", "B", "x", "x1", "x2", "tensor", "tensors", "elements", "mat",
    "mat1", "mat2", "vec", "vec1", "vec2", "LU", "LD", "log_probs", "weight", "target", "input1",
    "input2", "tensor1", "tensor2", "boundaries", "sorted_sequence", "indices", "index", "src",
    "source", "mask", "real", "imag", "abs", "angle"))
# those of them that never take a Python number (select's index, lerp's weight, add's other do)
_NEVER_A_NUMBER = frozenset((
    "input", "self", "A", "B", "tensor", "tensors", "mat", "mat1", "mat2", "vec", "vec1", "vec2",
    "LU", "LD", "target", "input1", "input2", "tensor1", "tensor2", "boundaries",
    "sorted_sequence", "mask", "real", "imag", "abs", "angle"))
