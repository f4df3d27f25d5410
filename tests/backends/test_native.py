"""The native backend against the reference interpreter: derivatives of the program corpus
(reverse and forward mode; the corpus values run on both backends in tests/test_programs.py),
gradients of a few workloads, and the cases where writing in place could go wrong.

The corpus derivatives run natively on a fixed sample of the programs: reverse mode on every 4th
program and forward mode on every 6th from the second on (all the cases of each program): 40
and 26 of the 157, every module of the corpus in each. Compiling a derivative is what costs,
and the budget (`make test` under 10 minutes on 2 cores, cold caches) decides the sample:

- every case in both modes (MORPHISM_TEST_NATIVE_AD=all, 2 x 263 cases, 548 tests with the
  rest of this file): all pass; about 1040 s of CPU, more than the whole suite's budget;
- this file with the sample costs about 250 s of CPU with cold caches (every 3rd program in
  reverse mode: 262 s); the whole suite, on a fresh clone with cold caches, about 1070 s of CPU
  and 9.5 minutes with every 3rd program, of which this file took 307 s, the corpus values on
  both backends (tests/test_programs.py) 152 s and vmap of the corpus, native included
  (tests/transforms/test_vmap_programs.py), 193 s. The rule tests in tests/transforms run
  forward and reverse mode natively on a case of each family of primitives but qr, svd and
  lstsq.

MORPHISM_TEST_NATIVE_AD=all runs every case in both modes (and every native case of the rule
tests in tests/transforms)."""

from __future__ import annotations

import copy
import math
import os
import warnings

import numpy as np
import pytest

from corpus_ad import AD_CASES, random_like
from helpers import assert_close_up_to_rounding

import morphism as mo
from morphism.api import MorphismPerformanceWarning, _JVPOf, _VJPOf

# ---- derivatives of the corpus: native against the interpreter --------------------------------
# The cases that tests/transforms/test_programs_ad.py differentiates (there the interpreter is
# checked against finite differences). The cases of one program run in one xdist worker (its
# xdist_group) and share the transformed function below, so they share its compiled code. The
# sample is fixed, and spread over every module of the corpus (see the module's docstring).

_ALL = os.environ.get("MORPHISM_TEST_NATIVE_AD", "") == "all"
_PROGRAMS = list(dict.fromkeys(c.values[0] for c in AD_CASES))


def _sample(offset: int, every: int) -> list:
    picked = set(_PROGRAMS[offset::every])
    return [c for c in AD_CASES if _ALL or c.values[0] in picked]


VJP_CASES, JVP_CASES = _sample(0, every=4), _sample(1, every=6)

_transformed: dict = {}


def _derivative(kind, func, backend: str):
    key = (kind, func, backend)
    if key not in _transformed:
        _transformed[key] = kind(func, backend=backend)
    return _transformed[key]


def _native(kind, func, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)  # no fallback to the interpreter
        return _derivative(kind, func, "native")(*args)


@pytest.mark.parametrize("func,args", VJP_CASES)
def test_native_vjp_matches_interpreter(func, args):
    ct = random_like(func(*copy.deepcopy(args)), np.random.default_rng(1))
    try:
        want = _derivative(_VJPOf, func, "interpreter")(args, ct)
    except mo.MorphismError as e:
        pytest.skip(f"the interpreter cannot differentiate it: {type(e).__name__}")
    assert_close_up_to_rounding(_native(_VJPOf, func, args, ct), want)


@pytest.mark.parametrize("func,args", JVP_CASES)
def test_native_jvp_matches_interpreter(func, args):
    tangents = random_like(args, np.random.default_rng(2))
    try:
        want = _derivative(_JVPOf, func, "interpreter")(args, tangents)
    except mo.MorphismError as e:
        pytest.skip(f"the interpreter cannot differentiate it: {type(e).__name__}")
    assert_close_up_to_rounding(_native(_JVPOf, func, args, tangents), want)


# ---- workloads and in-place writes ----------------------------------------------------------------


def stencil(a0):
    a = a0.copy()
    for i in range(1, len(a)):
        a[i] = a[i] + 0.5 * math.sin(a[i - 1])
    return np.sum(a)


def lorenz(p):
    x, y, z = 1.0, 1.0, 1.0
    total = 0.0
    for _ in range(200):
        dx, dy, dz = p[0] * (y - x), x * (p[1] - z) - y, x * y - p[2] * z
        x, y, z = x + 0.01 * dx, y + 0.01 * dy, z + 0.01 * dz
        total += x * x
    return total


def newton(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x * x * x


@pytest.mark.parametrize("f,args", [
    (stencil, (np.linspace(0.0, 1.0, 50),)),
    (lorenz, (np.array([10.0, 28.0, 8.0 / 3.0]),)),
    (newton, (2.5,)),
])
def test_native_gradients_match_interpreter(f, args):
    want = mo.grad(f)(*args)
    got = mo.jit(mo.grad(f), backend="native")(*args)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_native_writes_arguments_as_numpy_and_never_live_values():
    def f(a, i):
        b = a  # an alias of the argument: the caller sees the write (NumPy semantics)
        b[i] = -1.0
        c = b.copy()
        d = c  # alive after the write below
        c[0] = 7.0
        row = c[1:3]  # a view: writes to c must show in it
        c[1] = 5.0
        return a, b, c, d, row

    a = np.arange(5.0)
    python_a = a.copy()
    want = f(python_a, 2)
    got = mo.jit(f, backend="native")(a, 2)
    np.testing.assert_array_equal(a, python_a)  # the caller's array, written as by Python
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    interp_a = np.arange(5.0)
    for g, w in zip(mo.jit(f, backend="interpreter")(interp_a, 2), want):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(interp_a, python_a)


def test_native_source_is_readable_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MORPHISM_CACHE_DIR", str(tmp_path))
    j = mo.jit(stencil, backend="native")
    x = np.linspace(0.0, 1.0, 10)
    j(x)
    src = j.lower(x).source
    assert "@numba.njit(cache=True" in src and "for i in range(" in src
    assert list(tmp_path.glob("mo_stencil_*.py")), "the generated source is kept in MORPHISM_CACHE_DIR"


def rnn(x, W):
    h = x
    s = 0.0
    for i in range(5):
        h = np.tanh(W @ h)
        h[0] = h[0] * 1.5  # written in place after reverse mode saved h for the backward sweep
        s += np.sum(h * h)
    return s


def test_native_tapes_of_arrays_keep_their_values():
    x = np.linspace(-1.0, 1.0, 4)
    W = np.random.default_rng(0).normal(size=(4, 4)) * 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to the interpreter
        got = mo.jit(mo.grad(rnn, argnums=(0, 1)), backend="native")(x, W)
    want = mo.grad(rnn, argnums=(0, 1))(x, W)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def nested(x, w):
    s = 0.0
    for i in range(w.shape[0]):
        h = x
        for j in range(2):
            h = np.tanh(h * w[i]) + x[j]
        s += np.sum(h)
    return s


def test_native_nested_loops_keep_tapes_of_tapes():
    x = np.linspace(-1.0, 1.0, 4)
    w = np.array([0.5, 1.5, -0.7])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to the interpreter
        got = mo.jit(mo.grad(nested, argnums=(0, 1)), backend="native")(x, w)
    want = mo.grad(nested, argnums=(0, 1))(x, w)
    for g, v in zip(got, want):
        np.testing.assert_allclose(g, v, rtol=1e-12, atol=1e-14)


def test_jit_of_grad_with_static_argument():
    def f(x, n, y):
        s = 0.0
        for i in range(n):
            s += x * y + i
        return s

    g = mo.jit(mo.grad(f), static_argnums=(1,), backend="native")
    assert g(1.0, 3, 2.0) == 6.0
    assert g(1.0, 5, 2.0) == 10.0  # a new static value: a new specialisation
    assert g(1.0, 3, 4.0) == 12.0  # the fast path keeps static values apart


def test_tapes_reserved_before_loop_grow_from_a_nonempty_tape():
    # two loops pushing onto tapes: the second loop reserves room on top of what the first
    # pushed (reverse mode through sequential loops, and a loop nested in a loop)
    def f(x, n):
        s = x
        for i in range(n):
            s = s * 1.01 + np.sin(s)
        for j in range(n):
            for k in range(3):
                s = s * 0.99 + np.cos(s) * k
        return s

    g = mo.jit(mo.grad(f), backend="native")
    gi = mo.jit(mo.grad(f), backend="interpreter")
    for n in (0, 1, 7, 300):
        np.testing.assert_allclose(g(0.3, n), gi(0.3, n), rtol=1e-12)


def test_two_loop_carries_from_one_merged_allocation():
    # CSE merges the two np.zeros(n); each carry must still get its own buffer
    def scans(x):
        n = len(x)
        csum = np.zeros(n)
        cmax = np.zeros(n)
        s, m = 0.0, -np.inf
        for i in range(n):
            s += x[i]
            m = max(m, x[i])
            csum[i] = s
            cmax[i] = m
        return csum, cmax

    x = np.array([0.5, -1.0, 2.0, 0.25])
    got = mo.jit(scans, backend="native")(x)
    np.testing.assert_array_equal(got[0], np.cumsum(x))
    np.testing.assert_array_equal(got[1], np.maximum.accumulate(x))


# ---- regressions: programs the native backend once compiled wrongly ------------------------------


@pytest.fixture
def in_object_mode(monkeypatch):
    """`in_object_mode(prim, ...)`: the native backend runs these primitives in object mode, as it
    runs those without a native rule (the generated source, and so its cache entry, changes too)."""

    def force(*prims):
        for p in prims:
            monkeypatch.setattr(p, "numba", None)

    return force


def _native_and_interpreter(f):
    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("error", MorphismPerformanceWarning)
            got = mo.jit(f, backend="native")(*args)
        return got, mo.jit(f, backend="interpreter")(*args)

    return run


def sines(x, n):
    s = x
    for i in range(n):
        s = np.sin(s) * 0.5
    return np.sin(s)


def test_object_mode_first_met_in_a_loop(in_object_mode):
    # Numba sets up object mode where it first lowers an objmode block; here that is in the loop
    # body, which does not dominate the block after the loop (LLVM: "Instruction does not dominate
    # all uses!", numba/numba#9574), and the gradient of lorenz_rk4 fell back to the interpreter.
    from morphism.primitives.elementwise import sin

    in_object_mode(sin)
    for n in (0, 3):
        got, want = _native_and_interpreter(sines)(np.linspace(0.0, 1.0, 4), n)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def heat(u0, alpha):
    u = u0.copy()
    for _ in range(3):
        u[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def test_object_mode_results_never_alias_compiled_arrays(in_object_mode):
    # sum_to_shape in object mode returned its argument, a view of u's cotangent, which the
    # backward sweep then zeroed in place: wrong gradients (heat_explicit, smooth3, ...).
    from morphism.primitives.ad_support import sum_to_shape

    in_object_mode(sum_to_shape)
    got, want = _native_and_interpreter(mo.grad(heat, argnums=(0, 1)))(np.linspace(0.0, 1.0, 8) ** 2, 0.25)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def falling(h0):
    y, v, t = h0, 0.0, 0.0
    while y > 0.0:
        for _ in range(4):
            v += 0.01 * (-9.81 - 0.1 * v * abs(v))
            y += 0.01 * v
        t += 0.04
    return t + v


def test_loop_whose_body_generates_nothing():
    # In the gradient, the inner loop passes h0's cotangent through unchanged: its body generated
    # no line, and the source did not parse (IndentationError).
    got, want = _native_and_interpreter(mo.grad(falling))(1.5)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def leapfrog(c):
    u_prev = np.sin(np.linspace(0.0, 3.0, 8))
    u = u_prev.copy()
    u_next = np.zeros(8)
    for _ in range(5):
        u_next[1:-1] = 2.0 * u[1:-1] - u_prev[1:-1] + c * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u_prev = u.copy()
        u = u_next.copy()
    return u


def test_loop_carries_never_share_a_buffer():
    # In forward mode the tangent of `u = u_next.copy()` is u_next's tangent itself: the loop
    # yielded one array to two carries, and the next iteration's in-place write to u_next's
    # tangent changed u's (wave_equation's jvp). Such a carry is copied at the back edge.
    args, tangents = (0.3,), (1.0,)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)
        got = _JVPOf(leapfrog, backend="native")(args, tangents)
    want = _JVPOf(leapfrog, backend="interpreter")(args, tangents)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def newton_cube(a, n):
    x = a
    while abs(x * x - a) > 1e-13 * a:
        x = 0.5 * (x + a / x)
    s = x
    for i in range(n):
        s = np.sin(s) * x + i
    return s * x


def test_reverse_over_reverse_through_loops():
    # grad(grad(f)) through loops: the inner backward sweep's tapes get cotangents (tape_zeros_like,
    # tape_add_at, tape_add: without native rules they fell back to the interpreter, since object
    # mode cannot take a tape), and the outer forward sweep saves each version of an inner tape on
    # a tape of tapes, so the push after it must leave that version as it is (the saved length
    # was one too long: the second derivative read the wrong entries). Third order: tapes of tapes
    # get cotangents too.
    grad2 = mo.grad(mo.grad(newton_cube))
    grad3 = mo.grad(grad2)
    for g in (grad2, grad3):
        with warnings.catch_warnings():
            warnings.simplefilter("error", MorphismPerformanceWarning)
            native = mo.jit(g, backend="native")
            got = [native(a, n) for a, n in ((2.5, 3), (0.7, 0))]
        want = [g(a, n) for a, n in ((2.5, 3), (0.7, 0))]
        assert_close_up_to_rounding(got, want)


def column_sweep(x, c):
    y = x * 1.0
    for j in range(1, 3):
        y[:, j] += c[j] * y[:, j - 1]  # scatter_add: the cotangent of y passes through
        y[:, j - 1] = np.sin(y[:, j])  # setitem: reads its cotangent's column, then zeroes it
    return np.sum(y * y) + np.sum(y[:, 0])


def test_cotangent_columns_are_read_in_place_before_they_are_zeroed():
    # The column of a cotangent, unbroadcast to the same shape, is the column itself (a view,
    # no copy); the setitem's vjp then writes zeros into the cotangent. The liveness analysis
    # must see the view, or the zeros reach the column before it is read.
    x, c = np.linspace(0.1, 1.2, 12).reshape(4, 3), np.array([0.0, 0.7, -1.3])
    g = mo.grad(column_sweep, argnums=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)
        got = mo.jit(g, backend="native")(x, c)
    want = g(x, c)
    assert_close_up_to_rounding(got, want)
    h = 1e-6
    e = np.array([0.0, h, 0.0])
    fd = (column_sweep(x, c + e) - column_sweep(x, c - e)) / (2 * h)
    np.testing.assert_allclose(want[1][1], fd, rtol=1e-6)


def outer_softmax(a, b):
    d = a[:, None] - b[None, :]
    m = np.max(d, axis=1)
    return np.sum(np.exp(d - m[:, None])) + np.sum(a[..., None] * b) + np.sum(a[None, :, None] ** 2)


def test_new_axes_have_native_derivatives():
    # The vjp of x[:, None] adds into x[idx without the None]: natively, not in object mode.
    a, b = np.linspace(-1.0, 1.0, 3), np.linspace(0.5, 2.0, 4)
    g = mo.grad(outer_softmax, argnums=(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)
        native = mo.jit(g, backend="native")
        got = native(a, b)
        assert "objmode" not in native.lower(a, b).source
    assert_close_up_to_rounding(got, g(a, b))


def put_new_axis(x):
    y = np.zeros((3, 4))
    y[:, None] = x
    return y


def test_assignment_through_a_new_axis_checks_its_size():
    x = np.arange(4.0).reshape(1, 4)
    np.testing.assert_array_equal(mo.jit(put_new_axis, backend="native")(x), put_new_axis(x))
    np.testing.assert_array_equal(mo.jit(put_new_axis, backend="native")(x[0]), put_new_axis(x[0]))
    with pytest.raises(ValueError, match="could not broadcast"):
        mo.jit(put_new_axis, backend="native")(np.ones((2, 4)))
