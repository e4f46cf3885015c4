"""Op-table entries for torch's tensor predicates and no-op resolutions (is_signed, is_same_size,
is_conj, is_neg, resolve_conj, resolve_neg): bool results, or the input itself."""

import numpy as np

from op_db import SHAPES_UNARY, OpInfo, arr, register

DTYPES = ("float32", "float64", "int64", "uint8", "bool", "complex64")


def _samples(rng, dtype):
    for s in SHAPES_UNARY:
        yield [np.asarray(arr(rng, s, dtype))], {}


register(
    OpInfo("is_signed", lambda T, x: T.is_signed(x), _samples, dtypes=DTYPES, grad=False,
           tags=("Tensor.is_signed",)),
    OpInfo("is_same_size", lambda T, x: (T.is_same_size(x, x), x.is_same_size(x[None])),
           _samples, dtypes=DTYPES, grad=False),
    OpInfo("is_conj", lambda T, x: (T.is_conj(x), x.is_neg(), T.is_neg(x)), _samples,
           dtypes=DTYPES, grad=False, tags=("is_neg",)),
    OpInfo("resolve_conj", lambda T, x: T.resolve_conj(x) * 1, _samples, dtypes=("float32",
                                                                                 "float64")),
    OpInfo("resolve_neg", lambda T, x: T.resolve_neg(x) * 1, _samples,
           dtypes=("float32", "float64")),
)
