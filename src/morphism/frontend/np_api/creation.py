"""NumPy's array creation API (zeros, ones, full, the *_like functions, arange, linspace,
logspace, eye, identity) mapped onto the creation primitives.

Shapes may be run-time values: `np.zeros((n, 2))` takes `n` as an operand. Result dtypes follow
NumPy: float64 unless `dtype=` says otherwise, except `full` (the fill value's dtype) and
`arange` (int64 when every bound is an integer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ir.core import Array, DType, Lit, lit
from ...primitives import creation as C
from ...primitives import elementwise as E
from ...primitives import shape as S
from ..library import cast, error, static, static_dtype, to_atom, to_float, type_error
from .shape import ALL, api, dims_of, index, int_scalar, iota, shape_of



def _check_order(order: Any) -> None:
    if static(order, "order") not in ("C", "K", "A", None):
        error(f"order={static(order, 'order')!r} is not supported: morphism arrays are row-major (order='C')")


def full(dims: list, fill: Any, dtype: DType | None) -> Any:
    v = to_atom(fill, "the fill value")
    dt = dtype or v.type.dtype
    if isinstance(v.type, Array):
        return S.broadcast_to(cast(v, dt), *dims)
    return C.full(v, *dims, dtype=dt)


@api(np.zeros, np.empty)
def _np_zeros(shape, dtype=None, order="C", *, device=None, like=None):
    _check_order(order)
    return C.zeros(*dims_of(shape, "np.zeros"), dtype=static_dtype(dtype) or DType.float64)


@api(np.ones)
def _np_ones(shape, dtype=None, order="C", *, device=None, like=None):
    _check_order(order)
    dt = static_dtype(dtype) or DType.float64
    return C.full(lit(1, dt), *dims_of(shape, "np.ones"), dtype=dt)


@api(np.full)
def _np_full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    _check_order(order)
    return full(dims_of(shape, "np.full"), fill_value, static_dtype(dtype))


def _like_dims(name: str, a: Any, shape: Any, dtype: Any, order: Any):
    _check_order(order)
    x = to_atom(a, f"np.{name}")
    dims = shape_of(x) if shape is None else dims_of(shape, f"np.{name}")
    return dims, static_dtype(dtype) or x.type.dtype


@api(np.zeros_like, np.empty_like)
def _np_zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dims, dt = _like_dims("zeros_like", a, shape, dtype, order)
    return C.zeros(*dims, dtype=dt)


@api(np.ones_like)
def _np_ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dims, dt = _like_dims("ones_like", a, shape, dtype, order)
    return C.full(lit(1, dt), *dims, dtype=dt)


@api(np.full_like)
def _np_full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    dims, dt = _like_dims("full_like", a, shape, dtype, order)
    return full(dims, fill_value, dt)


# ---- ranges ---------------------------------------------------------------------------------


def _bound(v: Any, what: str):
    a = to_atom(v, what)
    if isinstance(a.type, Array):
        type_error(f"{what} must be a scalar, found an array of type {a.type}")
    return a


@api(np.arange)
def _np_arange(start_or_stop, stop=None, step=1, *, dtype=None, device=None, like=None):
    if stop is None:
        start, stop = lit(0), start_or_stop
    else:
        start = start_or_stop
    bounds = [_bound(b, f"np.arange: {w}") for b, w in ((start, "start"), (stop, "stop"), (step, "step"))]
    if isinstance(bounds[2], Lit) and bounds[2].value == 0:
        type_error("np.arange: the step must not be zero")
    inferred = DType.float64 if any(b.type.dtype == DType.float64 for b in bounds) else DType.int64
    return C.arange(*bounds, dtype=static_dtype(dtype) or inferred)


def _samples(name, start, stop, num, endpoint):
    a = _bound(start, f"{name}: start")
    b = _bound(stop, f"{name}: stop")
    n = int_scalar(num, f"{name}: num")
    ep = static(endpoint, "endpoint")
    if not isinstance(ep, (bool, np.bool_)):
        type_error(f"{name}: endpoint must be True or False, found {ep!r}")
    return a, b, n, bool(ep)


def _check_axis(name: str, axis: Any) -> None:
    if static(axis, "axis") not in (0, -1):
        error(f"{name}(axis=...) is not supported: start and stop are scalars, so the result is 1-d")


@api(np.linspace)
def _np_linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    _check_axis("np.linspace", axis)
    a, b, n, ep = _samples("np.linspace", start, stop, num, endpoint)
    y = C.linspace(a, b, n, endpoint=ep, dtype=static_dtype(dtype) or DType.float64)
    if not static(retstep, "retstep"):
        return y
    # NumPy's step: (stop - start) / div, or NaN when there are no intervals (div <= 0).
    div = E.sub(n, 1) if ep else n
    step = E.div(E.sub(to_float(b), to_float(a)), E.maximum(div, lit(1)))
    return y, E.select(E.gt(div, lit(0)), step, lit(float("nan")))


@api(np.logspace)
def _np_logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    _check_axis("np.logspace", axis)
    a, b, n, ep = _samples("np.logspace", start, stop, num, endpoint)
    y = E.pow(to_float(to_atom(base, "np.logspace: base")), C.linspace(a, b, n, endpoint=ep, dtype=DType.float64))
    dt = static_dtype(dtype)
    return y if dt is None else cast(y, dt)


# ---- identity matrices ----------------------------------------------------------------------


def eye(n: Any, m: Any, k: Any, dtype: DType) -> Any:
    rows = int_scalar(n, "np.eye: N")
    cols = rows if m is None else int_scalar(m, "np.eye: M")
    diff = E.sub(iota(cols), index(iota(rows), (ALL, "n")))  # j - i
    return cast(E.eq(diff, int_scalar(k, "np.eye: k")), dtype)


@api(np.eye)
def _np_eye(N, M=None, k=0, dtype=float, order="C", *, device=None, like=None):
    _check_order(order)
    return eye(N, M, k, static_dtype(dtype) or DType.float64)


@api(np.identity)
def _np_identity(n, dtype=None, *, like=None):
    return eye(n, None, 0, static_dtype(dtype) or DType.float64)
