"""vmap (issue 6): the Lorenz-63 loss of `lorenz.py` over a batch of 1000 parameter sets (σ, ρ, β
perturbed around the classic values, fixed seed), one loss per set.

A scalar loop per batch member: `mo.vmap`'s "auto" strategy compiles a loop over the batch around
the member's loop (what a Numba programmer writes by hand, the baseline); "vectorize" turns every
scalar operation into an operation on a batch-sized array instead. Both rows are shown.
"""

from __future__ import annotations

import numpy as np

from .. import peers
from ..harness import Config, Row, Target, Tool, Workload, fmt_ratio, run_workload
from .lorenz import DT, PARAMS, jax_loss, lorenz_loss

BATCH = 1000


def batch_params(batch: int) -> np.ndarray:
    """(batch, 3): σ, ρ, β each perturbed by up to ±10 %, fixed seed."""
    rng = np.random.default_rng(0)
    return np.asarray(PARAMS) * (1.0 + rng.uniform(-0.1, 0.1, (batch, 3)))


def tools(P: np.ndarray, n_steps: int) -> list[Tool]:
    sigma, rho, beta = (np.ascontiguousarray(P[:, j]) for j in range(3))
    mo_name = peers.morphism_name()
    base = "numba loop over njit primal"

    def numba_loop():
        nb = peers.numba()
        f = nb.njit(lorenz_loss)

        @nb.njit
        def batched(s, r, b, n, dt):
            out = np.empty(s.shape[0])
            for i in range(s.shape[0]):
                out[i] = f(s[i], r[i], b[i], n, dt)
            return out

        return lambda: batched(sigma, rho, beta, n_steps, DT)

    def morphism_vmap(strategy):
        def build():
            mo = peers.morphism()
            f = peers.mo_jit(mo.vmap(lorenz_loss, in_axes=(0, 0, 0, None, None), strategy=strategy))
            return lambda: f(sigma, rho, beta, n_steps, DT)

        return build

    def jax_vmap():
        jax = peers.jax()
        f = jax.jit(jax.vmap(jax_loss(n_steps, DT)))
        p = jax.numpy.asarray(P)
        return lambda: f(p)

    return [
        Tool(base, numba_loop, kind="primal", baseline=True, note="baseline: njit loop calling the njit primal"),
        Tool(f"{mo_name} jit(vmap), strategy auto", morphism_vmap("auto"), kind="primal", is_morphism=True,
             note="auto: a loop over the batch (lorenz_loss has loops)",
             targets=[Target("jit(vmap) ÷ numba loop", 1.2, base, issue=6)]),
        Tool(f"{mo_name} jit(vmap), strategy vectorize", morphism_vmap("vectorize"), kind="primal",
             is_morphism=True, note="forced vectorised code"),
        Tool("JAX jit(vmap), fori_loop", jax_vmap, kind="primal", sync=peers.jax_sync),
    ]


def check_members(fn, batch_args):
    """The reference against the plain Python function on a few members of the batch (first,
    middle, last): the batch is the one intended, in order."""

    def check(kind, out):
        out = np.asarray(out, dtype=np.float64)
        n = out.shape[0]
        idx = sorted({0, n // 2, n - 1})
        errs = []
        for i in idx:
            want = fn(*batch_args(i))
            errs.append(abs(float(out[i]) - want) / max(1e-300, abs(want)))
        err = max(errs)
        return err < 1e-9, f"plain Python at members {', '.join(map(str, idx))}: rel err {err:.1e}"

    return check


def strategy_note(rows: list[Row], auto: str, vectorize: str, what: str) -> None:
    """Says on the vectorize row which strategy was faster on this IR."""
    by = {r.tool: r for r in rows}
    a, v = by.get(auto), by.get(vectorize)
    if a is None or v is None or not (a.ok and v.ok) or not (a.time_s and v.time_s):
        return
    q = v.time_s / a.time_s
    faster = "auto" if q > 1 else "vectorize"
    text = f"{what}: vectorize {fmt_ratio(q)} the time of auto ({faster} faster)"
    v.note = f"{v.note}; {text}" if v.note else text
    v.extra["vectorize_over_auto"] = q


def run(cfg: Config):
    n_steps = 200 if cfg.quick else 2000
    P = batch_params(BATCH)
    w = Workload(
        "vmap_lorenz", f"vmap: Lorenz-63 RK4 loss ({n_steps} steps) over {BATCH} parameter sets (σ, ρ, β ±10 %)",
        tools(P, n_steps), references={"primal": ["numba loop over njit primal", "JAX jit(vmap), fori_loop"]},
        rtol=1e-6, atol=1e-9,
        check_reference=check_members(lorenz_loss, lambda i: (*P[i], n_steps, DT)),
        sizes=f"batch={BATCH}, n_steps={n_steps}, dt={DT}")
    rows = run_workload(w, cfg)
    mo_name = peers.morphism_name()
    strategy_note(rows, f"{mo_name} jit(vmap), strategy auto", f"{mo_name} jit(vmap), strategy vectorize",
                  "scalar loop IR")
    return w, rows
