"""Tensor's methods, properties and Python operators in one table: name -> function.

``_tensor.py`` declares what a tensor is (array, device, autograd metadata, the Python protocol);
everything else torch.Tensor has is listed here, grouped by kind, and set on ``Tensor`` once by
``install()`` at the end of ``ndgrad/__init__.py``, after every module that defines them is
loaded. The op modules only define functions; a new method is one line here.

Rules that keep the table short: ``_same(module, "a b")`` is ``{"a": module.a, "b": module.b}``
(the method is the function of the same name); ``_with_inplace`` adds each in-place twin
``name_`` the module defines beside ``name`` (``inplace(self, name, ...)``); ``_inplace`` makes one
by that rule where the module has none. Methods whose arguments differ from the function's (torch
puts ``self`` elsewhere, or takes sizes unpacked) are the named functions above the table.
"""

from __future__ import annotations

import inspect

from . import _creation, _misc, _nn_top, _nostorage_dtypes, _predicates, _tensor_extras, random
from ._ops import (binary, combinatorics, compare, convert, copies, elementwise, factories, gather,
                   histogram, index_reduce, indexing, movement, numeric, pointwise, reduce, scan,
                   shape, sorting, spectral, split, stats, strided, unary)
from ._argcheck import numpy_names
from ._ops._inplace import inplace
from ._ops.linalg import _contractions as contractions
from ._ops.linalg import _diagonal as diagonal  # (the package's `diagonal` is the function)
from ._ops.linalg import _extras as extras
from ._ops.linalg import _factorizations as factorizations
from ._ops.linalg import _householder as householder
from ._ops.linalg import _matfuncs as matfuncs
from ._ops.linalg import norms
from ._ops.linalg import _products as products
from ._ops.linalg import _solvers as solvers
from ._ops.linalg import _stats as linalg_stats
from ._ops.linalg import _triangular as triangular
from ._tensor import Tensor
from .autograd import engine
from .nn._functional import activation
from .sparse import _ops as sparse
from .special import _top as special


def _same(module, names: str) -> dict:
    return {n: getattr(module, n) for n in names.split()}


def _with_inplace(module, names: str) -> dict:
    return {m: getattr(module, m) for n in names.split() for m in (n, n + "_")}


def _table(*parts: dict) -> dict:
    out: dict = {}
    for part in parts:
        twice = out.keys() & part.keys()
        assert not twice, f"in the table twice: {sorted(twice)}"
        out.update(part)
    return out


def _inplace(fn):
    def method(self, *args, **kw):
        return inplace(self, fn, *args, **kw)

    method.__name__ = fn.__name__ + "_"
    return method


# --- methods whose arguments differ from the function's ------------------------------------------
def where(self, condition, other):
    return elementwise.where(condition, self, other)


def polygamma(self, n):
    return unary.polygamma(n, self)


def polygamma_(self, n):
    return inplace(self, lambda t: unary.polygamma(n, t))


def sum_to_size(self, *size):
    return reduce.sum_to_size(
        self, size[0] if len(size) == 1 and not isinstance(size[0], int) else size)


def view_as(self, other):
    return movement.view(self, other.shape)


def reshape_as(self, other):
    return movement.reshape(self, other.shape)


def expand_as(self, other):
    return movement.expand(self, other.shape)


def resize_as_(self, other, memory_format=None):
    return movement.resize_(self, other.shape)


def type_as(self, other):
    return convert.to(self, other.dtype)


def __rmatmul__(self, other):
    return products.matmul(other, self)


def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    return _misc.norm(self, p, dim, keepdim, dtype)


def bernoulli(self, p=None, *, generator=None):
    return random.bernoulli(self, p, generator=generator)


def multinomial(self, num_samples, replacement=False, *, generator=None):
    return random.multinomial(self, num_samples, replacement, generator=generator)


def i0(self):
    return special.i0(self)


def igamma(self, other):
    return special.igamma(self, other)


def igammac(self, other):
    return special.igammac(self, other)


def mvlgamma(self, p):
    return special.mvlgamma(self, p)


def to_sparse_coo(self):
    return sparse.to_sparse(self)


def sparse_dim(self):
    return 0  # a strided tensor: all its dims are dense


def dense_dim(self):
    return self.ndim


def const_data_ptr(self):
    return self.data_ptr()


def is_distributed(self):
    return False


def _mH(self):
    if self.ndim < 2 or not self.is_complex():
        return movement._mT(self, "mH")
    return movement.adjoint(self)


def _name(self):
    return None  # torch's named-tensor name: none


def _grad_dtype(self):
    return self.dtype


# --- the table -----------------------------------------------------------------------------------
METHODS: dict = _table(
    # arithmetic (torch's aliases: subtract, multiply, divide, true_divide, arctan2)
    _with_inplace(elementwise, "add sub mul div true_divide floor_divide remainder fmod pow "
                               "float_power square subtract multiply divide masked_fill"),
    _same(elementwise, "conj"),
    {"where": where},
    _with_inplace(binary, "atan2 arctan2 hypot copysign xlogy heaviside bitwise_left_shift "
                          "bitwise_right_shift"),
    _same(binary, "maximum minimum fmax fmin logaddexp logaddexp2"),
    _with_inplace(numeric, "gcd lcm ldexp nextafter"),
    _same(numeric, "frexp signbit angle"),
    _with_inplace(pointwise, "clamp clamp_min clamp_max clip lerp addcmul addcdiv nan_to_num "
                             "logit deg2rad rad2deg"),
    # comparisons, logical and bitwise (aliases: greater, greater_equal, less, ...)
    _with_inplace(compare, "eq ne lt le gt ge logical_and logical_or logical_xor logical_not "
                           "bitwise_and bitwise_or bitwise_xor bitwise_not greater "
                           "greater_equal less less_equal not_equal"),
    _same(pointwise, "isnan isinf isfinite isposinf isneginf isreal isclose allclose equal"),
    # unary math (aliases: negative, arcsin, ..., absolute, fix)
    _with_inplace(unary, "neg negative sin cos tan asin acos atan sinh cosh tanh asinh acosh "
                         "atanh arcsin arccos arctan arcsinh arccosh arctanh exp exp2 expm1 log "
                         "log2 log10 log1p sqrt rsqrt reciprocal sigmoid relu abs absolute erf "
                         "erfc erfinv lgamma digamma floor ceil trunc fix round sign sgn sinc "
                         "frac"),
    _same(unary, "positive"),
    {"polygamma": polygamma, "polygamma_": polygamma_, "i0": i0, "i0_": special.i0_},
    {"igamma": igamma, "igamma_": _inplace(special.igamma)},
    {"igammac": igammac, "igammac_": _inplace(special.igammac)},
    {"mvlgamma": mvlgamma, "mvlgamma_": _inplace(special.mvlgamma)},
    {"softmax": activation._tensor_softmax, "log_softmax": activation._tensor_log_softmax},
    _same(_nn_top, "prelu hardshrink"),
    # reductions, scans, statistics, sorting
    _same(reduce, "sum mean nansum nanmean prod max min amax amin aminmax argmax argmin var std "
                  "logsumexp all any count_nonzero"),
    _same(norms, "dist"),
    {"sum_to_size": sum_to_size},
    _with_inplace(scan, "cumsum cumprod"),
    _same(scan, "cummax cummin logcumsumexp diff"),
    _same(stats, "trace histc bincount"),
    _same(linalg_stats, "cov corrcoef"),
    _same(histogram, "histogram"),
    _same(sorting, "sort argsort msort topk kthvalue median nanmedian mode quantile nanquantile "
                   "unique unique_consecutive"),
    # shape and views (aliases: swapaxes, swapdims, moveaxis, broadcast_to)
    _same(movement, "reshape view flatten unflatten permute transpose swapaxes swapdims t "
                    "adjoint movedim moveaxis expand squeeze unsqueeze narrow select resize_ "
                    "squeeze_ unsqueeze_ t_ transpose_ swapaxes_ swapdims_"),
    {"broadcast_to": movement.expand, "view_as": view_as, "reshape_as": reshape_as,
     "expand_as": expand_as, "resize_as_": resize_as_},
    _same(shape, "repeat tile repeat_interleave fliplr flipud roll rot90 tril triu "
                 "fill_diagonal_"),
    {"flip": shape._flip_method},
    _same(split, "split split_with_sizes chunk tensor_split hsplit vsplit dsplit unbind unfold"),
    _same(strided, "as_strided as_strided_ select_scatter slice_scatter diagonal_scatter "
                   "as_strided_scatter"),
    _same(copies, "narrow_copy unsafe_chunk unsafe_split unsafe_split_with_sizes "
                  "nonzero_static"),
    _same(_misc, "ravel"),
    # indexing, gather and scatter
    _same(indexing, "index_put_ index_put"),
    _same(gather, "gather scatter scatter_ scatter_add scatter_add_ scatter_reduce "
                  "scatter_reduce_ take_along_dim index_select index_add index_add_ index_copy "
                  "index_copy_ index_fill index_fill_ masked_select masked_scatter "
                  "masked_scatter_ nonzero argwhere take put_"),
    {"put": gather._put_method},
    _with_inplace(index_reduce, "index_reduce"),
    # linear algebra (alias: ger)
    _same(products, "matmul mm mv bmm dot vdot outer ger addmm addmv baddbmm addbmm"),
    {f.__name__ + "_": _inplace(f) for f in (products.addmm, products.addmv, products.baddbmm,
                                             products.addbmm)},
    _same(contractions, "inner kron cross"),
    _same(diagonal, "diagonal diag_embed diag"),
    _same(combinatorics, "diagflat"),
    _with_inplace(extras, "addr renorm"),
    _same(extras, "eig lstsq solve symeig"),
    _same(factorizations, "cholesky qr svd"),
    _same(householder, "geqrf orgqr ormqr"),
    _same(matfuncs, "det slogdet logdet matrix_power matrix_exp"),
    _same(solvers, "inverse pinverse"),
    _same(triangular, "cholesky_solve cholesky_inverse triangular_solve lu lu_solve"),
    {"norm": norm},
    _same(spectral, "stft istft"),
    # dtype, device and copies (float, double, ..., cdouble cast to that dtype)
    _same(convert, "clone contiguous to cpu cuda pin_memory is_pinned"),
    {"type": convert._type, "type_as": type_as, "chalf": _nostorage_dtypes._chalf},
    {name: convert._caster(name, dt) for name, dt in convert.CASTS.items()},
    # creation and filling
    _same(_creation, "new new_full new_tensor zero_ fill_ copy_"),
    {"new_" + f.__name__: _creation._new(f)
     for f in (_creation.zeros, _creation.ones, _creation.empty)},
    _same(factories, "new_empty_strided"),
    # random fills and draws
    _same(random, "uniform_ normal_ exponential_ geometric_ cauchy_ log_normal_ bernoulli_ "
                  "random_"),
    {"bernoulli": bernoulli, "multinomial": multinomial},
    # predicates and metadata
    _same(_predicates, "is_signed is_same_size is_conj is_neg resolve_conj resolve_neg"),
    _same(_tensor_extras, "conj_physical conj_physical_ tril_ triu_ get_device is_inference "
                          "is_nonzero dim_order is_set_to to_dense to_padded_tensor resize "
                          "resize_as set_ as_subclass hash_tensor"),
    {"const_data_ptr": const_data_ptr, "is_distributed": is_distributed},
    # sparse COO: a strided tensor converts, and refuses the sparse-only methods
    _same(sparse, "to_sparse"),
    {"to_sparse_coo": to_sparse_coo, "sparse_dim": sparse_dim, "dense_dim": dense_dim,
     "_nnz": sparse._nnz_refusal},
    {n: sparse._dense_refusal(n)
     for n in ("coalesce", "is_coalesced", "indices", "values", "_indices", "_values")},
    # autograd
    {"backward": engine._tensor_backward},
    _same(_tensor_extras, "register_post_accumulate_grad_hook"),
)

PROPERTIES: dict = {
    "real": strided.real, "imag": strided.imag,
    "T": movement._T, "mT": movement._mT, "H": movement._H, "mH": _mH,
    "name": _name, "grad_dtype": _grad_dtype, "volatile": _tensor_extras._volatile,
    "_post_accumulate_grad_hooks": _tensor_extras._post_hooks,
}

# Python's operators: a forward one returns NotImplemented for an operand torch rejects (Python
# then raises); + - * / go straight to binary() (the hottest calls in training loops).
_fast, _binop, _in = compare._fast, compare._binop, compare._inplace_op
OPERATORS: dict = {
    "__add__": _fast(elementwise.Add), "__radd__": _binop(elementwise.add, True),
    "__iadd__": _in(elementwise.add),
    "__sub__": _fast(elementwise.Sub), "__rsub__": _binop(elementwise.rsub),
    "__isub__": _in(elementwise.sub),
    "__mul__": _fast(elementwise.Mul), "__rmul__": _binop(elementwise.mul, True),
    "__imul__": _in(elementwise.mul),
    "__truediv__": _fast(elementwise.Div), "__rtruediv__": _binop(compare._rtruediv),
    "__itruediv__": _in(elementwise.div),
    "__floordiv__": _binop(elementwise.floor_divide),
    "__rfloordiv__": _binop(elementwise.floor_divide, True),
    "__ifloordiv__": _in(elementwise.floor_divide),
    "__mod__": _binop(elementwise.remainder), "__rmod__": _binop(elementwise.remainder, True),
    "__imod__": _in(elementwise.remainder),
    "__pow__": _binop(elementwise.pow), "__rpow__": _binop(elementwise.pow, True),
    "__ipow__": _in(elementwise.pow),
    "__matmul__": products.matmul, "__rmatmul__": __rmatmul__,
    "__neg__": unary.neg, "__pos__": unary.positive, "__abs__": unary.abs,
    "__invert__": compare._invert,
    **{f"__{n}__": _binop(getattr(compare, n)) for n in ("eq", "ne", "lt", "le", "gt", "ge")},
    "__and__": _binop(compare.bitwise_and), "__rand__": _binop(compare.bitwise_and, True),
    "__iand__": _in(compare.bitwise_and),
    "__or__": _binop(compare.bitwise_or), "__ror__": _binop(compare.bitwise_or, True),
    "__ior__": _in(compare.bitwise_or),
    "__xor__": _binop(compare.bitwise_xor), "__rxor__": _binop(compare.bitwise_xor, True),
    "__ixor__": _in(compare.bitwise_xor),
    "__lshift__": _binop(binary.bitwise_left_shift),
    "__rlshift__": _binop(binary.bitwise_left_shift, True),
    "__ilshift__": _in(binary.bitwise_left_shift),
    "__rshift__": _binop(binary.bitwise_right_shift),
    "__rrshift__": _binop(binary.bitwise_right_shift, True),
    "__irshift__": _in(binary.bitwise_right_shift),
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem,
    "__init__": _creation.legacy_init,  # Tensor(data): torch's legacy constructor
}


# torch implements these in Python (torch/_tensor.py): NumPy's spellings are not theirs
_PYTHON_IN_TORCH = frozenset("norm split unflatten unique unique_consecutive".split())


def _numpy_spellings(name: str, fn):
    """``fn`` taking ``axis``/``keepdims`` for ``dim``/``keepdim`` as torch's native methods do
    (t.sum(axis=0, keepdims=True)); the renaming runs only when a call fails."""
    code = getattr(inspect.unwrap(fn), "__code__", None)  # (out_arg's wrapper: the op's own)
    if code is None or name in _PYTHON_IN_TORCH:
        return fn
    params = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    return numpy_names(fn) if "dim" in params or "keepdim" in params else fn


def install() -> None:
    """Set every method, property and operator of the table on Tensor (once, at import)."""
    _table(METHODS, PROPERTIES, OPERATORS)
    METHODS.update((name, _numpy_spellings(name, fn)) for name, fn in METHODS.items())
    for name, fn in (*METHODS.items(), *OPERATORS.items()):
        setattr(Tensor, name, fn)
    for name, fn in PROPERTIES.items():
        setattr(Tensor, name, property(fn))
