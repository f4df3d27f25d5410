"""Helpers shared by the derivative transformations and the derivative rules."""

from __future__ import annotations

from typing import Any

from ..errors import MorphismError
from ..ir.builder import current
from ..ir.core import Array, Atom, DType, Lit, Scalar, Tape, Type, Var, lit, make_type


def is_float(t: Type) -> bool:
    """Whether values of type `t` carry derivatives (float32 and float64 values, tapes of them)."""
    while isinstance(t, Tape):
        t = t.elem
    return t.dtype.is_float


def refuse_complex(f: Any, what: str) -> None:
    """Derivatives through complex values are not defined here yet: a clear error at the first
    equation that makes one, never a derivative that silently misses them."""
    def walk(b: Any) -> None:
        for e in b.eqns:
            for o in e.outputs:
                if not isinstance(o.type, Tape) and o.type.dtype.is_complex:
                    raise DifferentiationError(
                        f"{what} through complex values is not supported yet ({e.prim.name} gives {o.type})",
                        e.loc, hint="differentiate the real and imaginary parts as separate float functions")
            for sub in e.blocks():
                walk(sub)

    walk(f.body)


def same_float(t: Any, x: Atom) -> Any:
    """A tangent or cotangent `t` of `x` in x's float dtype: rules multiply by literals and
    partials of float64, and a float32 value's derivative stays float32 (as in NumPy and JAX)."""
    if isinstance(t, (Var, Lit)) and not isinstance(t.type, Tape) and t.type.dtype != x.type.dtype \
            and t.type.dtype.is_float and x.type.dtype.is_float:
        from ..primitives.elementwise import convert

        return convert(t, dtype=x.type.dtype)
    return t


def dims_of(x: Atom) -> list[Atom]:
    from ..primitives.indexing import dim

    return [dim(x, axis=k) for k in range(x.type.ndim)]


def zeros_like(x: Atom) -> Atom:
    """Float zeros with the shape of `x` (made from its dims, so reverse mode saves only them)."""
    if isinstance(x.type, Tape):
        from ..primitives.ad_support import tape_zeros_like

        return tape_zeros_like(x)
    dtype = x.type.dtype if x.type.dtype.is_float else DType.float64
    if isinstance(x.type, Scalar):
        return lit(0.0, dtype)
    from ..primitives.creation import zeros

    return zeros(*dims_of(x), dtype=dtype)


def add_ct(a: Atom | None, b: Atom | None) -> Atom | None:
    """Accumulates two cotangent (or tangent) contributions; None is a symbolic zero."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a.type, Tape):
        from ..primitives.ad_support import tape_add

        return tape_add(a, b)
    from ..primitives.elementwise import add

    return add(a, b)


def unbroadcast(ct: Atom | None, x: Atom) -> Atom | None:
    """The cotangent `ct` of a broadcast result, summed back to the shape of operand `x`."""
    if ct is None:
        return None
    if not is_float(x.type):
        return None
    if isinstance(x.type, Scalar):
        if isinstance(ct.type, Scalar):
            return ct
        from ..primitives.reductions import reduce_sum

        return reduce_sum(ct, axis=None, keepdims=False)
    if isinstance(x, Lit):
        return None
    from ..primitives.ad_support import sum_to_shape

    return sum_to_shape(ct, *dims_of(x))


def broadcast_like(t: Atom | None, out: Atom) -> Atom | None:
    """A tangent of an operand, broadcast to the shape of the result `out`."""
    if t is None or isinstance(out.type, Scalar):
        return t
    from ..primitives.shape import broadcast_to

    return broadcast_to(t, *dims_of(out))


def to_float_ct(ct: Atom) -> Atom:
    if ct.type.dtype.is_float:
        return ct
    from ..primitives.elementwise import convert

    return convert(ct, dtype=DType.float64)


class DifferentiationError(MorphismError):
    """A value cannot be differentiated: a primitive without a derivative rule, an integer
    input to `grad`, a non-scalar output for `grad`."""


def rule_of(e: Any, kind: str) -> Any:
    """The jvp or vjp rule of an equation's primitive, or a DifferentiationError at the
    user's line saying why there is none."""
    from ..primitives.registry import NOT_APPLICABLE

    rule = getattr(e.prim, kind)
    if rule is None or isinstance(rule, NOT_APPLICABLE):
        why = f": {rule.reason}" if isinstance(rule, NOT_APPLICABLE) else ""
        raise DifferentiationError(f"{e.prim.name} has no derivative rule{why}", e.loc,
                                   hint=f"wrap the computation in a function with mo.custom_{kind}, "
                                        f"or apply mo.stop_gradient to its inputs")
    return rule
