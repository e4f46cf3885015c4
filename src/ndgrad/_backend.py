"""Devices and their array modules: NumPy for ``cpu``, CuPy (imported on first use) for ``cuda``."""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import sys

import numpy as np

from . import _special


def _keep_freed_heap() -> None:
    """Have glibc serve arrays under 32 MB from its heap and keep up to 128 MB of it when freed.
    Each training step frees its megabytes of temporaries; returned to the OS (or mmapped afresh
    each time), the next step faults them in again 4 KB at a time: a 1M-element fwd+bwd took 5,000
    faults and 17 ms of CPU instead of 6 ms. Setting any of these fixes glibc's otherwise adaptive
    mmap threshold, so all three are set. torch's allocator keeps its memory too."""
    if sys.platform.startswith("linux"):
        try:
            mallopt = ctypes.CDLL("libc.so.6").mallopt
        except (OSError, AttributeError):  # not glibc (musl): leave the allocator as it is
            return
        mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: glibc's own adaptive maximum
        mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
        mallopt(-2, 64 << 20)  # M_TOP_PAD


_keep_freed_heap()

_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
          "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")

class device:
    """Same as torch.device: ``device('cpu')``, ``device('cuda', 0)``, ``device('cuda:1')``.

    Any torch device type can be named; tensors live on ``cpu`` or ``cuda`` (CuPy) only."""

    __slots__ = ("type", "index", "xp")  # xp: set at once for cpu, on first use for cuda

    def __new__(cls, type=None, index: int | None = None):
        if isinstance(type, device):
            return type
        if isinstance(type, int) and not isinstance(type, bool):  # device(0) means cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({builtins.type(type).__name__})")
        kind, sep, idx = type.partition(":")
        if kind not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                               f"device string: {type}")
        if sep:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            if not idx.isdigit() or (len(idx) > 1 and idx[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            if len(idx) > 10 or int(idx) > 2 ** 31 - 1:  # torch parses it as a C int
                raise RuntimeError(f"Could not parse device index '{idx}' in device string "
                                   f"'{type}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        key = (kind, index)
        cached = _DEVICES.get(key)
        if cached is not None:
            return cached
        self = object.__new__(cls)
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", index)
        if kind == "cpu":
            object.__setattr__(self, "xp", np)
        _DEVICES[key] = self
        return self

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __getattr__(self, name):
        """``xp`` (the array module of the device's arrays) of a cuda device imports CuPy."""
        if name != "xp":
            raise AttributeError(name)
        if self.type != "cuda":
            raise RuntimeError(f"ndgrad tensors live on cpu or cuda, not on '{self.type}'")
        object.__setattr__(self, "xp", cupy())
        return self.xp


_DEVICES: dict = {}
CPU = device("cpu")
_DEFAULT = [CPU]  # set_default_device's device: where factories put tensors unless told


def set_default_device(dev: device) -> None:
    _DEFAULT[0] = CPU if dev.type == "cpu" else dev  # resolved at each use, as torch does


def tensor_device(dev) -> device:
    """Where a tensor asked to live on ``dev`` lives: cpu, or cuda with a concrete index
    ("cuda" is the current CUDA device, as in torch)."""
    if dev is None:
        dev = _DEFAULT[0]
        if dev is CPU:
            return CPU
    d = device(dev)
    if d.type == "cuda":
        return d if d.index is not None else device("cuda", current_cuda())
    if d.type == "cpu":
        return CPU
    if d.type == "meta":
        raise NotImplementedError("ndgrad has no 'meta' tensors")
    raise RuntimeError(f"PyTorch is not linked with support for {d.type} devices")


def cupy():
    """Import CuPy on first CUDA use; a clear error when it is missing."""
    try:
        import cupy as cp
    except ImportError:
        raise AssertionError("Torch not compiled with CUDA enabled: ndgrad needs CuPy for "
                             "device='cuda' (pip install 'ndgrad[cuda]')") from None
    return cp


def current_cuda() -> int:
    """CuPy's current device (torch.cuda.current_device)."""
    cp = cupy()
    try:
        return cp.cuda.Device().id
    except Exception:  # CuPy without a GPU (its CUDARuntimeError)
        raise RuntimeError("No CUDA GPUs are available") from None


def on(dev: device):
    """A context in which CuPy allocates on ``dev`` (cuda:N); nothing for the CPU."""
    return cupy().cuda.Device(dev.index) if dev.type == "cuda" else contextlib.nullcontext()


def cuda_available() -> bool:
    try:
        import cupy as cp

        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def device_of_array(a) -> device:
    """The device an array lives on (NumPy arrays are cpu)."""
    if isinstance(a, np.ndarray) or np.isscalar(a):
        return CPU
    dev = getattr(a, "device", None)
    return device("cuda", int(getattr(dev, "id", 0)))


def to_device(a, dev: device):
    """Copy an array to ``dev`` (no copy if it already lives there)."""
    if dev.type == "cpu":
        return a if isinstance(a, np.ndarray) else a.get()
    cp = cupy()
    with cp.cuda.Device(dev.index):
        if type(a) is cp.ndarray and a.device.id != dev.index:
            return a.copy()  # CuPy's copy lands on the current device; asarray would not move it
        try:
            return cp.asarray(a)
        except ValueError as e:  # CuPy 13 and bfloat16: torch-like words
            from ._errors import allocation_error

            raise allocation_error(e) from None


def to_numpy(a) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.get()


def ufunc_at(xp, name: str, a, index, values) -> None:
    """``xp.<name>.at(a, index, values)``: repeated positions are applied in turn. Where CuPy's
    kernel lacks the ufunc or ``a``'s dtype (multiply; complex, bfloat16, small ints, float16
    max/min, int64 before CuPy 14.1), the same updates in rounds, one occurrence of each position
    per round in their order (one device->host read: the number of rounds)."""
    u = getattr(xp, name)
    try:
        return u.at(a, index, values)
    except (TypeError, NotImplementedError):  # CuPy raises them before it touches ``a``
        if xp is np:
            raise
    buf = a if a.flags.c_contiguous else xp.ascontiguousarray(a)
    pos = xp.arange(a.size).reshape(a.shape)[index]
    vals = xp.broadcast_to(xp.asarray(values).astype(a.dtype), pos.shape).reshape(-1)
    order = xp.argsort(pos.reshape(-1), kind="stable")
    pos, vals = pos.reshape(-1)[order], vals[order]
    rank = xp.arange(pos.size) - xp.searchsorted(pos, pos)  # earlier repeats of each position
    by_rank = xp.argsort(rank, kind="stable")
    pos, vals = pos[by_rank], vals[by_rank]
    flat, lo = buf.reshape(-1), 0
    for hi in xp.cumsum(xp.bincount(rank)).tolist() if pos.size else ():
        at = pos[lo:hi]
        flat[at] = u(flat[at], vals[lo:hi])
        lo = hi
    if buf is not a:
        a[...] = buf


def errstate(xp, **kw):
    """NumPy's errstate; nothing on CuPy (it has none: its kernels never warn)."""
    return np.errstate(**kw) if xp is np else contextlib.nullcontext()


def linalg_checked(xp):
    """A context in which CuPy's linalg checks LAPACK's info (one device->host read, as torch's);
    NumPy's always does."""
    if xp is np:
        return contextlib.nullcontext()
    import cupyx

    return cupyx.errstate(linalg="raise")


def scalar_array(x, npdt, xp):
    """A Python number as a 0-d array of ``npdt``; an int out of range wraps around, as in torch
    (NumPy 2 raises OverflowError, NumPy 1.x wraps it itself with a warning)."""
    try:
        return xp.asarray(x, dtype=npdt)
    except OverflowError:
        return xp.asarray(x).astype(npdt)


if np.lib.NumpyVersion(np.__version__) < "2.0.0":
    def scalar_array(x, npdt, xp):  # noqa: F811
        if x.__class__ is int and npdt.kind in "iu":
            return xp.asarray(x).astype(npdt)
        return xp.asarray(x, dtype=npdt)


# --- SciPy, where it is installed -----------------------------------------------------------------
_SCIPY_LINALG = None  # scipy.linalg once imported; False when SciPy is missing


def scipy_linalg():
    """scipy.linalg (LAPACK drivers NumPy lacks), or False without SciPy."""
    global _SCIPY_LINALG
    if _SCIPY_LINALG is None:
        from ._threads import get_num_threads

        n = get_num_threads()
        try:
            from scipy import linalg
        except ImportError:
            linalg = False
        else:  # SciPy's OpenBLAS is a pool of its own: give it the size set_num_threads chose
            from threadpoolctl import threadpool_limits

            threadpool_limits(n, user_api="blas")
        _SCIPY_LINALG = linalg
    return _SCIPY_LINALG


# --- special functions: SciPy's where it is installed, else ndgrad's own array code ---------------
_SCIPY = None  # scipy.special once imported; False when SciPy is missing
# SciPy's names for the functions taken from it; digamma and polygamma are always ndgrad's own:
# they follow torch's algorithms step by step (SciPy's differ from torch by up to 1e7 ulp near
# the roots of digamma and at the poles of polygamma)
_SCIPY_NAMES = {"erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "lgamma": "gammaln"}


def _scipy_special():
    global _SCIPY
    if _SCIPY is None:
        try:
            import scipy.special as sp
        except ImportError:
            sp = False
        _SCIPY = sp
    return _SCIPY


def special(xp, name: str):
    """erf, erfc, erfinv, lgamma, digamma or polygamma (called as ``(n, x)``) on arrays of
    ``xp``: cupyx.scipy.special on CUDA; on the CPU scipy.special where installed (C loops,
    as accurate), else ndgrad's vectorised NumPy code (``_special``)."""
    if xp is not np:
        import cupyx.scipy.special as csp

        return getattr(csp, {"lgamma": "gammaln", "digamma": "psi"}.get(name, name))
    sp = _scipy_special() if name in _SCIPY_NAMES else False
    if sp:
        return getattr(sp, _SCIPY_NAMES[name])
    fn = _special.FUNCTIONS[name]
    if name == "polygamma":
        return lambda n, x: fn(np, n, x)
    return lambda x: fn(np, x)
