"""Random tensors and generators that reproduce PyTorch's CPU streams (see ``_random``)."""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as D
from ._backend import CPU, device_of_array, to_device
from . import _creation
from ._creation import _leaf, _size, _size_kw, made_like
from ._errors import infer_size, not_implemented, not_tensor, torch_allocation_errors
from ._grad_mode import no_grad
from ._grad_mode import state as _grad_state
from ._dtype import torch_type_name as _type_name
from ._ops._out import write_out
from ._tensor import Tensor, _resolve_device
from .autograd.op import Op

__all__ = ["Generator", "bernoulli", "default_generator", "get_rng_state", "initial_seed",
           "manual_seed", "multinomial", "normal", "rand", "rand_like", "randint", "randint_like",
           "randn", "randn_like", "randperm", "seed", "set_rng_state"]


class Generator:
    """Same as torch.Generator: its own Mersenne Twister state, seeded like PyTorch's."""

    def __init__(self, device="cpu"):
        from ._random import Engine

        self.device = _resolve_device(device)
        self._engine = Engine()

    def manual_seed(self, seed: int) -> "Generator":
        self._engine.manual_seed(int(seed))
        return self

    def seed(self) -> int:
        return self._engine.seed()

    def initial_seed(self) -> int:
        return self._engine.initial_seed()

    def get_state(self) -> Tensor:
        return Tensor._make(self._engine.get_state(), CPU)

    def set_state(self, new_state: Tensor) -> "Generator":
        self._engine.set_state(np.asarray(new_state._data, dtype=np.uint8))
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; ``rand``/``randn``/... then match torch.manual_seed's streams."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def _engine(generator):
    return (generator or default_generator)._engine


def _float_dt(dtype, kernel: str = "check_uniform_bounds"):
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    if not (dt.is_floating_point or dt.is_complex):
        raise not_implemented(kernel, dt)
    return dt


def _complex_draw(draw, dt):
    """``draw(shape, np_dtype)`` for ``dt``; complex samples as torch draws them: the real and
    imaginary parts are consecutive draws of the real dtype (its view_as_real)."""
    if not dt.is_complex:
        return lambda s: draw(s, dt.np)
    real = dt.to_real().np
    return lambda s: draw(s + (2,), real).view(dt.np).reshape(s)


@torch_allocation_errors
def _sample(draw, size, dtype, device, requires_grad, out=None):
    """A tensor of ``draw(shape)``; into ``out`` (already checked by ``_out_dtype``) when given:
    drawn in its memory order, as torch fills it, and returned."""
    shape = _size(size)
    if out is None:
        dev = _resolve_device(device)
        return _leaf(to_device(draw(shape), dev), dev, requires_grad)
    if tuple(out.shape) == shape:
        return _into(_in_memory_order(out, lambda s, _: draw(s))(shape, None), out)
    return _into(draw(shape), out)


def _into(arr, out: Tensor) -> Tensor:
    """``arr`` written into ``out``, resized without torch's resize warning (the random
    functions call resize_ directly); returns ``out``."""
    arr = to_device(arr, out.device)
    if arr.shape == out._data.shape:
        out._data[...] = arr
    else:
        out._data = arr.astype(out.dtype.np)
    out._vc[0] += 1
    return out


def _out_dtype(name: str, out, dtype, default):
    """The dtype a random factory draws: ``out``'s when given (a different ``dtype=`` is torch's
    error), else ``dtype`` or ``default``."""
    if out is None:
        return default if dtype is None else D.to_dtype(dtype)
    if not isinstance(out, Tensor):
        raise not_tensor(name, out, "out", None)
    if dtype is not None and D.to_dtype(dtype) is not out.dtype:
        raise RuntimeError(f"dtype {_type_name(D.to_dtype(dtype))} does not match dtype of out "
                           f"parameter ({_type_name(out.dtype)})")
    if out._requires_grad and _grad_state.grad_enabled:
        raise RuntimeError("cannot resize variables that require grad" if name == "randn" else
                           f"aten::{name}(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad.")
    return out.dtype


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, **kw) -> Tensor:
    size = _size_kw("rand", size, kw)
    dt = _float_dt(_out_dtype("rand", out, dtype, None))
    draw = _complex_draw(lambda s, d: _engine(generator).rand(s, d), dt)
    return _sample(draw, size, dt, device, requires_grad, out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, **kw) -> Tensor:
    size = _size_kw("randn", size, kw)
    dt = _float_dt(_out_dtype("randn", out, dtype, None), "normal_kernel_cpu")
    # complex: each part has variance 1/2, as torch
    std = 1 / math.sqrt(2) if dt.is_complex else 1.0  # torch: std / sqrt(2)
    draw = _complex_draw(lambda s, d: _engine(generator).normal(s, 0.0, std, d), dt)
    return _sample(draw, size, dt, device, requires_grad, out)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False) -> Tensor:
    given = (low, high, size)
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=...), as mnist_forward_forward calls it
        low, high = 0, low
    if _creation._as_int(low) is None or _creation._as_int(high) is None:
        if given[2] is None or given[1] is None:  # the (high, size) form
            raise TypeError("randint(): argument 'high' (position 1) must be int, not "
                            f"{_creation.type_name(high)}")
        names = ", ".join(map(_creation.type_name, given))
        raise TypeError(f"randint() received an invalid combination of arguments - got ({names})")
    low, high = _creation._as_int(low), _creation._as_int(high)
    dt = _out_dtype("randint", out, dtype, D.int64)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    return _sample(lambda s: _engine(generator).randint(int(low), int(high), s, dt.np),
                   (size,), dt, device, requires_grad, out)


def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False) -> Tensor:
    if _creation._as_int(n) is None:
        raise TypeError("randperm(): argument 'n' (position 1) must be int, not "
                        f"{_creation.type_name(n)}")
    dt = _out_dtype("randperm", out, dtype, D.int64)
    if dt is D.bool_:
        raise not_implemented("randperm", dt)
    return _sample(lambda s: _engine(generator).randperm(int(n)).astype(dt.np), (int(n),), dt,
                   device, requires_grad, out)


# torch draws these in the memory order of a tensor laid out like ``input`` (made_like)
def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return made_like(lambda s: rand(s, dtype=dtype or input.dtype, device=device or input.device,
                                    requires_grad=requires_grad), input, memory_format)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    dt, dev = D.to_dtype(dtype or input.dtype), device or input.device
    out = made_like(lambda s: _creation.empty(s, dtype=dt, device=dev), input, memory_format)
    if out._data.flags.c_contiguous or dt.is_complex:
        return made_like(lambda s: randn(s, dtype=dt, device=dev, requires_grad=requires_grad),
                         input, memory_format)
    with no_grad():  # torch's normal_ on a non-contiguous tensor: another stream than randn's
        out.normal_()
    out._vc[0] = 0  # a fresh tensor (torch fills it inside randn_like)
    return out.requires_grad_(requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return made_like(lambda s: randint(low, high, s, dtype=dtype or input.dtype,
                                       device=device or input.device), input, memory_format)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False) -> Tensor:
    """Same as torch.normal for scalar mean/std with a size, or tensor mean and/or std."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if isinstance(std, Tensor) and std.is_complex():
            raise RuntimeError("normal expects standard deviation to be non-complex")
        ref = mean if isinstance(mean, Tensor) else std
        shape = ref.shape if size is None else size
        if out is not None:  # torch draws in out's dtype, then adds mean
            _grad_check(mean, std, out, "normal")
            _float_dt(out.dtype, "normal_kernel_cpu")
            shape = infer_size(shape, out.shape)  # torch: infer_size(mean, out)
        z = randn(shape, generator=generator, device=ref.device,
                  dtype=ref.dtype if out is None else out.dtype)
        with no_grad():
            sample = z * std + mean
        if out is not None:
            return write_out(sample, out, "normal", cast=True)
        res = _NormalZeroGrad.apply(sample, mean, std)
        if res._grad_fn is not None:  # torch's overloads: 1 tensor mean, 2 tensor std, 3 both
            kind = isinstance(mean, Tensor) + 2 * isinstance(std, Tensor)
            res._grad_fn._name = f"NormalBackward{kind}"
        return res
    dt = _float_dt(_out_dtype("normal", out, dtype, None), "normal_kernel_cpu")
    return _sample(lambda s: _engine(generator).normal(s, mean, std, dt.np), (size,), dt, device,
                   requires_grad, out)


def _grad_check(*tensors_and_name) -> None:
    """torch's error for out= when a tensor argument (or ``out``) requires grad."""
    *tensors, name = tensors_and_name
    if _grad_state.grad_enabled and any(isinstance(t, Tensor) and t._requires_grad
                                        for t in tensors):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")


class _NormalZeroGrad(Op):
    """The sample passed through; torch defines normal's gradients w.r.t. mean and std as zeros
    (no reparameterisation)."""

    __slots__ = ()

    def forward(ctx, sample, mean, std):
        return sample

    def backward(ctx, g):
        zero = g * 0
        return None, zero, zero


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    if input.is_complex():  # torch's kernels: probabilities from input, else drawn at p
        raise not_implemented("bernoulli_tensor_cpu_self_" if p is None else
                              "bernoulli_scalar_cpu_", input.dtype)
    if p is None and not input.is_floating_point():
        raise not_implemented("bernoulli_tensor_cpu_p_", input.dtype)
    probs = input._data if p is None else p
    if out is None:
        arr = _bernoulli(generator, probs, input.shape, input._data.dtype)
        return Tensor._make(to_device(arr, input.device), input.device)
    if p is not None:
        raise TypeError("bernoulli() received an invalid combination of arguments: p= and out= "
                        "are not taken together")
    _grad_check(input, out, "bernoulli")  # torch: out takes input's shape, drawn in out's dtype
    arr = _bernoulli(generator, probs, input.shape, out.dtype.np)
    return _into(arr, out)


def _bernoulli(generator, p, shape, dtype):
    """Engine.bernoulli; a device array ``p`` meets the host's uniforms on its device (the same
    draws, compared without reading ``p`` back)."""
    if not isinstance(p, (float, int)) and not bool(((p >= 0) & (p <= 1)).all()):  # nan too
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    if isinstance(p, (np.ndarray, float, int)):
        return _engine(generator).bernoulli(p, shape, dtype)
    from ._random import _bernoulli_dt

    xp = device_of_array(p).xp
    u = _engine(generator).bernoulli_uniform(math.prod(shape), p.dtype).reshape(shape)
    return (xp.asarray(u) < p.astype(_bernoulli_dt(p.dtype))).astype(dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None) -> Tensor:
    if out is not None and out.dtype is not D.int64:
        raise RuntimeError(f"multinomial expects Long tensor out, got: {_type_name(out.dtype)}")
    arr = _engine(generator).multinomial(np.asarray(input.detach()), num_samples, replacement)
    return Tensor._make(to_device(arr, input.device), input.device) if out is None else \
        _into(arr, out)


def _fill_random(self, draw, name: str, *params):
    """An in-place random fill as torch's: values drawn in the tensor's memory order, a node
    named ``name`` that cuts the gradient (``_inplace.fill_random``)."""
    from ._ops._inplace import fill_random

    return fill_random(self, _in_memory_order(self, draw), name, *params)


def _memory_order(t: Tensor) -> list:
    """``t``'s dims from the outermost in memory to the innermost."""
    strides = t._data.strides
    return sorted(range(len(strides)), key=lambda i: -abs(strides[i]))


def _in_memory_order(t: Tensor, draw):
    """``draw(shape, dtype)`` filling ``t`` in its memory order, as torch's kernels walk it (a
    transposed tensor gets its draws along its columns)."""
    order = _memory_order(t)
    if order == list(range(len(order))):
        return draw

    def drawn(shape, dtype):
        arr = draw(tuple(shape[i] for i in order), dtype)
        return np.transpose(arr, np.argsort(order))
    return drawn


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    return _fill_random(self, lambda s, d: _engine(generator).uniform(s, a, b, d),
                        "UniformBackward0")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    serial = not self.is_contiguous()  # torch's 16-wide kernel fills contiguous tensors only
    return _fill_random(self, lambda s, d: _engine(generator).normal(s, mean, std, d, serial),
                        "NormalBackward0")


def exponential_(self, lambd=1.0, *, generator=None):
    return _fill_random(self, lambda s, d: _engine(generator).exponential(s, lambd, d),
                        "ExponentialBackward0")


def geometric_(self, p, *, generator=None):
    return _fill_random(self, lambda s, d: _engine(generator).geometric(s, p, d),
                        "GeometricBackward0")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _fill_random(self, lambda s, d: _engine(generator).cauchy(s, median, sigma, d),
                        "CauchyBackward0")


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    return _fill_random(self, lambda s, d: _engine(generator).log_normal(s, mean, std, d),
                        "LogNormalBackward0")


def bernoulli_(self, p=0.5, *, generator=None):
    if self.is_complex():  # torch has no complex kernel (dropout of a complex input meets it)
        raise not_implemented("bernoulli_tensor_cpu_self_" if isinstance(p, Tensor) else
                              "bernoulli_scalar_cpu_", self.dtype)
    if isinstance(p, Tensor) and not p.is_floating_point():
        raise not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
    if isinstance(p, Tensor):  # p for each element, in the order the draws fill them
        probs = p._device.xp.broadcast_to(p._data, tuple(self.shape)).transpose(
            _memory_order(self))
        return _fill_random(self, lambda s, d: _bernoulli(generator, probs, s, d),
                            "BernoulliBackward1", p)
    return _fill_random(self, lambda s, d: _engine(generator).bernoulli(p, s, d),
                        "BernoulliBackward2")


def random_(self, from_=0, to=None, *, generator=None):
    """Same as torch.Tensor.random_: no bounds is [0, 2**mantissa] for floats, [0, max] for ints."""
    name = "RandomBackward2" if to is None and not from_ else \
        "RandomBackward1" if to is None else "RandomBackward0"
    if to is None and not from_ and self.dtype is D.int32:
        # torch's full-range draw for int32 is one 32-bit word (randint would take 64 bits here)
        return _fill_random(self, lambda s, d: (_engine(generator)._u32(int(np.prod(s))) %
                                                2 ** 31).astype(d).reshape(s), name)
    if to is None:
        from_, to = 0, from_ if from_ else _random_upper(self.dtype)
    return _fill_random(self, lambda s, d: _engine(generator).randint(from_, to, s, d), name)


def _random_upper(dt) -> int:
    digits = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
    if dt.name in digits:
        return 2 ** digits[dt.name] + 1
    return 2 if dt is D.bool_ else int(np.iinfo(dt.np).max) + 1


from ._fork_rng import fork_rng  # noqa: E402,F401  (torch.random.fork_rng)
