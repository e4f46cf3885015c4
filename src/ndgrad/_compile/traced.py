"""Traced arrays: stand-ins for NumPy arrays that record every call made on them.

Lowering a captured step (``lower``) runs each op's forward and backward body once more on
``Traced`` arrays, twins of the real ones (same shape, dtype, strides, values). Each NumPy call
the body makes -- a ufunc, an array function, a method, an operator, an index, and (``patched``)
NumPy's array-making functions -- runs on the twins and is recorded as one instruction; its
results are new traced arrays. What an op's Python may read from them is what the signature
fixes: dtype, and shape and strides unless data decide them (``dyn``: a nonzero, a boolean
index). A value reaching Python (``bool(a)``, ``float(a)``, ``a.item()``, a data-shaped array's
length, the raw buffer) raises ``Escape``, and the step is not lowered. Arrays a body makes
without NumPy's recorded doors are constants: copied read-only as they are when first used, and
never written (a write into one escapes)."""

from __future__ import annotations

import contextlib
import operator
import threading

import numpy as np

from .. import _trace


class Escape(Exception):
    """The body leaves what can be recorded: the step keeps its op-level replay."""


# what Python may read of a traced array: fixed by the signature, the same at every replay (the
# shape-like ones only while data do not decide the shape)
_META = ("dtype", "ndim", "itemsize", "flags", "device")
_SHAPED = ("shape", "size", "nbytes", "strides")
# results of NumPy functions that depend on metadata only
_META_FUNCTIONS = {np.ndim, np.shape, np.size, np.result_type, np.can_cast, np.iscomplexobj,
                   np.isrealobj, np.min_scalar_type}
# functions writing into their first argument
_WRITES_FIRST = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis,
                 *(u.at for u in (np.add, np.subtract, np.multiply, np.maximum, np.minimum,
                                  np.logical_or, np.logical_and))}
# functions (and methods) whose results' shapes the data decide
_DATA_SHAPED = {np.nonzero, np.flatnonzero, np.argwhere, np.unique, np.compress, np.extract,
                np.setdiff1d, np.intersect1d, np.union1d, np.setxor1d, np.bincount,
                np.trim_zeros, np.delete, np.insert, "nonzero", "compress"}


class Recorder:
    """The instructions recorded so far, and the traced arrays they made."""

    def __init__(self, first_register: int) -> None:
        self.next = first_register
        self.lines: list = []  # (kind, what, args, kwargs, out): see lower.Emitter
        self.by_id: dict = {}  # id(twin array) -> its Traced (every twin is kept alive)
        self.keep: list = []
        self.busy = False  # inside a recorded call: NumPy's own calls are not the body's
        self.external: set = set()  # ids of the buffers of arrays from outside the recording
        self.effects: set = set()  # ids of the lines that write into such arrays
        self.thread = threading.get_ident()  # (another thread's NumPy calls are not either)

    def new(self, real, k: int | None = None, ext: bool = False) -> Traced:
        """A traced array for ``real``; ``ext``: an array from outside the recording (a
        parameter's, an argument's): writing into it, or a view of it, is a side effect."""
        if k is None:
            k, self.next = self.next, self.next + 1
        base = getattr(real, "base", None)
        v = Traced(real, k, self, ext or base is not None and id(base) in self.external)
        self.by_id[id(real)] = v
        self.keep.append(real)
        if v.ext:
            self.external.add(id(real if base is None else base))
        return v

    def result(self, res):
        """Traced arrays for a call's results (a twin already known is its own traced array)."""
        if isinstance(res, (np.ndarray, np.generic)):
            v = self.by_id.get(id(res))
            return v if v is not None and v.a is res else self.new(res)
        if type(res) in (tuple, list):
            return type(res)(self.result(r) for r in res)
        if res is None or isinstance(res, np.dtype):
            return res
        raise Escape(f"a call returned {type(res).__name__}")

    def emit(self, kind: str, what, args, kwargs, res, dyn: bool = False):
        """Record one instruction; ``res`` its result on the twins."""
        out = self.result(res)
        line = (kind, what, _frozen(args), _frozen(kwargs), out)
        self.lines.append(line)
        written = kwargs.get("out", args[0] if kind == "inplace" or what in _WRITES_FIRST
                             else None)
        if any(type(w) is Traced and w.ext for w in (
                written if type(written) is tuple else (written,))):
            self.effects.add(id(line))
        if dyn or what in _DATA_SHAPED or _any_dyn((args, kwargs)) or (
                what in (np.repeat, "repeat") and type(args[1]) is Traced):  # (repeats by data)
            _mark_dyn(out)
        return out

    def call(self, fn, args, kwargs, kind: str = "call"):
        """``fn(*args, **kwargs)`` on the twins, recorded."""
        out = kwargs.get("out", args[0] if fn in _WRITES_FIRST and args else None)
        if out is not None and any(type(o) is not Traced for o in (
                out if type(out) is tuple else (out,))):
            raise Escape("a call writes into an array made outside the recording")
        out = kwargs.get("out")
        self.busy = True
        try:
            res = fn(*_real(args), **_real(kwargs))
        finally:
            self.busy = False
        if fn in _META_FUNCTIONS:
            if _any_dyn(args):
                raise Escape("Python reads the shape of an array its data shaped")
            return res
        if out is None:  # its argument itself (asarray of an array): nothing to record
            for a in args:
                if type(a) is Traced and res is a.a:
                    return a
        return self.emit(kind, fn, args, kwargs, res)


def _real(obj):
    """``obj`` with its traced arrays replaced by their twins."""
    t = type(obj)
    if t is Traced:
        return obj.a
    if t is tuple or t is list:
        return t(_real(o) for o in obj)
    if t is dict:
        return {k: _real(v) for k, v in obj.items()}
    if t is slice:
        return slice(_real(obj.start), _real(obj.stop), _real(obj.step))
    return obj


def _frozen(obj):
    """``obj`` with each array made outside the recording (a body's constant) copied as it is
    now, read-only: the recording reads that value at every replay."""
    t = type(obj)
    if t is np.ndarray:
        obj = obj.copy()
        obj.flags.writeable = False
        return obj
    if t is tuple or t is list:
        return t(_frozen(o) for o in obj)
    if t is dict:
        return {k: _frozen(v) for k, v in obj.items()}
    return obj


def _any_dyn(obj) -> bool:
    """Whether ``obj`` holds a data-shaped traced array, or is a boolean-mask index."""
    t = type(obj)
    if t is Traced:
        return obj.dyn
    if t is tuple or t is list:
        return any(_any_dyn(o) for o in obj)
    if t is dict:
        return any(_any_dyn(o) for o in obj.values())
    return False


def _mark_dyn(out) -> None:
    if type(out) is Traced:
        out.dyn = True
    elif type(out) in (tuple, list):
        for o in out:
            _mark_dyn(o)


def _mask(key) -> bool:
    keys = key if type(key) is tuple else (key,)
    return any(type(k) is Traced and k.a.dtype == np.bool_ for k in keys)


class Traced:
    """A traced array: ``a`` its twin, ``k`` its register in the lowered program, ``dyn``
    whether data decide its shape."""

    __slots__ = ("a", "k", "rec", "dyn", "ext")
    __array_priority__ = 1000.0
    __hash__ = object.__hash__

    def __init__(self, a, k: int, rec: Recorder, ext: bool = False) -> None:
        self.a, self.k, self.rec, self.dyn, self.ext = a, k, rec, False, ext

    @property
    def __class__(self):  # isinstance(t, np.ndarray) as for its twin (type(t) stays Traced)
        return type(self.a)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return self.rec.call(fn, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return self.rec.call(func, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):  # NumPy's probes (__array_interface__...): not an array
            raise AttributeError(name)
        attr = getattr(self.a, name)
        if name in _META:
            return attr
        if name in _SHAPED:
            if self.dyn:
                raise Escape("Python reads the shape of an array its data shaped")
            return attr
        if name in ("T", "mT", "real", "imag"):
            return self.rec.emit("attr", name, (self,), {}, attr)
        if not callable(attr) or name in ("item", "tolist", "tobytes", "ctypes"):
            raise Escape(f"the body reads an array's {name}")
        rec = self.rec

        def method(*args, **kwargs):
            rec.busy = True
            try:
                res = attr(*_real(args), **_real(kwargs))
            finally:
                rec.busy = False
            if res is self.a and name == "astype":  # (to its own dtype, no copy): nothing
                return self
            return rec.emit("method", name, (self, *args), kwargs, res)
        return method

    def __len__(self) -> int:
        if self.dyn:
            raise Escape("Python reads the length of an array its data shaped")
        return len(self.a)

    def __getitem__(self, key):
        return self.rec.emit("getitem", None, (self, key), {}, self.a[_real(key)],
                             dyn=_mask(key))

    def __setitem__(self, key, value) -> None:
        self.a[_real(key)] = _real(value)
        line = ("setitem", None, _frozen((self, key, value)), {}, None)
        self.rec.lines.append(line)
        if self.ext:
            self.rec.effects.add(id(line))

    def __iter__(self):
        """Rows, as NumPy's iteration gives them: recorded indexes (how many the signature
        fixes, unless data shaped the array)."""
        if self.dyn:
            raise Escape("Python iterates over an array its data shaped")
        if self.a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self.a)))

    def __bool__(self) -> bool:
        """A branch on data: recorded as a guard, checked at every replay (see lower)."""
        res = bool(self.a)
        self.rec.lines.append(("guard", res, (self,), {}, None))
        return res

    def _escape(self, *args):
        raise Escape("Python reads an array's value")

    __float__ = __int__ = __index__ = __complex__ = __array__ = _escape
    __contains__ = __reduce__ = __reduce_ex__ = __copy__ = __deepcopy__ = _escape

    def __repr__(self) -> str:
        return f"Traced(r{self.k}, {self.a.shape}, {self.a.dtype})"


def _binary(fn, symbol: str, reflected: bool):
    def op(self, other):
        a, b = (other, self) if reflected else (self, other)
        return self.rec.emit("binary", symbol, (a, b), {}, fn(_real(a), _real(b)))
    return op


def _inplace(fn, symbol: str):
    def op(self, other):
        res = fn(self.a, _real(other))
        return self.rec.emit("inplace" if res is self.a else "binary",
                             symbol + "=" if res is self.a else symbol, (self, other), {}, res)
    return op


def _unary(fn, symbol: str):
    def op(self):
        return self.rec.emit("unary", symbol, (self,), {}, fn(self.a))
    return op


_BINARY = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
           "pow": "**", "matmul": "@", "and": "&", "or": "|", "xor": "^", "lshift": "<<",
           "rshift": ">>"}
for _name, _sym in _BINARY.items():
    _fn = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(Traced, f"__{_name}__", _binary(_fn, _sym, False))
    setattr(Traced, f"__r{_name}__", _binary(_fn, _sym, True))
    setattr(Traced, f"__i{_name}__", _inplace(getattr(operator, "i" + _name), _sym))
for _name, _sym in {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}.items():
    setattr(Traced, f"__{_name}__", _binary(getattr(operator, _name), _sym, False))
for _name, _sym in {"neg": "-", "pos": "+", "invert": "~", "abs": "abs"}.items():
    setattr(Traced, f"__{_name}__", _unary(getattr(operator, _name), _sym))


# NumPy's functions that make arrays without an array argument to dispatch on, or that read
# their argument's buffer: recorded while a body is traced
_MAKERS = ("zeros", "ones", "empty", "full", "arange", "eye", "identity", "array", "asarray",
           "asanyarray", "ascontiguousarray", "asfortranarray", "linspace", "tri")


@contextlib.contextmanager
def patched(rec: Recorder):
    """NumPy's array-making functions recorded while a body runs on traced arrays (the calls
    NumPy makes itself, inside a recorded call, run as they are)."""
    saved = [(np, name, getattr(np, name)) for name in _MAKERS]
    saved.append((np.lib.stride_tricks, "as_strided", np.lib.stride_tricks.as_strided))
    for owner, name, fn in saved:
        setattr(owner, name, _recorded(rec, fn))
    _trace.lowering = True
    try:
        yield
    finally:
        _trace.lowering = False
        for owner, name, fn in saved:
            setattr(owner, name, fn)


def _recorded(rec: Recorder, fn):
    def call(*args, **kwargs):
        if rec.busy or threading.get_ident() != rec.thread:
            return fn(*args, **kwargs)
        return rec.call(fn, args, kwargs)
    return call
