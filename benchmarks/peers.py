"""The tools compared, imported lazily: a peer that is not installed is reported as missing.

Every accessor returns the module or raises `Missing`; nothing here is imported at start-up, so a
broken peer costs only its own rows.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import types
from typing import Any, Callable


class Missing(Exception):
    """A peer that is not installed (or does not import)."""


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except Exception as e:  # ImportError, or a broken install raising anything
        raise Missing(f"{name} is not installed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None


@functools.cache
def jax() -> Any:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    jx = _import("jax")
    jx.config.update("jax_enable_x64", True)  # every tool computes in float64
    return jx


@functools.cache
def torch() -> Any:
    t = _import("torch")
    n = int(os.environ.get("MORPHISM_BENCH_THREADS", "0"))
    if n > 0:
        t.set_num_threads(n)
    return t


@functools.cache
def autograd() -> Any:
    ag = _import("autograd")
    _import("autograd.numpy")
    return ag


@functools.cache
def numba() -> Any:
    return _import("numba")


@functools.cache
def morphism() -> Any:
    return _import("morphism")


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for name in ("numpy", "numba", "morphism", "jax", "jaxlib", "torch", "autograd"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


# ---- which morphism backend runs the rows ------------------------------------------------------

def force_morphism_backend(name: str | None) -> None:
    """`--backend`; an environment variable, so that the fresh processes of `compile` see it too."""
    if name:
        os.environ["MORPHISM_BENCH_BACKEND"] = name


def morphism_backend() -> str:
    """'native' once morphism has its Numba backend (a backend module beside the interpreter, or
    `jit` defaulting to it), else 'interpreter'; `--backend` overrides."""
    forced = os.environ.get("MORPHISM_BENCH_BACKEND")
    if forced:
        return forced
    mo = morphism()
    default = inspect.signature(mo.jit).parameters["backend"].default
    if default == "native":
        return "native"
    backends = os.path.dirname(importlib.import_module("morphism.backends").__file__)
    others = [f for f in os.listdir(backends) if f.endswith(".py") and f not in ("__init__.py", "interpreter.py")]
    return "native" if others else "interpreter"


def morphism_name() -> str:
    try:
        return f"morphism ({morphism_backend()})"
    except Exception:  # morphism does not import: its rows will say why
        return "morphism"


def mo_jit(fn: Callable, **kw: Any) -> Callable:
    mo = morphism()
    return mo.jit(fn, backend=morphism_backend(), **kw)


# ---- reuse one plain-Python function with another array module ---------------------------------


def rebind(fn: Callable, **names: Any) -> Callable:
    """`fn` with some of its globals replaced, e.g. `rebind(loss, np=autograd.numpy)`: the plain
    function, written once, run by a tool that needs its own NumPy. Helper functions it calls are
    rebound too when they live in the same module."""
    glb = dict(fn.__globals__)
    glb.update(names)
    module = fn.__module__
    for k, v in list(glb.items()):
        if isinstance(v, types.FunctionType) and v.__module__ == module and v is not fn and k not in names:
            glb[k] = types.FunctionType(v.__code__, glb, v.__name__, v.__defaults__, v.__closure__)
    new = types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    return new


def jax_sync(out: Any) -> Any:
    return jax().block_until_ready(out)
