"""Derivative rules of the reductions family (sum, prod, max/min, cumsum/cumprod, sort) and of the
NumPy composites built on it (mean, var, std, logsumexp, median, average, ptp).

Oracles: central finite differences of the same function run by NumPy (`mo.grad` against the
full FD gradient, `mo.jvp` against the FD directional derivative), the jvp/vjp identity
<w, J v> == <J^T w, v>, and second order (`mo.hessian`, `mo.jacrev(mo.grad(f))`) against FD of
`mo.grad`. Inputs keep away from kinks: tie-sensitive functions get distinct values.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import logsumexp

import morphism as mo
from ad_oracles import EPS, _with, check_first_order, check_second_order, close, fd_directional, fd_jacobian
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


@pytest.mark.parametrize("f", [sum_all, sum_axis0, sum_keep, sum_weighted])
@SETTINGS
@given(x=floats(2), seed=seeds)
def test_sum_2d(f, x, seed):
    check_first_order(f, x, seed=seed)


@SETTINGS
@given(x=floats(3), seed=seeds)
def test_sum_several_axes(x, seed):
    check_first_order(sum_axes02, x, seed=seed)


@pytest.mark.parametrize("f", [prod_all, prod_axis1, prod_keep])
@SETTINGS
@given(x=floats(2), seed=seeds)
def test_prod_2d(f, x, seed):
    check_first_order(f, x, seed=seed)


@pytest.mark.parametrize("f", [prod_axes02, prod_axes12_keep])
@SETTINGS
@given(x=floats(3), seed=seeds)
def test_prod_several_axes(f, x, seed):
    check_first_order(f, x, seed=seed)


def test_prod_of_a_scalar():
    check_first_order(prod_scalar, 1.5)


@pytest.mark.parametrize("x", [
    [1.5, 0.0, 2.0, -1.0],  # one zero: only its own partial is non-zero
    [0.0, 3.0, 0.0, 2.0],  # two zeros: every partial is zero
    [0.0],
])
def test_prod_with_zeros_is_the_product_of_the_others(x):
    x = np.array(x)
    want = np.array([np.prod(np.delete(x, i)) for i in range(x.size)])
    got = mo.grad(prod_all)(x)
    np.testing.assert_array_equal(got, want)  # exact: no division by x


def test_prod_with_zeros_along_an_axis():
    x = np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [2.0, -1.0, 0.5]])
    check_first_order(prod_axis1, x)
    check_first_order(prod_keep, x)


@pytest.mark.parametrize("f", [max_all, max_axis1, min_axis0_keep, max_sq])
@SETTINGS
@given(x=distinct(2), seed=seeds)
def test_max_min(f, x, seed):
    check_first_order(f, x, seed=seed)


@SETTINGS
@given(x=distinct(3), seed=seeds)
def test_min_several_axes(x, seed):
    check_first_order(min_axes, x, seed=seed)


def test_max_splits_ties_equally():
    # JAX's convention: the derivative is shared equally among the tied maxima.
    np.testing.assert_array_equal(mo.grad(max_all)(np.array([[1.0, 3.0], [3.0, 2.0]])), [[0, 0.5], [0.5, 0]])
    x = np.array([[2.0, 0.0, 1.0], [2.0, 1.0, 1.0]])
    _, back = mo.vjp(min_axis0_keep, x)
    (ct,) = back(np.array([[6.0, 3.0, 12.0]]))
    np.testing.assert_array_equal(ct, [[3.0, 3.0, 6.0], [3.0, 0.0, 6.0]])
    x = np.array([[2.0, 2.0, 1.0], [1.0, 0.0, 1.0]])
    _, t = mo.jvp(max_axis1, (x,), (np.array([[3.0, 6.0, 9.0], [1.0, 2.0, 4.0]]),))
    np.testing.assert_array_equal(t, [4.5, 2.5])


@pytest.mark.parametrize("f", [cumsum_axis1, cumsum_flat, cumprod_axis0, cumprod_flat])
@SETTINGS
@given(x=floats(2), seed=seeds)
def test_scans(f, x, seed):
    check_first_order(f, x, seed=seed)


@SETTINGS
@given(x=floats(1), seed=seeds)
def test_cumprod_loss(x, seed):
    check_first_order(cumprod_sum, x, seed=seed)


def test_cumprod_with_zeros():
    x = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 3.0], [1.5, 2.0, 0.5], [0.0, 1.0, 2.0]])
    check_first_order(cumprod_axis0, x)
    check_first_order(cumprod_flat, x)
    check_first_order(cumprod_sum, np.array([1.0, 0.0, 2.0, 0.0, 3.0]))


@pytest.mark.parametrize("f", [sort_axis0, sort_last])
@SETTINGS
@given(x=distinct(2), seed=seeds)
def test_sort(f, x, seed):
    check_first_order(f, x, seed=seed)


@pytest.mark.parametrize("f", [sort_1d, sort_weighted])
@SETTINGS
@given(x=distinct(1), seed=seeds)
def test_sort_1d(f, x, seed):
    check_first_order(f, x, seed=seed)


def test_sort_with_ties_follows_a_stable_order():
    # Tied elements: the tangent of sorted slot k is the tangent of the k-th element in a
    # stable order (JAX's convention), so the result is still a permutation of the tangent.
    x = np.array([1.0, 0.0, 1.0])
    _, t = mo.jvp(sort_1d, (x,), (np.array([10.0, 20.0, 30.0]),))
    np.testing.assert_array_equal(t, [20.0, 10.0, 30.0])


# ---- first order: composites -----------------------------------------------------------------


@pytest.mark.parametrize("f", [mean_all, mean_axis, var_all, var_axis_ddof, lse_all, lse_axis, lse_keep, nansum_all])
@SETTINGS
@given(x=floats(2, min_side=2), seed=seeds)
def test_smooth_composites(f, x, seed):
    check_first_order(f, x, seed=seed)


@pytest.mark.parametrize("f", [std_all, std_axis, median_all, median_axis, ptp_axis, softmax_xent])
@SETTINGS
@given(x=distinct(2, min_side=2), seed=seeds)
def test_composites_away_from_kinks(f, x, seed):
    # std has a kink where all elements are equal; median, ptp and argmax where elements tie.
    check_first_order(f, x, seed=seed)


@SETTINGS
@given(x=floats(2, min_side=2), w=floats(1, lo=0.5, hi=2.0, min_side=4), seed=seeds)
def test_average_with_weights(x, w, seed):
    w = np.resize(w, x.shape[0])
    check_first_order(average_weighted, x, w, seed=seed)


def test_logsumexp_of_large_values_is_stable():
    x = np.array([[1000.0, 1001.0], [-5.0, 3.0]])
    g = mo.grad(lse_all)(x)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(g, e / e.sum(), rtol=1e-12)


# ---- second order ----------------------------------------------------------------------------


@pytest.mark.parametrize("f", [prod_all, max_sq, cumprod_sum, sort_weighted, var_all, std_all, lse_all])
@settings(max_examples=10, deadline=None)
@given(x=distinct(1, min_side=2))
def test_second_order(f, x):
    check_second_order(f, x)


@pytest.mark.parametrize("f", [prod_all, cumprod_sum])
def test_second_order_exact_at_zeros(f):
    # Exclusive products and the cumprod recurrence never divide: exact Hessians at zeros.
    check_second_order(f, np.array([1.5, 0.0, 2.0, -1.0]))
    check_second_order(f, np.array([0.0, 3.0, 0.0, 2.0]))


def test_grad_of_grad_of_a_scalar_function():
    def fd(s):
        return (mo.grad(grad_of_scalar_prod)(s + EPS) - mo.grad(grad_of_scalar_prod)(s - EPS)) / (2 * EPS)

    for s in (0.0, 0.7, -1.3):
        close(mo.grad(mo.grad(grad_of_scalar_prod))(s), fd(s))


# ---- integer and boolean results -------------------------------------------------------------


@pytest.mark.parametrize("f", [any_positive])
def test_boolean_results_have_no_derivative(f):
    with pytest.raises(MorphismError, match="float scalar|boolean or integer"):
        mo.grad(f)(np.array([1.0, -1.0]))


def test_integer_indices_carry_no_derivative():
    # argmin picks a position (here 2: the largest value, x[1]); the derivative flows
    # through the pick, not the index.
    x = np.array([0.5, 2.0, -1.0])
    np.testing.assert_array_equal(mo.grad(pick_argmin)(x), [0.0, 2.0, 0.0])
