"""Transformations called inside compiled code: `mo.grad`, `value_and_grad`, `jvp`, `vjp`,
`jacfwd`, `jacrev`, `hessian` and `vmap` of module-level functions, lambdas, local `def`s,
`functools.partial`s and closures over the enclosing function's arrays, nested.

The oracle is the same function run as plain Python, where the same transformations are called
outside compiled code (the closures there hold NumPy arrays); and `mo.grad` of a compiled
function that uses them inside, against finite differences."""

import functools

import numpy as np
import pytest

import morphism as mo
from helpers import assert_same, check_on_backends

P = np.array([0.1, 0.2, 0.3])
D = np.array([1.0, 2.0, 3.0])
XS = np.linspace(-1.0, 1.0, 12).reshape(4, 3)


def same(got, want):
    assert_same(got, want, rtol=1e-10, atol=1e-12)


def g(points, c):
    return np.sin(points * c).sum()


def loss(p, data):
    return np.sum((p * data - 1.0) ** 2)


def h(p):
    return np.sum(p**3)


def vec(p):
    return np.sin(p) * p[0]


# ---- module-level functions --------------------------------------------------------------------


def jvp_module(points, c):
    return mo.jvp(g, (points, c), (np.ones_like(points), 0.5))


def grad_module(p, data):
    return mo.value_and_grad(loss, argnums=(0, 1))(p, data)


def jacobians_module(p):
    return mo.jacfwd(vec)(p), mo.jacrev(vec)(p), mo.hessian(h)(p)


def vjp_module(p):
    out, back = mo.vjp(vec, p)
    return out, back(np.cos(out))


def vmap_module(xs, data):
    return mo.vmap(loss, in_axes=(0, None))(xs, data)


# ---- lambdas and local defs reading the enclosing function's values ----------------------------


def jvp_lambda(points, c, t):
    return mo.jvp(lambda cc: g(points, cc), (c,), (t,))


def grad_lambda(p, data):
    return mo.grad(lambda q: loss(q, data))(p)


def grad_local_def(p, data, scale):
    offset = data.sum()

    def inner(q):
        return scale * np.sum(np.cos(q) * data) + offset * q[0]

    return mo.grad(inner)(p)


def value_and_grad_aux(p, data):
    def inner(q, w):
        r = q * data * w
        return np.sum(r**2), r

    return mo.value_and_grad(inner, argnums=1, has_aux=True)(p, 2.0)


def grad_argnums_lambda(p, data):
    return mo.grad(lambda a, b: loss(a * b, data), argnums=(0, 1))(p, 1.5)


def jacobians_lambda(p, data):
    f = lambda q: np.sin(q * data) * q[1]  # noqa: E731
    return mo.jacfwd(f)(p), mo.jacrev(f)(p), mo.hessian(lambda q: np.sum(q**3 * data))(p)


def vjp_lambda(p, data):
    out, back = mo.vjp(lambda q, s: np.sin(q * data) * s, p, 2.0)
    return out, back(data)


def vmap_lambda(xs, w):
    return mo.vmap(lambda x: np.dot(x, w) + w[0])(xs)


def vmap_local_in_axes(xs, data, k):
    def member(x, d, s):
        return np.sum(x * d) * s + k

    return mo.vmap(member, in_axes=(0, None, None))(xs, data, 2.0)


def grad_partial(p, data):
    return mo.grad(functools.partial(loss, data=data))(p)


def jit_lambda(p, data):
    return mo.jit(lambda q: q * data)(p)


# ---- nesting --------------------------------------------------------------------------------


def grad_of_grad(p):
    return mo.grad(lambda q: mo.grad(h)(q).sum())(p)


def grad_of_grad_local(p, data):
    def inner(q):
        return np.sum(np.sin(q) * data)

    return mo.grad(lambda q: np.sum(mo.grad(inner)(q) ** 2))(p)


def jacfwd_of_grad_local(p, data):
    def inner(q):
        return np.sum(q**3 * data)

    return mo.jacfwd(mo.grad(inner))(p)


def vmap_of_grad_lambda(xs, data):
    return mo.vmap(mo.grad(lambda x: loss(x, data)))(xs)


def local_calls_local(p, data):
    def helper(q):
        return q * data

    return mo.grad(lambda q: np.sum(np.sin(helper(q))))(p)


def in_a_loop(p, data):
    # a new lambda per iteration, reading the loop's carries
    x = p
    for k in range(3):
        x = x - 0.1 * mo.grad(lambda q: loss(q, data * (k + 1)) + np.sum(q * x))(x)
    return x


def late_binding(p, data):
    gf = mo.grad(lambda q: np.sum(q * data))
    data = data * 2.0  # the lambda reads `data` when it is called, as in Python
    return gf(p)


CASES = [
    (jvp_module, (P, 0.7)),
    (grad_module, (P, D)),
    (jacobians_module, (P,)),
    (vjp_module, (P,)),
    (vmap_module, (XS, D)),
    (jvp_lambda, (P, 0.7, 1.0)),
    (grad_lambda, (P, D)),
    (grad_local_def, (P, D, 0.5)),
    (value_and_grad_aux, (P, D)),
    (grad_argnums_lambda, (P, D)),
    (jacobians_lambda, (P, D)),
    (vjp_lambda, (P, D)),
    (vmap_lambda, (XS, D)),
    (vmap_local_in_axes, (XS, D, 3.0)),
    (jit_lambda, (P, D)),
    (grad_of_grad, (P,)),
    (grad_of_grad_local, (P, D)),
    (jacfwd_of_grad_local, (P, D)),
    (vmap_of_grad_lambda, (XS, D)),
    (local_calls_local, (P, D)),
    (in_a_loop, (P, D)),
    (late_binding, (P, D)),
]


@pytest.mark.parametrize("f, args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_same_as_outside_compiled_code(f, args):
    check_on_backends(f, args, same)


@pytest.mark.parametrize("backend", ["interpreter", "native"])
def test_partial_made_in_compiled_code(backend):
    # (outside compiled code, mo.grad takes Python functions, not functools.partial objects)
    same(mo.jit(grad_partial, backend=backend)(P, D), grad_lambda(P, D))


def test_results_are_the_derivatives():
    # the oracle above runs the same transformations; here one value is checked by hand
    got = mo.jit(grad_local_def, backend="interpreter")(P, D, 0.5)
    np.testing.assert_allclose(got, -0.5 * np.sin(P) * D + np.array([D.sum(), 0.0, 0.0]), rtol=1e-12)
    np.testing.assert_allclose(mo.jit(grad_of_grad, backend="interpreter")(P), 6.0 * P, rtol=1e-12)


# ---- derivatives of compiled functions that use transformations inside ----------------------------


def _fd(f, x, *rest, eps=1e-6):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (f(x + e, *rest) - f(x - e, *rest)) / (2 * eps)
    return out


def tangent_of_lambda(points, c):
    return mo.jvp(lambda cc: g(points, cc), (c,), (1.0,))[1]


def grad_norm(data, p):
    return np.sum(mo.grad(lambda q: loss(q, data))(p) ** 2)


def pulled_back(data, p):
    out, back = mo.vjp(lambda q: np.sin(q * data), p)
    return back(out)[0].sum()


def batched(w, xs):
    return np.sum(mo.vmap(lambda x: np.sin(np.dot(x, w)))(xs))


def curvature(data, p):
    return np.sum(mo.hessian(lambda q: np.sum(np.sin(q) * data))(p))


def jacobian_sum(data, p):
    return np.sum(mo.jacrev(lambda q: np.sin(q * data))(p) * 2.0)


@pytest.mark.parametrize("backend", ["interpreter", "native"])
@pytest.mark.parametrize("f, args", [(tangent_of_lambda, (P, 0.5)), (grad_norm, (D, P)), (pulled_back, (D, P)),
                                     (batched, (D, XS)), (curvature, (D, P)), (jacobian_sum, (D, P))],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_grad_through_captured_values_matches_finite_differences(f, args, backend):
    # the captured array is the differentiated argument: the transformed function's IR reads it,
    # and the outer gradient flows through it
    got = mo.grad(mo.jit(f, backend=backend))(*args)
    np.testing.assert_allclose(got, _fd(f, *args), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(mo.jit(mo.grad(f), backend=backend)(*args), got, rtol=1e-12, atol=1e-14)


# ---- what is refused -------------------------------------------------------------------------


def writes_into_enclosing(p, data):
    def inner(q):
        data[0] = q[0]
        return np.sum(q * data)

    return mo.grad(inner)(p)


def test_writing_into_the_enclosing_functions_array_is_a_clear_error():
    with pytest.raises(mo.UnsupportedSyntaxError) as e:
        mo.jit(writes_into_enclosing, backend="interpreter")(P, D.copy())
    msg = str(e.value)
    assert "writes into 'data'" in msg and "test_transforms_inside.py" in msg


def grad_of_array_valued_lambda(p):
    return mo.grad(lambda q: q * 2.0)(p)


def returns_a_function(p):
    return mo.jacfwd(lambda q: (lambda z: z))(p)


def test_errors_about_a_transformed_lambda_name_its_line():
    with pytest.raises(mo.MorphismError) as e:
        mo.jit(grad_of_array_valued_lambda, backend="interpreter")(P)
    assert "float scalar" in str(e.value) and "test_transforms_inside.py" in str(e.value)
    assert "mo.grad(lambda q: q * 2.0)" in str(e.value)  # the source line
    with pytest.raises(mo.MorphismTypeError) as e:
        mo.jit(returns_a_function, backend="interpreter")(P)
    assert "returns the function <lambda>" in str(e.value) and "test_transforms_inside.py" in str(e.value)
