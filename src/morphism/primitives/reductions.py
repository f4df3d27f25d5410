"""Reductions, scans and sorting: sums, products, extrema, arg-extrema, any/all, cumulative sums
and products, sort, argsort and searchsorted.

Axes in params are normalised by the frontend: a reduction's `axis` is None (all axes) or a
sorted tuple of distinct non-negative ints, a scan's or a sort's `axis` is one non-negative int.
The type rules insist on that, so passes never meet `-1` or `(1, 0)`. Composites (mean, var,
std, median, average, diff, nan-reductions) are built from these in frontend/np_api/reductions.py.
"""

from __future__ import annotations

from functools import reduce as _fold
from typing import Any

import numpy as np

from ..ir.core import DType, Type, make_type
from .registry import TypeRuleError, ordered, primitive, reduction_type, require_array


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
reduce_max.type_rule = ordered(reduce_max.type_rule, "max")
reduce_min.type_rule = ordered(reduce_min.type_rule, "min")
reduce_any = _reduction("reduce_any", "bool", np.any)
reduce_all = _reduction("reduce_all", "bool", np.all)


# ---- arg-extrema: one axis (an int) or None (the flattened array) ----------------------------


def _arg_rule(ts: list[Type], axis: int | None, keepdims: bool, **_: Any) -> list[Type]:
    (t,) = ts
    if axis is None:
        return [make_type(DType.int64, t.ndim if keepdims else 0)]
    _check_axis(axis, t.ndim)
    return [make_type(DType.int64, t.ndim if keepdims else max(t.ndim - 1, 0))]


argmax = primitive("argmax", ordered(_arg_rule, "argmax"),
                   impl=lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims))
argmin = primitive("argmin", ordered(_arg_rule, "argmin"),
                   impl=lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims))


# ---- scans along one axis --------------------------------------------------------------------


def _scan_rule(ts: list[Type], axis: int, **_: Any) -> list[Type]:
    (t,) = ts
    t = require_array(t, "a cumulative sum or product")
    _check_axis(axis, t.ndim)
    # NumPy accumulates small integers in the platform's integer (unsigned ones in uint64)
    dt = DType.int64 if t.dtype == DType.bool or t.dtype.kind == "i" else DType.uint64 if t.dtype.kind == "u" else t.dtype
    return [t.with_dtype(dt)]


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
sort = primitive("sort", ordered(_sort_rule, "sort"), impl=lambda x, axis: np.sort(x, axis=axis))
argsort = primitive("argsort", ordered(_argsort_rule, "argsort"),
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


# ---- a first-order linear recurrence (the derivative of cumprod) ------------------------------


def _linear_scan_rule(ts: list[Type], axis: int, reverse: bool, **_: Any) -> list[Type]:
    a, b = ts
    a, b = require_array(a, "linear_scan"), require_array(b, "linear_scan")
    if a.ndim != b.ndim:
        raise TypeRuleError(f"linear_scan needs a and b of the same ndim, found {a} and {b}")
    _check_axis(axis, a.ndim)
    return [b.with_dtype(DType.float64)]


def _linear_scan(a: Any, b: Any, axis: int, reverse: bool) -> np.ndarray:
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    a, b = np.moveaxis(a, axis, 0), np.moveaxis(b, axis, 0)
    h = np.empty(b.shape)
    acc = np.zeros(b.shape[1:])
    for i in reversed(range(len(b))) if reverse else range(len(b)):
        acc = a[i] * acc + b[i]
        h[i] = acc
    return np.ascontiguousarray(np.moveaxis(h, 0, axis))


# linear_scan(a, b, axis, reverse): h[i] = a[i] * h[i - 1] + b[i] along `axis`, from h[-1] = 0
# (from the far end, h[i] = a[i] * h[i + 1] + b[i], when `reverse`). Only multiplications: the
# derivatives of cumprod and prod written with it stay exact where the input has zeros.
linear_scan = primitive("linear_scan", _linear_scan_rule, impl=_linear_scan)


# ============================================================================================
# Derivative rules, beside the primitives above.
#   jvp(ins, ins_dot, outs, **params) -> outs_dot      (None is a symbolic zero)
#   vjp(cts, ins, outs, **params)     -> ins_ct
# A rule reads an operand's values only where the derivative needs them; shapes come from
# `dim`, so reverse mode saves dims, not arrays, for sum, cumsum and the like.

from ..ir.core import lit as _lit  # noqa: E402
from ..transforms import adutil as adu  # noqa: E402
from . import creation as Cr  # noqa: E402
from . import elementwise as E  # noqa: E402
from . import indexing as I  # noqa: E402
from . import shape as S  # noqa: E402
from .registry import NOT_APPLICABLE  # noqa: E402


def _with_kept_axes(r: Any, axis: tuple[int, ...] | None, ndim: int, keepdims: bool) -> Any:
    """A reduction's result `r` with its reduced axes back at length 1, as keepdims=True gives,
    so that it broadcasts against the operand (dims from `r` itself: nothing of x is read)."""
    if keepdims or axis is None or not axis:
        return r
    it = iter(range(r.type.ndim))
    return S.reshape(r, *[_lit(1) if k in axis else I.dim(r, axis=next(it)) for k in range(ndim)])


def _spread(ct: Any, x: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    """The cotangent of a reduction of `x`, broadcast back to the shape of x."""
    if x.type.ndim == 0:
        return ct
    return S.broadcast_to(_with_kept_axes(ct, axis, x.type.ndim, keepdims), *adu.dims_of(x))


def _float_in(x: Any) -> bool:
    return adu.is_float(x.type)


def _sum_jvp(ins, ts, outs, axis, keepdims):
    return [None if ts[0] is None else reduce_sum(ts[0], axis=axis, keepdims=keepdims)]


def _sum_vjp(cts, ins, outs, axis, keepdims):
    (ct,), (x,) = cts, ins
    return [_spread(ct, x, axis, keepdims) if ct is not None and _float_in(x) else None]


reduce_sum.jvp, reduce_sum.vjp = _sum_jvp, _sum_vjp


def _flip(x: Any, axis: int) -> Any:
    return I.getitem(x, _lit(-1), spec=("s000",) * axis + ("s001",))


def _shift(x: Any, axis: int, fill: float, toward_end: bool) -> Any:
    """x moved by one place along `axis` (toward its end, or its start), `fill` in the gap."""
    dims = adu.dims_of(x)
    gap = Cr.full(fill, *dims[:axis], _lit(1), *dims[axis + 1:], dtype=DType.float64)
    lead = ("s000",) * axis
    if toward_end:
        return I.getitem(S.concatenate(gap, x, axis=axis), dims[axis], spec=lead + ("s010",))
    return I.getitem(S.concatenate(x, gap, axis=axis), _lit(1), spec=lead + ("s100",))


def _exclusive_products(x: Any, axis: tuple[int, ...] | None) -> Any:
    """For each element, the product of the other elements of its reduced slice: exclusive
    products from both ends, multiplied (no division, so exact where x has zeros, as JAX)."""
    nd = x.type.ndim
    red = tuple(range(nd)) if axis is None else axis
    kept = tuple(k for k in range(nd) if k not in red)
    perm = kept + red
    moved = x if perm == tuple(range(nd)) else S.transpose(x, perm=perm)
    dims = adu.dims_of(moved)
    k = len(kept)
    n = _fold(E.mul, dims[k:]) if red else _lit(1)
    flat = S.reshape(moved, *dims[:k], n)
    before = _shift(cumprod(flat, axis=k), k, 1.0, toward_end=True)
    after = _flip(_shift(cumprod(_flip(flat, k), axis=k), k, 1.0, toward_end=True), k)
    others = S.reshape(E.mul(before, after), *dims)
    return others if moved is x else S.transpose(others, perm=tuple(int(p) for p in np.argsort(perm)))


def _prod_jvp(ins, ts, outs, axis, keepdims):
    (x,), (t,) = ins, ts
    if t is None:
        return [None]
    if x.type.ndim == 0:
        return [t]
    return [reduce_sum(E.mul(t, _exclusive_products(x, axis)), axis=axis, keepdims=keepdims)]


def _prod_vjp(cts, ins, outs, axis, keepdims):
    (ct,), (x,) = cts, ins
    if ct is None or not _float_in(x):
        return [None]
    if x.type.ndim == 0:
        return [ct]
    return [E.mul(_with_kept_axes(ct, axis, x.type.ndim, keepdims), _exclusive_products(x, axis))]


reduce_prod.jvp, reduce_prod.vjp = _prod_jvp, _prod_vjp


def _tie_weights(x: Any, out: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    """1/count where x equals its slice's extremum, 0 elsewhere: JAX's convention splits the
    derivative of max/min equally among tied elements."""
    hit = E.convert(E.eq(x, _with_kept_axes(out, axis, x.type.ndim, keepdims)), dtype=DType.float64)
    return E.div(hit, reduce_sum(hit, axis=axis, keepdims=True))


def _extremum_jvp(ins, ts, outs, axis, keepdims):
    (x,), (t,) = ins, ts
    if t is None:
        return [None]
    if x.type.ndim == 0:
        return [t]
    return [reduce_sum(E.mul(t, _tie_weights(x, outs[0], axis, keepdims)), axis=axis, keepdims=keepdims)]


def _extremum_vjp(cts, ins, outs, axis, keepdims):
    (ct,), (x,) = cts, ins
    if ct is None or not _float_in(x):
        return [None]
    if x.type.ndim == 0:
        return [ct]
    return [E.mul(_with_kept_axes(ct, axis, x.type.ndim, keepdims), _tie_weights(x, outs[0], axis, keepdims))]


for _p in (reduce_max, reduce_min):
    _p.jvp, _p.vjp = _extremum_jvp, _extremum_vjp


def _cumsum_jvp(ins, ts, outs, axis):
    return [None if ts[0] is None else cumsum(ts[0], axis=axis)]


def _cumsum_vjp(cts, ins, outs, axis):
    (ct,), (x,) = cts, ins
    if ct is None or not _float_in(x):
        return [None]
    # The transpose of a running sum is the running sum from the other end.
    return [_flip(cumsum(_flip(ct, axis), axis=axis), axis)]


cumsum.jvp, cumsum.vjp = _cumsum_jvp, _cumsum_vjp


# cumprod: y[i] = x[i] * y[i - 1], so y_dot[i] = x[i] * y_dot[i - 1] + x_dot[i] * y[i - 1], a
# linear recurrence in y_dot (no division by x: exact at zeros, to every order).
def _cumprod_jvp(ins, ts, outs, axis):
    (x,), (t,), (y,) = ins, ts, outs
    if t is None:
        return [None]
    return [linear_scan(x, E.mul(t, _shift(y, axis, 1.0, toward_end=True)), axis=axis, reverse=False)]


def _cumprod_vjp(cts, ins, outs, axis):
    (ct,), (x,), (y,) = cts, ins, outs
    if ct is None or not _float_in(x):
        return [None]
    g = linear_scan(_shift(x, axis, 0.0, toward_end=False), ct, axis=axis, reverse=True)
    return [E.mul(g, _shift(y, axis, 1.0, toward_end=True))]


cumprod.jvp, cumprod.vjp = _cumprod_jvp, _cumprod_vjp


# linear_scan is linear in b; in a, h_dot[i] = a[i] * h_dot[i - 1] + a_dot[i] * h[i - 1]. Its
# transpose runs the recurrence from the other end with a moved by one place.
def _linear_scan_jvp(ins, ts, outs, axis, reverse):
    (a, b), (ta, tb), (h,) = ins, ts, outs
    drive = tb
    if ta is not None:
        drive = adu.add_ct(E.mul(ta, _shift(h, axis, 0.0, toward_end=not reverse)), tb)
    return [None if drive is None else linear_scan(a, drive, axis=axis, reverse=reverse)]


def _linear_scan_vjp(cts, ins, outs, axis, reverse):
    (ct,), (a, b), (h,) = cts, ins, outs
    if ct is None:
        return [None, None]
    g = linear_scan(_shift(a, axis, 0.0, toward_end=reverse), ct, axis=axis, reverse=not reverse)
    ct_a = E.mul(g, _shift(h, axis, 0.0, toward_end=not reverse)) if _float_in(a) else None
    return [ct_a, g if _float_in(b) else None]


linear_scan.jvp, linear_scan.vjp = _linear_scan_jvp, _linear_scan_vjp


def _take_along(idx: Any, axis: int) -> tuple[tuple, tuple[str, ...]]:
    """Operands and spec of the getitem that reads x[..., idx[...], ...] along `axis`
    (np.take_along_axis): `idx` there, a broadcast iota on every other axis."""
    nd = idx.type.ndim
    ops = []
    for k in range(nd):
        if k == axis:
            ops.append(idx)
            continue
        n = I.dim(idx, axis=k)
        iota = Cr.arange(_lit(0), n, _lit(1), dtype=DType.int64)
        ops.append(iota if nd == 1 else S.reshape(iota, *[n if j == k else _lit(1) for j in range(nd)]))
    return tuple(ops), ("a",) * nd


def _sort_order(x: Any, axis: int) -> tuple[tuple, tuple[str, ...]]:
    # A stable order: tied elements keep their order, as JAX's sort derivative does.
    return _take_along(argsort(x, axis=axis, kind="stable"), axis)


def _sort_jvp(ins, ts, outs, axis):
    (x,), (t,) = ins, ts
    if t is None:
        return [None]
    ops, spec = _sort_order(x, axis)
    return [I.getitem(t, *ops, spec=spec)]


def _sort_vjp(cts, ins, outs, axis):
    (ct,), (x,) = cts, ins
    if ct is None or not _float_in(x):
        return [None]
    ops, spec = _sort_order(x, axis)
    # The transpose of the gather: scattered back into x's cotangent.
    return [I.getitem.vjp([ct], [x, *ops], outs, spec=spec)[0]]


sort.jvp, sort.vjp = _sort_jvp, _sort_vjp

_INT_RESULT = NOT_APPLICABLE("the result is boolean or integer (an index, a truth value): it has no derivative")
for _p in (reduce_any, reduce_all, argmax, argmin, argsort, searchsorted):
    _p.jvp = _p.vjp = _INT_RESULT


# ---- native lowering (Numba): whole arrays with np.<fn>; over axes, the reduced axes move last
# and flatten, and a loop reduces each row (Numba's NumPy takes an axis only for np.sum).


def _shape_expr(dims: list[str]) -> str:
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _nb_reduce(fn):
    def rule(g, e, ins):
        from ..backends.numba_backend import np_dtype

        x = e.inputs[0]
        nd = x.type.ndim
        axis, keepdims = e.params.get("axis"), e.params.get("keepdims")
        out_t = e.outputs[0].type
        if nd == 0:
            return f"{np_dtype(out_t)}({ins[0]})"
        if axis is None and not keepdims:
            return f"{np_dtype(out_t)}(np.{fn}({ins[0]}))"
        axes = tuple(range(nd)) if axis is None else tuple(a % nd for a in axis)
        kept = [k for k in range(nd) if k not in axes]
        perm = kept + list(axes)
        src = ins[0]
        if fn in ("sum", "prod") and x.type.dtype != out_t.dtype:  # bools count in int64
            src = f"{src}.astype({np_dtype(out_t)})"
        if perm != list(range(nd)):
            src = f"np.transpose({src}, {tuple(perm)!r})"
        tmp = g._name(e.outputs[0]) + "_rows"
        rows = " * ".join([f"{ins[0]}.shape[{k}]" for k in kept]) or "1"
        g.emit(f"{tmp} = sup.{fn}_rows(np.ascontiguousarray({src}).reshape(({rows}, -1)))")
        if keepdims:
            shape = [f"{ins[0]}.shape[{k}]" if k in kept else "1" for k in range(nd)]
        else:
            shape = [f"{ins[0]}.shape[{k}]" for k in kept]
        if not shape:
            return f"{tmp}[0]"
        return f"{tmp}.reshape({_shape_expr(shape)})"

    return rule


reduce_sum.numba = _nb_reduce("sum")
reduce_prod.numba = _nb_reduce("prod")
reduce_max.numba = _nb_reduce("max")
reduce_min.numba = _nb_reduce("min")
reduce_any.numba = _nb_reduce("any")
reduce_all.numba = _nb_reduce("all")


def _nb_rows(g, e, x: str, src: str, axis: int, helper: str) -> str:
    """`sup.<helper>` over the rows of the operand `x` (read from `src`, `x` converted) with
    `axis` moved last, and its result moved back: a fresh C-ordered array."""
    nd = e.inputs[0].type.ndim
    perm = [k for k in range(nd) if k != axis] + [axis]
    if axis != nd - 1:
        src = f"np.transpose({src}, {tuple(perm)!r})"
    rows = " * ".join(f"{x}.shape[{k}]" for k in perm[:-1]) or "1"
    tmp = g._name(e.outputs[0]) + "_rows"
    g.emit(f"{tmp} = sup.{helper}(np.ascontiguousarray({src}).reshape(({rows}, {x}.shape[{axis}])))")
    moved = f"{tmp}.reshape({_shape_expr([f'{x}.shape[{k}]' for k in perm])})"
    if axis == nd - 1:
        return moved
    return f"np.ascontiguousarray(np.transpose({moved}, {tuple(int(k) for k in np.argsort(perm))!r}))"


def _nb_arg(fn):
    # Numba's np.argmax/argmin take an axis but not keepdims; the axis is put back by a reshape.
    def rule(g, e, ins):
        x = e.inputs[0]
        nd, axis, keepdims = x.type.ndim, e.params["axis"], e.params["keepdims"]
        if nd == 0:
            return "0"
        r = f"np.{fn}({ins[0]})" if axis is None or nd == 1 else f"np.{fn}({ins[0]}, axis={axis})"
        if not keepdims:
            return r
        dims = ["1" if axis is None or k == axis else f"{ins[0]}.shape[{k}]" for k in range(nd)]
        return f"np.asarray({r}).reshape({_shape_expr(dims)})"

    return rule


def _nb_scan(helper):
    # np.cumsum/np.cumprod of a 1-d array are Numba's (a sequential loop, as NumPy's
    # accumulate); along one axis of more, a loop over the rows. Bools count in int64.
    def rule(g, e, ins):
        from ..backends.numba_backend import np_dtype

        x, out = e.inputs[0], e.outputs[0].type
        src = ins[0] if x.type.dtype == out.dtype else f"{ins[0]}.astype({np_dtype(out)})"
        if x.type.ndim == 1:
            return f"np.{helper}({src})"
        return _nb_rows(g, e, ins[0], src, e.params["axis"], helper + "_rows")

    return rule


def _nb_sort(g, e, ins):
    # Numba's np.sort sorts the last axis (NaN last, as NumPy); another axis is moved there.
    nd, axis = e.inputs[0].type.ndim, e.params["axis"]
    if axis == nd - 1:
        return f"np.sort({ins[0]})"
    perm = tuple(k for k in range(nd) if k != axis) + (axis,)
    inv = tuple(int(k) for k in np.argsort(perm))
    return f"np.ascontiguousarray(np.transpose(np.sort(np.transpose({ins[0]}, {perm!r})), {inv!r}))"


def _nb_argsort(g, e, ins):
    # Every kind is lowered to a stable sort (mergesort): where kind is quicksort or heapsort,
    # NumPy leaves the order of tied elements unspecified (and its SIMD sorts differ between
    # machines), so the stable order is one NumPy may give; with "stable" it is the one it gives.
    if e.inputs[0].type.ndim == 1:
        return f"np.argsort({ins[0]}, kind='mergesort')"
    return _nb_rows(g, e, ins[0], ins[0], e.params["axis"], "argsort_rows")


argmax.numba, argmin.numba = _nb_arg("argmax"), _nb_arg("argmin")
cumsum.numba, cumprod.numba = _nb_scan("cumsum"), _nb_scan("cumprod")
sort.numba, argsort.numba = _nb_sort, _nb_argsort
searchsorted.numba = lambda g, e, ins: f"np.searchsorted({ins[0]}, {ins[1]}, side={e.params['side']!r})"


# ---- batching (vmap): the batch is a leading axis, so every axis moves up by one -------------
#   batch(args, batched, size, **params) -> [(out, is_batched), ...]   (see transforms/batchutil)

from ..transforms import batchutil as bu  # noqa: E402


def _reduce_batch(prim):
    # axis None reduces every axis of the member: axes 1..r of the batched operand.
    def rule(args, batched, size, axis, keepdims):
        (x,) = args
        axes = bu.shift_axes(axis, x.type.ndim - 1)
        if not axes:  # a scalar member: nothing to reduce, only the dtype may change (bool sums count)
            (t,) = prim.type_rule([bu.unbatched_type(x.type)], axis=None, keepdims=keepdims)
            return [(x if t.dtype == x.type.dtype else E.convert(x, dtype=t.dtype), True)]
        return [(prim(x, axis=axes, keepdims=keepdims), True)]

    return rule


for _p in (reduce_sum, reduce_prod, reduce_max, reduce_min, reduce_any, reduce_all):
    _p.batch = _reduce_batch(_p)


def _member_size(x: Any) -> Any:
    """The number of elements of each member of the batched `x`."""
    d = bu.dims(x)[1:]
    return _fold(E.mul, d) if d else _lit(1)


def _arg_batch(prim):
    # axis None indexes the flattened member: the batched operand flattened to (B, n), axis 1.
    def rule(args, batched, size, axis, keepdims):
        (x,) = args
        r = x.type.ndim - 1
        if axis is not None:
            return [(prim(x, axis=axis + 1, keepdims=keepdims), True)]
        flat = x if r == 1 else S.reshape(x, I.dim(x, axis=0), _member_size(x))
        out = prim(flat, axis=1, keepdims=False)
        if keepdims and r:
            out = bu.to_rank(out, 0, r)
        return [(out, True)]

    return rule


argmax.batch, argmin.batch = _arg_batch(argmax), _arg_batch(argmin)


def _along_axis_batch(prim):
    def rule(args, batched, size, axis, **params):
        return [(prim(args[0], axis=axis + 1, **params), True)]

    return rule


for _p in (cumsum, cumprod, sort, argsort):
    _p.batch = _along_axis_batch(_p)


def _searchsorted_batch(args, batched, size, side):
    """With the sorted array unbatched, one searchsorted does the batch. With it batched, the
    insertion point in a sorted member is the number of its elements that go before v: a count
    over a broadcast comparison, O(len(a)) per value instead of O(log len(a)), but vectorised.
    The comparison is NumPy's sort order, where NaN goes after every number."""
    a, v = args
    if not batched[0]:
        return [(searchsorted(a, v, side=side), True)]
    r = v.type.ndim - (1 if batched[1] else 0)
    # a: (B, 1.., n); v: ([B,] ..., 1), so that they meet on a last axis of length n
    a_b = bu.to_rank(a, 1, r + 1)
    v_b = S.reshape(v, *bu.dims(v), _lit(1))
    if side == "left":
        before = _nan_last_lt(a_b, v_b)  # a[i] < v
    else:
        before = E.logical_not(_nan_last_lt(v_b, a_b))  # not v < a[i]
    return [(reduce_sum(before, axis=(r + 1,), keepdims=False), True)]


def _nan_last_lt(x: Any, y: Any) -> Any:
    """x < y in NumPy's sort order (NaN after every number)."""
    lt = E.lt(x, y)
    if x.type.dtype != DType.float64 and y.type.dtype != DType.float64:
        return lt
    return E.logical_or(lt, E.logical_and(E.isnan(y), E.logical_not(E.isnan(x))))


searchsorted.batch = _searchsorted_batch


def _linear_scan_batch(args, batched, size, axis, reverse):
    a, b = (bu.as_batched(x, f, size) for x, f in zip(args, batched))
    return [(linear_scan(a, b, axis=axis + 1, reverse=reverse), True)]


linear_scan.batch = _linear_scan_batch
