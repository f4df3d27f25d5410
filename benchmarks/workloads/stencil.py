"""In-place stencil recurrence a[i] = a[i] + 0.5·sin(a[i-1]) over N = 10⁶ elements; loss = sum(a);
gradient w.r.t. the initial array.

Tests that reverse mode through in-place writes in a loop costs O(N) time and memory (a tape of
what each step read, not a copy of the array per step). JAX cannot write in place, so it runs the
functional `lax.scan` form; PyTorch and autograd get the in-place code and show what they do with
it. Peak memory is measured at N and 4N.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

from .. import peers
from ..harness import Config, Target, Tool, Workload, first_line, peak_memory_mb, probe, run_workload

ROOT = pathlib.Path(__file__).resolve().parents[2]


def stencil_loss(a0):
    a = a0.copy()
    for i in range(1, a.shape[0]):
        a[i] = a[i] + 0.5 * np.sin(a[i - 1])
    return np.sum(a)


def stencil_grad_adjoint(a0):
    """By hand: a[i-1] is final once step i reads it, so the reverse sweep needs only the result."""
    a = a0.copy()
    for i in range(1, a.shape[0]):
        a[i] = a[i] + 0.5 * np.sin(a[i - 1])
    a_bar = np.ones(a.shape[0])
    for i in range(a.shape[0] - 1, 0, -1):
        a_bar[i - 1] += a_bar[i] * 0.5 * np.cos(a[i - 1])
    return a_bar


def torch_stencil_loss(torch, a0):
    a = a0.clone()
    for i in range(1, a.shape[0]):
        a[i] = a[i] + 0.5 * torch.sin(a[i - 1])
    return torch.sum(a)


def jax_stencil_loss(a0):
    jax = peers.jax()
    jnp = jax.numpy

    def step(prev, ai):
        new = ai + 0.5 * jnp.sin(prev)
        return new, new

    _, rest = jax.lax.scan(step, a0[0], a0[1:])
    return a0[0] + jnp.sum(rest)


def array(n: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=n)


def makers(cap_s: float) -> dict:
    """Per tool: n -> thunk of the tool on an array of n elements."""

    def numba_primal(n):
        f = _numba_loss()
        a = array(n)
        return lambda: f(a)

    def numba_adjoint(n):
        g = peers.numba().njit(stencil_grad_adjoint)
        a = array(n)
        return lambda: g(a)

    mo_cache: dict = {}

    def morphism_primal(n):
        f = mo_cache.setdefault("f", peers.mo_jit(stencil_loss))
        a = array(n)
        return lambda: f(a)

    def morphism_grad(n):
        g = mo_cache.setdefault("g", peers.mo_jit(peers.morphism().grad(stencil_loss)))
        a = array(n)
        return lambda: g(a)

    def jax_grad(n):
        jax = peers.jax()
        g = jax.jit(jax.grad(jax_stencil_loss))
        a = jax.numpy.asarray(array(n))
        return lambda: jax.block_until_ready(g(a))

    def torch_grad(n):
        torch = peers.torch()
        a = torch.tensor(array(n), requires_grad=True)
        return lambda: torch.autograd.grad(torch_stencil_loss(torch, a), a)[0]

    def autograd_grad(n):
        ag = peers.autograd()
        import autograd.numpy as anp

        g = ag.grad(peers.rebind(stencil_loss, np=anp))
        a = array(n)
        return lambda: g(a)

    return {"numba primal": numba_primal, "numba hand adjoint": numba_adjoint,
            "morphism primal": morphism_primal, "morphism grad": morphism_grad,
            "JAX jit(grad), lax.scan": jax_grad, "PyTorch eager (in place)": torch_grad,
            "autograd (in place)": autograd_grad}


PROBED = {"morphism primal", "morphism grad", "PyTorch eager (in place)", "autograd (in place)"}


def run(cfg: Config):
    n = 2_000 if cfg.quick else 1_000_000
    cap = 20.0
    make = makers(cap)
    mo_name = peers.morphism_name()
    display = {k: k.replace("morphism", mo_name) for k in make}
    notes: dict[str, str] = {}

    exponents: dict[str, float] = {}

    def build(key):
        def b():
            if key in PROBED:
                notes[key], exponents[key] = probe(make[key], n, cap)
            return make[key](n)
        return b

    targets = {"morphism grad": [Target("grad ÷ numba primal", 5.0, "numba primal"),
                                 Target("grad ÷ morphism primal", 5.0, display["morphism primal"])]}
    tools = [Tool(display[k], build(k), kind="primal" if "primal" in k else "grad", baseline=k == "numba primal",
                  is_morphism=k.startswith("morphism"), eager=k in ("PyTorch eager (in place)", "autograd (in place)"),
                  targets=targets.get(k, []), note="baseline" if k == "numba primal" else "")
             for k in make]
    w = Workload("stencil", f"in-place stencil a[i] = a[i] + 0.5·sin(a[i-1]), N={n:,}, grad w.r.t. a0; "
                 f"peak memory at N and 4N", tools,
                 references={"grad": ["numba hand adjoint", "JAX jit(grad), lax.scan"], "primal": ["numba primal"]},
                 rtol=1e-9, atol=1e-12, check_reference=check_reference, sizes=f"N={n:,}")
    rows = run_workload(w, cfg)

    # peak memory at N and 4N, each in a fresh process after a warm-up call there (so that neither
    # compiling nor the allocator pools of earlier work count)
    inv = {v: k for k, v in display.items()}
    for row in rows:
        key = inv[row.tool]
        if notes.get(key):
            row.note = f"{row.note}; {notes[key]}" if row.note else notes[key]
        if not row.ok:
            continue
        est_4n = row.time_s * 4 ** exponents.get(key, 1.0)
        if 2 * est_4n > cap:
            row.note = _join(row.note, f"memory not measured (a call at 4N would take ~{est_4n:.0f} s)")
            continue
        peaks, hows = {}, set()
        try:
            for m in (n, 4 * n):
                peaks[m], how = memory_in_fresh_process(key, m, timeout=120 + 4 * est_4n)
                hows.add(how)
        except Exception as e:
            row.note = _join(row.note, f"memory not measured ({first_line(e)})")
            continue
        row.extra["peak_mb"] = {str(m): round(v, 3) for m, v in peaks.items()}
        growth = peaks[4 * n] / max(peaks[n], 1e-6)
        row.extra["peak_growth"] = growth
        row.note = _join(row.note, f"peak +{_mb(peaks[n])} at N, +{_mb(peaks[4 * n])} at 4N "
                                   f"(×{growth:.1f}; {', '.join(sorted(hows))}; {peaks[n] * 2**20 / n:.0f} B/element)")
        if key == "morphism grad":
            row.targets.append({"target": "≤ 5× (O(N): 4× expected)", "measure": "peak memory at 4N ÷ at N",
                                "measured": growth, "met": bool(growth <= 5.0)})
    return w, rows


def memory_in_fresh_process(key: str, m: int, timeout: float) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "benchmarks.workloads.stencil", key, str(m)]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit status {p.returncode}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return out["mb"], out["how"]


def _mb(v: float) -> str:
    return f"{v:.1f} MB" if v >= 1 else f"{v * 1024:.0f} KB"


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a and b else a or b


@functools.cache
def _numba_loss():
    return peers.numba().njit(stencil_loss)


def check_reference(kind, out):
    """The reference gradient against central finite differences of the primal at a few entries."""
    if kind != "grad":
        return True, ""
    g = np.asarray(out.detach() if hasattr(out, "detach") else out)
    a = array(g.shape[0])
    f = _numba_loss()
    idx = np.unique(np.linspace(0, g.shape[0] - 1, 5).astype(int))
    errs = []
    for i in idx:
        h = 1e-6
        p, m = a.copy(), a.copy()
        p[i] += h
        m[i] -= h
        fd = (f(p) - f(m)) / (2 * h)
        errs.append(abs(g[i] - fd) / max(1.0, abs(fd)))
    err = max(errs)
    return err < 1e-5, f"finite differences at {len(idx)} entries: rel err {err:.1e}"


if __name__ == "__main__":  # one peak-memory measurement, in a fresh process
    thunk = makers(0.0)[sys.argv[1]](int(sys.argv[2]))
    thunk()  # compile, and warm up at this size
    mb, how = peak_memory_mb(thunk)
    print(json.dumps({"mb": mb, "how": how}))
