"""NumPy's elementwise functions (ufuncs and friends) mapped onto elementwise primitives."""

from __future__ import annotations

import numpy as np

from ...ir.core import DType, Lit, lit, numpy_scalar
from ...primitives import elementwise as E
from ..library import (cast, check_no_kwargs, error, implements, implements_lazy, nep50, static, static_dtype,
                       to_atom, to_float, type_error)


def _unary(prim, name):
    def h(x, **kw):
        check_no_kwargs(f"np.{name}", kw)
        return prim(to_atom(x))

    return h


def _binary(prim, name):
    def h(a, b, **kw):
        check_no_kwargs(f"np.{name}", kw)
        return prim(*nep50(to_atom(a), to_atom(b)))

    return h


_UNARY = {
    np.sin: E.sin, np.cos: E.cos, np.tan: E.tan, np.exp: E.exp, np.exp2: E.exp2, np.log: E.log,
    np.log2: E.log2, np.log10: E.log10, np.log1p: E.log1p, np.expm1: E.expm1, np.sqrt: E.sqrt,
    np.cbrt: E.cbrt, np.tanh: E.tanh, np.sinh: E.sinh, np.cosh: E.cosh, np.arcsin: E.arcsin,
    np.arccos: E.arccos, np.arctan: E.arctan, np.arcsinh: E.arcsinh, np.arccosh: E.arccosh,
    np.arctanh: E.arctanh, np.floor: E.floor, np.ceil: E.ceil, np.trunc: E.trunc, np.rint: E.rint,
    np.deg2rad: E.deg2rad, np.radians: E.deg2rad, np.rad2deg: E.rad2deg, np.degrees: E.rad2deg,
    np.negative: E.neg, np.abs: E.abs, np.absolute: E.abs, np.sign: E.sign, np.square: E.square,
    np.isnan: E.isnan, np.isinf: E.isinf, np.isfinite: E.isfinite, np.logical_not: E.logical_not,
    np.invert: E.invert, np.reciprocal: E.reciprocal,
}
for _f, _p in _UNARY.items():
    implements(_f)(_unary(_p, _f.__name__))

for _name in ("arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2"):
    _alias = getattr(np, _name.replace("arc", "a"), None)  # NumPy 2: np.asin, np.acos, ...
    if _alias is not None and _alias is not getattr(np, _name):
        implements(_alias)(_unary(getattr(E, _name), _name) if _name != "arctan2" else _binary(E.arctan2, _name))

_BINARY = {
    np.add: E.add, np.subtract: E.sub, np.multiply: E.mul, np.divide: E.div, np.true_divide: E.div,
    np.floor_divide: E.floordiv, np.mod: E.mod, np.remainder: E.mod, np.fmod: E.fmod, np.power: E.pow,
    np.maximum: E.maximum, np.minimum: E.minimum, np.fmax: E.maximum, np.fmin: E.minimum,
    np.arctan2: E.arctan2, np.hypot: E.hypot, np.logaddexp: E.logaddexp, np.copysign: E.copysign,
    np.equal: E.eq, np.not_equal: E.ne, np.less: E.lt, np.less_equal: E.le, np.greater: E.gt,
    np.greater_equal: E.ge, np.logical_and: E.logical_and, np.logical_or: E.logical_or,
    np.logical_xor: E.logical_xor, np.bitwise_and: E.bitand, np.bitwise_or: E.bitor,
    np.bitwise_xor: E.bitxor, np.left_shift: E.lshift, np.right_shift: E.rshift,
}
for _f, _p in _BINARY.items():
    implements(_f)(_binary(_p, _f.__name__))


@implements(np.float_power)
def _float_power(a, b):
    return E.pow(to_float(to_atom(a)), to_float(to_atom(b)))


@implements(np.where)
def _where(c, a=None, b=None):
    if a is None or b is None:
        error("np.where(condition) with one argument (nonzero) is not supported yet",
              hint="use the three-argument form np.where(c, a, b), or np.flatnonzero")
    c = to_atom(c)
    if c.type.dtype != DType.bool:
        c = E.ne(c, 0)
    return E.select(c, *nep50(to_atom(a), to_atom(b)))


@implements(np.clip)
def _clip(x, a_min=None, a_max=None, **kw):
    check_no_kwargs("np.clip", kw)
    r = to_atom(x)
    if a_min is not None:
        r = E.maximum(*nep50(r, to_atom(a_min)))
    if a_max is not None:
        r = E.minimum(*nep50(r, to_atom(a_max)))
    return r


@implements(np.round, np.around)
def _round(x, decimals=0):
    d = static(decimals, "decimals")
    a = to_atom(x)
    if d == 0 or not a.type.dtype.is_inexact:
        return E.rint(a) if a.type.dtype.is_inexact else a  # integers round to themselves
    scale = 10.0 ** d
    return E.div(*nep50(E.rint(E.mul(*nep50(a, lit(scale)))), lit(scale)))


@implements(np.sinc)
def _sinc(x):
    a = to_float(to_atom(x))
    px = E.mul(a, np.pi)
    return E.select(E.eq(a, 0.0), lit(1.0), E.div(E.sin(px), px))


@implements(np.heaviside)
def _heaviside(x, h0):
    a, h = to_atom(x), to_atom(h0)
    return E.select(E.lt(a, 0), lit(0.0), E.select(E.gt(a, 0), lit(1.0), to_float(h)))


def _scalar_type(dtype: DType):
    def h(x=0):
        a = to_atom(x)
        if isinstance(a, Lit):
            return numpy_scalar(a.value, dtype)
        return cast(a, dtype) if dtype != DType.bool else E.ne(a, 0) if a.type.dtype != DType.bool else a

    return h




# scipy.special, resolved once the program has imported it.
implements_lazy("scipy.special", "gammaln")(_unary(E.lgamma, "gammaln"))
implements_lazy("scipy.special", "digamma")(lambda x: E.polygamma(to_atom(x), order=0))
implements_lazy("scipy.special", "psi")(lambda x: E.polygamma(to_atom(x), order=0))


@implements_lazy("scipy.special", "polygamma")
def _polygamma(n, x):
    from ..library import static_int

    return E.polygamma(to_atom(x), order=static_int(n, "the order of polygamma"))


# ---- complex numbers ---------------------------------------------------------------------------

implements(np.real)(_unary(E.real, "real"))
implements(np.imag)(_unary(E.imag, "imag"))
implements(np.conj, np.conjugate)(_unary(E.conj, "conj"))


@implements(np.angle)
def _angle(z, deg=False):
    a = E.angle(to_atom(z))
    return E.mul(a, 180.0 / np.pi) if static(deg, "deg") else a


@implements(complex)
def _complex(real=0.0, imag=0.0):
    r, i = to_atom(real), to_atom(imag)
    if isinstance(r, Lit) and isinstance(i, Lit):
        return lit(complex(r.value, i.value))
    return E.add(cast(r, DType.complex128), E.mul(cast(i, DType.complex128), 1j))


def _scalar_types() -> None:
    for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
              np.float32, np.float64, np.complex64, np.complex128):
        implements(t)(_scalar_type(DType(np.dtype(t).name)))


_scalar_types()
