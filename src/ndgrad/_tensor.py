"""Tensor: an array on a device plus autograd metadata. Its methods over the ops are listed in
_tensor_api.py; this module imports nothing above it (no op, no autograd node)."""

from __future__ import annotations

import math
import warnings
import weakref

import numpy as np

from ._errors import dim_out_of_range, overflow
from . import _dtype as D
from ._dtype import meta_name, torch_type_name
from ._backend import CPU, device, tensor_device, to_device, to_numpy
from ._grad_mode import state as _grad_state
from ._print import format_tensor


class Size(tuple):
    """Same as torch.Size: a tuple of ints that prints as ``ndgrad.Size([2, 3])``."""

    def __new__(cls, sizes=()):
        out = []
        for i, s in enumerate(sizes):
            if type(s) is not int:
                if not hasattr(s, "__index__"):
                    raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is "
                                    f"'{type(s).__name__}')")
                s = s.__index__()
            out.append(s)
        return tuple.__new__(cls, out)

    def __repr__(self) -> str:
        return f"ndgrad.Size([{', '.join(map(str, self))}])"

    __str__ = __repr__

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, i):
        out = tuple.__getitem__(self, i)
        return Size(out) if isinstance(i, slice) else out

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + other)

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(other + tuple(self))

    def __mul__(self, n):
        return Size(tuple(self) * n)

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


_tuple_new = tuple.__new__


class Tensor:
    """A multi-dimensional array with autograd. ``Tensor(data)`` is torch's legacy constructor."""

    __slots__ = ("_data", "_device", "_requires_grad", "_grad", "_grad_fn", "_output_nr", "_vc",
                 "_base", "_view_fn", "_retains_grad", "_hooks", "_view_meta", "_view_ver",
                 "_views", "__weakref__")
    __array_priority__ = 1000  # NumPy defers `ndarray + tensor` to Tensor.__radd__
    __array_ufunc__ = None
    is_sparse = False
    is_quantized = False
    is_meta = False
    # torch's flags for devices and layouts ndgrad never makes (programs test `x.is_xpu` etc.)
    is_xpu = is_mps = is_xla = is_ipu = is_maia = is_mtia = is_vulkan = False
    is_mkldnn = is_nested = is_sparse_csr = False
    layout = "strided"

    # ``Tensor(data)``, torch's legacy constructor, is _creation.legacy_init (it converts data).

    # --- construction from arrays (internal, the hot path) -------------------------------------
    @staticmethod
    def _make(data, dev=CPU, requires_grad=False, grad_fn=None, output_nr=0):
        t = object.__new__(Tensor)
        t._data = data
        t._device = dev
        t._requires_grad = requires_grad
        t._grad = None
        t._grad_fn = grad_fn
        t._output_nr = output_nr
        t._vc = [0]
        t._base = None
        t._view_fn = None
        t._retains_grad = False
        t._hooks = None
        return t

    # --- metadata ------------------------------------------------------------------------------
    @property
    def dtype(self) -> D.dtype:
        return D.from_numpy(self._data.dtype)

    @property
    def device(self) -> device:
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    @property
    def shape(self) -> Size:
        return _tuple_new(Size, self._data.shape)  # NumPy's shape holds ints already

    def size(self, dim: int | None = None):
        if dim is None:
            return _tuple_new(Size, self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim: int | None = None):
        a = self._data
        if a.size:
            st = tuple(s // a.itemsize for s in a.strides)
        else:  # NumPy zeroes an empty array's strides; torch reports contiguous ones
            st, acc = [], 1
            for n in reversed(a.shape):
                st.insert(0, acc)
                acc *= max(n, 1)
            st = tuple(st)
        return st if dim is None else st[_wrap_dim(dim, a.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def storage_offset(self) -> int:
        d = base = self._data
        while isinstance(getattr(base, "base", None), (np.ndarray, type(d))):  # CuPy's too
            base = base.base
        return 0 if base is d else (_ptr(d) - _ptr(base)) // d.itemsize

    def data_ptr(self) -> int:
        return _ptr(self._data)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self._data.dtype == D.bfloat16.np

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    @property
    def _version(self) -> int:
        return self._vc[0]

    # --- autograd metadata ---------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        _set_requires_grad(self, flag, "only Tensors of floating point and complex dtype can "
                                       "require gradients", attribute=True)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        _set_requires_grad(self, requires_grad, "only Tensors of floating point dtype can "
                                                "require gradients", attribute=False)
        return self

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None  # a stale view takes its new history first, as in torch

    @property
    def grad_fn(self):
        if self._base is not None and self._view_ver != self._vc[0]:
            refresh_view(self)
        return self._grad_fn

    @property
    def grad(self):
        if self._grad is None and self._grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you "
                "access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for "
                "more information.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.dtype is not self.dtype:  # (checked first, as torch)
                _grad_dtype_error(value, self)
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{list(value.shape)} vs {list(self.shape)}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is not None and not self._retains_grad:
            self._grad_fn._add_hook(self._output_nr, RetainGrad(self))
            self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new grad."""
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:  # a non-leaf's hooks live on its node
            return self._grad_fn._add_hook(self._output_nr, hook, before_retain=True)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def detach(self) -> Tensor:
        t = Tensor._make(self._data, self._device)
        t._vc = self._vc  # a view: shares the version counter, like torch
        return t

    def detach_(self) -> Tensor:
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be called "
                "on these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                "function in torch/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._requires_grad = False
        sync_views(self)
        return self

    @property
    def data(self) -> Tensor:
        return Tensor._make(self._data, self._device)

    @data.setter
    def data(self, value: Tensor) -> None:
        if self._requires_grad and value._data.dtype.kind not in "fcV":
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        self._data = value._data
        self._device = value._device

    # --- conversion ----------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        v = to_numpy(self._data).reshape(()).item()
        return float(v) if self._data.dtype == D.bfloat16.np else v

    def tolist(self):
        a = to_numpy(self._data)
        return a.astype(np.float32).tolist() if a.dtype == D.bfloat16.np else a.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self._device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() "
                    "to copy the tensor to host memory first.")
            return to_numpy(self._data)
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self.numpy(force=self._device.type != "cpu" and not self._requires_grad)
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a.copy() if copy and a is self._data else a

    def __dlpack__(self, *args, **kwargs):
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    # --- Python protocol -----------------------------------------------------------------------
    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        if self._requires_grad and _SCALAR_WARNING and _grad_state.grad_enabled:
            _warn_scalar()
        v = self._scalar()
        if isinstance(v, complex):
            raise overflow(D.float64)
        return float(v)

    def __int__(self) -> int:
        v = self._scalar()
        if isinstance(v, complex):
            raise overflow(D.int64)
        return int(v)

    def _scalar(self):
        """item() for Python's float()/int(): torch's ValueError for more than one element."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __complex__(self) -> complex:
        if self._requires_grad and _SCALAR_WARNING and _grad_state.grad_enabled:
            _warn_scalar()
        return complex(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__  # identity, in C: tensors key the engine's dicts

    def __contains__(self, element) -> bool:
        return bool((self == element).any())

    def __repr__(self, *, tensor_contents=None) -> str:
        try:
            gf = self.grad_fn
            name = None if gf is None else gf.name().rpartition("::")[2]
        except RuntimeError:  # a view that may not be rebased, its base modified: as torch
            name = "Invalid"
        return format_tensor(
            to_numpy(self._data), dtype_name=self.dtype.name, device=str(self._device),
            grad_fn_name=name, requires_grad=self._requires_grad)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (to_numpy(self._data), str(self._device), self._requires_grad))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.")
        new = object.__new__(type(self))
        _init(new, self._data.copy(), self._device)  # a fresh leaf, never a view
        new._requires_grad = self._requires_grad
        new._grad = None if self._grad is None else self._grad.clone()
        if hasattr(self, "__dict__"):
            import copy

            new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = new
        return new


def _grad_dtype_error(value: Tensor, t: Tensor):
    raise RuntimeError(
        f"attempting to assign a gradient with dtype '{meta_name(value.dtype)}' to a tensor with "
        f"grad_dtype '{torch_type_name(t.dtype)}'. The gradient must match the tensor's grad_dtype "
        "(defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with a "
        "specific dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the "
        "dtypes of a tensor and its gradient may break downstream systems that assume they match.")


def refresh_view(t: Tensor) -> None:
    """A view whose base was modified in place (through the base or another view) takes its
    history from the base's new one, as torch regenerates it (as AsStridedBackward0). As in torch,
    a view with no history of a base that requires no grad is left as it is (still stale)."""
    base = t._base
    if t._grad_fn is None and not base._requires_grad:
        return
    if t._view_meta is not None:
        raise view_rebase_error(t, indirect=True)
    t._view_ver = t._vc[0]
    prev, _grad_state.grad_enabled = _grad_state.grad_enabled, True
    try:
        v = t._view_fn(base)
    finally:
        _grad_state.grad_enabled = prev
    if v._grad_fn is not None:
        v._grad_fn._name = "AsStridedBackward0"
    old_fn, old_nr = t._grad_fn, t._output_nr
    t._grad_fn, t._output_nr, t._requires_grad = v._grad_fn, v._output_nr, True
    move_retain_grad(t, old_fn, old_nr)


def move_retain_grad(t: Tensor, old_fn, old_nr: int) -> None:
    """After ``t`` took a new node, as in torch retain_grad follows it there (hooks registered
    before stay with the old one)."""
    fn = t._grad_fn
    if fn is not None and t._retains_grad and old_fn is not None and old_fn._hooks:
        hooks = old_fn._hooks.get(old_nr, [])
        for h in [h for h in hooks if isinstance(h, RetainGrad)]:
            hooks.remove(h)
            fn._add_hook(t._output_nr, h)


def view_rebase_error(t: Tensor, indirect: bool) -> RuntimeError:
    """torch's error for a view that may not be rebased: made in no_grad or inference mode, or
    one output of several views (split, unbind) or of a custom Function, modified in place
    directly or through its base."""
    meta, fn = t._view_meta, t._grad_fn
    what = "its base or another view of its base has been" if indirect else "is being"
    if meta in ("no_grad", "inference") or fn is None:
        prefix = "A view was created in" if fn is None else (
            f"Output {t._output_nr} of {_short_name(fn)} is a view of a view which was created in")
        msg = (f"{prefix} inference mode and {what} modified inplace in normal mode."
               if meta == "inference" else
               f"{prefix} no_grad mode and {what} modified inplace with grad mode enabled.")
    else:
        msg = f"Output {t._output_nr} of {_short_name(fn)} is a view and {what} modified inplace."
    if meta == "multi":
        msg += (" This view is the output of a function that returns multiple views. Such "
                "functions do not allow the output views to be modified inplace. You should "
                "replace the inplace operation by an out-of-place one.")
    elif meta == "custom":
        msg += (" This view was created inside a custom Function (or because an input was "
                "returned as-is) and the autograd logic to handle view+inplace would override the "
                "custom backward associated with the custom Function, leading to incorrect "
                "gradients. This behavior is forbidden. You can fix this by cloning the output of "
                "the custom Function.")
    else:
        block = "inference_mode" if meta == "inference" else "no_grad"
        msg += (" Given that this use case is ambiguous and error-prone, it is forbidden. You can "
                "clarify your code by moving both the view and the inplace either both inside the "
                f"{block} block (if you don't want the inplace to be tracked) or both outside (if "
                "you want the inplace to be tracked).")
    return RuntimeError(msg)


def _short_name(fn) -> str:
    name = fn.name().rpartition("::")[2]
    return name[:name.rindex("Backward")] if "Backward" in name else name


class _Views(list):
    """Weak references to a base's views; the dead ones are dropped when it reaches ``limit``."""

    __slots__ = ("limit",)


def track_view(view: Tensor) -> None:
    """Remember a view that has no history of its own, so that it follows its base's
    requires_grad later (torch asks the base each time; ops here read the flag directly)."""
    base = view._base
    views = getattr(base, "_views", None)
    if views is None:
        views = base._views = _Views()
        views.limit = 16
    views.append(weakref.ref(view))
    if len(views) >= views.limit:
        views[:] = [r for r in views if r() is not None]
        views.limit = max(16, 2 * len(views))


def sync_views(base: Tensor) -> None:
    """After ``base``'s requires_grad changed (an in-place op gave it history, requires_grad_,
    detach_), its tracked views without history of their own say the same."""
    views = getattr(base, "_views", None)
    if views:
        flag = base._requires_grad
        for r in views:
            v = r()
            if v is not None and v._grad_fn is None:
                v._requires_grad = flag


_DETACH_HINT = (" If you want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach().")


_SCALAR_WARNING = ["Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                   "behavior.\nConsider using tensor.detach() first."]


def _warn_scalar() -> None:
    """torch's TORCH_WARN_ONCE: float()/complex() (not int(), item()) of a tensor that requires
    grad, with grad mode on (not in an optimizer's step: LBFGS's float(loss)), warns once a
    process."""
    warnings.warn(_SCALAR_WARNING.pop(), UserWarning, stacklevel=3)


def _set_requires_grad(t: Tensor, flag: bool, dtype_msg: str, attribute: bool) -> None:
    """torch's rules: only leaves change the flag (requires_grad_() on a non-leaf may keep True),
    only floating-point and complex tensors require grad."""
    if t._grad_fn is not None:
        if flag and attribute:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if not flag:
            raise RuntimeError("you can only change requires_grad flags of leaf variables." +
                               _DETACH_HINT)
        return
    if flag and not (t.is_floating_point() or t.is_complex()):
        raise RuntimeError(dtype_msg)
    t._requires_grad = bool(flag)
    sync_views(t)


def _ptr(a) -> int:
    return a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr


def _rebuild(array, dev, requires_grad):
    t = Tensor._make(to_device(array, device(dev)), device(dev))
    t._requires_grad = requires_grad
    return t


def _init(t: Tensor, arr, dev: device) -> None:
    t._data = arr
    t._device = dev
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    t._output_nr = 0
    t._vc = [0]
    t._base = None
    t._view_fn = None
    t._retains_grad = False
    t._hooks = None


class RetainGrad:
    """The hook ``Tensor.retain_grad`` puts on the tensor's node: stores the gradient as .grad."""

    __slots__ = ("ref",)

    def __init__(self, tensor: Tensor) -> None:
        self.ref = weakref.ref(tensor)  # no cycle tensor -> node -> hook -> tensor

    def __call__(self, g):
        t = self.ref()
        if t is None:
            return
        if g._requires_grad:  # under create_graph: the retained gradient keeps its graph
            t._grad = g.clone() if t._grad is None else t._grad + g
        elif t._grad is None:
            t._grad = Tensor._make(g._data.copy(), g._device)
        else:
            t._grad = Tensor._make(t._grad._data + g._data, g._device)


class _RemovableHandle:
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_resolve_device = tensor_device


def _wrap_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim; IndexError with torch's text when out of range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise dim_out_of_range(dim, ndim)
    return dim + n if dim < 0 else dim


def wrap_dims(dims, ndim: int) -> tuple:
    if isinstance(dims, int):
        dims = (dims,)
    elif isinstance(dims, Tensor):  # a 0-d integer tensor is an int to torch, not a list of dims
        if dims._data.ndim or dims._data.dtype.kind not in "iu":
            raise TypeError(f"expected dims as int or tuple of ints, but got a {dims.ndim}-d "
                            f"{torch_type_name(dims.dtype)} tensor")
        dims = (int(dims),)
    return tuple(_wrap_dim(d, ndim) for d in dims)


wrap_dim = _wrap_dim


def grad_recording(*tensors) -> bool:
    """True when grad mode is on and some argument requires grad."""
    if not _grad_state.grad_enabled:
        return False
    for t in tensors:
        if isinstance(t, Tensor) and t._requires_grad:
            return True
    return False


def as_array(x, dev: device, dt: D.dtype | None = None):
    """An argument as an array on ``dev`` (scalars become 0-d arrays of ``dt``)."""
    if isinstance(x, Tensor):
        return x._data
    xp = dev.xp
    return xp.asarray(x, dtype=None if dt is None else dt.np)


