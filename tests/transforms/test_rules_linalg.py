"""Derivative rules of the linalg family (matmul, einsum, solvers, decompositions) and of the NumPy
products and norms built on them, against central finite differences: `mo.jvp` against the
directional difference, `mo.vjp` and `mo.grad` against the elementwise difference of <w, f(x)>,
and <w, J v> (forward) against <J^T w, v> (reverse). Second order through `grad(grad(f))` of a
scalar path t -> f(a + t b), checked by differencing the (verified) first derivative.

cholesky and eigh follow the symmetric convention: tangents are symmetric and the finite
differences of a gradient are taken along symmetric directions (e_ij + e_ji).

Every check runs on both backends; native results also equal the interpreter's up to
floating-point reassociation (`ad_oracles.run`). The native backend runs the cases named in
`native=` (and `backends()`) by default: a decomposition's derivatives take Numba several seconds
each to compile. MORPHISM_TEST_NATIVE_AD=all runs every case on both (tests/ad_oracles.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import morphism as mo
from ad_oracles import JVP, VJP, backends, grad_of_grad, on_both, run

SETTINGS = settings(max_examples=20, deadline=None)
H = 1e-6  # finite-difference step


# ---- oracles ---------------------------------------------------------------------------------


def _leaves(x):
    return [np.asarray(v, dtype=np.float64) for v in x] if isinstance(x, tuple) else [np.asarray(x, dtype=np.float64)]


def _tree(like, leaves):
    return tuple(leaves) if isinstance(like, tuple) else leaves[0]


def _close(got, want, rtol=1e-5, atol=1e-6):
    for g, w in zip(_leaves(got), _leaves(want)):
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _shifted(args, k, d, h):
    return [a + h * d if j == k else a for j, a in enumerate(args)]


def _fd_jvp(f, args, tangents):
    plus = f(*[a + H * t for a, t in zip(args, tangents)])
    minus = f(*[a - H * t for a, t in zip(args, tangents)])
    return [(p - m) / (2 * H) for p, m in zip(_leaves(plus), _leaves(minus))]


def _directions(a, sym):
    """Unit directions for the elementwise gradient: e_i, or (e_ij + e_ji) for symmetric inputs,
    with the weight that turns the directional difference into the gradient's entry."""
    if not sym:
        for idx in np.ndindex(a.shape):
            e = np.zeros(a.shape)
            e[idx] = 1.0
            yield idx, e
        return
    n = a.shape[-1]
    for b in np.ndindex(a.shape[:-2]):
        for i in range(n):
            for j in range(i, n):
                e = np.zeros(a.shape)
                e[b + (i, j)] = e[b + (j, i)] = 1.0 if i == j else 0.5
                yield (b + (i, j), b + (j, i)), e


def _fd_grad(f, args, w, sym=()):
    """The gradient of <w, f(args)> by central differences, one input entry at a time."""

    def loss(*xs):
        return sum(np.sum(o * c) for o, c in zip(_leaves(f(*xs)), w))

    grads = []
    for k, a in enumerate(args):
        g = np.zeros(np.shape(a))
        for idx, e in _directions(np.asarray(a, dtype=np.float64), k in sym):
            d = (loss(*_shifted(args, k, e, H)) - loss(*_shifted(args, k, e, -H))) / (2 * H)
            for i in (idx if k in sym else (idx,)):
                g[i] = d
        grads.append(g if np.ndim(a) else float(g))
    return grads


def _sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2 if np.ndim(x) >= 2 else x


def check(f, args, seed, backend, sym=(), loss=None, rtol=1e-5, atol=1e-6):
    """jvp, vjp (and grad of `loss(*args, *w)`) of f at args on `backend` against finite
    differences, and forward against reverse. `sym`: indices of arguments read as symmetric
    matrices."""
    rng = np.random.default_rng(seed)
    args = [np.asarray(a, dtype=np.float64) for a in args]
    want = f(*args)
    v = [rng.standard_normal(a.shape) for a in args]
    v = [_sym(t) if k in sym else t for k, t in enumerate(v)]
    w = [rng.standard_normal(o.shape) for o in _leaves(want)]

    out, out_dot = run(backend, JVP, f, tuple(args), tuple(v))
    _close(out, want, rtol=1e-9, atol=1e-10)
    _close(out_dot, _tree(want, _fd_jvp(f, args, v)), rtol, atol)

    cts = run(backend, VJP, f, tuple(args), _tree(want, w))
    fd = _fd_grad(f, args, w, sym)
    for c, g in zip(cts, fd):
        _close(c, g, rtol, atol)

    forward = sum(np.sum(a * b) for a, b in zip(w, _leaves(out_dot)))
    reverse = sum(np.sum(a * b) for a, b in zip(cts, v))
    np.testing.assert_allclose(forward, reverse, rtol=1e-8, atol=1e-9)

    if loss is not None:
        g = run(backend, mo.grad, loss, *args, *w, argnums=tuple(range(len(args))))
        for c, d in zip(g, fd):
            _close(c, d, rtol, atol)


# ---- inputs ----------------------------------------------------------------------------------

seeds = st.integers(0, 2**32 - 1)
batches = st.sampled_from([(), (2,)])
sizes = st.integers(1, 4)


def floats(shape, lo=-1.0, hi=1.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_subnormal=False))


@st.composite
def well_conditioned(draw, shape):
    """3 I + a random matrix with entries in [-0.5, 0.5] (rectangular: 3 on the main diagonal):
    strictly diagonally dominant for n <= 4, so never singular (Gershgorin)."""
    *b, m, n = shape
    return 3.0 * np.eye(m, n) + 0.5 * draw(floats(tuple(shape)))


@st.composite
def spd(draw, n, batch):
    r = draw(floats(batch + (n, n)))
    return r @ np.swapaxes(r, -1, -2) + n * np.eye(n)


@st.composite
def orthonormal(draw, m, k, batch):
    r = draw(floats(batch + (m, k)))
    return np.linalg.qr(r + 2.0 * np.eye(m, k))[0]


def _spectrum(draw, k, batch):
    """Distinct values at least 0.7 apart, the smallest at least 1 (descending)."""
    return (k - np.arange(k)) + draw(floats(batch + (k,), 0.0, 0.3))


@st.composite
def with_singular_values(draw, m, n, batch):
    k = min(m, n)
    u, v = draw(orthonormal(m, k, batch)), draw(orthonormal(n, k, batch))
    return np.einsum("...ik,...k,...jk->...ij", u, _spectrum(draw, k, batch), v)


@st.composite
def with_eigenvalues(draw, n, batch):
    q = draw(orthonormal(n, n, batch))
    a = np.einsum("...ik,...k,...jk->...ij", q, _spectrum(draw, n, batch) - 2.0, q)
    return _sym(a)


# ---- matmul and einsum -----------------------------------------------------------------------


def mm(a, b):
    return a @ b


def mm_loss(a, b, w):
    return np.sum((a @ b) * w)


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)), ((1, 3), (2, 3, 1)),
]


@pytest.mark.parametrize("sa, sb, backend", on_both(MATMUL_SHAPES, native=[((2, 3), (3, 4))]))
@given(data=st.data(), seed=seeds)
@settings(max_examples=5, deadline=None)
def test_matmul(sa, sb, data, seed, backend):
    a, b = data.draw(floats(sa)), data.draw(floats(sb))
    check(mm, [a, b], seed, backend, loss=mm_loss if len(sa) + len(sb) > 2 else None)


@pytest.mark.parametrize("backend", backends())
def test_matmul_int_operand_has_no_cotangent(backend):
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12).reshape(3, 4)
    ca, cb = run(backend, VJP, mm, (a, b), np.ones((2, 4)))
    np.testing.assert_allclose(ca, np.ones((2, 4)) @ b.T)
    assert not np.any(cb)
    _, out_dot = run(backend, JVP, mm, (a, b), (np.ones((2, 3)), np.zeros((3, 4))))
    np.testing.assert_allclose(out_dot, np.ones((2, 3)) @ b)


_EINSUMS: dict = {}


def einsum_fn(spec, n):
    """A compiled function of n operands for one spec (closures keep the spec static)."""
    if (spec, n) not in _EINSUMS:
        if n == 1:
            def f(a):
                return np.einsum(spec, a)
        elif n == 2:
            def f(a, b):
                return np.einsum(spec, a, b)
        else:
            def f(a, b, c):
                return np.einsum(spec, a, b, c)
        _EINSUMS[spec, n] = f
    return _EINSUMS[spec, n]


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),  # trace, implicit output
    ("iji->j", [(3, 2, 3)]),  # a repeated label that is not adjacent
    ("iii->", [(2, 2, 2)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # a labelled axis of length 1 broadcasts
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("i...j,j->i...", [(2, 4, 3), (3,)]),  # an ellipsis in the middle
    ("i...j,...j->i...", [(2, 4, 3), (3,)]),
    ("...i,i->...", [(2, 3), (3,)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)]),
    ("i,->i", [(3,), ()]),  # a 0-d operand
    ("...,...->...", [(2, 3), (3,)]),
]


@pytest.mark.parametrize("spec, shapes, backend", on_both(EINSUM_CASES, native=EINSUM_CASES[:1] + EINSUM_CASES[4:5]))
@given(data=st.data(), seed=seeds)
@settings(max_examples=5, deadline=None)
def test_einsum(spec, shapes, data, seed, backend):
    args = [data.draw(floats(s)) for s in shapes]
    check(einsum_fn(spec, len(args)), args, seed, backend)


# ---- solve, inv, det, slogdet ----------------------------------------------------------------


def solve_f(a, b):
    return np.linalg.solve(a, b)


def solve_loss(a, b, w):
    return np.sum(np.linalg.solve(a, b) * w)


def inv_f(a):
    return np.linalg.inv(a)


def inv_loss(a, w):
    return np.sum(np.linalg.inv(a) * w)


def det_f(a):
    return np.linalg.det(a)


def slogdet_f(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign, logdet


def logdet_loss(a, w_sign, w):
    return np.sum(np.linalg.slogdet(a)[1] * w)


SOLVE_SHAPES = [  # (a, b): vector and matrix right-hand sides, batched and broadcast
    ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (2, 3, 2)), ((2, 3, 3), (3, 2)),
    ((3, 3), (2, 3, 1)), ((1, 3, 3), (2, 3, 2)),
]


@pytest.mark.parametrize("sa, sb, backend", on_both(SOLVE_SHAPES, native=SOLVE_SHAPES[:1]))
@given(data=st.data(), seed=seeds)
@settings(max_examples=5, deadline=None)
def test_solve(sa, sb, data, seed, backend):
    a, b = data.draw(well_conditioned(sa)), data.draw(floats(sb))
    check(solve_f, [a, b], seed, backend, loss=solve_loss)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=st.tuples(batches, sizes).flatmap(lambda bn: well_conditioned(bn[0] + (bn[1], bn[1]))), seed=seeds)
@SETTINGS
def test_inv(backend, a, seed):
    check(inv_f, [a], seed, backend, loss=inv_loss)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=st.tuples(batches, sizes).flatmap(lambda bn: well_conditioned(bn[0] + (bn[1], bn[1]))), seed=seeds)
@SETTINGS
def test_det_and_slogdet(backend, a, seed):
    a = a * np.where(np.arange(a.shape[-1]) == 0, -1.0, 1.0)  # a negative determinant too
    check(det_f, [a / 2], seed, backend)
    check(slogdet_f, [a], seed, backend, loss=logdet_loss)


# ---- cholesky, qr, eigh, svd -----------------------------------------------------------------


def chol_f(a):
    return np.linalg.cholesky(a)


def chol_upper(a):
    return np.linalg.cholesky(a, upper=True)


def chol_loss(a, w):
    return np.sum(np.linalg.cholesky(a) * w)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=st.tuples(sizes, batches).flatmap(lambda nb: spd(*nb)), seed=seeds)
@SETTINGS
def test_cholesky(backend, a, seed):
    check(chol_f, [a], seed, backend, sym=(0,), loss=chol_loss)
    check(chol_upper, [a], seed, backend, sym=(0,))


def cholesky_of_gram(b):
    return np.linalg.cholesky(b @ b.T + np.eye(b.shape[0]))


@pytest.mark.parametrize("backend", backends(native=False))
@given(b=floats((3, 2)), seed=seeds)
@settings(max_examples=10, deadline=None)
def test_cholesky_of_an_unconstrained_input(backend, b, seed):
    check(cholesky_of_gram, [b], seed, backend)


def qr_f(a):
    q, r = np.linalg.qr(a)
    return q, r


def qr_r(a):
    return np.linalg.qr(a, mode="r")


def qr_loss(a, wq, wr):
    q, r = np.linalg.qr(a)
    return np.sum(q * wq) + np.sum(r * wr)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=st.tuples(batches, sizes, sizes).flatmap(lambda s: well_conditioned(s[0] + (s[1], s[2]))), seed=seeds)
@settings(max_examples=30, deadline=None)
def test_qr_tall_square_and_wide(backend, a, seed):
    # LAPACK's Householder QR jumps (a sign of r) where a column is exactly zero below the
    # diagonal: keep away from such points.
    a = a + 0.05 + 0.01 * np.arange(a.size).reshape(a.shape)
    check(qr_f, [a], seed, backend, loss=qr_loss)
    check(qr_r, [a], seed, backend)


def eigh_f(a):
    w, v = np.linalg.eigh(a)
    return w, v * v[..., :1, :]  # invariant under the sign of each eigenvector


def eigvalsh_f(a):
    return np.linalg.eigvalsh(a)


def eigh_loss(a, ww, wv):
    w, v = np.linalg.eigh(a)
    return np.sum(w * ww) + np.sum(v * v[..., :1, :] * wv)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=st.tuples(sizes, batches).flatmap(lambda nb: with_eigenvalues(*nb)), seed=seeds)
@SETTINGS
def test_eigh(backend, a, seed):
    check(eigh_f, [a], seed, backend, sym=(0,), loss=eigh_loss)
    check(eigvalsh_f, [a], seed, backend, sym=(0,))


def svd_f(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    # Each singular pair is defined up to a common sign: scale it by an entry of the other.
    return u * vh[..., :, 0][..., None, :], s, vh * u[..., 0, :][..., :, None]


def svd_full(a):
    u, s, vh = np.linalg.svd(a)
    return u * vh[..., :, 0][..., None, :], s, vh * u[..., 0, :][..., :, None]


def svdvals_f(a):
    return np.linalg.svd(a, compute_uv=False)


def svd_loss(a, wu, ws, wv):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u * vh[..., :, 0][..., None, :] * wu) + np.sum(s * ws) + np.sum(vh * u[..., 0, :][..., :, None] * wv)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=st.tuples(sizes, sizes, batches).flatmap(lambda s: with_singular_values(*s)), seed=seeds)
@settings(max_examples=30, deadline=None)
def test_svd_tall_square_and_wide(backend, a, seed):
    check(svd_f, [a], seed, backend, loss=svd_loss)
    check(svdvals_f, [a], seed, backend)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=st.tuples(sizes, batches).flatmap(lambda nb: with_singular_values(nb[0], nb[0], nb[1])), seed=seeds)
@settings(max_examples=10, deadline=None)
def test_svd_full_matrices_square(backend, a, seed):
    check(svd_full, [a], seed, backend)


def test_svd_full_matrices_rectangular_is_refused():
    with pytest.raises(ValueError, match="full_matrices"):
        mo.jvp(svd_full, (np.ones((3, 2)),), (np.ones((3, 2)),))


# ---- lstsq -----------------------------------------------------------------------------------


def lstsq_f(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    return x, residuals, s


def lstsq_loss(a, b, wx, wr, ws):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    return np.sum(x * wx) + np.sum(residuals * wr) + np.sum(s * ws)


@pytest.mark.parametrize("backend", backends(native=False))
@given(data=st.data(), m=sizes, n=sizes, k=st.sampled_from([None, 1, 2]), seed=seeds)
@settings(max_examples=30, deadline=None)
def test_lstsq_tall_square_and_wide(backend, data, m, n, k, seed):
    a = data.draw(with_singular_values(m, n, ()))
    b = data.draw(floats((m,) if k is None else (m, k)))
    check(lstsq_f, [a, b], seed, backend, loss=lstsq_loss)


def test_lstsq_rank_has_no_derivative():
    a, b = np.eye(3, 2) * 2.0, np.ones(3)
    _, back = mo.vjp(lstsq_f, a, b)
    ca, cb = back((np.ones(2), np.ones(1), np.zeros(2)))
    assert ca.shape == a.shape and cb.shape == b.shape


# ---- NumPy composites built on matmul, einsum and svd ----------------------------------------


def norm_vec(x):
    return np.linalg.norm(x), np.linalg.norm(x, 1), np.linalg.norm(x, np.inf), np.linalg.norm(x, 3)


def norm_mat(a):
    return (np.linalg.norm(a), np.linalg.norm(a, "fro"), np.linalg.norm(a, 2), np.linalg.norm(a, "nuc"),
            np.linalg.norm(a, 1), np.linalg.norm(a, -np.inf), np.linalg.norm(a, axis=0))


def products(a, b, v):
    return (np.dot(a, b), np.dot(v, a), np.outer(v, b[0]), np.kron(a, b), np.tensordot(a, b, axes=1),
            np.tensordot(a, b.T, axes=([0, 1], [0, 1])), np.trace(a @ b.T), np.einsum("ii", a @ b.T),
            np.linalg.multi_dot([v, a, b.T, v]), np.inner(a, b), np.vdot(a, b))


def pinv_f(a):
    return np.linalg.pinv(a)


@pytest.mark.parametrize("backend", backends())
@given(x=floats((4,), 0.1, 1.0).map(lambda x: x * np.array([1.0, -2.0, 3.0, -4.0])), seed=seeds)
@settings(max_examples=10, deadline=None)
def test_vector_norms(backend, x, seed):
    check(norm_vec, [x], seed, backend)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=with_singular_values(3, 3, ()), seed=seeds)
@settings(max_examples=10, deadline=None)
def test_matrix_norms(backend, a, seed):
    # Distinct entries keep the max/min of the column and row sums away from ties.
    a = a + np.array([[0.0, 10.0, 20.0], [30.0, 40.0, 50.0], [60.0, 70.0, 80.0]]) * 1e-1
    check(norm_mat, [a], seed, backend, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=floats((3, 3)), b=floats((3, 3)), v=floats((3,)), seed=seeds)
@settings(max_examples=10, deadline=None)
def test_products(backend, a, b, v, seed):
    check(products, [a, b, v], seed, backend)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=st.tuples(sizes, sizes).flatmap(lambda s: with_singular_values(s[0], s[1], ())), seed=seeds)
@settings(max_examples=10, deadline=None)
def test_pinv(backend, a, seed):
    check(pinv_f, [a], seed, backend)


# ---- second order: grad(grad(f)) along t -> a + t b ------------------------------------------


def inv_t(t, a, b):
    return np.sum(np.linalg.inv(a + t * b))


def solve_t(t, a, b, c):
    return np.sum(np.linalg.solve(a + t * b, c) ** 2)


def det_t(t, a, b):
    return np.linalg.det(a + t * b) + np.linalg.slogdet(a + t * b)[1]


def chol_t(t, a, b):
    return np.sum(np.linalg.cholesky(a + t * (b @ b.T)) ** 2 * np.arange(1.0, 1.0 + b.shape[0]))


def eigh_t(t, a, b):
    w, v = np.linalg.eigh(a + t * (b + b.T))
    return np.sum(w ** 3) + np.sum(v[..., 0, :] ** 2 * w)


def svd_t(t, a, b):
    u, s, vh = np.linalg.svd(a + t * b, full_matrices=False)
    return np.sum(s ** 3) + np.sum((u[..., 0, :] * vh[..., :, 0]) * s)


def qr_t(t, a, b):
    q, r = np.linalg.qr(a + t * b)
    return np.sum(q ** 3) + np.sum(r ** 2 * np.arange(1.0, 1.0 + r.shape[-1]))


def einsum_t(t, a, b):
    c = a + t * b
    return np.einsum("ii,ij,jk->", c, c, c)


def lstsq_t(t, a, b, c):
    x, res, rank, s = np.linalg.lstsq(a + t * b, c)
    return np.sum(x ** 2) + np.sum(res) + np.sum(s ** 2)


def _second(f, backend, t, *args):
    g = mo.grad(f)
    d2 = run(backend, grad_of_grad, f, t, *args)
    fd = (g(t + 1e-5, *args) - g(t - 1e-5, *args)) / 2e-5
    np.testing.assert_allclose(d2, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=well_conditioned((3, 3)), b=floats((3, 3)), t=st.floats(-0.5, 0.5))
@settings(max_examples=10, deadline=None)
def test_second_order_inv_solve_det_matmul(backend, a, b, t):
    _second(inv_t, backend, t, a, b)
    _second(solve_t, backend, t, a, b, np.arange(6.0).reshape(3, 2))
    _second(det_t, backend, t, a, b)
    _second(einsum_t, backend, t, a, b)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=spd(3, ()), b=floats((3, 2)), t=st.floats(0.0, 0.5))
@settings(max_examples=10, deadline=None)
def test_second_order_cholesky(backend, a, b, t):
    _second(chol_t, backend, t, a, b)


@pytest.mark.parametrize("backend", backends(native=False))
@given(a=with_eigenvalues(3, ()), b=floats((3, 3), -0.1, 0.1), t=st.floats(-0.5, 0.5))
@settings(max_examples=10, deadline=None)
def test_second_order_eigh(backend, a, b, t):
    _second(eigh_t, backend, t, a, b)


@pytest.mark.parametrize("backend", backends(native=False))
@given(data=st.data(), m=st.integers(2, 4), n=st.integers(2, 4), t=st.floats(-0.5, 0.5))
@settings(max_examples=10, deadline=None)
def test_second_order_svd_qr_lstsq(backend, data, m, n, t):
    a = data.draw(with_singular_values(m, n, ()))
    b = data.draw(floats((m, n), -0.1, 0.1))
    _second(svd_t, backend, t, a, b)
    _second(qr_t, backend, t, a + 3.0 * np.eye(m, n), b)
    _second(lstsq_t, backend, t, a, b, np.arange(1.0, 1.0 + m))


def logdet(a):
    return np.linalg.slogdet(a)[1]


@pytest.mark.parametrize("backend", backends())
def test_hessian_of_logdet(backend):
    # d2 log det a [e_ij, e_kl] = -inv(a)[l, i] inv(a)[j, k]
    a = 3.0 * np.eye(3) + np.arange(9.0).reshape(3, 3) / 10
    ai = np.linalg.inv(a)
    want = -np.einsum("li,jk->ijkl", ai, ai)
    np.testing.assert_allclose(run(backend, mo.hessian, logdet, a), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f, backend", on_both([chol_f, eigh_f], native=[chol_f, eigh_f]))
def test_symmetric_convention(f, backend):
    # A tangent acts through its symmetric part, and the cotangent is the matching symmetric one.
    rng = np.random.default_rng(1)
    a = np.diag([1.0, 2.5, 4.0]) + 0.1 * np.ones((3, 3))
    v = rng.standard_normal((3, 3))
    _, dot = run(backend, JVP, f, (a,), (v,))
    _, dot_sym = run(backend, JVP, f, (a,), (_sym(v),))
    _close(dot, dot_sym, 1e-12, 1e-12)
    w = tuple(rng.standard_normal(np.shape(o)) for o in _leaves(f(a))) if f is eigh_f else rng.standard_normal((3, 3))
    (ct,) = run(backend, VJP, f, (a,), w)
    np.testing.assert_allclose(ct, ct.T, atol=1e-12)
    forward = sum(np.sum(x * y) for x, y in zip(_leaves(w), _leaves(dot)))
    np.testing.assert_allclose(forward, np.sum(ct * v), rtol=1e-10)


def loop_of_solves(a, x):
    for _ in range(3):
        x = np.linalg.solve(a, x) + np.linalg.inv(a) @ np.tanh(x)
        a = a + np.outer(x, x) / 10
    return np.sum(x ** 2) + np.linalg.slogdet(a)[1]


@pytest.mark.parametrize("backend", backends())
def test_grad_through_a_loop_saves_what_the_rules_read(backend):
    rng = np.random.default_rng(2)
    a, x = 3.0 * np.eye(3) + rng.uniform(-1, 1, (3, 3)), rng.standard_normal(3)
    ga, gx = run(backend, mo.grad, loop_of_solves, a, x, argnums=(0, 1))
    fa, fx = _fd_grad(lambda a, x: loop_of_solves(a, x), [a, x], [np.float64(1.0)])
    _close(ga, fa)
    _close(gx, fx)
