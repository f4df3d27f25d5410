"""`make bench`: every workload, every tool, side by side in one process.

    .venv/bin/python benchmarks/run.py                 # the full suite (sizes of issues 5 and 6)
    .venv/bin/python benchmarks/run.py --quick         # small sizes, a smoke run
    .venv/bin/python benchmarks/run.py -w lorenz -w gmm

Writes benchmarks/results/{results.md, results.json, results.png}.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import pathlib
import platform
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.workloads import WORKLOADS  # noqa: E402  (imports nothing else)


def limit_threads(n: int) -> None:
    """Every tool gets the same number of threads (set before NumPy, Numba, JAX or PyTorch load):
    the ratios then compare code rather than threading runtimes, and on a small shared machine
    an oversubscribed BLAS does not turn a 1 ms matmul into 100 ms."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)
    if n == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    os.environ["MORPHISM_BENCH_THREADS"] = str(n)  # peers.torch() reads it


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes and short timing: a smoke run")
    p.add_argument("-w", "--workload", action="append", metavar="NAME",
                   help=f"run only these workloads (repeatable or comma-separated; default all): {', '.join(WORKLOADS)}")
    p.add_argument("--backend", choices=["native", "interpreter"],
                   help="morphism backend (default: native when morphism has it, else interpreter)")
    p.add_argument("--budget", type=float, help="seconds of timing per tool (default 2, --quick 0.3)")
    p.add_argument("--out", type=pathlib.Path, default=ROOT / "benchmarks" / "results",
                   help="where results.md, results.json and results.png go")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for every tool's BLAS / runtime (default 1; 0 leaves each tool's default)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if "MORPHISM_CACHE_DIR" not in os.environ:
        # a cold disk cache, so that the compile column means compiling (the compile workload
        # measures what the cache saves); kept only for this run
        cache = tempfile.TemporaryDirectory(prefix="morphism-bench-")
        os.environ["MORPHISM_CACHE_DIR"] = cache.name
    if args.threads > 0:
        limit_threads(args.threads)
    from benchmarks import peers, report
    from benchmarks.harness import Config

    cfg = Config(quick=args.quick)
    cfg.budget_s = args.budget if args.budget is not None else (0.3 if args.quick else 2.0)
    if args.quick:
        cfg.min_samples, cfg.max_samples = 2, 5
    peers.force_morphism_backend(args.backend)
    names = [n for arg in args.workload or [] for n in arg.split(",") if n] or WORKLOADS
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        print(f"unknown workload(s) {', '.join(unknown)}: choose from {', '.join(WORKLOADS)}", file=sys.stderr)
        return 2

    try:
        backend = peers.morphism_backend()
    except Exception as e:  # morphism itself does not import: every morphism row says so
        backend = f"unavailable ({e})"
    env = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
           "platform": platform.platform(), "versions": peers.versions(), "morphism_backend": backend,
           "quick": args.quick, "budget_s": cfg.budget_s, "threads": args.threads or "default",
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    print(f"morphism bench: {'quick' if args.quick else 'full'} run, morphism backend {backend}, "
          f"{os.cpu_count()} cpus; peers: "
          + ", ".join(f"{k} {v}" for k, v in env["versions"].items()), flush=True)

    results = []
    t_all = time.perf_counter()
    for name in names:
        mod = importlib.import_module(f"benchmarks.workloads.{name}")
        t0 = time.perf_counter()
        print(f"\n== {name}", flush=True)
        workload, rows = mod.run(cfg)
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
        results.append((workload, rows))
    env["total_s"] = round(time.perf_counter() - t_all, 1)

    text = report.markdown(results, env)
    print("\n" + report.console_table(results))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text)
    (args.out / "results.json").write_text(json.dumps(report.as_json(results, env), indent=1, default=str))
    written = ["results.md", "results.json"]
    if not args.no_plot:
        try:
            report.plot(results, args.out / "results.png")
            written.append("results.png")
        except Exception as e:  # matplotlib missing: the tables still stand
            print(f"no plot: {type(e).__name__}: {e}")
    print(f"\nwrote {', '.join(str(args.out / w) for w in written)} in {env['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
