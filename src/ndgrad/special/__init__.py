"""Same as torch.special. The Cephes-style kernels (Bessel, Airy, incomplete gamma, zeta, the
orthogonal polynomials, erfcx, ndtri...) are ported from torch's ATen/native/Math.h as vectorised
array code; the rest are torch's other names for ndgrad's functions."""

from .._tensor import Tensor
from . import _ops
from ._ops import POLYNOMIALS as _POLYNOMIALS
from ._ops import PLAIN_UNARY as _PLAIN_UNARY
from ._ops import (entr, erfcx, gammainc, gammaincc, i0e, i1, i1e, log_ndtr, multigammaln, ndtr,
                   ndtri, xlog1py, zeta)

# torch.special.<name> is ndgrad.<target> behind torch.special's own argument check
_ALIASES = {"digamma": "digamma", "psi": "digamma", "erf": "erf", "erfc": "erfc",
            "erfinv": "erfinv", "exp2": "exp2", "expit": "sigmoid", "expm1": "expm1",
            "gammaln": "lgamma", "i0": "i0", "log1p": "log1p", "log_softmax": "log_softmax",
            "logit": "logit", "logsumexp": "logsumexp", "round": "round", "sinc": "sinc",
            "softmax": "softmax", "xlogy": "xlogy"}


def _alias(name: str, target: str):
    def fn(input, *args, **kwargs):
        if not (name == "xlogy" and args and isinstance(args[0], Tensor)):  # xlogy(Number, t)
            _ops._need_tensor("special_" + name, input)
        if name == "round" and not (input.is_floating_point() or input.is_complex()):
            from .._errors import not_implemented  # (torch.round takes integers)

            raise not_implemented("round_vml_cpu", input.dtype)
        import ndgrad  # looked up late: this package is imported while ndgrad's namespace fills

        return getattr(ndgrad, target)(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Same as torch.special.{name} (ndgrad.{target})."
    return fn


def polygamma(n: int, input: Tensor, *, out=None) -> Tensor:
    """Same as torch.special.polygamma."""
    from .. import polygamma as _polygamma

    _ops._need_tensor("special_polygamma", input, "input", 2)
    return _polygamma(n, input, out=out)


globals().update({n: _alias(n, t) for n, t in _ALIASES.items()})
globals().update(_PLAIN_UNARY)
globals().update(_POLYNOMIALS)

__all__ = sorted(["entr", "erfcx", "gammainc", "gammaincc", "i0e", "i1", "i1e", "log_ndtr",
                  "multigammaln", "ndtr", "ndtri", "polygamma", "xlog1py", "zeta", *_ALIASES,
                  *_PLAIN_UNARY, *_POLYNOMIALS])
