"""The shape family: attributes (.shape, .T, ...), reshape/transpose and friends, joining,
flipping, repeating, diagonals, grids and conversions. Each function is compiled and run on the
interpreter and compared with the same function run by NumPy (values, dtypes, shapes); lengths
are run-time values, so most functions also take a run-time int."""

import numpy as np
import pytest

import morphism as mo
from helpers import check_on_backends

rng = np.random.default_rng(0)


def arr(*shape, dtype=np.float64):
    if dtype == np.float64:
        return rng.standard_normal(shape)
    if dtype == np.int64:
        return rng.integers(-3, 4, size=shape).astype(np.int64)
    return rng.integers(0, 2, size=shape).astype(bool)


def same(got, want):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    assert g.shape == w.shape, (g.shape, w.shape)
    np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)


def check(f, *args):
    check_on_backends(f, args, same)


def fails(f, *args, match: str, cls=mo.MorphismError):
    with pytest.raises(cls, match=match):
        mo.jit(f, backend="interpreter")(*args)


X2 = arr(3, 4)
X3 = arr(2, 3, 4)
I2 = arr(3, 4, dtype=np.int64)
B2 = arr(3, 4, dtype=bool)


# ---- attributes and inspection -------------------------------------------------------------


def shape_attr(x):
    return x.shape


def shape_parts(x):
    n, m = x.shape
    return n * 10 + m, x.shape[-1], len(x.shape)


def ndim_size(x):
    return x.ndim, x.size, np.ndim(x), np.size(x), np.size(x, 1), np.shape(x)


def scalar_attrs(s):
    return s.ndim, s.size, np.shape(s), s.T


def transposed(x):
    return x.T


@pytest.mark.parametrize("f,args", [
    (shape_attr, (X2,)), (shape_attr, (X3,)), (shape_attr, (np.float64(1.5),)), (shape_parts, (X2,)),
    (ndim_size, (X2,)), (ndim_size, (I2,)), (scalar_attrs, (np.float64(2.5),)), (transposed, (X2,)),
    (transposed, (X3,)), (transposed, (arr(5),)), (transposed, (B2,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_attributes(f, args):
    check(f, *args)


def test_shape_is_a_tuple_of_run_time_ints():
    ir = str(mo.make_ir(shape_attr)(X2))
    assert "dim[axis=0]" in ir and "dim[axis=1]" in ir
    # A new shape does not recompile.
    j = mo.jit(shape_attr, backend="interpreter")
    assert j(np.ones((2, 5))) == (2, 5) and j(np.ones((7, 1))) == (7, 1)
    assert len(j.cache) == 1


# ---- reshape, ravel ------------------------------------------------------------------------


def reshape_tuple(x, n):
    return x.reshape((n, -1))


def reshape_varargs(x, n):
    return x.reshape(n, -1)


def reshape_np(x, n):
    return np.reshape(x, (-1, n)), np.reshape(x, -1), np.reshape(x, shape=(2, -1))


def reshape_3d(x):
    return x.reshape(2, 2, 3), x.reshape((3, 4)).reshape(12)


def reshape_like(x, y):
    return x.reshape(y.shape), np.reshape(x, (y.shape[0], y.shape[1]))


def reshape_scalar(s):
    return np.reshape(s, (1, 1)), np.reshape(np.ones(1) * s, ())


def ravels(x):
    return x.ravel(), x.flatten(), np.ravel(x), np.ravel(x.T)


@pytest.mark.parametrize("f,args", [
    (reshape_tuple, (X2, 2)), (reshape_varargs, (X2, 6)), (reshape_np, (X2, 3)), (reshape_3d, (X2,)),
    (reshape_like, (arr(12), X2)), (reshape_scalar, (2.5,)), (ravels, (X3,)), (ravels, (I2,)),
    (reshape_tuple, (B2, 4)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_reshape(f, args):
    check(f, *args)


def reshape_runtime_ndim(x, s):
    return x.reshape(s)


def reshape_two_unknowns(x):
    return x.reshape(-1, -1)


def reshape_bad_size(x):
    return x.reshape(5, 5)


def reshape_float(x):
    return x.reshape(2.0, 6)


def reshape_order_f(x):
    return x.reshape((4, 3), order="F")


def test_reshape_errors():
    fails(reshape_runtime_ndim, X2, np.array([4, 3]), match="number of dimensions must be known at compile time")
    fails(reshape_two_unknowns, X2, match="only specify one unknown dimension")
    fails(reshape_float, X2, match="must be an integer, found")
    fails(reshape_order_f, X2, match="order='F'")
    with pytest.raises(ValueError, match="cannot reshape"):
        mo.jit(reshape_bad_size, backend="interpreter")(X2)


def test_reshape_ir():
    ir = str(mo.make_ir(reshape_tuple)(X2, 2))
    assert "reshape x n -1" in ir


# ---- transpose, swapaxes, moveaxis ---------------------------------------------------------


def transposes(x):
    return np.transpose(x), np.transpose(x, (1, 0, 2)), x.transpose(2, 0, 1), x.transpose((0, 2, 1)), \
        x.transpose(), np.transpose(x, axes=(-1, 0, 1))


def swaps(x):
    return np.swapaxes(x, 0, 2), x.swapaxes(-1, 1), np.moveaxis(x, 0, -1), np.moveaxis(x, (0, 1), (2, 0)), \
        np.moveaxis(x, -1, 0)


def transpose_bad_axes(x):
    return np.transpose(x, (0, 0, 1))


def transpose_wrong_count(x):
    return x.transpose(1, 0)


def swap_out_of_bounds(x):
    return np.swapaxes(x, 0, 3)


def transpose_runtime_axes(x, k):
    return np.transpose(x, (k, 0, 1))


def test_transpose():
    check(transposes, X3)
    check(swaps, X3)
    check(transposes, arr(2, 3, 4, dtype=np.int64))
    fails(transpose_bad_axes, X3, match="repeated axis")
    fails(transpose_wrong_count, X3, match="do not match an array of 3 dimension")
    fails(swap_out_of_bounds, X3, match="axis2 3 is out of bounds")
    fails(transpose_runtime_axes, X3, 1, match="must be a compile-time constant")


# ---- squeeze, expand_dims, atleast_*, broadcast_to -----------------------------------------


def squeezes(x):
    return np.squeeze(x, 1), x.squeeze(axis=(1, 3)), np.squeeze(x, axis=-1)


def squeeze_all(x):
    return np.squeeze(x)


def expands(x):
    return np.expand_dims(x, 0), np.expand_dims(x, -1), np.expand_dims(x, (0, 2)), np.expand_dims(x, axis=1)


def expand_scalar(s):
    return np.expand_dims(s, 0)


def atleasts(x):
    return np.atleast_1d(x), np.atleast_2d(x), np.atleast_3d(x)


def atleast_many(a, b):
    return np.atleast_1d(a, b)


def broadcasts(x, n):
    return np.broadcast_to(x, (n, 4)), np.broadcast_to(x, (2, n, 4)), np.broadcast_to(2.0, (n,))


def broadcast_fewer(x):
    return np.broadcast_to(x, (4,))


def test_squeeze_expand_atleast_broadcast():
    check(squeezes, arr(3, 1, 4, 1))
    check(expands, X2)
    check(expand_scalar, 2.0)
    for v in (2.5, arr(3), X2, X3, I2):
        check(atleasts, v)
    check(atleast_many, 1.0, arr(3))
    check(broadcasts, arr(4), 3)
    check(broadcasts, arr(1, 4), 3)
    fails(squeeze_all, X2, match="squeeze without `axis` is not supported")
    fails(broadcast_fewer, X2, match="cannot broadcast a value of 2 dimension")
    with pytest.raises(ValueError, match="size not equal to one"):
        mo.jit(squeezes, backend="interpreter")(arr(3, 2, 4, 1))


# ---- concatenate, stack and friends --------------------------------------------------------


def concats(a, b):
    return np.concatenate((a, b)), np.concatenate([a, b, a], axis=1), np.concatenate((a, b), axis=None), \
        np.concatenate((a, b), -1)


def concat_mixed(a, b):
    return np.concatenate((a, b)), np.concatenate((a, b), dtype=np.float64)


def stacks(a, b):
    return np.stack((a, b)), np.stack([a, b], axis=1), np.stack((a, b), axis=-1), np.stack((a, b, a), 2)


def stack_scalars(s, t):
    return np.stack((s, t, 1.0)), np.array([s, t]), np.array([[s, t], [t, s]])


def stack_appended(n):
    rows = []
    for i in range(n):
        rows.append(np.arange(3) + i)
    return np.stack(rows), np.stack(rows, axis=1), np.concatenate(rows), np.array(rows), np.vstack(rows), \
        np.hstack(rows), np.column_stack(rows), np.dstack(rows)


def vh_stacks(a, b):
    return np.vstack((a, b)), np.hstack((a, b)), np.column_stack((a, b)), np.dstack((a, b))


def hstack_2d(a, b):
    return np.hstack((a, b)), np.column_stack([a, b]), np.vstack([a.T, b.T])


def concat_scalars(s):
    return np.concatenate((s, s))


def stack_mismatch(a, b):
    return np.stack((a, b))


def concat_mismatch(a, b):
    return np.concatenate((a, b))


def test_joining():
    check(concats, X2, arr(3, 4))
    check(concat_mixed, arr(2, dtype=np.int64), arr(3))
    check(stacks, X2, arr(3, 4))
    check(stacks, arr(2, 3, dtype=bool), arr(2, 3, dtype=np.int64))
    check(stack_scalars, 1.5, 2.5)
    check(stack_appended, 4)
    check(vh_stacks, arr(3), arr(3))
    check(vh_stacks, 1.0, 2.0)
    check(hstack_2d, X2, arr(3, 2))
    fails(concat_scalars, 1.0, match="zero-dimensional arrays cannot be concatenated")
    fails(stack_mismatch, arr(3), X2, match="same ndim")
    fails(concat_mismatch, arr(3), X2, match="same ndim")


# ---- flip, roll, tile, repeat, take --------------------------------------------------------


def flips(x):
    return np.flip(x), np.flip(x, 0), np.flip(x, axis=(0, 2)), np.flip(x, -1), np.fliplr(x), np.flipud(x)


def rolls(x, k):
    return np.roll(x, k), np.roll(x, 1, axis=0), np.roll(x, k, axis=-1), np.roll(x, (1, k), axis=(0, 2)), \
        np.roll(x, -k, 1), np.roll(x, (1, 2), axis=1)


def roll_float(x):
    return np.roll(x, 1.5)


def tiles(x, n):
    return np.tile(x, 2), np.tile(x, (n, 1)), np.tile(x, (2, 1, n)), np.tile(x, (1, 1))


def tile_scalar(s, n):
    return np.tile(s, n), np.tile(s, (2, n))


def repeats(x, n):
    return np.repeat(x, n), np.repeat(x, 2, axis=0), x.repeat(n, axis=1), np.repeat(x, 3, -1)


def repeat_counts(x):
    return np.repeat(x, [1, 2, 3], axis=0)


def takes(x, i, idx):
    return np.take(x, idx), np.take(x, idx, axis=1), x.take(i), x.take(i, axis=0), np.take(x, [0, -1], 0)


def take_bool(x, idx):
    return np.take(x, idx)


def take_mode(x):
    return np.take(x, [5], mode="wrap")


def flatnonzeros(x):
    return np.flatnonzero(x), np.flatnonzero(x > 0)


def test_flip_roll_tile_repeat_take():
    check(flips, X3)
    check(flips, arr(2, 3, 4, dtype=bool))
    for k in (0, 2, -5, 13):
        check(rolls, X3, k)
    check(tiles, X2, 3)
    check(tiles, arr(3, dtype=np.int64), 0)
    check(tile_scalar, 2.0, 3)
    check(repeats, X2, 3)
    check(repeats, I2, 0)
    check(takes, X2, 2, np.array([[0, 2], [1, 1]]))
    check(take_bool, arr(4), np.array([True, False, True]))
    check(flatnonzeros, I2)
    fails(roll_float, X2, match="must be an integer, found a value of type f64")
    fails(repeat_counts, X2, match="per-element repeat counts")
    fails(take_mode, X2, match="mode='wrap'")


# ---- diagonals and triangles ---------------------------------------------------------------


def diags(v, m):
    return np.diag(v), np.diag(v, 1), np.diag(v, k=-2), np.diag(m), np.diag(m, 2), np.diag(m, -1), \
        np.diag(m, 10)


def diagonals(x):
    return np.diagonal(x), x.diagonal(1), np.diagonal(x, -1, 1, 2), x.diagonal(0, -1, 0), \
        np.diagonal(x, offset=1, axis1=2, axis2=0)


def traces(x):
    return np.trace(x), x.trace(), np.trace(x, 1), np.trace(x, -1, axis1=1, axis2=0), np.trace(x, dtype=float)


def trace_3d(x):
    return np.trace(x), np.trace(x, 0, 1, 2)


def triangles(x, k):
    return np.triu(x), np.tril(x), np.triu(x, 1), np.tril(x, -1), np.triu(x, k), np.tril(x, k=k)


def diag_3d(x):
    return np.diag(x)


def diagonal_same_axes(x):
    return np.diagonal(x, 0, 1, 1)


def test_diagonals_and_triangles():
    check(diags, arr(3), X2)
    check(diags, arr(4, dtype=np.int64), I2)
    check(diagonals, X3)
    check(traces, X2)
    check(traces, B2)
    check(trace_3d, X3)
    for k in (-2, 0, 1, 5):
        check(triangles, X2, k)
        check(triangles, X3, k)
        check(triangles, B2, k)
    check(triangles, arr(4), 1)
    fails(diag_3d, X3, match="1-d or 2-d")
    fails(diagonal_same_axes, X3, match="cannot be the same")


# ---- meshgrid ------------------------------------------------------------------------------


def meshes(x, y):
    return np.meshgrid(x, y), np.meshgrid(x, y, indexing="ij"), np.meshgrid(x, y, sparse=True), \
        np.meshgrid(x), np.meshgrid(x, y, x, indexing="xy")


def mesh_bad(x):
    return np.meshgrid(x, x, indexing="yx")


def test_meshgrid():
    check(meshes, arr(3), arr(4, dtype=np.int64))
    check(meshes, arr(2, 2), arr(5))
    fails(mesh_bad, arr(3), match="indexing must be 'xy' or 'ij'")


# ---- copies and conversions ----------------------------------------------------------------


def conversions(x):
    return np.array(x), np.asarray(x), np.array(x, dtype=np.int64), np.asarray(x, dtype=bool), \
        np.array(x, ndmin=3), x.copy(), np.copy(x), x.astype(np.int64), x.astype(float), x.astype(bool)


def from_records(a, b):
    return np.array([a, b]), np.asarray((a, b, 3)), np.array([[1, 2], [3, 4]], dtype=float), np.array(2.0)


def copy_is_independent(x):
    y = x.copy()
    y[0] = 100.0
    z = np.array(x)
    z[1] = 200.0
    w = x.astype(float)
    w[2] = 300.0
    v = np.copy(x)
    v[0] = 400.0
    t = np.tile(x, 1)
    t[0] = 500.0
    return x, y, z, w, v, t


def asarray_aliases(x):
    y = np.asarray(x)
    y[0] = 100.0
    z = np.array(x, copy=False)
    z[1] = 200.0
    return x, y, z


def items(x, s):
    return x[0:1].item(), x.reshape(1, -1)[:, 1:2].item(), s.item()


def item_too_big(x):
    return x.item()


def item_index(x):
    return x.item(1)


def astype_bad(x):
    return x.astype(np.float16)


def test_conversions():
    check(conversions, X2)
    check(conversions, arr(3, dtype=np.int64))
    check(from_records, 1.5, 2.5)
    check(from_records, 1, 2)
    check(copy_is_independent, arr(3))
    check(asarray_aliases, arr(3))
    check(items, arr(3), np.float64(4.0))
    fails(item_index, arr(3), match="item\\(\\) with an index")
    fails(astype_bad, arr(3), match="float16")
    with pytest.raises(ValueError):
        mo.jit(item_too_big, backend="interpreter")(arr(3))


def unknown_keyword(x):
    return np.transpose(x, order=0)


def too_many_args(x):
    return np.swapaxes(x, 0, 1, 2)


def test_argument_errors():
    fails(unknown_keyword, X2, match="np.transpose\\(\\) does not support the keyword argument 'order'")
    fails(too_many_args, X2, match="np.swapaxes\\(\\).*too many positional arguments")
