"""Python source to IR.

The lowering walks the function's AST with the argument *types* known, so it builds typed IR
directly: each expression evaluates to a frontend value (values.py), each statement updates an
environment from names to values. Library calls are resolved by object identity (library.py).

Control flow becomes structured IR:
- `if` with a run-time condition becomes `cond`; the names either branch assigns are the
  outputs. When a branch may leave early (return, break, continue, raise), the statements after
  the `if` are lowered inside the branch that falls through (continuation passing), so every
  path of a block ends in one place and no flags are needed outside loops.
- loops become `for_range`, or `while_loop` when they have `break`/`return`; leaving a loop
  early is an exit code carried by the loop (0 go on, 1 break, 2 return) plus the return value.
- loop-carried names are found syntactically; their types widen (int to float) until a fixpoint.
- calls to user functions are inlined; a recursive call becomes `call` to a separate `Func`.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import functools
import inspect
import operator
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..errors import MorphismError, MorphismTypeError, UndefinedVariableError, UnsupportedSyntaxError
from ..ir.builder import Builder, building, current
from ..ir.core import (
    Array,
    Atom,
    DType,
    Func,
    FuncRef,
    Lit,
    Loc,
    Scalar,
    Type,
    Var,
    lit,
    captured,
    dtype_of_numpy,
    is_value,
    numpy_scalar,
    make_type,
    promote,
    type_of_value,
)
from ..primitives import control as C
from ..primitives import elementwise as E
from ..primitives import indexing as I
from . import analysis, library
from .source import Source, get_source
from .source import is_user_code as _is_user_code
from .values import (
    BoundMethod,
    EmptyList,
    EnumerateVal,
    ListVal,
    LocalFunction,
    Partial,
    RangeVal,
    Undef,
    ZipVal,
    describe,
    flatten,
    is_atom,
    unflatten,
)


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


DEAD = _Marker("DEAD")  # the value of a path that raised
NOTHING = _Marker("NOTHING")  # an empty slot (the return value of a path that did not return)
FALL = _Marker("FALL")  # terminators of a statement list
BREAK = _Marker("BREAK")
CONTINUE = _Marker("CONTINUE")


@dataclass
class Ret:
    value: Any


RAISE = _Marker("RAISE")

_BINOPS = {
    ast.Add: E.add, ast.Sub: E.sub, ast.Mult: E.mul, ast.Div: E.div, ast.FloorDiv: E.floordiv,
    ast.Mod: E.mod, ast.Pow: E.pow, ast.BitAnd: E.bitand, ast.BitOr: E.bitor, ast.BitXor: E.bitxor,
    ast.LShift: E.lshift, ast.RShift: E.rshift,
}
_PY_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
           ast.Gt: operator.gt, ast.GtE: operator.ge}
_CMPOPS = {ast.Eq: E.eq, ast.NotEq: E.ne, ast.Lt: E.lt, ast.LtE: E.le, ast.Gt: E.gt, ast.GtE: E.ge}
_SYNTAX_NAMES = {
    ast.With: "'with' statement", ast.AsyncWith: "'async with' statement", ast.Try: "'try' statement",
    ast.ClassDef: "class definition", ast.Delete: "'del' statement", ast.Global: "'global' statement",
    ast.Nonlocal: "'nonlocal' statement", ast.AsyncFor: "'async for' loop", ast.AsyncFunctionDef: "async function",
    ast.Yield: "'yield' (generators)", ast.YieldFrom: "'yield from'", ast.Await: "'await'",
    ast.NamedExpr: "assignment expression (:=)", ast.Set: "set literal", ast.SetComp: "set comprehension",
    ast.Starred: "starred expression (*x)",
}
if hasattr(ast, "Match"):
    _SYNTAX_NAMES[ast.Match] = "'match' statement"
if hasattr(ast, "TryStar"):
    _SYNTAX_NAMES[ast.TryStar] = "'try' statement"

MAX_WIDEN = 8


# ============================================================================================
# The compilation: state shared by every function lowered for one `make_ir`.


class Compilation:
    def __init__(self) -> None:
        self.captured: list[tuple[Any, str, Any]] = []  # (namespace, name, object) for the cache
        self.active: list[tuple[Any, Any]] = []  # (code, signature) of functions being inlined
        self.recursive: dict[tuple[Any, Any], FuncRef] = {}
        # the function's writes into its arguments: (parameter value, final value, where)
        self.writes: list[tuple[Atom, Atom, Loc | None]] = []
        # a branch's result that is, on one path only, an array another name holds: (that, where)
        self.maybe_alias: dict[Var, tuple[Atom, Loc]] = {}

    def note_captured(self, namespace: Any, name: str, obj: Any) -> None:
        self.captured.append((namespace, name, obj))


class _Recursion(Exception):
    """Raised when a function calls itself with the same signature; caught at its outermost
    inlined call, which then compiles it as a separate Func and emits `call`."""

    def __init__(self, key: tuple[Any, Any]) -> None:
        self.key = key


# ============================================================================================
# Frames: one activation of a user function being lowered.


class FuncCtx:
    """How the paths of a function body end: the returned value, paired with the final values
    of the caller's arrays the function was given (its writes into them: see `Frame.tracked`)."""

    def pack(self, frame: "Frame", term: Any) -> Any:
        if term is RAISE:
            return DEAD
        if isinstance(term, Ret):
            value = term.value
        elif term is FALL:
            value = None
        else:
            frame.error(f"'{'break' if term is BREAK else 'continue'}' outside a loop", frame.cur_node)
        return (value, frame.tracked_values())


class LoopCtx:
    """How the paths of a loop body end: (carries, exit code, return value)."""

    def __init__(self, names: list[str], flags: bool, next_index: Callable[[], Any] | None,
                 watch: dict[str, Any] | None = None, changed: set[str] | None = None):
        self.names = names
        self.flags = flags
        self.next_index = next_index
        # names the body does not assign, with their values on entry: one that is rebound all
        # the same (an array written by a helper, a record holding a written array) must be
        # carried too; the loop is lowered again with it (see `Frame.loop`)
        self.watch = watch or {}
        self.changed = changed if changed is not None else set()
        self.aliases: dict[str, str] = {}
        self.entry: dict[str, Any] = {}  # the aliases' values when an iteration starts

    def pack(self, frame: "Frame", term: Any) -> Any:
        if term is RAISE:
            return DEAD
        for n, v in self.watch.items():
            if frame.env.get(n, v) is not v:
                self.changed.add(n)
        for alias, primary in self.aliases.items():
            # another name for a carried array follows it while the body only writes into it; once
            # the body rebinds one of them, they part, and the alias keeps its own value
            if frame.env.get(alias) is not frame.env.get(primary):
                frame.refuse_parting(self.entry.get(alias), alias, primary)
                self.changed.add(("parted", alias))
        carries = tuple(frame.lookup_carry(n) for n in self.names)
        if not self.flags:
            if term in (FALL, CONTINUE):
                return carries
            frame.error("internal: early exit in a loop lowered without exit flags", frame.cur_node)
        code = 0 if term in (FALL, CONTINUE) else 1 if term is BREAK else 2
        idx = self.next_index() if self.next_index and code == 0 else NOTHING
        ret = term.value if isinstance(term, Ret) else NOTHING
        return (carries, lit(code), idx, ret)


_TRACKED = "\0arg"  # hidden names: the caller's arrays a function was given, as written so far


class Frame:
    def __init__(self, comp: Compilation, source: Source, globals_: dict, closure: dict[str, Any],
                 outer: "Frame | None" = None, pyfunc: Any = None, caller: "Frame | None" = None):
        self.comp = comp
        self.source = source
        self.globals = globals_
        self.closure = closure  # name -> value for free variables (cells resolved)
        self.outer = outer  # for local functions: the frame whose names they read
        self.caller = caller
        self.pyfunc = pyfunc
        # The arrays the caller passed in live under hidden names in `env`, so that a write
        # into one (through any alias or view) follows the paths of branches and the carries
        # of loops like a name does; the function's result carries their final values, and the
        # caller applies them (NumPy semantics: the caller sees writes into what it passed).
        self.tracked: list[tuple[str, Atom]] = []  # (hidden name, the caller's value)
        self.write_locs: dict[str, Loc] = {}  # hidden name -> the first write into it
        self.loop_watch: dict[str, Any] = {}
        self.loop_records: list[str] = []
        self.loop_changed_by: tuple[Any, set[str]] = (None, set())
        self.forced_carries: dict[ast.AST, list[str]] = {}
        self.parted_aliases: dict[ast.AST, set[str]] = {}
        self.unshared: set[int] = set()  # ids of arrays carried apart (see shared_leaves)
        self.written: set[int] = set()  # ids of the array values written into (their old versions)
        self.last_writes: list = []
        self.env: dict[str, Any] = {}
        self.cur_node: ast.AST = source.node
        self.loop_aliases: dict[str, str] = {}
        self.loop_views: dict[str, tuple] = {}
        # view Var -> (base, recompute(base) -> view, writeback(base, view) -> base)
        self.views: dict[Var, tuple[Any, Callable, Callable]] = {}

    # ---- errors and locations --------------------------------------------------------------

    def loc(self, node: ast.AST) -> Loc:
        return self.source.loc(node)

    def error(self, msg: str, node: ast.AST | None = None, hint: str | None = None, cls: type = UnsupportedSyntaxError):
        raise cls(msg, self.loc(node or self.cur_node), hint)

    def at(self, node: ast.AST):
        """Context: equations emitted inside get `node`'s location."""
        return _At(self, node)

    # ---- names ------------------------------------------------------------------------------

    def lookup(self, name: str, node: ast.AST) -> Any:
        if name in self.env:
            v = self.env[name]
            if isinstance(v, Undef):
                self.error(f"name {name!r} {v.reason}", node, cls=UndefinedVariableError,
                           hint=f"assign {name!r} before the branch or loop, on every path")
            return v
        if self.outer is not None:
            return self.outer.lookup_free(name, node)
        if name in self.closure:
            cell = self.closure[name]
            try:
                obj = cell.cell_contents
            except ValueError:
                self.error(f"free variable {name!r} is not bound yet", node, cls=UndefinedVariableError)
            self.comp.note_captured(cell, name, obj)
            return self.convert_py(obj, name)
        if name in self.globals:
            obj = self.globals[name]
            self.comp.note_captured(self.globals, name, obj)
            return self.convert_py(obj, name)
        if hasattr(builtins, name):
            return getattr(builtins, name)
        self.error(f"name {name!r} is not defined", node, cls=UndefinedVariableError)

    def lookup_free(self, name: str, node: ast.AST) -> Any:
        return self.lookup(name, node)

    def lookup_carry(self, name: str) -> Any:
        return self.env.get(name, NOTHING)

    def convert_py(self, obj: Any, name: str = "") -> Any:
        """A Python object captured at compile time (global or closure) as a frontend value."""
        if isinstance(obj, np.generic) and dtype_of_numpy(obj.dtype) is not None:
            return numpy_scalar(obj.item(), dtype_of_numpy(obj.dtype))  # keeps its dtype (NEP 50)
        if isinstance(obj, (bool, int, float, complex, np.bool_, np.number)) and not isinstance(obj, np.timedelta64):
            t = type_of_value(obj)
            if t is None:
                if isinstance(obj, np.integer):
                    return lit(int(obj))
                if isinstance(obj, np.floating):
                    return lit(float(obj))
            if isinstance(obj, int) and not isinstance(obj, bool) and not -(2**63) <= obj < 2**63:
                self.error(f"the integer {name or obj} = {obj} does not fit in int64")
            return lit(obj)
        if isinstance(obj, np.ndarray):
            if library.dtype_of_numpy(obj.dtype) is None:
                self.error(f"the array {name!r} has dtype {obj.dtype}, which morphism does not support yet",
                           hint="convert it with .astype(np.float64) outside the compiled function")
            if obj.ndim == 0:
                return lit(obj.item(), library.dtype_of_numpy(obj.dtype))
            return captured(obj, name)
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return tuple(self.convert_py(x, name) for x in obj)
        if isinstance(obj, list):
            return [self.convert_py(x, name) for x in obj]
        if isinstance(obj, dict):
            return {k: self.convert_py(v, name) for k, v in obj.items()}
        return obj

    def assign_name(self, name: str, value: Any) -> None:
        _name_vars(value, name)
        self.env[name] = value

    def track_arguments(self, arguments: dict[str, Any]) -> None:
        leaves, _ = flatten(tuple(arguments.values()))
        for a in leaves:
            if isinstance(a.type, Array) and all(a is not b for _, b in self.tracked):
                h = f"{_TRACKED}{len(self.tracked)}"
                self.tracked.append((h, a))
                self.env[h] = a

    def tracked_values(self) -> tuple:
        return tuple(self.env.get(h, a) for h, a in self.tracked)

    def tracked_writes(self, finals: tuple) -> list[tuple[Atom, Atom, Loc | None]]:
        """(the caller's array, its final value, where it was first written) for each argument
        array the function wrote into."""
        return [(a, f, self.write_locs.get(h)) for (h, a), f in zip(self.tracked, finals) if f is not a]

    # ---- statements -------------------------------------------------------------------------

    def exec_body(self, stmts: list[ast.stmt], ctx: Any) -> Any:
        """Lowers `stmts` to the end of the enclosing body; returns `ctx`'s packed value."""
        for i, s in enumerate(stmts):
            self.cur_node = s
            rest = stmts[i + 1 :]
            if isinstance(s, ast.If) and analysis.may_exit(s.body + s.orelse, in_loop=isinstance(ctx, LoopCtx)):
                return self.if_exiting(s, rest, ctx)
            if isinstance(s, (ast.For, ast.While)):
                has_break, has_return = analysis.loop_exits(s.body)
                exit_code, ret = self.loop(s, has_break, has_return)
                if has_return or (s.orelse and has_break):
                    return self.after_loop(s, exit_code, ret, rest, ctx)
                if s.orelse:
                    term = self.stmts(s.orelse)
                    if term is not FALL:
                        return ctx.pack(self, term)
                continue
            term = self.stmt(s)
            if term is not FALL:
                return ctx.pack(self, term)
        return ctx.pack(self, FALL)

    def stmts(self, stmts: list[ast.stmt]) -> Any:
        """Lowers statements that do not leave early (checked by the caller)."""
        for s in stmts:
            self.cur_node = s
            if isinstance(s, (ast.For, ast.While)):
                has_break, has_return = analysis.loop_exits(s.body)
                if has_return:
                    self.error("internal: return inside a nested loop body", s)
                exit_code, _ = self.loop(s, has_break, False)
                if s.orelse:
                    if has_break:
                        self.if_values(E.ne(exit_code, 1), lambda: self.stmts(s.orelse), lambda: FALL, s)
                    else:
                        self.stmts(s.orelse)
                continue
            term = self.stmt(s)
            if term is not FALL:
                return term
        return FALL

    def stmt(self, s: ast.stmt) -> Any:
        with self.at(s):
            if isinstance(s, ast.Assign):
                value = self.expr(s.value)
                for t in s.targets:
                    self.assign(t, value)
            elif isinstance(s, ast.AnnAssign):
                if s.value is not None:
                    self.assign(s.target, self.expr(s.value))
            elif isinstance(s, ast.AugAssign):
                self.aug_assign(s)
            elif isinstance(s, ast.Expr):
                if isinstance(s.value, ast.Constant):
                    return FALL  # docstring
                self.expr_stmt(s.value)
            elif isinstance(s, ast.If):
                self.if_stmt(s)
            elif isinstance(s, ast.Return):
                return Ret(self.expr(s.value) if s.value is not None else None)
            elif isinstance(s, ast.Break):
                return BREAK
            elif isinstance(s, ast.Continue):
                return CONTINUE
            elif isinstance(s, ast.Pass):
                pass
            elif isinstance(s, ast.Assert):
                self.assert_stmt(s)
            elif isinstance(s, ast.Raise):
                self.raise_stmt(s)
                return RAISE
            elif isinstance(s, ast.FunctionDef):
                self.env[s.name] = self.local_function(s, s.name)
            elif isinstance(s, (ast.Import, ast.ImportFrom)):
                self.import_stmt(s)
            else:
                what = _SYNTAX_NAMES.get(type(s), f"the statement {type(s).__name__}")
                self.error(f"{what} is not supported by morphism", s,
                           hint="move this code outside the compiled function, or rewrite it with if/for/while")
        return FALL

    def import_stmt(self, s: ast.Import | ast.ImportFrom) -> None:
        import importlib

        if isinstance(s, ast.Import):
            for a in s.names:
                mod = importlib.import_module(a.name)
                if a.asname:
                    self.env[a.asname] = mod
                else:
                    self.env[a.name.split(".")[0]] = importlib.import_module(a.name.split(".")[0])
        else:
            if s.level:
                self.error("relative imports inside a compiled function are not supported", s)
            mod = importlib.import_module(s.module)
            for a in s.names:
                self.env[a.asname or a.name] = self.convert_py(getattr(mod, a.name), a.name)

    def assert_stmt(self, s: ast.Assert) -> None:
        ok = self.truth(self.expr(s.test), s.test)
        msg = ""
        if s.msg is not None:
            m = self.expr(s.msg)
            if not isinstance(m, str):
                self.error("the message of an assert must be a constant string", s.msg)
            msg = m
        if isinstance(ok, Lit):
            if not ok.value:
                C.check(ok, exc=AssertionError, message=msg)
            return
        C.check(ok, exc=AssertionError, message=msg)

    def raise_stmt(self, s: ast.Raise) -> None:
        if s.exc is None:
            self.error("bare 'raise' is not supported", s)
        exc, msg = s.exc, ""
        if isinstance(exc, ast.Call):
            cls = self.expr(exc.func)
            if len(exc.args) > 1 or exc.keywords:
                self.error("raise takes one constant message in morphism", exc)
            if exc.args:
                msg = self.expr(exc.args[0])
                if not isinstance(msg, str):
                    self.error("the message of a raised exception must be a constant string", exc.args[0],
                               hint="run-time values cannot be formatted into the message yet")
        else:
            cls = self.expr(exc)
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            self.error(f"raise needs an exception class, found {describe(cls)}", exc)
        C.check(lit(False), exc=cls, message=msg)

    def expr_stmt(self, e: ast.expr) -> None:
        # `lst.append(v)` rebinds the list's name: lists are values in the IR.
        if (isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in ("append", "extend")
                and isinstance(e.func.value, ast.Name)):
            name = e.func.value.id
            lst = self.lookup(name, e.func.value)
            if isinstance(lst, (ListVal, EmptyList, list)):
                if len(e.args) != 1 or e.keywords:
                    self.error(f"list.{e.func.attr}() takes exactly one argument", e)
                v = self.expr(e.args[0])
                if e.func.attr == "append":
                    new = self.list_append(lst, v)
                else:
                    new = lst
                    for item in self.iterate_static_or_array(v, e.args[0]):
                        new = self.list_append(new, item)
                self.rebind(lst, new, name)
                return
        self.expr(e)

    # ---- assignment -------------------------------------------------------------------------

    def assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)) and any(isinstance(t, ast.Starred) for t in target.elts):
            self.assign_starred(target, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(value, len(target.elts), target)
            for t, v in zip(target.elts, items):
                self.assign(t, v)
        elif isinstance(target, ast.Subscript):
            self.store_subscript(target, value)
        elif isinstance(target, ast.Attribute):
            base = self.expr(target.value)
            if is_atom(base):
                self.assign_array_attribute(target, base, value)
            elif dataclasses.is_dataclass(base) and not isinstance(base, type):
                new = _copy_record(base)
                object.__setattr__(new, target.attr, value)
                self.assign_back(target.value, base, new)
            else:
                self.error(f"cannot assign to the attribute {target.attr!r} of {describe(base)}", target)
        elif isinstance(target, ast.Starred):
            self.error("starred assignment (a, *b = ...) is not supported", target)
        else:
            self.error(f"cannot assign to {type(target).__name__}", target)

    def assign_starred(self, target: ast.Tuple | ast.List, value: Any) -> None:
        """`a, *rest = t`: `rest` is a list of the items left, so `t` must be a record (a tuple,
        a fixed list, a shape) whose length is known at compile time."""
        k = next(i for i, t in enumerate(target.elts) if isinstance(t, ast.Starred))
        after = len(target.elts) - k - 1
        if not isinstance(value, (tuple, list)):
            self.error(f"starred assignment needs a tuple or fixed-length list, found {describe(value)}",
                       target, cls=MorphismTypeError, hint="index the array instead: a, rest = x[0], x[1:]")
        if len(value) < len(target.elts) - 1:
            self.error(f"not enough values to unpack (expected at least {len(target.elts) - 1}, got {len(value)})",
                       target, cls=MorphismTypeError)
        items = list(value)
        for t, v in zip(target.elts[:k], items[:k]):
            self.assign(t, v)
        self.assign(target.elts[k].value, items[k:len(items) - after])
        for t, v in zip(target.elts[k + 1:], items[len(items) - after:]):
            self.assign(t, v)

    def assign_array_attribute(self, target: ast.Attribute, base: Atom, value: Any) -> None:
        """`x.shape = dims` is NumPy's in-place reshape: `x` is rebound to the reshaped array (a
        view of the same data). Other names for the array keep their shape here, unlike NumPy."""
        if target.attr != "shape" or not isinstance(base.type, Array):
            self.error(f"cannot assign to the attribute {target.attr!r} of {describe(base)}", target,
                       cls=MorphismTypeError)
        if not isinstance(target.value, ast.Name):
            self.error("assigning x.shape is supported on a name only", target,
                       hint="write x = x.reshape(...) instead")
        self.assign_name(target.value.id, library.lookup(np.reshape)(base, value))

    def unpack(self, value: Any, n: int, node: ast.AST) -> list[Any]:
        if isinstance(value, (tuple, list)):
            if len(value) != n:
                self.error(f"cannot unpack {len(value)} values into {n} names", node, cls=MorphismTypeError)
            return list(value)
        if is_atom(value) and isinstance(value.type, Array):
            length = I.dim(value, axis=0)
            C.check(E.eq(length, n), exc=ValueError, message=f"cannot unpack an array into {n} values: wrong length")
            return [self.index_value(value, lit(k), node) for k in range(n)]
        if isinstance(value, RangeVal) or isinstance(value, ListVal):
            return [self.index_value(value, lit(k), node) for k in range(n)]
        self.error(f"cannot unpack {describe(value)} into {n} names", node, cls=MorphismTypeError)

    def rebind(self, old: Any, new: Any, name: str) -> None:
        """`name` was written: every name bound to the same array sees the write (Python
        aliasing), and so do views of it, or its base if it is a view (NumPy semantics)."""
        if is_atom(old) or isinstance(old, ListVal):
            self.write(old, new)
        if self.env.get(name) is old or not (is_atom(old) or isinstance(old, ListVal)):
            self.env[name] = new

    def write(self, old: Any, new: Any) -> None:
        view = self.views.get(old) if isinstance(old, Var) else None
        if view is not None:
            base, recompute, writeback = view
            self.write(base, writeback(base, new))
            return
        if isinstance(old, Var) and old in self.comp.maybe_alias:
            other, where = self.comp.maybe_alias[old]
            if any(_holds(v, other) for v in self.env.values()):
                self.error(f"this writes into an array that is, on one path of the branch at line {where.line}, an "
                           f"array another name still holds, and another array on the other path: which one "
                           f"is written cannot be followed here", cls=UnsupportedSyntaxError,
                           hint="make the branch give a copy on both paths (d = b.copy()), or write through b")
        if isinstance(old, Lit) and old.name:
            self.error(f"the compiled function writes into the array {old.name!r} it captured (a global or a "
                       f"closure variable): not supported", cls=MorphismTypeError,
                       hint=f"pass {old.name} as an argument (writes into arguments reach the caller), "
                            f"or write into a copy: {old.name}.copy()")
        self._refresh(old, new)

    def _refresh(self, old: Any, new: Any) -> None:
        self.written.add(id(old))
        for k, v in list(self.env.items()):
            w = _replace_in(v, old, new)
            if w is not v:
                self.env[k] = w
                if k.startswith(_TRACKED) and k not in self.write_locs:
                    self.write_locs[k] = current().loc
        if self.outer is not None and any(_holds(v, old) for v in self.outer.env.values()):
            # a function defined in the compiled function writes into an array of the frame
            # that defined it: that frame's current path sees the write when it is the caller
            if self.caller is not self.outer:
                self.error("a function defined inside the compiled function writes into an array of the "
                           "function that defined it, and is called from another function: not supported yet",
                           hint="pass the array as an argument instead")
            self.outer.write(old, new)
        for v, (base, recompute, writeback) in list(self.views.items()):
            if base is old and any(w is v for w in self.env.values()):
                nv = recompute(new)
                self.views[nv] = (new, recompute, writeback)
                self._refresh(v, nv)

    def note_view(self, view: Any, base: Any, recompute: Callable, writeback: Callable) -> Any:
        """Records that `view` shares memory with the array `base` (a basic slice, a transpose)."""
        if isinstance(view, Var) and isinstance(view.type, Array) and is_atom(base):
            self.views[view] = (base, recompute, writeback)
        return view

    def assign_back(self, node: ast.expr, old: Any, new: Any) -> None:
        """Stores `new` where `node` (a name, subscript or attribute chain) was read from."""
        if isinstance(node, ast.Name):
            self.rebind(old, new, node.id)
        elif isinstance(node, ast.Subscript):
            self.store_subscript(node, new)
        elif isinstance(node, ast.Attribute):
            self.assign(node, new)
        else:
            self.error("cannot assign into this expression", node)

    def store_subscript(self, target: ast.Subscript, value: Any) -> None:
        base = self.expr(target.value)
        if is_atom(base):
            spec, ops = self.index_spec(target.slice, base)
            v = library.to_atom(value, "assigned value")
            if not isinstance(base.type, Array):
                self.error(f"cannot assign into a scalar of type {base.type}", target, cls=MorphismTypeError)
            new = I.setitem(base, v, *ops, spec=spec)
            if isinstance(target.value, ast.Subscript):
                # `a[i][j] = v`: through to `a` when `a[i]` is a view (basic indexing), into the
                # array itself when `a` is a record (`params["w"][0] = v`); into a temporary copy,
                # so with no effect, when it is advanced indexing (as in NumPy: nothing holds it).
                self.write(base, new)
                return
            self.assign_back(target.value, base, new)
        elif isinstance(base, dict):
            key = self.static_key(target.slice)
            new = dict(base)
            new[key] = value
            self.assign_back(target.value, base, new)
        elif isinstance(base, list):
            k = self.static_key(target.slice)
            if not isinstance(k, int):
                self.error("a fixed-length list is indexed by constant integers", target.slice)
            new = list(base)
            new[k] = value
            self.assign_back(target.value, base, new)
        elif isinstance(base, ListVal):
            idx = library.to_atom(self.expr(target.slice))
            idx = self.wrap_negative(idx, base.n)
            buf = I.setitem(base.buf, library.to_atom(value), idx, spec=("i",))
            self.assign_back(target.value, base, ListVal(buf, base.n))
        elif isinstance(base, tuple):
            self.error("'tuple' object does not support item assignment", target, cls=MorphismTypeError)
        else:
            self.error(f"cannot assign into {describe(base)}", target, cls=MorphismTypeError)

    def static_key(self, node: ast.expr) -> Any:
        k = self.expr(node)
        if isinstance(k, Lit):
            return k.value
        if not is_atom(k) and not isinstance(k, (ListVal, list, dict)) and _hashable(k):
            return self.dict_key(k, node)
        self.error("records (tuples, dicts, fixed-length lists) are indexed by constants only", node,
                   hint="use a NumPy array for values indexed at run time")

    def aug_assign(self, s: ast.AugAssign) -> None:
        op = _BINOPS.get(type(s.op))
        if op is None and not isinstance(s.op, ast.MatMult):
            self.error(f"augmented assignment {type(s.op).__name__} is not supported", s)
        t = s.target
        rhs = self.expr(s.value)
        if isinstance(t, ast.Name):
            old = self.lookup(t.id, t)
            if isinstance(old, (ListVal, list, EmptyList)) and isinstance(s.op, ast.Add):
                new = old
                for item in self.iterate_static_or_array(rhs, s.value):
                    new = self.list_append(new, item)
                self.rebind(old, new, t.id)
                return
            new = self.binop(s.op, old, rhs, s)
            if is_atom(old) and isinstance(old.type, Array):
                self.check_inplace_dtype(old, new, s)
                self.rebind(old, new, t.id)  # in place on arrays: aliases see it
            else:
                self.env[t.id] = new
        elif isinstance(t, ast.Subscript):
            base = self.expr(t.value)
            if is_atom(base):
                spec, ops = self.index_spec(t.slice, base)
                new = self.scatter_update(base, spec, ops, s.op, rhs, s)
                if new is None:
                    cur = I.getitem(base, *ops, spec=spec)
                    new = library.to_atom(self.binop(s.op, cur, rhs, s))
                    if isinstance(cur.type, Array):  # a region: NumPy's in-place operator refuses a cast
                        self.check_inplace_dtype(cur, new, s)
                    new = I.setitem(base, new, *ops, spec=spec)
                self.assign_back(t.value, base, new)
            else:
                cur = self.subscript_value(base, t.slice, t)
                self.store_subscript(t, self.binop(s.op, cur, rhs, s))
        elif isinstance(t, ast.Attribute):
            cur = self.expr(t)
            self.assign(t, self.binop(s.op, cur, rhs, s))
        else:
            self.error("unsupported augmented assignment target", t)

    def scatter_update(self, base: Atom, spec: tuple[str, ...], ops: list[Atom], op: ast.operator,
                       rhs: Any, node: ast.AST) -> Atom | None:
        """`x[idx] += v` (or `-=`) as one `scatter_add` where that means the same as NumPy's
        read, add, write: a basic index (integers, slices, an ellipsis: no repeated elements)
        and a value whose type leaves x's dtype unchanged. Its derivative passes the cotangent
        of x through untouched (a read, add and write would zero the region and add it back),
        and the native backend adds into the region in one pass. None where it does not apply."""
        if not isinstance(op, (ast.Add, ast.Sub)) or not isinstance(base.type, Array):
            return None
        if any(p in ("a", "m", "n") for p in spec):
            return None
        if isinstance(rhs, (tuple, list, str)) or not (is_atom(rhs) or isinstance(rhs, (int, float))):
            return None
        v = self.operand(rhs, node)
        x_dtype, v_dtype = base.type.dtype, v.type.dtype
        if x_dtype == DType.bool or promote(x_dtype, v_dtype) != x_dtype:
            return None
        if isinstance(v.type, Array) and v.type.ndim > I.index_result_ndim(base.type, spec, [o.type for o in ops]):
            return None  # the old path reports the error
        if isinstance(op, ast.Sub):
            v = E.neg(v)
        return I.scatter_add(base, v, *ops, spec=spec)

    def check_inplace_dtype(self, old: Atom, new: Any, node: ast.AST) -> None:
        if is_atom(new) and new.type.dtype != old.type.dtype:
            self.error(f"in-place operation on an array of {old.type.dtype.value} gives {new.type.dtype.value}; "
                       f"NumPy refuses to cast it back", node, cls=MorphismTypeError,
                       hint="make the array float from the start, e.g. x = x.astype(float)")

    # ---- if ---------------------------------------------------------------------------------

    def if_stmt(self, s: ast.If) -> None:
        test = self.truth(self.expr(s.test), s.test)
        if isinstance(test, Lit):
            self.stmts(s.body if test.value else s.orelse)
            return
        self.if_values(test, lambda: self.stmts(s.body), lambda: self.stmts(s.orelse), s)

    def if_values(self, pred: Atom, then_fn: Callable[[], Any], else_fn: Callable[[], Any], node: ast.AST) -> None:
        """A `cond` whose outputs are the names either branch changes."""
        before = dict(self.env)
        results = []
        for fn in (then_fn, else_fn):
            self.env = dict(before)
            b = Builder(current().loc)
            with building(b):
                term = fn()
            results.append((b, self.env, term))
        changed: list[str] = []
        for _, env, _ in results:
            for k, v in env.items():
                if (k not in before or before[k] is not v) and k not in changed:
                    changed.append(k)
        sides = []
        for b, env, term in results:
            if term is RAISE:
                sides.append((b, DEAD))
            else:
                sides.append((b, tuple(env.get(k, Undef(k, "is assigned only in one branch of an if", self.loc(node))) for k in changed)))
        self.env = before
        joined = self.emit_cond(pred, sides, node, what=changed)
        if joined is DEAD:
            # Both branches raise: the code after the if is unreachable.
            return
        for k, v in zip(changed, joined):
            _name_vars(v, k)
            self.env[k] = v

    def if_exiting(self, s: ast.If, rest: list[ast.stmt], ctx: Any) -> Any:
        test = self.truth(self.expr(s.test), s.test)
        if isinstance(test, Lit):
            return self.exec_body((s.body if test.value else s.orelse) + rest, ctx)
        before = dict(self.env)
        sides = []
        for branch in (s.body, s.orelse):
            self.env = dict(before)
            b = Builder(current().loc)
            with building(b):
                packed = self.exec_body(branch + rest, ctx)
            sides.append((b, packed))
        self.env = before
        return self.emit_cond(test, sides, s, what=None)

    def emit_cond(self, pred: Atom, sides: list[tuple[Builder, Any]], node: ast.AST, what: Any) -> Any:
        (bt, vt), (be, ve) = sides
        if vt is DEAD and ve is DEAD:
            C.cond(pred, then=bt.block([], []), orelse=be.block([], []))
            return DEAD
        make, lt, le = self.join(vt, ve, bt, be, node, what)
        outs = C.cond(pred, then=bt.block([], lt), orelse=be.block([], le))
        _rename(outs, lt, le)
        return make(iter(outs))

    # ---- joining values from two paths -------------------------------------------------------

    def join(self, a: Any, b: Any, ba: Builder, bb: Builder, node: ast.AST, what: Any = None):
        """Unifies two frontend values coming from two paths. Returns (make, leaves_a, leaves_b):
        the leaves each path yields, and a function that rebuilds the joined value from the
        joined leaves. Conversions (int to float) are emitted into the path's builder."""
        la: list[Atom] = []
        lb: list[Atom] = []
        self._join_memo: dict[tuple[int, int], list] = {}
        held: list[Atom] = []
        for v in self.env.values():
            held.extend(x for x in flatten(v)[0] if isinstance(x.type, Array))
        self._join_held = {id(x): x for x in held}  # arrays that names hold after the join too
        make = self._join(a, b, ba, bb, la, lb, node, what)
        return make, la, lb

    def _join(self, a, b, ba, bb, la, lb, node, name) -> Callable:
        if a is DEAD:
            return self._join(self._outside_or_placeholder(b, bb, ba), b, ba, bb, la, lb, node, name)
        if b is DEAD:
            return self._join(a, self._outside_or_placeholder(a, ba, bb), ba, bb, la, lb, node, name)
        if a is NOTHING and b is NOTHING:
            return lambda it: NOTHING
        if a is NOTHING:
            a = self.placeholder_like(b, ba)
        elif b is NOTHING:
            b = self.placeholder_like(a, bb)
        if isinstance(a, Undef) or isinstance(b, Undef):
            u = a if isinstance(a, Undef) else b
            other = b if u is a else a
            if not isinstance(other, Undef) and u.like is None:
                u = Undef(u.name, u.reason, u.loc, like=other)
            return lambda it: u
        if isinstance(a, EmptyList) and isinstance(b, ListVal):
            with building(ba):
                a = self.empty_listval(b.elem_type)
        elif isinstance(b, EmptyList) and isinstance(a, ListVal):
            with building(bb):
                b = self.empty_listval(a.elem_type)
        elif isinstance(a, list) and isinstance(b, ListVal):
            with building(ba):
                a = self.list_from_record(a, b.elem_type)
        elif isinstance(b, list) and isinstance(a, ListVal):
            with building(bb):
                b = self.list_from_record(b, a.elem_type)
        if is_atom(a) and a is b:
            return lambda it: a  # the same value on both paths (defined before the branch)
        if is_atom(a) and is_atom(b):
            # One array held under two names (or by a record) on both paths stays one array
            # after the join: a later write through one name is seen through the other.
            cell = self._join_memo.get((id(a), id(b)))
            if cell is not None:
                return lambda it: cell[0]
            cell = self._join_memo[(id(a), id(b))] = [None]
            t = self.join_type(a.type, b.type, node, name)
            with building(ba):
                la.append(library.cast(a, t.dtype))
            with building(bb):
                lb.append(library.cast(b, t.dtype))

            # One path yields an array that another name still holds, the other path another array:
            # the result is that array on one path only, and a write into it must be refused.
            held_a, held_b = self._join_held.get(id(a)), self._join_held.get(id(b))
            maybe = held_a if held_b is None else held_b if held_a is None else None
            loc = self.loc(node)

            def first(it, cell=cell):
                cell[0] = next(it)
                if maybe is not None and isinstance(cell[0], Var):
                    self.comp.maybe_alias[cell[0]] = (maybe, loc)
                return cell[0]

            return first
        if isinstance(a, ListVal) and isinstance(b, ListVal):
            mk_buf = self._join(a.buf, b.buf, ba, bb, la, lb, node, name)
            mk_n = self._join(a.n, b.n, ba, bb, la, lb, node, name)
            return lambda it: ListVal(mk_buf(it), mk_n(it))
        if isinstance(a, tuple) and isinstance(b, tuple) and type(a) is type(b) and len(a) == len(b):
            subs = [self._join(x, y, ba, bb, la, lb, node, _sub(name, i)) for i, (x, y) in enumerate(zip(a, b))]
            cls = type(a)
            if hasattr(a, "_fields"):
                return lambda it: cls(*(m(it) for m in subs))
            return lambda it: tuple(m(it) for m in subs)
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            subs = [self._join(x, y, ba, bb, la, lb, node, _sub(name, i)) for i, (x, y) in enumerate(zip(a, b))]
            return lambda it: [m(it) for m in subs]
        if isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b):
            keys = list(a)
            subs = [self._join(a[k], b[k], ba, bb, la, lb, node, _sub(name, k)) for k in keys]
            return lambda it: {k: m(it) for k, m in zip(keys, subs)}
        if isinstance(a, RangeVal) and isinstance(b, RangeVal):
            ms = [self._join(getattr(a, f), getattr(b, f), ba, bb, la, lb, node, name) for f in ("start", "stop", "step")]
            return lambda it: RangeVal(*(m(it) for m in ms))
        if (dataclasses.is_dataclass(a) and not isinstance(a, type) and type(a) is type(b)):
            names = [f.name for f in dataclasses.fields(a)]
            subs = [self._join(getattr(a, n), getattr(b, n), ba, bb, la, lb, node, _sub(name, n)) for n in names]

            def mk(it, cls=type(a)):
                obj = object.__new__(cls)
                for n, m in zip(names, subs):
                    object.__setattr__(obj, n, m(it))
                return obj

            return mk
        if _same_const(a, b):
            return lambda it: a
        label = f" {name!r}" if isinstance(name, str) else ""
        self.error(f"incompatible values{label} on the two paths: {describe(a)} and {describe(b)}", node,
                   cls=MorphismTypeError,
                   hint="a name must hold the same kind of value (scalar, array of one ndim, record of one "
                        "shape) on every path through an if or a loop")

    def _outside_or_placeholder(self, v: Any, b_v: Builder, b_dead: Builder) -> Any:
        """For the path that raised: `v` itself where it is an atom made before the branch (the
        join then passes it through), else a placeholder of its structure."""
        if is_atom(v) and (isinstance(v, Lit) or not any(v in e.outputs for e in b_v.eqns)):
            return v
        if isinstance(v, tuple) and not hasattr(v, "_fields"):
            return tuple(self._outside_or_placeholder(x, b_v, b_dead) for x in v)
        return self.placeholder_like(v, b_dead)

    def join_type(self, a: Type, b: Type, node: ast.AST, name: Any) -> Type:
        if a == b:
            return a
        if a.ndim != b.ndim:
            label = f"{name!r} " if isinstance(name, str) else ""
            self.error(f"incompatible types between branches: {label}is {a} on one path and {b} on the other",
                       node, cls=MorphismTypeError,
                       hint="give the name the same number of dimensions on every path (NumPy broadcasting "
                            "cannot be decided at compile time here)")
        return make_type(promote(a.dtype, b.dtype), a.ndim)

    def placeholder_like(self, v: Any, b: Builder) -> Any:
        """A value of the same structure and types as `v`, for a path that never uses it."""
        if isinstance(v, Undef):
            return NOTHING if v.like is None else self.placeholder_like(v.like, b)
        if is_atom(v):
            return _zero_of(v.type)
        if isinstance(v, ListVal):
            with building(b):
                return self.empty_listval(v.elem_type)
        if isinstance(v, tuple):
            vals = [self.placeholder_like(x, b) for x in v]
            return type(v)(*vals) if hasattr(v, "_fields") else tuple(vals)
        if isinstance(v, list):
            return [self.placeholder_like(x, b) for x in v]
        if isinstance(v, dict):
            return {k: self.placeholder_like(x, b) for k, x in v.items()}
        if isinstance(v, RangeVal):
            return RangeVal(lit(0), lit(0), lit(1))
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            obj = object.__new__(type(v))
            for f in dataclasses.fields(v):
                object.__setattr__(obj, f.name, self.placeholder_like(getattr(v, f.name), b))
            return obj
        return v

    # ---- loops ------------------------------------------------------------------------------

    def loop(self, s: ast.For | ast.While, has_break: bool, has_return: bool) -> tuple[Any, Any]:
        """Lowers a loop; returns (exit code atom or None, return value or NOTHING). A name the
        body does not assign but whose value changes all the same (an array a helper writes
        into, a record holding a written array) is found while lowering the body; the loop is
        then lowered again with that name carried."""
        with self.at(s):
            for _ in range(MAX_WIDEN):
                env0, b = dict(self.env), current()
                mark = len(b.eqns)
                if isinstance(s, ast.For):
                    result = self.for_loop(s, has_break, has_return)
                else:
                    result = self.while_loop(s, has_break, has_return)
                node, changed = self.loop_changed_by
                if node is not s or not changed:
                    return result
                del b.eqns[mark:]
                self.env = env0
                parted = {n[1] for n in changed if isinstance(n, tuple) and n[0] == "parted"}
                unshared = any(isinstance(n, tuple) and n[0] == "unshare" for n in changed)
                changed = {n for n in changed if not isinstance(n, tuple)}
                if unshared and not parted and not changed:
                    continue  # lowered again, with those arrays carried apart
                if parted:
                    # an alias the body rebinds apart keeps its own value (not carried unless it
                    # changes): lowered again, it is watched like any name
                    self.parted_aliases[s] = self.parted_aliases.get(s, set()) | parted
                    if not changed:
                        continue
                # Carry the arrays themselves; views of them and records holding them follow.
                arrays = [n for n in changed if is_atom(env0[n]) or isinstance(env0[n], ListVal)]
                roots = [n for n in arrays if env0[n] not in self.views]
                picked: list[str] = []
                for n in sorted(roots or arrays or changed):  # one name per array: the others alias it
                    if all(env0[n] is not env0[m] for m in picked):
                        picked.append(n)
                self.forced_carries[s] = self.forced_carries.get(s, []) + picked
            self.error("the values the loop changes did not settle", s)

    def carry_names(self, s: ast.For | ast.While, targets: list[str]) -> tuple[list[str], list[str]]:
        """(carried names, names local to the body). A name the body assigns is carried if it
        exists before the loop, is read before it is written in the body, or is read after."""
        assigned = analysis.assigned_names(s.body)
        carried, local = [], []
        for n in assigned:
            if n in targets:
                continue
            defined = n in self.env and not isinstance(self.env[n], Undef)
            if defined or analysis.upward_exposed(s.body, n) or analysis.read_outside(self.source.node, n, s):
                carried.append(n)
            else:
                local.append(n)
        for n in targets:  # a loop variable read after the loop keeps its last value
            if analysis.read_outside(self.source.node, n, s):
                carried.append(n)
        carried += [n for n in self.forced_carries.get(s, []) if n not in carried]
        # Another name for an array the body writes into sees the writes (Python aliasing):
        # it is not carried separately, it is bound to the same carry inside and after the loop.
        self.loop_aliases = {}
        for n in list(carried):
            v = self.env.get(n)
            if isinstance(v, Var) and isinstance(v.type, Array) or isinstance(v, ListVal):
                for k, w in self.env.items():
                    if w is v and k != n and k not in self.loop_aliases and k not in carried and \
                            k not in self.parted_aliases.get(s, ()):
                        self.loop_aliases[k] = n
        # A view of a carried array is not carried: it is recomputed from the carry.
        self.loop_views = {}
        carried_vals = {id(self.env.get(n)): n for n in carried}
        for k, w in self.env.items():
            if k in carried or not isinstance(w, Var) or w not in self.views:
                continue
            base = self.views[w][0]
            if id(base) in carried_vals:
                self.loop_views[k] = (carried_vals[id(base)], self.views[w][1], self.views[w][2])
        # A record that holds a carried array (`t = {"p": p}`) is not carried: inside the loop and
        # after it, it holds the carry (Python aliasing), like the aliases above.
        settled = set(assigned) | set(targets) | set(carried) | set(self.loop_aliases) | set(self.loop_views)
        self.loop_records = []
        for k, w in self.env.items():
            if k not in settled and not is_atom(w) and (isinstance(w, (tuple, list, dict)) or
                                                         dataclasses.is_dataclass(w) and not isinstance(w, type)):
                if any(_holds(w, self.env[n]) for n in carried if n in self.env):
                    self.loop_records.append(k)
        settled |= set(self.loop_records)
        self.loop_watch = {k: v for k, v in self.env.items() if k not in settled and not isinstance(v, Undef)}
        return carried, local

    def for_loop(self, s: ast.For, has_break: bool, has_return: bool) -> tuple[Any, Any]:
        it = self.expr(s.iter)
        targets = [n.id for n in ast.walk(s.target) if isinstance(n, ast.Name)]
        static_items = self.static_items(it)
        if static_items is not None:
            return self.unrolled_for(s, static_items, has_break, has_return)
        start, stop, step, elem = self.iteration(it, s.iter)
        carried, local = self.carry_names(s, targets)

        def body_prologue(i: Var) -> None:
            self.assign(s.target, elem(i))

        if not has_break and not has_return:
            self.simple_for(s, start, stop, step, carried, body_prologue)
            self.mark_local(local, targets, carried, s)
            return None, NOTHING
        # With break/return: a while_loop over (index, carries, exit code, return value).
        step_c = step

        def test(i: Atom) -> Atom:
            if isinstance(step_c, Lit):
                return E.lt(i, stop) if step_c.value > 0 else E.gt(i, stop)
            return E.logical_or(E.logical_and(E.gt(step_c, 0), E.lt(i, stop)),
                                E.logical_and(E.lt(step_c, 0), E.gt(i, stop)))

        result = self.flagged_loop(s, carried, start, lambda i: E.add(i, step_c), test, body_prologue)
        self.mark_local(local, targets, carried, s)
        return result

    def shared_leaves(self, leaves: list[Atom]) -> list[int]:
        """For each carried leaf, the first leaf that is the same array (itself if none): one
        array held by two names or records is one carry, so a write through one is seen through
        the other. Arrays found to part inside the body (`check_shared`) are carried apart."""
        first: dict[int, int] = {}
        return [first.setdefault(id(a), i) if isinstance(a, Var) and isinstance(a.type, Array)
                and id(a) not in self.unshared else i for i, a in enumerate(leaves)]

    def check_shared(self, leaves: list[Atom], where: list[int], params: list[Var], outs: list[Atom],
                     changed: set) -> None:
        """A shared carry whose names the body rebinds apart: the loop is lowered again with
        them carried apart (see `loop`)."""
        for i, j in enumerate(where):
            if j != i and outs[i] is not outs[j]:
                self.refuse_parting(params[j], None, None)
                self.unshared.add(id(leaves[i]))
                changed.add(("unshare", i))

    def refuse_parting(self, entry: Any, a: str | None, b: str | None) -> None:
        """Two names of one array that the loop body first writes through, then rebinds apart:
        on the first iteration they are one array, later two; the IR cannot say which per
        iteration, so this is refused rather than computed differently from Python."""
        if entry is not None and id(entry) in self.written:
            names = f" {_shown(a)} and {_shown(b)}" if a and b else ""
            self.error(f"the loop body writes into an array held under two names{names}, then rebinds one of "
                       f"them to another array: not supported", hint="copy it before the loop (y = x.copy()) "
                       "if the names should be separate arrays")

    def bind_aliases(self, aliases: dict[str, str], views: dict | None = None,
                     records: tuple[list[str], dict[str, Any], list[str]] | None = None) -> None:
        """Binds the names that follow the carries: aliases, views, and records holding a
        carried array (`records`: their names, the values before the loop, the carried names)."""
        for alias, primary in aliases.items():
            if primary in self.env:
                self.env[alias] = self.env[primary]
        if records is not None:
            names, before, carried = records
            for k in names:
                w = before[k]
                for n in carried:
                    if n in before and n in self.env:
                        w = _replace_in(w, before[n], self.env[n])
                self.env[k] = w
        for name, (base_name, recompute, writeback) in (views or {}).items():
            base = self.env.get(base_name)
            if is_atom(base):
                self.env[name] = self.note_view(recompute(base), base, recompute, writeback)

    def mark_local(self, local: list[str], targets: list[str], carried: list[str], s: ast.AST) -> None:
        for n in local + [t for t in targets if t not in carried]:
            self.env[n] = Undef(n, "is assigned only inside a loop, which may run zero times", self.loc(s))

    def static_items(self, it: Any) -> list | None:
        """The items of an iterable known at compile time (records, dict keys, and enumerate or
        zip over them), or None for a run-time iterable."""
        if isinstance(it, dict):
            return [k if not isinstance(k, (int, float, bool)) else lit(k) for k in it]
        if isinstance(it, (tuple, list)):
            return list(it)
        if isinstance(it, EnumerateVal):
            inner = self.static_items(it.inner)
            if inner is not None and isinstance(it.start, Lit):
                return [(lit(int(it.start.value) + k), v) for k, v in enumerate(inner)]
        if isinstance(it, ZipVal):
            parts = [self.static_items(x) for x in it.items]
            if all(p is not None for p in parts):
                return [tuple(t) for t in zip(*parts)]
        return None

    def iteration(self, it: Any, node: ast.AST) -> tuple[Atom, Atom, Atom, Callable[[Var], Any]]:
        """(start, stop, step, element-of-index) for a run-time iterable."""
        if isinstance(it, RangeVal):
            return it.start, it.stop, it.step, lambda i: i
        n, elem = self.indexed(it, node)
        return lit(0), n, lit(1), elem

    def indexed(self, it: Any, node: ast.AST) -> tuple[Atom, Callable[[Atom], Any]]:
        """(length, element-of-position) for any iterable."""
        if isinstance(it, RangeVal):
            from ..primitives.shape import range_len

            n = range_len(it.start, it.stop, it.step)
            return n, lambda k: E.add(it.start, E.mul(k, it.step))
        if is_atom(it):
            if not isinstance(it.type, Array):
                self.error(f"cannot iterate over a scalar of type {it.type}", node, cls=MorphismTypeError)
            return I.dim(it, axis=0), lambda k: I.getitem(it, k, spec=("i",))
        if isinstance(it, ListVal):
            return it.n, lambda k: I.getitem(it.buf, k, spec=("i",))
        if isinstance(it, EnumerateVal):
            n, f = self.indexed(it.inner, node)
            return n, lambda k: (E.add(k, it.start) if not is_value(it.start, 0) else k, f(k))
        if isinstance(it, ZipVal):
            parts = [self.indexed(x, node) for x in it.items]
            n = parts[0][0]
            for m, _ in parts[1:]:
                n = E.minimum(n, m)
            return n, lambda k: tuple(f(k) for _, f in parts)
        if isinstance(it, EmptyList):
            return lit(0), lambda k: lit(0.0)
        self.error(f"cannot iterate over {describe(it)}", node, cls=MorphismTypeError,
                   hint="loops run over range(...), arrays (by rows), lists, enumerate(...) and zip(...)")

    def unrolled_for(self, s: ast.For, items: list, has_break: bool, has_return: bool) -> tuple[Any, Any]:
        if has_break or has_return or s.orelse:
            self.error("break/return/else in a loop over a tuple or fixed list are not supported",
                       s, hint="loop over an array or a range instead")
        for item in items:
            self.assign(s.target, item)
            term = self.stmts(s.body)
            if term is RAISE:
                break
        return None, NOTHING

    def carry_init(self, carried: list[str]) -> tuple:
        return tuple(self.env.get(n, NOTHING) if not isinstance(self.env.get(n), Undef) else NOTHING for n in carried)

    def simple_for(self, s: ast.For, start: Atom, stop: Atom, step: Atom, carried: list[str],
                   prologue: Callable[[Var], None]) -> None:
        outer_env = dict(self.env)
        init = self.carry_init(carried)
        aliases = dict(self.loop_aliases)
        views = dict(self.loop_views)
        records = (list(self.loop_records), dict(outer_env), carried)
        watch, changed = self.loop_watch, set()

        def make_body(params_vals: tuple, index: Var) -> tuple[Builder, Any]:
            self.env = dict(outer_env)
            for n, v in zip(carried, params_vals):
                if v is not NOTHING:
                    self.env[n] = v
                else:
                    self.env.pop(n, None)
            b = Builder(current().loc)
            with building(b):
                self.bind_aliases(aliases, views, records)
                prologue(index)
                ctx = LoopCtx(carried, flags=False, next_index=None, watch=watch, changed=changed)
                ctx.aliases, ctx.entry = aliases, {a: self.env.get(a) for a in aliases}
                packed = self.exec_body(s.body, ctx)
            return b, packed

        for attempt in range(MAX_WIDEN):
            leaves, tree = flatten(init)
            where = self.shared_leaves(leaves)
            params = _weak_like(_spread([Var(a.type, _hint_of(a)) for a in _firsts(leaves, where)], where), leaves)
            index = library.weak(Var(Scalar(DType.int64), _target_hint(s.target)))  # a Python int
            pvals = unflatten(tree, params)
            for n, v in zip(carried, pvals):
                _name_vars(v, n)
            b, packed = make_body(pvals, index)
            if packed is DEAD:
                packed = pvals
            widened = self.widen(init, packed, s, carried)
            if widened is None:
                out_leaves = self.conform(packed, tree, leaves, b)
                self.check_shared(leaves, where, params, out_leaves, changed)
                break
            init = widened
        else:
            self.error("the types of the loop's variables did not settle", s)
        self.env = outer_env
        self.loop_changed_by = (s, changed)
        start, stop, step = (library.to_atom(x) for x in (start, stop, step))
        params_u = _firsts(params, where)
        outs = C.for_range(start, stop, step, *_firsts(leaves, where),
                           body=b.block([index, *params_u], _firsts(out_leaves, where)))
        _rename(outs, params_u)
        for n, v in zip(carried, unflatten(tree, _spread(list(outs), where))):
            self.env[n] = v
        self.bind_aliases(aliases, views, records)

    def flagged_loop(self, s: ast.For | ast.While, carried: list[str], start: Atom | None,
                     advance: Callable[[Atom], Atom] | None, test: Callable[..., Atom] | None,
                     prologue: Callable[[Var], None] | None, flags: bool = True) -> tuple[Any, Any]:
        """A while_loop. With `flags` its state is (user carries, exit code, index, return value)
        and the condition is not evaluated once the body has left the loop; without, it is just
        the user carries."""
        outer_env = dict(self.env)
        carries0 = self.carry_init(carried)
        aliases = dict(self.loop_aliases)
        views = dict(self.loop_views)
        records = (list(self.loop_records), dict(outer_env), carried)
        watch, changed = self.loop_watch, set()
        init = (carries0, lit(0), start if start is not None else NOTHING, NOTHING) if flags else (carries0,)

        def enter(vals: tuple) -> None:
            self.env = dict(outer_env)
            for n, v in zip(carried, vals[0]):
                if v is not NOTHING:
                    self.env[n] = v
                else:
                    self.env.pop(n, None)
            self.bind_aliases(aliases, views, records)

        def user_test(vals: tuple) -> Atom:
            if test is not None:
                return library.to_atom(test(vals[2]))
            return library.to_atom(self.truth(self.expr(s.test), s.test))

        for attempt in range(MAX_WIDEN):
            leaves, tree = flatten(init)
            where = self.shared_leaves(leaves)
            cparams = _weak_like(_spread([Var(a.type, _hint_of(a)) for a in _firsts(leaves, where)], where), leaves)
            bparams = _weak_like(_spread([Var(a.type, _hint_of(a)) for a in _firsts(leaves, where)], where), leaves)
            cvals = unflatten(tree, cparams)
            bvals = unflatten(tree, bparams)
            for n, v, w in zip(carried, cvals[0], bvals[0]):
                _name_vars(v, n)
                _name_vars(w, n)
            if flags:
                for v in (cvals, bvals):
                    _name_vars(v[1], "exit")
                    _name_vars(v[2], _target_hint(s.target) if isinstance(s, ast.For) else "i")
                    _name_vars(v[3], "ret")
            cb = Builder(current().loc)
            with building(cb):
                enter(cvals)
                if flags:
                    go = E.eq(cvals[1], 0)
                    tb, eb = Builder(cb.loc), Builder(cb.loc)
                    with building(tb):
                        user = user_test(cvals)
                    ok = C.cond(go, then=tb.block([], [user]), orelse=eb.block([], [lit(False)]))[0]
                else:
                    ok = user_test(cvals)
            b = Builder(current().loc)
            with building(b):
                enter(bvals)
                if flags:
                    index = bvals[2]
                    if prologue is not None:
                        prologue(index)
                    nxt = (lambda: advance(index)) if advance is not None else None
                    ctx = LoopCtx(carried, flags=True, next_index=nxt, watch=watch, changed=changed)
                    ctx.aliases, ctx.entry = aliases, {a: self.env.get(a) for a in aliases}
                    packed = self.exec_body(s.body, ctx)
                    if packed is DEAD:
                        packed = bvals
                    elif packed[2] is NOTHING and start is not None:
                        packed = (packed[0], packed[1], index, packed[3])
                else:
                    ctx = LoopCtx(carried, flags=False, next_index=None, watch=watch, changed=changed)
                    ctx.aliases, ctx.entry = aliases, {a: self.env.get(a) for a in aliases}
                    packed = self.exec_body(s.body, ctx)
                    packed = bvals if packed is DEAD else (packed,)
            names = [carried, "the exit code", "the loop index", "the return value"] if flags else [carried]
            widened = self.widen(init, packed, s, names)
            if widened is None:
                out_leaves = self.conform(packed, tree, leaves, b)
                self.check_shared(leaves, where, bparams, out_leaves, changed)
                break
            init = widened
        else:
            self.error("the types of the loop's variables did not settle", s)
        self.env = outer_env
        self.loop_changed_by = (s, changed)
        leaves = [library.to_atom(a) for a in _firsts(leaves, where)]
        bparams_u = _firsts(bparams, where)
        outs = C.while_loop(*leaves, cond=cb.block(_firsts(cparams, where), [ok]),
                            body=b.block(bparams_u, _firsts(out_leaves, where)))
        _rename(outs, bparams_u)
        vals = unflatten(tree, _spread(list(outs), where))
        for n, v in zip(carried, vals[0]):
            self.env[n] = v
        self.bind_aliases(aliases, views, records)
        return (vals[1], vals[3]) if flags else (None, NOTHING)

    def while_loop(self, s: ast.While, has_break: bool, has_return: bool) -> tuple[Any, Any]:
        if isinstance(s.test, ast.Constant) and not s.test.value:
            return (lit(0) if has_break or has_return else None), NOTHING
        carried, local = self.carry_names(s, [])
        result = self.flagged_loop(s, carried, None, None, None, None, flags=has_break or has_return)
        self.mark_local(local, [], carried, s)
        return result

    def widen(self, init: Any, result: Any, node: ast.AST, names: list[str]) -> Any:
        """None if the loop body returns values of the carries' types; else wider carries."""
        new = self._widen(init, result, node, names)
        li, ti = flatten(init)
        ln, tn = flatten(new)
        if ti == tn and all(a.type == b.type for a, b in zip(li, ln)):
            return None
        return new

    def _widen(self, a: Any, b: Any, node: ast.AST, name: Any) -> Any:
        if a is NOTHING and b is NOTHING:
            return NOTHING
        if a is NOTHING:
            return self.placeholder_like(b, current())
        if b is NOTHING or b is DEAD:
            return a
        if isinstance(b, Undef):
            return a if b.like is None else self._widen(a, b.like, node, name)
        if isinstance(a, EmptyList) and isinstance(b, ListVal):
            return self.empty_listval(b.elem_type)
        if isinstance(a, list) and isinstance(b, ListVal):
            # `xs = [x0]` before a loop that appends: a growable list from the start.
            return self._widen(self.list_from_record(a, b.elem_type), b, node, name)
        if is_atom(a) and is_atom(b):
            if a.type == b.type:
                return a
            if library.is_weak(a) and not library.is_weak(b) and a.type.ndim == b.type.ndim == 0:
                # `s = 0.0` then `s += x32[i]`: a Python float becomes NumPy's float32 (NEP 50)
                return library.nep50(a, b)[0]
            t = self.join_type(a.type, b.type, node, name)
            if t == a.type:
                return a
            return library.cast(a, t.dtype)
        if isinstance(a, ListVal) and isinstance(b, ListVal):
            return ListVal(self._widen(a.buf, b.buf, node, name), a.n)
        if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
            names = name if isinstance(name, list) and len(name) == len(a) else [_sub(name, i) for i in range(len(a))]
            vals = [self._widen(x, y, node, n) for x, y, n in zip(a, b, names)]
            return type(a)(*vals) if hasattr(a, "_fields") else tuple(vals)
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            return [self._widen(x, y, node, _sub(name, i)) for i, (x, y) in enumerate(zip(a, b))]
        if isinstance(a, dict) and isinstance(b, dict) and list(a) == list(b):
            return {k: self._widen(a[k], b[k], node, _sub(name, k)) for k in a}
        if dataclasses.is_dataclass(a) and type(a) is type(b):
            obj = object.__new__(type(a))
            for f in dataclasses.fields(a):
                object.__setattr__(obj, f.name, self._widen(getattr(a, f.name), getattr(b, f.name), node, f.name))
            return obj
        if _same_const(a, b):
            return a
        label = f" {name!r}" if isinstance(name, str) else ""
        self.error(f"the loop changes the kind of value{label}: {describe(a)} before the loop, "
                   f"{describe(b)} after an iteration", node, cls=MorphismTypeError,
                   hint="a loop variable must keep its kind (scalar, array of one ndim, record of one shape); "
                        "only int-to-float widening is automatic")

    def conform(self, packed: Any, tree: Any, leaves: list[Atom], b: Builder) -> list[Atom]:
        """The body's results as leaves of exactly the carry structure (Undef/NOTHING slots
        filled with placeholders, dtypes cast)."""
        proto = unflatten(tree, [_Slot(a.type) for a in leaves])
        out, _ = flatten(self._fill_like(packed, proto, b))
        return out

    def _fill_like(self, v: Any, proto: Any, b: Builder) -> Any:
        if isinstance(proto, _Slot):
            if v is NOTHING or isinstance(v, Undef) or v is DEAD:
                return _zero_of(proto.type)
            with building(b):
                return library.cast(v, proto.type.dtype)
        if isinstance(proto, ListVal):
            if isinstance(v, (EmptyList, Undef)) or v is NOTHING:
                return ListVal(_zero_of(proto.buf.type), lit(0))
            return ListVal(self._fill_like(v.buf, proto.buf, b), self._fill_like(v.n, proto.n, b))
        if isinstance(proto, tuple):
            vs = v if isinstance(v, tuple) else (NOTHING,) * len(proto)
            vals = [self._fill_like(x, p, b) for x, p in zip(vs, proto)]
            return type(proto)(*vals) if hasattr(proto, "_fields") else tuple(vals)
        if isinstance(proto, list):
            vs = v if isinstance(v, list) else [NOTHING] * len(proto)
            return [self._fill_like(x, p, b) for x, p in zip(vs, proto)]
        if isinstance(proto, dict):
            return {k: self._fill_like(v[k] if isinstance(v, dict) else NOTHING, p, b) for k, p in proto.items()}
        if isinstance(proto, RangeVal):
            return RangeVal(*(self._fill_like(getattr(v, f), getattr(proto, f), b) for f in ("start", "stop", "step")))
        if dataclasses.is_dataclass(proto):
            obj = object.__new__(type(proto))
            for f in dataclasses.fields(proto):
                object.__setattr__(obj, f.name, self._fill_like(getattr(v, f.name), getattr(proto, f.name), b))
            return obj
        return proto

    def after_loop(self, s: ast.AST, exit_code: Atom, ret: Any, rest: list[ast.stmt], ctx: Any) -> Any:
        """After a loop that may return: `if exit == 2: return ret` with the rest in the else;
        and the loop's `else:` clause when there was no break."""
        orelse = getattr(s, "orelse", [])

        def fallthrough() -> Any:
            if orelse:
                b_else = Builder(current().loc)
                before = dict(self.env)
                sides = []
                for fn in (lambda: self.exec_body(orelse + rest, ctx), lambda: self.exec_body(rest, ctx)):
                    self.env = dict(before)
                    bb = Builder(current().loc)
                    with building(bb):
                        sides.append((bb, fn()))
                self.env = before
                return self.emit_cond(E.ne(exit_code, 1), sides, s, None)
            return self.exec_body(rest, ctx)

        if ret is NOTHING:
            return fallthrough()
        before = dict(self.env)
        sides = []
        for fn in (lambda: ctx.pack(self, Ret(ret)), fallthrough):
            self.env = dict(before)
            bb = Builder(current().loc)
            with building(bb):
                sides.append((bb, fn()))
        self.env = before
        return self.emit_cond(E.eq(exit_code, 2), sides, s, None)

    # ---- lists --------------------------------------------------------------------------------

    def empty_listval(self, elem: Type) -> ListVal:
        return ListVal(I.list_new(dtype=elem.dtype, ndim=elem.ndim), lit(0))

    def list_from_record(self, items: list, elem: Type) -> ListVal:
        new = self.empty_listval(elem)
        for x in items:
            new = self.list_append(new, x)
        return new

    def list_append(self, lst: Any, v: Any) -> ListVal:
        v = library.to_atom(v, "list element")
        if isinstance(lst, EmptyList):
            lst = self.empty_listval(v.type)
        elif isinstance(lst, list):
            items = list(lst)
            new = self.empty_listval(v.type if not items else library.to_atom(items[0]).type)
            for x in items:
                new = self.list_append(new, x)
            lst = new
        if lst.elem_type.ndim != v.type.ndim:
            self.error(f"cannot append {describe(v)} to a list of {lst.elem_type}", self.cur_node, cls=MorphismTypeError,
                       hint="the elements of a list must all have the same number of dimensions")
        if isinstance(v.type, Array):
            self.check_same_shape(lst, v)
        buf, n = I.list_append(lst.buf, lst.n, v)
        return ListVal(buf, n)

    def check_same_shape(self, lst: ListVal, v: Atom) -> None:
        """A list of arrays is one buffer: each element must have the shape of the first, or
        NumPy's np.array(lst) would fail later (a run-time check naming the line)."""
        same = lit(True)
        for k in range(v.type.ndim):
            same = _and(same, E.eq(I.dim(lst.buf, axis=k + 1), I.dim(v, axis=k)))
        if isinstance(same, Lit):
            return
        C.check(E.logical_or(E.eq(lst.n, 0), same), exc=ValueError,
                message=f"{current().loc}: appending an array whose shape differs from the list's other "
                        f"elements (morphism's lists of arrays hold arrays of one shape)")

    def iterate_static_or_array(self, v: Any, node: ast.AST) -> list:
        if isinstance(v, (tuple, list)):
            return list(v)
        self.error("extend/+= on a list takes a tuple or list literal here", node)

    def wrap_negative(self, idx: Atom, n: Atom) -> Atom:
        if isinstance(idx, Lit):
            return E.add(n, idx) if idx.value < 0 else idx
        return E.select(E.lt(idx, 0), E.add(idx, n), idx)

    # ---- expressions ----------------------------------------------------------------------------

    def expr(self, e: ast.expr) -> Any:
        with self.at(e):
            m = getattr(self, "expr_" + type(e).__name__, None)
            if m is None:
                what = _SYNTAX_NAMES.get(type(e), f"the expression {type(e).__name__}")
                self.error(f"{what} is not supported by morphism", e)
            return m(e)

    def expr_Constant(self, e: ast.Constant) -> Any:
        v = e.value
        if isinstance(v, (bool, int, float)):
            if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**63:
                self.error(f"the integer {v} does not fit in int64", e)
            return lit(v)
        if isinstance(v, complex):
            return lit(v)
        return v

    def expr_Name(self, e: ast.Name) -> Any:
        return self.lookup(e.id, e)

    def expr_Tuple(self, e: ast.Tuple) -> Any:
        return tuple(self.expr(x) for x in e.elts)

    def expr_List(self, e: ast.List) -> Any:
        if not e.elts:
            return EmptyList()
        return [self.expr(x) for x in e.elts]

    def expr_Dict(self, e: ast.Dict) -> Any:
        out = {}
        for k, v in zip(e.keys, e.values):
            if k is None:
                self.error("dict unpacking (**d) is not supported", e)
            out[self.dict_key(self.expr(k), k)] = self.expr(v)
        return out

    def dict_key(self, key: Any, node: ast.AST) -> Any:
        """A dict key: any hashable value known at compile time (a number, a string, an object)."""
        if isinstance(key, Lit) and isinstance(key.type, Scalar):
            return key.value
        if is_atom(key) or isinstance(key, (ListVal, EmptyList, list, dict)) or not _hashable(key):
            self.error(f"dict keys must be hashable constants known at compile time, found {describe(key)}", node,
                       cls=MorphismTypeError, hint="use a NumPy array for values indexed at run time")
        if isinstance(key, tuple):
            return tuple(self.dict_key(x, node) for x in key)
        return key

    def expr_DictComp(self, e: ast.DictComp) -> Any:
        """`{k: f(v) for k, v in d.items()}` over a record: unrolled, its keys known at compile time."""
        pairs = self.static_comprehension(ast.Tuple([e.key, e.value], ast.Load()), e.generators, e)
        if pairs is None:
            self.error("a dict comprehension must run over a record (a dict, tuple or fixed list), with "
                       "conditions known at compile time", e, hint="a dict's keys are fixed when the function "
                                                                     "is compiled")
        return {self.dict_key(k, e.key): v for k, v in pairs}

    def expr_JoinedStr(self, e: ast.JoinedStr) -> Any:
        parts = []
        for v in e.values:
            if isinstance(v, ast.Constant):
                parts.append(v.value)
            else:
                x = self.expr(v.value)
                if isinstance(x, (str, int, float)) and not is_atom(x):
                    parts.append(str(x))
                else:
                    parts.append(_FmtValue(x))
        if all(isinstance(p, str) for p in parts):
            return "".join(parts)
        return _FString(tuple(parts))

    def expr_Attribute(self, e: ast.Attribute) -> Any:
        base = self.expr(e.value)
        return self.attribute(base, e.attr, e)

    def attribute(self, base: Any, attr: str, e: ast.AST) -> Any:
        if is_atom(base):
            h = library.ATTRIBUTES.get(attr)
            if h is not None:
                out = h(base)
                if attr == "T":
                    self.note_view(out, base, lambda b: h(b), lambda b, v: h(v))
                return out
            m = library.METHODS.get(attr)
            if m is not None:
                return BoundMethod(base, attr, m)
            self.error(f"arrays have no attribute or method {attr!r} in morphism", e,
                       hint="see the README's table of supported NumPy API")
        if isinstance(base, (ListVal, EmptyList)) or (isinstance(base, list)):
            if attr in ("append", "extend"):
                self.error(f"list.{attr}() is supported as a statement on a named list: lst.{attr}(v)", e)
            if isinstance(base, ListVal) and attr in library.METHODS:
                return BoundMethod(library.to_atom(base), attr, library.METHODS[attr])
            self.error(f"lists have no method {attr!r} in morphism", e)
        if isinstance(base, dict) and attr in ("keys", "values", "items"):
            return BoundMethod(base, attr, _DICT_METHODS[attr])
        if isinstance(base, RangeVal) and attr in ("start", "stop", "step"):
            return getattr(base, attr)
        try:
            value = getattr(base, attr)
        except AttributeError:
            self.error(f"{describe(base)} has no attribute {attr!r}", e, cls=MorphismTypeError)
        if isinstance(base, types.ModuleType) or isinstance(base, type):
            return self.convert_py(value, attr)
        if flatten(value)[0] or isinstance(value, types.MethodType):
            return value  # a field of a record built here, or a method (made anew at each read)
        # an attribute of a Python object (a global model, `self` in its method): a constant
        # read at compile time, like a global; the call is traced again when it changes
        self.comp.note_captured(_AttrCell(base, attr, value), attr, value)
        return self.convert_py(value, attr)

    def expr_Subscript(self, e: ast.Subscript) -> Any:
        base = self.expr(e.value)
        return self.subscript_value(base, e.slice, e)

    def subscript_value(self, base: Any, sl: ast.expr, e: ast.AST) -> Any:
        if is_atom(base):
            if isinstance(base.type, Scalar):
                self.error(f"cannot index a scalar of type {base.type}", e, cls=MorphismTypeError)
            spec, ops = self.index_spec(sl, base)
            out = I.getitem(base, *ops, spec=spec)
            if not any(s in ("a", "m") for s in spec):
                self.note_view(out, base, lambda b, ops=ops, spec=spec: I.getitem(b, *ops, spec=spec),
                               lambda b, v, ops=ops, spec=spec: I.setitem(b, v, *ops, spec=spec))
            return out
        if not isinstance(base, (dict, tuple, list)):
            getitem = library.lookup(getattr(base, "__getitem__", None))
            if getitem is not None:  # a library object indexed with [...]: np.mgrid[0:3, 0:4]
                return getitem(self.expr(sl))
        if isinstance(base, (tuple, list)):
            k = self.expr(sl)
            if isinstance(k, Lit) and not k.type.dtype.is_inexact and isinstance(k.type, Scalar):
                try:
                    return base[k.value]
                except IndexError:
                    self.error(f"index {k.value} is out of range for {describe(base)}", e, cls=MorphismTypeError)
            if isinstance(k, slice):
                if not all(p is None or isinstance(p, int) for p in (k.start, k.stop, k.step)):
                    self.error(f"a slice of {describe(base)} needs bounds known at compile time", sl,
                               cls=MorphismTypeError, hint="a record's length is fixed when the function is "
                                                           "compiled; use an array for run-time slicing")
                return base[k]
            if is_atom(k) and all(is_atom(x) for x in base) and len(base) > 0:
                # A run-time index into a record of same-typed values: make an array.
                return I.getitem(library.to_atom(base), k, spec=("i",))
            self.error("tuples and fixed-length lists are indexed by constants (or hold numbers)", sl,
                       cls=MorphismTypeError)
        if isinstance(base, dict):
            key = self.static_key(sl)
            if key not in base:
                self.error(f"key {key!r} is not in the dict", e, cls=MorphismTypeError)
            return base[key]
        if isinstance(base, ListVal):
            if isinstance(sl, ast.Slice):
                # A slice of a list is a new list.
                arr = library.to_atom(base)
                spec, ops = self.index_spec(sl, arr)
                part = I.getitem(arr, *ops, spec=spec)
                return ListVal(part, I.dim(part, axis=0))
            idx = library.to_atom(self.expr(sl))
            return I.getitem(base.buf, self.wrap_negative(idx, base.n), spec=("i",))
        if isinstance(base, RangeVal):
            return self.index_value(base, self.expr(sl), e)
        self.error(f"cannot index {describe(base)}", e, cls=MorphismTypeError)

    def index_value(self, base: Any, k: Any, node: ast.AST) -> Any:
        if is_atom(base):
            return I.getitem(base, library.to_atom(k), spec=("i",))
        if isinstance(base, ListVal):
            return I.getitem(base.buf, self.wrap_negative(library.to_atom(k), base.n), spec=("i",))
        if isinstance(base, RangeVal):
            return E.add(base.start, E.mul(library.to_atom(k), base.step))
        self.error(f"cannot index {describe(base)}", node)

    def index_spec(self, sl: ast.expr, base: Atom) -> tuple[tuple[str, ...], list[Atom]]:
        items = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        values = [(it, self.expr(it)) for it in items]
        if len(values) == 1 and type(values[0][1]) is tuple:
            values = [(sl, v) for v in values[0][1]]  # `idx = (slice(None), 0); x[idx]`: a multi-index
        spec: list[str] = []
        ops: list[Atom] = []
        for it, v in values:
            if isinstance(v, slice):
                flags = "s"
                for part in (v.start, v.stop, v.step):
                    if part is None:
                        flags += "0"
                        continue
                    a = library.to_atom(part, "slice bound")
                    if not isinstance(a.type, Scalar) or a.type.dtype.is_inexact:
                        self.error(f"slice indices must be integers, found {a.type}", it, cls=MorphismTypeError)
                    flags += "1"
                    ops.append(a)
                spec.append(flags)
                continue
            if v is None:
                spec.append("n")
            elif v is Ellipsis:
                spec.append("e")
            elif isinstance(v, ListVal) or isinstance(v, (list, tuple)):
                a = library.to_atom(v, "index")
                spec.append("m" if a.type.dtype == DType.bool else "a")
                ops.append(a)
            elif is_atom(v):
                if v.type.dtype.is_inexact:
                    self.error(f"an index must be an integer, found {v.type}", it, cls=MorphismTypeError,
                               hint="convert it with int(...)")
                if isinstance(v.type, Scalar) and v.type.dtype == DType.bool:
                    spec.append("m")
                elif isinstance(v.type, Scalar):
                    spec.append("i")
                else:
                    spec.append("m" if v.type.dtype == DType.bool else "a")
                ops.append(v)
            else:
                self.error(f"cannot index with {describe(v)}", it, cls=MorphismTypeError)
        return tuple(spec), ops

    def expr_Slice(self, e: ast.Slice) -> slice:
        """A slice object; its bounds are Python ints where known at compile time, so it also
        slices records (`t[1:]`, `x.shape[:2]`)."""
        parts = []
        for part in (e.lower, e.upper, e.step):
            v = None if part is None else self.expr(part)
            if isinstance(v, Lit) and isinstance(v.type, Scalar) and not v.type.dtype.is_inexact:
                v = int(v.value)
            parts.append(v)
        return slice(*parts)

    def expr_BinOp(self, e: ast.BinOp) -> Any:
        return self.binop(e.op, self.expr(e.left), self.expr(e.right), e)

    def binop(self, op: ast.operator, a: Any, b: Any, node: ast.AST) -> Any:
        if isinstance(op, ast.MatMult):
            from ..primitives.linalg import matmul_values

            return matmul_values(library.to_atom(a), library.to_atom(b))
        if isinstance(a, tuple) and isinstance(b, tuple) and isinstance(op, ast.Add):
            return a + b
        if isinstance(a, list) and isinstance(b, list) and isinstance(op, ast.Add):
            return a + b
        if isinstance(a, (tuple, list)) and isinstance(b, Lit) and isinstance(op, ast.Mult):
            return a * int(b.value)
        if isinstance(a, str) or isinstance(b, str):
            if isinstance(a, str) and isinstance(b, str) and isinstance(op, ast.Add):
                return a + b
            self.error("string operations are not supported on run-time values", node)
        prim = _BINOPS.get(type(op))
        x, y = self.operand(a, node), self.operand(b, node)
        if isinstance(op, ast.Pow) and not x.type.dtype.is_inexact and not y.type.dtype.is_inexact:
            if isinstance(y, Lit) and y.value < 0:
                x = library.to_float(x)
            elif not isinstance(y, Lit) and isinstance(x.type, Scalar) and isinstance(y.type, Scalar):
                C.check(E.ge(y, 0), exc=ValueError,
                        message="integer to a negative integer power: make the base a float")
        if isinstance(op, (ast.FloorDiv, ast.Mod)) and not x.type.dtype.is_inexact and not y.type.dtype.is_inexact:
            if is_value(y, 0):
                self.error("integer division or modulo by zero", node, cls=MorphismTypeError)
        r = prim(*library.nep50(x, y))
        return library.weak(r) if library.is_weak(x) and library.is_weak(y) else r

    def operand(self, v: Any, node: ast.AST) -> Atom:
        if is_atom(v):
            return v
        if isinstance(v, (ListVal,)):
            return library.to_atom(v)
        if isinstance(v, (list, tuple)):
            self.error(f"arithmetic on {describe(v)}: records are not arrays", node, cls=MorphismTypeError,
                       hint="wrap it with np.array(...) to compute with it")
        self.error(f"arithmetic on {describe(v)} is not supported", node, cls=MorphismTypeError)

    def expr_UnaryOp(self, e: ast.UnaryOp) -> Any:
        v = self.expr(e.operand)
        if isinstance(e.op, ast.Not):
            t = self.truth(v, e.operand)
            return lit(not t.value) if isinstance(t, Lit) else E.logical_not(t)
        x = self.operand(v, e)
        if isinstance(e.op, ast.USub):
            if isinstance(x, Lit) and isinstance(x.type, Scalar):
                return lit(-x.value if x.type.dtype != DType.bool else -int(x.value))
            return E.neg(x)
        if isinstance(e.op, ast.UAdd):
            return x
        if isinstance(e.op, ast.Invert):
            return E.invert(x)
        self.error(f"unary operator {type(e.op).__name__}", e)

    def expr_Compare(self, e: ast.Compare) -> Any:
        left = self.expr(e.left)
        result = None
        for op, right_node in zip(e.ops, e.comparators):
            right = self.expr(right_node)
            c = self.compare(op, left, right, e)
            result = c if result is None else _and(result, c)
            left = right
        return result

    def compare(self, op: ast.cmpop, a: Any, b: Any, node: ast.AST) -> Any:
        if isinstance(op, (ast.Is, ast.IsNot)):
            if is_atom(a) or is_atom(b):
                if a is None or b is None:
                    return lit(isinstance(op, ast.IsNot))
                self.error("'is' compares compile-time objects only", node)
            same = a is b
            return lit(same if isinstance(op, ast.Is) else not same)
        if isinstance(op, (ast.In, ast.NotIn)):
            if isinstance(b, dict) and not is_atom(a):
                r = a in b
                return lit(r if isinstance(op, ast.In) else not r)
            self.error("'in' is supported for constant keys of dicts only", node)
        if not is_atom(a) or not is_atom(b):
            if isinstance(op, (ast.Eq, ast.NotEq)) and not is_atom(a) and not is_atom(b):
                r = a == b
                return lit(bool(r) if isinstance(op, ast.Eq) else not bool(r))
        x, y = self.operand(a, node), self.operand(b, node)
        if isinstance(x, Lit) and isinstance(y, Lit) and isinstance(x.type, Scalar) and isinstance(y.type, Scalar):
            # known at compile time (`x.ndim > 2`, `len(x.shape) == 2`): folded, so that an `if`
            # on it lowers only the branch taken, whose types may not fit the other one
            return lit(bool(_PY_CMP[type(op)](x.value, y.value)))
        return _CMPOPS[type(op)](*library.nep50(x, y, compare=True))

    def expr_BoolOp(self, e: ast.BoolOp) -> Any:
        """`a and b` / `a or b`, short-circuit: `b` is computed only when needed."""
        is_and = isinstance(e.op, ast.And)
        v = self.expr(e.values[0])
        for node in e.values[1:]:
            t = self.truth(v, e.values[0])
            if isinstance(t, Lit):
                if t.value != is_and:
                    continue  # the result is v
                v = self.expr(node)
                continue
            bool_operand = is_atom(v) and isinstance(v.type, Scalar) and v.type.dtype == DType.bool
            if bool_operand and _is_pure(node):
                w = self.expr(node)
                if is_atom(w) and isinstance(w.type, Scalar) and w.type.dtype == DType.bool:
                    v = E.logical_and(v, w) if is_and else E.logical_or(v, w)
                    continue
            prev = v
            tb, eb = Builder(current().loc), Builder(current().loc)
            with building(tb if is_and else eb):
                w = self.expr(node)
            sides = [(tb, w), (eb, prev)] if is_and else [(tb, prev), (eb, w)]
            v = self.emit_cond(t, sides, e, None)
        return v

    def expr_IfExp(self, e: ast.IfExp) -> Any:
        t = self.truth(self.expr(e.test), e.test)
        if isinstance(t, Lit):
            return self.expr(e.body if t.value else e.orelse)
        if _is_pure(e.body) and _is_pure(e.orelse):
            a, b = self.expr(e.body), self.expr(e.orelse)
            if is_atom(a) and is_atom(b) and isinstance(a.type, Scalar) and isinstance(b.type, Scalar):
                return E.select(t, a, b)
        sides = []
        for n in (e.body, e.orelse):
            bb = Builder(current().loc)
            with building(bb):
                sides.append((bb, self.expr(n)))
        return self.emit_cond(t, sides, e, None)

    def truth(self, v: Any, node: ast.AST) -> Atom:
        """Python truthiness as a boolean scalar."""
        if is_atom(v):
            if isinstance(v.type, Array):
                self.error("the truth value of an array is ambiguous", node, cls=MorphismTypeError,
                           hint="use a.any() or a.all()")
            if isinstance(v, Lit):
                return lit(bool(v.value))
            if v.type.dtype == DType.bool:
                return v
            return E.ne(v, 0)
        if isinstance(v, ListVal):
            return E.gt(v.n, 0)
        if isinstance(v, EmptyList):
            return lit(False)
        if isinstance(v, Undef):
            self.error(f"name {v.name!r} {v.reason}", node, cls=UndefinedVariableError)
        if isinstance(v, (tuple, list, dict, str)):
            return lit(bool(v))
        if v is None:
            return lit(False)
        return lit(bool(v))

    def expr_Lambda(self, e: ast.Lambda) -> Any:
        return self.local_function(e, "<lambda>")

    def local_function(self, node: ast.FunctionDef | ast.Lambda, name: str) -> LocalFunction:
        a = node.args
        defaults = tuple(self.expr(d) for d in a.defaults)
        kw_defaults = {arg.arg: self.expr(d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None}
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            self.error("decorators on functions defined inside a compiled function are not supported", node)
        return LocalFunction(node, self, defaults, kw_defaults, name)

    def expr_ListComp(self, e: ast.ListComp) -> Any:
        return self.comprehension(e)

    def expr_GeneratorExp(self, e: ast.GeneratorExp) -> Any:
        return self.comprehension(e)

    def comprehension(self, e: ast.ListComp | ast.GeneratorExp) -> Any:
        """`[f(x) for x in xs if p(x)]` as a loop that appends. Over records (tuples, dicts,
        fixed lists) with conditions known at compile time it unrolls into a list record, whose
        items may differ in type; a generator is consumed at once, like such a list."""
        items = self.static_comprehension(e.elt, e.generators, e)
        if items is not None:
            return items
        saved = dict(self.env)
        tmp = f"__comp{id(e)}"
        body: ast.stmt = ast.Expr(ast.Call(ast.Attribute(ast.Name(tmp, ast.Load()), "append", ast.Load()), [e.elt], []))
        gens = list(e.generators)
        for g in reversed(gens):
            if g.is_async:
                self.error("async comprehensions are not supported", e)
            for cond in reversed(g.ifs):
                body = ast.If(cond, [body], [])
            body = ast.For(g.target, g.iter, [body], [])
        for n in ast.walk(body):
            if not hasattr(n, "lineno") or n.lineno is None:
                ast.copy_location(n, e)
            if not hasattr(n, "end_lineno") or n.end_lineno is None:
                n.end_lineno, n.end_col_offset = e.end_lineno, e.end_col_offset
        # The hidden list is read after the loop: make sure the carry analysis sees it as defined.
        self.env[tmp] = EmptyList()
        self.stmts([body])
        result = self.env[tmp]
        self.env = saved  # a comprehension has its own scope: its names do not leak
        return result

    def static_comprehension(self, elt: ast.expr, gens: list[ast.comprehension], node: ast.AST) -> list | None:
        """The values of `elt` over generators whose items are known at compile time, or None
        (then nothing it emitted is kept)."""
        saved, b = dict(self.env), current()
        mark = len(b.eqns)
        out: list[Any] = []
        try:
            ok = self._static_generators(elt, gens, out, node)
        finally:
            self.env = saved  # a comprehension has its own scope
        if not ok:
            del b.eqns[mark:]
            return None
        return out

    def _static_generators(self, elt: ast.expr, gens: list[ast.comprehension], out: list, node: ast.AST) -> bool:
        if not gens:
            out.append(self.expr(elt))
            return True
        g = gens[0]
        if g.is_async:
            self.error("async comprehensions are not supported", node)
        items = self.static_items(self.expr(g.iter))
        if items is None:
            return False
        for item in items:
            self.assign(g.target, item)
            tests = [self.truth(self.expr(c), c) for c in g.ifs]
            if not all(isinstance(t, Lit) for t in tests):
                return False
            if all(t.value for t in tests) and not self._static_generators(elt, gens[1:], out, node):
                return False
        return True

    def map_call(self, fn: Any, iterables: list[Any], node: ast.AST) -> Any:
        """`map(f, xs, ...)`, consumed at once: unrolled over records, else a comprehension."""
        if not iterables:
            self.error("map() must have at least two arguments", node, cls=MorphismTypeError)
        parts = [self.static_items(x) for x in iterables]
        if all(p is not None for p in parts):
            return [self.call(fn, list(args), {}, node) for args in zip(*parts)]
        names = [f"\0map{k}" for k in range(len(iterables))]
        saved = dict(self.env)
        self.env["\0map_f"] = fn
        self.env.update(zip(names, iterables))
        load = lambda n: ast.Name(n, ast.Load())  # noqa: E731
        target = ast.Tuple([ast.Name(n + "_", ast.Store()) for n in names], ast.Store())
        source = ast.Call(load("zip"), [load(n) for n in names], []) if len(names) > 1 else load(names[0])
        comp = ast.ListComp(ast.Call(load("\0map_f"), [load(n + "_") for n in names], []),
                            [ast.comprehension(target if len(names) > 1 else target.elts[0], source, [], 0)])
        for n in ast.walk(comp):
            ast.copy_location(n, node)
            n.end_lineno, n.end_col_offset = node.end_lineno, node.end_col_offset
        try:
            return self.comprehension(comp)
        finally:
            self.env = saved

    # ---- calls --------------------------------------------------------------------------------

    def expr_Call(self, e: ast.Call) -> Any:
        fn = self.expr(e.func)
        args: list[Any] = []
        for a in e.args:
            if isinstance(a, ast.Starred):
                v = self.expr(a.value)
                if not isinstance(v, (tuple, list)):
                    self.error("*args must be a tuple or list record", a)
                args.extend(v)
            else:
                args.append(self.expr(a))
        kwargs: dict[str, Any] = {}
        for k in e.keywords:
            if k.arg is None:
                v = self.expr(k.value)
                if not isinstance(v, dict):
                    self.error("**kwargs must be a dict record", k)
                kwargs.update(v)
            else:
                kwargs[k.arg] = self.expr(k.value)
        return self.call(fn, args, kwargs, e)

    def call(self, fn: Any, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        if isinstance(fn, BoundMethod):
            return fn.fn(fn.obj, *args, **kwargs)
        if isinstance(fn, LocalFunction):
            return self.call_local(fn, args, kwargs, node)
        if isinstance(fn, Partial):
            return self.call(fn.fn, [*fn.args, *args], {**fn.kwargs, **kwargs}, node)
        if isinstance(fn, functools.partial):  # made outside: its arguments are constants
            return self.call(self.convert_py(fn.func), [*(self.convert_py(a) for a in fn.args), *args],
                             {**{k: self.convert_py(v) for k, v in fn.keywords.items()}, **kwargs}, node)
        if fn is functools.partial:
            if not args:
                self.error("functools.partial() takes a function", node, cls=MorphismTypeError)
            return Partial(args[0], tuple(args[1:]), kwargs)
        if fn is builtins.map:
            if kwargs:
                self.error("map() takes no keyword arguments", node, cls=MorphismTypeError)
            return self.map_call(args[0] if args else None, args[1:], node)
        handler = library.lookup(fn)
        if handler is not None:
            return library.call(self, fn, handler, args, kwargs, node)
        if getattr(fn, "__morphism_custom__", None) is not None:
            return fn.__morphism_custom__(self, args, kwargs, node)
        if getattr(fn, "__morphism_wrapped__", None) is not None:
            return self.call(fn.__morphism_wrapped__, args, kwargs, node)
        if isinstance(fn, types.FunctionType) and _is_user_code(fn):
            return self.call_user(fn, args, kwargs, node)
        if isinstance(fn, type) and (issubclass(fn, tuple) and hasattr(fn, "_fields") or dataclasses.is_dataclass(fn)):
            try:
                return fn(*args, **kwargs)
            except TypeError as err:
                self.error(f"constructing {fn.__name__}: {err}", node, cls=MorphismTypeError)
        if isinstance(fn, type) and issubclass(fn, BaseException):
            self.error("exceptions can only be raised, with a constant message", node)
        if isinstance(fn, types.MethodType) and isinstance(fn.__func__, types.FunctionType) and _is_user_code(fn.__func__):
            return self.call_user(fn.__func__, [fn.__self__, *args], kwargs, node)
        name = library.qualname(fn)
        if isinstance(fn, (np.ufunc, types.BuiltinFunctionType)) or name.startswith(("numpy", "math", "scipy")) or callable(fn):
            self.error(f"morphism does not support {name} yet", node,
                       hint="see docs/numpy_api.md for the supported API; to call any other Python code, use "
                            "mo.pure_callback(fn, mo.ShapeDtypeStruct(shape, dtype), *args) (inside a function "
                            "decorated with mo.custom_vjp for derivatives), or run it outside the compiled function")
        self.error(f"{describe(fn)} is not callable", node, cls=MorphismTypeError)

    def call_user(self, fn: types.FunctionType, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        try:
            sig = inspect.signature(fn)
            bound = sig.bind(*args, **kwargs)
        except TypeError as err:
            self.error(f"calling {fn.__qualname__}: {err}", node, cls=MorphismTypeError)
        bound.apply_defaults()
        src = get_source(fn)
        closure = _closure_of(fn)
        arguments = {k: self.convert_py(v, k) for k, v in bound.arguments.items()}
        return self.inline(fn.__code__, src, fn.__globals__, closure, arguments, None, fn, node)

    def call_local(self, lf: LocalFunction, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        sig = _signature_of_ast(lf)
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as err:
            self.error(f"calling {lf.name}: {err}", node, cls=MorphismTypeError)
        bound.apply_defaults()
        src = Source(lf.node, self.source.file, lf.name)
        return self.inline(lf.node, src, lf.frame.globals, {}, bound.arguments, lf.frame, None, node)

    def inline(self, key_obj: Any, src: Source, globals_: dict, closure: dict, arguments: dict,
               outer: "Frame | None", pyfunc: Any, node: ast.AST) -> Any:
        leaves, tree = flatten(tuple(arguments.values()))
        sig = (tree, tuple(a.type for a in leaves))
        key = (key_obj, sig)
        if key in self.comp.recursive:
            return self.emit_call(self.comp.recursive[key], leaves, node)
        if key in self.comp.active:
            raise _Recursion(key)
        self.comp.active.append(key)
        builder = current()
        mark = len(builder.eqns)
        try:
            try:
                value, writes = self._inline_body(src, globals_, closure, arguments, outer, pyfunc)
                self.apply_writes(writes)
                return value
            except _Recursion as r:
                if r.key != key:
                    raise
                del builder.eqns[mark:]
        finally:
            self.comp.active.remove(key)
        ref = self.compile_recursive(key, src, globals_, closure, tuple(arguments), tree, leaves, outer, pyfunc)
        return self.emit_call(ref, leaves, node)

    def apply_writes(self, writes: list[tuple[Atom, Atom, Loc | None]]) -> None:
        """The callee wrote into arrays this frame passed it: the same write happens here."""
        self.last_writes = writes  # (the root frame's: the compiled function's own arguments)
        for old, new, _ in writes:
            self.write(old, new)

    def _inline_body(self, src: Source, globals_: dict, closure: dict, arguments: dict, outer: "Frame | None",
                     pyfunc: Any) -> tuple[Any, list[tuple[Atom, Atom, Loc | None]]]:
        """The callee's value, and its writes into the arrays it was given."""
        frame = Frame(self.comp, src, globals_, closure, outer, pyfunc, caller=self)
        frame.env.update(arguments)
        frame.track_arguments(arguments)
        body = src.node.body
        if isinstance(src.node, ast.Lambda):
            with frame.at(src.node):
                value = frame.expr(body)
            return value, frame.tracked_writes(frame.tracked_values())
        packed = frame.exec_body(body, FuncCtx())
        if packed is DEAD:
            # Every path raises: the call's value is never used.
            return None, []
        value, finals = packed
        return value, frame.tracked_writes(finals)

    def emit_call(self, ref: FuncRef, leaves: list[Atom], node: ast.AST) -> Any:
        args = [library.cast(a, t.dtype) for a, t in zip(leaves, ref.in_types)]
        outs = C.call(*args, func=ref)
        return unflatten(ref.out_tree, list(outs))

    def compile_recursive(self, key, src: Source, globals_: dict, closure: dict, names: tuple, tree: Any,
                          leaves: list[Atom], outer: "Frame | None", pyfunc: Any) -> FuncRef:
        """A recursive function as its own Func. Its result type is found by iteration from a
        guess (an integer scalar), widening until the body's result matches the guess."""
        out_tree, out_types = ("leaf",), (Scalar(DType.int64),)
        in_types = tuple(a.type for a in leaves)
        for attempt in range(MAX_WIDEN):
            ref = FuncRef(src.name, in_types, out_types)
            ref.out_tree = out_tree
            self.comp.recursive[key] = ref
            params = [Var(t, _hint_of(a)) for t, a in zip(in_types, leaves)]
            values = unflatten(tree, params)
            b = Builder(current().loc)
            try:
                with building(b):
                    result, writes = self._inline_body(src, globals_, closure, dict(zip(names, values)), outer, pyfunc)
            finally:
                del self.comp.recursive[key]
            if writes:
                raise UnsupportedSyntaxError(
                    f"the recursive function {src.name} writes into an array it was given: not supported yet",
                    writes[0][2] or src.loc(src.node), hint="return the new array instead, or copy it first")
            res_leaves, res_tree = flatten(result)
            res_types = tuple(a.type for a in res_leaves)
            if res_tree == out_tree and res_types == out_types:
                ref.func = Func(src.name, b.block(params, res_leaves), loc=src.loc(src.node))
                self.comp.recursive[key] = ref
                return ref
            if res_tree == out_tree and all(a.ndim == b.ndim for a, b in zip(res_types, out_types)):
                out_types = tuple(make_type(promote(a.dtype, b.dtype), a.ndim) for a, b in zip(res_types, out_types))
            else:
                out_tree, out_types = res_tree, res_types
        raise UnsupportedSyntaxError(f"cannot find the result type of the recursive function {src.name}",
                                     src.loc(src.node), hint="make every return of the function give the same kind of value")


# ============================================================================================
# Helpers


class _At:
    def __init__(self, frame: Frame, node: ast.AST) -> None:
        self.frame, self.node = frame, node

    def __enter__(self) -> None:
        b = current()
        self.saved = (b.loc, self.frame.cur_node)
        if getattr(self.node, "lineno", None):
            b.loc = self.frame.loc(self.node)
            self.frame.cur_node = self.node

    def __exit__(self, *exc: Any) -> None:
        b = current()
        b.loc, self.frame.cur_node = self.saved


class _AttrCell:
    """`obj.attr` seen as a closure cell, so that the check that a compiled function is still
    fresh (`Lowered.fresh`: the captured value is the current one) covers object attributes.
    The trace cache does not fingerprint them, so such calls are not stored on disk."""

    def __init__(self, obj: Any, attr: str, value: Any) -> None:
        self.obj, self.attr, self.value = obj, attr, value

    @property
    def cell_contents(self) -> Any:
        try:
            cur = getattr(self.obj, self.attr)
        except Exception:
            raise ValueError(self.attr) from None
        # equal immutable constants count as unchanged (a property may build a new tuple each time)
        if cur is not self.value and type(cur) is type(self.value) and isinstance(cur, (int, float, str, bool, tuple)):
            try:
                if bool(cur == self.value):
                    return self.value
            except Exception:
                pass
        return cur


class _Slot:
    def __init__(self, t: Type) -> None:
        self.type = t


def _shown(name: str) -> str:
    return "an argument" if name.startswith(_TRACKED) else repr(name)


def _firsts(seq: list, where: list[int]) -> list:
    """The entries of `seq` that are no other entry's copy (see Frame.shared_leaves)."""
    return [x for i, x in enumerate(seq) if where[i] == i]


def _spread(firsts: list, where: list[int]) -> list:
    """The inverse of `_firsts`: an entry for every position, copies shared."""
    pos = {i: k for k, i in enumerate(i for i, j in enumerate(where) if i == j)}
    return [firsts[pos[j]] for j in where]


def _weak_like(params: list[Var], leaves: list[Atom]) -> list[Var]:
    """Loop-carried values that start as Python numbers stay weak (NEP 50) while they are."""
    for p, a in zip(params, leaves):
        if library.is_weak(a):
            library.weak(p)
    return params


def _holds(v: Any, x: Any) -> bool:
    """Whether `v` is `x` or a record holding it."""
    return _replace_in(v, x, _Slot(None)) is not v


def _replace_in(v: Any, old: Any, new: Any) -> Any:
    """`v` with `old` replaced by `new` wherever a record holds it (`v` itself if it holds none):
    a tuple, list, dict or dataclass that holds an array sees writes into it, as in Python."""
    if v is old:
        return new
    if isinstance(v, (Var, Lit)):
        return v
    if isinstance(v, (tuple, list)):
        items = [_replace_in(x, old, new) for x in v]
        if all(a is b for a, b in zip(items, v)):
            return v
        if isinstance(v, list):
            return items
        return type(v)(*items) if hasattr(v, "_fields") else tuple(items)
    if isinstance(v, dict):
        vals = {k: _replace_in(x, old, new) for k, x in v.items()}
        return v if all(vals[k] is v[k] for k in v) else vals
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        fields = [f.name for f in dataclasses.fields(v)]
        vals = {n: _replace_in(getattr(v, n), old, new) for n in fields}
        if all(vals[n] is getattr(v, n) for n in fields):
            return v
        obj = object.__new__(type(v))
        for n, x in vals.items():
            object.__setattr__(obj, n, x)
        return obj
    return v


def _zero_of(t: Type) -> Lit:
    if isinstance(t, Scalar):
        return lit(0, t.dtype)
    return lit(np.zeros((0,) * t.ndim, dtype=t.dtype.np))


def _rename(outs: Any, *sources: list[Atom]) -> None:
    """Give cond/loop outputs the Python names of the values they replace."""
    for k, o in enumerate(outs):
        if o.hint:
            continue
        hints = {src[k].hint for src in sources if k < len(src) and isinstance(src[k], Var) and src[k].hint}
        if len(hints) == 1:
            object.__setattr__(o, "hint", hints.pop())


def _name_vars(v: Any, name: str) -> None:
    """Gives unnamed Vars in `v` the Python name they are bound to (for the printer)."""
    if isinstance(v, Var):
        if not v.hint:
            object.__setattr__(v, "hint", name)
    elif isinstance(v, ListVal):
        _name_vars(v.buf, name)
        _name_vars(v.n, f"{name}_len")
    elif isinstance(v, (tuple, list)):
        for k, x in enumerate(v):
            _name_vars(x, f"{name}_{k}")
    elif isinstance(v, dict):
        for k, x in v.items():
            _name_vars(x, f"{name}_{k}")


def _hint_of(a: Atom) -> str:
    return a.hint if isinstance(a, Var) else ""


def _target_hint(t: ast.expr) -> str:
    return t.id if isinstance(t, ast.Name) else "i"


def _sub(name: Any, k: Any) -> Any:
    if isinstance(name, list) and isinstance(k, int) and k < len(name):
        return name[k]
    if isinstance(name, str):
        return f"{name}[{k!r}]"
    return None


def _same_const(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is type(b) and isinstance(a, (str, int, float, bool, type(None), slice)):
        return a == b
    return False


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _and(a: Atom, b: Atom) -> Atom:
    if isinstance(a, Lit) and isinstance(b, Lit):
        return lit(bool(a.value) and bool(b.value))
    return E.logical_and(a, b)


def _is_pure(node: ast.AST) -> bool:
    """Expressions that cannot raise or have effects, so both sides may be computed."""
    for n in ast.walk(node):
        if isinstance(n, (ast.Call, ast.Subscript, ast.Lambda, ast.ListComp, ast.GeneratorExp, ast.Attribute)):
            if isinstance(n, ast.Attribute) and n.attr in ("shape", "size", "ndim"):
                continue
            return False
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)):
            return False
    return True


def _closure_of(fn: types.FunctionType) -> dict[str, Any]:
    """name -> cell; contents are read when the name is looked up (and noted for the cache)."""
    return dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))


def _signature_of_ast(lf: LocalFunction) -> inspect.Signature:
    a = lf.node.args
    params = []
    P = inspect.Parameter
    pos = a.posonlyargs + a.args
    n_def = len(lf.defaults)
    for i, arg in enumerate(pos):
        kind = P.POSITIONAL_ONLY if i < len(a.posonlyargs) else P.POSITIONAL_OR_KEYWORD
        d = lf.defaults[i - (len(pos) - n_def)] if i >= len(pos) - n_def else P.empty
        params.append(P(arg.arg, kind, default=d))
    if a.vararg:
        params.append(P(a.vararg.arg, P.VAR_POSITIONAL))
    for arg in a.kwonlyargs:
        params.append(P(arg.arg, P.KEYWORD_ONLY, default=lf.kw_defaults.get(arg.arg, P.empty)))
    if a.kwarg:
        params.append(P(a.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(params)


def _qualname(fn: Any) -> str:
    mod = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    if isinstance(fn, np.ufunc):
        return f"numpy.{fn.__name__}"
    return f"{mod}.{name}" if mod and mod != "builtins" else name


def _copy_record(obj: Any) -> Any:
    new = object.__new__(type(obj))
    for f in dataclasses.fields(obj):
        object.__setattr__(new, f.name, getattr(obj, f.name))
    return new


class _FmtValue:
    def __init__(self, v: Any) -> None:
        self.v = v


@dataclass(frozen=True)
class _FString:
    parts: tuple


_DICT_METHODS = {
    "keys": lambda d: tuple(d.keys()),
    "values": lambda d: tuple(d.values()),
    "items": lambda d: tuple(d.items()),
}


# ============================================================================================
# Entry point


def lower_function(fn: Callable, arg_values: tuple, kwarg_values: dict | None = None) -> tuple[Any, Compilation]:
    """Lowers `fn` applied to frontend values (params are Vars) in the active builder; returns
    the frontend value of the result."""
    library._register_families()
    comp = Compilation()
    src = get_source(fn)
    root = Frame(comp, src, fn.__globals__, _closure_of(fn), None, fn)
    try:
        sig = inspect.signature(fn)
        bound = sig.bind(*arg_values, **(kwarg_values or {}))
    except TypeError as err:
        raise MorphismTypeError(f"calling {fn.__qualname__}: {err}", src.loc(src.node)) from None
    bound.apply_defaults()
    arguments = {k: root.convert_py(v, k) for k, v in bound.arguments.items()}
    with root.at(src.node):
        result = root.inline(fn.__code__, src, fn.__globals__, _closure_of(fn), arguments, None, fn, src.node)
    comp.writes = root.last_writes
    return result, comp
