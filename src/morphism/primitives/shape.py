"""Shape primitives: reshape, transpose, broadcasting, stack, concatenate, squeeze, roll, and the
length of a range. Shapes are run-time values; only the number of dimensions is part of a type,
so a primitive that makes a new shape takes its dims as i64 scalar operands.

Everything else in NumPy's shape API (expand_dims, flip, tile, repeat, diagonal, ...) is
composed from these and from `getitem` in `frontend/np_api/shape.py`.
"""

from __future__ import annotations

import numpy as np

from ..ir.core import Array, DType, Scalar, make_type, promote
from .registry import (
    ELEMENTWISE,
    LINEAR,
    TypeRuleError,
    check_int_scalars,
    normalize_axis,
    primitive,
    require_array,
    same_type,
)


def _owned(r):
    # Results never alias their inputs: a value is immutable in the IR, and the backend writes
    # in place only into arrays it owns.
    r = np.asarray(r)
    return r.copy() if r.base is not None else r


def _shape(dims) -> tuple[int, ...]:
    return tuple(int(d) for d in dims)


# ---- stack / concatenate --------------------------------------------------------------------


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


def _concatenate_rule(ts, axis, **_):
    if not ts:
        raise TypeRuleError("concatenate needs at least one array")
    nd = ts[0].ndim
    if nd == 0:
        raise TypeRuleError("zero-dimensional arrays cannot be concatenated")
    if any(t.ndim != nd for t in ts):
        raise TypeRuleError(f"concatenate needs arrays of the same ndim, found {', '.join(map(str, ts))}")
    normalize_axis(axis, nd)
    return [Array(promote(*(t.dtype for t in ts)), nd)]


concatenate = primitive("concatenate", _concatenate_rule, impl=lambda *xs, axis: np.concatenate(xs, axis=axis))


# ---- new shapes from run-time dims ----------------------------------------------------------


def _reshape_rule(ts, **_):
    x, *dims = ts
    check_int_scalars(dims, "reshape dims")
    return [make_type(x.dtype, len(dims))]


# reshape(x, *dims): one dim may be -1 (inferred at run time, as in NumPy). Row-major order.
reshape = primitive("reshape", _reshape_rule, impl=lambda x, *dims: _owned(np.reshape(x, _shape(dims))))


def _broadcast_to_rule(ts, **_):
    x, *dims = ts
    check_int_scalars(dims, "broadcast_to dims")
    if x.ndim > len(dims):
        raise TypeRuleError(f"cannot broadcast a value of {x.ndim} dimension(s) to {len(dims)} dimension(s)")
    return [make_type(x.dtype, len(dims))]


broadcast_to = primitive("broadcast_to", _broadcast_to_rule,
                         impl=lambda x, *dims: np.array(np.broadcast_to(x, _shape(dims))))


# ---- axis permutations and removals ---------------------------------------------------------


def _transpose_rule(ts, perm, **_):
    (x,) = ts
    if sorted(perm) != list(range(x.ndim)):
        raise TypeRuleError(f"axes {perm} are not a permutation of the {x.ndim} axes of {x}")
    return [x]


transpose = primitive("transpose", _transpose_rule, impl=lambda x, perm: _owned(np.transpose(x, perm)))


def _squeeze_rule(ts, axes, **_):
    (x,) = ts
    norm = [normalize_axis(a, x.ndim) for a in axes]
    if len(set(norm)) != len(norm):
        raise TypeRuleError(f"repeated axis in squeeze: {axes}")
    return [make_type(x.dtype, x.ndim - len(norm))]


# squeeze(x, axes): NumPy raises at run time when one of the axes does not have length 1.
squeeze = primitive("squeeze", _squeeze_rule, impl=lambda x, axes: _owned(np.squeeze(x, axis=axes)))


def _roll_rule(ts, axis, **_):
    x, shift = ts
    require_array(x, "roll")
    normalize_axis(axis, x.ndim)
    check_int_scalars([shift], "the shift of roll")
    return [x]


# roll(x, shift, axis): the shift is a run-time operand.
roll = primitive("roll", _roll_rule, impl=lambda x, shift, axis: np.roll(x, int(shift), axis=axis))


# A new array equal to x. The IR is functional, so this matters only to the frontend: a name bound
# to a copy must not see writes through the original (Python aliasing is tracked by Var identity).
copy = primitive("copy", same_type, impl=lambda x: np.array(x, copy=True), traits={ELEMENTWISE, LINEAR})


# ---- ranges ---------------------------------------------------------------------------------


def _range_len_rule(ts, **_):
    check_int_scalars(ts, "range() arguments")
    return [Scalar(DType.int64)]


range_len = primitive("range_len", _range_len_rule, impl=lambda a, b, c: len(range(int(a), int(b), int(c))))


# ============================================================================================
# Derivative rules, beside the primitives above. All of these are linear in their array
# operands: a tangent goes through the same primitive, a cotangent through its transpose, which
# needs only the operands' dims (never their values).
#   jvp(ins, ins_dot, outs, **params) -> outs_dot      (None is a symbolic zero)
#   vjp(cts, ins, outs, **params)     -> ins_ct

from ..ir.core import lit as _lit  # noqa: E402
from ..transforms import adutil as _adu  # noqa: E402
from .elementwise import add as _add  # noqa: E402
from .elementwise import neg as _neg  # noqa: E402
from .indexing import dim as _dim  # noqa: E402
from .indexing import getitem as _getitem  # noqa: E402
from .registry import NOT_APPLICABLE  # noqa: E402


def _float_ct(ct, x):
    """`ct` for an operand that carries derivatives, None for the others."""
    return ct if ct is not None and _adu.is_float(x.type) else None


def _tangents_or_zeros(ins, ts):
    """One tangent per operand of a join, zeros where an operand has none (None: all zero)."""
    if all(t is None for t in ts):
        return None
    return [t if t is not None else _adu.zeros_like(x) for x, t in zip(ins, ts)]


def _stack_jvp(ins, ts, outs, axis):
    ts = _tangents_or_zeros(ins, ts)
    return [None if ts is None else stack(*ts, axis=axis)]


def _stack_vjp(cts, ins, outs, axis):
    (ct,) = cts
    if ct is None:
        return [None] * len(ins)
    lead = ("s000",) * (axis % (ins[0].type.ndim + 1))
    return [_getitem(ct, _lit(k), spec=lead + ("i",)) if _adu.is_float(x.type) else None
            for k, x in enumerate(ins)]


stack.jvp, stack.vjp = _stack_jvp, _stack_vjp


def _concatenate_jvp(ins, ts, outs, axis):
    ts = _tangents_or_zeros(ins, ts)
    return [None if ts is None else concatenate(*ts, axis=axis)]


def _concatenate_vjp(cts, ins, outs, axis):
    (ct,) = cts
    if ct is None:
        return [None] * len(ins)
    axis = normalize_axis(axis, ins[0].type.ndim)
    lead = ("s000",) * axis
    res, start = [], _lit(0)
    for k, x in enumerate(ins):
        n = _dim(x, axis=axis)
        stop = n if k == 0 else _add(start, n)
        res.append(_getitem(ct, start, stop, spec=lead + ("s110",)) if _adu.is_float(x.type) else None)
        start = stop
    return res


concatenate.jvp, concatenate.vjp = _concatenate_jvp, _concatenate_vjp

reshape.jvp = lambda ins, ts, outs: [None if ts[0] is None else reshape(ts[0], *ins[1:])]
reshape.vjp = lambda cts, ins, outs: [
    None if _float_ct(cts[0], ins[0]) is None else reshape(cts[0], *_adu.dims_of(ins[0])),
    *([None] * (len(ins) - 1))]

broadcast_to.jvp = lambda ins, ts, outs: [None if ts[0] is None else broadcast_to(ts[0], *ins[1:])]
broadcast_to.vjp = lambda cts, ins, outs: [_adu.unbroadcast(cts[0], ins[0]), *([None] * (len(ins) - 1))]

transpose.jvp = lambda ins, ts, outs, perm: [None if ts[0] is None else transpose(ts[0], perm=perm)]
transpose.vjp = lambda cts, ins, outs, perm: [
    None if _float_ct(cts[0], ins[0]) is None
    else transpose(cts[0], perm=tuple(int(p) for p in np.argsort(perm)))]

# squeeze removes axes of length 1: its transpose reshapes back to the operand's dims.
squeeze.jvp = lambda ins, ts, outs, axes: [None if ts[0] is None else squeeze(ts[0], axes=axes)]
squeeze.vjp = lambda cts, ins, outs, axes: [
    None if _float_ct(cts[0], ins[0]) is None else reshape(cts[0], *_adu.dims_of(ins[0]))]


def _roll_vjp(cts, ins, outs, axis):
    x, shift = ins
    ct = _float_ct(cts[0], x)
    return [None if ct is None else roll(ct, _neg(shift), axis=axis), None]


roll.jvp = lambda ins, ts, outs, axis: [None if ts[0] is None else roll(ts[0], ins[1], axis=axis)]
roll.vjp = _roll_vjp

copy.jvp = lambda ins, ts, outs: [ts[0]]
copy.vjp = lambda cts, ins, outs: [_float_ct(cts[0], ins[0])]

range_len.jvp = range_len.vjp = NOT_APPLICABLE("the length of a range is an integer: it has no derivative")


# ---- native lowering (Numba) ------------------------------------------------------------------


def _nb_broadcast_to(g, e, ins):
    dims = ins[1:]
    shape = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    if e.inputs[0].type.ndim == 0:
        return f"np.full({shape}, {ins[0]})"
    return f"np.broadcast_to({ins[0]}, {shape})"


range_len.numba = "sup.range_len({0}, {1}, {2})"
copy.numba = "{0}.copy()"
broadcast_to.numba = _nb_broadcast_to
