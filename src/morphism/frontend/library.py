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
from ..ir.core import Array, Atom, DType, Lit, Scalar, Var, dtype_of_numpy, lit, make_type, numpy_scalar
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
    return _lookup_bound(obj)


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
    if s is complex:
        return DType.complex128
    try:
        dt = dtype_of_numpy(np.dtype(s))
    except TypeError:
        dt = None
    if dt is None:
        error(f"dtype {s!r} is not supported: morphism computes in bool, (u)int8-64, float32/64 and complex64/128")
    return dt


def to_atom(v: Any, what: str = "argument") -> Atom:
    """A frontend value as one IR value: records of numbers become arrays (like np.asarray)."""
    if is_atom(v):
        return v
    if isinstance(v, np.generic) and dtype_of_numpy(v.dtype) is not None:
        return numpy_scalar(v.item(), dtype_of_numpy(v.dtype))  # keeps its dtype (NEP 50)
    if isinstance(v, (bool, int, float, complex)):
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

        items = [to_atom(x, what) for x in v]
        _check_same_shapes(items)
        return stack(*items, axis=0)
    if isinstance(v, EmptyList):
        error("cannot use an empty list as an array: its element type is unknown",
              hint="use np.zeros(0) for an empty float array")
    type_error(f"{what}: expected a number or an array, found {describe(v)}")


def _check_same_shapes(items: list[Atom]) -> None:
    """A list of arrays made into one array: NumPy refuses ragged lists; say where, at run time
    (differing ndims are refused at compile time by stack's type rule)."""
    from ..primitives import control as C
    from ..primitives import elementwise as E
    from ..primitives.indexing import dim

    first = items[0]
    if not isinstance(first.type, Array) or any(x.type.ndim != first.type.ndim for x in items):
        return
    for x in items[1:]:
        for k in range(first.type.ndim):
            if x is not first:
                C.check(E.eq(dim(first, axis=k), dim(x, axis=k)), exc=ValueError,
                        message=f"{current().loc}: the arrays of this list have different shapes, so they "
                                f"do not make one array (NumPy refuses ragged lists)")


def to_float(a: Atom) -> Atom:
    from ..primitives.elementwise import convert

    return a if a.type.dtype.is_inexact else convert(a, dtype=DType.float64)


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


# --------------------------------------------------------------------------------------------
# Bound methods of library objects: `rng.normal`, `scipy.stats.norm.logpdf`, `np.add.outer`.
# A bound method is a new object at each access, so it is matched on (its owner, its name): the
# owner by identity (a frozen distribution such as scipy.stats.norm) or by type (any Generator).

BOUND: dict[tuple[Any, str], tuple[Any, Handler]] = {}  # (id(owner) or a type, name) -> (owner, handler)
_PENDING_BOUND: list[tuple[str, str, str, Handler]] = []  # (module, owner, method name, handler)


def implements_method(owner: Any, *names: str) -> Callable[[Handler], Handler]:
    """Registers `handler(owner_object, *args, **kwargs)` for `owner.name(...)`: `owner` is a
    type (any instance's method) or one object (that object's method)."""

    def deco(h: Handler) -> Handler:
        for n in names:
            BOUND[(owner if isinstance(owner, type) else id(owner), n)] = (owner, h)
        return h

    return deco


def implements_lazy_method(module: str, owner: str, *names: str) -> Callable[[Handler], Handler]:
    """`implements_method` for `module.owner` (a module-level object), once the program has
    imported `module`."""

    def deco(h: Handler) -> Handler:
        for n in names:
            _PENDING_BOUND.append((module, owner, n, h))
        return h

    return deco


def _resolve_pending_bound() -> None:
    import sys

    for entry in list(_PENDING_BOUND):
        module, owner, name, h = entry
        mod = sys.modules.get(module)
        if mod is not None:
            _PENDING_BOUND.remove(entry)
            obj = getattr(mod, owner, None)
            if obj is not None:
                implements_method(obj, name)(h)


def _lookup_bound(obj: Any) -> Handler | None:
    owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", None)
    if owner is None or not isinstance(name, str) or isinstance(owner, type(np)):
        return None
    if _PENDING_BOUND:
        _resolve_pending_bound()
    entry = BOUND.get((id(owner), name))
    if entry is None or entry[0] is not owner:
        entry = next((BOUND[(t, name)] for t in type(owner).__mro__ if (t, name) in BOUND), None)
    if entry is None:
        return None
    h = entry[1]
    return lambda *args, **kwargs: h(owner, *args, **kwargs)


# --------------------------------------------------------------------------------------------
# Library functions written in NumPy (np.cov, scipy.stats.norm.logpdf...): their source is
# compiled like a user function, so they differentiate, batch and compile natively for free.

_FRAMES: list[Any] = []  # the frontend frames of the library calls being lowered


def implements_source(*objs: Any) -> Callable[[Callable], Callable]:
    """Registers a plain Python function, compiled from its source, for library objects (and
    for itself, so that such functions may call each other)."""

    def deco(fn: Callable) -> Callable:
        def h(*args: Any, **kwargs: Any) -> Any:
            return inline_source(fn, *args, **kwargs)

        implements(fn, *objs)(h)
        return fn

    return deco


def inline_source(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Lowers `fn(*args, **kwargs)` from `fn`'s source at the library call being lowered."""
    frame = _FRAMES[-1]
    return frame.call_user(fn, list(args), kwargs, frame.cur_node)


def call(frame: Any, fn: Any, handler: Handler, args: list, kwargs: dict, node: Any) -> Any:
    """A library call seen by the frontend (`Frame.call`): runs the handler, and writes the
    result into `out=` for ufuncs, as NumPy does (the caller and every alias see the write)."""
    out = None
    if isinstance(fn, np.ufunc):
        if len(args) > fn.nin:
            args, out = list(args[: fn.nin]), args[fn.nin]
        elif "out" in kwargs:
            kwargs = dict(kwargs)
            out = kwargs.pop("out")
            if isinstance(out, tuple):
                if len(out) != 1:
                    type_error(f"np.{fn.__name__}: out= must hold one array, found {len(out)}")
                out = out[0]
    saved, frame.cur_node = frame.cur_node, node
    _FRAMES.append(frame)
    try:
        result = handler(*args, **kwargs)
    finally:
        _FRAMES.pop()
        frame.cur_node = saved
    if out is None:
        return result
    return write_into(frame, out, result, f"np.{fn.__name__}")


def write_into(frame: Any, out: Any, result: Any, what: str) -> Any:
    """`out[...] = result`, seen by every alias and view of `out` and by the caller."""
    from ..primitives.indexing import setitem

    if not (is_atom(out) and isinstance(out.type, Array)):
        type_error(f"{what}: out= must be an array, found {describe(out)}")
    r = to_atom(result)
    if r.type.dtype != out.type.dtype:
        r = cast(r, out.type.dtype)
    new = setitem(out, r, spec=("s000",) * out.type.ndim or ("e",))  # out[:, :] = r
    frame.write(out, new)
    return new


# --------------------------------------------------------------------------------------------
# Names of library objects for messages, and library functions used where a user function is
# expected (`mo.grad(np.sin)`).


def qualname(fn: Any) -> str:
    """The public spelling of a library object: scipy.special.ndtr, numpy.sin, math.sin."""
    name = getattr(fn, "__name__", None)
    owner = getattr(fn, "__self__", None)
    if name and owner is not None and not isinstance(owner, type(np)):
        cls = type(owner) if not isinstance(owner, type) else owner
        mod = getattr(cls, "__module__", "") or ""
        # a module-level instance (scipy.stats.norm): its public name, from the public module
        public = ".".join(mod.split(".")[: next((k for k, p in enumerate(mod.split(".")) if p.startswith("_")), None)])
        import sys

        ns = sys.modules.get(public)
        for attr in (dir(ns) if ns is not None and not isinstance(owner, type) else ()):
            if getattr(ns, attr, None) is owner:
                return f"{public}.{attr}.{name}"
        return f"{mod}.{cls.__name__}.{name}".lstrip(".")
    if isinstance(fn, np.ufunc):
        import sys

        for mod in ("numpy", "scipy.special"):
            m = sys.modules.get(mod)
            if m is not None and getattr(m, fn.__name__, None) is fn:
                return f"{mod}.{fn.__name__}"
        return f"{type(fn).__module__}.{fn.__name__}" if fn.__name__ else repr(fn)
    mod = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or name
    if name is None:
        return f"an object of type {type(fn).__module__}.{type(fn).__qualname__}"
    return f"{mod}.{name}" if mod and mod != "builtins" else name


_AS_FUNCTION: dict[int, tuple[Any, Callable]] = {}


def as_function(fn: Any) -> Any:
    """`fn` as a Python function whose source the frontend reads: a library function that
    morphism knows (np.sin) becomes the equivalent of `lambda *args: np.sin(*args)`."""
    import types

    if isinstance(fn, types.FunctionType) or hasattr(fn, "__code__"):
        return fn
    from ..errors import ArgumentError

    _register_families()
    if lookup(fn) is None:
        raise ArgumentError(f"morphism transforms Python functions; {qualname(fn)} is not one, and not a library "
                            f"function that morphism supports",
                            hint="wrap the call in a Python function: def f(x): return ...")
    entry = _AS_FUNCTION.get(id(fn))
    if entry is None or entry[0] is not fn:
        nin = getattr(fn, "nin", None)
        if nin == 1:
            def library_function(x):
                return fn(x)
        elif nin == 2:
            def library_function(x, y):
                return fn(x, y)
        else:
            def library_function(*args):
                return fn(*args)
        entry = _AS_FUNCTION[id(fn)] = (fn, library_function)
    return entry[1]


# --------------------------------------------------------------------------------------------
# NEP 50: Python numbers are "weak". `float32_array * 2.0` is float32 and `int8_array + 1` int8,
# as in NumPy 2: a literal or a value that is a Python number (a scalar argument given as a
# Python int/float, a shape entry, a range index, arithmetic among those) takes the dtype of the
# typed operand it meets; only its kind can raise the result (int8 * 2.0 is float64).

import weakref as _weakref  # noqa: E402

WEAK: "_weakref.WeakSet" = _weakref.WeakSet()  # Vars that hold Python numbers
_PY_DTYPES = (DType.bool, DType.int64, DType.float64, DType.complex128)


def weak(v: Any) -> Any:
    """Marks the Var `v` as a Python number (returns it)."""
    if isinstance(v, Var) and isinstance(v.type, Scalar):
        WEAK.add(v)
    return v


def is_weak(a: Any) -> bool:
    if isinstance(a, Lit):
        return isinstance(a.type, Scalar) and a.type.dtype in _PY_DTYPES and not a.name
    return isinstance(a, Var) and a in WEAK


def nep50(*xs: Atom, compare: bool = False) -> list[Atom]:
    """The operands of one NumPy operation with their Python numbers cast to the dtype NumPy
    gives them there (a comparison with a number out of the dtype's range compares values)."""
    weak_ones = [is_weak(x) for x in xs]
    if all(weak_ones) or not any(weak_ones):
        return list(xs)
    strong = [x.type.dtype.np for x, w in zip(xs, weak_ones) if not w]
    examples = [(x.value if isinstance(x, Lit) else x.type.dtype.np.type(0).item()) for x, w in zip(xs, weak_ones) if w]
    try:
        target = dtype_of_numpy(np.result_type(*strong, *examples))
    except OverflowError as e:  # `uint8_array + 300`, as NumPy 2 refuses it
        if compare:
            return list(xs)
        type_error(f"{e}", hint="cast the array to a wider dtype first")
    out = []
    for x, w in zip(xs, weak_ones):
        if w and target is not None and x.type.dtype != target and target.kind != "b":
            try:
                x = cast(x, target) if not (target.is_int and x.type.dtype.is_inexact) else x
            except OverflowError as e:  # `uint8_array + 300`, as NumPy 2 refuses it
                if compare:
                    return list(xs)
                type_error(f"{e}", hint="cast the array to a wider dtype first")
        out.append(x)
    return out


def implements_lazy_source(module: str, *names: str) -> Callable[[Callable], Callable]:
    """`implements_source` for `module.name` (SciPy), once the program has imported `module`;
    a name `owner.method` is a method of the module-level object `owner` (scipy.stats.norm)."""

    def deco(fn: Callable) -> Callable:
        implements_source()(fn)
        for n in names:
            if "." in n:
                owner, meth = n.split(".")
                implements_lazy_method(module, owner, meth)(lambda _owner, *a, fn=fn, **k: inline_source(fn, *a, **k))
            else:
                implements_lazy(module, n)(lambda *a, fn=fn, **k: inline_source(fn, *a, **k))
        return fn

    return deco
