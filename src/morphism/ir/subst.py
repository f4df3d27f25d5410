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


def clone_block(b: Block, mapping: dict[Var, Atom]) -> Block:
    """A copy of `b` with fresh Vars for everything it defines; `mapping` renames free Vars
    (and receives the renaming of defined ones)."""
    params = tuple(_fresh(p, mapping) for p in b.params)
    eqns = []
    for e in b.eqns:
        ins = tuple(_atom(a, mapping) for a in e.inputs)
        params_e = e.params
        subs = {k: clone_block(v, mapping) for k, v in e.params.items() if isinstance(v, Block)}
        if subs:
            params_e = params_e.replace(**subs)
        outs = tuple(_fresh(o, mapping) for o in e.outputs)
        eqns.append(Eqn(e.prim, ins, params_e, outs, e.loc))
    return Block(params, tuple(eqns), tuple(_atom(r, mapping) for r in b.results))


def _fresh(v: Var, mapping: dict[Var, Atom]) -> Var:
    n = Var(v.type, v.hint)
    mapping[v] = n
    return n


def inline(func, args) -> list[Atom]:
    """Emits `func`'s body into the active builder with its params bound to `args`; returns
    the atoms of its results."""
    from .builder import current

    mapping: dict[Var, Atom] = dict(zip(func.params, args))
    body = Block((), func.body.eqns, func.body.results)
    cloned = clone_block(body, mapping)
    current().eqns.extend(cloned.eqns)
    return list(cloned.results)
