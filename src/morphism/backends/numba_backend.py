"""The native backend: IR -> readable Python source -> `numba.njit(cache=True)`.

Loops stay loops, `cond` is an `if`, `while_loop` a `while True` with a break, `call` a call of
another generated function (recursion included). Each primitive is lowered by its `numba` rule
(a template string over its inputs, or a function of the generator and the equation); a
primitive without one runs its reference implementation in `numba.objmode`, so everything
compiles, and the slow path is visible in the generated source.

`setitem` and `scatter_add` write in place when the array they update is owned (not an
argument, a literal or a view) and dead afterwards (see `_Liveness`); otherwise they copy.

The source is written to MORPHISM_CACHE_DIR (default: the user's cache dir) under a name made
from its hash, and imported from there, so a second process reuses Numba's compiled code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import keyword
import os
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..ir.core import Array, Atom, Block, DType, Eqn, Func, FuncRef, Lit, Scalar, Tape, Type, Var, defined_vars, free_vars
from ..ir.printer import called_funcs
from .interpreter import coerce, run_func

SUPPORT = "morphism.backends.numba_support"


class Unsupported(Exception):
    """The native backend cannot compile this IR (the caller falls back to the interpreter)."""


def cache_dir() -> Path:
    d = os.environ.get("MORPHISM_CACHE_DIR")
    if d:
        p = Path(d)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        p = Path(base) / "morphism"
    p.mkdir(parents=True, exist_ok=True)
    return p


# ---- types as Numba spells them ----------------------------------------------------------------

_NB_DTYPE = {d: ("boolean" if d == DType.bool else d.value) for d in DType}
_NP_DTYPE = {d: ("np.bool_" if d == DType.bool else f"np.{d.value}") for d in DType}


def nb_type(t: Type) -> str:
    if isinstance(t, Scalar):
        return _NB_DTYPE[t.dtype]
    if isinstance(t, Array):
        return f"{_NB_DTYPE[t.dtype]}[{', '.join([':'] * t.ndim)}]"
    raise Unsupported(f"values of type {t} cannot cross into object mode")


def np_dtype(t: Type | DType) -> str:
    return _NP_DTYPE[t if isinstance(t, DType) else t.dtype]


# ---- ownership and liveness for in-place updates -----------------------------------------------

VIEW_PRIMS = {"getitem", "transpose", "reshape", "broadcast_to", "squeeze"}


def _is_view(e: Eqn) -> bool:
    """Results that may share memory with their first input in the generated code."""
    if e.prim.name not in VIEW_PRIMS or not e.outputs or not isinstance(e.outputs[0].type, Array):
        return False
    if e.prim.name == "getitem":
        return not any(s in ("a", "m") for s in e.params["spec"])
    return True


class _Liveness:
    """For each in-place candidate equation: is its array input dead after it, and owned?"""

    def __init__(self, func: Func, aliasing: frozenset[int] = frozenset(), donated: frozenset[int] = frozenset()) -> None:
        self.aliasing = aliasing  # id(eqn) of sum_to_shape that return their input where nothing is summed
        self.inplace: set[int] = set()  # id(eqn) of setitem/scatter_add done in place
        self.base: dict[Var, Var] = {}  # view -> the array it may share memory with
        self.owned: set[Var] = set()
        self.copy_init: set[tuple[int, int]] = set()  # (id(loop eqn), carry k) copied at entry
        self.copy_back: set[tuple[int, int]] = set()  # (id(loop eqn), carry k) copied at the back edge
        self.cond_of: dict[Var, tuple[Eqn, int]] = {}  # cond result -> (its cond, its index)
        self.tape_kept: set[int] = set()  # id(eqn) of tape_push whose pushed-to tape is read later
        self._collect(func.body, top=True)
        # arguments the function writes into (NumPy semantics): their buffers are written in place
        self.owned.update(func.params[i] for i in donated)
        self._block(func.body, set(func.body.results) & _vars_set(func.body.results))

    def _collect(self, b: Block, top: bool = False) -> None:
        for e in b.eqns:
            if e.prim.name == "cond":
                for k, o in enumerate(e.outputs):
                    self.cond_of[o] = (e, k)
            if (_is_view(e) or id(e) in self.aliasing) and isinstance(e.inputs[0], Var):
                self.base[e.outputs[0]] = e.inputs[0]
            elif e.prim.name not in ("cond", "call", "custom_jvp_call", "custom_vjp_call"):
                for o in e.outputs:
                    if isinstance(o.type, Array):
                        self.owned.add(o)
            for sub in e.blocks():
                self._collect(sub)

    def roots(self, v: Var) -> list[Var]:
        out = [v]
        while v in self.base:
            v = self.base[v]
            out.append(v)
        return out

    def sources(self, v: Var) -> set[Var]:
        """The arrays whose memory `v` may be (a view of): through views and the branches of a
        `cond` (a non-Var branch result, a constant, is copied by the generator)."""
        out: set[Var] = set()
        for r in self.roots(v):
            if r in self.cond_of:
                e, k = self.cond_of[r]
                for br in e.blocks():
                    if isinstance(br.results[k], Var):
                        out |= self.sources(br.results[k])
            elif r not in self.base:
                out.add(r)
        return out

    def _dead_sources(self, x: Var, live: set[Var]) -> bool:
        """A `cond` result whose every possible buffer (the branches' results, through nested
        conds) is owned and dead here may be written in place: `if c: a[i] = v` followed by
        `a[j] = w` (each write after an `if` copied the whole array)."""
        if x not in self.cond_of:
            return False
        srcs = self.sources(x)
        return bool(srcs) and all(s in self.owned and s not in live and s not in self.base for s in srcs)

    def _mark(self, live: set[Var], atoms) -> None:
        for a in atoms:
            if isinstance(a, Var):
                live.update(self.roots(a))

    def _block(self, b: Block, live_out: set[Var]) -> None:
        live = set(live_out)
        self._mark(live, b.results)
        for e in reversed(b.eqns):
            name = e.prim.name
            if name in ("setitem", "scatter_add", "sum_to_shape"):
                # (sum_to_shape with nothing to sum may then return its dead input itself)
                x = e.inputs[0]
                if isinstance(x, Var) and x not in live and x not in self.base and (
                        x in self.owned or self._dead_sources(x, live)):
                    self.inplace.add(id(e))
                    self.owned.add(e.outputs[0])
            elif name == "cond":
                for sub in e.blocks():
                    self._block(sub, live)
                # A cond result is owned when both branches yield owned values.
                for k, o in enumerate(e.outputs):
                    if isinstance(o.type, Array) and all(
                        isinstance(sb.results[k], Var) and sb.results[k] in self.owned for sb in e.blocks()
                    ):
                        self.owned.add(o)
            elif name in ("for_range", "while_loop"):
                self._loop(e, live)
            elif name == "tape_push" and e.inputs[0] in live:
                self.tape_kept.add(id(e))  # a tape of tapes saves it (reverse over reverse mode)
            if name not in ("dim", "size"):  # a shape query reads no data: writes in place keep shapes
                self._mark(live, e.inputs)
            for sub in e.blocks():
                self._mark(live, free_vars(sub))
            live.difference_update(e.outputs)

    def _loop(self, e: Eqn, live_after: set[Var]) -> None:
        is_for = e.prim.name == "for_range"
        body: Block = e.params["body"]
        lead = 3 if is_for else 0
        carries = body.params[1:] if is_for else body.params
        # Inside the body, the values read from outside stay alive for every iteration.
        body_live = set(free_vars(body))
        if not is_for:
            body_live |= set(free_vars(e.params["cond"]))
        taken: set[Var] = set()
        for k, (p, init) in enumerate(zip(carries, e.inputs[lead:])):
            if not isinstance(p.type, Array):
                continue
            # A carry is owned inside the body if its initial value is owned, dead after the
            # loop, not read by the body, and not the initial value of another carry too (CSE
            # merges `a = np.zeros(n); b = np.zeros(n)`); otherwise the generated code copies
            # the initial value once.
            if not (isinstance(init, Var) and init not in live_after and init not in self.base
                    and init not in taken and init not in body_live
                    and (init in self.owned or self._dead_sources(init, live_after | body_live))):
                self.copy_init.add((id(e), k))
            if isinstance(init, Var):
                taken.add(init)
            self.owned.add(p)
        if not is_for:
            self._block(e.params["cond"], body_live | set(body.params))
        self._block(body, body_live)
        # The body writes its array carries in place, so each must start the next iteration
        # with a buffer of its own too: a value the body yields to two carries (the tangent of
        # `u = u_next.copy()` is u_next's tangent itself), or one it does not own (a value
        # from outside the loop, which the next iteration reads again; a call's result), is
        # copied at the back edge.
        defined = defined_vars(body)
        yielded: set[Var] = set()
        for k, (p, r) in enumerate(zip(carries, body.results)):
            if not (isinstance(p.type, Array) and isinstance(r, Var)):
                continue
            src = self.sources(r)
            if not src <= defined & self.owned or src & yielded:
                self.copy_back.add((id(e), k))
            yielded |= src
        for k, o in enumerate(e.outputs):
            if isinstance(o.type, Array):
                self.owned.add(o)


def _liveness(f: Func, donated: frozenset[int] = frozenset()) -> _Liveness:
    """The liveness of `f`, in two rounds. A `sum_to_shape` with nothing to sum takes its input
    over where that is dead (first round); where it is not, it returns the input itself, a
    view, rather than a copy (second round, with those results as views of their input: the
    reads and writes after them see the sharing). The cotangent of a view, `ct[:, j]`, is then
    read in place: no copy per iteration of a loop."""
    first = _Liveness(f, donated=donated)
    eqns = list(_all_eqns(f.body))
    # An array written in place stays so: no view of it is taken where it is written later (the
    # setitem's vjp reads `ct[idx]`, then zeroes it in place: a view would cost a copy of `ct`).
    written = {r for e in eqns if id(e) in first.inplace and isinstance(e.inputs[0], Var)
               for r in first.roots(e.inputs[0])}
    aliasing = frozenset(id(e) for e in eqns if e.prim.name == "sum_to_shape"
                         and id(e) not in first.inplace and isinstance(e.inputs[0], Var)
                         and len(e.inputs) - 1 == e.inputs[0].type.ndim > 0
                         and not written.intersection(first.roots(e.inputs[0])))
    if not aliasing:
        return first
    second = _Liveness(f, aliasing, donated)
    return second if first.inplace - aliasing <= second.inplace else first


def _all_eqns(b: Block):
    for e in b.eqns:
        yield e
        for sub in e.blocks():
            yield from _all_eqns(sub)


def _vars_set(atoms) -> set[Var]:
    return {a for a in atoms if isinstance(a, Var)}


# ---- the generator -------------------------------------------------------------------------------


class Gen:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.globals: list[str] = []
        self.names: dict[Var, str] = {}
        self.used: set[str] = set()
        self.depth = 1
        self.fallbacks: dict[str, Callable] = {}
        self.funcs: dict[int, str] = {}  # id(FuncRef or Func) -> generated name
        self.pending: list[tuple[str, Func]] = []
        self.live: _Liveness | None = None
        self.donated: dict[int, frozenset[int]] = {}  # id(Func) -> parameters it may write in place
        self.entry: Func | None = None
        self.consts: list[Any] | None = None  # captured arrays: extra parameters of the entry function
        self.const_names: list[str] = []
        self.entry_consts: list[Any] = []
        self.reserved: set[int] = set()  # ids of tape_push eqns whose room is reserved before their loop

    # names (a tape is two locals: its buffer and its length)
    def name(self, v: Var) -> str:
        if isinstance(v.type, Tape):
            n = self._name(v)
            return f"{n}_buf, {n}_n"
        return self._name(v)

    def array_type(self, t: Array) -> str:
        """A module-level Numba type for C-contiguous arrays of type `t` (typed List elements)."""
        g = f"_ty_{_NB_DTYPE[t.dtype]}_{t.ndim}"
        decl = f"{g} = numba.types.Array(numba.types.{_NB_DTYPE[t.dtype]}, {t.ndim}, 'C')"
        if decl not in self.globals:
            self.globals.append(decl)
        return g

    def tape_elem_type(self, t: Type) -> str:
        """The Numba type of one entry of a typed-List tape: a C-contiguous array, or for a tape
        of tapes the (buffer, length) pair of the inner tape."""
        if isinstance(t, Array):
            return self.array_type(t)
        if isinstance(t, Tape):
            buf = (self.array_type(Array(t.elem.dtype, 1)) if isinstance(t.elem, Scalar)
                   else f"numba.types.ListType({self.tape_elem_type(t.elem)})")
            g = f"_ty_tape{len(self.globals)}"
            self.globals.append(f"{g} = numba.types.Tuple(({buf}, numba.types.int64))")
            return g
        raise Unsupported(f"a tape of {t}")

    def coalesce(self, new: Var, old: Var) -> None:
        """`new` replaces the dead `old` in place: both are the same Python local."""
        self.names[new] = self._name(old)

    def _name(self, v: Var) -> str:
        n = self.names.get(v)
        if n is None:
            n = self.names[v] = self._fresh(v.hint or "t")
        return n

    def _fresh(self, hint: str) -> str:
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in hint)
        if not base or base[0].isdigit() or keyword.iskeyword(base) or base in ("np", "numba", "sup"):
            base = "v_" + base
        n, k = base, 1
        while n in self.used:
            n = f"{base}_{k}"
            k += 1
        self.used.add(n)
        return n

    def atom(self, a: Atom) -> str:
        if isinstance(a, Var):
            return self.name(a)
        if isinstance(a.type, Array) and a.name and self.consts is not None:
            # a captured array: a parameter of the entry function, passed at every call (no data in
            # the source, and a change the caller makes in place is seen)
            k = next((i for i, c in enumerate(self.consts) if c is a.value), None)
            if k is None:
                k = len(self.consts)
                self.consts.append(a.value)
                self.const_names.append(self._fresh("_cap_" + a.name))
            return self.const_names[k]
        if isinstance(a.type, Array):
            g = f"_const{len(self.globals)}"
            arr = np.asarray(a.value)
            self.globals.append(f"{g} = np.array({arr.tolist()!r}, dtype={np_dtype(a.type)}).reshape({arr.shape!r})")
            return g
        v = a.value
        if isinstance(v, bool):
            return "True" if v else "False"
        if isinstance(v, complex):
            text = f"complex({self._float_text(v.real)}, {self._float_text(v.imag)})"
        elif isinstance(v, float):
            text = self._float_text(v)
        else:
            text = repr(int(v))
        if a.type.dtype not in (DType.float64, DType.int64, DType.complex128):
            # a literal of another dtype keeps it, so that Numba computes in that dtype too
            return f"{np_dtype(a.type)}({text})"
        return text

    @staticmethod
    def _float_text(v: float) -> str:
        if v != v:
            return "np.nan"
        if v in (float("inf"), float("-inf")):
            return "np.inf" if v > 0 else "(-np.inf)"
        return repr(v)

    def value(self, a: Atom) -> str:
        """`a` where it becomes a variable's value (a branch's or loop's result, a function's
        result): an array constant is a read-only global in Numba, so it is copied."""
        if isinstance(a, Lit) and isinstance(a.type, Array):
            return f"{self.atom(a)}.copy()"
        return self.atom(a)

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    # functions
    def func_name(self, f: Func, ref: Any = None) -> str:
        key = id(ref) if ref is not None else id(f)
        n = self.funcs.get(key)
        if n is None:
            base = "".join(c if c.isalnum() else "_" for c in f.name)
            n = f"f{len(self.funcs)}_{base}"
            self.funcs[key] = n
            self.pending.append((n, f))
        return n

    def function(self, name: str, f: Func) -> list[str]:
        saved = (self.lines, self.depth, self.live)
        self.lines, self.depth = [], 1
        self.live = _liveness(f, self.donated.get(id(f), frozenset()))
        params = ", ".join(self.name(p) for p in f.params)
        self.consts = [] if f is self.entry else None
        self.block_eqns(f.body)
        res = ", ".join(self.value(r) for r in f.results)
        self.emit(f"return ({res}{',' if len(f.results) == 1 else ''})")
        if self.consts:
            params = ", ".join([*(self.name(p) for p in f.params), *self.const_names])
        self.consts = self.consts if f is self.entry else None
        body = self.lines
        if any(line.lstrip().startswith("with numba.objmode(") for line in body):
            # Numba sets up object mode where it first lowers an objmode block and reuses that set-up
            # in the later ones; if the first one sits in a loop or a branch, it does not dominate
            # them and LLVM rejects the function (numba/numba#9574). Set it up on entry.
            body = ["    with numba.objmode():  # sets up object mode on entry (numba/numba#9574)",
                    "        pass", *body]
        self.lines, self.depth, self.live = saved
        return [f"@numba.njit(cache=True, error_model='numpy')", f"def {name}({params}):", *body, ""]

    # blocks and equations
    def block_eqns(self, b: Block) -> None:
        for e in b.eqns:
            self.eqn(e)

    def assign(self, outs: tuple[Var, ...], rhs: str) -> None:
        if not outs:
            self.emit(rhs)
        elif len(outs) == 1:
            self.emit(f"{self.name(outs[0])} = {rhs}")
        else:
            self.emit(f"{', '.join(self.name(o) for o in outs)} = {rhs}")

    def eqn(self, e: Eqn) -> None:
        ctl = _CONTROL.get(e.prim.name)
        if ctl is not None:
            ctl(self, e)
            return
        rule = e.prim.numba
        ins = [self.atom(a) for a in e.inputs]
        if isinstance(rule, str):
            self.assign(e.outputs, rule.format(*ins, **e.params))
        elif callable(rule):
            out = rule(self, e, ins)
            if out is not None:
                self.assign(e.outputs, out)
        else:
            self.fallback(e, ins)

    def fallback(self, e: Eqn, ins: list[str]) -> None:
        """Runs the primitive's reference implementation in object mode."""
        key = f"_impl_{e.prim.name}_{len(self.fallbacks)}"
        impl = e.prim.impl
        if impl is None:
            raise Unsupported(f"{e.prim.name} has neither a native lowering nor an implementation")
        params = dict(e.params)
        self.fallbacks[key] = (lambda impl=impl, params=params: (lambda *a: impl(*a, **params)))()
        # The params go into the source: functions whose code differs only in them (two einsum
        # specs) must not share a cached module.
        self.globals.append(f"{key} = sup.fallback({key!r})  # {params!r}")
        outs = e.outputs
        ann = ", ".join(f"{self.name(o)}={nb_type(o.type)!r}" for o in outs)
        self.emit(f"with numba.objmode({ann}):")
        self.depth += 1
        call = f"{key}({', '.join(ins)})"
        if not outs:
            self.emit(call)
        elif e.prim.multiple_results:
            tmp = "_r"
            self.emit(f"{tmp} = {call}")
            for k, o in enumerate(outs):
                self.emit(f"{self.name(o)} = sup.coerce({tmp}[{k}], {np_dtype(o.type)}, {o.type.ndim})")
        else:
            self.emit(f"{self.name(outs[0])} = sup.coerce({call}, {np_dtype(outs[0].type)}, {outs[0].type.ndim})")
        self.depth -= 1
        if len(outs) > 1:  # Numba refuses annotations of results that are not read after the block
            names = ", ".join(self.name(o) for o in outs)
            self.emit(f"{names} = {names}")

    def in_place(self, e: Eqn) -> bool:
        return self.live is not None and id(e) in self.live.inplace

    def aliased(self, e: Eqn) -> bool:
        """A sum_to_shape whose result may be its input itself (see `_liveness`)."""
        return self.live is not None and id(e) in self.live.aliasing


# ---- control flow ---------------------------------------------------------------------------------


def _cond(g: Gen, e: Eqn) -> None:
    then, orelse = e.params["then"], e.params["orelse"]
    g.emit(f"if {g.atom(e.inputs[0])}:")
    for k, br in enumerate((then, orelse)):
        if k == 1:
            g.emit("else:")
        g.depth += 1
        start_line = len(g.lines)
        g.block_eqns(br)
        if e.outputs:
            g.assign(e.outputs, ", ".join(g.value(r) for r in br.results))
        if len(g.lines) == start_line:
            g.emit("pass")
        g.depth -= 1


def _carry_init(g: Gen, e: Eqn, params: tuple[Var, ...], inits: tuple[Atom, ...]) -> None:
    for k, (p, a) in enumerate(zip(params, inits)):
        src = g.value(a)
        if g.live is not None and (id(e), k) in g.live.copy_init:
            src = f"{src}.copy()"
        g.emit(f"{g.name(p)} = {src}")


def _carry_update(g: Gen, e: Eqn, params: tuple[Var, ...], results: tuple[Atom, ...]) -> None:
    pairs = []
    for k, (p, r) in enumerate(zip(params, results)):
        if g.live is not None and (id(e), k) in g.live.copy_back:
            pairs.append((g.name(p), f"{g.atom(r)}.copy()"))
        elif not (isinstance(r, Var) and g.name(r) == g.name(p)):
            pairs.append((g.name(p), g.value(r)))
    if pairs:
        g.emit(f"{', '.join(a for a, _ in pairs)} = {', '.join(b for _, b in pairs)}"
               + ("," if len(pairs) == 1 and False else ""))


def _read_in_nested_blocks(body: Block, vs: set[Var]) -> bool:
    return any(v in vs for q in body.eqns for b in q.params.values() if isinstance(b, Block) for v in free_vars(b))


def _fixed_pushes(body: Block, carries: list[Var]) -> list[tuple[Var, list[Eqn]]]:
    """The tapes of scalars carried by a loop and pushed a fixed number of times per iteration
    (at the top level of the body, the usual shape of reverse mode's forward sweep), with their
    pushes."""
    out = []
    for k, p in enumerate(carries):
        if not (isinstance(p.type, Tape) and isinstance(p.type.elem, Scalar)):
            continue
        cur, pushes = p, []
        for q in body.eqns:
            if cur in q.inputs:
                if q.prim.name != "tape_push" or q.inputs[0] is not cur:
                    break
                pushes.append(q)
                cur = q.outputs[0]
        else:
            chain = {p, *(q.outputs[0] for q in pushes)}
            if body.results[k] is not cur or not pushes or _read_in_nested_blocks(body, chain):
                continue
            out.append((p, pushes))
    return out


def _reserve(g: Gen, tapes: list[tuple[Var, list[Eqn]]], trips: str) -> None:
    """Room for `trips` more iterations' pushes, made before the loop (or the chunk of a while
    loop), so that the pushes in the loop write without a check. Growing inside the loop would
    reassign the buffer there, and Numba then reference-counts it on every iteration (3x slower
    on the Lorenz gradient)."""
    for p, pushes in tapes:
        buf, n = g._name(p) + "_buf", g._name(p) + "_n"
        g.emit(f"{buf} = sup.reserve({buf}, {n} + {len(pushes)} * {trips})")
        g.reserved.update(id(q) for q in pushes)


def _reserve_tapes(g: Gen, e: Eqn, carries: list[Var]) -> None:
    body: Block = e.params["body"]
    tapes = _fixed_pushes(body, carries)
    if tapes:
        start, stop, step = e.inputs[:3]
        trip = "_trip" + g._name(body.params[0])
        g.emit(f"{trip} = sup.range_len({g.atom(start)}, {g.atom(stop)}, {g.atom(step)})")
        _reserve(g, tapes, trip)


def _for(g: Gen, e: Eqn) -> None:
    body: Block = e.params["body"]
    start, stop, step, *init = e.inputs
    idx, *carries = body.params
    _carry_init(g, e, tuple(carries), tuple(init))
    _reserve_tapes(g, e, carries)
    rng = f"{g.atom(start)}, {g.atom(stop)}" + ("" if isinstance(step, Lit) and step.value == 1 else f", {g.atom(step)}")
    g.emit(f"for {g.name(idx)} in range({rng}):")
    g.depth += 1
    start_line = len(g.lines)
    g.block_eqns(body)
    _carry_update(g, e, tuple(carries), body.results)
    if len(g.lines) == start_line:  # nothing to do (carries passed through unchanged)
        g.emit("pass")
    g.depth -= 1
    for o, p in zip(e.outputs, carries):
        g.emit(f"{g.name(o)} = {g.name(p)}")


def _while(g: Gen, e: Eqn) -> None:
    cond: Block = e.params["cond"]
    body: Block = e.params["body"]
    _carry_init(g, e, body.params, e.inputs)
    for cp, bp in zip(cond.params, body.params):
        g.coalesce(cp, bp)  # the condition reads the carries as they are
    tapes = _fixed_pushes(body, list(body.params))
    if tapes:
        # In chunks: room for `chunk` iterations' pushes is made between chunks (the chunk
        # doubles), so that no tape buffer is reassigned in the inner loop (see _reserve).
        chunk = g._name(Var(Scalar(DType.int64), "_chunk"))
        done = g._name(Var(Scalar(DType.bool), "_done"))
        g.emit(f"{chunk}, {done} = 16, False")
        g.emit(f"while not {done}:")
        g.depth += 1
        _reserve(g, tapes, chunk)
        g.emit(f"for {g._name(Var(Scalar(DType.int64), '_it'))} in range({chunk}):")
        g.depth += 1
        g.block_eqns(cond)
        g.emit(f"if not {g.atom(cond.results[0])}:")
        g.emit(f"    {done} = True")
        g.emit("    break")
        g.block_eqns(body)
        _carry_update(g, e, body.params, body.results)
        g.depth -= 1
        g.emit(f"{chunk} *= 2")
        g.depth -= 1
    else:
        g.emit("while True:")
        g.depth += 1
        g.block_eqns(cond)
        g.emit(f"if not {g.atom(cond.results[0])}:")
        g.emit("    break")
        g.block_eqns(body)
        _carry_update(g, e, body.params, body.results)
        g.depth -= 1
    for o, p in zip(e.outputs, body.params):
        g.emit(f"{g.name(o)} = {g.name(p)}")


def _call(g: Gen, e: Eqn) -> None:
    ref = e.params["func"]
    f = ref.func if isinstance(ref, FuncRef) else ref
    name = g.func_name(f, ref)
    rhs = f"{name}({', '.join(g.atom(a) for a in e.inputs)})"
    if len(e.outputs) == 1 and not isinstance(e.outputs[0].type, Tape):
        g.emit(f"{g.name(e.outputs[0])} = {rhs}[0]")
    elif e.outputs:
        g.assign(e.outputs, rhs)
    else:
        g.emit(rhs)


def _check(g: Gen, e: Eqn) -> None:
    exc = e.params["exc"]
    name = exc.__name__ if getattr(__import__("builtins"), exc.__name__, None) is exc else "AssertionError"
    g.emit(f"if not {g.atom(e.inputs[0])}:")
    g.emit(f"    raise {name}({e.params['message']!r})")


_CONTROL = {"cond": _cond, "for_range": _for, "while_loop": _while, "call": _call,
            "custom_jvp_call": _call, "custom_vjp_call": _call, "check": _check}


# ---- compiling and loading ------------------------------------------------------------------------


def _exact_kind(t: Type) -> type | None:
    """The Python type whose values Numba takes for `t` without conversion (arrays: none, as their
    dtype and ndim must be checked)."""
    if isinstance(t, Scalar):
        return {DType.float64: float, DType.int64: int, DType.bool: bool, DType.complex128: complex}.get(
            t.dtype, t.dtype.np.type)
    return None


class NativeFunction:
    """A compiled Func: call it with the flat list of argument leaves.

    From the trace cache, `func` is a function that traces the Func again (needed only when the
    interpreter must run it) and `types` gives the (parameter, result) types."""

    def __init__(self, func: Func | Callable[[], Func], source: str, entry: Callable, path: Path,
                 fallbacks: dict | None = None, types: tuple[list[Type], list[Type]] | None = None,
                 consts: list[Any] | None = None) -> None:
        self._func = func
        self.consts = consts or []  # the captured arrays, passed after the arguments
        self.source = source
        self.entry = entry
        self.path = path
        self.fallbacks = fallbacks or {}  # object-mode implementations the module looks up
        self.params, self.results = types or ([p.type for p in func.params], [r.type for r in func.results])
        self._kinds = [_exact_kind(t) for t in self.params]
        # results: Numba gives Python numbers for scalars; they become NumPy scalars
        self._out = [t.dtype.np.type if isinstance(t, Scalar) else None for t in self.results]
        self._compiled = False  # set after a first call that compiled (or loaded from the cache)

    @property
    def func(self) -> Func:
        if not isinstance(self._func, Func):
            self._func = self._func()
        return self._func

    def __call__(self, leaves: list[Any]) -> list[Any]:
        # Arguments of the exact run-time type pass as they are (the common case, and Numba's
        # dispatch is then one type lookup); others are converted, so that Numba never compiles
        # a second specialisation for an int given where a float is declared.
        args = [x if type(x) is k else coerce(x, t) for x, t, k in zip(leaves, self.params, self._kinds)]
        if self.entry is None:
            return run_func(self.func, args)
        args += self.consts
        if self._compiled:
            outs = self.entry(*args)
            return [conv(v) if conv is not None else coerce(v, t) for v, t, conv in zip(outs, self.results, self._out)]
        try:
            outs = self.entry(*args)
        except Exception as e:
            if getattr(self.entry, "signatures", None):
                raise  # compiled fine: an error of the program itself (an assert, a raise)
            # Numba compiles on the first call; if it cannot, the interpreter runs this function
            # from now on (correct, slower), and says so once.
            import warnings

            from ..api import MorphismPerformanceWarning

            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            warnings.warn(f"morphism: Numba could not compile {self.func.name} ({first}); running it with "
                          f"the interpreter. The generated source is {self.path}", MorphismPerformanceWarning,
                          stacklevel=3)
            self.entry = None
            return run_func(self.func, args[:len(self.params)])
        self._compiled = True
        self.fast = self._fast_path()
        return [coerce(v, t) for v, t in zip(outs, self.results)]

    def _fast_path(self) -> Callable[[Any], list[Any]]:
        """`self` for later calls, generated for this signature: the arguments' types checked
        and the results converted inline (a call costs about 1 µs over Numba's own dispatch,
        rather than 3 through the general loops); other argument types take the general path."""
        n = len(self.params)
        if any(k is None for k in self._kinds):
            return self
        a = [f"a{i}" for i in range(n)]
        outs = ", ".join(f"c{j}(r[{j}])" if c is not None else f"coerce(r[{j}], t{j})" for j, c in enumerate(self._out))
        check = " and ".join(f"type(a{i}) is k{i}" for i in range(n)) or "True"
        caps = [f"cap[{j}]" for j in range(len(self.consts))]
        src = (f"def fast(leaves):\n"
               + (f"    {', '.join(a)}, = leaves\n" if n else "")
               + f"    if {check}:\n"
               + f"        r = entry({', '.join(a + caps)})\n"
               + f"        return [{outs}]\n"
               + "    return slow(leaves)\n")
        env: dict[str, Any] = {"entry": self.entry, "slow": self, "coerce": coerce, "cap": self.consts}
        env.update({f"k{i}": k for i, k in enumerate(self._kinds)})
        env.update({f"c{j}": c for j, c in enumerate(self._out)})
        env.update({f"t{j}": t for j, t in enumerate(self.results)})
        exec(compile(src, f"<morphism fast call of {self.path.name}>", "exec"), env)
        return env["fast"]



def generate(func: Func, donated: frozenset[int] = frozenset()) -> tuple[str, str, dict]:
    """The module's source for `func`; `donated`: indices of the parameters whose buffers the
    function may write (arguments it writes into, as NumPy code does)."""
    g = Gen()
    g.donated = {id(func): donated}
    g.entry = func
    entry = g.func_name(func)
    chunks: list[list[str]] = []
    done: set[str] = set()
    while g.pending:
        name, f = g.pending.pop(0)
        if name in done:
            continue
        done.add(name)
        chunks.append(g.function(name, f))
        if f is func:
            g.entry_consts = list(g.consts or [])
    header = [
        f'"""Generated by morphism from {func.name} (do not edit: regenerated from the IR)."""',
        "import numpy as np",
        "import numba",
        "from numba.typed import List",
        f"import {SUPPORT} as sup",
        "",
    ]
    src = "\n".join(header + g.globals + [""] + [l for c in chunks for l in c])
    return src, entry, g.fallbacks, g.entry_consts


def compile_func(func: Func, donated: frozenset[int] = frozenset()) -> NativeFunction:
    from . import numba_support

    src, entry, fallbacks, consts = generate(func, donated)
    numba_support.register_fallbacks(fallbacks)
    digest = hashlib.sha256(src.encode()).hexdigest()[:16]
    path = cache_dir() / f"mo_{func.name[:40]}_{digest}.py".replace("<", "_").replace(">", "_")
    if not path.exists() or path.read_text() != src:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(src)
        os.replace(tmp, path)
    return NativeFunction(func, src, getattr(load_module(path), entry), path, fallbacks, consts=consts)


def load_module(path: Path) -> Any:
    """The generated module at `path`, imported once per process."""
    modname = f"morphism_generated.{path.stem}"
    mod = sys.modules.get(modname)
    if mod is None:
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[modname]
            raise
    return mod
