"""Closure conversion: a function defined inside compiled code, made a function the
transformations can take.

`mo.grad(lambda p: loss(p, data))(p0)` inside a compiled function transforms a `lambda` whose
free names (`data`) hold values of the enclosing function: IR atoms, not Python objects. A
`Closure` stands for such a function (a `lambda`, a local `def`, a `functools.partial` made
there) as a callable with one more keyword argument, `CAPTURED`: the Vars of the enclosing
function that it reads. Every transformation traces it like a module-level function and
treats `CAPTURED` as an input that is neither differentiated nor batched; inlining the result
passes the enclosing function's Vars back in, so a transformation of the enclosing function
differentiates (or batches) through them as through any other use.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
from typing import Any

from ..errors import MorphismTypeError, UnsupportedSyntaxError
from ..ir.core import Block, Var, free_vars
from ..ir.subst import substitute
from .values import BoundMethod, EnumerateVal, ListVal, LocalFunction, Partial, RangeVal, ZipVal

CAPTURED = "__captured__"  # the keyword argument holding the captured Vars


def is_local(fn: Any) -> bool:
    """Whether `fn` is a function value made inside compiled code (it may read its Vars)."""
    return isinstance(fn, (LocalFunction, Partial))


class Closure:
    """A function value of the compiled code, with the Vars it reads as the keyword argument
    `CAPTURED`. `frame` and `node` are the call site: where it is traced, for errors."""

    def __init__(self, fn: Any, frame: Any, node: ast.AST):
        self.fn, self.frame, self.node = fn, frame, node
        found: dict[Var, None] = {}
        _captured_vars(fn, found, set())
        self.captured = tuple(found)
        params = list(_signature(fn).parameters.values())
        at = len(params) - (bool(params) and params[-1].kind == inspect.Parameter.VAR_KEYWORD)  # before **kwargs
        params.insert(at, inspect.Parameter(CAPTURED, inspect.Parameter.KEYWORD_ONLY))
        self.__signature__ = inspect.Signature(params)
        name = _name(fn)
        self.__name__ = self.__qualname__ = name if name.isidentifier() else "lambda"
        self.__module__ = None
        self.loc = _def_loc(fn) or frame.loc(node)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise UnsupportedSyntaxError(f"{self.__name__} is defined inside a compiled function and runs only there",
                                     self.loc)

    def call(self, args: tuple, kwargs: dict) -> tuple[Any, list]:
        """Emits the function applied to `args` into the active builder (it reads the enclosing
        function's Vars directly); returns its value and its writes into its arguments."""
        before = [(f, dict(f.env)) for f in _frames(self.fn)]
        caller, saved = self.frame, self.frame.last_writes
        caller.last_writes = []
        try:
            result = caller.call(self.fn, list(args), kwargs, self.node)
            writes = caller.last_writes
        finally:
            caller.last_writes = saved
        for f, env in before:
            changed = sorted((k for k, v in f.env.items() if env.get(k, v) is not v), key=lambda k: k[:1] == "\0")
            if changed:  # its Vars would now be defined inside the transformed function
                f.env.update(env)
                raise UnsupportedSyntaxError(
                    f"{self.__name__} writes into {changed[0].lstrip(chr(0))!r} of the function that defines it, "
                    f"and is transformed here: not supported", self.frame.loc(self.node),
                    hint="write into a copy, or pass the array as an argument and return the new value")
        return result, writes

    def close(self, body: Block, stand_ins: list) -> Block:
        """`body` (traced by `call`) with the captured Vars replaced by the params standing for them."""
        body = substitute(body, dict(zip(self.captured, stand_ins)))
        if free_vars(body):  # a name rebound since the Closure was made: Vars it did not capture
            raise UnsupportedSyntaxError(f"{self.__name__} reads a value of the enclosing function that changed "
                                         f"after it was transformed: not supported", self.frame.loc(self.node),
                                         hint="transform it right where it is called")
        return body


def _captured_vars(fn: Any, found: dict[Var, None], seen: set[int]) -> None:
    """The Vars of enclosing functions that `fn` may read (a superset: every name it loads that
    an enclosing frame binds), recursively through the functions those names hold."""
    if id(fn) in seen:
        return
    seen.add(id(fn))
    if isinstance(fn, LocalFunction):
        _values_vars([*fn.defaults, *fn.kw_defaults.values()], found, seen)
        names = {n.id for n in ast.walk(fn.node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        frame = fn.frame
        while frame is not None:
            _values_vars([frame.env[n] for n in names if n in frame.env], found, seen)
            frame = frame.outer
    elif isinstance(fn, Partial):
        _values_vars([fn.fn, *fn.args, *fn.kwargs.values()], found, seen)


def _values_vars(values: list, found: dict[Var, None], seen: set[int]) -> None:
    for v in values:
        if isinstance(v, Var):
            found.setdefault(v)
        elif is_local(v):  # (before records: these are dataclasses too)
            _captured_vars(v, found, seen)
        elif isinstance(v, BoundMethod):
            _values_vars([v.obj], found, seen)
        elif isinstance(v, (ListVal, RangeVal, EnumerateVal, ZipVal)) or dataclasses.is_dataclass(v) and not isinstance(v, type):
            _values_vars([getattr(v, f.name) for f in dataclasses.fields(v)], found, seen)
        elif isinstance(v, (tuple, list)):
            _values_vars(list(v), found, seen)
        elif isinstance(v, dict):
            _values_vars(list(v.values()), found, seen)


def _frames(fn: Any) -> list:
    """The frames whose names `fn` reads (a write there from the traced body is refused)."""
    out = []
    if isinstance(fn, LocalFunction):
        f = fn.frame
        while f is not None:
            out.append(f)
            f = f.outer
    elif isinstance(fn, Partial):
        out = _frames(fn.fn)
    return out


def _signature(fn: Any) -> inspect.Signature:
    if isinstance(fn, LocalFunction):
        from .lower import _signature_of_ast

        return _signature_of_ast(fn)
    if isinstance(fn, Partial):
        base = _signature(fn.fn)

        class Stub:
            __signature__ = base

            def __call__(self, *a: Any, **k: Any) -> None: ...

        try:
            return inspect.signature(functools.partial(Stub(), *fn.args, **fn.kwargs))
        except (TypeError, ValueError) as e:
            raise MorphismTypeError(f"functools.partial({_name(fn.fn)}, ...): {e}", None) from None
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return inspect.Signature([inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL)])


def _name(fn: Any) -> str:
    if isinstance(fn, LocalFunction):
        return fn.name
    if isinstance(fn, Partial):
        return _name(fn.fn)
    return getattr(fn, "__name__", "f")


def _def_loc(fn: Any) -> Any:
    if isinstance(fn, LocalFunction):
        return fn.frame.loc(fn.node)
    if isinstance(fn, Partial):
        return _def_loc(fn.fn)
    return None
