"""Calls between user functions: defaults, keywords, closures, lambdas, module-level constants."""

import math

import numpy as np

GRAVITY = 9.81
N_SUBSTEPS = 4
WEIGHTS = np.array([0.25, 0.5, 0.25])
GAUSS_NODES = (-0.7745966692414834, 0.0, 0.7745966692414834)
GAUSS_WEIGHTS = (5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0)
COEFFS = np.array([1.0, -3.0, 0.5, 2.0])


def horner(coeffs, x):
    # coeffs[0] is the highest-degree coefficient
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def poly_derivative_at(coeffs, x, h=1e-6, central=True):
    if central:
        return (horner(coeffs, x + h) - horner(coeffs, x - h)) / (2.0 * h)
    return (horner(coeffs, x + h) - horner(coeffs, x)) / h


def polyval_many(xs):
    vals = np.array([horner(COEFFS, xs[i]) for i in range(len(xs))])
    slopes = np.array([poly_derivative_at(COEFFS, v, central=False, h=1e-7) for v in xs])
    return vals, slopes


def smooth3(x, weights=WEIGHTS, passes=1):
    y = x.copy()
    for _ in range(passes):
        z = y.copy()
        z[1:-1] = weights[0] * y[:-2] + weights[1] * y[1:-1] + weights[2] * y[2:]
        y = z
    return y


def call_with_keywords(x):
    a = smooth3(x)
    b = smooth3(x, passes=3)
    c = smooth3(weights=np.array([0.0, 1.0, 0.0]), x=x, passes=2)
    return a, b, c


def gauss_legendre(a, b, n_panels):
    # integrates the closure f over [a, b] with 3-point Gauss rules per panel
    k = 3.0

    def f(t):
        return math.exp(-t * t) * math.cos(k * t)

    h = (b - a) / n_panels
    total = 0.0
    for p in range(n_panels):
        mid = a + (p + 0.5) * h
        for node, w in zip(GAUSS_NODES, GAUSS_WEIGHTS):
            total += w * f(mid + 0.5 * h * node)
    return 0.5 * h * total


def make_and_apply_affine(x, scale, shift):
    def affine(v):
        return scale * v + shift

    def twice(v):
        return affine(affine(v))

    return affine(x), twice(x), twice(1.0)


def lambdas(x, p):
    sq = lambda v: v * v
    norm_p = lambda v, q: np.sum(np.abs(v) ** q) ** (1.0 / q)
    return sq(x), sq(3.0), norm_p(x, p), norm_p(x, 1.0)


def falling_time(h0, drag=0.0, dt=0.01):
    # semi-implicit Euler with N_SUBSTEPS substeps per step until the ground is hit
    y = h0
    v = 0.0
    t = 0.0
    sub = dt / N_SUBSTEPS
    while y > 0.0:
        for _ in range(N_SUBSTEPS):
            a = -GRAVITY - drag * v * abs(v)
            v += sub * a
            y += sub * v
        t += dt
    return t, v


def three_level_chain(x):
    return level1(x, 2.0)


def level1(x, a):
    y, s = level2(x * a, offset=1.0)
    return y, s + a


def level2(x, offset=0.0, scale=1.0):
    y = scale * level3(x) + offset
    return y, y.sum()


def level3(x):
    return np.tanh(x) * GRAVITY


def apply_n_times(x, n):
    def step(v):
        return 0.5 * (v + 2.0 / v)

    for _ in range(n):
        x = step(x)
    return x


_rng = np.random.default_rng(5)
_x = _rng.normal(size=10)

CASES = [
    (horner, (COEFFS, 2.0)),
    (horner, (np.array([5.0]), -1.0)),
    (poly_derivative_at, (COEFFS, 1.5)),
    (poly_derivative_at, (COEFFS, -0.5, 1e-4, False)),
    (polyval_many, (_x,)),
    (smooth3, (_x,)),
    (smooth3, (_x, np.array([0.1, 0.8, 0.1]), 4)),
    (call_with_keywords, (_x,)),
    (gauss_legendre, (0.0, 2.0, 4)),
    (gauss_legendre, (-1.0, 1.0, 1)),
    (make_and_apply_affine, (_x, 2.0, -1.0)),
    (make_and_apply_affine, (0.5, -1.0, 3.0)),
    (lambdas, (_x, 2.0)),
    (lambdas, (2.0, 3.0)),
    (falling_time, (10.0,)),
    (falling_time, (5.0, 0.1)),
    (falling_time, (2.0, 0.05, 0.002)),
    (three_level_chain, (_x,)),
    (apply_n_times, (1.0, 6)),
    (apply_n_times, (3.0, 0)),
]
