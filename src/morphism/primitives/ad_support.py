"""Primitives that the derivative transformations emit: cotangents summed back to an
operand's shape (the transpose of broadcasting, which `shape.broadcast_to` does), and the tapes
that carry residuals from the forward to the reverse sweep.

Like `creation.zeros` and `shape.broadcast_to`, `sum_to_shape` takes dims, not an array, so that
reverse mode saves an array's shape, never the array, when only its shape is needed."""

from __future__ import annotations

import numpy as np

from ..ir.core import Array, DType, Scalar, Tape, make_type
from .registry import LINEAR, NOT_APPLICABLE, TypeRuleError, check_int_scalars, primitive


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


# ---- tapes ----------------------------------------------------------------------------------


class TapeValue:
    """The interpreter's tape: a shared Python list and this version's length. Pushing appends
    in place when this version is the newest (O(1)), and copies otherwise; an older version keeps
    its own length, so tapes behave as values."""

    __slots__ = ("items", "n")

    def __init__(self, items: list | None = None, n: int | None = None) -> None:
        self.items = items if items is not None else []
        self.n = len(self.items) if n is None else n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k: int):
        if not 0 <= k < self.n:
            raise IndexError(f"tape index {k} out of range for a tape of {self.n}")
        return self.items[k]

    def __iter__(self):
        return iter(self.items[: self.n])

    def push(self, v) -> "TapeValue":
        if len(self.items) == self.n:
            self.items.append(v)
            return TapeValue(self.items, self.n + 1)
        return TapeValue(self.items[: self.n] + [v])


def _tape_new_rule(ts, elem, **_):
    check_int_scalars(ts, "tape capacity")
    return [Tape(elem)]


tape_new = primitive("tape_new", _tape_new_rule, impl=lambda capacity, elem: TapeValue(), traits={"fresh"})


def _tape_push_rule(ts, **_):
    tape, v = ts
    if not isinstance(tape, Tape) or tape.elem != v:
        raise TypeRuleError(f"cannot push a value of type {v} onto {tape}")
    return [tape]


def _tape_push(tape, v):
    return tape.push(v)


tape_push = primitive("tape_push", _tape_push_rule, impl=_tape_push)


def _tape_get_rule(ts, **_):
    tape, k = ts
    if not isinstance(tape, Tape):
        raise TypeRuleError(f"tape_get needs a tape, found {tape}")
    check_int_scalars([k], "tape index")
    return [tape.elem]


tape_get = primitive("tape_get", _tape_get_rule, impl=lambda tape, k: tape[int(k)])


def _tape_len_rule(ts, **_):
    if not isinstance(ts[0], Tape):
        raise TypeRuleError(f"tape_len needs a tape, found {ts[0]}")
    return [Scalar(DType.int64)]


tape_len = primitive("tape_len", _tape_len_rule, impl=lambda tape: len(tape))


def _zeros_like_value(v):
    if isinstance(v, TapeValue):
        return TapeValue([_zeros_like_value(x) for x in v])
    return np.zeros_like(np.asarray(v, dtype=np.float64)) if np.ndim(v) else np.float64(0.0)


# A tape of zeros shaped like `tape` (the cotangent or tangent of a tape that nothing touched).
tape_zeros_like = primitive("tape_zeros_like", lambda ts, **_: [ts[0]],
                            impl=lambda tape: _zeros_like_value(tape))


def _add_values(a, b):
    if isinstance(a, TapeValue):
        return TapeValue([_add_values(x, y) for x, y in zip(a, b)])
    return np.add(a, b)


def _tape_add_at(tape, k, v):
    items = list(tape)  # functional: a new tape
    k = int(k)
    items[k] = _add_values(items[k], v)
    return TapeValue(items)


def _tape_add_at_rule(ts, **_):
    tape, k, v = ts
    if not isinstance(tape, Tape) or tape.elem != v:
        raise TypeRuleError(f"cannot add a value of type {v} into {tape}")
    return [tape]


tape_add_at = primitive("tape_add_at", _tape_add_at_rule, impl=_tape_add_at)
tape_add = primitive("tape_add", lambda ts, **_: [ts[0]], impl=_add_values)


# ---- derivative rules of the AD primitives themselves (for higher order) ----------------------


def _lin(f):
    return f


sum_to_shape.jvp = lambda ins, ts, outs, **p: [None if ts[0] is None else sum_to_shape(ts[0], *ins[1:])]
sum_to_shape.vjp = lambda cts, ins, outs, **p: [None if cts[0] is None else _bcast(cts[0], _dims(ins[0])), *([None] * (len(ins) - 1))]


def _bcast(x, dims):
    from .shape import broadcast_to

    return broadcast_to(x, *dims)


def _dims(x):
    from ..transforms.adutil import dims_of

    return dims_of(x)


def _unb(ct, x):
    from ..transforms.adutil import unbroadcast

    return unbroadcast(ct, x)


tape_new.jvp = lambda ins, ts, outs, **p: [None]
tape_new.vjp = lambda cts, ins, outs, **p: [None]


def _push_jvp(ins, ts, outs, **p):
    tape, v = ins
    t_tape, t_v = ts
    if t_tape is None and t_v is None:
        return [None]
    from ..transforms.adutil import zeros_like

    t_tape = t_tape if t_tape is not None else tape_zeros_like(tape)
    return [tape_push(t_tape, t_v if t_v is not None else zeros_like(v))]


def _push_vjp(cts, ins, outs, **p):
    (ct,) = cts
    if ct is None:
        return [None, None]
    tape, v = ins
    return [ct, tape_get(ct, tape_len(tape))]


tape_push.jvp, tape_push.vjp = _push_jvp, _push_vjp
tape_get.jvp = lambda ins, ts, outs, **p: [None if ts[0] is None else tape_get(ts[0], ins[1])]


def _get_vjp(cts, ins, outs, **p):
    (ct,) = cts
    if ct is None:
        return [None, None]
    from ..transforms.vjp import Accum

    tape, k = ins
    return [Accum(lambda existing: tape_add_at(existing if existing is not None else tape_zeros_like(tape), k, ct)), None]


tape_get.vjp = _get_vjp
tape_len.jvp = lambda ins, ts, outs, **p: [None]
tape_len.vjp = lambda cts, ins, outs, **p: [None]
tape_zeros_like.jvp = lambda ins, ts, outs, **p: [None]
tape_zeros_like.vjp = lambda cts, ins, outs, **p: [None]
tape_add_at.jvp = lambda ins, ts, outs, **p: [_tadd(ts[0], ts[2], ins)]
tape_add_at.vjp = lambda cts, ins, outs, **p: [cts[0], None, None if cts[0] is None else tape_get(cts[0], ins[1])]
tape_add.jvp = lambda ins, ts, outs, **p: [_tsum(ts[0], ts[1], ins[0])]
tape_add.vjp = lambda cts, ins, outs, **p: [cts[0], cts[0]]


def _tadd(t_tape, t_v, ins):
    if t_tape is None and t_v is None:
        return None
    from ..transforms.adutil import zeros_like

    base = t_tape if t_tape is not None else tape_zeros_like(ins[0])
    return tape_add_at(base, ins[1], t_v if t_v is not None else zeros_like(ins[2]))


def _tsum(a, b, like):
    if a is None:
        return b
    if b is None:
        return a
    return tape_add(a, b)


# ---- native lowering (Numba): a tape of scalars is two locals, a buffer and a length ----------
# Reverse mode uses each version of a tape once (pushed in the forward loop, read in the
# backward one), and CSE never merges tapes, so pushing writes the buffer in place.


def _nb_tape_parts(g, a):
    n = g._name(a)
    return f"{n}_buf", f"{n}_n"


def _nb_tape_new(g, e, ins, elem):
    from ..backends.numba_backend import np_dtype

    buf, n = _nb_tape_parts(g, e.outputs[0])
    if isinstance(elem, Scalar):
        g.emit(f"{buf} = np.empty(max({ins[0]}, 4), {np_dtype(elem)})")
    else:  # arrays, and tapes of inner loops: a typed List
        g.emit(f"{buf} = List.empty_list({g.tape_elem_type(elem)})")
    g.emit(f"{n} = 0")


def _nb_tape_push(g, e, ins):
    t = e.inputs[0].type
    if g.live is not None and id(e) in g.live.tape_kept:
        # The pushed-to version is read later (reverse over reverse mode saves it on a tape of
        # tapes): the new version gets locals of its own. They share the buffer, which is
        # safe: the old version reads only the entries below its length.
        buf, n = _nb_tape_parts(g, e.outputs[0])
        g.emit(f"{buf}, {n} = {', '.join(_nb_tape_parts(g, e.inputs[0]))}")
    else:
        # The pushed-to version is dead afterwards (reverse mode uses tapes linearly), so the
        # new version lives in the same two locals: no array is reassigned in the loop.
        g.coalesce(e.outputs[0], e.inputs[0])
        buf, n = _nb_tape_parts(g, e.inputs[0])
    if isinstance(t.elem, Scalar):
        if id(e) not in g.reserved:  # else the loop made room for it (numba_backend._reserve_tapes)
            g.emit(f"if {n} >= {buf}.shape[0]:")
            g.emit(f"    {buf} = sup.grow({buf}, {n})")
        g.emit(f"{buf}[{n}] = {ins[1]}")
    else:
        # An array is copied (the forward sweep may update it in place later); an inner tape
        # is saved as it is (its buffer is never written again).
        item = f"np.ascontiguousarray({ins[1]}).copy()" if isinstance(t.elem, Array) else f"({ins[1]})"
        g.emit(f"if {n} < len({buf}):")
        g.emit(f"    {buf}[{n}] = {item}")
        g.emit("else:")
        g.emit(f"    {buf}.append({item})")
    g.emit(f"{n} += 1")


def _nb_tape_get(g, e, ins):
    buf, _ = _nb_tape_parts(g, e.inputs[0])
    return f"{buf}[{ins[-1]}]"


def _nb_tape_len(g, e, ins):
    return _nb_tape_parts(g, e.inputs[0])[1]


# Higher order: the tangents and cotangents of tapes. These build new tapes (copying, as the
# interpreter does), since the tape they start from may still be read. A typed-List tape (of
# arrays, or of tapes of scalars as (buffer, length) pairs) is rebuilt entry by entry; entries
# are never written in place, so the new tape shares those it keeps.


def _nb_entry_zeros(elem, x: str) -> str:
    return f"np.zeros_like({x})" if isinstance(elem, Array) else f"(np.zeros_like({x}[0]), {x}[1])"


def _nb_entry_sum(elem, x: str, y: str) -> str:
    if isinstance(elem, Array):
        return f"np.ascontiguousarray({x} + {y})"
    return f"({x}[0][:{x}[1]] + {y}[0][:{x}[1]], {x}[1])"


def _nb_rebuilt(g, e, n: str, entry) -> str:
    """A typed-List tape of `n` entries `entry(k)` (an expression of the index k), as the
    output of `e`; returns its buffer's name."""
    from ..backends.numba_backend import Unsupported

    elem = e.outputs[0].type.elem
    if not (isinstance(elem, Array) or isinstance(elem, Tape) and isinstance(elem.elem, Scalar)):
        raise Unsupported(f"{e.prim.name} of a {e.outputs[0].type}")
    out, k = _nb_tape_parts(g, e.outputs[0]), g._name(e.outputs[0]) + "_k"
    g.emit(f"{out[0]} = List.empty_list({g.tape_elem_type(elem)})")
    g.emit(f"for {k} in range({n}):")
    g.emit(f"    {out[0]}.append({entry(k)})")
    g.emit(f"{out[1]} = {n}")
    return out[0]


def _nb_tape_zeros_like(g, e, ins):
    buf, n = _nb_tape_parts(g, e.inputs[0])
    elem = e.inputs[0].type.elem
    if isinstance(elem, Scalar):
        return f"np.zeros_like({buf}), {n}"
    _nb_rebuilt(g, e, n, lambda k: _nb_entry_zeros(elem, f"{buf}[{k}]"))
    return None


def _nb_tape_add(g, e, ins):
    (a, n), (b, _) = _nb_tape_parts(g, e.inputs[0]), _nb_tape_parts(g, e.inputs[1])
    elem = e.inputs[0].type.elem
    if isinstance(elem, Scalar):
        return f"{a}[:{n}] + {b}[:{n}], {n}"
    _nb_rebuilt(g, e, n, lambda k: _nb_entry_sum(elem, f"{a}[{k}]", f"{b}[{k}]"))
    return None


def _nb_tape_add_at(g, e, ins):
    buf, n = _nb_tape_parts(g, e.inputs[0])
    elem, k, v = e.inputs[0].type.elem, ins[1], ins[2]
    if isinstance(elem, Scalar):
        out, out_n = _nb_tape_parts(g, e.outputs[0])
        g.emit(f"{out} = {buf}.copy()")
        g.emit(f"{out}[{k}] += {v}")
        g.emit(f"{out_n} = {n}")
        return None
    out = _nb_rebuilt(g, e, n, lambda j: f"{buf}[{j}]")
    g.emit(f"{out}[{k}] = {_nb_entry_sum(elem, f'{buf}[{k}]', v if isinstance(elem, Array) else f'({v})')}")
    return None


def _nb_sum_to_shape(g, e, ins):
    x = e.inputs[0]
    dims = ins[1:]
    if x.type.ndim == 0:
        return None  # handled by the caller: never emitted for scalars
    xs = ", ".join(f"{ins[0]}.shape[{k}]" for k in range(x.type.ndim))
    flat = (f"sup.sum_to_shape_flat(np.ascontiguousarray({ins[0]}).ravel(), np.array([{xs}], np.int64), "
            f"np.array([{', '.join(dims)}], np.int64))")
    if not dims:
        return f"{flat}[0]"
    shape = f"({', '.join(dims)}{',' if len(dims) == 1 else ''})"
    summed = f"{flat}.reshape({shape})"
    if len(dims) == x.type.ndim:
        # nothing to sum when no axis was broadcast: the input itself where it is dead after
        # this (the result is owned memory) or where the liveness analysis treats the result as
        # a view of it, else a copy
        same = ins[0] if g.in_place(e) or g.aliased(e) else f"{ins[0]}.copy()"
        return f"({same} if {ins[0]}.shape == {shape} else {summed})"
    return summed


sum_to_shape.numba = lambda g, e, ins: _nb_sum_to_shape(g, e, ins) if e.inputs[0].type.ndim else g.fallback(e, ins)
tape_new.numba = lambda g, e, ins: _nb_tape_new(g, e, ins, **e.params)
tape_push.numba = _nb_tape_push
tape_get.numba = _nb_tape_get
tape_len.numba = _nb_tape_len
tape_zeros_like.numba = _nb_tape_zeros_like
tape_add.numba = _nb_tape_add
tape_add_at.numba = _nb_tape_add_at


# ---- batching (vmap): a batched tape holds batched entries; its length is the same for all ---


def _batch_same(prim, index: int | None = None):
    def rule(args, batched, size, **params):
        if index is not None and batched[index]:
            from ..transforms.batchutil import BatchingError

            raise BatchingError(f"vmap: {prim.name} at an index that differs between batch members")
        return [(prim(*args, **params), True)]

    return rule


tape_push.batch = _batch_same(tape_push)
tape_get.batch = _batch_same(tape_get, index=1)
tape_zeros_like.batch = _batch_same(tape_zeros_like)
tape_add_at.batch = _batch_same(tape_add_at, index=1)
tape_add.batch = _batch_same(tape_add)
tape_len.batch = lambda args, batched, size: [(tape_len(args[0]), False)]
tape_new.batch = NOT_APPLICABLE("its capacity is never batched (vmap makes a batched tape where a batched value is pushed)")
