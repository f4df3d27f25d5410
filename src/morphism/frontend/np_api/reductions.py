"""NumPy's reductions, scans and sorting mapped onto primitives/reductions.py.

Primitives: sum, prod, max, min, argmax, argmin, any, all, cumsum, cumprod, sort, argsort,
searchsorted. Everything else here is a composite of primitives, written to follow NumPy's own
algorithm where that fixes the rounding (mean is sum / count, var is NumPy's two-pass formula,
median averages the middle elements of a sort).

Arguments are bound Python-style by `_signature`; a NumPy keyword morphism does not support
(`out=` with a value, `initial=`, `where=`) is an error, never silently ignored.
"""

from __future__ import annotations

from functools import reduce as _fold
from typing import Any, Callable

import numpy as np

from ...ir.core import Atom, DType, Lit, Scalar, lit
from ...primitives import control as C
from ...primitives import elementwise as E
from ...primitives import indexing as I
from ...primitives import reductions as R
from ...primitives import shape as S
from ..library import (
    nep50,
    weak,
    implements_lazy,
    bind_args,
    cast,
    error,
    implements,
    lookup,
    method,
    static,
    static_dtype,
    to_atom,
    to_float,
    type_error,
)

Axes = tuple[int, ...] | None


# ---- argument helpers ------------------------------------------------------------------------


def _signature(name: str, params: str, **defaults: Any) -> Callable[[Callable], Callable]:
    """Binds a handler's arguments like NumPy's signature `params` ("a, axis, out, keepdims")."""
    names = [p.strip() for p in params.split(",")]

    def deco(f: Callable) -> Callable:
        def h(*args: Any, **kwargs: Any) -> Any:
            return f(*bind_args(name, args, kwargs, names, defaults))

        h.__name__ = f.__name__
        return h

    return deco


def _no_out(out: Any, name: str) -> None:
    if out is not None:
        error(f"{name}(out=...) is not supported: compiled code does not write into arguments",
              hint="use the returned value")


def _flag(v: Any, what: str) -> bool:
    s = static(v, what)
    if not isinstance(s, (bool, int, np.bool_, np.integer)):
        type_error(f"{what} must be True or False, found {s!r}")
    return bool(s)


def _axis_values(axis: Any) -> tuple[int, ...] | None:
    s = static(axis, "axis")
    if s is None:
        return None
    items = s if isinstance(s, tuple) else (s,)
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            type_error(f"axis must be an integer or a tuple of integers, found {s!r}")
    return tuple(int(a) for a in items)


def _normalize(a: int, ndim: int) -> int:
    # Some NumPy reductions accept axis 0 on a 0-d array and others do not; morphism never does.
    if not -ndim <= a < ndim:
        type_error(f"axis {a} is out of bounds for an array of {ndim} dimension(s)")
    return a % ndim


def _axes(x: Atom, axis: Any) -> Axes:
    """`axis` as a reduction param: None, or sorted distinct non-negative ints."""
    ax = _axis_values(axis)
    if ax is None:
        return None
    out = [_normalize(a, x.type.ndim) for a in ax]
    if len(set(out)) != len(out):
        type_error(f"duplicate value in axis {ax!r}")
    return tuple(sorted(out))


def _one_axis(x: Atom, axis: Any, name: str) -> int | None:
    ax = _axis_values(axis)
    if ax is None:
        return None
    if isinstance(static(axis, "axis"), tuple):
        type_error(f"{name}: axis must be one integer or None, found {ax!r}")
    return _normalize(ax[0], x.type.ndim)


def _array_axis(x: Atom, axis: Any, name: str) -> tuple[Atom, int]:
    """(x, axis) for scans and sorts: axis None flattens x, as NumPy does."""
    ax = _one_axis(x, axis, name)
    if ax is None:
        return _ravel(x), 0
    return x, ax


def _ravel(x: Atom) -> Atom:
    return x if x.type.ndim == 1 else S.reshape(x, lit(-1))


def _sum_dtype(x: Atom, dtype: Any, name: str) -> Atom:
    """x cast to the accumulator dtype `dtype=` asks for (None: NumPy's default)."""
    dt = static_dtype(dtype)
    if dt is None:
        return x
    if dt == DType.bool:
        error(f"{name}(dtype=bool) is not supported", hint="use np.any / np.all, or the default dtype")
    return cast(x, dt)


def _count(x: Atom, axes: Axes) -> Atom:
    """The number of elements a reduction over `axes` combines (an i64 scalar)."""
    if axes is None:
        return I.size(x)
    dims = [I.dim(x, axis=a) for a in axes]
    return _fold(E.mul, dims) if dims else lit(1)


def _along(x: Atom, axis: int, item: tuple[str, ...], ops: tuple) -> Atom:
    """x indexed by `item` (one getitem spec entry and its operands) along `axis`."""
    return I.getitem(x, *ops, spec=("s000",) * axis + item)


def _broadcast_like(v: Atom, like: Atom) -> Atom:
    """v broadcast to the shape of the array `like` (a copy, as np.average's `returned` gives)."""
    return S.broadcast_to(v, *[I.dim(like, axis=i) for i in range(like.type.ndim)])


def _float_only(x: Atom) -> bool:
    return x.type.dtype == DType.float64


# ---- reductions ------------------------------------------------------------------------------


@implements(np.sum)
@_signature("np.sum", "a, axis, dtype, out, keepdims", axis=None, dtype=None, out=None, keepdims=False)
def _sum(a, axis, dtype, out, keepdims):
    _no_out(out, "np.sum")
    x = to_atom(a)
    return R.reduce_sum(_sum_dtype(x, dtype, "np.sum"), axis=_axes(x, axis), keepdims=_flag(keepdims, "keepdims"))


@implements(np.prod)
@_signature("np.prod", "a, axis, dtype, out, keepdims", axis=None, dtype=None, out=None, keepdims=False)
def _prod(a, axis, dtype, out, keepdims):
    _no_out(out, "np.prod")
    x = to_atom(a)
    return R.reduce_prod(_sum_dtype(x, dtype, "np.prod"), axis=_axes(x, axis), keepdims=_flag(keepdims, "keepdims"))


def _simple_reduction(prim, name: str):
    @_signature(name, "a, axis, out, keepdims", axis=None, out=None, keepdims=False)
    def h(a, axis, out, keepdims):
        _no_out(out, name)
        x = to_atom(a)
        return prim(x, axis=_axes(x, axis), keepdims=_flag(keepdims, "keepdims"))

    return h


implements(np.max, np.amax)(_simple_reduction(R.reduce_max, "np.max"))
implements(np.min, np.amin)(_simple_reduction(R.reduce_min, "np.min"))
implements(np.any)(_simple_reduction(R.reduce_any, "np.any"))
implements(np.all)(_simple_reduction(R.reduce_all, "np.all"))


def _arg_reduction(prim, name: str):
    @_signature(name, "a, axis, out, keepdims", axis=None, out=None, keepdims=False)
    def h(a, axis, out, keepdims):
        _no_out(out, name)
        x = to_atom(a)
        return prim(x, axis=_one_axis(x, axis, name), keepdims=_flag(keepdims, "keepdims"))

    return h


implements(np.argmax)(_arg_reduction(R.argmax, "np.argmax"))
implements(np.argmin)(_arg_reduction(R.argmin, "np.argmin"))


@implements(np.mean)
@_signature("np.mean", "a, axis, dtype, out, keepdims", axis=None, dtype=None, out=None, keepdims=False)
def _mean(a, axis, dtype, out, keepdims):
    _no_out(out, "np.mean")
    _float_dtype(dtype, "np.mean")
    x = to_atom(a)
    ax = _axes(x, axis)
    # NumPy accumulates the mean of ints and bools in float64; of float32 in float32.
    total = R.reduce_sum(to_float(x), axis=ax, keepdims=_flag(keepdims, "keepdims"))
    return E.div(*nep50(total, weak(_count(x, ax))))


def _float_dtype(dtype: Any, name: str) -> None:
    dt = static_dtype(dtype)
    if dt not in (None, DType.float64):
        error(f"{name}(dtype={dt.value}) is not supported: morphism computes it in float64",
              hint="leave dtype out")


def _var(a, axis, dtype, out, ddof, keepdims, name: str) -> Atom:
    # NumPy's two-pass formula: sum((x - mean)**2) / max(n - ddof, 0).
    _no_out(out, name)
    _float_dtype(dtype, name)
    x = to_float(to_atom(a))
    ax = _axes(x, axis)
    ddof = to_atom(ddof, "ddof")
    if not isinstance(ddof.type, Scalar):
        type_error(f"{name}: ddof must be a scalar, found {ddof.type}")
    n = weak(_count(x, ax))  # a Python int in NumPy: float32 data stays float32
    d = E.sub(x, E.div(*nep50(R.reduce_sum(x, axis=ax, keepdims=True), n)))
    sq = E.real(E.mul(d, E.conj(d))) if d.type.dtype.is_complex else E.mul(d, d)  # |d|**2: real
    ss = R.reduce_sum(sq, axis=ax, keepdims=_flag(keepdims, "keepdims"))
    if isinstance(ddof, Lit) and ddof.value == 0:
        return E.div(*nep50(ss, n))
    return E.div(*nep50(ss, weak(E.maximum(E.sub(n, ddof), lit(0)))))


@implements(np.var)
@_signature("np.var", "a, axis, dtype, out, ddof, keepdims", axis=None, dtype=None, out=None, ddof=0, keepdims=False)
def _np_var(a, axis, dtype, out, ddof, keepdims):
    return _var(a, axis, dtype, out, ddof, keepdims, "np.var")


@implements(np.std)
@_signature("np.std", "a, axis, dtype, out, ddof, keepdims", axis=None, dtype=None, out=None, ddof=0, keepdims=False)
def _np_std(a, axis, dtype, out, ddof, keepdims):
    return E.sqrt(_var(a, axis, dtype, out, ddof, keepdims, "np.std"))


@implements(np.ptp)
@_signature("np.ptp", "a, axis, out, keepdims", axis=None, out=None, keepdims=False)
def _ptp(a, axis, out, keepdims):
    _no_out(out, "np.ptp")
    x = to_atom(a)
    if x.type.dtype == DType.bool:
        type_error("np.ptp of a boolean array: NumPy does not subtract booleans")
    ax, kd = _axes(x, axis), _flag(keepdims, "keepdims")
    return E.sub(R.reduce_max(x, axis=ax, keepdims=kd), R.reduce_min(x, axis=ax, keepdims=kd))


@implements(np.count_nonzero)
@_signature("np.count_nonzero", "a, axis, keepdims", axis=None, keepdims=False)
def _count_nonzero(a, axis, keepdims):
    x = to_atom(a)
    return R.reduce_sum(E.ne(x, lit(0)), axis=_axes(x, axis), keepdims=_flag(keepdims, "keepdims"))


@implements(np.median)
@_signature("np.median", "a, axis, out, overwrite_input, keepdims",
            axis=None, out=None, overwrite_input=False, keepdims=False)
def _median(a, axis, out, overwrite_input, keepdims):
    _no_out(out, "np.median")
    x = to_atom(a)
    kd = _flag(keepdims, "keepdims")
    flat, ax = _array_axis(x, axis, "np.median")
    s = R.sort(flat, axis=ax)
    n = I.dim(s, axis=ax)
    C.check(E.gt(n, lit(0)), exc=ValueError,
            message="np.median of an empty array (NumPy returns nan with a warning; morphism raises)")
    lo_i, hi_i = E.floordiv(E.sub(n, lit(1)), lit(2)), E.floordiv(n, lit(2))

    def take(i: Atom) -> Atom:
        return to_float(_along(s, ax, ("i",), (i,)))

    lo, hi = take(lo_i), take(hi_i)
    # NumPy takes the mean of the middle one or two elements.
    m = E.select(E.eq(E.mod(n, lit(2)), lit(1)), lo, E.div(*nep50(E.add(lo, hi), lit(2.0))))
    if _float_only(x):
        # A NaN sorts last; NumPy's median is NaN whenever the slice holds one.
        m = E.select(E.isnan(take(lit(-1))), lit(np.nan), m)
    if kd and x.type.ndim:
        # Put the reduced axis (all axes, for axis=None) back with length 1.
        spec = ("n",) * x.type.ndim if axis is None else ("s000",) * ax + ("n",)
        m = I.getitem(m, spec=spec)
    return m


@implements(np.average)
@_signature("np.average", "a, axis, weights, returned, keepdims",
            axis=None, weights=None, returned=False, keepdims=False)
def _average(a, axis, weights, returned, keepdims):
    x = to_atom(a)
    ax, kd = _axes(x, axis), _flag(keepdims, "keepdims")
    if weights is None:
        avg = E.div(*nep50(R.reduce_sum(to_float(x), axis=ax, keepdims=kd), weak(_count(x, ax))))
        scl = E.div(to_float(I.size(x)), to_float(I.size(avg)))
    else:
        w = to_float(_average_weights(x, to_atom(weights, "weights"), ax))
        scl = R.reduce_sum(w, axis=ax, keepdims=kd)
        C.check(E.logical_not(R.reduce_any(E.eq(scl, lit(0.0)), axis=None, keepdims=False)),
                exc=ZeroDivisionError, message="Weights sum to zero, can't be normalized")
        avg = E.div(R.reduce_sum(E.mul(to_float(x), w), axis=ax, keepdims=kd), scl)
    if _flag(returned, "returned"):
        return (avg, _broadcast_like(scl, avg) if avg.type.ndim else scl)
    return avg


def _average_weights(x: Atom, w: Atom, ax: Axes) -> Atom:
    """The weights, checked against x and broadcast along `ax` as np.average does."""
    nd = x.type.ndim
    if w.type.ndim == nd:
        # NumPy requires equal shapes here; only the ndim is known at compile time.
        same = _fold(E.logical_and, [E.eq(I.dim(x, axis=i), I.dim(w, axis=i)) for i in range(nd)], lit(True))
        if ax is None:
            exc, msg = TypeError, "Axis must be specified when shapes of a and weights differ."
        elif nd != 1:
            exc, msg = TypeError, "1D weights expected when shapes of a and weights differ."
        else:
            exc, msg = ValueError, "Length of weights not compatible with specified axis."
        if nd:
            C.check(same, exc=exc, message=msg)
        return w
    if ax is None:
        type_error("np.average: axis must be specified when the shapes of a and weights differ")
    if w.type.ndim != 1 or len(ax) != 1:
        type_error(f"np.average: 1-d weights along one axis expected when the shapes of a and weights differ, "
                   f"found weights of type {w.type} and axis {ax}")
    (k,) = ax
    C.check(E.eq(I.dim(x, axis=k), I.dim(w, axis=0)), exc=ValueError,
            message="Length of weights not compatible with specified axis.")
    return I.getitem(w, spec=tuple("s000" if i == k else "n" for i in range(nd)))


# ---- NaN-ignoring reductions -----------------------------------------------------------------


def _nan_to(x: Atom, value: float) -> Atom:
    return E.select(E.isnan(x), lit(value), x) if _float_only(x) else x


@implements(np.nansum)
@_signature("np.nansum", "a, axis, dtype, out, keepdims", axis=None, dtype=None, out=None, keepdims=False)
def _nansum(a, axis, dtype, out, keepdims):
    x = to_atom(a)
    return _sum(_nan_to(x, 0.0), axis, dtype, out, keepdims)


@implements(np.nanprod)
@_signature("np.nanprod", "a, axis, dtype, out, keepdims", axis=None, dtype=None, out=None, keepdims=False)
def _nanprod(a, axis, dtype, out, keepdims):
    x = to_atom(a)
    return _prod(_nan_to(x, 1.0), axis, dtype, out, keepdims)


@implements(np.nanmean)
@_signature("np.nanmean", "a, axis, dtype, out, keepdims", axis=None, dtype=None, out=None, keepdims=False)
def _nanmean(a, axis, dtype, out, keepdims):
    _no_out(out, "np.nanmean")
    _float_dtype(dtype, "np.nanmean")
    x = to_atom(a)
    if not _float_only(x):
        return _mean(x, axis, dtype, out, keepdims)
    ax, kd = _axes(x, axis), _flag(keepdims, "keepdims")
    count = R.reduce_sum(E.logical_not(E.isnan(x)), axis=ax, keepdims=kd)
    return E.div(R.reduce_sum(_nan_to(x, 0.0), axis=ax, keepdims=kd), count)


def _nan_extremum(prim, fill: float, name: str):
    @_signature(name, "a, axis, out, keepdims", axis=None, out=None, keepdims=False)
    def h(a, axis, out, keepdims):
        _no_out(out, name)
        x = to_atom(a)
        ax, kd = _axes(x, axis), _flag(keepdims, "keepdims")
        r = prim(_nan_to(x, fill), axis=ax, keepdims=kd)
        if not _float_only(x):
            return r
        # An all-NaN slice gives NaN (NumPy also warns).
        return E.select(R.reduce_all(E.isnan(x), axis=ax, keepdims=kd), lit(np.nan), r)

    return h


implements(np.nanmax)(_nan_extremum(R.reduce_max, -np.inf, "np.nanmax"))
implements(np.nanmin)(_nan_extremum(R.reduce_min, np.inf, "np.nanmin"))


# ---- scans -----------------------------------------------------------------------------------


def _scan(prim, name: str):
    @_signature(name, "a, axis, dtype, out", axis=None, dtype=None, out=None)
    def h(a, axis, dtype, out):
        _no_out(out, name)
        x, ax = _array_axis(to_atom(a), axis, name)
        return prim(_sum_dtype(x, dtype, name), axis=ax)

    return h


implements(np.cumsum)(_scan(R.cumsum, "np.cumsum"))
implements(np.cumprod)(_scan(R.cumprod, "np.cumprod"))


@implements(np.diff)
@_signature("np.diff", "a, n, axis", n=1, axis=-1)
def _diff(a, n, axis):
    x = to_atom(a)
    if isinstance(x.type, Scalar):
        type_error("np.diff requires input that is at least one dimensional")
    s = static(n, "n")
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 0:
        type_error(f"np.diff: the order n must be a non-negative integer, found {s!r}")
    ax = _one_axis(x, axis, "np.diff")
    if ax is None:
        type_error("np.diff: axis must be an integer, found None")
    # NumPy's diff of booleans is `!=`.
    op = E.ne if x.type.dtype == DType.bool else E.sub
    for _ in range(int(s)):
        x = op(_along(x, ax, ("s100",), (lit(1),)), _along(x, ax, ("s010",), (lit(-1),)))
    return x


# ---- sorting ---------------------------------------------------------------------------------

_SORT_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def _sort_kind(kind: Any, order: Any, stable: Any, name: str) -> str | None:
    if static(order, "order") is not None:
        error(f"{name}(order=...) sorts structured arrays, which morphism does not have")
    k = static(kind, "kind")
    if k not in _SORT_KINDS:
        type_error(f"{name}: kind must be one of 'quicksort', 'mergesort', 'heapsort', 'stable', found {k!r}")
    st = static(stable, "stable")
    if st is not None:
        if k is not None:
            type_error(f"{name}: kind and stable cannot both be given")
        k = "stable" if st else None
    return k


@implements(np.sort)
@_signature("np.sort", "a, axis, kind, order, stable", axis=-1, kind=None, order=None, stable=None)
def _sort(a, axis, kind, order, stable):
    _sort_kind(kind, order, stable, "np.sort")  # sorted values do not depend on the algorithm
    x, ax = _array_axis(to_atom(a), axis, "np.sort")
    return R.sort(x, axis=ax)


@implements(np.argsort)
@_signature("np.argsort", "a, axis, kind, order, stable", axis=-1, kind=None, order=None, stable=None)
def _argsort(a, axis, kind, order, stable):
    k = _sort_kind(kind, order, stable, "np.argsort")
    x, ax = _array_axis(to_atom(a), axis, "np.argsort")
    return R.argsort(x, axis=ax, kind=k)


@implements(np.searchsorted)
@_signature("np.searchsorted", "a, v, side, sorter", side="left", sorter=None)
def _searchsorted(a, v, side, sorter):
    arr = to_atom(a)
    if arr.type.ndim != 1:
        type_error(f"np.searchsorted needs a 1-d sorted array, found {arr.type}")
    sd = static(side, "side")
    if sd not in ("left", "right"):
        type_error(f"np.searchsorted: side must be 'left' or 'right', found {sd!r}")
    if sorter is not None:
        arr = I.getitem(arr, to_atom(sorter, "sorter"), spec=("a",))
    return R.searchsorted(arr, to_atom(v), side=sd)


# ---- scipy.special.logsumexp -----------------------------------------------------------------

@implements_lazy("scipy.special", "logsumexp")
@_signature("scipy.special.logsumexp", "a, axis, b, keepdims, return_sign", axis=None, b=None, keepdims=False,
            return_sign=False)
def _logsumexp(a, axis, b, keepdims, return_sign):
    if _flag(return_sign, "return_sign"):
        error("scipy.special.logsumexp(return_sign=True) is not supported yet")
    x = to_float(to_atom(a))
    ax, kd = _axes(x, axis), _flag(keepdims, "keepdims")
    if b is not None:  # log(sum(b * exp(a))): b broadcasts against a, as in SciPy
        bb = to_float(to_atom(b))
        if bb.type.ndim > x.type.ndim:
            x = E.add(x, E.mul(bb, 0.0))  # a broadcast to the common shape
    # Shift by the max (0 where it is infinite, so inf and -inf come out right).
    m = R.reduce_max(x, axis=ax, keepdims=True)
    m = E.select(E.isfinite(m), m, lit(0.0))
    terms = E.exp(E.sub(x, m))
    if b is not None:
        terms = E.mul(bb, terms)
    s = E.log(R.reduce_sum(terms, axis=ax, keepdims=kd))
    return E.add(s, m if kd else _drop_axes(m, ax))


def _drop_axes(m: Atom, ax: Axes) -> Atom:
    """A keepdims=True reduction result without its reduced (length-1) axes."""
    nd = m.type.ndim
    return m if nd == 0 else S.squeeze(m, axes=tuple(range(nd)) if ax is None else ax)


# ---- array methods ---------------------------------------------------------------------------


def _as_method(fn: Callable) -> Callable:
    return lambda self, *args, **kwargs: fn(self, *args, **kwargs)


for _name, _fn in {
    "sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "argmax": np.argmax,
    "argmin": np.argmin, "any": np.any, "all": np.all, "mean": np.mean, "var": np.var,
    "std": np.std, "cumsum": np.cumsum, "cumprod": np.cumprod, "argsort": np.argsort,
    "searchsorted": np.searchsorted,
}.items():
    method(_name)(_as_method(lookup(_fn)))


@method("sort")
def _sort_method(self, *args, **kwargs):
    error("x.sort() sorts in place, which morphism does not support on arrays",
          hint="write x = np.sort(x)")
