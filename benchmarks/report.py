"""The results of a run as a console table, markdown, JSON and a bar plot."""

from __future__ import annotations

import dataclasses
import math
import pathlib
import textwrap
from typing import Any

from .harness import Row, Workload, fmt_ratio, fmt_time

Results = list[tuple[Workload, list[Row]]]


def _time_cell(r: Row, width: int = 160) -> str:
    if r.ok:
        return fmt_time(r.time_s)
    return r.status if len(r.status) <= width else r.status[: width - 1] + "…"


def _target_cells(r: Row) -> tuple[str, str]:
    if not r.targets:
        return "", ""
    texts, mets = [], []
    for t in r.targets:
        measured = "" if t["measured"] is None else (
            f": {fmt_time(t['measured'])}" if t["target"].endswith(" s") else f": {fmt_ratio(t['measured'])}")
        texts.append(f"{t['target']}{measured}")
        mets.append("–" if t["met"] is None else ("yes" if t["met"] else "**no**"))
    return "; ".join(texts), "; ".join(mets)


def _cells(w: Workload, r: Row) -> list[str]:
    target, met = _target_cells(r)
    ratio = fmt_ratio(r.ratio) if r.ratio is not None else ""
    if r.ok and r.baseline == r.tool:
        ratio = "1× (baseline)"
    compile_ = fmt_time(r.compile_s) if r.ok and r.compile_s is not None and r.compile_s >= 1e-3 else ""
    return [w.name, r.tool, compile_, _time_cell(r), ratio, target, met, r.note.replace("|", "\\|")]


HEADER = ["workload", "tool", "compile", "time", "ratio vs baseline", "target", "met?", "notes"]


def markdown(results: Results, env: dict) -> str:
    v = env["versions"]
    lines = [
        "# morphism benchmarks",
        "",
        f"{env['date']}; {'quick' if env['quick'] else 'full'} run in {env.get('total_s', '?')} s on "
        f"{env['cpus']} CPUs ({env['platform']}), {env['threads']} thread(s) per tool, Python {env['python']}; morphism backend "
        f"**{env['morphism_backend']}**.",
        "Peers: " + ", ".join(f"{k} {v[k]}" for k in v) + ".",
        "",
        "Every time is the median of several runs after a first call (compile = first call − median). "
        "Tools are timed in interleaved rounds, and each *ratio* divides by the baseline measured in the "
        "same run: compare ratios, not absolute times, across machines. Before timing, every result is "
        "checked against the workload's reference (allclose); a tool that disagrees is reported as "
        "\"wrong result\" and not timed.",
        "",
        "## Results",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for w, rows in results:
        for r in rows:
            lines.append("| " + " | ".join(_cells(w, r)) + " |")
    by_issue: dict[int, list[str]] = {}  # one targets table per issue that set targets
    for w, rows in results:
        for r in rows:
            for t in r.targets:
                if t["measured"] is None:
                    measured, met = t.get("why", ""), "–"
                else:
                    measured = fmt_time(t["measured"]) if t["target"].endswith(" s") else fmt_ratio(t["measured"])
                    met = "yes" if t["met"] else "**no**"
                by_issue.setdefault(t.get("issue", 5), []).append(
                    f"| {w.name} | {r.tool} | {t['measure']} | {t['target']} | {measured} | {met} |")
    for issue in sorted(by_issue):
        lines += ["", f"## Targets (issue {issue})", "", "| workload | tool | measure | target | measured | met? |",
                  "|---|---|---|---|---|---|", *by_issue[issue]]
    lines += ["", "## Workloads", ""]
    for w, _ in results:
        lines.append(f"- **{w.name}**: {w.title}" + (f" ({w.sizes})" if w.sizes else ""))
    return "\n".join(lines) + "\n"


def console_table(results: Results) -> str:
    table = [HEADER[:-1]]
    for w, rows in results:
        for r in rows:
            cells = _cells(w, r)[:-1]
            cells = [c.replace("**", "") for c in cells]
            table.append([c if len(c) <= 70 else c[:67] + "..." for c in cells])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    out = []
    for k, row in enumerate(table):
        out.append("  ".join(c.ljust(wd) for c, wd in zip(row, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * wd for wd in widths))
    return "\n".join(out)


def as_json(results: Results, env: dict) -> dict[str, Any]:
    return {"environment": env,
            "workloads": [{"name": w.name, "title": w.title, "sizes": w.sizes,
                           "rows": [dataclasses.asdict(r) for r in rows]} for w, rows in results]}


def plot(results: Results, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    shown = [(w, rows) for w, rows in results if any(r.ratio is not None for r in rows)]
    if not shown:
        return
    fig, axes = plt.subplots(len(shown), 1, figsize=(9, 1.0 + 0.42 * sum(len(r) for _, r in shown) + 0.6 * len(shown)),
                             gridspec_kw={"height_ratios": [len(r) for _, r in shown]}, squeeze=False)
    for ax, (w, rows) in zip(axes[:, 0], shown):
        names = [r.tool for r in rows][::-1]
        rows = rows[::-1]
        vals = [r.ratio if r.ratio is not None else 0.0 for r in rows]
        colors = [_color(r) for r in rows]
        ax.barh(range(len(rows)), [v if v > 0 else float("nan") for v in vals], color=colors)
        ax.set_yticks(range(len(rows)), names, fontsize=8)
        ax.set_xscale("log")
        ax.axvline(1.0, color="k", lw=0.8)
        positive = [v for v in vals if v > 0]
        lo, hi = min(positive + [1.0]), max(positive + [1.0])
        ax.set_xlim(lo / 3, hi * 8)
        for k, (r, v) in enumerate(zip(rows, vals)):
            label = fmt_ratio(v) if v > 0 else r.status[:70]
            ax.text(v * 1.1 if v > 0 else lo / 2.8, k, label, va="center", fontsize=7,
                    style="normal" if v > 0 else "italic", color="k" if v > 0 else "#555555",
                    bbox=None if v > 0 else {"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        ax.set_title(textwrap.fill(f"{w.name}: {w.title}", 95), fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        ax.xaxis.set_major_locator(ticker.LogLocator(base=10))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(_tick))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    axes[-1, 0].set_xlabel("time ÷ baseline (log scale; the baseline is 1×)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tick(v: float, _: Any) -> str:
    return f"{v:g}×" if 1e-3 <= v < 1e4 else f"1e{round(math.log10(v))}×"


def _color(r: Row) -> str:
    if r.tool.startswith("morphism"):
        return "#d62728"
    for key, c in (("numba", "#7f7f7f"), ("NumPy", "#7f7f7f"), ("JAX", "#1f77b4"), ("PyTorch", "#ff7f0e"),
                   ("autograd", "#2ca02c")):
        if key in r.tool:
            return c
    return "#9467bd"
