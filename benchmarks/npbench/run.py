"""NPBench's 54 kernels under `mo.jit`, checked against NumPy and timed against NumPy and Numba.

    .venv/bin/python benchmarks/npbench/run.py                  # all kernels, preset S, timed
    .venv/bin/python benchmarks/npbench/run.py --check-only     # correctness only, a quick sweep
    .venv/bin/python benchmarks/npbench/run.py -k gemm -k adi --preset M --grad
    make bench-npbench                                          # the same, results in benchmarks/results/

Each kernel runs in a fresh worker process with a time limit (--timeout), so a kernel that hangs
or crashes Numba does not stop the suite. In the worker: NPBench's initializer builds the inputs;
the NumPy version runs on copies of them (the reference), then `mo.jit` of that same NumPy
version (native backend) on other copies, with a fallback to the interpreter
(`MorphismPerformanceWarning`) counted as a failure; the results, and every array argument
as the call left it, are compared with NPBench's tolerances (suite.compare). Unless --check-only: steady run times (median of --repeat runs, each
on fresh copies) of morphism, NumPy and NPBench's Numba version (`_numba_n`, nopython), and
first-call times. With --grad: `mo.jit(mo.grad(loss))` against central finite differences, where
loss = the sum of the kernel's floating-point outputs, w.r.t. its first floating-point array.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from typing import Any, Callable

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.npbench import suite  # noqa: E402  (NumPy only; morphism loads in the worker)

RESULTS = ROOT / "benchmarks" / "results"
RUN_BUDGET_S = 20.0  # timing of one tool stops after this, with at least one run
GRAD_DIRECTIONS = 3


# ---- one kernel, in a worker process -------------------------------------------------------------


def first_line(e: BaseException, width: int = 150) -> str:
    text = str(e).strip()
    line = f"{type(e).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")
    return line if len(line) <= width else line[: width - 1] + "…"


def failure(e: BaseException) -> dict[str, Any]:
    """An exception as a record: its first line, and the whole text for the JSON. morphism's own
    errors say where (the kernel's line) on their second and third lines: kept as `where`."""
    from morphism.api import MorphismPerformanceWarning

    text = str(e).strip()
    lines = text.splitlines()
    where = " ".join(l.strip() for l in lines[1:3]) if type(e).__module__.startswith("morphism") else ""
    where = where.replace(f'"{suite.KERNELS}/', '"')
    status = "fallback" if isinstance(e, MorphismPerformanceWarning) else "error"
    return {"status": status, "error": first_line(e), "where": where[:200], "detail": text[:3000],
            "traceback": traceback.format_exc()[-3000:]}


def fresh_calls(bench: suite.Bench, data: dict, fn: Callable) -> Callable[[], tuple[Any, list, float]]:
    """A call of `fn` on fresh copies of the inputs (copying not timed): (result, args, seconds)."""
    def call() -> tuple[Any, list, float]:
        args = suite.arguments(bench, data)
        t0 = time.perf_counter()
        result = fn(*args)
        return result, args, time.perf_counter() - t0
    return call


def steady_time(call: Callable, repeat: int) -> float:
    """The median of `repeat` runs, fewer when they exceed RUN_BUDGET_S together."""
    times: list[float] = []
    t_end = time.perf_counter() + RUN_BUDGET_S
    while len(times) < repeat and (not times or time.perf_counter() < t_end):
        times.append(call()[2])
    return statistics.median(times)


def checked_first_call(bench: suite.Bench, data: dict, fn: Callable, ref: list, same_code: bool = True) -> dict[str, Any]:
    """Runs `fn` once on fresh inputs and compares with the reference; MorphismPerformanceWarning
    (morphism runs the kernel with its interpreter) is raised, hence a failure. `same_code`: `fn`
    compiles the NumPy version, so every array argument must end as NumPy leaves it; another
    version (Numba) is held to NPBench's outputs only."""
    from morphism.api import MorphismPerformanceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)
        try:
            result, args, first_s = fresh_calls(bench, data, fn)()
        except Exception as e:
            return failure(e)
    rec: dict[str, Any] = {"first_call_s": first_s}
    val = suite.outputs(bench, args, result, every_array=same_code)
    wrong = suite.compare(bench, ref, val, same_code)
    rec["status"] = "ok" if wrong is None else "wrong"
    if wrong:
        rec["error"] = wrong
    notes = suite.dtype_notes(ref, val)
    if notes:
        rec["notes"] = notes
    return rec


def object_mode_note(jitted: Any, bench: suite.Bench, data: dict) -> str | None:
    """Which primitives the generated code runs in Numba's object mode (slow, and no warning):
    the line after each `with numba.objmode(...)` calls `_impl_<primitive>_<k>(...)`. The bare
    `with numba.objmode():` that sets object mode up on entry is not one of them."""
    try:
        lines = jitted.lower(*suite.arguments(bench, data)).source.splitlines()
    except Exception:
        return None
    prims = [m.group(1) for line, after in zip(lines, lines[1:])
             if "numba.objmode(" in line and "numba.objmode()" not in line
             for m in [re.search(r"_impl_(\w+?)_\d+\(", after)] if m]
    counts = {p: prims.count(p) for p in dict.fromkeys(prims)}
    return "object mode: " + ", ".join(f"{p} ×{n}" for p, n in counts.items()) if prims else None


def check_grad(bench: suite.Bench, data: dict, ref_result: Any, workdir: pathlib.Path) -> dict[str, Any]:
    """`mo.jit(mo.grad(loss))` against central differences (Richardson-extrapolated) in
    GRAD_DIRECTIONS random directions; a direction whose difference quotients at h and h/2
    disagree as across a jump of the loss (np.where, comparisons) is replaced by another, up to
    2·GRAD_DIRECTIONS tries."""
    import numpy as np

    import morphism as mo
    from morphism.api import MorphismPerformanceWarning

    args = suite.arguments(bench, data)
    source = suite.loss_source(bench, ref_result, args)
    k = suite.wrt_index(bench, args)
    if source is None or k is None:
        return {"status": "n/a", "error": "no floating-point output" if source is None else "no floating-point array input"}
    path = workdir / f"loss_{bench.module}.py"
    path.write_text(source)
    mod = suite.load_module(path)
    mod.kernel = suite.kernel(bench, "_numpy")  # the global the generated loss calls
    wrt = bench.info["input_args"][k]
    rec: dict[str, Any] = {"wrt": wrt}
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)
        try:
            t0 = time.perf_counter()
            g = np.asarray(mo.jit(mo.grad(mod.loss, argnums=k))(*suite.arguments(bench, data)))
            rec["first_call_s"] = time.perf_counter() - t0
        except Exception as e:
            return {**rec, **failure(e)}
    x = args[k]
    if g.shape != x.shape:
        return {**rec, "status": "wrong", "error": f"gradient of shape {g.shape}, expected {x.shape}"}
    rng = np.random.default_rng(0)
    eps = float(np.finfo(x.dtype).eps)  # float32 inputs (lenet, conv2d) need a longer step, a looser check
    h, tol = eps ** (1 / 3) * max(1.0, float(np.max(np.abs(x)))), 1e-4 if x.dtype == np.float64 else 1e-2

    def at(v: Any, step: float) -> float:
        a = suite.arguments(bench, data)
        a[k] = (x + step * v).astype(x.dtype)
        return float(mod.loss(*a))

    def central(v: Any, step: float) -> tuple[float, float]:
        """The difference quotient and its rounding error (a loss summed over 10⁶ outputs is large)."""
        hi, lo = at(v, step), at(v, -step)
        return (hi - lo) / (2 * step), 100 * eps * max(abs(hi), abs(lo)) / step

    def richardson(v: Any) -> tuple[float, float, bool]:
        """(4·D(h/2) − D(h)) / 3: no O(h²) error (lu's loss curves enough for D(h) to miss by 5e-4);
        its rounding error; and whether D(h) and D(h/2) disagree as across a jump (np.where, max)."""
        (d1, _), (d2, noise) = central(v, h), central(v, h / 2)
        jump = abs(d1 - d2) > 0.25 * max(abs(d1), abs(d2)) + noise
        return (4 * d2 - d1) / 3, 3 * noise, jump

    rec["loss"] = at(np.zeros_like(x), 0.0)
    if not np.isfinite(rec["loss"]):  # trisolv's preset overflows: no derivative to check
        return {**rec, "status": "n/a", "error": f"the loss is {rec['loss']} at these inputs"}
    if not np.all(np.isfinite(g)):
        return {**rec, "status": "wrong", "error": f"{np.count_nonzero(~np.isfinite(g))} of {g.size} gradient entries not finite"}
    checked, worst = [], 0.0
    for _ in range(2 * GRAD_DIRECTIONS):
        v = rng.standard_normal(x.shape)  # entries of order 1, so each element moves by about h
        try:
            fd, noise, jump = richardson(v)
        except Exception as e:  # cholesky2: a perturbed matrix that is no longer positive definite
            return {**rec, "status": "inconclusive", "error": f"finite differences: {first_line(e)}"}
        if jump:
            continue
        ad = float(np.sum(g * v))
        scale = max(abs(ad), abs(fd), 1e-8)
        err = max(abs(ad - fd) - noise, 0.0) / scale if np.isfinite(fd) else math.nan
        checked.append({"ad": ad, "fd": fd})
        worst = err if not err <= worst else worst  # keeps a NaN
        if len(checked) == GRAD_DIRECTIONS:
            break
    rec["directions"], rec["max_rel_err"] = checked, worst
    if not checked:
        return {**rec, "status": "inconclusive", "error": "finite differences unstable in every direction tried"}
    rec["status"] = "ok" if worst <= tol else "wrong"  # a NaN quotient fails too
    if not worst <= tol:
        rec["error"] = f"directional derivative off by {worst:.3g} (relative) from central differences"
    return rec


def run_kernel(bench: suite.Bench, opts: argparse.Namespace, save: Callable[[dict], None]) -> dict:
    """Every measurement of one kernel; `save(rec)` after each stage, so a timeout or a crash in a
    later stage keeps what the earlier ones found."""
    rec: dict[str, Any] = {"kernel": bench.name, "module": bench.module, "domain": bench.domain,
                           "preset": opts.preset, "status": "error", "stage": "reference"}
    save(rec)
    try:
        data = suite.initial_data(bench, opts.preset)
        numpy_fn = suite.kernel(bench, "_numpy")
        ref_result, args, numpy_first = fresh_calls(bench, data, numpy_fn)()
        ref, ref_all = suite.outputs(bench, args, ref_result), suite.outputs(bench, args, ref_result, every_array=True)
    except Exception as e:
        rec.update(failure(e), status="reference error")
        return rec
    rec["numpy"] = {"first_call_s": numpy_first}

    rec["stage"] = "morphism"
    save(rec)
    import morphism as mo

    jitted = mo.jit(numpy_fn)
    rec.update(checked_first_call(bench, data, jitted, ref_all))
    if rec["status"] == "ok":
        note = object_mode_note(jitted, bench, data)
        if note:
            rec.setdefault("notes", []).append(note)
    save(rec)

    if not opts.check_only:
        if rec["status"] == "ok":
            rec["stage"] = "morphism timing"
            save(rec)
            rec["run_s"] = steady_time(fresh_calls(bench, data, jitted), opts.repeat)
        rec["stage"] = "numpy timing"
        save(rec)
        rec["numpy"]["run_s"] = steady_time(fresh_calls(bench, data, numpy_fn), opts.repeat)
        rec["stage"] = "numba"
        save(rec)
        try:
            numba_fn = suite.kernel(bench, "_numba_n")
        except Exception as e:
            rec["numba"] = failure(e)
        else:
            rec["numba"] = checked_first_call(bench, data, numba_fn, ref, same_code=False)
            if rec["numba"]["status"] == "ok":
                save(rec)
                rec["numba"]["run_s"] = steady_time(fresh_calls(bench, data, numba_fn), opts.repeat)
        if "run_s" in rec:
            rec["compile_s"] = max(rec["first_call_s"] - rec["run_s"], 0.0)
            rec["vs_numpy"] = rec["run_s"] / rec["numpy"]["run_s"]
            if "run_s" in rec["numba"]:
                rec["vs_numba"] = rec["run_s"] / rec["numba"]["run_s"]

    if opts.grad:
        rec["stage"] = "grad"
        save(rec)
        with tempfile.TemporaryDirectory(prefix="npbench-loss-") as d:
            rec["grad"] = check_grad(bench, data, ref_result, pathlib.Path(d))
    rec["stage"] = "done"
    return rec


def worker(opts: argparse.Namespace) -> int:
    bench = suite.find(suite.all_benches(), opts.worker)
    out = pathlib.Path(opts.worker_out)

    def save(rec: dict) -> None:
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(rec, default=str))
        tmp.replace(out)

    warnings.simplefilter("ignore")  # Numba's performance and deprecation warnings; see checked_first_call
    save(run_kernel(bench, opts, save))
    return 0


# ---- the suite: one worker per kernel ------------------------------------------------------------


def run_in_worker(bench: suite.Bench, opts: argparse.Namespace, tmp: pathlib.Path) -> dict:
    out = tmp / f"{bench.module}.json"
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--worker", bench.name,
           "--worker-out", str(out), "--preset", opts.preset, "--repeat", str(opts.repeat)]
    cmd += ["--check-only"] * opts.check_only + ["--grad"] * opts.grad
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=opts.timeout)
        rc, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as e:  # its stderr is bytes even with text=True
        rc, stderr = None, e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr or ""
    rec = json.loads(out.read_text()) if out.exists() else {
        "kernel": bench.name, "module": bench.module, "domain": bench.domain, "preset": opts.preset,
        "status": "error", "stage": "start"}
    rec["wall_s"] = time.perf_counter() - t0
    stage = rec.get("stage")
    if stage != "done":
        why = f"timed out after {opts.timeout:g} s" if rc is None else f"worker died (exit code {rc})"
        tail = [l for l in stderr.strip().splitlines() if l.strip()][-1:] if stderr.strip() else []
        lost = {"status": "timeout" if rc is None else "crash",
                "error": f"{why} in stage {stage}" + (f": {tail[0][:150]}" if tail else "")}
        if stage in ("start", "reference", "morphism"):  # morphism (or the reference) never finished
            rec.update(lost)
        elif stage == "grad":
            rec["grad"] = lost
        else:
            rec.setdefault("notes", []).append(f"{why} in stage {stage}")
    if stderr.strip() and (rec.get("status") != "ok" or stage != "done"):
        rec["stderr_tail"] = stderr[-2000:]
    return rec


def geomean(xs: list[float]) -> float | None:
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def fmt(x: float | None, kind: str) -> str:
    if x is None:
        return ""
    if kind == "s":
        return f"{x:.2f}"
    if kind == "ms":
        return f"{x * 1e3:.3g}" if x < 1 else f"{x * 1e3:.0f}"
    return f"{x:.2g}×" if x < 10 else f"{x:.0f}×"


def status_cell(rec: dict) -> str:
    if rec["status"] == "ok":
        return "ok"
    return f"{rec['status']}: {rec.get('error', '')}".rstrip(": ")


def numba_cell(rec: dict) -> str:
    nb = rec.get("numba")
    if not nb:
        return ""
    if nb["status"] != "ok":
        return f"Numba {nb['status']}: {nb.get('error', '')}"[:150]
    return ""


COLUMNS = ["kernel", "domain", "status", "compile s", "run ms", "×NumPy", "×Numba"]


def table_rows(results: list[dict], opts: argparse.Namespace) -> tuple[list[str], list[list[str]]]:
    cols = COLUMNS + (["grad"] if opts.grad else []) + ["notes"]
    if opts.check_only:  # no median run to subtract
        cols[cols.index("compile s")] = "first call s"
    rows = []
    for r in results:
        compile_s = r.get("compile_s", r.get("first_call_s") if r["status"] == "ok" else None)
        where = [f"at {r['where']}"] if r.get("where") else []  # the kernel's line, for morphism's errors
        notes = where + r.get("notes", []) + ([numba_cell(r)] if numba_cell(r) else [])
        row = [r["kernel"], r["domain"], status_cell(r), fmt(compile_s, "s"), fmt(r.get("run_s"), "ms"),
               fmt(r.get("vs_numpy"), "x"), fmt(r.get("vs_numba"), "x")]
        if opts.grad:
            g = r.get("grad")
            row.append("" if g is None else status_cell(g))
        rows.append(row + ["; ".join(notes)])
    return cols, rows


def summary(results: list[dict], opts: argparse.Namespace) -> list[str]:
    ok = [r for r in results if r["status"] == "ok"]
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    lines = [f"{len(ok)} of {len(results)} kernels ok under mo.jit ("
             + ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1])) + ")."]
    if not opts.check_only:
        vs_np = geomean([r.get("vs_numpy") for r in ok])
        vs_nb = [r.get("vs_numba") for r in ok if r.get("vs_numba")]
        if vs_np:
            lines.append(f"Geometric mean of morphism / NumPy over the {len(ok)} ok kernels: {fmt(vs_np, 'x')}.")
        if vs_nb:
            lines.append(f"Geometric mean of morphism / Numba over the {len(vs_nb)} ok kernels whose Numba "
                         f"version also ran correctly: {fmt(geomean(vs_nb), 'x')}.")
    if opts.grad:
        g = [r["grad"]["status"] for r in results if r.get("grad")]
        lines.append(f"--grad: {g.count('ok')} ok, {g.count('wrong')} wrong, "
                     f"{len(g) - g.count('ok') - g.count('wrong') - g.count('n/a')} failed, {g.count('n/a')} n/a.")
    return lines


def markdown(results: list[dict], opts: argparse.Namespace, env: dict) -> str:
    cols, rows = table_rows(results, opts)
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = ["# NPBench under morphism", "",
             f"{env['date']}; preset {opts.preset}, {'correctness only' if opts.check_only else 'timed'}, "
             f"{env['cpus']} CPUs ({env['platform']}), {env['threads']} thread(s), Python {env['python']}, "
             f"NumPy {env['numpy']}, Numba {env['numba']}; {env['total_s']} s in all. "
             "Made by `benchmarks/npbench/run.py` (see benchmarks/README.md).", "",
             "status: `mo.jit` of NPBench's NumPy version, validated against NumPy with NPBench's tolerances; "
             "*fallback* = morphism ran the kernel with its interpreter (MorphismPerformanceWarning). "
             "first call = trace + compile + one run (cold disk cache); "
             "compile = first call − median run; run = median of "
             f"{opts.repeat} runs on fresh copies of the inputs; ×NumPy and ×Numba = morphism's run time "
             "divided by that of NumPy and of NPBench's `_numba_n` version.", ""]
    lines += summary(results, opts) + [""]
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def console_table(results: list[dict], opts: argparse.Namespace) -> str:
    cols, rows = table_rows(results, opts)
    rows = [row[:-1] + [row[-1][:60]] for row in rows]
    rows = [[c if len(c) <= 90 else c[:89] + "…" for c in row] for row in rows]
    widths = [max(len(c) for c in col) for col in zip(cols, *rows)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths])] + [line(r) for r in rows])


def environment(opts: argparse.Namespace, total_s: float) -> dict:
    import numba
    import numpy

    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "numpy": numpy.__version__, "numba": numba.__version__, "threads": opts.threads or "default",
            "preset": opts.preset, "check_only": opts.check_only, "grad": opts.grad,
            "timeout_s": opts.timeout, "total_s": round(total_s, 1)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-k", "--kernel", action="append", metavar="NAME",
                   help="run only these kernels (repeatable or comma-separated; NPBench's short name, "
                        "e.g. gemm, adist, 2mm, or the module name, e.g. arc_distance); default all 54")
    p.add_argument("--preset", default="S", choices=["S", "M", "L", "paper"], help="NPBench's data size (default S)")
    p.add_argument("--check-only", action="store_true", help="correctness only: no timing, no Numba")
    p.add_argument("--grad", action="store_true", help="also check mo.grad against finite differences")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per tool, median reported (default 5)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per kernel, all stages (default 600)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for BLAS and Numba (default 1, as `make bench`; 0 leaves the defaults)")
    p.add_argument("--json", type=pathlib.Path, help="write the results here as JSON")
    p.add_argument("--md", type=pathlib.Path, help="write the table here as markdown")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if opts.worker:
        return worker(opts)
    benches = suite.all_benches()
    names = [n for arg in opts.kernel or [] for n in arg.split(",") if n]
    picked = [suite.find(benches, n) for n in names] if names else list(benches.values())
    unknown = [n for n, b in zip(names, picked) if b is None]
    if unknown:
        print(f"unknown kernel(s) {', '.join(unknown)}: choose from {', '.join(benches)}", file=sys.stderr)
        return 2
    if opts.threads > 0:
        from benchmarks.run import limit_threads
        limit_threads(opts.threads)
    if "MORPHISM_CACHE_DIR" not in os.environ:  # a cold disk cache, as in `make bench`
        cache = tempfile.TemporaryDirectory(prefix="morphism-npbench-")
        os.environ["MORPHISM_CACHE_DIR"] = cache.name

    results = []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="npbench-run-") as tmp:
        for i, bench in enumerate(picked, 1):
            rec = run_in_worker(bench, opts, pathlib.Path(tmp))
            results.append(rec)
            extra = "" if opts.check_only or "run_s" not in rec else \
                f", run {fmt(rec['run_s'], 'ms')} ms, {fmt(rec.get('vs_numpy'), 'x')} NumPy, {fmt(rec.get('vs_numba'), 'x')} Numba"
            grad = f", grad {status_cell(rec['grad'])}" if rec.get("grad") else ""
            print(f"[{i}/{len(picked)}] {bench.name}: {status_cell(rec)} ({rec['wall_s']:.1f} s{extra}){grad}", flush=True)
    env = environment(opts, time.perf_counter() - t_all)

    print("\n" + console_table(results, opts) + "\n\n" + "\n".join(summary(results, opts)))
    if opts.json:
        opts.json.parent.mkdir(parents=True, exist_ok=True)
        opts.json.write_text(json.dumps({"environment": env, "results": results}, indent=1, default=str))
    if opts.md:
        opts.md.parent.mkdir(parents=True, exist_ok=True)
        opts.md.write_text(markdown(results, opts, env))
    written = [str(p) for p in (opts.json, opts.md) if p]
    if written:
        print(f"wrote {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
