"""Native lowerings of primitives that ran in Numba's object mode: each program runs natively
(no `numba.objmode(` in its generated source), with the interpreter and with NumPy, and the
three agree (exactly, or to rounding where the native code calls other kernels: LAPACK through
Numba, einsum as a matrix product, the C library's lgamma). Several primitives share a program,
and several argument sets one compiled program (same types), to keep compile time down."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special

import morphism as mo
from morphism.api import MorphismPerformanceWarning

_compiled: dict = {}


def _jit(f, backend):
    key = (f, backend)
    if key not in _compiled:
        _compiled[key] = mo.jit(f, backend=backend)
    return _compiled[key]


def _check(f, args, exact=True):
    native = _jit(f, "native")
    src = native.lower(*args).source
    assert "numba.objmode(" not in src, src
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)  # Numba compiled it
        got = native(*args)
    for k, (a, b, c) in enumerate(zip(got, _jit(f, "interpreter")(*args), f(*args))):
        assert np.shape(a) == np.shape(c) and np.asarray(a).dtype == np.asarray(c).dtype, (k, a, c)
        for want in (b, c):
            if exact:
                np.testing.assert_array_equal(a, want, err_msg=f"result {k}")
            else:
                np.testing.assert_allclose(a, want, rtol=1e-10, atol=1e-12, err_msg=f"result {k}")


# ---- arg-extrema, scans, sorting ----------------------------------------------------------------


def reductions(x, b, v):
    return (np.argmax(x), np.argmin(x, axis=0), np.argmax(x, axis=1, keepdims=True), np.argmin(x, keepdims=True),
            np.argmax(x[0]), np.cumsum(x, axis=0), np.cumprod(x, axis=1), np.cumsum(b, axis=1), np.cumprod(x[0]),
            np.cumsum(b[0]), np.sort(x, axis=0), np.sort(x), np.sort(x[0]), np.argsort(x, axis=0, kind="stable"),
            np.argsort(x), np.argsort(x[:, 0], kind="stable"), np.searchsorted(np.sort(x[0]), v, side="right"),
            np.searchsorted(np.sort(x[0]), v), np.searchsorted(np.sort(x[0]), 0.5))


_X = np.array([[3., 1., 2., 1.], [0., 5., np.nan, 1.], [2., 2., 0., 7.]])


@pytest.mark.parametrize("x, v", [
    (_X, np.array([[0.5, 2.0], [np.nan, 9.]])),
    (np.array([[1., 1., 1.], [1., 1., 1.]]), np.zeros((0, 2))),  # ties: stable argsort; no values
    (np.arange(12.).reshape(3, 4)[::-1] % 5, np.array([[1.0, 1.0]])),
])
def test_reductions_scans_sorts(x, v):
    _check(reductions, (x, x > 1, v))


def empty_scans(x):
    return np.cumsum(x, axis=1), np.cumprod(x, axis=0), np.sort(x, axis=0), np.argsort(x, axis=1), np.argmax(x, axis=1)


def test_scans_and_sorts_of_empty_arrays():
    _check(empty_scans, (np.zeros((0, 3)),))
    with pytest.raises(ValueError):
        _jit(empty_scans, "native")(np.zeros((2, 0)))


# ---- joins, roll, ranges, lgamma ----------------------------------------------------------------


def joins(x, b, n, s, a0, a1, st):
    return (np.concatenate([x, b], axis=-1), np.concatenate((x, x, x)), np.concatenate([x[0]]), np.stack([x, b]),
            np.stack((x[0], x[1]), axis=-1), np.stack([a0, a1, n]), np.roll(x, s, axis=1), np.roll(x[0], -7),
            np.roll(x, 2, axis=0), np.arange(a0, a1, st), np.arange(n), np.arange(1, n, 2), np.arange(n, 0, -3),
            np.linspace(a0, a1, n), np.linspace(0, 1, n, endpoint=False), np.linspace(a0, a1, n, dtype=np.int64),
            np.arange(0.0, 1.0, 0.1), special.gammaln(x), special.gammaln(a0), special.gammaln(n))


@pytest.mark.parametrize("x, n, s, a0, a1, st", [
    (_X, 7, 3, -1.3, 4.2, 0.3),
    (_X[:, :0], 0, -2, 2.0, 1.0, 0.5),  # empty axis to roll, empty ranges
    (np.array([[-np.inf, 0.0, 1e-300], [-2.5, 171.7, np.inf]]), 1, 0, 1e10, 1e10 + 1, 0.25),
])
def test_joins_rolls_ranges_lgamma(x, n, s, a0, a1, st):
    _check(joins, (x, x > 1, n, s, a0, a1, st), exact=False)


# ---- linear algebra of one matrix ---------------------------------------------------------------


def decompositions(a, b, m):
    s = a @ a.T + 3 * np.eye(a.shape[0])
    w, v = np.linalg.eigh(s + np.triu(a, 1))  # the lower triangle is read
    q, r = np.linalg.qr(m)
    u, sv, vh = np.linalg.svd(m, full_matrices=False)
    u2, sv2, vh2 = np.linalg.svd(m.T)
    sign, logdet = np.linalg.slogdet(a)
    return (np.linalg.solve(a, b), np.linalg.solve(a, b[:, 0]), np.linalg.inv(a), np.linalg.det(a), sign, logdet,
            np.linalg.cholesky(s), np.linalg.cholesky(s + np.tril(a, -1), upper=True), w, v, q, r, u, sv, vh,
            u2, sv2, vh2, np.linalg.svd(m, compute_uv=False))


def _rand(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


@pytest.mark.parametrize("n, mshape", [(4, (5, 3)), (3, (2, 6)), (0, (0, 3)), (1, (3, 0))])
def test_linalg_of_one_matrix(n, mshape):
    _check(decompositions, (_rand(n, n), _rand(n, 2), _rand(*mshape)), exact=False)


def slogdet_singular(a):
    return np.linalg.slogdet(a)


def test_linalg_singular():
    _check(slogdet_singular, (np.ones((3, 3)),))


# ---- einsum as a matrix product ---------------------------------------------------------------


def einsums(A, B, C, v, w, I):
    return (np.einsum("ij,jk->ik", A, B), np.einsum("ij->ji", A), np.einsum("ij->", A), np.einsum("ij->j", A),
            np.einsum("i,i->", v, v), np.einsum("i,j->ij", w, v), np.einsum("...ij,...j->...i", C, v),
            np.einsum("bij,bkj->bik", C, C), np.einsum("ij,ij->i", A, A), np.einsum("ijk->kij", C),
            np.einsum("ij,jk->ik", I, B), np.einsum("ij,kj->ik", I, I), np.einsum("ij,jk->ki", A, B),
            np.einsum("...i,...j->...ij", C, v), np.einsum("bij,jk->bik", C, B), np.einsum("ij", A),
            np.einsum("...j,...ij->...i", v, C), np.einsum("ij,jk->ik", A[:1], B[:, :1]),
            np.einsum("ijk,kl->jil", C.transpose(1, 0, 2), B))


@pytest.mark.parametrize("shapes", [
    ((3, 4), (4, 5), (2, 3, 4), (4,), (3,)),
    ((3, 1), (1, 5), (2, 3, 1), (1,), (3,)),  # labels of length 1
    ((0, 4), (4, 0), (2, 0, 4), (4,), (0,)),  # empty
])
def test_einsum(shapes):
    A, B, C, v, w = (_rand(*s, seed=k) for k, s in enumerate(shapes))
    I = np.arange(A.size).reshape(A.shape) - 3
    _check(einsums, (A, B, C, v, w, I), exact=False)


def einsum_broadcast(C, v):
    return np.einsum("...ij,...j->...i", C, v), np.einsum("bij,bjk->bik", C, C.transpose(0, 2, 1))


def test_einsum_broadcasts_labels_of_length_one():
    _check(einsum_broadcast, (_rand(1, 3, 4), _rand(5, 4)), exact=False)


def stacked_products(a, b, c, d):
    return a @ b, a @ c, d @ b, np.matmul(a, b)


@pytest.mark.parametrize("shapes", [
    ((5, 2, 3), (5, 3, 4), (3, 4), (2, 3)),
    ((5, 2, 3), (1, 3, 4), (3, 1), (1, 3)),
    ((1, 2, 3), (4, 3, 4), (3, 4), (6, 3)),
    ((3, 0, 2), (3, 2, 4), (2, 0), (2, 2)),
    ((2, 2, 0), (2, 0, 3), (0, 3), (2, 0)),
])
def test_matmul_of_stacks(shapes):
    rng = np.random.default_rng(3)
    _check(stacked_products, [rng.normal(size=s) for s in shapes], exact=False)


def test_matmul_of_stacks_that_do_not_broadcast():
    with pytest.raises(ValueError, match="broadcast"):
        _jit(stacked_products, "native")(np.ones((2, 2, 3)), np.ones((3, 3, 4)), np.ones((3, 4)), np.ones((2, 3)))


# ---- masks and index arrays of several dimensions, products in other dtypes (NPBench) ----------


def masks_and_pairs(z, n, xi, yi, k):
    z, n = z.copy(), n.copy()  # (_check runs the three on the same arguments)
    big = np.abs(z) > 1.0
    small = z[~big]  # a 2-d mask: C order, as NumPy lists the elements
    n[big] = k  # a scalar through a 2-d mask
    z[big] = z[big] * 0.5  # an array through a 2-d mask
    picked = z[xi, yi]  # two index arrays
    n[xi, yi] = k + 1
    z[xi, yi] = picked * 2.0
    return small, picked, z, n


@pytest.mark.parametrize("k", [1, 3])
def test_masks_of_two_dimensions_and_pairs_of_index_arrays(k):
    rng = np.random.default_rng(k)
    z = (rng.random((4, 5)) * 2 + 1j * rng.random((4, 5))).astype(np.complex128)
    _check(masks_and_pairs, (z, np.zeros((4, 5), np.int64), np.array([0, 3, -1]), np.array([1, 4, 2]), k))


def products(a32, b32, c, stack):
    return (a32 @ b32, a32 @ c, c.astype(np.complex64) @ c.T.astype(np.complex64),
            np.reshape(stack, (2, 3, 1, 4)) @ c)  # a 4-d stack against a matrix: one BLAS product


def test_matmul_in_float32_complex_and_of_stacks():
    rng = np.random.default_rng(0)
    _check(products, (rng.random((3, 4)).astype(np.float32), rng.random((4, 2)).astype(np.float32),
                      rng.random((4, 4)), rng.random((2, 3, 4))), exact=False)
