"""Building IR: a `Builder` collects equations for one block; `bind` emits into the active one.

Rules of primitives and transformations call primitives as functions, `mul(cos(x), dx)`; each
call runs the type rule, makes fresh output Vars and appends the equation to the innermost
active builder, with the builder's current source location.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from ..errors import MorphismTypeError, TypeRuleError
from .core import NO_LOC, Atom, Block, Eqn, Lit, Loc, Params, Type, Var, lit


class Builder:
    def __init__(self, loc: Loc = NO_LOC):
        self.eqns: list[Eqn] = []
        self.loc = loc

    def emit(
        self,
        prim: Any,
        inputs: Sequence[Atom],
        params: dict[str, Any] | None = None,
        loc: Loc | None = None,
        hints: Sequence[str] | None = None,
    ) -> list[Var]:
        params = Params(params or {})
        loc = loc or self.loc
        try:
            out_types = prim.type_rule([a.type for a in inputs], **params)
        except TypeRuleError as e:
            raise MorphismTypeError(f"{prim.name}: {e}", loc) from None
        hints = hints or [""] * len(out_types)
        outs = [Var(t, h) for t, h in zip(out_types, hints)]
        self.eqns.append(Eqn(prim, tuple(inputs), params, tuple(outs), loc))
        return outs

    def block(self, params: Sequence[Var], results: Sequence[Atom]) -> Block:
        return Block(tuple(params), tuple(self.eqns), tuple(results))


_stack: list[Builder] = []


@contextlib.contextmanager
def building(builder: Builder) -> Iterator[Builder]:
    _stack.append(builder)
    try:
        yield builder
    finally:
        _stack.pop()


def current() -> Builder:
    if not _stack:
        raise RuntimeError("no active Builder: primitives called as functions must run inside `building(...)`")
    return _stack[-1]


def as_atom(x: Any) -> Atom:
    if isinstance(x, (Var, Lit)):
        return x
    return lit(x)


def bind(prim: Any, *inputs: Any, **params: Any) -> Any:
    outs = current().emit(prim, [as_atom(x) for x in inputs], params)
    return tuple(outs) if prim.multiple_results else outs[0]


def fresh_like(types: Sequence[Type], hints: Sequence[str] | None = None) -> list[Var]:
    hints = hints or [""] * len(types)
    return [Var(t, h) for t, h in zip(types, hints)]
