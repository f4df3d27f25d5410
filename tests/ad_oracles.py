"""Finite-difference oracles shared by the derivative-rule tests: jvp against central
differences, vjp against jvp (the transpose identity), grad against the FD gradient, and second
order (forward-over-reverse and reverse-over-reverse Hessians) against FD of `mo.grad`.

Every check runs the derivatives on one backend (a test parameter: `backends`, `on_both`).
Native results must also equal the interpreter's up to floating-point reassociation, and must
not fall back to the interpreter. The finite differences always come from NumPy or the
interpreter."""

import os
import warnings

import numpy as np
import pytest

import morphism as mo
from helpers import assert_close_up_to_rounding
from morphism.api import MorphismPerformanceWarning, _JVPOf, _VJPOf

EPS = 1e-6

# Compiling a derivative natively is what costs: Numba takes about 1 s of CPU for a reduction's
# jvp and up to 8 s for a decomposition's vjp, with a cold cache. Every case of the rule tests on
# the native backend took about 1150 s of CPU (test_rules_linalg 680 s, test_rules_reductions
# 290 s, test_rules_shape 170 s, test_ad 20 s; one process, -O1), more than the whole suite's
# budget. So by default the native backend runs a fixed sample, named in each test (`native=`,
# `backends(native=False)`), with at least one case of each family of primitives in both modes
# except the decompositions qr, svd and lstsq (5-10 s per derivative), and second order in
# test_ad and for max_sq and logdet (the shape chain's Hessian alone takes 60 s): 140 s of CPU in
# one process. The interpreter runs every case. MORPHISM_TEST_NATIVE_AD=all runs every case on
# both backends.
NATIVE_ALL = os.environ.get("MORPHISM_TEST_NATIVE_AD", "") == "all"
_NOT_SAMPLED = pytest.mark.skip(reason="native: outside the default sample (MORPHISM_TEST_NATIVE_AD=all runs it)")


def backends(native: bool = True) -> list:
    """The `backend` parameter of a test with one case: the interpreter, and the native backend
    by default if `native`."""
    return ["interpreter", "native" if native or NATIVE_ALL else pytest.param("native", marks=_NOT_SAMPLED)]


def on_both(cases: list, native=()) -> list:
    """Parameters `(*case, backend)`: each case on the interpreter, and by default on the native
    backend the cases in `native`."""
    out = []
    for case in cases:
        values = case if isinstance(case, tuple) else (case,)
        out.append(pytest.param(*values, "interpreter"))
        out.append(pytest.param(*values, "native", marks=() if NATIVE_ALL or case in native else _NOT_SAMPLED))
    return out


# `JVP(f)((primals), (tangents))` is `mo.jvp(f, primals, tangents)`; `VJP(f)((primals), ct)` is
# the cotangents of the primals that `mo.vjp(f, *primals)[1](ct)` returns. As transformed
# functions (not closures over the primals) they compile once per signature, like mo.grad(f).
JVP, VJP = _JVPOf, _VJPOf


def jacrev_of_grad(f):
    return mo.jacrev(mo.grad(f))


def grad_of_grad(f):
    return mo.grad(mo.grad(f))


_compiled: dict = {}


def compiled(backend: str, make, f, **kw):
    """`mo.jit(make(f, **kw), backend=backend)`, made once per worker: the examples of a property
    test (new shapes, the same dtypes and ranks) reuse what the first one compiled."""
    key = (backend, make, f, tuple(sorted(kw.items())))
    if key not in _compiled:
        t = make(f, **kw)
        # JVP and VJP take (primals, tangents or cotangent): compiled as they are, not by mo.jit
        _compiled[key] = type(t)(t.fn, backend=backend) if isinstance(t, (JVP, VJP)) else mo.jit(t, backend=backend)
    return _compiled[key]


def run(backend: str, make, f, *args, **kw):
    """`make(f, **kw)(*args)` compiled for `backend`; `make` is mo.grad, JVP, mo.hessian, ..."""
    if backend == "interpreter":
        return compiled(backend, make, f, **kw)(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)  # no fallback to the interpreter
        got = compiled(backend, make, f, **kw)(*args)
    assert_close_up_to_rounding(got, compiled("interpreter", make, f, **kw)(*args))
    return got


def close(got, want, rtol=1e-5):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = 1.0 + (np.max(np.abs(want)) if want.size else 0.0)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


def _with(args, k, v):
    return args[:k] + (v,) + args[k + 1:]


def fd_directional(f, args, tangents):
    plus = tuple(a + EPS * t for a, t in zip(args, tangents))
    minus = tuple(a - EPS * t for a, t in zip(args, tangents))
    return (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * EPS)


def fd_jacobian(f, x):
    """d f(x) / d x by central differences: shape f(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = 1.0
        cols.append(fd_directional(f, (x,), (e,)))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


def check_first_order(f, *args, backend, seed=0):
    """jvp against FD, vjp against jvp (the transpose identity), and grad against the FD
    gradient when f returns a scalar."""
    rng = np.random.default_rng(seed)
    args = tuple(np.asarray(a, dtype=np.float64) if np.ndim(a) else float(a) for a in args)
    tangents = tuple(rng.standard_normal(np.shape(a)) if np.ndim(a) else float(rng.standard_normal()) for a in args)
    want = np.asarray(f(*args))
    out, out_dot = run(backend, JVP, f, args, tangents)
    close(out, want, rtol=1e-12)
    close(out_dot, fd_directional(f, args, tangents))
    w = rng.standard_normal(want.shape)
    cts = run(backend, VJP, f, args, w if want.ndim else float(w))
    assert len(cts) == len(args)
    lhs = float(np.sum(w * np.asarray(out_dot)))
    rhs = sum(float(np.sum(np.asarray(c) * np.asarray(t))) for c, t in zip(cts, tangents))
    close(rhs, lhs, rtol=1e-9)
    if want.ndim == 0:
        for k, a in enumerate(args):
            g = run(backend, mo.grad, f, *args, argnums=k)
            close(g, fd_jacobian(lambda v: f(*_with(args, k, v)), a))


def check_second_order(f, x, backend):
    """Forward-over-reverse and reverse-over-reverse Hessians against FD of mo.grad."""
    x = np.asarray(x, dtype=np.float64)
    want = fd_jacobian(compiled("interpreter", mo.grad, f), x)
    close(run(backend, mo.hessian, f, x), want, rtol=1e-4)
    close(run(backend, jacrev_of_grad, f, x), want, rtol=1e-4)
