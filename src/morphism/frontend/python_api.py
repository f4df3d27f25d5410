"""Python's builtins and the `math` module, mapped onto primitives.

Builtins keep Python's semantics where they differ from NumPy's: `max(a, b)` is `b if b > a
else a` (so NaN and ties behave as in Python), `math.floor` returns an int, `int(x)` truncates.
"""

from __future__ import annotations

import builtins
import math
from functools import reduce
from typing import Any

import numpy as np

from ..ir.core import Array, DType, Lit, Scalar, lit
from ..primitives import control as C
from ..primitives import elementwise as E
from ..primitives import indexing as I
from .library import (
    cast,
    check_no_kwargs,
    error,
    implements,
    lookup,
    require_scalar,
    static,
    to_atom,
    to_float,
    type_error,
)
from .values import EmptyList, EnumerateVal, ListVal, RangeVal, ZipVal, describe, is_atom


# ---- builtins -------------------------------------------------------------------------------


@implements(builtins.print)
def _print(*args, sep=" ", end="\n", **kw):
    check_no_kwargs("print", kw)
    from .lower import _FmtValue, _FString

    template, values = [], []
    for a in args:
        parts = a.parts if isinstance(a, _FString) else (a,)
        for p in parts:
            if isinstance(p, _FmtValue):
                p = p.v
            if isinstance(p, str):
                template.append(p)
            elif is_atom(p) or isinstance(p, ListVal):
                template.append(None)
                values.append(to_atom(p))
            else:
                template.append(str(p))
        if isinstance(a, _FString):
            # An f-string is one printed item: glue its pieces with no separator.
            n = len(a.parts)
            glued = template[-n:]
            del template[-n:]
            template.append(_Glue(tuple(glued)))
    flat, vals = _expand_glue(template)
    C.debug_print(*values, template=flat, sep=static(sep, "sep"), end=static(end, "end"))
    return None


class _Glue:
    def __init__(self, parts: tuple) -> None:
        self.parts = parts


def _expand_glue(template: list) -> tuple[tuple, None]:
    # Represent glued f-string pieces with "\0" joiners that the printer impl understands.
    out = []
    for t in template:
        if isinstance(t, _Glue):
            out.append(("f",) + t.parts)
        else:
            out.append(t)
    return tuple(out), None


@implements(builtins.len)
def _len(x):
    if is_atom(x):
        if isinstance(x.type, Scalar):
            type_error(f"len() of a scalar of type {x.type}")
        return I.dim(x, axis=0)
    if isinstance(x, ListVal):
        return x.n
    if isinstance(x, EmptyList):
        return lit(0)
    if isinstance(x, RangeVal):
        from ..primitives.shape import range_len

        return range_len(x.start, x.stop, x.step)
    if isinstance(x, (tuple, list, dict, str)):
        return lit(len(x))
    type_error(f"len() of {describe(x)}")


@implements(builtins.range)
def _range(*args, **kw):
    check_no_kwargs("range", kw)
    if not 1 <= len(args) <= 3:
        type_error(f"range expected 1 to 3 arguments, got {len(args)}")
    vals = [to_atom(a, "range() argument") for a in args]
    for v in vals:
        if not isinstance(v.type, Scalar) or v.type.dtype.is_inexact:
            type_error(f"range() arguments must be integers, found {v.type}",
                       hint="convert with int(...)")
    vals = [cast(v, DType.int64) for v in vals]
    if len(vals) == 1:
        start, stop, step = lit(0), vals[0], lit(1)
    elif len(vals) == 2:
        start, stop, step = vals[0], vals[1], lit(1)
    else:
        start, stop, step = vals
    if isinstance(step, Lit) and step.value == 0:
        type_error("range() arg 3 must not be zero")
    if not isinstance(step, Lit):
        C.check(E.ne(step, 0), exc=ValueError, message="range() arg 3 must not be zero")
    return RangeVal(start, stop, step)


@implements(builtins.enumerate)
def _enumerate(x, start=0):
    return EnumerateVal(x, to_atom(start))


@implements(builtins.zip)
def _zip(*xs, **kw):
    check_no_kwargs("zip", kw)
    if all(isinstance(x, (tuple, list)) and not isinstance(x, ListVal) for x in xs):
        return list(zip(*xs))
    return ZipVal(tuple(xs))


@implements(builtins.abs)
def _abs(x):
    return E.abs(to_atom(x))


def _py_max2(a, b):
    # Python: max(a, b) is a unless b > a.
    a, b = to_atom(a), to_atom(b)
    return E.select(E.gt(b, a), b, a)


def _py_min2(a, b):
    a, b = to_atom(a), to_atom(b)
    return E.select(E.lt(b, a), b, a)


def _minmax(name: str, two, np_fn):
    def h(*args, **kw):
        check_no_kwargs(name, kw, ("default",))
        if len(args) == 1:
            (x,) = args
            if isinstance(x, (tuple, list)) and not isinstance(x, ListVal):
                if not x:
                    error(f"{name}() arg is an empty sequence")
                return reduce(two, x)
            return lookup(np_fn)(to_atom(x)) if to_atom(x).type.ndim == 1 else type_error(
                f"{name}() of a {to_atom(x).type.ndim}-d array: Python iterates its rows; use np.{name}")
        if not args:
            type_error(f"{name} expected at least 1 argument")
        return reduce(two, args)

    return h


implements(builtins.max)(_minmax("max", _py_max2, np.max))
implements(builtins.min)(_minmax("min", _py_min2, np.min))


@implements(builtins.sum)
def _sum(x, start=0):
    if isinstance(x, (tuple, list)) and not isinstance(x, ListVal):
        return reduce(lambda a, b: E.add(to_atom(a), to_atom(b)), x, start)
    a = to_atom(x)
    if isinstance(a.type, Scalar):
        type_error("sum() of a scalar")
    if a.type.ndim == 1:
        s = lookup(np.sum)(a)
    else:
        s = lookup(np.sum)(a, axis=lit(0))
    st = to_atom(start)
    return s if isinstance(st, Lit) and st.value == 0 and not isinstance(st.value, bool) else E.add(st, s)


@implements(builtins.any)
def _any(x):
    if isinstance(x, (tuple, list)) and not isinstance(x, ListVal):
        return reduce(lambda a, b: E.logical_or(_truth(a), _truth(b)), x, lit(False))
    return lookup(np.any)(to_atom(x))


@implements(builtins.all)
def _all(x):
    if isinstance(x, (tuple, list)) and not isinstance(x, ListVal):
        return reduce(lambda a, b: E.logical_and(_truth(a), _truth(b)), x, lit(True))
    return lookup(np.all)(to_atom(x))


def _truth(v):
    v = to_atom(v)
    return v if v.type.dtype == DType.bool else E.ne(v, 0)


def _scalar_convert(dtype: DType, name: str):
    def h(x=None):
        if x is None:
            return lit(0, dtype)
        if isinstance(x, str):
            if dtype == DType.float64:
                return lit(float(x))
            if dtype == DType.int64:
                return lit(int(x))
        a = to_atom(x)
        if isinstance(a.type, Array):
            type_error(f"{name}() of an array: only size-1 arrays convert to Python scalars",
                       hint=f"index the element first, or use .astype({name})")
        if dtype == DType.bool:
            return _truth(a)
        if isinstance(a, Lit):
            return lit(a.value, dtype)
        return cast(a, dtype)

    return h


implements(builtins.float)(_scalar_convert(DType.float64, "float"))
implements(builtins.int)(_scalar_convert(DType.int64, "int"))
implements(builtins.bool)(_scalar_convert(DType.bool, "bool"))


@implements(builtins.round)
def _round(x, ndigits=None):
    a = to_atom(x)
    if ndigits is None:
        # Python rounds half to even and returns an int, as np.rint does (then cast).
        return cast(E.rint(a), DType.int64) if a.type.dtype.is_float else a
    return lookup(np.round)(a, ndigits)


@implements(builtins.divmod)
def _divmod(a, b):
    a, b = to_atom(a), to_atom(b)
    return (E.floordiv(a, b), E.mod(a, b))


@implements(builtins.pow)
def _pow(a, b):
    return E.pow(to_atom(a), to_atom(b))


@implements(builtins.list)
def _list(x=None):
    if x is None:
        return EmptyList()
    if isinstance(x, (tuple, list)):
        return list(x)
    if isinstance(x, (ListVal, EmptyList)):
        return x
    items = _static_items(x)
    if items is not None:
        return items
    if isinstance(x, RangeVal):
        from ..primitives.creation import arange
        from ..primitives.shape import range_len

        return ListVal(arange(x.start, x.stop, x.step, dtype=DType.int64), range_len(x.start, x.stop, x.step))
    if isinstance(x, (EnumerateVal, ZipVal, dict)):
        type_error(f"list() of {describe(x)} whose length is known only at run time",
                   hint="loop over it and append, or build the list with a comprehension")
    a = to_atom(x)
    if isinstance(a.type, Array):
        # A list of rows: keep it as a growable list over a copy of the array.
        return ListVal(a, I.dim(a, axis=0))
    type_error(f"list() of {describe(x)}")


def _static_items(x) -> list | None:
    """The items of an iterable known at compile time, or None."""
    if isinstance(x, (tuple, list)):
        return list(x)
    if isinstance(x, dict):
        return [lit(k) if isinstance(k, (int, float, bool)) else k for k in x]
    if isinstance(x, RangeVal) and all(isinstance(v, Lit) for v in (x.start, x.stop, x.step)):
        return [lit(k) for k in range(x.start.value, x.stop.value, x.step.value)]
    if isinstance(x, EnumerateVal) and isinstance(x.start, Lit):
        inner = _static_items(x.inner)
        return None if inner is None else [(lit(x.start.value + k), v) for k, v in enumerate(inner)]
    if isinstance(x, ZipVal):
        parts = [_static_items(p) for p in x.items]
        return None if any(p is None for p in parts) else [tuple(t) for t in zip(*parts)]
    return None


@implements(builtins.tuple)
def _tuple(x=()):
    items = _static_items(x)
    if items is not None:
        return tuple(items)
    if is_atom(x) and isinstance(x.type, Array) or isinstance(x, (ListVal, RangeVal)):
        type_error(f"tuple() of {describe(x)}: its length is known only at run time, and a tuple's "
                   f"length is fixed when the function is compiled", hint="use list(...) or the array itself")
    type_error(f"tuple() of {describe(x)}: only records convert to tuples at compile time")


@implements(builtins.slice)
def _slice(*args):
    """A slice object as Python makes it: bounds known at compile time are Python ints."""
    if not 1 <= len(args) <= 3:
        type_error(f"slice expected 1 to 3 arguments, got {len(args)}")
    return slice(*[a.value if isinstance(a, Lit) and isinstance(a.type, Scalar) else a for a in args])


@implements(builtins.callable)
def _callable(x):
    from .values import BoundMethod, LocalFunction, Partial

    if is_atom(x) or isinstance(x, (ListVal, EmptyList, RangeVal)):
        return lit(False)
    return lit(isinstance(x, (BoundMethod, LocalFunction, Partial)) or builtins.callable(x))


@implements(builtins.hasattr)
def _hasattr(x, name):
    from .library import ATTRIBUTES, METHODS

    name = static(name, "the attribute name")
    if is_atom(x):
        return lit(name in ATTRIBUTES or name in METHODS)
    if isinstance(x, (ListVal, EmptyList, RangeVal, EnumerateVal, ZipVal)):
        return lit(False)
    return lit(builtins.hasattr(x, name))


@implements(builtins.type)
def _type(x):
    """The Python type of a value, for `type(x) is float` tests folded at compile time."""
    if is_atom(x):
        if isinstance(x.type, Array):
            return np.ndarray
        return {DType.float64: float, DType.int64: int, DType.bool: bool, DType.complex128: complex}.get(
            x.type.dtype) or x.type.dtype.np.type
    if isinstance(x, (ListVal, EmptyList)):
        return list
    if isinstance(x, RangeVal):
        return range
    return type(x)


@implements(builtins.isinstance)
def _isinstance(x, cls):
    classes = cls if isinstance(cls, tuple) else (cls,)
    if is_atom(x):
        t = x.type
        # the scalar's NumPy type and its bases; a 64-bit number may be a Python one too
        pytypes = (*t.dtype.np.type.__mro__, *{DType.int64: (int,), DType.complex128: (complex,)}.get(t.dtype, ()))
        if isinstance(t, Array):
            return lit(any(c is np.ndarray for c in classes))
        return lit(any(c in pytypes or (c is int and t.dtype == DType.bool) for c in classes))
    return lit(isinstance(x, classes))


# ---- math -----------------------------------------------------------------------------------


def _math_unary(prim, name: str, result_int: bool = False):
    def h(x):
        a = require_scalar(to_atom(x), f"math.{name}")
        r = prim(a)
        return cast(r, DType.int64) if result_int else r

    return h


_MATH = {
    math.sin: E.sin, math.cos: E.cos, math.tan: E.tan, math.exp: E.exp, math.log1p: E.log1p,
    math.expm1: E.expm1, math.sqrt: E.sqrt, math.tanh: E.tanh, math.sinh: E.sinh, math.cosh: E.cosh,
    math.asin: E.arcsin, math.acos: E.arccos, math.atan: E.arctan, math.asinh: E.arcsinh,
    math.acosh: E.arccosh, math.atanh: E.arctanh, math.log2: E.log2, math.log10: E.log10,
    math.degrees: E.rad2deg, math.radians: E.deg2rad,
}
if hasattr(math, "exp2"):
    _MATH[math.exp2] = E.exp2
if hasattr(math, "cbrt"):
    _MATH[math.cbrt] = E.cbrt
for _f, _p in _MATH.items():
    implements(_f)(_math_unary(_p, _f.__name__))
implements(math.floor)(_math_unary(E.floor, "floor", result_int=True))
implements(math.ceil)(_math_unary(E.ceil, "ceil", result_int=True))
implements(math.trunc)(_math_unary(E.trunc, "trunc", result_int=True))
implements(math.isnan)(_math_unary(E.isnan, "isnan"))
implements(math.isinf)(_math_unary(E.isinf, "isinf"))
implements(math.isfinite)(_math_unary(E.isfinite, "isfinite"))


@implements(math.fabs)
def _fabs(x):
    return E.abs(to_float(require_scalar(to_atom(x), "math.fabs")))


@implements(math.log)
def _mlog(x, base=None):
    a = require_scalar(to_atom(x), "math.log")
    if base is None:
        return E.log(a)
    return E.div(E.log(a), E.log(to_atom(base)))


def _math_binary(prim, name: str):
    def h(a, b):
        return prim(to_float(require_scalar(to_atom(a), f"math.{name}")),
                    to_float(require_scalar(to_atom(b), f"math.{name}")))

    return h


implements(math.atan2)(_math_binary(E.arctan2, "atan2"))
implements(math.pow)(_math_binary(E.pow, "pow"))
implements(math.copysign)(_math_binary(E.copysign, "copysign"))
implements(math.fmod)(_math_binary(E.fmod, "fmod"))


@implements(math.hypot)
def _mhypot(*xs):
    if len(xs) == 2:
        return E.hypot(to_atom(xs[0]), to_atom(xs[1]))
    return E.sqrt(reduce(E.add, [E.mul(to_atom(x), to_atom(x)) for x in xs]))


implements(math.lgamma)(_math_unary(E.lgamma, "lgamma"))


@implements(math.gamma)
def _mgamma(x):
    a = require_scalar(to_atom(x), "math.gamma")
    # Sign-correct for positive arguments, where the gamma function is positive.
    return E.exp(E.lgamma(a))


@implements(builtins.sorted)
def _sorted(x, reverse=False, **kw):
    check_no_kwargs("sorted", kw)
    if isinstance(x, (tuple, list)) and not isinstance(x, ListVal) and not x:
        return []
    a = lookup(np.sort)(to_atom(x))
    if a.type.ndim != 1:
        type_error(f"sorted() of a {a.type.ndim}-d array: Python compares its rows; use np.sort with an axis")
    if static(reverse, "reverse"):
        a = I.getitem(a, lit(-1), spec=("s001",))
    # A new list, as in Python: it comes back to the caller as a list.
    return ListVal(a, I.dim(a, axis=0))


@implements(builtins.reversed)
def _reversed(x):
    if isinstance(x, (tuple, list)) and not isinstance(x, ListVal):
        return list(reversed(x))
    if isinstance(x, RangeVal):
        from ..primitives.shape import range_len

        n = range_len(x.start, x.stop, x.step)
        last = E.add(x.start, E.mul(E.sub(n, 1), x.step))
        return RangeVal(last, E.sub(x.start, x.step), E.neg(x.step))
    a = to_atom(x)
    if isinstance(a.type, Scalar):
        type_error("reversed() of a scalar")
    return I.getitem(a, lit(-1), spec=("s001",))
