"""Library coverage of issue 12: NumPy API met in NPBench kernels (np.ndarray as an allocator,
histogram, cov, grids, ufunc.outer, ufuncs with out=), the SciPy functions that statistical
models call, clear errors for unsupported calls, mo.pure_callback, and random draws. Each is
compared with plain Python on both backends (the native one without falling back to the
interpreter), and the differentiable ones with central finite differences."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import scipy.signal as sg
import scipy.special as sp
import scipy.stats as st

import morphism as mo
from helpers import assert_same

BACKENDS = ["interpreter", "native"]
RS = np.random.RandomState(0)
X3x6 = RS.rand(3, 6)
A50 = RS.rand(50)
XS = np.linspace(-30.0, 8.0, 9)
PS = np.linspace(0.05, 0.95, 5)
YS = np.array([0.0, 1.0, 2.0, 0.5, 3.0])
L2 = np.array([[2.0, 0.0], [0.5, 1.0]])
COV = L2 @ L2.T
PTS = RS.randn(4, 2)
MU = np.array([0.1, -0.2])


def run_both(fn, *args, rtol=1e-10, atol=1e-12):
    """`fn` as plain Python and under mo.jit on both backends, each on its own copy of the
    arguments: results and arguments afterwards agree; the native backend does not fall back."""
    expected_args = copy.deepcopy(args)
    expected = fn(*expected_args)
    for backend in BACKENDS:
        got_args = copy.deepcopy(args)
        with warnings.catch_warnings():
            warnings.simplefilter("error", mo.api.MorphismPerformanceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # log(0) where SciPy gives -inf too
            got = mo.jit(fn, backend=backend)(*got_args)
        assert_same(got, expected, rtol=rtol, atol=atol, path=f"[{backend}] result")
        assert_same(got_args, expected_args, path=f"[{backend}] arguments")


def central_diff(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def check_grad(f, x, backend, rtol=1e-5, atol=1e-7):
    with warnings.catch_warnings():
        warnings.simplefilter("error", mo.api.MorphismPerformanceWarning)
        got = mo.jit(mo.grad(f), backend=backend)(x)
    np.testing.assert_allclose(got, central_diff(f, x), rtol=rtol, atol=atol)


# ---- NumPy API met in NPBench kernels --------------------------------------------------------------


def ndarray_alloc(n):
    a = np.ndarray((n, 2), dtype=np.float64)
    for i in range(n):
        a[i, 0] = i
        a[i, 1] = 2.0 * i
    return a


def ufunc_outer(a, b):
    return (np.add.outer(a, b), np.subtract.outer(a, b), np.multiply.outer(a, b), np.divide.outer(a, b + 1.0),
            np.maximum.outer(a, b), np.minimum.outer(b, a), np.power.outer(a, 2.0))


def covariances(x):
    return (np.cov(x), np.cov(x, rowvar=False), np.cov(x, bias=True), np.cov(x, ddof=0), np.cov(x[0], x[1]),
            np.cov(x[0]), np.cov(x.T, rowvar=False, ddof=2))


def histograms(a, edges):
    c1, e1 = np.histogram(a, bins=5, range=(0.0, 1.0))
    c2, e2 = np.histogram(a, 7)
    c3, e3 = np.histogram(a, bins=edges)
    c4, e4 = np.histogram(a, bins=4, range=(0.0, 1.0), density=True)
    c5, e5 = np.histogram(a)
    return c1, e1, c2, e2, c3, e3, c4, e4, c5, e5


def ufunc_out(a, b, c):
    np.add(c, b, c)  # positional out
    np.multiply(a, 2.0, out=b)
    np.exp(a, out=a)
    v = c[1:]
    np.subtract(v, 1.0, out=v)  # into a view: the base sees it
    return c.sum()


def out_alias(x):
    y = x
    np.negative(x, out=(x,))
    return y


def grids_via_getitem(n):
    # np.mgrid[0:n, 1:4] is np.mgrid.__getitem__((slice(0, n), slice(1, 4)))
    return (np.mgrid.__getitem__((slice(0, n), slice(1, 4))),
            np.ogrid.__getitem__((slice(0, 3), slice(0.0, 1.0, 0.25))), np.mgrid.__getitem__(slice(0, 5, 2)))


def grids_syntax(n):
    return np.mgrid[0:n, 1:4], np.ogrid[0:3, 0.0:1.0:0.25], np.mgrid[0:5:2]


@pytest.mark.parametrize("fn, args", [
    (ndarray_alloc, (4,)),
    (ufunc_outer, (A50[:3], A50[3:7])),
    (covariances, (X3x6,)),
    (histograms, (A50, np.array([0.0, 0.2, 0.5, 1.0]))),
    (histograms, (np.full(5, 0.5), np.array([0.0, 0.5, 1.0]))),
    (ufunc_out, (np.ones(3), np.arange(3.0), np.zeros(3))),
    (out_alias, (np.arange(3.0),)),
    (grids_via_getitem, (3,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_numpy_api(fn, args):
    run_both(fn, *args)


def test_grid_subscript_syntax():
    run_both(grids_syntax, 3)


def cov_loss(x):
    return np.sum(np.cov(x) ** 2)


def outer_loss(x):
    return np.sum(np.multiply.outer(x, x) * np.subtract.outer(x, 2.0 * x))


def out_loss(x):
    y = np.zeros(3)
    np.multiply(x, x, out=y)
    np.sin(y, out=y)
    return y.sum()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("f, x", [(cov_loss, X3x6), (outer_loss, A50[:4]), (out_loss, A50[:3])],
                         ids=["cov", "outer", "out"])
def test_numpy_api_gradients(f, x, backend):
    check_grad(f, x, backend)


# ---- SciPy ------------------------------------------------------------------------------------------


SCIPY_CASES = {
    "ndtr": (lambda x: sp.ndtr(x), (XS,)),
    "log_ndtr": (lambda x: sp.log_ndtr(x), (XS,)),
    "ndtri": (lambda p: sp.ndtri(p), (PS,)),
    "expit": (lambda x: sp.expit(x) + sp.expit(2.0), (XS,)),
    "logit": (lambda p: sp.logit(p), (PS,)),
    "erf": (lambda x: sp.erf(x) + sp.erfc(x) * sp.erf(0.3), (XS / 10,)),
    "gammaln": (lambda x: sp.gammaln(x), (YS + 0.5,)),
    "xlogy": (lambda a, b: sp.xlogy(a, b) + sp.xlog1py(a, b), (YS - 1.0, YS)),
    "logsumexp": (lambda x: sp.logsumexp(x), (XS,)),
    "logsumexp_axis": (lambda x: sp.logsumexp(x, axis=0, keepdims=True), (PTS,)),
    "logsumexp_b": (lambda x, b: sp.logsumexp(x, b=b) + sp.logsumexp(PTS, axis=1, b=MU), (YS, YS)),
    "softmax": (lambda x: sp.softmax(x, axis=1) + sp.log_softmax(x, axis=1) + sp.softmax(x[0]), (PTS,)),
    "norm": (lambda x: st.norm.logpdf(x, 1.0, 2.0) + st.norm.pdf(x) + st.norm.cdf(x, loc=0.5)
             + st.norm.logcdf(x, scale=3.0) + st.norm.sf(x) + st.norm.logsf(x, 0.1), (XS / 4,)),
    "norm_ppf": (lambda q: st.norm.ppf(q, 1.0, 2.0), (PS,)),
    "t": (lambda x: st.t.logpdf(x, 3.0, loc=0.5, scale=2.0) + st.t.pdf(x, 5.0), (XS,)),
    "expon": (lambda x: st.expon.logpdf(x, scale=2.0) + st.expon.pdf(x - 1.0), (YS,)),
    "gamma": (lambda x: st.gamma.logpdf(x, 2.5, scale=1.5), (YS,)),
    "beta": (lambda x: st.beta.logpdf(x, 2.0, 3.0) + sp.betaln(2.0, x), (PS,)),
    "mvn": (lambda x, m, c: st.multivariate_normal.logpdf(x, m, c), (PTS, MU, COV)),
    "mvn_one": (lambda x, m, c: st.multivariate_normal.logpdf(x[0], mean=m, cov=c)
                + st.multivariate_normal.pdf(x[1], m, c), (PTS, MU, COV)),
    "convolve_1d": (lambda a, b: (sg.convolve(a, b), sg.convolve(a, b, mode="same"), sg.convolve(a, b, "valid"),
                                  sg.convolve(b, a, mode="same"), sg.convolve(b, a, mode="valid")), (YS, PS[:3])),
    "convolve_2d": (lambda a, b: (sg.convolve(a, b), sg.convolve(a, b, mode="same"), sg.convolve(a, b, "valid"),
                                  sg.convolve(b, a, mode="same")), (PTS, L2)),
}


@pytest.mark.parametrize("name", sorted(SCIPY_CASES))
def test_scipy(name):
    f, args = SCIPY_CASES[name]
    run_both(f, *args)


SCIPY_GRADS = {
    "ndtr": (lambda x: np.sum(sp.ndtr(x)), XS / 5),
    "log_ndtr": (lambda x: np.sum(sp.log_ndtr(x)), np.array([-25.0, -3.0, 0.5, 7.0])),
    "ndtri": (lambda p: np.sum(sp.ndtri(p)), PS),
    "expit_logit": (lambda x: np.sum(sp.expit(x) * sp.logit(sp.expit(x / 2))), XS / 5),
    "xlogy": (lambda y: np.sum(sp.xlogy(2.0, y) + sp.xlog1py(YS, y)), YS + 0.5),
    "logsumexp_b": (lambda x: sp.logsumexp(x, b=YS + 1.0), YS / 2),
    "softmax": (lambda x: np.sum(sp.softmax(x, axis=1) * PTS) + np.sum(sp.log_softmax(x, axis=0)), PTS),
    "norm": (lambda x: np.sum(st.norm.logpdf(x, 0.5, 2.0) + st.norm.logcdf(x) + st.norm.cdf(x)), XS / 5),
    "t": (lambda x: np.sum(st.t.logpdf(x, 4.0, scale=2.0)), XS / 5),
    "gamma_beta": (lambda x: np.sum(st.gamma.logpdf(x + 1.0, 2.5) + st.beta.logpdf(x / 4.0, 2.0, 3.0)), YS[1:]),
    "mvn_mean": (lambda m: np.sum(st.multivariate_normal.logpdf(PTS, m, COV)), MU),
    "mvn_cov": (lambda c: np.sum(st.multivariate_normal.logpdf(PTS, MU, c @ c.T)), L2 + 0.1),
    "convolve": (lambda a: np.sum(sg.convolve(a, PS[:3], mode="same") ** 2) + np.sum(sg.convolve(PTS, a[:2, None] * L2) ** 2),
                 YS),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SCIPY_GRADS))
def test_scipy_gradients(name, backend):
    f, x = SCIPY_GRADS[name]
    check_grad(f, x, backend)


def test_scipy_jacfwd_matches_jacrev():
    f = lambda x: st.norm.logcdf(x, 0.5, 2.0) * sp.expit(x)  # noqa: E731
    x = XS / 5
    np.testing.assert_allclose(mo.jacfwd(f)(x), mo.jacrev(f)(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.diag(mo.jacfwd(f)(x)), central_diff(lambda v: np.sum(f(v)), x), rtol=1e-5)


# ---- errors and library functions passed as the function to transform -----------------------------


def calls_erfcx(x):
    return sp.erfcx(x)


def calls_cauchy(x):
    return st.cauchy.logpdf(x)


def calls_fft(x):
    return np.fft.fft(x)


@pytest.mark.parametrize("fn, name", [(calls_erfcx, "scipy.special.erfcx"), (calls_cauchy, "scipy.stats.cauchy.logpdf"),
                                      (calls_fft, "numpy.fft.fft")])
def test_unsupported_call_names_the_function(fn, name):
    with pytest.raises(mo.UnsupportedSyntaxError) as info:
        mo.jit(fn, backend="interpreter")(np.ones(3))
    msg = str(info.value)
    assert f"morphism does not support {name}" in msg
    assert "test_library_api.py" in msg and "mo.pure_callback" in msg
    assert "<" not in msg.splitlines()[0]  # no printout of an internal object


@pytest.mark.parametrize("backend", BACKENDS)
def test_library_function_as_the_function(backend):
    x = np.array([0.5, 2.0])
    np.testing.assert_allclose(mo.jit(np.sin, backend=backend)(x), np.sin(x))
    np.testing.assert_allclose(mo.jit(np.add, backend=backend)(x, 1.0), x + 1.0)
    np.testing.assert_allclose(mo.jit(mo.grad(np.sqrt), backend=backend)(2.0), 0.5 / np.sqrt(2.0))
    np.testing.assert_allclose(mo.grad(sp.expit)(0.3), sp.expit(0.3) * (1 - sp.expit(0.3)))
    np.testing.assert_allclose(mo.vmap(np.cos)(x), np.cos(x))


def test_unknown_library_function_as_the_function():
    with pytest.raises(mo.ArgumentError, match="scipy.special.erfcx"):
        mo.jit(sp.erfcx)(1.0)


# ---- mo.pure_callback ------------------------------------------------------------------------------


def py_erfcx(x):
    return sp.erfcx(x)


def py_two(x, scale):
    return {"y": x * scale, "s": float(np.sum(x))}


def uses_callback(x):
    y = mo.pure_callback(py_erfcx, mo.ShapeDtypeStruct(x.shape, np.float64), x)
    d = mo.pure_callback(py_two, {"y": mo.ShapeDtypeStruct((None,), np.float64),
                                  "s": mo.ShapeDtypeStruct((), np.float64)}, y, 2.0)
    return d["y"] + d["s"], y.sum()


def test_pure_callback_values():
    run_both(uses_callback, np.linspace(0.1, 1.0, 4))
    np.testing.assert_allclose(mo.pure_callback(py_erfcx, mo.ShapeDtypeStruct((), np.float64), 0.5), sp.erfcx(0.5))


def wrong_shape(x):
    return mo.pure_callback(py_erfcx, mo.ShapeDtypeStruct((3,), np.float64), x)


def wrong_dtype(x):
    return mo.pure_callback(py_erfcx, mo.ShapeDtypeStruct((2,), np.int64), x)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn, match", [(wrong_shape, r"shape \(2,\), the declaration says \(3,\)"),
                                       (wrong_dtype, "dtype float64, the declaration says int64")])
def test_pure_callback_checks_its_result(fn, match, backend):
    with pytest.raises(ValueError, match=match) as info:
        mo.jit(fn, backend=backend)(np.ones(2))
    assert "test_library_api.py:" in str(info.value)


def sin_loss(x):
    return mo.pure_callback(np.sin, mo.ShapeDtypeStruct((), np.float64), x) * 2.0


def test_pure_callback_grad_is_a_clear_error():
    with pytest.raises(mo.MorphismError, match="mo.custom_vjp") as info:
        mo.grad(sin_loss)(1.0)
    assert "test_library_api.py" in str(info.value)


@mo.custom_vjp
def cb_sin(x):
    return mo.pure_callback(np.sin, mo.ShapeDtypeStruct(np.shape(x), np.float64), x)


def _cb_sin_fwd(x):
    return cb_sin(x), x


def _cb_sin_bwd(x, g):
    return (g * mo.pure_callback(np.cos, mo.ShapeDtypeStruct(np.shape(x), np.float64), x),)


cb_sin.defvjp(_cb_sin_fwd, _cb_sin_bwd)


def cb_loss(x):
    return np.sum(cb_sin(x) * x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pure_callback_in_custom_vjp(backend):
    x = np.array([0.3, 1.2, -0.5])
    np.testing.assert_allclose(mo.jit(mo.grad(cb_loss), backend=backend)(x), np.sin(x) + x * np.cos(x), rtol=1e-12)


def per_member(x):
    return mo.pure_callback(py_erfcx, mo.ShapeDtypeStruct((3,), np.float64), x).sum()


def vectorized(x):
    return mo.pure_callback(py_erfcx, mo.ShapeDtypeStruct((3,), np.float64), x, vectorized=True) * 2.0


_CALLS: list = []


def counting(x):
    _CALLS.append(np.shape(x))
    return x * 2.0


def vectorized_counting(x):
    return mo.pure_callback(counting, mo.ShapeDtypeStruct((3,), np.float64), x, vmap_method="broadcast_all")


@pytest.mark.parametrize("backend", BACKENDS)
def test_pure_callback_under_vmap(backend):
    xs = np.linspace(0.1, 1.0, 12).reshape(4, 3)
    np.testing.assert_allclose(mo.jit(mo.vmap(per_member), backend=backend)(xs), sp.erfcx(xs).sum(axis=1))
    np.testing.assert_allclose(mo.jit(mo.vmap(vectorized), backend=backend)(xs), 2.0 * sp.erfcx(xs))
    _CALLS.clear()
    np.testing.assert_allclose(mo.jit(mo.vmap(vectorized_counting), backend=backend)(xs), 2.0 * xs)
    assert _CALLS == [(4, 3)]  # once, on the whole batch


# ---- random draws --------------------------------------------------------------------------------------

rng = np.random.default_rng(0)
rs = np.random.RandomState(0)


def generator_draws(x, n):
    z = rng.normal(size=n)
    u = rng.uniform(0.0, x, size=(2, n))
    return (z, u, rng.normal(x, 2.0, n), rng.standard_normal(3), rng.integers(0, 10, size=4), rng.random(),
            rng.random((2, 2)), rng.integers(5), rng.normal())


def random_state_draws(n):
    return (rs.randn(n), rs.rand(), rs.rand(2, 3), rs.normal(size=(1, 2)), rs.uniform(1.0, 2.0), rs.randn(),
            rs.randint(0, 7, size=3))


def global_draws(n):
    np.random.seed(3)
    return np.random.randn(n), np.random.rand(2, 2), np.random.normal(1.0, 2.0, size=2), np.random.uniform(size=2)


def _same_draws(fn, args, reset):
    reset()
    expected = fn(*args)
    for backend in BACKENDS:
        reset()
        with warnings.catch_warnings():
            warnings.simplefilter("error", mo.api.MorphismPerformanceWarning)
            got = mo.jit(fn, backend=backend)(*args)
        assert_same(got, expected, rtol=0, atol=0, path=f"[{backend}]")


def test_generator_draws_reproduce_python():
    def reset():
        global rng
        rng = np.random.default_rng(0)

    _same_draws(generator_draws, (2.0, 3), reset)


def test_random_state_draws_reproduce_python():
    def reset():
        global rs
        rs = np.random.RandomState(0)

    _same_draws(random_state_draws, (3,), reset)


def test_global_draws_reproduce_python():
    _same_draws(global_draws, (2,), lambda: np.random.seed(7))


def noisy_loss(w, x):
    z = rng.normal(size=3)
    return np.sum((w * x + z) ** 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_draws_are_constants_for_derivatives(backend):
    global rng
    x = np.ones(3)
    rng = np.random.default_rng(1)
    got = mo.jit(mo.grad(noisy_loss), backend=backend)(0.5, x)
    rng = np.random.default_rng(1)
    z = rng.normal(size=3)
    np.testing.assert_allclose(got, np.sum(2 * (0.5 * x + z) * x), rtol=1e-12)
    rng = np.random.default_rng(1)
    _, tangent = mo.jvp(lambda w: noisy_loss(w, x), (0.5,), (1.0,))
    np.testing.assert_allclose(tangent, np.sum(2 * (0.5 * x + z) * x), rtol=1e-12)


def member_draw(loc):
    return rng.normal(loc, 1.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_draws_under_vmap_go_member_by_member(backend):
    global rng
    rng = np.random.default_rng(2)
    got = mo.jit(mo.vmap(member_draw), backend=backend)(np.arange(3.0))
    rng = np.random.default_rng(2)
    np.testing.assert_array_equal(got, [rng.normal(loc, 1.0) for loc in np.arange(3.0)])


def azimint_hist(data, radius, npt):
    # NPBench's azimint_hist: the bin count is a run-time argument, and weights are given
    histu = np.histogram(radius, npt)[0]
    histw = np.histogram(radius, npt, weights=data)[0]
    return histw / histu, np.histogram(radius, np.linspace(0.0, 1.0, 5), weights=data)


def test_histogram_with_weights_and_run_time_bins():
    rng = np.random.default_rng(0)
    run_both(azimint_hist, rng.random(200), rng.random(200), 7)
