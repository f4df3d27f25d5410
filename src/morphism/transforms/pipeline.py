"""The pass pipeline, visible in one place. Each pass is a function from Func to Func; the
verifier (the type rules, re-run) holds after each one when MORPHISM_VERIFY=1.

Switches: MORPHISM_PRINT_IR=1 prints the IR after each pass; MORPHISM_TIME_PASSES=1 prints the
time each pass took. Users add passes with `mo.jit(f, passes=[my_pass])`; they run after these.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Sequence

from ..ir.core import Func
from ..ir.verify import verify
from .cse import cse
from .dce import dce
from .licm import licm
from .simplify import simplify

Pass = Callable[[Func], Func]

PIPELINE: list[tuple[str, Pass]] = [
    ("simplify", simplify),
    ("cse", cse),
    ("licm", licm),
    ("cse-after-licm", cse),  # hoisted equations may repeat ones already outside the loop
    ("dce", dce),
]


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def run_passes(func: Func, extra: Sequence[Pass] = (), pipeline: Sequence[tuple[str, Pass]] | None = None) -> Func:
    passes = list(pipeline if pipeline is not None else PIPELINE)
    passes += [(getattr(p, "__name__", "user pass"), p) for p in extra]
    show, timing, check = _flag("MORPHISM_PRINT_IR"), _flag("MORPHISM_TIME_PASSES"), _flag("MORPHISM_VERIFY")
    if check:
        verify(func)
    if show:
        print(f"=== {func.name}: before passes\n{func}", file=sys.stderr)
    for name, p in passes:
        before = count_eqns(func.body) if timing else 0
        t0 = time.perf_counter()
        out = p(func)
        if not isinstance(out, Func):
            raise TypeError(f"pass {name} returned {type(out).__name__}, not a Func")
        func = out
        dt = time.perf_counter() - t0
        if check:
            verify(func)
        if timing:
            print(f"[morphism] {func.name}: pass {name:10s} {dt * 1e3:8.2f} ms, "
                  f"{before} -> {count_eqns(func.body)} equations", file=sys.stderr)
        if show:
            print(f"=== {func.name}: after {name}\n{func}", file=sys.stderr)
    return func


def count_eqns(block) -> int:
    """Equations in a block and every block nested in it."""
    return sum(1 + sum(count_eqns(b) for b in e.blocks()) for e in block.eqns)
