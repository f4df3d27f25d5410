"""Installs the benchmark peers into the running interpreter's environment, one at a time, so that
a peer that cannot be installed only makes its own rows say "missing".

The list is the `bench` extra of pyproject.toml plus PyTorch's CPU build, pinned to exactly
torch==2.13.0. PyTorch is installed only when pip would take a CPU build (no CUDA packages among
what it would install): a CUDA build is gigabytes, and the benchmarks run on the CPU.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata

ROOT = pathlib.Path(__file__).resolve().parent.parent
TORCH = "torch==2.13.0"
CUDA_PREFIXES = ("nvidia-", "triton", "cuda-")


def bench_extra() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["optional-dependencies"]["bench"]


def satisfied(req: str) -> bool:
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return False
    r = Requirement(req)
    try:
        version = metadata.version(r.name)
    except metadata.PackageNotFoundError:
        return False
    if r.name == "jax" and "cpu" in r.extras and not _installed("jaxlib"):
        return False
    return r.specifier.contains(version, prereleases=True)


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)


def install(req: str) -> str:
    if satisfied(req):
        return "already installed"
    p = pip("install", "--quiet", req)
    return "installed" if p.returncode == 0 else "FAILED: " + _last(p.stderr)


def install_torch() -> str:
    if satisfied(TORCH):
        return "already installed"
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / "report.json"
        p = pip("install", "--quiet", "--dry-run", "--ignore-installed", "--report", str(report), TORCH)
        if p.returncode != 0:
            return "FAILED: " + _last(p.stderr)
        planned = json.loads(report.read_text()).get("install", [])
    names = [item["metadata"]["name"].lower() for item in planned]
    cuda = [n for n in names if n.startswith(CUDA_PREFIXES)]
    if cuda:
        return (f"NOT installed: pip would take a CUDA build of {TORCH} here (it would pull {', '.join(cuda[:3])}, ...); "
                "PyTorch rows will say missing")
    p = pip("install", "--quiet", TORCH)
    return "installed" if p.returncode == 0 else "FAILED: " + _last(p.stderr)


def _last(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def main() -> int:
    print("benchmark peers:", flush=True)
    for req in bench_extra():
        print(f"  {req:20s} {install(req)}", flush=True)
    print(f"  {TORCH:20s} {install_torch()}", flush=True)
    return 0  # a peer that failed is reported as missing by the benchmarks, not an error


if __name__ == "__main__":
    sys.exit(main())
