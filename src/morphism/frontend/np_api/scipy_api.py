"""SciPy functions that statistical models call, written in NumPy over morphism's primitives:
scipy.special (ndtr, log_ndtr, ndtri, erf, erfc, expit, logit, xlogy, xlog1py, softmax,
log_softmax), scipy.stats distributions (norm, t, expon, gamma, beta, multivariate_normal) and
scipy.signal.convolve.

Each function is compiled from its source like user code (`implements_lazy_source`), so it
differentiates, batches and compiles natively. SciPy's internals are never read: a
distribution's method is matched on (the module-level instance, the method's name). Branches
that SciPy takes per element are `np.where` over arguments made safe for both sides, so that
neither side warns nor poisons a derivative with inf * 0.
"""

from __future__ import annotations

import math

import numpy as np

from ...primitives import elementwise as E
from ...primitives import special as SP
from ..library import error, implements, implements_lazy, implements_lazy_source, implements_source, inline_source, static, to_atom, to_float

_LOG_2PI = math.log(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)

# ---- scipy.special: primitives ---------------------------------------------------------------------

implements_lazy("scipy.special", "erf")(lambda x: SP.erf(to_float(to_atom(x))))
implements_lazy("scipy.special", "erfc")(lambda x: SP.erfc(to_float(to_atom(x))))
implements_lazy("scipy.special", "ndtri")(lambda x: SP.ndtri(to_float(to_atom(x))))
implements_lazy("math", "erf")(lambda x: SP.erf(to_float(to_atom(x))))
implements_lazy("math", "erfc")(lambda x: SP.erfc(to_float(to_atom(x))))


# ---- scipy.special: composites ---------------------------------------------------------------------


@implements_lazy_source("scipy.special", "ndtr")
def _ndtr(x):
    return 0.5 * _erfc(-x * _SQRT1_2)


# The primitives, callable from the functions below (and the table says what they take).
for _p in (SP.erf, SP.erfc, SP.ndtri, E.lgamma):
    implements(_p)(lambda x, _p=_p: _p(to_float(to_atom(x))))
_erfc, _gammaln = SP.erfc, E.lgamma


@implements_lazy_source("scipy.special", "log_ndtr")
def _log_ndtr(x):
    # SciPy's three regimes: log1p(-ndtr(-x)) ~ -ndtr(-x) far right, log(ndtr) in the middle, and
    # the asymptotic series far left (where ndtr underflows).
    right = -0.5 * _erfc(np.maximum(x, 6.0) * _SQRT1_2)
    mid = np.log(0.5 * _erfc(-np.clip(x, -20.0, 6.0) * _SQRT1_2))
    xl = np.minimum(x, -20.0)
    r = 1.0 / (xl * xl)
    left = -0.5 * xl * xl - np.log(-xl) - 0.5 * _LOG_2PI + np.log(1.0 - r + 3.0 * r * r - 15.0 * r * r * r)
    return np.where(x > 6.0, right, np.where(x > -20.0, mid, left))


@implements_lazy_source("scipy.special", "expit")
def _expit(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@implements_lazy_source("scipy.special", "logit")
def _logit(p):
    return np.log(p / (1.0 - p))


@implements_lazy_source("scipy.special", "xlogy")
def _xlogy(x, y):
    zero = x == 0
    return np.where(zero, 0.0, x * np.log(np.where(zero, 1.0, y)))


@implements_lazy_source("scipy.special", "xlog1py")
def _xlog1py(x, y):
    zero = x == 0
    return np.where(zero, 0.0, x * np.log1p(np.where(zero, 0.0, y)))


@implements_lazy_source("scipy.special", "log_softmax")
def _log_softmax(x, axis=None):
    return x - _lse(x, axis)


@implements_lazy_source("scipy.special", "softmax")
def _softmax(x, axis=None):
    return np.exp(x - _lse(x, axis))


@implements_source()
def _lse(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m


@implements_lazy_source("scipy.special", "betaln")
def _betaln(a, b):
    return _gammaln(a) + _gammaln(b) - _gammaln(a + b)


# ---- scipy.stats: frozen module-level distributions, matched on (instance, method) ----------------


@implements_lazy_source("scipy.stats", "norm.logpdf")
def _norm_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return -0.5 * z * z - np.log(scale) - 0.5 * _LOG_2PI


@implements_lazy_source("scipy.stats", "norm.pdf")
def _norm_pdf(x, loc=0.0, scale=1.0):
    return np.exp(_norm_logpdf(x, loc, scale))


@implements_lazy_source("scipy.stats", "norm.cdf")
def _norm_cdf(x, loc=0.0, scale=1.0):
    return _ndtr((x - loc) / scale)


@implements_lazy_source("scipy.stats", "norm.logcdf")
def _norm_logcdf(x, loc=0.0, scale=1.0):
    return _log_ndtr((x - loc) / scale)


@implements_lazy_source("scipy.stats", "norm.sf")
def _norm_sf(x, loc=0.0, scale=1.0):
    return _ndtr((loc - x) / scale)


@implements_lazy_source("scipy.stats", "norm.logsf")
def _norm_logsf(x, loc=0.0, scale=1.0):
    return _log_ndtr((loc - x) / scale)


@implements_lazy_source("scipy.stats", "norm.ppf")
def _norm_ppf(q, loc=0.0, scale=1.0):
    return loc + scale * SP.ndtri(q * 1.0)


@implements_lazy_source("scipy.stats", "t.logpdf")
def _t_logpdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (_gammaln(0.5 * (df + 1.0)) - _gammaln(0.5 * df) - 0.5 * np.log(df * math.pi)
            - 0.5 * (df + 1.0) * np.log1p(z * z / df) - np.log(scale))


@implements_lazy_source("scipy.stats", "t.pdf")
def _t_pdf(x, df, loc=0.0, scale=1.0):
    return np.exp(_t_logpdf(x, df, loc, scale))


@implements_lazy_source("scipy.stats", "expon.logpdf")
def _expon_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z >= 0, -z - np.log(scale), -np.inf)


@implements_lazy_source("scipy.stats", "expon.pdf")
def _expon_pdf(x, loc=0.0, scale=1.0):
    return np.exp(_expon_logpdf(x, loc, scale))


@implements_lazy_source("scipy.stats", "gamma.logpdf")
def _gamma_logpdf(x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    inside = z >= 0
    zs = np.where(inside, z, 1.0)
    return np.where(inside, _xlogy(a - 1.0, zs) - zs - _gammaln(a) - np.log(scale), -np.inf)


@implements_lazy_source("scipy.stats", "beta.logpdf")
def _beta_logpdf(x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    inside = (z >= 0) & (z <= 1)
    zs = np.where(inside, z, 0.5)
    lb = _gammaln(a) + _gammaln(b) - _gammaln(a + b)
    return np.where(inside, _xlogy(a - 1.0, zs) + _xlog1py(b - 1.0, -zs) - lb - np.log(scale), -np.inf)


@implements_lazy_source("scipy.stats", "multivariate_normal.logpdf")
def _mvn_logpdf(x, mean=None, cov=1):
    d = np.shape(x)[-1]
    if mean is None:
        diff = x * 1.0
    else:
        diff = x - mean
    if np.ndim(cov) == 0:
        C = cov * np.eye(d)
    else:
        C = cov * 1.0
    L = np.linalg.cholesky(C)
    logdet = 2.0 * np.sum(np.log(np.diagonal(L)))
    if np.ndim(x) == 1:
        z = np.linalg.solve(L, diff)
        maha = np.sum(z * z)
    else:
        z = np.linalg.solve(L, diff.T)
        maha = np.sum(z * z, axis=0)
    return -0.5 * (d * _LOG_2PI + logdet + maha)


@implements_lazy_source("scipy.stats", "multivariate_normal.pdf")
def _mvn_pdf(x, mean=None, cov=1):
    return np.exp(_mvn_logpdf(x, mean, cov))


# ---- scipy.signal.convolve: the direct method ------------------------------------------------------


def _convolve(in1, in2, mode="full", method="auto"):
    md = static(mode, "scipy.signal.convolve's mode")
    if md not in ("full", "same", "valid"):
        error(f"scipy.signal.convolve: mode must be 'full', 'same' or 'valid', found {md!r}")
    if static(method, "method") not in ("auto", "direct", "fft"):
        error(f"scipy.signal.convolve: unknown method {static(method, 'method')!r}")
    a, b = to_atom(in1), to_atom(in2)
    if a.type.ndim != b.type.ndim or a.type.ndim not in (1, 2):
        error(f"scipy.signal.convolve supports 1-d and 2-d arrays of the same dimensionality in morphism, "
              f"found {a.type.ndim}-d and {b.type.ndim}-d")
    full = inline_source(_conv_full_1d if a.type.ndim == 1 else _conv_full_2d, a, b)
    if md == "full":
        return full
    return inline_source(_crop_1d if a.type.ndim == 1 else _crop_2d, full, a, b, md == "same")


implements_lazy("scipy.signal", "convolve")(_convolve)


@implements_source()
def _conv_full_1d(a, b):
    n = a.shape[0]
    m = b.shape[0]
    out = np.zeros(n + m - 1) + a[0] * b[0] * 0.0
    for i in range(n):
        for j in range(m):
            out[i + j] += a[i] * b[j]
    return out


@implements_source()
def _conv_full_2d(a, b):
    n0 = a.shape[0]
    n1 = a.shape[1]
    m0 = b.shape[0]
    m1 = b.shape[1]
    out = np.zeros((n0 + m0 - 1, n1 + m1 - 1)) + a[0, 0] * b[0, 0] * 0.0
    for i0 in range(n0):
        for i1 in range(n1):
            for j0 in range(m0):
                for j1 in range(m1):
                    out[i0 + j0, i1 + j1] += a[i0, i1] * b[j0, j1]
    return out


@implements_source()
def _crop_1d(full, a, b, same):
    n = a.shape[0]
    m = b.shape[0]
    if same:
        s = (m - 1) // 2
        return full[s:s + n]
    return full[min(n, m) - 1:max(n, m)]


@implements_source()
def _crop_2d(full, a, b, same):
    n0 = a.shape[0]
    n1 = a.shape[1]
    m0 = b.shape[0]
    m1 = b.shape[1]
    if same:
        s0 = (m0 - 1) // 2
        s1 = (m1 - 1) // 2
        return full[s0:s0 + n0, s1:s1 + n1]
    return full[min(n0, m0) - 1:max(n0, m0), min(n1, m1) - 1:max(n1, m1)]
