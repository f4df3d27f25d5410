"""Runs the corpus of user-like programs in tests/programs/ through morphism, on both backends,
and compares every result with plain Python.

Each `tests/programs/prog_*.py` module ends with `CASES = [(func, args), ...]`; every entry
becomes one test per backend with an id like `prog_physics::lorenz_rk4[0]-native` (the index
counts the cases of that function within its module). All the tests of one function run in one
xdist worker (`--dist loadgroup`), so its cases share one compiled specialisation where their
argument types agree. `morphism` is imported inside the tests so that collection works whatever
state the compiler is in.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import warnings
from pathlib import Path

import pytest

from helpers import assert_same

PROGRAMS_DIR = Path(__file__).parent / "programs"


def _load_module(path: Path):
    name = f"morphism_test_programs.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # registered before execution: dataclasses and inspect.getsource look modules up by name
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _collect_cases():
    params = []
    for path in sorted(PROGRAMS_DIR.glob("prog_*.py")):
        module = _load_module(path)
        cases = getattr(module, "CASES", None)
        if not isinstance(cases, list) or not cases:
            raise RuntimeError(f"{path} must define a non-empty module-level list CASES")
        counts: dict[str, int] = {}
        for entry in cases:
            func, args = entry
            if not isinstance(args, tuple):
                raise RuntimeError(f"{path}: the arguments of a case of {func.__name__} must be a tuple")
            k = counts.get(func.__name__, 0)
            counts[func.__name__] = k + 1
            case_id = f"{path.stem}::{func.__name__}[{k}]"
            # one xdist group per function: its cases reuse what the worker compiled for it
            group = pytest.mark.xdist_group(f"{path.stem}::{func.__name__}")
            params.append(pytest.param(func, args, id=case_id, marks=group))
    return params


CASES = _collect_cases()


_compiled: dict = {}


def compiled(func, backend: str):
    """`mo.jit(func, backend=backend)`, one per function and backend in this worker (the cases
    of a function reuse its specialisations)."""
    import morphism as mo

    key = (func, backend)
    if key not in _compiled:
        _compiled[key] = mo.jit(func, backend=backend)
    return _compiled[key]


@pytest.mark.parametrize("backend", ["interpreter", "native"])
@pytest.mark.parametrize("func, args", CASES)
def test_program_matches_python(func, args, backend):
    from morphism.api import MorphismPerformanceWarning

    expected = func(*copy.deepcopy(args))
    with warnings.catch_warnings():
        # the native backend must compile every program: no fallback to the interpreter
        warnings.simplefilter("error", MorphismPerformanceWarning)
        got = compiled(func, backend)(*copy.deepcopy(args))
    assert_same(got, expected)


@pytest.mark.parametrize("func, args", CASES)
def test_program_is_deterministic_plain_python(func, args):
    """Corpus hygiene, independent of morphism: a program gives the same result twice and does
    not write into its argument arrays (morphism does not make such writes visible)."""
    original = copy.deepcopy(args)
    work = copy.deepcopy(args)
    first = func(*work)
    assert_same(work, original, rtol=0.0, atol=0.0)
    second = func(*copy.deepcopy(args))
    assert_same(second, first, rtol=0.0, atol=0.0)


def test_corpus_size():
    modules = {p.id.split("::")[0] for p in CASES}
    funcs = {p.id.split("[")[0] for p in CASES}
    assert len(modules) >= 15
    assert len(funcs) >= 70
