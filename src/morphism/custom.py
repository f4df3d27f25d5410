"""`mo.custom_jvp`, `mo.custom_vjp` and `mo.stop_gradient`: user-supplied derivative rules.

A decorated function runs as plain Python when called directly. Traced code that calls it
gets one `custom_jvp_call` / `custom_vjp_call` equation holding the IR of its body; the jvp and
vjp transformations trace and inline the user's rule in its place:
- custom_jvp: forward mode inlines the rule; reverse mode takes the vjp of the rule's tangent
  output with respect to the tangents (the rule is linear in them), so it is honoured too.
- custom_vjp: reverse mode inlines `fwd` in the forward sweep and `bwd` in the backward sweep;
  forward mode differentiates the body (JAX raises there).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from . import pytree
from .errors import MorphismTypeError


class _Custom:
    kind = ""

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()):
        if nondiff_argnums:
            raise NotImplementedError("nondiff_argnums is not supported yet: close over the value instead")
        self.fun = fun
        functools.update_wrapper(self, fun, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fun(*args, **kwargs)

    def __morphism_custom__(self, frame: Any, args: list, kwargs: dict, node: Any) -> Any:
        """Traced code calls the function: emit one custom call with its body's IR."""
        from .api import Specialization, refuse_writes, trace_any
        from .frontend.library import to_atom
        from .frontend.values import ListVal
        from .ir.core import FuncRef
        from .primitives import control as C

        if kwargs:
            raise MorphismTypeError(f"{self.kind} functions take positional arguments only", frame.loc(node))
        args = [to_atom(a) if isinstance(a, ListVal) else a for a in args]
        spec = Specialization(self.fun, tuple(args), {}, ())
        body, captured = trace_any(self.fun, spec)
        refuse_writes(body, self.fun, self.kind)
        frame.comp.captured.extend(captured)
        ref = FuncRef(getattr(self.fun, "__name__", "f"), tuple(p.type for p in body.params),
                      tuple(r.type for r in body.results), body)
        ref.out_tree = body.out_tree
        prim = C.custom_jvp_call if self.kind == "custom_jvp" else C.custom_vjp_call
        in_tree = pytree.flatten(tuple(args), is_leaf=_is_atom)[1]
        outs = prim(*spec.leaves, func=ref, rule=self, in_tree=in_tree)
        return pytree.unflatten(body.out_tree, list(outs))


def _is_atom(x: Any) -> bool:
    from .ir.core import Lit, Var

    return isinstance(x, (Var, Lit))


class custom_jvp(_Custom):
    """A function with a user-defined forward-mode rule, as in JAX:

        @mo.custom_jvp
        def f(x): ...
        @f.defjvp
        def f_jvp(primals, tangents): return f(*primals), <tangent>
    """

    kind = "custom_jvp"

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()):
        super().__init__(fun, nondiff_argnums)
        self.jvp: Callable | None = None

    def defjvp(self, jvp: Callable) -> Callable:
        self.jvp = jvp
        return jvp


class custom_vjp(_Custom):
    """A function with a user-defined reverse-mode rule, as in JAX:

        @mo.custom_vjp
        def f(x): ...
        def f_fwd(x): return f(x), residuals
        def f_bwd(residuals, ct): return (ct_x,)
        f.defvjp(f_fwd, f_bwd)
    """

    kind = "custom_vjp"

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()):
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        self.fwd, self.bwd = fwd, bwd


def stop_gradient(x: Any) -> Any:
    """`x`, treated as a constant by the derivative transformations."""
    return x


def _register() -> None:
    from .frontend.library import implements, to_atom
    from .primitives.elementwise import stop_gradient as sg

    @implements(stop_gradient)
    def _sg(x: Any) -> Any:
        return pytree.tree_map(lambda a: sg(to_atom(a)) if _is_atom(a) else a, x)

    # Transformations called inside compiled code: `mo.grad(f)(x)` builds the transformed
    # function at compile time (its options must be constants) and inlines its IR.
    from . import api
    from .frontend.library import static

    def compile_time(transform):
        def handler(fn: Any, *args: Any, **kwargs: Any) -> Any:
            return transform(fn, *[static(a, "an option") for a in args],
                             **{k: static(v, k) for k, v in kwargs.items()})

        return handler

    for t in (api.grad, api.value_and_grad, api.jacfwd, api.jacrev, api.hessian, api.vmap):
        implements(t)(compile_time(t))
    implements(api.jit)(lambda fn=None, **kw: api.jit(fn, **{k: static(v, k) for k, v in kw.items()}))

    # `mo.jvp(f, primals, tangents)` gives values, not a function: its IR is inlined at once.
    def inline_jvp(frame: Any, args: list, kwargs: dict, node: Any) -> Any:
        import inspect

        try:
            b = inspect.signature(api.jvp).bind(*args, **kwargs)
        except TypeError as e:
            frame.error(f"calling mo.jvp: {e}", node)
        fn, primals, tangents = b.arguments["fn"], b.arguments["primals"], b.arguments["tangents"]
        return _transform(api._JVPOf, fn).__morphism_custom__(frame, [primals, tangents], {}, node)

    api.jvp.__morphism_custom__ = inline_jvp

    # `mo.vjp(f, *primals)`: the output now, and a pullback that the compiled code calls like a
    # function of its own (a `functools.partial` of the vjp, inlined where it is called).
    def inline_vjp(frame: Any, args: list, kwargs: dict, node: Any) -> Any:
        from .frontend.values import Partial

        if kwargs:
            frame.error(f"mo.vjp takes positional arguments only (found {', '.join(kwargs)})", node,
                        cls=MorphismTypeError)
        if not args:
            frame.error("mo.vjp(fn, *primals) needs a function", node, cls=MorphismTypeError)
        fn, primals = args[0], tuple(args[1:])
        return frame.call(fn, list(primals), {}, node), Partial(_transform(api._VJPOf, fn), (primals,), {})

    api.vjp.__morphism_custom__ = inline_vjp


def _transform(kind: type, fn: Any) -> Any:
    """The transformation `kind` of `fn`, kept for reuse unless `fn` was made in compiled code."""
    from . import api
    from .frontend.closure import is_local

    return kind(fn) if is_local(fn) else api._cached(kind, fn)


def trace_call(fn: Callable, args: tuple) -> Any:
    """Traces the Python function `fn` on frontend values `args` (pytrees of atoms) and inlines
    it into the active builder; returns its result as a pytree of atoms."""
    from .api import Specialization, trace_any
    from .ir.subst import inline

    spec = Specialization(fn, args, {}, ())
    F, _ = trace_any(fn, spec)
    outs = inline(F, spec.leaves)
    out = pytree.unflatten(F.out_tree, outs)
    from .api import Writes

    if isinstance(out, Writes):
        from .errors import UnsupportedSyntaxError

        raise UnsupportedSyntaxError(f"{getattr(fn, '__qualname__', 'a function')} writes into its argument "
                                     f"{out.where()}, here where morphism calls it as a rule: not supported", None,
                                     hint="write into a copy (x = x.copy() first)")
    return out


def leaves_of(tree: Any) -> list:
    return pytree.flatten(tree, is_leaf=_is_atom)[0]
