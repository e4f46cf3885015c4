"""Every op-table entry against torch (values, dtypes, shapes, gradients) and finite differences."""

import numpy as np
import pytest

from harness import check_op, gradcheck_op
from op_db import OPS
import op_db.all  # noqa: F401  (registers every family)

CASES = [(op, dt) for op in OPS for dt in op.dtypes]


@pytest.mark.parametrize("op,dtype", CASES, ids=[f"{o.name}-{d}" for o, d in CASES])
def test_op_matches_torch(op, dtype):
    if op.skip_reason:
        pytest.xfail(op.skip_reason)
    check_op(op, dtype, np.random.default_rng(0))


GRAD_OPS = [op for op in OPS if op.grad and op.gradcheck and "float64" in op.dtypes]


@pytest.mark.parametrize("op", GRAD_OPS, ids=[o.name for o in GRAD_OPS])
def test_gradcheck(op):
    gradcheck_op(op, np.random.default_rng(0))
