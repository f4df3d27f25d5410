"""vmap (issue 6): the adaptive-step integrator of `adaptive.py` (`while t < t_end:`, step
doubling, rejection) over a batch of 100 decay rates k (y0, t_end, tol shared).

Each member takes its own number of steps. "auto" compiles a loop over the batch (one while loop
per member, as 100 calls would run it, without the 100 calls); "vectorize" runs one while loop for
the whole batch, masked, until its slowest member is done (as JAX's vmap of `lax.while_loop` does).
"""

from __future__ import annotations

import numpy as np

from .. import peers
from ..harness import Config, Target, Tool, Workload, run_workload
from .adaptive import adaptive_decay, count_steps, jax_adaptive_decay
from .vmap_lorenz import check_members, strategy_note

BATCH = 100


def batch_k(batch: int) -> np.ndarray:
    """Decay rates around the adaptive workload's k = 2, fixed seed."""
    return np.random.default_rng(0).uniform(1.0, 3.0, batch)


def tools(ks: np.ndarray, y0: float, t_end: float, tol: float) -> list[Tool]:
    mo_name = peers.morphism_name()
    base = f"{mo_name} jit, Python loop of {len(ks)} calls"

    def morphism_calls():
        f = peers.mo_jit(adaptive_decay)
        k_list = ks.tolist()  # Python floats: morphism's fast call path (a np.float64 takes the slow one)
        return lambda: np.array([f(k, y0, t_end, tol) for k in k_list])

    def morphism_vmap(strategy):
        def build():
            mo = peers.morphism()
            f = peers.mo_jit(mo.vmap(adaptive_decay, in_axes=(0, None, None, None), strategy=strategy))
            return lambda: f(ks, y0, t_end, tol)

        return build

    def numba_loop():
        nb = peers.numba()
        f = nb.njit(adaptive_decay)

        @nb.njit
        def batched(ks, y0, t_end, tol):
            out = np.empty(ks.shape[0])
            for i in range(ks.shape[0]):
                out[i] = f(ks[i], y0, t_end, tol)
            return out

        return lambda: batched(ks, y0, t_end, tol)

    def jax_vmap():
        jax = peers.jax()
        f = jax.jit(jax.vmap(jax_adaptive_decay, in_axes=(0, None, None, None)))
        kj, yj = jax.numpy.asarray(ks), jax.numpy.float64(y0)
        return lambda: f(kj, yj, t_end, tol)

    return [
        Tool(base, morphism_calls, kind="primal", baseline=True, is_morphism=True,
             note="baseline: mo.jit(adaptive_decay) called once per k (a Python float)"),
        Tool(f"{mo_name} jit(vmap), strategy auto", morphism_vmap("auto"), kind="primal", is_morphism=True,
             note="auto: a loop over the batch (adaptive_decay has a loop)",
             targets=[Target("jit(vmap) ÷ Python loop of jit calls", 1.0, base, issue=6)]),
        Tool(f"{mo_name} jit(vmap), strategy vectorize", morphism_vmap("vectorize"), kind="primal",
             is_morphism=True, note="forced vectorised code: one masked while loop for the batch"),
        Tool("numba loop over njit primal", numba_loop, kind="primal"),
        Tool("JAX jit(vmap), while_loop", jax_vmap, kind="primal", sync=peers.jax_sync,
             note="one batched while_loop, runs until the last member is done"),
    ]


def run(cfg: Config):
    y0, t_end, tol = (1.0, 2.0, 1e-5) if cfg.quick else (1.0, 10.0, 1e-6)
    ks = batch_k(BATCH)
    steps = [sum(count_steps(k, y0, t_end, tol)) for k in ks]
    mo_name = peers.morphism_name()
    w = Workload(
        "vmap_adaptive", f"vmap: adaptive-step integrator (while t < t_end) over {BATCH} values of k "
                         f"({min(steps)} to {max(steps)} steps each, {sum(steps)} in all)",
        tools(ks, y0, t_end, tol),
        references={"primal": ["numba loop over njit primal", f"{mo_name} jit, Python loop of {BATCH} calls"]},
        rtol=1e-7, atol=1e-10,
        check_reference=check_members(adaptive_decay, lambda i: (ks[i], y0, t_end, tol)),
        sizes=f"batch={BATCH}, k∈[1, 3), y0={y0}, t_end={t_end}, tol={tol}")
    rows = run_workload(w, cfg)
    strategy_note(rows, f"{mo_name} jit(vmap), strategy auto", f"{mo_name} jit(vmap), strategy vectorize",
                  "while-loop IR")
    return w, rows
