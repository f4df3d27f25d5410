"""Shape primitives: reshape, transpose, stack, concatenate, broadcasting, and the length of a
range. Shapes are run-time values; only the number of dimensions is part of a type."""

from __future__ import annotations

import numpy as np

from ..ir.core import Array, DType, Scalar, make_type, promote
from .registry import TypeRuleError, check_int_scalars, primitive


def _stack_rule(ts, axis, **_):
    if not ts:
        raise TypeRuleError("stack needs at least one array")
    nd = ts[0].ndim
    if any(t.ndim != nd for t in ts):
        raise TypeRuleError(f"stack needs arrays of the same ndim, found {', '.join(map(str, ts))}")
    if not -(nd + 1) <= axis <= nd:
        raise TypeRuleError(f"axis {axis} is out of bounds for stacking arrays of {nd} dimension(s)")
    return [Array(promote(*(t.dtype for t in ts)), nd + 1)]


stack = primitive("stack", _stack_rule, impl=lambda *xs, axis: np.stack(xs, axis=axis))


def _range_len_rule(ts, **_):
    check_int_scalars(ts, "range() arguments")
    return [Scalar(DType.int64)]


range_len = primitive("range_len", _range_len_rule, impl=lambda a, b, c: len(range(int(a), int(b), int(c))))
