"""The reference backend: walks the IR with NumPy. Its results define morphism's semantics."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import add_location_note
from ..ir.core import Array, Block, Func, Lit, Scalar, Tape, Type, Var


def coerce(value: Any, t: Type) -> Any:
    """The run-time value of type `t`: a NumPy scalar of the right dtype, or an array."""
    if isinstance(t, Tape):
        return value
    if isinstance(t, Scalar):
        if isinstance(value, np.ndarray):
            if value.ndim != 0:
                raise AssertionError(f"expected a scalar of type {t}, got an array of shape {value.shape}")
            value = value[()]
        dt = t.dtype.np
        if getattr(value, "dtype", None) != dt:
            value = dt.type(value)
        return value
    if not isinstance(value, np.ndarray) or value.dtype != t.dtype.np:
        value = np.asarray(value, dtype=t.dtype.np)
    if value.ndim != t.ndim:
        raise AssertionError(f"expected an array of type {t}, got shape {value.shape}")
    return value


def run_func(func: Func, args: Sequence[Any]) -> list[Any]:
    return _Frame().block(func.body, [coerce(a, p.type) for a, p in zip(args, func.params)])


class _Frame:
    def __init__(self) -> None:
        self.env: dict[Var, Any] = {}

    def read(self, a: Any) -> Any:
        if isinstance(a, Lit):
            return a.value if isinstance(a.type, Array) else coerce(a.value, a.type)
        return self.env[a]

    def run(self, block: Block, args: Sequence[Any], new_frame: bool = False) -> list[Any]:
        frame = _Frame() if new_frame else self
        return frame.block(block, args)

    def block(self, block: Block, args: Sequence[Any]) -> list[Any]:
        env = self.env
        for p, a in zip(block.params, args):
            env[p] = a
        for e in block.eqns:
            ins = [self.read(a) for a in e.inputs]
            prim = e.prim
            if prim.interpret is not None:
                outs = prim.interpret(self.run, ins, **e.params)
            else:
                try:
                    outs = prim.impl(*ins, **e.params)
                except Exception as exc:
                    add_location_note(exc, e.loc)
                    raise
                if not prim.multiple_results:
                    outs = (outs,)
            for o, v in zip(e.outputs, outs):
                env[o] = coerce(v, o.type)
        return [self.read(r) for r in block.results]
