"""Common-subexpression elimination: an equation equal to an earlier one in scope (same
primitive, same inputs, same params) reuses its results. Effects and control flow are never
merged; a nested block sees the expressions of the blocks around it."""

from __future__ import annotations

from ..ir.core import Atom, Block, Eqn, Func, Lit, Tape, Var
from ..primitives.registry import CONTROL, EFFECT, FRESH


def _key(e: Eqn):
    try:
        params = hash(e.params) and e.params
        ins = tuple(("v", a.id) if isinstance(a, Var) else ("l", a) for a in e.inputs)
        return (e.prim.name, ins, tuple(sorted((k, repr(v)) for k, v in params.items())))
    except TypeError:
        return None


def _block(b: Block, seen: dict, subst: dict[Var, Atom]) -> Block:
    seen = dict(seen)
    eqns = []
    for e in b.eqns:
        if subst:
            e = Eqn(e.prim, tuple(subst.get(a, a) if isinstance(a, Var) else a for a in e.inputs), e.params, e.outputs, e.loc)
        if any(True for _ in e.blocks()):
            e = Eqn(e.prim, e.inputs, e.params.replace(**{k: _block(sb, seen, subst) for k, sb in e.params.items()
                                                          if isinstance(sb, Block)}), e.outputs, e.loc)
        # Buffers that are appended to in place (tapes, lists) each stay their own value.
        mergeable = not e.prim.has(FRESH) and not any(isinstance(a.type, Tape) for a in (*e.inputs, *e.outputs))
        if not e.prim.has(EFFECT) and not e.prim.has(CONTROL) and "func" not in e.params and mergeable:
            k = _key(e)
            if k is not None:
                prev = seen.get(k)
                if prev is not None:
                    for o, p in zip(e.outputs, prev.outputs):
                        subst[o] = p
                    continue
                seen[k] = e
        eqns.append(e)
    return Block(b.params, tuple(eqns), tuple(subst.get(r, r) if isinstance(r, Var) else r for r in b.results))


def cse(func: Func) -> Func:
    return Func(func.name, _block(func.body, {}, {}), func.in_tree, func.out_tree, func.loc)
