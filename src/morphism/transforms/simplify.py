"""Algebraic simplification and constant folding, from a table of rewrite rules.

A rule is one named row: a pattern over equations and its replacement, with the algebra in a
comment. Only rewrites that are exact in IEEE arithmetic are on by default; the others (which
change -0.0, NaN or infinity) are marked `exact=False` and run only when asked for. The same
table is meant to feed the e-graph later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ..ir.core import Atom, Block, Eqn, Func, Lit, Scalar, Var, lit
from ..primitives.registry import CONTROL, EFFECT, REGISTRY


@dataclass(frozen=True)
class P:
    """A pattern: a primitive applied to sub-patterns, a named variable ("x"), or a literal."""

    op: str
    args: tuple = ()


def v(name: str) -> P:
    return P("$" + name)


def c(value: float) -> P:
    return P("#", (value,))


def op(name: str, *args: P) -> P:
    return P(name, args)


@dataclass(frozen=True)
class Rule:
    name: str
    lhs: P
    rhs: P
    exact: bool = True


def rule(name: str, lhs: P, rhs: P, exact: bool = True) -> Rule:
    return Rule(name, lhs, rhs, exact)


x, y = v("x"), v("y")

RULES = [
    rule("mul-one", op("mul", x, c(1)), x),  # x * 1 = x
    rule("one-mul", op("mul", c(1), x), x),  # 1 * x = x
    rule("div-one", op("div", x, c(1)), x),  # x / 1 = x (when x is float)
    rule("sub-zero", op("sub", x, c(0)), x),  # x - 0 = x (exact, also for -0.0)
    rule("neg-neg", op("neg", op("neg", x)), x),  # -(-x) = x
    rule("mul-minus-one", op("mul", x, c(-1)), op("neg", x)),  # x * -1 = -x
    rule("add-neg", op("add", x, op("neg", y)), op("sub", x, y)),  # x + (-y) = x - y
    rule("sub-neg", op("sub", x, op("neg", y)), op("add", x, y)),  # x - (-y) = x + y
    rule("add-zero", op("add", x, c(0)), x, exact=False),  # x + 0 = x, but -0.0 + 0.0 = 0.0
    rule("zero-add", op("add", c(0), x), x, exact=False),
    rule("mul-zero", op("mul", x, c(0)), c(0), exact=False),  # wrong for inf and nan
    rule("int-add-zero", op("add", x, c(0)), x),  # exact on integers (checked by type below)
]


def _match(p: P, a: Atom, defs: dict[Var, Eqn], env: dict[str, Atom]) -> bool:
    if p.op.startswith("$"):
        bound = env.get(p.op)
        if bound is None:
            env[p.op] = a
            return True
        return bound is a or (isinstance(a, Lit) and a == bound)
    if p.op == "#":
        return isinstance(a, Lit) and isinstance(a.type, Scalar) and not isinstance(a.value, bool) and a.value == p.args[0]
    e = defs.get(a) if isinstance(a, Var) else None
    if e is None or e.prim.name != p.op or len(e.inputs) != len(p.args) or e.params:
        return False
    return all(_match(q, b, defs, env) for q, b in zip(p.args, e.inputs))


def _build(p: P, env: dict[str, Atom], out: Var, emit: Callable) -> Atom:
    if p.op.startswith("$"):
        return env[p.op]
    if p.op == "#":
        return lit(p.args[0], out.type.dtype)
    args = [_build(q, env, out, emit) for q in p.args]
    return emit(REGISTRY[p.op], args)


class _Simplifier:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.count = 0

    def block(self, b: Block, subst: dict[Var, Atom], defs: dict[Var, Eqn]) -> Block:
        defs = dict(defs)
        eqns: list[Eqn] = []

        def emit(prim: Any, args: list[Atom]) -> Atom:
            ts = prim.type_rule([a.type for a in args])
            o = Var(ts[0])
            e = Eqn(prim, tuple(args), _empty(), (o,), loc)
            eqns.append(e)
            defs[o] = e
            return o

        for e in b.eqns:
            loc = e.loc
            e = _subst(e, subst)
            if any(True for _ in e.blocks()):
                e = Eqn(e.prim, e.inputs, e.params.replace(**{k: self.block(sb, subst, defs)
                                                              for k, sb in e.params.items() if isinstance(sb, Block)}),
                        e.outputs, e.loc)
            folded = self.fold(e)
            if folded is not None:
                subst[e.outputs[0]] = folded
                self.count += 1
                continue
            replaced = None
            if len(e.outputs) == 1 and not e.prim.has(EFFECT):
                out = e.outputs[0]
                defs[out] = e
                for r in self.rules:
                    env: dict[str, Atom] = {}
                    if r.name == "int-add-zero" and out.type.dtype.value == "float64":
                        continue
                    if _match(r.lhs, out, defs, env):
                        cand = _build(r.rhs, env, out, emit)
                        if cand.type == out.type:
                            replaced = cand
                            break
            if replaced is not None:
                subst[e.outputs[0]] = replaced
                self.count += 1
                continue
            eqns.append(e)
            for o in e.outputs:
                defs[o] = e
        return Block(b.params, tuple(eqns), tuple(subst.get(r, r) if isinstance(r, Var) else r for r in b.results))

    def fold(self, e: Eqn) -> Lit | None:
        """Scalar equations whose inputs are all literals are computed now."""
        if e.prim.has(EFFECT) or e.prim.has(CONTROL) or e.prim.impl is None or e.prim.multiple_results:
            return None
        if not e.inputs or not all(isinstance(a, Lit) and isinstance(a.type, Scalar) for a in e.inputs):
            return None
        out = e.outputs[0]
        if not isinstance(out.type, Scalar):
            return None
        import numpy as np

        try:
            with np.errstate(all="ignore"):
                val = e.prim.impl(*[a.value for a in e.inputs], **e.params)
        except Exception:
            return None  # let the error happen at run time, where the user expects it
        val = np.asarray(val).item()
        if isinstance(val, float) and not math.isfinite(val):
            return None
        return lit(val, out.type.dtype)


def _empty():
    from ..ir.core import Params

    return Params()


def _subst(e: Eqn, subst: dict[Var, Atom]) -> Eqn:
    if not subst:
        return e
    ins = tuple(subst.get(a, a) if isinstance(a, Var) else a for a in e.inputs)
    return Eqn(e.prim, ins, e.params, e.outputs, e.loc)


def simplify(func: Func, unsafe: bool = False) -> Func:
    """Applies the rule table (exact rules only unless `unsafe`) and folds scalar constants."""
    rules = [r for r in RULES if r.exact or unsafe]
    s = _Simplifier(rules)
    subst: dict[Var, Atom] = {}
    body = s.block(func.body, subst, {})
    # Nested blocks were simplified with the substitution known at their point; results too.
    return Func(func.name, body, func.in_tree, func.out_tree, func.loc)
