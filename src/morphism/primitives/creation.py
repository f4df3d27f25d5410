"""Creation primitives: arrays made from run-time dims and scalars.

Dims are i64 scalar operands (shapes are run-time values), the dtype is a param. `eye`,
`identity`, `diag`, `triu`/`tril` and the `*_like` functions are composed from these in
`frontend/np_api/creation.py`.
"""

from __future__ import annotations

import numpy as np

from ..ir.core import Array, DType, make_type
from .registry import CREATION, TypeRuleError, check_int_scalars, primitive


def _shape(dims) -> tuple[int, ...]:
    return tuple(int(d) for d in dims)


def _zeros_rule(ts, dtype: DType, **_):
    check_int_scalars(ts, "array dims")
    return [make_type(dtype, len(ts))]


# zeros(*dims, dtype): also np.empty (morphism never hands out uninitialised memory).
zeros = primitive("zeros", _zeros_rule, impl=lambda *dims, dtype: np.zeros(_shape(dims), dtype.np),
                  traits={CREATION})


def _full_rule(ts, dtype: DType, **_):
    fill, *dims = ts
    if fill.ndim != 0:
        raise TypeRuleError(f"the fill value of full must be a scalar, found {fill}")
    check_int_scalars(dims, "array dims")
    return [make_type(dtype, len(dims))]


# full(fill, *dims, dtype): the fill value is converted to dtype as NumPy does (floats truncate).
full = primitive("full", _full_rule, impl=lambda fill, *dims, dtype: np.full(_shape(dims), fill, dtype.np),
                 traits={CREATION})


def _arange_rule(ts, dtype: DType, **_):
    if len(ts) != 3 or any(t.ndim != 0 for t in ts):
        raise TypeRuleError(f"arange needs three scalars (start, stop, step), found {', '.join(map(str, ts))}")
    return [Array(dtype, 1)]


# arange(start, stop, step, dtype): the length is ceil((stop - start) / step), known at run time.
arange = primitive("arange", _arange_rule, impl=lambda a, b, c, dtype: np.arange(a, b, c, dtype=dtype.np),
                   traits={CREATION})


def _linspace_rule(ts, endpoint: bool, dtype: DType, **_):
    if len(ts) != 3 or any(t.ndim != 0 for t in ts):
        raise TypeRuleError(f"linspace needs scalars (start, stop, num), found {', '.join(map(str, ts))}")
    check_int_scalars(ts[2:], "the number of samples of linspace")
    return [Array(dtype, 1)]


linspace = primitive(
    "linspace", _linspace_rule,
    impl=lambda a, b, num, endpoint, dtype: np.linspace(a, b, int(num), endpoint=endpoint, dtype=dtype.np),
    traits={CREATION})
