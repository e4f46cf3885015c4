"""Same as torch.testing: assert_close with PyTorch's default tolerances and messages."""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .._backend import to_numpy
from .._tensor import Tensor

# dtype -> (rtol, atol), as in torch.testing
_TOLS = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
         "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _as_tensor(x):
    from .._creation import tensor

    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._make(x)
    return tensor(x)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close (|a-e| <= atol + rtol|e|)."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != "
                                 f"{len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError("The keys of the mappings do not match")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    scalar = not isinstance(actual, Tensor) and not isinstance(expected, Tensor)
    if not scalar and not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
        raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                        f"{type(expected)}.")
    if scalar and type(actual) is not type(expected):
        raise AssertionError(f"The values for attribute 'type' do not match: {type(actual)} != "
                             f"{type(expected)}.") if not msg else AssertionError(msg)
    a, e = _as_tensor(actual), _as_tensor(expected)
    if tuple(a.shape) != tuple(e.shape):
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != "
                                    f"{e.shape}.")
    if check_device and a.device != e.device:
        raise AssertionError(msg or f"The values for attribute 'device' do not match: {a.device} "
                                    f"!= {e.device}.")
    if check_dtype and a.dtype is not e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                    f"torch.{a.dtype.name} != torch.{e.dtype.name}.")
    dt = D.promote_types(a.dtype, e.dtype)
    if rtol is None:
        rtol, atol = _TOLS.get(a.dtype.name, (0.0, 0.0))
        r2, a2 = _TOLS.get(e.dtype.name, (0.0, 0.0))
        rtol, atol = max(rtol, r2), max(atol, a2)
    av, ev = to_numpy(a.detach()._data), to_numpy(e.detach()._data)
    if dt is D.bfloat16 or dt is D.float16 or dt._kind < 2:
        av, ev = av.astype(np.float64), ev.astype(np.float64)
    _compare(av, ev, rtol, atol, equal_nan, scalar, dt, msg, actual, expected)


def _compare(av, ev, rtol, atol, equal_nan, scalar, dt, msg, actual, expected):
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(av, ev, rtol=rtol, atol=atol, equal_nan=equal_nan) if av.dtype.kind \
            in "fc" else av == ev
        close |= (av == ev)  # infinities of the same sign
    if close.all():
        return
    if msg is not None:
        raise AssertionError(msg(_default_msg(av, ev, close, rtol, atol, scalar, dt)) if
                             callable(msg) else msg)
    raise AssertionError(_default_msg(av, ev, close, rtol, atol, scalar, dt))


def _default_msg(av, ev, close, rtol, atol, scalar, dt):
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(av.astype(np.complex128 if av.dtype.kind == "c" else np.float64) -
                      ev.astype(np.complex128 if ev.dtype.kind == "c" else np.float64))
        rel = diff / np.abs(ev)
    diff = np.where(np.isnan(diff), np.inf, diff) if diff.size else diff
    rel = np.where(np.isnan(rel), np.inf, rel) if rel.size else rel
    if scalar:
        kind = "Scalars"
        head = f"{kind} are not close!\n\nExpected {ev.item()} but got {av.item()}.\n"
        return (head + f"Absolute difference: {diff.item()} (up to {atol} allowed)\n"
                f"Relative difference: {rel.item()} (up to {rtol} allowed)")
    total = close.size
    bad = int(total - close.sum())
    ai = np.unravel_index(int(np.argmax(diff)), av.shape) if av.ndim else ()
    ri = np.unravel_index(int(np.argmax(rel)), av.shape) if av.ndim else ()
    ident = dt._kind < 2
    name = "Tensor-likes"
    out = (f"{name} are not {'equal' if ident else 'close'}!\n\n"
           f"Mismatched elements: {bad} / {total} ({math.floor(bad / total * 1000) / 10}%)\n")

    def num(x):
        x = float(x) if not isinstance(x, complex) else x
        return int(x) if ident and math.isfinite(x) else x

    if ident:
        return (out + f"Greatest absolute difference: {num(diff[ai])} at index "
                f"{tuple(int(i) for i in ai)}\nGreatest relative difference: {rel[ri]} at index "
                f"{tuple(int(i) for i in ri)}")
    return (out + f"Greatest absolute difference: {num(diff[ai])} at index "
            f"{tuple(int(i) for i in ai)} (up to {atol} allowed)\n"
            f"Greatest relative difference: {num(rel[ri])} at index "
            f"{tuple(int(i) for i in ri)} (up to {rtol} allowed)")
