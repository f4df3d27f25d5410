"""Finite-difference oracles shared by the derivative-rule tests: jvp against central
differences, vjp against jvp (the transpose identity), grad against the FD gradient, and second
order (forward-over-reverse and reverse-over-reverse Hessians) against FD of `mo.grad`."""

import numpy as np

import morphism as mo

EPS = 1e-6


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


def check_first_order(f, *args, seed=0):
    """jvp against FD, vjp against jvp (the transpose identity), and grad against the FD
    gradient when f returns a scalar."""
    rng = np.random.default_rng(seed)
    args = tuple(np.asarray(a, dtype=np.float64) if np.ndim(a) else float(a) for a in args)
    tangents = tuple(rng.standard_normal(np.shape(a)) if np.ndim(a) else float(rng.standard_normal()) for a in args)
    want = np.asarray(f(*args))
    out, out_dot = mo.jvp(f, args, tangents)
    close(out, want, rtol=1e-12)
    close(out_dot, fd_directional(f, args, tangents))
    w = rng.standard_normal(want.shape)
    out2, back = mo.vjp(f, *args)
    close(out2, want, rtol=1e-12)
    cts = back(w if want.ndim else float(w))
    assert len(cts) == len(args)
    lhs = float(np.sum(w * np.asarray(out_dot)))
    rhs = sum(float(np.sum(np.asarray(c) * np.asarray(t))) for c, t in zip(cts, tangents))
    close(rhs, lhs, rtol=1e-9)
    if want.ndim == 0:
        for k, a in enumerate(args):
            g = mo.grad(f, argnums=k)(*args)
            close(g, fd_jacobian(lambda v: f(*_with(args, k, v)), a))


def check_second_order(f, x):
    """Forward-over-reverse and reverse-over-reverse Hessians against FD of mo.grad."""
    x = np.asarray(x, dtype=np.float64)
    want = fd_jacobian(mo.grad(f), x)
    close(mo.hessian(f)(x), want, rtol=1e-4)
    close(mo.jacrev(mo.grad(f))(x), want, rtol=1e-4)
