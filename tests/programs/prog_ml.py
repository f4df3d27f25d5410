"""Machine-learning building blocks: MLPs, losses, gradient descent, k-means, attention."""

import numpy as np


def relu(x):
    return np.maximum(x, 0.0)


def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def mlp_forward(W1, b1, W2, b2, X):
    h = relu(X @ W1 + b1)
    logits = h @ W2 + b2
    return logits, softmax(logits)


def softmax_cross_entropy(logits, labels):
    # labels are integer class indices
    n = logits.shape[0]
    m = logits.max(axis=1, keepdims=True)
    log_z = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    picked = logits[np.arange(n), labels]
    loss = np.mean(log_z - picked)
    pred = np.argmax(logits, axis=1)
    acc = np.mean((pred == labels).astype(np.float64))
    return loss, acc


def one_hot(labels, k):
    n = len(labels)
    Y = np.zeros((n, k))
    for i in range(n):
        Y[i, labels[i]] = 1.0
    return Y


def logistic_loss_and_grad(w, b, X, y, l2=0.0):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-12
    loss = -np.mean(y * np.log(p + eps) + (1.0 - y) * np.log(1.0 - p + eps)) + 0.5 * l2 * (w @ w)
    r = (p - y) / len(y)
    gw = X.T @ r + l2 * w
    gb = np.sum(r)
    return loss, gw, gb


def train_logistic(X, y, lr, n_epochs):
    w = np.zeros(X.shape[1])
    b = 0.0
    losses = []
    for epoch in range(n_epochs):
        loss, gw, gb = logistic_loss_and_grad(w, b, X, y, l2=1e-3)
        w = w - lr * gw
        b = b - lr * gb
        losses.append(loss)
    return w, b, np.array(losses)


def linear_regression_gd(X, y, lr=0.1, tol=1e-10, max_iter=2000):
    n, d = X.shape
    w = np.zeros(d)
    it = 0
    prev = np.inf
    while it < max_iter:
        r = X @ w - y
        loss = 0.5 * (r @ r) / n
        if prev - loss < tol:
            break
        prev = loss
        w -= lr * (X.T @ r) / n
        it += 1
    return w, it


def kmeans_step(X, centers):
    k = centers.shape[0]
    d2 = np.sum((X[:, None, :] - centers[None, :, :]) ** 2, axis=2)
    assign = np.argmin(d2, axis=1)
    new_centers = centers.copy()
    counts = np.zeros(k, dtype=np.int64)
    for j in range(k):
        members = X[assign == j]
        counts[j] = members.shape[0]
        if counts[j] > 0:
            new_centers[j] = members.mean(axis=0)
    inertia = np.sum(np.min(d2, axis=1))
    return new_centers, assign, counts, inertia


def kmeans(X, centers0, n_iter):
    c = centers0.copy()
    inertia = 0.0
    for _ in range(n_iter):
        c, assign, counts, inertia = kmeans_step(X, c)
    return c, inertia


def layer_norm(X, gamma, beta, eps=1e-5):
    mu = X.mean(axis=-1, keepdims=True)
    var = X.var(axis=-1, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def attention(Q, K, V):
    d = Q.shape[-1]
    scores = Q @ K.T / np.sqrt(d)
    n = scores.shape[0]
    mask = np.tril(np.ones((n, K.shape[0])))
    scores = np.where(mask > 0.0, scores, -1e9)
    W = softmax(scores)
    return W @ V, W


def conv1d_valid(x, kernel):
    n = len(x)
    k = len(kernel)
    out = np.zeros(n - k + 1)
    flipped = kernel[::-1]
    for i in range(n - k + 1):
        out[i] = np.dot(x[i:i + k], flipped)
    return out


def sgd_momentum_quadratic(A, b, lr, beta, n_steps):
    # minimise 0.5 x^T A x - b^T x with heavy-ball momentum
    x = np.zeros_like(b)
    v = np.zeros_like(b)
    hist = np.zeros(n_steps)
    for t in range(n_steps):
        g = A @ x - b
        v = beta * v + g
        x = x - lr * v
        hist[t] = 0.5 * x @ A @ x - b @ x
    return x, hist


_rng = np.random.default_rng(12)
_X = _rng.normal(size=(16, 5))
_W1 = 0.5 * _rng.normal(size=(5, 8))
_b1 = 0.1 * _rng.normal(size=8)
_W2 = 0.5 * _rng.normal(size=(8, 3))
_b2 = np.zeros(3)
_labels = _rng.integers(0, 3, size=16)
_ybin = (_X[:, 0] + 0.5 * _X[:, 1] > 0.0).astype(np.float64)
_wtrue = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
_yreg = _X @ _wtrue + 0.01 * _rng.normal(size=16)
_blobs = np.concatenate([_rng.normal(size=(10, 2)) + np.array([3.0, 0.0]),
                         _rng.normal(size=(10, 2)) - np.array([3.0, 0.0]),
                         _rng.normal(size=(6, 2)) + np.array([0.0, 4.0])])
_Q = _rng.normal(size=(4, 6))
_K = _rng.normal(size=(4, 6))
_V = _rng.normal(size=(4, 3))
_M = _rng.normal(size=(4, 4))
_SPD = _M @ _M.T + np.eye(4)

CASES = [
    (mlp_forward, (_W1, _b1, _W2, _b2, _X)),
    (mlp_forward, (_W1, _b1, _W2, _b2, _X[:1])),
    (softmax, (_X[0],)),
    (softmax, (_X,)),
    (softmax_cross_entropy, (_X[:, :3], _labels)),
    (one_hot, (_labels, 3)),
    (logistic_loss_and_grad, (np.zeros(5), 0.0, _X, _ybin)),
    (logistic_loss_and_grad, (_wtrue, 0.3, _X, _ybin, 0.1)),
    (train_logistic, (_X, _ybin, 0.5, 25)),
    (linear_regression_gd, (_X, _yreg)),
    (linear_regression_gd, (_X, _yreg, 0.05, 1e-10, 10)),
    (kmeans_step, (_blobs, _blobs[[0, 10, 20]])),
    (kmeans_step, (_blobs, np.array([[100.0, 100.0], [0.0, 0.0]]))),
    (kmeans, (_blobs, _blobs[[0, 1, 2]], 5)),
    (layer_norm, (_X, 1.5, -0.5)),
    (layer_norm, (_X, np.linspace(0.5, 1.5, 5), np.zeros(5), 1e-3)),
    (attention, (_Q, _K, _V)),
    (conv1d_valid, (_X[:, 0], np.array([0.25, 0.5, 0.25]))),
    (conv1d_valid, (_X[:, 1], np.array([1.0, -1.0]))),
    (sgd_momentum_quadratic, (_SPD, _X[0, :4], 0.05, 0.9, 40)),
]
