"""The native backend against the reference interpreter: a sample of the program corpus,
their gradients, and the cases where writing in place could go wrong."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from helpers import assert_same
from test_programs import CASES

import morphism as mo

# Every third function of the corpus (one case each) keeps the suite within its time budget;
# the generated code is cached on disk, so later runs are fast.
_seen: set[str] = set()
SAMPLE = []
for _c in CASES:
    _f = _c.values[0]
    if _f.__name__ not in _seen:
        _seen.add(_f.__name__)
        if len(_seen) % 3 == 0:
            SAMPLE.append(_c)


@pytest.mark.parametrize("func,args", SAMPLE)
def test_native_matches_interpreter_on_the_corpus(func, args):
    import copy

    want = mo.jit(func, backend="interpreter")(*copy.deepcopy(args))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = mo.jit(func, backend="native")(*copy.deepcopy(args))
    assert_same(got, want)


def stencil(a0):
    a = a0.copy()
    for i in range(1, len(a)):
        a[i] = a[i] + 0.5 * math.sin(a[i - 1])
    return np.sum(a)


def lorenz(p):
    x, y, z = 1.0, 1.0, 1.0
    total = 0.0
    for _ in range(200):
        dx, dy, dz = p[0] * (y - x), x * (p[1] - z) - y, x * y - p[2] * z
        x, y, z = x + 0.01 * dx, y + 0.01 * dy, z + 0.01 * dz
        total += x * x
    return total


def newton(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x * x * x


@pytest.mark.parametrize("f,args", [
    (stencil, (np.linspace(0.0, 1.0, 50),)),
    (lorenz, (np.array([10.0, 28.0, 8.0 / 3.0]),)),
    (newton, (2.5,)),
])
def test_native_gradients_match_interpreter(f, args):
    want = mo.grad(f)(*args)
    got = mo.jit(mo.grad(f), backend="native")(*args)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_native_never_writes_into_arguments_or_live_values():
    def f(a, i):
        b = a  # an alias of the argument: writing must copy
        b[i] = -1.0
        c = b.copy()
        d = c  # alive after the write below
        c[0] = 7.0
        row = c[1:3]  # a view: writes to c must show in it
        c[1] = 5.0
        return a, b, c, d, row

    a = np.arange(5.0)
    kept = a.copy()
    got = mo.jit(f, backend="native")(a, 2)
    np.testing.assert_array_equal(a, kept)  # the caller's array is untouched
    want = mo.jit(f, backend="interpreter")(kept.copy(), 2)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_native_source_is_readable_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MORPHISM_CACHE_DIR", str(tmp_path))
    j = mo.jit(stencil, backend="native")
    x = np.linspace(0.0, 1.0, 10)
    j(x)
    src = j.lower(x).source
    assert "@numba.njit(cache=True" in src and "for i in range(" in src
    assert list(tmp_path.glob("mo_stencil_*.py")), "the generated source is kept in MORPHISM_CACHE_DIR"


def rnn(x, W):
    h = x
    s = 0.0
    for i in range(5):
        h = np.tanh(W @ h)
        h[0] = h[0] * 1.5  # written in place after reverse mode saved h for the backward sweep
        s += np.sum(h * h)
    return s


def test_native_tapes_of_arrays_keep_their_values():
    x = np.linspace(-1.0, 1.0, 4)
    W = np.random.default_rng(0).normal(size=(4, 4)) * 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to the interpreter
        got = mo.jit(mo.grad(rnn, argnums=(0, 1)), backend="native")(x, W)
    want = mo.grad(rnn, argnums=(0, 1))(x, W)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def nested(x, w):
    s = 0.0
    for i in range(w.shape[0]):
        h = x
        for j in range(2):
            h = np.tanh(h * w[i]) + x[j]
        s += np.sum(h)
    return s


def test_native_nested_loops_keep_tapes_of_tapes():
    x = np.linspace(-1.0, 1.0, 4)
    w = np.array([0.5, 1.5, -0.7])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to the interpreter
        got = mo.jit(mo.grad(nested, argnums=(0, 1)), backend="native")(x, w)
    want = mo.grad(nested, argnums=(0, 1))(x, w)
    for g, v in zip(got, want):
        np.testing.assert_allclose(g, v, rtol=1e-12, atol=1e-14)


def test_jit_of_grad_with_static_argument():
    def f(x, n, y):
        s = 0.0
        for i in range(n):
            s += x * y + i
        return s

    g = mo.jit(mo.grad(f), static_argnums=(1,), backend="native")
    assert g(1.0, 3, 2.0) == 6.0
    assert g(1.0, 5, 2.0) == 10.0  # a new static value: a new specialisation
    assert g(1.0, 3, 4.0) == 12.0  # the fast path keeps static values apart


def test_tapes_reserved_before_loop_grow_from_a_nonempty_tape():
    # two loops pushing onto tapes: the second loop reserves room on top of what the first
    # pushed (reverse mode through sequential loops, and a loop nested in a loop)
    def f(x, n):
        s = x
        for i in range(n):
            s = s * 1.01 + np.sin(s)
        for j in range(n):
            for k in range(3):
                s = s * 0.99 + np.cos(s) * k
        return s

    g = mo.jit(mo.grad(f), backend="native")
    gi = mo.jit(mo.grad(f), backend="interpreter")
    for n in (0, 1, 7, 300):
        np.testing.assert_allclose(g(0.3, n), gi(0.3, n), rtol=1e-12)


def test_two_loop_carries_from_one_merged_allocation():
    # CSE merges the two np.zeros(n); each carry must still get its own buffer
    def scans(x):
        n = len(x)
        csum = np.zeros(n)
        cmax = np.zeros(n)
        s, m = 0.0, -np.inf
        for i in range(n):
            s += x[i]
            m = max(m, x[i])
            csum[i] = s
            cmax[i] = m
        return csum, cmax

    x = np.array([0.5, -1.0, 2.0, 0.25])
    got = mo.jit(scans, backend="native")(x)
    np.testing.assert_array_equal(got[0], np.cumsum(x))
    np.testing.assert_array_equal(got[1], np.maximum.accumulate(x))
