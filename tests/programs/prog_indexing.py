"""Reads and writes through integers, negative indices, slices, strides, masks, index arrays."""

import numpy as np


def basic_reads(x):
    n = len(x)
    return x[0], x[-1], x[n - 2], x[-n], x[1:n - 1], x[::2], x[::-1], x[1::3], x[-3:], x[:-3], x[5:2:-1]


def gather_scatter(x, perm):
    # perm is a permutation, so the scatter has no repeated indices
    y = x[perm]
    z = np.zeros_like(x)
    z[perm] = x
    w = np.zeros_like(x)
    w[perm] += 2.0 * x
    back = z[perm]
    return y, z, w, back


def column_ops(A, col):
    B = A.copy()
    first = A[:, 0]
    last_row = A[-1, :]
    view_col = B[:, 0]  # a NumPy view: it sees the write to B[:, 0] below
    B[:, 0] = col
    B[1, :] = B[1, :] * 2.0
    B[:, -1] += 1.0
    B[0, 0] = -1.0
    return first, last_row, view_col, B, B[1:3, 1:3], B[:2, ::-1]


def slice_writes(n):
    a = np.zeros(n)
    a[1:3] = 1.0
    a[::2] += 0.5
    a[-1] = 7.0
    a[n // 2:] *= 2.0
    b = np.arange(n)
    b[1:n - 1] = b[2:] - b[:n - 2]
    return a, b


def mask_writes(x, thr):
    y = x.copy()
    y[y > thr] = thr
    y[y < -thr] *= 0.5
    big = np.abs(x) > thr
    count = big.sum()
    z = np.zeros_like(x)
    z[big] = x[big]
    return y, count, z, x[~big]


def ellipsis_and_newaxis(T):
    first = T[..., 0]
    plane = T[0, ...]
    col = T[:, :, 1][:, :, None]
    return first, plane, col, T[None, 0, :, 0]


def diagonal_write(n, v):
    D = np.zeros((n, n))
    for i in range(n):
        D[i, i] = v + i
        if i + 1 < n:
            D[i, i + 1] = -1.0
            D[i + 1, i] = -1.0
    return D


def index_with_computed_ints(x, k):
    n = x.shape[0]
    i = (k * 7) % n
    j = -((k % n) + 1)
    return x[i], x[j], x[i - n], x[n - 1 - i]


def fancy_rows(A, rows):
    sub = A[rows]
    picked = A[rows, 0]
    colsum = A[:, rows].sum(axis=0)
    return sub, picked, colsum


def reverse_in_place_local(x):
    y = x.copy()
    i = 0
    j = len(y) - 1
    while i < j:
        y[i], y[j] = y[j], y[i]
        i += 1
        j -= 1
    return y


def histogram_counts(values, n_bins, lo, hi):
    counts = np.zeros(n_bins, dtype=np.int64)
    width = (hi - lo) / n_bins
    for v in values:
        b = int(np.floor((v - lo) / width))
        if b < 0 or b >= n_bins:
            continue
        counts[b] += 1
    return counts


def row_norms_and_argmax(A):
    norms = np.zeros(A.shape[0])
    for i, row in enumerate(A):
        norms[i] = np.sqrt(row @ row)
    best = -1
    best_val = -np.inf
    k = 0
    for row in A:
        if row.max() > best_val:
            best_val = row.max()
            best = k
        k += 1
    return norms, best, best_val


def assemble_stiffness(n_elems, k_elem):
    # 1-D finite-element assembly: every element adds its 2x2 matrix into the global matrix
    n = n_elems + 1
    K = np.zeros((n, n))
    ke = k_elem * np.array([[1.0, -1.0], [-1.0, 1.0]])
    for e in range(n_elems):
        for a in range(2):
            for b in range(2):
                K[e + a, e + b] += ke[a, b]
    K[0, :] = 0.0
    K[0, 0] = 1.0
    return K


_rng = np.random.default_rng(3)
_x = _rng.normal(size=12)
_perm = _rng.permutation(12)
_A = _rng.normal(size=(5, 4))
_T = _rng.normal(size=(3, 4, 2))

CASES = [
    (basic_reads, (_x,)),
    (basic_reads, (np.arange(8),)),
    (gather_scatter, (_x, _perm)),
    (column_ops, (_A, np.arange(5.0))),
    (slice_writes, (6,)),
    (slice_writes, (11,)),
    (mask_writes, (_x, 1.0)),
    (mask_writes, (_x, 0.2)),
    (ellipsis_and_newaxis, (_T,)),
    (diagonal_write, (1, 2.0)),
    (diagonal_write, (5, 4.0)),
    (index_with_computed_ints, (_x, 3)),
    (index_with_computed_ints, (_x, 40)),
    (fancy_rows, (_A, np.array([3, 0, 3]))),
    (reverse_in_place_local, (_x,)),
    (reverse_in_place_local, (np.array([1, 2, 3, 4]),)),
    (row_norms_and_argmax, (_A,)),
    (row_norms_and_argmax, (np.ones((1, 3)),)),
    (assemble_stiffness, (4, 2.0)),
    (histogram_counts, (_x, 6, -2.0, 2.0)),
    (histogram_counts, (_rng.uniform(size=50), 4, 0.0, 1.0)),
]
