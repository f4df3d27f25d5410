"""Linear algebra: products (matmul, @, dot, einsum, ...) and np.linalg, each compiled and run on
the interpreter and compared with the same function run by NumPy (values, dtypes, shapes)."""

import numpy as np
import pytest
import scipy.linalg

import morphism as mo
from helpers import check_on_backends

rng = np.random.default_rng(0)


def arr(*shape, dtype=np.float64):
    if dtype == np.float64:
        return rng.standard_normal(shape)
    if dtype == np.int64:
        return rng.integers(-3, 4, size=shape).astype(np.int64)
    return rng.integers(0, 2, size=shape).astype(bool)


def spd(n, *batch):
    m = rng.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def same(got, want, rtol=1e-9, atol=1e-12):
    if isinstance(want, tuple):  # NumPy's result tuples (SlogdetResult, ...) are tuples too
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w, rtol, atol)
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    assert g.shape == w.shape, (g.shape, w.shape)
    np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def check(f, *args, **tol):
    check_on_backends(f, args, lambda got, want: same(got, want, **tol))


# ---- matmul, @, dot ----------------------------------------------------------------------------

PRODUCT_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
    ((2, 1, 2, 3), (4, 3, 2)),
]


def at(a, b):
    return a @ b


def matmul(a, b):
    return np.matmul(a, b)


def dot(a, b):
    return np.dot(a, b)


def dot_method(a, b):
    return a.dot(b)


@pytest.mark.parametrize("sa,sb", PRODUCT_SHAPES)
def test_matmul_shapes(sa, sb):
    a, b = arr(*sa), arr(*sb)
    check(at, a, b)
    check(matmul, a, b)


@pytest.mark.parametrize("da,db", [(np.int64, np.int64), (bool, bool), (np.int64, np.float64), (bool, np.int64)])
def test_matmul_dtypes(da, db):
    check(at, arr(2, 3, dtype=da), arr(3, 2, dtype=db))
    check(at, arr(3, dtype=da), arr(3, dtype=db))


@pytest.mark.parametrize("sa,sb", [s for s in PRODUCT_SHAPES if not (len(s[0]) > 1 and len(s[1]) > 2)]
                         + [((2, 3), (4, 3, 5)), ((2, 3, 4), (5, 4, 6)), ((4, 2, 3), (3,)), ((), (2, 3)), ((3,), ())])
def test_dot_shapes(sa, sb):
    a, b = arr(*sa) if sa else 2.5, arr(*sb) if sb else -1.5
    check(dot, a, b)
    if sa:
        check(dot_method, a, b)


def test_dot_dtypes():
    check(dot, arr(3, dtype=bool), arr(3, dtype=bool))
    check(dot, arr(2, 3, dtype=np.int64), arr(3, dtype=np.int64))
    check(dot, True, arr(3, dtype=bool))
    check(dot, arr(2, 3, 4, dtype=np.int64), arr(5, 4, 2, dtype=np.int64))


def test_matmul_of_a_scalar_is_an_error():
    with pytest.raises(mo.MorphismError, match="matmul: expected arrays, found a scalar"):
        mo.jit(at, backend="interpreter")(2.0, np.ones(3))


def dot_out(a, b):
    return np.dot(a, b, out=a)


def test_dot_rejects_out():
    with pytest.raises(mo.MorphismError, match="np.dot\\(\\) does not support the keyword argument 'out'"):
        mo.jit(dot_out, backend="interpreter")(np.ones(3), np.ones(3))


# ---- vdot, inner, outer, vecdot, matvec, multi_dot -----------------------------------------------


def vdot(a, b):
    return np.vdot(a, b)


def inner(a, b):
    return np.inner(a, b)


def outer(a, b):
    return np.outer(a, b)


def vecdot(a, b):
    return np.vecdot(a, b)


def matvec(m, v):
    return np.matvec(m, v)


def vecmat(v, m):
    return np.vecmat(v, m)


def multi_dot(a, b, c, d):
    return np.linalg.multi_dot([a, b, c, d])


def test_vdot():
    check(vdot, arr(4), arr(4))
    check(vdot, arr(3, dtype=np.int64), arr(3))
    check(vdot, arr(2, 3), arr(3, 2))  # flattens: only the sizes must agree


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (4, 3)), ((2, 5, 3), (3,)), ((3,), (2, 4, 3)), ((), (2, 3))])
def test_inner(sa, sb):
    check(inner, arr(*sa) if sa else 3.0, arr(*sb))


def test_outer():
    check(outer, arr(3), arr(4))
    check(outer, arr(2, 3), arr(2))  # flattens
    check(outer, arr(3, dtype=bool), arr(2, dtype=bool))
    check(outer, 2.0, arr(3))


def test_vecdot_matvec_vecmat():
    check(vecdot, arr(4, 3), arr(3))
    check(vecdot, arr(2, 1, 3), arr(5, 3))
    check(matvec, arr(2, 4, 3), arr(3))
    check(matvec, arr(4, 3), arr(5, 1, 3))
    check(vecmat, arr(4), arr(2, 4, 3))
    check(vecmat, arr(5, 4, dtype=np.int64), arr(4, 3))


def test_multi_dot():
    check(multi_dot, arr(3), arr(3, 4), arr(4, 2), arr(2))
    check(multi_dot, arr(5, 3), arr(3, 4), arr(4, 2), arr(2, 6))


# ---- einsum ----------------------------------------------------------------------------------


def ein_mm(a, b):
    return np.einsum("ij,jk->ik", a, b), np.einsum("ij,jk", a, b), np.einsum(" ij , jk -> ki ", a, b)


def ein_one(a):
    return (np.einsum("ii", a), np.einsum("ii->i", a), np.einsum("ij->ji", a), np.einsum("ij->", a),
            np.einsum("ij", a), np.einsum("ji", a), np.einsum("aB", a), np.einsum("...j->...", a))


def ein_vec(x, y):
    return np.einsum("i,i", x, y), np.einsum("i,j", x, y), np.einsum("i,i->i", x, y), np.einsum("i", x)


def ein_batch(a, b):
    return np.einsum("...ij,...jk->...ik", a, b), np.einsum("bij,bjk->bik", a, b), np.einsum("bii->b", a @ b)


def ein_three(a, b, c):
    return np.einsum("ij,jk,kl->il", a, b, c), np.einsum("ij,jk,kl", a, b, c), np.einsum("ij,ij,ij->i", a, a, a)


def ein_broadcast(a, b):
    return np.einsum("...i,...i->...", a, b), np.einsum("...i,...i", a, b)


def ein_size_one(a, b):
    return np.einsum("ij,ij->ij", a, b)


def test_einsum_products():
    check(ein_mm, arr(2, 3), arr(3, 4))
    check(ein_mm, arr(2, 3, dtype=np.int64), arr(3, 4, dtype=bool))
    check(ein_mm, arr(2, 3, dtype=bool), arr(3, 4, dtype=bool))


def test_einsum_traces_diagonals_transposes():
    check(ein_one, arr(3, 3))
    check(ein_one, arr(3, 3, dtype=np.int64))
    check(ein_vec, arr(3), arr(3))


def test_einsum_batches_and_many_operands():
    check(ein_batch, arr(4, 3, 3), arr(4, 3, 3))
    check(ein_three, arr(2, 3), arr(3, 4), arr(4, 5))
    check(ein_broadcast, arr(5, 3), arr(3))
    check(ein_broadcast, arr(2, 1, 3), arr(5, 3))
    check(ein_size_one, arr(5, 3), arr(1, 3))


def ein_spec_error_ndim(a):
    return np.einsum("ijk->i", a)


def ein_spec_error_output(a):
    return np.einsum("ij->ik", a)


def ein_spec_error_repeat(a):
    return np.einsum("ij->ii", a)


def ein_spec_error_count(a):
    return np.einsum("ij,jk->ik", a)


def ein_spec_error_label(a):
    return np.einsum("i1->i", a)


def ein_spec_error_ellipsis(a):
    return np.einsum("...j->j", a)


def ein_sublist(a):
    return np.einsum(a, [0, 1], [1])


@pytest.mark.parametrize("f,msg", [
    (ein_spec_error_ndim, "operand 0 has 2 dimension\\(s\\), but its subscripts 'ijk' name 3"),
    (ein_spec_error_output, "the output label 'k' does not appear"),
    (ein_spec_error_repeat, "the output subscripts 'ii' repeat the label 'i'"),
    (ein_spec_error_count, "name 2 operand\\(s\\), found 1"),
    (ein_spec_error_label, "einsum labels are letters, found '1'"),
    (ein_spec_error_ellipsis, "so the output needs '...' too"),
    (ein_sublist, "subscripts string only"),
])
def test_einsum_errors(f, msg):
    with pytest.raises(mo.MorphismError, match=msg):
        mo.jit(f, backend="interpreter")(np.ones((2, 2)))


# ---- tensordot, kron, cross --------------------------------------------------------------------


def tensordot_axes(axes):
    def f(a, b):
        return np.tensordot(a, b, axes)

    return f


def tensordot_default(a, b):
    return np.tensordot(a, b)


def tensordot_keyword(a, b):
    return np.tensordot(a, b, axes=([1, 0], [0, 1]))


def test_tensordot():
    a, b = arr(3, 4, 5), arr(4, 5, 2)
    check(tensordot_default, arr(2, 4, 5), arr(4, 5, 3))
    check(tensordot_axes(0), arr(2, 3), arr(4))
    check(tensordot_axes(1), arr(2, 3), arr(3, 4))
    check(tensordot_axes(([1, 2], [0, 1])), a, b)
    check(tensordot_axes(((2, 1), (1, 0))), a, b)
    check(tensordot_axes((-1, 0)), arr(2, 3), arr(3, 2))
    check(tensordot_keyword, arr(3, 4, 2), arr(4, 3))
    check(tensordot_axes(1), arr(2, 3, dtype=np.int64), arr(3, dtype=np.int64))


def test_tensordot_errors():
    with pytest.raises(mo.MorphismError, match="pair 2 axes of a with 1 of b"):
        mo.jit(tensordot_axes(([0, 1], [0])), backend="interpreter")(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(mo.MorphismError, match="cannot sum over 3 axes"):
        mo.jit(tensordot_axes(3), backend="interpreter")(np.ones((2, 2)), np.ones((2, 2)))


def kron(a, b):
    return np.kron(a, b)


def test_kron():
    check(kron, arr(3), arr(2))
    check(kron, arr(2, 3), arr(4, 2))
    check(kron, arr(3), arr(2, 2))
    check(kron, arr(2, 2, dtype=np.int64), arr(2, 3, dtype=bool))
    check(kron, 2.0, arr(2, 2))


def cross(a, b):
    return np.cross(a, b)


def test_cross():
    check(cross, arr(3), arr(3))
    check(cross, arr(4, 3), arr(3))
    check(cross, arr(2, 1, 3), arr(5, 3))
    check(cross, arr(3, dtype=np.int64), arr(3, dtype=np.int64))


def test_cross_errors():
    with pytest.raises(ValueError, match="needs 3-vectors"):
        mo.jit(cross, backend="interpreter")(np.ones(2), np.ones(2))
    with pytest.raises(mo.MorphismError, match="boolean"):
        mo.jit(cross, backend="interpreter")(np.ones(3, bool), np.ones(3, bool))


# ---- solvers and decompositions ------------------------------------------------------------------


def solve(a, b):
    return np.linalg.solve(a, b)


def inv_det(a):
    sign, logdet = np.linalg.slogdet(a)
    return np.linalg.inv(a), np.linalg.det(a), sign, logdet, np.linalg.slogdet(a)


def test_solve():
    check(solve, spd(3), arr(3))
    check(solve, spd(3), arr(3, 2))
    check(solve, spd(3, 4), arr(3))
    check(solve, spd(3, 4), arr(4, 3, 2))
    check(solve, spd(3, 4), arr(3, 2))
    check(solve, np.array([[2, 1], [1, 3]]), np.array([1, 2]))  # ints give floats


def test_inv_det_slogdet():
    check(inv_det, arr(3, 3))
    check(inv_det, arr(2, 3, 3))
    check(inv_det, np.array([[2, 1], [1, 3]]))
    check(inv_det, np.eye(2, dtype=bool))


def slogdet_only(a):
    return np.linalg.slogdet(a)


def test_slogdet_of_a_singular_matrix():
    check(slogdet_only, np.ones((2, 2)))


def cholesky(a):
    return np.linalg.cholesky(a), np.linalg.cholesky(a, upper=True)


def qr(a):
    q, r = np.linalg.qr(a)
    return q, r, np.linalg.qr(a, mode="r")


def eigh(a):
    w, v = np.linalg.eigh(a)
    return w, v, np.linalg.eigh(a, UPLO="U"), np.linalg.eigvalsh(a)


def svd(a):
    u, s, vh = np.linalg.svd(a)
    return u, s, vh, np.linalg.svd(a, full_matrices=False), np.linalg.svd(a, compute_uv=False), np.linalg.svdvals(a)


def test_decompositions():
    check(cholesky, spd(3))
    check(cholesky, spd(3, 2))
    for shape in [(4, 3), (3, 4), (2, 4, 3)]:
        check(qr, arr(*shape))
        check(svd, arr(*shape))
    check(qr, arr(3, 3, dtype=np.int64))
    check(eigh, spd(3))
    check(eigh, spd(3, 2))
    check(eigh, np.array([[2, 1], [1, 3]]))


def test_decompositions_reconstruct():
    # Not only plumbing: the factors multiply back to the matrix.
    a = arr(4, 3)
    q, r, _ = mo.jit(qr, backend="interpreter")(a)
    np.testing.assert_allclose(q @ r, a, atol=1e-12)
    u, s, vh, *_ = mo.jit(svd, backend="interpreter")(a)
    np.testing.assert_allclose(u[:, :3] * s @ vh, a, atol=1e-12)
    m = spd(3)
    w, v, *_ = mo.jit(eigh, backend="interpreter")(m)
    np.testing.assert_allclose(v * w @ v.T, m, atol=1e-12)


def lstsq(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    return x, residuals, rank, s


def lstsq_rcond(a, b):
    return np.linalg.lstsq(a, b, rcond=1e-3)[0]


def test_lstsq():
    for a, b in [(arr(5, 3), arr(5)), (arr(5, 3), arr(5, 2)), (arr(3, 5), arr(3)),
                 (np.ones((4, 2)), arr(4))]:
        x, res, rank, s = mo.jit(lstsq, backend="interpreter")(a, b)
        wx, wres, wrank, ws = lstsq(a, b)
        same(x, wx)
        same(res, wres)
        same(s, ws)
        assert rank == wrank and np.asarray(rank).dtype == np.int64
    check(lstsq_rcond, arr(5, 3), arr(5))


def matrix_power(n):
    def f(a):
        return np.linalg.matrix_power(a, n)

    return f


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2])
def test_matrix_power(n):
    check(matrix_power(n), arr(3, 3))
    check(matrix_power(n), arr(2, 3, 3))
    if n >= 0:
        check(matrix_power(n), arr(3, 3, dtype=np.int64))
        check(matrix_power(n), arr(3, 3, dtype=bool))
    else:
        check(matrix_power(n), np.array([[2, 1], [1, 3]]))


def pinv_rank_cond(a):
    return np.linalg.pinv(a), np.linalg.matrix_rank(a), np.linalg.cond(a), np.linalg.pinv(a, rcond=0.5)


def test_pinv_matrix_rank_cond():
    check(pinv_rank_cond, arr(4, 3))
    check(pinv_rank_cond, arr(2, 3, 4))
    check(pinv_rank_cond, np.array([[1.0, 2.0], [2.0, 4.0]]), rtol=1e-6)  # singular: rank 1
    check(pinv_rank_cond, np.zeros((2, 2)))  # cond is inf


def rank_1d(x):
    return np.linalg.matrix_rank(x)


def test_matrix_rank_of_a_vector():
    check(rank_1d, np.zeros(3))
    check(rank_1d, arr(3))


def solve_vec(a, b):
    return np.linalg.solve(a, b)


def qr_complete(a):
    return np.linalg.qr(a, mode="complete")


def eig(a):
    return np.linalg.eig(a)


@pytest.mark.parametrize("f,args,msg", [
    (solve_vec, (np.ones(3), np.ones(3)), "np.linalg.solve expected a square matrix or a stack of them, found f64\\[:\\]"),
    (qr_complete, (np.ones((2, 2)),), "mode='complete'\\) is not supported"),
    (eig, (np.ones((2, 2)),), "complex values"),
])
def test_linalg_errors(f, args, msg):
    with pytest.raises(mo.MorphismError, match=msg):
        mo.jit(f, backend="interpreter")(*args)


def test_linalg_errors_at_run_time_are_numpys():
    with pytest.raises(np.linalg.LinAlgError):
        mo.jit(solve, backend="interpreter")(np.zeros((2, 2)), np.ones(2))
    with pytest.raises(np.linalg.LinAlgError):
        mo.jit(cholesky, backend="interpreter")(-np.eye(2))


# ---- norms ---------------------------------------------------------------------------------------


def norm(ord=None, axis=None, keepdims=False):
    def f(x):
        return np.linalg.norm(x, ord, axis, keepdims)

    return f


def norm_default(x):
    return np.linalg.norm(x), np.linalg.norm(x, keepdims=True)


def norm_keywords(x):
    return np.linalg.norm(x, ord=np.inf, axis=-1, keepdims=True), np.linalg.norm(x, axis=(0, 1))


@pytest.mark.filterwarnings("ignore:divide by zero")  # ord=-1 of a zero entry, in NumPy too
@pytest.mark.parametrize("ord", [None, 1, 2, np.inf, -np.inf, 0, 3, 0.5, -1])
def test_vector_norms(ord):
    x = arr(5)
    x[1] = 0.0
    check(norm(ord), x)
    check(norm(ord, axis=1), arr(3, 4))
    check(norm(ord, axis=0, keepdims=True), arr(3, 4))
    check(norm(ord, axis=-1), arr(2, 3, 4, dtype=np.int64))


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
def test_matrix_norms(ord):
    check(norm(ord), arr(3, 4))
    check(norm(ord, keepdims=True), arr(4, 3))
    check(norm(ord, axis=(2, 0)), arr(3, 2, 4))
    check(norm(ord, axis=(0, -1), keepdims=True), arr(3, 2, 4))
    check(norm(ord, axis=(1, 2)), arr(2, 3, 3, dtype=np.int64))


def test_norm_defaults():
    check(norm_default, arr(2, 3, 4))
    check(norm_default, arr(3, dtype=np.int64))
    check(norm_default, 3.0)
    check(norm_keywords, arr(2, 3))


def vector_matrix_norm(x):
    return (np.linalg.vector_norm(x), np.linalg.vector_norm(x, ord=np.inf), np.linalg.vector_norm(x, axis=(0, 2)),
            np.linalg.vector_norm(x, axis=1, keepdims=True, ord=1), np.linalg.matrix_norm(x),
            np.linalg.matrix_norm(x, ord=2, keepdims=True))


def test_vector_norm_and_matrix_norm():
    check(vector_matrix_norm, arr(2, 3, 4))


@pytest.mark.parametrize("f,shape,msg", [
    (norm("fro", axis=0), (3, 2), "invalid norm order 'fro' for vectors"),
    (norm(1), (2, 2, 2), "needs a 1-d or 2-d array when axis is None"),
    (norm(3), (2, 2), "invalid norm order 3 for matrices"),
    (norm(None, axis=(0, 0)), (2, 2), "repeated axis"),
    (norm(None, axis=2), (2, 2), "axis 2 is out of bounds"),
])
def test_norm_errors(f, shape, msg):
    with pytest.raises(mo.MorphismError, match=msg):
        mo.jit(f, backend="interpreter")(np.ones(shape))


# ---- scipy.linalg --------------------------------------------------------------------------------


def scipy_linalg(a, b):
    return (scipy.linalg.solve(a, b), scipy.linalg.inv(a), scipy.linalg.det(a), scipy.linalg.cholesky(a),
            scipy.linalg.cholesky(a, lower=True), scipy.linalg.solve(a, b, check_finite=False))


def test_scipy_linalg():
    check(scipy_linalg, spd(3), arr(3))
    check(scipy_linalg, spd(3), arr(3, 2))
    with pytest.raises(ValueError, match="must not contain infs or NaNs"):
        mo.jit(scipy_linalg, backend="interpreter")(np.full((2, 2), np.nan), np.ones(2))
    with pytest.raises(mo.MorphismError, match="single 2-d matrix only"):
        mo.jit(scipy_linalg, backend="interpreter")(spd(2, 3), np.ones(2))

