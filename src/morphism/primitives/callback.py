"""Calls into arbitrary Python from compiled code: `mo.pure_callback` and random draws.

`pure_callback(*args, fn, out_types)` calls `fn(*args)` at run time (the interpreter directly,
the native backend in `numba.objmode`, the fallback every primitive without a native rule
takes). `fn` is a `Callback`: it checks what the Python function returned against the declared
shapes and dtypes, so a wrong result is an error naming the user's line, not a crash later.

`random_draw` is the same call with an effect: a draw from a NumPy generator is never merged
with another (CSE), removed (DCE) or moved (LICM), so a compiled function draws the same numbers
in the same order as plain Python. It is a constant for derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..ir.core import Type, make_type
from .registry import EFFECT, NOT_APPLICABLE, primitive


class CallbackError(ValueError):
    """A callback returned something other than what its declaration says."""


@dataclass(frozen=True, eq=False)
class Callback:
    """A Python function called on flat leaves, returning flat leaves of the declared shapes
    (None: any length on that axis) and dtypes. `batch_dims` leading axes are the batch's."""

    fn: Callable[..., list]
    name: str
    shapes: tuple  # per result: a tuple of ints and None, or None (any shape of the right ndim)
    where: str  # the user's file:line, for run-time errors
    batch_dims: int = 0

    def __repr__(self) -> str:  # also keys the generated native module: unique per callback
        return f"<callback {self.name} #{id(self):x}>"

    def batched(self) -> "Callback":
        return Callback(self.fn, self.name, self.shapes, self.where, self.batch_dims + 1)

    def __call__(self, *args: Any, out_types: tuple) -> tuple:
        res = self.fn(*args)
        if len(res) != len(out_types):
            raise CallbackError(f"{self.where}: the callback {self.name} returned {len(res)} values, "
                                f"its declaration says {len(out_types)}")
        return tuple(self._check(k, r, t) for k, (r, t) in enumerate(zip(res, out_types)))

    def _check(self, k: int, r: Any, t: Type) -> Any:
        a = np.asarray(r)
        what = f"result {k} of the callback {self.name}" if len(self.shapes) > 1 else f"the callback {self.name}'s result"
        want = self.shapes[k]
        shape_ok = a.ndim == t.ndim and (want is None or all(
            w is None or w == s for w, s in zip((None,) * self.batch_dims + tuple(want), a.shape)))
        if not shape_ok:
            dims = ["?" if w is None else str(w) for w in (None,) * self.batch_dims + tuple(want or ())]
            shown = f"({', '.join(dims)}{',' if len(dims) == 1 else ''})" if want is not None else f"{t.ndim} dimensions"
            raise CallbackError(f"{self.where}: {what} has shape {a.shape}, the declaration says {shown}")
        if np.dtype(a.dtype) != np.dtype(t.dtype.np) and not (a.dtype.kind == np.dtype(t.dtype.np).kind
                                                                and t.ndim == 0 and a.dtype.kind in "fiub"):
            raise CallbackError(f"{self.where}: {what} has dtype {a.dtype}, the declaration says {np.dtype(t.dtype.np)}")
        return a.copy() if t.ndim else a.astype(t.dtype.np)[()]


def _rule(ts, fn: Callback, out_types: tuple, **_) -> list[Type]:
    return list(out_types)


def _impl(*args, fn: Callback, out_types: tuple, vectorized: bool = False):
    return fn(*args, out_types=out_types)


def _batch_types(out_types: tuple) -> tuple:
    return tuple(make_type(t.dtype, t.ndim + 1) for t in out_types)


def _pure_callback_batch(args, batched, size, fn, out_types, vectorized):
    from ..transforms.batchutil import as_batched, loop_rule

    if not vectorized:
        return loop_rule(pure_callback)(args, batched, size, fn=fn, out_types=out_types, vectorized=False)
    xs = [as_batched(a, b, size) for a, b in zip(args, batched)]  # vmap_method="broadcast_all"
    outs = pure_callback(*xs, fn=fn.batched(), out_types=_batch_types(out_types), vectorized=True)
    return [(o, True) for o in outs]


pure_callback = primitive(
    "pure_callback", _rule, impl=_impl, multiple_results=True,
    jvp=NOT_APPLICABLE("mo.pure_callback calls Python code that morphism cannot differentiate: call it inside a "
                       "function decorated with mo.custom_vjp (or mo.custom_jvp) whose rule gives the derivative"),
    vjp=NOT_APPLICABLE("mo.pure_callback calls Python code that morphism cannot differentiate: call it inside a "
                       "function decorated with mo.custom_vjp (or mo.custom_jvp) whose rule gives the derivative"),
    batch=_pure_callback_batch,
    numba=None,  # runs in numba.objmode: the callback is Python
    doc="pure_callback(*args, fn, out_types, vectorized): calls Python code at run time")


def _draw_jvp(ins, ts, outs, **_):
    return [None] * len(outs)  # a random draw is a constant for derivatives


def _draw_batch(args, batched, size, fn, out_types, vectorized=False):
    # Member by member, in order: member b's draws come after member b-1's.
    from ..transforms.batchutil import loop_rule

    return loop_rule(random_draw)(args, batched, size, fn=fn, out_types=out_types)


random_draw = primitive(
    "random_draw", _rule, impl=_impl, multiple_results=True, traits={EFFECT},
    jvp=_draw_jvp,
    vjp=NOT_APPLICABLE("an effect: the reverse sweep skips it, a random draw is a constant for derivatives"),
    batch=_draw_batch,
    doc="random_draw(*args, fn, out_types): a draw from a NumPy random generator at run time")
