"""Dense linear algebra: products, factorisations written by hand, iterative solvers."""

import numpy as np


def products(A, B, x, y):
    return (np.dot(A, B), np.matmul(A, B), A @ B, A @ x, A.dot(x), x @ A.T @ y,
            np.outer(x, y), np.dot(x, x), x @ x, A.T @ A)


def library_linalg(A, b):
    x = np.linalg.solve(A, b)
    Ai = np.linalg.inv(A)
    d = np.linalg.det(A)
    sign, logdet = np.linalg.slogdet(A)
    residual = np.linalg.norm(A @ x - b)
    return x, Ai, d, sign, logdet, residual, np.linalg.norm(A), np.linalg.norm(b), np.linalg.norm(A, axis=1)


def einsum_family(A, B, x):
    return (np.einsum("ij,jk->ik", A, B), np.einsum("ij,j->i", A, x), np.einsum("ii->", A),
            np.einsum("i,i->", x, x), np.einsum("ij->ji", A), np.tensordot(A, B, axes=1),
            np.tensordot(A, A, axes=2), np.trace(A @ A.T))


def structured_matrices(v, M):
    D = np.diag(v)
    d = np.diag(M)
    U = np.triu(M)
    L = np.tril(M, -1)
    K = np.kron(np.eye(2), M)
    return D, d, U, L, K, np.trace(M), np.diag(M, 1)


def mat_power(A, p):
    # repeated squaring with an integer exponent and a data-dependent while loop
    n = A.shape[0]
    result = np.eye(n)
    base = A.copy()
    e = p
    while e > 0:
        if e % 2 == 1:
            result = result @ base
        base = base @ base
        e //= 2
    return result


def jacobi(A, b, n_iter):
    d = np.diag(A)
    R = A - np.diag(d)
    x = np.zeros_like(b)
    for _ in range(n_iter):
        x = (b - R @ x) / d
    return x, np.linalg.norm(A @ x - b)


def gauss_seidel(A, b, tol=1e-10, max_sweeps=500):
    n = len(b)
    x = np.zeros(n)
    sweeps = 0
    for sweep in range(max_sweeps):
        for i in range(n):
            s = b[i]
            for j in range(n):
                if j != i:
                    s -= A[i, j] * x[j]
            x[i] = s / A[i, i]
        sweeps += 1
        if np.linalg.norm(A @ x - b) < tol:
            break
    return x, sweeps


def cholesky(A):
    n = A.shape[0]
    L = np.zeros((n, n))
    for j in range(n):
        s = A[j, j] - np.dot(L[j, :j], L[j, :j])
        L[j, j] = np.sqrt(s)
        for i in range(j + 1, n):
            L[i, j] = (A[i, j] - np.dot(L[i, :j], L[j, :j])) / L[j, j]
    return L


def triangular_solves(L, b):
    n = len(b)
    y = np.zeros(n)
    for i in range(n):
        y[i] = (b[i] - L[i, :i] @ y[:i]) / L[i, i]
    U = L.T
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (y[i] - U[i, i + 1:] @ x[i + 1:]) / U[i, i]
    return y, x


def cholesky_solve(A, b):
    L = cholesky(A)
    y, x = triangular_solves(L, b)
    return x


def gram_schmidt(A):
    m, n = A.shape
    Q = np.zeros((m, n))
    R = np.zeros((n, n))
    for j in range(n):
        v = A[:, j].copy()
        for i in range(j):
            R[i, j] = Q[:, i] @ A[:, j]
            v -= R[i, j] * Q[:, i]
        R[j, j] = np.linalg.norm(v)
        Q[:, j] = v / R[j, j]
    return Q, R


def power_iteration(A, n_iter=200, tol=1e-12):
    v = np.ones(A.shape[0])
    v = v / np.linalg.norm(v)
    lam = 0.0
    for _ in range(n_iter):
        w = A @ v
        lam_new = v @ w
        v = w / np.linalg.norm(w)
        if abs(lam_new - lam) < tol:
            lam = lam_new
            break
        lam = lam_new
    return lam, v


def conjugate_gradient(A, b, tol=1e-10):
    x = np.zeros_like(b)
    r = b - A @ x
    p = r.copy()
    rs = r @ r
    k = 0
    while np.sqrt(rs) > tol and k < 10 * len(b):
        Ap = A @ p
        alpha = rs / (p @ Ap)
        x += alpha * p
        r -= alpha * Ap
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
        k += 1
    return x, k


def lu_decompose(A):
    # Doolittle LU without pivoting (inputs are diagonally dominant)
    n = A.shape[0]
    L = np.eye(n)
    U = A.copy()
    for k in range(n - 1):
        for i in range(k + 1, n):
            L[i, k] = U[i, k] / U[k, k]
            U[i, k:] -= L[i, k] * U[k, k:]
    return L, U, np.prod(np.diag(U))


_rng = np.random.default_rng(8)
_A = _rng.normal(size=(4, 4))
_B = _rng.normal(size=(4, 3))
_x4 = _rng.normal(size=4)
_y3 = _rng.normal(size=3)
_M = _rng.normal(size=(6, 6))
_SPD = _M @ _M.T + 6.0 * np.eye(6)
_DD = _rng.uniform(-1.0, 1.0, size=(5, 5)) + 6.0 * np.eye(5)
_b6 = _rng.normal(size=6)
_b5 = _rng.normal(size=5)
_tall = _rng.normal(size=(6, 3))

CASES = [
    (products, (_A, _B, _x4, _x4[::-1])),
    (library_linalg, (_A, _x4)),
    (library_linalg, (_SPD, _b6)),
    (einsum_family, (_A, _B, _x4)),
    (structured_matrices, (_y3, _A)),
    (mat_power, (_A / 2.0, 0)),
    (mat_power, (_A / 2.0, 1)),
    (mat_power, (_A / 2.0, 13)),
    (jacobi, (_DD, _b5, 30)),
    (gauss_seidel, (_DD, _b5)),
    (gauss_seidel, (_SPD, _b6, 1e-8, 3)),
    (cholesky, (_SPD,)),
    (cholesky_solve, (_SPD, _b6)),
    (gram_schmidt, (_tall,)),
    (gram_schmidt, (_A,)),
    (power_iteration, (_SPD,)),
    (power_iteration, (_SPD, 5)),
    (conjugate_gradient, (_SPD, _b6)),
    (lu_decompose, (_DD,)),
]
