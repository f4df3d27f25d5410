"""The corpus cases that derivatives are tested on (shared by tests/transforms/test_programs_ad.py,
which checks the interpreter against finite differences, and tests/backends/test_native.py, which
checks the native backend against the interpreter): programs with float inputs whose plain-Python
run returns finite float outputs."""

from __future__ import annotations

import numpy as np

from test_programs import CASES

from morphism import pytree


def is_float(x) -> bool:
    return isinstance(x, float) or (isinstance(x, (np.ndarray, np.floating)) and np.asarray(x).dtype == np.float64)


def random_like(tree, rng):
    """Random directions, scaled to each input's magnitude (so a tolerance of 1e-6 stays
    positive when finite differences step along the direction); zeros for non-float leaves."""
    leaves, treedef = pytree.flatten(tree)
    out = []
    for x in leaves:
        if is_float(x):
            r = rng.normal(size=np.shape(x)) * (np.nan_to_num(np.abs(x), nan=1.0, posinf=1.0) + 1e-3)
            out.append(float(r) if np.ndim(x) == 0 else r)
        else:
            out.append(np.zeros(np.shape(x)) if np.ndim(x) else 0.0)
    return pytree.unflatten(treedef, out)


def float_outputs(out) -> list:
    leaves, _ = pytree.flatten(out)
    return [x for x in leaves if is_float(x)]


def differentiable_case(func, args) -> bool:
    in_leaves, _ = pytree.flatten(args)
    if not any(is_float(x) for x in in_leaves):
        return False
    try:
        out = func(*args)
    except Exception:
        return False
    outs = float_outputs(out)
    return bool(outs) and all(np.all(np.isfinite(o)) for o in outs)


AD_CASES = [c for c in CASES if differentiable_case(*c.values)]
