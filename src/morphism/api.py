"""The public transformations: thin wrappers that compose the frontend, the passes and a
backend. Everything takes and returns NumPy values and pytrees."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import pytree
from .errors import ArgumentError, MorphismError
from .ir.builder import Builder, building
from .ir.core import Array, Func, Lit, Scalar, Type, Var, type_of_value
from .ir.verify import verify

_VERIFY = os.environ.get("MORPHISM_VERIFY", "") not in ("", "0")
_disabled = False


@contextlib.contextmanager
def disable_jit():
    """Run compiled functions as plain Python inside this block (for debugging)."""
    global _disabled
    old, _disabled = _disabled, True
    try:
        yield
    finally:
        _disabled = old


# ---- tracing: Python function + argument types -> Func ----------------------------------------


@dataclass(frozen=True)
class Signature:
    """What a compiled function is specialised on: per argument either a static value or the
    pytree structure and (dtype, ndim) of its leaves. Never shapes."""

    key: tuple

    def __hash__(self) -> int:
        return hash(self.key)


def _leaf_type(fn_name: str, path: str, x: Any) -> Type:
    t = type_of_value(x)
    if t is not None:
        return t
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        if isinstance(x, int) and not -(2**63) <= x < 2**63:
            raise ArgumentError(f"argument {path} of {fn_name}: the integer {x} does not fit in int64")
        raise ArgumentError(f"argument {path} of {fn_name}: {type(x).__name__} scalars are not supported yet; "
                            f"pass a Python int or np.int64")
    if isinstance(x, np.ndarray):
        raise ArgumentError(
            f"argument {path} of {fn_name}: arrays of dtype {x.dtype} are not supported yet "
            f"(morphism computes in bool, int64 and float64)",
            hint="convert it first, e.g. x.astype(np.float64)")
    if isinstance(x, np.generic):
        raise ArgumentError(f"argument {path} of {fn_name}: NumPy scalars of type {type(x).__name__} are not supported yet",
                            hint="pass a Python float or int")
    raise ArgumentError(
        f"argument {path} of {fn_name}: cannot pass {type(x).__name__} {x!r:.60} to a compiled function; "
        f"arguments are numbers, NumPy arrays, and tuples/lists/dicts/NamedTuples/dataclasses of those",
        hint="pass other values with static_argnums, or capture them in a closure")


def _canonical(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.dtype.kind == "i" and x.dtype != np.int64:
        return x
    return x


def _static_key(x: Any) -> Any:
    try:
        hash(x)
        return ("static", type(x), x)
    except TypeError:
        return ("static-id", id(x))


class Specialization:
    """The arguments of one call, split into static values and typed leaves."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, static_argnums: Sequence[int],
                 static_argnames: Sequence[str] = ()):
        name = getattr(fn, "__qualname__", repr(fn))
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except TypeError as e:
            raise ArgumentError(f"calling {name}: {e}") from None
        params = list(inspect.signature(fn).parameters)
        static_names = {params[i] for i in static_argnums if i < len(params)} | set(static_argnames)
        self.bound = bound
        self.leaves: list[Any] = []
        self.names: list[str] = []
        self.parts: list[tuple[str, Any]] = []
        key = []
        for pname, value in bound.arguments.items():
            if pname in static_names:
                self.parts.append((pname, ("static", value)))
                key.append((pname, _static_key(value)))
                continue
            leaves, treedef = pytree.flatten(value)
            paths = pytree.paths(value) if len(leaves) > 1 or not _is_leaf_tree(value) else [""]
            types = []
            for leaf, path in zip(leaves, paths):
                types.append(_leaf_type(name, f"{pname}{path}", leaf))
                self.names.append(_hint(pname, path))
            self.leaves.extend(leaves)
            self.parts.append((pname, ("tree", treedef, len(leaves))))
            key.append((pname, treedef, tuple(types)))
        self.types = [_leaf_type(name, "", x) for x in self.leaves] if False else None
        self.signature = Signature(tuple(key))
        self.leaf_types = [t for (_, tree, types) in [k for k in key if len(k) == 3] for t in types]


def _is_leaf_tree(v: Any) -> bool:
    return not isinstance(v, (tuple, list, dict)) and not hasattr(v, "__dataclass_fields__")


def _hint(pname: str, path: str) -> str:
    if not path:
        return pname
    clean = "".join(c if c.isalnum() else "_" for c in path).strip("_")
    while "__" in clean:
        clean = clean.replace("__", "_")
    return f"{pname}_{clean}" if clean else pname


def trace(fn: Callable, spec: Specialization) -> tuple[Func, Any]:
    """Lowers `fn` for the argument types in `spec`; returns the Func and the compilation
    (whose captured globals decide when the cache is stale)."""
    from .frontend.lower import lower_function
    from .frontend.values import EmptyList, ListVal

    params = [Var(t, n) for t, n in zip(spec.leaf_types, spec.names)]
    it = iter(params)
    arguments = {}
    for pname, part in spec.parts:
        if part[0] == "static":
            arguments[pname] = part[1]
        else:
            _, treedef, n = part
            arguments[pname] = pytree.unflatten(treedef, [next(it) for _ in range(n)])
    bound = spec.bound
    for k, v in arguments.items():
        bound.arguments[k] = v
    b = Builder()
    with building(b):
        result, comp = lower_function(fn, tuple(bound.args), dict(bound.kwargs))
        result = _finish_result(fn, result)
    leaves, out_tree = pytree.flatten(result, is_leaf=lambda x: isinstance(x, (Var, Lit)))
    for leaf in leaves:
        if not isinstance(leaf, (Var, Lit)):
            from .errors import MorphismTypeError

            raise MorphismTypeError(
                f"{fn.__qualname__} returns {leaf!r:.60}; compiled functions return numbers, arrays and "
                f"pytrees of those", None)
    func = Func(getattr(fn, "__name__", "f"), b.block(params, leaves), in_tree=spec.signature, out_tree=out_tree)
    return func, comp


def _finish_result(fn: Callable, result: Any) -> Any:
    from .frontend.library import to_atom
    from .frontend.values import EmptyList, ListVal

    def fix(x: Any) -> Any:
        if isinstance(x, ListVal):
            return _ListResult(to_atom(x))
        if isinstance(x, EmptyList):
            return _ListResult(None)
        if isinstance(x, tuple) and not hasattr(x, "_fields"):
            return tuple(fix(y) for y in x)
        if isinstance(x, list):
            return [fix(y) for y in x]
        if isinstance(x, dict):
            return {k: fix(v) for k, v in x.items()}
        if isinstance(x, (bool, int, float)):
            from .ir.core import lit

            return lit(x)
        return x

    fixed = fix(result)
    # Lists built at run time come back as Python lists of their elements, as in Python.
    return fixed


class _ListResult:
    def __init__(self, arr: Any) -> None:
        self.arr = arr


# ---- jit ----------------------------------------------------------------------------------------


@dataclass
class Lowered:
    """One specialisation of a jitted function: the IR and how to run it."""

    ir: Func
    runner: Callable[[list[Any]], list[Any]]
    captured: list

    @property
    def source(self) -> str:
        return str(self.ir)

    def fresh(self) -> bool:
        for ns, name, obj in self.captured:
            try:
                cur = ns[name] if isinstance(ns, dict) else ns.cell_contents
            except (KeyError, ValueError):
                return False
            if cur is not obj:
                return False
        return True


def _postprocess(out_tree: Any, values: list[Any]) -> Any:
    result = pytree.unflatten(out_tree, values)
    return result


class Jitted:
    """`mo.jit(f)`: compiles `f` for each new signature (pytree structure and (dtype, ndim) of
    the arguments, static arguments by value) and runs it."""

    def __init__(self, fn: Callable, backend: str = "interpreter", static_argnums: Sequence[int] | int = (),
                 static_argnames: Sequence[str] | str = (), passes: Sequence[Callable[[Func], Func]] = ()):
        if backend not in ("interpreter", "native"):
            raise ValueError(f"unknown backend {backend!r}: use 'interpreter' or 'native'")
        self.fn = fn
        self.backend = backend
        self.static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        self.passes = tuple(passes)
        self.cache: dict[Signature, Lowered] = {}
        functools.update_wrapper(self, fn)
        self.__morphism_wrapped__ = fn

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        spec = Specialization(self.fn, args, kwargs, self.static_argnums, self.static_argnames)
        return self._lowered(spec)

    def _lowered(self, spec: Specialization) -> Lowered:
        low = self.cache.get(spec.signature)
        if low is not None and low.fresh():
            return low
        func, comp = trace(self.fn, spec)
        func = run_pipeline(func, self.passes)
        runner = _make_runner(func, self.backend)
        low = Lowered(func, runner, comp.captured)
        self.cache[spec.signature] = low
        return low

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _disabled:
            return self.fn(*args, **kwargs)
        spec = Specialization(self.fn, args, kwargs, self.static_argnums, self.static_argnames)
        low = self._lowered(spec)
        outs = low.runner(spec.leaves)
        return _postprocess(low.ir.out_tree, outs)


def _make_runner(func: Func, backend: str) -> Callable[[list[Any]], list[Any]]:
    from .backends.interpreter import run_func

    if backend == "native":
        # The native backend arrives with the Numba code generator; until then the
        # interpreter runs everything.
        pass
    return lambda leaves: run_func(func, leaves)


def run_pipeline(func: Func, passes: Sequence[Callable[[Func], Func]] = ()) -> Func:
    if _VERIFY:
        verify(func)
    for p in passes:
        func = p(func)
        if _VERIFY:
            verify(func)
    return func


def jit(fn: Callable | None = None, *, backend: str = "interpreter", static_argnums: Sequence[int] | int = (),
        static_argnames: Sequence[str] | str = (), passes: Sequence[Callable[[Func], Func]] = ()) -> Any:
    """Compile `fn` from its Python source.

    Until the native (Numba) backend lands, every backend runs the reference interpreter;
    `backend="interpreter"` always will. Usable as `@mo.jit` or `mo.jit(f, ...)`.
    """
    if fn is None:
        return lambda f: jit(f, backend=backend, static_argnums=static_argnums,
                             static_argnames=static_argnames, passes=passes)
    return Jitted(fn, backend=backend, static_argnums=static_argnums, static_argnames=static_argnames, passes=passes)


def make_ir(fn: Callable, static_argnums: Sequence[int] | int = (), passes: Sequence[Callable[[Func], Func]] = ()):
    """`mo.make_ir(f)(*args)` returns the IR (a `Func`) of `f` for these argument types;
    `print` it to read it."""

    def build(*args: Any, **kwargs: Any) -> Func:
        j = Jitted(fn, static_argnums=static_argnums, passes=passes)
        return j.lower(*args, **kwargs).ir

    return build
