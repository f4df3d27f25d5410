"""Forward mode: the jvp transformation, IR to IR.

`jvp_func(f, mask)` is a Func taking f's params plus a tangent `x_dot` for each param where
`mask` is true, and returning f's results followed by a tangent for every result. Tangents that
are known to be zero (integer values, values that do not depend on a differentiated input,
`stop_gradient`) are not materialised: `None` is the symbolic zero.

Control flow is transformed structurally: a `cond` gets tangent outputs, loops get tangent
carries (found by a fixpoint: a carry has a tangent if its initial value or the body gives it
one), and a `call` goes to the jvp of its callee, built once per mask (so recursion works).
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import MorphismError
from ..ir.builder import Builder, building, current
from ..ir.core import Atom, Block, Eqn, Func, FuncRef, Params, Var
from ..primitives.registry import NOT_APPLICABLE
from .adutil import DifferentiationError, is_float, refuse_complex, rule_of, same_float, zeros_like

Tangent = Atom | None


class _JVP:
    def __init__(self, memo: dict) -> None:
        self.tan: dict[Var, Atom] = {}
        self.memo = memo  # (FuncRef, mask) -> FuncRef of the jvp'd callee

    def t(self, a: Atom) -> Tangent:
        return self.tan.get(a) if isinstance(a, Var) else None

    def instantiate(self, t: Tangent, primal: Atom) -> Atom:
        return t if t is not None else zeros_like(primal)

    # ---- the walk ---------------------------------------------------------------------------

    def block(self, b: Block) -> None:
        for e in b.eqns:
            self.eqn(e)

    def eqn(self, e: Eqn) -> None:
        builder = current()
        saved, builder.loc = builder.loc, e.loc
        try:
            rule = _CONTROL.get(e.prim.name)
            if rule is not None:
                rule(self, e)
            else:
                self.primitive(e)
        finally:
            builder.loc = saved

    def primitive(self, e: Eqn) -> None:
        current().eqns.append(e)
        tin = [self.t(a) for a in e.inputs]
        if all(t is None for t in tin) or not any(is_float(o.type) for o in e.outputs):
            return
        rule = rule_of(e, "jvp")
        touts = rule(list(e.inputs), tin, list(e.outputs), **e.params)
        for o, t in zip(e.outputs, touts):
            if t is not None and is_float(o.type):
                self.tan[o] = same_float(t, o)

    # ---- control flow ---------------------------------------------------------------------------

    def cond(self, e: Eqn) -> None:
        branches = []
        for br in (e.params["then"], e.params["orelse"]):
            b = Builder(e.loc)
            with building(b):
                self.block(br)
            branches.append((b, br, [self.t(r) for r in br.results]))
        mask = [is_float(o.type) and any(ts[k] is not None for _, _, ts in branches) for k, o in enumerate(e.outputs)]
        blocks = []
        for b, br, ts in branches:
            with building(b):
                extra = [self.instantiate(t, r) for t, r, m in zip(ts, br.results, mask) if m]
            blocks.append(b.block([], [*br.results, *extra]))
        touts = [Var(o.type, _dot(o)) for o, m in zip(e.outputs, mask) if m]
        current().eqns.append(Eqn(e.prim, e.inputs, e.params.replace(then=blocks[0], orelse=blocks[1]),
                                  (*e.outputs, *touts), e.loc))
        it = iter(touts)
        for o, m in zip(e.outputs, mask):
            if m:
                self.tan[o] = next(it)

    def loop(self, e: Eqn) -> None:
        is_for = e.prim.name == "for_range"
        body: Block = e.params["body"]
        n_lead = 3 if is_for else 0
        init = list(e.inputs[n_lead:])
        carries = list(body.params[1:] if is_for else body.params)
        mask = [is_float(c.type) and self.t(a) is not None for c, a in zip(carries, init)]
        saved = dict(self.tan)
        while True:
            self.tan = dict(saved)
            tparams = []
            for c, m in zip(carries, mask):
                if m:
                    tp = Var(c.type, _dot(c))
                    self.tan[c] = tp
                    tparams.append(tp)
            b = Builder(e.loc)
            with building(b):
                self.block(body)
            touts = [self.t(r) for r in body.results]
            new_mask = [m or (t is not None and is_float(c.type)) for m, t, c in zip(mask, touts, carries)]
            if new_mask == mask:
                break
            mask = new_mask
        with building(b):
            tres = [self.instantiate(t, r) for t, r, m in zip(touts, body.results, mask) if m]
        self.tan = saved
        tinit = [self.instantiate(self.t(a), a) for a, m in zip(init, mask) if m]
        new_body = b.block([*body.params, *tparams], [*body.results, *tres])
        params = e.params.replace(body=new_body)
        if not is_for:
            cb: Block = e.params["cond"]
            dummies = [Var(p.type, _dot(p)) for p, m in zip(cb.params, mask) if m]
            params = params.replace(cond=Block((*cb.params, *dummies), cb.eqns, cb.results))
        touts_v = [Var(o.type, _dot(o)) for o, m in zip(e.outputs, mask) if m]
        current().eqns.append(Eqn(e.prim, (*e.inputs, *tinit), params, (*e.outputs, *touts_v), e.loc))
        it = iter(touts_v)
        for o, m in zip(e.outputs, mask):
            if m:
                self.tan[o] = next(it)

    def call(self, e: Eqn) -> None:
        ref: FuncRef = e.params["func"]
        mask = tuple(is_float(a.type) and self.t(a) is not None for a in e.inputs)
        if not any(mask):
            current().eqns.append(e)
            return
        new_ref = jvp_ref(ref, mask, self.memo)
        tins = [self.t(a) for a, m in zip(e.inputs, mask) if m]
        outs = [Var(t, o.hint if k < len(e.outputs) and (o := e.outputs[k]) else "") for k, t in enumerate(new_ref.out_types)]
        outs[: len(e.outputs)] = e.outputs
        current().eqns.append(Eqn(e.prim, (*e.inputs, *tins), Params(func=new_ref), tuple(outs), e.loc))
        touts = iter(outs[len(e.outputs):])
        for o in e.outputs:
            if is_float(o.type):
                self.tan[o] = next(touts)


    def custom(self, e: Eqn) -> None:
        """A @custom_jvp function: its rule gives the tangents. A @custom_vjp function is
        differentiated through its body."""
        from .. import pytree
        from ..custom import leaves_of, trace_call

        if all(self.t(a) is None for a in e.inputs):
            current().eqns.append(e)
            return
        rule = e.params["rule"]
        if e.prim.name == "custom_vjp_call":
            self.call(Eqn(_call_prim(), e.inputs, Params(func=e.params["func"]), e.outputs, e.loc))
            return
        if rule.jvp is None:
            raise DifferentiationError(f"{rule.__name__} is a custom_jvp function but defjvp was never called", e.loc)
        current().eqns.append(e)
        tree = e.params["in_tree"]
        primals = pytree.unflatten(tree, list(e.inputs))
        tangents = pytree.unflatten(tree, [self.instantiate(self.t(a), a) if is_float(a.type) else a for a in e.inputs])
        result = trace_call(rule.jvp, (primals, tangents))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise DifferentiationError(f"the jvp rule of {rule.__name__} must return (primal_out, tangent_out)", e.loc)
        touts = leaves_of(result[1])
        if len(touts) != len(e.outputs):
            raise DifferentiationError(f"the jvp rule of {rule.__name__} returns {len(touts)} tangents for "
                                       f"{len(e.outputs)} outputs", e.loc)
        for o, t in zip(e.outputs, touts):
            if is_float(o.type):
                self.tan[o] = t


def _call_prim():
    from ..primitives.control import call

    return call


_CONTROL = {"cond": _JVP.cond, "for_range": _JVP.loop, "while_loop": _JVP.loop, "call": _JVP.call,
            "custom_jvp_call": _JVP.custom, "custom_vjp_call": _JVP.custom}


def _dot(v: Var) -> str:
    return f"{v.hint}_dot" if v.hint else ""


def jvp_ref(ref: FuncRef, mask: tuple[bool, ...], memo: dict) -> FuncRef:
    """The jvp of a called function; every float result gets a tangent (so recursive calls can
    refer to it before its body is built)."""
    key = (id(ref), mask)
    if key in memo:
        return memo[key]
    in_types = [*ref.in_types, *(t for t, m in zip(ref.in_types, mask) if m)]
    out_types = [*ref.out_types, *(t for t in ref.out_types if is_float(t))]
    new = FuncRef(f"{ref.name}_jvp", tuple(in_types), tuple(out_types))
    new.out_tree = getattr(ref, "out_tree", None)
    memo[key] = new
    new.func = _jvp_body(ref.func, mask, memo, all_outputs=True)
    return new


def _jvp_body(f: Func, mask: Sequence[bool], memo: dict, all_outputs: bool) -> Func:
    j = _JVP(memo)
    tparams = []
    for p, m in zip(f.params, mask):
        if m:
            tp = Var(p.type, _dot(p))
            j.tan[p] = tp
            tparams.append(tp)
    b = Builder(f.loc)
    with building(b):
        j.block(f.body)
        touts = [j.instantiate(j.t(r), r) for r in f.results if is_float(r.type)]
    return Func(f.name + "_jvp", b.block([*f.params, *tparams], [*f.results, *touts]), loc=f.loc)


def jvp_func(f: Func, mask: Sequence[bool]) -> Func:
    """f(x...) -> y...  becomes  f_jvp(x..., x_dot...) -> (y..., y_dot...) for the float ys.

    `mask[k]` says whether param k gets a tangent; integer params never do."""
    mask = tuple(bool(m) and is_float(p.type) for m, p in zip(mask, f.params))
    if any(mask):
        refuse_complex(f, "forward-mode differentiation")
    return _jvp_body(f, mask, {}, all_outputs=True)
