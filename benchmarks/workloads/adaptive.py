"""A data-dependent while loop: an adaptive-step integrator for y' = -k·y + sin(t) (Euler with step
doubling, step rejection and tolerance control, Richardson-extrapolated), written with
`while t < t_end:`; gradient of y(t_end) w.r.t. (k, y0).

The number of steps, and which are rejected, depend on the values, so a tracer cannot unroll the
loop, and JAX's reverse mode refuses `lax.while_loop` (its forward mode, `jacfwd`, works, and
serves as a check). The derivative is that of the algorithm as run, step-size control included.
"""

from __future__ import annotations

import types

import numpy as np

from .. import peers
from ..harness import Config, Target, Tool, Workload, run_workload


def adaptive_decay(k, y0, t_end, tol):
    t = 0.0
    y = y0
    h = 0.01
    while t < t_end:
        if t + h > t_end:
            h = t_end - t
        f0 = -k * y + np.sin(t)
        y_full = y + h * f0                        # one step of h
        y_half = y + 0.5 * h * f0                  # two steps of h/2
        f1 = -k * y_half + np.sin(t + 0.5 * h)
        y_two = y_half + 0.5 * h * f1
        err = abs(y_two - y_full)
        if err <= tol:                             # accept
            t = t + h
            y = 2.0 * y_two - y_full
        h = h * min(2.0, max(0.2, 0.9 * np.sqrt(tol / (err + 1e-300))))
    return y


def jax_adaptive_decay(k, y0, t_end, tol):
    jax = peers.jax()
    jnp = jax.numpy

    def cond(s):
        return s[0] < t_end

    def body(s):
        t, y, h = s
        h = jnp.where(t + h > t_end, t_end - t, h)
        f0 = -k * y + jnp.sin(t)
        y_full = y + h * f0
        y_half = y + 0.5 * h * f0
        f1 = -k * y_half + jnp.sin(t + 0.5 * h)
        y_two = y_half + 0.5 * h * f1
        err = jnp.abs(y_two - y_full)
        accept = err <= tol
        t = jnp.where(accept, t + h, t)
        y = jnp.where(accept, 2.0 * y_two - y_full, y)
        h = h * jnp.minimum(2.0, jnp.maximum(0.2, 0.9 * jnp.sqrt(tol / (err + 1e-300))))
        return t, y, h

    zero = jnp.zeros_like(y0)
    return jax.lax.while_loop(cond, body, (zero, y0 + zero * k, zero + 0.01))[1]


def torch_numpy(torch):
    """The two NumPy functions `adaptive_decay` calls, on float64 tensors."""
    def as_t(v):
        return v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float64)
    return types.SimpleNamespace(sin=lambda v: torch.sin(as_t(v)), sqrt=lambda v: torch.sqrt(as_t(v)))


def tools(args) -> list[Tool]:
    k, y0, t_end, tol = args
    mo_name = peers.morphism_name()

    def numba_primal():
        f = peers.numba().njit(adaptive_decay)
        return lambda: f(*args)

    def morphism_primal():
        f = peers.mo_jit(adaptive_decay)
        return lambda: f(*args)

    def morphism_grad():
        g = peers.mo_jit(peers.morphism().grad(adaptive_decay, argnums=(0, 1)))
        return lambda: g(*args)

    def jax_primal():
        jax = peers.jax()
        f = jax.jit(jax_adaptive_decay)
        kj, yj = jax.numpy.float64(k), jax.numpy.float64(y0)
        return lambda: f(kj, yj, t_end, tol)

    def jax_jacfwd():
        jax = peers.jax()
        g = jax.jit(jax.jacfwd(jax_adaptive_decay, argnums=(0, 1)))
        kj, yj = jax.numpy.float64(k), jax.numpy.float64(y0)
        return lambda: g(kj, yj, t_end, tol)

    def jax_grad():
        jax = peers.jax()
        g = jax.jit(jax.grad(jax_adaptive_decay, argnums=(0, 1)))
        kj, yj = jax.numpy.float64(k), jax.numpy.float64(y0)
        return lambda: g(kj, yj, t_end, tol)

    def torch_grad():
        torch = peers.torch()
        f = peers.rebind(adaptive_decay, np=torch_numpy(torch))

        def run():
            kt, yt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (k, y0))
            return torch.autograd.grad(f(kt, yt, t_end, tol), (kt, yt))

        return run

    def autograd_grad():
        ag = peers.autograd()
        import autograd.numpy as anp

        f = peers.rebind(adaptive_decay, np=anp)
        g = ag.grad(lambda p: f(p[0], p[1], t_end, tol))
        return lambda: g((k, y0))

    sync = peers.jax_sync
    return [
        Tool("numba primal", numba_primal, kind="primal", baseline=True, note="baseline"),
        Tool(f"{mo_name} primal", morphism_primal, kind="primal", is_morphism=True),
        Tool(f"{mo_name} grad", morphism_grad, is_morphism=True, targets=[
            Target("grad ÷ numba primal", 5.0, "numba primal"),
            Target("grad ÷ morphism primal", 5.0, f"{mo_name} primal")]),
        Tool("JAX jit primal, while_loop", jax_primal, kind="primal", sync=sync),
        Tool("JAX jit(jacfwd), while_loop", jax_jacfwd, sync=sync, note="forward mode"),
        Tool("JAX jit(grad), while_loop", jax_grad, sync=sync, expect_error=True, note="reverse mode"),
        Tool("PyTorch eager", torch_grad, eager=True),
        Tool("autograd", autograd_grad, eager=True),
    ]


def run(cfg: Config):
    args = (2.0, 1.0, 2.0, 1e-5) if cfg.quick else (2.0, 1.0, 10.0, 1e-6)
    steps, rejected = count_steps(*args)
    w = Workload(
        "adaptive", f"adaptive-step integrator (while t < t_end; {steps} accepted, {rejected} rejected steps), "
                    "grad of y(t_end) w.r.t. (k, y0)", tools(args),
        references={"grad": ["JAX jit(jacfwd), while_loop", "autograd", "PyTorch eager"],
                    "primal": ["numba primal"]},
        rtol=1e-7, atol=1e-10, check_reference=check_reference(args),
        sizes=f"k={args[0]}, y0={args[1]}, t_end={args[2]}, tol={args[3]}")
    return w, run_workload(w, cfg)


def count_steps(k, y0, t_end, tol):
    """Accepted and rejected steps (same control logic as adaptive_decay)."""
    t, y, h, acc, rej = 0.0, y0, 0.01, 0, 0
    while t < t_end:
        if t + h > t_end:
            h = t_end - t
        f0 = -k * y + np.sin(t)
        y_full = y + h * f0
        y_half = y + 0.5 * h * f0
        y_two = y_half + 0.5 * h * (-k * y_half + np.sin(t + 0.5 * h))
        err = abs(y_two - y_full)
        if err <= tol:
            t, y, acc = t + h, 2.0 * y_two - y_full, acc + 1
        else:
            rej += 1
        h = h * min(2.0, max(0.2, 0.9 * np.sqrt(tol / (err + 1e-300))))
    return acc, rej


def check_reference(args):
    """The reference gradient against central finite differences of the primal (a small step: the
    accepted/rejected pattern must not change between the two evaluations)."""
    k, y0, t_end, tol = args

    def check(kind, out):
        if kind != "grad":
            return True, ""
        g = np.asarray([float(v) for v in out])
        h = 1e-7
        fd = np.array([(adaptive_decay(k + h, y0, t_end, tol) - adaptive_decay(k - h, y0, t_end, tol)) / (2 * h),
                       (adaptive_decay(k, y0 + h, t_end, tol) - adaptive_decay(k, y0 - h, t_end, tol)) / (2 * h)])
        err = float(np.max(np.abs(g - fd)) / max(1e-12, np.max(np.abs(fd))))
        return err < 1e-4, f"finite differences: rel err {err:.1e}"

    return check
