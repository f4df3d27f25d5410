"""vmap: JAX's semantics (in_axes, out_axes, pytrees, nesting), batched control flow, and
composition with grad and jit. Each result is compared with stacking the function's results
member by member."""

from __future__ import annotations

import math

import numpy as np
import pytest

import morphism as mo


def stacked(f, *cols, in_axes=0):
    """The reference: f applied member by member, results stacked on axis 0."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(cols)
    n = next(np.shape(c)[a] for c, a in zip(cols, axes) if a is not None)
    outs = [f(*[c if a is None else np.take(c, b, axis=a) for c, a in zip(cols, axes)]) for b in range(n)]
    if isinstance(outs[0], tuple):
        return tuple(np.stack(o) for o in zip(*outs))
    return np.stack(outs)


def same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
        return
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)
    assert np.shape(got) == np.shape(want)


rng = np.random.default_rng(0)

BACKENDS = [
    pytest.param(lambda f, **kw: mo.vmap(f, **kw), id="interpreter"),
    pytest.param(lambda f, **kw: mo.jit(mo.vmap(f, **kw), backend="native"), id="native"),
]


# ---- semantics --------------------------------------------------------------------------------


def affine(x, w, b):
    return np.tanh(w @ x + b)


@pytest.mark.parametrize("vm", BACKENDS)
def test_in_axes_per_argument(vm):
    X = rng.standard_normal((5, 3))
    W = rng.standard_normal((4, 3))
    b = rng.standard_normal(4)
    same(vm(affine, in_axes=(0, None, None))(X, W, b), stacked(affine, X, W, b, in_axes=(0, None, None)))
    Ws = rng.standard_normal((5, 4, 3))
    same(vm(affine, in_axes=(None, 0, None))(X[0], Ws, b), stacked(affine, X[0], Ws, b, in_axes=(None, 0, None)))
    same(vm(affine, in_axes=(1, None, None))(X.T, W, b), stacked(affine, X.T, W, b, in_axes=(1, None, None)))


def test_out_axes_and_unbatched_results():
    def f(x, y):
        return x * 2.0, y + 1.0

    X = rng.standard_normal((5, 3))
    a, c = mo.vmap(f, in_axes=(0, None), out_axes=(1, None))(X, 2.0)
    same(a, (X * 2.0).T)
    assert c == 3.0
    a, c = mo.vmap(f, in_axes=(0, None), out_axes=(0, None))(X, X[0])
    same(c, X[0] + 1.0)
    with pytest.raises(mo.MorphismError, match="depends on the batched"):
        mo.vmap(f, in_axes=(None, 0), out_axes=(0, None))(X[0], X)


def test_pytrees_in_and_out():
    def f(p, x):
        return {"y": p["w"] * x + p["b"], "s": np.sum(x)}

    X = rng.standard_normal((4, 3))
    p = {"w": 2.0, "b": rng.standard_normal(3)}
    got = mo.vmap(f, in_axes=({"w": None, "b": None}, 0))(p, X)
    same(got["y"], p["w"] * X + p["b"])
    same(got["s"], X.sum(axis=1))
    ps = {"w": np.array([1.0, 2.0, 3.0, 4.0]), "b": rng.standard_normal((4, 3))}
    got = mo.vmap(f, in_axes=({"w": 0, "b": 0}, None))(ps, X[0])
    same(got["y"], ps["w"][:, None] * X[0] + ps["b"])


def test_nested_vmap_is_an_outer_product():
    def f(x, y):
        return np.sin(x) * np.cos(y) + x * y

    xs, ys = rng.standard_normal(4), rng.standard_normal(6)
    got = mo.vmap(mo.vmap(f, in_axes=(None, 0)), in_axes=(0, None))(xs, ys)
    same(got, np.sin(xs)[:, None] * np.cos(ys)[None, :] + xs[:, None] * ys[None, :])
    got = mo.jit(mo.vmap(mo.vmap(f, in_axes=(None, 0)), in_axes=(0, None)), backend="native")(xs, ys)
    same(got, np.sin(xs)[:, None] * np.cos(ys)[None, :] + xs[:, None] * ys[None, :])


def test_errors():
    def f(x, y):
        return x + y

    with pytest.raises(ValueError, match="different batch sizes"):
        mo.vmap(f)(np.ones(3), np.ones(4))
    with pytest.raises(mo.MorphismError, match="no argument is batched"):
        mo.vmap(f, in_axes=None)(np.ones(3), np.ones(3))
    with pytest.raises(mo.MorphismError, match="out of range"):
        mo.vmap(f, in_axes=(1, 0))(np.ones(3), np.ones(3))
    with pytest.raises(mo.MorphismError, match="in_axes has 1 entries"):
        mo.vmap(f, in_axes=(0,))(np.ones(3), np.ones(3))

    def shape_from_value(n):
        return np.zeros(n) + n

    with pytest.raises(mo.MorphismError, match="batched"):
        mo.vmap(shape_from_value, strategy="vectorize")(np.array([2, 2]))
    # the default strategy runs such functions member by member
    same(mo.vmap(shape_from_value)(np.array([2, 2])), np.full((2, 2), 2.0))


# ---- batched control flow ---------------------------------------------------------------------


def piecewise(x):
    if x > 0.0:
        y = math.sqrt(x) + 1.0
    else:
        y = x * x
    return y


def collatz_steps(n):
    k = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        k += 1
    return k


def triangle(n, x):
    s = 0.0
    for i in range(n):
        s += x * i
    return s


def bump(a, i, v):
    b = a.copy()
    b[i] = b[i] + v
    return b


def first_above(x, t):
    i = 0
    while i < len(x) and x[i] <= t:  # x[i] must not be read once i == len(x)
        i += 1
    return i


def fact(n):
    if n <= 1:
        return 1.0
    return n * fact(n - 1)


def safe_log(x):
    if x <= 0.0:
        raise ValueError("log of a non-positive number")
    return math.log(x)


@pytest.mark.parametrize("vm", BACKENDS)
def test_cond_on_a_batched_predicate(vm):
    xs = np.array([-2.0, -0.5, 0.0, 0.25, 4.0])
    same(vm(piecewise)(xs), stacked(piecewise, xs))


@pytest.mark.parametrize("vm", BACKENDS)
def test_while_on_a_batched_predicate_freezes_finished_members(vm):
    ns = np.array([1, 2, 3, 6, 7, 27])
    same(vm(collatz_steps)(ns), stacked(collatz_steps, ns))


@pytest.mark.parametrize("vm", BACKENDS)
def test_for_with_batched_bounds(vm):
    ns = np.array([0, 1, 5, 3])
    xs = np.array([1.0, 2.0, 0.5, -1.0])
    same(vm(triangle)(ns, xs), stacked(triangle, ns, xs))
    same(vm(triangle, in_axes=(0, None))(ns, 2.0), stacked(triangle, ns, 2.0, in_axes=(0, None)))


@pytest.mark.parametrize("vm", BACKENDS)
def test_setitem_with_batched_indices(vm):
    A = rng.standard_normal((4, 6))
    idx = np.array([0, 5, 2, 2])
    v = np.array([1.0, 2.0, 3.0, 4.0])
    same(vm(bump)(A, idx, v), stacked(bump, A, idx, v))
    same(vm(bump, in_axes=(None, 0, 0))(A[0], idx, v), stacked(bump, A[0], idx, v, in_axes=(None, 0, 0)))


@pytest.mark.parametrize("vm", BACKENDS)
def test_short_circuit_index_stays_in_bounds_for_finished_members(vm):
    X = np.array([[0.1, 0.2, 0.9], [0.9, 0.1, 0.1], [0.1, 0.1, 0.1]])
    same(vm(first_above, in_axes=(0, None))(X, 0.5), stacked(first_above, X, 0.5, in_axes=(0, None)))


@pytest.mark.parametrize("vm", BACKENDS)
def test_recursion_under_a_batched_predicate_ends(vm):
    ns = np.array([0, 1, 4, 7])
    same(vm(fact)(ns), stacked(fact, ns))


def test_raise_under_a_batched_predicate_fires_only_for_members_that_take_it():
    same(mo.vmap(safe_log)(np.array([1.0, 2.0, 3.0])), np.log([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="non-positive"):
        mo.vmap(safe_log)(np.array([1.0, -2.0, 3.0]))


# ---- composition ------------------------------------------------------------------------------


def loss(w, x, y):
    h = np.tanh(w[0] * x + w[1])
    return (h - y) ** 2


def integrate(k, x0):
    # explicit Euler with a data-dependent number of steps
    t, x, h = 0.0, x0, 0.01
    while t < 1.0:
        x = x - h * k * x
        t += h
    return x


def test_per_example_gradients():
    w = np.array([0.5, -0.2])
    xs, ys = rng.standard_normal(7), rng.standard_normal(7)
    want = np.stack([mo.grad(loss)(w, x, y) for x, y in zip(xs, ys)])
    for f in (mo.vmap(mo.grad(loss), in_axes=(None, 0, 0)),
              mo.jit(mo.vmap(mo.grad(loss), in_axes=(None, 0, 0)), backend="native")):
        same(f(w, xs, ys), want)


def test_grad_of_vmap_and_jacrev():
    def total(w, xs, ys):
        return np.sum(mo.vmap(loss, in_axes=(None, 0, 0))(w, xs, ys))

    w = np.array([0.5, -0.2])
    xs, ys = rng.standard_normal(7), rng.standard_normal(7)
    want = sum(mo.grad(loss)(w, x, y) for x, y in zip(xs, ys))
    same(mo.grad(total)(w, xs, ys), want)

    def f(x):
        return np.sin(x) * np.sum(x ** 2)

    x = rng.standard_normal(4)
    same(mo.jacrev(f)(x), mo.jacfwd(f)(x))


@pytest.mark.parametrize("vm", BACKENDS)
def test_vmap_of_a_data_dependent_while_loop_and_its_gradient(vm):
    ks = np.array([0.5, 1.0, 2.0])
    same(vm(integrate, in_axes=(0, None))(ks, 1.0), stacked(integrate, ks, 1.0, in_axes=(0, None)))
    g = mo.grad(integrate)
    same(vm(g, in_axes=(0, None))(ks, 1.0), stacked(g, ks, 1.0, in_axes=(0, None)))


def test_strategies_agree_and_auto_picks_loops_for_scalar_loops():
    ns = np.array([1, 2, 3, 6, 7, 27])
    for s in ("vectorize", "loop"):
        same(mo.jit(mo.vmap(collatz_steps, strategy=s), backend="native")(ns), stacked(collatz_steps, ns))
    src = mo.jit(mo.vmap(collatz_steps), backend="native").lower(ns).source
    assert "while" in src and "for b in range" in src  # auto: a loop over the batch
    ir = str(mo.vmap(affine, in_axes=(0, None, None)).lower(np.ones((2, 3)), np.ones((4, 3)), np.ones(4)).ir)
    assert "for_range" not in ir  # array code is vectorised


def count_positive(x):
    out = []
    for v in x:
        if v > 0.0:
            out.append(v)
    return len(out)


def test_ragged_appends_are_refused_vectorised_and_run_member_by_member_by_default():
    X = np.array([[1.0, -1.0, 2.0], [-1.0, -2.0, 3.0]])
    with pytest.raises(mo.MorphismError, match="different lengths"):
        mo.vmap(count_positive, strategy="vectorize")(X)
    same(mo.vmap(count_positive)(X), np.array([2, 1]))
    same(mo.jit(mo.vmap(count_positive), backend="native")(X), np.array([2, 1]))


def test_static_arguments_and_star_args():
    def f(x, n, flip):
        s = 0.0
        for i in range(n):
            s += x * i
        return -s if flip else s

    xs = np.array([1.0, 2.0])
    same(mo.vmap(f, in_axes=(0, None, None), static_argnums=(1, 2))(xs, 3, None), np.array([3.0, 6.0]))
    same(mo.vmap(f, in_axes=(0, None, None), static_argnums=(1, 2))(xs, 3, (0, -1)), -np.array([3.0, 6.0]))

    def g(*xs):
        return xs[0] * xs[1]

    same(mo.vmap(g, in_axes=(0, None))(xs, 3.0), xs * 3.0)
    same(mo.vmap(g, in_axes=(None, 0))(3.0, xs), xs * 3.0)
