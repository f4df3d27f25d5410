"""Helpers for batch rules (the `batch` slot of each primitive) and for the vmap transformation.

Conventions. A *batched* value carries the batch on a new leading axis 0: its type has one more
dimension than the value it stands for (a batched scalar is a 1-d array of length B). A batch
rule is

    rule(args, batched, size, **params) -> [(atom, is_batched), ...]   # one pair per output

where `args` are the operands (batched ones with their leading batch axis), `batched` says which
are, and `size` is the batch size B (an int64 scalar atom). Rules emit IR by calling primitives,
as derivative rules do. `loop_rule` batches any primitive by a loop over the batch: rules use it
for the cases they do not vectorise.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import MorphismError
from ..ir.builder import Builder, building, current
from ..ir.core import Array, Atom, Block, DType, Eqn, Lit, Scalar, Tape, Type, Var, lit, make_type


class BatchingError(MorphismError):
    """A program that vmap cannot batch (for example, an array whose shape depends on a batched
    value)."""


def batched_type(t: Type) -> Type:
    if isinstance(t, Tape):
        return Tape(batched_type(t.elem))
    return Array(t.dtype, t.ndim + 1)


def unbatched_type(t: Type) -> Type:
    if isinstance(t, Tape):
        return Tape(unbatched_type(t.elem))
    return make_type(t.dtype, t.ndim - 1)


def rank(x: Atom, is_batched: bool) -> int:
    """The rank of the value `x` stands for (without the batch axis)."""
    return x.type.ndim - (1 if is_batched else 0)


def dims(x: Atom) -> list[Atom]:
    from ..primitives.indexing import dim

    return [dim(x, axis=k) for k in range(x.type.ndim)]


def materialize(x: Atom, size: Atom) -> Atom:
    """An unbatched value repeated B times along a new leading axis."""
    from ..primitives.shape import broadcast_to

    if isinstance(x.type, Tape):
        raise BatchingError("vmap: a tape that is not batched cannot become batched here")
    return broadcast_to(x, size, *dims(x))


def as_batched(x: Atom, is_batched: bool, size: Atom) -> Atom:
    return x if is_batched else materialize(x, size)


def to_rank(x: Atom, r: int, target: int) -> Atom:
    """A batched value of rank `r` given `target - r` more axes of length 1 right after the batch
    axis, so that it broadcasts against batched values of rank `target` like its unbatched
    self broadcasts against theirs (NumPy aligns trailing axes)."""
    from ..primitives.shape import reshape

    if r >= target:
        return x
    d = dims(x)
    return reshape(x, d[0], *([lit(1)] * (target - r)), *d[1:])


def move_axis(x: Atom, src: int, dst: int) -> Atom:
    from ..primitives.shape import transpose

    nd = x.type.ndim
    src, dst = src % nd, dst % nd
    if src == dst:
        return x
    perm = [k for k in range(nd) if k != src]
    perm.insert(dst, src)
    return transpose(x, perm=tuple(perm))


def shift_axis(axis: int, r: int) -> int:
    """An axis of a rank-`r` value, counted in its batched version (the batch axis comes first)."""
    return (axis % r) + 1 if r else 1


def shift_axes(axes: tuple[int, ...] | None, r: int) -> tuple[int, ...]:
    if axes is None:
        return tuple(range(1, r + 1))
    return tuple(shift_axis(a, r) for a in axes)


def all_batched(outs: Sequence[Atom]) -> list[tuple[Atom, bool]]:
    return [(o, True) for o in outs]


# ---- generic rules ------------------------------------------------------------------------------


def elementwise_rule(prim: Any):
    """Elementwise primitives: batched operands of lower rank get axes of length 1 after the
    batch axis; unbatched ones broadcast as they are."""

    def rule(args, batched, size, **params):
        target = max(rank(a, b) for a, b in zip(args, batched))
        xs = [to_rank(a, rank(a, b), target) if b else a for a, b in zip(args, batched)]
        out = prim(*xs, **params)
        outs = out if isinstance(out, tuple) else (out,)
        return all_batched(outs)

    return rule


def loop_rule(prim: Any):
    """Batches `prim` by a loop over the batch: member b of each output is `prim` applied to
    member b of each batched operand. Always correct; a vectorised rule is faster."""

    def rule(args, batched, size, **params):
        return loop_over_batch(lambda *xs: prim(*xs, **params), args, batched, size)

    return rule


def loop_over_batch(fn: Any, args: Sequence[Atom], batched: Sequence[bool], size: Atom) -> list[tuple[Atom, bool]]:
    """Emits `for b in range(B): outs[b] = fn(*members b)` and returns the stacked outputs.
    `fn` builds IR for one member (it may emit several equations)."""
    from ..primitives.control import for_range
    from ..primitives.indexing import getitem, list_append, list_new, list_view

    # the output types, from a trial build that is thrown away
    probe = Builder(current().loc)
    with building(probe):
        sample = [Var(unbatched_type(a.type), "x") if b else a for a, b in zip(args, batched)]
        res = fn(*sample)
    res = list(res) if isinstance(res, (tuple, list)) else [res]
    out_types = [r.type for r in res]
    if not out_types:  # an effect: run it once per member
        pass
    lists = [list_new(dtype=t.dtype, ndim=t.ndim) for t in out_types]
    b_idx = Var(Scalar(DType.int64), "b")
    carries = [Var(l.type, "acc") for l in lists]
    body = Builder(current().loc)
    with building(body):
        xs = [getitem(a, b_idx, spec=("i",)) if bt else a for a, bt in zip(args, batched)]
        ys = fn(*xs)
        ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
        new = [list_append(c, b_idx, y)[0] for c, y in zip(carries, ys)]
    blk = body.block([b_idx, *carries], new)
    outs = for_range(lit(0), size, lit(1), *lists, body=blk)
    stacked = [list_view(o, size) for o in outs]
    if any(t.ndim for t in out_types):
        stacked = _empty_batch_shapes(fn, args, batched, size, out_types, stacked)
    return [(s, True) for s in stacked]


def _empty_batch_shapes(fn, args, batched, size, out_types, stacked):
    """For an empty batch the loop above never learns the shape of a member's result; it comes
    from `fn` applied to zero-filled members (whose shapes are known)."""
    from ..primitives.control import cond
    from ..primitives.creation import zeros
    from ..primitives.elementwise import eq

    then = Builder(current().loc)
    with building(then):
        xs = [zeros(*dims(a)[1:], dtype=a.type.dtype) if b and a.type.ndim > 1
              else (lit(0, a.type.dtype) if b else a) for a, b in zip(args, batched)]
        ys = fn(*xs)
        ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
        empties = [zeros(lit(0), *dims(y), dtype=t.dtype) for y, t in zip(ys, out_types)]
    orelse = Builder(current().loc)
    return list(cond(eq(size, lit(0)), then=then.block([], empties), orelse=orelse.block([], stacked)))
