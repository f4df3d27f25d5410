"""Input validation the way users write it: asserts with messages, raises in branches the test
inputs never take, and print calls (their output is not compared)."""

import math

import numpy as np


def checked_mean(x):
    assert x.ndim == 1, "x must be one-dimensional"
    assert len(x) > 0, "x must not be empty"
    return x.sum() / len(x)


def bisection(f_coeffs, lo, hi, tol=1e-12, max_iter=200):
    # root of the cubic with coefficients f_coeffs (highest degree first) in [lo, hi]
    flo = ((f_coeffs[0] * lo + f_coeffs[1]) * lo + f_coeffs[2]) * lo + f_coeffs[3]
    fhi = ((f_coeffs[0] * hi + f_coeffs[1]) * hi + f_coeffs[2]) * hi + f_coeffs[3]
    if flo * fhi > 0.0:
        raise ValueError("the interval does not bracket a root")
    it = 0
    while hi - lo > tol and it < max_iter:
        mid = 0.5 * (lo + hi)
        fmid = ((f_coeffs[0] * mid + f_coeffs[1]) * mid + f_coeffs[2]) * mid + f_coeffs[3]
        if fmid == 0.0:
            return mid, it
        if (fmid < 0.0) == (flo < 0.0):
            lo = mid
            flo = fmid
        else:
            hi = mid
        it += 1
    return 0.5 * (lo + hi), it


def safe_log_sum(x, floor=1e-300):
    if np.any(x < 0.0):
        raise ValueError("negative input")
    total = 0.0
    for v in x:
        total += math.log(max(v, floor))
    return total


def progress_printing(n):
    s = 0.0
    print("starting", n)
    for i in range(n):
        s += 1.0 / (i + 1) ** 2
        if i % 10 == 0:
            print("step", i, "partial sum", s)
    print(f"done: {s:.6f}")
    return s, math.pi ** 2 / 6.0 - s


def normalise_probabilities(p):
    assert np.all(p >= 0.0), "probabilities must be non-negative"
    total = p.sum()
    if total <= 0.0:
        raise ValueError("all probabilities are zero")
    q = p / total
    assert abs(q.sum() - 1.0) < 1e-12, "normalisation failed"
    return q


def validate_matrix_then_solve(A, b):
    n, m = A.shape
    if n != m:
        raise ValueError("A must be square")
    assert b.shape[0] == n, "dimension mismatch"
    d = np.linalg.det(A)
    if abs(d) < 1e-300:
        raise ValueError("singular matrix")
    return np.linalg.solve(A, b), d


def step_size_control(y0, t_end, h0):
    # Euler with step halving; raises only if the step becomes absurdly small
    y = y0
    t = 0.0
    h = h0
    n_steps = 0
    while t < t_end - 1e-12:
        if h < 1e-12:
            raise ValueError("step size underflow")
        h = min(h, t_end - t)
        y_full = y + h * (-2.0 * y)
        y_half = y + 0.5 * h * (-2.0 * y)
        y_half = y_half + 0.5 * h * (-2.0 * y_half)
        if abs(y_full - y_half) > 1e-4:
            h *= 0.5
            continue
        y = y_half
        t += h
        n_steps += 1
    return y, n_steps


_rng = np.random.default_rng(10)

CASES = [
    (checked_mean, (_rng.normal(size=9),)),
    (checked_mean, (np.array([4.0]),)),
    (bisection, (np.array([1.0, 0.0, -2.0, -5.0]), 0.0, 3.0)),
    (bisection, (np.array([1.0, -6.0, 11.0, -6.0]), 1.5, 2.5)),
    (bisection, (np.array([1.0, 0.0, 0.0, -8.0]), 0.0, 4.0)),
    (bisection, (np.array([1.0, 0.0, -2.0, -5.0]), 0.0, 3.0, 1e-3, 5)),
    (safe_log_sum, (_rng.uniform(0.5, 2.0, size=8),)),
    (safe_log_sum, (np.array([1.0, 0.0, 2.0]),)),
    (progress_printing, (25,)),
    (normalise_probabilities, (_rng.uniform(size=6),)),
    (validate_matrix_then_solve, (np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([1.0, 2.0]))),
    (step_size_control, (1.0, 1.0, 0.5)),
    (step_size_control, (2.0, 0.3, 0.01)),
]
