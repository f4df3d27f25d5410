"""Reductions as functions and methods, with axis= and keepdims=; scans; any/all."""

import numpy as np


def reduce_all(x):
    return np.sum(x), np.mean(x), np.prod(x), np.max(x), np.min(x), np.argmax(x), np.argmin(x)


def reduce_methods(x):
    return x.sum(), x.mean(), x.prod(), x.max(), x.min(), x.argmax(), x.std(), x.var(), x.cumsum()


def reduce_axes(A):
    return (np.sum(A, axis=0), np.sum(A, axis=1), np.mean(A, axis=0), A.mean(axis=1),
            np.max(A, axis=1), np.min(A, axis=0), np.argmax(A, axis=0), np.argmin(A, axis=1),
            np.prod(A, axis=1), A.sum(axis=-1), A.max(axis=0), A.min(axis=1))


def reduce_keepdims(A):
    s = np.sum(A, axis=1, keepdims=True)
    m = np.mean(A, axis=0, keepdims=True)
    mx = np.max(A, axis=1, keepdims=True)
    centered = A - m
    scaled = A / s
    shifted = A - mx
    return s, m, mx, centered, scaled, shifted, A.sum(axis=0, keepdims=True)


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def logsumexp_rows(A):
    m = np.max(A, axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(A - m), axis=1, keepdims=True)))[:, 0]


def int_and_bool_reductions(k, x):
    ints = np.arange(1, k + 1)
    mask = x > 0.0
    return (ints.sum(), ints.prod(), np.cumsum(ints), ints.max(), ints.argmin(), ints.mean(),
            mask.sum(), np.any(mask), np.all(mask), mask.any(), mask.all(), np.sum(mask) / len(x))


def cumulative(x, A):
    return np.cumsum(x), x.cumsum(), np.cumsum(A, axis=0), np.cumsum(A, axis=1), np.cumsum(A)


def variance_forms(A):
    return (np.var(A), np.std(A), np.var(A, axis=0), np.std(A, axis=1), A.var(axis=0), A.std(),
            np.var(A, axis=1, keepdims=True))


def column_leaders(A):
    # for each column: row index of the largest absolute value and its signed value
    idx = np.argmax(np.abs(A), axis=0)
    vals = np.zeros(A.shape[1])
    for j in range(A.shape[1]):
        vals[j] = A[idx[j], j]
    return idx, vals


def builtin_reductions(x):
    total = sum(x)
    biggest = max(x[0], x[-1])
    smallest = min(x[0], x[1], x[2])
    anyneg = any(x < 0.0)
    allfin = all(np.isfinite(x))
    return total, biggest, smallest, anyneg, allfin, max(3, 7), min(2.5, -1.0)


def range_normalise(A):
    lo = A.min(axis=0)
    hi = A.max(axis=0)
    span = np.where(hi - lo > 0.0, hi - lo, 1.0)
    return (A - lo) / span


_rng = np.random.default_rng(7)
_x = _rng.normal(size=13)
_A = _rng.normal(size=(5, 4))
_B = _rng.uniform(0.5, 1.5, size=(3, 6))

CASES = [
    (reduce_all, (_x,)),
    (reduce_all, (_A,)),
    (reduce_all, (np.arange(1, 8),)),
    (reduce_methods, (_x,)),
    (reduce_methods, (np.array([2.0]),)),
    (reduce_axes, (_A,)),
    (reduce_axes, (_B,)),
    (reduce_keepdims, (_B,)),
    (logsumexp, (_x,)),
    (logsumexp, (np.array([1000.0, 1000.0, 999.0]),)),
    (logsumexp_rows, (_A,)),
    (int_and_bool_reductions, (5, _x)),
    (int_and_bool_reductions, (1, np.abs(_x) + 1.0)),
    (cumulative, (_x, _A)),
    (variance_forms, (_A,)),
    (variance_forms, (_B,)),
    (column_leaders, (_A,)),
    (builtin_reductions, (_x,)),
    (range_normalise, (_B,)),
    (range_normalise, (np.ones((3, 2)),)),
]
