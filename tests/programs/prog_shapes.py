"""Shape manipulation: reshape, transpose, joins, flips, rolls, tiling, sorting, differences."""

import numpy as np


def reshape_family(x, rows):
    cols = x.size // rows
    M = x.reshape(rows, cols)
    M2 = np.reshape(x, (cols, rows))
    flat = M.ravel()
    flat2 = np.ravel(M2.T)
    copy_flat = M.flatten()
    auto = x.reshape(-1, 2)
    return M, M2, flat, flat2, copy_flat, auto, M.T, np.transpose(M2), M.shape, M.ndim, M.size, len(M)


def transpose_3d(T):
    return np.transpose(T, (2, 0, 1)), T.transpose(1, 0, 2), T.reshape(T.shape[0], -1)


def joins(a, b, A):
    c = np.concatenate([a, b])
    c2 = np.concatenate((A, A[:1]), axis=0)
    c3 = np.concatenate([A, A], axis=1)
    s0 = np.stack([a, b])
    s1 = np.stack((a, b), axis=1)
    v = np.vstack([a, b, a])
    h = np.hstack([a, b])
    h2 = np.hstack((A, A[:, :1]))
    return c, c2, c3, s0, s1, v, h, h2


def dims(x, A):
    e0 = np.expand_dims(x, 0)
    e1 = np.expand_dims(x, axis=1)
    sq = np.squeeze(e0, axis=0)
    sq1 = np.squeeze(A[:, :1], axis=1)
    a2 = np.atleast_2d(x)
    a2m = np.atleast_2d(A)
    return e0, e1, sq, sq1, a2, a2m, A[None].ndim, e1.shape


def flips_rolls(x, A):
    return (np.flip(x), np.flip(A, axis=0), np.flip(A, axis=1), np.roll(x, 2), np.roll(x, -1),
            np.roll(A, 1, axis=1), x[::-1])


def tiles_repeats(x, A):
    return np.tile(x, 3), np.tile(A, (2, 1)), np.repeat(x, 2), np.repeat(A, 2, axis=0), np.repeat(A, 3, axis=1)


def diffs_sorts(x, A):
    return (np.diff(x), np.diff(x, n=2), np.diff(A, axis=1), np.diff(A, axis=0), np.sort(x),
            np.sort(A, axis=1), np.sort(A, axis=0), np.sort(x)[::-1])


def periodic_derivative(f, dx):
    # central difference on a periodic grid using roll
    return (np.roll(f, -1) - np.roll(f, 1)) / (2.0 * dx)


def block_matrix(A, B):
    top = np.hstack([A, np.zeros((A.shape[0], B.shape[1]))])
    bottom = np.hstack([np.zeros((B.shape[0], A.shape[1])), B])
    return np.vstack([top, bottom])


def im2col_1d(x, k):
    # rows are the sliding windows of length k
    n = len(x) - k + 1
    cols = []
    for i in range(n):
        cols.append(x[i:i + k])
    W = np.array(cols)
    return W, W @ np.ones(k) / k


def shape_driven_loops(T):
    n0, n1, n2 = T.shape
    acc = np.zeros(n2)
    for i in range(n0):
        for j in range(n1):
            acc += T[i, j]
    return acc, T.ndim, T.size, T.shape[-1]


_rng = np.random.default_rng(9)
_x12 = _rng.normal(size=12)
_a = _rng.normal(size=4)
_b = _rng.normal(size=4)
_A = _rng.normal(size=(3, 4))
_T = _rng.normal(size=(2, 3, 4))

CASES = [
    (reshape_family, (_x12, 3)),
    (reshape_family, (_x12, 2)),
    (reshape_family, (np.arange(12), 6)),
    (transpose_3d, (_T,)),
    (joins, (_a, _b, _A)),
    (joins, (np.arange(4), np.arange(4, 8), np.arange(12).reshape(3, 4))),
    (dims, (_a, _A)),
    (flips_rolls, (_x12, _A)),
    (tiles_repeats, (_a, _A)),
    (diffs_sorts, (_x12, _A)),
    (diffs_sorts, (np.array([5, 3, 9, 1, 1, 7]), np.array([[3, 1], [2, 8], [0, 0]]))),
    (periodic_derivative, (np.sin(np.linspace(0.0, 2.0 * np.pi, 32, endpoint=False)), 2.0 * np.pi / 32)),
    (block_matrix, (_A, np.eye(2))),
    (im2col_1d, (_x12, 3)),
    (im2col_1d, (_x12[:4], 4)),
    (shape_driven_loops, (_T,)),
]
