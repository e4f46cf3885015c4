"""torch's top-level TorchScript/IR entry points. ``parse_schema`` is real: it parses an ATen
schema string into a FunctionSchema with torch's fields and printing. The others need
TorchScript's graph IR, which ndgrad does not have: they raise a RuntimeError naming what is
unsupported. The small process helpers (get_file_path, prepare_multiprocessing_environment,
profiler_allow_cudagraph_cupti_lazy_reinit_cuda12, thread_safe_generator) do what torch's do."""

from __future__ import annotations

import ast
import os
import re

__all__ = ["empty_quantized", "get_file_path", "import_ir_module", "import_ir_module_from_buffer",
           "merge_type_from_type_comment", "parse_ir", "parse_schema", "parse_type_comment",
           "prepare_multiprocessing_environment",
           "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12", "thread_safe_generator",
           "unify_type_list"]

# schema type spelling -> the type's str() in torch (Scalar is a "number", enums are ints)
_TYPE_NAMES = {"Scalar": "number", "ScalarType": "int", "Layout": "int", "MemoryFormat": "int",
               "Dimname": "str", "SymInt": "int", "SymFloat": "float"}


class _Type:
    """A schema argument's type; ``str()`` as torch's (List[int], Optional[Tensor], number)."""

    __slots__ = ("_text",)

    def __init__(self, text: str):
        self._text = text

    def __str__(self) -> str:
        t = self._text
        if t.endswith("?"):
            return f"Optional[{_Type(t[:-1])}]"
        m = re.fullmatch(r"(.+)\[\d*\]", t)
        if m:
            return f"List[{_Type(m.group(1))}]"
        return _TYPE_NAMES.get(t, t)

    __repr__ = __str__


class _AliasInfo:
    __slots__ = ("before_set", "after_set", "is_write")

    def __init__(self, text: str):
        self.is_write = text.endswith("!")
        self.before_set = self.after_set = {"alias::" + text.rstrip("!").split("->")[0].strip()}


class Argument:
    """Same fields as torch.Argument: name, type, N, default_value, kwarg_only, alias_info."""

    __slots__ = ("name", "type", "N", "default_value", "has_default_value", "kwarg_only",
                 "alias_info", "is_out", "_type_text", "_alias_text", "_default_text")

    def __init__(self, text: str, kwarg_only: bool, is_return: bool = False):
        m = re.fullmatch(r"\s*([A-Za-z_][\w.]*)(\((.*?)\))?((?:\[\d*\])?\??)(?:\s+(\w+))?"
                         r"(?:\s*=\s*(.+))?\s*", text)
        if not m or (m.group(6) is not None and is_return):
            raise RuntimeError(f"expected a schema argument but found '{text.strip()}'")
        base, self._alias_text, suffix = m.group(1), m.group(3), m.group(4)
        self._type_text = base + suffix
        self.type = _Type(self._type_text)
        n = re.search(r"\[(\d+)\]", suffix)
        self.N = int(n.group(1)) if n else None
        self.name = m.group(5) or ""
        self._default_text = m.group(6)
        self.has_default_value = m.group(6) is not None
        self.default_value = _default(m.group(6), self.N) if self.has_default_value else None
        self.kwarg_only = kwarg_only
        self.alias_info = _AliasInfo(self._alias_text) if self._alias_text else None
        self.is_out = kwarg_only and bool(self.alias_info and self.alias_info.is_write)

    @property
    def is_write(self) -> bool:
        return bool(self.alias_info and self.alias_info.is_write)

    def __str__(self) -> str:
        alias = f"({self._alias_text})" if self._alias_text else ""
        t = re.sub(r"^([A-Za-z_][\w.]*)", r"\1" + alias, self._type_text)
        s = f"{t} {self.name}" if self.name else t
        if self.has_default_value:
            s += "=" + _format_default(self.default_value, self._default_text)
        return s

    def __repr__(self) -> str:
        return str(self)


def _default(text: str, n):
    """A schema default as torch gives it: Python literals; other names (contiguous_format,
    Mean) stay text; a bare number for a fixed-size list repeats N times."""
    text = text.strip()
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return [value] * n if n and isinstance(value, (int, float)) else value


def _format_default(value, text: str) -> str:
    if isinstance(value, str) and value == text.strip():
        return value
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, list) and text.strip()[:1] != "[":  # int[2] k=1 prints as written
        return text.strip()
    if isinstance(value, float):  # c10 prints doubles with 17 significant digits
        f = "%.17g" % value
        return f if any(c in f for c in ".en") else f + "."
    return repr(value) if not isinstance(value, list) else "[" + ", ".join(map(repr, value)) + "]"


class FunctionSchema:
    """torch.FunctionSchema: name, overload_name, arguments, returns, is_mutable; prints as
    the schema string (normalised as torch prints it)."""

    __slots__ = ("name", "overload_name", "arguments", "returns", "_tuple_returns")

    def __init__(self, name, overload_name, arguments, returns, tuple_returns):
        self.name, self.overload_name = name, overload_name
        self.arguments, self.returns, self._tuple_returns = arguments, returns, tuple_returns

    @property
    def is_mutable(self) -> bool:
        return any(a.is_write for a in self.arguments)

    def __str__(self) -> str:
        args, star = [], False
        for a in self.arguments:
            if a.kwarg_only and not star:
                args.append("*")
                star = True
            args.append(str(a))
        rets = ", ".join(map(str, self.returns))
        ret = f"({rets})" if self._tuple_returns else rets
        name = f"{self.name}.{self.overload_name}" if self.overload_name else self.name
        return f"{name}({', '.join(args)}) -> {ret}"

    __repr__ = __str__

    def __eq__(self, other) -> bool:
        return isinstance(other, FunctionSchema) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def _split(text: str):
    """Split at top-level commas (not inside brackets or quotes)."""
    parts, depth, cur, quote = [], 0, "", None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def parse_schema(schema: str, allow_typevars: bool = True) -> FunctionSchema:
    """Same as torch.parse_schema: ``"ns::name.overload(args) -> returns"`` into a
    FunctionSchema; a malformed string raises RuntimeError."""
    if not isinstance(schema, str):
        raise TypeError(f"parse_schema(): incompatible function arguments: expected str, got "
                        f"{type(schema).__name__}")
    m = re.fullmatch(r"\s*([A-Za-z_][\w:]*)(?:\.(\w+))?\s*\((.*)\)\s*->\s*(.+?)\s*", schema,
                     re.S)
    if not m:
        raise RuntimeError(f"expected a schema 'name(args) -> returns' but found: {schema}")
    args, kw = [], False
    for part in _split(m.group(3)):
        if part.strip() == "*":
            kw = True
            continue
        args.append(Argument(part, kw))
    ret = m.group(4)
    tuple_returns = ret.startswith("(")
    if tuple_returns:
        if not ret.endswith(")"):
            raise RuntimeError(f"expected ')' closing the returns of: {schema}")
        ret = ret[1:-1]
    returns = [Argument(p, False, True) for p in _split(ret)]
    return FunctionSchema(m.group(1), m.group(2) or "", args, returns, tuple_returns)


def _no_torchscript(name: str, accepts):
    """torch.<name>: a TypeError for arguments torch's binding refuses (as torch's), else a
    RuntimeError saying TorchScript is not there."""
    def fn(*args, **kwargs):
        if not accepts(*args, **kwargs):
            raise TypeError(f"{name}(): incompatible function arguments")
        raise RuntimeError(f"torch.{name} needs TorchScript's graph IR, which ndgrad does not "
                           "have (it runs eagerly on NumPy/CuPy)")

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: unsupported in ndgrad (no TorchScript); raises RuntimeError."
    return fn


def _str_first(input=None, *rest, **kw):
    return isinstance(input, str)


parse_ir = _no_torchscript("parse_ir", _str_first)
parse_type_comment = _no_torchscript("parse_type_comment", _str_first)


def _ir_module_args(*a, **k):  # (CompilationUnit, str, object, dict, bool)
    return len(a) == 5 and isinstance(a[1], str) and isinstance(a[3], dict) and \
        isinstance(a[4], bool)


import_ir_module = _no_torchscript("import_ir_module", _ir_module_args)
import_ir_module_from_buffer = _no_torchscript("import_ir_module_from_buffer", _ir_module_args)
merge_type_from_type_comment = _no_torchscript(
    "merge_type_from_type_comment", lambda *a, **k: len(a) == 3 and isinstance(a[2], bool))
unify_type_list = _no_torchscript(  # a list of types: ndgrad's are parse_schema's
    "unify_type_list", lambda types=None, *a, **k: isinstance(types, (list, tuple)) and all(
        isinstance(t, _Type) for t in types))


def empty_quantized(size=None, qtensor=None, *args, **kwargs):
    """torch.empty_quantized: ndgrad has no quantized tensors; raises NotImplementedError
    (TypeError for arguments torch's binding refuses)."""
    from ._tensor import Tensor

    if not (isinstance(size, (list, tuple)) and all(isinstance(s, int) for s in size)
            and isinstance(qtensor, Tensor)):
        raise TypeError("empty_quantized() received an invalid combination of arguments - "
                        "expected (tuple of ints size, Tensor qtensor, *, ...)")
    raise NotImplementedError("torch.empty_quantized: ndgrad has no quantized tensors (no "
                              "quantizer, and NumPy has no qint8/quint8/qint32 storage)")


def get_file_path(*path_components: str) -> str:
    """Same as torch.get_file_path: the path joined under the package's parent directory."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        *path_components)


def prepare_multiprocessing_environment(path: str) -> None:
    """Same as torch.prepare_multiprocessing_environment: nothing to prepare."""


def profiler_allow_cudagraph_cupti_lazy_reinit_cuda12() -> bool:
    """Same as torch.profiler_allow_cudagraph_cupti_lazy_reinit_cuda12: True."""
    return True


def thread_safe_generator():
    """Same as torch.thread_safe_generator: the DataLoader thread worker's generator, else
    None (the global RNG)."""
    from .utils.data._worker import get_worker_info

    info = get_worker_info()
    if info is not None and info.worker_method == "thread" and info.rng is not None:
        return getattr(info.rng, "torch_generator", info.rng)
    return None
