"""Same as torch.fft: discrete Fourier transforms with gradients.

Three primitives (complex-to-complex, real-to-half-complex and back) over xp.fft; padding and
trimming to a requested size happen outside them, so their adjoints are transforms of the
same kind in the opposite direction with the dual normalisation. Each backward is made of those
primitives and tensor ops, so it is differentiable again. The Hermitian transforms are the
real ones of the conjugate with the dual normalisation: hfft(x) = irfft(conj(x)) and
ihfft(x) = conj(rfft(x)), each scaled the other way."""

from __future__ import annotations

from ._errors import no_dims_error, not_implemented
from . import _dtype as D
from ._dtype import torch_type_name
from ._ops.movement import cat
from ._tensor import Tensor, wrap_dim, wrap_dims
from .autograd.node import named as _named
from .autograd.op import Op
from .autograd.torch_saves import saves

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft", "ifft2",
           "ifftn", "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2", "irfftn", "rfft",
           "rfft2", "rfftfreq", "rfftn"]

# the adjoint of a transform scaled by 1 is one scaled by 1/n the other way, and vice versa
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


class FftC2C(Op):
    __slots__ = ()

    def forward(ctx, a, axes, forward, norm):
        ctx.args = (axes, forward, norm)
        fn = ctx.xp.fft.fftn if forward else ctx.xp.fft.ifftn
        return _complex(ctx.xp, fn(a, axes=axes, norm=norm), a)

    def backward(ctx, g):
        axes, forward, norm = ctx.args
        return _c2c(g, axes, not forward, _DUAL[norm])


class FftR2C(Op):
    """The onesided transform: the last axis keeps n // 2 + 1 frequencies."""

    __slots__ = ()

    def forward(ctx, a, axes, norm):
        ctx.args = (axes, norm, a.shape[axes[-1]])
        return _complex(ctx.xp, ctx.xp.fft.rfftn(a, axes=axes, norm=norm), a)

    def backward(ctx, g):
        # zero-fill the dropped half, then the inverse complex transform's real part
        axes, norm, n = ctx.args
        return _c2c(_pad(g, axes[-1], n), axes, False, _DUAL[norm]).real


class FftC2R(Op):
    """The inverse of the onesided transform; ``n`` is the output length of the last axis."""

    __slots__ = ()

    def forward(ctx, a, axes, norm, n):
        ctx.args = (axes, norm, n)
        s = [a.shape[ax] for ax in axes[:-1]] + [n]
        return ctx.xp.fft.irfftn(a, s=s, axes=axes, norm=norm).astype(
            ctx.xp.finfo(a.dtype).dtype, copy=False)  # NumPy 1.x computes in double

    def backward(ctx, g):
        # the onesided forward transform, with the bins that stand for two (their mirror images
        # were dropped) counted twice: indices 1 .. n - n // 2 - 1
        axes, norm, n = ctx.args
        gi = _r2c(g, axes, _DUAL[norm])
        twice = n - gi.shape[axes[-1]]
        if twice <= 0:
            return gi
        ax = axes[-1]
        return cat([gi.narrow(ax, 0, 1), gi.narrow(ax, 1, twice) * 2,
                    gi.narrow(ax, 1 + twice, gi.shape[ax] - 1 - twice)], ax)


def _complex(xp, out, a):
    """The complex dtype of ``a``'s precision: NumPy 1.x's fft gives complex128 for float32."""
    return out.astype(xp.result_type(a.dtype, xp.complex64), copy=False)


# a real input's complex transform, as torch names it (forward: r2c; backward: a conj)
_RealC2C = {True: FftC2C.named("FftR2CBackward0"), False: FftC2C.named("ConjBackward0")}


def _c2c(x, axes, forward, norm):
    if x.is_complex():
        return FftC2C.apply(x, tuple(axes), forward, norm)
    out = _RealC2C[bool(forward)].apply(x, tuple(axes), forward, norm)
    # torch's 1-d transform of a real input is _fft_r2c, whose node saves it (fftn converts)
    return saves(out, x) if len(axes) == 1 else out


def _r2c(x, axes, norm):
    return saves(FftR2C.apply(x, tuple(axes), norm), x)  # (as torch's FftR2CBackward0)


def _pad(x, ax, n):
    """Zero-pad (or trim) axis ``ax`` of ``x`` to length ``n``."""
    have = x.shape[ax]
    if have >= n:
        return x.narrow(ax, 0, n) if have > n else x
    shape = list(x.shape)
    shape[ax] = n - have
    return cat([x, Tensor._make(x._device.xp.zeros(shape, x._data.dtype), x._device)], ax)


def _prepare(x, norm, real_only=False, name=""):
    """torch's dtype rules: integers and bools become the default float; no half precision."""
    if norm is None:
        norm = "backward"
    if norm not in _DUAL:
        raise RuntimeError(f"Invalid normalization mode: \"{norm}\"")
    if x.dtype in (D.float16, D.bfloat16):
        raise RuntimeError(f"Unsupported dtype {torch_type_name(x.dtype)}")
    if real_only and x.is_complex():
        raise RuntimeError(f"{name} expects a real input tensor, but got "
                           f"{torch_type_name(x.dtype)}")
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(D.get_default_dtype())
    return x, norm


def _axes_sizes(x, s, dim, default_all):
    """Resolve (s, dim) as torch.fft.fftn does: dims unique; s pads or trims each."""
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > x.ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{x.ndim} dimensions.")
        dims = list(range(-len(s), 0))
    else:
        dims = list(range(x.ndim)) if default_all else [-2, -1]
    axes = list(wrap_dims(dims, x.ndim)) if x.ndim else [wrap_dim(d, 0) for d in dims]
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    sizes = [x.shape[a] if s is None or s[i] == -1 else s[i] for i, a in enumerate(axes)]
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return axes, sizes


def _1d(x, n, dim):
    if x.ndim == 0:
        raise no_dims_error(dim)
    return _axes_sizes(x, None if n is None else [n], [dim], False)


def _c2c_n(x, s, dim, norm, forward, default_all=False):
    axes, sizes = _axes_sizes(x, s, dim, default_all) if not isinstance(dim, int) else \
        _1d(x, None if s is None else s[0], dim)  # (torch checks the dims before the dtype)
    x, norm = _prepare(x, norm)
    for a, n in zip(axes, sizes):
        x = _pad(x, a, n)
    return _c2c(x, axes, forward, norm)


def fft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.fft."""
    return _c2c_n(input, None if n is None else [n], dim, norm, True)


def ifft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.ifft."""
    return _c2c_n(input, None if n is None else [n], dim, norm, False)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.fft2."""
    return _c2c_n(input, s, dim, norm, True)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.ifft2."""
    return _c2c_n(input, s, dim, norm, False)


def fftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.fftn."""
    return _c2c_n(input, s, dim, norm, True, default_all=True)


def ifftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.ifftn."""
    return _c2c_n(input, s, dim, norm, False, default_all=True)


def rfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.rfft."""
    (ax,), (m,) = _1d(input, n, dim)
    x, norm = _prepare(input, norm, True, "rfft")
    return _r2c(_pad(x, ax, m), [ax], norm)


def irfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.irfft."""
    return _c2r_n(input, None if n is None else [n], dim, norm)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.irfft2."""
    return _c2r_n(input, s, dim, norm, "irfftn")


def irfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.irfftn."""
    return _c2r_n(input, s, dim, norm, "irfftn")


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.rfft2."""
    return _r2c_n(input, s, dim, norm, "rfftn")


def rfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.rfftn."""
    return _r2c_n(input, s, dim, norm, "rfftn")


def hfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.hfft."""
    return _c2r_n(input, None if n is None else [n], dim, norm, hermitian=True)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.hfft2."""
    return _c2r_n(input, s, dim, norm, "hfftn", True)


def hfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.hfftn."""
    return _c2r_n(input, s, dim, norm, "hfftn", True)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.ihfft."""
    (ax,), (m,) = _1d(input, n, dim)
    x, norm = _prepare(input, norm, True, "ihfft")
    return _r2c(_pad(x, ax, m), [ax], _DUAL[norm]).conj()


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.ihfft2."""
    return _ihfftn(input, s, dim, norm)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """Same as torch.fft.ihfftn."""
    return _ihfftn(input, s, dim, norm)


def _nd_axes(x, s, dim, name):
    if x.ndim == 0 and dim is None and not s:
        raise RuntimeError(f"{name} must transform at least one axis")
    return _axes_sizes(x, s, dim, True) if not isinstance(dim, int) else \
        _1d(x, None if s is None else s[0], dim)


def _r2c_n(x, s, dim, norm, name):
    if x.is_complex():
        raise RuntimeError(f"{name} expects a real-valued input tensor, but got "
                           f"{torch_type_name(x.dtype)}")
    axes, sizes = _nd_axes(x, s, dim, name)
    x, norm = _prepare(x, norm)
    for a, n in zip(axes, sizes):
        x = _pad(x, a, n)
    return _r2c(x, axes, norm)


def _ihfftn(x, s, dim, norm):
    """conj(rfftn(x)) scaled the other way: the onesided transform of the last axis (dual
    normalisation), conjugated, then the inverse complex transform of the others."""
    axes, sizes = _nd_axes(x, s, dim, "ihfftn")
    if x.is_complex():
        raise RuntimeError(f"Only supports floating-point dtypes, but found: "
                           f"{torch_type_name(x.dtype)}")
    x, norm = _prepare(x, norm)
    for a, n in zip(axes, sizes):
        x = _pad(x, a, n)
    res = _r2c(x, axes[-1:], _DUAL[norm]).conj()
    if len(axes) == 1:
        return res
    return _c2c(_named(res, "ConjPhysicalBackward0"), axes[:-1], False, norm)


def _c2r_n(x, s, dim, norm, name=None, hermitian=False):
    """irfftn (hfftn: of the conjugate, with the dual normalisation): the last axis gives
    ``s[-1]`` real points (default 2 * (size - 1)) from its first s[-1] // 2 + 1 bins; without
    ``name``, the 1-D transform with ``s`` = [n]."""
    axes, sizes = _nd_axes(x, s, dim, name) if name else \
        _1d(x, None if s is None else s[0], dim)
    x, norm = _prepare(x, norm)
    if s is None or s[-1] == -1:
        sizes[-1] = 2 * (x.shape[axes[-1]] - 1)
        if sizes[-1] < 1:
            raise RuntimeError(f"Invalid number of data points ({sizes[-1]}) specified")
    m = sizes[-1]
    if not x.is_complex():
        x = x.to(D.complex128 if x.dtype is D.float64 else D.complex64)
    for a, n in zip(axes, sizes[:-1] + [m // 2 + 1]):
        x = _pad(x, a, n)
    if hermitian:
        x, norm = x.conj(), _DUAL[norm]
    return FftC2R.apply(x, tuple(axes), norm, m)


def fftshift(input, dim=None) -> Tensor:
    """Same as torch.fft.fftshift."""
    return _shift(input, dim, 0)


def ifftshift(input, dim=None) -> Tensor:
    """Same as torch.fft.ifftshift."""
    return _shift(input, dim, 1)


def _shift(x, dim, up):
    from ._ops.shape import roll

    dims = list(range(x.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    return roll(x, [(x.shape[d] + up) // 2 for d in dims], dims)


def _freq_dtype(dtype, out, name):
    """torch's checks: the dtype (out's where out= is given) is floating; arange has no complex."""
    dtype = dtype or (out.dtype if out is not None else D.get_default_dtype())
    if dtype.is_complex:
        raise not_implemented("arange_cpu", dtype)
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} requires a floating point or complex dtype")
    return dtype


def fftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Same as torch.fft.fftfreq."""
    from ._creation import arange
    from ._ops._out import _out

    idx = arange(n, dtype=_freq_dtype(dtype, out, "fftfreq"), device=device)
    half = (n + 1) // 2
    res = (idx - (idx >= half).to(idx.dtype) * n) * (1.0 / (n * d)) if n else idx
    return _out(res.detach().requires_grad_(requires_grad), out, "fftfreq")


def rfftfreq(n: int, d: float = 1.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """Same as torch.fft.rfftfreq."""
    from ._creation import arange
    from ._ops._out import _out

    res = arange(n // 2 + 1, dtype=_freq_dtype(dtype, out, "rfftfreq"), device=device)
    return _out((res * (1.0 / (n * d))).detach().requires_grad_(requires_grad), out, "rfftfreq")

def _writes_out(fn):
    """torch's out=: the result is computed, then written (and cast within its kind) into out."""
    import functools

    from ._ops._out import _out

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        res = fn(*args, **kwargs)
        if out is not None and out.is_complex() != res.is_complex():  # no real <-> complex
            kind = "complex" if res.is_complex() else "floating point"
            raise RuntimeError(f"{fn.__name__} expects a {kind} output tensor, but got "
                               f"{torch_type_name(out.dtype)}")
        return _out(res, out, fn.__name__)

    return wrapper


for _name in __all__:
    if _name not in ("fftshift", "ifftshift", "fftfreq", "rfftfreq"):
        globals()[_name] = _writes_out(globals()[_name])
del _name
