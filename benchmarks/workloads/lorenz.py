"""Lorenz-63 integrated with RK4; loss = mean of x² over the trajectory; gradient w.r.t. (σ, ρ, β).

A scalar-heavy loop: the case where tracing frameworks pay their per-operation overhead and a
compiler should not. `lorenz_loss` is written once, in plain Python, and run as it is by morphism,
Numba, PyTorch (scalar tensors) and autograd; JAX needs `lax.fori_loop`.
"""

from __future__ import annotations

import numpy as np

from .. import peers
from ..harness import Config, Target, Tool, Workload, run_workload

PARAMS = (10.0, 28.0, 8.0 / 3.0)
DT = 0.01


def lorenz_loss(sigma, rho, beta, n_steps, dt):
    x, y, z = 1.0, 1.0, 1.0
    total = 0.0
    for _ in range(n_steps):
        k1x, k1y, k1z = sigma * (y - x), x * (rho - z) - y, x * y - beta * z
        x2, y2, z2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z
        k2x, k2y, k2z = sigma * (y2 - x2), x2 * (rho - z2) - y2, x2 * y2 - beta * z2
        x3, y3, z3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z
        k3x, k3y, k3z = sigma * (y3 - x3), x3 * (rho - z3) - y3, x3 * y3 - beta * z3
        x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
        k4x, k4y, k4z = sigma * (y4 - x4), x4 * (rho - z4) - y4, x4 * y4 - beta * z4
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
        total += x * x
    return total / n_steps


# ---- the hand-written adjoint (for Numba) ------------------------------------------------------
#
# Forward: store the state before each step. Reverse: per step, recompute the four stages from the
# stored state and pull the cotangent back through them. For f(s) = (σ(y−x), x(ρ−z)−y, xy−βz) and a
# cotangent v = (a, b, c) on f:
#   x̄ = −σa + (ρ−z)b + yc,  ȳ = σa − b + xc,  z̄ = −xb − βc
#   σ̄ = (y−x)a,             ρ̄ = xb,          β̄ = −zc


def _f(x, y, z, sigma, rho, beta):
    return sigma * (y - x), x * (rho - z) - y, x * y - beta * z


def _f_vjp(x, y, z, sigma, rho, beta, a, b, c):
    """(x̄, ȳ, z̄, σ̄, ρ̄, β̄) for the cotangent (a, b, c) on f(x, y, z)."""
    return (-sigma * a + (rho - z) * b + y * c, sigma * a - b + x * c, -x * b - beta * c,
            (y - x) * a, x * b, -z * c)


def lorenz_grad_adjoint(sigma, rho, beta, n_steps, dt):
    traj = np.empty((n_steps + 1, 3))  # the state before each step, and the final one
    x, y, z = 1.0, 1.0, 1.0
    traj[0, 0], traj[0, 1], traj[0, 2] = x, y, z
    for i in range(n_steps):
        k1x, k1y, k1z = _f(x, y, z, sigma, rho, beta)
        x2, y2, z2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z
        k2x, k2y, k2z = _f(x2, y2, z2, sigma, rho, beta)
        x3, y3, z3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z
        k3x, k3y, k3z = _f(x3, y3, z3, sigma, rho, beta)
        x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
        k4x, k4y, k4z = _f(x4, y4, z4, sigma, rho, beta)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
        traj[i + 1, 0], traj[i + 1, 1], traj[i + 1, 2] = x, y, z
    w1, w2 = dt / 6.0, dt / 3.0  # s' = s + w1 k1 + w2 k2 + w2 k3 + w1 k4
    gs, gr, gb = 0.0, 0.0, 0.0
    xb, yb, zb = 0.0, 0.0, 0.0  # cotangent of the state after step i
    for i in range(n_steps - 1, -1, -1):
        xb += 2.0 * traj[i + 1, 0] / n_steps  # total += x'², loss = total / n_steps
        x, y, z = traj[i, 0], traj[i, 1], traj[i, 2]
        k1x, k1y, k1z = _f(x, y, z, sigma, rho, beta)
        x2, y2, z2 = x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z
        k2x, k2y, k2z = _f(x2, y2, z2, sigma, rho, beta)
        x3, y3, z3 = x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z
        k3x, k3y, k3z = _f(x3, y3, z3, sigma, rho, beta)
        x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
        # k4 = f(s4), s4 = s + dt k3
        ax, ay, az, s_, r_, b_ = _f_vjp(x4, y4, z4, sigma, rho, beta, w1 * xb, w1 * yb, w1 * zb)
        gs, gr, gb = gs + s_, gr + r_, gb + b_
        nxb, nyb, nzb = xb + ax, yb + ay, zb + az
        cx, cy, cz = w2 * xb + dt * ax, w2 * yb + dt * ay, w2 * zb + dt * az  # on k3
        # k3 = f(s3), s3 = s + dt/2 k2
        ax, ay, az, s_, r_, b_ = _f_vjp(x3, y3, z3, sigma, rho, beta, cx, cy, cz)
        gs, gr, gb = gs + s_, gr + r_, gb + b_
        nxb, nyb, nzb = nxb + ax, nyb + ay, nzb + az
        cx, cy, cz = w2 * xb + 0.5 * dt * ax, w2 * yb + 0.5 * dt * ay, w2 * zb + 0.5 * dt * az  # on k2
        # k2 = f(s2), s2 = s + dt/2 k1
        ax, ay, az, s_, r_, b_ = _f_vjp(x2, y2, z2, sigma, rho, beta, cx, cy, cz)
        gs, gr, gb = gs + s_, gr + r_, gb + b_
        nxb, nyb, nzb = nxb + ax, nyb + ay, nzb + az
        cx, cy, cz = w1 * xb + 0.5 * dt * ax, w1 * yb + 0.5 * dt * ay, w1 * zb + 0.5 * dt * az  # on k1
        # k1 = f(s)
        ax, ay, az, s_, r_, b_ = _f_vjp(x, y, z, sigma, rho, beta, cx, cy, cz)
        gs, gr, gb = gs + s_, gr + r_, gb + b_
        xb, yb, zb = nxb + ax, nyb + ay, nzb + az
    return gs, gr, gb


# ---- JAX: the same recurrence as a fori_loop ---------------------------------------------------


def jax_loss(n_steps, dt):
    jax = peers.jax()
    lax = jax.lax

    def loss(params):
        sigma, rho, beta = params

        def f(x, y, z):
            return sigma * (y - x), x * (rho - z) - y, x * y - beta * z

        def step(_, carry):
            x, y, z, total = carry
            k1x, k1y, k1z = f(x, y, z)
            k2x, k2y, k2z = f(x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z)
            k3x, k3y, k3z = f(x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z)
            k4x, k4y, k4z = f(x + dt * k3x, y + dt * k3y, z + dt * k3z)
            x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
            z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
            return x, y, z, total + x * x

        one = jax.numpy.float64(1.0)
        _, _, _, total = lax.fori_loop(0, n_steps, step, (one, one, one, 0.0 * one))
        return total / n_steps

    return loss


# ---- the rows ----------------------------------------------------------------------------------


def tools(n_steps: int) -> list[Tool]:
    args = (*PARAMS, n_steps, DT)

    def numba_primal():
        f = peers.numba().njit(lorenz_loss)
        return lambda: f(*args)

    def numba_adjoint():
        nb = peers.numba()
        g = nb.njit(rebind_njit(lorenz_grad_adjoint, nb))
        return lambda: g(*args)

    def morphism_grad():
        mo = peers.morphism()
        g = peers.mo_jit(mo.grad(lorenz_loss, argnums=(0, 1, 2)))
        return lambda: g(*args)

    def morphism_primal():
        f = peers.mo_jit(lorenz_loss)
        return lambda: f(*args)

    def jax_grad():
        jax = peers.jax()
        g = jax.jit(jax.grad(jax_loss(n_steps, DT)))
        p = jax.numpy.array(PARAMS)
        return lambda: g(p)

    def torch_grad():
        torch = peers.torch()

        def run():
            p = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in PARAMS]
            loss = lorenz_loss(*p, n_steps, DT)
            return torch.autograd.grad(loss, p)

        return run

    def autograd_grad():
        ag = peers.autograd()
        g = ag.grad(lambda p: lorenz_loss(p[0], p[1], p[2], n_steps, DT))
        p = np.array(PARAMS)
        return lambda: g(p)

    mo_name = peers.morphism_name()
    jax_sync = peers.jax_sync
    return [
        Tool("numba primal", numba_primal, kind="primal", baseline=True, note="baseline"),
        Tool(f"{mo_name} primal", morphism_primal, kind="primal", is_morphism=True),
        Tool("numba hand adjoint", numba_adjoint),
        Tool(f"{mo_name} grad", morphism_grad, is_morphism=True, targets=[
            Target("grad ÷ numba primal", 3.0, "numba primal"),
            Target("grad ÷ numba hand adjoint", 1.5, "numba hand adjoint")]),
        Tool("JAX jit(grad), fori_loop", jax_grad, sync=jax_sync),
        Tool("PyTorch eager", torch_grad, eager=True),
        Tool("autograd", autograd_grad, eager=True),
    ]


def rebind_njit(fn, nb):
    """The adjoint with its helpers compiled by Numba (it calls them as globals)."""
    return peers.rebind(fn, _f=nb.njit(_f), _f_vjp=nb.njit(_f_vjp))


def check_reference(n_steps: int):
    """The reference gradient against central finite differences of the Python primal. Over 2000
    steps the flow is chaotic and the loss curves sharply, so no single step h is right for all
    parameters: each parameter takes the best of a few steps."""

    def check(kind, out):
        if kind != "grad":
            return True, ""
        g = np.asarray([float(v) for v in out])
        errs = []
        for j in range(3):
            best = np.inf
            for rel_h in (1e-5, 1e-6, 1e-7, 1e-8):
                h = rel_h * max(1.0, abs(PARAMS[j]))
                p, m = list(PARAMS), list(PARAMS)
                p[j] += h
                m[j] -= h
                fd = (lorenz_loss(*p, n_steps, DT) - lorenz_loss(*m, n_steps, DT)) / (2 * h)
                best = min(best, abs(g[j] - fd) / max(1e-12, abs(fd)))
            errs.append(best)
        err = max(errs)
        return err < 1e-4, f"finite differences: rel err {err:.1e}"

    return check


def run(cfg: Config):
    n_steps = 200 if cfg.quick else 2000
    w = Workload(
        "lorenz", f"Lorenz-63, RK4, {n_steps} steps, grad w.r.t. (σ, ρ, β)", tools(n_steps),
        references={"grad": ["numba hand adjoint", "JAX jit(grad), fori_loop", "autograd", "PyTorch eager"],
                    "primal": ["numba primal"]},
        rtol=1e-6, atol=1e-9, check_reference=check_reference(n_steps), sizes=f"n_steps={n_steps}, dt={DT}")
    return w, run_workload(w, cfg)
