"""Reductions, scans and sorting: compiled with both backends and compared with NumPy.

Every user function here also runs as plain Python, so NumPy itself is the oracle: `check`
calls the function both ways and compares values, dtypes and shapes.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

import morphism as mo
from helpers import check_on_backends
from morphism.errors import MorphismTypeError
from morphism.ir.builder import Builder, building
from morphism.ir.core import Array, DType, Scalar, Var
from morphism.primitives import reductions as R

_JITS: dict = {}


def jitted(f, static_argnums=()):
    key = (f, static_argnums)
    if key not in _JITS:
        _JITS[key] = mo.jit(f, backend="interpreter", static_argnums=static_argnums)
    return _JITS[key]


def same(got, expected):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            same(g, e)
        return
    g, e = np.asarray(got), np.asarray(expected)
    assert g.dtype == e.dtype, f"dtype {g.dtype}, NumPy gives {e.dtype}"
    assert g.shape == e.shape, f"shape {g.shape}, NumPy gives {e.shape}"
    np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, equal_nan=True)


def check(f, *args, static_argnums=(), native_same=None):
    """f through mo.jit against NumPy: the interpreter, and the native backend (capped: see
    helpers.jit_results), whose results `native_same(got, expected)` compares where given.
    Returns the interpreter's result."""
    return check_on_backends(f, args, same, static_argnums, native_same)


def same_order(x, axis):
    """For argsort's default kind, whose order of ties NumPy leaves unspecified (the native
    backend sorts stably): a permutation of each line that sorts it, as NumPy's does."""

    def compare(got, expected):
        g, e = np.asarray(got), np.asarray(expected)
        assert g.dtype == e.dtype and g.shape == e.shape
        xs = np.ravel(x) if axis is None else x
        ax = 0 if axis is None else axis
        np.testing.assert_array_equal(np.sort(g, axis=ax), np.sort(e, axis=ax))  # a permutation
        np.testing.assert_array_equal(np.take_along_axis(xs, g, ax), np.take_along_axis(xs, e, ax))

    return compare


# ---- data ------------------------------------------------------------------------------------

_rng = np.random.default_rng(0)


def sample(shape, dtype, nans=False):
    if dtype == "float64":
        x = _rng.normal(size=shape)
        if nans and x.size:
            x[_rng.random(shape) < 0.3] = np.nan
        return x
    if dtype == "int64":
        return _rng.integers(-4, 5, size=shape).astype(np.int64)
    return _rng.random(shape) < 0.5


@st.composite
def array_and_axis(draw, dtypes=("float64", "int64", "bool"), min_dim=1, tuples=True, allow_none=True):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(min_dim, 4), min_size=ndim, max_size=ndim)))
    x = sample(shape, draw(st.sampled_from(dtypes)))
    choices = [st.integers(-ndim, ndim - 1)]
    if allow_none:
        choices.append(st.none())
    if tuples:
        choices.append(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(
            lambda axes: tuple(a - ndim if i % 2 else a for i, a in enumerate(axes))))
    axis = draw(st.one_of(*choices))
    return x, axis, draw(st.booleans())


# ---- reductions over axis / keepdims (axis and keepdims static) ------------------------------


def r_sum(x, axis, keepdims):
    return np.sum(x, axis=axis, keepdims=keepdims)


def r_prod(x, axis, keepdims):
    return np.prod(x, axis=axis, keepdims=keepdims)


def r_max(x, axis, keepdims):
    return np.max(x, axis=axis, keepdims=keepdims)


def r_amin(x, axis, keepdims):
    return np.amin(x, axis, keepdims=keepdims)


def r_any(x, axis, keepdims):
    return np.any(x, axis=axis, keepdims=keepdims)


def r_all(x, axis, keepdims):
    return np.all(x, axis=axis, keepdims=keepdims)


def r_mean(x, axis, keepdims):
    return np.mean(x, axis=axis, keepdims=keepdims)


def r_var(x, axis, keepdims):
    return np.var(x, axis=axis, keepdims=keepdims)


def r_std(x, axis, keepdims):
    return np.std(x, axis=axis, ddof=1, keepdims=keepdims)


def r_count_nonzero(x, axis, keepdims):
    return np.count_nonzero(x, axis=axis, keepdims=keepdims)


def r_average(x, axis, keepdims):
    return np.average(x, axis=axis, keepdims=keepdims)


def m_sum(x, axis, keepdims):
    return x.sum(axis=axis, keepdims=keepdims)


def m_prod(x, axis, keepdims):
    return x.prod(axis, keepdims=keepdims)


def m_min(x, axis, keepdims):
    return x.min(axis=axis, keepdims=keepdims)


def m_max(x, axis, keepdims):
    return x.max(axis=axis, keepdims=keepdims)


def m_any(x, axis, keepdims):
    return x.any(axis=axis, keepdims=keepdims)


def m_all(x, axis, keepdims):
    return x.all(axis=axis, keepdims=keepdims)


def m_mean(x, axis, keepdims):
    return x.mean(axis=axis, keepdims=keepdims)


def m_var(x, axis, keepdims):
    return x.var(axis=axis, ddof=1, keepdims=keepdims)


def m_std(x, axis, keepdims):
    return x.std(axis=axis, keepdims=keepdims)


REDUCTIONS = [r_sum, r_prod, r_max, r_amin, r_any, r_all, r_mean, r_var, r_std, r_count_nonzero, r_average,
              m_sum, m_prod, m_min, m_max, m_any, m_all, m_mean, m_var, m_std]


@pytest.mark.parametrize("f", REDUCTIONS, ids=lambda f: f.__name__)
@settings(max_examples=25, deadline=None)
@given(case=array_and_axis())
def test_reduction_matches_numpy(f, case):
    x, axis, keepdims = case
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ddof=1 over one element divides by zero, as in NumPy
        check(f, x, axis, keepdims, static_argnums=(1, 2))


def r_ptp(x, axis, keepdims):
    return np.ptp(x, axis=axis, keepdims=keepdims)


def r_nansum(x, axis, keepdims):
    return np.nansum(x, axis=axis, keepdims=keepdims)


def r_nanprod(x, axis, keepdims):
    return np.nanprod(x, axis=axis, keepdims=keepdims)


def r_nanmean(x, axis, keepdims):
    return np.nanmean(x, axis=axis, keepdims=keepdims)


def r_nanmax(x, axis, keepdims):
    return np.nanmax(x, axis=axis, keepdims=keepdims)


def r_nanmin(x, axis, keepdims):
    return np.nanmin(x, axis=axis, keepdims=keepdims)


def r_logsumexp(x, axis, keepdims):
    return logsumexp(x, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("f", [r_ptp, r_nansum, r_nanprod, r_nanmean, r_nanmax, r_nanmin, r_logsumexp],
                         ids=lambda f: f.__name__)
@settings(max_examples=20, deadline=None)
@given(case=array_and_axis(dtypes=("float64", "int64")), nans=st.booleans())
def test_nan_reductions_and_friends(f, case, nans):
    x, axis, keepdims = case
    if nans and x.dtype == np.float64:
        x = x.copy()
        x.flat[:: 3] = np.nan  # some slices are all NaN
    if f is r_logsumexp and x.size:
        x = x.astype(np.float64)
        x.flat[0] = -np.inf
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy warns about all-NaN slices
        check(f, x, axis, keepdims, static_argnums=(1, 2))


def a_argmax(x, axis, keepdims):
    return np.argmax(x, axis=axis, keepdims=keepdims)


def a_argmin(x, axis, keepdims):
    return np.argmin(x, axis, keepdims=keepdims)


def am_argmax(x, axis, keepdims):
    return x.argmax(axis=axis, keepdims=keepdims)


def am_argmin(x, axis, keepdims):
    return x.argmin(axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("f", [a_argmax, a_argmin, am_argmax, am_argmin], ids=lambda f: f.__name__)
@settings(max_examples=25, deadline=None)
@given(case=array_and_axis(tuples=False))
def test_arg_reductions(f, case):
    x, axis, keepdims = case
    check(f, x, axis, keepdims, static_argnums=(1, 2))


# ---- literal arguments in the source (they arrive as IR literals) ----------------------------


def literal_forms(x):
    return (np.sum(x, axis=-1), np.sum(x, 0), x.sum(axis=(0, -1), keepdims=True), x.mean(1), np.var(x, ddof=1),
            x.std(ddof=1), np.amax(x, axis=-2), np.min(x), x.argmin(axis=-1), np.any(x > 0, axis=(0, 1)),
            x.all(), np.prod(x, axis=0, keepdims=True), np.sum(x, axis=()), np.mean(x, axis=(-1, 0)))


def test_literal_arguments():
    check(literal_forms, sample((2, 3, 4), "float64"))
    check(literal_forms, sample((2, 3, 4), "int64"))


def axis_minus_one(x):
    return np.sum(x, axis=-1)


def test_axes_are_normalised_in_the_ir():
    text = str(mo.make_ir(axis_minus_one)(np.zeros((2, 3))))
    assert "reduce_sum[axis=(1,), keepdims=False]" in text


def dtypes_of(x):
    return (np.sum(x), np.prod(x), np.max(x), np.min(x), np.mean(x), np.var(x), np.std(x), np.argmax(x),
            np.any(x), np.all(x), np.cumsum(x), np.cumprod(x), np.count_nonzero(x), np.median(x), np.sort(x))


@pytest.mark.parametrize("dtype", ["float64", "int64", "bool"])
def test_result_dtypes_follow_numpy(dtype):
    x = sample((5,), dtype)
    got = check(dtypes_of, x)
    if dtype == "bool":
        # NumPy counts bools in int64 and keeps them for max/min.
        assert [np.asarray(g).dtype for g in got[:4]] == [np.int64, np.int64, np.bool_, np.bool_]
        assert np.asarray(got[10]).dtype == np.int64


def sum_as_float(x):
    return np.sum(x, dtype=np.float64), x.prod(dtype=float), np.cumsum(x, dtype=np.float64), x.mean(dtype=float)


def sum_as_int(x):
    return np.sum(x, dtype=np.int64), np.cumsum(x, dtype=int), x.prod(axis=0, dtype=int)


def test_dtype_argument():
    check(sum_as_float, sample((3, 2), "int64"))
    check(sum_as_float, sample((4,), "bool"))
    check(sum_as_int, np.array([1.5, 2.7, -1.5]))  # NumPy casts each element, truncating


def of_records(a, b):
    return np.sum([a, b, 1.0]), np.max((a, b)), np.mean([a, b]), np.argmin([b, a]), np.sort((b, a))


def of_appended_list(n):
    xs = []
    for i in range(n):
        xs.append(i * 1.5)
    return np.sum(xs), np.mean(xs), np.cumsum(xs), np.max(xs)


def chained(x):
    return np.sum(x, axis=1).max(), x.mean(axis=0).argmax(), np.abs(x).cumsum(axis=1).sum(axis=-1)


def test_records_lists_and_chains():
    check(of_records, 2.0, -1.0)
    check(of_appended_list, 4)
    check(chained, sample((3, 4), "float64"))


def of_scalar(s):
    return (np.sum(s), np.max(s), np.mean(s), np.argmax(s), np.cumsum(s), np.sum(s, axis=()), np.any(s),
            np.sort(s, axis=None))


def test_scalar_input():
    check(of_scalar, 2.5)
    check(of_scalar, 3)


def reductions_of_empty(x):
    return np.sum(x), np.prod(x), np.any(x), np.all(x), np.cumsum(x), np.sort(x), np.count_nonzero(x)


def max_of(x):
    return np.max(x)


def argmax_of(x):
    return np.argmax(x)


def test_empty_arrays():
    check(reductions_of_empty, np.zeros(0))
    with pytest.raises(ValueError, match="zero-size"):
        jitted(max_of)(np.zeros(0))
    with pytest.raises(ValueError, match="empty"):
        jitted(argmax_of)(np.zeros((0,)))


# ---- Python builtins on arrays ---------------------------------------------------------------


def py_builtins(x):
    return sum(x), max(x), min(x), any(x > 0), all(x > -10), sum(x, 1.5)


def py_sum_2d(x):
    return sum(x)


def test_python_builtins_on_arrays():
    check(py_builtins, np.array([0.5, -2.0, 3.0]))
    check(py_builtins, np.array([1, -2, 3]))
    check(py_sum_2d, sample((3, 4), "float64"))


# ---- scans -----------------------------------------------------------------------------------


def s_cumsum(x, axis):
    return np.cumsum(x, axis=axis)


def s_cumprod(x, axis):
    return np.cumprod(x, axis)


def sm_cumsum(x, axis):
    return x.cumsum(axis=axis)


def sm_cumprod(x, axis):
    return x.cumprod(axis=axis)


@pytest.mark.parametrize("f", [s_cumsum, s_cumprod, sm_cumsum, sm_cumprod], ids=lambda f: f.__name__)
@settings(max_examples=20, deadline=None)
@given(case=array_and_axis(tuples=False, min_dim=0))
def test_scans(f, case):
    x, axis, _ = case
    check(f, x, axis, static_argnums=(1,))


# ---- sorting ---------------------------------------------------------------------------------


def o_sort(x, axis):
    return np.sort(x, axis=axis)


def o_argsort(x, axis):
    return np.argsort(x, axis=axis, kind="stable")


def om_argsort(x, axis):
    return x.argsort(axis=axis)


@pytest.mark.parametrize("f", [o_sort, o_argsort, om_argsort], ids=lambda f: f.__name__)
@settings(max_examples=20, deadline=None)
@given(case=array_and_axis(tuples=False))
def test_sorting(f, case):
    x, axis, _ = case
    check(f, x, axis, static_argnums=(1,), native_same=same_order(x, axis) if f is om_argsort else None)


def sort_defaults(x):
    return np.sort(x), np.argsort(x, kind="mergesort"), np.argsort(x, stable=True), np.sort(x, None)


def argsort_default(x):
    return np.argsort(x)


def test_sort_defaults_and_ties():
    x = np.array([[3.0, 1.0, 3.0, np.nan, 1.0, -0.5] * 5, [0.0] * 30])  # ties and a NaN
    check(sort_defaults, x)
    check(argsort_default, x, native_same=same_order(x, -1))


def search(a, v):
    return (np.searchsorted(a, v), np.searchsorted(a, v, side="right"), np.searchsorted(a, v, "right"),
            a.searchsorted(v, side="left"))


def search_sorter(a, v):
    return np.searchsorted(a, v, sorter=np.argsort(a))


def search_literal(a):
    return np.searchsorted(a, 2.0), np.searchsorted(a, [0, 2, 9])


def test_searchsorted():
    a = np.array([0.0, 1.0, 2.0, 2.0, 5.0])
    check(search, a, 2.0)
    check(search, a, np.array([-1.0, 2.0, 2.5, 9.0]))
    check(search, a, np.array([[1.0, 2.0], [5.0, 0.0]]))
    check(search, np.array([1, 3, 3, 7]), 3)
    check(search_sorter, np.array([5.0, 0.0, 2.0, 1.0]), np.array([0.5, 2.0]))
    check(search_literal, a)


# ---- diff, median, average -------------------------------------------------------------------


def d_diff(x, n, axis):
    return np.diff(x, n=n, axis=axis)


@settings(max_examples=30, deadline=None)
@given(case=array_and_axis(tuples=False, allow_none=False), n=st.integers(0, 3))
def test_diff(case, n):
    x, axis, _ = case
    check(d_diff, x, n, axis, static_argnums=(1, 2))


def diff_default(x):
    return np.diff(x), np.diff(x, 2)


def test_diff_defaults():
    check(diff_default, np.array([1.0, 4.0, 9.0, 16.0]))
    check(diff_default, np.array([True, False, False, True]))


def med(x, axis, keepdims):
    return np.median(x, axis=axis, keepdims=keepdims)


@settings(max_examples=30, deadline=None)
@given(case=array_and_axis(dtypes=("float64", "int64"), tuples=False), nans=st.booleans())
def test_median(case, nans):
    x, axis, keepdims = case
    if nans and x.dtype == np.float64:
        x = x.copy()
        x.flat[-1] = np.nan
    check(med, x, axis, keepdims, static_argnums=(1, 2))


def median_of_empty(x):
    return np.median(x)


def test_median_odd_even_and_empty():
    check(med, np.array([3.0, 1.0, 2.0]), None, False, static_argnums=(1, 2))
    check(med, np.array([4, 1, 3, 2]), None, False, static_argnums=(1, 2))
    with pytest.raises(ValueError, match="empty"):
        jitted(median_of_empty)(np.zeros(0))


def avg_weights(x, w, axis, keepdims):
    return np.average(x, axis=axis, weights=w, keepdims=keepdims)


def avg_returned(x, w):
    return np.average(x, weights=w, returned=True), np.average(x, axis=1, weights=w[0], returned=True)


def avg_plain_returned(x):
    return np.average(x, returned=True), np.average(x, axis=0, returned=True)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_average_with_weights(axis, keepdims):
    x, w = sample((3, 4), "float64"), _rng.random((3, 4)) + 0.1
    check(avg_weights, x, w, axis, keepdims, static_argnums=(2, 3))
    if axis in (1, -1):
        check(avg_weights, x, w[0], axis, keepdims, static_argnums=(2, 3))
    if axis == 0:
        check(avg_weights, sample((3, 4), "int64"), w[:, 0], axis, keepdims, static_argnums=(2, 3))


def test_average_returned():
    check(avg_returned, sample((3, 4), "float64"), _rng.random((3, 4)) + 0.1)
    check(avg_plain_returned, sample((3, 4), "int64"))


def test_average_errors():
    x = sample((3, 4), "float64")
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        jitted(avg_weights, (2, 3))(x, np.zeros((3, 4)), None, False)
    with pytest.raises(TypeError, match="Axis must be specified"):
        jitted(avg_weights, (2, 3))(x, np.ones((3, 1)), None, False)
    with pytest.raises(ValueError, match="Length of weights"):
        jitted(avg_weights, (2, 3))(x, np.ones(3), 1, False)
    with pytest.raises(mo.MorphismError, match="axis must be specified"):
        jitted(avg_weights, (2, 3))(x, np.ones(4), None, False)


# ---- compile-time errors ---------------------------------------------------------------------


def runtime_axis(x, k):
    return np.sum(x, axis=k)


def axis_out_of_bounds(x):
    return np.sum(x, axis=2)


def axis_of_scalar(s):
    return np.sum(s, axis=0)


def duplicate_axis(x):
    return np.sum(x, axis=(0, -2))


def with_out(x):
    return np.sum(x, out=x)


def with_initial(x):
    return np.max(x, initial=0.0)


def argmax_tuple(x):
    return np.argmax(x, axis=(0, 1))


def sort_in_place(x):
    x.sort()
    return x


def search_2d(x):
    return np.searchsorted(x, 0.5)


def diff_scalar(s):
    return np.diff(s)


def diff_negative(x):
    return np.diff(x, n=-1)


def ptp_bool(x):
    return np.ptp(x > 0)


def mean_int_dtype(x):
    return np.mean(x, dtype=int)


def sort_order(x):
    return np.sort(x, order="a")


def sort_bad_kind(x):
    return np.argsort(x, kind="bogo")


def cumsum_tuple_axis(x):
    return np.cumsum(x, axis=(0,))


def float_axis(x):
    return np.sum(x, axis=1.0)


def search_bad_side(x):
    return np.searchsorted(x, 0.5, side="middle")


def too_many_args(x):
    return np.sum(x, 0, None, None, False, 1)


ERRORS = [
    (runtime_axis, (np.zeros((2, 2)), 1), "compile-time constant"),
    (axis_out_of_bounds, (np.zeros((2, 2)),), "axis 2 is out of bounds"),
    (axis_of_scalar, (1.0,), "axis 0 is out of bounds"),
    (duplicate_axis, (np.zeros((2, 2)),), "duplicate"),
    (with_out, (np.zeros(2),), "out"),
    (with_initial, (np.zeros(2),), "initial"),
    (argmax_tuple, (np.zeros((2, 2)),), "one integer"),
    (sort_in_place, (np.zeros(2),), "np.sort"),
    (search_2d, (np.zeros((2, 2)),), "1-d"),
    (diff_scalar, (1.0,), "at least one dimensional"),
    (diff_negative, (np.zeros(3),), "non-negative"),
    (ptp_bool, (np.zeros(3),), "boolean"),
    (mean_int_dtype, (np.zeros(3),), "dtype"),
    (sort_order, (np.zeros(3),), "order"),
    (sort_bad_kind, (np.zeros(3),), "kind"),
    (cumsum_tuple_axis, (np.zeros((2, 2)),), "one integer"),
    (float_axis, (np.zeros((2, 2)),), "axis must be an integer"),
    (search_bad_side, (np.zeros(3),), "side"),
    (too_many_args, (np.zeros(3),), "positional"),
]


@pytest.mark.parametrize("f, args, message", ERRORS, ids=[e[0].__name__ for e in ERRORS])
def test_errors(f, args, message):
    with pytest.raises(mo.MorphismError, match=message):
        mo.jit(f, backend="interpreter")(*args)


# ---- the type rules are the verifier: params must be normalised -----------------------------


@pytest.mark.parametrize("prim, params", [
    (R.reduce_sum, {"axis": (1, 0), "keepdims": False}),
    (R.reduce_max, {"axis": (-1,), "keepdims": False}),
    (R.reduce_all, {"axis": (2,), "keepdims": True}),
    (R.argmax, {"axis": -1, "keepdims": False}),
    (R.cumsum, {"axis": 2}),
    (R.sort, {"axis": -1}),
])
def test_type_rules_reject_unnormalised_axes(prim, params):
    with building(Builder()):
        with pytest.raises(MorphismTypeError, match="axis|axes"):
            prim(Var(Array(DType.float64, 2)), **params)


def test_type_rules():
    with building(Builder()):
        x = Var(Array(DType.bool, 3))
        assert R.reduce_sum(x, axis=(0, 2), keepdims=False).type == Array(DType.int64, 1)
        assert R.reduce_max(x, axis=None, keepdims=True).type == Array(DType.bool, 3)
        assert R.reduce_any(x, axis=None, keepdims=False).type == Scalar(DType.bool)
        assert R.argmin(x, axis=1, keepdims=False).type == Array(DType.int64, 2)
        assert R.cumprod(x, axis=1).type == Array(DType.int64, 3)
        assert R.argsort(x, axis=0, kind=None).type == Array(DType.int64, 3)
        assert R.searchsorted(Var(Array(DType.float64, 1)), x, side="right").type == Array(DType.int64, 3)
        with pytest.raises(MorphismTypeError, match="side"):
            R.searchsorted(Var(Array(DType.float64, 1)), x, side="up")
        with pytest.raises(MorphismTypeError, match="scalar"):
            R.sort(Var(Scalar(DType.float64)), axis=0)
