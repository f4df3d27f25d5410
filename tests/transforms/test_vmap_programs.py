"""vmap over the program corpus: `vmap(f)(X)` against stacking `f(x)` for each member, for every
program with a float scalar or float array argument. The float arguments are batched (three
members: the case's own values and two perturbations of them); the others are not."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from helpers import assert_same
from test_programs import CASES

import morphism as mo

N_MEMBERS = 3


def _is_float(x) -> bool:
    return isinstance(x, float) or (isinstance(x, (np.ndarray, np.floating)) and np.asarray(x).dtype == np.float64)


def _members(args):
    """Three member argument tuples: the case itself and two small perturbations of its float
    arguments (relative 1e-3, so that branches and loop counts mostly stay the same, though they
    may differ: that is what batched control flow is for)."""
    out = []
    for m in range(N_MEMBERS):
        rng = np.random.default_rng(m)
        new = []
        for a in args:
            if _is_float(a) and m:
                a = np.asarray(a) * (1.0 + 1e-3 * rng.standard_normal(np.shape(a)))
                a = float(a) if np.ndim(a) == 0 else a
            new.append(copy.deepcopy(a))
        out.append(tuple(new))
    return out


def _batchable(func, args):
    if not any(_is_float(a) for a in args):
        return False
    for member in _members(args):
        try:
            func(*copy.deepcopy(member))
        except Exception:
            return False
    return True


VMAP_CASES = []
_seen: dict[str, int] = {}
for _c in CASES:
    _f, _args = _c.values
    if _batchable(_f, _args) and _seen.get(_f.__name__, 0) < 1:
        _seen[_f.__name__] = _seen.get(_f.__name__, 0) + 1
        VMAP_CASES.append(_c)


def _stack(results):
    """The per-member results stacked along a new leading axis, leaf by leaf."""
    from morphism import pytree

    leaves = [pytree.flatten(r)[0] for r in results]
    treedef = pytree.flatten(results[0])[1]
    return pytree.unflatten(treedef, [np.stack([np.asarray(l[k]) for l in leaves]) for k in range(len(leaves[0]))])


def _batch(members, args):
    cols = []
    for k, a in enumerate(args):
        if _is_float(a):
            cols.append(np.stack([np.asarray(m[k], dtype=float) for m in members]))
        else:
            cols.append(copy.deepcopy(a))
    in_axes = tuple(0 if _is_float(a) else None for a in args)
    return tuple(cols), in_axes


# Programs that vectorised vmap refuses, with the reason (JAX refuses them too); a loop over the
# batch runs them.
REFUSED = {
    "zscore_outliers": "different lengths",  # appends under a condition that differs between members
}


def _run(func, batched, in_axes, mode):
    if mode == "auto":
        return mo.vmap(func, in_axes=in_axes)(*batched)
    if mode == "native":
        with warnings.catch_warnings():
            warnings.simplefilter("error", mo.api.MorphismPerformanceWarning)
            return mo.jit(mo.vmap(func, in_axes=in_axes), backend="native")(*batched)
    return mo.vmap(func, in_axes=in_axes, strategy=mode)(*batched)


@pytest.mark.parametrize("mode", ["vectorize", "loop", "native"])
@pytest.mark.parametrize("func,args", VMAP_CASES)
def test_vmap_matches_stacked_calls(func, args, mode):
    members = _members(args)
    batched, in_axes = _batch(members, args)
    if func.__name__ in REFUSED and mode == "vectorize":  # "auto" runs them member by member
        with pytest.raises(mo.MorphismError, match=REFUSED[func.__name__]):
            _run(func, batched, in_axes, mode)
        return
    want = _stack([func(*copy.deepcopy(m)) for m in members])
    got = _run(func, batched, in_axes, mode)
    assert_same(got, want)
