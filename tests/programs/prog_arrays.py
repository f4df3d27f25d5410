"""Array creation, broadcasting, stencils, and in-place writes into local arrays."""

import numpy as np


def moving_average_loop(x, w):
    n = len(x)
    out = np.zeros(n - w + 1)
    for i in range(n - w + 1):
        acc = 0.0
        for k in range(w):
            acc += x[i + k]
        out[i] = acc / w
    return out


def laplacian_1d(u, dx):
    lap = np.zeros_like(u)
    lap[1:-1] = (u[2:] - 2.0 * u[1:-1] + u[:-2]) / dx ** 2
    lap[0] = (u[1] - u[0]) / dx ** 2
    lap[-1] = (u[-2] - u[-1]) / dx ** 2
    return lap


def heat_explicit(u0, alpha, n_steps):
    u = u0.copy()
    for _ in range(n_steps):
        u[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return u, u.sum()


def laplacian_2d(U, h):
    L = np.zeros_like(U)
    L[1:-1, 1:-1] = (U[2:, 1:-1] + U[:-2, 1:-1] + U[1:-1, 2:] + U[1:-1, :-2] - 4.0 * U[1:-1, 1:-1]) / (h * h)
    return L


def creation_routines(n, m):
    a = np.zeros(n)
    b = np.ones((n, m))
    c = np.full((m, n), 2.5)
    d = np.arange(n)
    e = np.arange(1, 2 * n, 2)
    f = np.arange(0.0, 1.0, 0.25)
    g = np.linspace(0.0, 1.0, n)
    h = np.eye(m)
    k = np.empty(n)
    for i in range(n):
        k[i] = i * 0.5
    z = np.zeros(n, dtype=np.int64)
    z[1:] = 3
    flags = np.zeros(m, dtype=bool)
    flags[0] = True
    o = np.ones_like(g)
    return a, b, c, d, e, f, g, h, k, z, flags, o


def broadcasting(x, y):
    diff = x[:, None] - y[None, :]
    prod = x[:, np.newaxis] * y
    shifted = diff + np.arange(len(y))
    scaled = 2.0 * prod - 1.0
    return diff, prod, shifted, scaled.sum(axis=0)


def normalize_rows(A):
    return A / A.sum(axis=1, keepdims=True)


def pairwise_distances(X):
    d = X[:, None, :] - X[None, :, :]
    return np.sqrt(np.sum(d * d, axis=-1))


def clamp_and_mask(x, lo, hi):
    y = np.clip(x, lo, hi)
    pos = x[x > 0.0]
    n_pos = np.sum(x > 0.0)
    z = np.where(x > 0.0, x, 0.1 * x)
    w = np.where(np.abs(x) < 0.5, 1.0, 0.0)
    return y, pos, n_pos, z, w


def integer_arrays(k, n):
    idx = np.arange(n)
    sq = idx * idx
    m = sq % k
    d = sq // k
    neg = (-idx) // k
    f = idx.astype(np.float64) / 2.0
    g = (idx + 1).astype(float) ** 0.5
    even = idx % 2 == 0
    return m, d, neg, f, g, even, np.sum(idx[even])


def wave_equation(n, c, n_steps):
    # leapfrog on u_tt = c^2 u_xx with fixed ends, local arrays updated in place
    x = np.linspace(0.0, 1.0, n)
    u_prev = np.sin(np.pi * x)
    u = u_prev.copy()
    r2 = c * c
    u_next = np.zeros(n)
    for _ in range(n_steps):
        u_next[1:-1] = 2.0 * u[1:-1] - u_prev[1:-1] + r2 * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u_next[0] = 0.0
        u_next[-1] = 0.0
        u_prev = u.copy()
        u = u_next.copy()
    return u


def game_of_life_step(board):
    # board is an int array of 0/1; the neighbour count uses padded slices
    n, m = board.shape
    padded = np.zeros((n + 2, m + 2), dtype=np.int64)
    padded[1:-1, 1:-1] = board
    nb = np.zeros((n, m), dtype=np.int64)
    for di in range(3):
        for dj in range(3):
            if di == 1 and dj == 1:
                continue
            nb += padded[di:di + n, dj:dj + m]
    alive = board == 1
    born = (~alive) & (nb == 3)
    survive = alive & ((nb == 2) | (nb == 3))
    return (born | survive).astype(np.int64), nb


_rng = np.random.default_rng(2)
_x = _rng.normal(size=30)
_u = np.sin(np.linspace(0.0, np.pi, 17))
_U = _rng.uniform(size=(7, 9))
_A = _rng.uniform(0.5, 2.0, size=(4, 6))
_X = _rng.normal(size=(8, 3))
_board = (_rng.uniform(size=(8, 8)) < 0.4).astype(np.int64)
_glider = np.zeros((6, 6), dtype=np.int64)
_glider[0, 1] = 1
_glider[1, 2] = 1
_glider[2, 0:3] = 1

CASES = [
    (moving_average_loop, (_x, 1)),
    (moving_average_loop, (_x, 5)),
    (moving_average_loop, (_x[:7], 7)),
    (laplacian_1d, (_u, 0.1)),
    (heat_explicit, (_u, 0.25, 20)),
    (heat_explicit, (np.ones(5), 0.4, 0)),
    (laplacian_2d, (_U, 0.5)),
    (creation_routines, (4, 3)),
    (creation_routines, (7, 2)),
    (broadcasting, (_x[:5], _x[5:9])),
    (normalize_rows, (_A,)),
    (pairwise_distances, (_X,)),
    (pairwise_distances, (_X[:2],)),
    (clamp_and_mask, (_x, -1.0, 1.0)),
    (clamp_and_mask, (-np.abs(_x[:6]), -0.5, 0.5)),
    (integer_arrays, (3, 10)),
    (integer_arrays, (7, 25)),
    (wave_equation, (21, 0.5, 30)),
    (game_of_life_step, (_board,)),
    (game_of_life_step, (_glider,)),
]
