"""The public transformations: thin wrappers that compose the frontend, the passes and a
backend. Everything takes and returns NumPy values and pytrees."""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import pytree
from .frontend import library
from .errors import ArgumentError, MorphismError
from .ir.builder import Builder, building
from .ir.core import NO_LOC, Array, Atom, DType, Func, Lit, Scalar, Type, Var, type_of_value
from .ir.verify import verify

_VERIFY = os.environ.get("MORPHISM_VERIFY", "") not in ("", "0")
_disabled = False
IMPORTED_AT = time.time()  # the trace cache uses no entry once morphism's source is newer than this


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
    if isinstance(x, (Var, Lit)):
        return x.type
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
            f"argument {path} of {fn_name}: arrays of dtype {x.dtype} are not supported "
            f"(morphism computes in bool, (u)int8-64, float32/64 and complex64/128)",
            hint="convert it first, e.g. x.astype(np.float64)")
    if isinstance(x, np.generic):
        raise ArgumentError(f"argument {path} of {fn_name}: NumPy scalars of type {type(x).__name__} are not supported yet",
                            hint="pass a Python float or int")
    raise ArgumentError(
        f"argument {path} of {fn_name}: cannot pass {type(x).__name__} {x!r:.60} to a compiled function; "
        f"arguments are numbers, NumPy arrays, and tuples/lists/dicts/NamedTuples/dataclasses of those",
        hint="pass other values with static_argnums, or capture them in a closure")


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
        self.static_argnums, self.static_argnames = tuple(static_argnums), tuple(static_argnames)
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


def trace(fn: Callable, spec: Specialization) -> tuple[Func, list]:
    """Lowers `fn` (a Python function, or a `Closure` of a function made in compiled code) for
    the argument types in `spec`; returns the Func and the captured globals (they decide when
    the cache is stale)."""
    from .frontend import library
    from .frontend.closure import CAPTURED, Closure, is_local
    from .frontend.lower import lower_function
    from .frontend.values import describe

    params = [Var(t, n) for t, n in zip(spec.leaf_types, spec.names)]
    for p, leaf in zip(params, spec.leaves):
        if type(leaf) in (bool, int, float, complex):  # a Python number: weak, as NumPy 2 (NEP 50)
            library.weak(p)
    it = iter(params)
    arguments = {}
    for pname, part in spec.parts:
        if part[0] == "static":
            arguments[pname] = part[1]
        else:
            _, treedef, n = part
            arguments[pname] = pytree.unflatten(treedef, [next(it) for _ in range(n)])
    stand_ins = pytree.flatten(arguments.pop(CAPTURED, ()), is_leaf=_is_atom)[0]
    bound = copy.copy(spec.bound)  # the spec keeps the caller's values
    bound.arguments = dict(arguments)
    b = Builder()
    with building(b):
        if isinstance(fn, Closure):
            result, writes = fn.call(tuple(bound.args), dict(bound.kwargs))
            captured = []  # (noted in the enclosing function's compilation)
        else:
            result, comp = lower_function(library.as_function(fn), tuple(bound.args), dict(bound.kwargs))
            writes, captured = comp.writes, comp.captured
        result = _finish_result(fn, result)
        if writes:
            result = _with_writes(result, writes, params, spec)
    _list_node_registered()
    leaves, out_tree = pytree.flatten(result, is_leaf=lambda x: _is_atom(x) or is_local(x))
    for leaf in leaves:
        if not _is_atom(leaf):
            from .errors import MorphismTypeError

            raise MorphismTypeError(f"{getattr(fn, '__qualname__', 'the function')} returns {describe(leaf)}; compiled "
                                    f"and transformed functions return numbers, arrays and pytrees of those", _def_loc(fn))
    body = b.block(params, leaves)
    if isinstance(fn, Closure):  # the enclosing function's Vars it read become its params
        body = fn.close(body, stand_ins)
    func = Func(getattr(fn, "__name__", "f"), body, in_tree=spec.signature, out_tree=out_tree,
                loc=fn.loc if isinstance(fn, Closure) else NO_LOC)
    # Clean IR before any transformation sees it: reverse mode saves fewer, deduplicated values.
    return run_pipeline(func), captured


def _is_atom(x: Any) -> bool:
    return isinstance(x, (Var, Lit))


def _finish_result(fn: Callable, result: Any) -> Any:
    """The function's result with growable lists turned into arrays, marked so that the caller
    gets a Python list back, as from plain Python."""
    from .frontend.library import to_atom
    from .frontend.values import EmptyList, ListVal

    def fix(x: Any) -> Any:
        if isinstance(x, ListVal):
            return _ListResult(to_atom(x))
        if isinstance(x, EmptyList):
            from .ir.core import lit

            return _ListResult(lit(np.zeros(0)))
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


class Writes:
    """The result of a function that writes into arrays it was given: `result`, and the final
    value of each written argument leaf. The caller's arrays get those values (in place, as in
    Python); `info` holds, per written leaf, (its index among the argument leaves, the
    argument's name, where the function first writes into it)."""

    def __init__(self, result: Any, finals: tuple, info: tuple) -> None:
        self.result, self.finals, self.info = result, finals, info

    def where(self) -> str:
        index, name, loc = self.info[0]
        return f"{name!r}" + (f" (first written at {loc})" if loc else "")


def _with_writes(result: Any, writes: list, params: list[Var], spec: "Specialization") -> Writes:
    from .frontend.library import cast

    finals, info = [], []
    for old, new, loc in writes:
        k = next((i for i, p in enumerate(params) if p is old), None)
        if k is None:
            continue  # an array made from the arguments (a record's copy): not the caller's
        finals.append(cast(new, old.type.dtype) if new.type != old.type else new)
        info.append((k, spec.names[k], str(loc) if loc else ""))
    return Writes(result, tuple(finals), tuple(info)) if finals else result


def written_params(func: Func) -> frozenset[int]:
    """The indices of the argument leaves that `func` writes into."""
    w = _writes_node(func.out_tree) if func.out_tree is not None else None
    return frozenset(k for k, _, _ in w.info) if w is not None else frozenset()


def refuse_writes(F: Func, fn: Callable, what: str) -> None:
    """`what` (a transformation that runs `fn` other than once, as Python would) does not follow
    writes into the arguments: a clear error rather than an answer that differs from Python's."""
    w = _writes_node(F.out_tree)
    if w is not None:
        raise ArgumentError(
            f"{what}: {getattr(fn, '__qualname__', 'the function')} writes into its argument {w.where()}; "
            f"{what} does not update the caller's arrays",
            hint="write into a copy (x = x.copy() first), or use mo.grad / mo.jvp / mo.vjp, which update "
                 "them as the function does when it runs once")


def _apply_writes(out: Any, leaves: Sequence[Any]) -> Any:
    """Copies the final values of written arguments into the caller's arrays (nothing to copy
    when the native code wrote the caller's buffer in place); returns the function's result."""
    for final, (k, name, loc) in zip(out.finals, out.info):
        dst = leaves[k]
        if final is dst or not isinstance(dst, np.ndarray):
            continue
        if isinstance(final, np.ndarray) and final.shape == dst.shape and final.strides == dst.strides and \
                final.__array_interface__["data"][0] == dst.__array_interface__["data"][0]:
            continue
        np.copyto(dst, final, casting="unsafe")
    return out.result


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10_000))
    except np.exceptions.TooHardError:
        return True


def _check_aliasing(fn: Any, out_tree_node: Writes, leaves: Sequence[Any]) -> None:
    """The function writes into some arguments: none may share memory with another argument
    (the compiled code keeps them apart, so Python's result could differ)."""
    arrays = [(k, x) for k, x in enumerate(leaves) if isinstance(x, np.ndarray)]
    for k, name, loc in out_tree_node.info:
        dst = leaves[k]
        for j, x in arrays:
            if j != k and _overlap(dst, x):
                raise ArgumentError(
                    f"{getattr(fn, '__qualname__', 'the function')} writes into its argument {name!r}"
                    + (f" (at {loc})" if loc else "") + ", and another argument shares its memory: "
                    "morphism does not follow writes between aliased arguments",
                    hint="pass a copy (x.copy()) for one of them")


class _ListResult:
    """A list built at run time, returned to the caller as a Python list of its elements."""

    def __init__(self, arr: Any) -> None:
        self.arr = arr


def _list_node_registered() -> None:
    import optree

    if not getattr(_list_node_registered, "done", False):
        optree.register_pytree_node(_ListResult, lambda r: ((r.arr,), None, None),
                                    lambda _, children: _ListResult(children[0]), namespace=pytree.NAMESPACE)
        optree.register_pytree_node(Writes, lambda w: ((w.result, w.finals), w.info, None),
                                    lambda info, children: Writes(children[0], tuple(children[1]), info),
                                    namespace=pytree.NAMESPACE)
        _list_node_registered.done = True


_list_node_registered()


# ---- transformed functions: the shared machinery ------------------------------------------------


@dataclass
class Lowered:
    """One specialisation of a transformed function: its IR and how to run it."""

    ir: Func
    runner: Callable[[list[Any]], list[Any]]
    captured: list

    @property
    def source(self) -> str:
        """The generated Python source (native backend), or the printed IR (interpreter)."""
        return getattr(self.runner, "source", None) or str(self.ir)

    @property
    def out_tree(self) -> Any:
        return self.ir.out_tree

    def fresh(self) -> bool:
        for ns, name, obj in self.captured:
            try:
                cur = ns[name] if isinstance(ns, dict) else ns.cell_contents
            except (KeyError, ValueError):
                return False
            if cur is not obj:
                return False
        return True


class Transformed:
    """A function of NumPy values and pytrees built from IR: compiled once per signature
    (pytree structure and (dtype, ndim) of the arguments, static arguments by value), and
    inlined as IR when another transformation traces a call to it (so transformations nest)."""

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
        self._quick: dict[tuple, tuple[Lowered, bool]] = {}  # (specialisation, results hold no list)
        functools.update_wrapper(self, fn, updated=())  # not __dict__: it would copy fn.fn

    # subclasses: the IR for one signature, with `out_tree` set; plus captured globals
    def build(self, spec: "Specialization") -> tuple[Func, list]:
        raise NotImplementedError

    def specialize(self, args: tuple, kwargs: dict) -> "Specialization":
        return Specialization(self.fn, args, kwargs, self.static_argnums, self.static_argnames)

    def lower(self, *args: Any, **kwargs: Any) -> Lowered:
        return self._lowered(self.specialize(args, kwargs))

    def _lowered(self, spec: "Specialization") -> Lowered:
        low = self.cache.get(spec.signature)
        if low is None or not low.fresh():
            from .backends import trace_cache

            low = self.cache[spec.signature] = trace_cache.lowered(self, spec)
        return low

    def traced(self, spec: "Specialization") -> tuple[Func, list]:
        """The IR for one signature after the passes, and the captured globals."""
        func, captured = self.build(spec)
        return run_pipeline(func, self.passes), captured

    def compiled(self, spec: "Specialization") -> Lowered:
        """Traced, transformed, passed and compiled (what the trace cache skips on a hit)."""
        func, captured = self.traced(spec)
        return Lowered(func, _make_runner(func, self.backend), captured)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _disabled and isinstance(self, Jitted):
            return self.fn(*args, **kwargs)
        # Fast path: positional numbers and arrays (static arguments: hashable values), a
        # signature seen before.
        quick = _quick_key(args, self.static_argnums) if not kwargs and not self.static_argnames else None
        if quick is not None:
            hit = self._quick.get(quick)
            if hit is not None and hit[0].fresh():
                low, plain = hit
                leaves = [a for i, a in enumerate(args) if i not in self.static_argnums] if self.static_argnums else args
                run = low.runner
                if not plain:
                    self._check_writes(low, leaves)
                out = pytree.unflatten(low.out_tree, getattr(run, "fast", run)(leaves))
                return out if plain else self._finish_call(out, leaves)
        spec = self.specialize(args, kwargs)
        low = self._lowered(spec)
        if quick is not None:
            dyn = [a for i, a in enumerate(args) if i not in self.static_argnums]
            if len(spec.leaves) == len(dyn) and all(a is b for a, b in zip(spec.leaves, dyn)):
                self._quick[quick] = (low, _plain(low.out_tree))
        self._check_writes(low, spec.leaves)
        outs = low.runner(spec.leaves)
        return self._finish_call(pytree.unflatten(low.out_tree, outs), spec.leaves)

    def _check_writes(self, low: Lowered, leaves: Sequence[Any]) -> None:
        w = _writes_node(low.out_tree)
        if w is not None:
            _check_aliasing(self.fn, w, leaves)

    def _finish_call(self, out: Any, leaves: Sequence[Any]) -> Any:
        if isinstance(out, Writes):
            out = _apply_writes(out, leaves)
        return _to_python_lists(out)

    def __morphism_custom__(self, frame: Any, args: list, kwargs: dict, node: Any) -> Any:
        """Called by the frontend when traced code calls this function: inline its IR."""
        from .frontend.library import to_atom
        from .frontend.values import ListVal
        from .ir.subst import inline

        args = [to_atom(a) if isinstance(a, ListVal) else a for a in args]
        t, extra = _closed(self, frame, node)
        spec = t.specialize(tuple(args), {**kwargs, **extra})
        func, captured = t.build(spec)
        frame.comp.captured.extend(captured)
        outs = inline(func, spec.leaves)
        out = pytree.unflatten(func.out_tree, outs)
        if isinstance(out, Writes):  # the caller's arrays see the writes
            frame.apply_writes([(spec.leaves[k], final, None) for final, (k, _, _) in zip(out.finals, out.info)])
            out = out.result
        return out


def _closed(t: Transformed, frame: Any, node: Any) -> tuple[Transformed, dict]:
    """`t` with the function at the bottom of its chain of transformations replaced by a
    `Closure` when it was made inside compiled code, and the keyword argument that passes it
    the Vars it reads (see frontend/closure.py)."""
    from .frontend.closure import CAPTURED, Closure, is_local

    chain = [t]
    while isinstance(chain[-1].fn, Transformed):
        chain.append(chain[-1].fn)
    if not is_local(chain[-1].fn):
        return t, {}
    inner = closure = Closure(chain[-1].fn, frame, node)
    for layer in reversed(chain):  # copies: the transformation may be called again elsewhere
        layer = copy.copy(layer)
        layer.fn = layer.__wrapped__ = inner
        if hasattr(layer, "__morphism_wrapped__"):
            layer.__morphism_wrapped__ = inner
        layer.cache, layer._quick = {}, {}
        inner = layer
    return inner, {CAPTURED: closure.captured}


def _n_captured(spec: Any) -> int:
    """How many of the spec's leaves are a Closure's captured Vars (last, after positional primals)."""
    from .frontend.closure import CAPTURED

    return next((part[2] for pname, part in spec.parts if pname == CAPTURED and part[0] == "tree"), 0)


_PLAIN: dict[Any, bool] = {}


def _plain(out_tree: Any) -> bool:
    """Whether results of this structure hold no run-time list and no written argument (then
    they are returned as unflattened, without a rebuild)."""
    try:
        p = _PLAIN.get(out_tree)
        if p is None:
            p = _PLAIN[out_tree] = not _holds_list_result(pytree.unflatten(out_tree, [0] * out_tree.num_leaves))
        return p
    except TypeError:  # a structure that cannot be a dict key
        return False


_WRITES: dict[Any, Any] = {}


def _writes_node(out_tree: Any) -> "Writes | None":
    """The `Writes` node of results of this structure (None: the function writes into no argument)."""
    try:
        w = _WRITES.get(out_tree, False)
    except TypeError:
        w = False
    if w is False:
        top = pytree.unflatten(out_tree, [0] * out_tree.num_leaves)
        w = top if isinstance(top, Writes) else None
        try:
            _WRITES[out_tree] = w
        except TypeError:
            pass
    return w


def _holds_list_result(tree: Any) -> bool:
    if isinstance(tree, (_ListResult, Writes)):
        return True
    if isinstance(tree, (tuple, list)):
        return any(_holds_list_result(x) for x in tree)
    if isinstance(tree, dict):
        return any(_holds_list_result(x) for x in tree.values())
    return False


def _to_python_lists(tree: Any) -> Any:
    if isinstance(tree, _ListResult):
        return list(tree.arr)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*(_to_python_lists(x) for x in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(_to_python_lists(x) for x in tree)
    if isinstance(tree, dict):
        return {k: _to_python_lists(v) for k, v in tree.items()}
    return tree


def _lists_as_arrays(structure: Any, ct: Any) -> Any:
    """A cotangent given for a result that is a Python list built at run time (as the caller
    received it) becomes the array the IR holds for that list."""
    if isinstance(structure, _ListResult):
        return np.asarray(ct, dtype=float)
    if isinstance(structure, (tuple, list)) and isinstance(ct, (tuple, list)) and len(structure) == len(ct):
        vals = [_lists_as_arrays(a, b) for a, b in zip(structure, ct)]
        return type(ct)(*vals) if hasattr(ct, "_fields") else type(ct)(vals)
    if isinstance(structure, dict) and isinstance(ct, dict):
        return {k: _lists_as_arrays(structure[k], v) if k in structure else v for k, v in ct.items()}
    return ct


def _quick_key(args: tuple, static: tuple[int, ...] = ()) -> tuple | None:
    """A cheap signature for calls whose arguments are all plain numbers or arrays, and static
    arguments that are numbers or strings."""
    key = []
    for i, a in enumerate(args):
        t = type(a)
        if i in static:
            if t not in (int, float, bool, str, type(None)):
                return None
            key.append((t, a))
        elif t is np.ndarray:
            key.append((a.dtype.char, a.ndim))
        elif t is float or t is int or t is bool:
            key.append(t)
        elif t in _NP_SCALARS:
            key.append(_NP_SCALARS[t])
        else:
            return None
    return tuple(key)


# NumPy scalars that take the fast path: the same signature as the Python number
_NP_SCALARS = {np.float64: float, np.int64: int, np.bool_: bool}


def trace_any(fn: Callable, spec: "Specialization", target: str | None = None) -> tuple[Func, list]:
    """The IR of `fn` for `spec`: traced from source, or built by a transformation. `target` is
    the backend the IR is built for, when `jit` compiles `fn` itself (vmap picks its strategy
    by it)."""
    if isinstance(fn, Transformed):
        if spec.bound is None:
            return fn.build(spec)
        # `jit(grad(f), static_argnums=1)`: the arguments static for the outer transformation
        # are static for the inner one too
        nums = getattr(spec, "static_argnums", ())
        names = getattr(spec, "static_argnames", ())
        if set(nums) - set(fn.static_argnums) or set(names) - set(fn.static_argnames):
            fn = copy.copy(fn)
            fn.static_argnums = tuple(sorted(set(fn.static_argnums) | set(nums)))
            fn.static_argnames = tuple(set(fn.static_argnames) | set(names))
            fn.cache, fn._quick = {}, {}
        inner = fn.specialize(spec.bound.args, spec.bound.kwargs)
        return fn.build(inner, target=target) if isinstance(fn, _VMap) else fn.build(inner)
    return trace(fn, spec)


def finish(name: str, params: list[Var], builder: Builder, result: Any) -> Func:
    """A Func whose results are the atoms of the pytree `result`."""
    leaves, out_tree = pytree.flatten(result, is_leaf=lambda x: isinstance(x, (Var, Lit)))
    return Func(name, builder.block(params, leaves), out_tree=out_tree)


class MorphismPerformanceWarning(UserWarning):
    """The native backend could not compile a function and the interpreter runs it instead."""


def _make_runner(func: Func, backend: str) -> Callable[[list[Any]], list[Any]]:
    from .backends.interpreter import run_func

    if backend == "native":
        from .backends.numba_backend import Unsupported, compile_func

        try:
            return compile_func(func, written_params(func))
        except Unsupported as e:
            import warnings

            warnings.warn(f"morphism: the native backend cannot compile {func.name} yet ({e}); "
                          f"running it with the interpreter", MorphismPerformanceWarning, stacklevel=3)
    return lambda leaves: run_func(func, leaves)


def run_pipeline(func: Func, passes: Sequence[Callable[[Func], Func]] = ()) -> Func:
    from .transforms.pipeline import run_passes

    return run_passes(func, passes)


# ---- jit ----------------------------------------------------------------------------------------


class Jitted(Transformed):
    """`mo.jit(f)`: compiles `f` from its source for each new signature and runs it."""

    def __init__(self, fn: Callable, **kw: Any):
        super().__init__(fn, **kw)
        self.__morphism_wrapped__ = fn

    def build(self, spec: "Specialization") -> tuple[Func, list]:
        return trace_any(self.fn, spec, target=self.backend)


def default_backend() -> str:
    """`native` unless the environment variable MORPHISM_BACKEND says otherwise."""
    return os.environ.get("MORPHISM_BACKEND", "native")


def jit(fn: Callable | None = None, *, backend: str | None = None, static_argnums: Sequence[int] | int = (),
        static_argnames: Sequence[str] | str = (), passes: Sequence[Callable[[Func], Func]] = ()) -> Any:
    """Compile `fn` from its Python source.

    `backend="native"` (the default; MORPHISM_BACKEND overrides it) generates Python source and
    compiles it with Numba on the first call for each signature; what it cannot compile runs on
    the interpreter with a `MorphismPerformanceWarning`. `backend="interpreter"` walks the IR
    with NumPy: the reference semantics. Usable as `@mo.jit` or `mo.jit(f, ...)`. `passes` are
    functions from `Func` to `Func` run on the IR after the built-in pipeline.
    """
    backend = backend or default_backend()
    if fn is None:
        return lambda f: jit(f, backend=backend, static_argnums=static_argnums,
                             static_argnames=static_argnames, passes=passes)
    return Jitted(fn, backend=backend, static_argnums=static_argnums, static_argnames=static_argnames, passes=passes)


def make_ir(fn: Callable, static_argnums: Sequence[int] | int = (), passes: Sequence[Callable[[Func], Func]] = ()):
    """`mo.make_ir(f)(*args)` returns the IR (a `Func`) of `f` for these argument types;
    `print` it to read it. `f` may be a transformed function: `mo.make_ir(mo.grad(f))(x)`."""

    def build(*args: Any, **kwargs: Any) -> Func:
        j = Jitted(fn, static_argnums=static_argnums, passes=passes, backend="interpreter")
        return j.lower(*args, **kwargs).ir

    return build


# ---- automatic differentiation -----------------------------------------------------------------


def _def_loc(fn: Callable) -> Any:
    """Where the user's function is defined (for errors about the function as a whole)."""
    from .frontend.source import get_source

    while isinstance(fn, Transformed):
        fn = fn.fn
    from .frontend.closure import Closure

    if isinstance(fn, Closure):  # defined in compiled code
        return fn.loc
    try:
        src = get_source(fn)
        return src.loc(src.node)
    except Exception:
        return None


def _argnums_tuple(argnums: int | Sequence[int]) -> tuple[int, ...]:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _leaf_ranges(spec: Specialization) -> dict[str, tuple[int, int]]:
    """For each traced parameter name, the range of its leaves among the Func params."""
    out, k = {}, 0
    for pname, part in spec.parts:
        if part[0] == "tree":
            out[pname] = (k, k + part[2])
            k += part[2]
    return out


def _wrt(fn: Callable, spec: Specialization, argnums: tuple[int, ...], what: str) -> tuple[list[bool], list[tuple[int, int, Any]]]:
    """The mask of Func params that are differentiated, and per argnum its (lo, hi, treedef)."""
    from .frontend.closure import CAPTURED
    from .transforms.adutil import DifferentiationError, is_float

    names = [n for n in inspect.signature(fn).parameters if n != CAPTURED]
    ranges = _leaf_ranges(spec)
    trees = {p: part for p, part in spec.parts}
    mask = [False] * len(spec.leaf_types)
    picked = []
    for a in argnums:
        if not -len(names) <= a < len(names):
            raise ArgumentError(f"{what}: argnums={a} but {getattr(fn, '__name__', 'f')} takes {len(names)} arguments")
        pname = names[a]
        if pname not in ranges:
            raise ArgumentError(f"{what}: argument {pname!r} is static (or missing) and cannot be differentiated")
        lo, hi = ranges[pname]
        for k in range(lo, hi):
            t = spec.leaf_types[k]
            if not is_float(t):
                raise DifferentiationError(
                    f"{what} with respect to argument {pname!r}, which holds {t.dtype.value} values ({t}): "
                    f"only float32 and float64 inputs can be differentiated (complex: not yet)", _def_loc(fn),
                    hint="pass floats (e.g. 1.0 rather than 1, or x.astype(float)), or leave the argument out of argnums")
            mask[k] = True
        picked.append((lo, hi, trees[pname][1]))
    return mask, picked


class _Grad(Transformed):
    def __init__(self, fn: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
                 with_value: bool = False, **kw: Any):
        super().__init__(fn, **kw)
        self.argnums = argnums
        self.has_aux = has_aux
        self.with_value = with_value

    def build(self, spec: Specialization) -> tuple[Func, list]:
        from .ir.subst import inline
        from .transforms.adutil import DifferentiationError, is_float
        from .transforms.vjp import vjp_func

        F, captured = trace_any(self.fn, spec)
        name = getattr(self.fn, "__name__", "f")
        what = "value_and_grad" if self.with_value else "grad"
        out = pytree.unflatten(F.out_tree, list(range(len(F.results))))
        if isinstance(out, Writes):  # the written arguments' final values pass through
            out = out.result
        if self.has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise DifferentiationError(f"{what}(has_aux=True): {name} must return a pair (output, aux)", _def_loc(self.fn))
            main = out[0]
        else:
            main = out
        if not isinstance(main, int):
            raise DifferentiationError(
                f"{what} needs {name} to return a scalar, but it returns a pytree", _def_loc(self.fn),
                hint="use mo.jacrev or mo.vjp for functions with several outputs")
        t = F.results[main].type
        if not (isinstance(t, Scalar) and is_float(t)):
            raise DifferentiationError(
                f"{what} needs {name} to return a float scalar, but it returns {t}", _def_loc(self.fn),
                hint="use mo.jacrev for arrays; sum the output for a gradient of the total")
        argnums = _argnums_tuple(self.argnums)
        mask, picked = _wrt(self.fn, spec, argnums, what)
        seeds = [k == main for k, r in enumerate(F.results) if is_float(r.type)]
        V = vjp_func(F, mask, seeds=seeds)
        params = [Var(p.type, p.hint) for p in F.params]
        b = Builder(F.loc)
        with building(b):
            outs = inline(V, [*params, _one(t.dtype)])
        n_res = len(F.results)
        primal, cts = outs[:n_res], outs[n_res:]
        it = iter(cts)
        leaf_grads = {k: next(it) for k in range(len(mask)) if mask[k]}
        grads = [pytree.unflatten(tree, [leaf_grads[k] for k in range(lo, hi)]) for lo, hi, tree in picked]
        g = grads[0] if isinstance(self.argnums, int) else tuple(grads)
        value = pytree.unflatten(F.out_tree, primal)
        writes = value if isinstance(value, Writes) else None
        if writes is not None:
            value = writes.result
        if self.with_value:
            result = (value, g)
        elif self.has_aux:
            result = (g, value[1])
        else:
            result = g
        if writes is not None:  # the caller's arrays are updated as when the function runs
            result = Writes(result, writes.finals, writes.info)
        return finish(f"{what}_{name}", params, b, result), captured


def _one(dtype: DType = DType.float64) -> Lit:
    from .ir.core import lit

    return lit(1.0, dtype)


def grad(fn: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, **kw: Any) -> Callable:
    """The gradient of a scalar-valued `fn` with respect to the arguments `argnums`, by reverse
    mode on the IR (loops, while loops, branches and in-place writes included). With
    `has_aux=True`, `fn` returns `(value, aux)` and the result is `(grad, aux)`."""
    return _Grad(fn, argnums=argnums, has_aux=has_aux, **kw)


def value_and_grad(fn: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, **kw: Any) -> Callable:
    """Like `grad`, returning `(value, grad)` (`((value, aux), grad)` with `has_aux`)."""
    return _Grad(fn, argnums=argnums, has_aux=has_aux, with_value=True, **kw)


class _ExtraSpec:
    """A specialisation of `fn` for its primal arguments, plus extra leaves (tangents or
    cotangents) passed after them."""

    def __init__(self, base: Specialization, extra_leaves: list[Any], extra_types: list[Type], tag: Any):
        self.base = base
        self.bound = base.bound
        self.leaves = [*base.leaves, *extra_leaves]
        self.extra_types = extra_types
        self.signature = Signature((base.signature.key, tag, tuple(extra_types)))


def _float_leaves(what: str, tree_like: Any, primal_leaves: list, types: list[Type], path: str) -> tuple[list, list[Type]]:
    """The leaves of `tree_like` (tangents or cotangents) that go with float primal leaves."""
    from .transforms.adutil import is_float

    leaves, _ = pytree.flatten(tree_like)
    if len(leaves) != len(primal_leaves):
        raise ArgumentError(f"{what}: the {path} must have the same pytree structure as the primals "
                            f"({len(primal_leaves)} leaves), found {len(leaves)} leaves")
    out, ts = [], []
    for x, p, t in zip(leaves, primal_leaves, types):
        if not is_float(t):
            continue
        tx = _leaf_type(what, path, x if not isinstance(x, (int, float)) or isinstance(x, bool) else float(x))
        if isinstance(x, (Var, Lit)):
            if tx.ndim != t.ndim:
                raise ArgumentError(f"{what}: a {path} leaf has type {tx}, its primal {t}")
            out.append(x)
        else:
            arr = np.asarray(x, dtype=np.float64)
            if np.shape(p) != arr.shape:
                raise ArgumentError(f"{what}: a {path} leaf has shape {arr.shape}, its primal {np.shape(p)}")
            out.append(arr if arr.ndim else np.float64(arr))
        ts.append(t)
    return out, ts


class _JVPOf(Transformed):
    """`(primals, tangents) -> (outputs, output tangents)` for a fixed function."""

    def specialize(self, args: tuple, kwargs: dict) -> _ExtraSpec:
        primals, tangents = args
        if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
            raise ArgumentError("jvp: primals and tangents must be tuples (or lists) of arguments")
        if len(primals) != len(tangents):
            raise ArgumentError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
        base = Specialization(self.fn, tuple(primals), kwargs, self.static_argnums)
        n = len(base.leaves) - _n_captured(base)  # a Closure's captured Vars take no tangent
        extra, types = _float_leaves("jvp", tuple(tangents), base.leaves[:n], base.leaf_types[:n], "tangents")
        return _ExtraSpec(base, extra, types, "jvp")

    def build(self, spec: _ExtraSpec) -> tuple[Func, list]:
        from .ir.subst import inline
        from .transforms.adutil import is_float, zeros_like
        from .transforms.jvp import jvp_func

        F, captured = trace_any(self.fn, spec.base)
        n = len(spec.base.leaf_types) - _n_captured(spec.base)
        mask = [is_float(t) and k < n for k, t in enumerate(spec.base.leaf_types)]
        J = jvp_func(F, mask)
        params = [Var(p.type, p.hint) for p in F.params]
        tparams = [Var(p.type, f"{p.hint}_dot") for p, m in zip(F.params, mask) if m]
        b = Builder(F.loc)
        with building(b):
            outs = inline(J, [*params, *tparams])
            n = len(F.results)
            primal, touts = outs[:n], iter(outs[n:])
            tangent_leaves = [next(touts) if is_float(r.type) else _int_zeros(r) for r in primal]
        value, tangent = pytree.unflatten(F.out_tree, primal), pytree.unflatten(F.out_tree, tangent_leaves)
        if isinstance(value, Writes):  # the caller's arrays are updated as when the function runs
            result = Writes((value.result, tangent.result), value.finals, value.info)
        else:
            result = (value, tangent)
        return finish(f"jvp_{F.name}", [*params, *tparams], b, result), captured


def _int_zeros(r: Atom) -> Atom:
    from .ir.core import DType, lit
    from .primitives.creation import zeros
    from .transforms.adutil import dims_of

    if isinstance(r.type, Scalar):
        return lit(0, r.type.dtype)
    return zeros(*dims_of(r), dtype=r.type.dtype)


_transform_cache: dict[tuple, Transformed] = {}


def _cached(kind: type, fn: Callable, **kw: Any) -> Transformed:
    key = (kind, fn, tuple(sorted(kw.items())))
    try:
        t = _transform_cache.get(key)
    except TypeError:
        return kind(fn, **kw)
    if t is None:
        t = _transform_cache[key] = kind(fn, **kw)
    return t


def jvp(fn: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Forward mode: `(fn(*primals), J(primals) @ tangents)`, with JAX's conventions."""
    return _cached(_JVPOf, fn)(tuple(primals), tuple(tangents))


class _VJPOf(Transformed):
    """`(primals, cotangents) -> cotangents of the primals` for a fixed function."""

    def specialize(self, args: tuple, kwargs: dict) -> _ExtraSpec:
        primals, ct = args
        base = Specialization(self.fn, tuple(primals), kwargs, self.static_argnums)
        if any(isinstance(x, (Var, Lit)) for x in base.leaves):  # inside compiled code
            ir = trace_any(self.fn, base)[0]
        else:
            ir = _cached(Jitted, self.fn, static_argnums=self.static_argnums)._lowered(base).ir
        from .frontend.library import cast
        from .transforms.adutil import is_float

        structure = pytree.unflatten(ir.out_tree, list(ir.results))
        results = list(ir.results)
        if isinstance(structure, Writes):  # written arguments: no cotangent given for them
            structure = structure.result
            results = pytree.flatten(structure)[0]
        ct_leaves, _ = pytree.flatten(_lists_as_arrays(structure, ct))
        if len(ct_leaves) != len(results):
            raise ArgumentError(f"vjp: the cotangent must have the structure of the output "
                                f"({len(results)} leaves), found {len(ct_leaves)}")
        extra, types = [], []
        for c, r in zip(ct_leaves, results):
            if is_float(r.type) and isinstance(c, (Var, Lit)):
                if c.type.ndim != r.type.ndim:
                    raise ArgumentError(f"vjp: a cotangent leaf has type {c.type}, its output {r.type}")
                extra.append(cast(c, r.type.dtype))
                types.append(r.type)
            elif is_float(r.type):
                arr = np.asarray(c, dtype=np.float64)
                extra.append(arr if arr.ndim else np.float64(arr))
                types.append(r.type)
        return _ExtraSpec(base, extra, types, "vjp")

    def build(self, spec: _ExtraSpec) -> tuple[Func, list]:
        from .ir.subst import inline
        from .frontend.closure import CAPTURED
        from .transforms.adutil import is_float, zeros_like
        from .transforms.vjp import vjp_func

        F, captured = trace_any(self.fn, spec.base)
        n = len(spec.base.leaf_types) - _n_captured(spec.base)
        mask = [is_float(t) and k < n for k, t in enumerate(spec.base.leaf_types)]
        n_written = len(w.finals) if (w := _writes_node(F.out_tree)) is not None else 0
        n_out = len(F.results) - n_written  # the written arguments' values come last
        seeds = [k < n_out for k, r in enumerate(F.results) if is_float(r.type)]
        V = vjp_func(F, mask, seeds=seeds)
        params = [Var(p.type, p.hint) for p in F.params]
        cparams = [Var(r.type, "ct") for r in F.results[:n_out] if is_float(r.type)]
        b = Builder(F.loc)
        with building(b):
            outs = inline(V, [*params, *cparams])
            cts = iter(outs[len(F.results):])
            leaf_cts = [next(cts) if m else _int_zeros(p) for p, m in zip(params, mask)]
        grads = []
        for pname, part in spec.base.parts:
            if part[0] == "tree" and pname != CAPTURED:
                n = part[2]
                grads.append(pytree.unflatten(part[1], leaf_cts[:n]))
                leaf_cts = leaf_cts[n:]
        return finish(f"vjp_{F.name}", [*params, *cparams], b, tuple(grads)), captured


def vjp(fn: Callable, *primals: Any) -> tuple[Any, Callable]:
    """Reverse mode: `(fn(*primals), vjp_fn)` where `vjp_fn(ct)` is the tuple of cotangents of
    the primals (J(primals)^T ct), as in JAX."""
    j = _cached(Jitted, fn)
    given = primals
    if _writes_node(j.lower(*primals).out_tree) is not None:
        # the function writes into its arguments (the call below updates them, as in Python):
        # the cotangents are taken at the values given, kept aside
        given = tuple(pytree.tree_map(lambda x: x.copy() if isinstance(x, np.ndarray) else x, p) for p in primals)
    out = j(*primals)
    primals = given
    back = _cached(_VJPOf, fn)

    def vjp_fn(ct: Any) -> tuple:
        return back(primals, ct)

    return out, vjp_fn


class _Jacobian(Transformed):
    """`jacfwd` (one jvp per input element, in a loop) and `jacrev` (one vjp per output
    element). The Jacobian of an output leaf of shape S with respect to an input leaf of shape T
    has shape S + T; pytrees nest as in JAX (outputs outside, inputs inside)."""

    def __init__(self, fn: Callable, argnums: int | Sequence[int] = 0, mode: str = "fwd", **kw: Any):
        super().__init__(fn, **kw)
        self.argnums = argnums
        self.mode = mode

    def build(self, spec: Specialization) -> tuple[Func, list]:
        from .ir.subst import inline
        from .transforms.adutil import is_float

        what = "jacfwd" if self.mode == "fwd" else "jacrev"
        F, captured = trace_any(self.fn, spec)
        refuse_writes(F, self.fn, what)
        mask, picked = _wrt(self.fn, spec, _argnums_tuple(self.argnums), what)
        params = [Var(p.type, p.hint) for p in F.params]
        b = Builder(F.loc)
        with building(b):
            outs = inline(F, params)
            xs = [k for k, m in enumerate(mask) if m]
            if self.mode == "fwd":
                jac = self._forward(F, params, outs, mask, xs)
            else:
                jac = self._reverse(F, params, outs, mask, xs)
        per_out = []
        for i, o in enumerate(outs):
            leaf_jacs = {j: jac[i][j] for j in xs}
            trees = [pytree.unflatten(tree, [leaf_jacs[k] for k in range(lo, hi)]) for lo, hi, tree in picked]
            per_out.append(trees[0] if isinstance(self.argnums, int) else tuple(trees))
        result = pytree.unflatten(F.out_tree, per_out)
        return finish(f"{what}_{F.name}", params, b, result), captured

    def _forward(self, F: Func, params: list, outs: list, mask: list[bool], xs: list[int]) -> list[dict]:
        from .ir.subst import inline
        from .primitives import control as C
        from .primitives.creation import zeros
        from .primitives.indexing import setitem, size
        from .primitives.shape import reshape
        from .transforms.adutil import dims_of, is_float, zeros_like
        from .transforms.jvp import jvp_func

        J = jvp_func(F, mask)
        n_out = len(F.results)
        jac: list[dict] = [dict() for _ in outs]

        def tangents_for(j: int, t: Atom) -> list[Atom]:
            return [t if k == j else zeros_like(params[k]) for k in xs]

        def tangent_outs(res: list[Atom]) -> list[Atom | None]:
            it = iter(res[n_out:])
            return [next(it) if is_float(o.type) else None for o in outs]

        for j in xs:
            x = params[j]
            if isinstance(x.type, Scalar):
                touts = tangent_outs(inline(J, [*params, *tangents_for(j, _one(x.type.dtype))]))
                for i, o in enumerate(outs):
                    jac[i][j] = touts[i] if touts[i] is not None else zeros_like(o)
                continue
            n = size(x)
            xd = dims_of(x)
            init = [zeros(*dims_of(o), n, dtype=_float_dtype(o)) for o in outs]
            k = Var(Scalar(DType.int64), "k")
            carries = [Var(a.type, "jac") for a in init]
            body = Builder(F.loc)
            with building(body):
                e = setitem(zeros(n, dtype=x.type.dtype), 1.0, k, spec=("i",))
                t = e if x.type.ndim == 1 else reshape(e, *xd)
                touts = tangent_outs(inline(J, [*params, *tangents_for(j, t)]))
                new = [setitem(c, ty, k, spec=("e", "i")) if ty is not None else c for c, ty in zip(carries, touts)]
            finals = C.for_range(0, n, 1, *init, body=body.block([k, *carries], new))
            for i, (o, r) in enumerate(zip(outs, finals)):
                jac[i][j] = r if x.type.ndim == 1 else reshape(r, *dims_of(o), *xd)
        return jac

    def _reverse(self, F: Func, params: list, outs: list, mask: list[bool], xs: list[int]) -> list[dict]:
        """One vjp per output element, batched by vmap over the rows of the identity: the forward
        sweep does not depend on the cotangent, so it runs once."""
        from .ir.core import Block, lit
        from .ir.subst import inline
        from .primitives.creation import arange, zeros
        from .primitives.elementwise import convert, eq
        from .primitives.indexing import size
        from .primitives.shape import reshape
        from .transforms.adutil import dims_of, is_float, zeros_like
        from .transforms.vjp import vjp_func
        from .transforms.vmap import batch_func

        V = vjp_func(F, mask)
        n_out = len(F.results)
        # only the cotangents of the inputs: the primal results would be batched for nothing
        V = Func(V.name, Block(V.body.params, V.body.eqns, V.body.results[n_out:]), loc=V.loc)
        float_outs = [i for i, o in enumerate(outs) if is_float(o.type)]
        jac: list[dict] = [dict() for _ in outs]
        for i, o in enumerate(outs):
            if i not in float_outs:
                for j in xs:
                    jac[i][j] = zeros(*dims_of(o), *dims_of(params[j]), dtype=_float_dtype(params[j]))
                continue
            if isinstance(o.type, Scalar):
                cts = [_one(o.type.dtype) if q == i else zeros_like(outs[q]) for q in float_outs]
                for j, g in zip(xs, inline(V, [*params, *cts])):
                    jac[i][j] = g
                continue
            m = size(o)
            od = dims_of(o)
            r = arange(lit(0), m, lit(1), dtype=DType.int64)
            eye = convert(eq(reshape(r, m, lit(1)), r), dtype=o.type.dtype)
            basis = eye if o.type.ndim == 1 else reshape(eye, m, *od)
            cts = [basis if q == i else zeros_like(outs[q]) for q in float_outs]
            flags = [False] * len(params) + [q == i for q in float_outs]
            G = batch_func(V, flags)
            for j, g in zip(xs, inline(G, [*params, *cts])):
                jac[i][j] = g if o.type.ndim == 1 else reshape(g, *od, *dims_of(params[j]))
        return jac


def _float_dtype(a: Atom) -> DType:
    return a.type.dtype if a.type.dtype.is_float else DType.float64


def jacfwd(fn: Callable, argnums: int | Sequence[int] = 0, **kw: Any) -> Callable:
    """The Jacobian of `fn` by forward mode (one jvp per input element)."""
    return _Jacobian(fn, argnums=argnums, mode="fwd", **kw)


def jacrev(fn: Callable, argnums: int | Sequence[int] = 0, **kw: Any) -> Callable:
    """The Jacobian of `fn` by reverse mode: the vjp batched by vmap over the output elements
    (the forward sweep runs once)."""
    return _Jacobian(fn, argnums=argnums, mode="rev", **kw)


def hessian(fn: Callable, argnums: int | Sequence[int] = 0, **kw: Any) -> Callable:
    """The Hessian of a scalar `fn`: forward over reverse, `jacfwd(jacrev(fn))`."""
    return jacfwd(jacrev(fn, argnums=argnums), argnums=argnums, **kw)


# ---- vmap ----------------------------------------------------------------------------------------


class _VMap(Transformed):
    """`vmap(f)`: `f` over a batch of arguments, as one batched function (see transforms/vmap.py).

    `strategy` picks how the batch runs: "vectorize" (each primitive on whole batches),
    "loop" (the unbatched code once per member), or "auto": under `jit` on the native backend,
    a loop for functions made of loops (scalar code that Numba compiles well once per member),
    vectorised code otherwise."""

    def __init__(self, fn: Callable, in_axes: Any = 0, out_axes: Any = 0, strategy: str = "auto", **kw: Any):
        super().__init__(fn, **kw)
        if strategy not in ("auto", "vectorize", "loop"):
            raise ValueError(f"vmap: unknown strategy {strategy!r}: use 'auto', 'vectorize' or 'loop'")
        self.in_axes = in_axes
        self.out_axes = out_axes
        self.strategy = strategy

    def _leaf_axes(self, spec: Specialization) -> list[int | None]:
        """The batch axis of every leaf (None: not batched), from `in_axes` (an int or None for
        all arguments, or a tuple with one entry per positional argument, each an int, None, or
        a pytree of those matching the argument)."""
        from .frontend.closure import CAPTURED

        name = getattr(self.fn, "__name__", "f")
        ax = self.in_axes
        n_args = len(spec.bound.args)
        if isinstance(ax, list):
            ax = tuple(ax)
        if isinstance(ax, tuple):
            if len(ax) != n_args:
                raise ArgumentError(f"vmap({name}): in_axes has {len(ax)} entries for {n_args} positional arguments")
        elif not (ax is None or isinstance(ax, int)):
            raise ArgumentError(f"vmap({name}): in_axes must be an int, None, or a tuple with one entry per argument")
        out: list[int | None] = []
        params = spec.bound.signature.parameters
        pos = 0  # the positional argument that in_axes' next entry goes with

        def entry_for() -> Any:
            nonlocal pos
            e = ax[pos] if isinstance(ax, tuple) else ax
            pos += 1
            return e

        for pname, part in spec.parts:
            kind = params[pname].kind
            value = spec.bound.arguments[pname]
            if kind == inspect.Parameter.VAR_POSITIONAL:
                items = [(f"{pname}[{i}]", v, entry_for()) for i, v in enumerate(value)]
            elif kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
                items = [(pname, value, entry_for())]
            elif pname == CAPTURED:  # what a function made in compiled code reads there: one for all
                items = [(pname, value, None)]
            else:  # keyword arguments are batched along axis 0, as in JAX
                items = [(pname, value, 0 if isinstance(ax, tuple) else ax)]
            if part[0] == "static":
                continue
            for label, v, entry in items:
                leaves, _ = pytree.flatten(v)
                if entry is None or isinstance(entry, int):
                    axes = [entry] * len(leaves)
                else:
                    axes, _ = pytree.flatten(entry, is_leaf=lambda x: x is None)
                    if len(axes) != len(leaves):
                        raise ArgumentError(f"vmap({name}): in_axes for argument {label!r} does not match its structure")
                for leaf, a in zip(leaves, axes):
                    if a is not None:
                        nd = leaf.type.ndim if isinstance(leaf, (Var, Lit)) else np.ndim(leaf)
                        if not -nd <= a < nd:
                            raise ArgumentError(f"vmap({name}): in_axes {a} is out of range for argument {label!r} "
                                                f"of {nd} dimension(s)", hint="a batched argument needs the batch axis")
                        a %= nd
                    out.append(a)
        if all(a is None for a in out):
            raise ArgumentError(f"vmap({name}): no argument is batched (in_axes is None for all of them)")
        return out

    def build(self, spec: Specialization, target: str | None = None) -> tuple[Func, list]:
        from .ir.subst import inline
        from .primitives.control import check
        from .primitives.elementwise import eq
        from .primitives.indexing import dim
        from .transforms.batchutil import move_axis
        from .transforms.vmap import batch_func, loop_func, unbatched_results

        axes = self._leaf_axes(spec)
        # one member of the batch stands for all (types depend on dtype and ndim only)
        member_leaves = [leaf if a is None else _member(leaf, a) for leaf, a in zip(spec.leaves, axes)]
        member_args = _rebuild_args(spec, member_leaves)
        inner = Specialization(self.fn, member_args[0], member_args[1], spec.static_argnums, spec.static_argnames)
        F, captured = trace_any(self.fn, inner)
        refuse_writes(F, self.fn, "vmap")
        flags = [a is not None for a in axes]
        name = getattr(self.fn, "__name__", "f")
        strategy = self.strategy
        if strategy == "auto":
            strategy = "loop" if target == "native" and _has_loops(F) else "vectorize"
        out_axes = self._out_axes(F)
        if strategy == "loop" and any(a is None for a in out_axes):
            strategy = "vectorize"
        if strategy == "loop":
            G = loop_func(F, flags, name=f"vmap_{F.name}")
        else:
            from .transforms.batchutil import BatchingError

            try:
                G = batch_func(F, flags, name=f"vmap_{F.name}")
            except BatchingError:
                # vectorised code cannot express it (an array whose shape depends on a batched
                # value, a list appended to under a per-member condition): unless the caller
                # asked for vectorised code, each member runs on its own
                if self.strategy != "auto" or any(a is None for a in out_axes):
                    raise
                G = loop_func(F, flags, name=f"vmap_{F.name}")
        params = [Var(t, h) for t, h in zip(spec.leaf_types, spec.names)]
        b = Builder(F.loc)
        with building(b):
            moved = [p if a in (None, 0) else move_axis(p, a, 0) for p, a in zip(params, axes)]
            batched = [m for m, a in zip(moved, axes) if a is not None]
            size = dim(batched[0], axis=0)
            for other in batched[1:]:
                check(eq(dim(other, axis=0), size), exc=ValueError,
                      message=f"vmap({name}): the batched arguments have different batch sizes")
            outs = inline(G, moved)
            unb = unbatched_results(F, flags) if any(a is None for a in out_axes) else None
            final = []
            for i, (o, a) in enumerate(zip(outs, out_axes)):
                if a is None:
                    if not unb[i]:
                        raise ArgumentError(f"vmap({name}): out_axes is None for a result that depends on the "
                                            f"batched arguments")
                    from .ir.core import lit
                    from .primitives.indexing import getitem

                    final.append(getitem(o, lit(0), spec=("i",)))
                else:
                    final.append(o if a == 0 else move_axis(o, 0, a))
        return finish(f"vmap_{F.name}", params, b, pytree.unflatten(F.out_tree, final)), captured

    def _out_axes(self, F: Func) -> list[int | None]:
        ax = self.out_axes
        n = len(F.results)
        if ax is None or isinstance(ax, int):
            axes = [ax] * n
        else:
            axes, _ = pytree.flatten(ax, is_leaf=lambda x: x is None)
            if len(axes) != n:
                raise ArgumentError("vmap: out_axes does not match the structure of the result")
        out = []
        for a, r in zip(axes, F.results):
            if a is not None:
                nd = r.type.ndim + 1
                if not -nd <= a < nd:
                    raise ArgumentError(f"vmap: out_axes {a} is out of range for a result of {nd} dimension(s)")
                a %= nd
            out.append(a)
        return out


def _member(leaf: Any, axis: int) -> Any:
    """One member of a batched leaf (a zero-filled one for an empty batch): its dtype and ndim."""
    if isinstance(leaf, (Var, Lit)):  # vmap traced inside another transformation
        from .transforms.batchutil import unbatched_type

        return Var(unbatched_type(leaf.type), "member")
    arr = np.asarray(leaf)
    if arr.shape[axis] == 0:
        shape = arr.shape[:axis] + arr.shape[axis + 1:]
        arr = np.zeros(shape, arr.dtype)
        return arr if arr.ndim else arr[()]
    m = np.take(arr, 0, axis=axis)
    return m if m.ndim else m[()]


def _rebuild_args(spec: Specialization, leaves: list[Any]) -> tuple[tuple, dict]:
    """The call's (args, kwargs) with the leaves replaced."""
    values = {}
    it = iter(leaves)
    for pname, part in spec.parts:
        if part[0] == "static":
            values[pname] = part[1]
        else:
            values[pname] = pytree.unflatten(part[1], [next(it) for _ in range(part[2])])
    bound = spec.bound
    sig = bound.signature
    args, kwargs = [], {}
    for pname, param in sig.parameters.items():
        if pname not in values:
            continue
        v = values[pname]
        if param.kind == param.VAR_POSITIONAL:
            args.extend(v)
        elif param.kind == param.VAR_KEYWORD:
            kwargs.update(v)
        elif param.kind == param.KEYWORD_ONLY:
            kwargs[pname] = v
        else:
            args.append(v)
    return tuple(args), kwargs


def _has_loops(F: Func) -> bool:
    from .ir.core import Block

    def walk(b: Block, seen: set) -> bool:
        for e in b.eqns:
            if e.prim.name in ("for_range", "while_loop"):
                return True
            ref = e.params.get("func") if e.prim.name in ("call", "custom_jvp_call", "custom_vjp_call") else None
            f = getattr(ref, "func", ref)
            if f is not None and id(f) not in seen:
                seen.add(id(f))
                if walk(f.body, seen):
                    return True
            for v in e.params.values():
                if isinstance(v, Block) and walk(v, seen):
                    return True
        return False

    return walk(F.body, set())


def vmap(fn: Callable, in_axes: Any = 0, out_axes: Any = 0, strategy: str = "auto", **kw: Any) -> Callable:
    """`fn` mapped over a batch axis of its arguments, as one batched function, with JAX's
    semantics: `in_axes` is an int or None for all positional arguments, or a tuple with one
    entry (int, None, or a pytree of them) per argument; `out_axes` says where the batch axis
    goes in each result (None: the result does not depend on the batch). Composes with `grad`,
    `jit` and itself."""
    return _VMap(fn, in_axes=in_axes, out_axes=out_axes, strategy=strategy, **kw)
