"""Loop-invariant code motion: equations in a loop body (or a while loop's condition) whose
inputs are all defined outside the loop move in front of it.

Only primitives that cannot raise or have an effect move (elementwise arithmetic, which follows
NumPy's rules and never raises, and shape queries): a loop that runs zero times must not raise
where Python would not. Reverse mode's backward loops gain most: the index arithmetic on the
trip count and the values the rules read from outside the loop are computed once.
"""

from __future__ import annotations

from ..ir.core import Block, Eqn, Func, Var, defined_vars
from ..primitives.registry import CONTROL, EFFECT, ELEMENTWISE, FRESH

MOVABLE = {"dim", "size", "range_len"}


def _movable(e: Eqn) -> bool:
    if e.prim.has(EFFECT) or e.prim.has(CONTROL) or e.prim.has(FRESH):
        return False
    return e.prim.has(ELEMENTWISE) or e.prim.name in MOVABLE


def _block(b: Block) -> Block:
    eqns: list[Eqn] = []
    for e in b.eqns:
        if e.prim.name in ("for_range", "while_loop"):
            hoisted, e = _loop(e)
            eqns.extend(hoisted)
        elif any(True for _ in e.blocks()):
            e = Eqn(e.prim, e.inputs, e.params.replace(**{k: _block(v) for k, v in e.params.items()
                                                          if isinstance(v, Block)}), e.outputs, e.loc)
        eqns.append(e)
    return Block(b.params, tuple(eqns), b.results)


def _hoist(b: Block, variant: set[Var]) -> tuple[list[Eqn], Block]:
    """Splits `b` into the equations that do not depend on `variant` values (hoisted) and the
    rest. `variant` grows with what stays inside."""
    out, kept = [], []
    for e in b.eqns:
        depends = any(isinstance(a, Var) and a in variant for a in e.inputs)
        if not depends and _movable(e):
            out.append(e)
        else:
            kept.append(e)
            variant.update(e.outputs)
            for sub in e.blocks():  # values defined in nested blocks are variant too
                variant.update(defined_vars(sub))
    return out, Block(b.params, tuple(kept), b.results)


def _loop(e: Eqn) -> tuple[list[Eqn], Eqn]:
    params = dict(e.params)
    hoisted: list[Eqn] = []
    for key in ("cond", "body"):
        if key not in params:
            continue
        inner = _block(params[key])  # inner loops first: what they hoist may move further out
        out, rest = _hoist(inner, set(inner.params))
        hoisted.extend(out)
        params[key] = rest
    return hoisted, Eqn(e.prim, e.inputs, e.params.replace(**params), e.outputs, e.loc)


def licm(func: Func) -> Func:
    return Func(func.name, _block(func.body), func.in_tree, func.out_tree, func.loc)
