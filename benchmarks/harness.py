"""Runs one workload's tools side by side: build, first call (compile), equality check against a
reference, then timing in interleaved rounds, every figure a ratio against a baseline timed in
the same rounds.

A workload module builds a `Workload` (its tools, which tool is the baseline, which results serve
as the reference, and its targets) and calls `run_workload`; the runner prints and collects the
`Row`s.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .peers import Missing


class Skip(Exception):
    """Raised by a tool's build when running it would not fit the time budget."""


@dataclass
class Config:
    quick: bool = False
    budget_s: float = 2.0      # timing time per tool (after the first call)
    min_samples: int = 3
    max_samples: int = 15
    sample_floor_s: float = 2e-3  # a sample runs the function enough times to last this long


@dataclass
class Target:
    """`measure` of a row must be at most `limit`: a ratio against the tool `against`, or (with
    `against=None`) an absolute time in seconds. `issue` is the issue that set the target (the
    report has one targets table per issue)."""

    measure: str
    limit: float
    against: str | None = None
    unit: str = "×"
    issue: int = 5

    @property
    def text(self) -> str:
        if self.unit == "s":
            return f"≤ {self.limit:g} s"
        return f"≤ {self.limit:g}× {self.against}" if self.against else f"≤ {self.limit:g}×"


@dataclass
class Tool:
    name: str
    build: Callable[[], Callable[[], Any]]  # returns the thunk to time; may raise peers.Missing
    kind: str = "grad"                      # results are compared among tools of one kind
    baseline: bool = False
    targets: list[Target] = field(default_factory=list)
    note: str = ""
    is_morphism: bool = False
    eager: bool = False                     # no compile step: a slow first call counts as a sample
    expect_error: bool = False              # shown to raise (e.g. JAX reverse mode through while_loop)
    sync: Callable[[Any], Any] | None = None  # e.g. jax.block_until_ready


@dataclass
class Row:
    workload: str
    tool: str
    kind: str
    status: str = "ok"            # ok | missing | wrong result | morphism error: … | error: … | skipped: …
    first_call_s: float | None = None
    compile_s: float | None = None
    time_s: float | None = None
    samples: int = 0
    ratio: float | None = None
    baseline: str | None = None
    targets: list[dict] = field(default_factory=list)
    note: str = ""
    detail: str = ""              # full error text, for results.json
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Workload:
    name: str
    title: str
    tools: list[Tool]
    references: dict[str, list[str]]   # kind -> tool names to try as the reference, in order
    rtol: float = 1e-7
    atol: float = 0.0                   # relative to the largest |value| of the reference
    check_reference: Callable[[str, Any], tuple[bool, str]] | None = None  # e.g. finite differences
    sizes: str = ""


# ---- results of any tool as one flat float64 vector --------------------------------------------


def flat(x: Any) -> np.ndarray:
    if isinstance(x, dict):
        return _cat([flat(x[k]) for k in sorted(x)])
    if isinstance(x, (tuple, list)):
        return _cat([flat(v) for v in x])
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64).ravel()


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def compare(got: Any, want: Any, rtol: float, atol: float) -> tuple[bool, str]:
    g, w = flat(got), flat(want)
    if g.shape != w.shape:
        return False, f"{g.size} values, expected {w.size}"
    scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
    err = float(np.max(np.abs(g - w) / (np.abs(w) + atol * scale + 1e-300))) if w.size else 0.0
    ok = bool(np.allclose(g, w, rtol=rtol, atol=atol * scale)) and bool(np.all(np.isfinite(g)))
    return ok, f"max rel err {err:.1e}"


# ---- timing ------------------------------------------------------------------------------------


def first_line(e: BaseException) -> str:
    text = str(e).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(e).__name__}: {line}" if line else type(e).__name__


def interpreter_fallback(caught: list) -> str:
    """morphism's native backend runs what it cannot compile yet with the interpreter, and says
    so with a performance warning: the row must say it too."""
    for w in caught:
        text = str(w.message)
        if "Performance" in w.category.__name__ and "interpreter" in text:
            return "native fell back to the interpreter: " + text.replace("morphism: ", "")[:200]
    return ""


def _call(tool: Tool, thunk: Callable[[], Any]) -> Any:
    out = thunk()
    if tool.sync is not None:
        out = tool.sync(out)
    return out


def _sample(tool: Tool, thunk: Callable[[], Any], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        _call(tool, thunk)
    return (time.perf_counter() - t0) / number


def run_workload(w: Workload, cfg: Config, log: Callable[[str], None] = print) -> list[Row]:
    rows: dict[str, Row] = {}
    thunks: dict[str, Callable[[], Any]] = {}
    outputs: dict[str, Any] = {}
    tools = {t.name: t for t in w.tools}

    # 1. build and first call: compile time, and the result to check
    for tool in w.tools:
        row = rows[tool.name] = Row(w.name, tool.name, tool.kind, note=tool.note)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                thunk = tool.build()
                gc.collect()
                t0 = time.perf_counter()
                out = _call(tool, thunk)
                row.first_call_s = time.perf_counter() - t0
            thunks[tool.name], outputs[tool.name] = thunk, out
            fallback = interpreter_fallback(caught)
            if fallback:
                row.note = _join(row.note, fallback)
                row.extra["fallback"] = fallback
        except Missing as e:
            row.status, row.detail = "missing", str(e)
        except Skip as e:
            row.status = f"skipped: {e}"
        except Exception as e:
            if tool.expect_error:
                prefix = "raises: "
            else:
                prefix = "morphism error: " if tool.is_morphism else "error: "
            row.status = prefix + first_line(e)
            row.detail = traceback.format_exc()
        log(f"  {tool.name:28s} first call " + (f"{row.first_call_s:.3f} s" if row.ok else row.status))

    # 2. check every result against the reference of its kind
    for kind in {t.kind for t in w.tools}:
        ref = None
        for name in w.references.get(kind, []):
            if name not in outputs:
                continue
            if w.check_reference is not None:
                ok, msg = w.check_reference(kind, outputs[name])
                rows[name].extra["reference_check"] = msg
                if not ok:
                    rows[name].status = "wrong result"
                    rows[name].note = _join(rows[name].note, msg)
                    del thunks[name], outputs[name]
                    continue
            ref = name
            break
        for t in w.tools:
            if t.kind != kind or t.name not in outputs:
                continue
            if ref is None:
                rows[t.name].note = _join(rows[t.name].note, "unchecked: no reference result")
                continue
            rows[t.name].extra["reference"] = ref
            if t.name == ref:
                how = rows[t.name].extra.get("reference_check")
                rows[t.name].note = _join(rows[t.name].note, f"reference ({how})" if how else "reference")
                continue
            ok, msg = compare(outputs[t.name], outputs[ref], w.rtol, w.atol)
            rows[t.name].extra["check"] = f"vs {ref}: {msg}"
            if not ok:
                rows[t.name].status = "wrong result"
                rows[t.name].note = _join(rows[t.name].note, f"vs {ref}: {msg}")
                del thunks[t.name]
    outputs.clear()

    # 3. timing: one estimate each, then interleaved rounds so that all tools see the same machine
    est, number, planned, samples = {}, {}, {}, {}
    for name, thunk in thunks.items():
        if tools[name].eager and rows[name].first_call_s > 2 * cfg.budget_s:
            est[name] = rows[name].first_call_s  # too slow to run again just for an estimate
        else:
            est[name] = _sample(tools[name], thunk, 1)
        number[name] = max(1, math.ceil(cfg.sample_floor_s / max(est[name], 1e-9)))
        per = est[name] * number[name]
        planned[name] = int(min(cfg.max_samples, max(1 if per * cfg.min_samples > 2 * cfg.budget_s else cfg.min_samples,
                                                     cfg.budget_s // per)))
        samples[name] = [] if number[name] > 1 else [est[name]]
    rounds = max(planned.values(), default=0)
    for r in range(rounds):
        for name, thunk in thunks.items():
            if len(samples[name]) < planned[name]:
                gc.collect()
                samples[name].append(_sample(tools[name], thunk, number[name]))

    for name, s in samples.items():
        row = rows[name]
        row.time_s = statistics.median(s)
        row.samples = len(s) * number[name]
        row.compile_s = None if tools[name].eager else max(0.0, row.first_call_s - row.time_s)
        row.extra["spread"] = [min(s), max(s)]

    # 4. ratios against the baseline, and targets
    base = next((t.name for t in w.tools if t.baseline), None)
    for row in rows.values():
        row.baseline = base
        if base and row.ok and rows[base].ok and row.time_s is not None:
            row.ratio = row.time_s / rows[base].time_s
        for tg in tools[row.tool].targets:
            row.targets.append(evaluate(tg, row, rows))
    return list(rows.values())


def evaluate(tg: Target, row: Row, rows: dict[str, Row]) -> dict:
    out = {"target": tg.text, "measure": tg.measure, "measured": None, "met": None, "issue": tg.issue}
    if not row.ok or row.time_s is None:
        out["why"] = row.status
        return out
    if tg.against is None:
        value = row.time_s
    else:
        other = rows.get(tg.against)
        if other is None or not other.ok or other.time_s is None:
            out["why"] = f"{tg.against}: {other.status if other else 'not run'}"
            return out
        value = row.time_s / other.time_s
    out["measured"] = value
    out["met"] = bool(value <= tg.limit)
    return out


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a and b else a or b


# ---- peak memory -------------------------------------------------------------------------------


def _status_kb(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _trim() -> None:
    """Return freed heap memory to the OS, so that reusing it shows up in the peak again. glibc
    keeps large blocks on its heap once its mmap threshold has grown (it grows with each large
    free); pinning the threshold makes every large buffer an mmap that is unmapped when freed."""
    gc.collect()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD: the default, but fixed
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_rss_mb(thunk: Callable[[], Any]) -> float | None:
    """The rise of the process's peak resident memory during one call, in MB, whatever allocates
    it (NumPy, Numba, XLA): the kernel's high-water mark is reset first (Linux `clear_refs`)."""
    _trim()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    before = _status_kb("VmRSS")
    out = thunk()
    after = _status_kb("VmHWM")
    del out
    if before is None or after is None:
        return None
    return (after - before) / 1024.0


def peak_traced_mb(thunk: Callable[[], Any]) -> float:
    """Peak of the memory allocated through Python's allocators during one call (NumPy arrays
    included; Numba's and XLA's own allocations are not seen), in MB. Exact at small sizes."""
    import tracemalloc

    _trim()
    tracemalloc.start()
    try:
        out = thunk()
        _, peak = tracemalloc.get_traced_memory()
        del out
    finally:
        tracemalloc.stop()
    return peak / 2**20


def peak_memory_mb(thunk: Callable[[], Any], small_mb: float = 4.0, rerun_s: float = 2.0) -> tuple[float, str]:
    """Peak RSS rise of one call; where that is too small to resolve (or unavailable), the
    tracemalloc peak of a second call instead, if the call is quick. Returns (MB, which measure)."""
    t0 = time.perf_counter()
    rss = peak_rss_mb(thunk)
    if rss is not None and (rss >= small_mb or time.perf_counter() - t0 > rerun_s):
        return rss, "peak RSS"
    traced = peak_traced_mb(thunk)
    if rss is None or traced > rss:
        return traced, "tracemalloc"
    return rss, "peak RSS"


# ---- formatting --------------------------------------------------------------------------------


def fmt_time(s: float | None) -> str:
    if s is None:
        return ""
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return ""
    return f"{r:.3g}×" if r < 1000 else f"{r:,.0f}×"


# ---- probing a size-dependent tool before running it at full size ------------------------------


def probe(make: Callable[[int], Callable[[], Any]], n: int, cap_s: float) -> tuple[str, float]:
    """Runs `make(m)()` at growing sizes m (n/1000, ×4 each time) until a call takes 0.3 s or m
    reaches n; raises Skip when the call at n would take more than `cap_s` by extrapolating the last
    two sizes (with their measured exponent p, so O(n²) code is caught). Returns (what it saw, p)."""
    m = max(10, n // 1000)
    make(m)()  # compile / warm up
    seen: list[tuple[int, float]] = []
    while m < n:
        thunk = make(m)
        t0 = time.perf_counter()
        thunk()
        seen.append((m, time.perf_counter() - t0))
        if seen[-1][1] > 0.3:
            break
        m *= 4
    if len(seen) < 2 or seen[-1][1] < 0.3:
        return "", 1.0
    (m1, t1), (m2, t2) = seen[-2], seen[-1]
    p = min(3.0, max(1.0, math.log(max(t2, 1e-9) / max(t1, 1e-9)) / math.log(m2 / m1)))
    est = t2 * (n / m2) ** p
    note = f"{fmt_time(t1)} at n={m1:,}, {fmt_time(t2)} at n={m2:,}: ~n^{p:.1f}, est. {fmt_time(est)} at n={n:,}"
    if est > cap_s:
        raise Skip(note)
    return note, p
