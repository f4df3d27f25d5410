"""Substituting values in IR: replace references to some Vars by other atoms, in a block and
every block nested in it. Vars defined inside are kept (they stay unique)."""

from __future__ import annotations

from typing import Mapping

from .core import Atom, Block, Eqn, Var


def substitute(block: Block, mapping: Mapping[Var, Atom]) -> Block:
    if not mapping:
        return block
    return _block(block, mapping)


def _atom(a: Atom, m: Mapping[Var, Atom]) -> Atom:
    return m.get(a, a) if isinstance(a, Var) else a


def _block(b: Block, m: Mapping[Var, Atom]) -> Block:
    eqns = tuple(substitute_eqn(e, m) for e in b.eqns)
    return Block(b.params, eqns, tuple(_atom(r, m) for r in b.results))


def substitute_eqn(e: Eqn, m: Mapping[Var, Atom]) -> Eqn:
    params = e.params
    if any(True for _ in e.blocks()):
        new = {}
        for k, v in params.items():
            if isinstance(v, Block):
                new[k] = _block(v, m)
        params = params.replace(**new)
    return Eqn(e.prim, tuple(_atom(a, m) for a in e.inputs), params, e.outputs, e.loc)
