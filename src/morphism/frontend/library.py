"""The table that maps library functions (NumPy, math, builtins) and array methods to IR.

Functions are recognised by object identity, never by spelling: `from numpy import sin`,
`import numpy as xp` and `np.sin` all reach the same entry. A handler receives frontend values
(see values.py) and emits primitives into the active builder.

Each primitive family registers its NumPy surface in its own file next to the primitives
(`primitives/reductions.py` registers `np.sum`, ...); this module holds the mechanism and the
conversions that every handler shares.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import MorphismTypeError, UnsupportedSyntaxError
from ..ir.builder import current
from ..ir.core import Array, Atom, DType, Lit, Scalar, Var, dtype_of_numpy, lit, make_type
from .values import EmptyList, ListVal, describe, is_atom

Handler = Callable[..., Any]

FUNCTIONS: dict[int, tuple[Any, Handler]] = {}  # id(python object) -> (object, handler)
METHODS: dict[str, Handler] = {}  # array methods: handler(self, *args, **kwargs)
ATTRIBUTES: dict[str, Handler] = {}  # array attributes: handler(self)


def implements(*objs: Any) -> Callable[[Handler], Handler]:
    """Registers a handler for library objects (functions, ufuncs, builtins, classes)."""

    def deco(h: Handler) -> Handler:
        for o in objs:
            if o is None:
                continue
            FUNCTIONS[id(o)] = (o, h)
        return h

    return deco


_PENDING: list[tuple[str, str, Handler]] = []  # (module, attribute, handler) not imported yet


def implements_lazy(module: str, name: str) -> Callable[[Handler], Handler]:
    """Registers a handler for `module.name` without importing `module` (SciPy takes most of a
    second to import): it is resolved once the user's program has imported the module."""

    def deco(h: Handler) -> Handler:
        _PENDING.append((module, name, h))
        return h

    return deco


def _resolve_pending() -> bool:
    import sys

    done = False
    for entry in list(_PENDING):
        module, name, h = entry
        mod = sys.modules.get(module)
        if mod is not None:
            _PENDING.remove(entry)
            obj = getattr(mod, name, None)
            if obj is not None:
                FUNCTIONS[id(obj)] = (obj, h)
                done = True
    return done


def method(*names: str) -> Callable[[Handler], Handler]:
    def deco(h: Handler) -> Handler:
        for n in names:
            METHODS[n] = h
        return h

    return deco


def attribute(*names: str) -> Callable[[Handler], Handler]:
    def deco(h: Handler) -> Handler:
        for n in names:
            ATTRIBUTES[n] = h
        return h

    return deco


def lookup(obj: Any) -> Handler | None:
    entry = FUNCTIONS.get(id(obj))
    if entry is None and _PENDING and _resolve_pending():
        entry = FUNCTIONS.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]
    return None


# --------------------------------------------------------------------------------------------
# Helpers for handlers


def error(msg: str, hint: str | None = None, cls: type = UnsupportedSyntaxError):
    raise cls(msg, current().loc, hint)


def type_error(msg: str, hint: str | None = None):
    raise MorphismTypeError(msg, current().loc, hint)


def static(v: Any, what: str) -> Any:
    """A compile-time constant: a literal scalar, None, a string, or a tuple of those."""
    if isinstance(v, Lit) and isinstance(v.type, Scalar):
        return v.value
    if isinstance(v, Var):
        error(f"{what} must be a compile-time constant, found a run-time value of type {v.type}",
              hint="write the value literally, or pass it with static_argnums")
    if isinstance(v, (tuple, list)):
        return tuple(static(x, what) for x in v)
    return v


def static_int(v: Any, what: str) -> int:
    s = static(v, what)
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
        type_error(f"{what} must be an integer, found {s!r}")
    return int(s)


def static_axis(v: Any, what: str = "axis") -> tuple[int, ...] | None:
    s = static(v, what)
    if s is None:
        return None
    if isinstance(s, tuple):
        return tuple(int(a) for a in s)
    return (static_int(s, what),)


def static_dtype(v: Any) -> DType | None:
    """The IR dtype named by `float`, `np.float64`, "float64", np.dtype(...), or None."""
    s = static(v, "dtype")
    if s is None:
        return None
    if s is float:
        return DType.float64
    if s is int:
        return DType.int64
    if s is bool:
        return DType.bool
    try:
        dt = dtype_of_numpy(np.dtype(s))
    except TypeError:
        dt = None
    if dt is None:
        error(f"dtype {s!r} is not supported yet: morphism computes in bool, int64 and float64")
    return dt


def to_atom(v: Any, what: str = "argument") -> Atom:
    """A frontend value as one IR value: records of numbers become arrays (like np.asarray)."""
    if is_atom(v):
        return v
    if isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)):
        return lit(v)
    if isinstance(v, np.ndarray):
        return lit(v)
    if isinstance(v, ListVal):
        from ..primitives.indexing import list_view

        return list_view(v.buf, v.n)
    if isinstance(v, (tuple, list)) and not hasattr(v, "_fields"):
        if len(v) == 0:
            error(f"cannot make an array from an empty {type(v).__name__}: its dtype and shape are unknown")
        from ..primitives.shape import stack

        return stack(*[to_atom(x, what) for x in v], axis=0)
    if isinstance(v, EmptyList):
        error("cannot use an empty list as an array: its element type is unknown",
              hint="use np.zeros(0) for an empty float array")
    type_error(f"{what}: expected a number or an array, found {describe(v)}")


def to_float(a: Atom) -> Atom:
    from ..primitives.elementwise import convert

    return a if a.type.dtype == DType.float64 else convert(a, dtype=DType.float64)


def cast(a: Atom, dtype: DType) -> Atom:
    from ..primitives.elementwise import convert

    if a.type.dtype == dtype:
        return a
    if isinstance(a, Lit) and isinstance(a.type, Scalar):
        return lit(a.value, dtype)
    return convert(a, dtype=dtype)


def require_scalar(a: Atom, what: str) -> Atom:
    if not isinstance(a.type, Scalar):
        type_error(f"{what} expects a scalar, found an array of type {a.type}")
    return a


def check_no_kwargs(name: str, kwargs: dict, allowed: tuple[str, ...] = ()) -> None:
    bad = [k for k in kwargs if k not in allowed]
    if bad:
        error(f"{name}() does not support the keyword argument{'s' if len(bad) > 1 else ''} "
              f"{', '.join(repr(b) for b in bad)} in morphism yet")


def bind_args(name: str, args: tuple, kwargs: dict, params: list[str], defaults: dict[str, Any]) -> list[Any]:
    """Python-style binding of positional and keyword arguments to named parameters."""
    if len(args) > len(params):
        type_error(f"{name}() takes at most {len(params)} positional arguments, {len(args)} given")
    out = dict(zip(params, args))
    for k, v in kwargs.items():
        if k not in params:
            error(f"{name}() has no keyword argument {k!r} in morphism")
        if k in out:
            type_error(f"{name}() got multiple values for argument {k!r}")
        out[k] = v
    result = []
    for p in params:
        if p in out:
            result.append(out[p])
        elif p in defaults:
            result.append(defaults[p])
        else:
            type_error(f"{name}() missing required argument {p!r}")
    return result


def _register_families() -> None:
    # Importing a family registers its primitives and its library surface.
    from ..primitives import families  # noqa: F401
