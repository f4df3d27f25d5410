"""Reverse mode through loops on the native backend, against the interpreter: tapes pushed in
while loops (grown between chunks of iterations), nested loops, cotangents accumulated into values
from outside a loop, and views of them recomputed rather than saved."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import morphism as mo
from morphism.api import MorphismPerformanceWarning


def both(f, *args, argnums=0):
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)
        got = mo.jit(mo.grad(f, argnums=argnums), backend="native")(*args)
    want = mo.jit(mo.grad(f, argnums=argnums), backend="interpreter")(*args)
    return got, want


def close(got, want):
    for g, w in zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                    np.atleast_1d(want) if not isinstance(want, tuple) else want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13)


def decay(k, n):
    y, i = 1.0, 0
    while i < n:  # n trips: below, at and past the chunk sizes 16, 32, 64, ...
        y = y - 0.01 * k * y + 0.001 * np.sin(y)
        i += 1
    return y


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 48, 200])
def test_while_loop_tapes_across_chunks(n):
    close(*both(decay, 0.7, n))


def underscore(x, n):
    _ = x  # a user's variable named `_`, carried by the loop
    i = 0
    while i < n:
        _ = _ * 1.01 + 0.1 * np.cos(_)
        i += 1
    return _


def test_while_loop_carry_named_underscore():
    close(*both(underscore, 0.3, 40))


def nested(x, n):
    s = 0.0
    for j in range(n):
        t = x + j
        while t > 0.5:  # a data-dependent number of trips in each outer iteration
            t = t * 0.7 - 0.01 * np.sin(t)
            s += t * x
    return s


def test_while_in_for():
    close(*both(nested, 3.0, 5))


def columns(a, m):
    # a loop-invariant matrix read by columns (views recomputed in the backward sweep), and a
    # cotangent accumulated into it in place across a nested loop
    n, d = a.shape
    out = np.zeros(n)
    acc = a * m
    for i in range(d):
        for j in range(i + 1, d):
            out += acc[:, i] * a[:, j]
    return np.sum(out * out)


def test_views_of_values_outside_nested_loops():
    a = np.linspace(0.0, 1.0, 12).reshape(4, 3)
    close(*both(columns, a, 1.5, argnums=(0, 1)))


def rows(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        r = x[i]  # a row of an argument: recomputed, never copied onto a tape
        s += np.sum(np.tanh(r * w)) * r[0]
    return s


def test_rows_of_an_argument():
    x = np.linspace(-1.0, 1.0, 20).reshape(5, 4)
    close(*both(rows, x, 0.8, argnums=(0, 1)))
