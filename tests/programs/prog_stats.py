"""Descriptive statistics, histograms, quadrature, regression, time-series helpers."""

import math

import numpy as np


def describe(x):
    n = len(x)
    mu = np.mean(x)
    sd = np.std(x)
    sd1 = math.sqrt(np.sum((x - mu) ** 2) / (n - 1))
    z = (x - mu) / sd
    skew = np.mean(z ** 3)
    kurt = np.mean(z ** 4) - 3.0
    return mu, sd, sd1, skew, kurt


def weighted_mean_var(x, w):
    wsum = w.sum()
    mu = (w * x).sum() / wsum
    var = (w * (x - mu) ** 2).sum() / wsum
    return mu, var


def covariance_correlation(X):
    n = X.shape[0]
    Xc = X - X.mean(axis=0)
    C = Xc.T @ Xc / (n - 1)
    s = np.sqrt(np.diag(C))
    R = C / np.outer(s, s)
    return C, R


def histogram_searchsorted(x, edges):
    # counts per bin [edges[i], edges[i+1]); values outside are dropped
    idx = np.searchsorted(edges, x, side="right") - 1
    nb = len(edges) - 1
    counts = np.zeros(nb, dtype=np.int64)
    for k in idx:
        if 0 <= k < nb:
            counts[k] += 1
    density = counts / (counts.sum() * np.diff(edges))
    return counts, density, np.searchsorted(edges, 0.0)


def median_and_quantile(x, q):
    s = np.sort(x)
    n = len(s)
    if n % 2 == 1:
        med = s[n // 2]
    else:
        med = 0.5 * (s[n // 2 - 1] + s[n // 2])
    pos = q * (n - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    quant = s[lo] + frac * (s[hi] - s[lo])
    return med, quant


def moving_average_cumsum(x, w):
    c = np.cumsum(np.concatenate([np.zeros(1), x]))
    return (c[w:] - c[:-w]) / w


def trapezoid(y, x):
    total = 0.0
    for i in range(len(x) - 1):
        total += 0.5 * (x[i + 1] - x[i]) * (y[i] + y[i + 1])
    vectorised = np.sum(0.5 * np.diff(x) * (y[1:] + y[:-1]))
    return total, vectorised


def simpson(f_vals, dx):
    n = len(f_vals) - 1
    assert n % 2 == 0, "Simpson's rule needs an even number of intervals"
    s = f_vals[0] + f_vals[-1] + 4.0 * f_vals[1:-1:2].sum() + 2.0 * f_vals[2:-1:2].sum()
    return s * dx / 3.0


def welford(x):
    n = 0
    mean = 0.0
    m2 = 0.0
    for v in x:
        n += 1
        d = v - mean
        mean += d / n
        m2 += d * (v - mean)
    return mean, m2 / (n - 1), np.sum((x - x.mean()) ** 2) / (n - 1)


def autocorrelation(x, max_lag):
    n = len(x)
    xc = x - x.mean()
    denom = xc @ xc
    ac = np.zeros(max_lag + 1)
    for lag in range(max_lag + 1):
        ac[lag] = (xc[:n - lag] @ xc[lag:]) / denom
    return ac


def ols_fit(x, y):
    # closed form simple regression plus the normal-equation solution with an intercept column
    xm = x.mean()
    ym = y.mean()
    slope = np.sum((x - xm) * (y - ym)) / np.sum((x - xm) ** 2)
    intercept = ym - slope * xm
    X = np.stack([np.ones_like(x), x], axis=1)
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    resid = y - X @ beta
    r2 = 1.0 - (resid @ resid) / np.sum((y - ym) ** 2)
    return slope, intercept, beta, r2


def ecdf_at(x, t):
    s = np.sort(x)
    return np.searchsorted(s, t, side="right") / len(s)


def rank_data(x):
    # ranks 0..n-1 by a selection-style count (no ties in the inputs)
    n = len(x)
    r = np.zeros(n, dtype=np.int64)
    for i in range(n):
        r[i] = np.sum(x < x[i])
    return r


def zscore_outliers(x, k=2.0):
    z = (x - x.mean()) / x.std()
    out = []
    for i in range(len(x)):
        if abs(z[i]) > k:
            out.append(i)
    n_out = len(out)
    kept = x[np.abs(z) <= k]
    return n_out, kept.mean(), np.array([z[i] for i in range(len(x)) if abs(z[i]) > 1.0])


def pearson_zip(x, y):
    # one pass over pairs with zip; sums start as ints and widen to floats
    n = 0
    sx = 0
    sy = 0
    sxx = 0
    syy = 0
    sxy = 0
    for a, b in zip(x, y):
        n += 1
        sx += a
        sy += b
        sxx += a * a
        syy += b * b
        sxy += a * b
    cov = sxy / n - (sx / n) * (sy / n)
    vx = sxx / n - (sx / n) ** 2
    vy = syy / n - (sy / n) ** 2
    return cov / math.sqrt(vx * vy), n


def running_max_history(x):
    # a list seeded with a first element, then grown with append and read back with [-1]
    hist = [x[0]]
    for i in range(1, len(x)):
        hist.append(max(hist[-1], x[i]))
    h = np.array(hist)
    return h, len(hist), hist[-1]


_rng = np.random.default_rng(13)
_x = _rng.normal(size=40)
_w = _rng.uniform(size=40)
_X = _rng.normal(size=(20, 3))
_edges = np.linspace(-2.0, 2.0, 9)
_grid = np.linspace(0.0, math.pi, 21)
_ar = np.zeros(60)
for _i in range(1, 60):
    _ar[_i] = 0.8 * _ar[_i - 1] + _rng.normal()
_xl = np.linspace(0.0, 5.0, 25)
_yl = 2.0 * _xl - 1.0 + 0.1 * _rng.normal(size=25)
_outl = np.concatenate([_rng.normal(size=20), np.array([8.0, -7.5])])

CASES = [
    (describe, (_x,)),
    (describe, (np.arange(1.0, 6.0),)),
    (weighted_mean_var, (_x, _w)),
    (covariance_correlation, (_X,)),
    (histogram_searchsorted, (_x, _edges)),
    (histogram_searchsorted, (_rng.uniform(-1.0, 1.0, size=30), np.array([-1.0, 0.0, 0.5, 1.0]))),
    (median_and_quantile, (_x, 0.25)),
    (median_and_quantile, (_x[:7], 0.9)),
    (median_and_quantile, (np.array([3.0]), 0.5)),
    (moving_average_cumsum, (_x, 4)),
    (trapezoid, (np.sin(_grid), _grid)),
    (trapezoid, (_grid ** 2, _grid)),
    (simpson, (np.sin(_grid), _grid[1] - _grid[0])),
    (welford, (_x,)),
    (welford, (np.array([1.0, 2.0]),)),
    (autocorrelation, (_ar, 5)),
    (ols_fit, (_xl, _yl)),
    (pearson_zip, (_xl, _yl)),
    (pearson_zip, (_x[:10], _w[:10])),
    (ecdf_at, (_x, 0.0)),
    (ecdf_at, (_x, 5.0)),
    (rank_data, (_x[:10],)),
    (running_max_history, (_x,)),
    (running_max_history, (np.array([1.0]),)),
    (zscore_outliers, (_outl,)),
    (zscore_outliers, (_outl, 3.0)),
]
