"""Linear algebra: matmul (and `@`, dot), solve, inv, det, norm ..."""

from __future__ import annotations

import numpy as np

from ..ir.core import Array, DType, make_type, promote
from .registry import TypeRuleError, primitive


def _matmul_rule(ts, **_):
    a, b = ts
    if a.ndim == 0 or b.ndim == 0:
        raise TypeRuleError("matmul: operands must be arrays, not scalars (use * for scaling)")
    dt = promote(a.dtype, b.dtype)
    if dt == DType.bool:
        dt = DType.bool
    if a.ndim == 1 and b.ndim == 1:
        nd = 0
    elif a.ndim == 1:
        nd = b.ndim - 1
    elif b.ndim == 1:
        nd = a.ndim - 1
    else:
        nd = max(a.ndim, b.ndim)
    return [make_type(dt, nd)]


# NumPy's matmul: 1-D operands are promoted to matrices and the added axis removed.
matmul = primitive("matmul", _matmul_rule, impl=np.matmul)


def matmul_values(a, b):
    return matmul(a, b)
