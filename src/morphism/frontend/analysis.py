"""Syntactic facts about a function's AST that the lowering needs before it walks a statement:
which names a block assigns, whether it may exit early, where each name is read."""

from __future__ import annotations

import ast
from functools import lru_cache


class _Assigned(ast.NodeVisitor):
    def __init__(self) -> None:
        self.names: dict[str, None] = {}

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self.names.setdefault(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.names.setdefault(node.name)  # the body has its own scope

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass

    def _comp(self, node) -> None:  # comprehensions have their own scope
        pass

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comp

    def visit_Subscript(self, node: ast.Subscript) -> None:
        # `a[i] = v` rebinds `a` (functional setitem); so does `a[i][j] = v`.
        if isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                self.names.setdefault(base.id)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Store):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                self.names.setdefault(base.id)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        t = node.target
        if isinstance(t, ast.Name):
            self.names.setdefault(t.id)
        else:
            self.visit(t)
            base = t
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                self.names.setdefault(base.id)
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        # `lst.append(v)` rebinds `lst`.
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in ("append", "extend") and isinstance(f.value, ast.Name):
            self.names.setdefault(f.value.id)
        self.generic_visit(node)


def assigned_names(stmts: list[ast.stmt]) -> list[str]:
    v = _Assigned()
    for s in stmts:
        v.visit(s)
    return list(v.names)


def may_exit(stmts: list[ast.stmt], in_loop: bool = True) -> bool:
    """Whether control may leave `stmts` other than by falling off the end: a return, a raise,
    or (when `in_loop`) a break/continue that belongs to the enclosing loop."""
    for s in stmts:
        for n in _walk_no_defs(s, in_loop):
            if isinstance(n, (ast.Return, ast.Raise)):
                return True
            if in_loop and isinstance(n, (ast.Break, ast.Continue)):
                return True
    return False


def _walk_no_defs(node: ast.AST, loop_exits: bool):
    """Walk statements, not entering nested defs/lambdas/classes; break/continue inside nested
    loops are not reported (they belong to those loops)."""
    todo = [(node, loop_exits)]
    while todo:
        n, le = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(n, (ast.Break, ast.Continue)) and not le:
            continue
        yield n
        for child in ast.iter_child_nodes(n):
            inner_le = le
            if isinstance(n, (ast.For, ast.While)) and child in n.body:
                inner_le = False
            todo.append((child, inner_le))


def loop_exits(body: list[ast.stmt]) -> tuple[bool, bool]:
    """(has_break, has_return_or_raise) for a loop body; break/continue of inner loops excluded."""
    has_break = has_return = False
    for s in body:
        for n in _walk_no_defs(s, True):
            if isinstance(n, ast.Break):
                has_break = True
            elif isinstance(n, ast.Return):
                has_return = True
    return has_break, has_return


@lru_cache(maxsize=256)
def _loads(func_node: ast.AST) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for n in ast.walk(func_node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            out.setdefault(n.id, []).append((n.lineno, n.col_offset))
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            out.setdefault(n.target.id, []).append((n.lineno, n.col_offset))
    return out


def read_outside(func_node: ast.AST, name: str, node: ast.AST) -> bool:
    """Whether `name` is read anywhere in the function outside the source span of `node`."""
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno, node.end_col_offset)
    return any(not (start <= p <= end) for p in _loads(func_node).get(name, ()))


def upward_exposed(stmts: list[ast.stmt], name: str) -> bool:
    """Whether `name` may be read in `stmts` before the first statement that surely assigns it
    (a conservative, syntactic approximation: the first read comes before the first store)."""
    first_store = None
    first_load = None
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and n.id == name:
                p = (n.lineno, n.col_offset)
                if isinstance(n.ctx, ast.Store):
                    first_store = p if first_store is None else min(first_store, p)
                else:
                    first_load = p if first_load is None else min(first_load, p)
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == name:
                p = (n.lineno, n.col_offset)
                first_load = p if first_load is None else min(first_load, p)
    if first_load is None:
        return False
    if first_store is None:
        return True
    # `x = x + 1`: the load is on the right, to the right of the store's column but read first.
    return first_load <= first_store or _same_stmt_reads_first(stmts, name, first_store)


def _same_stmt_reads_first(stmts: list[ast.stmt], name: str, store: tuple[int, int]) -> bool:
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, (ast.Assign, ast.AnnAssign)) and (n.lineno, n.col_offset) <= store <= (n.end_lineno, n.end_col_offset):
                value = n.value
                if value is not None and any(isinstance(m, ast.Name) and m.id == name for m in ast.walk(value)):
                    return True
    return False
