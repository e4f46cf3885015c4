"""torch.testing.assert_close: the same pairing of inputs, tolerances, checks and messages."""

from __future__ import annotations

import cmath
import collections.abc
import contextlib
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._backend import to_numpy
from .._tensor import Tensor

# dtype -> (rtol, atol), torch.testing's defaults; other dtypes compare exactly
_DTYPE_PRECISIONS = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
                     "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
                     "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}
_NUMBER_DTYPES = {int: D.int64, float: D.float64, complex: D.complex128}


class _Fail(Exception):
    """A comparison failure: the exception type to raise, its message and the item path."""

    def __init__(self, type_: type, msg: str, id_: tuple = ()) -> None:
        super().__init__(msg)
        self.type, self.msg, self.id = type_, msg, id_

    def to_error(self, msg: str | Callable[[str], str] | None = None) -> Exception:
        if isinstance(msg, str):
            return self.type(msg)
        text = self.msg
        if self.id:
            text += f"\n\nThe failure occurred for item {''.join(str([i]) for i in self.id)}"
        return self.type(msg(text) if callable(msg) else text)


class _Unsupported(Exception):
    pass


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable[[str], str] | None = None) -> None:
    """Same as torch.testing.assert_close."""
    opts = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                check_device=check_device, check_dtype=check_dtype, check_stride=check_stride)
    try:
        pairs = _pairs(actual, expected, (), opts)
    except _Fail as f:
        raise f.to_error() from None
    for compare in pairs:
        try:
            compare()
        except _Fail as f:
            raise f.to_error(msg) from None


def _pairs(actual, expected, id_: tuple, opts: dict) -> list[Callable[[], None]]:
    """Walk matching sequences and mappings; return one comparison per leaf pair."""
    seq = collections.abc.Sequence
    if isinstance(actual, seq) and not isinstance(actual, str) and isinstance(expected, seq) \
            and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Fail(AssertionError, "The length of the sequences mismatch: "
                                        f"{len(actual)} != {len(expected)}", id_)
        return [p for i in range(len(actual))
                for p in _pairs(actual[i], expected[i], (*id_, i), opts)]
    mapping = collections.abc.Mapping
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        ak, ek = set(actual.keys()), set(expected.keys())
        if ak != ek:
            raise _Fail(AssertionError, "The keys of the mappings do not match:\nMissing keys in "
                                        f"the actual mapping: {sorted(ek - ak)}\nAdditional keys "
                                        f"in the actual mapping: {sorted(ak - ek)}", id_)
        keys: Any = ak
        with contextlib.suppress(Exception):
            keys = sorted(ak)
        return [p for k in keys for p in _pairs(actual[k], expected[k], (*id_, k), opts)]
    for make in (_none_pair, _bool_pair, _number_pair, _tensor_pair):
        try:
            return [make(actual, expected, id_, opts)]
        except _Unsupported:
            continue
    raise _Fail(TypeError, "No comparison pair was able to handle inputs of type "
                           f"{type(actual)} and {type(expected)}.", id_)


def _tolerances(dtypes, rtol, atol, id_) -> tuple[float, float]:
    if (rtol is None) ^ (atol is None):
        raise _Fail(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, but "
                                f"got no {'rtol' if rtol is None else 'atol'}.", id_)
    if rtol is not None:
        return rtol, atol
    rtols, atols = zip(*[_DTYPE_PRECISIONS.get(d.name, (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def _none_pair(actual, expected, id_, opts):
    if not (actual is None or expected is None):
        raise _Unsupported

    def compare():
        if not (actual is None and expected is None):
            raise _Fail(AssertionError, f"None mismatch: {actual} is not {expected}", id_)

    return compare


def _bool_pair(actual, expected, id_, opts):
    if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
        raise _Unsupported
    a, e = bool(actual), bool(expected)

    def compare():
        if a is not e:
            raise _Fail(AssertionError, f"Booleans mismatch: {a} is not {e}", id_)

    return compare


def _number_pair(actual, expected, id_, opts):
    kinds = (int, float, complex, np.number)
    if not all(isinstance(x, kinds) for x in (actual, expected)):
        raise _Unsupported
    a, e = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
    rtol, atol = _tolerances([_NUMBER_DTYPES[type(x)] for x in (a, e)], opts["rtol"],
                             opts["atol"], id_)

    def compare():
        if opts["check_dtype"] and type(a) is not type(e):
            raise _Fail(AssertionError, f"The (d)types do not match: {type(a)} != {type(e)}.", id_)
        if a == e or opts["equal_nan"] and cmath.isnan(a) and cmath.isnan(e):
            return
        diff = abs(a - e)
        if cmath.isfinite(diff) and diff <= atol + rtol * abs(e):
            return
        raise _Fail(AssertionError, _scalar_msg(a, e, rtol, atol), id_)

    return compare


def _tensor_pair(actual, expected, id_, opts):
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        raise _Unsupported
    if not opts["allow_subclasses"] and type(actual) is not type(expected):
        raise _Unsupported
    a, e = _to_tensor(actual), _to_tensor(expected)
    rtol, atol = _tolerances([a.dtype, e.dtype], opts["rtol"], opts["atol"], id_)

    def compare():
        def mismatch(attr, x, y):
            raise _Fail(AssertionError, f"The values for attribute '{attr}' do not match: {x} != "
                                        f"{y}.", id_)

        if a.shape != e.shape:
            mismatch("shape", a.shape, e.shape)
        if opts["check_stride"] and a.stride() != e.stride():
            mismatch("stride()", a.stride(), e.stride())
        if opts["check_device"] and a.device != e.device:
            mismatch("device", a.device, e.device)
        if opts["check_dtype"] and a.dtype is not e.dtype:
            mismatch("dtype", a.dtype, e.dtype)
        dt = D.promote_types(a.dtype, e.dtype)
        av = to_numpy(a.detach()._data).astype(dt.np, copy=False)
        ev = to_numpy(e.detach()._data).astype(dt.np, copy=False)
        _compare_values(av, ev, dt, rtol, atol, opts["equal_nan"], id_)

    return compare


def _to_tensor(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    from .._creation import as_tensor

    try:
        return as_tensor(x)
    except Exception:
        raise _Unsupported from None


def _isclose(a: np.ndarray, e: np.ndarray, rtol, atol, equal_nan: bool) -> np.ndarray:
    """torch.isclose on arrays, in the inputs' dtype as torch computes it."""
    close = a == e
    floating = a.dtype.kind in "fcV" or a.dtype == D.bfloat16.np
    if equal_nan and floating:
        close |= np.isnan(a) & np.isnan(e)
    if rtol == 0 and atol == 0:
        return close
    if a.dtype == np.bool_:
        a, e = a.astype(np.float32), e.astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = atol + np.abs(rtol * e)
        err = np.abs(a - e)
        close |= np.isfinite(err) & (err <= allowed)
    return close


def _compare_values(a, e, dt: D.dtype, rtol, atol, equal_nan, id_) -> None:
    matches = _isclose(a, e, rtol, atol, equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        item = (lambda x: float(x)) if dt is D.bfloat16 else (lambda x: x.item())
        raise _Fail(AssertionError, _scalar_msg(item(a), item(e), rtol, atol), id_)
    raise _Fail(AssertionError, _tensor_msg(a, e, dt, matches, rtol, atol), id_)


def _scalar_msg(a, e, rtol, atol) -> str:
    diff = abs(a - e)
    rel = float("inf") if e == 0 else diff / abs(e)
    return _mismatch_msg("Scalars", f"Expected {e} but got {a}.", diff, None, atol, rel, None, rtol)


def _tensor_msg(a, e, dt: D.dtype, matches, rtol, atol) -> str:
    n = matches.size
    bad = n - int(matches.sum())
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    a, e, m = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
    if not (dt.is_floating_point or dt.is_complex):
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(a - e)
        diff[m] = 0
        # integer / integer is true division into the default float dtype, as in torch
        rel = (diff / np.abs(e)).astype(D.get_default_dtype().np) if diff.dtype.kind in "iu" \
            else diff / np.abs(e)
    rel[m] = 0
    ai, ri = int(np.argmax(diff)), int(np.argmax(rel))  # NaN wins, as in torch.max
    shape = matches.shape
    return _mismatch_msg("Tensor-likes", extra, _item(diff[ai]), np.unravel_index(ai, shape),
                         atol, _item(rel[ri]), np.unravel_index(ri, shape), rtol)


def _item(x):
    return float(x) if x.dtype == D.bfloat16.np else x.item()


def _mismatch_msg(ident: str, extra: str, abs_diff, abs_idx, atol, rel_diff, rel_idx,
                  rtol) -> str:
    equality = rtol == 0 and atol == 0

    def line(kind: str, diff, idx, tol) -> str:
        s = (f"{kind.title()} difference: {diff}" if idx is None else
             f"Greatest {kind} difference: {diff} at index {tuple(int(i) for i in idx)}")
        return s + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{ident} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += line("absolute", abs_diff, abs_idx, atol) + line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()
