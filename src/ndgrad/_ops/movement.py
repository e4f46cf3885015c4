"""Views: tensors that share their base's memory (reshape, permute, expand, squeeze, narrow,
select...). Each is marked with ``_as_view`` so writes through it reach the base and in-place ops
on it rebase the base's history (see ``_inplace``)."""

from __future__ import annotations

import math
import operator

from .._errors import no_dims_error
from .. import _dtype as D
from .._tensor import Tensor, track_view, wrap_dim, wrap_dims
from ..autograd.op import Op
from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import sum_to_array
from .convert import _parse_to  # noqa: F401  (nn.Module.to imports it from here)
from .joins import cat, stack  # noqa: F401  (older imports name movement)

__all__ = [
    "adjoint",
    "broadcast_to",
    "flatten",
    "moveaxis",
    "movedim",
    "narrow",
    "permute",
    "reshape",
    "select",
    "squeeze",
    "swapaxes",
    "swapdims",
    "t",
    "transpose",
    "unflatten",
    "unsqueeze",
]


def _as_view(out: Tensor, src: Tensor, fn, multi: str | None = None) -> Tensor:
    """Mark ``out`` as a view of ``src``'s base; ``fn(src)`` rebuilds it (for in-place ops).

    ``_view_meta`` is torch's CreationMeta: "multi" for one of several views (``multi`` names the
    op: Split, Unbind), "no_grad"/"inference" for a view made in that mode; a view of a view keeps
    its source's unless it has its own. Such views may not be modified in place while recording.
    A view without history asks its base for requires_grad (so it may require grad in no_grad
    mode, as in torch) and is tracked so that it follows the base's later changes."""
    base = src._base
    if base is None:
        out._base, out._view_fn = src, fn
        meta = None
    else:
        prev = src._view_fn
        out._base, out._view_fn = base, lambda b: fn(prev(b))
        meta = src._view_meta
        src = base
    out._vc = src._vc
    out._view_ver = src._vc[0]
    own = ("inference" if _grad_state.inference else None if _grad_state.grad_enabled else
           "no_grad") or ("multi" if multi is not None else None)
    out._view_meta = own if own is not None and meta != "inference" else meta
    if out._grad_fn is None and out._data.dtype.kind in "fcV":
        out._requires_grad = src._requires_grad
        track_view(out)
    return out


def _strided(xp, a, shape, strides):
    """A writable view of ``a`` with element strides (NumPy's diagonal is read-only)."""
    return xp.lib.stride_tricks.as_strided(a, shape, tuple(s * a.itemsize for s in strides))


def _elem_strides(a) -> tuple:
    return tuple(s // a.itemsize for s in a.strides)


# --- reshape family ------------------------------------------------------------------------------
def _shape_arg(shape, name="reshape"):
    """Sizes given as ints or as one sequence (torch.Size, tuple, list)."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        return tuple(map(operator.index, shape[0]))
    try:
        return tuple(map(operator.index, shape))
    except TypeError:
        raise TypeError(f"{name}() takes 1 positional argument but {len(shape)} were given") \
            from None


def _infer(shape, numel):
    if -1 not in shape and math.prod(shape) == numel and min(shape, default=0) >= 0:
        return shape  # the common case: nothing to infer
    shape = list(shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {shape}")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0:
            if numel == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {shape} "
                                   "because the unspecified dimension size -1 can be any value "
                                   "and is ambiguous")
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        if numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape[shape.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
    return tuple(shape)


def _try_view(a, shape):
    """``a`` reshaped without copying, or None when its strides do not allow it."""
    if a.flags.c_contiguous:
        return a.reshape(shape)
    try:
        return a.reshape(shape, copy=False)
    except ValueError:
        return None
    except TypeError:  # array modules without reshape(copy=)
        probe = a.view()
        try:
            probe.shape = shape
        except AttributeError:
            return None
        return probe


class View(Op):
    __slots__ = ()

    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)  # a view when the strides allow (callers check when it must be)

    def backward(ctx, g):
        return g.reshape(ctx.shape)

    backward_raw = backward  # the same on arrays


def _view(input: Tensor, shape: tuple, name: str = "ViewBackward0") -> Tensor:
    out = (View.named(name) if input._requires_grad else View).apply_one(input, shape)
    return _as_view(out, input, lambda b: _view(b, shape, name))


_UnsafeView = View.named("UnsafeViewBackward0")  # reshape's copy, as torch names it


def reshape(input: Tensor, *shape) -> Tensor:
    """Same as torch.reshape: a view when the strides allow it, else a copy."""
    shape = _infer(_shape_arg(shape), input._data.size)
    if input._data.flags.c_contiguous:
        return _view(input, shape)
    if _try_view(input._data, shape) is not None:
        return _view(input, shape, "ReshapeAliasBackward0")
    return _UnsafeView.apply(input, shape)


def view(input: Tensor, *shape) -> Tensor:
    """Same as torch.Tensor.view, including ``view(dtype)``."""
    if len(shape) == 1 and isinstance(shape[0], (D.dtype, type)) and not isinstance(shape[0], int):
        return _view_dtype(input, D.to_dtype(shape[0]))
    shape = _infer(_shape_arg(shape, "view"), input._data.size)
    if not input._data.flags.c_contiguous and _try_view(input._data, shape) is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return _view(input, shape)


def _view_dtype(input: Tensor, dt: D.dtype) -> Tensor:
    a, old = input._data, input.dtype
    if dt.itemsize != old.itemsize:
        from .._dtype import torch_type_name as tn

        what = f"view {tn(old)} as {tn(dt)} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to {what}")
        if dt.itemsize > old.itemsize and a.shape[-1] * old.itemsize % dt.itemsize:
            raise RuntimeError(f"self.size(-1) must be divisible by {dt.itemsize // old.itemsize} "
                               f"to {what}, but got {a.shape[-1]}")
        if a.ndim and a.strides[-1] != a.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 to {what}")
    out = Tensor._make(a.view(dt.np), input._device)
    return _as_view(out, input, lambda b: _view_dtype(b, dt))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Same as torch.flatten."""
    s, e = wrap_dim(start_dim, input.ndim), wrap_dim(end_dim, input.ndim)
    if input.ndim == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = input.shape
    return reshape(input, shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Same as torch.unflatten."""
    d = wrap_dim(dim, input.ndim)
    shp = input.shape
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if not shp:  # torch's text, less the C++ stack trace it appends
        raise RuntimeError(f"unflatten got an unexpected error:\n{no_dims_error(dim)}")
    if sizes.count(-1) <= 1 and -1 not in sizes and math.prod(sizes) != shp[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shp[d]}) in the input tensor")
    return view(input, shp[:d] + _infer(sizes, shp[d]) + shp[d + 1:])


# --- permutations --------------------------------------------------------------------------------
def _inverse(perm) -> list:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


class Permute(Op):
    __slots__ = ()

    def forward(ctx, a, perm):
        ctx.perm = perm
        return a.transpose(perm)

    def backward(ctx, g):
        return g.permute(_inverse(ctx.perm))

    def backward_raw(ctx, g):
        return g.transpose(_inverse(ctx.perm))


def _permute(input: Tensor, perm: tuple, name: str) -> Tensor:
    # the name matters only to a recorded node (this skips its look-up on the no-grad path)
    out = (Permute.named(name) if input._requires_grad else Permute).apply_one(input, perm)
    return _as_view(out, input, lambda b: _permute(b, perm, name))


def permute(input: Tensor, *dims) -> Tensor:
    """Same as torch.permute."""
    dims = _shape_arg(dims, "permute")
    if len(dims) != input.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}")
    perm = wrap_dims(dims, input.ndim)
    if len(set(perm)) != len(perm):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permute(input, perm, "PermuteBackward0")


def transpose(input: Tensor, dim0: int, dim1: int, _name: str = "TransposeBackward0") -> Tensor:
    """Same as torch.transpose."""
    n = input.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    perm = list(range(n))
    if n:
        perm[d0], perm[d1] = perm[d1], perm[d0]
    return _permute(input, tuple(perm), _name)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Same as torch.t: transposes 2-D tensors, returns others as they are."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, -1, "TBackward0") if input.ndim == 2 else \
        _permute(input, tuple(range(input.ndim)), "TBackward0")


def _T(self):
    import warnings

    if self.ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
    elif self.ndim != 2:
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                      "shape is deprecated and it will throw an error in a future release. "
                      "Consider `x.mT` to transpose batches of matrices or `x.permute(*torch."
                      "arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                      UserWarning, stacklevel=2)
    return _permute(self, tuple(range(self.ndim - 1, -1, -1)), "PermuteBackward0")


def _identity_0d(t: Tensor, what: str, conj: bool) -> Tensor:
    """torch's deprecated 0-d case of mT/H/mH/adjoint: the tensor itself (conjugated for H)."""
    import warnings

    warnings.warn(f"{what} is deprecated on 0-D tensors. " + (
        "Consider using x.conj()." if conj else "This function is the identity in these cases."),
        UserWarning, stacklevel=3)
    return t.conj() if conj else t


def _mT(self, name: str = "mT"):
    if self.ndim < 2:
        if self.ndim == 0:
            return _identity_0d(self, f"Tensor.{name}", name == "mH")
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _H(self):
    if self.ndim == 0:
        return _identity_0d(self, "Tensor.H", True)
    if self.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor." +
                           (" For batches of matrices, consider using tensor.mH"
                            if self.ndim > 2 else ""))
    return adjoint(self)


def adjoint(input: Tensor) -> Tensor:
    """Same as torch.adjoint."""
    if input.ndim == 0:
        return _identity_0d(input, "adjoint()", True)
    if input.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input.ndim}-D tensor.")
    out = transpose(input, -2, -1)
    return out.conj() if out.is_complex() else out


def movedim(input: Tensor, source, destination) -> Tensor:
    """Same as torch.movedim (alias moveaxis)."""
    n = input.ndim
    src = wrap_dims(source, n)
    dst = wrap_dims(destination, n)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    rest = iter(d for d in range(n) if d not in src)
    where = dict(zip(dst, src))
    perm = tuple(where[i] if i in where else next(rest) for i in range(n))
    return _permute(input, perm, "PermuteBackward0" if n else "AliasBackward0")


moveaxis = movedim


# --- broadcasting views --------------------------------------------------------------------------
class Expand(Op):
    __slots__ = ()

    def forward(ctx, a, shape):
        ctx.shape = a.shape
        if a.shape == shape:  # no element repeated: a plain view, writable as torch's
            return a.view()
        return ctx.xp.broadcast_to(a, shape)

    def backward(ctx, g):
        return g.sum_to_size(ctx.shape)  # (a Tensor method: reduce.py imports this module)

    def backward_raw(ctx, g):
        return sum_to_array(g, ctx.shape)


def expand_error(t: Tensor, sizes: list, shape: list) -> None:
    """Raise torch's error if ``shape`` (of ``t``) cannot expand to ``sizes`` (-1 keeps a size)."""
    n = len(sizes) - len(shape)
    if n < 0:
        raise RuntimeError(f"expand({t.type()}{{{shape}}}, size={sizes}): the number of sizes "
                           f"provided ({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shape)})")
    for i, s in enumerate(sizes):
        if s == -1 and i < n:
            raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                               f"non-existing dimension {i}")
        if i >= n and s != -1 and shape[i - n] not in (1, s):
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({shape[i - n]}) at non-singleton dimension {i}.  "
                               f"Target sizes: {sizes}.  Tensor sizes: {shape}")


def expand(input: Tensor, *sizes) -> Tensor:
    """Same as torch.Tensor.expand."""
    sizes = list(_shape_arg(sizes, "expand"))
    shape = input._data.shape
    expand_error(input, sizes, list(shape))
    n = len(sizes) - len(shape)
    sizes = tuple(shape[i - n] if s == -1 else s for i, s in enumerate(sizes))
    return _expand(input, sizes)


def _expand(input: Tensor, sizes: tuple) -> Tensor:
    return _as_view(Expand.apply_one(input, sizes), input, lambda b: _expand(b, sizes))


def broadcast_to(input: Tensor, size) -> Tensor:
    """Same as torch.broadcast_to."""
    return expand(input, tuple(size))


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Same as torch.squeeze."""
    shape = input._data.shape
    if dim is None:
        axes, name = tuple(i for i, s in enumerate(shape) if s == 1), "SqueezeBackward0"
    else:
        name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
        axes = tuple(d for d in wrap_dims(dim, input.ndim) if input.ndim and shape[d] == 1)
    return _view(input, tuple(s for i, s in enumerate(shape) if i not in axes), name)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Same as torch.unsqueeze."""
    d = wrap_dim(dim, input.ndim + 1)
    shape = input._data.shape
    return _view(input, shape[:d] + (1,) + shape[d:], "UnsqueezeBackward0")


# --- pieces --------------------------------------------------------------------------------------
class Slice(Op):
    """A basic index (ints, slices, None) as a view: select, slice, unsqueeze."""

    __slots__ = ()

    def forward(ctx, a, key):
        ctx.shape, ctx.key = a.shape, key
        return a[key + (Ellipsis,)]  # the Ellipsis keeps a full int key a 0-d view, not a copy

    def backward(ctx, g):
        return SliceBackward.apply(g, ctx.shape, ctx.key)

    def backward_raw(ctx, g):
        return SliceBackward.forward(ctx, g, ctx.shape, ctx.key)


class SliceBackward(Op):
    __slots__ = ()

    def forward(ctx, g, shape, key):
        ctx.key = key
        out = ctx.xp.zeros(shape, g.dtype)
        out[key] = g
        return out

    def backward(ctx, gg):
        return Slice.apply(gg, ctx.key)


def _basic(t: Tensor, key: tuple, name: str | None) -> Tensor:
    out = (Slice.named(name or "AliasBackward0") if t._requires_grad else Slice).apply_one(t, key)
    return _as_view(out, t, lambda b: _basic(b, key, name))


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """Same as torch.narrow: a view."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.ndim)
    n = input._data.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if start + length > n or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _basic(input, (slice(None),) * d + (slice(start, start + length),), "SliceBackward0")


def select(input: Tensor, dim: int, index) -> Tensor:
    """Same as torch.select: a view."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.ndim)
    n, index = input._data.shape[d], int(index)
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    return _basic(input, (slice(None),) * d + (index,), "SelectBackward0")


# --- in-place view ops: the tensor itself takes the view's layout -------------------------------
def _inplace_view(name: str, fn, backward_name):
    def method(self: Tensor, *args) -> Tensor:
        from ._inplace import check_leaf

        if self._requires_grad:
            check_leaf(self)
        out = fn(self, *args)
        self._data = out._data
        if out._grad_fn is not None:
            out._grad_fn._name = backward_name(args)
            self._grad_fn, self._output_nr = out._grad_fn, out._output_nr
        self._vc[0] += 1
        if self._base is not None:
            prev = self._view_fn
            self._view_fn = lambda b: fn(prev(b), *args)
            self._view_ver = self._vc[0]  # its node is the one just made, not a stale one
        return self

    method.__name__ = name
    return method


squeeze_ = _inplace_view("squeeze_", squeeze, lambda a: "SqueezeBackward3" if not a else
                         "SqueezeBackward4" if isinstance(a[0], int) else "SqueezeBackward5")
unsqueeze_ = _inplace_view("unsqueeze_", unsqueeze, lambda a: "UnsqueezeBackward1")
t_ = _inplace_view("t_", t, lambda a: "TBackward1")
transpose_, swapaxes_, swapdims_ = (_inplace_view(_n, transpose, lambda a: "TransposeBackward1")
                                    for _n in ("transpose_", "swapaxes_", "swapdims_"))


def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """Same as torch.Tensor.resize_: keeps the leading elements (new ones are uninitialised)."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _shape_arg(sizes, "resize_")
    n, flat = math.prod(shape), self._data.reshape(-1)
    if n > flat.size:
        grown = self._device.xp.empty(n, flat.dtype)
        grown[:flat.size] = flat
        flat = grown
    self._data = flat[:n].reshape(shape)
    self._vc[0] += 1
    return self


