"""Compile latency of `mo.jit(mo.grad(lorenz_loss))`: the first call in a fresh process (empty
caches), then the first call in a second fresh process that may reuse the first one's disk cache.

Each measurement is a new Python process (`subprocess`), so nothing is warm; the second process
is started five times and its median reported (one process gives 0.35 to 0.6 s on the same
machine). Numba's
`njit(cache=True)` of the primal and JAX's `jit(grad)` (with its persistent compilation cache
switched on) are measured the same way for comparison. Times exclude importing the library
(reported in the notes, with the total from the start of the process); the first call includes
one run of the function.

morphism imports Numba on its first native call. Its child imports Numba up front, with
morphism, so that "import" means the same for both tools (morphism and Numba, against Numba
alone) and the first call measures what the disk cache saves: loading the compiled code.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from ..harness import Config, Row, Target, Workload, first_line

ROOT = pathlib.Path(__file__).resolve().parents[2]


def child(tool: str, n_steps: int) -> dict:
    """Runs in the fresh process: import, first call, second call."""
    t0 = time.perf_counter()
    if tool == "morphism":
        import numba  # noqa: F401  (see the module docstring)

        import morphism as mo
        from benchmarks import peers
        from benchmarks.workloads.lorenz import lorenz_loss
        t1 = time.perf_counter()
        f = peers.mo_jit(mo.grad(lorenz_loss, argnums=(0, 1, 2)))
        run = lambda: f(10.0, 28.0, 8.0 / 3.0, n_steps, 0.01)  # noqa: E731
        extra = {"backend": peers.morphism_backend()}
    elif tool == "numba":
        import numba

        from benchmarks.workloads.lorenz import lorenz_loss
        t1 = time.perf_counter()
        f = numba.njit(cache=True)(lorenz_loss)
        run = lambda: f(10.0, 28.0, 8.0 / 3.0, n_steps, 0.01)  # noqa: E731
        extra = {}
    elif tool == "jax":
        from benchmarks import peers
        from benchmarks.workloads.lorenz import jax_loss

        jax = peers.jax()
        jax.config.update("jax_compilation_cache_dir", os.environ["MORPHISM_BENCH_JAX_CACHE"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        t1 = time.perf_counter()
        g = jax.jit(jax.grad(jax_loss(n_steps, 0.01)))
        p = jax.numpy.array([10.0, 28.0, 8.0 / 3.0])
        run = lambda: jax.block_until_ready(g(p))  # noqa: E731
        extra = {}
    else:
        raise ValueError(tool)
    import warnings

    from benchmarks.harness import interpreter_fallback

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t2 = time.perf_counter()
        run()
        t3 = time.perf_counter()
    run()
    t4 = time.perf_counter()
    return {"import_s": t1 - t0, "first_s": t3 - t2, "second_s": t4 - t3, "fallback": interpreter_fallback(caught),
            **extra}


def fresh_process(tool: str, n_steps: int, env: dict, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.workloads.compile", tool, str(n_steps)]
    env = {**os.environ, **env, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit status {p.returncode}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def run(cfg: Config):
    from .. import peers

    n_steps = 200 if cfg.quick else 2000
    repeats = 1 if cfg.quick else 5
    try:
        mo_name = peers.morphism_name()
    except Exception:
        mo_name = "morphism"
    names = {"numba": "numba njit(cache=True) primal", "morphism": f"{mo_name} jit(grad)",
             "jax": "JAX jit(grad) (persistent cache on)"}
    w = Workload("compile", f"compile latency: first call of jit(grad(lorenz)), {n_steps} steps, in a fresh "
                 "process; then in a second fresh process (disk cache)", [], {}, sizes=f"n_steps={n_steps}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="morphism-bench-cache-") as cache:
        env = {"MORPHISM_CACHE_DIR": os.path.join(cache, "morphism"), "NUMBA_CACHE_DIR": os.path.join(cache, "numba"),
               "MORPHISM_BENCH_JAX_CACHE": os.path.join(cache, "jax")}
        for tool in ("numba", "morphism", "jax"):
            for proc in (1, 2):
                label = f"{names[tool]}, process {proc}" + (" (cold)" if proc == 1 else " (disk cache)")
                row = Row(w.name, label, "compile")
                if tool in ("jax",):
                    try:
                        peers.jax()
                    except peers.Missing as e:
                        row.status, row.detail = "missing", str(e)
                        rows.append(row)
                        continue
                try:
                    # The cold process runs once (each needs empty caches); the second process,
                    # a few times (one fresh process each): its figure is their median.
                    outs = [fresh_process(tool, n_steps, env, timeout=300) for _ in range(1 if proc == 1 else repeats)]
                    out = sorted(outs, key=lambda o: o["first_s"])[len(outs) // 2]
                    row.time_s = row.first_call_s = out["first_s"]
                    row.compile_s = max(0.0, out["first_s"] - out["second_s"])
                    row.samples = len(outs)
                    spread = (f"median of {len(outs)} fresh processes ({min(o['first_s'] for o in outs):.2f}–"
                              f"{max(o['first_s'] for o in outs):.2f} s); " if len(outs) > 1 else "")
                    row.note = (spread + f"import {out['import_s']:.2f} s{' (with Numba)' if tool == 'morphism' else ''}; "
                                f"import + first call {out['import_s'] + out['first_s']:.2f} s; "
                                f"first call = compile + one run; a later call {_t(out['second_s'])}")
                    if out.get("fallback"):
                        row.note += "; " + out["fallback"]
                    row.extra = out
                except subprocess.TimeoutExpired:
                    row.status = "error: timed out after 300 s"
                except Exception as e:
                    row.status = ("morphism error: " if tool == "morphism" else "error: ") + first_line(e)
                if tool == "morphism":
                    tg = Target("first call, fresh process", 5.0, unit="s") if proc == 1 else \
                        Target("first call, second process (disk cache)", 0.5, unit="s")
                    row.targets.append(_absolute(tg, row))
                rows.append(row)
                print(f"  {label:50s} " + (f"first call {row.time_s:.3f} s" if row.ok else row.status), flush=True)
    base = rows[0]
    for row in rows:
        row.baseline = base.tool
        if row.ok and base.ok:
            row.ratio = row.time_s / base.time_s
    return w, rows


def _absolute(tg: Target, row: Row) -> dict:
    out = {"target": tg.text, "measure": tg.measure, "measured": None, "met": None}
    if row.ok:
        out["measured"], out["met"] = row.time_s, bool(row.time_s <= tg.limit)
    else:
        out["why"] = row.status
    return out


def _t(s: float) -> str:
    from ..harness import fmt_time

    return fmt_time(s)


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], int(sys.argv[2]))))
