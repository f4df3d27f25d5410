"""Derivative rules of the shape and creation families (stack, concatenate, reshape,
broadcast_to, transpose, squeeze, roll, copy, full, arange, linspace) and of the NumPy
composites built on them and on getitem (flip, tile, repeat, diff, trace, diag, triu/tril,
meshgrid, expand_dims, vstack...).

Oracles as in test_rules_reductions.py: central finite differences of the same function run by
NumPy, the jvp/vjp identity <w, J v> == <J^T w, v>, and Hessians against FD of `mo.grad`; on
both backends, the native one on a default sample (as there).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import morphism as mo
from ad_oracles import JVP, VJP, backends, check_first_order, check_second_order, on_both, run

SETTINGS = settings(max_examples=20, deadline=None)


# ---- inputs ----------------------------------------------------------------------------------


def floats(ndim, lo=-2.0, hi=2.0, min_side=1):
    shape = st.tuples(*[st.integers(min_side, 4)] * ndim)
    return shape.flatmap(lambda s: hnp.arrays(np.float64, s, elements=st.floats(lo, hi, allow_nan=False)))


seeds = st.integers(0, 2**16)


# ---- user functions --------------------------------------------------------------------------


def stack0(x, y):
    return np.stack([x, y])


def stack_last(x, y):
    return np.stack((x, y * 2.0, x), axis=-1)


def stack_with_ints(x):
    return np.stack([x, np.zeros(x.shape, dtype=np.int64), x * x], axis=1)


def stack_scalars(a, b):
    return np.stack([a, b * a, 3.0])


def concat0(x, y):
    return np.concatenate([x, y, x * y])


def concat1(x, y):
    return np.concatenate((x, y), axis=1)


def concat_with_ints(x):
    return np.concatenate([x, np.ones(x.shape, dtype=np.int64)], axis=-1)


def hstack_vstack(x, y):
    return np.vstack([np.hstack([x, y]), np.hstack([y, x])])


def reshape_flat(x):
    return x.reshape(-1)


def reshape_2d(x):
    return np.reshape(x, (2, -1))


def ravel_t(x):
    return np.ravel(x.T)


def item_of(x):
    return x.reshape(1, 1).item() * 3.0


def broadcast_rows(x):
    return np.broadcast_to(x, (3, x.shape[0]))


def broadcast_scalar(s):
    return np.broadcast_to(s, (2, 3)) * np.arange(6.0).reshape(2, 3)


def transpose_t(x):
    return x.T * 2.0


def transpose_3d(x):
    return np.transpose(x, (2, 0, 1))


def moveaxis_3d(x):
    return np.moveaxis(x, 0, -1)


def swap_3d(x):
    return np.swapaxes(x, 0, 2)


def squeeze_axis(x):
    return np.squeeze(x[:, None, :], axis=1)


def expand_then_squeeze(x):
    return np.squeeze(np.expand_dims(x, (0, 2)), axis=0)


def roll_pos(x):
    return np.roll(x, 2, axis=1)


def roll_neg(x):
    return np.roll(x, -1, axis=0)


def roll_flat(x):
    return np.roll(x, 3)


def copy_of(x):
    y = x.copy()
    return y * np.copy(x)


def flip_all(x):
    return np.flip(x)


def flip_axis(x):
    return np.flip(x, axis=1) * np.fliplr(x)


def tile_2(x):
    return np.tile(x, 2)


def tile_2d(x):
    return np.tile(x, (2, 3))


def repeat_axis(x):
    return np.repeat(x, 3, axis=0)


def repeat_flat(x):
    return np.repeat(x, 2)


def diff_1(x):
    return np.diff(x)


def diff_2_axis0(x):
    return np.diff(x, n=2, axis=0)


def trace_of(x):
    return np.trace(x)


def trace_offset(x):
    return np.trace(x, offset=1) + x.trace(offset=-1)


def diagonal_of(x):
    return np.diagonal(x) * 2.0


def diag_of_vector(v):
    return np.diag(v) + np.diag(v, k=1)[1:, :-1]


def triu_tril(x):
    return np.triu(x) * 2.0 + np.tril(x, k=-1)


def meshgrid_sum(x, y):
    a, b = np.meshgrid(x, y)
    c, d = np.meshgrid(x, y, indexing="ij")
    return a * b + np.sum(c * d)


def take_rows(x):
    return np.take(x, np.array([2, 0, 2]), axis=0)


def atleast(x):
    return np.atleast_2d(x) * 2.0


def full_of(s):
    return np.full((2, 3), s) * np.arange(6.0).reshape(2, 3)


def full_like_of(x, s):
    return np.full_like(x, s) * x


def zeros_plus(x):
    z = np.zeros((x.shape[0], x.shape[1] + 1))
    z[:, 1:] = x
    return np.ones_like(x) * x + z[:, :-1]


def arange_of(start, step):
    return np.sin(np.arange(start, 3.0, step))


def linspace_of(a, b):
    return np.linspace(a, b, 5) ** 2


def linspace_open(a, b):
    return np.linspace(a, b, 4, endpoint=False) * np.arange(4.0)


def linspace_one(a, b):
    return np.linspace(a, b, 1) * 3.0


def eye_scaled(s):
    return np.eye(3) * s + np.identity(3)


def loss_shapes(x):
    # A user-like chain of shape operations ending in a scalar.
    y = np.concatenate([x, np.flip(x, axis=0)], axis=1)
    z = np.stack([y.T, np.roll(y.T, 1, axis=0)])
    return np.sum(np.tile(z, (1, 2, 1)) ** 2) + np.trace(x @ x.T) + np.sum(np.diff(x, axis=1) ** 3)


# ---- stack and concatenate ---------------------------------------------------------------------


def pair(ndim):
    return floats(ndim).flatmap(lambda x: hnp.arrays(np.float64, x.shape, elements=st.floats(-2, 2)).map(lambda y: (x, y)))


@pytest.mark.parametrize("f, backend", on_both([stack0, stack_last], native=[stack_last]))
@SETTINGS
@given(xy=pair(2), seed=seeds)
def test_stack(f, xy, seed, backend):
    check_first_order(f, *xy, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([concat0, concat1, hstack_vstack], native=[concat1]))
@SETTINGS
@given(xy=pair(2), seed=seeds)
def test_concatenate(f, xy, seed, backend):
    check_first_order(f, *xy, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([stack_with_ints, concat_with_ints], native=[concat_with_ints]))
@SETTINGS
@given(x=floats(2), seed=seeds)
def test_joins_with_integer_operands(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_stack_scalars(backend):
    check_first_order(stack_scalars, 1.5, -0.5, backend=backend)


# ---- one operand -------------------------------------------------------------------------------


ONE_OPERAND_2D = [reshape_flat, ravel_t, transpose_t, squeeze_axis, expand_then_squeeze, roll_pos, roll_neg, roll_flat,
                  copy_of, flip_all, flip_axis, tile_2, tile_2d, repeat_axis, repeat_flat, diff_1, take_rows, atleast,
                  zeros_plus]


@pytest.mark.parametrize("f, backend", on_both(ONE_OPERAND_2D, native=[ravel_t, roll_neg, flip_axis, tile_2d,
                                                                       repeat_axis]))
@SETTINGS
@given(x=floats(2, min_side=3), seed=seeds)
def test_one_operand_2d(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([transpose_3d, moveaxis_3d, swap_3d, diff_2_axis0],
                                               native=[moveaxis_3d]))
@SETTINGS
@given(x=floats(3, min_side=3), seed=seeds)
def test_one_operand_3d(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([broadcast_rows, diag_of_vector], native=[broadcast_rows]))
@SETTINGS
@given(x=floats(1, min_side=2), seed=seeds)
def test_one_operand_1d(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("f, backend", on_both([trace_of, trace_offset, diagonal_of, triu_tril], native=[diagonal_of]))
@SETTINGS
@given(x=floats(2, min_side=2), seed=seeds)
def test_diagonals_and_triangles(f, x, seed, backend):
    check_first_order(f, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
@SETTINGS
@given(x=floats(2, min_side=2), seed=seeds)
def test_reshape_with_a_computed_length(x, seed, backend):
    x = np.resize(x, (2, max(x.size // 2, 1)))
    check_first_order(reshape_2d, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends(native=False))
@SETTINGS
@given(x=floats(1), y=floats(1), seed=seeds)
def test_meshgrid(x, y, seed, backend):
    check_first_order(meshgrid_sum, x, y, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_scalar_operands(backend):
    check_first_order(item_of, np.array([1.5]), backend=backend)
    check_first_order(broadcast_scalar, -0.7, backend=backend)


# ---- creation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", backends())
def test_full_fill_value(backend):
    check_first_order(full_of, 1.3, backend=backend)
    check_first_order(full_like_of, np.array([[1.0, -2.0], [0.5, 3.0]]), 0.7, backend=backend)
    check_first_order(eye_scaled, 2.5, backend=backend)
    # The cotangent of the fill is the sum of the output's cotangent.
    assert run(backend, VJP, full_of, (1.3,), np.ones((2, 3)))[0] == pytest.approx(15.0)


@pytest.mark.parametrize("backend", backends())
def test_arange_start_and_step(backend):
    # arange(start, stop, step)[k] = start + k * step: 1 for start, k for step, 0 for stop
    # (the length is piecewise constant). 3 / 0.37 and (3 - 0.2) / 0.37 are far from integers.
    check_first_order(arange_of, 0.2, 0.37, backend=backend)
    n = len(np.arange(0.2, 3.0, 0.37))
    _, t = run(backend, JVP, arange_of, (0.2, 0.37), (1.0, 0.0))
    np.testing.assert_allclose(t, np.cos(np.arange(0.2, 3.0, 0.37)))
    _, t = run(backend, JVP, arange_of, (0.2, 0.37), (0.0, 1.0))
    np.testing.assert_allclose(t, np.cos(np.arange(0.2, 3.0, 0.37)) * np.arange(n))


@pytest.mark.parametrize("backend", backends(native=False))
@SETTINGS
@given(a=st.floats(-3, 3), b=st.floats(-3, 3), seed=seeds)
def test_linspace_start_and_stop(a, b, seed, backend):
    check_first_order(linspace_of, a, b, seed=seed, backend=backend)
    check_first_order(linspace_open, a, b, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends())
def test_linspace_of_one_sample_is_the_start(backend):
    check_first_order(linspace_one, 1.5, 4.0, backend=backend)
    assert run(backend, VJP, linspace_one, (1.5, 4.0), np.array([1.0])) == (3.0, 0.0)


# ---- a user-like chain, and second order ---------------------------------------------------------


@pytest.mark.parametrize("backend", backends(native=False))
@SETTINGS
@given(x=floats(2, min_side=2), seed=seeds)
def test_chain_of_shape_operations(x, seed, backend):
    check_first_order(loss_shapes, x, seed=seed, backend=backend)


@pytest.mark.parametrize("backend", backends(native=False))
@settings(max_examples=10, deadline=None)
@given(x=floats(2, min_side=2))
def test_second_order_through_shape_operations(x, backend):
    check_second_order(loss_shapes, x, backend=backend)
