"""linear (one fused primitive: the layer every model uses) and bilinear."""

from __future__ import annotations

import functools
import math
import operator

import numpy as np

from ..._errors import reraise_allocation_error, size_mismatch
from ..._grad_mode import anomaly as _anomaly
from ..._grad_mode import state as _grad_state
from ..._tensor import Tensor
from ...amp._state import lower as _autocast
from ...amp._state import state as _autocast_state
from ...autograd import op as _op
from ...autograd.op import _IN, _NEEDS, Op, _edge, _meta, _shared
from ._utils import c_name, mm
from ._utils import torch_name as _tn


def _rows(a):
    """``a`` as a matrix of its last dim (-1 is ambiguous when that dim is 0)."""
    n = a.shape[-1]
    return a.reshape(-1, n) if n else a.reshape(math.prod(a.shape[:-1]), 0)


class _MmT(Op):
    """x @ W.T (+ b) as one node, seen as torch records linear: addmm(b, x, W.t()) or
    mm(x, W.t()), the weight reached through a TBackward0 node and an input that is not a matrix
    through its view (see ``linear``). The forward takes x in any shape (BLAS on its rows); the
    backward sees the rows: gradients for b, x as rows, and W.

    The TBackward0 between the node and W is shown, not run: ``next_functions`` puts it on the
    weight's edge (one node object per graph, as torch's), while the engine hands W's gradient
    straight to W (a node less per layer on every backward)."""

    __slots__ = ()

    @property
    def next_functions(self) -> tuple:
        fns = list(Op.next_functions.fget(self))
        if fns[-1][0] is not None:  # the weight's edge, seen through torch's TBackward0
            t = self.__dict__.get("_t_link")
            if t is None:
                t = self.__dict__["_t_link"] = _link(
                    T, "TBackward0", self.next_edges[-1], self.in_meta[-1], self.xp)
            fns[-1] = t
        return tuple(fns)

    def forward(ctx, *args):
        b, x, w = args if len(args) == 3 else (None, *args)
        need = ctx.needs_input_grad
        i = len(args) - 2  # where x sits among the arguments
        ctx.saved = (x if need[i + 1] else None, w if need[i] else None)
        ctx.row_bias = b is not None and b.ndim == 1  # else the base class sums to its shape
        if x.ndim > 2:  # one GEMM on the rows: NumPy's stacked matmul is ~30% slower
            out = _mm(ctx.xp, _rows(x), w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            out = _mm(ctx.xp, x, w.T)
        if b is not None:
            out += b
        return out

    @classmethod
    def apply_layer(cls, b, x, w):
        """``apply(b, x, w)`` (``Mm``: ``apply(x, w)``, b None) unrolled for a layer's usual call,
        as ``Op.apply_pair`` is: a graph to record, one device, floating point, nothing watching
        (profiler or compile's tracer, anomaly mode, saved-tensor hooks). None otherwise: the
        caller takes ``apply``. Measured: 6.0 -> 3.7 us for a 20-wide layer on one row."""
        dev = x._device
        if (_op._profiler is not None or not _grad_state.grad_enabled or _anomaly.enabled
                or _grad_state.saved_hooks or w._device is not dev):
            return None
        xd, wd = x._data, w._data
        rx, rw = x._requires_grad, w._requires_grad
        if b is None:
            need, rb, bd = (rx, rw), False, None
        else:
            if b._device is not dev:
                return None
            rb, bd = b._requires_grad, b._data
            need = (rb, rx, rw)
        if not (rx or rw or rb) or xd.dtype.kind != "f" or (xd is wd and x is not w):
            return None  # (x and x.detach(): Op.apply gives them arrays of their own)
        try:
            ctx = object.__new__(cls)
            ctx.xp = dev.xp
            ctx.needs_input_grad = need = _NEEDS.get(need) or _shared(_NEEDS, need, need)
            out = cls.forward(ctx, xd, wd) if b is None else cls.forward(ctx, bd, xd, wd)
            ex, ew = _edge(x) if rx else None, _edge(w) if rw else None
            mx, mw = _meta(xd) if rx else None, _meta(wd) if rw else None
            if b is None:
                ctx.next_edges, ctx.in_meta = (ex, ew), (mx, mw)
            else:
                ctx.next_edges = (_edge(b) if rb else None, ex, ew)
                ctx.in_meta = (_meta(bd) if rb else None, mx, mw)
            ctx._hooks = None
            ctx.out_meta = None
            sx, sw = ctx.saved  # forward keeps x for W's gradient, W for x's: inputs, packed
            ctx.saved = (None if sx is None else (_IN, x, x._vc, x._vc[0]),
                         None if sw is None else (_IN, w, w._vc, w._vc[0]))
            return Tensor._make(out, dev, True, ctx, 0)
        except (MemoryError, ValueError) as e:  # NumPy's allocation failures: torch's error
            reraise_allocation_error(e)

    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return _mmt_grads(operator.matmul, lambda t: t.mT, ctx.needs_input_grad, g, x, w,
                          ctx.row_bias)

    def backward_raw(ctx, g):
        x, w = ctx.saved_arrays
        mm_xp = _MM.get(ctx.xp) or _MM.setdefault(ctx.xp, functools.partial(_mm, ctx.xp))
        return _mmt_grads(mm_xp, _T, ctx.needs_input_grad, g, x, w, ctx.row_bias)


_MM: dict = {}  # the array module's matmul, per module (made once, not per backward)
_T = operator.attrgetter("T")
_BLAS = (np.dtype(np.float32), np.dtype(np.float64))


def _mm(xp, a, b):
    """``mm`` of two matrices, through ``ndarray.dot`` where that gives matmul's bits: NumPy's
    dot and matmul call BLAS alike on float32/float64 matrices laid out for it (C or F order),
    but for one output column, or a 1x1 times a row, dot takes other kernels (0 * inf gave 0,
    -0.0 became 0.0), as it does for strided operands (another summation). Measured: matmul's
    ufunc dispatch is 0.6 of a 1 us 1x20 @ 20x20."""
    dt = a.dtype
    if (xp is np and dt in _BLAS and b.dtype is dt and b.shape[1] > 1 and a.size > 1):
        fa, fb = a.flags, b.flags
        if (fa.c_contiguous or fa.f_contiguous) and (fb.c_contiguous or fb.f_contiguous):
            return a.dot(b)
    return mm(xp, a, b)


def _mmt_grads(matmul, tr, need, g, x, w, row_bias):
    """Gradients of (b +) x W^T for b, x's rows and W, written once for arrays and tensors. W's
    is fresh and row-major, so a leaf weight takes that array without a copy. A 1-D input's is
    an outer product, as torch's (a K=1 matmul would turn -0.0 into 0.0)."""
    i = len(need) - 2  # where x sits among the arguments
    g2 = g if g.ndim == 2 else _rows(g)  # (a matrix already: the usual layer)
    gx = matmul(g2, w) if need[i] else None
    gw = None
    if need[i + 1]:
        gw = tr(g2) * x if x.ndim == 1 else matmul(tr(g2), x if x.ndim == 2 else _rows(x))
    if i == 0:
        return gx, gw
    return (g2.sum(0) if row_bias else g2) if need[0] else None, gx, gw


class Addmm(_MmT):
    __slots__ = ()


class Mm(_MmT):
    __slots__ = ()


class T(Op):
    """TBackward0 as ``next_functions`` shows it between a fused linear and its weight (the
    engine does not run it: the linear node gives W's gradient itself)."""

    __slots__ = ()

    def backward(ctx, g):
        return g.mT


class View(Op):
    """A reshape between a fused linear and its input or output (ViewBackward0,
    UnsqueezeBackward0, SqueezeBackward4, UnsafeViewBackward0, CloneBackward0)."""

    __slots__ = ()
    _stateless = True  # keeps nothing per call: ndgrad.compile's replays share the node

    def backward(ctx, g):
        return g.reshape(ctx.shape)

    def backward_raw(ctx, g):
        return g.reshape(ctx.shape)


def _link(cls, name: str, edge, meta, xp, shape=None):
    """A one-input node of ``cls`` on ``edge`` (input ``meta``: shape, dtype), made without an
    output tensor: a step torch records as a node of its own inside the fused op."""
    node = object.__new__(cls)
    node.xp, node.saved, node.needs_input_grad = xp, (), _ONE
    node.next_edges, node.in_meta, node.out_meta, node._hooks = (edge,), (meta,), None, None
    if shape is not None:
        node.shape = shape
    if name != cls._node_name:
        node._name = name
    return (node, 0)


_ONE = (True,)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    if _autocast_state.on:  # torch.autocast: in the region's lower precision
        input, weight, bias = _autocast(input, weight, bias)
    xs, ws = input._data.shape, weight._data.shape
    if not xs or not ws:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{len(xs)}D and {len(ws)}D")
    if len(ws) != 2:
        return _linear_vector(input, weight, bias)
    if xs[-1] != ws[-1]:
        rows = "x".join(map(str, (math.prod(xs[:-1]), xs[-1]) if len(xs) > 1 else (1,) + xs))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows} and "
                           f"{ws[1]}x{ws[0]})")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{c_name(input)} != {c_name(weight)}")
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_tn(bias)} and "
                           f"{_tn(input)}")
    # torch: addmm for a matrix with a bias, and for contiguous input with a 1-D bias (viewed
    # as rows); otherwise matmul (mm on the rows), the bias added after
    fused = bias is not None and (len(xs) == 2 or bias._data.ndim == 1 and
                                  input._data.flags.c_contiguous)
    try:
        out = None
        if len(xs) == 2:
            out = (Addmm if fused else Mm).apply_layer(bias if fused else None, input, weight)
        if out is None:
            out = Addmm.apply(bias, input, weight) if fused else Mm.apply(input, weight)
    except ValueError:
        _bias_error(input, weight, bias)
        raise
    if out._grad_fn is not None and len(xs) != 2:  # (a matrix: torch's graph already)
        out = _torch_graph(out, input, fused)
    return out if fused or bias is None else out + bias


def _torch_graph(out: Tensor, input: Tensor, fused: bool) -> Tensor:
    """Give the fused node torch's edges: an input that is not a matrix through its view as
    rows, and an output that is not a matrix its own view node (W's TBackward0: see _MmT)."""
    node = out._grad_fn
    xp, a, dt = node.xp, input._data, out._data.dtype
    xs, n = a.shape, out._data.shape[-1]  # (not a matrix: the caller checked)
    edges, meta = list(node.next_edges), list(node.in_meta)
    i = 1 if fused else 0  # the input's edge; the weight's follows
    rows = (math.prod(xs[:-1]), xs[-1])
    if edges[i] is not None:
        if len(xs) == 1:
            name = "ViewBackward0" if fused else "UnsqueezeBackward0"
        else:
            name = "ViewBackward0" if a.flags.c_contiguous else "UnsafeViewBackward0"
        if name == "UnsafeViewBackward0":  # torch copies a non-contiguous input: clone, view
            edges[i] = _link(View, "CloneBackward0", edges[i], meta[i], xp, shape=xs)
        edges[i] = _link(View, name, edges[i], meta[i], xp, shape=xs)
        meta[i] = (rows, dt)
    node.next_edges, node.in_meta = tuple(edges), tuple(meta)
    name = "ViewBackward0" if fused else "SqueezeBackward4" if len(xs) == 1 else \
        "UnsafeViewBackward0"
    outer, _ = _link(View, name, (node, 0), ((rows[0], n), dt), xp, shape=(rows[0], n))
    return Tensor._make(out._data, out._device, True, outer, 0)


def _bias_error(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """torch's error for a 1-D bias that does not fit the output: addmm's expand, or add's
    broadcast for a non-contiguous batch."""
    if bias is not None and bias.ndim > 2 and input.ndim == 2:
        raise RuntimeError(f"expand(torch.{_tn(bias)}Tensor{{{list(bias.shape)}}}, size="
                           f"[{input.shape[0]}, {weight.shape[0]}]): the number of sizes provided "
                           f"(2) must be greater or equal to the number of dimensions in the "
                           f"tensor ({bias.ndim})")
    if bias is None or bias.ndim != 1:
        return
    n, b = weight.shape[0], bias.shape[0]
    if input.ndim < 3 or input.is_contiguous():
        rows = math.prod(input.shape[:-1])
        raise RuntimeError(f"The expanded size of the tensor ({n}) must match the existing size "
                           f"({b}) at non-singleton dimension 1.  Target sizes: [{rows}, {n}].  "
                           f"Tensor sizes: [{b}]")
    raise size_mismatch(n, b, input.ndim - 1)


def _linear_vector(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """torch's linear for a weight that is not a matrix: matmul(input, weight) (dot, mv), plus
    bias unless torch's fused addmm path takes it and refuses the vector."""
    if weight.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {weight.ndim}D")
    if bias is not None and (input.ndim == 2 or bias.ndim == 1 and input.is_contiguous()):
        raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
    out = input @ weight
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and "
                           f"{input2.ndim}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    named_ts = [("input1", input1), ("input2", input2), ("weight", weight)] + \
        ([("bias", bias)] if bias is not None else [])
    if len({t.dtype for _, t in named_ts}) > 1:
        raise RuntimeError("All tensors must have the same dtype, got " +
                           ", ".join(f"{n}: {c_name(t)}" for n, t in named_ts))
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {i1}")
    if input2.shape[-1] != i2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {i2}")
    lead = tuple(input1.shape[:-1])
    # torch: _trilinear over the inputs viewed as rows, viewed back, the bias added after
    y = Trilinear.apply(input1.reshape(-1, i1), weight, input2.reshape(-1, i2))
    y = y.reshape(lead + (o,))
    return y if bias is None else y + bias


class Trilinear(Op):
    """y[m, o] = sum_ij a[m, i] W[o, i, j] c[m, j] as one node (torch's _trilinear for
    bilinear): one matmul, then a product-sum over j."""

    __slots__ = ()

    def forward(ctx, a, w, c):
        ctx.save(a, w, c)
        o, i1, i2 = w.shape
        t = mm(ctx.xp, a, w.transpose(1, 0, 2).reshape(i1, o * i2)).reshape(-1, o, i2)
        return (t * c[:, None, :]).sum(-1)

    def backward(ctx, g):
        from ... import einsum

        return _trilinear_grads(einsum, ctx.needs_input_grad, g, *ctx.saved_tensors)

    def backward_raw(ctx, g):
        xp = ctx.xp
        return _trilinear_grads(lambda eq, *ops: xp.einsum(eq, *ops, optimize=True),
                                ctx.needs_input_grad, g, *ctx.saved_arrays)


def _trilinear_grads(einsum, need, g, a, w, c):
    """The three contractions of g with two of the inputs (arrays or tensors)."""
    return (einsum("mo,oij,mj->mi", g, w, c) if need[0] else None,
            einsum("mo,mi,mj->oij", g, a, c) if need[1] else None,
            einsum("mo,mi,oij->mj", g, a, w) if need[2] else None)
