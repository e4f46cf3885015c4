"""Tensor repr/str, byte-identical to PyTorch 2.13.

A port of ``torch/_tensor_str.py`` that works on plain NumPy arrays, so it does not depend on the
Tensor class. Only dense, strided tensors exist here, so torch's sparse/quantized/nested/functorch
branches are left out; everything else keeps torch's structure and quirks on purpose.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Iterator

import numpy as np

__all__ = [
    "format_tensor",
    "set_printoptions",
    "get_printoptions",
    "printoptions",
    "get_default_dtype_name",
    "set_default_dtype_name",
]


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()

# Name of torch.get_default_dtype(); decides whether the dtype= suffix is printed.
_default_dtype_name = "float32"


def get_default_dtype_name() -> str:
    return _default_dtype_name


def set_default_dtype_name(name: str) -> None:
    global _default_dtype_name
    _default_dtype_name = name


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Same semantics as torch.set_printoptions (sci_mode is always overwritten, even by None)."""
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
        elif profile == "short":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
        elif profile == "full":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current options, as kwargs accepted by set_printoptions()."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one layout (int/fixed/scientific) and one column width for a whole tensor."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)

        if not floating:
            # len(str(int)) grows with |v| (plus one for '-'): the extremes give the widest entry
            if flat.size:
                for v in (flat.min().item(), flat.max().item()):
                    self.max_width = max(self.max_width, len(f"{v}"))
            return

        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return  # only zeros/nan/inf: torch keeps int_mode and width 1
        vals = np.unique(vals)  # widths depend on distinct values only: less Python formatting
        absvals = np.abs(vals)
        # torch does this arithmetic in double (values are already float64 here); use Python floats
        # so an overflowing ratio becomes inf without a NumPy warning.
        vmin, vmax = float(absvals.min()), float(absvals.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        self.sci_mode = (
            vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4
            if PRINT_OPTS.sci_mode is None
            else PRINT_OPTS.sci_mode
        )
        p = PRINT_OPTS.precision
        if self.sci_mode:
            fmt, extra = f"{{:.{p}e}}", 0
        elif self.int_mode:
            fmt, extra = "{:.0f}", 1  # +1 for the '.' appended to integral floats
        else:
            fmt, extra = f"{{:.{p}f}}", 0
        for v in vals.tolist():
            self.max_width = max(self.max_width, len(fmt.format(v)) + extra)

    def width(self) -> int:
        return self.max_width

    def format(self, value: Any) -> str:
        p = PRINT_OPTS.precision
        if self.floating_dtype:
            if self.sci_mode:
                ret = f"{{:{self.max_width}.{p}e}}".format(value)
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{{:.{p}f}}".format(value)
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _complex_str(real_str: str, imag_str: str) -> str:
    imag_str = (imag_str + "j").lstrip()
    # handles negative numbers, +0.0, -0.0 (and nan/inf, which carry no sign)
    if imag_str[0] in "+-":
        return real_str + imag_str
    return real_str + "+" + imag_str


def _scalar_str(a: np.ndarray, f1: _Formatter, f2: _Formatter | None) -> str:
    if f2 is not None:
        return _complex_str(f1.format(a.real.item()), f2.format(a.imag.item()))
    return f1.format(a.item())


def _vector_str(a: np.ndarray, indent: int, summarize: bool, f1: _Formatter,
                f2: _Formatter | None) -> str:
    # length includes spaces and comma between elements (and the 'j' for complex)
    element_length = f1.width() + 2
    if f2 is not None:
        element_length += f2.width() + 1
    elements_per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))

    def fmt(val: Any) -> str:
        if f2 is not None:
            return _complex_str(f1.format(val.real), f2.format(val.imag))
        return f1.format(val)

    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = [fmt(v) for v in a[:edge].tolist()] + [" ..."] + [fmt(v) for v in a[-edge:].tolist()]
    else:
        data = [fmt(v) for v in a.tolist()]

    lines = [", ".join(data[i : i + elements_per_line])
             for i in range(0, len(data), elements_per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(
    a: np.ndarray, indent: int, summarize: bool, f1: _Formatter, f2: _Formatter | None = None
) -> str:
    if a.ndim == 0:
        return _scalar_str(a, f1, f2)
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, f1, f2)

    def sub(i: int) -> str:
        return _tensor_str_with_formatter(a[i], indent + 1, summarize, f1, f2)

    edge, n = PRINT_OPTS.edgeitems, a.shape[0]
    if summarize and n > 2 * edge:
        slices = [sub(i) for i in range(edge)] + ["..."] + [sub(i) for i in range(n - edge, n)]
    else:
        slices = [sub(i) for i in range(n)]
    # one blank line per dimension beyond the second separates blocks of >=3-D tensors
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _summarized_data(a: np.ndarray) -> np.ndarray:
    """The elements that would be shown when summarizing (the formatter is fitted to these only)."""
    edge = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        # with edgeitems == 0, a[-0:] is the whole vector, exactly as in torch
        return np.concatenate((a[:edge], a[-edge:])) if a.shape[0] > 2 * edge else a
    if not edge:
        return np.empty((0,) * a.ndim, dtype=a.dtype)
    if a.shape[0] > 2 * edge:
        rows = list(range(edge)) + list(range(a.shape[0] - edge, a.shape[0]))
        return np.stack([_summarized_data(a[i]) for i in rows])
    return np.stack([_summarized_data(x) for x in a])


def _tensor_str(a: np.ndarray, indent: int, kind: str) -> str:
    summarize = a.size > PRINT_OPTS.threshold

    def fitted(x: np.ndarray) -> np.ndarray:
        return _summarized_data(x) if summarize else x

    if kind == "c":
        real_f = _Formatter(fitted(a.real), floating=True)
        imag_f = _Formatter(fitted(a.imag), floating=True)
        return _tensor_str_with_formatter(a, indent, summarize, real_f, imag_f)
    return _tensor_str_with_formatter(a, indent, summarize,
                                      _Formatter(fitted(a), floating=kind == "f"))


def _add_suffixes(tensor_str: str, suffixes: list[str], indent: int) -> str:
    parts = [tensor_str]
    # torch's arithmetic (off by a couple of chars when there is no newline) kept on purpose
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _dtype_kind(dtype_name: str) -> str:
    if dtype_name.startswith("complex"):
        return "c"
    if dtype_name.startswith(("float", "bfloat")):
        return "f"
    return "i"  # integers and bool


def format_tensor(
    values: Any,
    *,
    dtype_name: str,
    device: str = "cpu",
    grad_fn_name: str | None = None,
    requires_grad: bool = False,
    prefix: str = "tensor(",
    module: str = "ndgrad",
) -> str:
    """repr/str of a tensor holding `values` (a host NumPy array) of torch dtype `dtype_name`."""
    a = np.asarray(values)
    kind = _dtype_kind(dtype_name)
    # torch formats floating values via .item()/.tolist(), i.e. as exact Python (double) floats;
    # widening first also lets float16/bfloat16 use the same code.
    if kind == "f":
        a = a.astype(np.float64)
    elif kind == "c":
        a = a.astype(np.complex128)

    indent = len(prefix)
    suffixes = []
    if device != "cpu":
        suffixes.append(f"device='{device}'")
    dtype_suffix = f"dtype={module}.{dtype_name}"
    default_complex = "complex128" if _default_dtype_name == "float64" else "complex64"
    if a.size == 0:
        # match NumPy: the shape is shown unless it is (0,); the dtype can't be inferred from
        # no elements, so anything but the default float dtype is shown (even int64/bool)
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype_name != _default_dtype_name:
            suffixes.append(dtype_suffix)
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype_name not in (_default_dtype_name, default_complex, "int64", "bool"):
            suffixes.append(dtype_suffix)
        tensor_str = _tensor_str(a, indent, kind)

    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + tensor_str, suffixes, indent)
