"""Reading a Python function's source: its `ast` node, with the user's file and line numbers."""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass
from typing import Any

from ..errors import UnsupportedSyntaxError
from ..ir.core import Loc


@dataclass(frozen=True)
class Source:
    node: ast.FunctionDef | ast.Lambda
    file: str
    name: str
    text: str = ""  # the source lines the node was parsed from (the trace cache hashes them)

    def loc(self, node: ast.AST) -> Loc:
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", 0) if getattr(node, "end_lineno", None) == line else 0
        return Loc(self.file, line, col, self.name, end or 0)


_cache: dict[Any, Source] = {}


def get_source(fn: types.FunctionType) -> Source:
    code = fn.__code__
    key = code
    src = _cache.get(key)
    if src is None:
        src = _read(fn)
        _cache[key] = src
    return src


def _read(fn: types.FunctionType) -> Source:
    code = fn.__code__
    file = code.co_filename
    name = fn.__qualname__
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        raise UnsupportedSyntaxError(
            f"cannot read the source of {name!r}: morphism compiles Python source, and this function has none "
            f"(defined in {file!r})",
            Loc(file, code.co_firstlineno, 0, name),
            hint="define the function in a file (or a notebook cell), not with exec() or in the interactive prompt",
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = _common_indent(text)
    try:
        tree = ast.parse(dedented)
    except SyntaxError:
        # A lambda in the middle of an expression: parse from the lambda keyword on.
        tree = None
    node = None
    if tree is not None:
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == fn.__name__:
                node = n
                break
    if fn.__name__ == "<lambda>":
        node = _find_lambda(lines, first, code, dedented if tree is not None else None)
        indent = 0 if node is not None and getattr(node, "_morphism_abs", False) else indent
    if node is None:
        raise UnsupportedSyntaxError(
            f"cannot find the definition of {name!r} in its source", Loc(file, first, 0, name)
        )
    if isinstance(node, ast.AsyncFunctionDef):
        raise UnsupportedSyntaxError("async functions are not supported", Loc(file, first, 0, name))
    if not getattr(node, "_morphism_abs", False):
        ast.increment_lineno(node, first - 1)
        if indent:
            for n in ast.walk(node):
                if hasattr(n, "col_offset"):
                    n.col_offset += indent
                    if getattr(n, "end_col_offset", None) is not None:
                        n.end_col_offset += indent
    linecache.checkcache(file)
    return Source(node, file, name, text)


_LIBRARY_DIRS: tuple[str, ...] | None = None


def is_user_code(fn: types.FunctionType) -> bool:
    """User functions are compiled (inlined); functions of the standard library and installed
    packages are not: a call to one is an unsupported library call, reported at the call site."""
    return not in_library(getattr(fn, "__module__", "") or "", fn.__code__.co_filename)


def in_library(module: str, file: str) -> bool:
    """Code of NumPy, SciPy, Numba and morphism, of the standard library and of installed
    packages, by the module's name and file."""
    global _LIBRARY_DIRS
    if module.split(".")[0] in ("numpy", "scipy", "morphism", "numba"):
        return True
    import os

    if _LIBRARY_DIRS is None:
        import sysconfig

        paths = sysconfig.get_paths()
        dirs = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        dirs |= {os.path.dirname(os.__file__)}
        _LIBRARY_DIRS = tuple(os.path.realpath(d) + os.sep for d in dirs if d)
    return os.path.realpath(file).startswith(_LIBRARY_DIRS)


def _common_indent(text: str) -> int:
    widths = [len(l) - len(l.lstrip()) for l in text.splitlines() if l.strip()]
    return min(widths) if widths else 0


def _find_lambda(lines: list[str], first: int, code: types.CodeType, dedented: str | None) -> ast.Lambda | None:
    """The lambda whose code object is `code`, among the lambdas on its source lines."""
    text = "".join(lines)
    candidates: list[ast.Lambda] = []
    # Try to parse growing prefixes of the text as expressions starting at each 'lambda'.
    full_lines = text.splitlines(keepends=True)
    for li, line in enumerate(full_lines):
        start = 0
        while True:
            col = line.find("lambda", start)
            if col < 0:
                break
            start = col + 1
            rest = line[col:] + "".join(full_lines[li + 1 :])
            for end in range(len(rest), 0, -1):
                try:  # in parentheses: a lambda over several lines inside brackets parses too
                    expr = ast.parse("(" + rest[:end] + ")", mode="eval").body
                except SyntaxError:
                    continue
                if isinstance(expr, ast.Lambda):
                    for n in ast.walk(expr):
                        if hasattr(n, "lineno"):
                            if n.lineno == 1:
                                n.col_offset += col - 1
                            if getattr(n, "end_col_offset", None) is not None and n.end_lineno == 1:
                                n.end_col_offset += col - 1
                            n.lineno += first - 1 + li
                            if getattr(n, "end_lineno", None) is not None:
                                n.end_lineno += first - 1 + li
                    expr._morphism_abs = True  # type: ignore[attr-defined]
                    candidates.append(expr)
                    break
    # The lambda whose source span holds the positions of `code`'s instructions (several lambdas
    # may share a line and their parameters' names); the smallest such span for nested lambdas.
    spots = [(l, c, el, ec) for l, el, c, ec in code.co_positions()
             if None not in (l, el, c, ec) and (l, c) != (el, ec)]

    def holds(n: ast.Lambda) -> bool:
        return all((n.lineno, n.col_offset) <= (l, c) and (el, ec) <= (n.end_lineno, n.end_col_offset)
                   for l, c, el, ec in spots)

    def size(n: ast.Lambda) -> tuple[int, int]:
        return (n.end_lineno - n.lineno, n.end_col_offset - n.col_offset)

    argnames = tuple(code.co_varnames[: code.co_argcount])
    named = [c for c in candidates if tuple(a.arg for a in c.args.args) == argnames] or candidates
    held = sorted((c for c in named if holds(c)), key=size)
    if held:
        return held[0]
    return named[0] if len(named) == 1 else None
