"""Structured control flow and effects: cond, for_range, while_loop, call, check, debug_print.

Blocks read values of the blocks around them directly (lexical scope); loop-carried values are
explicit: `for_range` passes (i, *carries) to its body, `while_loop` passes the carries to its
`cond` block and its `body` block.
"""

from __future__ import annotations

from typing import Any, Callable

from ..ir.core import Block, DType, Scalar, Type
from .registry import CONTROL, EFFECT, TypeRuleError, primitive


def _check_same(what: str, expected: tuple[Type, ...], found: tuple[Type, ...]) -> None:
    if tuple(expected) != tuple(found):
        raise TypeRuleError(
            f"{what}: expected types ({', '.join(map(str, expected))}), found ({', '.join(map(str, found))})"
        )


def _is_bool_scalar(t: Type) -> bool:
    return isinstance(t, Scalar) and t.dtype == DType.bool


# ---- cond -----------------------------------------------------------------------------------


def _cond_rule(ts, then: Block, orelse: Block, **_):
    if len(ts) != 1 or not _is_bool_scalar(ts[0]):
        raise TypeRuleError(f"cond needs one boolean scalar predicate, found {list(map(str, ts))}")
    _check_same("the branches of cond return different types", then.result_types, orelse.result_types)
    if then.params or orelse.params:
        raise TypeRuleError("the branches of cond take no params")
    return list(then.result_types)


def _cond_interpret(run: Callable, inputs: list, then: Block, orelse: Block, **_):
    return run(then if inputs[0] else orelse, [])


cond = primitive("cond", _cond_rule, interpret=_cond_interpret, traits={CONTROL}, multiple_results=True)


# ---- for_range -----------------------------------------------------------------------------


def _for_rule(ts, body: Block, **_):
    start, stop, step, *carries = ts
    for t, what in ((start, "start"), (stop, "stop"), (step, "step")):
        if not isinstance(t, Scalar) or t.dtype.is_inexact:
            raise TypeRuleError(f"range() {what} must be an integer scalar, found {t}")
    if len(body.params) != 1 + len(carries):
        raise TypeRuleError("for_range body must take the index and each carry")
    if body.params[0].type != Scalar(DType.int64):
        raise TypeRuleError("for_range index must be i64")
    _check_same("for_range carries", tuple(carries), tuple(p.type for p in body.params[1:]))
    _check_same("for_range body results", tuple(carries), body.result_types)
    return list(carries)


def _for_interpret(run: Callable, inputs: list, body: Block, **_):
    start, stop, step, *carries = inputs
    for i in range(int(start), int(stop), int(step)):
        carries = run(body, [i, *carries])
    return carries


for_range = primitive("for_range", _for_rule, interpret=_for_interpret, traits={CONTROL}, multiple_results=True)


# ---- while_loop ----------------------------------------------------------------------------


def _while_rule(ts, cond: Block, body: Block, **_):
    carries = tuple(ts)
    _check_same("while_loop cond params", carries, tuple(p.type for p in cond.params))
    _check_same("while_loop body params", carries, tuple(p.type for p in body.params))
    _check_same("while_loop body results", carries, body.result_types)
    if len(cond.results) != 1 or not _is_bool_scalar(cond.results[0].type):
        raise TypeRuleError("while_loop cond must return one boolean scalar")
    return list(carries)


def _while_interpret(run: Callable, inputs: list, cond: Block, body: Block, **_):
    carries = list(inputs)
    while run(cond, carries)[0]:
        carries = run(body, carries)
    return carries


while_loop = primitive("while_loop", _while_rule, interpret=_while_interpret, traits={CONTROL}, multiple_results=True)


# ---- call (user functions that are not inlined: recursion) ---------------------------------


def _call_rule(ts, func: Any, **_):
    # `func` is a FuncRef: its body may still be under construction while a recursive call is
    # typed, so the signature is read from the reference, not from the body.
    _check_same(f"call to {func.name}", tuple(func.in_types), tuple(ts))
    return list(func.out_types)


def _call_interpret(run: Callable, inputs: list, func: Any, **_):
    return run(func.func.body, list(inputs), new_frame=True)


call = primitive("call", _call_rule, interpret=_call_interpret, traits={CONTROL}, multiple_results=True)


# ---- effects -------------------------------------------------------------------------------


def _check_rule(ts, exc: type, message: str, **_):
    if len(ts) != 1 or not _is_bool_scalar(ts[0]):
        raise TypeRuleError(f"check needs one boolean scalar, found {list(map(str, ts))}")
    return []


def _check_impl(ok, exc: type, message: str):
    if not ok:
        raise exc(message)
    return ()


# `assert c, "msg"` and `raise E("msg")` (which is check(False)).
check = primitive("check", _check_rule, impl=_check_impl, traits={EFFECT}, multiple_results=True)


def _print_impl(*values, template: tuple, sep: str = " ", end: str = "\n"):
    vals = iter(values)

    def piece(p):
        if p is None:
            return str(next(vals))
        if isinstance(p, tuple):  # an f-string: its pieces glued together
            return "".join(piece(q) for q in p[1:])
        return p

    print(*[piece(p) for p in template], sep=sep, end=end)
    return ()


# print("x =", x): `template` holds the constant strings, None where a value goes.
debug_print = primitive("debug_print", lambda ts, **_: [], impl=_print_impl, traits={EFFECT}, multiple_results=True)


# Derivatives of control flow are structural: each transformation walks the nested blocks.
from .registry import NOT_APPLICABLE  # noqa: E402

_STRUCTURAL = NOT_APPLICABLE("differentiated structurally by the jvp/vjp transformations")
for _p in (cond, for_range, while_loop, call):
    _p.jvp = _p.vjp = _STRUCTURAL
_EFFECT = NOT_APPLICABLE("an effect with no result to differentiate")
for _p in (check, debug_print):
    _p.jvp = _p.vjp = _EFFECT


# ---- user functions with their own derivative rules ------------------------------------------


def _custom_rule(ts, func: Any, **_):
    _check_same(f"call to {func.name}", tuple(func.in_types), tuple(ts))
    return list(func.out_types)


def _custom_interpret(run: Callable, inputs: list, func: Any, **_):
    return run(func.func.body, list(inputs), new_frame=True)


# `@mo.custom_jvp` / `@mo.custom_vjp` functions: `func` is the primal body; `rule` the user's
# object with its jvp (or fwd/bwd) functions, applied by the transformations.
custom_jvp_call = primitive("custom_jvp_call", _custom_rule, interpret=_custom_interpret, traits={CONTROL},
                            multiple_results=True)
custom_vjp_call = primitive("custom_vjp_call", _custom_rule, interpret=_custom_interpret, traits={CONTROL},
                            multiple_results=True)
for _p in (custom_jvp_call, custom_vjp_call):
    _p.jvp = _p.vjp = NOT_APPLICABLE("applies the user's rule: see mo.custom_jvp / mo.custom_vjp")

_BATCHED = NOT_APPLICABLE("batched structurally by the vmap transformation (transforms/vmap.py)")
for _p in (cond, for_range, while_loop, call, check, custom_jvp_call, custom_vjp_call):
    _p.batch = _BATCHED
