"""The trace cache: a second process runs a jitted function without tracing it again.

The native backend keeps the generated module in MORPHISM_CACHE_DIR and Numba keeps its machine
code, so what a new process would redo on the first call is the front half: tracing the Python
source, the transformations (grad, vmap, ...), the passes and the code generation, all of it
only to find a module that is already there. This cache records, per specialisation, what the
runner needs besides that module: the module's file and entry point, the types of the
parameters and results, and the structure of the output. The entry is a pickle beside the
generated modules, `trace_<key>.pkl`, written atomically.

The key hashes everything the IR is made from:
- morphism's own source, Python's and NumPy's versions;
- the transformation chain: the class and options of each `Transformed` (argnums, static
  arguments, in_axes, the user's passes, ...), down to the user's function;
- the argument signature (pytree structures, leaf types, static values);
- the user's function: its source text (as the frontend reads it) and where it is, its defaults
  and closure cells, and the value of every global its code reads (not its locals: a global `x`
  beside a parameter `x` is not part of the key); helper functions are fingerprinted the same way,
  recursively; user modules and classes by the attributes the code reads; constants by value
  (arrays by dtype, shape and a hash of their bytes); library functions (NumPy, math, builtins,
  morphism, installed packages) by their importable name.

A value it cannot fingerprint (an object of a class it does not know, a static argument keyed by
identity) makes the call uncacheable: it is traced as before, and nothing is stored. Nor is an
entry stored when the trace read a global the key did not cover, when the generated code has
object-mode fallbacks, or when the output structure cannot be pickled. When in doubt, no cache:
never a stale result.

A hit keeps no IR; `Lowered.ir` traces again when asked for (so does the runner, if Numba cannot
compile the module and the interpreter must run it).

Switches: MORPHISM_TRACE_CACHE=0 turns the cache off, MORPHISM_TRACE_CACHE=verbose says on stderr
what it does and why a call is not cacheable. MORPHISM_PRINT_IR and MORPHISM_TIME_PASSES turn it
off too (they show the passes, which a hit skips). `stats` counts hits, misses and uncacheable
calls in this process.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
import sys
import types
from pathlib import Path
from typing import Any, Callable

import numpy as np
import optree

from .. import pytree
from ..api import Lowered, Specialization, Transformed
from ..ir.core import Array, DType, Func, Scalar, Tape

FORMAT = 1
stats = {"hit": 0, "miss": 0, "uncacheable": 0}


class Uncacheable(Exception):
    """A value the key cannot fingerprint: the call is traced, and nothing is stored."""


def lowered(t: Transformed, spec: Specialization) -> Lowered:
    """`t.compiled(spec)`, or the same read from the cache."""
    key = _key(t, spec) if t.backend == "native" and _enabled() else None
    if key is None:
        return t.compiled(spec)
    digest, captured = key
    from .numba_backend import cache_dir

    path = cache_dir() / f"trace_{digest[:32]}.pkl"
    low = _load(path, t, spec, captured)
    if low is not None:
        _note("hit", path.name)
        return low
    _note("miss", path.name)
    low = t.compiled(spec)
    _store(path, low, captured)
    return low


def _enabled() -> bool:
    on = os.environ.get("MORPHISM_TRACE_CACHE", "1") != "0"
    return on and all(os.environ.get(v, "") in ("", "0") for v in ("MORPHISM_PRINT_IR", "MORPHISM_TIME_PASSES"))


def _note(what: str, detail: str) -> None:
    stats[what] += 1
    if os.environ.get("MORPHISM_TRACE_CACHE") == "verbose":
        print(f"[morphism] trace cache {what}: {detail}", file=sys.stderr)


# ---- the key ------------------------------------------------------------------------------------


def _key(t: Transformed, spec: Specialization) -> tuple[str, list] | None:
    """The hex digest of the key, and the (namespace, name, object) triples it read, for
    `Lowered.fresh`; None when the call is not cacheable."""
    w = _Walker()
    try:
        _no_identity_keys(spec.signature.key)
        w.token(FORMAT, sys.version, np.__version__, _morphism_digest())
        w.value(t)
        w.value(spec.signature.key)
    except Uncacheable as e:
        _note("uncacheable", str(e))
        return None
    return w.h.hexdigest(), w.captured


def _no_identity_keys(key: Any) -> None:
    """Static arguments that are not hashable are keyed by identity, which a process does not share."""
    if isinstance(key, tuple):
        if len(key) == 2 and key[0] == "static-id":
            raise Uncacheable("a static argument that is not hashable")
        for k in key:
            _no_identity_keys(k)


_digest: str | None = None


def _morphism_digest() -> str:
    """morphism's own source: any change to the compiler invalidates every entry. A process that
    may run older code than the files hold (edited since it imported morphism) uses no entry."""
    global _digest
    from ..api import IMPORTED_AT

    files = _source_files(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "")
    if any(e.stat().st_mtime > IMPORTED_AT for _, e in files):
        raise Uncacheable("morphism's source changed since this process imported it")
    if _digest is None:
        h = hashlib.sha256()
        for rel, e in files:
            with open(e.path, "rb") as fh:
                h.update(rel.encode() + b"\0" + fh.read() + b"\0")
        _digest = h.hexdigest()
    return _digest


def _source_files(path: str, rel: str) -> list[tuple[str, os.DirEntry]]:
    out = []
    for e in sorted(os.scandir(path), key=lambda e: e.name):
        if e.is_dir() and e.name != "__pycache__":
            out += _source_files(e.path, f"{rel}{e.name}/")
        elif e.name.endswith(".py"):
            out.append((rel + e.name, e))
    return out


_PLAIN = (type(None), bool, int, float, complex, str, bytes)
# attributes of transformed functions that are not options: caches, and what update_wrapper copies
_NOT_OPTIONS = frozenset({"cache", "_quick", "__wrapped__", "__morphism_wrapped__", "__module__", "__name__",
                          "__qualname__", "__doc__", "__annotations__", "__type_params__", "__dict__"})


class _Walker:
    """Hashes a value and everything reachable from it that tracing could read."""

    def __init__(self) -> None:
        self.h = hashlib.sha256()
        self.seen: dict[int, int] = {}  # id -> order of first visit (functions, objects: cycles)
        self.keep: list[Any] = []  # what `seen` refers to stays alive, so ids are not reused
        self.attrs: set[tuple[int, str]] = set()  # (id(module or class), attribute) already hashed
        self.names: frozenset[str] = frozenset()  # the names the function being walked reads
        self.captured: list[tuple[Any, str, Any]] = []

    def token(self, *parts: Any) -> None:
        self.h.update(repr(parts).encode())
        self.h.update(b"\0")

    def value(self, x: Any) -> None:
        t = type(x)
        if t in _PLAIN or x is Ellipsis:
            return self.token(t.__name__, x)
        if t is tuple or t is list:
            self.token(t.__name__, len(x))
            for y in x:
                self.value(y)
            return
        if t is dict:
            self.token("dict", len(x))
            for k, v in x.items():
                self.value(k)
                self.value(v)
            return
        if isinstance(x, np.ndarray):
            if x.dtype.hasobject:
                raise Uncacheable("an array of Python objects")
            return self.token("ndarray", x.dtype.str, x.shape, hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest())
        if isinstance(x, np.generic):
            return self.token("numpy scalar", x.dtype.str, x.tobytes().hex())
        if isinstance(x, np.dtype) and x.fields is None and not x.hasobject:
            return self.token("numpy dtype", x.str)
        if isinstance(x, (Scalar, Array, Tape, DType)):
            return self.token("ir type", repr(x))
        if isinstance(x, optree.PyTreeSpec):
            self.token("treespec", str(x))
            return self._node_types(x)
        if isinstance(x, types.ModuleType):
            self.token("module", x.__name__)
            if not _library_module(x):
                self._attributes(x, vars(x), capture=True)
            return
        if isinstance(x, type):
            return self._class(x)
        if id(x) in self.seen:
            return self.token("seen", self.seen[id(x)])
        self.seen[id(x)] = len(self.seen)
        self.keep.append(x)
        if isinstance(x, types.FunctionType):
            from ..frontend.source import is_user_code

            return self._function(x) if is_user_code(x) else self._library(x)
        if hasattr(t, "__morphism_custom__") and t.__module__.startswith("morphism."):
            return self._transformed(x)
        if isinstance(x, types.MethodType):
            self.token("method")
            self.value(x.__func__)
            return self.value(x.__self__)
        if isinstance(x, functools.partial):
            self.token("partial")
            self.value(x.func)
            self.value(x.args)
            return self.value(x.keywords)
        if isinstance(x, tuple) and hasattr(t, "_fields"):
            self._class(t)
            return self.value(tuple(x))
        if dataclasses.is_dataclass(x):
            self._class(t)
            return self.value({f.name: getattr(x, f.name) for f in dataclasses.fields(x)})
        if callable(x):
            return self._library(x)
        raise Uncacheable(f"{t.__qualname__} {x!r:.60}")

    def _function(self, fn: types.FunctionType) -> None:
        """A user function: the source the frontend reads, its defaults, its closure cells and
        the globals its code reads."""
        from ..frontend.source import get_source

        try:
            src = get_source(fn)
        except Exception:
            raise Uncacheable(f"no source for {fn.__qualname__}") from None
        code = fn.__code__
        # where the definition starts: two lambdas on one line share their source text
        where = (src.node.lineno, src.node.col_offset)
        self.token("function", fn.__module__, fn.__qualname__, code.co_filename, code.co_firstlineno, where, src.text)
        outer, self.names = self.names, _code_names(code)
        try:
            self.value(fn.__defaults__)
            self.value(fn.__kwdefaults__)
            for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
                try:
                    obj = cell.cell_contents
                except ValueError:
                    self.token("empty cell", name)
                    continue
                self.token("cell", name)
                self.captured.append((cell, name, obj))
                self.value(obj)
            self._attributes(fn, fn.__globals__, capture=True)
        finally:
            self.names = outer

    def _attributes(self, owner: Any, ns: Any, capture: bool, skip: frozenset = frozenset()) -> None:
        """The entries of a namespace (globals, a module's or a class's dict) named by the code
        of the function being walked."""
        for name in sorted(self.names):
            if name not in ns or name in skip or (id(owner), name) in self.attrs:
                continue
            self.attrs.add((id(owner), name))
            obj = ns[name]
            self.token("name", name)
            if capture:
                self.captured.append((ns, name, obj))
            self.value(obj)

    def _class(self, c: type) -> None:
        mod = sys.modules.get(c.__module__)
        if mod is None or _library_module(mod):
            return self._library(c)
        self.token("class", c.__module__, c.__qualname__)
        fields: tuple[str, ...] = ()
        if issubclass(c, tuple) and hasattr(c, "_fields"):
            fields = tuple(c._fields)
            self.token("namedtuple", fields)
            self.value(dict(c._field_defaults))
        elif dataclasses.is_dataclass(c):
            fs = dataclasses.fields(c)
            fields = tuple(f.name for f in fs)
            for f in fs:
                self.token("field", f.name, f.init, f.default is dataclasses.MISSING)
                if f.default is not dataclasses.MISSING:
                    self.value(f.default)
                if f.default_factory is not dataclasses.MISSING:
                    self.value(f.default_factory)
        dunder = frozenset(n for n in self.names if n.startswith("__"))
        for k in c.__mro__:
            m = sys.modules.get(k.__module__)
            if m is None or _library_module(m):  # object, tuple, Exception: the library's
                continue
            # class attributes are read at compile time; in-process changes are not tracked (the
            # frontend does not track them either), so they are not captured
            self._attributes(k, vars(k), capture=False, skip=frozenset(fields) | dunder)

    def _transformed(self, x: Any) -> None:
        """A morphism transformation or custom-rule function: its class and options."""
        self.token("morphism", type(x).__module__, type(x).__qualname__)
        for k, v in sorted(vars(x).items()):
            if k not in _NOT_OPTIONS:
                self.token("option", k)
                self.value(v)

    def _library(self, x: Any) -> None:
        """A library object, by the name it is imported by (checked to be this very object)."""
        if isinstance(x, np.ufunc):
            for mod in ("numpy", "scipy.special"):
                if getattr(sys.modules.get(mod), x.__name__, None) is x:
                    return self.token("ufunc", mod, x.__name__)
            raise Uncacheable(f"the ufunc {x.__name__}")
        mod = getattr(x, "__module__", None)
        qual = getattr(x, "__qualname__", None) or getattr(x, "__name__", None)
        obj = sys.modules.get(mod) if isinstance(mod, str) else None
        for part in (qual or "<none>").split("."):
            obj = getattr(obj, part, None)
        if obj is not x:
            raise Uncacheable(f"{type(x).__qualname__} {x!r:.60}")
        self.token("library", mod, qual)

    def _node_types(self, spec: Any) -> None:
        """Pytree node types (a NamedTuple or dataclass of the user's: its fields)."""
        if spec.type is not None:
            self.value(spec.type)
        for child in spec.children():
            self._node_types(child)


def _code_names(code: types.CodeType) -> frozenset[str]:
    """The global and attribute names a function's code reads, its nested functions' and
    comprehensions' included, and the strings that could name one (getattr): not its locals.
    Where the frontend reads a global anyway (a name Python deems local but the function reads
    before assigning it, dead code), the entry is not stored (`_store`)."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _code_names(c)
        elif isinstance(c, str) and c.isidentifier():
            names.add(c)
    return frozenset(names)


def _library_module(m: types.ModuleType) -> bool:
    """Modules whose attributes are the library's, not the user's: their values are not hashed."""
    from ..frontend.source import in_library

    file = getattr(m, "__file__", None)
    if file is None:
        return m.__name__ in sys.builtin_module_names or getattr(m.__spec__, "origin", None) in ("built-in", "frozen")
    return in_library(m.__name__, file)


# ---- entries ------------------------------------------------------------------------------------


class CachedLowered(Lowered):
    """A specialisation read from the cache: the runner and the output structure, without the
    IR, which is traced again only when asked for."""

    out_tree = None  # an attribute here, a property of the IR in `Lowered`

    def __init__(self, captured: list, out_tree: Any, retrace: Callable[[], Func]) -> None:
        self.runner = None
        self.captured = captured
        self.out_tree = out_tree
        self._retrace = retrace
        self._ir: Func | None = None

    @property
    def ir(self) -> Func:
        if self._ir is None:
            self._ir = self._retrace()
        return self._ir


def _load(path: Path, t: Transformed, spec: Specialization, captured: list) -> CachedLowered | None:
    from ..api import _list_node_registered
    from .numba_backend import NativeFunction, load_module

    try:
        with open(path, "rb") as fh:
            e = pickle.load(fh)
        if e["format"] != FORMAT:
            return None
        module = path.parent / e["module"]
        source = module.read_text()
        if hashlib.sha256(source.encode()).hexdigest() != e["digest"]:
            return None
        entry = getattr(load_module(module), e["entry"])
        _list_node_registered()
        out_tree = pytree.flatten(e["out"])[1]
    except FileNotFoundError:
        return None
    except Exception as err:  # a damaged entry or module, a class that is gone: trace again
        _note("uncacheable", f"{path.name} unreadable ({type(err).__name__}: {err})")
        return None
    stand_in = _stand_in(t, spec)
    low = CachedLowered(captured, out_tree, lambda: t.traced(stand_in)[0])
    low.runner = NativeFunction(lambda: low.ir, source, entry, module, types=(e["params"], e["results"]))
    return low


def _store(path: Path, low: Lowered, covered: list) -> None:
    from .numba_backend import NativeFunction

    keyed = {(id(ns), name) for ns, name, _ in covered}
    for ns, name, _ in low.captured:
        if (id(ns), name) not in keyed:
            return _note("uncacheable", f"the trace read {name!r}, which the key does not cover")
    try:
        _morphism_digest()  # unchanged while this call traced
    except Uncacheable as e:
        return _note("uncacheable", str(e))
    r = low.runner
    if not isinstance(r, NativeFunction) or r.entry is None:
        return _note("uncacheable", "not compiled by the native backend")
    if r.fallbacks:
        return _note("uncacheable", "object-mode fallbacks in the generated code")
    if r.consts:
        # (the arrays are passed at each call; a later process would have to find them again)
        return _note("uncacheable", "the function captures arrays")
    if r.path.parent != path.parent:
        return
    func = low.ir
    entry = {"format": FORMAT, "module": r.path.name, "digest": hashlib.sha256(r.source.encode()).hexdigest(),
             "entry": r.entry.__name__, "params": [p.type for p in func.params],
             "results": [x.type for x in func.results],
             # the output structure, as a pytree of leaf indices (its node types pickle by name)
             "out": pytree.unflatten(func.out_tree, list(range(len(func.results))))}
    try:
        data = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as err:
        return _note("uncacheable", f"the output structure cannot be pickled ({err})")
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass


def _stand_in(t: Transformed, spec: Specialization) -> Any:
    """`spec` with its leaves replaced by small values of the same types: an entry must not keep
    the first call's arrays alive for a trace that may never happen (the IR depends on the
    types, not the values)."""
    from ..api import _rebuild_args

    if type(spec) is not Specialization:
        return spec
    try:
        leaves = [np.zeros((1,) * tp.ndim, tp.dtype.np) if isinstance(tp, Array) else tp.dtype.np.type(0).item()
                  for tp in spec.leaf_types]
        args, kwargs = _rebuild_args(spec, leaves)
        small = t.specialize(args, kwargs)
    except Exception:
        return spec
    return small if small.signature == spec.signature else spec
