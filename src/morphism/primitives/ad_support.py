"""Primitives that the derivative transformations emit: zeros made from run-time dims,
cotangents summed back to an operand's shape (undoing broadcasting), tangents broadcast to an
output's shape, and the tapes that carry residuals from the forward to the reverse sweep.

They take dims, not arrays, so that reverse mode saves an array's shape, never the array, when
only its shape is needed."""

from __future__ import annotations

import numpy as np

from ..ir.core import Array, DType, Scalar, Tape, make_type
from .registry import LINEAR, TypeRuleError, check_int_scalars, primitive


def _zeros_rule(ts, dtype=DType.float64, **_):
    check_int_scalars(ts, "dims")
    return [make_type(dtype, len(ts))]


# zeros of shape (d0, d1, ...) and dtype; with no dims, a scalar zero.
ad_zeros = primitive("ad_zeros", _zeros_rule,
                     impl=lambda *dims, dtype=DType.float64: np.zeros(tuple(int(d) for d in dims), dtype=dtype.np))


def _to_shape_rule(ts, **_):
    x, *dims = ts
    check_int_scalars(dims, "dims")
    if x.ndim < len(dims):
        raise TypeRuleError(f"cannot sum a value of {x.ndim} dimensions down to {len(dims)}")
    return [make_type(x.dtype, len(dims))]


def _sum_to_shape(x, *dims):
    x = np.asarray(x)
    shape = tuple(int(d) for d in dims)
    lead = x.ndim - len(shape)
    if lead:
        x = x.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, (a, b) in enumerate(zip(x.shape, shape)) if b == 1 and a != 1)
    if axes:
        x = x.sum(axis=axes, keepdims=True)
    return x


# The transpose of broadcasting: sums a cotangent down to the operand's shape.
sum_to_shape = primitive("sum_to_shape", _to_shape_rule, impl=_sum_to_shape, traits={LINEAR})


def _bcast_rule(ts, **_):
    x, *dims = ts
    check_int_scalars(dims, "dims")
    if x.ndim > len(dims):
        raise TypeRuleError(f"cannot broadcast a value of {x.ndim} dimensions to {len(dims)}")
    return [make_type(x.dtype, len(dims))]


broadcast_to_shape = primitive(
    "broadcast_to_shape", _bcast_rule, traits={LINEAR},
    impl=lambda x, *dims: np.array(np.broadcast_to(x, tuple(int(d) for d in dims))))


# ---- tapes ----------------------------------------------------------------------------------


class _TapeValue(list):
    """The interpreter's tape: a Python list (the native backend uses growable arrays)."""


def _tape_new_rule(ts, elem, **_):
    check_int_scalars(ts, "tape capacity")
    return [Tape(elem)]


tape_new = primitive("tape_new", _tape_new_rule, impl=lambda capacity, elem: _TapeValue())


def _tape_push_rule(ts, **_):
    tape, v = ts
    if not isinstance(tape, Tape) or tape.elem != v:
        raise TypeRuleError(f"cannot push a value of type {v} onto {tape}")
    return [tape]


def _tape_push(tape, v):
    # Pushing never changes earlier entries: the list is shared with older versions safely.
    tape.append(v)
    return tape


tape_push = primitive("tape_push", _tape_push_rule, impl=_tape_push)


def _tape_get_rule(ts, **_):
    tape, k = ts
    if not isinstance(tape, Tape):
        raise TypeRuleError(f"tape_get needs a tape, found {tape}")
    check_int_scalars([k], "tape index")
    return [tape.elem]


tape_get = primitive("tape_get", _tape_get_rule, impl=lambda tape, k: tape[int(k)])
