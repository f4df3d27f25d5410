"""The creation family: zeros/ones/empty/full, the *_like functions, arange, linspace, logspace,
eye and identity. Each function is compiled and run on the interpreter and compared with the
same function run by NumPy (values, dtypes, shapes); shapes and bounds are often run-time
arguments."""

import numpy as np
import pytest

import morphism as mo
from helpers import check_on_backends

rng = np.random.default_rng(1)


def same(got, want):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    assert g.shape == w.shape, (g.shape, w.shape)
    np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-300)


def check(f, *args):
    check_on_backends(f, args, same)


def fails(f, *args, match: str, cls=mo.MorphismError):
    with pytest.raises(cls, match=match):
        mo.jit(f, backend="interpreter")(*args)


# ---- zeros, ones, empty, full --------------------------------------------------------------


def zeros_shapes(n, m):
    return np.zeros(n), np.zeros((n, 2)), np.zeros((n, m, 3)), np.zeros([m]), np.zeros(()), np.zeros(4)


def zeros_dtypes(n):
    return np.zeros(n, dtype=np.int64), np.zeros(n, int), np.zeros((n,), dtype=bool), \
        np.zeros(n, dtype="float64"), np.zeros(n, dtype=None)


def ones_all(n):
    return np.ones(n), np.ones((2, n)), np.ones(n, dtype=np.int64), np.ones((n, 1), bool), np.ones(3)


def empty_shapes(n, x):
    # np.empty's contents are unspecified; morphism gives zeros, so compare shape and dtype only.
    return np.empty(n).shape, np.empty((n, 2), dtype=np.int64).shape, np.empty_like(x).shape, \
        np.zeros(n, dtype=x.dtype), np.zeros(n, x.dtype)


def fulls(n, v):
    return np.full(n, 2), np.full((n, 2), 2.5), np.full(n, True), np.full((n,), v), np.full(n, v, dtype=np.int64), \
        np.full((2, n), 7, dtype=float), np.full(n, 2.7, dtype=int)


def full_array_fill(n, row):
    return np.full((n, 3), row), np.full((n, 3), row, dtype=np.int64)


def shape_from_array(x):
    return np.zeros(x.shape), np.ones((x.shape[0], 2 * x.shape[1])), np.full(x.shape, 1.5)


def shape_from_len(x):
    return np.zeros(len(x)), np.zeros_like(x), np.ones(x.size)


SHAPE = np.array([2, 3])


def shape_from_global():
    return np.zeros(SHAPE), np.ones(SHAPE, dtype=np.int64)


@pytest.mark.parametrize("f,args", [
    (zeros_shapes, (3, 4)), (zeros_shapes, (0, 2)), (zeros_dtypes, (3,)), (ones_all, (4,)), (empty_shapes, (3, np.arange(3))), (empty_shapes, (3, np.ones(2, bool))),
    (fulls, (3, 1.5)), (fulls, (2, -4)), (full_array_fill, (2, np.arange(3.0))),
    (full_array_fill, (2, np.array([1.5, -2.5, 3.0]))), (shape_from_array, (np.ones((2, 3)),)),
    (shape_from_len, (np.arange(5),)), (shape_from_global, ()),
], ids=lambda v: getattr(v, "__name__", ""))
def test_filled(f, args):
    check(f, *args)


def test_run_time_shape_is_an_operand():
    ir = str(mo.make_ir(zeros_shapes)(3, 4))
    assert "zeros[dtype=f64] n 2" in ir
    j = mo.jit(zeros_shapes, backend="interpreter")
    j(1, 2)
    j(5, 6)
    assert len(j.cache) == 1


def zeros_float(x):
    return np.zeros(x)


def zeros_float_entry(x):
    return np.zeros((2, x))


def zeros_array_shape(s):
    return np.zeros(s)


def zeros_negative(n):
    return np.zeros(n)


def zeros_order_f(n):
    return np.zeros((n, n), order="F")


def zeros_bad_dtype(n):
    return np.zeros(n, dtype=np.float16)


def zeros_bad_keyword(n):
    return np.zeros(n, fill=1)


def test_filled_errors():
    fails(zeros_float, 2.0, match="np.zeros: the shape must be an integer, found a value of type f64")
    fails(zeros_float_entry, 2.0, match="shape entry must be an integer, found a value of type f64")
    fails(zeros_array_shape, np.array([2, 3]), match="number of dimensions must be known at compile time")
    fails(zeros_order_f, 2, match="order='F' is not supported")
    fails(zeros_bad_dtype, 2, match="float16")
    fails(zeros_bad_keyword, 2, match="does not support the keyword argument 'fill'")
    with pytest.raises(ValueError, match="negative dimensions"):
        mo.jit(zeros_negative, backend="interpreter")(-1)


# ---- *_like --------------------------------------------------------------------------------


def likes(x):
    return np.zeros_like(x), np.ones_like(x), np.full_like(x, 7), np.full_like(x, 2.5), \
        np.zeros_like(x, dtype=float), np.ones_like(x, bool), np.full_like(x, 3, dtype=np.float64), \
        np.empty_like(x).shape, np.zeros_like(x, shape=(2, 3))


def like_scalar(s):
    return np.zeros_like(s), np.ones_like(s), np.full_like(s, 4)


def like_records(a, b):
    return np.zeros_like([a, b]), np.ones_like((a, b, 1.0))


@pytest.mark.parametrize("x", [np.arange(6.0).reshape(2, 3), np.arange(4), np.array([True, False])],
                         ids=["f64", "i64", "bool"])
def test_likes(x):
    check(likes, x)


def test_likes_of_scalars_and_records():
    check(like_scalar, 2.5)
    check(like_scalar, 3)
    check(like_records, 1.0, 2.0)


# ---- arange --------------------------------------------------------------------------------


def aranges_int(n, a, s):
    return np.arange(n), np.arange(a, n), np.arange(a, n, s), np.arange(5), np.arange(n, a, -1), \
        np.arange(a, n, step=2), np.arange(n, dtype=float), np.arange(0, n, dtype=np.float64)


def aranges_float(x, n):
    return np.arange(x), np.arange(0.0, n), np.arange(0, n, 0.25), np.arange(x, 2 * x, 0.1), \
        np.arange(1.5, 4), np.arange(0.5, 3, dtype=int)


def arange_empty(n):
    return np.arange(n, 0)


def arange_zero_step(n):
    return np.arange(0, n, 0)


def arange_array(x):
    return np.arange(x)


def test_arange():
    check(aranges_int, 7, 2, 3)
    check(aranges_int, 0, 0, 1)
    check(aranges_float, 2.5, 3)
    check(arange_empty, 3)
    fails(arange_zero_step, 3, match="step must not be zero")
    fails(arange_array, np.arange(3), match="must be a scalar")


# ---- linspace, logspace --------------------------------------------------------------------


def linspaces(a, b, n):
    return np.linspace(a, b), np.linspace(a, b, n), np.linspace(a, b, n, endpoint=False), np.linspace(0, 1, 5), \
        np.linspace(a, b, num=n, dtype=int), np.linspace(b, a, 7, False)


def linspace_retstep(a, b, n):
    return np.linspace(a, b, n, retstep=True), np.linspace(a, b, n, endpoint=False, retstep=True)


def logspaces(a, b, n):
    return np.logspace(a, b, n), np.logspace(a, b, n, endpoint=False), np.logspace(0, 2, 3, base=2.0), \
        np.logspace(a, b, 4, dtype=float)


def linspace_float_num(a):
    return np.linspace(0, 1, a)


def linspace_axis(a):
    return np.linspace(0, a, 5, axis=1)


def linspace_array(a):
    return np.linspace(a, 2 * a, 3)


@pytest.mark.parametrize("a,b,n", [(0.0, 1.0, 5), (-2.0, 3.5, 1), (1, 10, 0), (3.0, -1.0, 11)])
def test_linspace_logspace(a, b, n):
    check(linspaces, a, b, n)
    check(linspace_retstep, a, b, n)
    check(logspaces, a, b, n)


def test_linspace_errors():
    fails(linspace_float_num, 3.0, match="num must be an integer, found a value of type f64")
    fails(linspace_axis, 1.0, match="axis=...\\) is not supported")
    fails(linspace_array, np.ones(2), match="start must be a scalar")


# ---- eye, identity -------------------------------------------------------------------------


def eyes(n, m, k):
    return np.eye(n), np.eye(n, m), np.eye(n, m, k), np.eye(n, k=k), np.eye(3, dtype=int), np.eye(n, M=m, k=-1), \
        np.eye(n, dtype=bool), np.identity(n), np.identity(n, dtype=np.int64), np.identity(4)


def eye_float(x):
    return np.eye(x)


@pytest.mark.parametrize("n,m,k", [(3, 4, 1), (4, 2, -1), (0, 3, 0), (2, 2, 5)])
def test_eye(n, m, k):
    check(eyes, n, m, k)


def test_eye_errors():
    fails(eye_float, 2.0, match="np.eye: N must be an integer, found a value of type f64")
