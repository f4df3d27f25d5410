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


# ============================================================================================
# Derivative rules, beside the primitives above. Dims are integers and carry no derivative; a
# float fill, start, stop or step does.
#   jvp(ins, ins_dot, outs, **params) -> outs_dot      (None is a symbolic zero)
#   vjp(cts, ins, outs, **params)     -> ins_ct

from ..ir.core import lit as _lit  # noqa: E402
from ..transforms import adutil as _adu  # noqa: E402
from . import reductions as _R  # noqa: E402
from .elementwise import add, convert, div, maximum, mul, sub  # noqa: E402
from .indexing import dim  # noqa: E402


def _sum_all(x):
    return _R.reduce_sum(x, axis=None, keepdims=False)


def _float_ct(ct, x):
    return ct if ct is not None and _adu.is_float(x.type) else None


zeros.jvp = lambda ins, ts, outs, dtype: [None]
zeros.vjp = lambda cts, ins, outs, dtype: [None] * len(ins)

# Every element is the fill value: its tangent fills the result, its cotangent is the sum.
full.jvp = lambda ins, ts, outs, dtype: [None if ts[0] is None else full(ts[0], *ins[1:], dtype=dtype)]
full.vjp = lambda cts, ins, outs, dtype: [
    None if _float_ct(cts[0], ins[0]) is None else _sum_all(cts[0]), *([None] * (len(ins) - 1))]


def _positions(out, over=None):
    """0.0, 1.0, ... for the elements of the 1-d `out` (divided by `over` when given)."""
    k = convert(arange(_lit(0), dim(out, axis=0), _lit(1), dtype=DType.int64), dtype=DType.float64)
    return k if over is None else div(k, over)


def _fill_like(t, out):
    """A tangent that may still be a scalar (a fill, start or stop), as an array like `out`."""
    return t if t.type.ndim else _adu.broadcast_like(t, out)


# arange(start, stop, step)[k] = start + k * step: the derivative is 1 for start and k for step.
# The length, ceil((stop - start) / step), is piecewise constant, so stop has a zero derivative
# (and so do start and step as far as they change the length).
def _arange_jvp(ins, ts, outs, dtype):
    (out,), (t_start, _, t_step) = outs, ts
    if t_step is None:
        return [None if t_start is None else _fill_like(t_start, out)]
    r = mul(t_step, _positions(out))
    return [r if t_start is None else add(t_start, r)]


def _arange_vjp(cts, ins, outs, dtype):
    (ct,), (start, _, step), (out,) = cts, ins, outs
    if ct is None:
        return [None, None, None]
    return [None if _float_ct(ct, start) is None else _sum_all(ct), None,
            None if _float_ct(ct, step) is None else _sum_all(mul(ct, _positions(out)))]


arange.jvp, arange.vjp = _arange_jvp, _arange_vjp


def _linspace_fractions(ins, out, endpoint):
    """t[k] = k / (num - 1) (k / num without the endpoint), so that out = start + (stop - start) * t;
    with one sample (num - 1 == 0) NumPy gives [start]: t = 0."""
    num = ins[2]
    steps = sub(num, _lit(1)) if endpoint else num
    return _positions(out, convert(maximum(steps, _lit(1)), dtype=DType.float64))


def _linspace_jvp(ins, ts, outs, endpoint, dtype):
    (out,), (t_start, t_stop, _) = outs, ts
    if t_start is None and t_stop is None:
        return [None]
    t = _linspace_fractions(ins, out, endpoint)
    terms = ([mul(t_start, sub(1.0, t))] if t_start is not None else []) + ([mul(t_stop, t)] if t_stop is not None else [])
    return [terms[0] if len(terms) == 1 else add(*terms)]


def _linspace_vjp(cts, ins, outs, endpoint, dtype):
    (ct,), (start, stop, _), (out,) = cts, ins, outs
    if ct is None:
        return [None, None, None]
    t = _linspace_fractions(ins, out, endpoint)
    return [None if _float_ct(ct, start) is None else _sum_all(mul(ct, sub(1.0, t))),
            None if _float_ct(ct, stop) is None else _sum_all(mul(ct, t)), None]


linspace.jvp, linspace.vjp = _linspace_jvp, _linspace_vjp


# ---- native lowering (Numba) ------------------------------------------------------------------


def _nb_shape(dims):
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _nb_zeros(g, e, ins, dtype):
    from ..backends.numba_backend import np_dtype

    if not ins:
        return f"{np_dtype(dtype)}(0)"
    return f"np.zeros({_nb_shape(ins)}, {np_dtype(dtype)})"


def _nb_full(g, e, ins, dtype):
    from ..backends.numba_backend import np_dtype

    if len(ins) == 1:
        return f"{np_dtype(dtype)}({ins[0]})"
    return f"np.full({_nb_shape(ins[1:])}, {ins[0]}, {np_dtype(dtype)})"


def _nb_arange(g, e, ins, dtype):
    # NumPy's own fill (sup.arange_f64, from the first two elements); an integer range of
    # integers is exact. Other combinations (an int dtype of float bounds) stay with NumPy.
    ints = all(a.type.dtype == DType.int64 for a in e.inputs)
    if dtype == DType.float64:
        return f"sup.arange_f64({', '.join(ins)})"
    if dtype == DType.int64 and ints:
        return f"sup.arange_i64({', '.join(ins)})"
    g.fallback(e, ins)
    return None


def _nb_linspace(g, e, ins, endpoint, dtype):
    from ..backends.numba_backend import np_dtype

    y = f"sup.linspace({ins[0]}, {ins[1]}, {ins[2]}, {endpoint})"
    if dtype == DType.float64:
        return y
    if dtype == DType.int64:  # NumPy floors, then converts
        y = f"np.floor({y})"
    return f"{y}.astype({np_dtype(dtype)})"


zeros.numba = lambda g, e, ins: _nb_zeros(g, e, ins, **e.params)
full.numba = lambda g, e, ins: _nb_full(g, e, ins, **e.params)
arange.numba = lambda g, e, ins: _nb_arange(g, e, ins, **e.params)
linspace.numba = lambda g, e, ins: _nb_linspace(g, e, ins, **e.params)


# ---- batching (vmap): dims must be the same for every member; values may be batched ----------
#   batch(args, batched, size, **params) -> [(out, is_batched), ...]   (see transforms/batchutil)

from ..transforms import batchutil as _bu  # noqa: E402
from .elementwise import eq, floor, select  # noqa: E402
from .shape import broadcast_to, reshape, shape_depends_on_batch  # noqa: E402


def _zeros_batch(args, batched, size, dtype):
    raise shape_depends_on_batch("the dims of zeros")


def _full_batch(args, batched, size, dtype):
    """A batched fill value: each member's fill, broadcast from (B, 1, ..., 1) to (B, *dims)."""
    fill, *dims = args
    if any(batched[1:]):
        raise shape_depends_on_batch("the dims of full")
    f = fill if fill.type.dtype == dtype else convert(fill, dtype=dtype)
    return [(broadcast_to(_bu.to_rank(f, 0, len(dims)), size, *dims) if dims else f, True)]


def _arange_batch(args, batched, size, dtype):
    raise shape_depends_on_batch("the start, stop or step of arange, which set its length")


def _linspace_batch(args, batched, size, endpoint, dtype):
    """Batched start and stop, as NumPy computes linspace: start + k * (stop - start) / div,
    the last sample exactly `stop` with the endpoint, floored for an integer dtype."""
    start, stop, num = args
    if batched[2]:
        raise shape_depends_on_batch("the number of samples of linspace")
    steps = sub(num, _lit(1)) if endpoint else num
    start, stop = (_bu.to_rank(convert(_bu.as_batched(x, b, size), dtype=DType.float64), 0, 1)
                   for x, b in zip((start, stop), batched))  # (B, 1)
    ki = arange(_lit(0), num, _lit(1), dtype=DType.int64)
    step = div(sub(stop, start), convert(maximum(steps, _lit(1)), dtype=DType.float64))
    y = add(mul(reshape(convert(ki, dtype=DType.float64), _lit(1), num), step), start)
    if endpoint:
        # the last sample, when there are two or more (index max(num - 1, 1) is no sample of one)
        last = eq(ki, maximum(sub(num, _lit(1)), _lit(1)))
        y = select(reshape(last, _lit(1), num), stop, y)
    if dtype == DType.int64:
        y = floor(y)
    return [(y if dtype == DType.float64 else convert(y, dtype=dtype), True)]


zeros.batch, full.batch, arange.batch, linspace.batch = _zeros_batch, _full_batch, _arange_batch, _linspace_batch
