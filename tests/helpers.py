"""Shared test helpers."""

from __future__ import annotations

import dataclasses
import numbers
import os
from typing import Any

import numpy as np

RTOL = 1e-12
ATOL = 1e-12


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _is_dataclass_instance(x: Any) -> bool:
    return dataclasses.is_dataclass(x) and not isinstance(x, type)


def _is_scalar(x: Any) -> bool:
    if isinstance(x, (bool, np.bool_, numbers.Number, np.generic)):
        return True
    return isinstance(x, np.ndarray) and x.ndim == 0


def _kind(x: Any) -> str:
    """'b', 'i' or 'f' for a scalar or array (complex and others give their NumPy kind)."""
    if isinstance(x, (bool, np.bool_)):
        return "b"
    if isinstance(x, np.ndarray):
        k = x.dtype.kind
    elif isinstance(x, np.generic):
        k = x.dtype.kind
    elif isinstance(x, int):
        k = "i"
    elif isinstance(x, float):
        k = "f"
    else:
        k = np.asarray(x).dtype.kind
    return "i" if k == "u" else k


_KIND_NAMES = {"b": "bool", "i": "int", "f": "float"}


def _fail(path: str, msg: str) -> None:
    raise AssertionError(f"at {path or '<root>'}: {msg}")


def _close(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)


def assert_same(got: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL, path: str = "") -> None:
    """Require `got` to match `expected`, a result computed by plain Python.

    Pytrees (tuple, list, dict, NamedTuple, dataclass) must have identical structure: the same
    container types (a NamedTuple or dataclass of the same class), lengths and dict keys.
    Arrays must have the same shape and dtype kind (bool / int / float) and values close within
    `rtol`/`atol` (NaNs equal). Scalars (Python numbers, NumPy scalars, 0-d arrays) must have the
    same kind and be close; bools must equal bools exactly.
    """
    # --- containers ---------------------------------------------------------------------------
    if _is_namedtuple(expected):
        if type(got) is not type(expected):
            _fail(path, f"expected NamedTuple {type(expected).__name__}, got {type(got).__name__}")
        for name in expected._fields:
            assert_same(getattr(got, name), getattr(expected, name), rtol, atol, f"{path}.{name}")
        return
    if _is_dataclass_instance(expected):
        if type(got) is not type(expected):
            _fail(path, f"expected dataclass {type(expected).__name__}, got {type(got).__name__}")
        for f in dataclasses.fields(expected):
            assert_same(getattr(got, f.name), getattr(expected, f.name), rtol, atol, f"{path}.{f.name}")
        return
    if isinstance(expected, (tuple, list)):
        if type(got) is not type(expected) or _is_namedtuple(got):
            _fail(path, f"expected {type(expected).__name__} of length {len(expected)}, got {type(got).__name__}")
        if len(got) != len(expected):
            _fail(path, f"expected {type(expected).__name__} of length {len(expected)}, got length {len(got)}")
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, rtol, atol, f"{path}[{i}]")
        return
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            _fail(path, f"expected dict, got {type(got).__name__}")
        if set(got) != set(expected):
            _fail(path, f"expected dict keys {sorted(map(repr, expected))}, got {sorted(map(repr, got))}")
        for k in expected:
            assert_same(got[k], expected[k], rtol, atol, f"{path}[{k!r}]")
        return

    # --- leaves -------------------------------------------------------------------------------
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        if not isinstance(got, np.ndarray):
            _fail(path, f"expected an array of shape {expected.shape}, got {type(got).__name__} {got!r:.80}")
        if got.shape != expected.shape:
            _fail(path, f"expected shape {expected.shape}, got shape {got.shape}")
        ke, kg = _kind(expected), _kind(got)
        if ke != kg:
            _fail(path, f"expected dtype kind {_KIND_NAMES.get(ke, ke)} ({expected.dtype}), "
                        f"got {_KIND_NAMES.get(kg, kg)} ({got.dtype})")
        if ke in "bi":
            if not np.array_equal(got, expected):
                bad = np.argwhere(got != expected)[:5]
                detail = ", ".join(f"{tuple(i)}: got {got[tuple(i)]!r} expected {expected[tuple(i)]!r}" for i in bad)
                _fail(path, f"{_KIND_NAMES[ke]} arrays differ ({detail})")
            return
        ok = _close(got, expected, rtol, atol)
        if not np.all(ok):
            bad = np.argwhere(~ok)[:5]
            detail = ", ".join(f"{tuple(i)}: got {got[tuple(i)]!r} expected {expected[tuple(i)]!r}" for i in bad)
            _fail(path, f"{np.sum(~ok)} of {expected.size} values differ ({detail})")
        return

    if _is_scalar(expected):
        if not _is_scalar(got):
            _fail(path, f"expected scalar {expected!r}, got {type(got).__name__} {got!r:.80}")
        ke, kg = _kind(expected), _kind(got)
        if ke != kg:
            _fail(path, f"expected {_KIND_NAMES.get(ke, ke)} {expected!r}, got {_KIND_NAMES.get(kg, kg)} {got!r}")
        e = np.asarray(expected).item()
        g = np.asarray(got).item()
        if ke == "b":
            if bool(g) != bool(e):
                _fail(path, f"expected {e!r}, got {g!r}")
            return
        if ke == "i":
            if int(g) != int(e):
                _fail(path, f"expected {e!r}, got {g!r}")
            return
        if not bool(_close(np.float64(g), np.float64(e), rtol, atol)):
            _fail(path, f"expected {e!r}, got {g!r}")
        return

    if got != expected:
        _fail(path, f"expected {expected!r}, got {got!r}")


def assert_close_up_to_rounding(got: Any, want: Any) -> None:
    """Two backends' results of one computation: the same pytree, values within rtol 1e-9 (and an
    absolute 1e-12 of the leaf's scale, for sums that cancel), NaNs and infinities in the same
    places. What separates them is floating-point reassociation, never a different formula."""
    from morphism import pytree

    gl, gt = pytree.flatten(got)
    wl, wt = pytree.flatten(want)
    assert gt == wt, f"pytree {gt} != {wt}"
    for k, (g, w) in enumerate(zip(gl, wl)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype.kind == w.dtype.kind, \
            f"leaf {k}: {g.dtype}{g.shape} != {w.dtype}{w.shape}"
        if w.dtype.kind != "f":
            np.testing.assert_array_equal(g, w, err_msg=f"leaf {k}")
            continue
        finite = np.abs(w[np.isfinite(w)])
        scale = 1.0 + (float(np.max(finite)) if finite.size else 0.0)
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12 * scale, equal_nan=True, err_msg=f"leaf {k}")


# ---- both backends -------------------------------------------------------------------------------

# The primitive tests compare mo.jit(f) with NumPy on both backends. A native specialisation is
# a Numba compile (one to three seconds of CPU), and the property tests draw dozens of static
# arguments (axis, keepdims) per function: the native backend runs the first NATIVE_CAP
# signatures of each function, the interpreter all of them. Measured on a fresh clone with cold
# caches, 2 cores: a cap of 4 took `make test` from 5.5 to 10.3 minutes (+713 s of CPU); a cap
# of 1 costs about 160 s of CPU. MORPHISM_TEST_NATIVE_CAP=n sets it; MORPHISM_TEST_NATIVE_AD=all
# lifts it.
NATIVE_CAP = None if os.environ.get("MORPHISM_TEST_NATIVE_AD", "") == "all" else int(os.environ.get("MORPHISM_TEST_NATIVE_CAP", "1"))
_JITS: dict = {}


def jit_results(f, args, static_argnums=()) -> list:
    """[(backend, mo.jit(f, backend=...)(*args))]: the interpreter's, then the native backend's
    where its cap allows. A primitive without a native rule runs in object mode there, which is
    fine; a native function that falls back to the interpreter is an error."""
    import warnings

    import morphism as mo
    from morphism.api import MorphismPerformanceWarning

    out = []
    for backend in ("interpreter", "native"):
        key = (f, tuple(static_argnums) if isinstance(static_argnums, (tuple, list)) else static_argnums, backend)
        j = _JITS.get(key)
        if j is None:
            j = _JITS[key] = mo.jit(f, backend=backend, static_argnums=static_argnums)
        if backend == "native" and NATIVE_CAP is not None and len(j.cache) >= NATIVE_CAP:
            if j.specialize(tuple(args), {}).signature not in j.cache:
                continue
        with warnings.catch_warnings():
            warnings.simplefilter("error", MorphismPerformanceWarning)
            out.append((backend, j(*args)))
    return out


def check_on_backends(f, args, same, static_argnums=(), native_same=None):
    """f through mo.jit on both backends (`jit_results`) against f itself, each result compared
    by `same(got, want)` (by `native_same` on the native backend where given); a failure names
    the backend. Returns the interpreter's result."""
    want = f(*args)
    results = jit_results(f, args, static_argnums)
    for backend, got in results:
        try:
            (native_same if backend == "native" and native_same else same)(got, want)
        except AssertionError as e:
            raise AssertionError(f"{backend} backend: {e}") from e
    return results[0][1]
