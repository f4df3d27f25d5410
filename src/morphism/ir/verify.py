"""The verifier: every value is defined before use and in scope, and every equation's output
types are what its primitive's type rule says. The type rule *is* the verifier; there is no
second checker to drift from it."""

from __future__ import annotations

from ..errors import TypeRuleError, VerifyError
from .core import Block, Func, Var
from .printer import print_eqn, print_func


def verify(func: Func) -> Func:
    _Verifier().func(func)
    return func


class _Verifier:
    def __init__(self) -> None:
        self.done: set[int] = set()

    def func(self, f: Func) -> None:
        if id(f) in self.done:
            return
        self.done.add(id(f))
        try:
            self.block(f.body, set())
        except VerifyError as e:
            if e.ir is None:
                e.ir = print_func(f)
                e.args = (e._format(),)
            raise

    def block(self, b: Block, scope: set[Var]) -> None:
        scope = set(scope)
        for p in b.params:
            if p in scope:
                raise VerifyError(f"block param {p!r} is bound twice")
            scope.add(p)
        for e in b.eqns:
            for a in e.inputs:
                if isinstance(a, Var) and a not in scope:
                    raise VerifyError(f"{a!r} is used before it is defined, in:\n  {print_eqn(e)}", e.loc)
            for sub in e.blocks():
                self.block(sub, scope)
            try:
                expected = e.prim.type_rule([a.type for a in e.inputs], **e.params)
            except TypeRuleError as err:
                raise VerifyError(f"{e.prim.name}: {err}\n  in: {print_eqn(e)}", e.loc) from None
            found = [o.type for o in e.outputs]
            if list(expected) != found:
                raise VerifyError(
                    f"{e.prim.name} should produce ({', '.join(map(str, expected))}), "
                    f"the IR says ({', '.join(map(str, found))}):\n  {print_eqn(e)}",
                    e.loc,
                )
            for o in e.outputs:
                if o in scope:
                    raise VerifyError(f"{o!r} is defined twice:\n  {print_eqn(e)}", e.loc)
                scope.add(o)
            if e.prim.name == "call" and e.params["func"].func is not None:
                self.func(e.params["func"].func)
        for r in b.results:
            if isinstance(r, Var) and r not in scope:
                raise VerifyError(f"block result {r!r} is not defined")
