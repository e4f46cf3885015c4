"""Pointwise primitives: unary math, binary arithmetic with PyTorch's promotion, comparisons."""

from __future__ import annotations

import math

from .. import _dtype as D
from .._backend import special
from .._tensor import Tensor, tensor_method
from ..autograd.function import Op
from ._inplace import inplace

_HALF = (D.float16.np, D.bfloat16.np)


def _float_dtype(a):
    """Ints and bools go to the default float dtype, as torch's float ops do."""
    k = a.dtype.kind
    if k in "iub":
        return D.get_default_dtype().np
    return None


def _compute(xp, fn, a):
    """Half precision computed in float32 and rounded back, as torch does on CPU."""
    if a.dtype in _HALF:
        return fn(xp, a.astype(xp.float32)).astype(a.dtype)
    return fn(xp, a)


def unary(name: str, fwd, grad=None, *, saves="input", floating=True):
    """Declare a unary primitive: ``fwd(xp, a)`` on arrays and ``grad(a, out, g)`` on tensors."""

    def forward(ctx, a):
        if floating:
            dt = _float_dtype(a)
            if dt is not None:
                a = a.astype(dt)
        out = _compute(ctx.xp, fwd, a)
        if ctx.needs_input_grad[0]:
            ctx.save(a if saves == "input" else out)
        return out

    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return grad(s, g)

    cls = type(name, (Op,), {"forward": forward, "backward": backward, "__slots__": ()})
    return cls


# name: (array forward, gradient from the saved input or output). `saves="output"` marks the ones
# whose derivative is cheapest from the result (exp, sigmoid, tanh, sqrt).
Neg = unary("Neg", lambda xp, a: -a, lambda a, g: -g, floating=False)
Sin = unary("Sin", lambda xp, a: xp.sin(a), lambda a, g: g * a.cos())
Cos = unary("Cos", lambda xp, a: xp.cos(a), lambda a, g: -g * a.sin())
Tan = unary("Tan", lambda xp, a: xp.tan(a), lambda y, g: g * (1 + y * y), saves="output")
Asin = unary("Asin", lambda xp, a: xp.arcsin(a), lambda a, g: g * (1 - a * a).rsqrt())
Acos = unary("Acos", lambda xp, a: xp.arccos(a), lambda a, g: -g * (1 - a * a).rsqrt())
Atan = unary("Atan", lambda xp, a: xp.arctan(a), lambda a, g: g / (1 + a * a))
Sinh = unary("Sinh", lambda xp, a: xp.sinh(a), lambda a, g: g * a.cosh())
Cosh = unary("Cosh", lambda xp, a: xp.cosh(a), lambda a, g: g * a.sinh())
Tanh = unary("Tanh", lambda xp, a: xp.tanh(a), lambda y, g: g * (1 - y * y), saves="output")
Asinh = unary("Asinh", lambda xp, a: xp.arcsinh(a), lambda a, g: g * (a * a + 1).rsqrt())
Acosh = unary("Acosh", lambda xp, a: xp.arccosh(a), lambda a, g: g * (a * a - 1).rsqrt())
Atanh = unary("Atanh", lambda xp, a: xp.arctanh(a), lambda a, g: g / (1 - a * a))
Exp = unary("Exp", lambda xp, a: xp.exp(a), lambda y, g: g * y, saves="output")
Exp2 = unary("Exp2", lambda xp, a: xp.exp2(a), lambda y, g: g * y * math.log(2), saves="output")
Expm1 = unary("Expm1", lambda xp, a: xp.expm1(a), lambda y, g: g * (y + 1), saves="output")
Log = unary("Log", lambda xp, a: xp.log(a), lambda a, g: g / a)
Log2 = unary("Log2", lambda xp, a: xp.log2(a), lambda a, g: g / (a * math.log(2)))
Log10 = unary("Log10", lambda xp, a: xp.log10(a), lambda a, g: g / (a * math.log(10)))
Log1p = unary("Log1p", lambda xp, a: xp.log1p(a), lambda a, g: g / (a + 1))
Sqrt = unary("Sqrt", lambda xp, a: xp.sqrt(a), lambda y, g: g / (2 * y), saves="output")
Rsqrt = unary("Rsqrt", lambda xp, a: 1 / xp.sqrt(a), lambda y, g: -0.5 * g * y ** 3,
              saves="output")
Reciprocal = unary("Reciprocal", lambda xp, a: 1 / a, lambda y, g: -g * y * y, saves="output")
Sigmoid = unary("Sigmoid", lambda xp, a: _sigmoid(xp, a), lambda y, g: g * y * (1 - y),
                saves="output")
Relu = unary("Relu", lambda xp, a: xp.maximum(a, 0).astype(a.dtype),
             lambda y, g: g * (y > 0), saves="output", floating=False)
Abs = unary("Abs", lambda xp, a: xp.abs(a), lambda a, g: g * a.sgn(), floating=False)
Erf = unary("Erf", lambda xp, a: special(xp, "erf")(a),
            lambda a, g: g * (2 / math.sqrt(math.pi)) * (-a * a).exp())
Erfc = unary("Erfc", lambda xp, a: special(xp, "erfc")(a),
             lambda a, g: -g * (2 / math.sqrt(math.pi)) * (-a * a).exp())
Erfinv = unary("Erfinv", lambda xp, a: special(xp, "erfinv")(a),
               lambda y, g: g * (math.sqrt(math.pi) / 2) * (y * y).exp(), saves="output")
Lgamma = unary("Lgamma", lambda xp, a: special(xp, "lgamma")(a), lambda a, g: g * a.digamma())
Digamma = unary("Digamma", lambda xp, a: special(xp, "digamma")(a),
                lambda a, g: g * _polygamma1(a))


def _sigmoid(xp, a):
    # exp of a non-positive number only, so large |a| neither overflows nor loses precision
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype)


def _polygamma1(a):
    from .. import _ops

    raise NotImplementedError("the derivative of digamma (polygamma(1)) is not implemented")


# Functions whose gradient is zero almost everywhere: no graph.
def _nograd(name: str, fwd, keep_int=True):
    class Rounding(Op):
        __slots__ = ()

        def forward(ctx, a):
            if keep_int and a.dtype.kind in "iub":
                return a.copy()
            return _compute(ctx.xp, fwd, a)

        def backward(ctx, g):
            return g * 0

    Rounding.__name__ = Rounding.__qualname__ = name
    return Rounding


Floor = _nograd("Floor", lambda xp, a: xp.floor(a))
Ceil = _nograd("Ceil", lambda xp, a: xp.ceil(a))
Trunc = _nograd("Trunc", lambda xp, a: xp.trunc(a))
Sign = _nograd("Sign", lambda xp, a: xp.sign(a))


class Round(Op):
    __slots__ = ()

    def forward(ctx, a, decimals=0):
        if a.dtype.kind in "iub":
            return a.copy()
        return _compute(ctx.xp, lambda xp, x: xp.round(x, decimals), a)

    def backward(ctx, g):
        return g * 0


class Sgn(Op):
    """sign for reals, z/|z| for complex numbers."""

    __slots__ = ()

    def forward(ctx, a):
        xp = ctx.xp
        if a.dtype.kind != "c":
            return xp.sign(a)
        m = xp.abs(a)
        return xp.where(m == 0, 0, a / xp.where(m == 0, 1, m)).astype(a.dtype)

    def backward(ctx, g):
        return g * 0


# --- binary ops ---------------------------------------------------------------------------------
def _operands(a, b, dt=None):
    """Both operands as tensors/0-d arrays of the promoted dtype. Python scalars are 'weak'."""
    if dt is None:
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            if a._data.dtype is b._data.dtype:
                return a, b, None
        dt = D.result_type(a, b)
    dev = a._device if isinstance(a, Tensor) else b._device
    return _cast(a, dt, dev), _cast(b, dt, dev), dt


def _cast(x, dt, dev):
    if isinstance(x, Tensor):
        return x  # cast inside forward, so backward casts the gradient back
    return Tensor._make(dev.xp.asarray(x, dtype=dt.np), dev)


def _as(a, dt):
    return a if dt is None or a.dtype == dt.np else a.astype(dt.np)


def _broadcast_error(a, b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b "
                               f"({pb[i]}) at non-singleton dimension {i}") from None


def binary(cls, a, b, dt=None, **kw):
    """Promote, then apply; a broadcasting failure gets torch's message."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{cls.__name__.lower()}(): argument 'input' must be Tensor")
    a, b, dt = _operands(a, b, dt)
    try:
        return cls.apply(a, b, dt=dt, **kw)
    except ValueError:
        _broadcast_error(a, b)
        raise


class Add(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, alpha=1):
        a, b = _as(a, dt), _as(b, dt)
        return a + b if alpha == 1 else a + alpha * b

    def backward(ctx, g):
        return g, g


class Sub(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, alpha=1):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype == bool:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return a - b if alpha == 1 else a - alpha * b

    def backward(ctx, g):
        return g, -g


class Rsub(Sub):
    __slots__ = ()


class Mul(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        ctx.save(b if ctx.needs_input_grad[0] else None, a if ctx.needs_input_grad[1] else None)
        return a * b

    def backward(ctx, g):
        b, a = ctx.saved_tensors
        return (g * b.conj() if ctx.needs_input_grad[0] else None,
                g * a.conj() if ctx.needs_input_grad[1] else None)


class Div(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None, rounding_mode=None):
        a, b = _as(a, dt), _as(b, dt)
        if rounding_mode is None:
            if a.dtype.kind in "iub":  # true division of integers gives the default float
                f = D.get_default_dtype().np
                a, b = a.astype(f), b.astype(f)
            ctx.save(a, b)
            return a / b
        ctx.rounding = True
        if rounding_mode == "floor":
            return ctx.xp.floor_divide(a, b)
        out = ctx.xp.trunc(a / b)
        return out.astype(a.dtype) if a.dtype.kind in "iu" else out

    def backward(ctx, g):
        if getattr(ctx, "rounding", False):
            return g * 0, g * 0
        a, b = ctx.saved_tensors
        return g / b.conj(), -g * (a / (b * b)).conj()


class Pow(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind in "iu" and (b < 0).any():
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        out = _compute2(ctx.xp, lambda xp, x, y: xp.power(x, y), a, b)
        ctx.save(a, b, out)
        return out

    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g * b * a.pow(b - 1)
            ga = ga.masked_fill((b == 0) & (a == 0), 0) if ga.numel() else ga
        if ctx.needs_input_grad[1]:
            gb = g * y * a.log()
            gb = gb.masked_fill((a == 0) & (b >= 0), 0)
        return ga, gb


def _compute2(xp, fn, a, b):
    if a.dtype in _HALF:
        return fn(xp, a.astype(xp.float32), b.astype(xp.float32)).astype(a.dtype)
    return fn(xp, a, b)


class Maximum(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        ctx.save(a, b)
        return ctx.xp.maximum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        w = (a > b) + (a == b) * 0.5  # ties split the gradient, as torch does
        return g * w, g * (1 - w)


class Minimum(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        ctx.save(a, b)
        return ctx.xp.minimum(a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        w = (a < b) + (a == b) * 0.5
        return g * w, g * (1 - w)


class Atan2(Op):
    __slots__ = ()

    def forward(ctx, a, b, dt=None):
        a, b = _as(a, dt), _as(b, dt)
        if a.dtype.kind in "iub":
            f = D.get_default_dtype().np
            a, b = a.astype(f), b.astype(f)
        ctx.save(a, b)
        return _compute2(ctx.xp, lambda xp, x, y: xp.arctan2(x, y), a, b)

    def backward(ctx, g):
        a, b = ctx.saved_tensors
        d = a * a + b * b
        return g * b / d, -g * a / d


class Compare(Op):
    """Comparisons and logical ops: boolean results, no gradient."""

    __slots__ = ()

    def forward(ctx, a, b, dt=None, fn=None):
        return getattr(ctx.xp, fn)(_as(a, dt), _as(b, dt))


def _compare(fn):
    def op(input, other):
        return binary(Compare, input, other, fn=fn)

    return op


# --- public functions ---------------------------------------------------------------------------
def _unary_fn(cls, name):
    def fn(input, *, out=None):
        return cls.apply(input)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Same as torch.{name}."
    return fn


def _inplace_fn(f, name):
    def fn(input, *args, **kwargs):
        return inplace(input, f, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"In-place {name[:-1]}."
    return fn


UNARY = {"neg": Neg, "sin": Sin, "cos": Cos, "tan": Tan, "asin": Asin, "acos": Acos,
         "atan": Atan, "sinh": Sinh, "cosh": Cosh, "tanh": Tanh, "asinh": Asinh, "acosh": Acosh,
         "atanh": Atanh, "exp": Exp, "exp2": Exp2, "expm1": Expm1, "log": Log, "log2": Log2,
         "log10": Log10, "log1p": Log1p, "sqrt": Sqrt, "rsqrt": Rsqrt, "reciprocal": Reciprocal,
         "sigmoid": Sigmoid, "relu": Relu, "abs": Abs, "erf": Erf, "erfc": Erfc, "erfinv": Erfinv,
         "lgamma": Lgamma, "digamma": Digamma, "floor": Floor, "ceil": Ceil, "trunc": Trunc,
         "sign": Sign, "sgn": Sgn}
ALIASES = {"negative": "neg", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
           "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "absolute": "abs",
           "fix": "trunc"}

__all__ = []
for _name, _cls in UNARY.items():
    _f = _unary_fn(_cls, _name)
    globals()[_name] = _f
    tensor_method(_name)(_f)
    _fi = _inplace_fn(_f, _name + "_")
    globals()[_name + "_"] = _fi
    tensor_method(_name + "_")(_fi)
    __all__ += [_name, _name + "_"]
for _alias, _name in ALIASES.items():
    globals()[_alias] = globals()[_name]
    tensor_method(_alias)(globals()[_name])
    globals()[_alias + "_"] = globals()[_name + "_"]
    tensor_method(_alias + "_")(globals()[_name + "_"])
    __all__ += [_alias, _alias + "_"]


@tensor_method
def round(input, *, decimals: int = 0):
    return Round.apply(input, decimals=decimals)


@tensor_method
def round_(input, *, decimals: int = 0):
    return inplace(input, round, decimals=decimals)


@tensor_method
def add(input, other, *, alpha=1, out=None):
    if alpha != 1:
        return binary(Add, input, other, alpha=alpha)
    return binary(Add, input, other)


@tensor_method
def sub(input, other, *, alpha=1, out=None):
    if alpha != 1:
        return binary(Sub, input, other, alpha=alpha)
    return binary(Sub, input, other)


subtract = sub


def rsub(input, other, *, alpha=1):
    out = binary(Rsub, other, input, alpha=alpha)
    if out._grad_fn is not None:
        out._grad_fn._name = "RsubBackward1"
    return out


@tensor_method
def mul(input, other, *, out=None):
    return binary(Mul, input, other)


multiply = mul


@tensor_method
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{rounding_mode}'")
    return binary(Div, input, other, rounding_mode=rounding_mode)


divide = true_divide = div


@tensor_method
def floor_divide(input, other):
    return binary(Div, input, other, rounding_mode="floor")


@tensor_method
def pow(input, exponent):
    if not isinstance(input, Tensor):
        return binary(Pow, input, exponent)
    return binary(Pow, input, exponent)


float_power = None


@tensor_method
def maximum(input, other):
    return binary(Maximum, input, other)


@tensor_method
def minimum(input, other):
    return binary(Minimum, input, other)


@tensor_method
def atan2(input, other):
    return binary(Atan2, input, other)


arctan2 = atan2

eq = tensor_method("eq")(_compare("equal"))
ne = tensor_method("ne")(_compare("not_equal"))
lt = tensor_method("lt")(_compare("less"))
le = tensor_method("le")(_compare("less_equal"))
gt = tensor_method("gt")(_compare("greater"))
ge = tensor_method("ge")(_compare("greater_equal"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = tensor_method("logical_and")(_compare("logical_and"))
logical_or = tensor_method("logical_or")(_compare("logical_or"))
logical_xor = tensor_method("logical_xor")(_compare("logical_xor"))


@tensor_method
def logical_not(input):
    return Compare.apply(input, input, fn="logical_or") if False else _lnot(input)


def _lnot(input):
    return Tensor._make(input._device.xp.logical_not(input._data), input._device)


def _bitwise(fn, name):
    def op(input, other):
        a = input if isinstance(input, Tensor) else None
        if a is not None and a.is_floating_point():
            raise RuntimeError(f"\"{name}_cpu\" not implemented for "
                               f"'{_type_name(a)}'")
        return binary(Compare, input, other, fn=fn)

    return op


def _type_name(t):
    from ._inplace import torch_type_name

    return torch_type_name(t.dtype)


bitwise_and = tensor_method("bitwise_and")(_bitwise("bitwise_and", "bitwise_and"))
bitwise_or = tensor_method("bitwise_or")(_bitwise("bitwise_or", "bitwise_or"))
bitwise_xor = tensor_method("bitwise_xor")(_bitwise("bitwise_xor", "bitwise_xor"))


@tensor_method
def bitwise_not(input):
    if input.is_floating_point():
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{_type_name(input)}'")
    return Tensor._make(input._device.xp.invert(input._data), input._device)


# --- in-place arithmetic ------------------------------------------------------------------------
for _name in ("add", "sub", "mul", "div", "pow", "floor_divide", "atan2"):
    _fi = _inplace_fn(globals()[_name], _name + "_")
    globals()[_name + "_"] = _fi
    tensor_method(_name + "_")(_fi)
subtract_ = sub_
multiply_ = mul_
divide_ = true_divide_ = div_

# --- operators ----------------------------------------------------------------------------------
T = Tensor
T.__add__ = add
T.__radd__ = lambda self, other: add(other, self)
T.__iadd__ = add_
T.__sub__ = sub
T.__rsub__ = lambda self, other: rsub(self, other)
T.__isub__ = sub_
T.__mul__ = mul
T.__rmul__ = lambda self, other: mul(other, self)
T.__imul__ = mul_
T.__truediv__ = div
T.__rtruediv__ = lambda self, other: div(other, self)
T.__itruediv__ = div_
T.__floordiv__ = floor_divide
T.__rfloordiv__ = lambda self, other: floor_divide(other, self)
T.__ifloordiv__ = floor_divide_
T.__pow__ = pow
T.__rpow__ = lambda self, other: pow(other, self)
T.__ipow__ = pow_
T.__neg__ = neg
T.__pos__ = lambda self: self
T.__abs__ = abs
T.__eq__ = eq
T.__ne__ = ne
T.__lt__ = lt
T.__le__ = le
T.__gt__ = gt
T.__ge__ = ge
T.__and__ = bitwise_and
T.__rand__ = lambda self, other: bitwise_and(other, self)
T.__or__ = bitwise_or
T.__ror__ = lambda self, other: bitwise_or(other, self)
T.__xor__ = bitwise_xor
T.__rxor__ = lambda self, other: bitwise_xor(other, self)
T.__invert__ = lambda self: logical_not(self) if self.dtype is D.bool_ else bitwise_not(self)
T.__iand__ = lambda self, other: inplace(self, bitwise_and, other)
T.__ior__ = lambda self, other: inplace(self, bitwise_or, other)
T.__ixor__ = lambda self, other: inplace(self, bitwise_xor, other)
T.__hash__ = lambda self: id(self)


# --- complex parts --------------------------------------------------------------------------------
class Conj(Op):
    __slots__ = ()

    def forward(ctx, a):
        return ctx.xp.conj(a)

    def backward(ctx, g):
        return g.conj()


class Real(Op):
    __slots__ = ()

    def forward(ctx, a):
        return a.real

    def backward(ctx, g):
        return g.to(D.float32 if g.dtype is D.float32 else D.float64).to(
            D.complex64 if g.dtype is D.float32 else D.complex128)


class Imag(Op):
    __slots__ = ()

    def forward(ctx, a):
        return a.imag

    def backward(ctx, g):
        c = g.to(D.complex64 if g.dtype is D.float32 else D.complex128)
        return c * 1j


@tensor_method
def conj(input):
    return Conj.apply(input) if input.is_complex() else input


def _real(self):
    return Real.apply(self) if self.is_complex() else self


def _imag(self):
    if not self.is_complex():
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(self)


Tensor.real = property(_real)
Tensor.imag = property(_imag)
real, imag = _real, _imag


# --- selection ------------------------------------------------------------------------------------
class Where(Op):
    __slots__ = ()

    def forward(ctx, cond, a, b, dt=None):
        ctx.save(cond)
        return ctx.xp.where(cond, _as(a, dt), _as(b, dt))

    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = g.new_zeros(())
        return None, where(cond, g, zero), where(cond, zero, g)


def where(condition, input=None, other=None):
    """Same as torch.where(condition, input, other); one argument gives nonzero's tuple form."""
    if input is None and other is None:
        return tuple(Tensor._make(i, condition._device) for i in
                     condition._device.xp.nonzero(condition._data))
    if condition.dtype is not D.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype.name.capitalize()}")
    dt = D.result_type(input, other)
    dev = condition._device
    a, b = _cast(input, dt, dev), _cast(other, dt, dev)
    return Where.apply(condition, a, b, dt=dt)


Tensor.where = lambda self, condition, other: where(condition, self, other)


@tensor_method
def masked_fill(input, mask, value):
    if mask.dtype is not D.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    v = value if isinstance(value, Tensor) else Tensor._make(
        input._device.xp.asarray(value, input._data.dtype), input._device)
    out = where(mask, v.to(input.dtype), input)
    if out.shape != input.shape:
        out = out.expand(input.shape) if False else out
    if out._grad_fn is not None:
        out._grad_fn._name = "MaskedFillBackward0"
    return out


@tensor_method
def masked_fill_(input, mask, value):
    return inplace(input, masked_fill, mask, value)

__all__ += ["round", "round_", "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide",
            "true_divide", "floor_divide", "pow", "maximum", "minimum", "atan2", "arctan2", "eq",
            "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
            "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
            "bitwise_or", "bitwise_xor", "bitwise_not", "conj", "real", "imag", "where",
            "masked_fill"]
