"""Small Tensor methods torch has and their top-level spellings: conj_physical, tril_/triu_,
get_device, is_inference, is_nonzero, dim_order, the deprecated resize/resize_as, set_,
as_subclass, post-accumulate-grad hooks; and torch.detach/detach_/zero_/fill_/index_put_/
addmv_/resize_as_."""

from __future__ import annotations

import warnings

import numpy as np

from ._tensor import Tensor

__all__ = ["addmv_", "conj_physical", "conj_physical_", "detach", "detach_", "fill_",
           "hash_tensor", "index_put_", "is_inference", "resize_as_", "zero_"]


def conj_physical(input: Tensor) -> Tensor:
    """Same as torch.conj_physical: a conjugated copy (the input itself when real)."""
    if not input.is_complex():
        return input
    out = input.conj()
    if out._grad_fn is not None:
        out._grad_fn._name = "ConjPhysicalBackward0"
    return out


def conj_physical_(input: Tensor) -> Tensor:
    """Same as torch.conj_physical_."""
    from ._ops._inplace import inplace

    return inplace(input, conj_physical) if input.is_complex() else input


def tril_(input: Tensor, diagonal: int = 0) -> Tensor:
    """Same as torch.Tensor.tril_."""
    from ._ops._inplace import inplace

    return inplace(input, Tensor.tril, diagonal)


def triu_(input: Tensor, diagonal: int = 0) -> Tensor:
    """Same as torch.Tensor.triu_."""
    from ._ops._inplace import inplace

    return inplace(input, Tensor.triu, diagonal)


def get_device(input: Tensor) -> int:
    """Same as torch.Tensor.get_device: -1 on the CPU, else the CUDA device's index."""
    dev = input.device
    return -1 if dev.type == "cpu" else (dev.index or 0)


def is_inference(input: Tensor) -> bool:
    """Same as torch.is_inference, except that ndgrad's inference_mode makes ordinary tensors,
    so this is always False."""
    return False


def is_nonzero(input: Tensor) -> bool:
    """Same as torch.Tensor.is_nonzero."""
    from ._misc import is_nonzero as fn

    return fn(input)


def _dense_in(shape, st, order) -> bool:
    """Whether the strides lay the dims out densely in this order (size-1 dims ignored)."""
    acc = 1
    for d in reversed(tuple(order)):
        if shape[d] != 1:
            if st[d] != acc:
                return False
            acc *= shape[d]
    return True


def dim_order(input: Tensor, *, ambiguity_check=False) -> tuple:
    """Same as torch.Tensor.dim_order: dims from outermost to innermost in memory, ties broken as
    torch's elementwise output permutation does (an insertion sort that skips 0 strides)."""
    st, shape = input.stride(), input.shape
    if _dense_in(shape, st, range(input.ndim)):  # torch's short cuts: contiguous, channels last
        return tuple(range(input.ndim))
    if input.ndim == 4 and _dense_in(shape, st, (0, 2, 3, 1)):
        return (0, 2, 3, 1)

    def swap(a: int, b: int) -> int:
        if st[a] == 0 or st[b] == 0:
            return 0
        if st[a] != st[b]:
            return -1 if st[a] < st[b] else 1
        return 1 if shape[a] > shape[b] else 0

    perm = list(reversed(range(input.ndim)))
    for i in range(1, input.ndim):
        d1 = i
        for d0 in reversed(range(i)):
            c = swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return tuple(reversed(perm))


def _volatile(self) -> bool:
    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning,
                  stacklevel=2)
    return False


def is_set_to(input: Tensor, tensor: Tensor) -> bool:
    """Same as torch.Tensor.is_set_to: the same memory, sizes and strides."""
    return (input.data_ptr() == tensor.data_ptr() and input.shape == tensor.shape and
            input.stride() == tensor.stride())


def to_dense(input: Tensor, dtype=None, *, masked_grad=None) -> Tensor:
    """Same as torch.Tensor.to_dense for a strided tensor: the tensor itself."""
    return input if dtype is None else input.to(dtype)


def to_padded_tensor(input: Tensor, padding: float, output_size=None) -> Tensor:
    """Same as torch.Tensor.to_padded_tensor: for nested tensors only, so a strided tensor raises
    as in torch."""
    raise NotImplementedError("Could not run 'aten::to_padded_tensor' with arguments from the "
                              "'CPU' backend. 'aten::to_padded_tensor' is only available for "
                              "nested tensors.")


def resize(input: Tensor, *sizes) -> Tensor:
    """Same as torch.Tensor.resize (deprecated there): a reshape keeping the element count."""
    from ._ops.movement import _shape_arg

    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    shape = _shape_arg(sizes, "resize")
    n = 1
    for s in shape:
        n *= s
    if n != input.numel():
        raise RuntimeError(f"requested resize to {'x'.join(map(str, shape))} ({n} elements in "
                           f"total), but the given tensor has a size of "
                           f"{'x'.join(map(str, input.shape))} ({input.numel()} elements). "
                           "autograd's resize can only change the shape of a given tensor, while "
                           "preserving the number of elements. ")
    return input.contiguous().view(shape)


def resize_as(input: Tensor, tensor: Tensor) -> Tensor:
    """Same as torch.Tensor.resize_as (deprecated there)."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return resize(input, *tensor.shape)


def set_(input: Tensor, source: Tensor | None = None, storage_offset=0, size=None,
         stride=None) -> Tensor:
    """Same as torch.Tensor.set_ for a tensor source (or none: empty): this tensor then shares
    source's memory, sizes and strides."""
    xp = input._device.xp
    if source is None:
        input._data = xp.empty((0,), input._data.dtype)
    else:
        if source.dtype is not input.dtype:
            raise RuntimeError("Could not set tensor of type "
                               f"{input.type().split('.')[-1]} to a tensor of type "
                               f"{source.type().split('.')[-1]}")
        input._data = source._data
        if size is not None:
            input._data = xp.lib.stride_tricks.as_strided(
                source._data.reshape(-1)[storage_offset:], tuple(size),
                tuple(s * source._data.itemsize for s in (stride or _contiguous(size))))
    input._vc[0] += 1
    return input


def _contiguous(size) -> tuple:
    st, acc = [], 1
    for n in reversed(tuple(size)):
        st.insert(0, acc)
        acc *= max(n, 1)
    return tuple(st)


def as_subclass(input: Tensor, cls) -> Tensor:
    """Same as torch.Tensor.as_subclass: a ``cls`` instance sharing data, version and graph."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass(): argument 'cls' must be a subclass of Tensor, got {cls}")
    out = object.__new__(cls)
    for slot in Tensor.__slots__:
        if slot != "__weakref__" and hasattr(input, slot):
            object.__setattr__(out, slot, getattr(input, slot))
    out._hooks = None
    out._grad = None
    return out


# --- top-level spellings of Tensor methods -----------------------------------------------------
def detach(input: Tensor) -> Tensor:
    """Same as torch.detach."""
    return input.detach()


def detach_(input: Tensor) -> Tensor:
    """Same as torch.detach_."""
    return input.detach_()


def zero_(input: Tensor) -> Tensor:
    """Same as torch.zero_."""
    return input.zero_()


def fill_(input: Tensor, value) -> Tensor:
    """Same as torch.fill_."""
    return input.fill_(value)


def index_put_(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """Same as torch.index_put_."""
    return input.index_put_(indices, values, accumulate)


def addmv_(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """Same as torch.addmv_."""
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


def resize_as_(input: Tensor, the_template: Tensor, *, memory_format=None) -> Tensor:
    """Same as torch.resize_as_."""
    return input.resize_as_(the_template)


def hash_tensor(input: Tensor, dim=None, *, keepdim: bool = False, mode: int = 0) -> Tensor:
    """Same as torch.hash_tensor: the elements as 64-bit floats or ints, their bits xor-reduced
    into uint64."""
    from ._errors import not_implemented

    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    a = input._data
    if a.dtype.kind == "c":
        raise not_implemented("xor_sum_cpu", input.dtype)
    dims = tuple(range(a.ndim)) if dim is None or dim == [] or dim == () else \
        (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(d % max(a.ndim, 1) for d in dims) if a.ndim else ()
    if dim is None and a.size == 0:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")
    for d in dims:
        if a.shape[d] == 0:
            raise IndexError(f"hash_tensor: Expected reduction dim {d} to have non-zero size.")
    from ._backend import to_device

    host = a if isinstance(a, np.ndarray) else a.get()  # CuPy's ufuncs have no reduce
    wide = host.astype("float64" if host.dtype.kind in "fV" else "int64").view("uint64")
    out = np.bitwise_xor.reduce(wide, axis=dims, keepdims=keepdim) if dims else wide.copy()
    return Tensor._make(to_device(np.asarray(out), input._device), input._device)


# --- post-accumulate-grad hooks ----------------------------------------------------------------
# The engine calls getattr(leaf, "_post_accumulate_grad_hooks") ({key: hook(leaf)}) after adding
# into leaf.grad; a Parameter keeps that dict in its __dict__ (DDP's reducer uses it), a plain
# Tensor (slots only) here, by id while it lives.
_POST_HOOKS: dict = {}


def _post_hooks(self):
    d = getattr(self, "__dict__", None)
    if d is not None:
        return d.get("_post_accumulate_grad_hooks")
    entry = _POST_HOOKS.get(id(self))
    return entry[1] if entry is not None and entry[0]() is self else None


class _Handle:
    """Same as torch.utils.hooks.RemovableHandle for one hook."""

    __slots__ = ("_hooks", "_key")

    def __init__(self, hooks: dict, key) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register_post_accumulate_grad_hook(self: Tensor, hook) -> _Handle:
    """Same as torch.Tensor.register_post_accumulate_grad_hook: ``hook(tensor)`` runs after the
    gradient is accumulated into this leaf's .grad."""
    import weakref

    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self._grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    from .autograd.engine import POST_ACCUMULATE_HOOKS

    POST_ACCUMULATE_HOOKS[0] = True
    d = getattr(self, "__dict__", None)
    if d is not None:
        hooks = d.setdefault("_post_accumulate_grad_hooks", {})
    else:
        entry = _POST_HOOKS.get(id(self))
        if entry is None or entry[0]() is not self:
            key = id(self)
            entry = _POST_HOOKS[key] = (weakref.ref(  # (the dict bound: at interpreter exit
                self, lambda _, hooks=_POST_HOOKS: hooks.pop(key, None)), {})  # globals are None)
        hooks = entry[1]
    key = object()
    hooks[key] = hook
    return _Handle(hooks, key)


# type(x) prints <class 'torch.Tensor'> in torch (its classes say they live in the package, as
# do torch.Size, torch.dtype, torch.device): tutorials print these types
from ._backend import device as _device  # noqa: E402
from ._dtype import dtype as _dtype  # noqa: E402
from ._tensor import Size as _Size  # noqa: E402

for _cls in (Tensor, _Size, _dtype, _device):
    _cls.__module__ = "ndgrad"
