"""Elementwise NumPy functions, the math module, and `from numpy import ...` style names."""

import math

import numpy as np
from numpy import arctan2, cos, exp, hypot, sin, sqrt


def trig_family(x):
    s = np.sin(x)
    c = np.cos(x)
    t = np.tan(0.5 * x)
    identity = s * s + c * c
    inv = np.arcsin(np.clip(s, -1.0, 1.0)), np.arccos(np.clip(c, -1.0, 1.0)), np.arctan(t)
    hyper = np.sinh(x), np.cosh(x), np.tanh(x)
    return s, c, t, identity, inv, hyper


def exp_log_family(x):
    # x > 0
    a = np.exp(x)
    b = np.log(x)
    c = np.log1p(x)
    d = np.expm1(-x)
    e = np.sqrt(x)
    f = np.exp2(x)
    g = np.log2(x)
    h = np.log10(x)
    k = np.power(x, 1.5)
    m = np.square(x - 1.0)
    return a, b, c, d, e, f, g, h, k, m


def rounding_and_sign(x):
    return (np.floor(x), np.ceil(x), np.sign(x), np.abs(x), np.mod(x, 0.75), np.mod(-x, 2.0),
            np.maximum(x, 0.0), np.minimum(x, -x), np.clip(x, -0.5, 0.5))


def polar_coords(xy):
    # uses `from numpy import ...` names
    r = hypot(xy[:, 0], xy[:, 1])
    theta = arctan2(xy[:, 1], xy[:, 0])
    back = np.stack([r * cos(theta), r * sin(theta)], axis=1)
    return r, theta, back


def gaussian_pdf(x, mu, sigma):
    z = (x - mu) / sigma
    return exp(-0.5 * z * z) / (sigma * sqrt(2.0 * np.pi))


def math_module(x, y):
    vals = (math.sin(x), math.cos(x), math.exp(-x), math.log(1.0 + x * x), math.sqrt(abs(y)),
            math.tanh(x), math.atan2(y, x), math.hypot(x, y), math.fabs(y), math.floor(x), math.ceil(y))
    consts = (math.pi, math.e, -math.inf < x < math.inf)
    return vals, consts


def stable_log_ops(a, b):
    lse = np.logaddexp(a, b)
    naive = np.log(np.exp(a) + np.exp(b))
    softplus = np.logaddexp(0.0, a)
    return lse, naive, softplus


def nan_inf_checks(x):
    y = np.log(x)          # -inf at 0, nan for negative values
    finite = np.isfinite(y)
    nans = np.isnan(y)
    cleaned = np.where(finite, y, 0.0)
    return finite, nans, cleaned, finite.sum(), nans.any(), finite.all()


def int_power_and_mod(n):
    k = np.arange(n)
    return np.power(k, 2), np.mod(k - 5, 3), k ** 3 - 2 * k, np.maximum(k, 3), np.minimum(k, n - k), np.abs(k - 4), np.sign(k - 2)


def logistic_map(r, x0, n):
    xs = np.zeros(n)
    x = x0
    for i in range(n):
        x = r * x * (1.0 - x)
        xs[i] = x
    return xs, math.log(abs(r)), np.mean(np.log(np.abs(r * (1.0 - 2.0 * xs))))


_rng = np.random.default_rng(6)
_x = _rng.uniform(-3.0, 3.0, size=16)
_pos = _rng.uniform(0.1, 4.0, size=9)
_xy = _rng.normal(size=(7, 2))

CASES = [
    (trig_family, (_x,)),
    (trig_family, (0.3,)),
    (exp_log_family, (_pos,)),
    (exp_log_family, (2.5,)),
    (rounding_and_sign, (_x,)),
    (rounding_and_sign, (np.array([-1.5, -0.0, 0.0, 0.5, 2.0]),)),
    (polar_coords, (_xy,)),
    (gaussian_pdf, (_x, 0.5, 1.5)),
    (gaussian_pdf, (0.0, 0.0, 1.0)),
    (math_module, (0.7, -2.3)),
    (math_module, (-1.2, 4.0)),
    (stable_log_ops, (_x, _x[::-1])),
    (stable_log_ops, (800.0, 799.0)),
    (nan_inf_checks, (np.array([1.0, 0.0, -1.0, 2.0]),)),
    (nan_inf_checks, (_pos,)),
    (int_power_and_mod, (9,)),
    (logistic_map, (3.7, 0.2, 50)),
    (logistic_map, (2.5, 0.5, 10)),
]
