"""Reverse mode: the vjp transformation, IR to IR.

A block is split into a forward sweep (its equations, with control flow augmented to export
residuals) and a backward sweep (the vjp rules in reverse order, reading primal values).

- Straight-line code: the backward sweep reads the forward values directly.
- `cond`: each branch is swept on its own; the values its backward needs (its residuals) become
  extra outputs of the forward `cond`, and the backward is a `cond` on the same predicate (the
  record of which branch ran).
- Loops: the body is swept on its own; its residuals are pushed onto one tape per value during
  the forward loop (pre-sized when the trip count is known), and the backward is a `for_range`
  that runs the iterations in reverse, reading the tapes. A `while_loop` also counts its trips.
  Only what the pruned backward body reads is saved, never whole carries by default: a loop
  `x[i] = g(x[i-1])` saves O(1) per step.
- `call`: the backward calls the callee's vjp, which recomputes the callee's forward sweep
  (so recursion needs no tapes of unbounded shape).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..ir.builder import Builder, building, current
from ..ir.core import Array, Atom, Block, DType, Eqn, Func, FuncRef, Lit, Params, Scalar, Tape, Type, Var, defined_vars, free_vars, lit
from ..ir.subst import substitute
from ..primitives import ad_support as A
from ..primitives import control as C
from ..primitives import elementwise as E
from ..primitives.indexing import dim
from ..primitives.registry import EFFECT, NOT_APPLICABLE
from ..primitives.shape import range_len
from .adutil import DifferentiationError, add_ct, is_float, refuse_complex, rule_of, same_float, zeros_like
from .dce import dce_block


class Accum:
    """A cotangent contribution that is added into the existing cotangent in place of a plain
    sum (e.g. getitem's: scatter-add into it), so the operand's value is not needed."""

    def __init__(self, fn: Callable[[Atom | None], Atom]) -> None:
        self.fn = fn


def accumulate(ct: dict, v: Atom, c: Any) -> None:
    if not isinstance(v, Var) or c is None or not is_float(v.type):
        return
    if isinstance(c, Accum):
        ct[v] = c.fn(ct.get(v))
    else:
        ct[v] = add_ct(ct.get(v), same_float(c, v))


def _placeholder(t: Type) -> Atom:
    """A value of type `t` for a path that never uses it."""
    if isinstance(t, Tape):
        return A.tape_new(0, elem=t.elem)
    if isinstance(t, Scalar):
        return lit(0, t.dtype)
    return lit(np.zeros((0,) * t.ndim, dtype=t.dtype.np))


class _VJP:
    def __init__(self, memo: dict) -> None:
        self.memo = memo

    # ---- one block: forward sweep and backward sweep -------------------------------------------

    def sweep(self, b: Block, seeds: Sequence[tuple[Atom, Atom]], loc: Any = None) -> tuple[Builder, Builder, dict]:
        fwd = Builder(loc) if loc is not None else Builder()
        thunks = []
        with building(fwd):
            for e in b.eqns:
                fwd.loc = e.loc
                thunks.append(self.forward(e))
        bwd = Builder(fwd.loc)
        ct: dict[Var, Atom] = {}
        with building(bwd):
            for a, c in seeds:
                accumulate(ct, a, c)
            for e, thunk in reversed(list(zip(b.eqns, thunks))):
                bwd.loc = e.loc
                cts_out = [ct.get(o) for o in e.outputs]
                if all(c is None for c in cts_out):
                    continue
                if thunk is not None:
                    thunk(cts_out, ct)
                else:
                    self.backward(e, cts_out, ct)
        return fwd, bwd, ct

    def forward(self, e: Eqn) -> Callable | None:
        name = e.prim.name
        if name == "cond":
            return self.fwd_cond(e)
        if name in ("for_range", "while_loop"):
            return self.fwd_loop(e)
        if name == "custom_vjp_call":
            return self.fwd_custom_vjp(e)
        current().eqns.append(e)
        if name == "call":
            return self.bwd_call(e)
        if name == "custom_jvp_call":
            return self.bwd_custom_jvp(e)
        return None

    def backward(self, e: Eqn, cts_out: list, ct: dict) -> None:
        if e.prim.has(EFFECT):
            return
        if not any(is_float(a.type) and isinstance(a, Var) for a in e.inputs):
            return  # no input can carry a cotangent
        rule = rule_of(e, "vjp")
        cts_in = rule(cts_out, list(e.inputs), list(e.outputs), **e.params)
        for a, c in zip(e.inputs, cts_in):
            accumulate(ct, a, c)

    # ---- cond -------------------------------------------------------------------------------------

    def fwd_cond(self, e: Eqn) -> Callable:
        sides = []
        for br in (e.params["then"], e.params["orelse"]):
            ph = [Var(o.type, "ct") if is_float(o.type) else None for o in e.outputs]
            f, b, ct = self.sweep(br, [(r, p) for r, p in zip(br.results, ph) if p is not None], e.loc)
            # What the forward sweep defines, including the residual outputs of nested control flow.
            inside = defined_vars(Block(br.params, tuple(f.eqns), ()))
            contrib = {v: c for v, c in ct.items() if v not in inside}
            sides.append((br, f, b, ph, contrib, inside))
        fv: list[Var] = []
        for *_, contrib, _ in sides:
            fv.extend(v for v in contrib if v not in fv)
        finished = []
        for br, f, b, ph, contrib, inside in sides:
            with building(b):
                res = [contrib[v] if v in contrib else zeros_like(v) for v in fv]
            blk = dce_block(b.block([], res), set())
            resid = [v for v in free_vars(blk) if v in inside]
            finished.append((br, f, blk, ph, resid))
        (br_t, f_t, blk_t, ph_t, r_t), (br_e, f_e, blk_e, ph_e, r_e) = finished
        with building(f_t):
            then_res = [*br_t.results, *r_t, *(_placeholder(v.type) for v in r_e)]
        with building(f_e):
            else_res = [*br_e.results, *(_placeholder(v.type) for v in r_t), *r_e]
        r_out = [Var(v.type, v.hint) for v in (*r_t, *r_e)]
        new = Eqn(e.prim, e.inputs, e.params.replace(then=f_t.block([], then_res), orelse=f_e.block([], else_res)),
                  (*e.outputs, *r_out), e.loc)
        current().eqns.append(new)
        map_t = dict(zip(r_t, r_out[: len(r_t)]))
        map_e = dict(zip(r_e, r_out[len(r_t):]))

        def thunk(cts_out: list, ct: dict) -> None:
            cts = [c if c is not None else (zeros_like(o) if is_float(o.type) else None) for c, o in zip(cts_out, e.outputs)]
            blocks = []
            for blk, ph, m in ((blk_t, ph_t, map_t), (blk_e, ph_e, map_e)):
                mapping = dict(m)
                mapping.update({p: c for p, c in zip(ph, cts) if p is not None})
                blocks.append(substitute(blk, mapping))
            if not fv:
                return
            outs = C.cond(e.inputs[0], then=blocks[0], orelse=blocks[1])
            for v, o in zip(fv, outs):
                accumulate(ct, v, o)

        return thunk

    # ---- loops ------------------------------------------------------------------------------------

    def fwd_loop(self, e: Eqn) -> Callable:
        is_for = e.prim.name == "for_range"
        body: Block = e.params["body"]
        lead = 3 if is_for else 0
        carries = list(body.params[1:] if is_for else body.params)
        index = body.params[0] if is_for else None
        ph = [Var(c.type, "ct") if is_float(c.type) else None for c in carries]
        # The cotangents of values from outside the loop are accumulated across iterations. The
        # body's contributions go straight into the accumulator (seeded as `acc` placeholders), so
        # getitem's scatter-add writes into it in place rather than into zeros added afterwards.
        acc_ph = {v: Var(v.type, f"{v.hint}_acc" if v.hint else "acc")
                  for v in free_vars(body) if is_float(v.type) and not isinstance(v.type, Tape)}
        seeds = [(r, p) for r, p in zip(body.results, ph) if p is not None] + list(acc_ph.items())
        f, b, ct = self.sweep(body, seeds, e.loc)
        inside = defined_vars(Block(body.params, tuple(f.eqns), ()))
        fv = [v for v in ct if v not in inside and ct[v] is not acc_ph.get(v)]
        fl = [k for k, c in enumerate(carries) if is_float(c.type)]
        with building(b):
            res = [ct[carries[k]] if carries[k] in ct else zeros_like(carries[k]) for k in fl]
            res += [ct[v] for v in fv]
        blk = dce_block(b.block([], res), set())
        resid = [v for v in free_vars(blk) if v in inside and v is not index]
        blk, resid = _shape_residuals(blk, resid, f)
        blk, resid = _rematerialised(blk, resid, f, inside, index)

        # Forward: the same loop, pushing each residual onto its tape (and counting trips).
        if is_for:
            start, stop, step = e.inputs[:3]
            trips = range_len(start, stop, step)
            capacity = trips
        else:
            capacity = lit(0)
        tapes0 = [A.tape_new(capacity, elem=r.type) for r in resid]
        tparams = [Var(t.type, f"tape_{r.hint}" if r.hint else "tape") for t, r in zip(tapes0, resid)]
        count = Var(Scalar(DType.int64), "trips") if not is_for else None
        with building(f):
            pushed = [A.tape_push(tp, r) for tp, r in zip(tparams, resid)]
            counted = [E.add(count, 1)] if count is not None else []
        cnt = [count] if count is not None else []
        new_body = f.block([*body.params, *cnt, *tparams], [*body.results, *counted, *pushed])
        params = e.params.replace(body=new_body)
        if not is_for:
            cb: Block = e.params["cond"]
            dummies = [Var(v.type, v.hint) for v in (*cnt, *tparams)]
            params = params.replace(cond=Block((*cb.params, *dummies), cb.eqns, cb.results))
        cnt_out = [Var(Scalar(DType.int64), "trips")] if not is_for else []
        tapes_out = [Var(t.type, p.hint) for t, p in zip(tapes0, tparams)]
        init0 = [lit(0)] if not is_for else []
        current().eqns.append(Eqn(e.prim, (*e.inputs, *init0, *tapes0), params,
                                  (*e.outputs, *cnt_out, *tapes_out), e.loc))
        if not is_for:
            trips = cnt_out[0]

        def thunk(cts_out: list, ct: dict) -> None:
            ct_init = [cts_out[k] if cts_out[k] is not None else zeros_like(e.outputs[k]) for k in fl]
            # a seeded accumulator starts from the cotangent accumulated so far, and replaces it
            acc_init = [ct.pop(v) if v in acc_ph and ct.get(v) is not None else zeros_like(v) for v in fv]
            k_var = Var(Scalar(DType.int64), "k")
            ct_params = [Var(carries[k].type, f"{carries[k].hint}_ct" if carries[k].hint else "ct") for k in fl]
            acc_params = [Var(v.type, f"{v.hint}_acc" if v.hint else "acc") for v in fv]
            bb = Builder(e.loc)
            with building(bb):
                kk = E.sub(E.sub(trips, 1), k_var)
                mapping: dict[Var, Atom] = {}
                if is_for:
                    mapping[index] = E.add(e.inputs[0], E.mul(kk, e.inputs[2]))
                for r, t in zip(resid, tapes_out):
                    mapping[r] = A.tape_get(t, kk)
                for j, k in enumerate(fl):
                    mapping[ph[k]] = ct_params[j]
                for v, a in zip(fv, acc_params):
                    if v in acc_ph:
                        mapping[acc_ph[v]] = a
                sub = substitute(blk, mapping)
                bb.eqns.extend(sub.eqns)
                n = len(fl)
                new_acc = [c if v in acc_ph else add_ct(a, c) for v, a, c in zip(fv, acc_params, sub.results[n:])]
            back = bb.block([k_var, *ct_params, *acc_params], [*sub.results[:n], *new_acc])
            outs = C.for_range(lit(0), trips, lit(1), *ct_init, *acc_init, body=back)
            for j, k in enumerate(fl):
                accumulate(ct, e.inputs[lead + k], outs[j])
            for v, o in zip(fv, outs[len(fl):]):
                accumulate(ct, v, o)

        return thunk

    # ---- calls ------------------------------------------------------------------------------------

    def bwd_call(self, e: Eqn) -> Callable:
        def thunk(cts_out: list, ct: dict) -> None:
            ref: FuncRef = e.params["func"]
            vref = vjp_ref(ref, self.memo)
            cts = [c if c is not None else zeros_like(o) for c, o in zip(cts_out, e.outputs) if is_float(o.type)]
            outs = C.call(*e.inputs, *cts, func=vref)
            it = iter(outs)
            for a in e.inputs:
                if is_float(a.type):
                    accumulate(ct, a, next(it))

        return thunk


    # ---- user rules -----------------------------------------------------------------------------

    def fwd_custom_vjp(self, e: Eqn) -> Callable:
        """Runs the user's `fwd` in place of the body; its residuals feed the user's `bwd`."""
        from .. import pytree
        from ..custom import leaves_of, trace_call

        rule = e.params["rule"]
        if rule.fwd is None:
            raise DifferentiationError(f"{rule.__name__} is a custom_vjp function but defvjp was never called", e.loc)
        tree = e.params["in_tree"]
        from ..api import Specialization, trace_any

        primals = pytree.unflatten(tree, list(e.inputs))
        spec = Specialization(rule.fwd, tuple(primals), {}, ())
        Fw, _ = trace_any(rule.fwd, spec)
        out_and_res = pytree.unflatten(Fw.out_tree, list(range(len(Fw.results))))
        if not (isinstance(out_and_res, tuple) and len(out_and_res) == 2):
            raise DifferentiationError(f"the fwd rule of {rule.__name__} must return (output, residuals)", e.loc)
        n_out = len(leaves_of(out_and_res[0]))
        if n_out != len(e.outputs):
            raise DifferentiationError(f"the fwd rule of {rule.__name__} returns {n_out} outputs, the function "
                                       f"{len(e.outputs)}", e.loc)
        ref = FuncRef(f"{rule.__name__}_fwd", tuple(p.type for p in Fw.params), tuple(r.type for r in Fw.results), Fw)
        res_vars = [Var(r.type, "res") for r in Fw.results[n_out:]]
        current().eqns.append(Eqn(C.call, tuple(spec.leaves), Params(func=ref), (*e.outputs, *res_vars), e.loc))
        res_tree = pytree.flatten(out_and_res[1])[1]
        out_tree = e.params["func"].out_tree

        def thunk(cts_out: list, ct: dict) -> None:
            cts = [c if c is not None else zeros_like(o) for c, o in zip(cts_out, e.outputs)]
            res = pytree.unflatten(res_tree, res_vars)
            result = trace_call(rule.bwd, (res, pytree.unflatten(out_tree, cts)))
            if not isinstance(result, tuple):
                raise DifferentiationError(f"the bwd rule of {rule.__name__} must return a tuple with one "
                                           f"cotangent per argument", e.loc)
            leaves = leaves_of(result)
            if len(leaves) != len(e.inputs):
                raise DifferentiationError(f"the bwd rule of {rule.__name__} returns {len(leaves)} cotangent "
                                           f"leaves for {len(e.inputs)} argument leaves", e.loc)
            for a, c in zip(e.inputs, leaves):
                if c is not None and is_float(a.type):
                    accumulate(ct, a, c)

        return thunk

    def bwd_custom_jvp(self, e: Eqn) -> Callable:
        """Reverse mode of a @custom_jvp function: the vjp of its rule's tangent output with
        respect to the tangents (the rule is linear in them), so the user's rule is honoured."""

        def thunk(cts_out: list, ct: dict) -> None:
            from .. import pytree
            from ..api import Specialization, trace_any
            from ..ir.subst import inline

            rule = e.params["rule"]
            if rule.jvp is None:
                raise DifferentiationError(f"{rule.__name__} is a custom_jvp function but defjvp was never called", e.loc)
            tree = e.params["in_tree"]
            primals = pytree.unflatten(tree, list(e.inputs))
            spec = Specialization(rule.jvp, (primals, primals), {}, ())
            R, _ = trace_any(rule.jvp, spec)
            n_in = len(e.inputs)
            n_out = len(e.outputs)
            wrt = [k >= n_in and is_float(p.type) for k, p in enumerate(R.params)]
            float_res = [r for r in R.results if is_float(r.type)]
            seeds = [k >= len(float_res) - sum(is_float(o.type) for o in e.outputs) for k in range(len(float_res))]
            V = vjp_func(R, wrt, seeds=seeds)
            cts = [c if c is not None else zeros_like(o) for c, o in zip(cts_out, e.outputs) if is_float(o.type)]
            tangents0 = [zeros_like(a) if is_float(a.type) else a for a in e.inputs]
            outs = inline(V, [*e.inputs, *tangents0, *cts])
            t_cts = iter(outs[len(R.results):])
            for a in e.inputs:
                if is_float(a.type):
                    accumulate(ct, a, next(t_cts))

        return thunk


_SHAPE_QUERIES = ("dim", "size")


def _shape_residuals(blk: Block, resid: list[Var], fwd: Builder) -> tuple[Block, list[Var]]:
    """An array residual that the backward sweep reads only through its shape (`dim`, `size`:
    rules that broadcast or make zeros) is replaced by those shape scalars, computed by the
    forward sweep: a loop then saves a few integers per iteration, not the array."""
    uses: dict[Var, list[Eqn]] = {r: [] for r in resid if isinstance(r.type, Array)}
    whole: set[Var] = set()

    def scan(b: Block) -> None:
        for e in b.eqns:
            for a in e.inputs:
                if a in uses:
                    if e.prim.name in _SHAPE_QUERIES:
                        uses[a].append(e)
                    else:
                        whole.add(a)
            for sub in e.blocks():
                scan(sub)
        whole.update(r for r in b.results if r in uses)

    scan(blk)
    shape_only = [r for r in resid if r in uses and r not in whole and uses[r]]
    if not shape_only:
        return blk, resid
    drop: set[int] = set()
    mapping: dict[Var, Atom] = {}
    made: dict[tuple, Var] = {}
    with building(fwd):
        for r in shape_only:
            for e in uses[r]:
                key = (r, e.prim.name, tuple(sorted(e.params.items())))
                if key not in made:
                    made[key] = e.prim(r, **e.params)
                mapping[e.outputs[0]] = made[key]
                drop.add(id(e))

    def rebuild(b: Block) -> Block:
        eqns = []
        for e in b.eqns:
            if id(e) in drop:
                continue
            subs = {k: rebuild(v) for k, v in e.params.items() if isinstance(v, Block)}
            eqns.append(Eqn(e.prim, e.inputs, e.params.replace(**subs), e.outputs, e.loc) if subs else e)
        return Block(b.params, tuple(eqns), b.results)

    blk = substitute(rebuild(blk), mapping)
    new_resid = [r for r in resid if r not in shape_only] + list(dict.fromkeys(made.values()))
    return blk, new_resid


_VIEWS = ("getitem", "transpose", "squeeze")
_CHEAP_SCALAR = ("add", "sub", "mul", "neg")  # one instruction: cheaper again than a tape's store and load


def _rematerialised(blk: Block, resid: list[Var], fwd: Builder, inside: set[Var], index: Var | None
                    ) -> tuple[Block, list[Var]]:
    """A residual that is a view (basic indexing, a transpose) of values from outside the loop, at
    the loop index, is recomputed by the backward sweep rather than copied onto a tape each
    iteration: `xc[:, i]` of an `xc` defined before the loop costs nothing to take again. (The
    base becomes a value the backward reads, saved by an enclosing loop if there is one, once.)"""
    made_by = {o: e for e in fwd.eqns for o in e.outputs}
    again: dict[Var, Eqn] = {}
    for r in resid:
        e = made_by.get(r)
        if e is None or e.prim.name not in _VIEWS or len(e.outputs) != 1:
            continue
        if e.prim.name == "getitem" and any(s in ("a", "m") for s in e.params["spec"]):
            continue  # advanced indexing copies
        if all(not isinstance(a, Var) or a is index or a not in inside for a in e.inputs):
            again[r] = e
    # A scalar sum, difference or product of values the backward reads anyway (saved residuals,
    # values from outside the loop) is recomputed too: `y - x` when y and x are saved.
    saved = set(resid) - set(again)
    pinned: set[Var] = set()  # residuals a recomputation reads: they stay saved
    for r in resid:
        e = made_by.get(r)
        if (r in again or r in pinned or e is None or e.prim.name not in _CHEAP_SCALAR
                or not isinstance(r.type, Scalar) or e.params or len(e.outputs) != 1):
            continue
        if all(not isinstance(a, Var) or a is index or a not in inside or (a in saved and a is not r) for a in e.inputs):
            again[r] = e
            saved.discard(r)
            pinned.update(a for a in e.inputs if isinstance(a, Var) and a in saved)
    if not again:
        return blk, resid
    fresh = {r: Var(r.type, r.hint) for r in again}
    body = substitute(blk, fresh)
    head = tuple(Eqn(e.prim, e.inputs, e.params, (fresh[r],), e.loc) for r, e in again.items())
    return Block(body.params, head + body.eqns, body.results), [r for r in resid if r not in again]


def vjp_ref(ref: FuncRef, memo: dict) -> FuncRef:
    """The vjp of a called function: (ins..., cts of float outs...) -> cts of float ins."""
    if id(ref) in memo:
        return memo[id(ref)]
    in_types = (*ref.in_types, *(t for t in ref.out_types if is_float(t)))
    out_types = tuple(t for t in ref.in_types if is_float(t))
    new = FuncRef(f"{ref.name}_vjp", in_types, out_types)
    new.out_tree = None
    memo[id(ref)] = new
    f = ref.func
    g = _combined(f, [is_float(p.type) for p in f.params], memo, return_primal=False)
    new.func = g
    return new


def _combined(f: Func, wrt: Sequence[bool], memo: dict, return_primal: bool,
              seeds_mask: Sequence[bool] | None = None) -> Func:
    if any(wrt):
        refuse_complex(f, "reverse-mode differentiation")
    float_results = [r for r in f.results if is_float(r.type)]
    seeds_mask = list(seeds_mask) if seeds_mask is not None else [True] * len(float_results)
    ctps = [Var(r.type, f"{r.hint}_ct" if isinstance(r, Var) and r.hint else "ct")
            for r, m in zip(float_results, seeds_mask) if m]
    seeds = list(zip([r for r, m in zip(float_results, seeds_mask) if m], ctps))
    v = _VJP(memo)
    fwd, bwd, ct = v.sweep(f.body, seeds, f.loc)
    b = Builder(f.loc)
    b.eqns.extend(fwd.eqns)
    b.eqns.extend(bwd.eqns)
    with building(b):
        cts = [ct[p] if p in ct else zeros_like(p) for p, w in zip(f.params, wrt) if w and is_float(p.type)]
    results = [*f.results, *cts] if return_primal else cts
    body = dce_block(b.block([*f.params, *ctps], results), set())
    return Func(f.name + "_vjp", body, loc=f.loc)


def vjp_func(f: Func, wrt: Sequence[bool], seeds: Sequence[bool] | None = None) -> Func:
    """f(x...) -> y...  becomes  f_vjp(x..., y_ct...) -> (y..., x_ct...) where the ys are
    f's results, y_ct a cotangent for each float result (those with `seeds` set, default all)
    and x_ct one for each float param with `wrt` set."""
    return _combined(f, wrt, {}, return_primal=True, seeds_mask=seeds)
