"""Every common dtype (issue 12): float32, (u)int8-64, complex64/128 as arguments, literals,
`dtype=` and `astype`, with NumPy 2's promotion (NEP 50: Python numbers are weak), on both
backends. Results must have NumPy's dtype, not only its values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import morphism as mo
from morphism.api import MorphismPerformanceWarning

BACKENDS = ["interpreter", "native"]


def check(fn, *args, rtol=1e-6):
    want = fn(*args)
    for backend in BACKENDS:
        with warnings.catch_warnings():
            warnings.simplefilter("error", MorphismPerformanceWarning)
            got = mo.jit(fn, backend=backend)(*args)
        if not isinstance(want, tuple):
            got, want_t = (got,), (want,)
        else:
            want_t = want
        assert len(got) == len(want_t)
        for i, (g, w) in enumerate(zip(got, want_t)):
            gd, wd = np.asarray(g).dtype, np.asarray(w).dtype
            assert gd == wd, f"[{backend}] result {i}: dtype {gd}, NumPy gives {wd}"
            np.testing.assert_allclose(g, w, rtol=rtol, err_msg=f"[{backend}] result {i}")


def float32_math(a, b, s):
    c = a * 2.0 + 1  # Python numbers take float32 (NEP 50)
    d = np.sqrt(c) + b[0]
    n_big = (a > 0.5).sum()
    return c, d, n_big, c.sum(), s * a, np.abs(c), a.mean(), a / 3


def test_float32_arithmetic_stays_float32():
    a = np.linspace(0, 1, 5).astype(np.float32)
    check(float32_math, a, np.ones(2, np.float32), 3.0)
    check(float32_math, a, np.ones(2, np.float32), np.float32(3.0))
    check(float32_math, a, np.ones(2, np.float32), np.float64(3.0))  # a NumPy float64 is strong


def complex_math(z, w):
    u = z * w + 1j
    return u, np.abs(u), np.conj(u), u.real, u.imag, np.angle(u), np.exp(u), np.log(u), z.sum(), u.conj()


def test_complex_arithmetic():
    check(complex_math, np.array([1 + 2j, 3 - 1j]), np.array([0.5j, 2 + 0j], np.complex64))
    check(complex_math, np.array([1 + 2j, 3 - 1j], np.complex64), np.array([0.5j, 2 + 0j], np.complex64))


def integer_math(k, m):
    return k + 1, k * m, k // 2, (k + m).sum(), k.astype(np.float32), np.zeros(3, dtype=np.int32) + k[0], k % 3, -k


@pytest.mark.parametrize("dk,dm", [(np.int32, np.uint8), (np.int8, np.int16), (np.uint16, np.uint32),
                                   (np.uint64, np.uint8), (np.int64, np.int32)])
def test_integer_dtypes(dk, dm):
    check(integer_math, np.arange(4, dtype=dk), np.arange(4, dtype=dm))


def loops(x32, n):
    s = 0.0  # a Python float, float32 once it meets an element of x32
    for v in x32:
        s += v
    acc = np.zeros(3, dtype=np.float32)
    for i in range(n):
        acc[i % 3] += 0.5 * i
    t = x32.astype(np.float64).sum() + np.float32(1.5)
    return s, acc, t, x32.mean(), np.int8(3) * 2, x32 * np.float64(2.0), np.arange(n, dtype=np.int32) * 2


def test_loops_and_dtype_parameters():
    check(loops, np.linspace(0, 1, 5).astype(np.float32), 5)


def write_into_small_ints(img, k):
    img[0, :] = 7
    img[1, 1] += k
    return img.sum(), img.max()


def test_writes_into_uint8_argument():
    img = np.arange(9, dtype=np.uint8).reshape(3, 3)
    for backend in BACKENDS:
        mine, ref = img.copy(), img.copy()
        got = mo.jit(write_into_small_ints, backend=backend)(mine, 3)
        want = write_into_small_ints(ref, 3)
        np.testing.assert_array_equal(mine, ref)
        assert mine.dtype == np.uint8 and got == want


def overflowing_literal(x):
    return x + 300


def test_python_int_out_of_range_is_an_error_as_in_numpy():
    with pytest.raises(mo.MorphismTypeError, match="out of bounds for uint8"):
        mo.jit(overflowing_literal, backend="interpreter")(np.zeros(2, np.uint8))


def sine_sum(x):
    return np.sum(np.sin(x) * 2.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_grad_in_float32(backend):
    x = np.linspace(0, 1, 4).astype(np.float32)
    g = mo.jit(mo.grad(sine_sum), backend=backend)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * np.cos(x), rtol=1e-6)


def through_complex(x):
    return np.abs(np.exp(1j * x))


def test_derivatives_through_complex_values_are_refused():
    with pytest.raises(mo.MorphismError, match="through complex values is not supported"):
        mo.grad(through_complex)(1.0)


def test_complex_argument_is_not_differentiable():
    with pytest.raises(mo.MorphismError):
        mo.grad(lambda z: np.abs(z))(1 + 1j)


def small_int_math(x):
    return np.sqrt(x)


def test_float16_results_are_refused():
    # NumPy computes np.sqrt of int8 in float16, which morphism does not have: an error, not float64
    with pytest.raises(mo.MorphismError, match="float16"):
        mo.jit(small_int_math, backend="interpreter")(np.arange(3, dtype=np.int8))


def linalg_parts(a, b):
    return np.linalg.inv(a), np.linalg.solve(a, b), np.linalg.det(a), a @ b, np.linalg.slogdet(a)[1]


@pytest.mark.parametrize("dtype", [np.float32, np.complex128, np.complex64])
def test_linear_algebra_in_other_dtypes(dtype):
    rng = np.random.default_rng(1)
    a = (rng.random((4, 4)) + 4 * np.eye(4)).astype(dtype)
    b = rng.random((4, 2)).astype(dtype)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.random((4, 4)).astype(dtype)
    check(linalg_parts, a, b, rtol=1e-4)


def contour_like(ham, pts):
    # NPBench's contour_integral: complex powers, inverses and accumulation
    acc = np.zeros(ham.shape, dtype=np.complex128)
    for z in pts:
        x = np.linalg.inv(ham * np.power(z, 1.5))
        if abs(z) < 1.0:
            x = -x
        acc += z * x
    return acc


def test_complex_loop_with_inverse():
    rng = np.random.default_rng(2)
    check(contour_like, rng.random((3, 3)) + 3 * np.eye(3) + 1j * rng.random((3, 3)),
          rng.random(4) + 1j * rng.random(4), rtol=1e-10)


# ---- a sweep of common NumPy calls: the result's dtype must be NumPy's, for float32, int32
# and complex64 inputs (the interpreter runs them all; the native backend runs the same IR)

SWEEP = {
    "sum": lambda x, y: np.sum(x, axis=0), "mean": lambda x, y: x.mean(), "var": lambda x, y: np.var(x, axis=1),
    "std": lambda x, y: x.std(), "average": lambda x, y: np.average(x, axis=0), "cumsum": lambda x, y: np.cumsum(x),
    "prod": lambda x, y: np.prod(x, axis=1), "max": lambda x, y: x.max(axis=0), "argmax": lambda x, y: np.argmax(x),
    "exp": lambda x, y: np.exp(x), "tanh": lambda x, y: np.tanh(x), "dot": lambda x, y: np.dot(x, y.T),
    "einsum": lambda x, y: np.einsum("ij,kj->ik", x, y), "where": lambda x, y: np.where(x > 0.5, x, 0.0),
    "clip": lambda x, y: np.clip(x, 0.2, 0.8), "pow2": lambda x, y: x ** 2, "powh": lambda x, y: x ** 0.5,
    "sqrt": lambda x, y: np.sqrt(x), "maximum": lambda x, y: np.maximum(x, y), "concat": lambda x, y: np.concatenate([x, y]),
    "stack": lambda x, y: np.stack([x, y]), "outer": lambda x, y: np.outer(x[0], y[0]), "cov": lambda x, y: np.cov(x),
    "diff": lambda x, y: np.diff(x, axis=1), "norm": lambda x, y: np.linalg.norm(x),
    "norm1": lambda x, y: np.linalg.norm(x, axis=1), "trace": lambda x, y: np.trace(x @ y.T), "tril": lambda x, y: np.tril(x),
    "hypot": lambda x, y: np.hypot(x, y), "arctan2": lambda x, y: np.arctan2(x, y), "round": lambda x, y: np.round(x, 2),
    "floor": lambda x, y: np.floor(x), "sign": lambda x, y: np.sign(x - 0.5),
    "linspace": lambda x, y: np.linspace(0, 1, 5, dtype=x.dtype), "zeros_like": lambda x, y: np.zeros_like(x) + x,
    "ones": lambda x, y: np.ones(3, x.dtype) * x[0, 0], "median": lambda x, y: np.median(x), "sort": lambda x, y: np.sort(x),
    "softmax": lambda x, y: np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True), "matvec": lambda x, y: x @ y[0],
    "abs": lambda x, y: np.abs(x - 1), "neg": lambda x, y: -x, "divint": lambda x, y: x / 3,
    "floordiv": lambda x, y: x // 0.3, "mod": lambda x, y: x % 0.3, "any": lambda x, y: np.any(x > 0.5),
    "scalar_mix": lambda x, y: x[0, 0] * 2.0 + 1, "astype": lambda x, y: x.astype(np.float64) + x,
    "transpose": lambda x, y: x.T @ y, "reshape": lambda x, y: x.reshape(-1) * 2, "ptp": lambda x, y: np.ptp(x),
}


# NumPy orders complex numbers lexicographically; morphism refuses to order them (a clear error)
ORDERING = {"max", "argmax", "where", "clip", "maximum", "median", "sort", "any", "floordiv", "mod", "ptp"}


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.complex64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", list(SWEEP))
def test_numpy_calls_keep_numpy_dtypes(name, dtype):
    rng = np.random.default_rng(0)
    x, y = rng.random((3, 4)).astype(dtype), rng.random((3, 4)).astype(dtype)
    f = SWEEP[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        try:
            want = f(x, y)
        except Exception:
            pytest.skip("NumPy itself refuses these operands")
        if dtype is np.complex64 and name in ORDERING:
            with pytest.raises(mo.MorphismError, match="complex numbers are not ordered here"):
                mo.jit(f, backend="interpreter")(x, y)
            return
        got = mo.jit(f, backend="interpreter")(x, y)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(np.asarray(got, dtype=complex), np.asarray(want, dtype=complex), rtol=1e-4, atol=1e-5)
