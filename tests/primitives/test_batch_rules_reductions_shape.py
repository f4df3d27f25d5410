"""Batch rules (vmap) of the reduction, shape and creation primitives.

The oracle is the function itself: `vmap(f)(X)` must equal `np.stack([f(x) for x in X])`,
values, dtypes and shapes. Two levels:

- each primitive alone, batched by `batch_func` with every pattern of batched operands, its
  IR verified by the type rules, run by the interpreter against the primitive's own impl
  member by member, and required to be vectorised (no loop over the batch);
- user functions calling the NumPy API that lowers to these primitives, through `mo.vmap`
  (in_axes, out_axes, nesting, grad inside), with the interpreter and, for a subset, native.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import morphism as mo
import morphism.primitives.families  # noqa: F401  (fills the registry)
from morphism.backends.interpreter import run_func
from morphism.ir.builder import Builder, building
from morphism.ir.core import DType, Func, Var, make_type
from morphism.ir.verify import verify
from morphism.primitives import creation as C
from morphism.primitives import reductions as R
from morphism.primitives import shape as S
from morphism.primitives.registry import NOT_APPLICABLE, Primitive
from morphism.transforms.batchutil import BatchingError
from morphism.transforms.vmap import batch_func

rng = np.random.default_rng(0)


def same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype, f"dtype {g.dtype}, member by member {w.dtype}"
    assert g.shape == w.shape, f"shape {g.shape}, member by member {w.shape}"
    np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, equal_nan=True)


def stacked(f, *cols, in_axes=0, out_axes=0, static=()):
    """The reference: f member by member (static arguments passed as they are), stacked on
    `out_axes`."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(cols)
    n = next(np.shape(c)[a] for c, a in zip(cols, axes) if a is not None)
    outs = [f(*[c if a is None else np.take(c, b, axis=a) for c, a in zip(cols, axes)], *static) for b in range(n)]
    if isinstance(outs[0], tuple):
        return tuple(np.moveaxis(np.stack(o), 0, out_axes) for o in zip(*outs))
    return np.moveaxis(np.stack(outs), 0, out_axes)


_VMAPS: dict = {}


def with_static(f, static):
    """`f` with its last arguments fixed to `static` (closed over: compiled as constants)."""
    n = f.__code__.co_argcount - len(static)

    def member1(a):
        return f(a, *static)

    def member2(a, b):
        return f(a, b, *static)

    return {1: member1, 2: member2}[n]


def vmapped(f, in_axes=0, out_axes=0, static=(), native=False):
    """`mo.vmap(f)` with its last arguments `static`, built once (so compilations are cached
    across hypothesis examples)."""
    key = (f, in_axes, out_axes, static, native)
    if key not in _VMAPS:
        g = mo.vmap(with_static(f, static) if static else f, in_axes=in_axes, out_axes=out_axes,
                    strategy="vectorize")
        _VMAPS[key] = mo.jit(g, backend="native") if native else g
    return _VMAPS[key]


def check(f, *cols, static=(), in_axes=0, out_axes=0, native=False):
    """vmap(f)(*cols) (with `static` as f's last arguments) against stacking f over the members;
    returns the result."""
    want = stacked(f, *cols, in_axes=in_axes, out_axes=out_axes, static=static)
    got = vmapped(f, in_axes, out_axes, static, native)(*cols)
    same(got, want)
    return got


def vmap_ir(f, *args, in_axes=0, static=()) -> str:
    return str(vmapped(f, in_axes, 0, static).lower(*args).ir)


def sample(shape, dtype, nans=False):
    if dtype == "float64":
        x = rng.normal(size=shape)
        if nans and x.size:
            x[rng.random(shape) < 0.2] = np.nan
        return x
    if dtype == "int64":
        return rng.integers(-4, 5, size=shape).astype(np.int64)
    return rng.random(shape) < 0.5


# ---- every primitive of the three families has a batch rule ------------------------------------


FAMILY_PRIMS = sorted({p for m in (R, S, C) for p in vars(m).values() if isinstance(p, Primitive)},
                      key=lambda p: p.name)


@pytest.mark.parametrize("prim", FAMILY_PRIMS, ids=lambda p: p.name)
def test_every_primitive_has_a_batch_rule(prim):
    r = prim.batch
    assert callable(r) or isinstance(r, NOT_APPLICABLE) and r.reason, f"{prim.name} has no batch rule"


# ---- each primitive alone, every pattern of batched operands -----------------------------------


def _dtype(v):
    return {"f": DType.float64, "i": DType.int64, "b": DType.bool}[v.dtype.kind]


def batch_prim(prim, members, flags, **params):
    """`prim` batched by batch_func over operands `members` (a list of per-member operand lists;
    an unbatched operand takes member 0's value), run by the interpreter. Returns the result
    and the batched IR."""
    first = members[0]
    xs = [Var(make_type(_dtype(np.asarray(v)), np.ndim(v)), f"x{k}") for k, v in enumerate(first)]
    b = Builder()
    with building(b):
        out = prim(*xs, **params)
    f = Func(prim.name, b.block(xs, [out]))
    g = verify(batch_func(f, flags))
    args = [np.stack([np.asarray(m[k]) for m in members]) if fl else first[k] for k, fl in enumerate(flags)]
    (res,) = run_func(g, args)
    return res, str(g)


def check_prim(prim, members, batchable=None, **params):
    """The batch rule of `prim` against its impl member by member, for every pattern of batched
    operands among the first `batchable` (all by default; the others, dims, are the same for
    every member, as is an unbatched operand)."""
    n = len(members[0])
    nb = n if batchable is None else batchable
    for lead in itertools.product([False, True], repeat=nb):
        if not any(lead):
            continue
        flags = (*lead, *[False] * (n - nb))
        ms = [[m[k] if fl else members[0][k] for k, fl in enumerate(flags)] for m in members]
        want = np.stack([np.asarray(prim.impl(*m, **params)) for m in ms])
        got, ir = batch_prim(prim, ms, list(flags), **params)
        assert "for_range" not in ir, f"{prim.name} with batched operands {flags} is not vectorised:\n{ir}"
        same(np.asarray(got), want)


def _members(make, n=3):
    return [make() for _ in range(n)]


@given(ndim=st.integers(0, 3), dtype=st.sampled_from(["float64", "int64", "bool"]), data=st.data(),
       keepdims=st.booleans(), name=st.sampled_from(["reduce_sum", "reduce_prod", "reduce_max", "reduce_min",
                                                     "reduce_any", "reduce_all"]))
@settings(max_examples=60, deadline=None)
def test_reduction_primitives(ndim, dtype, data, keepdims, name):
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.one_of(st.none(), st.lists(st.integers(0, max(ndim - 1, 0)), unique=True,
                                                       max_size=ndim).map(lambda a: tuple(sorted(a)))))
    check_prim(getattr(R, name), _members(lambda: [sample(shape, dtype)]), axis=axis, keepdims=keepdims)


@given(ndim=st.integers(1, 3), data=st.data(), keepdims=st.booleans(), prim=st.sampled_from([R.argmax, R.argmin]))
@settings(max_examples=30, deadline=None)
def test_arg_extremum_primitives(ndim, data, keepdims, prim):
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    axis = data.draw(st.one_of(st.none(), st.integers(0, ndim - 1)))
    check_prim(prim, _members(lambda: [sample(shape, "int64")]), axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("prim,params", [(R.cumsum, {}), (R.cumprod, {}), (R.sort, {}),
                                         (R.argsort, {"kind": "stable"})], ids=lambda p: getattr(p, "name", ""))
@pytest.mark.parametrize("shape,axis", [((4,), 0), ((2, 3), 0), ((2, 3), 1), ((2, 3, 2), 1)])
def test_scan_and_sort_primitives(prim, params, shape, axis):
    check_prim(prim, _members(lambda: [sample(shape, "int64")]), axis=axis, **params)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("vshape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_searchsorted_primitive(side, vshape, dtype):
    # ties with the values and NaNs (sorted last) in both operands
    def member():
        a = np.sort(np.concatenate([sample((5,), dtype), [1, 1]]).astype(dtype))
        v = sample(vshape, dtype)
        if dtype == "float64":
            a[-1] = np.nan
            v = np.where(rng.random(vshape) < 0.3, 1.0, v)
            if v.ndim:
                v.flat[0] = np.nan
        return [a, v]

    check_prim(R.searchsorted, _members(member, 4), side=side)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("shape,axis", [((4,), 0), ((3, 2), 0), ((3, 2), 1)])
def test_linear_scan_primitive(reverse, shape, axis):
    check_prim(R.linear_scan, _members(lambda: [sample(shape, "float64"), sample(shape, "float64")]),
               axis=axis, reverse=reverse)


@pytest.mark.parametrize("prim,axis", [(S.stack, 0), (S.stack, 1), (S.stack, -1), (S.concatenate, 0),
                                       (S.concatenate, -1)], ids=str)
def test_join_primitives(prim, axis):
    check_prim(prim, _members(lambda: [sample((2, 3), "float64"), sample((2, 3), "int64"),
                                       sample((2, 3), "bool")]), axis=axis)


def test_shape_primitives():
    x = lambda: [sample((2, 3, 1), "float64")]  # noqa: E731
    check_prim(S.reshape, _members(lambda: x() + [3, 2]), batchable=1)
    check_prim(S.transpose, _members(x), perm=(2, 0, 1))
    check_prim(S.squeeze, _members(x), axes=(-1,))
    check_prim(S.copy, _members(x))
    check_prim(S.roll, _members(lambda: x() + [int(rng.integers(-5, 5))]), axis=1)
    check_prim(S.roll, _members(lambda: x() + [int(rng.integers(-5, 5))]), axis=-3)
    check_prim(S.range_len, _members(lambda: [int(v) for v in rng.integers(-6, 6, 2)] + [int(rng.choice([-2, 1, 3]))]))


def test_broadcast_to_primitive():
    check_prim(S.broadcast_to, _members(lambda: [sample((3, 1), "float64"), 2, 3, 4]), batchable=1)
    check_prim(S.broadcast_to, _members(lambda: [sample((), "int64"), 2]), batchable=1)


@pytest.mark.parametrize("dtype", [DType.float64, DType.int64, DType.bool])
def test_full_primitive(dtype):
    check_prim(C.full, _members(lambda: [float(rng.normal() * 3), 2, 3]), batchable=1, dtype=dtype)
    check_prim(C.full, _members(lambda: [int(rng.integers(-3, 3))]), dtype=dtype)  # no dims: a scalar


@pytest.mark.parametrize("num", [0, 1, 2, 5])
@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("dtype", [DType.float64, DType.int64])
def test_linspace_primitive(num, endpoint, dtype):
    check_prim(C.linspace, _members(lambda: [float(rng.normal() * 4), float(rng.normal() * 4), num]), batchable=2,
               endpoint=endpoint, dtype=dtype)


@pytest.mark.parametrize("prim,members,params", [
    (C.zeros, [[2, 3], [2, 4]], {"dtype": DType.float64}),
    (C.full, [[1.0, 2], [1.0, 3]], {"dtype": DType.float64}),
    (C.arange, [[0, 3, 1], [0, 4, 1]], {"dtype": DType.int64}),
    (C.linspace, [[0.0, 1.0, 3], [0.0, 1.0, 4]], {"endpoint": True, "dtype": DType.float64}),
    (S.reshape, [[np.zeros(6), 2, 3], [np.zeros(6), 3, 2]], {}),
    (S.broadcast_to, [[np.zeros(3), 2, 3], [np.zeros(3), 3, 3]], {}),
], ids=lambda p: getattr(p, "name", ""))
def test_batched_dims_are_refused(prim, members, params):
    flags = [False] * len(members[0])
    flags[-1] = True
    with pytest.raises(BatchingError, match="the shape of an array depends on a batched value"):
        batch_prim(prim, members, flags, **params)


# ---- user functions: reductions -----------------------------------------------------------------


def np_sum(x, axis, keepdims):
    return np.sum(x, axis=axis, keepdims=keepdims)


def np_prod(x, axis, keepdims):
    return np.prod(x, axis=axis, keepdims=keepdims)


def np_max(x, axis, keepdims):
    return np.max(x, axis=axis, keepdims=keepdims)


def np_min(x, axis, keepdims):
    return x.min(axis=axis, keepdims=keepdims)


def np_any(x, axis, keepdims):
    return np.any(x, axis=axis, keepdims=keepdims)


def np_all(x, axis, keepdims):
    return x.all(axis=axis, keepdims=keepdims)


def np_argmax(x, axis, keepdims):
    return np.argmax(x, axis=axis, keepdims=keepdims)


def np_argmin(x, axis, keepdims):
    return x.argmin(axis=axis, keepdims=keepdims)


@st.composite
def batch_and_axis(draw, dtypes=("float64", "int64", "bool"), min_ndim=0, tuples=True):
    ndim = draw(st.integers(min_ndim, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    X = sample((draw(st.integers(1, 3)), *shape), draw(st.sampled_from(dtypes)))
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
    if tuples and ndim:
        choices.append(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(
            lambda axes: tuple(a - ndim if i % 2 else a for i, a in enumerate(axes))))
    return X, draw(st.one_of(*choices)), draw(st.booleans())


@given(case=batch_and_axis(), f=st.sampled_from([np_sum, np_prod, np_max, np_min, np_any, np_all]))
@settings(max_examples=80, deadline=None)
def test_reductions(case, f):
    X, axis, keepdims = case
    check(f, X, static=(axis, keepdims))


@given(case=batch_and_axis(dtypes=("float64", "int64"), min_ndim=1, tuples=False),
       f=st.sampled_from([np_argmax, np_argmin]))
@settings(max_examples=40, deadline=None)
def test_arg_extrema(case, f):
    X, axis, keepdims = case
    check(f, X, static=(axis, keepdims))


def scans_and_sorts(x, axis):
    return np.cumsum(x, axis=axis), np.cumprod(x, axis=axis), np.sort(x, axis=axis), np.argsort(x, axis=axis,
                                                                                                kind="stable")


@given(case=batch_and_axis(dtypes=("float64", "int64"), min_ndim=1, tuples=False))
@settings(max_examples=30, deadline=None)
def test_scans_and_sorts(case):
    X, axis, _ = case
    check(scans_and_sorts, X, static=(axis,))


def composite_stats(x):
    # mean, var, std, median, diff, nan-reductions: composites of the primitives above
    return (np.mean(x, axis=0), np.var(x, axis=-1), np.std(x), np.median(x, axis=1), np.diff(x, axis=0),
            np.nansum(x, axis=1), np.nanmax(x, axis=0), np.ptp(x, axis=1))


def test_composite_reductions():
    check(composite_stats, sample((4, 3, 5), "float64"))
    check(composite_stats, sample((4, 3, 5), "float64", nans=True))


def searchsorted_right(a, v):
    return np.searchsorted(a, v, side="right")


def searchsorted_left(a, v):
    return np.searchsorted(a, v)


@pytest.mark.parametrize("f", [searchsorted_left, searchsorted_right])
@pytest.mark.parametrize("in_axes", [(0, 0), (None, 0), (0, None)], ids=str)
def test_searchsorted(f, in_axes):
    A = np.sort(sample((4, 6), "float64"), axis=1)
    A[:, 2] = A[:, 1]  # a tie
    V = sample((4, 3), "float64")
    V[:, 0] = A[:, 1]
    cols = [A if in_axes[0] == 0 else A[0], V if in_axes[1] == 0 else V[0]]
    check(f, *cols, in_axes=in_axes)
    assert "for_range" not in vmap_ir(f, *cols, in_axes=in_axes)


def cumprod_weighted(x, w):
    return np.sum(np.cumprod(x, axis=-1) * w)


def cumprod_of(x):
    return np.cumprod(x, axis=0)


def test_linear_scan_through_derivatives_of_cumprod():
    # the derivatives of cumprod are linear scans: vmap over grad, jacrev (the vjp batched over
    # the rows of the identity) and jacfwd batches them
    X = sample((4, 2, 5), "float64")
    w = sample((2, 5), "float64")
    g = mo.grad(cumprod_weighted)
    same(mo.vmap(g, in_axes=(0, None))(X, w), np.stack([g(x, w) for x in X]))
    same(mo.vmap(g, in_axes=(None, 0))(X[0], X), np.stack([g(X[0], v) for v in X]))
    for jac in (mo.jacrev, mo.jacfwd):
        J = jac(cumprod_of)
        same(mo.vmap(J)(X), np.stack([J(x) for x in X]))


# ---- user functions: shapes ----------------------------------------------------------------------


def join(x, y, axis):
    return np.concatenate([x, y], axis=axis), np.stack([x, y], axis=axis), np.stack([y, x, y], axis=axis)


@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0), (1, 0)], ids=str)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_joins(in_axes, axis):
    X = sample((4, 2, 3), "float64")
    Y = sample((4, 2, 3), "int64")
    cols = [X if in_axes[0] == 0 else np.swapaxes(X, 0, 1) if in_axes[0] == 1 else X[0],
            Y if in_axes[1] == 0 else Y[0]]
    check(join, *cols, static=(axis,), in_axes=in_axes)


def shapes(x):
    return (x.reshape(-1), x.reshape(3, -1), np.reshape(x, (2, 1, 3)), x.T, np.transpose(x, (1, 0)),
            np.broadcast_to(x, (4, 2, 3)), np.squeeze(x[None], axis=0), x.ravel(), np.expand_dims(x, -1),
            np.swapaxes(x, 0, 1), np.moveaxis(x[..., None], -1, 0), np.roll(x, 2, axis=1), np.roll(x, -1),
            np.flip(x, axis=1), np.atleast_3d(x))


@pytest.mark.parametrize("in_axes,out_axes", [(0, 0), (1, 0), (0, 1), (2, -1)], ids=str)
def test_shapes(in_axes, out_axes):
    X = np.moveaxis(sample((4, 2, 3), "float64"), 0, in_axes)
    check(shapes, X, in_axes=in_axes, out_axes=out_axes)


def roll_by(x, s):
    return np.roll(x, s, axis=-1), np.roll(x, s)


@pytest.mark.parametrize("in_axes", [(0, 0), (None, 0), (0, None)], ids=str)
def test_roll(in_axes):
    X = sample((5, 2, 3), "float64")
    s = np.array([0, 1, -2, 7, 3])
    check(roll_by, X if in_axes[0] == 0 else X[0], s if in_axes[1] == 0 else 4, in_axes=in_axes)


def range_lengths(a, b, c):
    return len(range(a, b, c)), len(range(b)), len(range(a, b))


@given(st.lists(st.tuples(st.integers(-8, 8), st.integers(-8, 8), st.sampled_from([-3, -1, 1, 2])),
                min_size=1, max_size=4))
@settings(max_examples=25, deadline=None)
def test_range_len(bounds):
    a, b, c = (np.array(col, dtype=np.int64) for col in zip(*bounds))
    check(range_lengths, a, b, c)
    check(range_lengths, a, b, c[0], in_axes=(0, 0, None))


def test_range_len_of_a_zero_step_raises():
    with pytest.raises(ValueError, match="must not be zero"):
        vmapped(range_lengths)(np.array([0, 1]), np.array([3, 4]), np.array([1, 0]))


# ---- user functions: creation ------------------------------------------------------------------


def fills(s, x):
    return (np.full((2, 3), s), np.full_like(x, s), np.full((3,), s, dtype=np.int64), np.zeros_like(x) + s,
            np.ones(2) * s, np.full((), s))


def test_full():
    s = np.array([1.5, -2.25, 3.0])
    X = sample((3, 2, 2), "float64")
    check(fills, s, X)
    check(fills, s, X[0], in_axes=(0, None))
    check(fills, 2.5, X, in_axes=(None, 0))


def samples(a, b, num, endpoint):
    return np.linspace(a, b, num, endpoint=endpoint), np.linspace(a, b, num, endpoint=endpoint, dtype=np.int64)


@pytest.mark.parametrize("num", [0, 1, 2, 7])
@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0)], ids=str)
def test_linspace(num, endpoint, in_axes):
    a = np.array([0.0, -1.5, 3.0, 2.0])
    b = np.array([1.0, 4.5, 3.0, -7.0])
    check(samples, a if in_axes[0] == 0 else 0.5, b if in_axes[1] == 0 else 9.0,
          static=(num, endpoint), in_axes=in_axes)


def zeros_of(n):
    return np.zeros(n)


def arange_to(n):
    return np.arange(n)


def reshape_to(x, n):
    return x.reshape(n, -1)


def linspace_of(n):
    return np.linspace(0.0, 1.0, n)


@pytest.mark.parametrize("f,args", [(zeros_of, (np.array([2, 3]),)), (arange_to, (np.array([2, 3]),)),
                                    (linspace_of, (np.array([2, 3]),)),
                                    (reshape_to, (np.zeros((2, 6)), np.array([2, 3])))],
                         ids=["zeros", "arange", "linspace", "reshape"])
def test_shapes_from_batched_values_are_refused(f, args):
    with pytest.raises(BatchingError, match="the shape of an array depends on a batched value") as info:
        vmapped(f)(*args)
    assert "test_batch_rules_reductions_shape.py" in str(info.value)  # the user's line


# ---- nesting, and the rules are the ones used ------------------------------------------------------


def pipeline(x):
    y = np.sort(x, axis=-1)
    z = np.concatenate([y, np.cumsum(y, axis=0)], axis=1)
    w = np.transpose(z).reshape(-1, 2)
    return np.max(w, axis=0) - np.min(w) + np.argmax(z, axis=1)[0] + np.linspace(x[0, 0], 1.0, 2)


def test_nested_vmap():
    X = sample((3, 4, 2, 3), "float64")
    inner = mo.vmap(pipeline)
    got = mo.vmap(inner)(X)
    same(got, np.stack([np.stack([pipeline(x) for x in xs]) for xs in X]))
    got = mo.vmap(mo.vmap(pipeline, in_axes=1), in_axes=2)(np.moveaxis(X, (0, 1), (2, 1)))
    same(got, np.stack([np.stack([pipeline(x) for x in xs]) for xs in X]))


def vectorised(x, s):
    # no indexing here: getitem's batch rule is not part of these families
    a = np.sum(x, axis=(0, -1), keepdims=True) + np.prod(x) + np.max(x) + np.min(x, axis=0)
    b = np.argmin(x) + np.argmax(x, axis=0) + np.searchsorted(np.sort(np.sum(x, axis=0)), np.max(x, axis=0))
    c = np.cumprod(np.cumsum(x, axis=1), axis=0) + np.argsort(x, axis=0) + np.linspace(s, 2.0, 3)
    d = np.concatenate([x, np.ones((2, 3))]).reshape(3, -1).T
    e = np.roll(np.stack([x, x.T.T]), 1, axis=2) + np.full((2, 2, 3), s) + np.broadcast_to(x, (2, 2, 3))
    return a, b, c, d, e, np.any(x > 0), len(range(0, 7, 2))


def test_vectorised_rules_are_used():
    X = sample((4, 2, 3), "float64")
    s = np.arange(4.0)
    check(vectorised, X, s)
    ir = vmap_ir(vectorised, X, s)
    assert "for_range" not in ir, ir


# ---- native backend (a subset: each compile takes about a second) ----------------------------------


@pytest.mark.parametrize("f,cols,static,in_axes", [
    (np_sum, (sample((3, 2, 4), "float64"),), ((0, -1), True), 0),
    (np_prod, (sample((3, 2, 4), "int64"),), (None, False), 0),
    (np_max, (sample((3, 2, 4), "float64"),), (1, False), 0),
    (np_any, (sample((3, 2, 4), "bool"),), (-1, True), 0),
    (np_argmax, (sample((3, 2, 4), "float64"),), (None, False), 0),
    (np_argmin, (sample((3, 2, 4), "int64"),), (0, True), 0),
    (scans_and_sorts, (sample((3, 2, 4), "float64"),), (1,), 0),
    (searchsorted_right, (np.sort(sample((3, 5), "float64")), sample((3, 2), "float64")), (), 0),
    (join, (sample((3, 2, 4), "float64"), sample((2, 4), "float64")), (-1,), (0, None)),
    (shapes, (sample((3, 2, 3), "float64"),), (), 0),
    (roll_by, (sample((3, 2, 3), "float64"), np.array([1, -1, 5])), (), 0),
    (range_lengths, (np.array([0, 3, -2]), np.array([9, 1, 4]), np.array([2, -1, 1])), (), 0),
    (fills, (np.array([1.5, -2.0]), sample((2, 3), "float64")), (), (0, None)),
    (samples, (np.array([0.0, 2.0]), np.array([1.0, -3.0])), (5, True), 0),
    (vectorised, (sample((3, 2, 3), "float64"), np.arange(3.0)), (), 0),
], ids=lambda v: getattr(v, "__name__", None))
def test_native(f, cols, static, in_axes):
    check(f, *cols, static=static, in_axes=in_axes, native=True)
