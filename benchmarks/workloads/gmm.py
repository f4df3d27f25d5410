"""GMM objective from ADBench (Srajer, Kukelova & Fitzgibbon, 2018): d=10, k=25, n=1000; gradient
w.r.t. (alphas, means, icf).

The negative log-likelihood of a Gaussian mixture whose inverse covariances are parametrised by
`icf`: per component, the log of the diagonal (first d entries) and the strictly lower triangle
of a Cholesky-like factor L (the next d(d-1)/2 entries, column by column), plus a Wishart prior.

`gmm_objective` is written once in NumPy-style Python with loops (over components and over the
triangle) and compiled by Numba (the baseline) and by morphism. JAX and autograd run the
vectorised `gmm_objective_vec` (ADBench's own JAX/autograd style), with `np` rebound; PyTorch gets
`gmm_objective_torch`.
"""

from __future__ import annotations

import math

import numpy as np

from .. import peers
from ..harness import Config, Target, Tool, Workload, run_workload


def log_gamma_distrib(a, p):
    """log of the multivariate gamma function Γ_p(a)."""
    out = 0.25 * p * (p - 1) * math.log(math.pi)
    for j in range(1, p + 1):
        out += math.lgamma(a + 0.5 * (1 - j))
    return out


def wishart_log_normaliser(d, wishart_gamma, wishart_m):
    n_w = d + wishart_m + 1.0
    return n_w * d * (math.log(wishart_gamma) - 0.5 * math.log(2.0)) - log_gamma_distrib(0.5 * n_w, d)


def gmm_objective(alphas, means, icf, x, wishart_gamma, wishart_m):
    c = wishart_log_normaliser(x.shape[1], wishart_gamma, wishart_m)
    return gmm_objective_c(alphas, means, icf, x, wishart_gamma, wishart_m, c)


def gmm_objective_c(alphas, means, icf, x, wishart_gamma, wishart_m, c):
    """The objective, given the Wishart normaliser `c` (a constant of d, gamma and m)."""
    n, d = x.shape
    k = alphas.shape[0]
    sum_qs = np.sum(icf[:, :d], axis=1)
    main = np.zeros((n, k))
    for ik in range(k):
        xc = x - means[ik]                       # (n, d)
        lxc = xc * np.exp(icf[ik, :d])           # Q x: the diagonal part
        idx = d
        for i in range(d):                       # ... plus the strictly lower triangle
            for j in range(i + 1, d):
                lxc[:, j] += icf[ik, idx] * xc[:, i]
                idx += 1
        main[:, ik] = alphas[ik] + sum_qs[ik] - 0.5 * np.sum(lxc * lxc, axis=1)
    # log-sum-exp over components, per point
    mx = main[:, 0].copy()
    for ik in range(1, k):
        mx = np.maximum(mx, main[:, ik])
    slse = np.sum(mx + np.log(np.sum(np.exp(main - mx.reshape((n, 1))), axis=1)))
    amax = np.max(alphas)
    lse_alphas = amax + np.log(np.sum(np.exp(alphas - amax)))
    # Wishart prior
    frob = 0.0
    for ik in range(k):
        frob += np.sum(np.exp(2.0 * icf[ik, :d])) + np.sum(icf[ik, d:] ** 2)
    prior = 0.5 * wishart_gamma * wishart_gamma * frob - wishart_m * np.sum(sum_qs)
    const = -n * d * 0.5 * math.log(2.0 * math.pi)
    return const + slse - n * lse_alphas + prior - k * c


def tri_scatter(d: int) -> np.ndarray:
    """T with icf[:, d:] @ T = the strictly lower triangles, flattened row-major (k, d*d)."""
    t = np.zeros((d * (d - 1) // 2, d * d))
    idx = 0
    for i in range(d):
        for j in range(i + 1, d):
            t[idx, j * d + i] = 1.0
            idx += 1
    return t


def gmm_objective_vec(alphas, means, icf, x, wishart_gamma, wishart_m, tri):
    n, d = x.shape
    k = alphas.shape[0]
    qdiag = np.exp(icf[:, :d])
    sum_qs = np.sum(icf[:, :d], axis=1)
    ls = np.reshape(icf[:, d:] @ tri, (k, d, d))
    xc = x[:, None, :] - means[None, :, :]                        # (n, k, d)
    lxc = qdiag[None, :, :] * xc + np.einsum("kij,nkj->nki", ls, xc)
    main = alphas[None, :] + sum_qs[None, :] - 0.5 * np.sum(lxc * lxc, axis=2)
    mx = np.max(main, axis=1)
    slse = np.sum(mx + np.log(np.sum(np.exp(main - mx[:, None]), axis=1)))
    amax = np.max(alphas)
    lse_alphas = amax + np.log(np.sum(np.exp(alphas - amax)))
    frob = np.sum(qdiag * qdiag) + np.sum(icf[:, d:] ** 2)
    prior = 0.5 * wishart_gamma * wishart_gamma * frob - wishart_m * np.sum(sum_qs)
    c = wishart_log_normaliser(d, wishart_gamma, wishart_m)
    const = -n * d * 0.5 * math.log(2.0 * math.pi)
    return const + slse - n * lse_alphas + prior - k * c


def gmm_objective_torch(torch, alphas, means, icf, x, wishart_gamma, wishart_m, tri):
    n, d = x.shape
    k = alphas.shape[0]
    qdiag = torch.exp(icf[:, :d])
    sum_qs = torch.sum(icf[:, :d], dim=1)
    ls = torch.reshape(icf[:, d:] @ tri, (k, d, d))
    xc = x[:, None, :] - means[None, :, :]
    lxc = qdiag[None, :, :] * xc + torch.einsum("kij,nkj->nki", ls, xc)
    main = alphas[None, :] + sum_qs[None, :] - 0.5 * torch.sum(lxc * lxc, dim=2)
    slse = torch.sum(torch.logsumexp(main, dim=1))
    frob = torch.sum(qdiag * qdiag) + torch.sum(icf[:, d:] ** 2)
    prior = 0.5 * wishart_gamma * wishart_gamma * frob - wishart_m * torch.sum(sum_qs)
    c = wishart_log_normaliser(d, wishart_gamma, wishart_m)
    const = -n * d * 0.5 * math.log(2.0 * math.pi)
    return const + slse - n * torch.logsumexp(alphas, dim=0) + prior - k * c


def data(d: int, k: int, n: int):
    """ADBench-style random instance (fixed seed); wishart gamma = 1, m = 0 as in ADBench."""
    rng = np.random.default_rng(0)
    alphas = rng.normal(size=k)
    means = rng.uniform(size=(k, d))
    icf = rng.uniform(size=(k, d + d * (d - 1) // 2)) * 0.5
    x = rng.uniform(size=(n, d))
    return alphas, means, icf, x, 1.0, 0.0


def tools(args) -> list[Tool]:
    alphas, means, icf, x, gamma, m = args
    tri = tri_scatter(x.shape[1])
    mo_name = peers.morphism_name()

    def numba_primal():
        nb = peers.numba()
        helpers = {"log_gamma_distrib": nb.njit(log_gamma_distrib)}
        helpers["wishart_log_normaliser"] = nb.njit(peers.rebind(wishart_log_normaliser, **helpers))
        helpers["gmm_objective_c"] = nb.njit(gmm_objective_c)
        f = nb.njit(peers.rebind(gmm_objective, **helpers))
        return lambda: f(*args)

    def morphism_grad():
        g = peers.mo_jit(peers.morphism().grad(gmm_objective, argnums=(0, 1, 2)))
        return lambda: g(*args)

    def numpy_vec_primal():
        return lambda: gmm_objective_vec(*args, tri)

    def jax_grad():
        jax = peers.jax()
        f = peers.rebind(gmm_objective_vec, np=jax.numpy)
        g = jax.jit(jax.grad(f, argnums=(0, 1, 2)), static_argnums=(4, 5))
        a, mu, q, xx = (jax.numpy.asarray(v) for v in (alphas, means, icf, x))
        t = jax.numpy.asarray(tri)
        return lambda: g(a, mu, q, xx, gamma, m, t)

    def torch_grad():
        torch = peers.torch()
        a, mu, q = (torch.tensor(v, requires_grad=True) for v in (alphas, means, icf))
        xx, t = torch.tensor(x), torch.tensor(tri)

        def run():
            loss = gmm_objective_torch(torch, a, mu, q, xx, gamma, m, t)
            return torch.autograd.grad(loss, (a, mu, q))

        return run

    def autograd_grad():
        ag = peers.autograd()
        import autograd.numpy as anp

        f = peers.rebind(gmm_objective_vec, np=anp)
        g = ag.grad(lambda p: f(p[0], p[1], p[2], x, gamma, m, tri))
        return lambda: g((alphas, means, icf))

    return [
        Tool("numba primal", numba_primal, kind="primal", baseline=True, note="baseline (loop version)"),
        Tool("NumPy primal (vectorised)", numpy_vec_primal, kind="primal", eager=True),
        Tool(f"{mo_name} grad", morphism_grad, is_morphism=True, targets=[
            Target("grad ÷ numba primal", 3.0, "numba primal"),
            Target("÷ JAX jit(grad)", 1.5, "JAX jit(grad)")]),
        Tool("JAX jit(grad)", jax_grad, sync=peers.jax_sync, note="vectorised"),
        Tool("PyTorch eager", torch_grad, eager=True, note="vectorised"),
        Tool("autograd", autograd_grad, eager=True, note="vectorised"),
    ]


def check_reference(args):
    """The reference gradient against a central finite difference along a random direction."""
    alphas, means, icf, x, gamma, m = args
    tri = tri_scatter(x.shape[1])

    def check(kind, grads):
        if kind != "grad":
            return True, ""
        rng = np.random.default_rng(1)
        ds = [rng.normal(size=v.shape) for v in (alphas, means, icf)]
        h = 1e-6
        plus = gmm_objective_vec(*(v + h * dv for v, dv in zip((alphas, means, icf), ds)), x, gamma, m, tri)
        minus = gmm_objective_vec(*(v - h * dv for v, dv in zip((alphas, means, icf), ds)), x, gamma, m, tri)
        fd = (plus - minus) / (2 * h)
        ad = sum(float(np.sum(np.asarray(g.detach() if hasattr(g, "detach") else g) * dv)) for g, dv in zip(grads, ds))
        err = abs(ad - fd) / max(1e-12, abs(fd))
        return err < 1e-5, f"finite differences: rel err {err:.1e}"

    return check


def run(cfg: Config):
    d, k, n = (5, 5, 100) if cfg.quick else (10, 25, 1000)
    args = data(d, k, n)
    w = Workload(
        "gmm", f"GMM objective (ADBench), d={d}, k={k}, n={n}, grad w.r.t. (alphas, means, icf)", tools(args),
        references={"grad": ["JAX jit(grad)", "autograd", "PyTorch eager"],
                    "primal": ["NumPy primal (vectorised)", "numba primal"]},
        rtol=1e-8, atol=1e-10, check_reference=check_reference(args), sizes=f"d={d}, k={k}, n={n}")
    return w, run_workload(w, cfg)
