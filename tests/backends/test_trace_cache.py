"""The trace cache (backends/trace_cache.py): a second process runs `jit(grad(f))` without
tracing; any change the IR could depend on (the function's source, a global it reads, a helper it
calls, static arguments, argument types) gives another entry; what cannot be fingerprinted is
traced as before.

The end-to-end tests run fresh processes on small modules written to tmp_path; the key's
fingerprint is also checked in-process, where it is cheap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import morphism as mo
from morphism import api
from morphism.backends import trace_cache

SRC = str(Path(__file__).resolve().parents[2] / "src")

# The probe: prints the results, the cache's counters, and whether the frontend was imported
# (it is not when every call was a hit).
PROBE = """
import json, sys
import numpy as np
import morphism as mo
from morphism.backends import trace_cache
import prog
out = {"results": prog.run()}
out["stats"] = dict(trace_cache.stats)
out["traced"] = "morphism.frontend.lower" in sys.modules
print(json.dumps(out))
"""


def run_probe(tmp_path: Path, files: dict[str, str]) -> dict:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    env = {**os.environ, "MORPHISM_CACHE_DIR": str(tmp_path / "cache"), "MORPHISM_TRACE_CACHE": "1",
           "MORPHISM_BACKEND": "native", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), SRC])}
    p = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


PROG = """
import numpy as np
import morphism as mo
from helpers import helper

SCALE = 2.0


def loss(x):
    return np.sum(helper(x)) * SCALE


def run():
    g = mo.jit(mo.grad(loss))
    return g(np.array([1.0, 2.0, 3.0])).tolist()
"""
HELPERS = """
def helper(v):
    return v * v
"""


def test_a_second_process_skips_tracing_and_any_change_invalidates(tmp_path):
    first = run_probe(tmp_path, {"prog.py": PROG, "helpers.py": HELPERS})
    assert first["results"] == [4.0, 8.0, 12.0]
    assert first["stats"] == {"hit": 0, "miss": 1, "uncacheable": 0} and first["traced"]
    assert len(list((tmp_path / "cache").glob("trace_*.pkl"))) == 1

    second = run_probe(tmp_path, {})
    assert second["results"] == first["results"]
    assert second["stats"] == {"hit": 1, "miss": 0, "uncacheable": 0}
    assert not second["traced"], "a hit must not import the frontend"

    # each change is a miss, and the result is the new function's
    for files, want in [({"prog.py": PROG.replace("SCALE = 2.0", "SCALE = 3.0")}, [6.0, 12.0, 18.0]),
                        ({"helpers.py": HELPERS.replace("v * v", "v * v * v")}, [9.0, 36.0, 81.0]),
                        ({"prog.py": PROG.replace("* SCALE", "* SCALE + np.sum(x)")}, [7.0, 25.0, 55.0])]:
        out = run_probe(tmp_path, files)
        assert out["results"] == want
        assert out["stats"]["miss"] == 1 and out["stats"]["hit"] == 0 and out["traced"]

    # the entries are keyed by content: back to the first version, a hit again
    again = run_probe(tmp_path, {"prog.py": PROG, "helpers.py": HELPERS})
    assert again["results"] == first["results"] and again["stats"]["hit"] == 1 and not again["traced"]


SIGNATURES = """
import numpy as np
import morphism as mo


def scale(x, k):
    return x * k


def run():
    f = mo.jit(scale, static_argnums=1)
    out = [f(1.5, 2), f(1.5, 3), f(np.ones(3), 2), f(np.ones((2, 2)), 2), f(np.arange(3), 2),
           f(np.ones(5), 2)]  # the last one: another length, the same entry as np.ones(3)
    ir = f.lower(np.ones(4), 2)
    return [np.asarray(o).tolist() for o in out] + ["numba.njit" in ir.source, str(ir.ir)]
"""


def test_static_arguments_and_argument_types_have_their_own_entries(tmp_path):
    first = run_probe(tmp_path, {"prog.py": SIGNATURES})
    assert first["stats"]["miss"] == 5 and first["stats"]["uncacheable"] == 0
    assert len(list((tmp_path / "cache").glob("trace_*.pkl"))) == 5
    second = run_probe(tmp_path, {})
    assert second["stats"] == {"hit": 5, "miss": 0, "uncacheable": 0}
    # the same values; `lower(...).source` from the cache, `.ir` traced again on demand
    assert second["results"] == first["results"]
    assert second["results"][-2] is True and second["results"][-1].startswith("func scale(")


# ---- in-process: the key's fingerprint, and what is not cacheable --------------------------------

SCALE = 2.0
x = np.zeros(2)  # a global with the name of loss's parameter: not part of its key


def helper(v):
    return v * v


def loss(x):
    return np.sum(helper(x)) * SCALE


def shadowed(v):
    SCALE = SCALE * v  # noqa: F823 (Python raises here; the frontend reads the global)
    return SCALE


def key(f, *args):
    k = trace_cache._key(f, f.specialize(args, {}))
    return k and k[0]


def test_the_key_follows_globals_helpers_closures_and_custom_rules(monkeypatch):
    # (morphism's files may be edited while this process runs, which would make every call
    # uncacheable: not what this test is about)
    monkeypatch.setattr(api, "IMPORTED_AT", float("inf"))
    x = np.ones(3)
    g = mo.jit(mo.grad(loss))
    base = key(g, x)
    assert base is not None and key(mo.jit(mo.grad(loss)), x) == base
    assert key(mo.jit(mo.grad(loss)), np.ones(7)) == base, "shapes are not part of the signature"
    assert key(mo.jit(mo.grad(loss)), np.ones((2, 2))) != base
    assert key(mo.jit(loss), x) != base
    assert key(mo.jit(mo.value_and_grad(loss)), x) != base
    monkeypatch.setitem(globals(), "SCALE", 3.0)
    assert key(g, x) != base
    monkeypatch.setitem(globals(), "SCALE", 2.0)
    assert key(g, x) == base
    monkeypatch.setitem(globals(), "x", np.ones(2))
    assert key(g, x) == base
    monkeypatch.setitem(globals(), "helper", lambda v: v * v)
    assert key(g, x) != base

    def make(c):
        return lambda v: v * c

    assert key(mo.jit(make(2.0)), 1.0) != key(mo.jit(make(3.0)), 1.0)

    @mo.custom_vjp
    def clip(v):
        return v

    clip.defvjp(lambda v: (v, None), lambda r, ct: (ct,))
    cg = mo.jit(mo.grad(lambda v: clip(v) * 2.0))
    before = key(cg, 1.0)
    clip.defvjp(lambda v: (v, None), lambda r, ct: (0.5 * ct,))
    assert before is not None and key(cg, 1.0) != before


def test_what_cannot_be_fingerprinted_is_traced(tmp_path, monkeypatch):
    monkeypatch.setenv("MORPHISM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("MORPHISM_TRACE_CACHE", "1")

    def affine(x, ks):
        return x * ks[0] + ks[1]

    before = dict(trace_cache.stats)
    # a static argument that is not hashable is keyed by its identity
    assert mo.jit(affine, static_argnums=1, backend="native")(3.0, [2.0, 1.0]) == 7.0
    assert mo.jit(mo.grad(affine), static_argnums=1, backend="native")(3.0, [2.0, 1.0]) == 2.0
    # an object-mode fallback in the generated code
    from morphism.primitives.elementwise import sin

    monkeypatch.setattr(sin, "numba", None)
    assert mo.jit(lambda v: np.sin(v) * 2.0, backend="native")(0.5) == pytest.approx(2.0 * np.sin(0.5))
    # the trace read a global that the key does not cover (Python deems SCALE local)
    assert mo.jit(shadowed, backend="native")(3.0) == 6.0
    assert trace_cache.stats["uncacheable"] - before["uncacheable"] == 4
    assert not list(tmp_path.glob("trace_*.pkl"))
    assert key(mo.jit(affine, static_argnums=1), 3.0, [2.0, 1.0]) is None
    # a process whose morphism is older than the files on disk
    monkeypatch.setattr(api, "IMPORTED_AT", 0.0)
    assert key(mo.jit(loss), np.ones(2)) is None


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("MORPHISM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("MORPHISM_TRACE_CACHE", "0")
    assert mo.jit(loss, backend="native")(np.ones(2)) == 4.0
    assert list(tmp_path.glob("mo_*.py")) and not list(tmp_path.glob("trace_*.pkl"))
