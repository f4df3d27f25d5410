"""Batch rules of the linalg and indexing families: `vmap(f, in_axes)(X...)` against stacking
`f` over the members, for user-level functions with every mix of batched and unbatched array,
index and value; on the interpreter for all, on the native backend for a subset. The rules
are vectorised: the batched IR has no loop over the batch (lstsq excepted)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from helpers import assert_same

import morphism as mo
from morphism.primitives import indexing, linalg
from morphism.primitives.registry import NOT_APPLICABLE

B = 3
rng = np.random.default_rng(7)


def _inputs(args, in_axes):
    """The batched call's arguments (each arg is given with a batch axis; None takes member 0)
    and the members' argument tuples."""
    call = tuple(a if ax == 0 else a[0] for a, ax in zip(args, in_axes))
    members = [tuple(a[b] if ax == 0 else a for a, ax in zip(call, in_axes)) for b in range(B)]
    return call, members


def _stack(outs):
    if isinstance(outs[0], tuple):
        return tuple(np.stack([o[k] for o in outs]) for k in range(len(outs[0])))
    return np.stack(outs)


def check(f, args, in_axes, native=False, rtol=1e-10, atol=1e-10):
    call, members = _inputs(args, in_axes)
    want = _stack([f(*m) for m in members])
    vf = mo.vmap(f, in_axes=in_axes)
    if native:
        with warnings.catch_warnings():
            warnings.simplefilter("error", mo.api.MorphismPerformanceWarning)
            got = mo.jit(vf, backend="native")(*call)
    else:
        got = vf(*call)
    assert_same(got, want, rtol=rtol, atol=atol)


def batched_ir(f, args, in_axes) -> str:
    call, _ = _inputs(args, in_axes)
    return str(mo.vmap(f, in_axes=in_axes).lower(*call).ir)


# ---- indexing ---------------------------------------------------------------------------------

X = rng.normal(size=(B, 5, 4))
X3 = rng.normal(size=(B, 5, 4, 6))
I = np.array([0, 3, -1])  # one integer index per member
J = np.array([1, 2, 0])
K6 = np.array([5, 0, 2])
IDX = np.array([[0, 1], [2, 2], [3, 0]])  # an index array per member
IDX4 = np.array([[0, 3, 1], [2, 2, 0], [1, 0, 3]])
MASK5 = np.array([[True, False, True, True, False]] * B)
LO = np.array([0, 1, 2])


def x_i(x, i):
    return x[i]


def x_i_j(x, i, j):
    return x[i, j]


def x_col_j(x, j):
    return x[:, j]


def x_inner(x):
    return x[1:-1]


def x_step(x):
    return x[::2]


def x_idx(x, idx):
    return x[idx]


def x_col_idx(x, idx):
    return x[:, idx]


def x_mask(x, m):
    return x[m]


def x_none_i(x, i):
    return x[None, i]


def x_last0(x):
    return x[..., 0]


def x_i_slice_k(x, i, k):
    return x[i, :, k]  # advanced indices separated by a slice: their axis goes first


def x_idx_slice_k(x, idx, k):
    return x[idx, :, k]


def x_mixed(x, i, k):
    return x[1:-1, i, None, k]


def x_ell_idx_k(x, idx, k):
    return x[..., idx, k]


def x_window(x, lo):
    return x[lo:lo + 2]  # bounds that differ between members: a loop


GETITEM = [
    (x_i, (X, I)),
    (x_i_j, (X, I, J)),
    (x_col_j, (X, J)),
    (x_idx, (X, IDX)),
    (x_col_idx, (X, IDX4)),
    (x_none_i, (X, I)),
    (x_i_slice_k, (X3, I, K6)),
    (x_idx_slice_k, (X3, IDX, K6)),
    (x_mixed, (X3, I, K6)),
    (x_ell_idx_k, (X3, IDX4, J)),
]


def _axes_combos(n):
    """Every in_axes with at least one batched argument."""
    return [ax for ax in itertools.product((0, None), repeat=n) if 0 in ax]


@pytest.mark.parametrize("f,args,in_axes", [(f, a, ax) for f, a in GETITEM for ax in _axes_combos(len(a))],
                         ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_getitem(f, args, in_axes):
    check(f, args, in_axes)


@pytest.mark.parametrize("f", [x_inner, x_step, x_last0])
def test_getitem_basic_index(f):
    check(f, (X,), (0,))


def test_getitem_unbatched_mask():
    check(x_mask, (X, MASK5), (0, None))


def test_getitem_batched_slice_bounds_loop():
    check(x_window, (X, LO), (0, 0))
    check(x_window, (X, LO), (None, 0))
    assert "for_range" in batched_ir(x_window, (X, LO), (0, 0))


def test_getitem_batched_mask_loops_and_needs_equal_lengths():
    m = np.zeros(X.shape, bool)
    m[:, 0, :2] = True
    check(x_mask, (X, m), (0, 0))
    assert "for_range" in batched_ir(x_mask, (X, m), (0, 0))
    m[1, 1, 1] = True  # member 1 selects three elements, the others two
    with pytest.raises(ValueError, match="different shapes"):
        mo.vmap(x_mask)(X, m)


# ---- setitem and scatter_add ------------------------------------------------------------------

V4 = rng.normal(size=(B, 4))
V5 = rng.normal(size=(B, 5))
S = rng.normal(size=B)
V24 = rng.normal(size=(B, 2, 4))
V2 = rng.normal(size=(B, 2))
M54 = rng.normal(size=(B, 5, 4)) > 0
M4 = rng.normal(size=(B, 4)) > 0


def set_i(a, i, v):
    a = a.copy()
    a[i] = v
    return a


def set_col_j(a, j, v):
    a = a.copy()
    a[:, j] = v
    return a


def add_slice(a, lo, v):
    a = a.copy()
    a[lo:lo + 2] += v
    return a


def set_idx(a, idx, v):
    a = a.copy()
    a[idx] = v
    return a


def add_idx_col(a, idx, v):
    a = a.copy()
    a[idx, 1] += v
    return a


def set_none_i(a, i, v):
    a = a.copy()
    a[None, i] = v
    return a


def zero_mask(a, m):
    a = a.copy()
    a[m] = 0.0
    return a


def set_mask(a, m, v):
    a = a.copy()
    a[m] = v
    return a


def add_col_mask(a, m, v):
    a = a.copy()
    a[:, m] += v
    return a


SETITEM = [
    (set_i, (X, I, V4)),
    (set_i, (X, I, S)),
    (set_col_j, (X, J, V5)),
    (set_idx, (X, IDX, V24)),
    (add_idx_col, (X, IDX, V2)),
    (set_none_i, (X, I, V4)),
    (set_mask, (X, M54, S)),
]


@pytest.mark.parametrize("f,args,in_axes", [(f, a, ax) for f, a in SETITEM for ax in _axes_combos(len(a))],
                         ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_setitem(f, args, in_axes):
    check(f, args, in_axes)


@pytest.mark.parametrize("in_axes", [(0, None, 0), (None, None, 0), (0, None, None)])
def test_setitem_slice(in_axes):
    check(add_slice, (X, LO, S), in_axes)


@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0)])
def test_setitem_mask_zero(in_axes):
    check(zero_mask, (X, M54), in_axes)


@pytest.mark.parametrize("in_axes", [(0, None, 0), (0, None, None), (None, None, 0)])
def test_augmented_assign_unbatched_mask(in_axes):
    check(add_col_mask, (X, M4, S), in_axes)


def gather_square(x, i):
    return np.sum(x[i] ** 2)


@pytest.mark.parametrize("in_axes", [(0, 0), (None, 0), (0, None)])
@pytest.mark.parametrize("index", [I, IDX], ids=["int", "array"])
def test_scatter_add_from_the_gradient_of_getitem(index, in_axes):
    # the gradient of a gather is a scatter_add with the same (batched) index
    check(mo.grad(gather_square), (X, index), in_axes)


def test_scatter_add_is_vectorised():
    assert "for_range" not in batched_ir(mo.grad(gather_square), (X, IDX), (0, 0))


# ---- linalg -----------------------------------------------------------------------------------

SHAPES = {1: (4,), 2: (4, 4), 3: (2, 4, 4)}


def matmul(a, b):
    return a @ b


@pytest.mark.parametrize("ra,rb", list(itertools.product((1, 2, 3), repeat=2)))
@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0)])
def test_matmul_rank_combinations(ra, rb, in_axes):
    a = rng.normal(size=(B,) + SHAPES[ra])
    b = rng.normal(size=(B,) + SHAPES[rb])
    check(matmul, (a, b), in_axes)


A = rng.normal(size=(B, 4, 4))
SPD = A @ A.transpose(0, 2, 1) + 4.0 * np.eye(4)
SPD_STACK = np.stack([SPD, SPD + 1.0], axis=1)  # each member a stack of two matrices
BV = rng.normal(size=(B, 4))
BM = rng.normal(size=(B, 4, 2))
TALL = rng.normal(size=(B, 6, 3))


def ein_matmul(a, b):
    return np.einsum("ij,jk->ik", a, b)


def ein_trace(a):
    return np.einsum("ii->", a)


def ein_stack_matvec(a, x):
    return np.einsum("...ij,...j->...i", a, x)


def ein_outer(a, x):
    return np.einsum("i,j->ij", x, x) + a


def solve(a, b):
    return np.linalg.solve(a, b)


@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0)])
@pytest.mark.parametrize("f,args", [(ein_matmul, (A, BM)), (ein_stack_matvec, (A, BV)), (ein_outer, (A, BV)),
                                    (solve, (SPD, BV)), (solve, (SPD, BM)), (solve, (SPD_STACK, BV)),
                                    (solve, (SPD_STACK, BM))])
def test_einsum_and_solve(f, args, in_axes):
    check(f, args, in_axes)


def inv(a):
    return np.linalg.inv(a)


def det(a):
    return np.linalg.det(a)


def slogdet(a):
    return np.linalg.slogdet(a)


def cholesky(a):
    return np.linalg.cholesky(a)


def qr(a):
    return np.linalg.qr(a)


def eigh(a):
    return np.linalg.eigh(a)


def eigvalsh_only(a):
    return np.linalg.eigh(a)[0]


def svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * s[..., None, :]) @ vh, s


def singular_values(a):
    return np.linalg.svd(a, compute_uv=False)


def lstsq(a, b):
    return np.linalg.lstsq(a, b)[0]


DECOMPOSITIONS = [(ein_trace, SPD), (inv, SPD), (det, SPD), (slogdet, SPD), (cholesky, SPD), (qr, TALL),
                  (eigh, SPD), (eigvalsh_only, SPD), (svd, TALL), (singular_values, TALL)]


@pytest.mark.parametrize("f,a", DECOMPOSITIONS, ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_decompositions(f, a):
    check(f, (a,), (0,), rtol=1e-9, atol=1e-9)
    if f is not ein_trace:  # a member that is itself a stack of matrices
        check(f, (np.stack([a, a], axis=1),), (0,), rtol=1e-9, atol=1e-9)


def test_lstsq_loops_over_the_batch():
    # np.linalg.lstsq takes one matrix (no stacks): its batch rule is a loop
    check(lstsq, (TALL, BV[:, :3].repeat(2, axis=1)), (0, 0))
    check(lstsq, (TALL, BV[:, :3].repeat(2, axis=1)), (None, 0))
    assert "for_range" in batched_ir(lstsq, (TALL, BV[:, :3].repeat(2, axis=1)), (0, 0))


# ---- the rules are vectorised -------------------------------------------------------------------

VECTORISED = [
    (matmul, (A, BV), (0, 0)), (matmul, (BV, A), (0, None)), (matmul, (A, A), (0, 0)),
    (ein_matmul, (A, BM), (0, 0)), (solve, (SPD, BV), (0, 0)), (slogdet, (SPD,), (0,)),
    (x_i, (X, I), (0, 0)), (x_i, (X, I), (None, 0)), (x_idx_slice_k, (X3, IDX, K6), (0, 0, 0)),
    (set_i, (X, I, V4), (0, 0, 0)), (set_mask, (X, M54, S), (0, 0, 0)), (add_idx_col, (X, IDX, V2), (None, 0, 0)),
]


@pytest.mark.parametrize("f,args,in_axes", VECTORISED,
                         ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_no_loop_over_the_batch(f, args, in_axes):
    assert "for_range" not in batched_ir(f, args, in_axes)


# ---- the native backend -----------------------------------------------------------------------

NATIVE = [
    (x_i, (X, I), (0, 0)), (x_i_j, (X, I, J), (None, 0, 0)), (x_col_idx, (X, IDX4), (0, None)),
    (x_idx_slice_k, (X3, IDX, K6), (0, 0, 0)), (x_mask, (X, MASK5), (0, None)),
    (set_i, (X, I, V4), (0, 0, 0)), (set_col_j, (X, J, V5), (0, None, 0)), (add_slice, (X, LO, S), (0, None, 0)),
    (zero_mask, (X, M54), (0, None)), (set_mask, (X, M54, S), (None, 0, 0)),
    (matmul, (A, BV), (0, 0)), (matmul, (BV, A), (0, None)), (matmul, (A, BV), (None, 0)),
    (ein_matmul, (A, BM), (None, 0)), (solve, (SPD, BV), (0, 0)), (slogdet, (SPD,), (0,)),
    (eigvalsh_only, (SPD,), (0,)), (lstsq, (TALL, BV[:, :3].repeat(2, axis=1)), (0, 0)),
]


@pytest.mark.parametrize("f,args,in_axes", NATIVE, ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_native(f, args, in_axes):
    check(f, args, in_axes, native=True, rtol=1e-9, atol=1e-9)


# ---- every primitive of the two families has a batch rule ---------------------------------------


FAMILIES = {
    linalg: ("matmul", "einsum", "solve", "inv", "det", "slogdet", "cholesky", "qr", "eigh", "svd", "lstsq"),
    indexing: ("getitem", "setitem", "scatter_add", "dim", "size", "list_append", "list_new", "list_view"),
}


@pytest.mark.parametrize("module", list(FAMILIES), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_primitive_has_a_batch_rule(module):
    for name in FAMILIES[module]:
        p = getattr(module, name)
        assert callable(p.batch) or isinstance(p.batch, NOT_APPLICABLE) and p.batch.reason, name
