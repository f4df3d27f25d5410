"""Batching: the vmap transformation, IR to IR.

`batch_func(f, batched)` is a Func taking f's params, with a leading batch axis on those where
`batched` is true, and returning every result with a leading batch axis. Values that do not
depend on a batched input stay unbatched (computed once): in `vmap` of a vjp over cotangents,
the forward sweep runs once and only the backward sweep is batched.

Primitives go through their `batch` rule (see `batchutil`). Control flow is batched
structurally:

- `cond` on an unbatched predicate stays a `cond`; on a batched predicate both branches run,
  each under a mask, and `select` picks each member's result. A branch that calls a function
  (recursion) runs only when some member takes it, so that recursion ends.
- `while_loop` on a batched predicate runs until every member is done; a finished member's
  carries are frozen (`select` on its predicate), and the loop's predicate is ANDed with the
  mask it runs under, so members of a branch they did not take do not keep it running.
- `for_range` with batched bounds runs to the largest trip count, with each member active for
  its own trips.
- `check` under a mask checks only the members the mask selects; `debug_print` prints the
  batched values.
- `call` goes to the batched callee, built once per pattern of batched arguments (so recursion
  works); its results are all batched.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..ir.builder import Builder, building, current
from ..ir.core import Array, Atom, Block, DType, Eqn, Func, FuncRef, Lit, Scalar, Tape, Var, lit
from ..ir.subst import clone_block
from ..primitives.registry import NOT_APPLICABLE
from .batchutil import BatchingError, as_batched, batched_type, dims, loop_rule, rank, to_rank

Pair = tuple[Atom, bool]


class _Batch:
    def __init__(self, size: Atom, memo: dict, mask: Atom | None = None) -> None:
        self.env: dict[Var, Pair] = {}
        self.size = size
        self.mask = mask  # a batched bool: the members that run the code being batched
        self.memo = memo  # (id(FuncRef), batched flags, masked) -> FuncRef of the batched callee
        self.tape_news: dict[Var, Eqn] = {}  # tapes made by tape_new, which can be made batched
        self.probing = False  # batching a copy of a loop body only to learn which carries are batched

    # ---- values -----------------------------------------------------------------------------

    def read(self, a: Atom) -> Pair:
        if isinstance(a, Var):
            return self.env.get(a, (a, False))
        return a, False

    def batched(self, a: Atom) -> Atom:
        x, b = self.read(a)
        return self.promote(x, b)

    def promote(self, x: Atom, b: bool) -> Atom:
        if b:
            return x
        if isinstance(x.type, Tape):
            e = self.tape_news.get(x)
            if e is None and self.probing:  # the IR is thrown away: any tape of the type will do
                return Var(batched_type(x.type), "probe")
            if e is None:
                raise BatchingError("vmap: a tape written before the batched part of the program cannot be "
                                    "batched; this is a limitation of vmap over reverse-mode derivatives")
            from ..primitives.ad_support import tape_new

            return tape_new(*e.inputs, elem=batched_type(x.type.elem))
        return as_batched(x, False, self.size)

    def select(self, pred: Atom, a: Atom, b: Atom, r: int) -> Atom:
        """Member-wise `pred ? a : b` for batched `a`, `b` of rank `r` and a batched bool `pred`."""
        from ..primitives.elementwise import select

        if isinstance(a.type, Tape):
            raise BatchingError("vmap: reverse-mode tapes inside control flow on a batched predicate are "
                                "not supported yet")
        return select(to_rank(pred, 0, r), a, b)

    def and_mask(self, p: Atom) -> Atom:
        from ..primitives.elementwise import logical_and

        return p if self.mask is None else logical_and(self.mask, p)

    # ---- the walk -----------------------------------------------------------------------------

    def block(self, b: Block) -> list[Pair]:
        for e in b.eqns:
            self.eqn(e)
        return [self.read(r) for r in b.results]

    def eqn(self, e: Eqn) -> None:
        builder = current()
        saved, builder.loc = builder.loc, e.loc
        try:
            handler = _CONTROL.get(e.prim.name)
            if handler is not None:
                handler(self, e)
            else:
                self.primitive(e)
        finally:
            builder.loc = saved

    def primitive(self, e: Eqn) -> None:
        pairs = [self.read(a) for a in e.inputs]
        if not any(b for _, b in pairs):
            ins = tuple(x for x, _ in pairs)
            current().eqns.append(Eqn(e.prim, ins, e.params, e.outputs, e.loc) if ins != e.inputs else e)
            if e.prim.name == "tape_new":
                self.tape_news[e.outputs[0]] = e
            return
        if self.mask is not None:
            pairs = self.masked_operands(e, pairs)
        rule = e.prim.batch
        if isinstance(rule, NOT_APPLICABLE) or rule is None:
            rule = loop_rule(e.prim)
        args = [x for x, _ in pairs]
        flags = [b for _, b in pairs]
        together = _BATCH_TOGETHER.get(e.prim.name)
        if together:  # a tape and what goes into it are batched together
            args = [self.promote(x, b) if k in together else x for k, (x, b) in enumerate(pairs)]
            flags = [b or k in together for k, (_, b) in enumerate(pairs)]
        outs = rule(args, flags, self.size, **e.params)
        for o, (x, b) in zip(e.outputs, outs):
            self.env[o] = (x, b)

    def masked_operands(self, e: Eqn, pairs: list[Pair]) -> list[Pair]:
        """Under a mask, members that do not run this code must not fail in it: their batched
        indices become 0 (a member past the end of `while i < n and x[i] > 0` reads x[0])."""
        from ..primitives.elementwise import select

        name = e.prim.name
        if name == "list_append":
            raise BatchingError("vmap: appending to a list under a condition (or in a loop) that differs between "
                                "batch members: the lists would have different lengths", e.loc)
        first = {"getitem": 1, "setitem": 2, "scatter_add": 2}.get(name)
        if first is None:
            return pairs
        out = list(pairs)
        for k in range(first, len(pairs)):
            x, b = pairs[k]
            if b and x.type.dtype == DType.int64:
                out[k] = (select(to_rank(self.mask, 0, x.type.ndim - 1), x, lit(0)), True)
        return out

    # ---- control flow ---------------------------------------------------------------------------

    def sub(self, mask: Atom | None) -> "_Batch":
        """A walker for a nested block: shares the values seen so far, with its own mask."""
        s = _Batch(self.size, self.memo, mask)
        s.env = self.env
        s.tape_news = self.tape_news
        s.probing = self.probing
        return s

    def run_block(self, blk: Block, params: Sequence[Pair], mask: Atom | None, force: Sequence[bool] | None = None,
                  clone: bool = False) -> tuple[list[Var], Builder, list[Pair]]:
        """Batches `blk` into a new Builder. Params come in as `params` (their batching); the
        block's results come out batched where `force` says so. Returns the new params, the
        builder, and the result pairs."""
        if clone:
            blk = clone_block(blk, {})
        new_params = []
        for p, (_, b) in zip(blk.params, params):
            v = Var(batched_type(p.type) if b else p.type, p.hint)
            new_params.append(v)
            self.env[p] = (v, b)
        bld = Builder(current().loc)
        with building(bld):
            walker = self.sub(mask)
            walker.probing = self.probing or clone
            res = walker.block(blk)
            if force is not None:
                res = [(self.promote(x, b), True) if f else (x, b) for (x, b), f in zip(res, force)]
        return new_params, bld, res

    def cond(self, e: Eqn) -> None:
        from ..primitives.control import cond

        pred, pb = self.read(e.inputs[0])
        then, orelse = e.params["then"], e.params["orelse"]
        if not pb:
            # both branches batched (once to learn which results are batched, then for real)
            _, _, r1 = self.run_block(then, [], self.mask, clone=True)
            _, _, r2 = self.run_block(orelse, [], self.mask, clone=True)
            force = [b1 or b2 for (_, b1), (_, b2) in zip(r1, r2)]
            _, bt, rt = self.run_block(then, [], self.mask, force)
            _, bo, ro = self.run_block(orelse, [], self.mask, force)
            blocks = [bt.block([], [x for x, _ in rt]), bo.block([], [x for x, _ in ro])]
            outs = cond(pred, then=blocks[0], orelse=blocks[1])
            for o, v, f in zip(e.outputs, outs, force):
                self.env[o] = (v, f)
            return
        from ..primitives.elementwise import logical_not

        m_then = self.and_mask(pred)
        m_else = self.and_mask(logical_not(pred))
        results = []
        for blk, m in ((then, m_then), (orelse, m_else)):
            if _calls(blk):
                results.append(self.guarded(blk, m, e))
            else:
                res = self.sub(m).block(blk)
                results.append([self.promote(x, b) for x, b in res])
        raises = [_always_raises(then), _always_raises(orelse)]
        for o, a, b in zip(e.outputs, *results):
            # a branch that always raises gives placeholders (of any shape): the other one wins
            v = b if raises[0] else a if raises[1] else self.select(pred, a, b, o.type.ndim)
            self.env[o] = (v, True)

    def guarded(self, blk: Block, m: Atom, e: Eqn) -> list[Atom]:
        """A branch run only when some member takes it: `cond(any(m), branch, placeholder)`."""
        from ..primitives.control import cond
        from ..primitives.creation import zeros
        from ..primitives.reductions import reduce_any

        anyp = reduce_any(m, axis=None, keepdims=False)
        _, bt, rt = self.run_block(blk, [], m, [True] * len(blk.results))
        filler = Builder(current().loc)
        with building(filler):
            fills = []
            for o in e.outputs:
                if isinstance(o.type, Scalar):
                    fills.append(zeros(self.size, dtype=o.type.dtype))
                else:
                    raise BatchingError("vmap: a branch on a batched condition that calls a function (recursion) "
                                        "and returns an array is not supported")
        outs = cond(anyp, then=bt.block([], [x for x, _ in rt]), orelse=filler.block([], fills))
        return list(outs)

    def for_range(self, e: Eqn) -> None:
        from ..primitives.control import for_range

        body: Block = e.params["body"]
        bounds = [self.read(a) for a in e.inputs[:3]]
        init = [self.read(a) for a in e.inputs[3:]]
        if any(b for _, b in bounds):
            self.for_batched_bounds(e, bounds, init)
            return
        flags = self.fixpoint(body, [(e.inputs[0], False)], init, lambda pairs: pairs)
        params, bld, res = self.run_block(body, [(None, False), *[(None, f) for f in flags]], self.mask, flags)
        inits = [self.promote(x, b) if f else x for (x, b), f in zip(init, flags)]
        outs = for_range(*(x for x, _ in bounds), *inits, body=bld.block(params, [x for x, _ in res]))
        for o, v, f in zip(e.outputs, outs, flags):
            self.env[o] = (v, f)

    def fixpoint(self, body: Block, lead: list[Pair], init: list[Pair], _: Any) -> list[bool]:
        """Which carries of a loop are batched: those batched on entry or made batched by the body."""
        flags = [b for _, b in init]
        while True:
            _, _, res = self.run_block(body, [*((None, b) for _, b in lead), *((None, f) for f in flags)],
                                       self.mask, clone=True)
            new = [f or b for f, (_, b) in zip(flags, res)]
            if new == flags:
                return flags
            flags = new

    def for_batched_bounds(self, e: Eqn, bounds: list[Pair], init: list[Pair]) -> None:
        """A loop whose bounds differ per member: it runs max(trips) times; member m is active in
        iteration k when k < trips[m], with index start + k * step."""
        from ..primitives.control import for_range
        from ..primitives.elementwise import add, floordiv, lt, maximum, mul, select, sign, sub
        from ..primitives.reductions import reduce_max

        body: Block = e.params["body"]
        start, stop, step = (self.promote(x, b) for x, b in bounds)
        trips = maximum(floordiv(sub(add(sub(stop, start), step), sign(step)), step), lit(0))
        if self.mask is not None:
            trips = select(self.mask, trips, lit(0))
        most = reduce_max(_with_zero(trips), axis=None, keepdims=False)
        k = Var(Scalar(DType.int64), "k")
        carries = [Var(batched_type(p.type), p.hint) for p in body.params[1:]]
        bld = Builder(current().loc)
        with building(bld):
            active = lt(k, trips)
            idx = add(start, mul(k, step))
            self.env[body.params[0]] = (idx, True)
            for p, c in zip(body.params[1:], carries):
                self.env[p] = (c, True)
            res = self.sub(self.and_mask(active) if self.mask is not None else active).block(body)
            new = [self.select(active, self.promote(x, b), c, c.type.ndim - 1) for (x, b), c in zip(res, carries)]
        inits = [self.promote(x, b) for x, b in init]
        outs = for_range(lit(0), most, lit(1), *inits, body=bld.block([k, *carries], new))
        for o, v in zip(e.outputs, outs):
            self.env[o] = (v, True)

    def while_loop(self, e: Eqn) -> None:
        from ..primitives.control import while_loop
        from ..primitives.reductions import reduce_any

        cond_b: Block = e.params["cond"]
        body: Block = e.params["body"]
        init = [self.read(a) for a in e.inputs]
        flags = [b for _, b in init]
        while True:
            _, _, (pc,) = self.run_block(cond_b, [(None, f) for f in flags], self.mask, clone=True)
            if pc[1] or self.mask is not None and any(flags):
                # members stop at different times: every carry that the body changes is batched
                _, _, res = self.run_block(body, [(None, f) for f in flags], self.mask, clone=True)
                new = [f or not (isinstance(r, Var) and r is p) for f, r, p in zip(flags, body.results, body.params)]
                new = [n or b for n, (_, b) in zip(new, res)]
            else:
                _, _, res = self.run_block(body, [(None, f) for f in flags], self.mask, clone=True)
                new = [f or b for f, (_, b) in zip(flags, res)]
            if new == flags:
                break
            flags = new
        _, _, (pc,) = self.run_block(cond_b, [(None, f) for f in flags], self.mask, clone=True)
        member_wise = pc[1] or (self.mask is not None and any(flags))
        inits = [self.promote(x, b) if f else x for (x, b), f in zip(init, flags)]
        if not member_wise:
            cp, cb, (cr,) = self.run_block(cond_b, [(None, f) for f in flags], self.mask)
            bp, bb, br = self.run_block(body, [(None, f) for f in flags], self.mask, flags)
            outs = while_loop(*inits, cond=cb.block(cp, [cr[0]]), body=bb.block(bp, [x for x, _ in br]))
        else:
            # cond: any member still running; body: the members still running take a step
            cp, cb, (cr,) = self.run_block(cond_b, [(None, f) for f in flags], None)
            with building(cb):
                running = self.and_mask(self.promote(*cr))
                anyp = reduce_any(running, axis=None, keepdims=False)
            bp = [Var(batched_type(p.type) if f else p.type, p.hint) for p, f in zip(body.params, flags)]
            bb = Builder(current().loc)
            with building(bb):
                cmap = dict(zip(cond_b.params, bp))
                cblk = clone_block(Block(cond_b.params, cond_b.eqns, cond_b.results), {})
                for p, v, f in zip(cblk.params, bp, flags):
                    self.env[p] = (v, f)
                (rc,) = self.sub(None).block(cblk)
                running_b = self.and_mask(self.promote(*rc))
                for p, v, f in zip(body.params, bp, flags):
                    self.env[p] = (v, f)
                res = self.sub(running_b).block(body)
                new = []
                for (x, b), p, f in zip(res, bp, flags):
                    if f:
                        new.append(self.select(running_b, self.promote(x, b), p, p.type.ndim - 1))
                    else:
                        new.append(x)
            outs = while_loop(*inits, cond=cb.block(cp, [anyp]), body=bb.block(bp, new))
        for o, v, f in zip(e.outputs, outs, flags):
            self.env[o] = (v, f)

    def call(self, e: Eqn) -> None:
        from ..primitives.control import call

        pairs = [self.read(a) for a in e.inputs]
        if not any(b for _, b in pairs) and self.mask is None:
            current().eqns.append(Eqn(e.prim, tuple(x for x, _ in pairs), e.params, e.outputs, e.loc))
            return
        ref = e.params["func"]
        flags = tuple(b for _, b in pairs)
        key = (id(ref), flags, self.mask is not None)
        new_ref = self.memo.get(key)
        if new_ref is None:
            f = ref.func if isinstance(ref, FuncRef) else ref
            in_types = [batched_type(p.type) if b else p.type for p, b in zip(f.params, flags)]
            if self.mask is not None:
                in_types.append(Array(DType.bool, 1))
            new_ref = FuncRef(f"vmap_{f.name}", tuple(in_types), tuple(batched_type(t) for t in ref.out_types))
            self.memo[key] = new_ref
            new_ref.func = batch_func(f, list(flags), memo=self.memo, masked=self.mask is not None,
                                      name=new_ref.name)
        args = [x for x, _ in pairs] + ([self.mask] if self.mask is not None else [])
        outs = call(*args, func=new_ref)
        for o, v in zip(e.outputs, outs):
            self.env[o] = (v, True)

    def custom(self, e: Eqn) -> None:
        # Under vmap the user's rule is not applied: the batched call runs (and is
        # differentiated through) the primal body.
        self.call(Eqn(_call_prim(), e.inputs, {"func": e.params["func"]}, e.outputs, e.loc))

    def check(self, e: Eqn) -> None:
        from ..primitives.control import check
        from ..primitives.elementwise import logical_not, logical_or
        from ..primitives.reductions import reduce_all

        ok, b = self.read(e.inputs[0])
        if not b and self.mask is None:
            current().eqns.append(Eqn(e.prim, (ok,), e.params, e.outputs, e.loc))
            return
        ok = self.promote(ok, b)
        if self.mask is not None:
            ok = logical_or(logical_not(self.mask), ok)
        check(reduce_all(ok, axis=None, keepdims=False), **e.params)


def _with_zero(trips: Atom) -> Atom:
    """`trips` with a 0 appended, so that its max is defined for an empty batch."""
    from ..primitives.shape import concatenate

    return concatenate(trips, lit_array_zero(), axis=0)


def lit_array_zero() -> Atom:
    from ..primitives.creation import zeros

    return zeros(lit(1), dtype=DType.int64)


def _always_raises(b: Block) -> bool:
    return any(e.prim.name == "check" and isinstance(e.inputs[0], Lit) and not e.inputs[0].value for e in b.eqns)


def _calls(b: Block) -> bool:
    for e in b.eqns:
        if e.prim.name in ("call", "custom_jvp_call", "custom_vjp_call"):
            return True
        for blk in e.params.values():
            if isinstance(blk, Block) and _calls(blk):
                return True
    return False


def _call_prim():
    from ..primitives.control import call

    return call


# operands that must be batched together: a tape and the values written into it
_BATCH_TOGETHER = {"tape_push": (0, 1), "tape_add": (0, 1), "tape_add_at": (0, 2)}

_CONTROL = {
    "cond": _Batch.cond,
    "for_range": _Batch.for_range,
    "while_loop": _Batch.while_loop,
    "call": _Batch.call,
    "custom_jvp_call": _Batch.custom,
    "custom_vjp_call": _Batch.custom,
    "check": _Batch.check,
}


def batch_func(f: Func, batched: Sequence[bool], memo: dict | None = None, masked: bool = False,
               name: str | None = None) -> Func:
    """`f` batched: params where `batched` is true take a leading batch axis; all results have
    one. With `masked`, a last param (a batched bool) says which members run; the others'
    results are unspecified."""
    if not any(batched):
        raise BatchingError("vmap needs at least one batched argument")
    memo = {} if memo is None else memo
    params = [Var(batched_type(p.type) if b else p.type, p.hint) for p, b in zip(f.params, batched)]
    mask = Var(Array(DType.bool, 1), "mask") if masked else None
    bld = Builder(f.loc)
    with building(bld):
        from ..primitives.indexing import dim

        first = next(p for p, b in zip(params, batched) if b)
        size = dim(first, axis=0)
        t = _Batch(size, memo, mask)
        for p, v, b in zip(f.params, params, batched):
            t.env[p] = (v, b)
        res = t.block(f.body)
        outs = [t.promote(x, b) for x, b in res]
    return Func(name or f"vmap_{f.name}", bld.block([*params, *([mask] if mask is not None else [])], outs),
                f.in_tree, f.out_tree, f.loc)


def loop_func(f: Func, batched: Sequence[bool], name: str | None = None) -> Func:
    """`f` mapped over the batch by a loop (the same signature as `batch_func`): each member runs
    the unbatched code. The native backend uses this where the unbatched code is scalar loops."""
    from ..ir.subst import inline
    from ..primitives.indexing import dim
    from .batchutil import loop_over_batch

    params = [Var(batched_type(p.type) if b else p.type, p.hint) for p, b in zip(f.params, batched)]
    bld = Builder(f.loc)
    with building(bld):
        first = next(p for p, b in zip(params, batched) if b)
        size = dim(first, axis=0)
        outs = loop_over_batch(lambda *xs: inline(f, list(xs)), params, batched, size)
    return Func(name or f"vmap_{f.name}", bld.block(params, [x for x, _ in outs]), f.in_tree, f.out_tree, f.loc)


def unbatched_results(f: Func, batched: Sequence[bool]) -> list[bool]:
    """Which results of `f` do not depend on its batched params."""
    from ..primitives.indexing import dim

    params = [Var(batched_type(p.type) if b else p.type, p.hint) for p, b in zip(f.params, batched)]
    with building(Builder(f.loc)):
        size = dim(next(p for p, b in zip(params, batched) if b), axis=0)
        t = _Batch(size, {})
        for p, v, b in zip(f.params, params, batched):
            t.env[p] = (v, b)
        return [not b for _, b in t.block(clone_block(Block((), f.body.eqns, f.body.results), {}))]
