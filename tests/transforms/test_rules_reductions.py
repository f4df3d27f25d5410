"""Derivative rules of the reductions family (sum, prod, max/min, cumsum/cumprod, sort) and of the
NumPy composites built on it (mean, var, std, logsumexp, median, average, ptp).

Oracles: central finite differences of the same function run by NumPy (`mo.grad` against the
full FD gradient, `mo.jvp` against the FD directional derivative), the jvp/vjp identity
<w, J v> == <J^T w, v>, and second order (`mo.hessian`, `mo.jacrev(mo.grad(f))`) against FD of
`mo.grad`. Inputs keep away from kinks: tie-sensitive functions get distinct values.

Each test runs on both backends (`backend`); native results must also equal the interpreter's up
to floating-point reassociation. The native backend runs the cases named in `native=` (and
`backends()`) by default, all of them with MORPHISM_TEST_NATIVE_AD=all (see tests/ad_oracles.py).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import logsumexp

import morphism as mo
from ad_oracles import EPS, JVP, VJP, backends, check_first_order, check_second_order, close, grad_of_grad, on_both, run
from morphism.errors import MorphismError

SETTINGS = settings(max_examples=25, deadline=None)


# ---- inputs ----------------------------------------------------------------------------------


def floats(ndim, lo=-2.0, hi=2.0, min_side=1):
    shape = st.tuples(*[st.integers(min_side, 4)] * ndim)
    return shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=st.floats(lo, hi, allow_nan=False)))


def distinct(ndim, min_side=1):
    """Arrays of distinct values at least 0.1 apart: no ties for max, min and sort."""
    shape = st.tuples(*[st.integers(min_side, 4)] * ndim)
    return shape.flatmap(lambda s: hnp.arrays(np.int64, s, elements=st.integers(-40, 40), unique=True)
                         .map(lambda a: a * 0.1 + 0.03))


seeds = st.integers(0, 2**16)


# ---- user functions --------------------------------------------------------------------------


def sum_all(x):
    return np.sum(x)


def sum_axis0(x):
    return np.sum(x, axis=0)


def sum_keep(x):
    return x.sum(axis=1, keepdims=True)


def sum_axes02(x):
    return np.sum(x, axis=(0, 2))


def sum_weighted(x):
    return np.sum(np.sum(x * x, axis=1) * np.sum(x, axis=0)[0])


def prod_all(x):
    return np.prod(x)


def prod_axis1(x):
    return np.prod(x, axis=1)


def prod_keep(x):
    return np.prod(x, axis=0, keepdims=True)


def prod_axes02(x):
    return np.prod(x, axis=(0, 2))


def prod_axes12_keep(x):
    return np.prod(x, axis=(1, 2), keepdims=True)


def prod_scalar(s):
    return np.prod(s * 2.0)


def max_all(x):
    return np.max(x)


def max_axis1(x):
    return np.max(x, axis=1)


def min_axis0_keep(x):
    return np.min(x, axis=0, keepdims=True)


def min_axes(x):
    return np.amin(x, axis=(0, 2))


def max_sq(x):
    return np.max(x * x)


def cumsum_axis1(x):
    return np.cumsum(x, axis=1)


def cumsum_flat(x):
    return np.cumsum(x)


def cumprod_axis0(x):
    return np.cumprod(x, axis=0)


def cumprod_flat(x):
    return np.cumprod(x)


def cumprod_sum(x):
    return np.sum(np.cumprod(x) * np.arange(1.0, x.size + 1.0))


def sort_1d(x):
    return np.sort(x)


def sort_axis0(x):
    return np.sort(x, axis=0)


def sort_last(x):
    return np.sort(x, axis=-1)


def sort_weighted(x):
    return np.sum(np.sort(x) * np.arange(x.size)) + np.sort(x)[0] ** 2


def mean_all(x):
    return np.mean(x)


def mean_axis(x):
    return x.mean(axis=1)


def var_all(x):
    return np.var(x)


def var_axis_ddof(x):
    return np.var(x, axis=0, ddof=1)


def std_all(x):
    return np.std(x)


def std_axis(x):
    return x.std(axis=1)


def lse_all(x):
    return logsumexp(x)


def lse_axis(x):
    return logsumexp(x, axis=1)


def lse_keep(x):
    return logsumexp(x, axis=0, keepdims=True)


def median_all(x):
    return np.median(x)


def median_axis(x):
    return np.median(x, axis=0)


def average_weighted(x, w):
    return np.average(x, axis=0, weights=w)


def ptp_axis(x):
    return np.ptp(x, axis=1)


def nansum_all(x):
    return np.nansum(x)


def softmax_xent(x):
    # A typical loss: log-softmax picked at the argmax (an integer, with no derivative).
    z = x - logsumexp(x, axis=1, keepdims=True)
    k = np.argmax(x, axis=1)
    return -np.sum(z[np.arange(x.shape[0]), k])


def any_positive(x):
    return np.any(x > 0.0)


def pick_argmin(x):
    return np.sort(x)[np.argmin(x)] * 2.0


def grad_of_scalar_prod(s):
    return np.prod(np.array([s, s * s, 2.0 - s]))


# ---- first order: primitives -----------------------------------------------------------------


@pytest.mark.parametrize("f, backend", on_both([sum_all, sum_axis0, sum_keep, sum_weighted], native=[sum_keep]))
@SETTINGS
@given(x=floats(2), seed=seeds)
def test_sum_2d(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends(native=False))
@SETTINGS
@given(x=floats(3), seed=seeds)
def test_sum_several_axes(x, seed, backend):
    check_first_order(sum_axes02, x, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([prod_all, prod_axis1, prod_keep], native=[prod_axis1]))
@SETTINGS
@given(x=floats(2), seed=seeds)
def test_prod_2d(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([prod_axes02, prod_axes12_keep], native=[]))
@SETTINGS
@given(x=floats(3), seed=seeds)
def test_prod_several_axes(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_prod_of_a_scalar(backend):
    check_first_order(prod_scalar, 1.5, backend=backend)


ZEROS = [
    [1.5, 0.0, 2.0, -1.0],  # one zero: only its own partial is non-zero
    [0.0, 3.0, 0.0, 2.0],  # two zeros: every partial is zero
    [0.0],
]


@pytest.mark.parametrize("x, backend", on_both(ZEROS, native=ZEROS))  # one compiled gradient
def test_prod_with_zeros_is_the_product_of_the_others(x, backend):
    x = np.array(x)
    want = np.array([np.prod(np.delete(x, i)) for i in range(x.size)])
    got = run(backend, mo.grad, prod_all, x)
    np.testing.assert_array_equal(got, want)  # exact: no division by x


@pytest.mark.parametrize("backend", backends())
def test_prod_with_zeros_along_an_axis(backend):
    x = np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [2.0, -1.0, 0.5]])
    check_first_order(prod_axis1, x, backend=backend)
    check_first_order(prod_keep, x, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([max_all, max_axis1, min_axis0_keep, max_sq], native=[max_axis1]))
@SETTINGS
@given(x=distinct(2), seed=seeds)
def test_max_min(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends(native=False))
@SETTINGS
@given(x=distinct(3), seed=seeds)
def test_min_several_axes(x, seed, backend):
    check_first_order(min_axes, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_max_splits_ties_equally(backend):
    # JAX's convention: the derivative is shared equally among the tied maxima.
    x = np.array([[1.0, 3.0], [3.0, 2.0]])
    np.testing.assert_array_equal(run(backend, mo.grad, max_all, x), [[0, 0.5], [0.5, 0]])
    x = np.array([[2.0, 0.0, 1.0], [2.0, 1.0, 1.0]])
    (ct,) = run(backend, VJP, min_axis0_keep, (x,), np.array([[6.0, 3.0, 12.0]]))
    np.testing.assert_array_equal(ct, [[3.0, 3.0, 6.0], [3.0, 0.0, 6.0]])
    x = np.array([[2.0, 2.0, 1.0], [1.0, 0.0, 1.0]])
    _, t = run(backend, JVP, max_axis1, (x,), (np.array([[3.0, 6.0, 9.0], [1.0, 2.0, 4.0]]),))
    np.testing.assert_array_equal(t, [4.5, 2.5])


@pytest.mark.parametrize("f, backend", on_both([cumsum_axis1, cumsum_flat, cumprod_axis0, cumprod_flat],
                                               native=[cumsum_axis1]))
@SETTINGS
@given(x=floats(2), seed=seeds)
def test_scans(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends(native=False))
@SETTINGS
@given(x=floats(1), seed=seeds)
def test_cumprod_loss(x, seed, backend):
    check_first_order(cumprod_sum, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_cumprod_with_zeros(backend):
    x = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 3.0], [1.5, 2.0, 0.5], [0.0, 1.0, 2.0]])
    check_first_order(cumprod_axis0, x, backend=backend)
    check_first_order(cumprod_flat, x, backend=backend)
    check_first_order(cumprod_sum, np.array([1.0, 0.0, 2.0, 0.0, 3.0]), backend=backend)


@pytest.mark.parametrize("f, backend", on_both([sort_axis0, sort_last], native=[sort_axis0]))
@SETTINGS
@given(x=distinct(2), seed=seeds)
def test_sort(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([sort_1d, sort_weighted], native=[sort_1d]))
@SETTINGS
@given(x=distinct(1), seed=seeds)
def test_sort_1d(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_sort_with_ties_follows_a_stable_order(backend):
    # Tied elements: the tangent of sorted slot k is the tangent of the k-th element in a
    # stable order (JAX's convention), so the result is still a permutation of the tangent.
    x = np.array([1.0, 0.0, 1.0])
    _, t = run(backend, JVP, sort_1d, (x,), (np.array([10.0, 20.0, 30.0]),))
    np.testing.assert_array_equal(t, [20.0, 10.0, 30.0])


# ---- first order: composites -----------------------------------------------------------------


@pytest.mark.parametrize("f, backend", on_both([mean_all, mean_axis, var_all, var_axis_ddof, lse_all, lse_axis, lse_keep,
                                                nansum_all], native=[var_axis_ddof]))
@SETTINGS
@given(x=floats(2, min_side=2), seed=seeds)
def test_smooth_composites(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([std_all, std_axis, median_all, median_axis, ptp_axis, softmax_xent],
                                               native=[std_axis, ptp_axis]))
@SETTINGS
@given(x=distinct(2, min_side=2), seed=seeds)
def test_composites_away_from_kinks(f, x, seed, backend):
    # std has a kink where all elements are equal; median, ptp and argmax where elements tie.
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends(native=False))
@SETTINGS
@given(x=floats(2, min_side=2), w=floats(1, lo=0.5, hi=2.0, min_side=4), seed=seeds)
def test_average_with_weights(x, w, seed, backend):
    w = np.resize(w, x.shape[0])
    check_first_order(average_weighted, x, w, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_logsumexp_of_large_values_is_stable(backend):
    x = np.array([[1000.0, 1001.0], [-5.0, 3.0]])
    g = run(backend, mo.grad, lse_all, x)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(g, e / e.sum(), rtol=1e-12)


# ---- second order ----------------------------------------------------------------------------


@pytest.mark.parametrize("f, backend", on_both([prod_all, max_sq, cumprod_sum, sort_weighted, var_all, std_all, lse_all],
                                               native=[max_sq]))
@settings(max_examples=10, deadline=None)
@given(x=distinct(1, min_side=2))
def test_second_order(f, x, backend):
    check_second_order(f, x, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([prod_all, cumprod_sum], native=[]))
def test_second_order_exact_at_zeros(f, backend):
    # Exclusive products and the cumprod recurrence never divide: exact Hessians at zeros.
    check_second_order(f, np.array([1.5, 0.0, 2.0, -1.0]), backend=backend)
    check_second_order(f, np.array([0.0, 3.0, 0.0, 2.0]), backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_grad_of_grad_of_a_scalar_function(backend):
    def fd(s):
        return (mo.grad(grad_of_scalar_prod)(s + EPS) - mo.grad(grad_of_scalar_prod)(s - EPS)) / (2 * EPS)

    for s in (0.0, 0.7, -1.3):
        close(run(backend, grad_of_grad, grad_of_scalar_prod, s), fd(s))


# ---- integer and boolean results -------------------------------------------------------------


@pytest.mark.parametrize("f", [any_positive])
def test_boolean_results_have_no_derivative(f):
    with pytest.raises(MorphismError, match="float scalar|boolean or integer"):
        mo.grad(f)(np.array([1.0, -1.0]))


@pytest.mark.parametrize("backend", backends())
def test_integer_indices_carry_no_derivative(backend):
    # argmin picks a position (here 2: the largest value, x[1]); the derivative flows
    # through the pick, not the index.
    x = np.array([0.5, 2.0, -1.0])
    np.testing.assert_array_equal(run(backend, mo.grad, pick_argmin, x), [0.0, 2.0, 0.0])
