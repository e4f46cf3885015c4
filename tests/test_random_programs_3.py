"""Seeded random programs run step by step in ndgrad and torch: 3-8 ops drawn from a wide pool
(pointwise ops with broadcasting, reductions, views of every kind, in-place ops and random fills on
views and bases, indexing writes, matmul/bmm/einsum, scans, casts between float32 and float64,
no_grad sections, detach and requires_grad_ on intermediates).

After every step both libraries hold the same value: dtype, shape, strides, contiguity, values,
requires_grad, is_leaf, grad_fn's name and the version counter (or both raised the same exception
type, which ends the program). At the end the loss sums every live value that requires grad
times a fixed cotangent; the first-order gradients of every leaf, then (create_graph) the
gradients of sum(grad_i * w_i), agree, or both raise the same exception type (a saved tensor
modified in place, a view of a leaf written in place...).

A program is drawn from its seed alone (shapes come from the torch side, which runs first), so a
failure names its seed and lists its steps; ``python tests/test_random_programs_3.py SEED``
replays one."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import torch
from harness import to_numpy

import ndgrad

LIBS = (torch, ndgrad)


class Mismatch(AssertionError):
    pass


def _attr(t, name):
    """t.name (grad_fn by its name), or the type of the error reading it raises (a view made
    under no_grad whose base was then written in place with grad on)."""
    try:
        v = getattr(t, name)
    except RuntimeError as e:
        return type(e).__name__
    return v.name() if name == "grad_fn" and v is not None else v


def _strides(t):
    """The strides that address memory: of the dims longer than 1, none when empty."""
    if t.numel() == 0:
        return ()
    return tuple(st for st, n in zip(t.stride(), t.shape) if n > 1)


LOOSE = ("_version", "is view", "grad_fn", "requires_grad", "is_leaf")


def _shares(a, b):
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


class _Reads(list):
    """A list that notes which of its items were read."""

    seen: set

    def __getitem__(self, i):
        self.seen.add(i)
        return list.__getitem__(self, i)


class Runner:
    """Holds each live value in both libraries: ``vals[i] = (torch_value, ndgrad_value)``."""

    def __init__(self, seed):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.vals: list = []
        self.leaves: list[int] = []
        self.loose: set[int] = set()
        self.free: set[int] = set()  # values whose strides are not compared
        self.log: list[str] = []
        self.f32 = False  # float32 rounding seen: tolerances scale with the values
        for lib in LIBS:
            lib.manual_seed(seed)

    # --- running one step in both libraries -------------------------------------------------
    def fail(self, msg):
        steps = "\n  ".join(self.log)
        raise Mismatch(f"seed {self.seed}: {msg}\nprogram:\n  {steps}")

    def step(self, label, fn, loose=False, layout=True):
        """Run ``fn(T, vals_of_T)`` in torch then ndgrad; returns False where both raised.
        ``loose``: the result's version, strides, grad_fn and being a view are torch's
        implementation details (matmul writes its result through out=, einsum returns a view of
        bmm's), as they are for the views of it. ``layout``
        False: the result's strides are not torch's (see LAYOUT_FREE); nor then are those of
        anything computed from it."""
        self.log.append(label)
        out = []
        seen: set[int] = set()
        for k, lib in enumerate(LIBS):
            mine = _Reads(v[k] for v in self.vals)
            mine.seen = seen
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out.append(fn(lib, mine))
            except Exception as e:  # noqa: BLE001  (compared below)
                out.append(e)
        want, got = out
        if isinstance(want, Exception):
            if not isinstance(got, Exception):
                self.fail(f"torch raised {want!r}, ndgrad returned")
            if type(got).__name__ != type(want).__name__:
                self.fail(f"torch raised {want!r}, ndgrad raised {got!r}")
            return False
        if isinstance(got, Exception):
            self.fail(f"ndgrad raised {got!r}")
        for w, g in zip(want if isinstance(want, tuple) else (want,),
                        got if isinstance(got, tuple) else (got,)):
            if loose or isinstance(w, torch.Tensor) and any(
                    _shares(w, self.vals[j][0]) for j in self.loose):
                self.loose.add(len(self.vals))
            if loose or not layout or seen & self.free:
                self.free.add(len(self.vals))
            self.vals.append((w, g))
            self.compare(w, g, "value", len(self.vals) - 1)
        for i, (w, g) in enumerate(self.vals):  # in-place writes reach older values and views
            self.compare(w, g, f"live value {i}", i, meta_only=True)
        return True

    def compare(self, want, got, what, i, meta_only=False):
        if not isinstance(want, torch.Tensor):
            if want != got:
                self.fail(f"{what}: {got!r} != torch's {want!r}")
            return
        if not isinstance(got, ndgrad.Tensor):
            self.fail(f"{what}: not a tensor: {got!r}")
        checks = [("dtype", str(want.dtype)[6:], str(got.dtype)[7:]),
                  ("shape", tuple(want.shape), tuple(got.shape)),
                  ("stride", _strides(want), _strides(got) if i not in self.free else
                   _strides(want)),
                  ("is_contiguous", want.is_contiguous(), got.is_contiguous() if i not in
                   self.free else want.is_contiguous()),
                  ("requires_grad", want.requires_grad, got.requires_grad),
                  ("is_leaf", _attr(want, "is_leaf"), _attr(got, "is_leaf")),
                  ("grad_fn", _attr(want, "grad_fn"), _attr(got, "grad_fn")),
                  ("_version", want._version, got._version),
                  ("is view", want._base is not None, got._base is not None)]
        for key, w, g in checks:
            if w != g and not (i in self.loose and key in LOOSE):
                self.fail(f"{what}: {key} {g} != torch's {w}")
        if not meta_only:
            self.close(want, got, what)

    def close(self, want, got, what, factor=1.0):
        w, g = to_numpy(want), to_numpy(got)
        if w.dtype.kind == "b" or w.dtype.kind in "iu":
            if not np.array_equal(w, g):
                self.fail(f"{what}: values differ\n{g}\ntorch:\n{w}")
            return
        rtol, atol = (1e-4, 1e-4) if self.f32 else (1e-9, 1e-11)
        rtol, atol = rtol * factor, atol * factor
        if self.f32:
            finite = np.abs(w[np.isfinite(w)])
            atol *= max(1.0, float(finite.max()) if finite.size else 1.0)
        try:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
        except AssertionError as e:
            self.fail(f"{what}: values differ{e}")

    # --- making values -------------------------------------------------------------------------
    def leaf(self, shape, requires_grad=True, dtype=None):
        """A new input: uniform values in [-2, 2), float64 or (one in six) float32."""
        if dtype is None:
            dtype = "float32" if self.rng.integers(6) == 0 else "float64"
        self.f32 |= dtype == "float32"
        a = self.rng.uniform(-2, 2, shape).astype(dtype)
        if self.rng.integers(8) == 0 and a.size:  # a few exact zeros and ties
            a.reshape(-1)[self.rng.integers(a.size)] = 0.0
        self.step(f"v{len(self.vals)} = leaf{tuple(shape)} {dtype} rg={requires_grad}",
                  lambda T, v: T.tensor(a, requires_grad=requires_grad))
        if requires_grad:
            self.leaves.append(len(self.vals) - 1)
        return len(self.vals) - 1

    def t(self, i):
        return self.vals[i][0]


def _pos(x):
    return x.abs() + 0.5


UNARY = {
    "exp": lambda T, x: x.exp(), "tanh": lambda T, x: x.tanh(),
    "sigmoid": lambda T, x: x.sigmoid(), "sin": lambda T, x: x.sin(),
    "sqrt(|x|+.5)": lambda T, x: _pos(x).sqrt(), "rsqrt(|x|+.5)": lambda T, x: _pos(x).rsqrt(),
    "log(|x|+.5)": lambda T, x: _pos(x).log(), "abs": lambda T, x: x.abs(),
    "relu": lambda T, x: x.relu(), "neg": lambda T, x: -x, "x**2": lambda T, x: x ** 2,
    "x**3": lambda T, x: x.pow(3), "|x|**1.5": lambda T, x: x.abs() ** 1.5,
    "reciprocal(|x|+.5)": lambda T, x: _pos(x).reciprocal(), "erf": lambda T, x: T.erf(x),
    "expm1": lambda T, x: x.expm1(), "log1p(|x|)": lambda T, x: x.abs().log1p(),
    "atan": lambda T, x: x.atan(), "square": lambda T, x: x.square(),
    "exp(-x)*x": lambda T, x: T.exp(-x) * x, "2**x": lambda T, x: 2 ** x,
    "sign": lambda T, x: x.sign(), "floor": lambda T, x: x.floor(),
    "silu": lambda T, x: T.nn.functional.silu(x), "gelu": lambda T, x: T.nn.functional.gelu(x),
    "softplus": lambda T, x: T.nn.functional.softplus(x),
}
BINARY = {
    "add": lambda T, a, b: a + b, "sub": lambda T, a, b: a - b, "mul": lambda T, a, b: a * b,
    "div(a,|b|+.5)": lambda T, a, b: a / _pos(b), "maximum": lambda T, a, b: T.maximum(a, b),
    "minimum": lambda T, a, b: T.minimum(a, b),
    "pow(|a|+.5,b)": lambda T, a, b: _pos(a) ** b, "atan2": lambda T, a, b: T.atan2(a, _pos(b)),
    "where(a>0,a,b)": lambda T, a, b: T.where(a > 0, a, b),
    "hypot": lambda T, a, b: T.hypot(a, b), "lerp(a,b,.3)": lambda T, a, b: T.lerp(a, b, 0.3),
    "a*b.exp()": lambda T, a, b: a * b.exp(), "addcmul": lambda T, a, b: T.addcmul(a, a, b),
}
INPLACE_MATH = {
    "add_(b)": lambda T, t, b: t.add_(b), "mul_(b)": lambda T, t, b: t.mul_(b),
    "sub_(b,alpha=2)": lambda T, t, b: t.sub_(b, alpha=2), "copy_(b)": lambda T, t, b: t.copy_(b),
    "addcmul_(b,b)": lambda T, t, b: t.addcmul_(b, b),
    "lerp_(b,.5)": lambda T, t, b: t.lerp_(b, .5),
    "div_(|b|+.5)": lambda T, t, b: t.div_(_pos(b)), "maximum": lambda T, t, b: t.copy_(
        T.maximum(t, b)),
}
RANDOM = {"normal_(.5,2)", "uniform_(-1,3)", "bernoulli_(.3)", "exponential_(1.5)", "random_(0,5)",
          "random_(7)", "detach().normal_()", "data.uniform_()"}
INPLACE_UNARY = {
    "exp_": lambda T, t: t.exp_(), "tanh_": lambda T, t: t.tanh_(),
    "sigmoid_": lambda T, t: t.sigmoid_(), "clamp_(-.5,1)": lambda T, t: t.clamp_(-0.5, 1.0),
    "mul_(2)": lambda T, t: t.mul_(2), "pow_(2)": lambda T, t: t.pow_(2),
    "relu_": lambda T, t: t.relu_(), "neg_": lambda T, t: t.neg_(),
    "abs_().sqrt_()": lambda T, t: t.abs_().sqrt_(), "cumsum_(-1)": lambda T, t: t.cumsum_(-1),
    "zero_": lambda T, t: t.zero_(), "fill_(1.5)": lambda T, t: t.fill_(1.5),
    "normal_(.5,2)": lambda T, t: t.normal_(0.5, 2.0),
    "uniform_(-1,3)": lambda T, t: t.uniform_(-1.0, 3.0),
    "bernoulli_(.3)": lambda T, t: t.bernoulli_(0.3),
    "exponential_(1.5)": lambda T, t: t.exponential_(1.5),
    "random_(0,5)": lambda T, t: t.random_(0, 5), "random_(7)": lambda T, t: t.random_(7),
    "masked_fill_(t>0,-1)": lambda T, t: t.masked_fill_(t > 0, -1.0),
    "detach().normal_()": lambda T, t: t.detach().normal_(),
    "data.uniform_()": lambda T, t: t.data.uniform_(),
}


def _dim(rng, n):
    return int(rng.integers(-max(n, 1), max(n, 1)))


def _broadcast_shape(rng, shape):
    out = [int(rng.choice([s, 1])) if s != 1 else int(rng.choice([1, 1, 2])) for s in shape]
    return tuple(out[rng.integers(len(out) + 1):])


def _random_view(rng, shape):
    """(label, fn) of a view of a tensor of ``shape`` (the identity when it has no dims)."""
    n = len(shape)
    if n == 0:
        return "[...]", lambda T, x: x[...]
    d = int(rng.integers(n))
    s = shape[d]
    kind = rng.integers(6)
    if kind == 0 and s:
        i = int(rng.integers(-s, s))
        return f".select({d},{i})", lambda T, x: x.select(d, i)
    if kind == 1:
        a = int(rng.integers(s + 1))
        b = int(rng.integers(s - a + 1))
        return f".narrow({d},{a},{b})", lambda T, x: x.narrow(d, a, b)
    if kind == 2:
        key = (slice(None),) * d + (slice(int(rng.integers(-s - 1, s + 1)), None,
                                          int(rng.integers(1, 3))),)
        return f"[{key}]", lambda T, x: x[key]
    if kind == 3 and n >= 2:
        e = (d + 1) % n
        off = int(rng.integers(-1, 2))
        return f".diagonal({off},{d},{e})", lambda T, x: x.diagonal(off, d, e)
    if kind == 4:
        e = int(rng.integers(n))
        return f".transpose({d},{e})", lambda T, x: x.transpose(d, e)
    return ".unsqueeze(0)[0]", lambda T, x: x.unsqueeze(0)[0]


def _operand(r, shape, in_place=False):
    """An index of a value that broadcasts with ``shape`` (to it, for in-place): an earlier value
    when one fits, else a new leaf."""
    rng = r.rng
    if rng.integers(3) == 0:
        for i in rng.permutation(len(r.vals)):
            t = r.t(int(i))
            if t.dtype.is_floating_point and t.numel() and (
                    not in_place and _broadcasts(t.shape, shape) or
                    in_place and _broadcasts_to(t.shape, shape)):
                return int(i)
    return r.leaf(_broadcast_shape(rng, shape) if not in_place else
                  tuple(int(rng.choice([s, 1])) for s in shape)[rng.integers(len(shape) + 1):],
                  requires_grad=bool(rng.integers(5)))


def _broadcasts(a, b):
    return all(x == y or x == 1 or y == 1 for x, y in zip(a[::-1], b[::-1]))


def _broadcasts_to(a, b):
    return len(a) <= len(b) and all(x == y or x == 1 for x, y in zip(a[::-1], b[::-1]))


def _draw(r, x):
    """Draw one op on value ``x`` and run it; returns False when both libraries raised."""
    rng = r.rng
    t = r.t(x)
    shape, n = tuple(t.shape), t.dim()
    pool = ["unary"] * 4 + ["binary"] * 4 + ["reduce"] * 2 + ["view"] * 4 + ["inplace"] * 4 + [
        "inplace_view"] * 3 + ["fill"] * 2 + ["scan"] * 2 + ["index"] * 2 + [
        "matmul", "cast", "no_grad", "detach", "requires_grad", "clone", "where_clamp",
        "view_shape", "as_strided", "base_write"]
    kind = str(rng.choice(pool))
    if x in r.free and kind in ("view_shape", "as_strided"):
        kind = "unary"  # a view or a copy, and which memory, follow the layout
    nog = rng.integers(10) == 0  # the op under no_grad
    wrap = (lambda f: (lambda T, v: _no_grad(T, f, v))) if nog else (lambda f: f)
    pre = "with no_grad: " if nog else ""
    lab = f"v{len(r.vals)} = {pre}"
    if kind == "unary":
        name = str(rng.choice(sorted(UNARY)))
        return r.step(f"{lab}{name}(v{x})", wrap(lambda T, v: UNARY[name](T, v[x])),
                      layout=name != "2**x")  # torch's wrapped-number base: a contiguous result
    if kind == "binary":
        y = _operand(r, shape)
        name = str(rng.choice(sorted(BINARY)))
        swap = rng.integers(4) == 0
        a, b = (y, x) if swap else (x, y)
        ta, tb = r.t(a), r.t(b)  # operands laid out differently: each library picks its own
        same = min(ta.numel(), tb.numel()) <= 1 or ta.is_contiguous() and tb.is_contiguous()
        return r.step(f"v{len(r.vals)} = {pre}{name}(v{a}, v{b})",
                      wrap(lambda T, v: BINARY[name](T, v[a], v[b])), layout=same)
    if kind == "reduce":
        name = str(rng.choice(["sum", "mean", "amax", "prod", "norm", "logsumexp", "std", "var",
                               "max", "median"]))
        dim = None if rng.integers(3) == 0 or name == "median" and rng.integers(2) else \
            _dim(rng, n)
        keep = bool(rng.integers(2))
        if name == "logsumexp" and dim is None:
            dim = _dim(rng, n)
        if name in ("max", "median"):
            def f(T, v):
                out = getattr(v[x], name)() if dim is None else getattr(v[x], name)(dim, keep)
                return out if dim is None else out[0]
        elif name == "norm":
            p = float(rng.choice([1.0, 2.0, 3.0]))
            def f(T, v):
                return v[x].norm(p, dim, keep) if dim is not None else v[x].norm(p)
        else:
            def f(T, v):
                return getattr(v[x], name)() if dim is None else getattr(v[x], name)(dim, keep)
        return r.step(f"{lab}v{x}.{name}(dim={dim}, keepdim={keep})", wrap(f), layout=False)
    if kind == "scan":
        name = str(rng.choice(["softmax", "log_softmax", "cumsum", "cumprod", "logcumsumexp",
                               "cummax"]))
        dim = _dim(rng, n)
        if name == "cummax":
            return r.step(f"{lab}v{x}.cummax({dim})[0]", wrap(lambda T, v: v[x].cummax(dim)[0]),
                          layout=False)
        return r.step(f"{lab}v{x}.{name}({dim})", wrap(lambda T, v: getattr(v[x], name)(dim)),
                      layout=False)
    if kind == "view":
        label, f = _view_op(rng, shape)
        return r.step(f"{lab}v{x}{label}", wrap(lambda T, v: f(T, v[x])))
    if kind == "view_shape":
        numel = t.numel()
        shp = _factor(rng, numel)
        how = str(rng.choice(["view", "reshape", "flatten", "contiguous().view"]))
        if how == "flatten":
            return r.step(f"{lab}v{x}.flatten()", wrap(lambda T, v: v[x].flatten()))
        if how == "contiguous().view":
            return r.step(f"{lab}v{x}.contiguous().view{shp}",
                          wrap(lambda T, v: v[x].contiguous().view(shp)))
        return r.step(f"{lab}v{x}.{how}{shp}", wrap(lambda T, v: getattr(v[x], how)(shp)))
    if kind == "as_strided":
        if not t.is_contiguous() or t.numel() < 2:
            return r.step(f"{lab}v{x}.as_strided(shape, stride)",
                          wrap(lambda T, v: v[x].as_strided(shape, v[x].stride())))
        m = t.numel()
        size = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        st0 = int(rng.integers(0, max(1, (m - 1) // max(size[0] - 1, 1)) + 1)) if size[0] > 1 \
            else 1
        room = m - 1 - (size[0] - 1) * st0
        st1 = int(rng.integers(0, room // max(size[1] - 1, 1) + 1)) if size[1] > 1 else 1
        used = (size[0] - 1) * st0 + (size[1] - 1) * st1
        off = int(rng.integers(0, m - used)) if m - used > 0 else 0
        return r.step(f"{lab}v{x}.as_strided({size}, {(st0, st1)}, +{off})",
                      wrap(lambda T, v: v[x].as_strided(size, (st0, st1),
                                                        v[x].storage_offset() + off)))
    if kind == "cast":
        dt = str(rng.choice(["float32", "float64"]))
        r.f32 |= dt == "float32"
        how = rng.integers(3)
        if how == 0:
            return r.step(f"{lab}v{x}.to({dt})", wrap(lambda T, v: v[x].to(getattr(T, dt))))
        if how == 1:
            return r.step(f"{lab}v{x}.type({dt})", wrap(lambda T, v: v[x].type(getattr(T, dt))))
        return r.step(f"{lab}v{x}.{dt[:5]}()", wrap(lambda T, v: v[x].double() if dt[5] == "6"
                                                    else v[x].float()))
    if kind == "clone":
        return r.step(f"{lab}v{x}.clone()", wrap(lambda T, v: v[x].clone()))
    if kind == "no_grad":
        return r.step(f"{lab}no_grad(v{x} * 2)", lambda T, v: _no_grad(T, lambda T, v: v[x] * 2,
                                                                      v))
    if kind == "detach":
        return r.step(f"{lab}v{x}.detach()", lambda T, v: v[x].detach())
    if kind == "requires_grad":
        how = rng.integers(3)
        if how == 0:
            ok = r.step(f"{lab}v{x}.detach().requires_grad_()",
                        lambda T, v: v[x].detach().requires_grad_())
            if ok:
                r.leaves.append(len(r.vals) - 1)
            return ok
        if how == 1:
            return r.step(f"v{x}.requires_grad_(False)", lambda T, v: v[x].requires_grad_(False))
        return r.step(f"v{x}.retain_grad(); v{x}", lambda T, v: (v[x].retain_grad(), v[x])[1])
    if kind == "where_clamp":
        lo, hi = sorted(float(z) for z in rng.uniform(-1.5, 1.5, 2))
        if rng.integers(2):
            return r.step(f"{lab}v{x}.clamp({lo:.3f},{hi:.3f})",
                          wrap(lambda T, v: v[x].clamp(lo, hi)))
        return r.step(f"{lab}where(v{x}>{lo:.3f}, v{x}, {hi:.3f})",
                      wrap(lambda T, v: T.where(v[x] > lo, v[x], hi)))
    if kind == "matmul":  # (not under no_grad: torch's einsum may return a view then)
        return _matmul(r, x, shape, "", lambda f: f)
    if kind == "index":
        return _index(r, x, shape, pre, wrap)
    if kind == "fill":
        name = str(rng.choice([k for k in INPLACE_UNARY if k[0] in "zfnubreda"]))
        if x in r.free and name in RANDOM:
            name = "fill_(1.5)"  # random draws follow the memory order
        target = x
        if rng.integers(2):  # a fresh non-leaf in the graph, or a view of it
            r.step(f"v{len(r.vals)} = v{x} * 1", lambda T, v: v[x] * 1)
            target = len(r.vals) - 1
        if rng.integers(2):
            vl, vf = _random_view(rng, tuple(r.t(target).shape))
            return r.step(f"v{len(r.vals)} = {pre}v{target}{vl}.{name}",
                          wrap(lambda T, v: INPLACE_UNARY[name](T, vf(T, v[target]))))
        return r.step(f"v{len(r.vals)} = {pre}v{target}.{name}",
                      wrap(lambda T, v: INPLACE_UNARY[name](T, v[target])))
    if kind in ("inplace", "inplace_view"):
        target = x
        if rng.integers(3):  # else on x itself: may be a leaf (torch's error)
            how = str(rng.choice(["* 1", ".clone()", "+ 0"]))
            r.step(f"v{len(r.vals)} = v{x}{how}", lambda T, v: v[x] * 1 if how == "* 1" else
                   v[x].clone() if how == ".clone()" else v[x] + 0)
            target = len(r.vals) - 1
        vl, vf = ("", lambda T, z: z)
        if kind == "inplace_view":
            vl, vf = _random_view(rng, tuple(r.t(target).shape))
            ok = r.step(f"v{len(r.vals)} = v{target}{vl}", lambda T, v: vf(T, v[target]))
            if not ok:
                return False
            target = len(r.vals) - 1
        if rng.integers(2):
            name = str(rng.choice(sorted(INPLACE_UNARY)))
            if target in r.free and name in RANDOM:
                name = "zero_"  # random draws follow the memory order
            ok = r.step(f"v{len(r.vals)} = {pre}v{target}.{name}",
                        wrap(lambda T, v: INPLACE_UNARY[name](T, v[target])))
        else:
            y = _operand(r, tuple(r.t(target).shape), in_place=True)
            name = str(rng.choice(sorted(INPLACE_MATH)))
            ok = r.step(f"v{len(r.vals)} = {pre}v{target}.{name} with b=v{y}",
                        wrap(lambda T, v: INPLACE_MATH[name](T, v[target], v[y])))
        return ok
    if kind == "base_write":  # a view taken, then its base written in place: use the view
        r.step(f"v{len(r.vals)} = v{x} * 1", lambda T, v: v[x] * 1)
        base = len(r.vals) - 1
        vl, vf = _random_view(rng, shape)
        if not r.step(f"v{len(r.vals)} = v{base}{vl}", lambda T, v: vf(T, v[base])):
            return False
        name = str(rng.choice(["mul_(2)", "exp_", "sigmoid_", "zero_", "normal_(.5,2)",
                               "clamp_(-.5,1)"]))
        view = len(r.vals) - 1
        r.step(f"v{len(r.vals)} = v{base}.{name}", lambda T, v: INPLACE_UNARY[name](T, v[base]))
        return r.step(f"v{len(r.vals)} = v{view} * 3", lambda T, v: v[view] * 3)
    raise AssertionError(kind)


def _no_grad(T, f, v):
    with T.no_grad():
        return f(T, v)


def _factor(rng, numel):
    if numel == 0:
        return (0, int(rng.integers(1, 3)))
    dims, m, p = [], numel, 2
    while m > 1:
        while m % p == 0:
            dims.append(p)
            m //= p
        p += 1
    k = int(rng.integers(1, 4))
    out = [1] * k
    for q in dims:
        out[rng.integers(k)] *= q
    if rng.integers(3) == 0:
        out[rng.integers(k)] = -1
    return tuple(out)


def _view_op(rng, shape):
    n = len(shape)
    kind = int(rng.integers(9))
    if kind == 0 and n:
        p = tuple(int(i) for i in rng.permutation(n))
        return f".permute{p}", lambda T, x: x.permute(p)
    if kind == 1:
        new = tuple(int(rng.choice([2, 3])) if s == 1 else s for s in shape)
        if rng.integers(2) or not new:
            new = (2,) + new
        return f".expand{new}", lambda T, x: x.expand(new)
    if kind == 2 and n:
        d = int(rng.integers(n))
        s = shape[d]
        size = int(rng.integers(0, s + 1))
        step = int(rng.integers(1, 3))
        return f".unfold({d},{size},{step})", lambda T, x: x.unfold(d, size, step)
    if kind == 3:
        d = int(rng.integers(-n - 1, n + 1))
        return f".unsqueeze({d})", lambda T, x: x.unsqueeze(d)
    if kind == 4:
        return ".squeeze()", lambda T, x: x.squeeze()
    if kind == 5 and n >= 2:
        return ".mT", lambda T, x: x.mT
    if kind == 6 and n:
        d = int(rng.integers(n))
        k = int(rng.integers(1, 3))
        i = int(rng.integers(0, k))
        how = str(rng.choice(["split", "chunk", "unbind"]))
        if how == "unbind":
            return f".unbind({d})[{i}]", lambda T, x: x.unbind(d)[min(i, x.shape[d] - 1)]
        return f".{how}({k},{d})[{i}]", lambda T, x: getattr(x, how)(k, d)[
            min(i, len(getattr(x, how)(k, d)) - 1)]
    if kind == 7 and n:
        a, b = int(rng.integers(n)), int(rng.integers(n))
        return f".movedim({a},{b})", lambda T, x: x.movedim(a, b)
    return _random_view(rng, shape)


def _matmul(r, x, shape, pre, wrap):
    rng = r.rng
    n = len(shape)
    dt = str(r.t(x).dtype)[6:]  # (torch's einsum promotes only where it contracts nothing)
    if n == 0:
        return r.step(f"v{len(r.vals)} = {pre}v{x} * v{x}", wrap(lambda T, v: v[x] * v[x]))
    k = int(rng.integers(1, 4))
    how = int(rng.integers(4))
    if how == 0 and n == 3:
        w = r.leaf((shape[0], shape[2], k), dtype=dt)
        return r.step(f"v{len(r.vals)} = {pre}bmm(v{x}, v{w})",
                      wrap(lambda T, v: T.bmm(v[x], v[w])), True)
    if how == 1 and n >= 2:
        w = r.leaf((shape[-1], k), dtype=dt)
        return r.step(f"v{len(r.vals)} = {pre}einsum('...ij,jk->...ik', v{x}, v{w})",
                      wrap(lambda T, v: T.einsum("...ij,jk->...ik", v[x], v[w])), True)
    if how == 2 and n >= 2 and shape[-1] == shape[-2]:
        eq = str(rng.choice(["...ii->...i", "...ij->...ji", "...ii->..."]))
        return r.step(f"v{len(r.vals)} = {pre}einsum('{eq}', v{x})",
                      wrap(lambda T, v: T.einsum(eq, v[x])), True)
    if how == 2:
        w = r.leaf((shape[-1],), dtype=dt)
        return r.step(f"v{len(r.vals)} = {pre}einsum('...i,i->...', v{x}, v{w})",
                      wrap(lambda T, v: T.einsum("...i,i->...", v[x], v[w])), True)
    w = r.leaf((shape[-1], k) if rng.integers(3) else (shape[-1],), dtype=dt)
    return r.step(f"v{len(r.vals)} = {pre}v{x} @ v{w}", wrap(lambda T, v: v[x] @ v[w]), True)


def _index(r, x, shape, pre, wrap):
    rng = r.rng
    n = len(shape)
    if n == 0 or 0 in shape:
        return r.step(f"v{len(r.vals)} = {pre}v{x}[None]", wrap(lambda T, v: v[x][None]))
    d = int(rng.integers(n))
    s = shape[d]
    how = int(rng.integers(7))
    idx = rng.integers(0, s, int(rng.integers(1, 4)))
    if how == 0:
        return r.step(f"v{len(r.vals)} = {pre}v{x}.index_select({d}, {idx.tolist()})",
                      wrap(lambda T, v: v[x].index_select(d, T.tensor(idx))))
    if how == 1:
        acc = bool(rng.integers(2))
        y = r.leaf(shape[:d] + (len(idx),) + shape[d + 1:], requires_grad=bool(rng.integers(4)))
        key = (slice(None),) * d
        ip = bool(rng.integers(2))
        if ip:  # in place on a copy
            return r.step(f"v{len(r.vals)} = {pre}(v{x}*1).index_put_({key}+({idx.tolist()},), "
                          f"v{y}, accumulate={acc})", wrap(lambda T, v: (v[x] * 1).index_put_(
                              key + (T.tensor(idx),), v[y], accumulate=acc)))
        return r.step(f"v{len(r.vals)} = {pre}v{x}.index_put({key}+({idx.tolist()},), v{y}, "
                      f"accumulate={acc})",
                      wrap(lambda T, v: v[x].index_put(key + (T.tensor(idx),), v[y],
                                                       accumulate=acc)))
    if how == 2:
        val = float(rng.uniform(-1, 1))
        return r.step(f"v{len(r.vals)} = {pre}v{x}.masked_fill(v{x} > 0.3, {val:.3f})",
                      wrap(lambda T, v: v[x].masked_fill(v[x] > 0.3, val)))
    if how in (3, 4):
        index = rng.integers(0, s, shape[:d] + (int(rng.integers(1, s + 1)),) + shape[d + 1:])
        src = r.leaf(index.shape, requires_grad=bool(rng.integers(4)))
        if how == 3:
            name = str(rng.choice(["scatter", "scatter_add"]))
            if name == "scatter":  # unique targets: the value written is then defined
                index = np.argsort(rng.uniform(size=shape), axis=d).take(
                    np.arange(index.shape[d]), axis=d)
            return r.step(f"v{len(r.vals)} = {pre}v{x}.{name}({d}, {index.tolist()}, v{src})",
                          wrap(lambda T, v: getattr(v[x], name)(d, T.tensor(index), v[src])))
        return r.step(f"v{len(r.vals)} = {pre}v{x}.gather({d}, {index.tolist()})",
                      wrap(lambda T, v: v[x].gather(d, T.tensor(index))))
    if how == 5:
        mask = rng.integers(0, 2, shape).astype(bool)
        return r.step(f"v{len(r.vals)} = {pre}v{x}[{mask.astype(int).tolist()}]",
                      wrap(lambda T, v: v[x][T.tensor(mask)]))
    y = int(rng.integers(0, s))
    val = r.leaf(shape[:d] + shape[d + 1:], requires_grad=bool(rng.integers(2)))
    return r.step(f"v{len(r.vals)} = {pre}(v{x}*1) with [..{d}: {y}] = v{val}",
                  wrap(lambda T, v: _setitem(v[x] * 1, (slice(None),) * d + (y,), v[val])))


def _setitem(t, key, val):
    t[key] = val
    return t


def _loss_terms(r, k, T):
    """sum over live values requiring grad of (value * cotangent).sum()."""
    seen, total = set(), None
    crng = np.random.default_rng(r.seed + 1)
    for v in r.vals:
        tv = v[0]
        if id(tv) in seen or not tv.requires_grad or not tv.dtype.is_floating_point:
            continue
        seen.add(id(tv))
        cot = T.tensor(crng.standard_normal(tuple(tv.shape)))
        term = (v[k] * cot).sum()
        total = term if total is None else total + term
    return total


def _grads(r, create_graph):
    """[(loss, grads, second)] in torch and ndgrad, an exception standing in for a failed step."""
    out = []
    for k, lib in enumerate(LIBS):
        leaves = [r.vals[i][k] for i in r.leaves]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loss = _loss_terms(r, k, lib)
                if loss is None:
                    out.append(None)
                    continue
                g = lib.autograd.grad(loss, leaves, allow_unused=True, retain_graph=True,
                                      create_graph=create_graph)
                if not create_graph:
                    out.append((g, None))
                    continue
                wrng = np.random.default_rng(r.seed + 2)
                s = None
                for gi, leaf in zip(g, leaves):
                    w = lib.tensor(wrng.standard_normal(tuple(leaf.shape)))
                    if gi is not None and gi.requires_grad:
                        s = (gi * w).sum() if s is None else s + (gi * w).sum()
                h = None if s is None else lib.autograd.grad(s, leaves, allow_unused=True)
                out.append((g, h))
        except Exception as e:  # noqa: BLE001  (compared by the caller)
            out.append(e)
    return out


def _compare_grads(r, want, got, what, factor):
    for j, (w, g) in enumerate(zip(want, got)):
        leaf = r.vals[r.leaves[j]][0]
        if w is None and g is None:
            continue
        w = torch.zeros_like(leaf) if w is None else w
        g = ndgrad.zeros(tuple(leaf.shape), dtype=getattr(ndgrad, str(leaf.dtype)[6:])) \
            if g is None else g
        if str(w.dtype)[6:] != str(g.dtype)[7:] or tuple(w.shape) != tuple(g.shape):
            r.fail(f"{what} of v{r.leaves[j]}: {g.dtype}{tuple(g.shape)} != torch's "
                   f"{w.dtype}{tuple(w.shape)}")
        r.close(w, g, f"{what} of v{r.leaves[j]}", factor)


def check_gradients(r):
    for create_graph in (False, True):
        want, got = _grads(r, create_graph)
        order = "create_graph" if create_graph else "first-order"
        if isinstance(want, Exception) and _STALE in str(want) and not isinstance(got, Exception):
            continue  # known: ndgrad keeps what torch finds stale (see _STALE)
        if isinstance(want, Exception) or isinstance(got, Exception):
            if type(want).__name__ != type(got).__name__:
                r.fail(f"{order} backward: torch {want!r}, ndgrad {got!r}")
            continue
        if want is None or got is None:
            if (want is None) != (got is None):
                r.fail(f"{order}: torch's loss {want}, ndgrad's {got}")
            continue
        _compare_grads(r, want[0], got[0], f"{order} grad", 10.0)
        if create_graph:
            if want[1] is None or got[1] is None:  # no first-order gradient requires grad
                if not _zeros(want[1]) or not _zeros(got[1]):
                    r.fail(f"second order: torch {want[1]}, ndgrad {got[1]}")
            else:
                _compare_grads(r, want[1], got[1], "second-order grad", 100.0)


# Known differences, accepted by check_gradients:
# - torch's version error where ndgrad computes: an in-place op's node saves its output in a
#   buffer of its own (ndgrad snapshots, then writes), and a mixed-dtype op saves its cast
#   operand, so later writes to the tensor leave them valid (the gradient is the exact one) where
#   torch's saved tensor is the written one.
# - no first-order gradient requiring grad where torch's do (all zero second derivatives): torch's
#   backward of relu, masked_fill, where... reads its saved tensors, so its gradient is in their
#   graph even where its derivative is zero; ndgrad's uses constant masks (and the reverse where
#   ndgrad's empty or zero gradient has a graph).
_STALE = "modified by an inplace operation"


def _zeros(gs):
    """None, or gradients that are all None or zero."""
    return gs is None or all(g is None or not bool(to_numpy(g).any()) for g in gs)


def run_program(seed):
    r = Runner(seed)
    rng = r.rng
    shape = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(0, 4))))
    x = r.leaf(shape, requires_grad=bool(rng.integers(6)))
    for _ in range(int(rng.integers(3, 9))):
        if not _draw(r, x):
            break
        # the chain goes on from the newest float value, sometimes from an older one
        floats = [i for i, v in enumerate(r.vals) if v[0].dtype.is_floating_point]
        x = floats[-1] if rng.integers(4) else int(rng.choice(floats))
    check_gradients(r)
    return r


# Where ndgrad's strides differ from torch's by design (ARCHITECTURE: a result is laid out as NumPy
# makes it): scans and softmax keep their input's layout (torch's are contiguous), reductions with
# keepdim, matmul/einsum. Views of such values then differ too, so their strides are not compared.


BLOCKS = 10  # parametrized blocks of programs: a failure names its seed
PER_BLOCK = 30


@pytest.mark.parametrize("block", range(BLOCKS))
def test_random_programs_match_torch(block):
    for seed in range(block * PER_BLOCK, (block + 1) * PER_BLOCK):
        run_program(seed)


# --- bugs the programs found, as small cases -----------------------------------------------------
def _same(want, got, tol=1e-12):
    """ndgrad's values ``got`` equal torch's ``want``, through tuples and lists."""
    if isinstance(want, (tuple, list)):
        assert len(want) == len(got)
        for w, g in zip(want, got):
            _same(w, g, tol)
    elif isinstance(want, torch.Tensor):
        assert str(want.dtype)[6:] == str(got.dtype)[7:]
        assert tuple(want.shape) == tuple(got.shape)
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=tol, atol=tol)
    else:
        assert want == got


def _both(f, tol=1e-12):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(f(torch), f(ndgrad), tol)


def _x(T, shape, seed=0):
    a = np.random.default_rng(seed).uniform(-2, 2, shape)
    return T.tensor(a, requires_grad=True)


def _orders(T, out, x):
    """out, d(sum(out^2 * c))/dx, and the gradient of that gradient's squared norm."""
    c = T.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
    (g,) = T.autograd.grad((out * out * c).sum(), x, create_graph=True)
    return out, g, T.autograd.grad((g * g).sum(), x, allow_unused=True)[0]


# as_strided read a copy of the tensor alone (not its memory block) when the block was dense in
# another order than C or Fortran (exp of a permuted tensor) or was itself an as_strided view
@pytest.mark.parametrize("case", [
    lambda T, x: (x.reshape(2, 3, 4).permute(1, 0, 2) * 2).as_strided((2, 3), (1, 2)),
    lambda T, x: (x.reshape(2, 3, 4).permute(2, 0, 1).exp()).as_strided((3, 2), (1, 5), 2),
    lambda T, x: (x * 1).as_strided((2, 2), (1, 0)).as_strided((2, 2), (2, 1), 1),
    lambda T, x: (x * 1).as_strided((3, 2), (2, 1)).as_strided((2,), (3,), 1),
    lambda T, x: (x * 1).as_strided((2, 2), (1, 0)).as_strided((2, 2), (1, 0)) ** 2])
def test_as_strided_reads_the_memory_block(case):
    def run(T):
        x = _x(T, (24,))
        return _orders(T, case(T, x), x)

    _both(run)


def _both_or_raise(f, tol=1e-12):
    """The same values, or the same exception type, in both libraries."""
    out = []
    for lib in LIBS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(f(lib))
        except Exception as e:  # noqa: BLE001  (compared below)
            out.append(e)
    want, got = out
    if isinstance(want, Exception):
        assert type(got).__name__ == type(want).__name__, f"torch raised {want!r}, ndgrad {got!r}"
        return
    assert not isinstance(got, Exception), f"ndgrad raised {got!r}"
    _same(want, got, tol)


def _lerp_self(T, weight):
    x = _x(T, (3,))
    t = x * 1
    w = weight if not isinstance(weight, bool) else T.tensor(0.5, requires_grad=weight)
    t.lerp_(t, w)  # writes an input it would save for the weight's gradient
    return t, T.autograd.grad((t * t).sum(), x)


def _lerp_end_written(T):
    x, e = _x(T, (3,)), _x(T, (3,), 1).detach()
    y = T.lerp(x, e, 0.3)
    e.add_(1)
    return T.autograd.grad((y * y).sum(), x)


# lerp saved its input and end even for a weight needing no gradient: torch saves them only for
# the weight's, so writing them afterwards (t.lerp_(t, .5)) is no error; a 0-d weight of another
# dtype is a scalar to torch (ndgrad refused it)
@pytest.mark.parametrize("case", [
    lambda T: _lerp_self(T, 0.5), lambda T: _lerp_self(T, False), lambda T: _lerp_self(T, True),
    _lerp_end_written, lambda T: T.lerp(_x(T, (3,)), _x(T, (3,), 1), T.tensor(2))])
def test_lerp_saves_input_and_end_for_the_weight_only(case):
    _both_or_raise(case)


def _write_strided_view(T, make_base, size, stride, offset):
    x = _x(T, (2, 3))
    base = make_base(T, x)
    v = base.as_strided(size, stride, offset)
    v.mul_(T.tensor(np.linspace(1.5, 3.0, int(np.prod(size))).reshape(size)))
    c = T.tensor(np.random.default_rng(2).standard_normal(tuple(base.shape)))
    (g,) = T.autograd.grad((base * c * base).sum(), x, create_graph=True)
    return base, g, T.autograd.grad((g * g).sum(), x)[0]


# a write through an as_strided view of a base laid out otherwise than C-contiguously (sin of a
# transposed tensor): CopySlices replayed the view on the gradient's memory in the gradient's own
# layout (a C-order copy), so the wrong elements' gradients were zeroed and routed: wrong
# gradients at every order. torch lays the gradient out as the base.
@pytest.mark.parametrize("make_base", [lambda T, x: (x.t() * 2).sin(), lambda T, x: (x * 2).sin()])
@pytest.mark.parametrize("size,stride,offset", [((2,), (1,), 1), ((2, 2), (2, 1), 1),
                                                ((3,), (2,), 0)])
def test_write_through_as_strided_view_of_any_layout(make_base, size, stride, offset):
    _both(lambda T: _write_strided_view(T, make_base, size, stride, offset))


def _layouts(T):
    a = T.zeros(4, 6)
    return [a.t(), a.t()[::2], a[:, ::2].t(), a.unsqueeze(0).expand(2, 4, 6).transpose(0, 2),
            a[0:1].expand(3, 6).t(), T.zeros(2, 3, 4).permute(2, 0, 1)[:, ::2]]


def _clone_layout(T, i, memory_format):
    t = _layouts(T)[i]
    c = t.clone() if memory_format is None else t.clone(memory_format=getattr(T, memory_format))
    T.manual_seed(0)
    drawn = c.normal_()  # drawn in memory order
    return _strides(c), c.is_contiguous(), drawn, t.contiguous().is_contiguous()


def _clone_view(T):
    return T.zeros(3, 2).t().clone().view(-1)


# clone's preserve_format (its default) keeps a dense tensor's strides (others: the order of
# theirs), so a random fill of the clone draws in that order and .view() refuses as in torch
@pytest.mark.parametrize("i,memory_format", [
    (i, f) for i in range(6) for f in (None, "preserve_format", "contiguous_format")])
def test_clone_preserves_layout(i, memory_format):
    _both(lambda T: _clone_layout(T, i, memory_format))


def test_view_of_a_clone_of_a_transpose_raises():
    _both_or_raise(_clone_view)


FILLS = {
    "normal_": lambda T, t: t.normal_(0.5, 2.0), "uniform_": lambda T, t: t.uniform_(-1.0, 3.0),
    "bernoulli_": lambda T, t: t.bernoulli_(0.3), "exponential_": lambda T, t: t.exponential_(1.5),
    "random_": lambda T, t: t.random_(0, 5),
    "bernoulli_(p row)": lambda T, t: t.bernoulli_(T.linspace(0, 1, t.shape[-1], dtype=t.dtype)),
    "bernoulli_(p transposed)": lambda T, t: t.bernoulli_(
        T.linspace(0, 1, t.numel(), dtype=t.dtype).reshape(t.shape[::-1]).t()),
}
FILL_TARGETS = {
    "contiguous": lambda T, dt: T.zeros(4, 6, dtype=dt),
    "dense transposed": lambda T, dt: T.zeros(6, 4, dtype=dt).t().exp(),
    "small transposed": lambda T, dt: T.zeros(3, 2, dtype=dt).t().exp(),
    "strided": lambda T, dt: T.zeros(6, 8, dtype=dt)[:, ::2],
    "view of a graph": lambda T, dt: (_x(T, (5, 4)).to(dt) * 1).t()[:, 1:],
}


def _fill(T, fill, target, dtype):
    T.manual_seed(1)
    t = FILL_TARGETS[target](T, getattr(T, dtype))
    FILLS[fill](T, t)
    return t, T.rand(3)  # and the stream after it


# normal_ of a non-contiguous tensor of 16 elements or more took torch's 16-wide kernel (torch
# runs its scalar kernel there: other values); bernoulli_ with a tensor p on a transposed tensor
# failed (p was not laid out as the draws)
@pytest.mark.parametrize("fill", sorted(FILLS))
@pytest.mark.parametrize("target", sorted(FILL_TARGETS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_fills_of_any_layout(fill, target, dtype):
    _both(lambda T: _fill(T, fill, target, dtype), 1e-6)


def _expanded_fill(T, fill, grad, backward):
    x = _x(T, (2, 3), 3)
    y = x * 1 if grad else x.detach() * 1
    v = y[0:1].expand(2, 3)
    FILL_EXPANDED[fill](T, v)
    names = (_attr(v, "grad_fn"), _attr(y, "grad_fn"))
    return y, names, T.autograd.grad((y * y).sum(), x) if grad and backward else None


FILL_EXPANDED = {
    "fill_": lambda T, t: t.fill_(1.5), "zero_": lambda T, t: t.zero_(),
    "fill_(tensor)": lambda T, t: t.fill_(T.tensor(0.5, dtype=T.float64)),
    "masked_fill_": lambda T, t: t.masked_fill_(T.tensor([True, False, True]), 0.5),
    "masked_fill_(mask per row)": lambda T, t: t.masked_fill_(
        T.tensor([[True, False, False], [False, False, True]]), 0.5),
    "index_fill_": lambda T, t: t.index_fill_(1, T.tensor([0]), 0.5),
    "index_put_": lambda T, t: t.index_put_((T.tensor([0]),), T.tensor(0.5, dtype=T.float64)),
    "sub_": lambda T, t: t.sub_(1),
}


# torch's fills (fill_, zero_, masked_fill_, index_fill_...) write through an expanded tensor,
# recorded or not; a recorded one fails in backward, where its gradient would be written through
# the expanded view (ndgrad refused fill_, zero_ and masked_fill_ always, a recorded index_fill_
# too, and took fill_ of a tensor, a copy in torch, as a fill). Only the written positions are
# written: an alias left alone must not undo them.
@pytest.mark.parametrize("fill", sorted(FILL_EXPANDED))
@pytest.mark.parametrize("grad,backward", [(False, False), (True, False), (True, True)])
def test_fills_through_an_expanded_tensor(fill, grad, backward):
    _both_or_raise(lambda T: _expanded_fill(T, fill, grad, backward))


WITH_DETACHED = {
    "x * x.detach()": lambda T, x: x * x.detach(),
    "hypot(x.detach(), x)": lambda T, x: T.hypot(x.detach(), x),
    "addcmul(x, x, x.detach())": lambda T, x: T.addcmul(x, x, x.detach()),
    "x * x.data": lambda T, x: x * x.data,
    "outer with x.detach()": lambda T, x: x.reshape(3, 1) @ x.detach().reshape(1, 3),
}


# an op given x and x.detach() (one array, two tensors) matched both saved values to x: the
# second derivative through the detached operand was not zero
@pytest.mark.parametrize("case", sorted(WITH_DETACHED))
def test_op_of_a_tensor_and_its_detached_self(case):
    _both(lambda T: _detached_orders(T, case))


def _detached_orders(T, case):
    x = _x(T, (3,))
    return _orders(T, WITH_DETACHED[case](T, x), x)


NAMED = {
    "log1p": lambda T, x: x.log1p(), "sum(dim) of 0-d": lambda T, x: x[0, 0].sum(0),
    "mean(dim) of 0-d": lambda T, x: x[0, 0].mean(-1, keepdim=True),
    "reshape of a viewable transpose": lambda T, x: x.t().reshape(3, 2),
    "flatten of a strided view": lambda T, x: x[:, :1].flatten(),
    "reshape of contiguous": lambda T, x: x.reshape(6),
    "fmod(x, scalar)": lambda T, x: T.fmod(x, 0.7), "fmod(x, y)": lambda T, x: T.fmod(x, x + 3),
}


# grad_fn names that were not torch's
@pytest.mark.parametrize("name", sorted(NAMED))
def test_grad_fn_names(name):
    _both(lambda T: NAMED[name](T, _x(T, (2, 3))).grad_fn.name())


if __name__ == "__main__":
    for s in sys.argv[1:]:
        print("\n  ".join(run_program(int(s)).log))
