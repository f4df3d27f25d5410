"""Dead-code elimination: drops equations whose results are unused (unless they have an
effect), unused outputs of `cond`, and loop carries that nothing after the loop needs."""

from __future__ import annotations

from ..ir.core import Block, Eqn, Func, FuncRef, Var
from ..primitives.registry import EFFECT


def dce(func: Func) -> Func:
    body = dce_block(func.body, set(_vars(func.body.results)))
    return Func(func.name, body, func.in_tree, func.out_tree, func.loc)


def _vars(atoms) -> list[Var]:
    return [a for a in atoms if isinstance(a, Var)]


def has_effect(e: Eqn, seen: set[int] | None = None) -> bool:
    if e.prim.has(EFFECT):
        return True
    if "func" in e.params:  # call and custom calls
        ref: FuncRef = e.params["func"]
        seen = seen if seen is not None else set()
        if id(ref) in seen or ref.func is None:
            return False
        seen.add(id(ref))
        return any(has_effect(x, seen) for x in ref.func.body.eqns)
    return any(has_effect(x, seen) for b in e.blocks() for x in b.eqns)


def dce_block(b: Block, live_out: set[Var]) -> Block:
    """`live_out`: the Vars needed after the block (its results plus outer needs)."""
    live = set(live_out) | set(_vars(b.results))
    kept: list[Eqn] = []
    for e in reversed(b.eqns):
        used = [o in live for o in e.outputs]
        name = e.prim.name
        if name == "cond":
            e = _dce_cond(e, used, live)
        elif name in ("for_range", "while_loop"):
            e = _dce_loop(e, used, live)
        elif not any(used) and not has_effect(e):
            e = None
        if e is None:
            continue
        kept.append(e)
        live.update(_vars(e.inputs))
        for sub in e.blocks():
            live.update(_free(sub))
    return Block(b.params, tuple(reversed(kept)), b.results)


def _free(b: Block) -> list[Var]:
    from ..ir.core import free_vars

    return free_vars(b)


def _dce_cond(e: Eqn, used: list[bool], live: set[Var]) -> Eqn | None:
    then, orelse = e.params["then"], e.params["orelse"]
    keep = [k for k, u in enumerate(used) if u]
    if not keep and not has_effect(e):
        return None
    new = []
    for br in (then, orelse):
        res = tuple(br.results[k] for k in keep)
        new.append(dce_block(Block(br.params, br.eqns, res), set()))
    return Eqn(e.prim, e.inputs, e.params.replace(then=new[0], orelse=new[1]),
               tuple(e.outputs[k] for k in keep), e.loc)


def _dce_loop(e: Eqn, used: list[bool], live: set[Var]) -> Eqn | None:
    is_for = e.prim.name == "for_range"
    body: Block = e.params["body"]
    cond: Block | None = None if is_for else e.params["cond"]
    lead = 3 if is_for else 0
    carries = list(body.params[1:] if is_for else body.params)
    n = len(carries)
    keep = set(k for k in range(n) if used[k])
    if cond is not None:
        cfree = set(_vars(cond.results)) | _uses(cond)
        keep |= {k for k, p in enumerate(cond.params) if p in cfree}
    while True:
        res = tuple(body.results[k] for k in sorted(keep))
        trial = dce_block(Block(body.params, body.eqns, res), set())
        uses = _uses(trial)
        grown = keep | {k for k, p in enumerate(carries) if p in uses}
        if grown == keep:
            break
        keep = grown
    if not keep and not has_effect(e):
        return None
    ks = sorted(keep)
    idx_param = body.params[:1] if is_for else ()
    new_body = dce_block(Block(tuple(idx_param) + tuple(carries[k] for k in ks), body.eqns,
                               tuple(body.results[k] for k in ks)), set())
    params = e.params.replace(body=new_body)
    if cond is not None:
        params = params.replace(cond=dce_block(Block(tuple(cond.params[k] for k in ks), cond.eqns, cond.results), set()))
    inputs = tuple(e.inputs[:lead]) + tuple(e.inputs[lead + k] for k in ks)
    return Eqn(e.prim, inputs, params, tuple(e.outputs[k] for k in ks), e.loc)


def _uses(b: Block) -> set[Var]:
    """Every Var read anywhere in `b` (including its own params and nested blocks)."""
    out: set[Var] = set(_vars(b.results))
    for e in b.eqns:
        out.update(_vars(e.inputs))
        for sub in e.blocks():
            out |= _uses(sub)
    return out
