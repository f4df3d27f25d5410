"""NPBench's kernels as NPBench's own framework runs them (npbench/infrastructure at the commit
named in README.md): the presets and argument lists of bench_info/*.json, inputs from the
kernel's `initialize`, array arguments copied with `np.copy` before every call, the results
(returned values, then the arrays of `output_args`, which the kernel writes in place) compared
with `np.allclose(rtol, atol)` or else a relative error norm below `norm_error`.

Nothing here imports morphism: run.py does, so that the NumPy reference never depends on it.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
KERNELS = HERE / "kernels"
BENCH_INFO = HERE / "bench_info"


@dataclass(frozen=True)
class Bench:
    """One bench_info/<name>.json: `info` is its "benchmark" object, unchanged."""

    name: str  # NPBench's short_name, e.g. "gemm", "adist", "2mm"
    info: dict

    @property
    def module(self) -> str:
        return self.info["module_name"]

    @property
    def folder(self) -> pathlib.Path:
        return KERNELS / self.info["relative_path"]

    @property
    def domain(self) -> str:
        return self.info.get("domain", "")

    def path(self, suffix: str = "") -> pathlib.Path:
        """The initializer (suffix ""), the NumPy version ("_numpy") or the Numba one ("_numba_n")."""
        return self.folder / f"{self.module}{suffix}.py"

    def tolerances(self) -> dict[str, float]:
        """NPBench's defaults (infrastructure/test.py), overridden per benchmark in bench_info."""
        return {"rtol": self.info.get("rtol", 1e-5), "atol": self.info.get("atol", 1e-8),
                "norm_error": self.info.get("norm_error", 1e-5)}


def all_benches() -> dict[str, Bench]:
    """Every benchmark, by short name, in NPBench's order (that of the bench_info files)."""
    benches = {}
    for p in sorted(BENCH_INFO.glob("*.json")):
        info = json.loads(p.read_text())["benchmark"]
        benches[info["short_name"]] = Bench(info["short_name"], info)
    return benches


def find(benches: dict[str, Bench], name: str) -> Bench | None:
    """By short name ("adist"), module name ("arc_distance") or file stem ("arc_distance.json")."""
    if name in benches:
        return benches[name]
    for b in benches.values():
        if name in (b.module, pathlib.Path(b.info["relative_path"]).name):
            return b
    return benches.get(name.removesuffix(".json"))


def load_module(path: pathlib.Path) -> types.ModuleType:
    """Imports a kernel file by path, under a name of its own (sys.modules holds it, so that
    `inspect` finds its source, as morphism's frontend needs)."""
    name = "npbench_" + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def kernel(bench: Bench, suffix: str) -> Callable:
    return getattr(load_module(bench.path(suffix)), bench.info["func_name"])


def initial_data(bench: Bench, preset: str) -> dict[str, Any]:
    """The preset's parameters and what `initialize` makes of them (Benchmark.get_data: it runs
    `out1, out2 = initialize(in1, in2)`, so a single output name takes the whole result)."""
    params = bench.info["parameters"]
    if preset not in params:
        raise KeyError(f"{bench.name} has no preset {preset!r} (it has {', '.join(params)})")
    data = dict(params[preset])
    init = bench.info.get("init")
    if init:
        fn = getattr(load_module(bench.path()), init["func_name"])
        made = fn(*[data[a] for a in init["input_args"]])
        names = init["output_args"]
        data.update({names[0]: made} if len(names) == 1 else dict(zip(names, made, strict=True)))
    return data


def arguments(bench: Bench, data: dict[str, Any]) -> list[Any]:
    """The call's arguments, array arguments as fresh copies (Framework.setup_str: np.copy)."""
    arrays = bench.info["array_args"]
    return [np.copy(data[a]) if a in arrays else data[a] for a in bench.info["input_args"]]


def outputs(bench: Bench, args: list[Any], result: Any, every_array: bool = False) -> list[tuple[str, Any]]:
    """What NPBench validates (Test._execute), labelled: the returned values (a tuple or list
    spread out), then the arguments named in output_args as the call left them. `every_array`
    adds the other array arguments: NPBench's lists miss some (sselfeng's output_args is empty,
    though the kernel writes Sigma), and a compiled kernel must leave every argument as NumPy does."""
    out = [] if result is None else list(result) if isinstance(result, (tuple, list)) else [result]
    names, written = bench.info["input_args"], bench.info.get("output_args", [])
    pairs = [(f"returned value {i}", v) for i, v in enumerate(out)]
    pairs += [(f"argument {a!r}", args[names.index(a)]) for a in written]
    if every_array:
        pairs += [(f"argument {a!r} (not in output_args)", args[names.index(a)])
                  for a in bench.info["array_args"] if a not in written]
    return pairs


def relative_error(ref: Any, val: Any) -> float:
    return float(np.linalg.norm(ref - val) / np.linalg.norm(ref))


def compare(bench: Bench, ref: list[tuple[str, Any]], val: list[tuple[str, Any]], same_code: bool = True) -> str | None:
    """None when `val` validates against `ref` as in NPBench's utilities.validate; else why not.
    Stricter than NPBench where its np.allclose would pass silently: shapes must match. With
    `same_code` (the NumPy version, compiled), so must the number of outputs; NPBench's zip lets
    another version return fewer values (adi's Numba version writes u and does not return it),
    and pairs them in order."""
    tol = bench.tolerances()
    if len(ref) != len(val):
        if same_code:
            return f"{len(val)} outputs, expected {len(ref)}"
        ref = [(f"output {i}", r) for i, (_, r) in enumerate(ref)]
    for (label, r), (_, v) in zip(ref, val):
        r, v = np.asarray(r), np.asarray(v)
        if r.shape != v.shape:
            return f"{label}: shape {v.shape}, expected {r.shape}"
        try:
            if np.allclose(r, v, rtol=tol["rtol"], atol=tol["atol"]):
                continue
            err = relative_error(r, v)
        except TypeError as e:  # e.g. an object array
            return f"{label}: cannot compare ({e})"
        if not err < tol["norm_error"]:
            return f"{label}: relative error {err:.3g} (norm_error {tol['norm_error']:g})"
    return None


def dtype_notes(ref: list[tuple[str, Any]], val: list[tuple[str, Any]]) -> list[str]:
    """Outputs whose dtype differs from NumPy's (allowed by NPBench's check, worth knowing)."""
    notes = []
    for (label, r), (_, v) in zip(ref, val):
        dr, dv = np.asarray(r).dtype, np.asarray(v).dtype
        if dr != dv:
            notes.append(f"{label}: dtype {dv}, NumPy gives {dr}")
    return notes


# ---- the loss for --grad -------------------------------------------------------------------------


def is_float(x: Any) -> bool:
    return np.issubdtype(np.asarray(x).dtype, np.floating)


LOSS_TEMPLATE = '''\
"""Generated by benchmarks/npbench/suite.py: the sum of every floating-point output of
NPBench's {name} (NumPy version), its array arguments copied first so that the kernel's
in-place writes leave the caller's arrays alone."""
import numpy as np


def loss({params}):
{copies}    out = kernel({params})
    return {terms}
'''


def loss_source(bench: Bench, ref_result: Any, args: list[Any]) -> str | None:
    """The source of `loss(*input_args)`, or None when the kernel has no floating-point output.
    `ref_result` (the NumPy version's return value) says how the results are laid out."""
    params = bench.info["input_args"]
    arrays = [a for a in params if a in bench.info["array_args"]]
    if isinstance(ref_result, (tuple, list)):
        returned = [f"out[{i}]" for i, r in enumerate(ref_result) if is_float(r)]
    else:
        returned = ["out"] if ref_result is not None and is_float(ref_result) else []
    written = [a for a in bench.info.get("output_args", []) if is_float(args[params.index(a)])]
    terms = [f"np.sum({t})" for t in returned + written]
    if not terms:
        return None
    return LOSS_TEMPLATE.format(name=bench.name, params=", ".join(params),
                                copies="".join(f"    {a} = {a}.copy()\n" for a in arrays),
                                terms=" + ".join(terms))


def wrt_index(bench: Bench, args: list[Any]) -> int | None:
    """The first floating-point array among the input arguments (what --grad differentiates)."""
    for i, (name, a) in enumerate(zip(bench.info["input_args"], args)):
        if name in bench.info["array_args"] and isinstance(a, np.ndarray) and is_float(a):
            return i
    return None
