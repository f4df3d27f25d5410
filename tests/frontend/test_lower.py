"""Frontend semantics that the program corpus does not pin down on its own."""

import math

import numpy as np
import pytest

import morphism as mo
from morphism.ir.verify import verify

SCALE = 2.0


def scaled(x):
    return x * SCALE


def test_specialises_on_dtype_and_ndim_not_shape():
    def f(x):
        return x.sum() if False else x * 2.0

    j = mo.jit(f)
    j(np.ones(3))
    j(np.ones(7))
    assert len(j.cache) == 1
    j(np.ones((2, 2)))
    j(np.ones(3, dtype=np.int64))
    j(1.5)
    assert len(j.cache) == 4


def test_globals_are_constants_and_their_identity_is_in_the_cache_key():
    global SCALE
    j = mo.jit(scaled)
    assert j(3.0) == 6.0
    old = SCALE
    try:
        SCALE = 5.0
        assert j(3.0) == 15.0
    finally:
        SCALE = old


def test_closure_rebinding_recompiles():
    k = 1.0

    def f(x):
        return x + k

    j = mo.jit(f)
    assert j(1.0) == 2.0
    k = 10.0  # noqa: F841  (read through the closure cell)
    assert j(1.0) == 11.0


def test_int_carry_widens_to_float():
    def f(n):
        s = 0
        for i in range(n):
            s = s + 0.5
        return s

    ir = mo.make_ir(f)(3)
    verify(ir)
    assert "f64" in str(ir).splitlines()[0]
    assert mo.jit(f)(3) == 1.5


def test_alias_sees_writes():
    def f(n):
        a = np.zeros(n)
        b = a
        b[1] = 5.0
        for i in range(n):
            b[i] += 1.0
        return a

    np.testing.assert_array_equal(mo.jit(f)(3), f(3))


def test_view_write_back_through_nested_subscript():
    def f(n):
        a = np.zeros((n, n))
        a[1][2] = 3.0
        return a

    np.testing.assert_array_equal(mo.jit(f)(3), f(3))


def test_loop_variable_after_break_and_local_after_loop():
    def f(x):
        for i in range(len(x)):
            last = x[i]
            if x[i] < 0:
                break
        return i, last

    x = np.array([1.0, 2.0, -3.0, 4.0])
    assert mo.jit(f)(x) == f(x)


def test_static_argnums_by_value():
    def f(x, n):
        y = x
        for i in range(n):
            y = y * x
        return y

    j = mo.jit(f, static_argnums=1)
    assert j(2.0, 3) == 16.0
    assert j(2.0, 4) == 32.0
    assert len(j.cache) == 2


def test_keyword_and_default_arguments():
    def g(x, scale=2.0, *, shift=0.0):
        return x * scale + shift

    def f(x):
        return g(x) + g(x, 3.0) + g(x, shift=1.0) + g(scale=1.0, x=x)

    assert mo.jit(f)(1.0) == f(1.0)


def test_math_and_numpy_by_identity():
    from numpy import sin as npsin

    import numpy as xp

    def f(x):
        return math.sin(x) + npsin(x) + xp.sin(x)

    ir = str(mo.make_ir(f)(0.3))
    # The three spellings reach one primitive, so CSE leaves a single sin.
    assert ir.count(" sin ") == 1
    assert mo.jit(f)(0.3) == pytest.approx(f(0.3))


def test_python_semantics_of_builtins():
    def f(a, b):
        return max(a, b), min(a, b), abs(a), int(a), round(b), math.floor(a)

    for a, b in [(1.5, 2.5), (-1.5, 3.5), (2.0, 2.0)]:
        got = mo.jit(f)(a, b)
        assert tuple(got) == f(a, b)
        assert all(type(g).__name__.startswith(("int", "float")) for g in got)


def test_printed_ir_keeps_names_types_and_locations():
    def f(x, n):
        acc = 0.0
        for i in range(n):
            acc = acc + math.sin(x)
        return acc

    text = str(mo.make_ir(f)(1.0, 3))
    lines = text.splitlines()
    assert lines[0] == "func f(x:f64, n:i64) -> f64"
    # sin(x) does not depend on the loop: loop-invariant code motion moved it in front.
    assert lines[1].startswith("  _1:f64 = sin x") and "test_lower.py:" in lines[1]
    assert "acc:f64 = for_range i:i64 in 0..n carry (acc_1:f64 = 0.0)" in lines[2]
    assert "test_lower.py:" in lines[2]
    assert "    acc_2:f64 = add acc_1 _1" in lines[3]
    assert lines[-1] == "  return acc"


def test_short_circuit_guards_out_of_bounds():
    def f(x, t):
        i = 0
        while i < len(x) and x[i] < t:
            i += 1
        return i

    x = np.arange(5.0)
    assert mo.jit(f)(x, 100.0) == 5


def test_recursion_becomes_call():
    def fact(n):
        if n <= 1:
            return 1
        return n * fact(n - 1)

    ir = mo.make_ir(fact)(5)
    assert "call[func=@" in str(ir)
    assert mo.jit(fact)(10) == math.factorial(10)


def test_disable_jit_runs_python():
    calls = []

    def f(x):
        return x + 1

    with mo.disable_jit():
        assert mo.jit(f)(1.0) == 2.0


def test_basic_slices_are_views_of_their_base():
    """NumPy semantics: a basic slice shares memory with its base, both ways."""

    def read_then_write(A, col):
        B = A.copy()
        first = B[:, 0]
        B[:, 0] = col
        B[0, 0] = -1.0
        return first, B

    def write_through_view(n):
        a = np.zeros((n, 3))
        row = a[1]
        row[2] = 7.0
        row += 1.0
        t = a.T
        t[0, 0] = 5.0
        return a

    def view_across_loop(n):
        a = np.zeros(n)
        head = a[:2]
        for i in range(n):
            a[i] = i * 1.5
        return head.sum()

    A = np.arange(6.0).reshape(3, 2)
    col = np.array([10.0, 20.0, 30.0])
    for got, want in zip(mo.jit(read_then_write)(A, col), read_then_write(A, col)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(mo.jit(write_through_view)(3), write_through_view(3))
    assert mo.jit(view_across_loop)(4) == view_across_loop(4)


def test_scalar_reads_and_fancy_indexing_are_copies():
    def f(a, idx):
        b = a.copy()
        x = b[0]
        sel = b[idx]
        b[0] = 100.0
        b[idx] = -1.0
        return x, sel, b

    a = np.arange(5.0)
    idx = np.array([1, 3])
    for got, want in zip(mo.jit(f)(a, idx), f(a, idx)):
        np.testing.assert_array_equal(got, want)


def test_nested_subscript_writes_follow_numpy():
    def f(n, idx):
        a = np.zeros((n, 3))
        a[1][2] = 3.0
        a[idx][0] = 9.0  # advanced indexing made a copy: no effect, as in NumPy
        a[2:][0] = 4.0  # a basic slice is a view: the write reaches `a`
        return a

    idx = np.array([0, 1])
    np.testing.assert_array_equal(mo.jit(f)(4, idx), f(4, idx))


def test_static_iteration_sorted_and_reversed():
    def f(x, d):
        s = 0.0
        for k in d:
            s += d[k]
        for i, v in enumerate((1.0, 2.0, 3.0)):
            s += i * v
        for a, b in zip((1.0, 2.0), (3.0, 4.0)):
            s += a * b
        t = 0.0
        for v in reversed(x):
            t = t * 0.5 + v
        for i in reversed(range(1, 7, 2)):
            t += i
        return s, sorted(x), t, sorted(x, reverse=True)[0]

    x = np.array([3.0, 1.0, 2.0])
    d = {"a": 1.5, "b": 2.5}
    got, want = mo.jit(f, backend="interpreter")(x, d), f(x, d)
    assert got[0] == want[0] and got[2] == want[2] and got[3] == want[3]
    assert isinstance(got[1], list) and [float(v) for v in got[1]] == [float(v) for v in want[1]]


def test_slicing_a_list_gives_a_list():
    def stack_ops(n):
        st = []
        for i in range(n):
            st.append(i * 2)
        total = 0
        while len(st) > 0:
            total += st[-1]
            st = st[:-1]
        return total, st

    got, want = mo.jit(stack_ops, backend="interpreter")(5), stack_ops(5)
    assert got[0] == want[0] and list(got[1]) == want[1] == []


def test_licm_never_hoists_what_could_raise():
    def f(x, n):
        s = 0.0
        for i in range(n):
            s += x[5] * 2.0  # x[5] would raise on a short x: it must stay in the (empty) loop
        return s

    assert mo.jit(f, backend="interpreter")(np.ones(3), 0) == 0.0
    ir = str(mo.make_ir(f)(np.ones(3), 2))
    loop_at = next(k for k, l in enumerate(ir.splitlines()) if "for_range" in l)
    assert all("getitem" not in l for l in ir.splitlines()[:loop_at])


def test_augmented_assignment_into_a_region_follows_numpy():
    # `x[idx] += v` with a basic index is one scatter_add (its cotangent passes x's through);
    # with an array index it reads, adds and writes, so a repeated index adds once, as in NumPy.
    def f(x, c, idx):
        y = x * 1.0
        for i in range(2):
            y[:, i + 1] += c[i] * x[:, i]
            y[0, i] -= c[i]
        y[1:] += y[:-1]  # overlapping: NumPy adds the old values
        y[idx] += 1.0  # idx repeats 0: added once
        k = np.zeros(3, dtype=np.int64)
        k[1:] += 2  # an int array with an int value
        k[0] += True
        return y, k

    x, c, idx = np.arange(12.0).reshape(4, 3) / 7.0, np.array([0.5, -2.0]), np.array([0, 0, 2])
    want = f(x, c, idx)
    for backend in ("interpreter", "native"):
        got = mo.jit(f, backend=backend)(x, c, idx)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-14)
            assert g.dtype == w.dtype
    names = [e.prim.name for e in mo.make_ir(f)(x, c, idx).body.eqns]
    assert "scatter_add" in names

    def loss(x, c):
        y = f(x, c, idx)[0]
        return np.sum(y * y)

    gx, gc = mo.grad(loss, argnums=(0, 1))(x, c)
    h = 1e-6
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        np.testing.assert_allclose(gc[k], (loss(x, c + e) - loss(x, c - e)) / (2 * h), rtol=1e-6)
    e = np.zeros_like(x)
    e[2, 1] = h
    np.testing.assert_allclose(gx[2, 1], (loss(x + e, c) - loss(x - e, c)) / (2 * h), rtol=1e-6)


def test_augmented_assignment_that_changes_dtype_is_refused_as_in_numpy():
    def f(n):
        k = np.zeros(n, dtype=np.int64)
        k[1:] += 0.5
        return k

    with pytest.raises(Exception):
        f(3)
    with pytest.raises(mo.MorphismError):
        mo.jit(f)(3)
