"""NumPy functions written in NumPy: `np.cov`, `np.histogram`, `ufunc.outer`, `np.ndarray(...)`.

The functions registered with `implements_source` are compiled from their source like user
code, so they differentiate, batch and compile natively with no rules of their own. Arguments
that select a variant (`rowvar`, `bins` given as a count or as edges) are compile-time
constants.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ir.core import DType, Lit, Scalar
from ...primitives import indexing as I
from ..library import (implements, implements_method, implements_source, inline_source, lookup, qualname, static,
                       to_atom, type_error)
from ..values import is_atom
from .creation import _np_zeros

# ---- np.ndarray(shape, dtype) as an allocator: NPBench writes every element after it ------------


@implements(np.ndarray)
def _ndarray(shape, dtype=float, buffer=None, offset=0, strides=None, order=None):
    if buffer is not None:
        type_error("np.ndarray(shape, dtype, buffer=...) is not supported: use np.asarray or np.frombuffer "
                   "outside the compiled function")
    return _np_zeros(shape, dtype)


# ---- ufunc.outer: np.add.outer(a, b) is add(a[..., None, ...], b) ---------------------------------


@implements_method(np.ufunc, "outer")
def _outer(ufunc, a, b, **kwargs):
    h = lookup(ufunc)
    if h is None:
        type_error(f"{qualname(ufunc)}.outer: morphism does not support {qualname(ufunc)}")
    x, y = to_atom(a), to_atom(b)
    if y.type.ndim:
        x = I.getitem(x, spec=("e",) + ("n",) * y.type.ndim)
    return h(x, y, **kwargs)


# ---- np.cov ----------------------------------------------------------------------------------------


@implements_source(np.cov)
def _cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    X = np.atleast_2d(m) + np.float64(0.0)  # NumPy computes in float64 (complex128) at least
    if not rowvar:
        X = X.T
    if y is not None:
        Y = np.atleast_2d(y)
        if not rowvar:
            Y = Y.T
        X = np.concatenate((X, Y), axis=0)
    if ddof is None:
        if bias:
            ddof = 0
        else:
            ddof = 1
    n = X.shape[1]
    Xc = X - X.mean(axis=1, keepdims=True)
    c = (Xc @ Xc.T) / (n - ddof)
    if np.ndim(m) == 1 and y is None:  # NumPy squeezes; a 2-d m of one row stays (1, 1) here
        return c[0, 0]
    return c


# ---- np.histogram ------------------------------------------------------------------------------------


@implements(np.histogram)
def _histogram(a, bins=10, range=None, density=None, weights=None):
    b = static(bins, "bins") if isinstance(bins, (Lit, int)) else bins
    dens = bool(static(density, "density"))
    if is_atom(b) and isinstance(b.type, Scalar) and b.type.dtype.is_int:
        b = b  # a bin count known only at run time
    elif isinstance(b, (int, np.integer)) and not isinstance(b, bool):
        b = int(b)
    elif isinstance(b, str):
        type_error(f"np.histogram(bins={b!r}): bin estimators are not supported; give a count or the edges")
    else:
        return inline_source(_hist_edges, a, b, dens, weights)
    if range is None:
        return inline_source(_hist_count, a, b, dens, weights)
    lo, hi = range
    return inline_source(_hist_count_range, a, b, lo, hi, dens, weights)


@implements_source()
def _hist_count(a, nbins, density, weights):
    x = np.ravel(a)
    lo = x.min() * 1.0
    hi = x.max() * 1.0
    if lo == hi:
        lo = lo - 0.5
        hi = hi + 0.5
    return _hist_count_range(x, nbins, lo, hi, density, weights)


@implements_source()
def _hist_count_range(a, nbins, lo, hi, density, weights):
    # NumPy's algorithm for equal bins: the index from the position, corrected against the edges
    x = np.ravel(a)
    edges = np.linspace(lo, hi, nbins + 1)
    if weights is None:
        counts = np.zeros(nbins, dtype=np.int64)
    else:
        w = np.ravel(weights)
        counts = np.zeros(nbins, dtype=w.dtype)
    norm = nbins / (hi - lo)
    for k in range(x.shape[0]):
        v = x[k]
        if v >= lo and v <= hi:
            i = int((v - lo) * norm)
            if i >= nbins:
                i = nbins - 1
            if v < edges[i]:
                i = i - 1
            elif i != nbins - 1 and v >= edges[i + 1]:
                i = i + 1
            if weights is None:
                counts[i] += 1
            else:
                counts[i] += w[k]
    if density:
        return counts / (counts.sum() * np.diff(edges)), edges
    return counts, edges


@implements_source()
def _hist_edges(a, bins, density, weights):
    x = np.ravel(a)
    edges = np.asarray(bins) * 1.0
    nb = edges.shape[0] - 1
    if weights is None:
        counts = np.zeros(nb, dtype=np.int64)
    else:
        w = np.ravel(weights)
        counts = np.zeros(nb, dtype=w.dtype)
    for k in range(x.shape[0]):
        v = x[k]
        if v >= edges[0] and v <= edges[nb]:
            i = np.searchsorted(edges, v, side="right") - 1
            if i >= nb:
                i = nb - 1
            if weights is None:
                counts[i] += 1
            else:
                counts[i] += w[k]
    if density:
        return counts / (counts.sum() * np.diff(edges)), edges
    return counts, edges


# ---- np.mgrid / np.ogrid: dense and open grids from slices ---------------------------------------
# `np.mgrid[0:5, 0:3]` is `np.mgrid.__getitem__((slice(0, 5), slice(0, 3)))`: the frontend finds
# the handler through the bound method `__getitem__` of the grid object.


def _grid_axis(s: Any) -> Any:
    from ..library import lookup as _lookup

    if not isinstance(s, slice):
        type_error(f"np.mgrid/np.ogrid take slices such as 0:5 or 0:1:5j, found {s!r}")
    start = 0 if s.start is None else s.start
    step = s.step
    if isinstance(step, Lit) and isinstance(step.value, complex):
        step = step.value
    if isinstance(step, complex):  # a count of points, ends included
        n = int(abs(step))
        return _lookup(np.linspace)(start, s.stop, n)
    return _lookup(np.arange)(start, s.stop, 1 if step is None else step)


def _grid(key: Any, sparse: bool) -> Any:
    from ...primitives import elementwise as E
    from ...primitives import shape as S

    if not isinstance(key, tuple):
        return _grid_axis(key)
    axes = [to_atom(_grid_axis(s)) for s in key]
    if any(a.type.dtype == DType.float64 for a in axes):
        axes = [a if a.type.dtype == DType.float64 else E.convert(a, dtype=DType.float64) for a in axes]
    n = len(axes)
    shaped = [I.getitem(a, spec=("n",) * k + ("s000",) + ("n",) * (n - k - 1)) for k, a in enumerate(axes)]
    if sparse:
        return tuple(shaped)
    dims = [I.dim(a, axis=0) for a in axes]
    return S.stack(*[S.broadcast_to(g, *dims) for g in shaped], axis=0)


implements_method(type(np.mgrid), "__getitem__")(lambda grid, key: _grid(key, False))
implements_method(type(np.ogrid), "__getitem__")(lambda grid, key: _grid(key, True))
