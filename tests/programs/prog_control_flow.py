"""Branches, early returns, break/continue, short-circuit conditions, for/while-else."""

import numpy as np


def classify(x):
    if x < -1.0:
        return 0
    elif -1.0 <= x < 0.0:
        return 1
    elif 0.0 <= x < 1.0:
        return 2
    elif x == 1.0:
        return 3
    else:
        return 4


def piecewise_linear(x):
    # nested conditional expressions
    y = 0.0 if x < 0.0 else (x if x < 1.0 else (2.0 - x if x < 2.0 else 0.0))
    slope = 0.0 if x < 0.0 or x >= 2.0 else (1.0 if x < 1.0 else -1.0)
    return y, slope


def first_negative(x):
    for i in range(len(x)):
        if x[i] < 0.0:
            return i
    return -1


def count_below_threshold(x, thr):
    # short-circuit: x[i] must not be evaluated once i == n
    n = len(x)
    i = 0
    while i < n and x[i] < thr:
        i += 1
    total = 0.0
    j = 0
    while j < i:
        total += x[j]
        j += 1
    return i, total


def sum_skip_and_stop(x, stop):
    # continue on negatives, break on a large value, return from inside the loop on NaN
    s = 0.0
    used = 0
    for v in x:
        if np.isnan(v):
            return -1.0, used
        if v < 0.0:
            continue
        if v > stop:
            break
        s += v
        used += 1
    return s, used


def find_in_matrix(A, target):
    # early exit from nested loops
    n, m = A.shape
    for i in range(n):
        for j in range(m):
            if A[i, j] > target:
                return i, j, A[i, j]
    return -1, -1, 0.0


def bool_logic(a, b, x):
    p = a and not b
    q = a or b
    r = not (a and b)
    s = (a & b) | (a ^ b)
    t = (x > 0.0) == a
    u = x > 0.0 and x < 10.0 or x == -1.0
    v = not a or (b and x > 2.0)
    return p, q, r, s, t, u, v


def chained_compare(x, lo, hi):
    inside = lo < x < hi
    closed = lo <= x <= hi
    ordered = lo < hi < x + 10.0 != 3.0
    return inside, closed, ordered


def search_with_for_else(x, value):
    pos = -1
    for i in range(len(x)):
        if x[i] == value:
            pos = i
            break
    else:
        pos = len(x)
    return pos


def newton_with_while_else(c, x0, max_iter=50):
    # root of x^3 - c; the else clause runs only if the loop did not break
    x = x0
    converged = False
    k = 0
    while k < max_iter:
        fx = x * x * x - c
        if abs(fx) < 1e-13 * max(1.0, abs(c)):
            converged = True
            break
        x = x - fx / (3.0 * x * x)
        k += 1
    else:
        x = -1.0
    return x, converged, k


def sign_changes(x):
    count = 0
    prev = x[0]
    for i in range(1, len(x)):
        cur = x[i]
        if cur == 0.0:
            continue
        if prev != 0.0 and (prev < 0.0) != (cur < 0.0):
            count += 1
        prev = cur
    return count


def bracket_state_machine(x):
    # a tiny state machine driven by data: 0 = idle, 1 = rising, 2 = falling
    state = 0
    runs_up = 0
    runs_down = 0
    for i in range(1, len(x)):
        d = x[i] - x[i - 1]
        if state == 0:
            state = 1 if d > 0 else (2 if d < 0 else 0)
        elif state == 1 and d < 0:
            runs_up += 1
            state = 2
        elif state == 2 and d > 0:
            runs_down += 1
            state = 1
    return state, runs_up, runs_down


_rng = np.random.default_rng(1)
_x20 = _rng.normal(size=20)
_pos = np.abs(_rng.normal(size=15)) + 0.1
_nan_in = np.array([1.0, -2.0, 3.0, np.nan, 5.0])
_M = _rng.uniform(size=(6, 5))

CASES = [
    (classify, (-3.0,)),
    (classify, (-0.5,)),
    (classify, (0.25,)),
    (classify, (1.0,)),
    (classify, (7.0,)),
    (piecewise_linear, (-1.0,)),
    (piecewise_linear, (0.5,)),
    (piecewise_linear, (1.5,)),
    (piecewise_linear, (3.0,)),
    (first_negative, (_pos,)),
    (first_negative, (_x20,)),
    (count_below_threshold, (_pos, 100.0)),
    (count_below_threshold, (_pos, 0.5)),
    (count_below_threshold, (np.array([2.0, 1.0]), 0.0)),
    (sum_skip_and_stop, (_x20, 1.5)),
    (sum_skip_and_stop, (_pos, 100.0)),
    (sum_skip_and_stop, (_nan_in, 10.0)),
    (find_in_matrix, (_M, 0.9)),
    (find_in_matrix, (_M, 2.0)),
    (bool_logic, (True, False, 3.0)),
    (bool_logic, (True, True, -1.0)),
    (bool_logic, (False, False, 12.0)),
    (bool_logic, (False, True, 0.5)),
    (chained_compare, (0.5, 0.0, 1.0)),
    (chained_compare, (1.0, 0.0, 1.0)),
    (chained_compare, (-7.0, -2.0, 1.0)),
    (search_with_for_else, (np.array([3.0, 1.0, 4.0, 1.0, 5.0]), 4.0)),
    (search_with_for_else, (np.array([3.0, 1.0, 4.0, 1.0, 5.0]), 9.0)),
    (newton_with_while_else, (27.0, 1.0)),
    (newton_with_while_else, (2.0, 5.0)),
    (newton_with_while_else, (1000.0, 1.0, 3)),
    (sign_changes, (_x20,)),
    (sign_changes, (np.array([1.0, 0.0, -1.0, 0.0, 0.0, 2.0, -3.0]),)),
    (bracket_state_machine, (_x20,)),
    (bracket_state_machine, (np.array([1.0, 1.0, 1.0]),)),
]
