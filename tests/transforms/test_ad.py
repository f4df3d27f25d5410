"""Derivatives of user-like programs with control flow, against finite differences and
against each other (grad vs jvp, jacfwd vs jacrev), to third order, on both backends (native
results also equal the interpreter's up to floating-point reassociation: `ad_oracles.run`)."""

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import morphism as mo
from ad_oracles import JVP, VJP, backends, grad_of_grad, run

EPS = 1e-6


def fd_grad(f, args, argnum=0):
    """Central finite differences of a scalar function w.r.t. one float or array argument."""
    x = np.asarray(args[argnum], dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = EPS
        hi = list(args)
        lo = list(args)
        hi[argnum] = x + e if x.ndim else float(x + e)
        lo[argnum] = x - e if x.ndim else float(x - e)
        g[idx] = (f(*hi) - f(*lo)) / (2 * EPS)
    return g if x.ndim else float(g)


def check_grad(f, args, backend, argnum=0, rtol=1e-5, atol=1e-7):
    got = run(backend, mo.grad, f, *args, argnums=argnum)
    want = fd_grad(f, args, argnum)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    return got


# ---- programs ---------------------------------------------------------------------------------


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-13 * a:
        x = 0.5 * (x + a / x)
    return x * x * x


def adaptive_euler(k, t_end):
    """Integrates y' = -k y with step-size control and step rejection (a data-dependent while)."""
    t, y, h = 0.0, 1.0, 0.1
    steps = 0
    while t < t_end:
        if t + h > t_end:
            h = t_end - t
        y_full = y + h * (-k * y)
        y_half = y + 0.5 * h * (-k * y)
        y_two = y_half + 0.5 * h * (-k * y_half)
        err = abs(y_two - y_full)
        if err > 1e-4:
            h = 0.5 * h
            continue
        t = t + h
        y = y_two
        steps += 1
        if err < 1e-6:
            h = 1.5 * h
    return y


def search_then_use(x, t):
    for i in range(len(x)):
        if x[i] > t:
            return x[i] * t
    return -t


def piecewise(x):
    if x > 1.0:
        y = x * x
    elif x > 0.0:
        y = math.sin(x)
    else:
        y = -x * 3.0
    return y * 2.0


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def stencil_last(a0, n):
    a = np.zeros(n)
    a[0] = a0
    for i in range(1, n):
        a[i] = math.sin(a[i - 1]) + 0.1 * a[i - 1] * a0
    return a[n - 1]


def loop_with_continue_break(x):
    s = 0.0
    for i in range(10):
        if i % 3 == 0:
            continue
        s = s + math.cos(x * i) * s + x
        if s > 50.0:
            break
    return s


def records_and_helpers(p):
    def step(state, dt):
        pos, vel = state
        return pos + dt * vel, vel - dt * p["k"] * pos

    st_ = (1.0, 0.0)
    for _ in range(20):
        st_ = step(st_, 0.05)
    return st_[0] * p["scale"]


def lorenz_loss(params):
    sigma, rho, beta = params[0], params[1], params[2]
    x, y, z = 1.0, 1.0, 1.0
    dt = 0.01
    total = 0.0
    for _ in range(100):
        k1 = (sigma * (y - x), x * (rho - z) - y, x * y - beta * z)
        x2, y2, z2 = x + 0.5 * dt * k1[0], y + 0.5 * dt * k1[1], z + 0.5 * dt * k1[2]
        k2 = (sigma * (y2 - x2), x2 * (rho - z2) - y2, x2 * y2 - beta * z2)
        x3, y3, z3 = x + 0.5 * dt * k2[0], y + 0.5 * dt * k2[1], z + 0.5 * dt * k2[2]
        k3 = (sigma * (y3 - x3), x3 * (rho - z3) - y3, x3 * y3 - beta * z3)
        x4, y4, z4 = x + dt * k3[0], y + dt * k3[1], z + dt * k3[2]
        k4 = (sigma * (y4 - x4), x4 * (rho - z4) - y4, x4 * y4 - beta * z4)
        x = x + dt / 6.0 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        y = y + dt / 6.0 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        z = z + dt / 6.0 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
        total = total + x * x
    return total / 100.0


@pytest.mark.parametrize("backend", backends())
@pytest.mark.parametrize("f,args", [
    (newton_sqrt, (2.0,)),
    (newton_sqrt, (9.5,)),
    (adaptive_euler, (1.3, 2.0)),
    (search_then_use, (np.array([0.5, 1.5, 2.5]), 1.0)),
    (search_then_use, (np.array([0.5, 0.7]), 1.0)),
    (piecewise, (2.0,)), (piecewise, (0.5,)), (piecewise, (-1.0,)),
    (power, (1.3, 5)),
    (stencil_last, (0.3, 40)),
    (loop_with_continue_break, (0.7,)),
    (loop_with_continue_break, (3.0,)),
    (lorenz_loss, (np.array([10.0, 28.0, 8.0 / 3.0]),)),
])
def test_grad_matches_finite_differences(f, args, backend):
    check_grad(f, args, backend, rtol=1e-4 if f is adaptive_euler else 1e-5)


@pytest.mark.parametrize("backend", backends())
def test_grad_of_dict_params_is_a_dict(backend):
    p = {"k": 2.0, "scale": 1.5}
    g = run(backend, mo.grad, records_and_helpers, p)
    assert set(g) == {"k", "scale"}
    for key in p:
        hi, lo = dict(p), dict(p)
        hi[key] += EPS
        lo[key] -= EPS
        fd = (records_and_helpers(hi) - records_and_helpers(lo)) / (2 * EPS)
        assert g[key] == pytest.approx(fd, rel=1e-5)


@pytest.mark.parametrize("backend", backends())
def test_argnums_tuple_and_value_and_grad(backend):
    def f(x, y, n):
        return x * y ** 2 + n

    v, (gx, gy) = run(backend, mo.value_and_grad, f, 2.0, 3.0, 4, argnums=(0, 1))
    assert (v, gx, gy) == (22.0, 9.0, 12.0)


@pytest.mark.parametrize("backend", backends())
def test_has_aux(backend):
    def f(x):
        return x * x, {"twice": 2 * x}

    g, aux = run(backend, mo.grad, f, 3.0, has_aux=True)
    assert g == 6.0 and aux["twice"] == 6.0


def two_outputs(a, b):
    s = a
    for i in range(4):
        s = math.sin(s * b) + a * s
        if s > 2.0:
            s = s * 0.5
    return s, s * a


@pytest.mark.parametrize("backend", backends())
@given(st.floats(0.1, 3.0), st.floats(-2.0, 2.0))
@settings(max_examples=25, deadline=None)
def test_jvp_equals_vjp_on_a_loop(backend, x, y):
    w = (0.7, -1.3)
    v = (0.4, 2.0)
    _, jv = run(backend, JVP, two_outputs, (x, y), v)
    jtw = run(backend, VJP, two_outputs, (x, y), w)
    lhs = w[0] * jv[0] + w[1] * jv[1]
    rhs = jtw[0] * v[0] + jtw[1] * v[1]
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-12)


def vec_fn(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = math.sin(x[i]) * x[(i + 1) % 3] ** 2 + x[0]
    return y


@pytest.mark.parametrize("backend", backends())
def test_jacfwd_equals_jacrev(backend):
    x = np.array([0.3, -0.7, 1.1])
    fwd = run(backend, mo.jacfwd, vec_fn, x)
    np.testing.assert_allclose(fwd, run(backend, mo.jacrev, vec_fn, x), rtol=1e-12)
    fd = np.stack([(vec_fn(x + EPS * e) - vec_fn(x - EPS * e)) / (2 * EPS) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(fwd, fd, rtol=1e-6, atol=1e-8)


def scalar_loop(x):
    acc = 0.0
    for i in range(3):
        acc += math.sin(x[i]) * x[(i + 1) % 3] ** 2
    return acc


def jacfwd_of_hessian(f):
    return mo.jacfwd(mo.hessian(f))


@pytest.mark.parametrize("backend", backends())
def test_hessian_and_third_order(backend):
    x = np.array([0.3, -0.7, 1.1])
    H = run(backend, mo.hessian, scalar_loop, x)
    g = mo.grad(scalar_loop)
    fd = np.stack([(g(x + EPS * e) - g(x - EPS * e)) / (2 * EPS) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    T = run(backend, jacfwd_of_hessian, scalar_loop, x)
    assert T.shape == (3, 3, 3)
    h = mo.hessian(scalar_loop)
    fd3 = np.stack([(h(x + EPS * e) - h(x - EPS * e)) / (2 * EPS) for e in np.eye(3)], axis=2)
    np.testing.assert_allclose(T, fd3, rtol=1e-4, atol=1e-6)


def grad_of_grad_of_grad(f):
    return mo.grad(mo.grad(mo.grad(f)))


@pytest.mark.parametrize("backend", backends())
def test_grad_of_grad_through_loop_and_branch(backend):
    def f(x, y):
        acc = 0.0
        for i in range(5):
            acc = math.sin(acc + x) * y + acc
            if acc > 1.0:
                acc = acc * 0.5
        return acc

    gg = run(backend, grad_of_grad, f, 0.7, 1.3)
    g = mo.grad(f)
    assert gg == pytest.approx((g(0.7 + EPS, 1.3) - g(0.7 - EPS, 1.3)) / (2 * EPS), rel=1e-5)
    ggg = run(backend, grad_of_grad_of_grad, f, 0.7, 1.3)
    assert ggg == pytest.approx((mo.grad(mo.grad(f))(0.7 + EPS, 1.3) - mo.grad(mo.grad(f))(0.7 - EPS, 1.3)) / (2 * EPS),
                                rel=1e-4)


def jvp_of_grad(f):
    return JVP(mo.grad(f))


@pytest.mark.parametrize("backend", backends())
def test_jvp_of_grad_and_grad_of_while(backend):
    def f(a):
        return newton_sqrt(a) + a

    x = 2.5
    _, t = run(backend, jvp_of_grad, f, (x,), (1.0,))
    assert t == pytest.approx(run(backend, grad_of_grad, f, x), rel=1e-9)
    assert t == pytest.approx(0.75 * x ** -0.5, rel=1e-6)  # d2/da2 (a**1.5 + a)


def test_gradient_memory_of_inplace_recurrence_is_linear():
    """a[i] = g(a[i-1]) over N steps: the tape holds O(1) values per step, so peak memory
    grows linearly with N (O(N^2) would be saving the array at every step)."""
    g = mo.grad(stencil_last)
    g(0.3, 100)  # compile outside the measurement
    peaks = {}
    for n in (2000, 8000):
        tracemalloc.start()
        g(0.3, n)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    ratio = peaks[8000] / peaks[2000]
    assert ratio < 6.0, f"peak memory grew {ratio:.1f}x for 4x the steps: {peaks}"
    # And in absolute terms: far below one array per step (8000 * 8000 * 8 bytes = 512 MB).
    assert peaks[8000] < 50e6


def test_ir_of_grad_keeps_only_needed_residuals():
    text = str(mo.make_ir(mo.grad(stencil_last))(0.3, 10))
    pushes = [l for l in text.splitlines() if "tape_push" in l]
    assert all("f64[:]" not in l.split("=")[0] for l in pushes)
    assert len(pushes) <= 3, text


# ---- conventions and errors -------------------------------------------------------------------


@pytest.mark.parametrize("backend", backends())
def test_floor_and_argmax_follow_jax_conventions(backend):
    def f(x):
        return np.floor(x) * 2.0 + x

    assert run(backend, mo.grad, f, 1.7) == 1.0

    def g(x):
        return x[np.argmax(x)] * 3.0

    np.testing.assert_array_equal(run(backend, mo.grad, g, np.array([1.0, 5.0, 2.0])), [0.0, 3.0, 0.0])


@pytest.mark.parametrize("backend", backends())
def test_assignment_through_a_repeated_index_keeps_the_last_write(backend):
    # x[idx] = v with idx = [0, 2, 0]: NumPy keeps v[2] in x[0] and drops v[0]; v[0] gets no
    # cotangent (it once got x[0]'s twice: the getitem of the cotangent read it for both)
    idx = np.array([0, 2, 0])

    def f(x, v):
        y = x * 1.0
        y[idx] = v * v
        return np.sum(y * np.arange(1.0, 5.0))

    x, v = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(run(backend, mo.grad, f, x, v, argnums=1), [0.0, -6.0, 4.0], rtol=1e-14)
    check_grad(f, (x, v), backend, argnum=1)
    check_grad(f, (x, v), backend, argnum=0)


def test_grad_with_respect_to_an_integer_is_an_error():
    def f(x, n):
        return x * n

    with pytest.raises(mo.MorphismError, match="int64"):
        mo.grad(f, argnums=1)(2.0, 3)


def test_grad_of_non_scalar_output_is_an_error():
    def f(x):
        return x * 2.0

    with pytest.raises(mo.MorphismError, match="scalar") as e:
        mo.grad(f)(np.ones(3))
    assert "test_ad.py" in str(e.value)


def test_primitive_without_rule_is_an_error_with_location():
    from morphism.frontend.library import implements, to_atom
    from morphism.primitives.registry import REGISTRY, primitive, same_type

    def opaque(x):  # a stand-in for a library function morphism knows no derivative of
        return x

    if "test_opaque" not in REGISTRY:
        p = primitive("test_opaque", same_type, impl=lambda x: x)
        implements(opaque)(lambda x: p(to_atom(x)))

    def f(x):
        return opaque(x) * 2.0

    assert mo.jit(f)(3.0) == 6.0
    with pytest.raises(mo.MorphismError, match="test_opaque has no derivative rule") as e:
        mo.grad(f)(3.0)
    assert "test_ad.py" in str(e.value) and "custom_vjp" in str(e.value)


@pytest.mark.parametrize("backend", backends())
def test_custom_rules_are_honoured_in_both_modes(backend):
    @mo.custom_jvp
    def twice_grad(x):
        return math.sin(x)

    @twice_grad.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return twice_grad(x), 2.0 * t

    @mo.custom_vjp
    def hundred(x):
        return x * 3.0

    hundred.defvjp(lambda x: (hundred(x), x), lambda res, ct: (ct * 100.0,))

    def f(x):
        return twice_grad(x) + hundred(x) + mo.stop_gradient(x * x)

    assert run(backend, mo.grad, f, 2.0) == pytest.approx(102.0)
    assert run(backend, JVP, f, (2.0,), (1.0,))[1] == pytest.approx(5.0)
