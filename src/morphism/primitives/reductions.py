"""Reductions, scans and sorting: sums, products, extrema, arg-extrema, any/all, cumulative sums
and products, sort, argsort and searchsorted.

Axes in params are normalised by the frontend: a reduction's `axis` is None (all axes) or a
sorted tuple of distinct non-negative ints, a scan's or a sort's `axis` is one non-negative int.
The type rules insist on that, so passes never meet `-1` or `(1, 0)`. Composites (mean, var,
std, median, average, diff, nan-reductions) are built from these in frontend/np_api/reductions.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir.core import DType, Type, make_type
from .registry import TypeRuleError, primitive, reduction_type, require_array


def _check_axes(axis: Any, ndim: int) -> None:
    if not (isinstance(axis, tuple) and all(isinstance(a, int) and 0 <= a < ndim for a in axis)
            and list(axis) == sorted(set(axis))):
        raise TypeRuleError(f"expected axis None or sorted distinct axes in [0, {ndim}), found {axis!r}")


def _check_axis(axis: Any, ndim: int) -> None:
    if not (isinstance(axis, int) and 0 <= axis < ndim):
        raise TypeRuleError(f"expected one axis in [0, {ndim}), found {axis!r}")


# ---- reductions over `axis` (None or a normalised tuple) with `keepdims` ---------------------


def _reduce_rule(dtype_rule: str):
    base = reduction_type(dtype_rule)

    def rule(ts: list[Type], axis: tuple[int, ...] | None, keepdims: bool, **_: Any) -> list[Type]:
        (t,) = ts
        if axis is not None:
            _check_axes(axis, t.ndim)
        return base(ts, axis=axis, keepdims=keepdims)

    return rule


def _reduction(name: str, dtype_rule: str, fn: Any):
    return primitive(name, _reduce_rule(dtype_rule),
                     impl=lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims))


# Sum and product of bools count in int64, as NumPy's do; max/min keep the dtype; an empty
# max/min raises ValueError like NumPy's.
reduce_sum = _reduction("reduce_sum", "sum", np.sum)
reduce_prod = _reduction("reduce_prod", "sum", np.prod)
reduce_max = _reduction("reduce_max", "same", np.max)
reduce_min = _reduction("reduce_min", "same", np.min)
reduce_any = _reduction("reduce_any", "bool", np.any)
reduce_all = _reduction("reduce_all", "bool", np.all)


# ---- arg-extrema: one axis (an int) or None (the flattened array) ----------------------------


def _arg_rule(ts: list[Type], axis: int | None, keepdims: bool, **_: Any) -> list[Type]:
    (t,) = ts
    if axis is None:
        return [make_type(DType.int64, t.ndim if keepdims else 0)]
    _check_axis(axis, t.ndim)
    return [make_type(DType.int64, t.ndim if keepdims else max(t.ndim - 1, 0))]


argmax = primitive("argmax", _arg_rule,
                   impl=lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims))
argmin = primitive("argmin", _arg_rule,
                   impl=lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims))


# ---- scans along one axis --------------------------------------------------------------------


def _scan_rule(ts: list[Type], axis: int, **_: Any) -> list[Type]:
    (t,) = ts
    t = require_array(t, "a cumulative sum or product")
    _check_axis(axis, t.ndim)
    return [t.with_dtype(DType.int64 if t.dtype == DType.bool else t.dtype)]


cumsum = primitive("cumsum", _scan_rule, impl=lambda x, axis: np.cumsum(x, axis=axis))
cumprod = primitive("cumprod", _scan_rule, impl=lambda x, axis: np.cumprod(x, axis=axis))


# ---- sorting ---------------------------------------------------------------------------------


def _sort_rule(ts: list[Type], axis: int, **_: Any) -> list[Type]:
    (t,) = ts
    t = require_array(t, "sort")
    _check_axis(axis, t.ndim)
    return [t]


def _argsort_rule(ts: list[Type], axis: int, kind: str | None, **_: Any) -> list[Type]:
    (t,) = _sort_rule(ts, axis=axis)
    if kind not in (None, "quicksort", "mergesort", "heapsort", "stable"):
        raise TypeRuleError(f"expected a sort kind ('quicksort', 'mergesort', 'heapsort', 'stable'), found {kind!r}")
    return [t.with_dtype(DType.int64)]


# Sorted values do not depend on the algorithm; the order of tied indices does, so argsort
# keeps NumPy's `kind`.
sort = primitive("sort", _sort_rule, impl=lambda x, axis: np.sort(x, axis=axis))
argsort = primitive("argsort", _argsort_rule,
                    impl=lambda x, axis, kind: np.argsort(x, axis=axis, kind=kind))


def _searchsorted_rule(ts: list[Type], side: str, **_: Any) -> list[Type]:
    a, v = ts
    if a.ndim != 1:
        raise TypeRuleError(f"searchsorted expected a 1-d sorted array, found {a}")
    if side not in ("left", "right"):
        raise TypeRuleError(f"expected side 'left' or 'right', found {side!r}")
    return [make_type(DType.int64, v.ndim)]


# searchsorted(a, v): where to insert v into the sorted 1-d array a to keep it sorted.
searchsorted = primitive("searchsorted", _searchsorted_rule,
                         impl=lambda a, v, side: np.searchsorted(a, v, side=side))
