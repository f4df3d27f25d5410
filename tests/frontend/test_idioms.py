"""Python idioms of ordinary model code (issue 12): each compiled on both backends against
plain Python, derivatives against finite differences where they make sense."""

import dataclasses
import functools
import types

import numpy as np
import pytest

import morphism as mo

BACKENDS = ("interpreter", "native")
X2 = np.arange(12.0).reshape(3, 4)
X3 = np.arange(24.0).reshape(2, 3, 4)


def same(f, *args):
    want = f(*args)
    for b in BACKENDS:
        got = mo.jit(f, backend=b)(*args)
        for g, w in zip(_leaves(got), _leaves(want)):
            np.testing.assert_allclose(g, w, err_msg=f"backend {b}")


def _leaves(v):
    if isinstance(v, (tuple, list)):
        return [x for item in v for x in _leaves(item)]
    return [np.asarray(v, dtype=float)]


def fd_grad(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


# ---- 1. list(...), tuple(...), error messages name Python things -------------------------------


def list_of_range(n):
    s = 0
    for v in list(range(n)):
        s += v
    return s, len(list(range(2, n)))


def list_and_tuple_of_records(x):
    rows = list(x)
    t = tuple([x, 2.0 * x])
    u = tuple(k for k in (1.0, 2.0))
    return rows[0] + rows[1] + t[1] + u[1]


def test_list_and_tuple():
    same(list_of_range, 5)
    same(list_and_tuple_of_records, X2)


def bad_range_arith(n):
    return range(n) + 1.0


def test_errors_name_python_objects_not_internal_classes():
    with pytest.raises(mo.MorphismError) as e:
        mo.jit(bad_range_arith, backend="interpreter")(3)
    assert "range(...)" in str(e.value) and "RangeVal" not in str(e.value)
    from morphism.frontend.values import describe

    assert describe(np.mgrid) == "the Python object numpy.mgrid"
    assert " at 0x" not in describe(object())


# ---- 2. slices of records, slice objects --------------------------------------------------------


def shape_slices(x):
    a, b = x.shape[:2]
    t = (x, 2.0, 3.0)
    layers = [x, 2 * x, 3 * x]
    s = 0.0
    for layer in layers[1:]:
        s = s + layer.sum()
    return np.prod(x.shape[1:]) + a * b + t[1:][0] + t[::-1][-1].sum() + s


def slice_objects(x):
    s = slice(1, None)
    y = x.copy()
    y[s] = 0.0
    idx = (slice(None), 0)
    parts = {"rows": slice(0, 2)}
    return x[s].sum() + y.sum() + x[idx].sum() + x[parts["rows"]].sum()


def test_slices():
    same(shape_slices, X3)
    same(slice_objects, X2)


# ---- 3. conditions known at compile time ---------------------------------------------------------


def flatten_if_3d(x):
    if x.ndim > 2:
        x = x.reshape(x.shape[0], -1)
    return x


def optional(x, y=None):
    if y is not None:
        x = x + y
    return x if y is None else (x, y)


def folded_tests(x):
    n, t, z, f = 3, (1, 2), 2.0, np.sin
    a = x.sum() if isinstance(x, np.ndarray) else (1, 2)
    if isinstance(n, int) and isinstance(t, tuple) and len(x.shape) == 2:
        a = a + 1.0
    r = x if callable(f) else (1, 2)
    q = 1.0 if type(z) is float else (1,)
    h = 3.0 if hasattr(x, "shape") else (1,)
    w = (x.ndim == 3 and (1,)) or (x.ndim == 2 and 5.0)
    return a, r, q, h, w


def test_folded_conditions():
    same(flatten_if_3d, X3)
    same(flatten_if_3d, X2)
    same(optional, X2)
    same(optional, X2, 1.0)
    same(folded_tests, X2)


# ---- 4. constants read from objects' attributes --------------------------------------------------


class Model:
    def __init__(self):
        self.pool_shape = (2, 3)
        self.w = np.arange(6.0)
        self.scale = 2.0

    def forward(self, x):
        n = self.pool_shape[0] * self.pool_shape[1]
        return x[:n] * self.w[:n] * self.scale


MODEL = Model()
CFG = types.SimpleNamespace(k=3, arr=np.ones(3))


@dataclasses.dataclass
class Settings:
    a: float
    t: tuple


SETTINGS = Settings(1.5, (1, 2))


def uses_attributes(x):
    return MODEL.forward(x).sum() + CFG.k * CFG.arr.sum() + SETTINGS.a * SETTINGS.t[1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_object_attributes_are_constants_and_never_stale(backend):
    x = np.arange(10.0)
    f = mo.jit(uses_attributes, backend=backend)
    try:
        assert f(x) == uses_attributes(x)
        MODEL.scale, CFG.k, MODEL.pool_shape = 3.0, 5, (1, 2)
        assert f(x) == uses_attributes(x)
        MODEL.w[1] = 100.0  # arrays by reference
        assert f(x) == uses_attributes(x)
    finally:
        MODEL.scale, CFG.k, MODEL.pool_shape, MODEL.w[1] = 2.0, 3, (2, 3), 1.0


# ---- 5. dicts keyed by objects, dict comprehensions ------------------------------------------------


def dict_by_object(x):
    d = {np.sin: x, "b": 2.0 * x, (1, 2): x[0]}
    e = {k: v * 2 for k, v in d.items() if k != (1, 2)}
    s = 0.0
    for k in d.keys():
        s += d[k].sum()
    for v in d.values():
        s += v.sum()
    return s + e["b"].sum() + d[np.sin].sum() + d[(1, 2)].sum()


def test_dicts():
    same(dict_by_object, X2)
    g = mo.grad(lambda c: dict_by_object(c * X2))(1.5)
    np.testing.assert_allclose(g, fd_grad(lambda c: dict_by_object(c * X2), 1.5), rtol=1e-6)


# ---- 6. generators, map, partial, zip(*), starred assignment ----------------------------------------


def generators(xs):
    a = sum(x * x for x in xs)
    b = max(x for x in xs)
    c = any(x > 2 for x in xs)
    d = tuple(x + 1 for x in xs)
    e = np.array([x * 2 for x in xs])
    f = list(map(lambda u: u * 3, xs))
    return a, b, c, d[0], e, f[2]


def generators_at_run_time(x):
    a = sum(r * r for r in x)
    m = list(map(lambda r: r.sum(), x))
    return a, np.array(m), all(r.sum() > -1 for r in x)


def add(a, b):
    return a + b


ADD2 = functools.partial(add, 2.0)


def partials(x):
    g = functools.partial(add, 1.0)
    h = functools.partial(lambda a, b: a * b, b=3.0)
    return g(x) + ADD2(x) + h(x)


def starred(x):
    first, *_ = x.shape
    a, *rest = (1.0, 2.0, 3.0)
    *init, last = x.shape
    cols = list(zip(*((1.0, 2.0), (3.0, 4.0))))
    return first + a + rest[1] + cols[1][0] + init[0] * last


def test_generators_map_partial_starred():
    same(generators, (1.0, 2.0, 3.0))
    same(generators_at_run_time, X2)
    same(partials, X2)
    same(starred, X2)
    g = mo.grad(lambda c: generators((c, 2.0 * c, 3.0))[0])(1.5)
    np.testing.assert_allclose(g, fd_grad(lambda c: generators((c, 2.0 * c, 3.0))[0], 1.5), rtol=1e-6)


# ---- 7. x.shape = ... ---------------------------------------------------------------------------------


def set_shape(x):
    s = x.copy()
    s.shape = (x.size,)
    return s


def test_shape_assignment_is_a_reshape():
    same(set_shape, X2)
    ir = str(mo.make_ir(set_shape)(X2))
    assert "reshape" in ir


# ---- 8. transformations inside compiled code ----------------------------------------------------------


def gsum(c, pts):
    return np.sum(np.sin(pts * c))


def jvp_inside(c):
    pts = np.linspace(0, 1, 5)
    return mo.jvp(gsum, (c, pts), (1.0, np.zeros(5)))


def jac_inside(v):
    return mo.jacfwd(gsum)(v, v), mo.hessian(gsum)(v, v), mo.value_and_grad(gsum)(v, v)


def test_transformations_inside_compiled_code():
    for b in BACKENDS:
        y, t = mo.jit(jvp_inside, backend=b)(1.5)
        np.testing.assert_allclose(y, gsum(1.5, np.linspace(0, 1, 5)))
        np.testing.assert_allclose(t, fd_grad(lambda c: gsum(c, np.linspace(0, 1, 5)), 1.5), rtol=1e-6)
        j, h, (val, g) = mo.jit(jac_inside, backend=b)(0.7)
        np.testing.assert_allclose(j, g)
        np.testing.assert_allclose(val, gsum(0.7, 0.7))


def jvp_of_lambda(c):
    return mo.jvp(lambda cc: cc * 2.0, (c,), (1.0,))


def test_transformation_of_a_local_function():
    # (more in tests/frontend/test_transforms_inside.py)
    assert mo.jit(jvp_of_lambda, backend="interpreter")(1.0) == (2.0, 2.0)


# ---- 9. ragged lists ------------------------------------------------------------------------------------


def ragged_append(x):
    lst = []
    for i in range(3):
        lst.append(x[: i + 1, 0])
    return np.array(lst)


def ragged_literal(x):
    return np.array([x[0], x[0, :2]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_ragged_lists_are_clear_errors(backend):
    for f in (ragged_append, ragged_literal):
        with pytest.raises(ValueError) as e:
            mo.jit(f, backend=backend)(X2)
        assert "test_idioms.py:" in str(e.value) and "shape" in str(e.value)
