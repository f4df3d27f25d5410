"""The primitive registry: one `Primitive` per operation, with all of its rules side by side.

A rule that does not apply to a primitive is `NOT_APPLICABLE(reason)`, never a silent gap; a
test walks the registry and checks that every primitive has every rule.

Rules build IR by calling primitives as functions (`mul(cos(x), dx)`) inside the active
`Builder`; see `ir/builder.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import TypeRuleError
from ..ir.core import Array, DType, Scalar, Type, inexact, make_type, promote


# Traits: properties of a primitive that passes and transformations ask about.
ELEMENTWISE = "elementwise"  # applies per element with NumPy broadcasting
LINEAR = "linear"  # linear in its float inputs (jvp is the primitive itself)
COMMUTATIVE = "commutative"
EFFECT = "effect"  # has a side effect (print, raise): never removed, never reordered
CONTROL = "control"  # holds nested blocks
CREATION = "creation"  # makes a new array from shapes and constants
FRESH = "fresh"  # allocates a buffer that later primitives append to in place: never merged by CSE


@dataclass(frozen=True)
class NOT_APPLICABLE:
    """Marks a rule that does not apply, with the reason (for example: not differentiable)."""

    reason: str


@dataclass(eq=False)
class Primitive:
    name: str
    type_rule: Callable[..., list[Type]]  # (in_types, **params) -> out_types; TypeRuleError on misuse
    impl: Callable[..., Any] | None = None  # (*values, **params) -> value | tuple of values
    traits: frozenset[str] = frozenset()
    multiple_results: bool = False
    # Rules added by later layers, declared beside the primitive in its family file.
    jvp: Any = None
    vjp: Any = None
    batch: Any = None
    numba: Any = None
    # Higher-order primitives (cond, loops, call) are run by the interpreter through this.
    interpret: Callable[..., Any] | None = None
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return self.name

    def __call__(self, *inputs: Any, **params: Any) -> Any:
        from ..ir.builder import bind

        return bind(self, *inputs, **params)

    def has(self, trait: str) -> bool:
        return trait in self.traits


REGISTRY: dict[str, Primitive] = {}


def primitive(name: str, type_rule: Callable[..., list[Type]], **kw: Any) -> Primitive:
    """Declares a primitive and registers it under its name."""
    if name in REGISTRY:
        raise ValueError(f"primitive {name!r} declared twice")
    traits = frozenset(kw.pop("traits", ()))
    p = Primitive(name, type_rule, traits=traits, **kw)
    REGISTRY[name] = p
    return p


# --------------------------------------------------------------------------------------------
# Type rules shared by many primitives. Each takes the input types and the params.


def _fail(msg: str):
    raise TypeRuleError(msg)


def broadcast_ndim(types: list[Type]) -> int:
    return max((t.ndim for t in types), default=0)


def same_type(types: list[Type], **_: Any) -> list[Type]:
    (t,) = types
    return [t]


def float_type(types: list[Type], **_: Any) -> list[Type]:
    """Unary math: ints and bools become floats (np.sin(1) is a float), float32 and complex stay."""
    (t,) = types
    return [make_type(inexact_dtype(t.dtype), t.ndim)]


def inexact_dtype(d: DType) -> DType:
    """What math on `d` computes in: bools and integers become float64 (int16 float32)."""
    if d == DType.bool:
        return DType.float64
    r = inexact(d)
    if r is None:
        _fail(f"math on {d.value} gives float16 in NumPy, which morphism does not support",)
    return r


def elementwise_rule(result: str, nargs: int = 2) -> Callable[..., list[Type]]:
    """Elementwise n-ary rule. `result`: "promote" (NumPy promotion, bools become ints as in
    Python arithmetic), "float" (always float, like true division), "bool" (comparisons),
    "logical" (bool in, bool out), "int_or_bool" (bitwise ops)."""

    def rule(types: list[Type], **_: Any) -> list[Type]:
        if len(types) != nargs:
            _fail(f"expected {nargs} operand{'s' if nargs > 1 else ''}, found {len(types)}")
        for t in types:
            if not isinstance(t, (Scalar, Array)):
                _fail(f"elementwise operations take scalars and arrays, found {t}")
        nd = broadcast_ndim(types)
        dts = [t.dtype for t in types]
        if result == "promote":
            dt = promote(*dts)
            if dt == DType.bool:
                dt = DType.int64
        elif result == "promote_keep_bool":
            dt = promote(*dts)
        elif result == "float":
            dt = inexact_dtype(promote(*dts))
        elif result == "bool":
            dt = DType.bool
        elif result == "logical":
            dt = DType.bool
        elif result == "int_or_bool":
            for d in dts:
                if d.is_inexact:
                    _fail(f"bitwise operators need integer or boolean operands, found {d.value}")
            dt = promote(*dts)
        else:  # pragma: no cover
            raise AssertionError(result)
        return [make_type(dt, nd)]

    return rule


def ordered(rule: Callable[..., list[Type]], what: str) -> Callable[..., list[Type]]:
    """`rule` for a primitive that orders its operands: complex operands are refused (NumPy
    orders them lexicographically; morphism does not yet), rather than compared differently."""

    def checked(types: list[Type], **params: Any) -> list[Type]:
        for t in types:
            if isinstance(t, (Scalar, Array)) and t.dtype.is_complex:
                _fail(f"{what} orders values, and complex numbers are not ordered here (NumPy orders them "
                      f"lexicographically; morphism does not support that yet)")
        return rule(types, **params)

    return checked


def reduction_type(dtype_rule: str = "same") -> Callable[..., list[Type]]:
    """Reductions over `axis` (None: all axes) with `keepdims`."""

    def rule(types: list[Type], axis: tuple[int, ...] | None = None, keepdims: bool = False, **_: Any):
        (t,) = types
        if axis is None:
            nd = t.ndim if keepdims else 0
        else:
            for a in axis:
                if not -max(t.ndim, 1) <= a < max(t.ndim, 1):
                    _fail(f"axis {a} is out of bounds for an array of {t.ndim} dimensions")
            nd = t.ndim if keepdims else t.ndim - len(axis)
        dt = t.dtype
        if dtype_rule == "float":
            dt = DType.float64 if not dt.is_inexact else dt
        elif dtype_rule == "sum":
            # NumPy sums small integers in the platform's integer (unsigned ones in uint64)
            if dt == DType.bool or dt.kind == "i":
                dt = DType.int64
            elif dt.kind == "u":
                dt = DType.uint64
        elif dtype_rule == "int":
            dt = DType.int64
        elif dtype_rule == "bool":
            dt = DType.bool
        return [make_type(dt, max(nd, 0))]

    return rule


def normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        _fail(f"axis {axis} is out of bounds for an array of {ndim} dimensions")
    return axis % ndim


def check_int_scalars(types: list[Type], what: str) -> None:
    for t in types:
        if not isinstance(t, Scalar) or t.dtype.is_inexact:
            _fail(f"{what} must be integer scalars, found {t}")


def require_array(t: Type, what: str) -> Array:
    if not isinstance(t, Array):
        _fail(f"{what} needs an array, found a scalar of type {t}")
    return t  # type: ignore[return-value]
