"""Values the frontend works with while it lowers a function.

An expression evaluates to one of:
- an IR atom (`Var` or `Lit`): a typed run-time value;
- a record: a Python tuple, list, dict, NamedTuple or dataclass instance whose leaves are
  frontend values (fixed structure, known at compile time);
- a compile-time Python object: None, a string, a module, a function, a class, a slice...;
- one of the small classes below: growable lists, ranges, iterators, bound methods, local
  functions, and `Undef` for a name with no value on some path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from ..ir.core import Array, Atom, Lit, Loc, Scalar, Type, Var


def is_atom(v: Any) -> bool:
    return isinstance(v, (Var, Lit))


@dataclass(frozen=True, eq=False)
class Undef:
    """A name that has no value on some path: reading it is an error that says why."""

    name: str
    reason: str
    loc: Loc | None = None
    like: Any = None  # the value another path holds (its type lets loops find a placeholder)


@dataclass(frozen=True)
class ListVal:
    """A list grown by `append`: a buffer whose first axis has spare capacity, and a length."""

    buf: Atom  # Array(dtype, elem_ndim + 1)
    n: Atom  # i64

    @property
    def elem_type(self) -> Type:
        t = self.buf.type
        return Scalar(t.dtype) if t.ndim == 1 else Array(t.dtype, t.ndim - 1)


@dataclass(frozen=True)
class EmptyList:
    """`[]` before its first `append`: the element type is not known yet."""


@dataclass(frozen=True)
class RangeVal:
    start: Atom
    stop: Atom
    step: Atom


@dataclass(frozen=True)
class EnumerateVal:
    inner: Any
    start: Atom


@dataclass(frozen=True)
class ZipVal:
    items: tuple


@dataclass(frozen=True)
class BoundMethod:
    obj: Any
    name: str
    fn: Callable[..., Any]


@dataclass(frozen=True, eq=False)
class Partial:
    """`functools.partial(fn, *args, **kwargs)` made in compiled code: `fn` may be a function
    defined there, so the Python object cannot be built."""

    fn: Any
    args: tuple
    kwargs: dict


@dataclass(frozen=True, eq=False)
class LocalFunction:
    """A `def` or `lambda` inside the function being compiled; its free names are read from the
    defining frame when it is called (Python's late binding)."""

    node: Any
    frame: Any
    defaults: tuple
    kw_defaults: dict
    name: str


# --------------------------------------------------------------------------------------------
# Flattening frontend values into (atoms, structure): for loop carries, branch joins, calls.


def flatten(v: Any) -> tuple[list[Atom], Any]:
    leaves: list[Atom] = []
    tree = _flatten(v, leaves)
    return leaves, tree


def _flatten(v: Any, leaves: list[Atom]) -> Any:
    if isinstance(v, (Var, Lit)):
        leaves.append(v)
        return ("leaf",)
    if isinstance(v, ListVal):
        leaves.extend([v.buf, v.n])
        return ("listval",)
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return ("namedtuple", type(v), tuple(_flatten(x, leaves) for x in v))
    if isinstance(v, tuple):
        return ("tuple", tuple(_flatten(x, leaves) for x in v))
    if isinstance(v, list):
        return ("list", tuple(_flatten(x, leaves) for x in v))
    if isinstance(v, dict):
        keys = tuple(v.keys())
        return ("dict", keys, tuple(_flatten(v[k], leaves) for k in keys))
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        names = tuple(f.name for f in dataclasses.fields(v))
        return ("dataclass", type(v), names, tuple(_flatten(getattr(v, n), leaves) for n in names))
    if isinstance(v, RangeVal):
        leaves.extend([v.start, v.stop, v.step])
        return ("range",)
    return ("const", _ConstKey(v))


class _ConstKey:
    """Compares compile-time constants by identity (or equality for plain scalars and strings)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _ConstKey):
            return False
        a, b = self.value, other.value
        if a is b:
            return True
        if type(a) is type(b) and isinstance(a, (str, int, float, bool, type(None), slice)):
            return a == b
        return False

    def __hash__(self) -> int:
        a = self.value
        if isinstance(a, (str, int, float, bool, type(None))):
            return hash((type(a), a))
        return id(a)

    def __repr__(self) -> str:
        return repr(self.value)


def unflatten(tree: Any, leaves: list[Atom] | Any) -> Any:
    it = iter(leaves)
    out = _unflatten(tree, it)
    return out


def _unflatten(tree: Any, it: Any) -> Any:
    kind = tree[0]
    if kind == "leaf":
        return next(it)
    if kind == "listval":
        return ListVal(next(it), next(it))
    if kind == "tuple":
        return tuple(_unflatten(t, it) for t in tree[1])
    if kind == "list":
        return [_unflatten(t, it) for t in tree[1]]
    if kind == "namedtuple":
        return tree[1](*(_unflatten(t, it) for t in tree[2]))
    if kind == "dict":
        return {k: _unflatten(t, it) for k, t in zip(tree[1], tree[2])}
    if kind == "dataclass":
        cls, names, subs = tree[1], tree[2], tree[3]
        obj = object.__new__(cls)
        for n, t in zip(names, subs):
            object.__setattr__(obj, n, _unflatten(t, it))
        return obj
    if kind == "range":
        return RangeVal(next(it), next(it), next(it))
    if kind == "const":
        return tree[1].value
    raise AssertionError(tree)


def describe(v: Any) -> str:
    """A short description of a frontend value for error messages."""
    if isinstance(v, (Var, Lit)):
        return f"a value of type {v.type}"
    if isinstance(v, ListVal):
        return f"a list of {v.elem_type}"
    if isinstance(v, EmptyList):
        return "an empty list"
    if isinstance(v, tuple):
        return f"a tuple of {len(v)}"
    if isinstance(v, list):
        return f"a list of {len(v)}"
    if isinstance(v, dict):
        return "a dict"
    if isinstance(v, Undef):
        return f"undefined name {v.name!r}"
    if isinstance(v, RangeVal):
        return "a range(...)"
    if isinstance(v, EnumerateVal):
        return "an enumerate(...)"
    if isinstance(v, ZipVal):
        return "a zip(...)"
    if isinstance(v, BoundMethod):
        return f"the method .{v.name}()"
    if isinstance(v, LocalFunction):
        return f"the function {v.name}"
    if isinstance(v, Partial):
        return f"functools.partial({describe(v.fn)}, ...)"
    return f"the Python object {python_name(v)}"


def python_name(obj: Any) -> str:
    """How Python code names `obj`: `numpy.mgrid`, `math.sin`, `my_module.f`, or a short repr;
    never an internal class or `<... object at 0x...>`."""
    if isinstance(obj, (str, int, float, bool, type(None), slice)) or type(obj) is tuple:
        return repr(obj)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    mod = getattr(obj, "__module__", None)
    if isinstance(name, str):
        return f"{mod}.{name}" if isinstance(mod, str) and mod != "builtins" else name
    import sys

    for mname in ("numpy", "math", "builtins"):  # module-level singletons such as np.mgrid
        m = sys.modules.get(mname)
        for k, x in (vars(m) if m is not None else {}).items():
            if x is obj and not k.startswith("_"):
                return f"{mname}.{k}"
    r = repr(obj)
    if " object at 0x" in r or len(r) > 60:
        return f"of type {type(obj).__module__}.{type(obj).__qualname__}"
    return r
