"""scaled_dot_product_attention and multi_head_attention_forward, composed from matmul/softmax."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import zeros
from ..._errors import no_derivative, not_implemented
from ..._ops.once import kernel_grads
from ..._parallel import pieces, run
from ..._tensor import Tensor
from ..._trace import produced
from ...autograd.op import Op
from ._utils import is_half, scalar_node
from .activation import Softmax, softmax
from .dropout import dropout
from .linear import linear
from .shape import pad


def _causal_mask(n_q: int, n_k: int, dev) -> Tensor:
    return Tensor._make(dev.xp.tri(n_q, n_k, dtype=bool), dev)


def _float_mask(mask: Tensor, dtype) -> Tensor:
    """A boolean mask (True = attend) as an additive float mask; float masks pass through."""
    if mask.dtype.name == "bool":
        return zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask.logical_not(),
                                                                              float("-inf"))
    return mask


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Same as torch's; a row that masks every key gives zeros, as torch's CPU kernels do."""
    if query.is_complex():  # torch's softmax (math and fused paths) has no complex kernel
        raise not_implemented("softmax_lastdim_kernel_impl", query.dtype)
    n_q, n_k = query.shape[-2], key.shape[-2]
    s = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.unsqueeze(-3).expand(key.shape[:-2] + (rep,) + key.shape[-2:]).flatten(-4, -3)
        value = value.unsqueeze(-3).expand(value.shape[:-2] + (rep,) + value.shape[-2:]) \
            .flatten(-4, -3)
    if _flash_eligible(query, key, value, dropout_p) and not (
            attn_mask is not None and attn_mask.requires_grad):  # torch: math for the mask grad
        if is_causal and attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        mask = None if attn_mask is None else _float_mask(attn_mask, query.dtype)._data
        return ScaledDotProductFlashAttentionForCpu.apply(query, key, value, mask=mask, scale=s,
                                                          causal=is_causal)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        attn_mask = produced(_causal_mask, n_q, n_k, query._device)
    # torch's math path: q and k^T each scaled by sqrt(scale), then a safe softmax (a row that
    # masks every key gives zeros)
    root = math.sqrt(abs(s))
    q = scalar_node(query * (root if s >= 0 else -root), "MulBackward1")
    scores = q @ scalar_node(key.mT * root, "MulBackward1")
    if attn_mask is not None:
        scores = scores + _float_mask(attn_mask, query.dtype)
    weights = SafeSoftmax.apply_one(scores, scores.ndim - 1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


class SafeSoftmax(Softmax):
    """torch's _safe_softmax: softmax, with zeros for a row whose every entry is -inf (also in
    the derivatives: its backward is softmax's, from those zeros)."""

    __slots__ = ()

    def forward(ctx, a, dim):
        xp = ctx.xp
        dead = (a == -xp.inf).all(dim, keepdims=True)
        if not dead.any():
            return Softmax.forward(ctx, a, dim)
        out = Softmax.forward(ctx, xp.where(dead, 0, a).astype(a.dtype, copy=False), dim)
        out[...] = xp.where(dead, 0, out)  # the array the saved output refers to
        return out


def _flash_eligible(q, k, v, dropout_p) -> bool:
    """Where torch's CPU sdpa takes its fused (flash) kernel: 4-D, no dropout, one batch and
    head count (after gqa's repeat), value's head size the query's."""
    return (q.ndim == 4 and k.ndim == 4 and v.ndim == 4 and dropout_p == 0.0
            and q.shape[:2] == k.shape[:2] == v.shape[:2] and k.shape[-2] == v.shape[-2]
            and v.shape[-1] == q.shape[-1] == k.shape[-1] and q.dtype.is_floating_point
            and q.dtype is k.dtype is v.dtype and q.numel() > 0 and k.shape[-2] > 0)


def _attention_probs(ns, q, k, scale, mask, causal, into=None):
    """softmax(q k^T scale + mask) over the keys, the keys above the diagonal masked out when
    ``causal``; rows that mask every key are zeros (no nan, in either order of derivative).
    ``into``: an array for the scores (and mostly the probabilities: see the result)."""
    scores = ns.scale(ns.matmul(q, ns.mT(k), into), scale)
    if mask is not None:
        scores = ns.add_mask(scores, mask)
    if causal:  # -inf written over the upper triangle: no mask tensor, no dead rows
        scores = ns.causal(scores)
    dead = None if mask is None else ns.dead(scores)
    if dead is not None:
        scores = ns.zero_rows(scores, dead)
    p = ns.softmax(scores)
    return p if dead is None else ns.zero_rows(p, dead)


def _attention_grads(ns, need, g, q, k, v, scale, mask, causal, p=None, out=None):
    """The gradients of out = softmax(q k^T s + mask) v for q, k, v (written once for arrays and
    tensors). ``p`` and ``out``: the probabilities and output if the forward kept them."""
    if p is None:
        p = _attention_probs(ns, q, k, scale, mask, causal)
    dv = ns.matmul(ns.mT(p), g) if need[2] else None
    dq = dk = None
    if need[0] or need[1]:
        # softmax's backward: ds = p (dp - rowsum(dp p)); rowsum(dp p) = rowsum(g out), a pass
        # over (len, head) instead of (len, len) (flash attention's D)
        rows = ns.sum_last(g * (ns.matmul(p, v) if out is None else out))
        ds = ns.softmax_grad(p, ns.matmul(g, ns.mT(v)), rows)
        dq = ns.scale(ns.matmul(ds, k), scale) if need[0] else None
        dk = ns.scale(ns.matmul(ns.mT(ds), q), scale) if need[1] else None
    return dq, dk, dv


_UPPER: dict = {}
_KEEP_PROBS_BYTES = 32 << 20  # the first-order backward reuses probabilities up to this size


def _upper(xp, n_q, n_k):
    """The keys a causal query may not see (above the diagonal), cached per size on the CPU."""
    if xp is not np:
        return ~xp.tri(n_q, n_k, dtype=bool)
    m = _UPPER.get((n_q, n_k))
    if m is None:
        if len(_UPPER) > 32:
            _UPPER.clear()
        m = _UPPER[n_q, n_k] = ~np.tri(n_q, n_k, dtype=bool)
    return m


class _ArrayNS:
    """The array side: the forward's fresh temporaries are updated in place."""

    def __init__(self, xp):
        self.xp = xp

    def matmul(self, a, b, out=None):
        return self.xp.matmul(a, b, out=out)

    def mT(self, a):
        return self.xp.swapaxes(a, -1, -2)

    def scale(self, s, c):
        s *= c
        return s

    def add_mask(self, s, mask):
        if mask.dtype == s.dtype and mask.ndim <= s.ndim and \
                self.xp.broadcast_shapes(s.shape, mask.shape) == s.shape:
            s += mask
            return s
        return s + mask

    def causal(self, s):
        self.xp.copyto(s, -self.xp.inf, where=_upper(self.xp, *s.shape[-2:]))
        return s

    def softmax(self, s):
        s -= s.max(-1, keepdims=True)
        self.xp.exp(s, out=s)
        s /= s.sum(-1, keepdims=True)
        return s

    def softmax_grad(self, p, dp, rows):
        dp -= rows
        dp *= p
        return dp

    def dead(self, s):
        d = (s == -self.xp.inf).all(-1, keepdims=True)
        return d if d.any() else None

    def zero_rows(self, p, dead):
        return self.xp.where(dead, 0, p)

    def sum_last(self, a):
        return a.sum(-1, keepdims=True)


class _TensorNS:
    matmul = staticmethod(lambda a, b, out=None: a @ b)
    mT = staticmethod(lambda a: a.mT)
    scale = staticmethod(lambda s, c: s * c)
    add_mask = staticmethod(lambda s, mask: s + mask)
    softmax = staticmethod(lambda s: softmax(s, -1))
    softmax_grad = staticmethod(lambda p, dp, rows: p * (dp - rows))
    zero_rows = staticmethod(lambda p, dead: p.masked_fill(dead, 0.0))
    sum_last = staticmethod(lambda a: a.sum(-1, keepdim=True))

    @staticmethod
    def causal(s):
        upper = _upper(s._device.xp, *s.shape[-2:])
        return s.masked_fill(Tensor._make(upper, s._device), float("-inf"))

    @staticmethod
    def dead(s):
        d = (s._data == float("-inf")).all(-1, keepdims=True)
        return Tensor._make(d, s._device) if d.any() else None


class ScaledDotProductFlashAttentionForCpu(Op):
    """sdpa as torch's fused CPU kernel records it: one node, edges (query, key, value); half
    precision computed in float32. Its backward is the attention gradient written once for
    arrays and tensors (where torch stops at second order, this one goes on); the first-order
    pass reuses the forward's probabilities and output."""

    __slots__ = ()

    def forward(ctx, q, k, v, mask, scale, causal=False):
        xp = ctx.xp
        ctx.mask, ctx.scale, ctx.causal, ctx.p = mask, scale, causal, None
        dt, saved = q.dtype, (q, k, v)
        if is_half(dt):
            q, k, v = (a.astype(xp.float32) for a in (q, k, v))
            mask = None if mask is None else mask.astype(xp.float32)
        out = xp.empty_like(saved[0], dtype=dt)  # torch's output keeps the query's strides
        bounds = _pieces(q, k, g=out)
        if len(bounds) == 1:
            p = _attention_probs(_ArrayNS(xp), q, k, scale, mask, causal)
            out[...] = xp.matmul(p, v)
        else:  # a batch in pieces on the threads (every sample on its own: the same bits)
            p = np.empty(q.shape[:-1] + k.shape[-2:-1], q.dtype)

            def piece(lo, hi):
                into = p[lo:hi]
                pp = _attention_probs(_ArrayNS(np), q[lo:hi], k[lo:hi], scale,
                                      _batch(mask, lo, hi, len(q)), causal, into)
                if pp is not into:  # (a mask that is not added in place, dead rows)
                    into[...] = pp
                out[lo:hi] = np.matmul(into, v[lo:hi])

            run(piece, bounds)
        if True in ctx.needs_input_grad:
            ctx.save(*saved, out)
            if p.nbytes <= _KEEP_PROBS_BYTES:  # long sequences recompute them, as torch's kernel
                ctx.p = p
        return out

    def backward(ctx, g):
        q, k, v, _ = ctx.saved_tensors
        mask = None if ctx.mask is None else Tensor._make(ctx.mask, g._device)
        half = is_half(q._data.dtype)
        if half:
            q, k, v, g = q.float(), k.float(), v.float(), g.float()
            mask = None if mask is None else mask.float()
        grads = _attention_grads(_TensorNS, ctx.needs_input_grad, g, q, k, v, ctx.scale, mask,
                                 ctx.causal)
        return kernel_grads(grads, (g, *ctx.saved_tensors[:3]), _no_flash_double)

    def backward_raw(ctx, g):
        q, k, v, out = ctx.saved_arrays
        if is_half(q.dtype):
            return NotImplemented
        need, p = ctx.needs_input_grad, ctx.p
        bounds = _pieces(q, k, g)
        if len(bounds) == 1:
            return _attention_grads(_ArrayNS(ctx.xp), need, g, q, k, v, ctx.scale, ctx.mask,
                                    ctx.causal, p, out)
        grads = [np.empty(a.shape, a.dtype) if n else None for a, n in zip((q, k, v), need)]

        def piece(lo, hi):
            part = _attention_grads(_ArrayNS(np), need, g[lo:hi], q[lo:hi], k[lo:hi], v[lo:hi],
                                    ctx.scale, _batch(ctx.mask, lo, hi, len(q)), ctx.causal,
                                    None if p is None else p[lo:hi], out[lo:hi])
            for full, a in zip(grads, part):
                if full is not None:
                    full[lo:hi] = a

        run(piece, bounds)
        return tuple(grads)


def _pieces(q, k, g):
    """Pieces of the batch for the threads (``_parallel``): NumPy arrays of one dtype, the
    work counted as ~32 passes over the scores (nanoGPT's 8x4x64x64: forward 500 us)."""
    if type(q) is not np.ndarray or type(g) is not np.ndarray or g.dtype != q.dtype:
        return ((0, len(q)),)
    per = math.prod(q.shape[1:-1]) * k.shape[-2] * 32
    return pieces(len(q), per, 1, q)


def _batch(mask, lo, hi, n):
    """The additive mask's rows for samples lo:hi (a mask that broadcasts over the batch as
    it is)."""
    if mask is None or mask.ndim < 4 or mask.shape[0] != n:
        return mask
    return mask[lo:hi]


def _no_flash_double():
    return no_derivative("_scaled_dot_product_flash_attention_for_cpu_backward")


def cat(tensors, dim=0):
    from ... import cat as _cat  # late: the joins live in a module imported after nn's

    return _cat(tensors, dim)


def _check_key_padding_mask(mask: Tensor, src_len: int, bsz: int) -> None:
    if mask.shape[0] != bsz:
        raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                             f"{tuple(mask.shape)}")
    if mask.shape[1] != src_len:
        raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                             f"{tuple(mask.shape)}")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """torch's checks; True for batched (3-D) inputs."""
    if query.ndim not in (2, 3):
        raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    kind, n = ("batched (3-D)", 3) if batched else ("unbatched (2-D)", 2)
    if key.ndim != n or value.ndim != n:
        raise AssertionError(f"For {kind} `query`, expected `key` and `value` to be {n}-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != n - 1:
        raise AssertionError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                             f"{n - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or "
                                 f"3-D but found {attn_mask.ndim}-D tensor instead")
        want = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != want:
            raise AssertionError(f"Expected `attn_mask` shape to be {want} but got "
                                 f"{attn_mask.shape}")
    return batched


def _canonical_mask(mask, name, other_type, other_name, target_type, check_other=True):
    if mask is None:
        return None
    if mask.dtype.name != "bool" and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      "type for both instead.", stacklevel=3)
    if mask.dtype.name == "bool":  # here True means "masked out" (sdpa's bool masks: "attend")
        return zeros(mask.shape, dtype=target_type, device=mask.device).masked_fill(
            mask, float("-inf"))
    return mask


def _in_projection(query, key, value, w, b, separate):
    e = query.shape[-1]
    if separate is not None:
        wq, wk, wv = separate
    else:
        wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
    bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
    if key is value and query is key and separate is None:
        q, k, v = linear(query, w, b).unflatten(-1, (3, e)).unbind(-2)
        return q, k, v
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Same as torch.nn.functional.multi_head_attention_forward (sequence-first layout)."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       None if attn_mask is None else attn_mask.dtype,
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to create "
                           "this mask.")
    attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got "
                             f"{embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight \
        else None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, k.shape[0]):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, k.shape[0])}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            want = (bsz * num_heads, tgt_len, k.shape[0])
            if tuple(attn_mask.shape) != want:
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {want}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = static_k if static_k is not None else \
        k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = static_v if static_v is not None else \
        v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        z = zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = cat([k, z], 1), cat([v, z], 1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        _check_key_padding_mask(key_padding_mask, src_len, bsz)
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len) \
            .reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if not need_weights:  # torch's path: sdpa over (bsz, heads, len, head_dim) views
        if attn_mask is not None:
            attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 and \
                attn_mask.ndim == 3 else attn_mask.view(bsz, num_heads, -1, src_len)
        out = scaled_dot_product_attention(q.view(bsz, num_heads, tgt_len, head_dim),
                                           k.view(bsz, num_heads, src_len, head_dim),
                                           v.view(bsz, num_heads, src_len, head_dim),
                                           attn_mask, dropout_p)
        out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        return (out if batched else out.squeeze(1)), None
    scores = (q * math.sqrt(1.0 / head_dim)) @ k.mT
    if attn_mask is not None:
        scores = scores + attn_mask
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    out = (weights @ v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not batched:
        out = out.squeeze(1)
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights
