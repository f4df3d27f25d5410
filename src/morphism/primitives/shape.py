"""Shape primitives: reshape, transpose, broadcasting, stack, concatenate, squeeze, roll, and the
length of a range. Shapes are run-time values; only the number of dimensions is part of a type,
so a primitive that makes a new shape takes its dims as i64 scalar operands.

Everything else in NumPy's shape API (expand_dims, flip, tile, repeat, diagonal, ...) is
composed from these and from `getitem` in `frontend/np_api/shape.py`.
"""

from __future__ import annotations

from functools import reduce as _fold

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


def _nb_reshape(g, e, ins):
    dims = ins[1:]
    if isinstance(e.inputs[0].type, Scalar):
        # np.ravel(s), np.reshape(s, (1, -1)): Numba cannot reshape a scalar. Other dims are
        # an error, which NumPy raises in object mode.
        if all(isinstance(d, _Lit) and int(d.value) in (1, -1) for d in e.inputs[1:]):
            return f"np.full(({'1, ' * len(dims)}), {ins[0]})"
        g.fallback(e, ins)
        return None
    return f"np.ascontiguousarray({ins[0]}).reshape(({', '.join(dims)}{',' if len(dims) == 1 else ''}))"


def _nb_transpose(g, e, ins, perm):
    # a view, as in NumPy (the in-place analysis knows transpose results share memory)
    if tuple(perm) == tuple(range(len(perm))):
        return ins[0]
    if tuple(perm) == (1, 0):
        return f"{ins[0]}.T"
    return f"np.transpose({ins[0]}, {tuple(perm)!r})"


def _nb_squeeze(g, e, ins, axes):
    n = e.inputs[0].type.ndim
    axes = {a % n for a in axes}
    for a in sorted(axes):
        g.emit(f"if {ins[0]}.shape[{a}] != 1:")
        g.emit("    raise ValueError('cannot select an axis to squeeze out which has size not equal to one')")
    keep = [f"{ins[0]}.shape[{k}]" for k in range(n) if k not in axes]
    if not keep:
        return f"{ins[0]}[{', '.join(['0'] * n)}]"
    return f"np.ascontiguousarray({ins[0]}).reshape(({', '.join(keep)}{',' if len(keep) == 1 else ''}))"


def _nb_joined(e, ins) -> list[str]:
    """The operands of a join, each converted to the result's dtype."""
    from ..backends.numba_backend import np_dtype

    out = e.outputs[0].type
    return [x if a.type.dtype == out.dtype else f"{x}.astype({np_dtype(out)})" if a.type.ndim
            else f"{np_dtype(out)}({x})" for a, x in zip(e.inputs, ins)]


def _nb_tuple(xs: list[str]) -> str:
    return "(" + ", ".join(xs) + ("," if len(xs) == 1 else "") + ")"


# Numba's np.concatenate and np.stack take a tuple of arrays of one ndim.
def _nb_concatenate(g, e, ins, axis):
    return f"np.concatenate({_nb_tuple(_nb_joined(e, ins))}, axis={axis % e.inputs[0].type.ndim})"


def _nb_stack(g, e, ins, axis):
    from ..backends.numba_backend import np_dtype

    if e.inputs[0].type.ndim == 0:  # scalars: a 1-d array of them
        return f"np.array([{', '.join(_nb_joined(e, ins))}], {np_dtype(e.outputs[0].type)})"
    return f"np.stack({_nb_tuple(_nb_joined(e, ins))}, axis={axis % (e.inputs[0].type.ndim + 1)})"


def _nb_roll(g, e, ins, axis):
    # Numba's np.roll has no axis: the two pieces of the axis, concatenated in the other order.
    x, nd = ins[0], e.inputs[0].type.ndim
    axis %= nd
    n, s = g._name(e.outputs[0]) + "_len", g._name(e.outputs[0]) + "_shift"
    g.emit(f"{n} = {x}.shape[{axis}]")
    g.emit(f"{s} = {n} - ({ins[1]} % {n}) if {n} else 0")
    lead = ":, " * axis
    return f"np.concatenate(({x}[{lead}{s}:], {x}[{lead}:{s}]), axis={axis})"


reshape.numba = _nb_reshape
transpose.numba = lambda g, e, ins: _nb_transpose(g, e, ins, **e.params)
squeeze.numba = lambda g, e, ins: _nb_squeeze(g, e, ins, **e.params)
range_len.numba = "sup.range_len({0}, {1}, {2})"
copy.numba = "{0}.copy()"
broadcast_to.numba = _nb_broadcast_to
concatenate.numba = lambda g, e, ins: _nb_concatenate(g, e, ins, **e.params)
stack.numba = lambda g, e, ins: _nb_stack(g, e, ins, **e.params)
roll.numba = lambda g, e, ins: _nb_roll(g, e, ins, **e.params)


# ---- batching (vmap): the batch is a leading axis; every member has the same shape ----------
#   batch(args, batched, size, **params) -> [(out, is_batched), ...]   (see transforms/batchutil)

from ..ir.builder import current as _current  # noqa: E402
from ..ir.core import Lit as _Lit  # noqa: E402
from ..transforms import batchutil as _bu  # noqa: E402
from .elementwise import floordiv as _floordiv  # noqa: E402
from .elementwise import maximum as _maximum  # noqa: E402
from .elementwise import mul as _mul  # noqa: E402


def shape_depends_on_batch(what: str) -> _bu.BatchingError:
    """The error for an array whose shape would differ between the members of a batch."""
    return _bu.BatchingError(f"vmap: the shape of an array depends on a batched value ({what}); every member of "
                             f"a batch must have the same shape", _current().loc,
                             hint="pass the sizes as unbatched arguments (in_axes=None) or as static arguments")


def _joined(args, batched, size):
    """The operands of a join, all batched, and the rank of a member."""
    return [_bu.as_batched(x, b, size) for x, b in zip(args, batched)], _bu.rank(args[0], batched[0])


def _stack_batch(args, batched, size, axis):
    xs, r = _joined(args, batched, size)
    return [(stack(*xs, axis=axis % (r + 1) + 1), True)]


def _concatenate_batch(args, batched, size, axis):
    xs, r = _joined(args, batched, size)
    return [(concatenate(*xs, axis=axis % r + 1), True)]


stack.batch, concatenate.batch = _stack_batch, _concatenate_batch


def _new_dims(prim, args, batched):
    x, *ds = args
    if any(batched[1:]):
        raise shape_depends_on_batch(f"the dims of {prim.name}")
    return x, ds


def _reshape_batch(args, batched, size):
    x, ds = _new_dims(reshape, args, batched)
    if any(isinstance(d, _Lit) and d.value == -1 for d in ds):
        # -1 made explicit: NumPy cannot infer it for an empty batch (0 * k == 0 for every k)
        known = [d for d in ds if not (isinstance(d, _Lit) and d.value == -1)]
        n = _bu.dims(x)[1:]
        total = _fold(_mul, n) if n else _lit(1)
        d = _floordiv(total, _maximum(_fold(_mul, known), _lit(1))) if known else total
        ds = [d if isinstance(k, _Lit) and k.value == -1 else k for k in ds]
    return [(reshape(x, size, *ds), True)]


def _broadcast_to_batch(args, batched, size):
    x, ds = _new_dims(broadcast_to, args, batched)
    return [(broadcast_to(_bu.to_rank(x, x.type.ndim - 1, len(ds)), size, *ds), True)]


reshape.batch, broadcast_to.batch = _reshape_batch, _broadcast_to_batch

transpose.batch = lambda args, batched, size, perm: [(transpose(args[0], perm=(0, *(p + 1 for p in perm))), True)]
squeeze.batch = lambda args, batched, size, axes: [
    (squeeze(args[0], axes=_bu.shift_axes(axes, args[0].type.ndim - 1)), True)]
copy.batch = _bu.elementwise_rule(copy)


def _roll_batch(args, batched, size, axis):
    """A batched shift is a gather: out[b, ..., i, ...] = x[b, ..., (i - shift[b]) mod n, ...],
    along the rolled axis moved next to the batch axis."""
    from .creation import arange
    from .elementwise import mod, sub

    x, shift = args
    ax = axis % _bu.rank(x, batched[0])
    if not batched[1]:
        return [(roll(x, shift, axis=ax + 1), True)]
    lead = 1 if batched[0] else 0
    moved = _bu.move_axis(x, ax + lead, lead)
    n = _dim(moved, axis=lead)
    iota = arange(_lit(0), n, _lit(1), dtype=DType.int64)
    idx = mod(sub(reshape(iota, _lit(1), n), reshape(shift, size, _lit(1))), n)  # (B, n)
    if batched[0]:
        members = reshape(arange(_lit(0), size, _lit(1), dtype=DType.int64), size, _lit(1))
        out = _getitem(moved, members, idx, spec=("a", "a"))
    else:
        out = _getitem(moved, idx, spec=("a",))
    return [(_bu.move_axis(out, 1, ax + 1), True)]


roll.batch = _roll_batch


def _range_len_batch(args, batched, size):
    """len(range(start, stop, step)) = max(ceil((stop - start) / step), 0), member-wise."""
    from .control import check
    from .elementwise import floordiv, maximum, ne, sign, sub
    from .reductions import reduce_all

    start, stop, step = args
    if not (isinstance(step, _Lit) and step.value != 0):
        nonzero = ne(step, _lit(0))
        check(reduce_all(nonzero, axis=None, keepdims=False) if batched[2] else nonzero,
              exc=ValueError, message="range() arg 3 must not be zero")
    n = floordiv(sub(_add(sub(stop, start), step), sign(step)), step)
    return [(maximum(n, _lit(0)), True)]


range_len.batch = _range_len_batch
