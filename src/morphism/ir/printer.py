"""The printer is the debugging UI: typed, one binder per line, Python names kept, blocks
indented, the user's file:line at the right. Stable enough that tests compare it as text."""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import Array, Atom, Block, Eqn, Func, FuncRef, Lit, Scalar, Tape, Var, is_value

LOC_COLUMN = 56


class Namer:
    def __init__(self) -> None:
        self.names: dict[Var, str] = {}
        self.used: set[str] = set()

    def __call__(self, v: Var) -> str:
        name = self.names.get(v)
        if name is None:
            base = v.hint or "_"
            name = base if base not in self.used and base != "_" else None
            k = 1
            while name is None or name in self.used:
                name = f"{base}_{k}" if base != "_" else f"_{k}"
                k += 1
            self.used.add(name)
            self.names[v] = name
        return name


def fmt_lit(l: Lit) -> str:
    if l.name and isinstance(l.type, Array):
        return f"${l.name}:{l.type}"  # a captured array, read when the function runs
    if isinstance(l.type, Array):
        a = np.asarray(l.value)
        body = np.array2string(a, threshold=6, separator=",").replace("\n", "")
        return f"{body}:{l.type}"
    if isinstance(l.value, float):
        return repr(l.value)
    return repr(l.value)


def fmt_param(v: Any) -> str:
    if isinstance(v, FuncRef):
        return repr(v)
    if isinstance(v, (Scalar, Array, Tape)):
        return str(v)
    if isinstance(v, type) and issubclass(v, BaseException):
        return v.__name__
    if hasattr(v, "value") and hasattr(v, "short"):  # DType
        return v.short
    return repr(v)


class Printer:
    def __init__(self) -> None:
        self.name = Namer()
        self.lines: list[str] = []

    def atom(self, a: Atom) -> str:
        return self.name(a) if isinstance(a, Var) else fmt_lit(a)

    def binder(self, v: Var) -> str:
        return f"{self.name(v)}:{v.type}"

    def emit(self, depth: int, text: str, loc: Any = None) -> None:
        line = "  " * depth + text
        if loc is not None and loc.line:
            line = line.ljust(LOC_COLUMN) + f"  # {loc}"
        self.lines.append(line)

    def block_body(self, b: Block, depth: int, yield_word: str | None = "yield") -> None:
        for e in b.eqns:
            self.eqn(e, depth)
        if yield_word:
            self.emit(depth, f"{yield_word} " + ", ".join(self.atom(r) for r in b.results))

    def eqn(self, e: Eqn, depth: int) -> None:
        lhs = ", ".join(self.binder(o) for o in e.outputs)
        lhs = lhs + " = " if lhs else ""
        name = e.prim.name
        if name == "cond":
            self.emit(depth, f"{lhs}cond {self.atom(e.inputs[0])}", e.loc)
            self.emit(depth + 1, "then:")
            self.block_body(e.params["then"], depth + 2)
            self.emit(depth + 1, "else:")
            self.block_body(e.params["orelse"], depth + 2)
        elif name == "for_range":
            body = e.params["body"]
            start, stop, step, *init = e.inputs
            carry = ", ".join(f"{self.binder(p)} = {self.atom(a)}" for p, a in zip(body.params[1:], init))
            rng = f"{self.atom(start)}..{self.atom(stop)}" + ("" if _is_one(step) else f" step {self.atom(step)}")
            head = f"{lhs}for_range {self.binder(body.params[0])} in {rng}" + (f" carry ({carry})" if carry else "")
            self.emit(depth, head, e.loc)
            self.block_body(body, depth + 1)
        elif name == "while_loop":
            c, body = e.params["cond"], e.params["body"]
            carry = ", ".join(f"{self.binder(p)} = {self.atom(a)}" for p, a in zip(body.params, e.inputs))
            # The cond block gets its own binders for the carries; print them as aliases.
            self.emit(depth, f"{lhs}while_loop carry ({carry})", e.loc)
            self.emit(depth + 1, "cond (" + ", ".join(self.binder(p) for p in c.params) + "):")
            self.block_body(c, depth + 2)
            self.emit(depth + 1, "body:")
            self.block_body(body, depth + 2)
        else:
            params = ", ".join(f"{k}={fmt_param(v)}" for k, v in e.params.items())
            args = " ".join(self.atom(a) for a in e.inputs)
            text = f"{lhs}{name}" + (f"[{params}]" if params else "") + (f" {args}" if args else "")
            self.emit(depth, text, e.loc)

    def func(self, f: Func) -> str:
        args = ", ".join(self.binder(p) for p in f.params)
        outs = ", ".join(str(r.type) for r in f.results)
        self.emit(0, f"func {f.name}({args}) -> {outs or '()'}")
        self.block_body(f.body, 1, yield_word="return")
        return "\n".join(self.lines)


def _is_one(a: Atom) -> bool:
    return is_value(a, 1)


def print_func(f: Func) -> str:
    return Printer().func(f)


def print_funcs(f: Func) -> str:
    """`f` followed by every function it calls (recursion), each printed once."""
    out, seen, todo = [], set(), [f]
    while todo:
        g = todo.pop(0)
        if id(g) in seen:
            continue
        seen.add(id(g))
        out.append(print_func(g))
        todo.extend(ref.func for ref in called_funcs(g.body) if ref.func is not None)
    return "\n\n".join(out)


def called_funcs(b: Block) -> list[FuncRef]:
    refs = []
    for e in b.eqns:
        if e.prim.name == "call":
            refs.append(e.params["func"])
        for sub in e.blocks():
            refs.extend(called_funcs(sub))
    return refs


def print_eqn(e: Eqn) -> str:
    p = Printer()
    p.eqn(e, 0)
    return "\n".join(p.lines)
