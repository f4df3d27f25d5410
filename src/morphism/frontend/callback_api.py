"""`mo.pure_callback`: the escape hatch to any Python code, with JAX's signature and meaning.

    y = mo.pure_callback(scipy_fn, mo.ShapeDtypeStruct(x.shape, np.float64), x)

Outside compiled code it calls the function. Inside, it becomes the `pure_callback` primitive
(primitives/callback.py): the arguments are flattened to IR values, the callback receives them
rebuilt into the caller's structure, and its result is checked against `result_shape_dtypes`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..ir.builder import current
from ..ir.core import Lit, dtype_of_numpy, make_type
from ..primitives import callback as CB
from .library import error, implements, static, type_error
from .values import describe, flatten, is_atom, unflatten


class ShapeDtypeStruct:
    """The shape and dtype of a callback's result (like `jax.ShapeDtypeStruct`). A dimension may
    be None when it is only known at run time."""

    def __init__(self, shape: Any, dtype: Any) -> None:
        self.shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        self.dtype = np.dtype(dtype)

    def __repr__(self) -> str:
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype})"


def pure_callback(callback: Callable, result_shape_dtypes: Any, *args: Any, vectorized: bool = False,
                  vmap_method: str | None = None, **kwargs: Any) -> Any:
    """Calls `callback(*args, **kwargs)`, a Python function morphism does not compile, and
    returns its result, which must match `result_shape_dtypes` (a pytree of objects with
    `.shape` and `.dtype`). Not differentiable by itself: use it inside a `mo.custom_vjp`
    function for derivatives. Under `vmap` it is called once per member, or once on the whole
    batch with `vectorized=True` (or `vmap_method="broadcast_all"`)."""
    return callback(*args, **kwargs)


def _spec_leaves(tree: Any, what: str) -> tuple[list, Callable[[list], Any]]:
    """The leaves (objects with .shape and .dtype) of a pytree of result declarations, and a
    function that rebuilds the structure from a list of leaves."""
    if hasattr(tree, "shape") and hasattr(tree, "dtype"):
        return [tree], lambda xs: xs[0]
    if isinstance(tree, (tuple, list)) and not hasattr(tree, "_fields"):
        parts = [_spec_leaves(t, what) for t in tree]
        counts = [len(p[0]) for p in parts]

        def rebuild(xs, parts=parts, counts=counts, cls=type(tree)):
            out, k = [], 0
            for (_, rb), n in zip(parts, counts):
                out.append(rb(xs[k:k + n]))
                k += n
            return cls(out)

        return [x for p in parts for x in p[0]], rebuild
    if isinstance(tree, dict):
        keys = list(tree)
        sub_leaves, rb = _spec_leaves([tree[k] for k in keys], what)
        return sub_leaves, lambda xs: dict(zip(keys, rb(xs)))
    type_error(f"{what}: expected a pytree (tuple, list, dict) of objects with .shape and .dtype such as "
               f"mo.ShapeDtypeStruct(shape, dtype), found {tree!r}")


def _result_leaves(r: Any, spec: Any, where: str, name: str) -> list:
    """The callback's result flattened like its declaration."""
    if hasattr(spec, "shape") and hasattr(spec, "dtype"):
        return [r]
    if isinstance(spec, (tuple, list)):
        if not isinstance(r, (tuple, list)) or len(r) != len(spec):
            raise CB.CallbackError(f"{where}: the callback {name} returned {type(r).__name__}, its declaration "
                                   f"is a {type(spec).__name__} of {len(spec)}")
        return [x for ri, si in zip(r, spec) for x in _result_leaves(ri, si, where, name)]
    if isinstance(spec, dict):
        if not isinstance(r, dict) or set(r) != set(spec):
            raise CB.CallbackError(f"{where}: the callback {name} returned {type(r).__name__}, its declaration "
                                   f"is a dict with keys {sorted(spec)}")
        return [x for k in spec for x in _result_leaves(r[k], spec[k], where, name)]
    raise AssertionError(spec)


def _out_type(s: Any):
    try:
        dt = dtype_of_numpy(np.dtype(s.dtype))
    except TypeError:
        dt = None
    if dt is None:
        error(f"mo.pure_callback: the result dtype {s.dtype} is not supported")
    shape = tuple(s.shape)
    for d in shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer))):
            type_error(f"mo.pure_callback: shapes are given as ints (or None for a length known at run time), "
                       f"found {shape!r}")
    return make_type(dt, len(shape)), tuple(None if d is None else int(d) for d in shape)


@implements(pure_callback)
def _pure_callback(callback, result_shape_dtypes, *args, vectorized=False, vmap_method=None, **kwargs):
    if type(callback).__name__ == "LocalFunction":
        error("mo.pure_callback: the callback is a function defined inside the compiled function; it must be "
              "plain Python, defined outside (at module level or in an enclosing function)")
    if not callable(callback) or is_atom(callback):
        type_error(f"mo.pure_callback: the callback must be a Python function, found {describe(callback)}")
    vec = bool(static(vectorized, "vectorized")) or static(vmap_method, "vmap_method") in ("broadcast_all", "expand_dims")
    specs, rebuild = _spec_leaves(result_shape_dtypes, "mo.pure_callback's result_shape_dtypes")
    typed = [_out_type(s) for s in specs]
    leaves, tree = flatten((tuple(args), dict(kwargs)))
    loc = current().loc
    where = f"{loc.file}:{loc.line}" if loc is not None else "mo.pure_callback"
    name = getattr(callback, "__qualname__", None) or getattr(callback, "__name__", None) or type(callback).__name__

    def call(*xs):
        a, kw = unflatten(tree, list(xs))
        return _result_leaves(callback(*a, **kw), result_shape_dtypes, where, name)

    fn = CB.Callback(call, name, tuple(s for _, s in typed), where)
    outs = CB.pure_callback(*leaves, fn=fn, out_types=tuple(t for t, _ in typed), vectorized=vec)
    return rebuild(list(outs))


@implements(ShapeDtypeStruct)
def _shape_dtype_struct(shape, dtype):
    # Inside compiled code a length may be a run-time value (x.shape): it is not checked.
    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    out = []
    for d in dims:
        if d is None or is_atom(d) and not isinstance(d, Lit):
            out.append(None)
        else:
            out.append(int(static(d, "a length of ShapeDtypeStruct's shape")))
    return ShapeDtypeStruct(tuple(out), static(dtype, "ShapeDtypeStruct's dtype"))
